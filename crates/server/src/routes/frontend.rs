//! The browser side: the tracker script at stable paths, and the demo shop.
//!
//! `/lib/centroid.js` (classic script), `/lib/centroid.mjs` (ES module) and
//! `/lib/centroid.d.ts` are the build of `sdk/js`, embedded at compile time. Their path avoids
//! the words ad-block lists match (`track`, `analytics`, `collect`, `pixel`, `beacon`).
//!
//! With `server.demo` (`centroid serve --demo`), `/demo/` serves a small shop over whatever
//! catalogue the database holds, plus three read-only helpers the public API does not offer:
//! the catalogue's categories, items of one category, and the profiles of the served model's
//! clusters (what sets each apart). The demo's page carries the public write key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use centroid_core::ContentItem;
use centroid_pipeline::cluster_profiles;
use serde::{Deserialize, Serialize};

use crate::api::ContentBody;
use crate::error::ApiError;
use crate::state::AppState;

const SDK_CLASSIC: &str = include_str!("../../../../sdk/js/dist/centroid.js");
const SDK_MODULE: &str = include_str!("../../../../sdk/js/dist/centroid.mjs");
const SDK_TYPES: &str = include_str!("../../../../sdk/js/dist/centroid.d.ts");
const DEMO_PAGE: &str = include_str!("../../../../demo/index.html");
const DEMO_SCRIPT: &str = include_str!("../../../../demo/app.js");
const DEMO_STYLE: &str = include_str!("../../../../demo/style.css");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Most catalogue entries the demo reads (a demo, not a catalogue browser).
const MAX_DEMO_ITEMS: usize = 200_000;

/// How long the demo's copy of the catalogue is reused.
const CATALOGUE_TTL: Duration = Duration::from_secs(60);

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let sdk = Router::new()
        .route("/lib/centroid.js", get(|| async { asset(JAVASCRIPT, SDK_CLASSIC) }))
        .route("/lib/centroid.mjs", get(|| async { asset(JAVASCRIPT, SDK_MODULE) }))
        .route(
            "/lib/centroid.d.ts",
            get(|| async { asset("text/plain; charset=utf-8", SDK_TYPES) }),
        );
    if !state.config.server.demo {
        return sdk;
    }

    let demo = Router::new()
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route("/demo/", get(demo_page))
        .route("/demo/app.js", get(|| async { asset(JAVASCRIPT, DEMO_SCRIPT) }))
        .route("/demo/style.css", get(|| async { asset("text/css; charset=utf-8", DEMO_STYLE) }))
        .route("/demo/api/categories", get(demo_categories))
        .route("/demo/api/items", get(demo_items))
        .route("/demo/api/clusters", get(demo_clusters))
        .layer(Extension(Arc::new(DemoCatalogue::default())));
    sdk.merge(demo)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

async fn demo_page(State(state): State<AppState>) -> Response {
    // The key as the inside of a JSON string, `<` escaped so it cannot close the script.
    let quoted = serde_json::Value::from(state.keys.write_key.as_str()).to_string();
    let key = quoted[1..quoted.len() - 1].replace('<', "\\u003c");
    let page = DEMO_PAGE.replace("__CENTROID_WRITE_KEY__", &key);
    ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], page)
        .into_response()
}

/// The active catalogue entries, read at most once a minute.
#[derive(Default)]
struct DemoCatalogue {
    cached: Mutex<Option<(Instant, Arc<Vec<ContentItem>>)>>,
}

impl DemoCatalogue {
    async fn items(&self, state: &AppState) -> Result<Arc<Vec<ContentItem>>, ApiError> {
        if let Some((read_at, items)) = &*self.cached.lock().expect("demo cache lock") {
            if read_at.elapsed() < CATALOGUE_TTL {
                return Ok(Arc::clone(items));
            }
        }
        let items = state
            .blocking(|store| {
                let mut items = Vec::new();
                let mut after = String::new();
                while items.len() < MAX_DEMO_ITEMS {
                    let page = store.list_content(&after, 1000)?;
                    let Some(last) = page.last() else { break };
                    after = last.content_id.clone();
                    items.extend(page.into_iter().filter(|item| item.active));
                }
                Ok(items)
            })
            .await?;
        let items = Arc::new(items);
        *self.cached.lock().expect("demo cache lock") = Some((Instant::now(), Arc::clone(&items)));
        Ok(items)
    }
}

#[derive(Serialize)]
struct CategoryCount {
    name: String,
    n_items: usize,
}

async fn demo_categories(
    State(state): State<AppState>,
    Extension(catalogue): Extension<Arc<DemoCatalogue>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = catalogue.items(&state).await?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for category in items.iter().flat_map(|item| &item.categories) {
        *counts.entry(category.as_str()).or_default() += 1;
    }
    let mut categories: Vec<CategoryCount> = counts
        .into_iter()
        .map(|(name, n_items)| CategoryCount { name: name.to_owned(), n_items })
        .collect();
    categories.sort_by(|a, b| b.n_items.cmp(&a.n_items).then_with(|| a.name.cmp(&b.name)));
    categories.truncate(40);
    Ok(Json(serde_json::json!({ "n_items": items.len(), "categories": categories })))
}

#[derive(Deserialize)]
struct ItemsQuery {
    category: Option<String>,
    limit: Option<usize>,
}

async fn demo_items(
    State(state): State<AppState>,
    Extension(catalogue): Extension<Arc<DemoCatalogue>>,
    Query(query): Query<ItemsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = catalogue.items(&state).await?;
    let limit = query.limit.unwrap_or(24).min(100);
    let category = query.category.as_deref();
    let listed: Vec<ContentBody> = items
        .iter()
        .filter(|item| category.is_none_or(|c| item.categories.iter().any(|own| own == c)))
        .take(limit)
        .map(ContentBody::from)
        .collect();
    Ok(Json(serde_json::json!({ "items": listed })))
}

/// One feature that sets a cluster apart, for the demo's panel.
#[derive(Serialize)]
struct FeatureView {
    label: String,
    z: f64,
    value: f64,
    mean: f64,
}

/// A cluster's size and most distinctive features.
#[derive(Serialize)]
struct ProfileView {
    cluster: usize,
    size: usize,
    features: Vec<FeatureView>,
}

async fn demo_clusters(State(state): State<AppState>) -> Json<serde_json::Value> {
    let serving = state.models.current();
    let profiles: Vec<ProfileView> = match &serving.placer {
        None => Vec::new(),
        Some(placer) => cluster_profiles(placer.model(), 4)
            .into_iter()
            .map(|profile| ProfileView {
                cluster: profile.cluster,
                size: profile.size,
                features: profile
                    .contrasts
                    .into_iter()
                    .map(|c| FeatureView { label: c.label, z: c.z, value: c.value, mean: c.mean })
                    .collect(),
            })
            .collect(),
    };
    Json(serde_json::json!({ "model_version": serving.version, "clusters": profiles }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use centroid_store::{SqliteStore, Store};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::auth::Keys;
    use crate::config::Config;

    async fn get(demo: bool, path: &str) -> (StatusCode, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let mut shoe = ContentItem::new("s1");
        shoe.title = Some("Trail shoe".into());
        shoe.categories = vec!["shoes".into(), "outdoor".into()];
        store.upsert_content(&[shoe, ContentItem::new("h1")]).unwrap();
        let mut config = Config::default();
        config.server.demo = demo;
        config.database.synchronous_full = false;
        let keys = Keys { write_key: "pk_<demo>_0123456789".into(), admin_key: "sk_x".repeat(5) };
        let state = AppState::new(Arc::new(store), config, keys).unwrap();

        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = crate::router(state).oneshot(request).await.unwrap();

        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_tracker_is_served_and_the_demo_only_when_asked() {
        let (status, content_type, body) = get(false, "/lib/centroid.js").await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, JAVASCRIPT));
        assert_eq!(body, SDK_CLASSIC);
        assert_eq!(get(false, "/lib/centroid.mjs").await.2, SDK_MODULE);

        assert_eq!(get(false, "/demo/").await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_demo_carries_the_write_key_and_lists_the_catalogue() {
        let (status, _, page) = get(true, "/demo/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(r#"writeKey: "pk_\u003cdemo>_0123456789""#), "{page}");

        let categories: serde_json::Value =
            serde_json::from_str(&get(true, "/demo/api/categories").await.2).unwrap();
        assert_eq!(categories["n_items"], 2);
        assert_eq!(categories["categories"][0]["n_items"], 1);

        let items: serde_json::Value =
            serde_json::from_str(&get(true, "/demo/api/items?category=shoes").await.2).unwrap();
        assert_eq!(items["items"][0]["title"], "Trail shoe");
        assert_eq!(items["items"].as_array().unwrap().len(), 1);

        let clusters = get(true, "/demo/api/clusters").await.2;
        assert_eq!(clusters, r#"{"clusters":[],"model_version":null}"#);
    }
}

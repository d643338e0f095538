//! Router tests: the whole API driven with `tower::ServiceExt::oneshot`, no socket, over a
//! temporary SQLite store and small models trained on synthetic events.

mod catalogue;
mod events;
mod operations;
mod placement;
mod recommendations;
mod security;
mod swap;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use centroid_core::reducer::ReducerState;
use centroid_core::{ContentItem, Event, EventType};
use centroid_pipeline::{train, KChoice, TrainParams};
use centroid_server::auth::Keys;
use centroid_server::{AppState, Config, Serving};
use centroid_store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const WRITE_KEY: &str = "pk_test_write_key_0123456789";
pub const ADMIN_KEY: &str = "sk_test_admin_key_0123456789";
pub const ORIGIN: &str = "https://shop.example";

/// A server over a fresh database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

/// The configuration of tests: keys set, limits off, one allowed origin.
pub fn test_config() -> Config {
    let mut config = Config::default();
    config.rate_limit.requests_per_second = 0;
    config.cors.allowed_origins = vec![ORIGIN.into()];
    config.training.model_poll_secs = 0;
    config.database.synchronous_full = false;
    config
}

impl Default for TestApp {
    fn default() -> Self {
        TestApp::with_config(test_config())
    }
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::default()
    }

    pub fn with_config(config: Config) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("test.db")).unwrap());
        TestApp::over(store, dir, config)
    }

    fn over(store: Arc<SqliteStore>, dir: tempfile::TempDir, config: Config) -> TestApp {
        let keys = Keys { write_key: WRITE_KEY.into(), admin_key: ADMIN_KEY.into() };
        let state = AppState::new(store.clone(), config, keys).unwrap();
        let router = centroid_server::router(state.clone());
        TestApp { state, router, store, _dir: dir }
    }

    /// A server whose store holds the synthetic events, catalogue and a trained model.
    pub fn trained() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("test.db")).unwrap());
        seed(store.as_ref());
        TestApp::over(store, dir, test_config())
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, value)
    }

    pub async fn get(&self, uri: &str, key: &str) -> (StatusCode, Value) {
        self.send(request(Method::GET, uri, key, None)).await
    }

    pub async fn post(&self, uri: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(request(Method::POST, uri, key, Some(body))).await
    }
}

/// A JSON request with a bearer key (none when `key` is empty).
pub fn request(method: Method, uri: &str, key: &str, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if !key.is_empty() {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Content ids of group `g`: `g{g}-c{i}`, category `cat{g}`.
pub fn content_id(group: usize, i: usize) -> String {
    format!("g{group}-c{i}")
}

pub fn event(id: &str, user: &str, event_type: EventType, content: &str, group: usize) -> Event {
    Event {
        event_id: id.to_owned(),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: Some(format!("{user}-s1")),
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: 1_700_000_000_000,
        received_at_ms: 1_700_000_000_000,
        value: match event_type {
            EventType::Rating => Some(4.0),
            EventType::Watch => Some(60.0),
            EventType::Purchase => Some(1.0),
            _ => None,
        },
        categories: vec![format!("cat{group}")],
        properties: serde_json::Map::new(),
    }
}

/// Three groups of 20 users; each group views its own 12 items, and group 1 also buys.
pub fn synthetic_events() -> Vec<Event> {
    let mut events = Vec::new();
    for group in 0..3 {
        for u in 0..20 {
            let user = format!("user-{group}-{u}");
            for i in 0..12 {
                if (i + u) % 3 == 0 {
                    continue;
                }
                let id = format!("{user}-v{i}");
                events.push(event(&id, &user, EventType::View, &content_id(group, i), group));
            }
            if group == 1 {
                let id = format!("{user}-p");
                events.push(event(&id, &user, EventType::Purchase, &content_id(1, u % 4), 1));
            }
            if group == 2 {
                let id = format!("{user}-r");
                events.push(event(&id, &user, EventType::Rating, &content_id(2, u % 5), 2));
            }
        }
    }
    events
}

/// Catalogue entries for every synthetic content id.
pub fn catalogue() -> Vec<ContentItem> {
    let mut items = Vec::new();
    for group in 0..3 {
        for i in 0..12 {
            let mut item = ContentItem::new(content_id(group, i));
            item.title = Some(format!("Title {group}/{i}"));
            item.categories = vec![format!("cat{group}")];
            items.push(item);
        }
    }
    items
}

/// Stores the synthetic events and catalogue, trains k = 3 and publishes.
pub fn seed(store: &dyn Store) -> i64 {
    let events = synthetic_events();
    store.append_events(&events).unwrap();
    store.upsert_content(&catalogue()).unwrap();
    let report = centroid_pipeline::run_training(
        store,
        &small_params(),
        &centroid_pipeline::RunOptions::default(),
        &centroid_pipeline::NoProgress,
    )
    .unwrap();
    report.version
}

pub fn small_params() -> TrainParams {
    TrainParams { k: KChoice::Fixed(3), n_init: 1, ..TrainParams::default() }
}

/// A model trained on the synthetic events, as a ready `Serving` with the given version and
/// a view whose content ids are tagged `v{version}:` (to tell versions apart in answers).
pub fn tagged_serving(version: i64) -> Serving {
    let state = ReducerState::fold(&synthetic_events());
    let mut trained = train(&state, &small_params(), None).unwrap();
    trained.model.version = version;
    let mut view = trained.view;
    for lists in view.clusters.iter_mut().chain(std::iter::once(&mut view.global)) {
        for list in lists.top.iter_mut().chain(lists.lift.iter_mut()) {
            for item in list.iter_mut() {
                item.content_id = format!("v{version}:{}", item.content_id);
            }
        }
    }
    Serving::new(trained.model, view).unwrap()
}

/// A canonical event as the browser would post it.
pub fn wire_event(id: &str, anonymous_id: &str, content: &str, category: &str) -> Value {
    json!({
        "event_id": id,
        "anonymous_id": anonymous_id,
        "type": "view",
        "content_id": content,
        "properties": {"category": category},
    })
}

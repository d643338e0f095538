use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{request, TestApp, ADMIN_KEY, WRITE_KEY};

fn ids(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["content_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_clusters_list_names_its_model_version() {
    let app = TestApp::trained();

    let (status, answer) =
        app.get("/v1/recommendations?cluster=0&metric=views&limit=3", WRITE_KEY).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model_version"], 1);
    assert_eq!(answer["cluster"], 0);
    assert_eq!(answer["metric"], "views");
    assert_eq!(ids(&answer).len(), 3);
    assert!(answer["items"][0]["attributes"].is_null());
    assert!(answer["next_cursor"].is_string());
}

#[tokio::test]
async fn cursor_paging_never_repeats_or_skips() {
    let app = TestApp::trained();
    let (_, whole) =
        app.get("/v1/recommendations?cluster=global&metric=views&limit=100", WRITE_KEY).await;

    let mut paged = Vec::new();
    let mut uri = "/v1/recommendations?cluster=global&metric=views&limit=7".to_owned();
    loop {
        let (status, page) = app.get(&uri, WRITE_KEY).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!(
                    "/v1/recommendations?cluster=global&metric=views&limit=7&cursor={cursor}"
                )
            }
            None => break,
        }
    }

    assert_eq!(paged, ids(&whole));
    assert_eq!(paged.len(), 36);
}

#[tokio::test]
async fn filters_exclusions_and_attributes() {
    let app = TestApp::trained();

    let (_, by_category) = app
        .get(
            "/v1/recommendations?metric=views&category=cat2&limit=50&include=attributes",
            WRITE_KEY,
        )
        .await;
    let (_, excluded) =
        app.get("/v1/recommendations?metric=views&limit=50&exclude=g0-c1,g1-c2", WRITE_KEY).await;

    let category_ids = ids(&by_category);
    assert_eq!(category_ids.len(), 12);
    assert!(category_ids.iter().all(|id| id.starts_with("g2-")));
    assert_eq!(by_category["items"][0]["attributes"]["categories"], json!(["cat2"]));
    assert!(by_category["items"][0]["attributes"]["title"].is_string());
    let excluded_ids = ids(&excluded);
    assert!(!excluded_ids.contains(&"g0-c1".to_owned()));
    assert!(!excluded_ids.contains(&"g1-c2".to_owned()));
    assert_eq!(excluded_ids.len(), 34);
}

#[tokio::test]
async fn deleted_and_inactive_content_never_appears() {
    let app = TestApp::trained();
    let mut inactive = json!({"title": "off", "categories": ["cat0"], "active": false});
    inactive["content_id"] = json!("g0-c2");

    let (delete_status, _) =
        app.send(request(Method::DELETE, "/v1/content/g0-c1", ADMIN_KEY, None)).await;
    let (put_status, _) =
        app.send(request(Method::PUT, "/v1/content/g0-c2", ADMIN_KEY, Some(inactive))).await;
    let (_, answer) = app.get("/v1/recommendations?metric=views&limit=100", WRITE_KEY).await;

    assert_eq!(delete_status, StatusCode::OK);
    assert_eq!(put_status, StatusCode::OK);
    let listed = ids(&answer);
    assert!(!listed.contains(&"g0-c1".to_owned()));
    assert!(!listed.contains(&"g0-c2".to_owned()));
    assert_eq!(listed.len(), 34);
}

#[tokio::test]
async fn a_known_users_list_leaves_out_what_they_bought_and_still_fills() {
    let app = TestApp::trained();
    let buyer = "user-1-2";
    let bought = crate::content_id(1, 2);

    let (status, answer) = app
        .get(&format!("/v1/users/{buyer}/recommendations?metric=views&limit=20"), WRITE_KEY)
        .await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    let recommendations = &answer["recommendations"];
    let listed = ids(recommendations);
    assert!(!listed.contains(&bought), "{listed:?}");
    assert_eq!(listed.len(), 20);
    assert_eq!(recommendations["model_version"], answer["assignment"]["model_version"]);
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len());
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = TestApp::trained();

    let (metric_status, metric) = app.get("/v1/recommendations?metric=clicks", WRITE_KEY).await;
    let (cluster_status, cluster) = app.get("/v1/recommendations?cluster=99", WRITE_KEY).await;
    let (limit_status, limit) = app.get("/v1/recommendations?limit=0", WRITE_KEY).await;
    let (cursor_status, _) = app.get("/v1/recommendations?cursor=zzz", WRITE_KEY).await;
    let (unknown_status, unknown) = app.get("/v1/recommendations?colour=red", WRITE_KEY).await;
    let (type_status, _) = app.get("/v1/recommendations?limit=many", WRITE_KEY).await;

    assert_eq!(metric_status, StatusCode::BAD_REQUEST);
    assert!(metric["message"].as_str().unwrap().contains("metric"));
    assert_eq!(cluster_status, StatusCode::NOT_FOUND);
    assert!(cluster["message"].as_str().unwrap().contains("cluster 99"));
    assert_eq!(limit_status, StatusCode::BAD_REQUEST);
    assert!(limit["message"].as_str().unwrap().contains("limit"));
    assert_eq!(cursor_status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown["code"], "bad_request");
    assert_eq!(type_status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn before_any_model_the_global_list_is_empty() {
    let app = TestApp::new();

    let (status, answer) = app.get("/v1/recommendations", WRITE_KEY).await;
    let (cluster_status, cluster) = app.get("/v1/recommendations?cluster=1", WRITE_KEY).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["items"], json!([]));
    assert_eq!(answer["model_version"], Value::Null);
    assert_eq!(cluster_status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(cluster["code"], "no_model");
}

use std::time::Duration;

use axum::http::StatusCode;
use centroid_store::Store;
use serde_json::json;

use crate::{synthetic_events, TestApp, ADMIN_KEY, WRITE_KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_runs_in_the_background_and_the_new_model_is_served() {
    let app = TestApp::new();
    app.store.append_events(&synthetic_events()).unwrap();

    let (status, job) = app.post("/v1/train", ADMIN_KEY, json!({"k": 3})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_u64().unwrap();
    let mut finished = json!(null);
    for _ in 0..300 {
        let (_, state) = app.get(&format!("/v1/jobs/{id}"), ADMIN_KEY).await;
        if state["status"] != "running" {
            finished = state;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, models) = app.get("/v1/models", ADMIN_KEY).await;
    let (_, current) = app.get("/v1/models/current", ADMIN_KEY).await;
    let (_, recommendations) = app.get("/v1/recommendations", WRITE_KEY).await;

    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["model_version"], 1);
    assert_eq!(finished["k"], 3);
    assert_eq!(models["serving_version"], 1);
    assert_eq!(models["models"].as_array().unwrap().len(), 1);
    assert_eq!(current["version"], 1);
    assert_eq!(current["k"], 3);
    assert!(!current["features"].as_array().unwrap().is_empty());
    assert_eq!(recommendations["model_version"], 1);
}

#[tokio::test]
async fn operations_refuse_bad_requests() {
    let app = TestApp::new();

    let (no_model, no_model_answer) = app.get("/v1/models/current", ADMIN_KEY).await;
    let (bad_k, _) = app.post("/v1/train", ADMIN_KEY, json!({"k": "many"})).await;
    let (no_job, _) = app.get("/v1/jobs/42", ADMIN_KEY).await;
    let (write_key, _) = app.post("/v1/train", WRITE_KEY, json!({})).await;
    let (empty_store, empty_job) = app.post("/v1/train", ADMIN_KEY, json!({})).await;

    assert_eq!(no_model, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(no_model_answer["code"], "no_model");
    assert_eq!(bad_k, StatusCode::BAD_REQUEST);
    assert_eq!(no_job, StatusCode::NOT_FOUND);
    assert_eq!(write_key, StatusCode::FORBIDDEN);
    // With no events the job starts and fails; the server keeps serving.
    assert_eq!(empty_store, StatusCode::ACCEPTED, "{empty_job}");
}

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let app = TestApp::trained();
    app.post("/v1/events", WRITE_KEY, json!([crate::wire_event("e", "a", "c", "x")])).await;

    let (health, _) = app.get("/healthz", "").await;
    let (ready, readiness) = app.get("/readyz", "").await;
    let (metrics_status, metrics) = app.get("/metrics", "").await;
    let (openapi_status, openapi) = app.get("/openapi.json", "").await;

    assert_eq!(health, StatusCode::OK);
    assert_eq!(ready, StatusCode::OK);
    assert_eq!(readiness["model_version"], 1);
    assert_eq!(metrics_status, StatusCode::OK);
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("centroid_events_total{outcome=\"accepted\"} 1"), "{metrics}");
    assert!(metrics.contains("centroid_http_requests_total"));
    assert!(metrics.contains("centroid_model_version 1"));
    assert_eq!(openapi_status, StatusCode::OK);
    for path in ["/v1/events", "/v1/assign", "/v1/recommendations", "/v1/context", "/v1/train"] {
        assert!(openapi["paths"][path].is_object(), "{path} missing from /openapi.json");
    }
    assert!(openapi["components"]["schemas"]["Assignment"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enough_new_events_start_a_scheduled_run_and_its_model_is_served() {
    let mut config = crate::test_config();
    config.training.after_new_events = 100;
    config.training.k = "3".into();
    let app = TestApp::with_config(config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background =
        tokio::spawn(centroid_server::training::background(app.state.clone(), stopped));

    app.store.append_events(&synthetic_events()).unwrap();
    let mut version = None;
    for _ in 0..200 {
        version = app.state.models.current().version;
        if version.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    background.await.unwrap();

    assert_eq!(version, Some(1));
    assert_eq!(app.state.jobs.get(1).unwrap().trigger, "new_events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_published_by_another_process_is_picked_up() {
    let mut config = crate::test_config();
    config.training.model_poll_secs = 1;
    let app = TestApp::with_config(config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background =
        tokio::spawn(centroid_server::training::background(app.state.clone(), stopped));

    // As `centroid train` on the same database would.
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || crate::seed(store.as_ref())).await.unwrap();
    let mut version = None;
    for _ in 0..100 {
        version = app.state.models.current().version;
        if version.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    background.await.unwrap();

    assert_eq!(version, Some(1));
}

use axum::http::{Method, StatusCode};
use centroid_core::summary::summary_of;
use centroid_core::{Event, EventType, ReducerState};
use centroid_store::Store;
use serde_json::{json, Value};

use crate::{content_id, request, wire_event, TestApp, ADMIN_KEY, WRITE_KEY};

/// Events of a visitor who behaves like group `group`.
fn visitor_events(group: usize, anonymous_id: &str) -> Vec<Value> {
    (0..8)
        .map(|i| {
            let id = format!("{anonymous_id}-{i}");
            wire_event(&id, anonymous_id, &content_id(group, i), &format!("cat{group}"))
        })
        .collect()
}

/// The cluster the trained model gave a synthetic user of `group`.
fn cluster_of_group(app: &TestApp, group: usize) -> u32 {
    app.store.user_prediction(&format!("user-{group}-0")).unwrap().unwrap().1.cluster
}

#[tokio::test]
async fn assign_places_a_new_visitor_with_the_saved_model() {
    let app = TestApp::trained();

    let (status, answer) =
        app.post("/v1/assign", WRITE_KEY, json!({"events": visitor_events(2, "anon-a")})).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model_version"], 1);
    assert_eq!(answer["cluster"], cluster_of_group(&app, 2));
    assert!(answer["distance"].as_f64().unwrap() >= 0.0);
    let runner_up = &answer["runner_up"];
    assert!(runner_up["distance"].as_f64().unwrap() >= answer["distance"].as_f64().unwrap());
    assert_ne!(runner_up["cluster"], answer["cluster"]);
    assert_eq!(answer["n_events"], 8);
}

#[tokio::test]
async fn assign_accepts_the_trackers_summary() {
    let app = TestApp::trained();
    let events: Vec<Event> = (0..6)
        .map(|i| crate::event(&format!("s{i}"), "v", EventType::View, &content_id(0, i), 0))
        .collect();
    let aggregate = ReducerState::fold(&events).user("v").unwrap().aggregate.clone();

    let (status, answer) =
        app.post("/v1/assign", WRITE_KEY, json!({"summary": summary_of(&aggregate)})).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["cluster"], cluster_of_group(&app, 0));
    assert_eq!(answer["n_events"], 6);
}

#[tokio::test]
async fn a_visitor_without_usable_events_gets_the_global_cold_start() {
    let app = TestApp::trained();
    let invalid = json!({"events": [{"type": "nap", "content_id": "x", "anonymous_id": "a"}]});

    let (empty_status, empty) = app.post("/v1/assign", WRITE_KEY, json!({"events": []})).await;
    let (invalid_status, skipped) = app.post("/v1/assign", WRITE_KEY, invalid).await;

    assert_eq!(empty_status, StatusCode::OK);
    assert_eq!(empty["cluster"], "global");
    assert_eq!(empty["model_version"], 1);
    assert_eq!(invalid_status, StatusCode::OK);
    assert_eq!(skipped["cluster"], "global");
    assert_eq!(skipped["skipped_events"], 1);
}

#[tokio::test]
async fn before_any_model_everyone_is_global() {
    let app = TestApp::new();

    let (status, answer) =
        app.post("/v1/assign", WRITE_KEY, json!({"events": visitor_events(1, "a")})).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["cluster"], "global");
    assert_eq!(answer["model_version"], Value::Null);
}

#[tokio::test]
async fn assign_refuses_bad_input() {
    let mut config = crate::test_config();
    config.limits.max_assign_events = 3;
    let app = TestApp::with_config(config);

    let (too_many, _) =
        app.post("/v1/assign", WRITE_KEY, json!({"events": visitor_events(1, "a")})).await;
    let (bad_summary, summary_error) =
        app.post("/v1/assign", WRITE_KEY, json!({"summary": {"counts": {"nap": 1}}})).await;
    let (unknown_field, field_error) =
        app.post("/v1/assign", WRITE_KEY, json!({"evnts": []})).await;

    assert_eq!(too_many, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(bad_summary, StatusCode::BAD_REQUEST);
    assert!(summary_error["message"].as_str().unwrap().contains("summary.counts"));
    assert_eq!(unknown_field, StatusCode::BAD_REQUEST);
    assert!(field_error["message"].as_str().unwrap().contains("evnts"));
}

#[tokio::test]
async fn a_stored_users_cluster_follows_their_new_events() {
    let app = TestApp::trained();
    let trained = cluster_of_group(&app, 0);
    let target = cluster_of_group(&app, 2);

    let (_, before) = app.get("/v1/users/user-0-0/cluster", WRITE_KEY).await;
    // Many group-2 events since training move the user.
    let moved: Vec<Value> = (0..40)
        .map(|i| {
            json!({"event_id": format!("m{i}"), "user_id": "user-0-0", "type": "rating",
                   "value": 4, "content_id": content_id(2, i % 5), "category": "cat2"})
        })
        .collect();
    app.post("/v1/events", WRITE_KEY, json!(moved)).await;
    let (_, after) = app.get("/v1/users/user-0-0/cluster", WRITE_KEY).await;
    let (_, unknown) = app.get("/v1/users/nobody/cluster", WRITE_KEY).await;

    assert_eq!(before["cluster"], trained);
    assert_eq!(after["cluster"], target);
    assert_eq!(unknown["cluster"], "global");
}

#[tokio::test]
async fn context_stores_places_and_recommends_in_one_round_trip() {
    let app = TestApp::trained();
    let body = json!({
        "anonymous_id": "anon-ctx",
        "events": (0..8).map(|i| json!({"event_id": format!("ctx{i}"), "type": "view",
            "content_id": content_id(1, i), "category": "cat1"})).collect::<Vec<_>>(),
        "limit": 5,
    });

    let (status, answer) = app.post("/v1/context", WRITE_KEY, body).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model_version"], 1);
    assert_eq!(answer["events"]["accepted"], 8);
    assert_eq!(answer["assignment"]["cluster"], cluster_of_group(&app, 1));
    assert_eq!(answer["recommendations"]["model_version"], 1);
    let items = answer["recommendations"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items[0]["attributes"]["title"].as_str().unwrap().starts_with("Title"));
    assert_eq!(app.store.user_events("anon-ctx", 0).unwrap().len(), 8);
}

#[tokio::test]
async fn profiles_can_be_read_merged_and_deleted() {
    let app = TestApp::trained();
    app.post("/v1/events", WRITE_KEY, json!(visitor_events(2, "anon-m"))).await;

    let (read_status, profile) = app.get("/v1/profiles/user-1-3", ADMIN_KEY).await;
    let (merge_status, merged) = app
        .post(
            "/v1/profiles/merge",
            ADMIN_KEY,
            json!({"anonymous_id": "anon-m", "user_id": "new-user"}),
        )
        .await;
    let (_, after_merge) = app.get("/v1/users/new-user/cluster", WRITE_KEY).await;
    let (delete_status, deleted) =
        app.send(request(Method::DELETE, "/v1/profiles/new-user", ADMIN_KEY, None)).await;
    let (gone_status, _) = app.get("/v1/profiles/new-user", ADMIN_KEY).await;

    assert_eq!(read_status, StatusCode::OK, "{profile}");
    assert!(profile["counts"]["view"].as_u64().unwrap() > 0);
    assert_eq!(profile["trained_cluster"], cluster_of_group(&app, 1));
    assert_eq!(profile["sessions"][0]["session_id"], "user-1-3-s1");
    assert_eq!(merge_status, StatusCode::OK, "{merged}");
    assert_eq!(merged["events_moved"], 8);
    assert_eq!(merged["assignment"]["cluster"], cluster_of_group(&app, 2));
    assert_eq!(after_merge["cluster"], cluster_of_group(&app, 2));
    assert_eq!(delete_status, StatusCode::OK);
    assert_eq!(deleted["events"], 8);
    assert_eq!(gone_status, StatusCode::NOT_FOUND);
    assert!(app.store.user_events("new-user", 0).unwrap().is_empty());
}

#[tokio::test]
async fn profiles_need_the_admin_key() {
    let app = TestApp::trained();

    let (status, answer) = app.get("/v1/profiles/user-1-3", WRITE_KEY).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["code"], "forbidden");
}

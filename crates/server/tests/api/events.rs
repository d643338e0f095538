use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use centroid_store::Store;
use serde_json::json;

use crate::{request, wire_event, TestApp, ADMIN_KEY, WRITE_KEY};

#[tokio::test]
async fn a_batch_keeps_valid_events_and_reports_each_by_index() {
    let app = TestApp::new();
    let body = json!([
        wire_event("e1", "anon-1", "c1", "shoes"),
        {"anonymous_id": "anon-1", "type": "nap", "content_id": "c2"},
        wire_event("e3", "anon-1", "c3", "hats"),
        {"type": "view", "content_id": "c4"},
    ]);

    let (status, answer) = app.post("/v1/events", WRITE_KEY, body).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected"], 2);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["field"], "type");
    assert!(results[1]["reason"].as_str().unwrap().contains("nap"));
    assert_eq!(results[3]["field"], "user_id");
    assert_eq!(app.store.count_events().unwrap(), 2);
}

#[tokio::test]
async fn a_repeated_event_id_is_a_duplicate() {
    let app = TestApp::new();
    let body = json!(wire_event("same", "anon-1", "c1", "shoes"));
    app.post("/v1/events", WRITE_KEY, body.clone()).await;

    let (status, answer) = app.post("/v1/events", WRITE_KEY, body).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["duplicates"], 1);
    assert_eq!(answer["results"][0]["status"], "duplicate");
    assert_eq!(app.store.count_events().unwrap(), 1);
}

#[tokio::test]
async fn a_beacon_posts_text_plain_with_the_key_in_the_body() {
    let app = TestApp::new();
    let body = json!({"writeKey": WRITE_KEY, "batch": [wire_event("b1", "anon-9", "c1", "x")]});
    let beacon = Request::builder()
        .method(Method::POST)
        .uri("/v1/events")
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap();

    let (status, answer) = app.send(beacon).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], 1);
}

#[tokio::test]
async fn a_beacon_with_a_wrong_body_key_is_refused() {
    let app = TestApp::new();
    let body = json!({"writeKey": "pk_wrong_wrong_wrong_wrong", "batch": []});
    let beacon = Request::builder()
        .method(Method::POST)
        .uri("/v1/events")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(body.to_string()))
        .unwrap();

    let (status, answer) = app.send(beacon).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["code"], "unauthorized");
}

#[tokio::test]
async fn future_timestamps_are_clamped_and_flagged() {
    let app = TestApp::new();
    let mut event = wire_event("f1", "anon-1", "c1", "x");
    event["timestamp"] = json!(4_000_000_000_000i64);

    let (_, answer) = app.post("/v1/events", WRITE_KEY, json!([event])).await;

    assert_eq!(answer["results"][0]["clamped_timestamp"], true);
    assert_eq!(answer["clamped"], 1);
    let stored = app.store.events_since(0, 10).unwrap();
    assert!(stored[0].event.timestamp_ms < 4_000_000_000_000);
}

#[tokio::test]
async fn bots_are_dropped_and_counted() {
    let app = TestApp::new();
    let mut crawler = request(
        Method::POST,
        "/v1/events",
        WRITE_KEY,
        Some(json!([wire_event("bot1", "anon-1", "c1", "x")])),
    );
    crawler
        .headers_mut()
        .insert(header::USER_AGENT, "Mozilla/5.0 (compatible; Googlebot/2.1)".parse().unwrap());
    let segment_bot = json!({"type": "track", "event": "Product Viewed", "anonymousId": "a2",
        "messageId": "m-bot", "properties": {"product_id": "p1"},
        "context": {"userAgent": "AhrefsBot/7.0"}});

    let (_, first) = app.send(crawler).await;
    let (_, second) = app.post("/v1/events", WRITE_KEY, json!([segment_bot])).await;

    assert_eq!(first["bots_dropped"], 1);
    assert_eq!(first["results"][0]["status"], "dropped");
    assert_eq!(second["bots_dropped"], 1);
    assert_eq!(app.store.count_events().unwrap(), 0);
}

#[tokio::test]
async fn segment_calls_are_accepted_and_identify_merges_profiles() {
    let app = TestApp::new();
    let batch = json!({"batch": [
        {"type": "track", "event": "Product Viewed", "anonymousId": "anon-7",
         "messageId": "m1", "properties": {"product_id": "p1", "category": "shoes"}},
        {"type": "track", "event": "Order Completed", "anonymousId": "anon-7", "messageId": "m2",
         "properties": {"products": [{"product_id": "p1"}, {"product_id": "p2", "quantity": 2}]}},
        {"type": "identify", "userId": "user-7", "anonymousId": "anon-7"},
    ]});

    let (status, answer) = app.post("/v1/events", WRITE_KEY, batch).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["results"][1]["status"], "accepted");
    assert_eq!(answer["results"][2]["status"], "identified");
    assert_eq!(app.store.linked_user("anon-7").unwrap().as_deref(), Some("user-7"));
    assert_eq!(app.store.user_events("user-7", 0).unwrap().len(), 3);
}

#[tokio::test]
async fn limits_answer_413_naming_the_limit() {
    let mut config = crate::test_config();
    config.limits.max_batch_events = 2;
    config.limits.max_event_bytes = 300;
    config.limits.max_body_bytes = 2_000;
    let app = TestApp::with_config(config);
    let three = json!([
        wire_event("1", "a", "c", "x"),
        wire_event("2", "a", "c", "x"),
        wire_event("3", "a", "c", "x"),
    ]);
    let mut big = wire_event("big", "a", "c", "x");
    big["properties"]["title"] = json!("t".repeat(400));
    let huge = json!([{"padding": "p".repeat(3_000)}]);

    let (batch_status, batch) = app.post("/v1/events", WRITE_KEY, three).await;
    let (event_status, event) = app.post("/v1/events", WRITE_KEY, json!([big])).await;
    let (body_status, body) = app.post("/v1/events", WRITE_KEY, huge).await;

    assert_eq!(batch_status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(batch["message"].as_str().unwrap().contains("limits.max_batch_events"));
    assert_eq!(event_status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(event["message"].as_str().unwrap().contains("limits.max_event_bytes"));
    assert_eq!(body_status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["message"].as_str().unwrap().contains("limits.max_body_bytes"));
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_get_json_errors() {
    let app = TestApp::new();
    let broken = Request::builder()
        .method(Method::POST)
        .uri("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("[{\"type\": "))
        .unwrap();
    let form = Request::builder()
        .method(Method::POST)
        .uri("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("a=b"))
        .unwrap();

    let (broken_status, broken_answer) = app.send(broken).await;
    let (form_status, form_answer) = app.send(form).await;

    assert_eq!(broken_status, StatusCode::BAD_REQUEST);
    assert_eq!(broken_answer["code"], "invalid_json");
    assert_eq!(form_status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(form_answer["code"], "unsupported_media_type");
}

#[tokio::test]
async fn the_admin_key_may_post_events_too() {
    let app = TestApp::new();

    let (status, _) =
        app.post("/v1/events", ADMIN_KEY, json!(wire_event("x", "a", "c", "k"))).await;

    assert_eq!(status, StatusCode::OK);
}

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::{request, TestApp, ORIGIN, WRITE_KEY};

#[tokio::test]
async fn a_missing_or_wrong_key_is_unauthorized() {
    let app = TestApp::new();

    let (missing, missing_answer) = app.get("/v1/recommendations", "").await;
    let (wrong, _) = app.get("/v1/recommendations", "pk_not_the_key_at_all_000").await;
    let header_key = Request::builder()
        .uri("/v1/recommendations")
        .header("x-centroid-key", WRITE_KEY)
        .body(Body::empty())
        .unwrap();
    let (by_header, _) = app.send(header_key).await;

    assert_eq!(missing, StatusCode::UNAUTHORIZED);
    assert_eq!(missing_answer["code"], "unauthorized");
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
    assert_eq!(by_header, StatusCode::OK);
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/context")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type,authorization")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let app = TestApp::new();

    let allowed = app.router.clone();
    let allowed = tower::ServiceExt::oneshot(allowed, preflight(ORIGIN)).await.unwrap();
    let (refused, refused_answer) = app.send(preflight("https://evil.example")).await;
    let mut simple = request(Method::GET, "/v1/recommendations", WRITE_KEY, None);
    simple.headers_mut().remove(header::AUTHORIZATION);
    simple.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let simple = tower::ServiceExt::oneshot(app.router.clone(), simple).await.unwrap();
    let mut json_post = request(Method::POST, "/v1/assign", WRITE_KEY, Some(json!({})));
    json_post.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let (json_status, _) = app.send(json_post).await;

    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert_eq!(refused, StatusCode::FORBIDDEN);
    assert_eq!(refused_answer["code"], "origin_not_allowed");
    assert!(!simple.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    assert_eq!(json_status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_page_of_the_servers_own_host_is_allowed() {
    let app = TestApp::new();
    let mut own = request(Method::POST, "/v1/assign", WRITE_KEY, Some(json!({})));
    own.headers_mut().insert(header::ORIGIN, "http://localhost:8080".parse().unwrap());
    own.headers_mut().insert(header::HOST, "localhost:8080".parse().unwrap());

    let (status, _) = app.send(own).await;

    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn requests_over_the_rate_limit_get_429() {
    let mut config = crate::test_config();
    config.rate_limit.requests_per_second = 1;
    config.rate_limit.burst = 2;
    let app = TestApp::with_config(config);

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.get("/v1/recommendations", WRITE_KEY).await.0);
    }
    let (_, limited) = app.get("/v1/recommendations", WRITE_KEY).await;

    assert_eq!(statuses[..2], [StatusCode::OK, StatusCode::OK]);
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited["code"], "rate_limited");
}

#[tokio::test]
async fn unknown_routes_answer_json() {
    let app = TestApp::new();

    let (status, answer) = app.get("/v2/nothing", WRITE_KEY).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "not_found");
}

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{request, TestApp, ADMIN_KEY, WRITE_KEY};

#[tokio::test]
async fn content_is_written_by_admins_and_read_with_the_write_key() {
    let app = TestApp::new();
    let item = json!({"title": "Boots", "categories": ["shoes"], "price": 80.0,
                      "url": "https://shop.example/boots", "attributes": {"brand": "X"}});
    let bulk = json!({"items": [{"content_id": "a", "title": "A"}, {"content_id": "b"}]});

    let (put_status, _) =
        app.send(request(Method::PUT, "/v1/content/boots", ADMIN_KEY, Some(item))).await;
    let (bulk_status, bulk_answer) = app.post("/v1/content", ADMIN_KEY, bulk).await;
    let (get_status, boots) = app.get("/v1/content/boots", WRITE_KEY).await;
    let (_, batch) = app.get("/v1/content?ids=a,boots,nope", WRITE_KEY).await;
    let (delete_status, _) =
        app.send(request(Method::DELETE, "/v1/content/a", ADMIN_KEY, None)).await;
    let (gone_status, gone) = app.get("/v1/content/a", WRITE_KEY).await;
    let (again_status, _) =
        app.send(request(Method::DELETE, "/v1/content/a", ADMIN_KEY, None)).await;

    assert_eq!(put_status, StatusCode::OK);
    assert_eq!(bulk_status, StatusCode::OK);
    assert_eq!(bulk_answer["upserted"], 2);
    assert_eq!(get_status, StatusCode::OK);
    assert_eq!(boots["title"], "Boots");
    assert_eq!(boots["attributes"]["brand"], "X");
    assert_eq!(batch["items"].as_array().unwrap().len(), 2);
    assert_eq!(batch["missing"], json!(["nope"]));
    assert_eq!(delete_status, StatusCode::OK);
    assert_eq!(gone_status, StatusCode::NOT_FOUND);
    assert_eq!(gone["code"], "not_found");
    assert_eq!(again_status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn catalogue_writes_need_the_admin_key_and_valid_items() {
    let app = TestApp::new();

    let (write_status, write) = app
        .send(request(Method::PUT, "/v1/content/x", WRITE_KEY, Some(json!({"title": "t"}))))
        .await;
    let (bad_status, bad) = app
        .send(request(Method::PUT, "/v1/content/x", ADMIN_KEY, Some(json!({"price": -1.0}))))
        .await;
    let (mismatch_status, _) = app
        .send(request(Method::PUT, "/v1/content/x", ADMIN_KEY, Some(json!({"content_id": "y"}))))
        .await;

    assert_eq!(write_status, StatusCode::FORBIDDEN);
    assert_eq!(write["code"], "forbidden");
    assert_eq!(bad_status, StatusCode::BAD_REQUEST);
    assert!(bad["message"].as_str().unwrap().contains("price"));
    assert_eq!(mismatch_status, StatusCode::BAD_REQUEST);
}

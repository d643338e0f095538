//! Parsing canonical and Segment JSON, and canonical CSV rows.

use centroid_core::event::EventType;
use centroid_core::parse::{parse_csv_record, parse_json, CsvRecord, Message, ParseContext};
use serde_json::json;

const NOW: i64 = 1_700_000_000_000;

fn events(message: Message) -> Vec<centroid_core::Event> {
    match message {
        Message::Events { events, .. } => events,
        other => panic!("expected events, got {other:?}"),
    }
}

#[test]
fn canonical_event_with_rfc3339_time_and_categories() {
    let value = json!({
        "event_id": "e1", "user_id": "u1", "type": "rating", "content_id": 42,
        "timestamp": "2023-11-14T22:13:20Z", "value": 4.5,
        "properties": {"category": ["drama", "crime", "drama"], "title": "X"}
    });

    let parsed = events(parse_json(&value, &ParseContext::at(NOW)).unwrap());

    let e = &parsed[0];
    assert_eq!((e.event_id.as_str(), e.content_id.as_str()), ("e1", "42"));
    assert_eq!(e.event_type, EventType::Rating);
    assert_eq!(e.timestamp_ms, 1_700_000_000_000);
    assert_eq!(e.categories, ["drama", "crime"]);
    assert_eq!(e.value, Some(4.5));
    assert_eq!(e.properties["title"], "X");
}

#[test]
fn missing_event_id_is_generated_and_future_time_is_clamped() {
    let value = json!({"anonymous_id": "a1", "type": "view", "content_id": "c", "timestamp": NOW + 3_600_000});

    let Message::Events { events, clamped_timestamp } =
        parse_json(&value, &ParseContext::at(NOW)).unwrap()
    else {
        panic!("expected events");
    };

    assert!(clamped_timestamp);
    assert_eq!(events[0].timestamp_ms, NOW);
    assert_eq!(events[0].event_id.len(), 32);
    assert_eq!(events[0].actor(), "a1");
}

#[test]
fn errors_name_the_field_and_the_reason() {
    let cases = [
        (json!({"user_id": "u", "type": "nap", "content_id": "c"}), "type"),
        (json!({"user_id": "u", "type": "view"}), "content_id"),
        (json!({"type": "view", "content_id": "c"}), "user_id"),
        (json!({"user_id": "u", "type": "rating", "content_id": "c"}), "value"),
        (json!({"user_id": "u", "type": "rating", "content_id": "c", "value": "NaN"}), "value"),
        (json!({"user_id": "u", "type": "watch", "content_id": "c", "value": -3}), "value"),
        (
            json!({"user_id": "u", "type": "view", "content_id": "c", "timestamp": "yesterday"}),
            "timestamp",
        ),
        (json!({"user_id": "u", "type": "view", "content_id": "c", "timestamp": -5}), "timestamp"),
        (json!({"user_id": ["u"], "type": "view", "content_id": "c"}), "user_id"),
        (json!({"user_id": "u\u{0}", "type": "view", "content_id": "c"}), "user_id"),
        (json!("not an object"), "event"),
    ];

    for (value, field) in cases {
        let err = parse_json(&value, &ParseContext::at(NOW)).unwrap_err();
        assert_eq!(err.field, field, "{value}: {err}");
        assert!(!err.reason.is_empty());
    }
}

#[test]
fn segment_ecommerce_events_map_onto_canonical_types() {
    let ctx = ParseContext::at(NOW);
    let viewed = json!({"type": "track", "event": "Product Viewed", "messageId": "m1",
        "anonymousId": "a1", "properties": {"product_id": "p1", "category": "shoes", "price": 9.5}});
    let added =
        json!({"event": "Product Added", "userId": "u1", "properties": {"product_id": "p1"}});
    let removed = json!({"event": "Product Removed", "userId": "u1", "properties": {"sku": "p1"}});
    let heartbeat =
        json!({"event": "Video Content Playing", "userId": "u1", "properties": {"asset_id": "v1"}});
    let other = json!({"event": "Signed Up", "userId": "u1"});

    let v = events(parse_json(&viewed, &ctx).unwrap());
    assert_eq!(
        (v[0].event_type, v[0].content_id.as_str(), v[0].event_id.as_str()),
        (EventType::View, "p1", "m1")
    );
    assert_eq!(v[0].categories, ["shoes"]);
    assert_eq!(events(parse_json(&added, &ctx).unwrap())[0].event_type, EventType::AddToCart);
    assert_eq!(
        events(parse_json(&removed, &ctx).unwrap())[0].event_type,
        EventType::RemoveFromCart
    );
    let w = events(parse_json(&heartbeat, &ctx).unwrap());
    assert_eq!((w[0].event_type, w[0].value), (EventType::Watch, Some(10.0)));
    assert_eq!(parse_json(&other, &ctx).unwrap(), Message::Ignored);
}

#[test]
fn order_completed_yields_one_purchase_per_product() {
    let order = json!({"event": "Order Completed", "userId": "u1", "messageId": "order-9",
        "properties": {"products": [{"product_id": "p1", "quantity": 2}, {"product_id": "p2"}]}});

    let purchases = events(parse_json(&order, &ParseContext::at(NOW)).unwrap());

    assert_eq!(purchases.len(), 2);
    assert_eq!(purchases[0].event_id, "order-9:0");
    assert_eq!(purchases[1].event_id, "order-9:1");
    assert_eq!(purchases[0].value, Some(2.0));
    assert_eq!(purchases[1].value, Some(1.0));
    assert!(purchases.iter().all(|p| p.event_type == EventType::Purchase));

    let bad = json!({"event": "Order Completed", "userId": "u1", "properties": {"products": [{"quantity": 1}]}});
    let err = parse_json(&bad, &ParseContext::at(NOW)).unwrap_err();
    assert_eq!(err.field, "properties.products[0].product_id");
}

#[test]
fn segment_identify_links_anonymous_id_to_user() {
    let identify = json!({"type": "identify", "userId": "u1", "anonymousId": "a1"});

    let parsed = parse_json(&identify, &ParseContext::at(NOW)).unwrap();

    assert_eq!(parsed, Message::Identify { user_id: "u1".into(), anonymous_id: "a1".into() });
}

#[test]
fn csv_record_parses_and_rejects_by_field() {
    let good = CsvRecord {
        event_id: "e",
        user_id: "u",
        content_id: "c",
        event_type: "watch",
        timestamp: "17",
        value: "",
        category: "cat3",
    };
    let e = parse_csv_record(&good, 0).unwrap();
    assert_eq!(
        (e.timestamp_ms, e.value, e.categories.as_slice()),
        (17, None, &["cat3".to_owned()][..])
    );

    let no_value = CsvRecord { event_type: "rating", ..good };
    assert_eq!(parse_csv_record(&no_value, 0).unwrap_err().field, "value");
    let bad_time = CsvRecord { timestamp: "2024-01-01", ..good };
    assert_eq!(parse_csv_record(&bad_time, 0).unwrap_err().field, "timestamp");
    let no_user = CsvRecord { user_id: "", ..good };
    assert_eq!(parse_csv_record(&no_user, 0).unwrap_err().field, "user_id");
}

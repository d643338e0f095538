//! The browser tracker's session summary equals the reducer's for the same events.
//!
//! `sdk/js/test/fixtures/summary.json` holds events as the tracker sends them and the summary
//! the tracker folded from them; the tracker's own tests (`sdk/js/test/summary.test.js`) check
//! the same file from the other side.

use centroid_core::parse::{parse_json, Message, ParseContext};
use centroid_core::reducer::ReducerState;
use centroid_core::summary::{parse_summary, summary_of};
use serde_json::Value;

const FIXTURE: &str = include_str!("../../../sdk/js/test/fixtures/summary.json");

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

#[test]
fn tracker_summary_equals_the_reducers() {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let actor = fixture["actor"].as_str().expect("the fixture names its actor");
    let ctx = ParseContext::at(1_800_000_000_000);
    let mut events = Vec::new();
    for value in fixture["events"].as_array().expect("the fixture lists events") {
        match parse_json(value, &ctx).expect("every fixture event parses") {
            Message::Events { events: parsed, .. } => events.extend(parsed),
            Message::Identify { .. } | Message::Ignored => {}
        }
    }

    let state = ReducerState::fold(&events);
    let aggregate = &state.user(actor).expect("the actor has events").aggregate;
    let summary = summary_of(aggregate);

    assert!(
        same(&summary, &fixture["summary"]),
        "server {summary}\ntracker {}",
        fixture["summary"]
    );
    assert_eq!(&parse_summary(&fixture["summary"]).expect("the summary parses"), aggregate);
}

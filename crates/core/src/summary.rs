//! The compact session summary a browser keeps and posts instead of its raw events.
//!
//! The tracker folds events with the same rules as [`crate::reducer`] and posts the result:
//!
//! ```json
//! {"v": 1, "counts": {"view": 3, "like": 1}, "rating_sum": 4.5, "watch_seconds": 120,
//!  "categories": {"shoes": 2.5, "hats": 0.5}, "first_ts": 1700000000000,
//!  "last_ts": 1700000100000}
//! ```
//!
//! `categories` holds events per category, a content with n categories adding 1/n to each
//! (an event without a category counts under `""`). The server turns it back into a
//! [`UserAggregate`], so a summary places a visitor exactly where the events would.

use serde_json::{Map, Value};

use crate::event::EventType;
use crate::parse::{check_id, EventError};
use crate::reducer::{Fixed, UserAggregate, CATEGORY_UNIT};

/// Version of the summary format.
pub const SUMMARY_VERSION: u64 = 1;

/// Most categories a summary may carry (the tracker keeps the largest).
pub const MAX_SUMMARY_CATEGORIES: usize = 256;

/// Largest count of one event type a summary may claim.
pub const MAX_SUMMARY_COUNT: u64 = 1_000_000;

fn error(field: &str, reason: impl Into<String>) -> EventError {
    EventError { field: field.to_owned(), reason: reason.into() }
}

/// Reads a posted summary into aggregates.
pub fn parse_summary(value: &Value) -> Result<UserAggregate, EventError> {
    let object = value.as_object().ok_or_else(|| error("summary", "must be an object"))?;
    match object.get("v").and_then(Value::as_u64) {
        Some(SUMMARY_VERSION) | None => {}
        Some(other) => return Err(error("summary.v", format!("unsupported version {other}"))),
    }

    let mut aggregate = UserAggregate::default();
    if let Some(counts) = optional_object(object, "counts")? {
        for (name, count) in counts {
            let event_type: EventType =
                name.parse().map_err(|e| error("summary.counts", format!("{e}")))?;
            let count = count
                .as_u64()
                .filter(|&c| c <= MAX_SUMMARY_COUNT)
                .ok_or_else(|| error("summary.counts", format!("`{name}` must be a count")))?;
            aggregate.counts[event_type.index()] = count;
        }
    }
    aggregate.rating_sum = Fixed::from_f64(non_negative(object, "rating_sum")?);
    aggregate.watch_seconds = Fixed::from_f64(non_negative(object, "watch_seconds")?);

    if let Some(categories) = optional_object(object, "categories")? {
        if categories.len() > MAX_SUMMARY_CATEGORIES {
            return Err(error(
                "summary.categories",
                format!("more than {MAX_SUMMARY_CATEGORIES} categories"),
            ));
        }
        for (name, weight) in categories {
            if !name.is_empty() {
                check_id(name, "summary.categories")?;
            }
            let weight = weight
                .as_f64()
                .filter(|w| w.is_finite() && *w >= 0.0 && *w <= MAX_SUMMARY_COUNT as f64)
                .ok_or_else(|| error("summary.categories", format!("`{name}` needs a weight")))?;
            let units = (weight * CATEGORY_UNIT as f64).round() as i64;
            aggregate.category_weights.insert(name.clone(), units);
        }
    }
    aggregate.first_ts = object.get("first_ts").and_then(Value::as_i64).unwrap_or(0);
    aggregate.last_ts = object.get("last_ts").and_then(Value::as_i64).unwrap_or(0);
    Ok(aggregate)
}

/// Writes aggregates as a summary (what the tracker would hold for the same events).
pub fn summary_of(aggregate: &UserAggregate) -> Value {
    let mut counts = Map::new();
    for event_type in EventType::ALL {
        let count = aggregate.counts[event_type.index()];
        if count > 0 {
            counts.insert(event_type.as_str().to_owned(), count.into());
        }
    }
    let mut categories: Vec<(&String, &i64)> = aggregate.category_weights.iter().collect();
    categories.sort();
    let categories: Map<String, Value> = categories
        .into_iter()
        .map(|(name, units)| (name.clone(), (*units as f64 / CATEGORY_UNIT as f64).into()))
        .collect();
    serde_json::json!({
        "v": SUMMARY_VERSION,
        "counts": counts,
        "rating_sum": aggregate.rating_sum.to_f64(),
        "watch_seconds": aggregate.watch_seconds.to_f64(),
        "categories": categories,
        "first_ts": aggregate.first_ts,
        "last_ts": aggregate.last_ts,
    })
}

fn optional_object<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, EventError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(error(&format!("summary.{field}"), "must be an object")),
    }
}

fn non_negative(object: &Map<String, Value>, field: &str) -> Result<f64, EventError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(0.0),
        Some(value) => value
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| error(&format!("summary.{field}"), "must be a non-negative number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::reducer::ReducerState;

    #[test]
    fn summary_round_trips_the_reducers_aggregate() {
        let mut events = Vec::new();
        for (i, (t, v, cats)) in [
            (EventType::View, None, vec!["a", "b", "c"]),
            (EventType::Rating, Some(3.5), vec!["a"]),
            (EventType::Watch, Some(42.0), vec![]),
        ]
        .into_iter()
        .enumerate()
        {
            events.push(Event {
                event_id: i.to_string(),
                user_id: Some("u".into()),
                anonymous_id: None,
                session_id: None,
                event_type: t,
                content_id: "c".into(),
                timestamp_ms: 10 + i as i64,
                received_at_ms: 0,
                value: v,
                categories: cats.into_iter().map(String::from).collect(),
                properties: Map::new(),
            });
        }
        let aggregate = ReducerState::fold(&events).user("u").unwrap().aggregate.clone();

        let parsed = parse_summary(&summary_of(&aggregate)).unwrap();

        assert_eq!(parsed, aggregate);
    }

    #[test]
    fn bad_summaries_name_the_field() {
        let cases = [
            (serde_json::json!({"counts": {"nap": 1}}), "summary.counts"),
            (serde_json::json!({"counts": {"view": -1}}), "summary.counts"),
            (serde_json::json!({"watch_seconds": -5}), "summary.watch_seconds"),
            (serde_json::json!({"categories": {"a": "x"}}), "summary.categories"),
            (serde_json::json!({"v": 9}), "summary.v"),
            (serde_json::json!([1]), "summary"),
        ];
        for (value, field) in cases {
            assert_eq!(parse_summary(&value).unwrap_err().field, field, "{value}");
        }
    }
}

//! Turning JSON and CSV records into [`Event`]s, with errors that name the field.
//!
//! Two JSON shapes are accepted: the canonical one (`type` is one of the seven event types)
//! and Segment's track / page / identify calls, so that existing instrumentation can be
//! pointed at Centroid. Segment's e-commerce events map onto the canonical types:
//!
//! | Segment event | canonical type |
//! | --- | --- |
//! | `Product Viewed`, `Product Clicked`, page calls | `view` |
//! | `Product Added` | `add_to_cart` |
//! | `Product Removed` | `remove_from_cart` |
//! | `Order Completed` (one per entry of `products`) | `purchase` |
//! | `Product Added to Wishlist`, `Product Liked` | `like` |
//! | `Product Reviewed`, `Product Rated` (with `rating`) | `rating` |
//! | `Video Content Playing`, `Video Playback Heartbeat` | `watch` |
//!
//! A video heartbeat counts `properties.seconds` (or `heartbeat_seconds`) watched seconds,
//! and Segment's documented 10-second heartbeat interval when neither is sent.

use serde_json::{Map, Value};

use crate::event::{Event, EventType, MAX_CATEGORIES_PER_CONTENT};

/// Seconds of watching one Segment video heartbeat stands for when it does not say.
pub const DEFAULT_HEARTBEAT_SECONDS: f64 = 10.0;

/// Longest accepted identifier, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// A record that could not become an event; `field` names the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}`: {reason}")]
pub struct EventError {
    /// The field at fault, as the client named it (for example `timestamp`).
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

impl EventError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        EventError { field: field.to_owned(), reason: reason.into() }
    }
}

/// What the parser needs to know about where and when a record arrived.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Server time of receipt, epoch milliseconds.
    pub received_at_ms: i64,
    /// Client timestamps later than `received_at_ms` plus this are clamped to the receive time.
    pub max_future_ms: i64,
}

impl ParseContext {
    /// A context with the default one-minute allowance for client clock skew.
    pub fn at(received_at_ms: i64) -> Self {
        ParseContext { received_at_ms, max_future_ms: 60_000 }
    }
}

/// One parsed record.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Behaviour events (a Segment `Order Completed` gives one per product).
    Events {
        /// The events, in the order the record lists them.
        events: Vec<Event>,
        /// True when the client timestamp was in the future and was clamped.
        clamped_timestamp: bool,
    },
    /// An anonymous visitor identified as a known user (Segment `identify`, tracker login).
    Identify {
        /// The known user id.
        user_id: String,
        /// The anonymous id that becomes part of the user's profile.
        anonymous_id: String,
    },
    /// A well-formed record that carries no behaviour Centroid uses (a Segment `Signed Up`).
    Ignored,
}

/// Parses one JSON object in either the canonical or the Segment shape.
pub fn parse_json(value: &Value, ctx: &ParseContext) -> Result<Message, EventError> {
    let object = value.as_object().ok_or_else(|| EventError::new("event", "must be an object"))?;

    let is_segment = object.contains_key("event")
        || matches!(
            object.get("type").and_then(Value::as_str),
            Some("track" | "page" | "screen" | "identify" | "alias")
        );
    if is_segment {
        parse_segment(object, ctx)
    } else {
        parse_canonical(object, ctx)
    }
}

fn parse_canonical(object: &Map<String, Value>, ctx: &ParseContext) -> Result<Message, EventError> {
    let type_name = required_str(object, "type")?;
    let event_type: EventType =
        type_name.parse().map_err(|e: crate::event::UnknownEventType| {
            EventError::new("type", format!("{e}; expected one of {}", type_list()))
        })?;

    let properties = optional_object(object, "properties")?;
    let mut categories = categories_from(object.get("category"), "category")?;
    if categories.is_empty() {
        categories = categories_from(properties.get("category"), "properties.category")?;
    }
    if categories.is_empty() {
        categories = categories_from(properties.get("categories"), "properties.categories")?;
    }

    let (timestamp_ms, clamped_timestamp) = timestamp(object.get("timestamp"), ctx)?;
    let event = Event {
        event_id: optional_id(object, "event_id")?.unwrap_or_else(new_event_id),
        user_id: optional_id(object, "user_id")?,
        anonymous_id: optional_id(object, "anonymous_id")?,
        session_id: optional_id(object, "session_id")?,
        event_type,
        content_id: id_value(object.get("content_id"), "content_id")?,
        timestamp_ms,
        received_at_ms: ctx.received_at_ms,
        value: optional_number(object.get("value"), "value")?,
        categories,
        properties,
    };
    let event = validate(event, "value")?;
    Ok(Message::Events { events: vec![event], clamped_timestamp })
}

fn parse_segment(object: &Map<String, Value>, ctx: &ParseContext) -> Result<Message, EventError> {
    let call = object.get("type").and_then(Value::as_str).unwrap_or("track");
    let user_id = optional_id(object, "userId")?;
    let anonymous_id = optional_id(object, "anonymousId")?;

    if call == "identify" || call == "alias" {
        let user_id = user_id.ok_or_else(|| EventError::new("userId", "is required"))?;
        let anonymous_id = anonymous_id
            .or(optional_id(object, "previousId")?)
            .ok_or_else(|| EventError::new("anonymousId", "is required to identify"))?;
        return Ok(Message::Identify { user_id, anonymous_id });
    }

    let properties = optional_object(object, "properties")?;
    let message_id = optional_id(object, "messageId")?.unwrap_or_else(new_event_id);
    let (timestamp_ms, clamped_timestamp) = timestamp(object.get("timestamp"), ctx)?;
    let session_id = optional_id(&properties, "session_id")?;
    let template = Event {
        event_id: message_id,
        user_id,
        anonymous_id,
        session_id,
        event_type: EventType::View,
        content_id: String::new(),
        timestamp_ms,
        received_at_ms: ctx.received_at_ms,
        value: None,
        categories: Vec::new(),
        properties: Map::new(),
    };

    let name = match call {
        "page" | "screen" => "Page Viewed",
        _ => required_str(object, "event")?,
    };
    let events = match name {
        "Order Completed" => order_lines(&template, &properties)?,
        _ => match segment_single(name, &template, &properties)? {
            Some(event) => vec![event],
            None => return Ok(Message::Ignored),
        },
    };
    Ok(Message::Events { events, clamped_timestamp })
}

/// Maps one Segment track or page call onto a canonical event; `None` for events we ignore.
fn segment_single(
    name: &str,
    template: &Event,
    properties: &Map<String, Value>,
) -> Result<Option<Event>, EventError> {
    let (event_type, value) = match name {
        "Product Viewed" | "Product Clicked" | "Page Viewed" => (EventType::View, None),
        "Product Added" => (EventType::AddToCart, None),
        "Product Removed" => (EventType::RemoveFromCart, None),
        "Product Added to Wishlist" | "Product Liked" => (EventType::Like, None),
        "Product Reviewed" | "Product Rated" => {
            let rating = optional_number(properties.get("rating"), "properties.rating")?
                .ok_or_else(|| EventError::new("properties.rating", "is required for a rating"))?;
            (EventType::Rating, Some(rating))
        }
        "Video Content Playing" | "Video Playback Heartbeat" => {
            let seconds = match optional_number(properties.get("seconds"), "properties.seconds")? {
                Some(seconds) => seconds,
                None => optional_number(
                    properties.get("heartbeat_seconds"),
                    "properties.heartbeat_seconds",
                )?
                .unwrap_or(DEFAULT_HEARTBEAT_SECONDS),
            };
            (EventType::Watch, Some(seconds))
        }
        _ => return Ok(None),
    };

    let content_id = segment_content_id(properties, name == "Page Viewed")?;
    let event = Event {
        event_type,
        content_id,
        value,
        categories: categories_from(properties.get("category"), "properties.category")?,
        properties: properties.clone(),
        ..template.clone()
    };
    validate(event, "properties").map(Some)
}

/// One purchase event per line item of a Segment `Order Completed`.
fn order_lines(
    template: &Event,
    properties: &Map<String, Value>,
) -> Result<Vec<Event>, EventError> {
    let products = properties
        .get("products")
        .and_then(Value::as_array)
        .ok_or_else(|| EventError::new("properties.products", "must be a list of products"))?;
    if products.is_empty() {
        return Err(EventError::new("properties.products", "is empty"));
    }

    let mut events = Vec::with_capacity(products.len());
    for (line, product) in products.iter().enumerate() {
        let field = format!("properties.products[{line}]");
        let product =
            product.as_object().ok_or_else(|| EventError::new(&field, "not an object"))?;
        let content_id = segment_content_id(product, false)
            .map_err(|e| EventError::new(&format!("{field}.{}", e.field), e.reason))?;
        let quantity = optional_number(product.get("quantity"), &format!("{field}.quantity"))?;
        let event = Event {
            // Stable per line, so a retried order is still recognised as a duplicate.
            event_id: format!("{}:{line}", template.event_id),
            event_type: EventType::Purchase,
            content_id,
            value: Some(quantity.unwrap_or(1.0)),
            categories: categories_from(product.get("category"), &format!("{field}.category"))?,
            properties: product.clone(),
            ..template.clone()
        };
        events.push(validate(event, &format!("{field}.quantity"))?);
    }
    Ok(events)
}

fn segment_content_id(properties: &Map<String, Value>, page: bool) -> Result<String, EventError> {
    let keys: &[&str] = if page {
        &["content_id", "product_id", "path", "url"]
    } else {
        &["product_id", "content_id", "sku", "id", "asset_id"]
    };
    for key in keys {
        if let Some(value) = properties.get(*key) {
            return id_value(Some(value), key);
        }
    }
    Err(EventError::new("product_id", "is required (or `content_id`, `sku`, `id`)"))
}

/// Checks the cross-field invariants of [`Event`].
fn validate(mut event: Event, value_field: &str) -> Result<Event, EventError> {
    if event.user_id.is_none() && event.anonymous_id.is_none() {
        return Err(EventError::new("user_id", "one of `user_id` and `anonymous_id` is required"));
    }

    match event.event_type {
        EventType::Rating => match event.value {
            None => return Err(EventError::new(value_field, "a rating needs a value")),
            Some(v) if !(0.0..=10.0).contains(&v) => {
                return Err(EventError::new(value_field, "a rating must lie in 0..=10"))
            }
            Some(_) => {}
        },
        EventType::Watch | EventType::Purchase => {
            if event.value.is_some_and(|v| v < 0.0) {
                return Err(EventError::new(value_field, "must not be negative"));
            }
            if event.event_type == EventType::Purchase && event.value.is_none() {
                event.value = Some(1.0);
            }
        }
        _ => {}
    }
    Ok(event)
}

fn type_list() -> String {
    EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

fn required_str<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, EventError> {
    match object.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(EventError::new(field, "must not be empty")),
        Some(_) => Err(EventError::new(field, "must be a string")),
        None => Err(EventError::new(field, "is required")),
    }
}

fn optional_object(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Map<String, Value>, EventError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(EventError::new(field, "must be an object")),
    }
}

fn optional_id(object: &Map<String, Value>, field: &str) -> Result<Option<String>, EventError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        value => id_value(value, field).map(Some),
    }
}

/// An identifier: a non-empty string, or an integer (written in decimal).
fn id_value(value: Option<&Value>, field: &str) -> Result<String, EventError> {
    let id = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(Value::Null) | None => return Err(EventError::new(field, "is required")),
        Some(_) => return Err(EventError::new(field, "must be a string or an integer")),
    };
    check_id(&id, field)?;
    Ok(id)
}

/// Rules every identifier follows, whatever its source.
pub fn check_id(id: &str, field: &str) -> Result<(), EventError> {
    if id.is_empty() {
        return Err(EventError::new(field, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(EventError::new(field, format!("longer than {MAX_ID_LEN} bytes")));
    }
    if id.chars().any(char::is_control) {
        return Err(EventError::new(field, "contains a control character"));
    }
    Ok(())
}

fn optional_number(value: Option<&Value>, field: &str) -> Result<Option<f64>, EventError> {
    let number = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(EventError::new(field, "must be a finite number")),
    }
}

/// Categories from a string (`a|b` splits) or a list of strings; repeats are dropped.
fn categories_from(value: Option<&Value>, field: &str) -> Result<Vec<String>, EventError> {
    let mut categories: Vec<String> = Vec::new();
    let mut push = |name: &str| -> Result<(), EventError> {
        let name = name.trim();
        if !name.is_empty() && !categories.iter().any(|c| c == name) {
            check_id(name, field)?;
            categories.push(name.to_owned());
        }
        Ok(())
    };
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => s.split('|').try_for_each(&mut push)?,
        Some(Value::Number(n)) => push(&n.to_string())?,
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => push(s)?,
                    Value::Number(n) => push(&n.to_string())?,
                    _ => return Err(EventError::new(field, "must hold strings")),
                }
            }
        }
        Some(_) => return Err(EventError::new(field, "must be a string or a list of strings")),
    }
    if categories.len() > MAX_CATEGORIES_PER_CONTENT {
        return Err(EventError::new(
            field,
            format!("more than {MAX_CATEGORIES_PER_CONTENT} categories"),
        ));
    }
    Ok(categories)
}

/// Event time from epoch milliseconds or RFC 3339; absent means the receive time.
///
/// Returns the time and whether it was clamped because it lay too far in the future.
fn timestamp(value: Option<&Value>, ctx: &ParseContext) -> Result<(i64, bool), EventError> {
    let ms = match value {
        None | Some(Value::Null) => return Ok((ctx.received_at_ms, false)),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 9e15).map(|f| f as i64))
            .ok_or_else(|| EventError::new("timestamp", "epoch milliseconds out of range"))?,
        Some(Value::String(s)) => parse_time(s)?,
        Some(_) => {
            return Err(EventError::new("timestamp", "must be epoch milliseconds or RFC 3339"))
        }
    };
    if ms < 0 {
        return Err(EventError::new("timestamp", "before 1970"));
    }
    if ms > ctx.received_at_ms.saturating_add(ctx.max_future_ms) {
        return Ok((ctx.received_at_ms, true));
    }
    Ok((ms, false))
}

/// Parses an RFC 3339 time, or a decimal string of epoch milliseconds.
pub fn parse_time(text: &str) -> Result<i64, EventError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| EventError::new("timestamp", format!("not RFC 3339 ({e})")))?;
    Ok((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A fresh random event id, for clients that send none.
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// One row of the canonical CSV form, `event_id,user_id,content_id,type,timestamp,value,category`.
#[derive(Debug, Clone, Copy)]
pub struct CsvRecord<'a> {
    /// `event_id` column.
    pub event_id: &'a str,
    /// `user_id` column.
    pub user_id: &'a str,
    /// `content_id` column.
    pub content_id: &'a str,
    /// `type` column.
    pub event_type: &'a str,
    /// `timestamp` column (epoch ms).
    pub timestamp: &'a str,
    /// `value` column, possibly empty.
    pub value: &'a str,
    /// `category` column, possibly empty.
    pub category: &'a str,
}

/// Validates one canonical CSV row into an event.
pub fn parse_csv_record(record: &CsvRecord<'_>, received_at_ms: i64) -> Result<Event, EventError> {
    check_id(record.event_id, "event_id")?;
    check_id(record.user_id, "user_id")?;
    check_id(record.content_id, "content_id")?;
    let event_type: EventType =
        record.event_type.parse().map_err(|e: crate::event::UnknownEventType| {
            EventError::new("type", format!("{e}; expected one of {}", type_list()))
        })?;
    let timestamp_ms = record
        .timestamp
        .parse::<i64>()
        .map_err(|_| EventError::new("timestamp", "must be integer epoch milliseconds"))?;
    let value = if record.value.is_empty() {
        None
    } else {
        let v = record.value.parse::<f64>().ok().filter(|v| v.is_finite());
        Some(v.ok_or_else(|| EventError::new("value", "must be a finite number"))?)
    };
    let categories = if record.category.is_empty() {
        Vec::new()
    } else {
        check_id(record.category, "category")?;
        vec![record.category.to_owned()]
    };

    let event = Event {
        event_id: record.event_id.to_owned(),
        user_id: Some(record.user_id.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: record.content_id.to_owned(),
        timestamp_ms,
        received_at_ms,
        value,
        categories,
        properties: Map::new(),
    };
    validate(event, "value")
}

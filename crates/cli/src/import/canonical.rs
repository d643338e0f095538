//! The canonical forms (CSV and JSON lines) and Segment's track / page / identify calls.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::bail;
use centroid_core::parse::{parse_json, CsvRecord, Message, ParseContext};
use centroid_core::{ContentItem, Event};
use serde_json::Value;

use super::{canonical_event, csv_reader, next_row, Disconnected, Sink};

const CSV_COLUMNS: [&str; 7] =
    ["event_id", "user_id", "content_id", "type", "timestamp", "value", "category"];

/// Columns that may be absent from the header (they are then empty on every row).
const OPTIONAL_COLUMNS: [&str; 2] = ["value", "category"];

/// `event_id,user_id,content_id,type,timestamp,value,category`, columns found by header name.
pub(super) fn parse_csv(
    input: Box<dyn BufRead>,
    sink: &mut Sink,
) -> anyhow::Result<Result<(), Disconnected>> {
    let mut reader = csv_reader(input, true);
    let headers = reader.headers()?.clone();
    let mut positions = [usize::MAX; 7];
    for (slot, name) in positions.iter_mut().zip(CSV_COLUMNS) {
        match headers.iter().position(|h| h.trim() == name) {
            Some(i) => *slot = i,
            None if OPTIONAL_COLUMNS.contains(&name) => {}
            None => bail!("the header has no `{name}` column (expected {})", CSV_COLUMNS.join(",")),
        }
    }

    let mut record = csv::StringRecord::new();
    while let Some(line) = next_row(&mut reader, &mut record, sink)? {
        let mut fields = [""; 7];
        let mut complete = true;
        for (value, &i) in fields.iter_mut().zip(&positions) {
            if i != usize::MAX {
                match record.get(i) {
                    Some(text) => *value = text,
                    None => complete = false,
                }
            }
        }
        if !complete {
            sink.reject(line, format!("expected {} fields, found {}", headers.len(), record.len()));
            continue;
        }
        let row = CsvRecord {
            event_id: fields[0],
            user_id: fields[1],
            content_id: fields[2],
            event_type: fields[3],
            timestamp: fields[4],
            value: fields[5],
            category: fields[6],
        };
        match canonical_event(&row, sink) {
            Ok(event) => {
                if !sink.knows_content(&event.content_id) {
                    sink.derived_content(content_of(&event));
                }
                if sink.event(event).is_err() {
                    return Ok(Err(Disconnected));
                }
            }
            Err(reason) => sink.reject(line, reason),
        }
    }
    Ok(Ok(()))
}

/// One JSON object per line, canonical or Segment-shaped (told apart per line).
pub(super) fn parse_jsonl(
    mut input: Box<dyn BufRead>,
    sink: &mut Sink,
) -> anyhow::Result<Result<(), Disconnected>> {
    let ctx = ParseContext::at(sink.received_at_ms);
    // Identifies seen so far: later anonymous-only events of these ids belong to the user.
    let mut links: HashMap<String, String> = HashMap::new();
    let mut buffer = Vec::new();
    let mut line = 0u64;
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        line += 1;
        let text = match std::str::from_utf8(&buffer) {
            Ok(text) => text.trim(),
            Err(_) => {
                sink.row();
                sink.reject(line, "not valid UTF-8");
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        sink.row();
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => {
                sink.reject(line, format!("not JSON: {e}"));
                continue;
            }
        };
        match parse_json(&value, &ctx) {
            Ok(Message::Events { events, .. }) => {
                for mut event in events {
                    if event.user_id.is_none() {
                        let linked = event.anonymous_id.as_ref().and_then(|a| links.get(a));
                        event.user_id = linked.cloned();
                    }
                    if !sink.knows_content(&event.content_id) {
                        sink.derived_content(content_of(&event));
                    }
                    if sink.event(event).is_err() {
                        return Ok(Err(Disconnected));
                    }
                }
            }
            Ok(Message::Identify { user_id, anonymous_id }) => {
                sink.ignored();
                links.insert(anonymous_id.clone(), user_id.clone());
                sink.merge(anonymous_id, user_id);
            }
            Ok(Message::Ignored) => sink.ignored(),
            Err(e) => sink.reject(line, e.to_string()),
        }
    }
    Ok(Ok(()))
}

/// A catalogue entry from what an event says about its content: categories, and the usual
/// e-commerce properties (`name` or `title`, `price`, `url`, `image_url`) when present.
fn content_of(event: &Event) -> ContentItem {
    let mut item = ContentItem::new(event.content_id.clone());
    item.categories = event.categories.clone();
    let text = |key: &str| event.properties.get(key).and_then(Value::as_str).map(str::to_owned);
    item.title = text("name").or_else(|| text("title"));
    item.url = text("url");
    item.image_url = text("image_url");
    item.price = event.properties.get("price").and_then(Value::as_f64);
    if item.validate().is_err() {
        // A bad price or URL in one event must not cost the entry; keep what is certain.
        item.title = None;
        item.price = None;
        item.url = None;
        item.image_url = None;
    }
    item
}

//! Taobao `UserBehavior.csv`: `user_id,item_id,category_id,behavior_type,timestamp`, no header,
//! timestamps in seconds.
//!
//! The event id is the row itself (`tb:{user}:{item}:{behavior}:{timestamp}`), since the file
//! has none: re-importing a file adds nothing, and two identical rows count as one event (the
//! second is reported as a duplicate). The log has one-second resolution, so a real repeat
//! within the same second cannot be told apart from a repeated row; we prefer idempotent
//! re-imports.

use std::io::BufRead;

use centroid_core::parse::CsvRecord;
use centroid_core::ContentItem;

use super::{canonical_event, csv_reader, field, next_row, Disconnected, Sink};

const N_FIELDS: usize = 5;

pub(super) fn parse(
    input: Box<dyn BufRead>,
    sink: &mut Sink,
) -> anyhow::Result<Result<(), Disconnected>> {
    let mut reader = csv_reader(input, false);
    let mut record = csv::StringRecord::new();
    let mut event_id = String::new();
    let mut timestamp = String::new();
    while let Some(line) = next_row(&mut reader, &mut record, sink)? {
        match row_event(&record, sink, &mut event_id, &mut timestamp) {
            Ok(event) => {
                if !sink.knows_content(&event.content_id) {
                    let mut item = ContentItem::new(event.content_id.clone());
                    item.categories = event.categories.clone();
                    sink.derived_content(item);
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

fn row_event(
    record: &csv::StringRecord,
    sink: &Sink,
    event_id: &mut String,
    timestamp: &mut String,
) -> Result<centroid_core::Event, String> {
    if record.len() != N_FIELDS {
        return Err(format!("expected {N_FIELDS} fields, found {}", record.len()));
    }
    let user_id = field(record, 0, N_FIELDS)?;
    let item_id = field(record, 1, N_FIELDS)?;
    let category_id = field(record, 2, N_FIELDS)?;
    let behavior = field(record, 3, N_FIELDS)?;
    let seconds = field(record, 4, N_FIELDS)?;

    let event_type = match behavior {
        "pv" => "view",
        "cart" => "add_to_cart",
        "fav" => "like",
        "buy" => "purchase",
        other => return Err(format!("`behavior_type`: unknown behaviour `{other}`")),
    };
    let seconds: i64 =
        seconds.parse().map_err(|_| "`timestamp`: must be integer seconds".to_owned())?;
    let ms = seconds.checked_mul(1000).ok_or("`timestamp`: out of range")?;

    use std::fmt::Write;
    event_id.clear();
    let _ = write!(event_id, "tb:{user_id}:{item_id}:{behavior}:{seconds}");
    timestamp.clear();
    let _ = write!(timestamp, "{ms}");
    let row = CsvRecord {
        event_id,
        user_id,
        content_id: item_id,
        event_type,
        timestamp,
        value: "",
        category: category_id,
    };
    canonical_event(&row, sink)
}

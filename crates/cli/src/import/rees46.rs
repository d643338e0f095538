//! REES46 "eCommerce behavior data from multi category store": `event_time,event_type,
//! product_id,category_id,category_code,brand,price,user_id,user_session`, with a header.
//!
//! The category is `category_code` (a dotted taxonomy), or `category_id` where the code is
//! empty. Brand and price go to the catalogue entry, which is created from the first event of
//! each product (a later price change does not overwrite it). The event id is
//! `r46:{user}:{product}:{type}:{time_ms}:{session}`: the file has none, and identical rows
//! (which the file contains) then count once, while two sessions acting at the same second
//! stay two events.

use std::io::BufRead;

use anyhow::bail;
use centroid_core::parse::CsvRecord;
use centroid_core::{ContentItem, Event};
use serde_json::Value;

use super::{canonical_event, csv_reader, next_row, Disconnected, Sink};

const COLUMNS: [&str; 9] = [
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
];

pub(super) fn parse(
    input: Box<dyn BufRead>,
    sink: &mut Sink,
) -> anyhow::Result<Result<(), Disconnected>> {
    let mut reader = csv_reader(input, true);
    let headers = reader.headers()?.clone();
    let mut positions = [0usize; 9];
    for (slot, name) in positions.iter_mut().zip(COLUMNS) {
        match headers.iter().position(|h| h.trim() == name) {
            Some(i) => *slot = i,
            None => bail!("the header has no `{name}` column (expected {})", COLUMNS.join(",")),
        }
    }

    let mut record = csv::StringRecord::new();
    let mut scratch = Scratch::default();
    while let Some(line) = next_row(&mut reader, &mut record, sink)? {
        let mut fields = [""; 9];
        let mut complete = true;
        for (value, &i) in fields.iter_mut().zip(&positions) {
            match record.get(i) {
                Some(text) => *value = text,
                None => complete = false,
            }
        }
        if !complete {
            sink.reject(line, format!("expected {} fields, found {}", headers.len(), record.len()));
            continue;
        }
        match row_event(&fields, sink, &mut scratch) {
            Ok((event, price)) => {
                if !sink.knows_content(&event.content_id) {
                    sink.derived_content(content_of(&event, &fields, price));
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

#[derive(Default)]
struct Scratch {
    event_id: String,
    timestamp: String,
}

fn row_event(
    fields: &[&str; 9],
    sink: &Sink,
    scratch: &mut Scratch,
) -> Result<(Event, Option<f64>), String> {
    let [time, event_type, product_id, category_id, category_code, _brand, price, user_id, session] =
        *fields;
    let ms = parse_utc(time)
        .ok_or_else(|| format!("`event_time`: `{time}` is not `YYYY-MM-DD HH:MM:SS UTC`"))?;
    let canonical_type = match event_type {
        "view" => "view",
        "cart" => "add_to_cart",
        "remove_from_cart" => "remove_from_cart",
        "purchase" => "purchase",
        other => return Err(format!("`event_type`: unknown type `{other}`")),
    };
    let price = match price.trim() {
        "" => None,
        text => match text.parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Some(p),
            _ => return Err(format!("`price`: `{text}` is not a non-negative number")),
        },
    };
    let category = if category_code.is_empty() { category_id } else { category_code };

    use std::fmt::Write;
    scratch.event_id.clear();
    let _ = write!(scratch.event_id, "r46:{user_id}:{product_id}:{event_type}:{ms}:{session}");
    scratch.timestamp.clear();
    let _ = write!(scratch.timestamp, "{ms}");
    let row = CsvRecord {
        event_id: &scratch.event_id,
        user_id,
        content_id: product_id,
        event_type: canonical_type,
        timestamp: &scratch.timestamp,
        value: "",
        category,
    };
    let mut event = canonical_event(&row, sink)?;
    event.session_id = (!session.is_empty()).then(|| session.to_owned());
    Ok((event, price))
}

fn content_of(event: &Event, fields: &[&str; 9], price: Option<f64>) -> ContentItem {
    let mut item = ContentItem::new(event.content_id.clone());
    item.categories = event.categories.clone();
    item.price = price;
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            item.attributes.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    };
    put("brand", fields[5]);
    put("category_id", fields[3]);
    put("category_code", fields[4]);
    item
}

/// Parses `YYYY-MM-DD HH:MM:SS` with an optional ` UTC` suffix into epoch milliseconds.
fn parse_utc(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix("UTC").map(str::trim_end).unwrap_or(text);
    let (date, time) = text.split_once(' ')?;
    let mut date_parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
    let mut time_parts = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (time_parts.next()??, time_parts.next()??, time_parts.next()??);
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !valid || !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_utc;

    #[test]
    fn event_times_are_utc_epoch_ms() {
        assert_eq!(parse_utc("1970-01-01 00:00:00 UTC"), Some(0));
        // 2019-10-01T00:00:00Z, from `date -u -d 2019-10-01 +%s`.
        assert_eq!(parse_utc("2019-10-01 00:00:00 UTC"), Some(1_569_888_000_000));
        assert_eq!(parse_utc("2019-10-01 02:50:00 UTC"), Some(1_569_898_200_000));
        assert_eq!(parse_utc("2020-02-29 12:00:01"), Some(1_582_977_601_000));
        assert_eq!(parse_utc("2019-13-01 00:00:00 UTC"), None);
        assert_eq!(parse_utc("yesterday"), None);
    }
}

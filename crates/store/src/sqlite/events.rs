//! The event log: appends (idempotent by `event_id`) and ordered reads.

use std::collections::HashMap;

use centroid_core::{Event, EventType};
use rusqlite::{Connection, OptionalExtension, Row, Statement};
use serde_json::{Map, Value};

use super::{add_meta, meta, set_meta};
use crate::{AppendOutcome, StoreError, StoredEvent};

/// Separator of a multi-category list in the `categories` column. Identifiers cannot hold
/// control characters (`centroid_core::parse::check_id`), so it never appears in a category.
const CATEGORY_SEPARATOR: char = '\u{1f}';

const COLUMNS: &str = "seq, event_id, user_id, anonymous_id, type, content_id, ts, received, \
                       value, categories, session_id, properties";

/// Refuses, before any write, events the schema cannot represent faithfully.
pub(super) fn check(events: &[Event]) -> Result<(), StoreError> {
    for event in events {
        if event.event_id.is_empty() {
            return Err(StoreError::Invalid("an event has an empty `event_id`".into()));
        }
        if event.user_id.is_none() && event.anonymous_id.is_none() {
            return Err(StoreError::Invalid(format!(
                "event `{}` has neither `user_id` nor `anonymous_id`",
                event.event_id
            )));
        }
        if event.categories.iter().any(|c| c.contains(CATEGORY_SEPARATOR)) {
            return Err(StoreError::Invalid(format!(
                "event `{}` has a category with a control character",
                event.event_id
            )));
        }
    }
    Ok(())
}

// One row per event costs three B-tree inserts (the table, the `event_id` unique index and the
// actor index), two of them at random keys; that bounds bulk imports to about 10^5 events/s on
// two cores. The block layout that would lift it, behind the same trait, is described in
// docs/benchmarks.md ("Import"); it needs an issue before it is started.
pub(super) fn append(
    conn: &Connection,
    events: &[Event],
) -> Result<Vec<AppendOutcome>, StoreError> {
    let mut next_seq = meta(conn, "next_seq")?;
    let has_links: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM identities)", [], |row| row.get(0))?;
    let mut links: HashMap<&str, Option<String>> = HashMap::new();
    let mut link_stmt =
        conn.prepare_cached("SELECT user_id FROM identities WHERE anonymous_id = ?1")?;

    let mut insert = conn.prepare_cached(
        "INSERT INTO events (seq, event_id, user_id, anonymous_id, type, content_id, ts, \
         received, value, categories, session_id, properties) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
         ON CONFLICT (event_id) DO NOTHING",
    )?;
    let mut joined = String::new();
    let mut outcomes = Vec::with_capacity(events.len());
    for event in events {
        let mut resolved: Option<String> = None;
        if event.user_id.is_none() && has_links {
            if let Some(anonymous_id) = event.anonymous_id.as_deref() {
                resolved = match links.get(anonymous_id) {
                    Some(linked) => linked.clone(),
                    None => {
                        let linked: Option<String> =
                            link_stmt.query_row([anonymous_id], |row| row.get(0)).optional()?;
                        links.insert(anonymous_id, linked.clone());
                        linked
                    }
                };
            }
        }
        let user_id = event.user_id.as_deref().or(resolved.as_deref());

        let categories = match event.categories.as_slice() {
            [] => None,
            [one] => Some(one.as_str()),
            many => {
                joined.clear();
                for (i, category) in many.iter().enumerate() {
                    if i > 0 {
                        joined.push(CATEGORY_SEPARATOR);
                    }
                    joined.push_str(category);
                }
                Some(joined.as_str())
            }
        };
        let properties = if event.properties.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&event.properties).expect("a JSON map always serialises"))
        };

        bind(&mut insert, next_seq, event, user_id, categories, properties.as_deref())?;
        let changed = insert.raw_execute()?;
        if changed == 1 {
            outcomes.push(AppendOutcome::Accepted { seq: next_seq });
            next_seq += 1;
        } else {
            outcomes.push(AppendOutcome::Duplicate);
        }
    }

    let accepted = outcomes.iter().filter(|o| o.seq().is_some()).count() as i64;
    set_meta(conn, "next_seq", next_seq)?;
    add_meta(conn, "events", accepted)?;
    Ok(outcomes)
}

fn bind(
    insert: &mut Statement<'_>,
    seq: i64,
    event: &Event,
    user_id: Option<&str>,
    categories: Option<&str>,
    properties: Option<&str>,
) -> rusqlite::Result<()> {
    insert.raw_bind_parameter(1, seq)?;
    insert.raw_bind_parameter(2, &event.event_id)?;
    insert.raw_bind_parameter(3, user_id)?;
    insert.raw_bind_parameter(4, event.anonymous_id.as_deref())?;
    insert.raw_bind_parameter(5, event.event_type.index() as i64)?;
    insert.raw_bind_parameter(6, &event.content_id)?;
    insert.raw_bind_parameter(7, event.timestamp_ms)?;
    insert.raw_bind_parameter(8, event.received_at_ms)?;
    insert.raw_bind_parameter(9, event.value)?;
    insert.raw_bind_parameter(10, categories)?;
    insert.raw_bind_parameter(11, event.session_id.as_deref())?;
    insert.raw_bind_parameter(12, properties)?;
    Ok(())
}

pub(super) fn since(
    conn: &Connection,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map((after_seq, limit), read_row)?;
    collect(rows)
}

pub(super) fn of_user(
    conn: &Connection,
    user_id: &str,
    after_seq: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events \
         WHERE coalesce(user_id, anonymous_id) = ?1 AND seq > ?2 ORDER BY seq"
    ))?;
    let rows = stmt.query_map((user_id, after_seq), read_row)?;
    collect(rows)
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<Result<StoredEvent, StoreError>>>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = Vec::new();
    for row in rows {
        events.push(row??);
    }
    Ok(events)
}

/// Reads one row; the outer error is SQLite's, the inner one a row that is not a valid event.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<StoredEvent, StoreError>> {
    let seq: i64 = row.get(0)?;
    let type_idx: i64 = row.get(4)?;
    let Some(&event_type) = usize::try_from(type_idx).ok().and_then(|i| EventType::ALL.get(i))
    else {
        return Ok(Err(StoreError::corrupt("events", format!("seq {seq}: event type {type_idx}"))));
    };
    let categories: Option<String> = row.get(9)?;
    let properties: Option<String> = row.get(11)?;
    let properties = match properties.as_deref().map(serde_json::from_str::<Map<String, Value>>) {
        None => Map::new(),
        Some(Ok(map)) => map,
        Some(Err(e)) => {
            return Ok(Err(StoreError::corrupt("events", format!("seq {seq}: properties: {e}"))))
        }
    };

    let event = Event {
        event_id: row.get(1)?,
        user_id: row.get(2)?,
        anonymous_id: row.get(3)?,
        session_id: row.get(10)?,
        event_type,
        content_id: row.get(5)?,
        timestamp_ms: row.get(6)?,
        received_at_ms: row.get(7)?,
        value: row.get(8)?,
        categories: categories
            .map(|c| c.split(CATEGORY_SEPARATOR).map(str::to_owned).collect())
            .unwrap_or_default(),
        properties,
    };
    Ok(Ok(StoredEvent { seq, event }))
}

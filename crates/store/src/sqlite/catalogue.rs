//! The content catalogue.

use centroid_core::ContentItem;
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::now_ms;
use crate::{ContentStatus, StoreError};

const COLUMNS: &str = "content_id, title, categories, price, url, image_url, attributes, active";

pub(super) fn check(items: &[ContentItem]) -> Result<(), StoreError> {
    for item in items {
        item.validate()
            .map_err(|e| StoreError::Invalid(format!("content `{}`: {e}", item.content_id)))?;
    }
    Ok(())
}

struct Encoded {
    categories: String,
    attributes: Option<String>,
}

fn encode(item: &ContentItem) -> Encoded {
    Encoded {
        categories: serde_json::to_string(&item.categories).expect("strings always serialise"),
        attributes: (!item.attributes.is_empty()).then(|| {
            serde_json::to_string(&item.attributes).expect("a JSON map always serialises")
        }),
    }
}

pub(super) fn upsert(conn: &Connection, items: &[ContentItem]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO content (content_id, title, categories, price, url, image_url, attributes, \
         active, deleted, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9) \
         ON CONFLICT (content_id) DO UPDATE SET title = excluded.title, \
         categories = excluded.categories, price = excluded.price, url = excluded.url, \
         image_url = excluded.image_url, attributes = excluded.attributes, \
         active = excluded.active, deleted = 0, updated_at = excluded.updated_at",
    )?;
    let now = now_ms();
    for item in items {
        let encoded = encode(item);
        stmt.execute(rusqlite::params![
            item.content_id,
            item.title,
            encoded.categories,
            item.price,
            item.url,
            item.image_url,
            encoded.attributes,
            item.active,
            now
        ])?;
    }
    Ok(())
}

pub(super) fn ensure(conn: &Connection, items: &[ContentItem]) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO content (content_id, title, categories, price, url, image_url, attributes, \
         active, deleted, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9) \
         ON CONFLICT (content_id) DO NOTHING",
    )?;
    let now = now_ms();
    let mut inserted = 0;
    for item in items {
        let encoded = encode(item);
        inserted += stmt.execute(rusqlite::params![
            item.content_id,
            item.title,
            encoded.categories,
            item.price,
            item.url,
            item.image_url,
            encoded.attributes,
            item.active,
            now
        ])? as u64;
    }
    Ok(inserted)
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<ContentItem, StoreError>> {
    let content_id: String = row.get(0)?;
    let categories: String = row.get(2)?;
    let attributes: Option<String> = row.get(6)?;
    let categories = match serde_json::from_str::<Vec<String>>(&categories) {
        Ok(categories) => categories,
        Err(e) => return Ok(Err(StoreError::corrupt("content", format!("`{content_id}`: {e}")))),
    };
    let attributes = match attributes.as_deref().map(serde_json::from_str::<Map<String, Value>>) {
        None => Map::new(),
        Some(Ok(map)) => map,
        Some(Err(e)) => {
            return Ok(Err(StoreError::corrupt("content", format!("`{content_id}`: {e}"))))
        }
    };
    Ok(Ok(ContentItem {
        title: row.get(1)?,
        categories,
        price: row.get(3)?,
        url: row.get(4)?,
        image_url: row.get(5)?,
        attributes,
        active: row.get(7)?,
        content_id,
    }))
}

pub(super) fn get(conn: &Connection, content_ids: &[&str]) -> Result<Vec<ContentItem>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM content WHERE content_id = ?1 AND deleted = 0"
    ))?;
    let mut items = Vec::with_capacity(content_ids.len());
    for &content_id in content_ids {
        if let Some(item) = stmt.query_row([content_id], read_row).optional()? {
            items.push(item?);
        }
    }
    Ok(items)
}

pub(super) fn list(
    conn: &Connection,
    after: &str,
    limit: usize,
) -> Result<Vec<ContentItem>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM content WHERE content_id > ?1 AND deleted = 0 \
         ORDER BY content_id LIMIT ?2"
    ))?;
    let mut items = Vec::new();
    for item in stmt.query_map((after, limit), read_row)? {
        items.push(item??);
    }
    Ok(items)
}

pub(super) fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 =
        conn.query_row("SELECT count(*) FROM content WHERE deleted = 0", [], |row| row.get(0))?;
    Ok(n as u64)
}

pub(super) fn delete(conn: &Connection, content_id: &str) -> Result<bool, StoreError> {
    // The tombstone keeps only the id: the entry's data is gone, and `ensure` cannot revive it.
    let changed = conn
        .prepare_cached(
            "UPDATE content SET title = NULL, categories = '[]', price = NULL, url = NULL, \
         image_url = NULL, attributes = NULL, active = 0, deleted = 1, updated_at = ?2 \
         WHERE content_id = ?1 AND deleted = 0",
        )?
        .execute((content_id, now_ms()))?;
    Ok(changed > 0)
}

pub(super) fn set_active(
    conn: &Connection,
    content_id: &str,
    active: bool,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE content SET active = ?2, updated_at = ?3 \
             WHERE content_id = ?1 AND deleted = 0",
        )?
        .execute((content_id, active, now_ms()))?;
    Ok(changed > 0)
}

pub(super) fn status(
    conn: &Connection,
    content_ids: &[&str],
) -> Result<Vec<ContentStatus>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT active, deleted FROM content WHERE content_id = ?1")?;
    let mut statuses = Vec::with_capacity(content_ids.len());
    for &content_id in content_ids {
        let row: Option<(bool, bool)> =
            stmt.query_row([content_id], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
        statuses.push(match row {
            Some((_, true)) | None => ContentStatus::Missing,
            Some((true, false)) => ContentStatus::Active,
            Some((false, false)) => ContentStatus::Inactive,
        });
    }
    Ok(statuses)
}

pub(super) fn hidden(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT content_id FROM content WHERE active = 0 OR deleted = 1 ORDER BY content_id",
    )?;
    let ids = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

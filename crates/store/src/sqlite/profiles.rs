//! Identity links, profile merges and deletions.

use centroid_core::UserState;
use rusqlite::{Connection, OptionalExtension};

use super::{add_meta, now_ms, read_watermark, states};
use crate::{DeletedCounts, MergeOutcome, StoreError};

pub(super) fn merge(
    conn: &Connection,
    anonymous_id: &str,
    user_id: &str,
) -> Result<MergeOutcome, StoreError> {
    let existing = linked_user(conn, anonymous_id)?;
    match existing.as_deref() {
        Some(linked) if linked != user_id => {
            return Err(StoreError::Conflict(format!(
                "anonymous id `{anonymous_id}` is already merged into another user"
            )))
        }
        Some(_) => {}
        None => {
            conn.execute(
                "INSERT INTO identities (anonymous_id, user_id, linked_at) VALUES (?1, ?2, ?3)",
                (anonymous_id, user_id, now_ms()),
            )?;
        }
    }

    // The `coalesce` term lets the update use the `events_actor` index.
    let events_moved = conn.execute(
        "UPDATE events SET user_id = ?2 \
         WHERE coalesce(user_id, anonymous_id) = ?1 AND user_id IS NULL",
        (anonymous_id, user_id),
    )? as u64;

    let anonymous_state = states::load_one(conn, anonymous_id)?;
    let state_merged = anonymous_state.is_some();
    if let Some(anonymous_state) = anonymous_state {
        let mut merged: UserState = states::load_one(conn, user_id)?.unwrap_or_default();
        merged.merge(&anonymous_state);
        conn.execute(
            "INSERT INTO user_states (user_id, state) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET state = excluded.state",
            (user_id, merged.encode()),
        )?;
        conn.execute("DELETE FROM user_states WHERE user_id = ?1", [anonymous_id])?;
    }
    conn.execute("DELETE FROM predictions WHERE user_id = ?1", [anonymous_id])?;

    let changed = existing.is_none() || events_moved > 0 || state_merged;
    if changed {
        add_meta(conn, "generation", 1)?;
    }
    Ok(MergeOutcome { events_moved, state_merged, watermark: read_watermark(conn)? })
}

pub(super) fn linked_user(
    conn: &Connection,
    anonymous_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT user_id FROM identities WHERE anonymous_id = ?1")?
        .query_row([anonymous_id], |row| row.get(0))
        .optional()?)
}

pub(super) fn delete(conn: &Connection, profile_id: &str) -> Result<DeletedCounts, StoreError> {
    let events = conn
        .execute("DELETE FROM events WHERE coalesce(user_id, anonymous_id) = ?1", [profile_id])?
        as u64;
    let states = conn.execute("DELETE FROM user_states WHERE user_id = ?1", [profile_id])? as u64;
    let predictions =
        conn.execute("DELETE FROM predictions WHERE user_id = ?1", [profile_id])? as u64;
    let identity_links = conn
        .execute("DELETE FROM identities WHERE anonymous_id = ?1 OR user_id = ?1", [profile_id])?
        as u64;

    add_meta(conn, "events", -(events as i64))?;
    if events + states + predictions + identity_links > 0 {
        add_meta(conn, "generation", 1)?;
    }
    Ok(DeletedCounts { events, states, predictions, identity_links })
}

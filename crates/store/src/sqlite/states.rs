//! Per-profile reducer states and the watermark that says which events they hold.

use centroid_core::{ReducerState, UserState};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension};

use super::{meta, read_watermark, set_meta};
use crate::{SaveMode, StoreError, Watermark};

fn decode(user_id: &str, bytes: &[u8]) -> Result<UserState, StoreError> {
    UserState::decode(bytes)
        .map_err(|e| StoreError::corrupt("user_states", format!("`{user_id}`: {e}")))
}

pub(super) fn load_all(conn: &Connection) -> Result<ReducerState, StoreError> {
    let mut stmt = conn.prepare("SELECT user_id, state FROM user_states")?;
    let mut rows = stmt.query([])?;
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(row) = rows.next()? {
        let user_id: String = row.get(0)?;
        let bytes = row.get_ref(1)?.as_blob().map_err(|e| StoreError::corrupt("user_states", e))?;
        blobs.push((user_id, bytes.to_vec()));
    }

    // Decoding allocates every content id of every profile; it is the bulk of the load and
    // each profile decodes on its own.
    let decoded: Vec<(String, UserState)> = blobs
        .into_par_iter()
        .map(|(user_id, bytes)| decode(&user_id, &bytes).map(|state| (user_id, state)))
        .collect::<Result<_, _>>()?;
    let mut state = ReducerState::without_dedup();
    for (user_id, user) in decoded {
        state.insert_user(&user_id, user);
    }
    Ok(state)
}

pub(super) fn load_one(conn: &Connection, user_id: &str) -> Result<Option<UserState>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT state FROM user_states WHERE user_id = ?1")?;
    let bytes: Option<Vec<u8>> = stmt.query_row([user_id], |row| row.get(0)).optional()?;
    bytes.map(|bytes| decode(user_id, &bytes)).transpose()
}

pub(super) fn load_many(
    conn: &Connection,
    user_ids: &[&str],
) -> Result<Vec<(String, UserState)>, StoreError> {
    let mut states = Vec::new();
    for &user_id in user_ids {
        if let Some(state) = load_one(conn, user_id)? {
            states.push((user_id.to_owned(), state));
        }
    }
    Ok(states)
}

pub(super) fn save(
    conn: &Connection,
    states: &[(&str, &UserState)],
    new_seq: i64,
    expected: Watermark,
    mode: SaveMode,
) -> Result<Watermark, StoreError> {
    let current = read_watermark(conn)?;
    if current != expected {
        return Err(StoreError::Conflict(format!(
            "the states moved to watermark {} (generation {}) since they were read at {} \
             (generation {})",
            current.seq, current.generation, expected.seq, expected.generation
        )));
    }
    let last_seq = meta(conn, "next_seq")? - 1;
    if new_seq < expected.seq || new_seq > last_seq {
        return Err(StoreError::Invalid(format!(
            "watermark {new_seq} outside {}..={last_seq}",
            expected.seq
        )));
    }

    if mode == SaveMode::ReplaceAll {
        conn.execute("DELETE FROM user_states", [])?;
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO user_states (user_id, state) VALUES (?1, ?2) \
         ON CONFLICT (user_id) DO UPDATE SET state = excluded.state",
    )?;
    for (user_id, state) in states {
        upsert.execute((user_id, state.encode()))?;
    }
    set_meta(conn, "watermark", new_seq)?;
    Ok(Watermark { seq: new_seq, generation: current.generation })
}

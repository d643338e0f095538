//! The SQLite backend: one database file in WAL mode, with versioned migrations from
//! `crates/store/migrations/sqlite/`.
//!
//! One writer connection behind a mutex runs every write in a `BEGIN IMMEDIATE` transaction;
//! reads use a small pool of other connections, which WAL lets run while a write is in
//! progress. Other processes may open the same file: SQLite's file locks serialise their
//! writes, and `busy_timeout` makes a writer wait for the lock instead of failing.
//!
//! Durability: `synchronous = FULL` by default. In WAL mode `NORMAL` skips the fsync of the WAL
//! on each commit, so a power loss (not a process crash) can lose the last commits; since a
//! write here is an acknowledgement that the data is kept, `FULL` is the default. A commit then
//! costs one fsync, which bulk imports amortise over a large batch.

mod catalogue;
mod events;
mod models;
mod profiles;
mod states;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use centroid_core::UserState;
use centroid_core::{ClusterView, ContentItem, Event, ModelVersion, ReducerState, UserPrediction};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use crate::{
    AppendOutcome, ContentStatus, DeletedCounts, MergeOutcome, ModelSummary, SaveMode, Store,
    StoreError, StoredEvent, Watermark,
};

/// The schema migrations, in order; a file's position is its version.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_initial.sql")];

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// `synchronous = FULL` (true, the default) or `NORMAL`. See the module docs before
    /// turning it off: with `NORMAL`, a power loss can lose acknowledged writes.
    pub synchronous_full: bool,
    /// Page cache of the writer connection, in MiB. Bulk appends stay fast while the indexes'
    /// hot pages fit.
    pub writer_cache_mib: u32,
    /// Page cache of each reader connection, in MiB.
    pub reader_cache_mib: u32,
    /// How long to wait for another connection's lock before failing.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous_full: true,
            writer_cache_mib: 256,
            reader_cache_mib: 32,
            busy_timeout: Duration::from_secs(30),
        }
    }
}

/// Page size of new databases; larger pages mean fewer B-tree splits on bulk appends.
const PAGE_SIZE: u32 = 8192;

/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with explicit options.
    #[tracing::instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = Connection::open(&path)?;
        // Only effective on a new, empty file; existing databases keep their page size.
        writer.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "`{}` cannot use WAL mode (journal mode is `{mode}`)",
                path.display()
            )));
        }
        configure(&writer, &options, options.writer_cache_mib)?;

        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        let before: i64 = writer.pragma_query_value(None, "user_version", |row| row.get(0))?;
        migrations.to_latest(&mut writer).map_err(|e| StoreError::Migration(e.to_string()))?;
        let after: i64 = writer.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if after != before {
            tracing::info!(from = before, to = after, "database schema migrated");
        }

        Ok(SqliteStore { path, options, writer: Mutex::new(writer), readers: Mutex::new(vec![]) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database (the number of applied migrations).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?))
    }

    /// Number of migrations this build knows.
    pub fn latest_schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    /// Runs `f` in one immediate (write-locking) transaction and commits it.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in one read transaction, so that it sees a single snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.readers).pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let value = f(&tx)?;
            tx.finish()?;
            Ok(value)
        })();

        let mut readers = lock(&self.readers);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open(&self.path)?;
        configure(&conn, &self.options, self.options.reader_cache_mib)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }
}

fn configure(conn: &Connection, options: &SqliteOptions, cache_mib: u32) -> Result<(), StoreError> {
    conn.busy_timeout(options.busy_timeout)?;
    let synchronous = if options.synchronous_full { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // A negative cache_size is in KiB.
    conn.pragma_update(None, "cache_size", -(i64::from(cache_mib) * 1024))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Locks a mutex; a panic in another thread while holding it leaves the connection usable
/// (its open transaction was rolled back when the guard's owner unwound).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn meta(conn: &Connection, key: &str) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::corrupt("meta", format!("missing key `{key}`")))
}

fn set_meta(conn: &Connection, key: &str, value: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")?.execute((key, value))?;
    Ok(())
}

fn add_meta(conn: &Connection, key: &str, delta: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE meta SET value = value + ?2 WHERE key = ?1")?
        .execute((key, delta))?;
    Ok(())
}

fn read_watermark(conn: &Connection) -> Result<Watermark, StoreError> {
    Ok(Watermark { seq: meta(conn, "watermark")?, generation: meta(conn, "generation")? })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Store for SqliteStore {
    fn append_events(&self, events: &[Event]) -> Result<Vec<AppendOutcome>, StoreError> {
        events::check(events)?;
        self.write(|tx| events::append(tx, events))
    }

    fn events_since(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(|conn| events::since(conn, after_seq, limit))
    }

    fn user_events(&self, user_id: &str, after_seq: i64) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(|conn| events::of_user(conn, user_id, after_seq))
    }

    fn count_events(&self) -> Result<u64, StoreError> {
        self.read(|conn| Ok(meta(conn, "events")?.max(0) as u64))
    }

    fn last_seq(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(meta(conn, "next_seq")? - 1))
    }

    fn watermark(&self) -> Result<Watermark, StoreError> {
        self.read(read_watermark)
    }

    fn load_states(&self) -> Result<ReducerState, StoreError> {
        self.read(states::load_all)
    }

    fn user_state(&self, user_id: &str) -> Result<Option<UserState>, StoreError> {
        self.read(|conn| states::load_one(conn, user_id))
    }

    fn user_states(&self, user_ids: &[&str]) -> Result<Vec<(String, UserState)>, StoreError> {
        self.read(|conn| states::load_many(conn, user_ids))
    }

    fn save_states(
        &self,
        states: &[(&str, &UserState)],
        new_seq: i64,
        expected: Watermark,
        mode: SaveMode,
    ) -> Result<Watermark, StoreError> {
        self.write(|tx| states::save(tx, states, new_seq, expected, mode))
    }

    fn upsert_content(&self, items: &[ContentItem]) -> Result<(), StoreError> {
        catalogue::check(items)?;
        self.write(|tx| catalogue::upsert(tx, items))
    }

    fn ensure_content(&self, items: &[ContentItem]) -> Result<u64, StoreError> {
        catalogue::check(items)?;
        self.write(|tx| catalogue::ensure(tx, items))
    }

    fn content(&self, content_ids: &[&str]) -> Result<Vec<ContentItem>, StoreError> {
        self.read(|conn| catalogue::get(conn, content_ids))
    }

    fn list_content(&self, after: &str, limit: usize) -> Result<Vec<ContentItem>, StoreError> {
        self.read(|conn| catalogue::list(conn, after, limit))
    }

    fn count_content(&self) -> Result<u64, StoreError> {
        self.read(catalogue::count)
    }

    fn delete_content(&self, content_id: &str) -> Result<bool, StoreError> {
        self.write(|tx| catalogue::delete(tx, content_id))
    }

    fn set_content_active(&self, content_id: &str, active: bool) -> Result<bool, StoreError> {
        self.write(|tx| catalogue::set_active(tx, content_id, active))
    }

    fn content_status(&self, content_ids: &[&str]) -> Result<Vec<ContentStatus>, StoreError> {
        self.read(|conn| catalogue::status(conn, content_ids))
    }

    fn hidden_content(&self) -> Result<Vec<String>, StoreError> {
        self.read(catalogue::hidden)
    }

    fn publish_model(
        &self,
        model: &ModelVersion,
        predictions: &[UserPrediction],
        view: &ClusterView,
    ) -> Result<i64, StoreError> {
        models::check(model, predictions, view)?;
        self.write(|tx| models::publish(tx, model, predictions, view))
    }

    fn current_model(&self) -> Result<Option<ModelVersion>, StoreError> {
        self.read(|conn| models::get(conn, None))
    }

    fn model(&self, version: i64) -> Result<Option<ModelVersion>, StoreError> {
        self.read(|conn| models::get(conn, Some(version)))
    }

    fn list_models(&self) -> Result<Vec<ModelSummary>, StoreError> {
        self.read(models::list)
    }

    fn user_prediction(&self, user_id: &str) -> Result<Option<(i64, UserPrediction)>, StoreError> {
        self.read(|conn| models::user_prediction(conn, user_id))
    }

    fn predictions(&self, version: i64) -> Result<Vec<UserPrediction>, StoreError> {
        self.read(|conn| models::predictions(conn, version))
    }

    fn view(&self, version: i64) -> Result<Option<ClusterView>, StoreError> {
        self.read(|conn| models::view(conn, version))
    }

    fn merge_profiles(
        &self,
        anonymous_id: &str,
        user_id: &str,
    ) -> Result<MergeOutcome, StoreError> {
        if anonymous_id == user_id {
            return Err(StoreError::Invalid("cannot merge a profile into itself".into()));
        }
        self.write(|tx| profiles::merge(tx, anonymous_id, user_id))
    }

    fn linked_user(&self, anonymous_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|conn| profiles::linked_user(conn, anonymous_id))
    }

    fn delete_profile(&self, profile_id: &str) -> Result<DeletedCounts, StoreError> {
        self.write(|tx| profiles::delete(tx, profile_id))
    }

    fn integrity_check(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let findings: Vec<String> =
            stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
        if findings.len() == 1 && findings[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::corrupt("database", findings.join("; ")))
    }
}

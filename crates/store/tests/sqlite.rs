//! The conformance suite and the SQLite-specific checks (migrations, file handling).

use centroid_store::conformance::Harness;
use centroid_store::{SqliteStore, Store};

/// A fresh database file in its own temporary directory.
struct SqliteHarness {
    dir: tempfile::TempDir,
}

impl SqliteHarness {
    fn new() -> Self {
        SqliteHarness { dir: tempfile::tempdir().expect("temporary directory") }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("centroid.db")
    }
}

impl Harness for SqliteHarness {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(self.path()).expect("open the test database"))
    }
}

centroid_store::store_conformance_tests!(SqliteHarness::new());

#[test]
fn migrations_run_on_a_fresh_file_and_are_idempotent() {
    let harness = SqliteHarness::new();

    let first = SqliteStore::open(harness.path()).unwrap();
    let version = first.schema_version().unwrap();
    first
        .append_events(&[centroid_store::conformance::event(
            "e1",
            "u1",
            "c1",
            centroid_core::EventType::View,
            1,
        )])
        .unwrap();
    drop(first);
    let second = SqliteStore::open(harness.path()).unwrap();

    assert_eq!(version, SqliteStore::latest_schema_version());
    assert_eq!(second.schema_version().unwrap(), version);
    assert_eq!(second.count_events().unwrap(), 1);
    second.integrity_check().unwrap();
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let harness = SqliteHarness::new();
    drop(SqliteStore::open(harness.path()).unwrap());
    let conn = rusqlite::Connection::open(harness.path()).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);

    let reopened = SqliteStore::open(harness.path());

    assert!(matches!(reopened, Err(centroid_store::StoreError::Migration(_))), "{reopened:?}");
}

#[test]
fn the_file_uses_wal_and_full_sync() {
    let harness = SqliteHarness::new();
    drop(SqliteStore::open(harness.path()).unwrap());

    let conn = rusqlite::Connection::open(harness.path()).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();

    assert_eq!(mode, "wal");
}

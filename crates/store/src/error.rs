//! The store's one error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite library reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought to the current version.
    #[error("schema migration failed: {0}")]
    Migration(String),
    /// Stored data could not be read back.
    #[error("corrupt data in `{table}`: {detail}")]
    Corrupt {
        /// Where the bad data lies.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The requested object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write was refused because the data changed since the caller read it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input cannot be stored as given.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A file-system operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt { table, detail: detail.to_string() }
    }
}

//! The crate's error type.

use std::path::Path;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The input holds no usable event.
    #[error("no events to evaluate")]
    NoEvents,
    /// More events or categories than the compact records can index.
    #[error("too many events or categories ({0}) for one evaluation")]
    TooLarge(usize),
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A malformed CSV file.
    #[error("`{path}`: {message}")]
    Csv {
        /// The file.
        path: String,
        /// What the CSV reader said.
        message: String,
    },
    /// A row the protocol cannot use.
    #[error("`{file}` line {line}: {reason}")]
    Row {
        /// The file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// Why it is refused.
        reason: String,
    },
    /// A rated movie without any genre (protocol section 1 stops here).
    #[error("item `{item}` has no genre; every rated movie needs at least one")]
    NoGenres {
        /// The item id.
        item: String,
    },
    /// An option value the evaluation cannot use.
    #[error("invalid option `{option}`: {reason}")]
    Option {
        /// The option.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// K-means refused the data.
    #[error("k-means with K = {k}")]
    KMeans {
        /// The number of clusters asked for.
        k: usize,
        /// The cause.
        #[source]
        source: centroid_kmeans::KMeansError,
    },
    /// Writing a result file failed.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
}

impl EvalError {
    pub(crate) fn csv(path: &Path, error: csv::Error) -> Self {
        EvalError::Csv { path: path.display().to_string(), message: error.to_string() }
    }
}

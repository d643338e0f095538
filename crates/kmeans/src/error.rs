//! The one error type of the crate.

/// Everything that can go wrong when building a data view, validating parameters, fitting or
/// predicting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KMeansError {
    /// The data has no rows.
    #[error("the data set is empty")]
    EmptyData,
    /// The data has rows but no columns.
    #[error("the data has no columns")]
    NoColumns,
    /// The buffer length does not match the declared shape.
    #[error("data of length {len} cannot be viewed as {n_rows} rows of {n_cols} columns")]
    Shape {
        /// Length of the buffer.
        len: usize,
        /// Declared number of rows.
        n_rows: usize,
        /// Declared number of columns.
        n_cols: usize,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value {value} at row {row}, column {column}")]
    NonFinite {
        /// Row of the first non-finite value (0-based).
        row: usize,
        /// Column of the first non-finite value (0-based).
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// `n_clusters` is zero.
    #[error("`n_clusters` must be at least 1")]
    ZeroClusters,
    /// There are fewer distinct points than clusters.
    #[error(
        "`n_clusters` is {n_clusters} but the data has only {n_distinct} distinct points; \
         choose a smaller K"
    )]
    TooManyClusters {
        /// Requested number of clusters.
        n_clusters: usize,
        /// Number of distinct points found.
        n_distinct: usize,
    },
    /// `n_init` is zero.
    #[error("`n_init` must be at least 1")]
    ZeroRestarts,
    /// `max_iter` is zero.
    #[error("`max_iter` must be at least 1")]
    ZeroMaxIter,
    /// `tol` is negative or not finite.
    #[error("`tol` must be finite and non-negative, got {0}")]
    InvalidTolerance(f64),
    /// `n_threads` is zero.
    #[error("`n_threads` must be at least 1")]
    ZeroThreads,
    /// `sample` is smaller than the number of clusters.
    #[error("`sample` ({sample}) must be at least `n_clusters` ({n_clusters})")]
    SampleTooSmall {
        /// Requested sample size.
        sample: usize,
        /// Requested number of clusters.
        n_clusters: usize,
    },
    /// Initial centres (or previous centres) do not have the expected shape.
    #[error("centres of length {len} do not form {n_clusters} rows of {n_features} features")]
    CentresShape {
        /// Length of the centre buffer.
        len: usize,
        /// Expected number of centres.
        n_clusters: usize,
        /// Expected number of features.
        n_features: usize,
    },
    /// A point given to prediction has the wrong number of features.
    #[error("point has {found} features, the model has {expected}")]
    Dimension {
        /// Features of the model.
        expected: usize,
        /// Features of the point.
        found: usize,
    },
    /// `select_k` got an empty list of K values.
    #[error("no K values to try")]
    NoKValues,
    /// The silhouette sample must hold at least two points.
    #[error("`silhouette_sample` must be at least 2, got {0}")]
    SilhouetteSample(usize),
    /// The local thread pool could not be built.
    #[error("cannot build a thread pool of {n_threads} threads: {message}")]
    ThreadPool {
        /// Requested threads.
        n_threads: usize,
        /// The pool builder's message.
        message: String,
    },
}

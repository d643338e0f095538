//! Centroid's batch pipeline: fold new events into the stored reducer states, build features,
//! fit K-means (with stable cluster ids), predict every user's cluster, build the
//! cluster-content view and publish the model version atomically.
//!
//! [`train::train`] is the pure part (no I/O); [`run`] wires it to a store.

pub mod assign;
pub mod profile;
pub mod recommend;
pub mod run;
pub mod train;

pub use assign::{Placement, Placer};
pub use profile::{cluster_profiles, ClusterProfile, FeatureContrast};
pub use recommend::{consumed_items, select, Recommendation, Selection, DEFAULT_CONSUMED};
pub use run::{
    current_user_state, fold_pending, run_training, NoProgress, Progress, RunOptions, TrainReport,
};
pub use train::{train, KChoice, KSelection, TrainParams, Trained};

/// Why a pipeline run failed. A failed run publishes nothing; the current model keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// There is nobody to cluster yet.
    #[error("no users with events to train on")]
    NoUsers,
    /// K-means refused its input or parameters.
    #[error("k-means: {0}")]
    KMeans(#[from] centroid_kmeans::KMeansError),
    /// Reading or publishing failed.
    #[error("store: {0}")]
    Store(#[from] centroid_store::StoreError),
}

//! A trained model version: everything needed to place a new visitor and to explain clusters.

use serde::{Deserialize, Serialize};

use crate::features::{FeatureSpec, Scaler};

/// One published model. Stored as a whole; readers see one version or the next, never a mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// Increasing version number, assigned by the store on publish.
    pub version: i64,
    /// Training end time, epoch ms.
    pub trained_at_ms: i64,
    /// Number of clusters.
    pub k: usize,
    /// How events become features.
    pub spec: FeatureSpec,
    /// Scaling fitted on the training users.
    pub scaler: Scaler,
    /// Cluster centres in scaled feature space, row-major `k × n_features`.
    pub centres: Vec<f32>,
    /// Sum of squared distances of training users to their centre.
    pub inertia: f64,
    /// Sampled silhouette score, when computed.
    pub silhouette: Option<f64>,
    /// Training users per cluster.
    pub cluster_sizes: Vec<usize>,
    /// Training users.
    pub n_users: usize,
    /// Events folded into the training state.
    pub n_events: u64,
    /// Whether K-means converged before its iteration limit.
    pub converged: bool,
    /// Seed of the K-means initialisation.
    pub seed: u64,
}

impl ModelVersion {
    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.spec.n_features()
    }

    /// Centre of one cluster.
    pub fn centre(&self, cluster: usize) -> &[f32] {
        let d = self.n_features();
        &self.centres[cluster * d..(cluster + 1) * d]
    }
}

/// A user's cluster as predicted by a model.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPrediction {
    /// The profile.
    pub user_id: String,
    /// Its cluster.
    pub cluster: u32,
    /// Euclidean distance to the cluster's centre, in scaled feature space.
    pub distance: f32,
}

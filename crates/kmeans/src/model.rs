//! The fitted model and prediction.

use std::time::Duration;

use crate::kernel::{assign_all, sq_dist, Centres};
use crate::{KMeansError, Matrix};

/// A fitted (or loaded) K-means model.
#[derive(Debug, Clone)]
pub struct KMeans {
    pub(crate) centres: Vec<f32>,
    pub(crate) n_clusters: usize,
    pub(crate) n_features: usize,
    pub(crate) labels: Vec<u32>,
    pub(crate) inertia: f64,
    pub(crate) n_iter: usize,
    pub(crate) converged: bool,
    pub(crate) cluster_sizes: Vec<usize>,
    pub(crate) init_duration: Duration,
}

/// Where a point falls: its nearest cluster and the runner-up.
///
/// Distances are Euclidean (not squared).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// Id of the nearest cluster (the lowest id on a tie).
    pub cluster: u32,
    /// Euclidean distance to the nearest centre.
    pub distance: f32,
    /// Second-nearest cluster and its Euclidean distance; `None` when K = 1.
    pub runner_up: Option<(u32, f32)>,
}

impl KMeans {
    /// A prediction-only model from saved centres (`n_clusters × n_features`, row-major).
    ///
    /// It carries no training data: `labels` is empty, `cluster_sizes` are zeros, `inertia`
    /// and `n_iter` are 0 and `converged` is true.
    pub fn from_centres(
        centres: Vec<f32>,
        n_clusters: usize,
        n_features: usize,
    ) -> Result<Self, KMeansError> {
        if n_clusters == 0 {
            return Err(KMeansError::ZeroClusters);
        }
        if n_features == 0 || n_clusters.checked_mul(n_features) != Some(centres.len()) {
            return Err(KMeansError::CentresShape { len: centres.len(), n_clusters, n_features });
        }
        if let Some(position) = centres.iter().position(|value| !value.is_finite()) {
            return Err(KMeansError::NonFinite {
                row: position / n_features,
                column: position % n_features,
                value: centres[position],
            });
        }
        Ok(Self {
            centres,
            n_clusters,
            n_features,
            labels: Vec::new(),
            inertia: 0.0,
            n_iter: 0,
            converged: true,
            cluster_sizes: vec![0; n_clusters],
            init_duration: Duration::ZERO,
        })
    }

    /// All centres, `n_clusters × n_features` in row-major order; row `j` is cluster `j`.
    pub fn centres(&self) -> &[f32] {
        &self.centres
    }

    /// The centre of cluster `cluster`.
    ///
    /// # Panics
    ///
    /// Panics if `cluster >= n_clusters`.
    pub fn centre(&self, cluster: usize) -> &[f32] {
        &self.centres[cluster * self.n_features..(cluster + 1) * self.n_features]
    }

    /// Number of clusters K.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// Number of features per point.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The cluster of every training point, consistent with the final centres.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Sum over the training points of the squared Euclidean distance to their centre.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations run by the kept restart.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether the kept restart met the convergence rule before `max_iter`.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Number of training points in each cluster.
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.cluster_sizes
    }

    /// Time spent choosing initial centres, summed over the restarts.
    pub fn init_duration(&self) -> Duration {
        self.init_duration
    }

    /// The nearest cluster of one point, and the runner-up.
    ///
    /// Fails if the point has the wrong number of features or a non-finite value.
    pub fn predict(&self, point: &[f32]) -> Result<Assignment, KMeansError> {
        self.check_width(point.len())?;
        if let Some(column) = point.iter().position(|value| !value.is_finite()) {
            return Err(KMeansError::NonFinite { row: 0, column, value: point[column] });
        }
        let mut best = (0u32, f32::INFINITY);
        let mut second: Option<(u32, f32)> = None;
        for j in 0..self.n_clusters {
            let d2 = sq_dist(point, self.centre(j));
            if d2 < best.1 {
                if best.1.is_finite() {
                    second = Some(best);
                }
                best = (j as u32, d2);
            } else if second.is_none_or(|(_, s)| d2 < s) {
                second = Some((j as u32, d2));
            }
        }
        Ok(Assignment {
            cluster: best.0,
            distance: best.1.sqrt(),
            runner_up: second.map(|(j, d2)| (j, d2.sqrt())),
        })
    }

    /// The nearest cluster of every row, computed in parallel with the fused kernel.
    ///
    /// Fails if the rows have the wrong number of features. Rows are not checked for
    /// non-finite values.
    pub fn predict_all(&self, data: Matrix<'_>) -> Result<Vec<u32>, KMeansError> {
        if data.n_rows() == 0 {
            return Ok(Vec::new());
        }
        self.check_width(data.n_cols())?;
        let shift = centre_mean(&self.centres, self.n_features);
        let centres = Centres::new(self.centres.clone(), self.n_clusters, self.n_features, &shift);
        Ok(assign_all(data, &centres, &shift).0)
    }

    fn check_width(&self, found: usize) -> Result<(), KMeansError> {
        if found == self.n_features {
            Ok(())
        } else {
            Err(KMeansError::Dimension { expected: self.n_features, found })
        }
    }
}

/// The mean of the centres, used as the shift of the fused kernel at prediction time.
fn centre_mean(centres: &[f32], d: usize) -> Vec<f32> {
    let k = centres.len() / d;
    let mut sums = vec![0.0f64; d];
    for row in centres.chunks_exact(d) {
        sums.iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
    }
    sums.iter().map(|s| (s / k as f64) as f32).collect()
}

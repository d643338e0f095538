//! K-means cluster popularity (`cluster-pop`) and its two smoothed forms (`blend-pop`,
//! `blend-lift`), protocol sections 7.2 to 7.4.

use centroid_kmeans::{fit, KMeans, KMeansParams, Matrix};

use crate::dataset::Dataset;
use crate::protocol::Weights;
use crate::split::Fold;
use crate::EvalError;

/// The grid of `blend-pop`'s pseudo-count m, scanned in this order.
pub const BLEND_POP_GRID: [f64; 10] =
    [0.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0];

/// The grid of `blend-lift`'s pseudo-count a, scanned in this order.
pub const BLEND_LIFT_GRID: [f64; 9] = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0];

/// K-means settings of the protocol: n_init 4, seed 0, at most 300 iterations, tol 1e-4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansSettings {
    /// Restarts.
    pub n_init: usize,
    /// Seed.
    pub seed: u64,
    /// Iteration limit per restart.
    pub max_iter: usize,
    /// Relative tolerance.
    pub tol: f64,
}

impl Default for KMeansSettings {
    fn default() -> Self {
        KMeansSettings { n_init: 4, seed: 0, max_iter: 300, tol: 1e-4 }
    }
}

/// Users grouped by K-means.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Number of clusters.
    pub k: usize,
    /// Cluster of each user (`u32::MAX` for a user without train events).
    pub labels: Vec<u32>,
    /// The fitted model (centres in the standardised feature space).
    pub model: KMeans,
}

impl Clustering {
    /// Members per cluster.
    pub fn sizes(&self) -> &[usize] {
        self.model.cluster_sizes()
    }
}

/// Fits K-means with `k` clusters to standardised rows (`n_rows × n_cols`) of the given users.
pub fn cluster_users(
    rows: &[f32],
    row_users: &[u32],
    n_users: usize,
    k: usize,
    settings: KMeansSettings,
) -> Result<Clustering, EvalError> {
    let n_cols = if row_users.is_empty() { 0 } else { rows.len() / row_users.len() };
    let kmeans_error = |source| EvalError::KMeans { k, source };
    let matrix = Matrix::new(rows, row_users.len(), n_cols).map_err(kmeans_error)?;
    let params = KMeansParams::new(k)
        .n_init(settings.n_init)
        .seed(settings.seed)
        .max_iter(settings.max_iter)
        .tol(settings.tol)
        .check()
        .map_err(kmeans_error)?;
    let model = fit(&params, matrix).map_err(kmeans_error)?;
    let mut labels = vec![u32::MAX; n_users];
    for (&user, &label) in row_users.iter().zip(model.labels()) {
        labels[user as usize] = label;
    }
    Ok(Clustering { k, labels, model })
}

/// c_{k,i}: the summed weight of the train events on item i by members of cluster k.
pub fn cluster_counts(
    data: &Dataset,
    fold: &Fold,
    labels: &[u32],
    k: usize,
    weights: &Weights,
) -> Vec<Vec<f64>> {
    let mut counts = vec![vec![0.0; data.items.len()]; k];
    for (user, events) in fold.train.iter().enumerate() {
        let Some(cluster) = counts.get_mut(labels[user] as usize) else { continue };
        for &index in events {
            let event = &data.events[index as usize];
            cluster[event.item as usize] += weights.weight(event);
        }
    }
    counts
}

/// `blend-pop` scores of one cluster: G · c + m · g.
pub fn blend_pop(cluster: &[f64], popularity: &[f64], total: f64, m: f64) -> Vec<f64> {
    cluster.iter().zip(popularity).map(|(&c, &g)| total * c + m * g).collect()
}

/// `blend-lift` scores of one cluster: G (c + a) / (C g + a G), and 0 where g = 0.
pub fn blend_lift(cluster: &[f64], popularity: &[f64], total: f64, a: f64) -> Vec<f64> {
    let cluster_total: f64 = cluster.iter().sum();
    cluster
        .iter()
        .zip(popularity)
        .map(|(&c, &g)| {
            if g == 0.0 {
                return 0.0;
            }
            let numerator = total * (c + a);
            let denominator = cluster_total * g + a * total;
            numerator / denominator
        })
        .collect()
}

//! Choosing K: inertia and a sampled silhouette score for several values.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::kernel::sq_dist;
use crate::{fit, KMeansError, Matrix, ValidKMeansParams};

/// Scores of one K in [`select_k`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KScore {
    /// Number of clusters.
    pub k: usize,
    /// Inertia of the fit with this K.
    pub inertia: f64,
    /// Mean silhouette over the sampled points, in `[-1, 1]` (higher is better); `None` for
    /// K = 1, where it is undefined.
    pub silhouette: Option<f64>,
}

/// Fits each K in `ks` with the other parameters of `base` and scores it.
///
/// The silhouette is computed on at most `silhouette_sample` points drawn with `base`'s
/// seed (the same points for every K), with Euclidean distances among those points only.
/// Its cost is `O(sample² · d)` per K. A point alone in its cluster within the sample scores
/// 0, as in scikit-learn.
pub fn select_k(
    data: Matrix<'_>,
    ks: &[usize],
    base: &ValidKMeansParams,
    silhouette_sample: usize,
) -> Result<Vec<KScore>, KMeansError> {
    if ks.is_empty() {
        return Err(KMeansError::NoKValues);
    }
    if silhouette_sample < 2 {
        return Err(KMeansError::SilhouetteSample(silhouette_sample));
    }
    if data.n_rows() == 0 {
        return Err(KMeansError::EmptyData);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(base.seed());
    let sample_size = silhouette_sample.min(data.n_rows());
    let mut sample = rand::seq::index::sample(&mut rng, data.n_rows(), sample_size).into_vec();
    sample.sort_unstable();

    let mut scores = Vec::with_capacity(ks.len());
    for &k in ks {
        let params = base.with_n_clusters(k)?;
        let model = fit(&params, data)?;
        let silhouette = (k > 1).then(|| silhouette(data, &sample, model.labels(), k));
        tracing::debug!(k, inertia = model.inertia(), silhouette, "scored k");
        scores.push(KScore { k, inertia: model.inertia(), silhouette });
    }
    Ok(scores)
}

/// Mean silhouette of the sampled points under `labels`.
fn silhouette(data: Matrix<'_>, sample: &[usize], labels: &[u32], k: usize) -> f64 {
    let mut sample_counts = vec![0usize; k];
    for &i in sample {
        sample_counts[labels[i] as usize] += 1;
    }
    let total: f64 = sample
        .par_iter()
        .map(|&i| {
            let own = labels[i] as usize;
            if sample_counts[own] < 2 {
                return 0.0;
            }
            let mut distance_sums = vec![0.0f64; k];
            for &j in sample {
                if j != i {
                    let distance = f64::from(sq_dist(data.row(i), data.row(j))).sqrt();
                    distance_sums[labels[j] as usize] += distance;
                }
            }
            let within = distance_sums[own] / (sample_counts[own] - 1) as f64;
            let nearest_other = (0..k)
                .filter(|&c| c != own && sample_counts[c] > 0)
                .map(|c| distance_sums[c] / sample_counts[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if !nearest_other.is_finite() {
                return 0.0;
            }
            let scale = within.max(nearest_other);
            if scale > 0.0 {
                (nearest_other - within) / scale
            } else {
                0.0
            }
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    total / sample.len() as f64
}

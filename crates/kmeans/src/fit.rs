//! `fit`: validation, restarts, sampling and the thread pool.

use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::init::kmeans_plus_plus;
use crate::kernel::{assign_all, Centres};
use crate::lloyd::{lloyd, Run};
use crate::prepare::{check_finite, count_distinct_up_to, Prepared};
use crate::{Init, KMeans, KMeansError, Matrix, ValidKMeansParams};

/// Fits K-means to the rows of `data`.
///
/// Runs `n_init` restarts (one with explicit initial centres) and keeps the one with the
/// lowest inertia. The result depends on the seed only, not on the number of threads.
/// Hitting `max_iter` is not an error: the model then reports `converged() == false`.
///
/// Fails on empty data, a non-finite value (naming its row and column), initial centres of
/// the wrong shape, or fewer distinct points than clusters (in sampled mode: in the sample).
pub fn fit(params: &ValidKMeansParams, data: Matrix<'_>) -> Result<KMeans, KMeansError> {
    match params.n_threads() {
        None => fit_here(params, data),
        Some(n_threads) => {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n_threads).build().map_err(
                |error| KMeansError::ThreadPool { n_threads, message: error.to_string() },
            )?;
            pool.install(|| fit_here(params, data))
        }
    }
}

fn fit_here(params: &ValidKMeansParams, data: Matrix<'_>) -> Result<KMeans, KMeansError> {
    let (n, d) = (data.n_rows(), data.n_cols());
    let k = params.n_clusters();
    if n == 0 {
        return Err(KMeansError::EmptyData);
    }
    if let Init::Centres(centres) = params.init() {
        if centres.len() != k * d {
            return Err(KMeansError::CentresShape {
                len: centres.len(),
                n_clusters: k,
                n_features: d,
            });
        }
    }
    check_finite(data)?;

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(params.seed());
    let sample_rows = match params.sample() {
        Some(sample) if sample < n => Some(sample_rows(data, sample, &mut rng)),
        _ => None,
    };
    let train = match &sample_rows {
        Some(rows) => Matrix::new(rows, rows.len() / d, d)?,
        None => data,
    };
    let n_distinct = count_distinct_up_to(train, k);
    if n_distinct < k {
        return Err(KMeansError::TooManyClusters { n_clusters: k, n_distinct });
    }

    let prepared = Prepared::new(train);
    let tol_abs = params.tol() * prepared.mean_variance;
    let n_runs = match params.init() {
        Init::Centres(_) if params.n_init() > 1 => {
            tracing::warn!(n_init = params.n_init(), "explicit initial centres: one run only");
            1
        }
        Init::Centres(_) => 1,
        Init::KMeansPlusPlus => params.n_init(),
    };

    let mut init_duration = Duration::ZERO;
    let mut best: Option<Run> = None;
    for restart in 0..n_runs {
        let run_seed = rng.next_u64();
        let started = Instant::now();
        let initial = match params.init() {
            Init::Centres(centres) => centres.clone(),
            Init::KMeansPlusPlus => {
                let mut run_rng = Xoshiro256PlusPlus::seed_from_u64(run_seed);
                seed_centres(&prepared, k, &mut run_rng)
            }
        };
        init_duration += started.elapsed();

        let run = lloyd(&prepared, initial, k, params.max_iter(), tol_abs);
        tracing::debug!(
            restart,
            inertia = run.inertia,
            n_iter = run.n_iter,
            converged = run.converged,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "k-means restart finished"
        );
        if !run.converged {
            tracing::warn!(restart, max_iter = params.max_iter(), "k-means hit max_iter");
        }
        if best.as_ref().is_none_or(|kept| run.inertia < kept.inertia) {
            best = Some(run);
        }
    }
    let mut best = best.expect("n_init is at least 1");

    if sample_rows.is_some() {
        let centres = Centres::new(best.centres.clone(), k, d, &prepared.mean);
        let (labels, inertia) = assign_all(data, &centres, &prepared.mean);
        best.labels = labels;
        best.inertia = inertia;
    }
    let mut cluster_sizes = vec![0usize; k];
    for &label in &best.labels {
        cluster_sizes[label as usize] += 1;
    }
    Ok(KMeans {
        centres: best.centres,
        n_clusters: k,
        n_features: d,
        labels: best.labels,
        inertia: best.inertia,
        n_iter: best.n_iter,
        converged: best.converged,
        cluster_sizes,
        init_duration,
    })
}

/// k-means++ seeding runs on at most this many points per cluster (and at least
/// [`INIT_SAMPLE_MIN`] points) drawn uniformly; see the crate documentation.
const INIT_SAMPLE_PER_CLUSTER: usize = 1024;
const INIT_SAMPLE_MIN: usize = 100_000;

/// Greedy k-means++ on all points, or on a uniform sample of them when there are many.
///
/// The seeding makes one pass over its points per centre, which on millions of points costs
/// more than the Lloyd iterations; a sample of about a thousand points per cluster gives
/// seeds of the same quality (the iterations that follow use every point).
fn seed_centres(prepared: &Prepared<'_>, k: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    let data = prepared.data;
    let limit = (INIT_SAMPLE_PER_CLUSTER * k).max(INIT_SAMPLE_MIN);
    if data.n_rows() <= limit {
        return kmeans_plus_plus(prepared, k, rng);
    }
    let rows = sample_rows(data, limit, rng);
    let sample = Prepared {
        data: Matrix::new(&rows, limit, data.n_cols()).expect("the sample has `limit` full rows"),
        mean: prepared.mean.clone(),
        mean_variance: prepared.mean_variance,
    };
    kmeans_plus_plus(&sample, k, rng)
}

/// Copies `sample` distinct rows drawn uniformly, kept in their original order.
fn sample_rows(data: Matrix<'_>, sample: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    let mut indices = rand::seq::index::sample(rng, data.n_rows(), sample).into_vec();
    indices.sort_unstable();
    let mut rows = Vec::with_capacity(sample * data.n_cols());
    for i in indices {
        rows.extend_from_slice(data.row(i));
    }
    rows
}

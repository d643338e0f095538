//! Training on a folded state: features, K-means, predictions and the cluster-content view.
//!
//! Everything here is pure computation over a [`ReducerState`]; reading and publishing go
//! through the store in [`crate::run`].

use std::time::{Duration, Instant};

use centroid_core::features::{FeatureOptions, FeatureSpec, FeatureTable, Scaler};
use centroid_core::model::{ModelVersion, UserPrediction};
use centroid_core::reducer::ReducerState;
use centroid_core::view::{ClusterView, ViewParams};
use centroid_kmeans::{select_k, Init, KMeans, KMeansParams, KScore, Matrix};

use crate::PipelineError;

/// How many clusters to fit.
#[derive(Debug, Clone, PartialEq)]
pub enum KChoice {
    /// Exactly this many (reduced to the number of users when there are fewer).
    Fixed(usize),
    /// The candidate with the best sampled silhouette score.
    Auto(Vec<usize>),
}

impl KChoice {
    /// The default candidates of `-k auto`.
    pub fn auto() -> Self {
        KChoice::Auto(vec![2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32])
    }
}

/// Parameters of one training run.
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// Number of clusters, or how to choose it.
    pub k: KChoice,
    /// K-means seed.
    pub seed: u64,
    /// K-means restarts.
    pub n_init: usize,
    /// K-means iteration limit.
    pub max_iter: usize,
    /// K-means tolerance (relative to the mean feature variance, as scikit-learn).
    pub tol: f64,
    /// Start centres in scaled feature space, `k × n_features` (overrides k-means++).
    pub init_centres: Option<Vec<f32>>,
    /// Feature options for fitting the spec.
    pub features: FeatureOptions,
    /// Cluster-content view parameters.
    pub view: ViewParams,
    /// Points used for the silhouette score.
    pub silhouette_sample: usize,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            k: KChoice::auto(),
            seed: 0,
            n_init: 4,
            max_iter: 300,
            tol: 1e-4,
            init_centres: None,
            features: FeatureOptions::default(),
            view: ViewParams::default(),
            silhouette_sample: 2_000,
        }
    }
}

/// What a training run produced, ready to publish.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model (its `version` is assigned by the store on publish).
    pub model: ModelVersion,
    /// One prediction per training user.
    pub predictions: Vec<UserPrediction>,
    /// The cluster-content view.
    pub view: ClusterView,
    /// Raw and scaled features of the training users.
    pub features: FeatureTable,
    /// The K-selection evidence, when K was chosen automatically.
    pub k_selection: Option<KSelection>,
    /// K-means iterations of the final fit.
    pub n_iter: usize,
    /// Seconds per stage: features, kmeans, predict, view.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Why `-k auto` chose its K.
#[derive(Debug, Clone, PartialEq)]
pub struct KSelection {
    /// Scores of every candidate.
    pub scores: Vec<KScore>,
    /// The chosen K.
    pub chosen: usize,
    /// One sentence saying why.
    pub reason: String,
}

/// Trains a model on a folded state.
///
/// With `previous`, cluster ids are matched to the previous model's centres (translated into
/// the new feature space), so a cluster that did not move keeps its id.
pub fn train(
    state: &ReducerState,
    params: &TrainParams,
    previous: Option<&ModelVersion>,
) -> Result<Trained, PipelineError> {
    if state.n_users() == 0 {
        return Err(PipelineError::NoUsers);
    }
    let mut timings = Vec::new();

    let started = Instant::now();
    let spec = FeatureSpec::fit(state, &params.features);
    let features = FeatureTable::build(state, &spec);
    let data = features.scaled_f32();
    let n_users = features.users.len();
    let matrix = Matrix::new(&data, n_users, spec.n_features())?;
    timings.push(("features", started.elapsed()));

    let started = Instant::now();
    let base = KMeansParams::new(1)
        .seed(params.seed)
        .n_init(params.n_init)
        .max_iter(params.max_iter)
        .tol(params.tol);
    let (k, k_selection) = choose_k(matrix, params, &base)?;
    let mut kmeans_params = base.n_clusters(k);
    if let Some(centres) = &params.init_centres {
        kmeans_params = kmeans_params.init(Init::Centres(centres.clone()));
    }
    let mut kmeans = centroid_kmeans::fit(&kmeans_params.check()?, matrix)?;
    if let Some(previous) = previous {
        let translated = translate_centres(previous, &spec, &features.scaler);
        kmeans.relabel_to_match(&translated, previous.k)?;
    }
    timings.push(("kmeans", started.elapsed()));

    let started = Instant::now();
    let predictions = predictions(&kmeans, matrix, &features.users)?;
    let silhouette = k_selection
        .as_ref()
        .and_then(|s| s.scores.iter().find(|score| score.k == k))
        .and_then(|score| score.silhouette);
    timings.push(("predict", started.elapsed()));

    let started = Instant::now();
    let labels = kmeans.labels();
    let view = ClusterView::build(
        state,
        k,
        |user_id| {
            features.users.binary_search_by(|u| u.as_str().cmp(user_id)).ok().map(|i| labels[i])
        },
        &params.view,
    );
    timings.push(("view", started.elapsed()));

    let model = ModelVersion {
        version: 0,
        trained_at_ms: now_ms(),
        k,
        spec,
        scaler: features.scaler.clone(),
        centres: kmeans.centres().to_vec(),
        inertia: kmeans.inertia(),
        silhouette,
        cluster_sizes: kmeans.cluster_sizes().to_vec(),
        n_users,
        n_events: state.n_events(),
        converged: kmeans.converged(),
        seed: params.seed,
    };
    Ok(Trained {
        model,
        predictions,
        view,
        features,
        k_selection,
        n_iter: kmeans.n_iter(),
        timings,
    })
}

fn choose_k(
    matrix: Matrix<'_>,
    params: &TrainParams,
    base: &KMeansParams,
) -> Result<(usize, Option<KSelection>), PipelineError> {
    // K-means cannot place more centres than there are distinct feature vectors.
    let largest = match &params.k {
        KChoice::Fixed(k) => *k,
        KChoice::Auto(candidates) => candidates.iter().copied().max().unwrap_or(1) * 2,
    };
    let n_distinct = distinct_rows(matrix, largest);
    let candidates = match &params.k {
        KChoice::Fixed(requested) => {
            let k = (*requested).clamp(1, n_distinct);
            if k != *requested {
                tracing::warn!(requested, k, n_distinct, "k reduced to the distinct users");
            }
            return Ok((k, None));
        }
        KChoice::Auto(candidates) => candidates,
    };

    // A silhouette needs at least two clusters with members; keep K well below the users.
    let usable: Vec<usize> =
        candidates.iter().copied().filter(|&k| k >= 2 && k * 2 <= n_distinct).collect();
    if usable.is_empty() {
        let reason = format!("only {n_distinct} distinct users: one cluster");
        return Ok((1, Some(KSelection { scores: Vec::new(), chosen: 1, reason })));
    }
    let scores = select_k(matrix, &usable, &base.clone().check()?, params.silhouette_sample)?;
    let best = scores.iter().filter_map(|s| s.silhouette.map(|sil| (s.k, sil))).fold(
        None,
        |best: Option<(usize, f64)>, (k, sil)| match best {
            Some((_, best_sil)) if best_sil >= sil => best,
            _ => Some((k, sil)),
        },
    );
    let (chosen, reason) = match best {
        Some((k, sil)) => (
            k,
            format!("k={k} has the highest sampled silhouette ({sil:.3}) among k in {:?}", usable),
        ),
        None => (usable[0], format!("no silhouette could be computed; took k={}", usable[0])),
    };
    Ok((chosen, Some(KSelection { scores, chosen, reason })))
}

/// Number of distinct rows (bit for bit), counted up to `limit`.
fn distinct_rows(matrix: Matrix<'_>, limit: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for i in 0..matrix.n_rows() {
        let bits: Vec<u32> = matrix.row(i).iter().map(|x| x.to_bits()).collect();
        seen.insert(bits);
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

fn predictions(
    kmeans: &KMeans,
    matrix: Matrix<'_>,
    users: &[String],
) -> Result<Vec<UserPrediction>, PipelineError> {
    let labels = kmeans.labels();
    let mut out = Vec::with_capacity(users.len());
    for (i, user_id) in users.iter().enumerate() {
        let cluster = labels[i];
        let distance = squared_distance(matrix.row(i), kmeans.centre(cluster as usize)).sqrt();
        out.push(UserPrediction { user_id: user_id.clone(), cluster, distance });
    }
    Ok(out)
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Expresses a previous model's centres in a new feature space.
///
/// Centres are unscaled with the old scaler, their columns matched by meaning (a category
/// keeps its share whatever its column position; a category new to the top list was part of
/// the old `cat_other`, so it starts at 0), and scaled with the new scaler.
pub fn translate_centres(previous: &ModelVersion, spec: &FeatureSpec, scaler: &Scaler) -> Vec<f32> {
    let old_names = column_keys(&previous.spec);
    let new_names = column_keys(spec);
    let d_old = previous.n_features();
    let mut out = Vec::with_capacity(previous.k * new_names.len());
    for cluster in 0..previous.k {
        let centre = previous.centre(cluster);
        let raw_old: Vec<f64> = (0..d_old)
            .map(|j| {
                let x = f64::from(centre[j]);
                if previous.scaler.constant[j] {
                    previous.scaler.mean[j]
                } else {
                    x * previous.scaler.std[j] + previous.scaler.mean[j]
                }
            })
            .collect();
        let mut row: Vec<f64> = new_names
            .iter()
            .map(|name| old_names.iter().position(|n| n == name).map_or(0.0, |j| raw_old[j]))
            .collect();
        scaler.transform(&mut row);
        out.extend(row.into_iter().map(|x| x as f32));
    }
    out
}

/// Column identities that survive a change of the top-category list.
fn column_keys(spec: &FeatureSpec) -> Vec<String> {
    let mut keys: Vec<String> =
        spec.top_categories.iter().map(|c| format!("category:{c}")).collect();
    keys.extend(spec.names().into_iter().skip(spec.top_categories.len()));
    keys
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

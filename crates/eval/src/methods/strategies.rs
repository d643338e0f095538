//! Cluster strategies beyond the protocol's baselines, each cheap to serve: the list comes
//! from data precomputed per cluster, plus at most a light step over the visitor's own events.
//!
//! - `svd-blend`: K-means on truncated-SVD user embeddings (the top eigenvectors of X Xᵀ,
//!   rows L2-normalised) instead of the hand-made features, then `blend-pop`.
//! - `soft-blend`: a visitor's list mixes the smoothed shares of the nearest clusters of the
//!   hand-made features, weighted by exp(-(d² - d₁²) / T).
//! - `cluster-cooc`: the visitor's cluster gives N candidates (its `blend-pop` order); they
//!   are re-ranked by their association with the visitor's own items plus β times the
//!   cluster score. The association is item co-occurrence (cosine over the weighted
//!   interactions), precomputed per candidate.
//! - `cluster-ease`: the same with EASE's item-item weights as the association (a learned
//!   co-occurrence; with β = 0 it is EASE restricted to the cluster's candidates).
//!
//! Every setting (embedding size, m, nearest clusters, temperature, N, β, association) is
//! chosen on the validation split by the protocol's rule (grid order, strictly greater wins).

use nalgebra::SymmetricEigen;

use super::cluster::{blend_pop, cluster_counts, cluster_users, Clustering, BLEND_POP_GRID};
use super::ease::{gram, Ease};
use super::Interactions;
use crate::dataset::Dataset;
use crate::metrics::{evaluate, Metrics};
use crate::protocol::Protocol;
use crate::rank::{rank_grouped, rank_per_user, sorted_catalogue, Lists};
use crate::run::{FoldState, Method};
use crate::{EvalError, KMeansSettings};

/// Embedding sizes tried by `svd-blend`.
const SVD_DIMS: [usize; 4] = [8, 16, 32, 64];
/// Nearest clusters mixed by `soft-blend`.
const SOFT_NEAREST: [usize; 3] = [2, 3, 5];
/// Temperatures of `soft-blend` (in squared standardised distance).
const SOFT_TEMPERATURE: [f64; 4] = [0.5, 1.0, 2.0, 4.0];
/// Candidates per cluster of `cluster-cooc`.
const COOC_CANDIDATES: [usize; 3] = [100, 300, 1000];
/// Weight of the (max-normalised) cluster score against the association in `cluster-cooc`.
const COOC_BETA: [f64; 5] = [0.0, 0.1, 0.3, 1.0, 3.0];
/// EASE settings of `cluster-cooc`'s learned association: (binary input, λ).
const COOC_EASE: [(bool, f64); 4] = [(true, 100.0), (true, 500.0), (false, 100.0), (false, 500.0)];

/// What a strategy needs from the run.
pub(crate) struct Context<'r, 'a> {
    pub(crate) data: &'a Dataset,
    pub(crate) protocol: &'a Protocol,
    pub(crate) settings: KMeansSettings,
    pub(crate) test: &'r mut FoldState<'a>,
    pub(crate) val: &'r mut FoldState<'a>,
}

/// A strategy's test metrics, validation score and chosen setting.
pub(crate) struct Outcome {
    pub(crate) test: Metrics,
    pub(crate) val_ndcg: f64,
    pub(crate) note: String,
}

/// Runs one strategy at one K: the grid on validation, then the chosen setting on test.
pub(crate) fn run(
    ctx: &mut Context<'_, '_>,
    method: Method,
    k: usize,
) -> Result<Outcome, EvalError> {
    match method {
        Method::SvdBlend => svd_blend(ctx, k),
        Method::SoftBlend => soft_blend(ctx, k),
        Method::ClusterEase => cluster_cooc(ctx, k, true),
        _ => cluster_cooc(ctx, k, false),
    }
}

/// Keeps the first best of a scan: a later score replaces it only when strictly greater.
struct Best<T> {
    kept: Option<(T, f64)>,
}

impl<T: Clone> Best<T> {
    fn new() -> Self {
        Best { kept: None }
    }

    fn offer(&mut self, setting: T, score: f64) {
        if self.kept.as_ref().is_none_or(|(_, kept)| score > *kept) {
            self.kept = Some((setting, score));
        }
    }
}

fn n(ctx: &Context<'_, '_>) -> usize {
    ctx.protocol.list_len
}

/// The `blend-pop` m chosen on validation for these clusters, and its score.
fn choose_m(ctx: &Context<'_, '_>, state: &FoldState<'_>, labels: &[u32], k: usize) -> (f64, f64) {
    let counts = cluster_counts(ctx.data, state.fold, labels, k, &ctx.protocol.weights);
    let mut best = Best::new();
    for m in BLEND_POP_GRID {
        let scores: Vec<Vec<f64>> =
            counts.iter().map(|c| blend_pop(c, &state.popularity, state.total, m)).collect();
        let lists = rank_grouped(state.fold, labels, &scores, n(ctx));
        best.offer(m, evaluate(state.fold, &lists, n(ctx)).ndcg);
    }
    best.kept.unwrap_or((0.0, 0.0))
}

fn blend_lists(
    ctx: &Context<'_, '_>,
    state: &FoldState<'_>,
    labels: &[u32],
    k: usize,
    m: f64,
) -> Lists {
    let counts = cluster_counts(ctx.data, state.fold, labels, k, &ctx.protocol.weights);
    let scores: Vec<Vec<f64>> =
        counts.iter().map(|c| blend_pop(c, &state.popularity, state.total, m)).collect();
    rank_grouped(state.fold, labels, &scores, n(ctx))
}

/// Rows of the top `dim` left singular vectors of X scaled by the singular values (X V),
/// L2-normalised, for the users with train events.
fn svd_embedding(ctx: &Context<'_, '_>, state: &FoldState<'_>, dim: usize) -> (Vec<u32>, Vec<f32>) {
    let x = Interactions::new(ctx.data, state.fold, &ctx.protocol.weights, false);
    let users: Vec<u32> =
        (0..x.rows.len() as u32).filter(|&u| !state.fold.train[u as usize].is_empty()).collect();
    let g = gram(&x);
    let eigen = SymmetricEigen::new(g);
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    order.truncate(dim.min(order.len()));

    let mut rows = Vec::with_capacity(users.len() * order.len());
    for &user in &users {
        let row: Vec<f64> = order
            .iter()
            .map(|&c| eigen.eigenvectors[(user as usize, c)] * eigen.eigenvalues[c].max(0.0).sqrt())
            .collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        rows.extend(row.iter().map(|v| (v * scale) as f32));
    }
    (users, rows)
}

fn svd_clustering(
    ctx: &Context<'_, '_>,
    state: &FoldState<'_>,
    dim: usize,
    k: usize,
) -> Result<Clustering, EvalError> {
    let (users, rows) = svd_embedding(ctx, state, dim);
    cluster_users(&rows, &users, ctx.data.users.len(), k, ctx.settings)
}

fn svd_blend(ctx: &mut Context<'_, '_>, k: usize) -> Result<Outcome, EvalError> {
    let mut best = Best::new();
    for dim in SVD_DIMS {
        let clustering = svd_clustering(ctx, ctx.val, dim, k)?;
        let (m, ndcg) = choose_m(ctx, ctx.val, &clustering.labels, k);
        best.offer((dim, m), ndcg);
    }
    let ((dim, m), val_ndcg) = best.kept.unwrap_or(((SVD_DIMS[0], 0.0), 0.0));
    let clustering = svd_clustering(ctx, ctx.test, dim, k)?;
    let lists = blend_lists(ctx, ctx.test, &clustering.labels, k, m);
    let test = evaluate(ctx.test.fold, &lists, n(ctx));
    Ok(Outcome { test, val_ndcg, note: format!("dims={dim}, m={m}") })
}

/// Squared distances of every user's standardised features to every centre.
fn centre_distances(
    state: &mut FoldState<'_>,
    ctx_data: &Dataset,
    protocol: &Protocol,
    clustering: &Clustering,
) -> Vec<Vec<f64>> {
    let (table, rows) = state.features(ctx_data, protocol.features);
    let d = table.n_cols();
    let k = clustering.k;
    let mut out = vec![Vec::new(); ctx_data.users.len()];
    for (row, &user) in table.users.iter().enumerate() {
        let point = &rows[row * d..(row + 1) * d];
        out[user as usize] = (0..k)
            .map(|c| {
                let centre = clustering.model.centre(c);
                point.iter().zip(centre).map(|(&a, &b)| f64::from(a - b).powi(2)).sum()
            })
            .collect();
    }
    out
}

fn soft_lists(
    ctx: &Context<'_, '_>,
    state: &FoldState<'_>,
    shares: &[Vec<f64>],
    distances: &[Vec<f64>],
    nearest: usize,
    temperature: f64,
) -> Lists {
    rank_per_user(state.fold, ctx.data.items.len(), n(ctx), |user, scores| {
        let row = &distances[user as usize];
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[a].total_cmp(&row[b]).then(a.cmp(&b)));
        order.truncate(nearest);
        let Some(&first) = order.first() else { return };
        for &cluster in &order {
            let weight = (-(row[cluster] - row[first]) / temperature).exp();
            for (score, &share) in scores.iter_mut().zip(&shares[cluster]) {
                *score += weight * share;
            }
        }
    })
}

/// Each cluster's smoothed share (c + m g / G) / (C + m).
fn smoothed_shares(state: &FoldState<'_>, counts: &[Vec<f64>], m: f64) -> Vec<Vec<f64>> {
    counts
        .iter()
        .map(|c| {
            let cluster_total: f64 = c.iter().sum();
            let denominator = cluster_total + m;
            c.iter()
                .zip(&state.popularity)
                .map(|(&c, &g)| {
                    let prior = if state.total > 0.0 { m * g / state.total } else { 0.0 };
                    if denominator > 0.0 {
                        (c + prior) / denominator
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

fn soft_blend(ctx: &mut Context<'_, '_>, k: usize) -> Result<Outcome, EvalError> {
    let kind = ctx.protocol.features;
    let mut chosen = Vec::new();
    for is_test in [false, true] {
        let state: &mut FoldState<'_> = if is_test { &mut *ctx.test } else { &mut *ctx.val };
        let clustering = state.clustering(ctx.data, kind, k, ctx.settings)?.clone();
        let distances = centre_distances(state, ctx.data, ctx.protocol, &clustering);
        chosen.push((clustering, distances));
    }
    let (val_clustering, val_distances) = &chosen[0];
    let (m, _) = choose_m(ctx, ctx.val, &val_clustering.labels, k);
    let counts =
        cluster_counts(ctx.data, ctx.val.fold, &val_clustering.labels, k, &ctx.protocol.weights);
    let shares = smoothed_shares(ctx.val, &counts, m);
    let mut best = Best::new();
    for nearest in SOFT_NEAREST.into_iter().filter(|&r| r <= k) {
        for temperature in SOFT_TEMPERATURE {
            let lists = soft_lists(ctx, ctx.val, &shares, val_distances, nearest, temperature);
            best.offer((nearest, temperature), evaluate(ctx.val.fold, &lists, n(ctx)).ndcg);
        }
    }
    let ((nearest, temperature), val_ndcg) = best.kept.unwrap_or(((1, 1.0), 0.0));

    let (clustering, distances) = &chosen[1];
    let counts =
        cluster_counts(ctx.data, ctx.test.fold, &clustering.labels, k, &ctx.protocol.weights);
    let shares = smoothed_shares(ctx.test, &counts, m);
    let lists = soft_lists(ctx, ctx.test, &shares, distances, nearest, temperature);
    let test = evaluate(ctx.test.fold, &lists, n(ctx));
    let note = format!("nearest={nearest}, T={temperature}, m={m}");
    Ok(Outcome { test, val_ndcg, note })
}

/// How candidates are associated with the visitor's items.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Association {
    /// Σ over the visitor's items j of co(j, i) / sqrt(n_j n_i) on the weighted interactions.
    Cooccurrence,
    /// Σ over the visitor's items j of EASE's B_ji.
    Ease { binary: bool, lambda: f64 },
}

impl Association {
    fn label(self) -> String {
        match self {
            Association::Cooccurrence => "co-occurrence (cosine)".to_owned(),
            Association::Ease { binary, lambda } => {
                let input = if binary { "binary" } else { "weighted" };
                format!("EASE weights ({input}, lambda={lambda})")
            }
        }
    }
}

/// The association of every item with one user's items, for a set of associations.
struct Associator {
    weighted: Interactions,
    models: Vec<(Association, Interactions, Option<Ease>)>,
}

impl Associator {
    fn new(ctx: &Context<'_, '_>, state: &FoldState<'_>, associations: &[Association]) -> Self {
        let weighted = Interactions::new(ctx.data, state.fold, &ctx.protocol.weights, false);
        let mut models = Vec::new();
        for &association in associations {
            match association {
                Association::Cooccurrence => {
                    models.push((association, weighted.clone(), None));
                }
                Association::Ease { binary, lambda } => {
                    let x = Interactions::new(ctx.data, state.fold, &ctx.protocol.weights, binary);
                    let g = gram(&x);
                    let model = Ease::fit(&x, &g, lambda);
                    models.push((association, x, model));
                }
            }
        }
        Associator { weighted, models }
    }

    fn scores(&self, index: usize, user: u32, by_user: &mut [f64], scores: &mut [f64]) {
        scores.iter_mut().for_each(|s| *s = 0.0);
        let (association, x, model) = &self.models[index];
        match (association, model) {
            (Association::Cooccurrence, _) => cosine(&self.weighted, user, by_user, scores),
            (Association::Ease { .. }, Some(model)) => model.score_user(x, user, scores),
            (Association::Ease { .. }, None) => {}
        }
    }
}

/// Cosine co-occurrence on the weighted interactions: Σ_j x_uj co(j, i) / (|x_j| |x_i|).
fn cosine(x: &Interactions, user: u32, by_user: &mut [f64], scores: &mut [f64]) {
    by_user.iter_mut().for_each(|a| *a = 0.0);
    let norms = |item: u32| -> f64 {
        x.columns[item as usize].iter().map(|&(_, v)| v * v).sum::<f64>().sqrt()
    };
    for &(item, value) in &x.rows[user as usize] {
        let norm = norms(item);
        if norm == 0.0 {
            continue;
        }
        for &(other, other_value) in &x.columns[item as usize] {
            by_user[other as usize] += value * other_value / norm;
        }
    }
    for (other, &a) in by_user.iter().enumerate() {
        if a == 0.0 {
            continue;
        }
        for &(item, value) in &x.rows[other] {
            scores[item as usize] += a * value;
        }
    }
    for (item, score) in scores.iter_mut().enumerate() {
        if *score != 0.0 {
            *score /= norms(item as u32);
        }
    }
}

/// One `cluster-cooc` setting.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CoocSetting {
    association: usize,
    candidates: usize,
    beta: f64,
}

/// Lists of every setting for the scored users of a fold.
fn cooc_lists(
    ctx: &Context<'_, '_>,
    state: &FoldState<'_>,
    labels: &[u32],
    k: usize,
    m: f64,
    associator: &Associator,
    settings: &[CoocSetting],
) -> Vec<Lists> {
    let counts = cluster_counts(ctx.data, state.fold, labels, k, &ctx.protocol.weights);
    let cluster_scores: Vec<Vec<f64>> =
        counts.iter().map(|c| blend_pop(c, &state.popularity, state.total, m)).collect();
    let orders: Vec<Vec<u32>> =
        cluster_scores.iter().map(|s| sorted_catalogue(state.fold, s)).collect();
    let list_len = n(ctx);
    let n_items = ctx.data.items.len();
    let mut by_user = vec![0.0; state.fold.train.len()];
    let mut association = vec![0.0; n_items];
    let mut out: Vec<Lists> = vec![Lists::default(); settings.len()];

    for &user in &state.fold.scored {
        let cluster = labels[user as usize] as usize;
        let (Some(order), Some(prior)) = (orders.get(cluster), cluster_scores.get(cluster)) else {
            for lists in &mut out {
                lists.lists.push(Vec::new());
            }
            continue;
        };
        let seen = &state.fold.seen[user as usize];
        let unseen: Vec<u32> =
            order.iter().copied().filter(|i| seen.binary_search(i).is_err()).collect();
        let mut computed = usize::MAX;
        for (lists, setting) in out.iter_mut().zip(settings) {
            if computed != setting.association {
                associator.scores(setting.association, user, &mut by_user, &mut association);
                computed = setting.association;
            }
            let candidates = &unseen[..setting.candidates.min(unseen.len())];
            let top_prior = candidates.first().map_or(0.0, |&i| prior[i as usize]);
            let top_association =
                candidates.iter().map(|&i| association[i as usize]).fold(0.0, f64::max);
            let score = |item: u32| -> f64 {
                let a = if top_association > 0.0 {
                    association[item as usize] / top_association
                } else {
                    0.0
                };
                let p = if top_prior > 0.0 { prior[item as usize] / top_prior } else { 0.0 };
                a + setting.beta * p
            };
            let mut ranked: Vec<(f64, u32)> = candidates.iter().map(|&i| (score(i), i)).collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut list: Vec<u32> = ranked.iter().take(list_len).map(|&(_, i)| i).collect();
            // Fewer candidates than slots: fill from the rest of the cluster's order.
            for &item in unseen.iter().skip(candidates.len()) {
                if list.len() >= list_len {
                    break;
                }
                list.push(item);
            }
            lists.zero_slots += ranked.iter().take(list_len).filter(|r| r.0 == 0.0).count();
            lists.lists.push(list);
        }
    }
    out
}

fn cluster_cooc(ctx: &mut Context<'_, '_>, k: usize, ease: bool) -> Result<Outcome, EvalError> {
    let kind = ctx.protocol.features;
    let associations: Vec<Association> = if ease {
        COOC_EASE.map(|(binary, lambda)| Association::Ease { binary, lambda }).to_vec()
    } else {
        vec![Association::Cooccurrence]
    };
    let mut settings = Vec::new();
    for association in 0..associations.len() {
        for candidates in COOC_CANDIDATES {
            for beta in COOC_BETA {
                settings.push(CoocSetting { association, candidates, beta });
            }
        }
    }

    let val_clustering = ctx.val.clustering(ctx.data, kind, k, ctx.settings)?.clone();
    let (m, _) = choose_m(ctx, ctx.val, &val_clustering.labels, k);
    let associator = Associator::new(ctx, ctx.val, &associations);
    let all = cooc_lists(ctx, ctx.val, &val_clustering.labels, k, m, &associator, &settings);
    let mut best = Best::new();
    for (setting, lists) in settings.iter().zip(&all) {
        best.offer(*setting, evaluate(ctx.val.fold, lists, n(ctx)).ndcg);
    }
    let (setting, val_ndcg) = best.kept.unwrap_or((settings[0], 0.0));

    let clustering = ctx.test.clustering(ctx.data, kind, k, ctx.settings)?.clone();
    let chosen = [associations[setting.association]];
    let associator = Associator::new(ctx, ctx.test, &chosen);
    let one = CoocSetting { association: 0, ..setting };
    let lists = cooc_lists(ctx, ctx.test, &clustering.labels, k, m, &associator, &[one]);
    let test = evaluate(ctx.test.fold, &lists[0], n(ctx));
    let note = format!(
        "{}, N={}, beta={}, m={m}",
        associations[setting.association].label(),
        setting.candidates,
        setting.beta
    );
    Ok(Outcome { test, val_ndcg, note })
}

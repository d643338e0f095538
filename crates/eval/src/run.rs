//! The evaluation run: folds, the methods asked for, validation-driven choices, the report.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use centroid_kmeans::{select_k, KMeansParams, Matrix};

use crate::dataset::Dataset;
use crate::features::{user_features, FeatureTable};
use crate::methods::cluster::{
    blend_lift, blend_pop, cluster_counts, cluster_users, Clustering, KMeansSettings,
    BLEND_LIFT_GRID, BLEND_POP_GRID,
};
use crate::methods::ease::{gram, Ease, LAMBDA_GRID};
use crate::methods::{itemknn, popularity, strategies, Interactions};
use crate::metrics::{evaluate as score_lists, paired_difference, Metrics};
use crate::protocol::{FeatureKind, Protocol, Relevance, Weights};
use crate::rank::{rank_grouped, rank_per_user, sorted_catalogue, Lists};
use crate::report::{
    ClusterProfile, ClusterProfiles, Fingerprints, KScoreRow, Report, Row, Rules, SeedSpread,
    SplitSummary, Spread,
};
use crate::split::Fold;
use crate::EvalError;

/// A method of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// Global popularity with the protocol's weights.
    Pop,
    /// Global popularity, every event 1 (behaviour data only).
    PopUnweighted,
    /// Popularity inside the user's K-means cluster.
    ClusterPop,
    /// Cluster popularity shrunk toward global popularity.
    BlendPop,
    /// Pseudo-count-smoothed cluster lift.
    BlendLift,
    /// Cosine item-kNN.
    ItemKnn,
    /// EASE, dual form.
    Ease,
    /// K-means on truncated-SVD user embeddings, then `blend-pop` (a shipped candidate).
    SvdBlend,
    /// Mix of the nearest clusters' lists, weighted by distance.
    SoftBlend,
    /// A cluster's candidates re-ranked by co-occurrence with the visitor's items.
    ClusterCooc,
    /// A cluster's candidates re-ranked by EASE item-item weights of the visitor's items.
    ClusterEase,
}

impl Method {
    /// Every method, in table order.
    pub const ALL: [Method; 11] = [
        Method::Pop,
        Method::PopUnweighted,
        Method::ClusterPop,
        Method::BlendPop,
        Method::BlendLift,
        Method::SvdBlend,
        Method::SoftBlend,
        Method::ClusterCooc,
        Method::ClusterEase,
        Method::ItemKnn,
        Method::Ease,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Pop => "pop",
            Method::PopUnweighted => "pop-unweighted",
            Method::ClusterPop => "cluster-pop",
            Method::BlendPop => "blend-pop",
            Method::BlendLift => "blend-lift",
            Method::ItemKnn => "itemknn",
            Method::Ease => "ease",
            Method::SvdBlend => "svd-blend",
            Method::SoftBlend => "soft-blend",
            Method::ClusterCooc => "cluster-cooc",
            Method::ClusterEase => "cluster-ease",
        }
    }

    /// Whether the method runs once per K of the sweep.
    pub fn per_k(self) -> bool {
        matches!(
            self,
            Method::ClusterPop
                | Method::BlendPop
                | Method::BlendLift
                | Method::SvdBlend
                | Method::SoftBlend
                | Method::ClusterCooc
                | Method::ClusterEase
        )
    }
}

impl FromStr for Method {
    type Err = EvalError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Method::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| EvalError::Option {
            option: "methods",
            reason: format!(
                "unknown method `{name}`; known: {}",
                Method::ALL.map(Method::name).join(", ")
            ),
        })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Methods, run in table order whatever the order given.
    pub methods: Vec<Method>,
    /// The K sweep of the cluster methods.
    pub ks: Vec<usize>,
    /// K-means settings.
    pub kmeans: KMeansSettings,
    /// Points used for the silhouette of each K.
    pub silhouette_sample: usize,
    /// Seeds over which `cluster-pop` is repeated to show the spread K-means randomness
    /// gives (the protocol compares K-means methods against such a spread).
    pub spread_seeds: Vec<u64>,
    /// The K whose clusters are described (default: the best `cluster-pop` K > 1 on
    /// validation).
    pub describe_k: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            methods: vec![
                Method::Pop,
                Method::PopUnweighted,
                Method::ClusterPop,
                Method::BlendPop,
                Method::BlendLift,
                Method::ItemKnn,
                Method::Ease,
            ],
            ks: vec![1, 4, 8, 16, 32, 64],
            kmeans: KMeansSettings::default(),
            silhouette_sample: 2000,
            spread_seeds: Vec::new(),
            describe_k: None,
        }
    }
}

/// Runs the protocol on `data` and returns the report.
pub fn evaluate(
    data: &Dataset,
    protocol: &Protocol,
    options: &Options,
) -> Result<Report, EvalError> {
    if options.ks.contains(&0) {
        return Err(EvalError::Option { option: "k", reason: "K must be at least 1".into() });
    }
    let test = Fold::test(data, protocol);
    let val = test.validation(data, protocol);
    let mut run = Run::new(data, protocol, options, &test, &val);
    let mut methods = options.methods.clone();
    methods.sort();
    methods.dedup();
    if !protocol.unweighted_variant {
        methods.retain(|&m| m != Method::PopUnweighted);
    }
    let order: Vec<Method> = Method::ALL.into_iter().filter(|m| methods.contains(m)).collect();

    let mut rows = Vec::new();
    for &method in
        order.iter().filter(|m| !m.per_k() && matches!(m, Method::Pop | Method::PopUnweighted))
    {
        rows.push(run.global_row(method)?);
    }
    let mut ks = options.ks.clone();
    ks.sort_unstable();
    ks.dedup();
    for &k in &ks {
        for &method in order.iter().filter(|m| m.per_k()) {
            let blended =
                matches!(method, Method::BlendPop | Method::BlendLift | Method::SoftBlend);
            if k == 1 && blended {
                continue;
            }
            match run.cluster_row(method, k) {
                Ok(row) => rows.push(row),
                Err(error @ EvalError::KMeans { .. }) => {
                    tracing::warn!(method = method.name(), k, %error, "setting skipped");
                    run.skipped.push(format!("{} K={k}: {}", method.name(), error_chain(&error)));
                }
                Err(error) => return Err(error),
            }
        }
    }
    for &method in order.iter().filter(|m| matches!(m, Method::ItemKnn | Method::Ease)) {
        rows.push(run.global_row(method)?);
    }

    let has_cluster_method = order.iter().any(|m| m.per_k());
    let k_scores = if has_cluster_method { run.k_scores(&ks) } else { Vec::new() };
    let clusters = if has_cluster_method { run.describe(&rows)? } else { None };
    let seed_spread = if order.contains(&Method::ClusterPop) && !options.spread_seeds.is_empty() {
        run.seed_spread(&ks)
    } else {
        Vec::new()
    };
    Ok(Report {
        protocol_version: 1,
        rules: rules(protocol),
        split: summary(run.test),
        validation: summary(run.val),
        fingerprints: Fingerprints {
            test_events: run.test.test_events_fingerprint(data),
            relevant_pairs: run.test.relevant_pairs_fingerprint(data),
        },
        global_top: run.global_top(),
        k1_check: run.k1_check,
        rows,
        k_scores,
        seed_spread,
        clusters,
        skipped: run.skipped,
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One fold with its features and K-means fits, computed on demand.
pub(crate) struct FoldState<'a> {
    pub(crate) fold: &'a Fold,
    pub(crate) popularity: Vec<f64>,
    pub(crate) total: f64,
    features: Option<(FeatureTable, Vec<f32>)>,
    clusterings: BTreeMap<usize, Clustering>,
}

impl<'a> FoldState<'a> {
    fn new(data: &Dataset, fold: &'a Fold, weights: &Weights) -> Self {
        let popularity = popularity(data, fold, weights);
        let total = popularity.iter().sum();
        FoldState { fold, popularity, total, features: None, clusterings: BTreeMap::new() }
    }

    pub(crate) fn features(
        &mut self,
        data: &Dataset,
        kind: FeatureKind,
    ) -> &(FeatureTable, Vec<f32>) {
        self.features.get_or_insert_with(|| {
            let table = user_features(data, self.fold, kind);
            let standardised = table.standardised();
            (table, standardised)
        })
    }

    pub(crate) fn clustering(
        &mut self,
        data: &Dataset,
        kind: FeatureKind,
        k: usize,
        settings: KMeansSettings,
    ) -> Result<&Clustering, EvalError> {
        if !self.clusterings.contains_key(&k) {
            let n_users = data.users.len();
            let (table, rows) = self.features(data, kind);
            let clustering = cluster_users(rows, &table.users, n_users, k, settings)?;
            self.clusterings.insert(k, clustering);
        }
        Ok(&self.clusterings[&k])
    }
}

struct Run<'a> {
    data: &'a Dataset,
    protocol: &'a Protocol,
    options: &'a Options,
    test: &'a Fold,
    val: &'a Fold,
    test_state: FoldState<'a>,
    val_state: FoldState<'a>,
    pop_test: Metrics,
    pop_lists: Lists,
    k1_check: Option<bool>,
    skipped: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(
        data: &'a Dataset,
        protocol: &'a Protocol,
        options: &'a Options,
        test: &'a Fold,
        val: &'a Fold,
    ) -> Self {
        let test_state = FoldState::new(data, test, &protocol.weights);
        let val_state = FoldState::new(data, val, &protocol.weights);
        let n = protocol.list_len;
        let pop_lists = rank_grouped(
            test,
            &vec![0; data.users.len()],
            std::slice::from_ref(&test_state.popularity),
            n,
        );
        let pop_test = score_lists(test, &pop_lists, n);
        Run {
            data,
            protocol,
            options,
            test,
            val,
            test_state,
            val_state,
            pop_test,
            pop_lists,
            k1_check: None,
            skipped: Vec::new(),
        }
    }

    fn n(&self) -> usize {
        self.protocol.list_len
    }

    fn row(
        &self,
        method: Method,
        k: Option<usize>,
        note: String,
        test: &Metrics,
        val_ndcg: f64,
        started: Instant,
    ) -> Row {
        let (delta, delta_se) = paired_difference(test, &self.pop_test);
        Row {
            method: method.name().to_owned(),
            k,
            note,
            hr: test.hr,
            ndcg: test.ndcg,
            recall: test.recall,
            coverage: test.coverage,
            users: test.users,
            hit_users: test.hit_users,
            ndcg_se: test.ndcg_se,
            delta_ndcg: delta,
            delta_ndcg_se: delta_se,
            zero_score_slots: test.zero_score_slots,
            val_ndcg,
            time_s: started.elapsed().as_secs_f64(),
        }
    }

    fn global_row(&mut self, method: Method) -> Result<Row, EvalError> {
        let started = Instant::now();
        let n = self.n();
        let n_items = self.data.items.len();
        let row = match method {
            Method::Pop | Method::PopUnweighted => {
                let weights =
                    if method == Method::Pop { self.protocol.weights } else { Weights::UNIT };
                let mut metrics = Vec::new();
                for fold in [self.test, self.val] {
                    let scores = popularity(self.data, fold, &weights);
                    let lists = rank_grouped(fold, &vec![0; self.data.users.len()], &[scores], n);
                    metrics.push(score_lists(fold, &lists, n));
                }
                let note = match (method, self.protocol.relevance) {
                    (Method::Pop, Relevance::RatingAtLeast(t)) => format!("ratings>={t}"),
                    (Method::Pop, Relevance::AnyEvent) => "weighted".to_owned(),
                    _ => "all events = 1".to_owned(),
                };
                self.row(method, None, note, &metrics[0], metrics[1].ndcg, started)
            }
            Method::ItemKnn => {
                let mut metrics = Vec::new();
                for fold in [self.test, self.val] {
                    let x = Interactions::new(self.data, fold, &self.protocol.weights, true);
                    let mut by_user = vec![0.0; x.rows.len()];
                    let lists = rank_per_user(fold, n_items, n, |user, scores| {
                        itemknn::score_user(&x, user, &mut by_user, scores)
                    });
                    metrics.push(score_lists(fold, &lists, n));
                }
                let note = "cosine, all neighbours".to_owned();
                self.row(method, None, note, &metrics[0], metrics[1].ndcg, started)
            }
            Method::Ease => {
                let mut best: Option<(bool, f64, f64)> = None;
                for binary in [true, false] {
                    let x = Interactions::new(self.data, self.val, &self.protocol.weights, binary);
                    let g = gram(&x);
                    for lambda in LAMBDA_GRID {
                        let Some(model) = Ease::fit(&x, &g, lambda) else { continue };
                        let lists = rank_per_user(self.val, n_items, n, |user, scores| {
                            model.score_user(&x, user, scores)
                        });
                        let ndcg = score_lists(self.val, &lists, n).ndcg;
                        if best.is_none_or(|(_, _, kept)| ndcg > kept) {
                            best = Some((binary, lambda, ndcg));
                        }
                    }
                }
                let (binary, lambda, val_ndcg) = best.unwrap_or((true, LAMBDA_GRID[0], 0.0));
                let x = Interactions::new(self.data, self.test, &self.protocol.weights, binary);
                let g = gram(&x);
                let lists = match Ease::fit(&x, &g, lambda) {
                    Some(model) => rank_per_user(self.test, n_items, n, |user, scores| {
                        model.score_user(&x, user, scores)
                    }),
                    None => rank_per_user(self.test, n_items, n, |_, _| {}),
                };
                let metrics = score_lists(self.test, &lists, n);
                let input = if binary { "binary" } else { "popularity weights" };
                let note = format!("{input}, lambda={lambda}");
                self.row(method, None, note, &metrics, val_ndcg, started)
            }
            _ => unreachable!("per-K methods go through cluster_row"),
        };
        Ok(row)
    }

    fn cluster_row(&mut self, method: Method, k: usize) -> Result<Row, EvalError> {
        let started = Instant::now();
        let n = self.n();
        let kind = self.protocol.features;
        let settings = self.options.kmeans;
        let weights = self.protocol.weights;
        let data = self.data;

        match method {
            Method::ClusterPop | Method::BlendPop | Method::BlendLift => {
                // Validation: K-means refit on validation-train, grid scanned in order.
                let grid: &[f64] = match method {
                    Method::ClusterPop => &[0.0],
                    Method::BlendPop => &BLEND_POP_GRID,
                    _ => &BLEND_LIFT_GRID,
                };
                let score =
                    |state: &FoldState<'_>, counts: &[Vec<f64>], value: f64| -> Vec<Vec<f64>> {
                        counts
                            .iter()
                            .map(|c| match method {
                                Method::BlendLift => {
                                    blend_lift(c, &state.popularity, state.total, value)
                                }
                                _ => blend_pop(c, &state.popularity, state.total, value),
                            })
                            .collect()
                    };
                let val_clustering = self.val_state.clustering(data, kind, k, settings)?.clone();
                let val_counts =
                    cluster_counts(data, self.val, &val_clustering.labels, k, &weights);
                let mut best: Option<(f64, f64)> = None;
                for &value in grid {
                    let scores = score(&self.val_state, &val_counts, value);
                    let lists = rank_grouped(self.val, &val_clustering.labels, &scores, n);
                    let ndcg = score_lists(self.val, &lists, n).ndcg;
                    if best.is_none_or(|(_, kept)| ndcg > kept) {
                        best = Some((value, ndcg));
                    }
                }
                let (value, val_ndcg) = best.unwrap_or((grid[0], 0.0));

                let clustering = self.test_state.clustering(data, kind, k, settings)?.clone();
                let counts = cluster_counts(data, self.test, &clustering.labels, k, &weights);
                let scores = score(&self.test_state, &counts, value);
                let lists = rank_grouped(self.test, &clustering.labels, &scores, n);
                if method == Method::ClusterPop && k == 1 {
                    self.k1_check = Some(lists.lists == self.pop_lists.lists);
                }
                let metrics = score_lists(self.test, &lists, n);
                let note = match method {
                    Method::ClusterPop => {
                        let sizes = clustering.sizes();
                        let min = sizes.iter().min().copied().unwrap_or(0);
                        let max = sizes.iter().max().copied().unwrap_or(0);
                        format!("sizes {min}..{max}")
                    }
                    Method::BlendPop => format!("m={value}"),
                    _ => format!("a={value}"),
                };
                Ok(self.row(method, Some(k), note, &metrics, val_ndcg, started))
            }
            Method::SvdBlend | Method::SoftBlend | Method::ClusterCooc | Method::ClusterEase => {
                let mut ctx = strategies::Context {
                    data,
                    protocol: self.protocol,
                    settings,
                    test: &mut self.test_state,
                    val: &mut self.val_state,
                };
                let outcome = strategies::run(&mut ctx, method, k)?;
                Ok(self.row(
                    method,
                    Some(k),
                    outcome.note,
                    &outcome.test,
                    outcome.val_ndcg,
                    started,
                ))
            }
            _ => unreachable!("global methods go through global_row"),
        }
    }

    fn seed_spread(&mut self, ks: &[usize]) -> Vec<SeedSpread> {
        let n = self.n();
        let kind = self.protocol.features;
        let (table, rows) = self.test_state.features(self.data, kind);
        let (table, rows) = (table.clone(), rows.clone());
        let mut out = Vec::new();
        for &k in ks {
            let mut ndcg = Vec::new();
            let mut hr = Vec::new();
            for &seed in &self.options.spread_seeds {
                let settings = KMeansSettings { seed, ..self.options.kmeans };
                let clustering =
                    match cluster_users(&rows, &table.users, self.data.users.len(), k, settings) {
                        Ok(c) => c,
                        Err(error) => {
                            tracing::warn!(k, seed, %error, "seed skipped");
                            continue;
                        }
                    };
                let counts = cluster_counts(
                    self.data,
                    self.test,
                    &clustering.labels,
                    k,
                    &self.protocol.weights,
                );
                let lists = rank_grouped(self.test, &clustering.labels, &counts, n);
                let metrics = score_lists(self.test, &lists, n);
                ndcg.push(metrics.ndcg);
                hr.push(metrics.hr);
            }
            if ndcg.is_empty() {
                continue;
            }
            out.push(SeedSpread {
                k,
                seeds: self.options.spread_seeds.clone(),
                ndcg: Spread::of(&ndcg),
                hr: Spread::of(&hr),
            });
        }
        out
    }

    fn global_top(&self) -> Vec<String> {
        let order = sorted_catalogue(self.test, &self.test_state.popularity);
        order.iter().take(self.n()).map(|&i| self.data.items[i as usize].clone()).collect()
    }

    fn k_scores(&mut self, ks: &[usize]) -> Vec<KScoreRow> {
        let kind = self.protocol.features;
        let (table, rows) = self.test_state.features(self.data, kind);
        let Ok(matrix) = Matrix::new(rows, table.users.len(), table.n_cols()) else {
            return Vec::new();
        };
        let settings = self.options.kmeans;
        let Ok(base) = KMeansParams::new(1)
            .n_init(settings.n_init)
            .seed(settings.seed)
            .max_iter(settings.max_iter)
            .tol(settings.tol)
            .check()
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &k in ks {
            match select_k(matrix, &[k], &base, self.options.silhouette_sample.max(2)) {
                Ok(scores) => out.extend(scores.into_iter().map(|s| KScoreRow {
                    k: s.k,
                    inertia: s.inertia,
                    silhouette: s.silhouette,
                })),
                Err(error) => tracing::warn!(k, %error, "k not scored"),
            }
        }
        out
    }

    fn describe(&mut self, rows: &[Row]) -> Result<Option<ClusterProfiles>, EvalError> {
        let k = match self.options.describe_k {
            Some(k) => k,
            None => {
                let best = rows
                    .iter()
                    .filter(|r| r.method == Method::ClusterPop.name() && r.k.is_some_and(|k| k > 1))
                    .fold(None::<&Row>, |best, r| match best {
                        Some(b) if b.val_ndcg >= r.val_ndcg => Some(b),
                        _ => Some(r),
                    });
                match best.and_then(|r| r.k) {
                    Some(k) => k,
                    None => return Ok(None),
                }
            }
        };
        let kind = self.protocol.features;
        let settings = self.options.kmeans;
        let clustering = match self.test_state.clustering(self.data, kind, k, settings) {
            Ok(c) => c.clone(),
            Err(_) => return Ok(None),
        };
        let counts =
            cluster_counts(self.data, self.test, &clustering.labels, k, &self.protocol.weights);
        let (table, _) = self.test_state.features(self.data, kind);
        let d = table.n_cols();
        let mut clusters = Vec::with_capacity(k);
        for (cluster, size) in clustering.sizes().iter().enumerate() {
            let centre = clustering.model.centre(cluster);
            let mut columns: Vec<(String, f64)> =
                table.columns.iter().cloned().zip(centre.iter().map(|&v| f64::from(v))).collect();
            columns.sort_by(|a, b| b.1.total_cmp(&a.1));
            columns.truncate(3.min(d));
            let order = sorted_catalogue(self.test, &counts[cluster]);
            let top_items =
                order.iter().take(5).map(|&i| self.data.items[i as usize].clone()).collect();
            clusters.push(ClusterProfile { cluster, size: *size, distinctive: columns, top_items });
        }
        Ok(Some(ClusterProfiles { k, clusters }))
    }
}

fn summary(fold: &Fold) -> SplitSummary {
    SplitSummary {
        train_events: fold.n_train_events(),
        test_events: fold.n_test_events(),
        users: fold.n_train_users(),
        users_with_test: fold.n_test_users(),
        catalogue_items: fold.catalogue.len(),
        scored_users: fold.scored.len(),
        scored_users_with_warm_item: fold.n_scored_with_warm_item(),
        relevant_pairs: fold.n_relevant_pairs(),
        cold_pairs: fold.n_cold_pairs(),
    }
}

fn rules(protocol: &Protocol) -> Rules {
    let relevance = match protocol.relevance {
        Relevance::RatingAtLeast(t) => format!("test rating >= {t}"),
        Relevance::AnyEvent => "any test event".to_owned(),
    };
    let weights = match protocol.weights.rating_threshold {
        Some(t) => format!("rating >= {t}: 1, else 0"),
        None => {
            let w = &protocol.weights.by_type;
            centroid_core::EventType::ALL
                .iter()
                .map(|t| format!("{t} {}", w[t.index()]))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let features = match protocol.features {
        FeatureKind::Genres => "genre shares, log1p(events), mean rating".to_owned(),
        FeatureKind::TopCategories { n_top } => {
            format!("top-{n_top} category shares, other, log1p behaviour counts")
        }
    };
    Rules { relevance, weights, features }
}

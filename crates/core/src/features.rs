//! User feature vectors: the declarative spec stored with every model, and scaling.
//!
//! The default spec is the reference pipeline's (`../shared/bench/reference_pipeline.py`,
//! step `d_features`), so the two can be compared table for table:
//!
//! | columns | value |
//! | --- | --- |
//! | `cat_00` .. `cat_NN` | share of the user's events in each of the most frequent categories (count descending, then name ascending) |
//! | `cat_other` | share of the user's events in every other category |
//! | `log1p_n_<type>` | `ln(1 + n)` of the user's events of each of the seven types |
//! | `mean_rating` | mean of the user's ratings, 0 without any |
//! | `watch_share` | the user's watch seconds over all training users' watch seconds |
//!
//! Scaling parameters are fitted on the training users and saved with the model; a new
//! visitor is scaled with the saved parameters, never refitted.

use serde::{Deserialize, Serialize};

use crate::event::EventType;
use crate::reducer::{FastMap, ReducerState, UserAggregate, CATEGORY_UNIT};

/// Default number of category-share columns.
pub const DEFAULT_TOP_CATEGORIES: usize = 32;

/// Version of the feature definition; stored with the spec so old models keep loading.
pub const FEATURE_SPEC_VERSION: u32 = 1;

/// How a [`UserAggregate`] becomes a feature vector. Stored with every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Definition version ([`FEATURE_SPEC_VERSION`]).
    pub version: u32,
    /// Categories that get a column of their own, largest first.
    pub top_categories: Vec<String>,
    /// Adds `cat_other`, the share of events in all other categories.
    pub other_category: bool,
    /// Adds `log1p_n_<type>` for these event types.
    pub log_counts: Vec<EventType>,
    /// Adds `mean_rating`.
    pub mean_rating: bool,
    /// Adds `watch_share`, relative to `total_watch_seconds`.
    pub watch_share: bool,
    /// All training users' watch seconds, the denominator of `watch_share`.
    pub total_watch_seconds: f64,
}

/// Options for fitting a [`FeatureSpec`] on training data.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureOptions {
    /// How many categories get a column of their own.
    pub top_categories: usize,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions { top_categories: DEFAULT_TOP_CATEGORIES }
    }
}

impl FeatureSpec {
    /// Fits the default spec on the training state: picks the top categories and records the
    /// total watch time.
    pub fn fit(state: &ReducerState, options: &FeatureOptions) -> FeatureSpec {
        let mut category_totals: FastMap<&str, i64> = FastMap::default();
        let mut total_watch = 0i64;
        for (_, user) in state.users() {
            total_watch = total_watch.saturating_add(user.aggregate.watch_seconds.0);
            for (category, weight) in &user.aggregate.category_weights {
                *category_totals.entry(category.as_str()).or_default() += weight;
            }
        }

        let mut ranked: Vec<(&str, i64)> = category_totals.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked.truncate(options.top_categories);

        FeatureSpec {
            version: FEATURE_SPEC_VERSION,
            top_categories: ranked.into_iter().map(|(name, _)| name.to_owned()).collect(),
            other_category: true,
            log_counts: EventType::ALL.to_vec(),
            mean_rating: true,
            watch_share: true,
            total_watch_seconds: crate::reducer::Fixed(total_watch).to_f64(),
        }
    }

    /// Column names, in order.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            (0..self.top_categories.len()).map(|j| format!("cat_{j:02}")).collect();
        if self.other_category {
            names.push("cat_other".to_owned());
        }
        names.extend(self.log_counts.iter().map(|t| format!("log1p_n_{t}")));
        if self.mean_rating {
            names.push("mean_rating".to_owned());
        }
        if self.watch_share {
            names.push("watch_share".to_owned());
        }
        names
    }

    /// Number of columns.
    pub fn n_features(&self) -> usize {
        self.top_categories.len()
            + usize::from(self.other_category)
            + self.log_counts.len()
            + usize::from(self.mean_rating)
            + usize::from(self.watch_share)
    }

    /// The raw (unscaled) feature vector of one profile, written into `out`.
    ///
    /// A profile without events gets zero shares; nothing here divides by zero.
    pub fn raw_into(&self, aggregate: &UserAggregate, out: &mut Vec<f64>) {
        out.clear();
        let n_events = aggregate.n_events();
        let total_weight = (n_events as f64) * CATEGORY_UNIT as f64;

        let mut top_weight = 0i64;
        for category in &self.top_categories {
            let weight = aggregate.category_weights.get(category).copied().unwrap_or(0);
            top_weight += weight;
            out.push(if n_events > 0 { weight as f64 / total_weight } else { 0.0 });
        }
        if self.other_category {
            let all: i64 = aggregate.category_weights.values().sum();
            let other = all - top_weight;
            out.push(if n_events > 0 { other as f64 / total_weight } else { 0.0 });
        }
        for event_type in &self.log_counts {
            out.push((aggregate.counts[event_type.index()] as f64).ln_1p());
        }
        if self.mean_rating {
            out.push(aggregate.mean_rating().unwrap_or(0.0));
        }
        if self.watch_share {
            let share = if self.total_watch_seconds > 0.0 {
                aggregate.watch_seconds.to_f64() / self.total_watch_seconds
            } else {
                0.0
            };
            out.push(share);
        }
        debug_assert_eq!(out.len(), self.n_features());
    }

    /// The raw feature vector of one profile.
    pub fn raw(&self, aggregate: &UserAggregate) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.n_features());
        self.raw_into(aggregate, &mut out);
        out
    }
}

/// Standard scaling, fitted on training users: `(x - mean) / std` with the population std.
///
/// A column whose training values are all equal (or whose std rounds to zero) maps to exactly
/// 0, so constant and near-constant columns never yield NaN or infinity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column population standard deviations.
    pub std: Vec<f64>,
    /// Columns that scale to 0.
    pub constant: Vec<bool>,
}

impl Scaler {
    /// Fits the scaler on a row-major matrix of `n_cols` columns.
    pub fn fit(rows: &[f64], n_cols: usize) -> Scaler {
        let n_rows = rows.len().checked_div(n_cols).unwrap_or(0);
        let mut mean = vec![0.0; n_cols];
        let mut min = vec![f64::INFINITY; n_cols];
        let mut max = vec![f64::NEG_INFINITY; n_cols];
        for row in rows.chunks_exact(n_cols.max(1)) {
            for (j, &x) in row.iter().enumerate() {
                mean[j] += x;
                min[j] = min[j].min(x);
                max[j] = max[j].max(x);
            }
        }
        for m in &mut mean {
            *m /= n_rows.max(1) as f64;
        }

        // Two passes, as numpy does: the sum of squared deviations from the exact mean.
        let mut var = vec![0.0; n_cols];
        for row in rows.chunks_exact(n_cols.max(1)) {
            for (j, &x) in row.iter().enumerate() {
                let d = x - mean[j];
                var[j] += d * d;
            }
        }
        let std: Vec<f64> = var.iter().map(|v| (v / n_rows.max(1) as f64).sqrt()).collect();
        let constant = (0..n_cols)
            .map(|j| {
                n_rows == 0
                    || max[j] == min[j]
                    || std[j].is_nan()
                    || std[j] <= 0.0
                    || std[j].is_infinite()
            })
            .collect();
        Scaler { mean, std, constant }
    }

    /// Scales one row in place.
    pub fn transform(&self, row: &mut [f64]) {
        for (j, x) in row.iter_mut().enumerate() {
            *x = if self.constant[j] { 0.0 } else { (*x - self.mean[j]) / self.std[j] };
            if !x.is_finite() {
                // A visitor far outside the training range; clamp rather than poison distances.
                *x = if x.is_nan() { 0.0 } else { x.signum() * f64::MAX.sqrt() };
            }
        }
    }
}

/// The feature table of a set of users: raw and scaled, rows in user-id byte order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Row labels.
    pub users: Vec<String>,
    /// Column names.
    pub names: Vec<String>,
    /// Raw values, row-major.
    pub raw: Vec<f64>,
    /// Scaled values, row-major (what K-means sees).
    pub scaled: Vec<f64>,
    /// The fitted scaler.
    pub scaler: Scaler,
}

impl FeatureTable {
    /// Builds every training user's features and fits the scaler on them.
    pub fn build(state: &ReducerState, spec: &FeatureSpec) -> FeatureTable {
        let users = state.users_sorted();
        let n_cols = spec.n_features();
        let mut raw = Vec::with_capacity(users.len() * n_cols);
        let mut row = Vec::with_capacity(n_cols);
        for (_, user) in &users {
            spec.raw_into(&user.aggregate, &mut row);
            raw.extend_from_slice(&row);
        }

        let scaler = Scaler::fit(&raw, n_cols);
        let mut scaled = raw.clone();
        for row in scaled.chunks_exact_mut(n_cols.max(1)) {
            scaler.transform(row);
        }

        FeatureTable {
            users: users.into_iter().map(|(id, _)| id.to_owned()).collect(),
            names: spec.names(),
            raw,
            scaled,
            scaler,
        }
    }

    /// Number of columns.
    pub fn n_features(&self) -> usize {
        self.names.len()
    }

    /// The scaled matrix as f32, for K-means.
    pub fn scaled_f32(&self) -> Vec<f32> {
        self.scaled.iter().map(|&x| x as f32).collect()
    }
}

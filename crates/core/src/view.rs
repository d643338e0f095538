//! The cluster × content × metric view: "top content of cluster C by metric M", precomputed.
//!
//! For every cluster and metric the view keeps the `top_n` best content ids (score descending,
//! ties broken by content id ascending), so a request only slices a list. Next to the plain
//! ranking there is a lift ranking, the cluster's rate over the global rate, smoothed with a
//! pseudo-count so one globally viral item does not top every cluster:
//!
//! ```text
//! lift(k, i) = (c_ki + a) / (C_k · g_i / G + a)
//! ```
//!
//! with `c_ki` the cluster's score for item `i`, `C_k` its total, `g_i` and `G` the same over
//! all users. Ratings are ranked by a smoothed mean, `(sum + m·mu) / (n + m)` with `mu` the
//! global mean rating, so one five-star vote does not top a list.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::event::EventType;
use crate::reducer::{FastMap, Interaction, ReducerState};

/// What a ranking optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Number of views.
    Views,
    /// Number of purchase events.
    Purchases,
    /// Number of add-to-cart events.
    AddToCarts,
    /// Number of likes.
    Likes,
    /// Smoothed mean rating.
    Rating,
    /// Watch seconds.
    WatchSeconds,
    /// Weighted sum of all behaviour ([`EngagementWeights`]).
    Engagement,
}

impl Metric {
    /// Every metric, in the order the view stores them.
    pub const ALL: [Metric; 7] = [
        Metric::Views,
        Metric::Purchases,
        Metric::AddToCarts,
        Metric::Likes,
        Metric::Rating,
        Metric::WatchSeconds,
        Metric::Engagement,
    ];

    /// The metric's API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Views => "views",
            Metric::Purchases => "purchases",
            Metric::AddToCarts => "add_to_carts",
            Metric::Likes => "likes",
            Metric::Rating => "rating",
            Metric::WatchSeconds => "watch_seconds",
            Metric::Engagement => "engagement",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not a metric.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown metric `{0}`; expected one of views, purchases, add_to_carts, likes, rating, \
         watch_seconds, engagement"
)]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| UnknownMetric(name.into()))
    }
}

/// How a metric's list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranking {
    /// By the cluster's own score.
    Top,
    /// By the cluster's rate over the global rate (not defined for [`Metric::Rating`]).
    Lift,
}

/// Weights of the engagement score: a weighted count of events plus watch minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngagementWeights {
    /// Weight per event, in [`EventType::ALL`] order.
    pub per_event: [f64; 7],
    /// Weight per minute watched.
    pub per_watch_minute: f64,
}

impl Default for EngagementWeights {
    fn default() -> Self {
        // view, add_to_cart, remove_from_cart, purchase, like, rating, watch
        EngagementWeights { per_event: [1.0, 3.0, 0.0, 5.0, 2.0, 2.0, 1.0], per_watch_minute: 0.2 }
    }
}

/// Parameters of the view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewParams {
    /// Items kept per cluster and metric (requests can page and filter within them).
    pub top_n: usize,
    /// Pseudo-votes of the smoothed rating (`m`).
    pub rating_prior_votes: f64,
    /// Pseudo-count of the lift ranking (`a`).
    pub lift_pseudo_count: f64,
    /// Weights of [`Metric::Engagement`].
    pub engagement: EngagementWeights,
}

impl Default for ViewParams {
    fn default() -> Self {
        ViewParams {
            top_n: 200,
            rating_prior_votes: 5.0,
            lift_pseudo_count: 10.0,
            engagement: EngagementWeights::default(),
        }
    }
}

/// One ranked item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedItem {
    /// The content.
    pub content_id: String,
    /// Its score under the list's metric and ranking.
    pub score: f64,
}

/// The ranked lists of one cluster (or of all users).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterLists {
    /// Users in the cluster.
    pub n_users: usize,
    /// Plain lists, one per metric in [`Metric::ALL`] order.
    pub top: Vec<Vec<RankedItem>>,
    /// Lift lists, one per metric (empty for rating).
    pub lift: Vec<Vec<RankedItem>>,
}

impl ClusterLists {
    /// The list for a metric and ranking.
    pub fn list(&self, metric: Metric, ranking: Ranking) -> &[RankedItem] {
        let lists = match ranking {
            Ranking::Top => &self.top,
            Ranking::Lift => &self.lift,
        };
        lists.get(metric.index()).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The whole view: per-cluster lists plus the global lists for visitors with no cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Lists of cluster `k` at index `k`.
    pub clusters: Vec<ClusterLists>,
    /// Lists over all users (the cold-start "global" pseudo-cluster).
    pub global: ClusterLists,
    /// Mean of all rating values, the prior of the smoothed rating.
    pub global_mean_rating: f64,
    /// The parameters used.
    pub params: ViewParams,
}

/// Per-item sums of one group of users, the raw material of every metric.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ItemSums {
    counts: [u64; 7],
    rating_sum: i64,
    watch_micros: i64,
}

impl ItemSums {
    fn add(&mut self, interaction: &Interaction) {
        for (sum, count) in self.counts.iter_mut().zip(interaction.counts) {
            *sum += u64::from(count);
        }
        self.rating_sum += interaction.rating_sum.0;
        self.watch_micros += interaction.watch_seconds.0;
    }

    fn merge(&mut self, other: &ItemSums) {
        for (sum, count) in self.counts.iter_mut().zip(other.counts) {
            *sum += count;
        }
        self.rating_sum += other.rating_sum;
        self.watch_micros += other.watch_micros;
    }

    fn watch_seconds(&self) -> f64 {
        crate::reducer::Fixed(self.watch_micros).to_f64()
    }

    /// The item's score under a metric; `None` when the group has no support for it.
    fn score(&self, metric: Metric, params: &ViewParams, mu: f64) -> Option<f64> {
        let count = |t: EventType| self.counts[t.index()] as f64;
        let score = match metric {
            Metric::Views => count(EventType::View),
            Metric::Purchases => count(EventType::Purchase),
            Metric::AddToCarts => count(EventType::AddToCart),
            Metric::Likes => count(EventType::Like),
            Metric::WatchSeconds => self.watch_seconds(),
            Metric::Rating => {
                let n = count(EventType::Rating);
                if n == 0.0 {
                    return None;
                }
                let m = params.rating_prior_votes;
                let sum = crate::reducer::Fixed(self.rating_sum).to_f64();
                return Some((sum + m * mu) / (n + m));
            }
            Metric::Engagement => {
                let weights = &params.engagement;
                let events: f64 =
                    self.counts.iter().zip(weights.per_event).map(|(&c, w)| c as f64 * w).sum();
                events + weights.per_watch_minute * self.watch_seconds() / 60.0
            }
        };
        (score > 0.0).then_some(score)
    }
}

impl ClusterView {
    /// Builds the view from the interaction table and each user's cluster.
    ///
    /// `cluster_of` maps a user id to its cluster in `0..n_clusters`; users it maps to `None`
    /// count only in the global lists.
    pub fn build(
        state: &ReducerState,
        n_clusters: usize,
        cluster_of: impl Fn(&str) -> Option<u32> + Sync,
        params: &ViewParams,
    ) -> ClusterView {
        // Content ids are interned on first sight, so the sums are indexed by integers and
        // strings are only copied for the items that make a list.
        let mut content_index: FastMap<&str, u32> = FastMap::default();
        let mut contents: Vec<&str> = Vec::new();
        // Sparse per cluster (a cluster touches a fraction of the catalogue), dense overall.
        let mut per_cluster: Vec<FastMap<u32, ItemSums>> = vec![FastMap::default(); n_clusters];
        let mut global: Vec<ItemSums> = Vec::new();
        let mut n_users = vec![0usize; n_clusters];
        let (mut rating_sum, mut rating_count) = (0i64, 0u64);
        for (user_id, user) in state.users() {
            rating_sum += user.aggregate.rating_sum.0;
            rating_count += user.aggregate.counts[EventType::Rating.index()];
            let cluster = cluster_of(user_id).filter(|&c| (c as usize) < n_clusters);
            if let Some(cluster) = cluster {
                n_users[cluster as usize] += 1;
            }
            for (content_id, interaction) in &user.interactions {
                let idx = *content_index.entry(content_id.as_str()).or_insert_with(|| {
                    contents.push(content_id.as_str());
                    global.push(ItemSums::default());
                    (contents.len() - 1) as u32
                });
                global[idx as usize].add(interaction);
                if let Some(cluster) = cluster {
                    per_cluster[cluster as usize].entry(idx).or_default().add(interaction);
                }
            }
        }
        let mu = if rating_count > 0 {
            crate::reducer::Fixed(rating_sum).to_f64() / rating_count as f64
        } else {
            0.0
        };

        let global_totals = totals(global.iter(), params, mu);
        let clusters = per_cluster
            .into_par_iter()
            .zip(n_users.par_iter())
            .map(|(sums, &n)| {
                let sums: Vec<(u32, ItemSums)> = sums.into_iter().collect();
                lists_of(&sums, &contents, n, Some((&global, &global_totals)), params, mu)
            })
            .collect();
        let global_indexed: Vec<(u32, ItemSums)> =
            global.iter().enumerate().map(|(i, s)| (i as u32, *s)).collect();
        let global_lists = lists_of(&global_indexed, &contents, state.n_users(), None, params, mu);

        ClusterView {
            clusters,
            global: global_lists,
            global_mean_rating: mu,
            params: params.clone(),
        }
    }

    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.clusters.len()
    }

    /// The lists of a cluster, or the global lists for `None` or an unknown cluster.
    pub fn lists(&self, cluster: Option<u32>) -> &ClusterLists {
        cluster.and_then(|c| self.clusters.get(c as usize)).unwrap_or(&self.global)
    }
}

/// Sum of every metric's score over a group's items (the `C_k` and `G` of the lift).
fn totals<'a>(sums: impl Iterator<Item = &'a ItemSums>, params: &ViewParams, mu: f64) -> [f64; 7] {
    let mut merged = ItemSums::default();
    for item in sums {
        merged.merge(item);
    }
    let mut out = [0.0; 7];
    for metric in Metric::ALL {
        if metric != Metric::Rating {
            out[metric.index()] = merged.score(metric, params, mu).unwrap_or(0.0);
        }
    }
    out
}

fn lists_of(
    sums: &[(u32, ItemSums)],
    contents: &[&str],
    n_users: usize,
    global: Option<(&[ItemSums], &[f64; 7])>,
    params: &ViewParams,
    mu: f64,
) -> ClusterLists {
    let own_totals = totals(sums.iter().map(|(_, s)| s), params, mu);
    let mut top = Vec::with_capacity(Metric::ALL.len());
    let mut lift = Vec::with_capacity(Metric::ALL.len());
    let mut scored: Vec<(u32, f64)> = Vec::new();
    for metric in Metric::ALL {
        scored.clear();
        scored.extend(
            sums.iter().filter_map(|(i, s)| s.score(metric, params, mu).map(|score| (*i, score))),
        );
        top.push(best(&mut scored, contents, params.top_n));

        scored.clear();
        if let Some((global_sums, global_totals)) = global.filter(|_| metric != Metric::Rating) {
            let cluster_total = own_totals[metric.index()];
            let global_total = global_totals[metric.index()];
            let a = params.lift_pseudo_count;
            scored.extend(sums.iter().filter_map(|(i, s)| {
                let c = s.score(metric, params, mu)?;
                let g = global_sums[*i as usize].score(metric, params, mu)?;
                let expected = cluster_total * g / global_total;
                Some((*i, (c + a) / (expected + a)))
            }));
        }
        lift.push(best(&mut scored, contents, params.top_n));
    }
    ClusterLists { n_users, top, lift }
}

/// The `n` best items, score descending then content id ascending.
fn best(scored: &mut [(u32, f64)], contents: &[&str], n: usize) -> Vec<RankedItem> {
    let order = |a: &(u32, f64), b: &(u32, f64)| {
        b.1.total_cmp(&a.1).then_with(|| contents[a.0 as usize].cmp(contents[b.0 as usize]))
    };
    let kept = if scored.len() > n && n > 0 {
        scored.select_nth_unstable_by(n - 1, order);
        &mut scored[..n]
    } else {
        &mut scored[..]
    };
    kept.sort_unstable_by(order);
    kept.iter()
        .take(n)
        .map(|&(i, score)| RankedItem { content_id: contents[i as usize].to_owned(), score })
        .collect()
}

//! Selecting a visitor's list from the precomputed view: filters, exclusions and filling.

use std::collections::HashSet;

use centroid_core::event::EventType;
use centroid_core::reducer::UserState;
use centroid_core::view::{ClusterView, Metric, Ranking};

/// One recommended item.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// The content.
    pub content_id: String,
    /// 1-based position in the full (unpaged) list.
    pub rank: usize,
    /// Score under the list's metric.
    pub score: f64,
    /// True when the item came from the global list to fill a short cluster list.
    pub from_global: bool,
}

/// What to select from the view.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The cluster, or `None` for the global list.
    pub cluster: Option<u32>,
    /// The metric to rank by.
    pub metric: Metric,
    /// Plain or lift ranking.
    pub ranking: Ranking,
    /// Items to skip (paging).
    pub offset: usize,
    /// Items to return.
    pub limit: usize,
    /// Content to leave out (already seen or consumed, sent by the browser).
    pub exclude: &'a HashSet<String>,
}

/// Selects items: the cluster's list first, then the global list to fill it, leaving out
/// excluded items and those `keep` refuses (hidden content, category filters).
///
/// Ranks count only the items that pass the filters, so paging with `offset` never repeats or
/// skips an item as long as the view and filters stay the same.
pub fn select(
    view: &ClusterView,
    selection: &Selection<'_>,
    keep: impl Fn(&str) -> bool,
) -> Vec<Recommendation> {
    let own = view.lists(selection.cluster).list(selection.metric, selection.ranking);
    // Lift has no global list to fill from (everything has lift 1 there); use plain scores.
    let fill = view.lists(None).list(selection.metric, Ranking::Top);
    let from_cluster = selection.cluster.is_some_and(|c| (c as usize) < view.n_clusters());

    let mut seen: HashSet<&str> = HashSet::new();
    let candidates =
        own.iter().map(|item| (item, false)).chain(fill.iter().map(|item| (item, from_cluster)));
    let mut out = Vec::with_capacity(selection.limit);
    let mut rank = 0;
    for (item, from_global) in candidates {
        let id = item.content_id.as_str();
        if selection.exclude.contains(id) || !keep(id) || !seen.insert(id) {
            continue;
        }
        rank += 1;
        if rank <= selection.offset {
            continue;
        }
        out.push(Recommendation {
            content_id: item.content_id.clone(),
            rank,
            score: item.score,
            from_global,
        });
        if out.len() == selection.limit {
            break;
        }
    }
    out
}

/// Content a user already consumed through any of `types` (left out of their list).
pub fn consumed_items(state: &UserState, types: &[EventType]) -> HashSet<String> {
    state
        .interactions
        .iter()
        .filter(|(_, interaction)| types.iter().any(|&t| interaction.count(t) > 0))
        .map(|(content_id, _)| content_id.clone())
        .collect()
}

/// The event types that mark content as consumed by default: bought, rated or watched.
pub const DEFAULT_CONSUMED: [EventType; 3] =
    [EventType::Purchase, EventType::Rating, EventType::Watch];

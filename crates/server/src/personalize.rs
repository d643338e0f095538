//! Placing visitors and selecting their recommendations from one served model version; the
//! routes `assign`, `recommendations`, `context` and `profiles` share these.

use std::collections::HashSet;
use std::sync::Arc;

use centroid_core::parse::{parse_json, Message, ParseContext};
use centroid_core::reducer::UserState;
use centroid_core::summary::parse_summary;
use centroid_core::view::{Metric, Ranking};
use centroid_core::Event;
use centroid_pipeline::{consumed_items, current_user_state, select, Placement, Selection};
use serde_json::Value;

use crate::api::{Assignment, ClusterRef, RecommendationsResponse, RecommendedItem};
use crate::config::parse_ranking;
use crate::error::ApiError;
use crate::serving::Serving;
use crate::state::AppState;

/// Places a visitor from posted events (invalid ones skipped) or a session summary.
pub fn place_posted(
    serving: &Serving,
    events: &[Value],
    summary: Option<&Value>,
    ctx: &ParseContext,
) -> Result<Assignment, ApiError> {
    let mut parsed: Vec<Event> = Vec::with_capacity(events.len());
    let mut skipped = 0;
    for value in events {
        match parse_json(value, ctx) {
            Ok(Message::Events { events, .. }) => parsed.extend(events),
            Ok(Message::Identify { .. } | Message::Ignored) => {}
            Err(_) => skipped += 1,
        }
    }

    let mut assignment = match (summary, parsed.is_empty()) {
        (Some(summary), true) => {
            let aggregate =
                parse_summary(summary).map_err(|e| ApiError::field(&e.field, e.reason))?;
            let n_events = aggregate.n_events();
            let placement = match &serving.placer {
                Some(placer) => placer.place(&aggregate)?,
                None => Placement::Global,
            };
            Assignment::new(serving.version, placement, n_events)
        }
        _ => {
            let placement = match &serving.placer {
                Some(placer) => placer.place_events(&parsed)?,
                None => Placement::Global,
            };
            Assignment::new(serving.version, placement, parsed.len() as u64)
        }
    };
    assignment.skipped_events = skipped;
    Ok(assignment)
}

/// Places a stored profile from its current state (cold start without one).
pub fn place_state(serving: &Serving, state: Option<&UserState>) -> Result<Assignment, ApiError> {
    let (placement, n_events) = match (state, &serving.placer) {
        (Some(state), Some(placer)) => {
            (placer.place(&state.aggregate)?, state.aggregate.n_events())
        }
        (Some(state), None) => (Placement::Global, state.aggregate.n_events()),
        (None, _) => (Placement::Global, 0),
    };
    Ok(Assignment::new(serving.version, placement, n_events))
}

/// A profile's state with the events since the last fold (blocking store calls).
pub async fn profile_state(state: &AppState, id: &str) -> Result<Option<UserState>, ApiError> {
    let id = id.to_owned();
    state.blocking(move |store| Ok(current_user_state(store, &id)?)).await
}

/// What a recommendation request asks for, validated.
#[derive(Debug, Clone)]
pub struct RecRequest {
    /// `None`: the global list.
    pub cluster: Option<u32>,
    /// The metric.
    pub metric: Metric,
    /// Plain or lift.
    pub ranking: Ranking,
    /// Items per page.
    pub limit: usize,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
    /// Category filter.
    pub category: Option<String>,
    /// Ids to leave out.
    pub exclude: HashSet<String>,
    /// Embed attributes.
    pub attributes: bool,
}

/// Raw request parameters, as the routes receive them.
#[derive(Debug, Clone, Default)]
pub struct RecParams<'a> {
    /// `cluster`
    pub cluster: Option<&'a str>,
    /// `metric`
    pub metric: Option<&'a str>,
    /// `ranking`
    pub ranking: Option<&'a str>,
    /// `limit`
    pub limit: Option<usize>,
    /// `cursor`
    pub cursor: Option<&'a str>,
    /// `category`
    pub category: Option<&'a str>,
    /// `exclude`, split
    pub exclude: Vec<String>,
    /// `include`
    pub include: Option<&'a str>,
}

impl RecRequest {
    /// Validates parameters against the configuration's defaults and limits.
    pub fn parse(state: &AppState, params: RecParams<'_>) -> Result<RecRequest, ApiError> {
        let cluster = match params.cluster {
            None | Some("global") => None,
            Some(text) => Some(text.parse::<u32>().map_err(|_| {
                ApiError::field(
                    "cluster",
                    format!("expected a cluster id or `global`, got `{text}`"),
                )
            })?),
        };
        let metric = match params.metric {
            None => state.default_metric,
            Some(name) => name.parse().map_err(|e| ApiError::field("metric", e))?,
        };
        let ranking = match params.ranking {
            None => Ranking::Top,
            Some(name) => parse_ranking(name).ok_or_else(|| {
                ApiError::field("ranking", format!("expected `top` or `lift`, got `{name}`"))
            })?,
        };
        let limits = &state.config.limits;
        let limit = params.limit.unwrap_or(state.config.recommendations.default_limit);
        if limit == 0 || limit > limits.max_page_items {
            return Err(ApiError::field(
                "limit",
                format!("must lie in 1..={} (`limits.max_page_items`)", limits.max_page_items),
            ));
        }
        if params.exclude.len() > limits.max_ids {
            return Err(ApiError::PayloadTooLarge {
                what: "the `exclude` list",
                limit: "limits.max_ids",
                value: limits.max_ids,
            });
        }
        let attributes = match params.include {
            None | Some("") => false,
            Some("attributes") => true,
            Some(other) => {
                return Err(ApiError::field(
                    "include",
                    format!("expected `attributes`, got `{other}`"),
                ))
            }
        };
        Ok(RecRequest {
            cluster,
            metric,
            ranking,
            limit,
            cursor: params.cursor.map(Cursor::parse).transpose()?,
            category: params.category.map(str::to_owned),
            exclude: params.exclude.into_iter().collect(),
            attributes,
        })
    }
}

/// Splits a comma-separated list of ids (empty entries dropped).
pub fn split_ids(text: Option<&str>) -> Vec<String> {
    text.map(|t| t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

/// Where a page ended: the model version and the number of items already returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The version the paging started on.
    pub version: i64,
    /// Items (passing the filters) already returned.
    pub offset: usize,
}

impl Cursor {
    fn parse(text: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::field("cursor", "not a cursor from `next_cursor`");
        let (version, offset) =
            text.strip_prefix('v').and_then(|t| t.split_once('.')).ok_or_else(bad)?;
        Ok(Cursor {
            version: version.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
        })
    }

    fn encode(self) -> String {
        format!("v{}.{}", self.version, self.offset)
    }
}

/// The version a request pages on: the cursor's, while it is still kept, else the current.
pub fn serving_for(state: &AppState, cursor: Option<Cursor>) -> Result<Arc<Serving>, ApiError> {
    match cursor {
        None => Ok(state.models.current()),
        Some(cursor) => state.models.at(cursor.version).ok_or_else(|| {
            ApiError::field(
                "cursor",
                format!(
                    "model version {} is no longer served; start again without a cursor",
                    cursor.version
                ),
            )
        }),
    }
}

/// Selects a page from the served view: hidden items, exclusions, consumed items and the
/// category filter are left out, and the list is filled from the global list when short.
pub fn recommend(
    state: &AppState,
    serving: &Serving,
    request: &RecRequest,
    consumed: Option<&HashSet<String>>,
) -> Result<RecommendationsResponse, ApiError> {
    let cluster_ref = request.cluster.map_or_else(ClusterRef::global, ClusterRef::Id);
    let empty = RecommendationsResponse {
        model_version: serving.version,
        cluster: cluster_ref.clone(),
        metric: request.metric.as_str().to_owned(),
        ranking: ranking_name(request.ranking).to_owned(),
        items: Vec::new(),
        next_cursor: None,
    };
    let Some(view) = &serving.view else {
        return match request.cluster {
            Some(_) => Err(ApiError::NoModel),
            None => Ok(empty),
        };
    };
    if let Some(cluster) = request.cluster {
        if cluster as usize >= view.n_clusters() {
            return Err(ApiError::NotFound(format!(
                "cluster {cluster} does not exist in model version {} (k = {})",
                serving.version.unwrap_or_default(),
                view.n_clusters()
            )));
        }
    }

    let merged_exclude;
    let exclude = match consumed {
        Some(consumed) if !consumed.is_empty() => {
            merged_exclude = request.exclude.union(consumed).cloned().collect::<HashSet<_>>();
            &merged_exclude
        }
        _ => &request.exclude,
    };
    let offset = request.cursor.map_or(0, |c| c.offset);
    let selection = Selection {
        cluster: request.cluster,
        metric: request.metric,
        ranking: request.ranking,
        offset,
        // One more than asked tells whether a next page exists.
        limit: request.limit + 1,
        exclude,
    };
    let hidden = state.catalogue.hidden();
    let category = request.category.as_deref();
    let mut picked = select(view, &selection, |id| {
        !hidden.contains(id) && category.is_none_or(|c| state.catalogue.has_category(id, c))
    });
    let has_more = picked.len() > request.limit;
    picked.truncate(request.limit);

    let items = picked
        .into_iter()
        .map(|r| RecommendedItem {
            attributes: request.attributes.then(|| state.catalogue.get(&r.content_id)),
            content_id: r.content_id,
            rank: r.rank,
            score: r.score,
            from_global: r.from_global,
        })
        .collect::<Vec<_>>();
    let next_cursor = match (has_more, serving.version) {
        (true, Some(version)) => Some(Cursor { version, offset: offset + items.len() }.encode()),
        _ => None,
    };
    Ok(RecommendationsResponse { items, next_cursor, ..empty })
}

/// Content the profile consumed, by the configured event types.
pub fn consumed_by(state: &AppState, profile: Option<&UserState>) -> HashSet<String> {
    profile.map(|p| consumed_items(p, &state.consumed_types)).unwrap_or_default()
}

fn ranking_name(ranking: Ranking) -> &'static str {
    match ranking {
        Ranking::Top => "top",
        Ranking::Lift => "lift",
    }
}

//! Request and response types of the v1 API, kept apart from the domain types: the wire
//! format is a boundary of its own. `/openapi.json` is generated from these.

use std::collections::BTreeMap;
use std::sync::Arc;

use centroid_core::ContentItem;
use centroid_pipeline::Placement;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A cluster id, or `"global"` for the cold-start pseudo-cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ClusterRef {
    /// A cluster of the model.
    Id(u32),
    /// Always `"global"`.
    Name(String),
}

impl ClusterRef {
    /// The cold-start pseudo-cluster.
    pub fn global() -> Self {
        ClusterRef::Name("global".into())
    }

    /// The cluster as an index into the view (`None` for global).
    pub fn index(&self) -> Option<u32> {
        match self {
            ClusterRef::Id(id) => Some(*id),
            ClusterRef::Name(_) => None,
        }
    }
}

/// What happened to one posted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored (durable when the answer arrives).
    Accepted,
    /// Already stored earlier; not stored again.
    Duplicate,
    /// Invalid; `field` and `reason` say why.
    Rejected,
    /// From a bot or crawler; not stored.
    Dropped,
    /// Well-formed but carries nothing Centroid uses.
    Ignored,
    /// An identify call; the anonymous profile was merged into the user.
    Identified,
}

/// The outcome of one posted event, by its index in the body.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventResult {
    /// Position in the posted batch.
    pub index: usize,
    /// What happened.
    pub status: EventStatus,
    /// The field at fault, for a rejected event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why it was rejected or dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// True when the client timestamp lay in the future and was set to the receive time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clamped_timestamp: Option<bool>,
}

impl EventResult {
    /// A result with only a status.
    pub fn new(index: usize, status: EventStatus) -> Self {
        EventResult { index, status, field: None, reason: None, clamped_timestamp: None }
    }

    /// This event, rejected.
    pub fn rejected(self, field: &str, reason: impl Into<String>) -> Self {
        EventResult {
            status: EventStatus::Rejected,
            field: Some(field.to_owned()),
            reason: Some(reason.into()),
            clamped_timestamp: None,
            ..self
        }
    }
}

/// Answer of `POST /v1/events`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct EventsResponse {
    /// Events stored.
    pub accepted: u64,
    /// Events already stored before.
    pub duplicates: u64,
    /// Invalid events.
    pub rejected: u64,
    /// Events dropped as coming from bots.
    pub bots_dropped: u64,
    /// Timestamps clamped to the receive time.
    pub clamped: u64,
    /// One entry per posted event, in order.
    pub results: Vec<EventResult>,
}

impl EventsResponse {
    /// Counts the statuses of the results.
    pub fn from_results(results: Vec<EventResult>, bots_dropped: u64) -> Self {
        let count = |status| results.iter().filter(|r| r.status == status).count() as u64;
        EventsResponse {
            accepted: count(EventStatus::Accepted) + count(EventStatus::Identified),
            duplicates: count(EventStatus::Duplicate),
            rejected: count(EventStatus::Rejected),
            bots_dropped,
            clamped: results.iter().filter(|r| r.clamped_timestamp == Some(true)).count() as u64,
            results,
        }
    }
}

/// Body of `POST /v1/assign`: the visitor's events, or the tracker's session summary.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Events in the canonical or Segment form; invalid ones are skipped and counted.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// The tracker's compact session summary (see `crates/core/src/summary.rs`).
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// A write key in the body, for clients that cannot set headers.
    #[serde(rename = "writeKey")]
    pub write_key: Option<String>,
}

/// The second-nearest cluster.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunnerUp {
    /// Its id.
    pub cluster: u32,
    /// Euclidean distance to its centre, in scaled feature space.
    pub distance: f32,
}

/// Where a visitor lands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Assignment {
    /// The model version used; `null` before the first model.
    pub model_version: Option<i64>,
    /// The cluster, or `"global"` when there is nothing to place the visitor by.
    #[schema(value_type = Object)]
    pub cluster: ClusterRef,
    /// Distance to the cluster's centre (absent for global).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
    /// The next-nearest cluster (absent for global, or with one cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<RunnerUp>,
    /// Events the placement used.
    pub n_events: u64,
    /// Posted events that could not be used (invalid), when any.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_events: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Assignment {
    /// The answer for a placement under a model version.
    pub fn new(model_version: Option<i64>, placement: Placement, n_events: u64) -> Self {
        match placement {
            Placement::Cluster(a) => Assignment {
                model_version,
                cluster: ClusterRef::Id(a.cluster),
                distance: Some(a.distance),
                runner_up: a.runner_up.map(|(cluster, distance)| RunnerUp { cluster, distance }),
                n_events,
                skipped_events: 0,
            },
            Placement::Global => Assignment {
                model_version,
                cluster: ClusterRef::global(),
                distance: None,
                runner_up: None,
                n_events,
                skipped_events: 0,
            },
        }
    }
}

/// Query of `GET /v1/recommendations`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendationsQuery {
    /// A cluster id or `global` (default).
    pub cluster: Option<String>,
    /// `views`, `purchases`, `add_to_carts`, `likes`, `rating`, `watch_seconds` or
    /// `engagement`.
    pub metric: Option<String>,
    /// `top` (default) or `lift`.
    pub ranking: Option<String>,
    /// Items per page.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only items of this catalogue category.
    pub category: Option<String>,
    /// Comma-separated content ids to leave out (already seen).
    pub exclude: Option<String>,
    /// `attributes` to embed the catalogue attributes.
    pub include: Option<String>,
}

/// Catalogue attributes of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContentBody {
    /// The id events refer to (taken from the path on `PUT`).
    #[serde(default)]
    pub content_id: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// Link to the item's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Link to an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Any other attributes.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// Inactive items never appear in recommendations.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl From<&ContentItem> for ContentBody {
    fn from(item: &ContentItem) -> Self {
        ContentBody {
            content_id: item.content_id.clone(),
            title: item.title.clone(),
            categories: item.categories.clone(),
            price: item.price,
            url: item.url.clone(),
            image_url: item.image_url.clone(),
            attributes: item.attributes.clone(),
            active: item.active,
        }
    }
}

impl From<ContentBody> for ContentItem {
    fn from(body: ContentBody) -> Self {
        ContentItem {
            content_id: body.content_id,
            title: body.title,
            categories: body.categories,
            price: body.price,
            url: body.url,
            image_url: body.image_url,
            attributes: body.attributes,
            active: body.active,
        }
    }
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RecommendedItem {
    /// The content.
    pub content_id: String,
    /// 1-based position among the items that pass the request's filters.
    pub rank: usize,
    /// Score under the metric and ranking.
    pub score: f64,
    /// True when the item comes from the global list, filling a short cluster list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_global: bool,
    /// Catalogue attributes, with `include=attributes` (null when the catalogue has none).
    /// Shared with the catalogue cache and written without copying.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_attributes")]
    #[schema(value_type = Option<ContentBody>)]
    pub attributes: Option<Option<Arc<ContentItem>>>,
}

/// [`ContentBody`]'s wire form, borrowed from a cached catalogue entry.
#[derive(Serialize)]
struct ContentRef<'a> {
    content_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    categories: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    attributes: &'a Map<String, Value>,
    active: bool,
}

fn serialize_attributes<S: serde::Serializer>(
    attributes: &Option<Option<Arc<ContentItem>>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match attributes.as_ref().and_then(Option::as_ref) {
        None => serializer.serialize_none(),
        Some(item) => ContentRef {
            content_id: &item.content_id,
            title: item.title.as_deref(),
            categories: &item.categories,
            price: item.price,
            url: item.url.as_deref(),
            image_url: item.image_url.as_deref(),
            attributes: &item.attributes,
            active: item.active,
        }
        .serialize(serializer),
    }
}

/// A page of recommendations.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RecommendationsResponse {
    /// The model version the list comes from; `null` before the first model.
    pub model_version: Option<i64>,
    /// The cluster the list is for.
    #[schema(value_type = Object)]
    pub cluster: ClusterRef,
    /// The metric.
    pub metric: String,
    /// `top` or `lift`.
    pub ranking: String,
    /// The items.
    pub items: Vec<RecommendedItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/users/{id}/recommendations`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserRecommendationsQuery {
    /// Metric (default from the configuration).
    pub metric: Option<String>,
    /// `top` or `lift`.
    pub ranking: Option<String>,
    /// Items per page.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only items of this category.
    pub category: Option<String>,
    /// Comma-separated content ids to leave out.
    pub exclude: Option<String>,
    /// `attributes` to embed the catalogue attributes.
    pub include: Option<String>,
}

/// Answer of `GET /v1/users/{id}/recommendations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRecommendationsResponse {
    /// Where the user lands now.
    pub assignment: Assignment,
    /// The list, without what the user already consumed.
    pub recommendations: RecommendationsResponse,
}

/// Query of `GET /v1/content`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Comma-separated content ids.
    pub ids: String,
}

/// Answer of `GET /v1/content?ids=`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentList {
    /// The entries found, in the order asked.
    pub items: Vec<ContentBody>,
    /// Ids not in the catalogue (or deleted).
    pub missing: Vec<String>,
}

/// Body of `POST /v1/content`: entries to insert or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentUpsert {
    /// The entries.
    pub items: Vec<ContentBody>,
}

/// Answer of catalogue writes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentWritten {
    /// Entries inserted or replaced.
    pub upserted: usize,
    /// Entries deleted.
    pub deleted: usize,
}

/// Body of `POST /v1/context`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextRequest {
    /// The known user, when logged in.
    pub user_id: Option<String>,
    /// The browser's anonymous id.
    pub anonymous_id: Option<String>,
    /// The page's new events (stored, then used for the placement); events without ids take
    /// the ids above.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// The tracker's session summary, used when the visitor has no stored profile.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// Metric of the recommendations.
    pub metric: Option<String>,
    /// `top` or `lift`.
    pub ranking: Option<String>,
    /// Number of recommendations.
    pub limit: Option<usize>,
    /// Only items of this category.
    pub category: Option<String>,
    /// Content ids to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// A write key in the body, for `sendBeacon`.
    #[serde(rename = "writeKey")]
    pub write_key: Option<String>,
}

/// Answer of `POST /v1/context`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContextResponse {
    /// The model version every part of the answer used.
    pub model_version: Option<i64>,
    /// Where the visitor lands.
    pub assignment: Assignment,
    /// Ranked recommendations with attributes.
    pub recommendations: RecommendationsResponse,
    /// What happened to the posted events.
    pub events: EventsResponse,
}

/// One browsing session of a profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The session id (`null` for events sent without one).
    pub session_id: Option<String>,
    /// Events in the session.
    pub n_events: u64,
    /// First event time, epoch ms.
    pub first_ts: i64,
    /// Last event time, epoch ms.
    pub last_ts: i64,
}

/// Answer of `GET /v1/profiles/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileResponse {
    /// The profile.
    pub profile_id: String,
    /// The user this anonymous id was merged into, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Events per type.
    pub counts: BTreeMap<String, u64>,
    /// Sum of ratings.
    pub rating_sum: f64,
    /// Sum of watch seconds.
    pub watch_seconds: f64,
    /// Events per category (a content with n categories adds 1/n to each).
    pub categories: BTreeMap<String, f64>,
    /// Distinct content items the profile touched.
    pub n_items: usize,
    /// First event time, epoch ms.
    pub first_ts: i64,
    /// Last event time, epoch ms.
    pub last_ts: i64,
    /// Where the profile lands now.
    pub cluster: Assignment,
    /// The trained model's prediction, when the profile was a training user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trained_cluster: Option<u32>,
    /// Sessions, latest first (at most 50).
    pub sessions: Vec<SessionView>,
}

/// Body of `POST /v1/profiles/merge`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The browser's anonymous id.
    pub anonymous_id: String,
    /// The user who logged in.
    pub user_id: String,
}

/// Answer of `POST /v1/profiles/merge`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergeResponse {
    /// Events moved from the anonymous id to the user.
    pub events_moved: u64,
    /// Whether a stored state was merged.
    pub state_merged: bool,
    /// The user's cluster after the merge.
    pub assignment: Assignment,
}

/// Answer of `DELETE /v1/profiles/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedProfile {
    /// The profile.
    pub profile_id: String,
    /// Events removed.
    pub events: u64,
    /// Stored states removed.
    pub states: u64,
    /// Predictions removed (over every stored model version).
    pub predictions: u64,
    /// Identity links removed.
    pub identity_links: u64,
}

/// Body of `POST /v1/train` (every field optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// Number of clusters or `"auto"` (default from the configuration).
    #[schema(value_type = Option<Object>)]
    pub k: Option<Value>,
    /// K-means seed.
    pub seed: Option<u64>,
    /// Refold every stored event instead of only the new ones.
    #[serde(default)]
    pub full: bool,
}

/// State of a training job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for the training thread.
    Queued,
    /// Training.
    Running,
    /// A model was published.
    Succeeded,
    /// Nothing was published; `error` says why.
    Failed,
}

/// A training job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: u64,
    /// State.
    pub status: JobStatus,
    /// `request`, `interval` or `new_events`.
    pub trigger: String,
    /// When the job was created, epoch ms.
    pub created_at_ms: i64,
    /// When it finished, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// The published version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<i64>,
    /// Clusters of the published model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Training users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_users: Option<usize>,
    /// Events folded by this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folded_events: Option<u64>,
    /// Why the job failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A published model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelView {
    /// Version.
    pub version: i64,
    /// Training end, epoch ms.
    pub trained_at_ms: i64,
    /// Publication, epoch ms.
    pub published_at_ms: i64,
    /// Clusters.
    pub k: usize,
    /// Training users.
    pub n_users: usize,
    /// Events in the training state.
    pub n_events: u64,
    /// K-means inertia.
    pub inertia: f64,
    /// Sampled silhouette.
    pub silhouette: Option<f64>,
    /// Whether K-means converged.
    pub converged: bool,
    /// Whether the version's view and predictions are still stored.
    pub has_view: bool,
}

/// Answer of `GET /v1/models`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelsResponse {
    /// The version this server answers with.
    pub serving_version: Option<i64>,
    /// Every published version, oldest first.
    pub models: Vec<ModelView>,
}

/// Answer of `GET /v1/models/current`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentModel {
    /// Version.
    pub version: i64,
    /// Training end, epoch ms.
    pub trained_at_ms: i64,
    /// Clusters.
    pub k: usize,
    /// Training users per cluster.
    pub cluster_sizes: Vec<usize>,
    /// Training users.
    pub n_users: usize,
    /// Events in the training state.
    pub n_events: u64,
    /// K-means inertia.
    pub inertia: f64,
    /// Sampled silhouette.
    pub silhouette: Option<f64>,
    /// Whether K-means converged.
    pub converged: bool,
    /// Feature columns, in order.
    pub features: Vec<String>,
}

/// Answer of `/healthz` and `/readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or what is not ready.
    pub status: String,
    /// The model version being served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<i64>,
}

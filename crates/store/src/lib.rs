//! Centroid's persistence: the [`Store`] trait, its SQLite backend ([`SqliteStore`]) and the
//! conformance suite every backend must pass ([`conformance`]).
//!
//! The store keeps:
//!
//! - the event log, idempotent by `event_id`, each event numbered by an increasing `seq`;
//! - one reducer state ([`UserState`]) per profile, plus a watermark: the states are the fold
//!   of exactly the events with `seq <= watermark` (see [`Watermark`]);
//! - the content catalogue ([`ContentItem`]) with its active flag;
//! - published model versions with their user predictions and cluster-content view;
//! - identity links (anonymous id → user id) from profile merges.
//!
//! The trait is synchronous so that both SQLite and a later PostgreSQL backend (blocking
//! client plus a pool) can implement it; async callers go through `spawn_blocking`. Every
//! method that writes returns only after its transaction is committed and durable.

#![warn(missing_docs)]

pub mod conformance;
mod error;
pub mod sqlite;

use centroid_core::UserState;
use centroid_core::{ClusterView, ContentItem, Event, ModelVersion, ReducerState, UserPrediction};

pub use error::StoreError;
pub use sqlite::{SqliteOptions, SqliteStore};

/// What [`Store::append_events`] did with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored under this sequence number.
    Accepted {
        /// The event's position in the log.
        seq: i64,
    },
    /// An event with the same `event_id` was already stored (or came earlier in the same
    /// call); this one was not stored again.
    Duplicate,
}

impl AppendOutcome {
    /// The sequence number, when the event was stored.
    pub fn seq(self) -> Option<i64> {
        match self {
            AppendOutcome::Accepted { seq } => Some(seq),
            AppendOutcome::Duplicate => None,
        }
    }
}

/// An event as stored, with its position in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Sequence number; increases with every accepted event and is never reused.
    pub seq: i64,
    /// The event. When it arrived with only an anonymous id that was already linked to a user,
    /// `user_id` holds that user (see [`Store::merge_profiles`]).
    pub event: Event,
}

/// Where the stored reducer states stand.
///
/// The states are the fold of exactly the events with `seq <= seq`. `generation` changes
/// whenever states are changed outside a fold (profile merges and deletions), so a writer
/// that loaded states before such a change cannot overwrite it: [`Store::save_states`]
/// compares both fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Watermark {
    /// Highest sequence number folded into the states (0: none).
    pub seq: i64,
    /// Changes on every profile merge or deletion.
    pub generation: i64,
}

/// How [`Store::save_states`] treats the states it is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Overwrite the given profiles' states; keep every other stored state.
    Upsert,
    /// The given states are all states (a full refold); every other stored state is removed.
    ReplaceAll,
}

/// Whether a content id can be recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentStatus {
    /// In the catalogue and active.
    Active,
    /// In the catalogue but deactivated.
    Inactive,
    /// Deleted from the catalogue, or never in it.
    Missing,
}

/// Summary of a published model, without its centres.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    /// Version number.
    pub version: i64,
    /// Training end time, epoch ms.
    pub trained_at_ms: i64,
    /// Publication time, epoch ms.
    pub published_at_ms: i64,
    /// Number of clusters.
    pub k: usize,
    /// Training users.
    pub n_users: usize,
    /// Events folded into the training state.
    pub n_events: u64,
    /// Sum of squared distances to the centres.
    pub inertia: f64,
    /// Sampled silhouette, when computed.
    pub silhouette: Option<f64>,
    /// Whether K-means converged.
    pub converged: bool,
    /// Whether the predictions and view of this version are still stored (older versions keep
    /// only their model).
    pub has_view: bool,
}

/// What [`Store::merge_profiles`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeOutcome {
    /// Events re-attributed from the anonymous id to the user.
    pub events_moved: u64,
    /// Whether the anonymous profile had a stored state that was merged into the user's.
    pub state_merged: bool,
    /// The watermark after the merge (its generation changed).
    pub watermark: Watermark,
}

/// What [`Store::delete_profile`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletedCounts {
    /// Events of the profile.
    pub events: u64,
    /// Stored reducer states (0 or 1).
    pub states: u64,
    /// Predictions, over every stored model version.
    pub predictions: u64,
    /// Identity links in which the profile took part.
    pub identity_links: u64,
}

/// The persistence interface of Centroid.
///
/// Every writing method runs in one transaction and returns after the commit is durable. A
/// method that fails leaves the store as it was.
pub trait Store: Send + Sync {
    // --- events ---

    /// Appends events in one transaction; one outcome per event, in input order.
    ///
    /// An event whose `event_id` is already stored, or appears earlier in `events`, is a
    /// [`AppendOutcome::Duplicate`] and stores nothing. An anonymous-only event whose
    /// `anonymous_id` is linked to a user is stored under that user.
    fn append_events(&self, events: &[Event]) -> Result<Vec<AppendOutcome>, StoreError>;

    /// Up to `limit` events with `seq > after_seq`, in `seq` order.
    fn events_since(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event of one profile with `seq > after_seq`, in `seq` order.
    fn user_events(&self, user_id: &str, after_seq: i64) -> Result<Vec<StoredEvent>, StoreError>;

    /// Number of stored events.
    fn count_events(&self) -> Result<u64, StoreError>;

    /// Highest sequence number ever assigned (0 before the first event); deleted events keep
    /// their numbers used.
    fn last_seq(&self) -> Result<i64, StoreError>;

    // --- reducer states ---

    /// Where the stored states stand.
    fn watermark(&self) -> Result<Watermark, StoreError>;

    /// Every stored state, in a [`ReducerState::without_dedup`] (the event log guarantees that
    /// only new events are folded into it).
    fn load_states(&self) -> Result<ReducerState, StoreError>;

    /// One profile's stored state.
    fn user_state(&self, user_id: &str) -> Result<Option<UserState>, StoreError>;

    /// The stored states of these profiles (absent ones are left out), in input order.
    fn user_states(&self, user_ids: &[&str]) -> Result<Vec<(String, UserState)>, StoreError>;

    /// Saves states and moves the watermark to `new_seq`, atomically.
    ///
    /// Refuses with [`StoreError::Conflict`], changing nothing, when the stored watermark is not
    /// `expected` (another writer saved states, or a profile was merged or deleted, since the
    /// caller read it). Returns the new watermark.
    fn save_states(
        &self,
        states: &[(&str, &UserState)],
        new_seq: i64,
        expected: Watermark,
        mode: SaveMode,
    ) -> Result<Watermark, StoreError>;

    // --- catalogue ---

    /// Inserts or replaces catalogue entries (a deleted entry comes back).
    fn upsert_content(&self, items: &[ContentItem]) -> Result<(), StoreError>;

    /// Inserts the entries whose id is not in the catalogue and was never deleted; existing
    /// entries are left untouched. Returns how many were inserted. Used to fill the catalogue
    /// from events when no catalogue file exists.
    fn ensure_content(&self, items: &[ContentItem]) -> Result<u64, StoreError>;

    /// The entries with these ids (deleted or unknown ids are left out), in input order.
    fn content(&self, content_ids: &[&str]) -> Result<Vec<ContentItem>, StoreError>;

    /// Up to `limit` entries with ids after `after` (in id byte order).
    fn list_content(&self, after: &str, limit: usize) -> Result<Vec<ContentItem>, StoreError>;

    /// Number of entries (active or not), deleted ones excluded.
    fn count_content(&self) -> Result<u64, StoreError>;

    /// Deletes an entry; it disappears from every recommendation at once. False when absent.
    fn delete_content(&self, content_id: &str) -> Result<bool, StoreError>;

    /// Activates or deactivates an entry. False when absent.
    fn set_content_active(&self, content_id: &str, active: bool) -> Result<bool, StoreError>;

    /// Status of each id, in input order.
    fn content_status(&self, content_ids: &[&str]) -> Result<Vec<ContentStatus>, StoreError>;

    /// Ids that are in the catalogue but must not be recommended (inactive or deleted).
    ///
    /// Small by construction (an index holds only these rows), so a server can keep it in
    /// memory and filter every list with it; ids never in the catalogue are not included.
    fn hidden_content(&self) -> Result<Vec<String>, StoreError>;

    // --- models ---

    /// Publishes a model with its predictions and view in one transaction and returns its
    /// version (`model.version` is ignored; the store assigns the next number).
    ///
    /// Readers see the previous version or this one, never a mix. Predictions and views of
    /// versions older than the previous one are pruned; their models stay listed.
    fn publish_model(
        &self,
        model: &ModelVersion,
        predictions: &[UserPrediction],
        view: &ClusterView,
    ) -> Result<i64, StoreError>;

    /// The latest published model.
    fn current_model(&self) -> Result<Option<ModelVersion>, StoreError>;

    /// One model version.
    fn model(&self, version: i64) -> Result<Option<ModelVersion>, StoreError>;

    /// Every published version, oldest first.
    fn list_models(&self) -> Result<Vec<ModelSummary>, StoreError>;

    /// A profile's cluster under the current model, with that model's version.
    fn user_prediction(&self, user_id: &str) -> Result<Option<(i64, UserPrediction)>, StoreError>;

    /// Every prediction of one version, in user-id order.
    fn predictions(&self, version: i64) -> Result<Vec<UserPrediction>, StoreError>;

    /// The cluster-content view of one version; `None` when unknown or pruned.
    fn view(&self, version: i64) -> Result<Option<ClusterView>, StoreError>;

    // --- profiles ---

    /// Merges an anonymous profile into a user: records the link (later anonymous-only events
    /// are stored under the user), re-attributes the anonymous id's events and merges its
    /// stored state into the user's. Merging an already merged pair changes nothing.
    fn merge_profiles(&self, anonymous_id: &str, user_id: &str)
        -> Result<MergeOutcome, StoreError>;

    /// The user an anonymous id was merged into.
    fn linked_user(&self, anonymous_id: &str) -> Result<Option<String>, StoreError>;

    /// Deletes everything of a profile: its events, state, predictions and identity links.
    /// The next model cannot see it, since its events and state are gone.
    fn delete_profile(&self, profile_id: &str) -> Result<DeletedCounts, StoreError>;

    // --- operations ---

    /// Checks the database's structure; [`StoreError::Corrupt`] with the findings when damaged.
    fn integrity_check(&self) -> Result<(), StoreError>;
}

//! The shared reducer: a deterministic fold of events into per-user state.
//!
//! One [`ReducerState`] holds, for every profile, the user-content interaction table (counts
//! per event type, rating sum, watch seconds, first and last event time per content) and the
//! per-user aggregates that features are built from. Batch training, the incremental fold of
//! new events into stored state, and the online assignment of a visitor from a posted list of
//! events all go through [`ReducerState::apply`], so live visitors and training users become
//! features the same way.
//!
//! Every quantity is combined with an operation that is associative and commutative on exact
//! values: integer counts, `min`/`max` of times, and sums kept in fixed point ([`Fixed`] for
//! ratings and seconds, [`CATEGORY_UNIT`] for category shares). Floating-point sums would
//! depend on the order of the events; these do not, so any order or split of the same events
//! folds to the same bits.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::{FxHashSet, FxHasher};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType, MAX_CATEGORIES_PER_CONTENT, N_EVENT_TYPES};

/// Hash map with a fast, deterministic hasher (the fold's keys are not attacker-sensitive:
/// one request can only reach its own visitor's state).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Micro-units: ratings and seconds are summed as integers of 10⁻⁶, which makes sums exact.
pub const FIXED_SCALE: f64 = 1_000_000.0;

/// A sum of decimal values, kept exactly as an integer number of millionths.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Fixed(pub i64);

impl Fixed {
    /// Rounds a value to the nearest millionth.
    pub fn from_f64(value: f64) -> Fixed {
        Fixed((value * FIXED_SCALE).round() as i64)
    }

    /// The value as a float.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / FIXED_SCALE
    }
}

impl std::ops::AddAssign for Fixed {
    fn add_assign(&mut self, other: Fixed) {
        self.0 = self.0.saturating_add(other.0);
    }
}

/// One event's weight in category totals: the least common multiple of 1..=16, so a content
/// with up to [`MAX_CATEGORIES_PER_CONTENT`] categories splits its event into equal integer
/// parts.
pub const CATEGORY_UNIT: i64 = 720_720;

/// The category an event without categories counts under (as the reference pipeline does with
/// an empty category field).
pub const NO_CATEGORY: &str = "";

/// What one user did with one content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// Events per type, in [`EventType::ALL`] order.
    pub counts: [u32; N_EVENT_TYPES],
    /// Sum of rating values.
    pub rating_sum: Fixed,
    /// Sum of watch seconds (a watch event without a value counts 0 seconds).
    pub watch_seconds: Fixed,
    /// Earliest event time, epoch ms.
    pub first_ts: i64,
    /// Latest event time, epoch ms.
    pub last_ts: i64,
}

impl Interaction {
    fn new(timestamp_ms: i64) -> Self {
        Interaction {
            counts: [0; N_EVENT_TYPES],
            rating_sum: Fixed(0),
            watch_seconds: Fixed(0),
            first_ts: timestamp_ms,
            last_ts: timestamp_ms,
        }
    }

    /// Number of events of one type.
    pub fn count(&self, event_type: EventType) -> u32 {
        self.counts[event_type.index()]
    }

    /// Mean rating, when the user rated the item.
    pub fn mean_rating(&self) -> Option<f64> {
        let n = self.count(EventType::Rating);
        (n > 0).then(|| self.rating_sum.to_f64() / f64::from(n))
    }

    /// Folds another interaction of the same pair into this one.
    pub fn merge(&mut self, other: &Interaction) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
        self.rating_sum += other.rating_sum;
        self.watch_seconds += other.watch_seconds;
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
    }
}

/// Per-user totals the feature vector is built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAggregate {
    /// Events per type, in [`EventType::ALL`] order.
    pub counts: [u64; N_EVENT_TYPES],
    /// Sum of the user's rating values.
    pub rating_sum: Fixed,
    /// Sum of the user's watch seconds.
    pub watch_seconds: Fixed,
    /// Events per category, in units of 1/[`CATEGORY_UNIT`] event.
    pub category_weights: FastMap<String, i64>,
    /// Earliest event time, epoch ms (0 before the first event).
    pub first_ts: i64,
    /// Latest event time, epoch ms.
    pub last_ts: i64,
}

impl UserAggregate {
    /// All of the user's events.
    pub fn n_events(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Mean of the user's ratings, when there are any.
    pub fn mean_rating(&self) -> Option<f64> {
        let n = self.counts[EventType::Rating.index()];
        (n > 0).then(|| self.rating_sum.to_f64() / n as f64)
    }

    fn merge(&mut self, other: &UserAggregate) {
        let was_empty = self.n_events() == 0;
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
        self.rating_sum += other.rating_sum;
        self.watch_seconds += other.watch_seconds;
        for (category, weight) in &other.category_weights {
            *self.category_weights.entry(category.clone()).or_default() += weight;
        }
        if other.n_events() > 0 {
            self.first_ts =
                if was_empty { other.first_ts } else { self.first_ts.min(other.first_ts) };
            self.last_ts = if was_empty { other.last_ts } else { self.last_ts.max(other.last_ts) };
        }
    }
}

/// Everything the reducer knows about one profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    /// Totals over all of the user's events.
    pub aggregate: UserAggregate,
    /// The user's row of the interaction table, by content id.
    pub interactions: FastMap<String, Interaction>,
}

impl UserState {
    fn apply(&mut self, event: &Event) {
        let type_idx = event.event_type.index();
        let rating = match event.event_type {
            EventType::Rating => Fixed::from_f64(event.value.unwrap_or(0.0)),
            _ => Fixed(0),
        };
        let watch = match event.event_type {
            EventType::Watch => Fixed::from_f64(event.value.unwrap_or(0.0)),
            _ => Fixed(0),
        };

        let interaction = self
            .interactions
            .entry(event.content_id.clone())
            .or_insert_with(|| Interaction::new(event.timestamp_ms));
        interaction.counts[type_idx] = interaction.counts[type_idx].saturating_add(1);
        interaction.rating_sum += rating;
        interaction.watch_seconds += watch;
        interaction.first_ts = interaction.first_ts.min(event.timestamp_ms);
        interaction.last_ts = interaction.last_ts.max(event.timestamp_ms);

        let aggregate = &mut self.aggregate;
        if aggregate.n_events() == 0 {
            aggregate.first_ts = event.timestamp_ms;
            aggregate.last_ts = event.timestamp_ms;
        }
        aggregate.counts[type_idx] += 1;
        aggregate.rating_sum += rating;
        aggregate.watch_seconds += watch;
        aggregate.first_ts = aggregate.first_ts.min(event.timestamp_ms);
        aggregate.last_ts = aggregate.last_ts.max(event.timestamp_ms);
        add_category_weights(&mut aggregate.category_weights, &event.categories);
    }

    /// Folds another state of the same user (from disjoint events) into this one.
    pub fn merge(&mut self, other: &UserState) {
        self.aggregate.merge(&other.aggregate);
        for (content_id, interaction) in &other.interactions {
            match self.interactions.get_mut(content_id) {
                Some(mine) => mine.merge(interaction),
                None => {
                    self.interactions.insert(content_id.clone(), *interaction);
                }
            }
        }
    }

    /// Compact binary form, for storing one profile's state.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(&(STATE_FORMAT_VERSION, self)).expect("in-memory state always encodes")
    }

    /// Reads a state written by [`UserState::encode`].
    pub fn decode(bytes: &[u8]) -> Result<UserState, DecodeError> {
        let (version, state): (u32, UserState) =
            postcard::from_bytes(bytes).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
        if version != STATE_FORMAT_VERSION {
            return Err(DecodeError::Version { found: version, expected: STATE_FORMAT_VERSION });
        }
        Ok(state)
    }
}

/// Version of [`UserState::encode`]'s format; bumped on any change of the state's fields.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// A stored state could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a state.
    #[error("corrupt reducer state: {0}")]
    Corrupt(String),
    /// The state was written by another version of the format.
    #[error("reducer state format {found}, expected {expected}")]
    Version {
        /// Version in the bytes.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
}

fn add_category_weights(weights: &mut FastMap<String, i64>, categories: &[String]) {
    debug_assert!(categories.len() <= MAX_CATEGORIES_PER_CONTENT);
    if categories.is_empty() {
        *weights.entry(NO_CATEGORY.to_owned()).or_default() += CATEGORY_UNIT;
        return;
    }
    let share = CATEGORY_UNIT / categories.len() as i64;
    for category in categories {
        match weights.get_mut(category.as_str()) {
            Some(weight) => *weight += share,
            None => {
                weights.insert(category.clone(), share);
            }
        }
    }
}

/// What [`ReducerState::apply`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event was counted.
    Counted,
    /// An event with the same id was already counted; this one was not.
    Duplicate,
}

/// Two states that were to be merged had counted the same event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the states share {shared} event ids; merged states must come from disjoint events")]
pub struct OverlapError {
    /// How many event ids both states had counted.
    pub shared: usize,
}

/// The fold of a set of events: one [`UserState`] per profile.
///
/// When it tracks event ids (the default), an id seen twice counts once. States loaded from
/// the store do not track ids: the store's unique key on `event_id` already guarantees that
/// only new events reach them.
#[derive(Debug, Clone, Default)]
pub struct ReducerState {
    users: FastMap<String, UserState>,
    seen: Option<FxHashSet<u64>>,
}

impl ReducerState {
    /// An empty state that counts each event id once.
    pub fn new() -> Self {
        ReducerState { users: FastMap::default(), seen: Some(FxHashSet::default()) }
    }

    /// An empty state that trusts its input to hold no repeated event id.
    pub fn without_dedup() -> Self {
        ReducerState { users: FastMap::default(), seen: None }
    }

    /// Folds a list of events into a fresh state (ids counted once).
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = ReducerState::new();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &Event) -> Applied {
        if let Some(seen) = &mut self.seen {
            if !seen.insert(event_id_hash(&event.event_id)) {
                return Applied::Duplicate;
            }
        }
        let actor = event.actor();
        match self.users.get_mut(actor) {
            Some(user) => user.apply(event),
            None => self.users.entry(actor.to_owned()).or_default().apply(event),
        }
        Applied::Counted
    }

    /// Adds a user's stored state (loading from the store, or an incremental merge).
    pub fn insert_user(&mut self, user_id: &str, state: UserState) {
        match self.users.get_mut(user_id) {
            Some(mine) => mine.merge(&state),
            None => {
                self.users.insert(user_id.to_owned(), state);
            }
        }
    }

    /// Merges the fold of other, disjoint events into this state.
    ///
    /// Fails, leaving `self` unchanged, when both states tracked ids and share one: summing
    /// them would count that event twice.
    pub fn merge(&mut self, other: ReducerState) -> Result<(), OverlapError> {
        if let (Some(mine), Some(theirs)) = (&self.seen, &other.seen) {
            let shared = theirs.iter().filter(|id| mine.contains(id)).count();
            if shared > 0 {
                return Err(OverlapError { shared });
            }
        }
        match (&mut self.seen, other.seen) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            (seen, _) => *seen = None,
        }
        for (user_id, state) in other.users {
            self.insert_user(&user_id, state);
        }
        Ok(())
    }

    /// Moves everything of `from` (an anonymous id) into `into` (a known user).
    pub fn merge_profiles(&mut self, from: &str, into: &str) -> bool {
        if from == into {
            return false;
        }
        match self.users.remove(from) {
            Some(state) => {
                self.insert_user(into, state);
                true
            }
            None => false,
        }
    }

    /// Forgets a profile; returns its state when it existed.
    pub fn remove_user(&mut self, user_id: &str) -> Option<UserState> {
        self.users.remove(user_id)
    }

    /// One profile's state.
    pub fn user(&self, user_id: &str) -> Option<&UserState> {
        self.users.get(user_id)
    }

    /// Number of profiles.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Number of events counted.
    pub fn n_events(&self) -> u64 {
        self.users.values().map(|u| u.aggregate.n_events()).sum()
    }

    /// Profiles in user-id byte order (the order of feature rows).
    pub fn users_sorted(&self) -> Vec<(&str, &UserState)> {
        let mut users: Vec<(&str, &UserState)> =
            self.users.iter().map(|(id, state)| (id.as_str(), state)).collect();
        users.sort_unstable_by(|a, b| a.0.cmp(b.0));
        users
    }

    /// Profiles in no particular order.
    pub fn users(&self) -> impl Iterator<Item = (&str, &UserState)> {
        self.users.iter().map(|(id, state)| (id.as_str(), state))
    }

    /// The user-content interaction table, sorted by user id then content id.
    pub fn interaction_table(&self) -> Vec<InteractionRow<'_>> {
        let mut rows: Vec<InteractionRow<'_>> = self
            .users
            .iter()
            .flat_map(|(user_id, state)| {
                state.interactions.iter().map(move |(content_id, interaction)| InteractionRow {
                    user_id,
                    content_id,
                    interaction,
                })
            })
            .collect();
        rows.sort_unstable_by(|a, b| (a.user_id, a.content_id).cmp(&(b.user_id, b.content_id)));
        rows
    }
}

/// One row of the interaction table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InteractionRow<'a> {
    /// The profile.
    pub user_id: &'a str,
    /// The content item.
    pub content_id: &'a str,
    /// What the profile did with it.
    pub interaction: &'a Interaction,
}

/// 64-bit fingerprint of an event id for duplicate detection inside one fold.
///
/// SipHash with fixed keys, so the fingerprint is the same in every process. Two distinct ids
/// collide with probability about n²/2⁶⁵ (below 10⁻⁴ at 10⁸ events); the store's unique key on
/// the full id is what guarantees idempotence across batches.
fn event_id_hash(event_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    event_id.hash(&mut hasher);
    hasher.finish()
}

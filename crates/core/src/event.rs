//! The canonical event: what every source (tracker, Segment, CSV imports) is turned into.

use std::fmt;
use std::str::FromStr;

/// Number of event types; the order of [`EventType::ALL`] is part of the feature definition.
pub const N_EVENT_TYPES: usize = 7;

/// Most categories one content item may carry; more are rejected at parse time.
///
/// Category weights are kept in fixed point with a denominator that every split up to this
/// size divides exactly, so the fold stays exact and order-independent.
pub const MAX_CATEGORIES_PER_CONTENT: usize = 16;

/// The behaviour an event records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A page or content view.
    View,
    /// An item put into the cart.
    AddToCart,
    /// An item taken out of the cart.
    RemoveFromCart,
    /// A purchase of one item; `value` is the quantity.
    Purchase,
    /// A like, favourite or wishlist entry.
    Like,
    /// An explicit rating; `value` is the rating.
    Rating,
    /// Watching or listening; `value` is the number of seconds.
    Watch,
}

impl EventType {
    /// Every type, in the fixed order used by tables and features.
    pub const ALL: [EventType; N_EVENT_TYPES] = [
        EventType::View,
        EventType::AddToCart,
        EventType::RemoveFromCart,
        EventType::Purchase,
        EventType::Like,
        EventType::Rating,
        EventType::Watch,
    ];

    /// The canonical name (`view`, `add_to_cart`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::View => "view",
            EventType::AddToCart => "add_to_cart",
            EventType::RemoveFromCart => "remove_from_cart",
            EventType::Purchase => "purchase",
            EventType::Like => "like",
            EventType::Rating => "rating",
            EventType::Watch => "watch",
        }
    }

    /// Position in [`EventType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of the seven canonical event types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}`")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownEventType(name.to_owned()))
    }
}

/// One validated behaviour event.
///
/// Invariants (upheld by the parsers in [`crate::parse`]): `event_id` and `content_id` are
/// non-empty; at least one of `user_id` and `anonymous_id` is set; a rating has a finite value
/// in `0..=10`; watch seconds and purchase quantities are finite and not negative; at most
/// [`MAX_CATEGORIES_PER_CONTENT`] categories, without repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Client-chosen idempotency key (generated when the client sent none).
    pub event_id: String,
    /// The known user, when logged in.
    pub user_id: Option<String>,
    /// The browser's anonymous id.
    pub anonymous_id: Option<String>,
    /// The browsing session, when known.
    pub session_id: Option<String>,
    /// What happened.
    pub event_type: EventType,
    /// The content the event is about.
    pub content_id: String,
    /// Event time, epoch milliseconds (client clock, possibly clamped).
    pub timestamp_ms: i64,
    /// Server receive time, epoch milliseconds.
    pub received_at_ms: i64,
    /// Rating value, watch seconds or purchase quantity.
    pub value: Option<f64>,
    /// Categories of the content, in the order sent.
    pub categories: Vec<String>,
    /// Other content attributes sent along (title, price, ...), as JSON.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// The profile this event belongs to: the user id when known, else the anonymous id.
    pub fn actor(&self) -> &str {
        self.user_id.as_deref().or(self.anonymous_id.as_deref()).unwrap_or_default()
    }
}

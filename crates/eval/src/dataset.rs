//! The evaluation's view of an event log: ids interned in protocol order, one compact record
//! per event, and where the events came from.
//!
//! User, item and category ids are interned into dense indices whose order is the protocol's
//! order: numeric when every id of that kind parses as an integer (EVALUATION.md section 1),
//! byte order otherwise. So "lower item id" in a tie is simply the lower index.

use std::collections::HashMap;

use centroid_core::EventType;

use crate::EvalError;

/// One event: `(user, item, timestamp, payload, row)` of EVALUATION.md section 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Dense user index.
    pub user: u32,
    /// Dense item index.
    pub item: u32,
    /// Event time in the source's unit (seconds for both reference data sets).
    pub timestamp: i64,
    /// 0-based position in the input, the last tie-break of the split.
    pub row: u64,
    /// The behaviour.
    pub action: EventType,
    /// The rating, for rating events (NaN otherwise).
    pub rating: f64,
    /// Start of this event's categories in [`Dataset::category_pool`].
    pub categories_start: u32,
    /// Number of categories of this event.
    pub categories_len: u16,
}

/// An interned event log, ready for the protocol.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// User ids by dense index, in protocol order.
    pub users: Vec<String>,
    /// Item ids by dense index, in protocol order.
    pub items: Vec<String>,
    /// Category labels by dense index, in protocol order (the feature column order).
    pub categories: Vec<String>,
    /// Every event, in input (row) order.
    pub events: Vec<Event>,
    /// Category indices of all events, sliced by [`Event::categories_start`].
    pub category_pool: Vec<u32>,
}

impl Dataset {
    /// The categories of one event.
    pub fn event_categories(&self, event: &Event) -> &[u32] {
        let start = event.categories_start as usize;
        &self.category_pool[start..start + usize::from(event.categories_len)]
    }

    /// Whether every event is an explicit rating (a MovieLens-like data set).
    pub fn is_ratings(&self) -> bool {
        !self.events.is_empty() && self.events.iter().all(|e| e.action == EventType::Rating)
    }
}

/// One event as a loader sees it, with ids still as text.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// User id.
    pub user: String,
    /// Item id.
    pub item: String,
    /// Event time.
    pub timestamp: i64,
    /// The behaviour.
    pub action: EventType,
    /// The rating of a rating event.
    pub rating: Option<f64>,
    /// Category labels of the event (genres of the movie, or the event's own category id).
    pub categories: Vec<String>,
}

/// Builds a [`Dataset`] from raw events given in row order.
#[derive(Debug, Default)]
pub struct DatasetBuilder {
    raw: Vec<RawEvent>,
    extra_categories: Vec<String>,
}

impl DatasetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next event; its row is the number of events added before it.
    pub fn push(&mut self, event: RawEvent) {
        self.raw.push(event);
    }

    /// Makes a category label part of the vocabulary even if no event carries it (the
    /// protocol's genre vocabulary is every label of the catalogue).
    pub fn add_category(&mut self, label: impl Into<String>) {
        self.extra_categories.push(label.into());
    }

    /// Number of events added so far.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether no event was added.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Interns the ids in protocol order and returns the data set.
    pub fn build(self) -> Result<Dataset, EvalError> {
        if self.raw.is_empty() {
            return Err(EvalError::NoEvents);
        }
        if u32::try_from(self.raw.len()).is_err() {
            return Err(EvalError::TooLarge(self.raw.len()));
        }
        let users = Interner::new(self.raw.iter().map(|e| e.user.as_str()));
        let items = Interner::new(self.raw.iter().map(|e| e.item.as_str()));
        let all_categories = self
            .raw
            .iter()
            .flat_map(|e| e.categories.iter().map(String::as_str))
            .chain(self.extra_categories.iter().map(String::as_str));
        let categories = Interner::new(all_categories);

        let mut events = Vec::with_capacity(self.raw.len());
        let mut category_pool = Vec::new();
        for (row, raw) in self.raw.iter().enumerate() {
            let start = category_pool.len();
            let mut own: Vec<u32> = raw.categories.iter().map(|c| categories.index(c)).collect();
            own.sort_unstable();
            own.dedup();
            category_pool.extend_from_slice(&own);
            events.push(Event {
                user: users.index(&raw.user),
                item: items.index(&raw.item),
                timestamp: raw.timestamp,
                row: row as u64,
                action: raw.action,
                rating: raw.rating.unwrap_or(f64::NAN),
                categories_start: u32::try_from(start)
                    .map_err(|_| EvalError::TooLarge(category_pool.len()))?,
                categories_len: u16::try_from(own.len()).unwrap_or(u16::MAX),
            });
        }
        Ok(Dataset {
            users: users.names,
            items: items.names,
            categories: categories.names,
            events,
            category_pool,
        })
    }
}

/// Dense indices for a set of ids, in protocol order.
struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn new<'a>(ids: impl Iterator<Item = &'a str>) -> Self {
        let mut distinct: Vec<&str> = ids.collect();
        distinct.sort_unstable();
        distinct.dedup();

        let numeric: Option<Vec<i128>> =
            distinct.iter().map(|id| id.trim().parse::<i128>().ok()).collect();
        let mut keyed: Vec<(Option<i128>, &str)> = match numeric {
            Some(values) => values.into_iter().map(Some).zip(distinct).collect(),
            None => distinct.into_iter().map(|id| (None, id)).collect(),
        };
        keyed.sort();

        let mut names = Vec::with_capacity(keyed.len());
        let mut index = HashMap::with_capacity(keyed.len());
        for (position, (value, id)) in keyed.into_iter().enumerate() {
            index.insert(id.to_owned(), position as u32);
            names.push(match value {
                Some(value) => value.to_string(),
                None => id.to_owned(),
            });
        }
        Interner { names, index }
    }

    fn index(&self, id: &str) -> u32 {
        self.index[id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(user: &str, item: &str) -> RawEvent {
        RawEvent {
            user: user.into(),
            item: item.into(),
            timestamp: 0,
            action: EventType::View,
            rating: None,
            categories: vec![],
        }
    }

    #[test]
    fn integer_ids_are_ordered_as_numbers() {
        let mut builder = DatasetBuilder::new();
        for (user, item) in [("10", "200"), ("9", "1000"), ("10", "30")] {
            builder.push(raw(user, item));
        }

        let data = builder.build().unwrap();

        assert_eq!(data.users, ["9", "10"]);
        assert_eq!(data.items, ["30", "200", "1000"]);
        assert_eq!(data.events[1].user, 0);
        assert_eq!(data.events[2].row, 2);
    }

    #[test]
    fn text_ids_fall_back_to_byte_order() {
        let mut builder = DatasetBuilder::new();
        builder.push(raw("b", "x"));
        builder.push(raw("a", "10"));

        let data = builder.build().unwrap();

        assert_eq!(data.users, ["a", "b"]);
        assert_eq!(data.items, ["10", "x"]);
    }
}

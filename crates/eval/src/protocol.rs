//! The protocol's data-set-dependent rules: relevance, event weights and the feature family.

use centroid_core::event::N_EVENT_TYPES;
use centroid_core::EventType;

use crate::dataset::{Dataset, Event};

/// Which test events make their item relevant (protocol section 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Relevance {
    /// A rating at or above this value (MovieLens: 4.0); other event types never count.
    RatingAtLeast(f64),
    /// Any test event (Taobao).
    AnyEvent,
}

/// The weight w(e) of a train event (protocol section 7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Rating events weigh 1 at or above this rating and 0 below it; `None`: they weigh
    /// `by_type[rating]`.
    pub rating_threshold: Option<f64>,
    /// Weight of each event type, indexed by [`EventType::index`].
    pub by_type: [f64; N_EVENT_TYPES],
}

impl Weights {
    /// Every event counts 1 (`pop-unweighted`).
    pub const UNIT: Weights = Weights { rating_threshold: None, by_type: [1.0; N_EVENT_TYPES] };

    /// Taobao behaviour weights: view (pv) 1, like (fav) 2, add to cart 3, purchase (buy) 4.
    pub fn behaviour() -> Self {
        let mut by_type = [1.0; N_EVENT_TYPES];
        by_type[EventType::View.index()] = 1.0;
        by_type[EventType::Like.index()] = 2.0;
        by_type[EventType::AddToCart.index()] = 3.0;
        by_type[EventType::Purchase.index()] = 4.0;
        by_type[EventType::RemoveFromCart.index()] = 0.0;
        Weights { rating_threshold: None, by_type }
    }

    /// MovieLens: 1 for a rating at or above `threshold`, else 0.
    pub fn ratings(threshold: f64) -> Self {
        Weights { rating_threshold: Some(threshold), by_type: [1.0; N_EVENT_TYPES] }
    }

    /// w(e).
    pub fn weight(&self, event: &Event) -> f64 {
        match self.rating_threshold {
            Some(threshold) if event.action == EventType::Rating => {
                if event.rating >= threshold {
                    1.0
                } else {
                    0.0
                }
            }
            _ => self.by_type[event.action.index()],
        }
    }
}

/// The hand-made user features of `cluster-pop` (protocol section 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// Genre shares over the whole vocabulary, log1p(n), mean rating (MovieLens).
    Genres,
    /// Shares of the top categories, "other", log1p of the view / cart / like / purchase
    /// counts (Taobao).
    TopCategories {
        /// How many categories get their own column (64).
        n_top: usize,
    },
}

/// Everything that depends on the data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Which test events are relevant.
    pub relevance: Relevance,
    /// Weights of `pop` and of the cluster tables.
    pub weights: Weights,
    /// Whether `pop-unweighted` is a separate method (behaviour data).
    pub unweighted_variant: bool,
    /// The cluster features.
    pub features: FeatureKind,
    /// Length of the recommendation lists (10).
    pub list_len: usize,
}

impl Protocol {
    /// The MovieLens rules: ratings >= 4 are relevant and weigh 1.
    pub fn movielens() -> Self {
        Protocol {
            relevance: Relevance::RatingAtLeast(4.0),
            weights: Weights::ratings(4.0),
            unweighted_variant: false,
            features: FeatureKind::Genres,
            list_len: 10,
        }
    }

    /// The Taobao rules: every event is relevant, behaviours are weighted.
    pub fn taobao() -> Self {
        Protocol {
            relevance: Relevance::AnyEvent,
            weights: Weights::behaviour(),
            unweighted_variant: true,
            features: FeatureKind::TopCategories { n_top: 64 },
            list_len: 10,
        }
    }

    /// The MovieLens rules for rating data, the Taobao rules otherwise.
    pub fn for_dataset(data: &Dataset) -> Self {
        if data.is_ratings() {
            Protocol::movielens()
        } else {
            Protocol::taobao()
        }
    }

    /// Whether a test event makes its item relevant.
    pub fn is_relevant(&self, event: &Event) -> bool {
        match self.relevance {
            Relevance::RatingAtLeast(threshold) => {
                event.action == EventType::Rating && event.rating >= threshold
            }
            Relevance::AnyEvent => true,
        }
    }
}

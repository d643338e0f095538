//! Centroid's domain, with no I/O: the canonical event and its parsers, the shared reducer
//! that folds events into the user-content interaction table and per-user aggregates, the
//! feature spec with its scaler, and the cluster-content view.
//!
//! The same code turns training users and a live visitor's posted events into features, so
//! the two can be compared in one space. See `ARCHITECTURE.md` for where this crate sits.

#![warn(missing_docs)]

pub mod content;
pub mod event;
pub mod features;
pub mod model;
pub mod parse;
pub mod reducer;
pub mod summary;
pub mod view;

pub use content::ContentItem;
pub use event::{Event, EventType};
pub use features::{FeatureOptions, FeatureSpec, FeatureTable, Scaler};
pub use model::{ModelVersion, UserPrediction};
pub use reducer::{Interaction, ReducerState, UserAggregate, UserState};
pub use view::{ClusterView, Metric, Ranking, ViewParams};

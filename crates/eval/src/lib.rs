//! Offline evaluation of Centroid's recommendations, following the protocol in
//! `EVALUATION.md` (v1) literally: the per-user temporal split, the validation split,
//! exclusions, relevance, ranking with its tie rule, HR / NDCG / Recall / coverage at 10, the
//! paired difference to global popularity, and the two fingerprints.
//!
//! Besides the protocol's baselines (`pop`, `cluster-pop`, `blend-pop`, `blend-lift`,
//! `itemknn`, `ease`) it measures cluster strategies that stay cheap to serve: every list
//! comes from data precomputed per cluster plus at most a light step over the visitor's own
//! events (see [`methods::strategies`] and `docs/evaluation.md`).
//!
//! The crate does no database I/O: [`load`] reads the raw MovieLens and Taobao files, or turns
//! canonical events (as the store returns them) into a [`Dataset`]. `centroid evaluate` wires
//! it to the store and writes the table, the JSON report and the plots ([`plot`]).

#![warn(missing_docs)]

pub mod dataset;
mod error;
pub mod features;
pub mod load;
pub mod methods;
pub mod metrics;
pub mod plot;
pub mod protocol;
pub mod rank;
pub mod report;
mod run;
pub mod split;

pub use crate::dataset::{Dataset, DatasetBuilder, RawEvent};
pub use crate::error::EvalError;
pub use crate::methods::cluster::KMeansSettings;
pub use crate::protocol::{FeatureKind, Protocol, Relevance, Weights};
pub use crate::report::{Report, Row};
pub use crate::run::{evaluate, Method, Options};

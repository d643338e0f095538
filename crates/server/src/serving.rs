//! The model being served, swapped atomically when a new version is published.
//!
//! A handler loads the current [`Serving`] once and answers entirely from it, so every answer
//! names the version it used and never mixes two. The last few versions stay reachable by
//! number so that a recommendation cursor keeps paging the list it started on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use centroid_core::{ClusterView, ModelVersion};
use centroid_pipeline::{PipelineError, Placer};
use centroid_store::{Store, StoreError};

/// Versions kept reachable for cursors, besides the current one.
const RECENT_VERSIONS: usize = 4;

/// One model version, ready to answer: its placer and its cluster-content view.
#[derive(Debug)]
pub struct Serving {
    /// `None` before the first model.
    pub version: Option<i64>,
    /// Places visitors with the model's centres and saved scaling.
    pub placer: Option<Placer>,
    /// The cluster × content × metric lists.
    pub view: Option<ClusterView>,
}

impl Serving {
    /// The state before any model is published: everyone is in the global pseudo-cluster.
    pub fn empty() -> Self {
        Serving { version: None, placer: None, view: None }
    }

    /// A published model with its view.
    pub fn new(model: ModelVersion, view: ClusterView) -> Result<Self, PipelineError> {
        let version = model.version;
        Ok(Serving { version: Some(version), placer: Some(Placer::new(model)?), view: Some(view) })
    }

    /// The store's current model and view (empty when there is none yet).
    pub fn load_current(store: &dyn Store) -> Result<Serving, LoadError> {
        let Some(model) = store.current_model()? else { return Ok(Serving::empty()) };
        let view =
            store.view(model.version)?.ok_or(LoadError::MissingView { version: model.version })?;
        Ok(Serving::new(model, view)?)
    }
}

/// The current model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The stored centres are unusable.
    #[error("model: {0}")]
    Model(#[from] PipelineError),
    /// The store lists the version but not its view.
    #[error("model version {version} has no stored view")]
    MissingView {
        /// The version.
        version: i64,
    },
}

/// The swap cell, plus the few previous versions.
#[derive(Debug)]
pub struct Models {
    current: ArcSwap<Serving>,
    recent: Mutex<VecDeque<Arc<Serving>>>,
}

impl Models {
    /// Starts serving `serving`.
    pub fn new(serving: Serving) -> Self {
        Models { current: ArcSwap::from_pointee(serving), recent: Mutex::new(VecDeque::new()) }
    }

    /// The version to answer the current request with; load it once per request.
    pub fn current(&self) -> Arc<Serving> {
        self.current.load_full()
    }

    /// The current or a recent version by number.
    pub fn at(&self, version: i64) -> Option<Arc<Serving>> {
        let current = self.current();
        if current.version == Some(version) {
            return Some(current);
        }
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().find(|s| s.version == Some(version)).cloned()
    }

    /// Swaps a new version in; requests already running finish on the old one. Returns false
    /// (and changes nothing) when `serving` is not newer than the current version.
    pub fn publish(&self, serving: Serving) -> bool {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.current.load_full();
        if serving.version <= current.version {
            return false;
        }
        self.current.store(Arc::new(serving));
        recent.push_front(current);
        recent.truncate(RECENT_VERSIONS);
        true
    }
}

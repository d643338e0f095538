//! The in-memory side of the catalogue: the attributes of recommended items (so answers with
//! attributes need no database read) and the set of hidden (inactive or deleted) items.
//!
//! Both are filled when a model is loaded and updated on every catalogue write through the
//! API; a catalogue changed by another process is picked up by the periodic refresh.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use centroid_core::{ClusterView, ContentItem};
use centroid_store::{Store, StoreError};

/// Ids read from the store per query.
const CHUNK: usize = 500;

/// Cached attributes and the hidden set.
#[derive(Debug, Default)]
pub struct Catalogue {
    /// `None` records an id the catalogue does not have, so it is not asked again.
    items: RwLock<HashMap<String, Option<Arc<ContentItem>>>>,
    hidden: ArcSwap<HashSet<String>>,
}

impl Catalogue {
    /// The ids that must not be recommended.
    pub fn hidden(&self) -> Arc<HashSet<String>> {
        self.hidden.load_full()
    }

    /// Rereads the hidden set.
    pub fn refresh_hidden(&self, store: &dyn Store) -> Result<(), StoreError> {
        let hidden: HashSet<String> = store.hidden_content()?.into_iter().collect();
        self.hidden.store(Arc::new(hidden));
        Ok(())
    }

    /// Loads the attributes of every item a view can recommend.
    pub fn warm(&self, store: &dyn Store, view: &ClusterView) -> Result<(), StoreError> {
        let mut ids: HashSet<&str> = HashSet::new();
        for lists in view.clusters.iter().chain(std::iter::once(&view.global)) {
            for list in lists.top.iter().chain(&lists.lift) {
                ids.extend(list.iter().map(|item| item.content_id.as_str()));
            }
        }
        let ids: Vec<&str> = ids.into_iter().collect();
        self.load(store, &ids)
    }

    /// Loads (or reloads) these ids from the store.
    pub fn load(&self, store: &dyn Store, ids: &[&str]) -> Result<(), StoreError> {
        for chunk in ids.chunks(CHUNK) {
            let found = store.content(chunk)?;
            let mut found: HashMap<String, ContentItem> =
                found.into_iter().map(|item| (item.content_id.clone(), item)).collect();
            let mut items = self.items.write().unwrap_or_else(|e| e.into_inner());
            for id in chunk {
                let item = found.remove(*id).map(Arc::new);
                items.insert((*id).to_owned(), item);
            }
        }
        Ok(())
    }

    /// The cached attributes of an item; `None` when unknown or not cached.
    pub fn get(&self, id: &str) -> Option<Arc<ContentItem>> {
        let items = self.items.read().unwrap_or_else(|e| e.into_inner());
        items.get(id).cloned().flatten()
    }

    /// Whether the cached item has the category (false when not in the catalogue).
    pub fn has_category(&self, id: &str, category: &str) -> bool {
        let items = self.items.read().unwrap_or_else(|e| e.into_inner());
        items
            .get(id)
            .and_then(Option::as_ref)
            .is_some_and(|item| item.categories.iter().any(|c| c == category))
    }

    /// Records entries just written through the API.
    pub fn upserted(&self, written: &[ContentItem]) {
        let mut items = self.items.write().unwrap_or_else(|e| e.into_inner());
        for item in written {
            items.insert(item.content_id.clone(), Some(Arc::new(item.clone())));
        }
    }

    /// Records an entry just deleted through the API.
    pub fn deleted(&self, id: &str) {
        let mut items = self.items.write().unwrap_or_else(|e| e.into_inner());
        items.insert(id.to_owned(), None);
    }

    /// Every cached id with an entry (for the periodic refresh).
    pub fn cached_ids(&self) -> Vec<String> {
        let items = self.items.read().unwrap_or_else(|e| e.into_inner());
        items.keys().cloned().collect()
    }
}

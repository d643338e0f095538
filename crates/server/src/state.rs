//! The application state every handler receives.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use centroid_core::event::EventType;
use centroid_core::view::Metric;
use centroid_store::Store;

use crate::auth::{Keys, Limiter, Origins};
use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::ingest::{BotFilter, EventIds, Writer};
use crate::metrics::Metrics;
use crate::serving::{Models, Serving};
use crate::training::Jobs;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

/// What the handlers share.
pub struct Shared {
    /// The database (its calls block: run them with `spawn_blocking`).
    pub store: Arc<dyn Store>,
    /// The validated configuration.
    pub config: Config,
    /// The API keys.
    pub keys: Keys,
    /// The served model.
    pub models: Models,
    /// Cached catalogue attributes and the hidden set.
    pub catalogue: Catalogue,
    /// The group-commit event writer.
    pub writer: Writer,
    /// Training jobs.
    pub jobs: Jobs,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Rate limits (`None` when off).
    pub limiter: Option<Limiter>,
    /// Allowed browser origins.
    pub origins: Origins,
    /// Bot user agents.
    pub bots: BotFilter,
    /// Ids for events posted without one.
    pub event_ids: EventIds,
    /// Metric of requests that name none.
    pub default_metric: Metric,
    /// Event types that mark content as consumed.
    pub consumed_types: Vec<EventType>,
    /// False until the first model load has been tried, and again while shutting down.
    pub ready: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.inner
    }
}

impl AppState {
    /// Builds the state: loads the current model, the hidden set and the attributes of the
    /// recommendable items, and starts the event writer thread. Blocking.
    pub fn new(store: Arc<dyn Store>, config: Config, keys: Keys) -> Result<AppState, StartError> {
        config.validate().map_err(|e| StartError::Config(e.to_string()))?;
        let metrics = Arc::new(Metrics::new());
        let serving = Serving::load_current(store.as_ref())?;
        let watermark = store.watermark()?;
        let catalogue = Catalogue::default();
        catalogue.refresh_hidden(store.as_ref())?;
        if let Some(view) = &serving.view {
            catalogue.warm(store.as_ref(), view)?;
        }
        metrics.set_model_version(serving.version, false);

        let writer = Writer::start(
            Arc::clone(&store),
            config.ingest.max_group_events,
            config.ingest.queue_requests,
            Arc::clone(&metrics),
        )
        .map_err(StartError::Thread)?;
        let (exact, any) = config.origins();
        let shared = Shared {
            default_metric: config
                .default_metric()
                .map_err(|e| StartError::Config(e.to_string()))?,
            consumed_types: config
                .consumed_types()
                .map_err(|e| StartError::Config(e.to_string()))?,
            limiter: Limiter::new(&config.rate_limit),
            origins: Origins::new(exact, any),
            bots: BotFilter::new(&config.ingest.bot_user_agents),
            event_ids: EventIds::default(),
            models: Models::new(serving),
            jobs: Jobs::new(watermark.seq),
            ready: AtomicBool::new(true),
            store,
            config,
            keys,
            catalogue,
            writer,
            metrics,
        };
        Ok(AppState { inner: Arc::new(shared) })
    }

    /// Runs a blocking store call off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, crate::error::ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, crate::error::ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref())).await?
    }

    /// Swaps in a newly published version, after loading its items' attributes. Blocking.
    pub fn publish(&self, serving: Serving) -> bool {
        if let Some(view) = &serving.view {
            if let Err(error) = self.catalogue.warm(self.store.as_ref(), view) {
                tracing::warn!(%error, "catalogue attributes not loaded for the new model");
            }
        }
        let version = serving.version;
        let swapped = self.models.publish(serving);
        if swapped {
            self.metrics.set_model_version(version, true);
            tracing::info!(version, "serving model");
        }
        swapped
    }

    /// Marks the server as not ready (shutting down).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be read.
    #[error("store: {0}")]
    Store(#[from] centroid_store::StoreError),
    /// The current model could not be loaded.
    #[error("loading the current model: {0}")]
    Model(#[from] crate::serving::LoadError),
    /// A thread could not be started.
    #[error("starting a thread: {0}")]
    Thread(std::io::Error),
}

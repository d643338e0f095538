//! The pipeline against a store: fold what is new, train, publish.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use centroid_core::reducer::{ReducerState, UserState};
use centroid_store::{SaveMode, Store, StoreError};

use crate::train::{train, KSelection, TrainParams};
use crate::PipelineError;

/// Events read from the log per round trip while folding.
const FOLD_CHUNK: usize = 100_000;

/// How a run treats the stored reducer states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Refold every stored event from scratch instead of only those after the watermark.
    pub full: bool,
}

/// Receives progress of a run; the command line draws bars with it, the server logs.
pub trait Progress: Sync {
    /// A stage starts; `total` is its amount of work when known.
    fn stage(&self, name: &'static str, total: Option<u64>);
    /// Work done in the current stage.
    fn advance(&self, amount: u64);
    /// The current stage ended.
    fn done(&self, name: &'static str, elapsed: Duration);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &'static str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn done(&self, _: &'static str, _: Duration) {}
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The published version.
    pub version: i64,
    /// Events folded by this run.
    pub folded_events: u64,
    /// Events in the training state.
    pub n_events: u64,
    /// Training users.
    pub n_users: usize,
    /// Number of clusters.
    pub k: usize,
    /// K-means inertia.
    pub inertia: f64,
    /// Sampled silhouette (computed when K was chosen automatically).
    pub silhouette: Option<f64>,
    /// Users per cluster.
    pub cluster_sizes: Vec<usize>,
    /// K-means iterations.
    pub n_iter: usize,
    /// Whether K-means converged.
    pub converged: bool,
    /// Evidence of `-k auto`.
    pub k_selection: Option<KSelection>,
    /// Seconds per stage, in order.
    pub stages: Vec<(&'static str, Duration)>,
}

/// Folds new events into the stored states, trains and publishes a new model version.
///
/// A run that fails publishes nothing; the current model keeps serving. States are saved
/// before training, so a failed training does not lose the fold.
pub fn run_training(
    store: &dyn Store,
    params: &TrainParams,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<TrainReport, PipelineError> {
    let mut stages = Vec::new();

    let started = Instant::now();
    let (state, folded_events) = fold_pending(store, options, progress)?;
    stages.push(("fold", started.elapsed()));
    progress.done("fold", started.elapsed());

    let started = Instant::now();
    progress.stage("train", None);
    let previous = store.current_model()?;
    let trained = train(&state, params, previous.as_ref())?;
    progress.done("train", started.elapsed());
    stages.extend(trained.timings.iter().copied());

    let started = Instant::now();
    progress.stage("publish", None);
    let version = store.publish_model(&trained.model, &trained.predictions, &trained.view)?;
    stages.push(("publish", started.elapsed()));
    progress.done("publish", started.elapsed());

    tracing::info!(
        version,
        k = trained.model.k,
        n_users = trained.model.n_users,
        inertia = trained.model.inertia,
        folded_events,
        "model published"
    );
    Ok(TrainReport {
        version,
        folded_events,
        n_events: trained.model.n_events,
        n_users: trained.model.n_users,
        k: trained.model.k,
        inertia: trained.model.inertia,
        silhouette: trained.model.silhouette,
        cluster_sizes: trained.model.cluster_sizes.clone(),
        n_iter: trained.n_iter,
        converged: trained.model.converged,
        k_selection: trained.k_selection,
        stages,
    })
}

/// Brings the stored states up to date with the event log and returns them.
///
/// Returns the full state and the number of events folded by this call.
pub fn fold_pending(
    store: &dyn Store,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(ReducerState, u64), PipelineError> {
    let watermark = store.watermark()?;
    let last_seq = store.last_seq()?;
    let (mut state, after) = if options.full {
        (ReducerState::without_dedup(), 0)
    } else {
        (store.load_states()?, watermark.seq)
    };
    progress.stage("fold", Some(u64::try_from(last_seq - after).unwrap_or(0)));

    let mut touched: HashSet<String> = HashSet::new();
    let mut cursor = after;
    let mut folded = 0u64;
    loop {
        let chunk = store.events_since(cursor, FOLD_CHUNK)?;
        let Some(last) = chunk.last() else { break };
        cursor = last.seq;
        for stored in &chunk {
            state.apply(&stored.event);
            if !options.full && !touched.contains(stored.event.actor()) {
                touched.insert(stored.event.actor().to_owned());
            }
        }
        folded += chunk.len() as u64;
        progress.advance(chunk.len() as u64);
    }

    if folded > 0 || options.full {
        let (states, mode): (Vec<(&str, &UserState)>, SaveMode) = if options.full {
            (state.users().collect(), SaveMode::ReplaceAll)
        } else {
            let states = touched
                .iter()
                .filter_map(|user_id| state.user(user_id).map(|s| (user_id.as_str(), s)))
                .collect();
            (states, SaveMode::Upsert)
        };
        match store.save_states(&states, cursor.max(watermark.seq), watermark, mode) {
            Ok(_) => {}
            // Another writer folded or merged meanwhile; our state is still a correct fold of
            // the log for training, and the next run folds again from the stored watermark.
            Err(StoreError::Conflict(reason)) => {
                tracing::warn!(%reason, "reducer states changed during the fold; not saved");
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok((state, folded))
}

/// A profile's state including events that arrived after the last fold.
pub fn current_user_state(
    store: &dyn Store,
    user_id: &str,
) -> Result<Option<UserState>, PipelineError> {
    let watermark = store.watermark()?;
    let stored = store.user_state(user_id)?;
    let pending = store.user_events(user_id, watermark.seq)?;
    if stored.is_none() && pending.is_empty() {
        return Ok(None);
    }

    let mut state = ReducerState::without_dedup();
    if let Some(stored) = stored {
        state.insert_user(user_id, stored);
    }
    for event in &pending {
        let mut event = event.event.clone();
        // Events stored under a linked anonymous id belong to this profile.
        event.user_id = Some(user_id.to_owned());
        state.apply(&event);
    }
    Ok(state.remove_user(user_id))
}

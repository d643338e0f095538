//! Training in the background: jobs started by `POST /v1/train` or by the schedule run on a
//! thread of their own, never on the request workers, one at a time. A successful run
//! publishes a version in the store, and the server swaps it in.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use centroid_pipeline::{run_training, KChoice, Progress, RunOptions, TrainParams};

use crate::api::{JobStatus, JobView};
use crate::error::ApiError;
use crate::serving::Serving;
use crate::state::AppState;

/// Finished jobs kept for `GET /v1/jobs/{id}`.
const KEPT_JOBS: usize = 100;

/// The job table.
#[derive(Debug, Default)]
pub struct Jobs {
    inner: Mutex<JobTable>,
}

#[derive(Debug, Default)]
struct JobTable {
    next_id: u64,
    jobs: BTreeMap<u64, JobView>,
    running: Option<u64>,
    /// `last_seq` of the store when the last run started (for the new-events trigger).
    seq_at_last_run: i64,
    last_run_started: Option<Instant>,
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    /// Number of clusters.
    pub k: KChoice,
    /// K-means seed.
    pub seed: u64,
    /// Refold everything.
    pub full: bool,
}

impl Jobs {
    /// A table whose new-events trigger counts from `seq` (the store's watermark at start, so
    /// events folded into the served model do not trigger a run).
    pub fn new(seq: i64) -> Self {
        let table = JobTable { seq_at_last_run: seq, ..JobTable::default() };
        Jobs { inner: Mutex::new(table) }
    }

    /// One job.
    pub fn get(&self, id: u64) -> Option<JobView> {
        self.lock().jobs.get(&id).cloned()
    }

    /// Whether a job is running.
    pub fn is_running(&self) -> bool {
        self.lock().running.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JobTable> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut JobView)) {
        if let Some(job) = self.lock().jobs.get_mut(&id) {
            f(job);
        }
    }
}

/// Starts a training job on its own thread; refuses while another runs.
pub fn start_job(
    state: &AppState,
    spec: TrainSpec,
    trigger: &'static str,
    last_seq: i64,
) -> Result<JobView, ApiError> {
    let job = {
        let mut table = state.jobs.lock();
        if let Some(running) = table.running {
            return Err(ApiError::Conflict(format!("training job {running} is still running")));
        }
        table.next_id += 1;
        let id = table.next_id;
        let job = JobView {
            id,
            status: JobStatus::Running,
            trigger: trigger.to_owned(),
            created_at_ms: now_ms(),
            finished_at_ms: None,
            model_version: None,
            k: None,
            n_users: None,
            folded_events: None,
            error: None,
        };
        table.jobs.insert(id, job.clone());
        while table.jobs.len() > KEPT_JOBS {
            table.jobs.pop_first();
        }
        table.running = Some(id);
        table.seq_at_last_run = last_seq;
        table.last_run_started = Some(Instant::now());
        job
    };

    let thread_state = state.clone();
    let id = job.id;
    let spawned = std::thread::Builder::new()
        .name("centroid-train".into())
        .spawn(move || run_job(&thread_state, id, &spec));
    if let Err(error) = spawned {
        let mut table = state.jobs.lock();
        table.running = None;
        if let Some(job) = table.jobs.get_mut(&id) {
            job.status = JobStatus::Failed;
            job.error = Some("could not start the training thread".into());
        }
        return Err(ApiError::internal(format!("training thread: {error}")));
    }
    Ok(job)
}

/// Logs pipeline stages.
struct LogProgress {
    job: u64,
}

impl Progress for LogProgress {
    fn stage(&self, name: &'static str, total: Option<u64>) {
        tracing::debug!(job = self.job, stage = name, total, "training stage started");
    }

    fn advance(&self, _: u64) {}

    fn done(&self, name: &'static str, elapsed: Duration) {
        let elapsed_ms = elapsed.as_millis() as u64;
        tracing::debug!(job = self.job, stage = name, elapsed_ms, "training stage done");
    }
}

fn run_job(state: &AppState, id: u64, spec: &TrainSpec) {
    let started = Instant::now();
    let params = TrainParams { k: spec.k.clone(), seed: spec.seed, ..TrainParams::default() };
    let options = RunOptions { full: spec.full };
    let result = run_training(state.store.as_ref(), &params, &options, &LogProgress { job: id });
    state.metrics.observe_training(result.is_ok(), started.elapsed());

    match result {
        Ok(report) => {
            match Serving::load_current(state.store.as_ref()) {
                Ok(serving) => {
                    state.publish(serving);
                }
                Err(error) => tracing::error!(%error, "published model could not be loaded"),
            }
            state.jobs.update(id, |job| {
                job.status = JobStatus::Succeeded;
                job.model_version = Some(report.version);
                job.k = Some(report.k);
                job.n_users = Some(report.n_users);
                job.folded_events = Some(report.folded_events);
            });
        }
        Err(error) => {
            tracing::error!(job = id, %error, "training run failed");
            state.jobs.update(id, |job| {
                job.status = JobStatus::Failed;
                job.error = Some(error.to_string());
            });
        }
    }
    state.jobs.update(id, |job| job.finished_at_ms = Some(now_ms()));
    state.jobs.lock().running = None;
}

/// The periodic work of a running server: scheduled retraining, picking up models published by
/// other processes, refreshing the hidden set, and forgetting idle rate-limit entries.
pub async fn background(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut last_poll = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = scheduled_training(&state, started).await {
            tracing::warn!(%error, "scheduled training check failed");
        }
        let poll = state.config.training.model_poll_secs;
        if poll > 0 && last_poll.elapsed() >= Duration::from_secs(poll) {
            last_poll = Instant::now();
            if let Err(error) = poll_store(&state).await {
                tracing::warn!(%error, "polling the store failed");
            }
            if let Some(limiter) = &state.limiter {
                limiter.retain_recent();
            }
        }
    }
}

async fn scheduled_training(state: &AppState, server_started: Instant) -> Result<(), ApiError> {
    let training = &state.config.training;
    if (training.interval_secs == 0 && training.after_new_events == 0) || state.jobs.is_running() {
        return Ok(());
    }
    let (last_start, seq_at_last_run) = {
        let table = state.jobs.lock();
        (table.last_run_started, table.seq_at_last_run)
    };
    let since = last_start.unwrap_or(server_started).elapsed();
    let interval_due =
        training.interval_secs > 0 && since >= Duration::from_secs(training.interval_secs);

    let last_seq = state.blocking(|store| Ok(store.last_seq()?)).await?;
    let new_events = u64::try_from(last_seq - seq_at_last_run).unwrap_or(0);
    let count_due = training.after_new_events > 0 && new_events >= training.after_new_events;
    if !interval_due && !count_due {
        return Ok(());
    }
    // A timed run without new events would publish the same model again.
    if new_events == 0 && last_start.is_some() {
        return Ok(());
    }

    let trigger = if count_due { "new_events" } else { "interval" };
    let spec = TrainSpec {
        k: state.config.k_choice().map_err(|e| ApiError::internal(e.to_string()))?,
        seed: training.seed,
        full: false,
    };
    let job = start_job(state, spec, trigger, last_seq)?;
    tracing::info!(job = job.id, trigger, new_events, "scheduled training started");
    Ok(())
}

async fn poll_store(state: &AppState) -> Result<(), ApiError> {
    let serving_version = state.models.current().version;
    let poll_state = state.clone();
    state
        .blocking(move |store| {
            poll_state.catalogue.refresh_hidden(store)?;
            let latest = store.list_models()?.last().map(|m| m.version);
            if latest > serving_version && !poll_state.jobs.is_running() {
                let serving = Serving::load_current(store).map_err(ApiError::internal)?;
                poll_state.publish(serving);
            }
            Ok(())
        })
        .await
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

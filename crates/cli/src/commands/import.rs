//! `centroid import`: load events (and catalogue data) from files into a database.
//!
//! Three threads: the parser turns rows into events (`crate::import`), this thread appends
//! them to the store in large transactions, and a third folds the accepted events into an
//! in-memory reducer state. Each batch is durable when its append returns, so a killed import
//! loses at most the batch in flight, and running it again stores only what is missing: event
//! ids are deterministic, and repeats are reported as duplicates.
//!
//! At the end the folded state is merged into the stored states of the profiles it touched,
//! and the watermark moves past the imported events, but only when nothing else changed the
//! event log or the states during the import (the store's watermark check); otherwise the
//! states are left alone and `centroid train` folds the new events from the log.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use centroid_core::{ContentItem, Event, ReducerState, UserState};
use centroid_store::{SaveMode, SqliteStore, Store, StoreError, Watermark};
use crossbeam_channel::{bounded, Receiver, Sender};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{ImportArgs, ImportFormat};
use crate::import::{parse_files, total_bytes, Chunk, Reject, Sink, MAX_REPORTED_REJECTS};

/// Events per transaction. Each commit costs an fsync and a WAL checkpoint; a large batch
/// amortises both, and bounds what a crash can lose to one batch.
const BATCH_EVENTS: usize = 200_000;

/// Environment variable that overrides [`BATCH_EVENTS`]; tests use small batches to interrupt
/// an import after a few commits without a large input.
const BATCH_EVENTS_VAR: &str = "CENTROID_IMPORT_BATCH_EVENTS";

fn batch_events() -> usize {
    let from_env = std::env::var(BATCH_EVENTS_VAR).ok().and_then(|v| v.parse().ok());
    from_env.filter(|&n: &usize| n > 0).unwrap_or(BATCH_EVENTS)
}

/// Events read back per page when folding events that were stored before this import.
const FOLD_PAGE: usize = 100_000;

pub(crate) fn run(args: ImportArgs) -> anyhow::Result<()> {
    for path in &args.files {
        if !path.exists() {
            bail!("`{}` does not exist", path.display());
        }
    }
    let store = SqliteStore::open(&args.db)
        .with_context(|| format!("opening the database `{}`", args.db.display()))?;

    let report = import(&store, args.format, args.files.clone())?;

    tracing::info!(
        rows = report.rows,
        imported = report.imported,
        duplicates = report.duplicates,
        rejected = report.rejected,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "import finished"
    );
    let mut out = std::io::stdout().lock();
    report.print(&mut out, &args)?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Default)]
struct Report {
    rows: u64,
    imported: u64,
    duplicates: u64,
    rejected: u64,
    ignored: u64,
    rejects: Vec<Reject>,
    catalogue_rows: u64,
    catalogue_written: u64,
    content_added: u64,
    merges: u64,
    merges_refused: u64,
    states: StatesOutcome,
    elapsed: Duration,
}

#[derive(Debug, Default)]
enum StatesOutcome {
    /// Nothing new to fold.
    #[default]
    Unchanged,
    /// The touched profiles' states were saved and the watermark moved.
    Saved { profiles: usize, watermark: i64 },
    /// Left for `centroid train`, for the reason given.
    Left(String),
}

impl Report {
    fn print(&self, out: &mut impl Write, args: &ImportArgs) -> std::io::Result<()> {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 { self.imported as f64 / seconds } else { 0.0 };
        writeln!(out, "database:          {}", args.db.display())?;
        writeln!(out, "format:            {}", format_name(args.format))?;
        writeln!(out, "rows read:         {}", self.rows)?;
        writeln!(out, "imported:          {}", self.imported)?;
        writeln!(out, "duplicates:        {}", self.duplicates)?;
        writeln!(out, "rejected:          {}", self.rejected)?;
        writeln!(out, "ignored:           {}", self.ignored)?;
        if self.catalogue_rows > 0 {
            writeln!(out, "catalogue rows:    {}", self.catalogue_rows)?;
            writeln!(out, "catalogue written: {}", self.catalogue_written)?;
        }
        writeln!(out, "content added:     {}", self.content_added)?;
        if self.merges + self.merges_refused > 0 {
            writeln!(out, "profile merges:    {}", self.merges)?;
            writeln!(out, "merges refused:    {}", self.merges_refused)?;
        }
        match &self.states {
            StatesOutcome::Unchanged => writeln!(out, "states:            unchanged")?,
            StatesOutcome::Saved { profiles, watermark } => writeln!(
                out,
                "states:            {profiles} profiles saved, watermark {watermark}"
            )?,
            StatesOutcome::Left(reason) => {
                writeln!(out, "states:            left for `centroid train` ({reason})")?
            }
        }
        writeln!(out, "elapsed:           {seconds:.2} s ({rate:.0} events/s)")?;
        if !self.rejects.is_empty() {
            writeln!(out, "first rejected rows:")?;
            for reject in &self.rejects {
                writeln!(out, "  {}:{}: {}", reject.file, reject.line, reject.reason)?;
            }
        }
        Ok(())
    }
}

fn format_name(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::EventsCsv => "events-csv",
        ImportFormat::EventsJsonl => "events-jsonl",
        ImportFormat::SegmentJsonl => "segment-jsonl",
        ImportFormat::Movielens => "movielens",
        ImportFormat::Taobao => "taobao",
        ImportFormat::Rees46 => "rees46",
    }
}

fn import(store: &dyn Store, format: ImportFormat, files: Vec<PathBuf>) -> anyhow::Result<Report> {
    let started = Instant::now();
    let start_watermark = store.watermark()?;
    let start_seq = store.last_seq()?;

    let progress = progress_bar(total_bytes(&files));
    let (chunk_tx, chunk_rx) = bounded::<Chunk>(8);
    let parser_progress = progress.clone();
    let received_at_ms = now_ms();
    let parser = thread::Builder::new().name("import-parse".into()).spawn(move || {
        let mut sink = Sink::new(chunk_tx, received_at_ms);
        parse_files(format, &files, &mut sink, &parser_progress)
    })?;

    let (fold_tx, fold_rx) = bounded::<FoldWork>(2);
    let folder = thread::Builder::new().name("import-fold".into()).spawn(move || fold(fold_rx))?;

    let mut writer = Writer::new(store, fold_tx, start_watermark.generation, progress.clone());
    let written = writer.run(chunk_rx);
    let Writer { mut report, expected_generation, fold_tx, .. } = writer;
    drop(fold_tx);
    let state = folder.join().map_err(|_| anyhow::anyhow!("the fold thread panicked"))?;
    let parsed = parser.join().map_err(|_| anyhow::anyhow!("the parser thread panicked"))?;
    progress.finish_and_clear();
    written?;
    // A writer failure shows up in the parser as a hang-up, so the writer's error (above) is
    // the one to report; a parser error left the writer with everything read before it.
    let _disconnected = parsed?;

    let expected = Watermark { seq: start_watermark.seq, generation: expected_generation };
    report.states = save_states(store, state, start_seq, expected, report.imported)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    // Drawn only when stderr is a terminal.
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// Accepted events of one batch, and the merges that followed them.
struct FoldWork {
    events: Vec<Event>,
    merges: Vec<(String, String)>,
}

fn fold(work: Receiver<FoldWork>) -> ReducerState {
    // The store already dropped duplicates; only accepted events arrive here.
    let mut state = ReducerState::without_dedup();
    for batch in work {
        for event in &batch.events {
            state.apply(event);
        }
        for (anonymous_id, user_id) in &batch.merges {
            state.merge_profiles(anonymous_id, user_id);
        }
    }
    state
}

/// Appends batches to the store and hands accepted events to the fold thread.
struct Writer<'s> {
    store: &'s dyn Store,
    fold_tx: Sender<FoldWork>,
    batch_events: usize,
    events: Vec<Event>,
    merges: Vec<(String, String)>,
    catalogue: Vec<ContentItem>,
    derived_content: Vec<ContentItem>,
    /// Anonymous ids already looked up in the store's identity links.
    links: HashMap<String, Option<String>>,
    /// The states' generation this import expects; its own merges move it.
    expected_generation: i64,
    report: Report,
    progress: ProgressBar,
}

impl<'s> Writer<'s> {
    fn new(
        store: &'s dyn Store,
        fold_tx: Sender<FoldWork>,
        generation: i64,
        progress: ProgressBar,
    ) -> Self {
        let batch_events = batch_events();
        Writer {
            store,
            fold_tx,
            batch_events,
            events: Vec::with_capacity(batch_events),
            merges: Vec::new(),
            catalogue: Vec::new(),
            derived_content: Vec::new(),
            links: HashMap::new(),
            expected_generation: generation,
            report: Report::default(),
            progress,
        }
    }

    fn run(&mut self, chunks: Receiver<Chunk>) -> anyhow::Result<()> {
        for chunk in chunks {
            self.take(chunk)?;
        }
        self.flush()
    }

    fn take(&mut self, chunk: Chunk) -> anyhow::Result<()> {
        let report = &mut self.report;
        report.rows += chunk.rows;
        report.catalogue_rows += chunk.catalogue_rows;
        report.rejected += chunk.rejected;
        report.ignored += chunk.ignored;
        let room = MAX_REPORTED_REJECTS.saturating_sub(report.rejects.len());
        report.rejects.extend(chunk.rejects.into_iter().take(room));
        self.catalogue.extend(chunk.catalogue);
        self.derived_content.extend(chunk.derived_content);
        self.merges.extend(chunk.merges);

        let mut events = chunk.events.into_iter();
        loop {
            let room = self.batch_events - self.events.len();
            self.events.extend(events.by_ref().take(room));
            if self.events.len() < self.batch_events {
                return Ok(());
            }
            self.flush()?;
        }
    }

    /// Writes what is pending: catalogue entries first, then events (one transaction), then
    /// the merges that followed them.
    fn flush(&mut self) -> anyhow::Result<()> {
        if !self.catalogue.is_empty() {
            self.store.upsert_content(&self.catalogue).context("writing the catalogue")?;
            self.report.catalogue_written += self.catalogue.len() as u64;
            self.catalogue.clear();
        }
        if !self.derived_content.is_empty() {
            let added = self.store.ensure_content(&self.derived_content);
            self.report.content_added += added.context("adding catalogue entries")?;
            self.derived_content.clear();
        }

        let mut events = std::mem::replace(&mut self.events, Vec::with_capacity(self.batch_events));
        self.resolve_links(&mut events)?;
        let outcomes = self.store.append_events(&events).context("storing events")?;
        let mut accepted = Vec::with_capacity(events.len());
        for (event, outcome) in events.into_iter().zip(&outcomes) {
            match outcome.seq() {
                Some(_) => accepted.push(event),
                None => self.report.duplicates += 1,
            }
        }
        self.report.imported += accepted.len() as u64;
        tracing::debug!(accepted = accepted.len(), "batch committed");

        let merges = std::mem::take(&mut self.merges);
        self.merge_profiles(&merges)?;
        self.progress.set_message(format!("{} events stored", self.report.imported));
        // The fold thread only ends early by panicking, which `import` reports on join.
        let _ = self.fold_tx.send(FoldWork { events: accepted, merges });
        Ok(())
    }

    /// Gives anonymous-only events the user their anonymous id was merged into before this
    /// import, as the store does, so that the fold attributes them like the log.
    fn resolve_links(&mut self, events: &mut [Event]) -> anyhow::Result<()> {
        for event in events.iter_mut().filter(|e| e.user_id.is_none()) {
            let Some(anonymous_id) = event.anonymous_id.as_deref() else { continue };
            let linked = match self.links.get(anonymous_id) {
                Some(linked) => linked.clone(),
                None => {
                    let linked = self.store.linked_user(anonymous_id)?;
                    self.links.insert(anonymous_id.to_owned(), linked.clone());
                    linked
                }
            };
            event.user_id = linked;
        }
        Ok(())
    }

    fn merge_profiles(&mut self, merges: &[(String, String)]) -> anyhow::Result<()> {
        for (anonymous_id, user_id) in merges {
            if anonymous_id == user_id {
                continue;
            }
            match self.store.merge_profiles(anonymous_id, user_id) {
                Ok(outcome) => {
                    self.report.merges += 1;
                    // Our own merge moves the generation by one; any other move is someone
                    // else's change, which must make the final state save refuse.
                    let generation = outcome.watermark.generation;
                    if generation == self.expected_generation + 1 {
                        self.expected_generation = generation;
                    }
                    self.links.insert(anonymous_id.clone(), Some(user_id.clone()));
                }
                Err(StoreError::Conflict(reason)) => {
                    tracing::warn!(%reason, "profile merge refused");
                    self.report.merges_refused += 1;
                }
                Err(error) => return Err(error).context("merging profiles"),
            }
        }
        Ok(())
    }
}

/// Merges the import's fold into the stored states and moves the watermark, when the events
/// this import appended are exactly those after the previous end of the log.
fn save_states(
    store: &dyn Store,
    mut state: ReducerState,
    start_seq: i64,
    expected: Watermark,
    imported: u64,
) -> anyhow::Result<StatesOutcome> {
    if imported == 0 && state.n_users() == 0 {
        return Ok(StatesOutcome::Unchanged);
    }
    let end_seq = store.last_seq()?;
    if end_seq - start_seq != imported as i64 {
        let reason = "other writers appended events during the import";
        tracing::info!(reason, "reducer states left for train");
        return Ok(StatesOutcome::Left(reason.into()));
    }

    // Events stored before this import but not yet folded (an interrupted import, or events
    // from the server) are folded now, so that the watermark can move past them.
    let mut after = expected.seq;
    while after < start_seq {
        let page = store.events_since(after, FOLD_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page.iter().filter(|s| s.seq <= start_seq) {
            state.apply(&stored.event);
        }
    }

    let touched: Vec<&str> = state.users().map(|(id, _)| id).collect();
    let mut merged: HashMap<String, UserState> = store.user_states(&touched)?.into_iter().collect();
    for (user_id, user_state) in state.users() {
        merged.entry(user_id.to_owned()).or_default().merge(user_state);
    }
    let states: Vec<(&str, &UserState)> = merged.iter().map(|(id, s)| (id.as_str(), s)).collect();

    match store.save_states(&states, end_seq, expected, SaveMode::Upsert) {
        Ok(watermark) => {
            Ok(StatesOutcome::Saved { profiles: states.len(), watermark: watermark.seq })
        }
        Err(StoreError::Conflict(reason)) => {
            tracing::info!(%reason, "reducer states left for train");
            Ok(StatesOutcome::Left("the states changed during the import".into()))
        }
        Err(error) => Err(error).context("saving reducer states"),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

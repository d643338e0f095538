//! Input formats of `centroid import`: each turns the rows of its files into canonical events,
//! catalogue entries and profile merges, sent to the writer in chunks.
//!
//! Parsing never fails on a bad row: the row is counted as rejected, with its file, line and
//! reason, and the good rows around it are kept. Only a problem with a whole file (it cannot
//! be opened, it lacks a required column) stops the import.

mod canonical;
mod movielens;
mod rees46;
mod taobao;

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use centroid_core::parse::{parse_csv_record, CsvRecord};
use centroid_core::{ContentItem, Event};
use crossbeam_channel::Sender;
use indicatif::ProgressBar;

use crate::args::ImportFormat;

/// Events per chunk handed from the parser thread to the writer.
pub(crate) const CHUNK_EVENTS: usize = 8_000;

/// Rejected rows reported in detail; the rest are only counted.
pub(crate) const MAX_REPORTED_REJECTS: usize = 10;

/// A row that could not be imported.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    /// File name (without directories).
    pub(crate) file: String,
    /// 1-based line number in the (decompressed) file.
    pub(crate) line: u64,
    /// Why the row was refused.
    pub(crate) reason: String,
}

/// Parsed rows on their way to the writer.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// Valid events, in file order.
    pub(crate) events: Vec<Event>,
    /// Profile merges `(anonymous_id, user_id)`, to apply after the chunk's events.
    pub(crate) merges: Vec<(String, String)>,
    /// Entries from a catalogue file: inserted or replaced.
    pub(crate) catalogue: Vec<ContentItem>,
    /// Entries derived from events: inserted only when absent.
    pub(crate) derived_content: Vec<ContentItem>,
    /// Event rows read (valid or not).
    pub(crate) rows: u64,
    /// Catalogue rows read.
    pub(crate) catalogue_rows: u64,
    /// Well-formed rows that carry no event (identify calls, events Centroid does not use).
    pub(crate) ignored: u64,
    /// Rows refused.
    pub(crate) rejected: u64,
    /// Details of the first refused rows.
    pub(crate) rejects: Vec<Reject>,
}

/// The writer hung up (it failed); the parser stops quietly and the writer reports why.
#[derive(Debug)]
pub(crate) struct Disconnected;

/// Collects parsed rows into chunks and sends them.
pub(crate) struct Sink {
    tx: Sender<Chunk>,
    chunk: Chunk,
    seen_content: HashSet<String>,
    reported_rejects: usize,
    file: String,
    /// Receive time given to every event of this import.
    pub(crate) received_at_ms: i64,
}

impl Sink {
    pub(crate) fn new(tx: Sender<Chunk>, received_at_ms: i64) -> Self {
        Sink {
            tx,
            chunk: Chunk::default(),
            seen_content: HashSet::new(),
            reported_rejects: 0,
            file: String::new(),
            received_at_ms,
        }
    }

    fn start_file(&mut self, path: &Path) {
        self.file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    }

    /// Counts one event row.
    pub(crate) fn row(&mut self) {
        self.chunk.rows += 1;
    }

    /// Counts one catalogue row.
    pub(crate) fn catalogue_row(&mut self) {
        self.chunk.catalogue_rows += 1;
    }

    /// Counts a well-formed row that produces no event.
    pub(crate) fn ignored(&mut self) {
        self.chunk.ignored += 1;
    }

    /// Keeps a valid event.
    pub(crate) fn event(&mut self, event: Event) -> Result<(), Disconnected> {
        self.chunk.events.push(event);
        if self.chunk.events.len() >= CHUNK_EVENTS {
            self.flush()?;
        }
        Ok(())
    }

    /// Whether a catalogue entry was already derived for this content id in this import.
    pub(crate) fn knows_content(&self, content_id: &str) -> bool {
        self.seen_content.contains(content_id)
    }

    /// A catalogue entry derived from events: stored only if the catalogue lacks it.
    pub(crate) fn derived_content(&mut self, item: ContentItem) {
        if self.seen_content.insert(item.content_id.clone()) {
            self.chunk.derived_content.push(item);
        }
    }

    /// An entry of a catalogue file.
    pub(crate) fn catalogue(&mut self, item: ContentItem) {
        self.seen_content.insert(item.content_id.clone());
        self.chunk.catalogue.push(item);
    }

    /// A profile merge, applied after the events sent before it.
    pub(crate) fn merge(&mut self, anonymous_id: String, user_id: String) {
        self.chunk.merges.push((anonymous_id, user_id));
    }

    /// Counts a refused row, keeping the details of the first few.
    pub(crate) fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.chunk.rejected += 1;
        if self.reported_rejects < MAX_REPORTED_REJECTS {
            self.reported_rejects += 1;
            let reject = Reject { file: self.file.clone(), line, reason: reason.into() };
            self.chunk.rejects.push(reject);
        }
    }

    /// Sends what has been collected.
    pub(crate) fn flush(&mut self) -> Result<(), Disconnected> {
        let chunk = std::mem::take(&mut self.chunk);
        self.chunk.events.reserve(CHUNK_EVENTS);
        self.tx.send(chunk).map_err(|_| Disconnected)
    }
}

/// Parses every file of an import into the sink.
pub(crate) fn parse_files(
    format: ImportFormat,
    files: &[PathBuf],
    sink: &mut Sink,
    progress: &ProgressBar,
) -> anyhow::Result<Result<(), Disconnected>> {
    type ParseOne = fn(Box<dyn BufRead>, &mut Sink) -> anyhow::Result<Result<(), Disconnected>>;
    let parse_one: ParseOne = match format {
        ImportFormat::EventsCsv => canonical::parse_csv,
        ImportFormat::EventsJsonl | ImportFormat::SegmentJsonl => canonical::parse_jsonl,
        ImportFormat::Taobao => taobao::parse,
        ImportFormat::Rees46 => rees46::parse,
        ImportFormat::Movielens => return movielens::parse(files, sink, progress),
    };
    for path in files {
        sink.start_file(path);
        let input = open_input(path, progress)?;
        let parsed = parse_one(input, sink);
        let parsed = parsed.with_context(|| format!("reading `{}`", path.display()))?;
        if parsed.is_err() {
            return Ok(parsed);
        }
    }
    Ok(sink.flush())
}

/// Opens a file for reading, decompressing gzip (recognised by its magic bytes) on the fly.
/// The progress bar advances with the bytes read from disk.
pub(crate) fn open_input(path: &Path, progress: &ProgressBar) -> anyhow::Result<Box<dyn BufRead>> {
    let file = File::open(path).with_context(|| format!("opening `{}`", path.display()))?;
    let mut raw = BufReader::with_capacity(1 << 20, progress.wrap_read(file));
    let head = raw.fill_buf().with_context(|| format!("reading `{}`", path.display()))?;
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    if gzipped {
        let decoder = flate2::bufread::MultiGzDecoder::new(raw);
        Ok(Box::new(BufReader::with_capacity(1 << 20, decoder)))
    } else {
        Ok(Box::new(raw))
    }
}

/// Size on disk of the inputs, for the progress bar; directories count their files.
pub(crate) fn total_bytes(files: &[PathBuf]) -> u64 {
    let mut total = 0;
    for path in files {
        let Ok(meta) = std::fs::metadata(path) else { continue };
        if meta.is_dir() {
            let Ok(entries) = std::fs::read_dir(path) else { continue };
            total += entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum::<u64>();
        } else {
            total += meta.len();
        }
    }
    total
}

/// A CSV reader over an input; `has_headers` as the format says.
fn csv_reader(input: Box<dyn BufRead>, has_headers: bool) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input)
}

/// What to do with a CSV reading error: a bad row is rejected, an I/O error ends the file.
/// Reads the next well-formed row into `record` and counts it; returns its line number, or
/// `None` at the end. Malformed rows are counted and rejected on the way, so every format
/// reports them the same; only an I/O error ends the file with an error.
fn next_row(
    reader: &mut csv::Reader<Box<dyn BufRead>>,
    record: &mut csv::StringRecord,
    sink: &mut Sink,
) -> anyhow::Result<Option<u64>> {
    loop {
        match reader.read_record(record) {
            Ok(true) => break,
            Ok(false) => return Ok(None),
            Err(error) => csv_row_error(error, sink)?,
        }
    }
    sink.row();
    Ok(Some(record.position().map(|p| p.line()).unwrap_or_default()))
}

fn csv_row_error(error: csv::Error, sink: &mut Sink) -> anyhow::Result<()> {
    let line = error.position().map(|p| p.line()).unwrap_or_default();
    match error.kind() {
        csv::ErrorKind::Io(_) => Err(error.into()),
        csv::ErrorKind::Utf8 { .. } => {
            sink.row();
            sink.reject(line, "not valid UTF-8");
            Ok(())
        }
        _ => {
            sink.row();
            sink.reject(line, error.to_string());
            Ok(())
        }
    }
}

/// Validates a row that was mapped onto the canonical CSV columns, with the core's rules.
fn canonical_event(record: &CsvRecord<'_>, sink: &Sink) -> Result<Event, String> {
    parse_csv_record(record, sink.received_at_ms).map_err(|e| e.to_string())
}

/// The `i`th field of a record, or a reason naming the expected count.
fn field(record: &csv::StringRecord, i: usize, n_fields: usize) -> Result<&str, String> {
    record.get(i).ok_or_else(|| format!("expected {n_fields} fields, found {}", record.len()))
}

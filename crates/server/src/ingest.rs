//! Event collection: turning a posted body into events, and the single writer that commits the
//! events of concurrent requests together (group commit).
//!
//! Every request's events go through one channel to one writer thread. The writer takes what
//! is waiting (up to `ingest.max_group_events`), appends it in one transaction and answers
//! each request only after that commit, so an acknowledged event is durable and a busy server
//! pays one fsync for many requests.

use std::sync::Arc;
use std::time::Instant;

use centroid_core::parse::{parse_json, Message, ParseContext};
use centroid_core::Event;
use centroid_store::{AppendOutcome, Store, StoreError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::api::{EventResult, EventStatus};
use crate::config::LimitsConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// User-agent substrings (lowercase) of well-known bots, crawlers and headless browsers.
pub const BOT_USER_AGENTS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "crawl",
    "headlesschrome",
    "phantomjs",
    "lighthouse",
    "facebookexternalhit",
    "embedly",
    "quora link preview",
    "pinterest",
    "bingpreview",
    "yandex",
    "baiduspider",
    "duckduckgo",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "scrapy",
    "ahrefs",
    "semrush",
    "petalbot",
    "applebot",
];

/// Recognises bot user agents.
#[derive(Debug, Clone)]
pub struct BotFilter {
    patterns: Vec<String>,
}

impl BotFilter {
    /// The built-in list plus `extra` (matched case-insensitively).
    pub fn new(extra: &[String]) -> Self {
        let mut patterns: Vec<String> = BOT_USER_AGENTS.iter().map(|p| (*p).to_owned()).collect();
        patterns.extend(extra.iter().map(|p| p.to_ascii_lowercase()));
        BotFilter { patterns }
    }

    /// True when the user agent contains a bot pattern.
    pub fn is_bot(&self, user_agent: &str) -> bool {
        let lower = user_agent.to_ascii_lowercase();
        self.patterns.iter().any(|p| lower.contains(p.as_str()))
    }
}

/// A posted body split into raw events, before parsing.
#[derive(Debug)]
pub struct RawBatch<'a> {
    /// The events, as sent.
    pub events: Vec<&'a RawValue>,
    /// `writeKey` of the body (for `sendBeacon`, which cannot set headers).
    pub write_key: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "writeKey", default)]
    write_key: Option<String>,
}

/// Splits a body holding one event, an array of events or `{"writeKey", "batch": [...]}`.
pub fn split_body<'a>(body: &'a [u8], limits: &LimitsConfig) -> Result<RawBatch<'a>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::InvalidJson("the body is not UTF-8".into()))?;
    let first = text.trim_start().as_bytes().first().copied();
    let batch = match first {
        Some(b'[') => {
            let events: Vec<&RawValue> = serde_json::from_str(text).map_err(json_error)?;
            RawBatch { events, write_key: None }
        }
        Some(b'{') => {
            let envelope: Envelope<'_> = serde_json::from_str(text).map_err(json_error)?;
            match envelope.batch {
                Some(events) => RawBatch { events, write_key: envelope.write_key },
                None => {
                    let single: &RawValue = serde_json::from_str(text).map_err(json_error)?;
                    RawBatch { events: vec![single], write_key: envelope.write_key }
                }
            }
        }
        _ => {
            return Err(ApiError::InvalidJson(
                "expected an event, an array of events or {\"batch\": [...]}".into(),
            ))
        }
    };
    check_sizes(&batch.events, limits)?;
    Ok(batch)
}

/// The batch and event size limits (413 naming the limit).
pub fn check_sizes(events: &[&RawValue], limits: &LimitsConfig) -> Result<(), ApiError> {
    if events.len() > limits.max_batch_events {
        return Err(ApiError::PayloadTooLarge {
            what: "the number of events",
            limit: "limits.max_batch_events",
            value: limits.max_batch_events,
        });
    }
    if events.iter().any(|e| e.get().len() > limits.max_event_bytes) {
        return Err(ApiError::PayloadTooLarge {
            what: "an event",
            limit: "limits.max_event_bytes",
            value: limits.max_event_bytes,
        });
    }
    Ok(())
}

/// A serde error as our `invalid_json` answer (position, no payload).
pub fn json_error(error: serde_json::Error) -> ApiError {
    ApiError::InvalidJson(format!("malformed JSON: {error}"))
}

/// What parsing a batch produced.
#[derive(Debug, Default)]
pub struct ParsedBatch {
    /// Per-index result so far (accepted events are settled after the commit).
    pub results: Vec<EventResult>,
    /// Events to store, with the index of the record each came from.
    pub events: Vec<(usize, Event)>,
    /// Profile merges requested by identify calls, with their index.
    pub identifies: Vec<(usize, String, String)>,
    /// Events dropped as coming from bots.
    pub bots_dropped: u64,
}

/// Ids for events posted without one: a random per-process prefix and a counter, so they are
/// unique and increase, which keeps the store's unique index on `event_id` append-only
/// (random ids would land all over it).
#[derive(Debug)]
pub struct EventIds {
    prefix: String,
    counter: std::sync::atomic::AtomicU64,
}

impl Default for EventIds {
    fn default() -> Self {
        use rand::Rng;
        let random: u64 = rand::thread_rng().gen();
        EventIds { prefix: format!("s{random:016x}-"), counter: Default::default() }
    }
}

impl EventIds {
    /// A fresh id.
    pub fn next(&self) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}{n:012x}", self.prefix)
    }

    /// Gives an event object without `event_id` (canonical) or `messageId` (Segment) one.
    fn fill(&self, value: &mut Value) {
        let Some(object) = value.as_object_mut() else { return };
        let has_id = ["event_id", "messageId"]
            .iter()
            .any(|key| object.get(*key).is_some_and(|v| !v.is_null() && v != ""));
        if !has_id {
            let id = self.next();
            object.insert("messageId".into(), id.clone().into());
            object.insert("event_id".into(), id.into());
        }
    }
}

/// Parses raw events; invalid ones are rejected with field and reason, the rest are kept.
///
/// `request_is_bot` drops everything (the request's own user agent is a bot); an event whose
/// Segment `context.userAgent` is a bot's is dropped alone.
pub fn parse_batch(
    raw: &[&RawValue],
    ctx: &ParseContext,
    bots: Option<&BotFilter>,
    request_is_bot: bool,
    defaults: Option<&IdDefaults>,
    ids: &EventIds,
) -> ParsedBatch {
    let mut parsed = ParsedBatch { results: Vec::with_capacity(raw.len()), ..Default::default() };
    for (index, raw_event) in raw.iter().enumerate() {
        let mut result = EventResult::new(index, EventStatus::Accepted);
        let value: Value = match serde_json::from_str(raw_event.get()) {
            Ok(value) => value,
            Err(e) => {
                parsed.results.push(result.rejected("event", format!("malformed JSON: {e}")));
                continue;
            }
        };
        let mut value = match defaults {
            Some(defaults) => defaults.fill(value),
            None => value,
        };
        ids.fill(&mut value);
        if request_is_bot
            || bots.is_some_and(|b| event_user_agent(&value).is_some_and(|ua| b.is_bot(ua)))
        {
            parsed.bots_dropped += 1;
            result.status = EventStatus::Dropped;
            result.reason = Some("bot or crawler user agent".into());
            parsed.results.push(result);
            continue;
        }
        match parse_json(&value, ctx) {
            Ok(Message::Events { events, clamped_timestamp }) => {
                result.clamped_timestamp = clamped_timestamp.then_some(true);
                parsed.events.extend(events.into_iter().map(|e| (index, e)));
            }
            Ok(Message::Identify { user_id, anonymous_id }) => {
                result.status = EventStatus::Identified;
                parsed.identifies.push((index, anonymous_id, user_id));
            }
            Ok(Message::Ignored) => result.status = EventStatus::Ignored,
            Err(e) => result = result.rejected(&e.field, e.reason),
        }
        parsed.results.push(result);
    }
    parsed
}

/// The user agent a Segment call carries in `context.userAgent`.
fn event_user_agent(value: &Value) -> Option<&str> {
    value.get("context")?.get("userAgent")?.as_str()
}

/// Visitor ids given once for a whole body (`/v1/context`), filled into events that have none.
#[derive(Debug, Clone, Default)]
pub struct IdDefaults {
    /// The known user.
    pub user_id: Option<String>,
    /// The browser's anonymous id.
    pub anonymous_id: Option<String>,
}

impl IdDefaults {
    fn fill(&self, mut value: Value) -> Value {
        let Some(object) = value.as_object_mut() else { return value };
        let has_ids = ["user_id", "anonymous_id", "userId", "anonymousId"]
            .iter()
            .any(|key| object.get(*key).is_some_and(|v| !v.is_null()));
        if has_ids {
            return value;
        }
        // Both spellings: the canonical parser reads one, the Segment parser the other.
        if let Some(user_id) = &self.user_id {
            object.insert("user_id".into(), user_id.clone().into());
            object.insert("userId".into(), user_id.clone().into());
        }
        if let Some(anonymous_id) = &self.anonymous_id {
            object.insert("anonymous_id".into(), anonymous_id.clone().into());
            object.insert("anonymousId".into(), anonymous_id.clone().into());
        }
        value
    }
}

/// Folds the store's outcomes into the per-index results; `indices[i]` is the record the
/// `i`-th stored event came from.
pub fn settle(results: &mut [EventResult], indices: &[usize], outcomes: &[AppendOutcome]) {
    debug_assert_eq!(indices.len(), outcomes.len());
    // An Order Completed record gives several events: accepted when any line was new.
    let mut any_new = vec![false; results.len()];
    let mut any_event = vec![false; results.len()];
    for (index, outcome) in indices.iter().zip(outcomes) {
        any_event[*index] = true;
        if matches!(outcome, AppendOutcome::Accepted { .. }) {
            any_new[*index] = true;
        }
    }
    for (index, result) in results.iter_mut().enumerate() {
        if any_event[index] && !any_new[index] {
            result.status = EventStatus::Duplicate;
        }
    }
}

type Reply = oneshot::Sender<Result<Vec<AppendOutcome>, Arc<StoreError>>>;

struct Job {
    events: Vec<Event>,
    reply: Reply,
}

/// The handle of the writer thread.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("n_events", &self.events.len()).finish()
    }
}

impl Writer {
    /// Starts the writer thread; it ends when the last handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        max_group_events: usize,
        queue: usize,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(queue);
        std::thread::Builder::new()
            .name("centroid-writer".into())
            .spawn(move || write_loop(store.as_ref(), rx, max_group_events, &metrics))?;
        Ok(Writer { tx })
    }

    /// Appends events; returns after their commit, one outcome per event.
    pub async fn append(&self, events: Vec<Event>) -> Result<Vec<AppendOutcome>, ApiError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { events, reply })
            .await
            .map_err(|_| ApiError::Unavailable("the event writer has stopped".into()))?;
        match answer.await {
            Ok(Ok(outcomes)) => Ok(outcomes),
            Ok(Err(error)) => Err(ApiError::internal(format!("store: {error}"))),
            Err(_) => Err(ApiError::internal("the event writer dropped a request")),
        }
    }
}

fn write_loop(
    store: &dyn Store,
    mut rx: mpsc::Receiver<Job>,
    max_group_events: usize,
    metrics: &Metrics,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut n_events = first.events.len();
        let mut jobs = vec![first];
        while n_events < max_group_events {
            match rx.try_recv() {
                Ok(job) => {
                    n_events += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }

        let mut all = Vec::with_capacity(n_events);
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            replies.push((job.events.len(), job.reply));
            all.extend(job.events);
        }
        let started = Instant::now();
        let result = store.append_events(&all);
        metrics.observe_commit(all.len(), started.elapsed());

        match result {
            Ok(outcomes) => {
                let mut rest = outcomes.as_slice();
                for (n, reply) in replies {
                    let (mine, tail) = rest.split_at(n.min(rest.len()));
                    rest = tail;
                    // The request may have gone (client disconnected); its events are stored.
                    let _ = reply.send(Ok(mine.to_vec()));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for (_, reply) in replies {
                    let _ = reply.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
    tracing::debug!("event writer stopped");
}

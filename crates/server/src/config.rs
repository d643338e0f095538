//! The server's configuration: one [`Config`] loaded from a TOML file, then `CENTROID_*`
//! environment variables, then command-line flags, and validated once at start.
//!
//! Environment variables name a key with its section, separated by a double underscore:
//! `CENTROID_SERVER__BIND=0.0.0.0:8080` sets `server.bind`. Every field has a default, so the
//! server starts with no file at all; `config.example.toml` at the repository root documents
//! each key and is checked against these structs by a test.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use centroid_core::event::EventType;
use centroid_core::view::{Metric, Ranking};
use centroid_pipeline::KChoice;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "CENTROID_";

/// Everything the server can be told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listening address, timeouts and shutdown.
    pub server: ServerConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// API keys.
    pub auth: AuthConfig,
    /// Which web origins may call the API from a browser.
    pub cors: CorsConfig,
    /// Size limits of requests.
    pub limits: LimitsConfig,
    /// Request rate limits per key and client address.
    pub rate_limit: RateLimitConfig,
    /// Event collection.
    pub ingest: IngestConfig,
    /// Recommendation defaults.
    pub recommendations: RecommendationsConfig,
    /// Background training.
    pub training: TrainingConfig,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// A request taking longer is answered 503 `unavailable`.
    pub request_timeout_ms: u64,
    /// On SIGINT/SIGTERM, how long in-flight requests may take to finish.
    pub shutdown_grace_secs: u64,
    /// Serve the demo shop at `/demo/` (`centroid serve --demo`).
    pub demo: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_ms: 10_000,
            shutdown_grace_secs: 30,
            demo: false,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// SQLite database file (created when missing); `--db` overrides it.
    pub path: Option<PathBuf>,
    /// `synchronous = FULL` (true): an acknowledged event survives a power loss.
    pub synchronous_full: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { path: None, synchronous_full: true }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Public write key: events, assign, context, recommendations and content reads. Safe to
    /// put in a web page.
    pub write_key: Option<String>,
    /// Secret admin key: everything, including catalogue writes, profiles and training.
    pub admin_key: Option<String>,
    /// Where keys generated on first start are kept when none are configured (default: the
    /// database path with `.keys.toml` appended).
    pub keys_file: Option<PathBuf>,
}

/// `[cors]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins (`https://shop.example`, with a port when not the default) whose pages may
    /// call the API; `"*"` allows any. A page served by this server's own host is always
    /// allowed.
    pub allowed_origins: Vec<String>,
}

/// `[limits]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most events in one `POST /v1/events` or `/v1/context` body.
    pub max_batch_events: usize,
    /// Largest single event, in bytes of JSON.
    pub max_event_bytes: usize,
    /// Most events in one `POST /v1/assign` body.
    pub max_assign_events: usize,
    /// Client timestamps later than the receive time plus this are clamped and flagged.
    pub max_future_ms: i64,
    /// Most items per recommendation page.
    pub max_page_items: usize,
    /// Most ids in one `GET /v1/content?ids=` or `exclude=` list.
    pub max_ids: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 1 << 20,
            max_batch_events: 500,
            max_event_bytes: 16 * 1024,
            max_assign_events: 1_000,
            max_future_ms: 60_000,
            max_page_items: 100,
            max_ids: 500,
        }
    }
}

/// `[rate_limit]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second for one key from one client address; 0 turns limits off.
    pub requests_per_second: u32,
    /// Requests allowed in a burst above the sustained rate.
    pub burst: u32,
    /// Take the client address from the first `X-Forwarded-For` entry (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { requests_per_second: 50, burst: 200, trust_forwarded_for: false }
    }
}

/// `[ingest]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Most events the writer commits in one transaction (concurrent requests are grouped).
    pub max_group_events: usize,
    /// Requests that may wait for the writer before new ones wait for a place in the queue.
    pub queue_requests: usize,
    /// Drop events whose user agent looks like a bot or crawler.
    pub drop_bots: bool,
    /// Extra user-agent substrings (case-insensitive) that mark a bot, besides the built-in list.
    pub bot_user_agents: Vec<String>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_group_events: 10_000,
            queue_requests: 4_096,
            drop_bots: true,
            bot_user_agents: Vec::new(),
        }
    }
}

/// `[recommendations]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommendationsConfig {
    /// Items per page when the request names no `limit`.
    pub default_limit: usize,
    /// Metric when the request names none.
    pub default_metric: String,
    /// Event types that mark content as consumed by a known user (left out of their list).
    pub consumed_event_types: Vec<String>,
}

impl Default for RecommendationsConfig {
    fn default() -> Self {
        RecommendationsConfig {
            default_limit: 10,
            default_metric: Metric::Engagement.as_str().to_owned(),
            consumed_event_types: ["purchase", "rating", "watch"].map(String::from).to_vec(),
        }
    }
}

/// `[training]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Retrain every this many seconds; 0: no timed retraining.
    pub interval_secs: u64,
    /// Retrain once this many events arrived since the last run; 0: no count trigger.
    pub after_new_events: u64,
    /// Number of clusters, or `"auto"`.
    pub k: String,
    /// K-means seed.
    pub seed: u64,
    /// How often to look for a model published by another process (`centroid train`), in
    /// seconds; 0: never.
    pub model_poll_secs: u64,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            interval_secs: 0,
            after_new_events: 0,
            k: "auto".to_owned(),
            seed: 0,
            model_poll_secs: 5,
        }
    }
}

/// Values given on the command line; they override the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--db`
    pub db: Option<PathBuf>,
    /// `--bind`
    pub bind: Option<SocketAddr>,
    /// `--demo`
    pub demo: bool,
}

/// The configuration could not be read or is invalid; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file, variable or flag could not be read into the structs.
    #[error("{0}")]
    Load(#[from] Box<figment::Error>),
    /// A value was read but is not acceptable.
    #[error("`{key}`: {reason}")]
    Invalid {
        /// The key at fault, `section.field`.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// The `PREFIX<SECTION>__<KEY>` variables. Every setting lives in a section, so a variable
/// without `__` (such as `CENTROID_IMPORT_BATCH_EVENTS`, a knob of another command) is not
/// ours and is left alone rather than refused as an unknown key.
fn environment(prefix: &str) -> Env {
    Env::prefixed(prefix).split("__").filter(|key| key.as_str().contains('.'))
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

impl Config {
    /// Reads the file (when given), the environment and the flags, in that order, and validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Config::load_from(file, environment(ENV_PREFIX), overrides)
    }

    /// [`Config::load`] with the environment provider given (tests pass a fixed one).
    pub fn load_from(
        file: Option<&Path>,
        env: Env,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(invalid("--config", format!("{} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(env);
        if let Some(db) = &overrides.db {
            figment = figment.merge(("database.path", db));
        }
        if let Some(bind) = overrides.bind {
            figment = figment.merge(("server.bind", bind.to_string()));
        }
        if overrides.demo {
            figment = figment.merge(("server.demo", true));
        }
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: ranges, names and cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let limits = &self.limits;
        for (key, value) in [
            ("limits.max_body_bytes", limits.max_body_bytes),
            ("limits.max_batch_events", limits.max_batch_events),
            ("limits.max_event_bytes", limits.max_event_bytes),
            ("limits.max_assign_events", limits.max_assign_events),
            ("limits.max_page_items", limits.max_page_items),
            ("limits.max_ids", limits.max_ids),
            ("ingest.max_group_events", self.ingest.max_group_events),
            ("ingest.queue_requests", self.ingest.queue_requests),
            ("recommendations.default_limit", self.recommendations.default_limit),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if limits.max_future_ms < 0 {
            return Err(invalid("limits.max_future_ms", "must not be negative"));
        }
        if self.recommendations.default_limit > limits.max_page_items {
            return Err(invalid(
                "recommendations.default_limit",
                "must not exceed `limits.max_page_items`",
            ));
        }
        if self.server.request_timeout_ms == 0 {
            return Err(invalid("server.request_timeout_ms", "must be at least 1"));
        }
        self.default_metric()?;
        self.consumed_types()?;
        self.k_choice()?;

        let auth = &self.auth;
        for (key, value) in
            [("auth.write_key", &auth.write_key), ("auth.admin_key", &auth.admin_key)]
        {
            if let Some(value) = value {
                if value.len() < 16 || !value.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(invalid(key, "must be at least 16 printable ASCII characters"));
                }
            }
        }
        if auth.write_key.is_some() != auth.admin_key.is_some() {
            return Err(invalid(
                "auth.admin_key",
                "set both `write_key` and `admin_key`, or neither",
            ));
        }
        if auth.write_key.is_some() && auth.write_key == auth.admin_key {
            return Err(invalid("auth.admin_key", "must differ from `auth.write_key`"));
        }
        for origin in &self.cors.allowed_origins {
            check_origin(origin)?;
        }
        Ok(())
    }

    /// The metric of requests that name none.
    pub fn default_metric(&self) -> Result<Metric, ConfigError> {
        self.recommendations.default_metric.parse().map_err(
            |e: centroid_core::view::UnknownMetric| {
                invalid("recommendations.default_metric", e.to_string())
            },
        )
    }

    /// The event types that mark content as consumed.
    pub fn consumed_types(&self) -> Result<Vec<EventType>, ConfigError> {
        let mut types = Vec::new();
        for name in &self.recommendations.consumed_event_types {
            let event_type: EventType = name
                .parse()
                .map_err(|e| invalid("recommendations.consumed_event_types", format!("{e}")))?;
            types.push(event_type);
        }
        Ok(types)
    }

    /// The number of clusters of scheduled and requested training runs.
    pub fn k_choice(&self) -> Result<KChoice, ConfigError> {
        parse_k(&self.training.k).map_err(|reason| invalid("training.k", reason))
    }

    /// The exact origins allowed, and whether any origin is.
    pub fn origins(&self) -> (HashSet<String>, bool) {
        let any = self.cors.allowed_origins.iter().any(|o| o == "*");
        let exact = self
            .cors
            .allowed_origins
            .iter()
            .filter(|o| *o != "*")
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        (exact, any)
    }
}

/// Reads `auto` or a positive number of clusters.
pub fn parse_k(text: &str) -> Result<KChoice, String> {
    if text == "auto" {
        return Ok(KChoice::auto());
    }
    match text.parse::<usize>() {
        Ok(k) if k >= 1 => Ok(KChoice::Fixed(k)),
        _ => Err(format!("expected `auto` or a number of clusters, got `{text}`")),
    }
}

fn check_origin(origin: &str) -> Result<(), ConfigError> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let valid = rest.is_some_and(|host| {
        let host = host.trim_end_matches('/');
        !host.is_empty() && !host.contains(['/', '?', '#', ' '])
    });
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "cors.allowed_origins",
            format!("`{origin}` is not an origin like `https://shop.example` or `*`"),
        ))
    }
}

/// Ranking names accepted by the API.
pub fn parse_ranking(text: &str) -> Option<Ranking> {
    match text {
        "top" => Some(Ranking::Top),
        "lift" => Some(Ranking::Lift),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> Env {
        Env::prefixed("CENTROID_TEST_UNUSED_PREFIX_").split("__")
    }

    #[test]
    fn example_config_matches_the_structs() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");

        let config = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap();

        assert_eq!(config.server.bind.port(), 8080);
        assert!(!config.cors.allowed_origins.is_empty());
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nbindd = \"127.0.0.1:1\"\n").unwrap();

        let error = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();

        let text = error.to_string();
        assert!(text.contains("bindd"), "{text}");
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[recommendations]\ndefault_metric = \"clicks\"\n").unwrap();

        let error = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();

        assert!(error.to_string().contains("recommendations.default_metric"), "{error}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's `Jail` closure returns its own error type.
    fn environment_overrides_the_file_and_flags_override_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nbind = \"127.0.0.1:1000\"\n[limits]\nmax_ids = 5\n")
            .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("CENTROID_JAILTEST_LIMITS__MAX_IDS", "7");
            jail.set_env("CENTROID_JAILTEST_SERVER__BIND", "127.0.0.1:2000");
            // Another command's knob, not a setting of the server.
            jail.set_env("CENTROID_JAILTEST_IMPORT_BATCH_EVENTS", "10");
            let env = environment("CENTROID_JAILTEST_");
            let overrides =
                Overrides { bind: Some("127.0.0.1:3000".parse().unwrap()), ..Overrides::default() };

            let config = Config::load_from(Some(&path), env, &overrides).unwrap();

            assert_eq!(config.limits.max_ids, 7);
            assert_eq!(config.server.bind.port(), 3000);
            Ok(())
        });
    }
}

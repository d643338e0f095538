//! `centroid serve`: the HTTP API a website talks to.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use centroid_server::auth::{KeySource, Keys};
use centroid_server::{AppState, Config, Overrides};
use centroid_store::{SqliteOptions, SqliteStore};

use crate::args::ServeArgs;

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides { db: args.db, bind: args.bind, demo: args.demo };
    let config =
        Config::load(args.config.as_deref(), &overrides).context("invalid configuration")?;
    let db = config
        .database
        .path
        .clone()
        .context("no database: pass `--db PATH` or set `database.path` in the config file")?;
    let options = SqliteOptions {
        synchronous_full: config.database.synchronous_full,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(&db, options)
        .with_context(|| format!("cannot open database {}", db.display()))?;

    let (keys, source) = Keys::resolve(&config.auth, &db)?;
    let mut stderr = std::io::stderr().lock();
    match &source {
        KeySource::Configured => {}
        KeySource::File(path) => {
            writeln!(stderr, "using the API keys in {}", path.display())?;
        }
        KeySource::Generated(path) => {
            writeln!(stderr, "no API keys configured; generated new ones in {}:", path.display())?;
            writeln!(stderr, "  write key (public, for web pages): {}", keys.write_key)?;
            writeln!(stderr, "  admin key (secret):                {}", keys.admin_key)?;
        }
    }
    drop(stderr);

    let bind = config.server.bind;
    let state = AppState::new(Arc::new(store), config, keys).context("cannot start the server")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("centroid-http")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening");
        // The first line on stdout is the address (tests and scripts read it, e.g. with port 0).
        writeln!(std::io::stdout().lock(), "centroid listening on http://{address}")?;
        centroid_server::serve(state, listener, centroid_server::shutdown_signal())
            .await
            .context("server failed")
    })
}

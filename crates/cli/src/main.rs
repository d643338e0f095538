//! The `centroid` command line: one binary for every job of the service.

mod args;
mod commands;
mod import;
mod progress;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server's lifecycle (listening, models swapped) is worth seeing by default; the
    // one-shot commands print their own summary and stay quiet unless asked.
    let is_service = matches!(cli.command, Command::Serve(_));
    init_logging(cli.verbose, is_service);

    let result = match cli.command {
        Command::Cluster(args) => commands::cluster::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Clusters(args) => commands::clusters::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Evaluate(args) => commands::evaluate::run(args),
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A closed stdout (for example `centroid ... | head`) is not a failure.
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Opens a database that must already exist (commands other than `import` and `serve` do not
/// create one, so a typo in `--db` is an error rather than an empty new file).
pub(crate) fn open_existing_store(
    path: &std::path::Path,
) -> anyhow::Result<centroid_store::SqliteStore> {
    if !path.exists() {
        anyhow::bail!(
            "database {} does not exist; create it with `centroid import`",
            path.display()
        );
    }
    centroid_store::SqliteStore::open(path)
        .with_context(|| format!("cannot open database {}", path.display()))
}

fn init_logging(verbose: u8, is_service: bool) {
    let default_level = match verbose {
        0 if is_service => "info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

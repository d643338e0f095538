//! Command-line definitions, kept apart from what the commands do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Centroid: K-means personalisation for websites.
#[derive(Debug, Parser)]
#[command(name = "centroid", version, about)]
pub(crate) struct Cli {
    /// More log output (-v: info, -vv: debug); RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Cluster a plain numeric matrix (.npy or CSV) with K-means.
    Cluster(ClusterArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    /// A 2-D C-order .npy file (float32 or float64) or a CSV file of numbers.
    #[arg(long)]
    pub(crate) input: PathBuf,

    /// Number of clusters.
    #[arg(short = 'k', long = "k")]
    pub(crate) k: usize,

    /// Random seed for the k-means++ initialisation.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// Number of restarts; the one with the lowest inertia is kept.
    #[arg(long, default_value_t = 1)]
    pub(crate) n_init: usize,

    /// Maximum number of Lloyd iterations per restart.
    #[arg(long, default_value_t = 300)]
    pub(crate) max_iter: usize,

    /// Convergence tolerance, relative to the mean per-feature variance (as scikit-learn).
    #[arg(long, default_value_t = 1e-4)]
    pub(crate) tol: f64,

    /// Start from these centres (.npy or CSV, K rows) instead of k-means++.
    #[arg(long)]
    pub(crate) init: Option<PathBuf>,

    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) threads: Option<usize>,

    /// Train on a sample of this many points, then assign every point once.
    #[arg(long)]
    pub(crate) sample: Option<usize>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

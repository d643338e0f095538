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
    /// Import events and catalogue data from files into a database.
    Import(ImportArgs),
    /// Fold new events, fit K-means and publish a new model version.
    Train(TrainArgs),
    /// Ranked content for a cluster or a known user.
    Recommend(RecommendArgs),
    /// Write the pipeline's tables as CSV files.
    Export(ExportArgs),
    /// Describe the clusters of the current model.
    Clusters(ClustersArgs),
    /// Run the HTTP API (events, assignment, recommendations, content, profiles, training).
    Serve(ServeArgs),
    /// Measure recommendation quality offline: clusters against popularity, per K.
    Evaluate(EvaluateArgs),
}

/// Input formats of `centroid import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ImportFormat {
    /// Canonical CSV: event_id,user_id,content_id,type,timestamp,value,category.
    EventsCsv,
    /// Canonical JSON events, one per line.
    EventsJsonl,
    /// Segment track / page / identify calls, one per line.
    SegmentJsonl,
    /// MovieLens ratings.csv (rating events) and movies.csv (catalogue).
    Movielens,
    /// Taobao UserBehavior rows (pv, cart, fav, buy).
    Taobao,
    /// REES46 multi-category store events, with brand and price.
    Rees46,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Database file (created when missing).
    #[arg(long)]
    pub(crate) db: PathBuf,

    /// Format of the input files.
    #[arg(long, value_enum)]
    pub(crate) format: ImportFormat,

    /// Input files; `.gz` files are decompressed on the fly.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Database file.
    #[arg(long)]
    pub(crate) db: PathBuf,

    /// Number of clusters, or `auto` to pick it from inertia and silhouette.
    #[arg(short = 'k', long = "k", default_value = "auto")]
    pub(crate) k: String,

    /// Random seed for K-means.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// Start K-means from these centres (CSV with the feature columns and a header, as the
    /// reference pipeline's `init_centers.csv`).
    #[arg(long)]
    pub(crate) init: Option<PathBuf>,

    /// K-means restarts (the lowest inertia wins).
    #[arg(long, default_value_t = 4)]
    pub(crate) n_init: usize,

    /// K-means iteration limit.
    #[arg(long, default_value_t = 300)]
    pub(crate) max_iter: usize,

    /// Refold every stored event instead of only the new ones.
    #[arg(long)]
    pub(crate) full: bool,

    /// Print the summary as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RecommendArgs {
    /// Database file.
    #[arg(long)]
    pub(crate) db: PathBuf,

    /// A known user: their cluster's list, without what they already consumed.
    #[arg(long, conflicts_with = "cluster", required_unless_present = "cluster")]
    pub(crate) user: Option<String>,

    /// A cluster id, or `global`.
    #[arg(long)]
    pub(crate) cluster: Option<String>,

    /// Metric to optimise.
    #[arg(long, default_value = "engagement")]
    pub(crate) metric: String,

    /// Rank by lift (cluster rate over global rate) instead of the plain score.
    #[arg(long)]
    pub(crate) lift: bool,

    /// Number of items.
    #[arg(long, default_value_t = 10)]
    pub(crate) limit: usize,

    /// Event types that mark an item as consumed by the user (left out of their list).
    #[arg(long, value_delimiter = ',', default_value = "purchase,rating,watch")]
    pub(crate) exclude_consumed: Vec<String>,

    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Database file.
    #[arg(long)]
    pub(crate) db: PathBuf,

    /// Output directory (created when missing).
    #[arg(long)]
    pub(crate) out: PathBuf,

    /// Items per cluster and metric in cluster_top.csv.
    #[arg(long, default_value_t = 50)]
    pub(crate) top: usize,
}

#[derive(Debug, Args)]
pub(crate) struct ClustersArgs {
    /// Database file.
    #[arg(long)]
    pub(crate) db: PathBuf,

    /// Items per metric to show.
    #[arg(long, default_value_t = 5)]
    pub(crate) top: usize,

    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Database file (created when missing); overrides `database.path`.
    #[arg(long)]
    pub(crate) db: Option<PathBuf>,

    /// Address to listen on (default 127.0.0.1:8080); overrides `server.bind`.
    #[arg(long)]
    pub(crate) bind: Option<std::net::SocketAddr>,

    /// TOML configuration file (see config.example.toml); `CENTROID_*` variables override it.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,

    /// Also serve the demo shop over the database's catalogue at /demo/.
    #[arg(long)]
    pub(crate) demo: bool,
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

/// Data-set rules of `centroid evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EvaluatePreset {
    /// Ratings >= 4 are relevant and weigh 1; genre features.
    Movielens,
    /// Every event is relevant; view 1, like 2, cart 3, purchase 4; category features.
    Taobao,
}

#[derive(Debug, Args)]
pub(crate) struct EvaluateArgs {
    /// Database filled by `centroid import`.
    #[arg(long, required_unless_present_any = ["movielens", "taobao"])]
    pub(crate) db: Option<PathBuf>,

    /// Read a MovieLens directory (movies.csv, ratings.csv) instead of a database.
    #[arg(long, conflicts_with_all = ["db", "taobao"])]
    pub(crate) movielens: Option<PathBuf>,

    /// Read a Taobao UserBehavior file instead of a database.
    #[arg(long, conflicts_with_all = ["db", "movielens"])]
    pub(crate) taobao: Option<PathBuf>,

    /// Methods to run (see docs/evaluation.md); `all` runs every one.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pop,pop-unweighted,cluster-pop,blend-pop,blend-lift,itemknn,ease"
    )]
    pub(crate) methods: Vec<String>,

    /// The K sweep of the cluster methods.
    #[arg(short = 'k', long = "k", value_delimiter = ',', default_value = "1,4,8,16,32,64")]
    pub(crate) k: Vec<usize>,

    /// Directory for evaluation.json, evaluation.md and the SVG plots (created when missing).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,

    /// Data-set rules; by default `movielens` when every event is a rating, else `taobao`.
    #[arg(long, value_enum)]
    pub(crate) preset: Option<EvaluatePreset>,

    /// Ratings at or above this are relevant and weigh 1, lower ones weigh 0.
    #[arg(long)]
    pub(crate) rating_threshold: Option<f64>,

    /// Behaviour weights, e.g. `view=1,like=2,add_to_cart=3,purchase=4`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) weights: Vec<String>,

    /// K-means seed of the reported rows.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// Also repeat `cluster-pop` over these seeds and report the spread, e.g. `0,1,2,3,4`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) seeds: Vec<u64>,

    /// K-means restarts.
    #[arg(long, default_value_t = 4)]
    pub(crate) n_init: usize,

    /// Describe the clusters of this K (default: the best `cluster-pop` K on validation).
    #[arg(long)]
    pub(crate) describe_k: Option<usize>,

    /// Print the JSON report instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
}

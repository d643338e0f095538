//! `centroid evaluate`: the offline protocol of `docs/evaluation.md` on a database (or the raw
//! MovieLens / Taobao files), printed as a table and written as JSON, Markdown and plots.

use std::io::Write;
use std::str::FromStr;

use anyhow::{bail, Context};
use centroid_core::{ContentItem, EventType};
use centroid_eval::{Dataset, Method, Options, Protocol, Report};
use centroid_store::Store;

use crate::args::{EvaluateArgs, EvaluatePreset};

/// Events and catalogue entries read per store call.
const PAGE: usize = 20_000;

pub(crate) fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let (data, source) = load(&args)?;
    let protocol = protocol(&args, &data)?;
    let options = options(&args)?;
    tracing::info!(
        n_events = data.events.len(),
        n_users = data.users.len(),
        n_items = data.items.len(),
        "evaluating"
    );

    let report = centroid_eval::evaluate(&data, &protocol, &options)?;
    let table = report.to_markdown();

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let json = serde_json::to_string_pretty(&report)?;
        let json_path = dir.join("evaluation.json");
        std::fs::write(&json_path, json + "\n")
            .with_context(|| format!("cannot write `{}`", json_path.display()))?;
        let md_path = dir.join("evaluation.md");
        std::fs::write(&md_path, &table)
            .with_context(|| format!("cannot write `{}`", md_path.display()))?;
        let plots = centroid_eval::plot::write_plots(&report, dir, &source)?;
        tracing::info!(dir = %dir.display(), n_plots = plots.len(), "report written");
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{table}")?;
        write_clusters(&mut out, &report, &args)?;
    }
    Ok(())
}

/// The data set and a short name of where it came from.
fn load(args: &EvaluateArgs) -> anyhow::Result<(Dataset, String)> {
    if let Some(dir) = &args.movielens {
        let data = centroid_eval::load::movielens_dir(dir)?;
        return Ok((data, format!("{}", dir.display())));
    }
    if let Some(file) = &args.taobao {
        let data = centroid_eval::load::taobao_file(file)?;
        return Ok((data, format!("{}", file.display())));
    }
    let Some(db) = &args.db else { bail!("give `--db`, `--movielens` or `--taobao`") };
    let store = crate::open_existing_store(db)?;

    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_since(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        events.extend(page.into_iter().map(|stored| stored.event));
    }
    let mut catalogue: Vec<ContentItem> = Vec::new();
    let mut after_id = String::new();
    loop {
        let page = store.list_content(&after_id, PAGE)?;
        let Some(last) = page.last() else { break };
        after_id = last.content_id.clone();
        catalogue.extend(page);
    }
    let data = centroid_eval::load::from_events(&events, &catalogue)
        .with_context(|| format!("reading the events of `{}`", db.display()))?;
    Ok((data, format!("{}", db.display())))
}

fn protocol(args: &EvaluateArgs, data: &Dataset) -> anyhow::Result<Protocol> {
    let mut protocol = match args.preset {
        Some(EvaluatePreset::Movielens) => Protocol::movielens(),
        Some(EvaluatePreset::Taobao) => Protocol::taobao(),
        None => Protocol::for_dataset(data),
    };
    if let Some(threshold) = args.rating_threshold {
        if !threshold.is_finite() {
            bail!("`--rating-threshold` must be a finite number");
        }
        protocol.relevance = centroid_eval::Relevance::RatingAtLeast(threshold);
        protocol.weights.rating_threshold = Some(threshold);
    }
    for pair in &args.weights {
        let Some((name, weight)) = pair.split_once('=') else {
            bail!("`--weights`: expected TYPE=WEIGHT, found `{pair}`");
        };
        let event_type =
            EventType::from_str(name.trim()).with_context(|| format!("`--weights`: `{pair}`"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite())
            .with_context(|| format!("`--weights`: `{pair}` needs a finite number"))?;
        protocol.weights.by_type[event_type.index()] = weight;
    }
    Ok(protocol)
}

fn options(args: &EvaluateArgs) -> anyhow::Result<Options> {
    let mut options = Options::default();
    if args.methods.iter().any(|m| m == "all") {
        options.methods = Method::ALL.to_vec();
    } else {
        options.methods = args
            .methods
            .iter()
            .map(|name| Method::from_str(name.trim()))
            .collect::<Result<_, _>>()?;
    }
    if args.k.contains(&0) {
        bail!("`--k`: K must be at least 1");
    }
    if args.n_init == 0 {
        bail!("`--n-init` must be at least 1");
    }
    options.ks = args.k.clone();
    options.kmeans.seed = args.seed;
    options.kmeans.n_init = args.n_init;
    options.spread_seeds = args.seeds.clone();
    options.describe_k = args.describe_k;
    Ok(options)
}

/// What each cluster of the described K is: size, distinctive features, top items (with
/// titles when the database has them).
fn write_clusters(
    out: &mut impl Write,
    report: &Report,
    args: &EvaluateArgs,
) -> anyhow::Result<()> {
    let Some(profiles) = &report.clusters else { return Ok(()) };
    let store = match &args.db {
        Some(db) => Some(crate::open_existing_store(db)?),
        None => None,
    };
    writeln!(out, "\nClusters at K={} (full train):", profiles.k)?;
    for cluster in &profiles.clusters {
        let features: Vec<String> =
            cluster.distinctive.iter().map(|(name, z)| format!("{name} {z:+.1}σ")).collect();
        let ids: Vec<&str> = cluster.top_items.iter().map(String::as_str).collect();
        let titled: Vec<String> = match &store {
            Some(store) => {
                let items = store.content(&ids)?;
                ids.iter()
                    .map(|id| {
                        let title = items
                            .iter()
                            .find(|c| c.content_id == *id)
                            .and_then(|c| c.title.as_deref());
                        match title {
                            Some(title) => format!("{id} {title}"),
                            None => (*id).to_owned(),
                        }
                    })
                    .collect()
            }
            None => ids.iter().map(|id| (*id).to_owned()).collect(),
        };
        writeln!(
            out,
            "  {:>3}  {:>5} users  {}  | top: {}",
            cluster.cluster,
            cluster.size,
            features.join(", "),
            titled.join("; ")
        )?;
    }
    Ok(())
}

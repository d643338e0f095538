//! `centroid train`: fold new events, fit K-means, publish a new model version.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use centroid_pipeline::{run_training, KChoice, RunOptions, TrainParams, TrainReport};
use serde_json::json;

use crate::args::TrainArgs;
use crate::progress::StageBars;

pub(crate) fn run(args: TrainArgs) -> anyhow::Result<()> {
    let store = crate::open_existing_store(&args.db)?;

    let k = parse_k(&args.k)?;
    let init_centres = match &args.init {
        Some(path) => Some(read_centres(path)?),
        None => None,
    };
    let params = TrainParams {
        k,
        seed: args.seed,
        // Given centres make every restart the same run.
        n_init: if init_centres.is_some() { 1 } else { args.n_init },
        max_iter: args.max_iter,
        init_centres,
        ..TrainParams::default()
    };
    let options = RunOptions { full: args.full };

    let report = run_training(&store, &params, &options, &StageBars::new())
        .context("training failed; the current model keeps serving")?;

    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", report_json(&report))?;
    } else {
        print_report(&mut out, &report)?;
    }
    Ok(())
}

fn parse_k(text: &str) -> anyhow::Result<KChoice> {
    if text == "auto" {
        return Ok(KChoice::auto());
    }
    match text.parse::<usize>() {
        Ok(0) | Err(_) => bail!("-k must be a positive whole number or `auto`, got `{text}`"),
        Ok(k) => Ok(KChoice::Fixed(k)),
    }
}

/// Centres from a CSV with a header, as the reference pipeline's `init_centers.csv` (a
/// `cluster` column is ignored).
fn read_centres(path: &Path) -> anyhow::Result<Vec<f32>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read centres from {}", path.display()))?;
    let skip: Vec<bool> = reader.headers()?.iter().map(|name| name == "cluster").collect();
    let mut values = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), line + 2))?;
        for (column, field) in record.iter().enumerate() {
            if skip.get(column).copied().unwrap_or(false) {
                continue;
            }
            let value: f32 = field.trim().parse().with_context(|| {
                format!(
                    "{}: row {}, column {}: `{field}` is not a number",
                    path.display(),
                    line + 2,
                    column + 1
                )
            })?;
            values.push(value);
        }
    }
    Ok(values)
}

fn stage_seconds(report: &TrainReport) -> serde_json::Map<String, serde_json::Value> {
    report.stages.iter().map(|(name, d)| ((*name).to_owned(), d.as_secs_f64().into())).collect()
}

fn report_json(report: &TrainReport) -> serde_json::Value {
    let selection = report.k_selection.as_ref().map(|s| {
        json!({
            "chosen": s.chosen,
            "reason": s.reason,
            "scores": s.scores.iter().map(|score| json!({
                "k": score.k, "inertia": score.inertia, "silhouette": score.silhouette,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "version": report.version,
        "users": report.n_users,
        "events": report.n_events,
        "folded_events": report.folded_events,
        "k": report.k,
        "inertia": report.inertia,
        "silhouette": report.silhouette,
        "n_iter": report.n_iter,
        "converged": report.converged,
        "cluster_sizes": report.cluster_sizes,
        "k_selection": selection,
        "seconds": stage_seconds(report),
    })
}

fn print_report(out: &mut impl Write, report: &TrainReport) -> std::io::Result<()> {
    writeln!(out, "published model version {}", report.version)?;
    writeln!(out, "  users       {}", report.n_users)?;
    writeln!(out, "  events      {} ({} folded now)", report.n_events, report.folded_events)?;
    if let Some(selection) = &report.k_selection {
        writeln!(out, "  k           {} (auto: {})", report.k, selection.reason)?;
        for score in &selection.scores {
            let silhouette = score.silhouette.map_or("-".to_owned(), |s| format!("{s:.3}"));
            writeln!(
                out,
                "      k={:<3} inertia {:>14.2}  silhouette {silhouette}",
                score.k, score.inertia
            )?;
        }
    } else {
        writeln!(out, "  k           {}", report.k)?;
    }
    let converged = if report.converged { "converged" } else { "hit max_iter" };
    writeln!(
        out,
        "  inertia     {:.4} ({} iterations, {converged})",
        report.inertia, report.n_iter
    )?;
    if let Some(silhouette) = report.silhouette {
        writeln!(out, "  silhouette  {silhouette:.4}")?;
    }
    writeln!(out, "  sizes       {:?}", report.cluster_sizes)?;
    let stages: Vec<String> =
        report.stages.iter().map(|(name, d)| format!("{name} {:.3}s", d.as_secs_f64())).collect();
    writeln!(out, "  seconds     {}", stages.join(", "))?;
    Ok(())
}

//! `centroid export`: the pipeline's tables as CSV files, in the reference pipeline's layout
//! (`../shared/bench/reference_pipeline.py --out`), so the two can be compared file for file
//! and a user can take the tables to a warehouse.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;
use centroid_core::{EventType, Metric, Ranking};
use centroid_store::Store;
use serde_json::json;

use crate::args::ExportArgs;

/// The reference's metrics, in its order (`engagement` is ours and not exported here).
const EXPORTED_METRICS: [Metric; 6] = [
    Metric::Views,
    Metric::Purchases,
    Metric::AddToCarts,
    Metric::Likes,
    Metric::WatchSeconds,
    Metric::Rating,
];

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = crate::open_existing_store(&args.db)?;
    let model = store.current_model()?.context("no model yet; run `centroid train` first")?;
    let view = store
        .view(model.version)?
        .with_context(|| format!("the view of model version {} is missing", model.version))?;
    let predictions = store.predictions(model.version)?;
    let state = store.load_states()?;
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = |name: &str| args.out.join(name);

    let mut writer = csv_writer(&out("user_content.csv"))?;
    let mut header = vec!["user_id".to_owned(), "content_id".to_owned()];
    header.extend(EventType::ALL.iter().map(|t| format!("n_{t}")));
    header.extend(
        ["rating_sum", "mean_rating", "watch_seconds", "first_ts", "last_ts"].map(String::from),
    );
    writer.write_record(&header)?;
    for row in state.interaction_table() {
        let i = row.interaction;
        let mut record = vec![row.user_id.to_owned(), row.content_id.to_owned()];
        record.extend(i.counts.iter().map(u32::to_string));
        record.push(i.rating_sum.to_f64().to_string());
        record.push(i.mean_rating().map(|m| m.to_string()).unwrap_or_default());
        record.push(i.watch_seconds.to_f64().to_string());
        record.push(i.first_ts.to_string());
        record.push(i.last_ts.to_string());
        writer.write_record(&record)?;
    }
    writer.flush()?;

    let names = model.spec.names();
    let mut raw_writer = csv_writer(&out("features_raw.csv"))?;
    let mut scaled_writer = csv_writer(&out("features.csv"))?;
    let header: Vec<&str> =
        std::iter::once("user_id").chain(names.iter().map(String::as_str)).collect();
    raw_writer.write_record(&header)?;
    scaled_writer.write_record(&header)?;
    let mut row = Vec::with_capacity(names.len());
    for (user_id, user) in state.users_sorted() {
        model.spec.raw_into(&user.aggregate, &mut row);
        raw_writer.write_record(
            std::iter::once(user_id.to_owned()).chain(row.iter().map(f64::to_string)),
        )?;
        model.scaler.transform(&mut row);
        scaled_writer.write_record(
            std::iter::once(user_id.to_owned()).chain(row.iter().map(f64::to_string)),
        )?;
    }
    raw_writer.flush()?;
    scaled_writer.flush()?;

    let mut writer = csv_writer(&out("user_clusters.csv"))?;
    writer.write_record(["user_id", "cluster"])?;
    for prediction in &predictions {
        writer.write_record([prediction.user_id.clone(), prediction.cluster.to_string()])?;
    }
    writer.flush()?;

    let mut writer = csv_writer(&out("centers.csv"))?;
    let header: Vec<&str> =
        std::iter::once("cluster").chain(names.iter().map(String::as_str)).collect();
    writer.write_record(&header)?;
    for cluster in 0..model.k {
        let values = model.centre(cluster).iter().map(|x| f64::from(*x).to_string());
        writer.write_record(std::iter::once(cluster.to_string()).chain(values))?;
    }
    writer.flush()?;

    let mut writer = csv_writer(&out("cluster_top.csv"))?;
    writer.write_record(["cluster", "metric", "rank", "content_id", "score"])?;
    for (cluster, lists) in view.clusters.iter().enumerate() {
        for metric in EXPORTED_METRICS {
            for (rank, item) in lists.list(metric, Ranking::Top).iter().take(args.top).enumerate() {
                writer.write_record([
                    cluster.to_string(),
                    metric.as_str().to_owned(),
                    (rank + 1).to_string(),
                    item.content_id.clone(),
                    item.score.to_string(),
                ])?;
            }
        }
    }
    writer.flush()?;

    let meta = json!({
        "model_version": model.version,
        "k": model.k,
        "feature_columns": names,
        "top_categories": model.spec.top_categories,
        "scaler": {"mean": model.scaler.mean, "std": model.scaler.std, "constant": model.scaler.constant},
        "global_mean_rating": view.global_mean_rating,
        "total_watch_seconds": model.spec.total_watch_seconds,
        "inertia": model.inertia,
        "cluster_sizes": model.cluster_sizes,
        "users": model.n_users,
        "events": model.n_events,
    });
    fs::write(out("meta.json"), serde_json::to_string_pretty(&meta)? + "\n")?;

    tracing::info!(dir = %args.out.display(), users = predictions.len(), "export written");
    Ok(())
}

fn csv_writer(path: &Path) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(csv::Writer::from_writer(BufWriter::new(file)))
}

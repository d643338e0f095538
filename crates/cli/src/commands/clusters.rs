//! `centroid clusters`: each cluster's size, what sets it apart and its top content.

use std::io::Write;

use anyhow::Context;
use centroid_core::{ContentItem, Metric, Ranking};
use centroid_pipeline::cluster_profiles;
use centroid_store::Store;
use serde_json::json;

use crate::args::ClustersArgs;

/// Distinctive features shown per cluster.
const CONTRASTS_SHOWN: usize = 5;

pub(crate) fn run(args: ClustersArgs) -> anyhow::Result<()> {
    let store = crate::open_existing_store(&args.db)?;
    let model = store.current_model()?.context("no model yet; run `centroid train` first")?;
    let view = store
        .view(model.version)?
        .with_context(|| format!("the view of model version {} is missing", model.version))?;
    let profiles = cluster_profiles(&model, CONTRASTS_SHOWN);

    // Titles of every item shown, fetched in one call.
    let mut ids: Vec<&str> = Vec::new();
    for lists in &view.clusters {
        for metric in Metric::ALL {
            ids.extend(
                lists
                    .list(metric, Ranking::Top)
                    .iter()
                    .take(args.top)
                    .map(|i| i.content_id.as_str()),
            );
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let catalogue: Vec<ContentItem> = store.content(&ids)?;
    let title =
        |id: &str| catalogue.iter().find(|c| c.content_id == id).and_then(|c| c.title.clone());

    let mut out = std::io::stdout().lock();
    if args.json {
        let clusters: Vec<serde_json::Value> = profiles
            .iter()
            .map(|profile| {
                let lists = &view.clusters[profile.cluster];
                let top: serde_json::Map<String, serde_json::Value> = Metric::ALL
                    .iter()
                    .map(|metric| {
                        let items: Vec<serde_json::Value> = lists
                            .list(*metric, Ranking::Top)
                            .iter()
                            .take(args.top)
                            .map(|i| json!({"content_id": i.content_id, "score": i.score, "title": title(&i.content_id)}))
                            .collect();
                        (metric.as_str().to_owned(), items.into())
                    })
                    .collect();
                json!({
                    "cluster": profile.cluster,
                    "size": profile.size,
                    "distinctive": profile.contrasts.iter().map(|c| json!({
                        "feature": c.column, "label": c.label, "z": c.z, "value": c.value, "mean": c.mean,
                    })).collect::<Vec<_>>(),
                    "top": top,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            json!({"model_version": model.version, "k": model.k, "clusters": clusters})
        )?;
        return Ok(());
    }

    writeln!(
        out,
        "model version {}: {} clusters, {} users",
        model.version, model.k, model.n_users
    )?;
    for profile in &profiles {
        writeln!(out, "\ncluster {} ({} users)", profile.cluster, profile.size)?;
        for contrast in &profile.contrasts {
            let direction = if contrast.z >= 0.0 { "above" } else { "below" };
            writeln!(
                out,
                "  {:<36} {:>9.3} vs mean {:>9.3}  ({:+.2} sd, {direction})",
                contrast.label, contrast.value, contrast.mean, contrast.z
            )?;
        }
        let lists = &view.clusters[profile.cluster];
        for metric in Metric::ALL {
            let items = lists.list(metric, Ranking::Top);
            if items.is_empty() {
                continue;
            }
            let shown: Vec<String> = items
                .iter()
                .take(args.top)
                .map(|i| match title(&i.content_id) {
                    Some(title) => format!("{title} ({})", i.content_id),
                    None => i.content_id.clone(),
                })
                .collect();
            writeln!(out, "  top {:<14} {}", metric.as_str(), shown.join("; "))?;
        }
    }
    Ok(())
}

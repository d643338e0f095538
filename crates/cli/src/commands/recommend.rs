//! `centroid recommend`: a cluster's or a known user's ranked content, with attributes.

use std::collections::HashSet;
use std::io::Write;

use anyhow::{bail, Context};
use centroid_core::{ContentItem, EventType, Metric, Ranking};
use centroid_pipeline::{consumed_items, current_user_state, select, Placement, Placer, Selection};
use centroid_store::Store;
use serde_json::json;

use crate::args::RecommendArgs;

pub(crate) fn run(args: RecommendArgs) -> anyhow::Result<()> {
    let store = crate::open_existing_store(&args.db)?;
    let metric: Metric = args.metric.parse()?;
    let ranking = if args.lift { Ranking::Lift } else { Ranking::Top };
    if ranking == Ranking::Lift && metric == Metric::Rating {
        bail!("--lift is not defined for the rating metric");
    }
    let consumed_types = args
        .exclude_consumed
        .iter()
        .filter(|name| !name.is_empty())
        .map(|name| name.parse::<EventType>())
        .collect::<Result<Vec<_>, _>>()
        .context("--exclude-consumed")?;

    let model = store.current_model()?.context("no model yet; run `centroid train` first")?;
    let view = store
        .view(model.version)?
        .with_context(|| format!("the view of model version {} is missing", model.version))?;

    let (cluster, exclude) = match (&args.user, &args.cluster) {
        (Some(user_id), _) => {
            let state = current_user_state(&store, user_id)?
                .with_context(|| format!("unknown user `{user_id}`"))?;
            let placement = Placer::new(model.clone())?.place(&state.aggregate)?;
            let cluster = match placement {
                Placement::Cluster(assignment) => Some(assignment.cluster),
                Placement::Global => None,
            };
            (cluster, consumed_items(&state, &consumed_types))
        }
        (None, Some(cluster)) if cluster == "global" => (None, HashSet::new()),
        (None, Some(cluster)) => {
            let id: u32 = cluster.parse().with_context(|| {
                format!("--cluster must be a cluster id or `global`, got `{cluster}`")
            })?;
            if id as usize >= model.k {
                bail!(
                    "model version {} has clusters 0..{}; there is no cluster {id}",
                    model.version,
                    model.k - 1
                );
            }
            (Some(id), HashSet::new())
        }
        (None, None) => bail!("give --user or --cluster"),
    };

    let hidden: HashSet<String> = store.hidden_content()?.into_iter().collect();
    let selection =
        Selection { cluster, metric, ranking, offset: 0, limit: args.limit, exclude: &exclude };
    let items = select(&view, &selection, |id| !hidden.contains(id));
    let ids: Vec<&str> = items.iter().map(|item| item.content_id.as_str()).collect();
    let catalogue: Vec<ContentItem> = store.content(&ids)?;
    let attributes = |id: &str| catalogue.iter().find(|c| c.content_id == id);

    let cluster_label = cluster.map_or("global".to_owned(), |c| c.to_string());
    let mut out = std::io::stdout().lock();
    if args.json {
        let items: Vec<serde_json::Value> = items
            .iter()
            .map(|item| {
                let content = attributes(&item.content_id);
                json!({
                    "rank": item.rank,
                    "content_id": item.content_id,
                    "score": item.score,
                    "title": content.and_then(|c| c.title.clone()),
                    "categories": content.map(|c| c.categories.clone()).unwrap_or_default(),
                    "price": content.and_then(|c| c.price),
                    "url": content.and_then(|c| c.url.clone()),
                    "attributes": content.map(|c| c.attributes.clone()).unwrap_or_default(),
                })
            })
            .collect();
        let answer = json!({
            "model_version": model.version,
            "cluster": cluster_label,
            "metric": metric.as_str(),
            "ranking": if ranking == Ranking::Lift { "lift" } else { "top" },
            "items": items,
        });
        writeln!(out, "{answer}")?;
        return Ok(());
    }

    writeln!(out, "model version {}, cluster {cluster_label}, metric {metric}", model.version)?;
    for item in &items {
        let content = attributes(&item.content_id);
        let title = content.and_then(|c| c.title.as_deref()).unwrap_or("");
        let categories = content.map(|c| c.categories.join("|")).unwrap_or_default();
        writeln!(
            out,
            "{:>3}. {:<14} {:>12.3}  {title}  [{categories}]",
            item.rank, item.content_id, item.score
        )?;
    }
    Ok(())
}

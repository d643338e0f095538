//! Published models with their predictions and cluster-content view.

use centroid_core::view::{ClusterLists, RankedItem};
use centroid_core::{ClusterView, Metric, ModelVersion, UserPrediction, ViewParams};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::{ModelSummary, StoreError};

/// Versions whose predictions and view are kept: the current one and the one before, so a
/// reader that started on the previous version can finish.
const VERSIONS_WITH_VIEW: i64 = 2;

/// What `view_rows` does not hold of a [`ClusterView`].
#[derive(Serialize, Deserialize)]
struct ViewMeta {
    params: ViewParams,
    global_mean_rating: f64,
    global: ListsMeta,
    clusters: Vec<ListsMeta>,
}

/// Shape of one [`ClusterLists`], so that it is rebuilt exactly.
#[derive(Serialize, Deserialize)]
struct ListsMeta {
    n_users: usize,
    n_top: usize,
    n_lift: usize,
}

impl ListsMeta {
    fn of(lists: &ClusterLists) -> Self {
        ListsMeta { n_users: lists.n_users, n_top: lists.top.len(), n_lift: lists.lift.len() }
    }
}

pub(super) fn check(
    model: &ModelVersion,
    predictions: &[UserPrediction],
    view: &ClusterView,
) -> Result<(), StoreError> {
    let lists = std::iter::once(&view.global).chain(&view.clusters);
    for list in lists {
        if list.top.len() > Metric::ALL.len() || list.lift.len() > Metric::ALL.len() {
            return Err(StoreError::Invalid("a view list has more lists than metrics".into()));
        }
        let items = list.top.iter().chain(&list.lift).flatten();
        if items.into_iter().any(|item| !item.score.is_finite()) {
            return Err(StoreError::Invalid("a view score is not finite".into()));
        }
    }
    if !view.global_mean_rating.is_finite() || !model.inertia.is_finite() {
        return Err(StoreError::Invalid("the model's inertia or mean rating is not finite".into()));
    }
    if model.centres.iter().any(|c| !c.is_finite()) {
        return Err(StoreError::Invalid("a cluster centre is not finite".into()));
    }
    if let Some(bad) = predictions.iter().find(|p| p.cluster as usize >= model.k) {
        return Err(StoreError::Invalid(format!(
            "user `{}` predicted in cluster {} of a model with k = {}",
            bad.user_id, bad.cluster, model.k
        )));
    }
    Ok(())
}

pub(super) fn publish(
    conn: &Connection,
    model: &ModelVersion,
    predictions: &[UserPrediction],
    view: &ClusterView,
) -> Result<i64, StoreError> {
    let version: i64 =
        conn.query_row("SELECT coalesce(max(version), 0) + 1 FROM models", [], |row| row.get(0))?;
    let stored = ModelVersion { version, ..model.clone() };
    let model_json = serde_json::to_string(&stored)
        .map_err(|e| StoreError::Invalid(format!("model does not serialise: {e}")))?;
    let meta = ViewMeta {
        params: view.params.clone(),
        global_mean_rating: view.global_mean_rating,
        global: ListsMeta::of(&view.global),
        clusters: view.clusters.iter().map(ListsMeta::of).collect(),
    };
    let meta_json = serde_json::to_string(&meta)
        .map_err(|e| StoreError::Invalid(format!("view does not serialise: {e}")))?;

    conn.execute(
        "INSERT INTO models (version, trained_at, published_at, k, n_users, n_events, inertia, \
         silhouette, converged, model, view_meta, has_view) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1)",
        rusqlite::params![
            version,
            model.trained_at_ms,
            now_ms(),
            model.k as i64,
            model.n_users as i64,
            model.n_events as i64,
            model.inertia,
            model.silhouette,
            model.converged,
            model_json,
            meta_json
        ],
    )?;

    let mut insert = conn.prepare_cached(
        "INSERT INTO predictions (version, user_id, cluster, distance) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for prediction in predictions {
        insert.execute((version, &prediction.user_id, prediction.cluster, prediction.distance))?;
    }

    let mut insert = conn.prepare_cached(
        "INSERT INTO view_rows (version, cluster, metric, ranking, rank, content_id, score) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let clusters = view.clusters.iter().enumerate().map(|(i, lists)| (i as i64, lists));
    for (cluster, lists) in std::iter::once((-1, &view.global)).chain(clusters) {
        for (ranking, per_metric) in [("top", &lists.top), ("lift", &lists.lift)] {
            for (metric, items) in Metric::ALL.iter().zip(per_metric) {
                for (rank, item) in items.iter().enumerate() {
                    insert.execute(rusqlite::params![
                        version,
                        cluster,
                        metric.as_str(),
                        ranking,
                        rank as i64 + 1,
                        item.content_id,
                        item.score
                    ])?;
                }
            }
        }
    }

    let oldest_kept = version - VERSIONS_WITH_VIEW + 1;
    conn.execute("DELETE FROM predictions WHERE version < ?1", [oldest_kept])?;
    conn.execute("DELETE FROM view_rows WHERE version < ?1", [oldest_kept])?;
    conn.execute("UPDATE models SET has_view = 0 WHERE version < ?1", [oldest_kept])?;
    tracing::info!(version, k = model.k, n_predictions = predictions.len(), "model published");
    Ok(version)
}

pub(super) fn get(
    conn: &Connection,
    version: Option<i64>,
) -> Result<Option<ModelVersion>, StoreError> {
    let json: Option<String> = match version {
        Some(version) => conn
            .prepare_cached("SELECT model FROM models WHERE version = ?1")?
            .query_row([version], |row| row.get(0))
            .optional()?,
        None => conn
            .prepare_cached("SELECT model FROM models ORDER BY version DESC LIMIT 1")?
            .query_row([], |row| row.get(0))
            .optional()?,
    };
    json.map(|json| serde_json::from_str(&json).map_err(|e| StoreError::corrupt("models", e)))
        .transpose()
}

pub(super) fn list(conn: &Connection) -> Result<Vec<ModelSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, trained_at, published_at, k, n_users, n_events, inertia, silhouette, \
         converged, has_view FROM models ORDER BY version",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(ModelSummary {
            version: row.get(0)?,
            trained_at_ms: row.get(1)?,
            published_at_ms: row.get(2)?,
            k: row.get::<_, i64>(3)? as usize,
            n_users: row.get::<_, i64>(4)? as usize,
            n_events: row.get::<_, i64>(5)? as u64,
            inertia: row.get(6)?,
            silhouette: row.get(7)?,
            converged: row.get(8)?,
            has_view: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn current_version(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT max(version) FROM models", [], |row| row.get(0))?)
}

pub(super) fn user_prediction(
    conn: &Connection,
    user_id: &str,
) -> Result<Option<(i64, UserPrediction)>, StoreError> {
    let Some(version) = current_version(conn)? else {
        return Ok(None);
    };
    let row: Option<(u32, f32)> = conn
        .prepare_cached(
            "SELECT cluster, distance FROM predictions WHERE version = ?1 AND user_id = ?2",
        )?
        .query_row((version, user_id), |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(row.map(|(cluster, distance)| {
        (version, UserPrediction { user_id: user_id.to_owned(), cluster, distance })
    }))
}

pub(super) fn predictions(
    conn: &Connection,
    version: i64,
) -> Result<Vec<UserPrediction>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, cluster, distance FROM predictions WHERE version = ?1 ORDER BY user_id",
    )?;
    let rows = stmt.query_map([version], |row| {
        Ok(UserPrediction { user_id: row.get(0)?, cluster: row.get(1)?, distance: row.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn view(conn: &Connection, version: i64) -> Result<Option<ClusterView>, StoreError> {
    let meta: Option<String> = conn
        .prepare_cached("SELECT view_meta FROM models WHERE version = ?1 AND has_view = 1")?
        .query_row([version], |row| row.get(0))
        .optional()?;
    let Some(meta) = meta else {
        return Ok(None);
    };
    let meta: ViewMeta =
        serde_json::from_str(&meta).map_err(|e| StoreError::corrupt("models", e))?;

    let empty = |shape: &ListsMeta| ClusterLists {
        n_users: shape.n_users,
        top: vec![Vec::new(); shape.n_top],
        lift: vec![Vec::new(); shape.n_lift],
    };
    let mut global = empty(&meta.global);
    let mut clusters: Vec<ClusterLists> = meta.clusters.iter().map(empty).collect();

    let mut stmt = conn.prepare_cached(
        "SELECT cluster, metric, ranking, content_id, score FROM view_rows \
         WHERE version = ?1 ORDER BY cluster, metric, ranking, rank",
    )?;
    let mut rows = stmt.query([version])?;
    while let Some(row) = rows.next()? {
        let cluster: i64 = row.get(0)?;
        let metric: String = row.get(1)?;
        let ranking: String = row.get(2)?;
        let corrupt =
            |what: &str| StoreError::corrupt("view_rows", format!("version {version}: {what}"));
        let lists = match cluster {
            -1 => &mut global,
            c => usize::try_from(c)
                .ok()
                .and_then(|c| clusters.get_mut(c))
                .ok_or_else(|| corrupt(&format!("cluster {c}")))?,
        };
        let metric_idx = Metric::ALL
            .iter()
            .position(|m| m.as_str() == metric)
            .ok_or_else(|| corrupt(&format!("metric `{metric}`")))?;
        let per_metric = match ranking.as_str() {
            "top" => &mut lists.top,
            "lift" => &mut lists.lift,
            other => return Err(corrupt(&format!("ranking `{other}`"))),
        };
        let items = per_metric
            .get_mut(metric_idx)
            .ok_or_else(|| corrupt(&format!("list `{metric}` beyond the stored shape")))?;
        items.push(RankedItem { content_id: row.get(3)?, score: row.get(4)? });
    }

    Ok(Some(ClusterView {
        clusters,
        global,
        global_mean_rating: meta.global_mean_rating,
        params: meta.params,
    }))
}

//! The result of an evaluation: serialisable to JSON and printable as a Markdown table.

use std::fmt::Write;

use serde::Serialize;

/// Everything `evaluate` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The protocol version followed.
    pub protocol_version: u32,
    /// The data-set rules used.
    pub rules: Rules,
    /// The test split.
    pub split: SplitSummary,
    /// The validation split carved from train.
    pub validation: SplitSummary,
    /// The fingerprints of the test split.
    pub fingerprints: Fingerprints,
    /// Global top-10 item ids before exclusion (by weighted popularity, ties by id).
    pub global_top: Vec<String>,
    /// Whether `cluster-pop` with K = 1 gave exactly `pop`'s lists (`None`: not run).
    pub k1_check: Option<bool>,
    /// One row per method and setting, in table order.
    pub rows: Vec<Row>,
    /// Inertia and silhouette of the full-train K-means for each K.
    pub k_scores: Vec<KScoreRow>,
    /// `cluster-pop` over several K-means seeds, per K.
    pub seed_spread: Vec<SeedSpread>,
    /// What each cluster is, for one K.
    pub clusters: Option<ClusterProfiles>,
    /// Settings that could not be run, with the reason.
    pub skipped: Vec<String>,
}

/// Relevance, weights and features, in words.
#[derive(Debug, Clone, Serialize)]
pub struct Rules {
    /// Relevance rule.
    pub relevance: String,
    /// Event weights.
    pub weights: String,
    /// Feature family of the K-means methods.
    pub features: String,
}

/// Sizes of one split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitSummary {
    /// Train events.
    pub train_events: usize,
    /// Test events.
    pub test_events: usize,
    /// Users with train events.
    pub users: usize,
    /// Users with a test part.
    pub users_with_test: usize,
    /// Items in the catalogue.
    pub catalogue_items: usize,
    /// Scored users.
    pub scored_users: usize,
    /// Scored users with a relevant item in the catalogue.
    pub scored_users_with_warm_item: usize,
    /// Relevant pairs.
    pub relevant_pairs: usize,
    /// Relevant pairs whose item is not in the catalogue.
    pub cold_pairs: usize,
}

/// The protocol's fingerprints (first 16 hex digits of SHA-256).
#[derive(Debug, Clone, Serialize)]
pub struct Fingerprints {
    /// Over `user,item,timestamp` of the test events.
    pub test_events: String,
    /// Over `user,item` of the relevant pairs.
    pub relevant_pairs: String,
}

/// One line of the result table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Method name.
    pub method: String,
    /// Number of clusters, for cluster methods.
    pub k: Option<usize>,
    /// The setting chosen on validation, or a note.
    pub note: String,
    /// HR@10.
    pub hr: f64,
    /// NDCG@10.
    pub ndcg: f64,
    /// Recall@10.
    pub recall: f64,
    /// Catalogue coverage@10.
    pub coverage: f64,
    /// Scored users.
    pub users: usize,
    /// Users with a hit.
    pub hit_users: usize,
    /// Standard error of NDCG.
    pub ndcg_se: f64,
    /// Mean per-user NDCG difference to `pop`.
    pub delta_ndcg: f64,
    /// Its standard error.
    pub delta_ndcg_se: f64,
    /// Share of slots filled by zero-score items.
    pub zero_score_slots: f64,
    /// NDCG@10 on the validation split (the selection score).
    pub val_ndcg: f64,
    /// Wall time of the row, seconds.
    pub time_s: f64,
}

/// Inertia and silhouette of one K.
#[derive(Debug, Clone, Serialize)]
pub struct KScoreRow {
    /// Number of clusters.
    pub k: usize,
    /// Sum of squared distances to the centres (standardised features).
    pub inertia: f64,
    /// Mean sampled silhouette (`None` for K = 1).
    pub silhouette: Option<f64>,
}

/// Mean, minimum and maximum of a metric over seeds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

impl Spread {
    /// The spread of a non-empty list of values.
    pub fn of(values: &[f64]) -> Spread {
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Spread { mean, min, max }
    }
}

/// `cluster-pop` at one K over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SeedSpread {
    /// Number of clusters.
    pub k: usize,
    /// The seeds.
    pub seeds: Vec<u64>,
    /// NDCG@10 over the seeds.
    pub ndcg: Spread,
    /// HR@10 over the seeds.
    pub hr: Spread,
}

/// The clusters of one K.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterProfiles {
    /// Number of clusters.
    pub k: usize,
    /// One profile per cluster.
    pub clusters: Vec<ClusterProfile>,
}

/// What one cluster is.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterProfile {
    /// Cluster id.
    pub cluster: usize,
    /// Members.
    pub size: usize,
    /// The features whose centre value (in standard deviations) is highest, with the value.
    pub distinctive: Vec<(String, f64)>,
    /// The items with the highest cluster popularity.
    pub top_items: Vec<String>,
}

impl Report {
    /// The result table in Markdown, with the split summary above it.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let s = &self.split;
        let _ = writeln!(
            out,
            "Split: {} train / {} test events, {} users ({} with a test part), catalogue {} items. \
             {} scored users, {} of them with a relevant item in the catalogue. \
             {} relevant pairs, {} of them cold.",
            s.train_events,
            s.test_events,
            s.users,
            s.users_with_test,
            s.catalogue_items,
            s.scored_users,
            s.scored_users_with_warm_item,
            s.relevant_pairs,
            s.cold_pairs
        );
        let v = &self.validation;
        let _ = writeln!(
            out,
            "Validation: {} train / {} test events, {} scored users. Fingerprints {} / {}.",
            v.train_events,
            v.test_events,
            v.scored_users,
            self.fingerprints.test_events,
            self.fingerprints.relevant_pairs
        );
        if let Some(check) = self.k1_check {
            let verdict = if check { "pass" } else { "FAIL" };
            let _ = writeln!(out, "K=1 check (lists identical to pop): {verdict}.");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| method | K | chosen on validation / note | HR@10 | NDCG@10 | Recall@10 | Cov@10 | \
             users | time s | hit users | ΔNDCG vs pop (paired SE) | 0-score slots | val NDCG@10 |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for row in &self.rows {
            let k = row.k.map_or("-".to_owned(), |k| k.to_string());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {:.1} | {} | {:+.4} ({:.4}) | \
                 {:.1}% | {:.4} |",
                row.method,
                k,
                row.note,
                row.hr,
                row.ndcg,
                row.recall,
                row.coverage,
                row.users,
                row.time_s,
                row.hit_users,
                row.delta_ndcg,
                row.delta_ndcg_se,
                row.zero_score_slots * 100.0,
                row.val_ndcg
            );
        }
        if !self.k_scores.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "| K | inertia | silhouette |");
            let _ = writeln!(out, "|---|---|---|");
            for score in &self.k_scores {
                let silhouette = score.silhouette.map_or("-".to_owned(), |s| format!("{s:.3}"));
                let _ = writeln!(out, "| {} | {:.1} | {} |", score.k, score.inertia, silhouette);
            }
        }
        if !self.seed_spread.is_empty() {
            let _ = writeln!(out);
            let _ =
                writeln!(out, "| K | NDCG@10 mean [min, max] | HR@10 mean [min, max] | seeds |");
            let _ = writeln!(out, "|---|---|---|---|");
            for row in &self.seed_spread {
                let seeds: Vec<String> = row.seeds.iter().map(u64::to_string).collect();
                let _ = writeln!(
                    out,
                    "| {} | {:.4} [{:.4}, {:.4}] | {:.4} [{:.4}, {:.4}] | {} |",
                    row.k,
                    row.ndcg.mean,
                    row.ndcg.min,
                    row.ndcg.max,
                    row.hr.mean,
                    row.hr.min,
                    row.hr.max,
                    seeds.join(",")
                );
            }
        }
        for skipped in &self.skipped {
            let _ = writeln!(out, "\nskipped: {skipped}");
        }
        out
    }
}

//! Metrics at the list length (protocol section 5): HR, NDCG and Recall per scored user,
//! catalogue coverage, and the noise estimates.

use serde::Serialize;

use crate::rank::Lists;
use crate::split::Fold;

/// The summary of one method on one fold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// Mean HR@n.
    pub hr: f64,
    /// Mean NDCG@n.
    pub ndcg: f64,
    /// Mean Recall@n.
    pub recall: f64,
    /// Distinct recommended items over the catalogue size.
    pub coverage: f64,
    /// Scored users.
    pub users: usize,
    /// Users with at least one hit.
    pub hit_users: usize,
    /// Standard error of the mean NDCG.
    pub ndcg_se: f64,
    /// Share of slots filled with zero-score items.
    pub zero_score_slots: f64,
    /// NDCG of each scored user, in the order of [`Fold::scored`].
    #[serde(skip)]
    pub per_user_ndcg: Vec<f64>,
}

/// Scores the lists of the scored users of `fold` at cut-off `n`.
pub fn evaluate(fold: &Fold, lists: &Lists, n: usize) -> Metrics {
    let n_users = fold.scored.len();
    let mut metrics = Metrics { users: n_users, ..Metrics::default() };
    let mut recommended = vec![false; fold.in_catalogue.len()];
    let mut n_slots = 0usize;
    let (mut hr_sum, mut recall_sum) = (0.0, 0.0);

    for (&user, list) in fold.scored.iter().zip(&lists.lists) {
        let relevant = &fold.relevant[user as usize];
        let ideal_len = relevant.len().min(n);
        let ideal: f64 = (1..=ideal_len).map(discount).sum();
        let (mut hits, mut dcg) = (0usize, 0.0);
        for (rank, &item) in list.iter().enumerate() {
            recommended[item as usize] = true;
            if relevant.binary_search(&item).is_ok() {
                hits += 1;
                dcg += discount(rank + 1);
            }
        }
        n_slots += list.len();
        if hits > 0 {
            metrics.hit_users += 1;
            hr_sum += 1.0;
        }
        recall_sum += hits as f64 / ideal_len as f64;
        metrics.per_user_ndcg.push(dcg / ideal);
    }

    if n_users > 0 {
        metrics.hr = hr_sum / n_users as f64;
        metrics.recall = recall_sum / n_users as f64;
        metrics.ndcg = metrics.per_user_ndcg.iter().sum::<f64>() / n_users as f64;
        metrics.ndcg_se = standard_error(&metrics.per_user_ndcg);
    }
    let n_recommended = recommended.iter().filter(|&&r| r).count();
    if !fold.catalogue.is_empty() {
        metrics.coverage = n_recommended as f64 / fold.catalogue.len() as f64;
    }
    if n_slots > 0 {
        metrics.zero_score_slots = lists.zero_slots as f64 / n_slots as f64;
    }
    metrics
}

/// Mean and standard error of the per-user differences `method - baseline`.
pub fn paired_difference(method: &Metrics, baseline: &Metrics) -> (f64, f64) {
    let differences: Vec<f64> =
        method.per_user_ndcg.iter().zip(&baseline.per_user_ndcg).map(|(m, b)| m - b).collect();
    if differences.is_empty() {
        return (0.0, 0.0);
    }
    let mean = differences.iter().sum::<f64>() / differences.len() as f64;
    (mean, standard_error(&differences))
}

/// 1 / log2(rank + 1).
fn discount(rank: usize) -> f64 {
    1.0 / ((rank + 1) as f64).log2()
}

/// Sample standard deviation (n - 1) over sqrt(n).
fn standard_error(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (variance / n as f64).sqrt()
}

//! Ranking (protocol section 4): candidates are the catalogue minus the user's seen items,
//! sorted by score descending and then item id ascending, cut to the list length.

use crate::split::Fold;

/// The recommendation lists of one method for the scored users of a fold.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// The list of each scored user, in the order of [`Fold::scored`].
    pub lists: Vec<Vec<u32>>,
    /// Slots filled with a zero-score item.
    pub zero_slots: usize,
}

/// Lists from per-group scores: every user of group `g` is ranked by `group_scores[g]`
/// (one score per item). Each group's order is computed once.
pub fn rank_grouped(
    fold: &Fold,
    group_of_user: &[u32],
    group_scores: &[Vec<f64>],
    n: usize,
) -> Lists {
    let mut orders: Vec<Option<Vec<u32>>> = vec![None; group_scores.len()];
    let mut out = Lists { lists: Vec::with_capacity(fold.scored.len()), zero_slots: 0 };
    for &user in &fold.scored {
        let group = group_of_user[user as usize] as usize;
        let scores = &group_scores[group];
        let order = orders[group].get_or_insert_with(|| sorted_catalogue(fold, scores));
        let seen = &fold.seen[user as usize];
        let list: Vec<u32> = order
            .iter()
            .copied()
            .filter(|item| seen.binary_search(item).is_err())
            .take(n)
            .collect();
        out.zero_slots += list.iter().filter(|&&item| scores[item as usize] == 0.0).count();
        out.lists.push(list);
    }
    out
}

/// Lists from per-user scores: `score(user, buffer)` fills one score per item.
pub fn rank_per_user(
    fold: &Fold,
    n_items: usize,
    n: usize,
    mut score: impl FnMut(u32, &mut [f64]),
) -> Lists {
    let mut buffer = vec![0.0; n_items];
    let mut out = Lists { lists: Vec::with_capacity(fold.scored.len()), zero_slots: 0 };
    for &user in &fold.scored {
        buffer.iter_mut().for_each(|s| *s = 0.0);
        score(user, &mut buffer);
        let top = top_n(fold, &fold.seen[user as usize], &buffer, n);
        out.zero_slots += top.iter().filter(|&&item| buffer[item as usize] == 0.0).count();
        out.lists.push(top);
    }
    out
}

/// The best `n` candidates of one user under `scores`.
pub fn top_n(fold: &Fold, seen: &[u32], scores: &[f64], n: usize) -> Vec<u32> {
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(n + 1);
    let mut seen_at = 0;
    for &item in &fold.catalogue {
        while seen_at < seen.len() && seen[seen_at] < item {
            seen_at += 1;
        }
        if seen.get(seen_at) == Some(&item) {
            continue;
        }
        let score = clean(scores[item as usize]);
        // Items come in ascending id order, so an equal score never displaces a kept item.
        if best.len() == n && best.last().is_none_or(|&(last, _)| score <= last) {
            continue;
        }
        let position = best.partition_point(|&(kept, _)| kept >= score);
        best.insert(position, (score, item));
        best.truncate(n);
    }
    best.into_iter().map(|(_, item)| item).collect()
}

/// The catalogue sorted by (score descending, item id ascending).
pub fn sorted_catalogue(fold: &Fold, scores: &[f64]) -> Vec<u32> {
    let mut order = fold.catalogue.clone();
    order.sort_by(|&a, &b| {
        clean(scores[b as usize]).total_cmp(&clean(scores[a as usize])).then(a.cmp(&b))
    });
    order
}

/// NaN never wins a place.
fn clean(score: f64) -> f64 {
    if score.is_nan() {
        f64::NEG_INFINITY
    } else {
        score
    }
}

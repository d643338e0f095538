//! Stable cluster ids across model versions: minimum-cost matching of centres.

use crate::kernel::sq_dist;
use crate::{KMeans, KMeansError};

impl KMeans {
    /// Renumbers the clusters so that each keeps the id of the previous model's centre it
    /// corresponds to.
    ///
    /// The correspondence is the matching of new to previous centres with the smallest total
    /// squared distance (Hungarian algorithm, O(K³)). When K grew, every previous id is kept
    /// by one new cluster and the unmatched new clusters get the next ids, `previous_k`,
    /// `previous_k + 1`, …, in their current order. When K shrank, a new cluster matched to a
    /// previous id that no longer fits below K takes the smallest free id instead.
    ///
    /// Centres, labels and cluster sizes are permuted together. Returns the map from the old
    /// cluster index to its new id.
    pub fn relabel_to_match(
        &mut self,
        previous_centres: &[f32],
        previous_k: usize,
    ) -> Result<Vec<u32>, KMeansError> {
        let d = self.n_features;
        let k = self.n_clusters;
        if previous_k == 0 || previous_k.checked_mul(d) != Some(previous_centres.len()) {
            return Err(KMeansError::CentresShape {
                len: previous_centres.len(),
                n_clusters: previous_k,
                n_features: d,
            });
        }
        let previous_row = |p: usize| &previous_centres[p * d..(p + 1) * d];

        let mut new_ids = vec![u32::MAX; k];
        if k <= previous_k {
            let cost: Vec<f64> = (0..k)
                .flat_map(|i| (0..previous_k).map(move |p| (i, p)))
                .map(|(i, p)| f64::from(sq_dist(self.centre(i), previous_row(p))))
                .collect();
            let matched = min_cost_matching(&cost, k, previous_k);
            let mut used = vec![false; k];
            for (i, &p) in matched.iter().enumerate() {
                if p < k {
                    new_ids[i] = p as u32;
                    used[p] = true;
                }
            }
            let mut free = (0..k).filter(|&id| !used[id]);
            for id in new_ids.iter_mut().filter(|id| **id == u32::MAX) {
                *id = free.next().expect("as many free ids as unplaced clusters") as u32;
            }
        } else {
            let cost: Vec<f64> = (0..previous_k)
                .flat_map(|p| (0..k).map(move |i| (p, i)))
                .map(|(p, i)| f64::from(sq_dist(previous_row(p), self.centre(i))))
                .collect();
            let matched = min_cost_matching(&cost, previous_k, k);
            for (p, &i) in matched.iter().enumerate() {
                new_ids[i] = p as u32;
            }
            let unmatched = new_ids.iter_mut().filter(|id| **id == u32::MAX);
            for (next, id) in (previous_k as u32..).zip(unmatched) {
                *id = next;
            }
        }

        let mut centres = vec![0.0f32; k * d];
        let mut cluster_sizes = vec![0usize; k];
        for (old, &id) in new_ids.iter().enumerate() {
            let id = id as usize;
            centres[id * d..(id + 1) * d].copy_from_slice(self.centre(old));
            cluster_sizes[id] = self.cluster_sizes[old];
        }
        self.centres = centres;
        self.cluster_sizes = cluster_sizes;
        for label in &mut self.labels {
            *label = new_ids[*label as usize];
        }
        Ok(new_ids)
    }
}

/// Minimum-cost assignment of every row to a distinct column (`rows <= cols`), with the
/// Hungarian algorithm in its O(rows² · cols) potentials form. `cost` is row-major.
fn min_cost_matching(cost: &[f64], rows: usize, cols: usize) -> Vec<usize> {
    debug_assert!(rows <= cols);
    // 1-based arrays; index 0 is the virtual start column.
    let mut row_potential = vec![0.0f64; rows + 1];
    let mut col_potential = vec![0.0f64; cols + 1];
    let mut col_row = vec![0usize; cols + 1];
    let mut previous_col = vec![0usize; cols + 1];
    for row in 1..=rows {
        col_row[0] = row;
        let mut col = 0;
        let mut min_slack = vec![f64::INFINITY; cols + 1];
        let mut visited = vec![false; cols + 1];
        loop {
            visited[col] = true;
            let current_row = col_row[col];
            let mut delta = f64::INFINITY;
            let mut next_col = 0;
            for j in 1..=cols {
                if visited[j] {
                    continue;
                }
                let slack = cost[(current_row - 1) * cols + (j - 1)]
                    - row_potential[current_row]
                    - col_potential[j];
                if slack < min_slack[j] {
                    min_slack[j] = slack;
                    previous_col[j] = col;
                }
                if min_slack[j] < delta {
                    delta = min_slack[j];
                    next_col = j;
                }
            }
            for j in 0..=cols {
                if visited[j] {
                    row_potential[col_row[j]] += delta;
                    col_potential[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            col = next_col;
            if col_row[col] == 0 {
                break;
            }
        }
        loop {
            let prior = previous_col[col];
            col_row[col] = col_row[prior];
            col = prior;
            if col == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0usize; rows];
    for j in 1..=cols {
        if col_row[j] != 0 {
            assignment[col_row[j] - 1] = j - 1;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_finds_the_cheapest_assignment() {
        // Greedy on row 0 would take column 0 (cost 1) and force row 1 onto cost 100.
        let cost = [1.0, 2.0, 50.0, 1.0, 100.0, 50.0];

        let assignment = min_cost_matching(&cost, 2, 3);

        assert_eq!(assignment, vec![1, 0]);
    }

    #[test]
    fn matching_agrees_with_brute_force_on_a_3x3() {
        let cost = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        let permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let total = |p: &[usize]| p.iter().enumerate().map(|(r, &c)| cost[r * 3 + c]).sum::<f64>();
        let best = permutations.iter().map(|p| total(p)).fold(f64::INFINITY, f64::min);

        let assignment = min_cost_matching(&cost, 3, 3);

        assert_eq!(total(&assignment), best);
    }
}

//! Greedy k-means++ seeding.
//!
//! Arthur and Vassilvitskii's k-means++ draws each new centre with probability proportional
//! to the squared distance from the nearest centre chosen so far. The greedy variant (as in
//! scikit-learn) draws `2 + ⌊ln K⌋` candidates per step and keeps the one that lowers the
//! potential (the sum of those squared distances) the most. All candidates of a step are
//! scored in one pass over the data with the fused panel kernel.

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::kernel::{sq_dist, Centres, PanelStore, CHUNK};
use crate::prepare::Prepared;
use crate::simd::distances_in_panel;

/// Chooses `k` centres (row-major, data coordinates) from the rows of `prepared`.
pub(crate) fn kmeans_plus_plus(
    prepared: &Prepared<'_>,
    k: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<f32> {
    let data = prepared.data;
    let (n, d) = (data.n_rows(), data.n_cols());
    let x = data.data();
    let n_trials = 2 + (k as f64).ln().floor() as usize;

    let first = rng.gen_range(0..n);
    let mut centres = Vec::with_capacity(k * d);
    centres.extend_from_slice(data.row(first));

    // Squared distance of every point to its nearest chosen centre, and the f64 sum of each
    // chunk of it.
    let mut closest = vec![0.0f32; n];
    let mut chunk_sums: Vec<f64> = closest
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(chunk_idx, chunk)| {
            let start = chunk_idx * CHUNK;
            let mut sum = 0.0f64;
            for (offset, value) in chunk.iter_mut().enumerate() {
                *value = sq_dist(data.row(start + offset), data.row(first));
                sum += f64::from(*value);
            }
            sum
        })
        .collect();

    // Squared distances of every point to every candidate of the current step, per chunk of
    // `CHUNK` points candidate-major (`trial * CHUNK + offset`). The winner's distances are
    // folded into `closest` lazily, at the start of the next pass.
    let store = PanelStore::new(x, d, &prepared.mean);
    let width = store.width;
    let mut trial_d2 = vec![0.0f32; n.div_ceil(CHUNK) * CHUNK * n_trials];
    let mut winner: Option<usize> = None;

    for _ in 1..k {
        let potential: f64 = chunk_sums.iter().sum();
        let mut candidates = Vec::with_capacity(n_trials);
        for _ in 0..n_trials {
            let target = rng.gen::<f64>() * potential;
            candidates.push(draw(&closest, &chunk_sums, &trial_d2, n_trials, winner, target));
        }
        let mut candidate_rows = Vec::with_capacity(n_trials * d);
        for &candidate in &candidates {
            candidate_rows.extend_from_slice(data.row(candidate));
        }
        let trial_centres = Centres::new(candidate_rows, n_trials, d, &prepared.mean);

        let chunk_potentials: Vec<Vec<f64>> = closest
            .par_chunks_mut(CHUNK)
            .zip(trial_d2.par_chunks_mut(CHUNK * n_trials))
            .enumerate()
            .map(|(chunk_idx, (closest_chunk, trial_chunk))| {
                if let Some(w) = winner {
                    let won = &trial_chunk[w * CHUNK..(w + 1) * CHUNK];
                    for (value, &trial) in closest_chunk.iter_mut().zip(won) {
                        *value = value.min(trial);
                    }
                }
                let first_panel = chunk_idx * CHUNK / width;
                for p in 0..closest_chunk.len().div_ceil(width) {
                    distances_in_panel(
                        store.panel(first_panel + p),
                        d,
                        &trial_centres.groups,
                        n_trials,
                        &mut trial_chunk[p * width..],
                        CHUNK,
                    );
                }
                let potentials: Vec<f64> = trial_chunk
                    .chunks_exact(CHUNK)
                    .map(|trials| {
                        closest_chunk
                            .iter()
                            .zip(trials)
                            .map(|(&current, &candidate)| f64::from(current.min(candidate)))
                            .sum()
                    })
                    .collect();
                potentials
            })
            .collect();

        let mut best_trial = 0;
        let mut best_potential = f64::INFINITY;
        for t in 0..n_trials {
            let total: f64 = chunk_potentials.iter().map(|p| p[t]).sum();
            if total < best_potential {
                best_potential = total;
                best_trial = t;
            }
        }
        for (sum, potentials) in chunk_sums.iter_mut().zip(&chunk_potentials) {
            *sum = potentials[best_trial];
        }
        winner = Some(best_trial);
        centres.extend_from_slice(data.row(candidates[best_trial]));
    }
    centres
}

/// The first point whose running sum of weights exceeds `target` (weights are the current
/// squared distances, with the previous winner folded in lazily).
fn draw(
    closest: &[f32],
    chunk_sums: &[f64],
    trial_d2: &[f32],
    n_trials: usize,
    winner: Option<usize>,
    target: f64,
) -> usize {
    let weight = |i: usize| match winner {
        Some(w) => closest[i].min(trial_d2[(i / CHUNK * n_trials + w) * CHUNK + i % CHUNK]),
        None => closest[i],
    };
    let mut last_positive = None;
    let mut before = 0.0f64;
    for (chunk_idx, &sum) in chunk_sums.iter().enumerate() {
        if sum <= 0.0 {
            continue;
        }
        let start = chunk_idx * CHUNK;
        let end = (start + CHUNK).min(closest.len());
        if before + sum <= target {
            before += sum;
            continue;
        }
        let mut running = before;
        for i in start..end {
            let w = f64::from(weight(i));
            if w > 0.0 {
                running += w;
                last_positive = Some(i);
                if running > target {
                    return i;
                }
            }
        }
        before += sum;
    }
    // Only reached through rounding at the very end of the range, or when every point
    // coincides with a centre.
    last_positive.unwrap_or(closest.len() - 1)
}

//! Exact Lloyd iterations, accelerated with Hamerly's bounds and the fused SIMD kernel.
//!
//! Every point keeps an upper bound `u` on the distance to its assigned centre and a lower
//! bound `l` on the distance to every other centre (Hamerly, "Making k-means even faster",
//! SDM 2010). After centres move by `δ`, `u += δ(own)` and `l -= max δ(others)`. A point
//! whose `u` is at most `max(l, s(own))`, where `s(j)` is half the distance from centre `j`
//! to its nearest other centre, cannot have changed its nearest centre and is skipped.
//! Otherwise `u` is tightened with one exact distance, and if the test still fails the point
//! joins a per-chunk batch whose distances to all centres come from the fused kernel.
//!
//! The data are copied once per run, shifted and transposed into the kernel's panels
//! ([`PanelStore`]). A panel in which at least half the points fail the bound test is
//! computed whole, in place, with no tightening and no gathering: on overlapping clusters
//! most points fail the test in most iterations, and then the pass costs little more than
//! the distance computation itself.
//!
//! Centre sums are f64 and follow the label changes incrementally; they are rebuilt from
//! scratch when many points move, with partial sums reduced in a fixed order.

use rayon::prelude::*;

use crate::kernel::{inertia_of, sq_dist, Centres, Nearest, PanelStore, Scratch, CHUNK, SUM_CHUNK};
use crate::prepare::Prepared;

/// Per-point state of the bounded iterations.
#[derive(Debug, Clone, Copy, Default)]
struct PointState {
    label: u32,
    upper: f32,
    lower: f32,
}

/// A point that changed cluster in one assignment pass.
#[derive(Debug, Clone, Copy)]
struct Move {
    point: u32,
    from: u32,
    to: u32,
}

/// Outcome of one run from one set of initial centres.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) centres: Vec<f32>,
    pub(crate) labels: Vec<u32>,
    pub(crate) inertia: f64,
    pub(crate) n_iter: usize,
    pub(crate) converged: bool,
}

/// How the centres moved in the last update, in the form the bound updates need.
#[derive(Debug)]
struct Shifts {
    per_centre: Vec<f32>,
    max: f32,
    second_max: f32,
    argmax: u32,
    /// Half the distance from each centre to its nearest other centre.
    half_separation: Vec<f32>,
}

impl Shifts {
    fn new(old: &Centres, new: &Centres) -> (Self, f64) {
        let k = new.k;
        let mut total = 0.0f64;
        // Shifts and separations are rounded up a little so that the bounds built from them
        // stay valid despite f32 rounding.
        let per_centre: Vec<f32> = (0..k)
            .map(|j| {
                let d2 = sq_dist(old.row(j), new.row(j));
                total += f64::from(d2);
                d2.sqrt() * (1.0 + 1e-6)
            })
            .collect();
        let (mut max, mut second_max, mut argmax) = (0.0f32, 0.0f32, 0u32);
        for (j, &shift) in per_centre.iter().enumerate() {
            if shift > max {
                second_max = max;
                max = shift;
                argmax = j as u32;
            } else if shift > second_max {
                second_max = shift;
            }
        }
        let half_separation = half_separations(new);
        (Self { per_centre, max, second_max, argmax, half_separation }, total)
    }
}

fn half_separations(centres: &Centres) -> Vec<f32> {
    let k = centres.k;
    (0..k)
        .into_par_iter()
        .map(|j| {
            let nearest = (0..k)
                .filter(|&other| other != j)
                .map(|other| sq_dist(centres.row(j), centres.row(other)))
                .fold(f32::INFINITY, f32::min);
            0.5 * nearest.sqrt() * (1.0 - 1e-6)
        })
        .collect()
}

/// Runs Lloyd iterations from `initial` (row-major `k × d`, data coordinates).
///
/// `tol_abs` is the absolute threshold on the summed squared centre shift.
pub(crate) fn lloyd(
    prepared: &Prepared<'_>,
    initial: Vec<f32>,
    k: usize,
    max_iter: usize,
    tol_abs: f64,
) -> Run {
    let data = prepared.data;
    let (n, d) = (data.n_rows(), data.n_cols());
    let shift = &prepared.mean;
    let mut centres = Centres::new(initial, k, d, shift);
    let store = PanelStore::new(data.data(), d, shift);
    let mut states = vec![PointState::default(); n];
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0u64; k];
    let mut shifts: Option<Shifts> = None;
    let mut converged = false;
    let mut strict = false;
    let mut n_iter = 0;
    let mut tightening = Tightening::ALWAYS;

    for iteration in 0..max_iter {
        n_iter = iteration + 1;
        let started = std::time::Instant::now();
        let (moves, n_recomputed) = match &shifts {
            None => {
                full_assignment(&store, &centres, &mut states);
                (None, n)
            }
            Some(shifts) => {
                let (moves, n_recomputed, stats) =
                    bounded_assignment(prepared, &store, &centres, shifts, &mut states, tightening);
                tightening = tightening.next(stats);
                (Some(moves), n_recomputed)
            }
        };
        if let Some(moves) = &moves {
            if moves.is_empty() {
                strict = true;
                converged = true;
                tracing::trace!(iteration = n_iter, "labels unchanged");
                break;
            }
        }

        let n_moved = moves.as_ref().map_or(n, Vec::len);
        match moves {
            Some(moves) if moves.len() <= n / 3 => {
                apply_moves(data.data(), d, &moves, &mut sums, &mut counts)
            }
            _ => rebuild_sums(data.data(), d, &states, &mut sums, &mut counts),
        }

        let mut new_raw = centres_from_sums(&sums, &counts, &centres, d);
        let empty: Vec<usize> = (0..k).filter(|&j| counts[j] == 0).collect();
        if !empty.is_empty() {
            relocate_empty(prepared, &centres, &empty, &mut states, &mut sums, &mut counts);
            new_raw = centres_from_sums(&sums, &counts, &centres, d);
            tracing::debug!(iteration = n_iter, n_empty = empty.len(), "re-seeded empty clusters");
        }
        let new_centres = Centres::new(new_raw, k, d, shift);
        let (new_shifts, total_shift) = Shifts::new(&centres, &new_centres);
        tracing::trace!(
            iteration = n_iter,
            shift = total_shift,
            n_moved,
            n_recomputed,
            elapsed_us = started.elapsed().as_micros() as u64,
            "lloyd iteration"
        );
        centres = new_centres;
        shifts = Some(new_shifts);
        if total_shift <= tol_abs {
            converged = true;
            break;
        }
    }

    if !strict {
        // The last update moved the centres: bring the labels up to date with them.
        if let Some(shifts) = &shifts {
            bounded_assignment(prepared, &store, &centres, shifts, &mut states, Tightening::ALWAYS);
        }
    }
    let labels: Vec<u32> = states.iter().map(|state| state.label).collect();
    let inertia = inertia_of(data.data(), d, &labels, &centres);
    Run { centres: centres.raw, labels, inertia, n_iter, converged }
}

/// Assigns every point with the fused kernel and sets both bounds.
fn full_assignment(store: &PanelStore, centres: &Centres, states: &mut [PointState]) {
    let width = store.width;
    states.par_chunks_mut(CHUNK).enumerate().for_each_init(
        || (Scratch::new(centres.d), Vec::with_capacity(CHUNK)),
        |(scratch, nearest), (chunk_idx, chunk)| {
            for (panel_idx, panel_states) in chunk.chunks_mut(width).enumerate() {
                let panel = store.panel(chunk_idx * CHUNK / width + panel_idx);
                scratch.nearest_in_stored(panel, centres, nearest);
                for (state, found) in panel_states.iter_mut().zip(nearest.iter()) {
                    set_state(state, found);
                }
            }
        },
    );
}

#[inline]
fn set_state(state: &mut PointState, found: &Nearest) {
    state.label = found.best;
    state.upper = found.best_d2.sqrt();
    state.lower = found.second_d2.sqrt();
}

/// Whether the exact distance to the own centre is worth computing before a full
/// recomputation: it costs about `1/K` of one, and pays off only while it often proves that a
/// point stays. The choice depends on the previous pass only, so it is deterministic.
#[derive(Debug, Clone, Copy)]
struct Tightening {
    /// Tighten every `stride`-th failing point (1: all of them; more: a probe).
    stride: usize,
}

impl Tightening {
    const ALWAYS: Self = Self { stride: 1 };
    const PROBE: Self = Self { stride: 8 };

    fn next(self, stats: TightenStats) -> Self {
        // Keep tightening while it saves at least one recomputation in five tries.
        if stats.tried == 0 || stats.rescued * 5 >= stats.tried {
            Self::ALWAYS
        } else {
            Self::PROBE
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct TightenStats {
    tried: usize,
    rescued: usize,
}

/// One pruned assignment pass; returns the label changes in point order, the number of
/// points recomputed, and how tightening fared.
///
/// A panel of the store in which at least half the points fail the bound test is computed
/// whole, in place; the failing points of the other panels are tightened, and those that
/// still fail are gathered and computed together.
fn bounded_assignment(
    prepared: &Prepared<'_>,
    store: &PanelStore,
    centres: &Centres,
    shifts: &Shifts,
    states: &mut [PointState],
    tightening: Tightening,
) -> (Vec<Move>, usize, TightenStats) {
    let x = prepared.data.data();
    let d = centres.d;
    let width = store.width;
    let per_chunk: Vec<(Vec<Move>, usize, TightenStats)> = states
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map_init(
            || {
                let buffers = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
                (Scratch::new(d), Vec::with_capacity(CHUNK), buffers)
            },
            |(scratch, nearest, (pending, failing)), (chunk_idx, chunk)| {
                let start = chunk_idx * CHUNK;
                let mut stats = TightenStats::default();
                let mut moves = Vec::new();
                let mut n_recomputed = 0;
                pending.clear();
                for (panel_idx, panel_states) in chunk.chunks_mut(width).enumerate() {
                    let first = panel_idx * width;
                    failing.clear();
                    for (lane, state) in panel_states.iter_mut().enumerate() {
                        let own = state.label as usize;
                        state.upper += shifts.per_centre[own];
                        state.lower -= if state.label == shifts.argmax {
                            shifts.second_max
                        } else {
                            shifts.max
                        };
                        let bound = state.lower.max(shifts.half_separation[own]);
                        if state.upper > bound {
                            failing.push((lane, bound));
                        }
                    }
                    if 2 * failing.len() >= width {
                        let panel = store.panel((start + first) / width);
                        scratch.nearest_in_stored(panel, centres, nearest);
                        n_recomputed += panel_states.len();
                        for (lane, (state, found)) in
                            panel_states.iter_mut().zip(nearest.iter()).enumerate()
                        {
                            let from = state.label;
                            set_state(state, found);
                            if found.best != from {
                                let point = (start + first + lane) as u32;
                                moves.push(Move { point, from, to: found.best });
                            }
                        }
                        continue;
                    }
                    for &(lane, bound) in failing.iter() {
                        let offset = first + lane;
                        let state = &mut panel_states[lane];
                        if (start + offset) % tightening.stride == 0 {
                            let row = &x[(start + offset) * d..(start + offset + 1) * d];
                            let own = centres.row(state.label as usize);
                            state.upper = sq_dist(row, own).sqrt() * (1.0 + 1e-6);
                            stats.tried += 1;
                            if state.upper <= bound {
                                stats.rescued += 1;
                                continue;
                            }
                        }
                        pending.push(offset);
                    }
                }
                if !pending.is_empty() {
                    let rows = pending.iter().map(|&o| start + o);
                    scratch.nearest_of(x, d, &prepared.mean, rows, centres, nearest);
                    n_recomputed += pending.len();
                    for (&offset, found) in pending.iter().zip(nearest.iter()) {
                        let state = &mut chunk[offset];
                        let from = state.label;
                        set_state(state, found);
                        if found.best != from {
                            let point = (start + offset) as u32;
                            moves.push(Move { point, from, to: found.best });
                        }
                    }
                    moves.sort_unstable_by_key(|m| m.point);
                }
                (moves, n_recomputed, stats)
            },
        )
        .collect();
    let n_recomputed = per_chunk.iter().map(|(_, n, _)| n).sum();
    let stats = per_chunk.iter().fold(TightenStats::default(), |total, (_, _, part)| {
        TightenStats { tried: total.tried + part.tried, rescued: total.rescued + part.rescued }
    });
    let moves = per_chunk.into_iter().flat_map(|(moves, _, _)| moves).collect();
    (moves, n_recomputed, stats)
}

/// Recomputes the f64 centre sums and counts from the labels.
fn rebuild_sums(x: &[f32], d: usize, states: &[PointState], sums: &mut [f64], counts: &mut [u64]) {
    let k = counts.len();
    let partials: Vec<(Vec<f64>, Vec<u64>)> = x
        .par_chunks(SUM_CHUNK * d)
        .zip(states.par_chunks(SUM_CHUNK))
        .map(|(rows, chunk_states)| {
            let mut part_sums = vec![0.0f64; k * d];
            let mut part_counts = vec![0u64; k];
            for (row, state) in rows.chunks_exact(d).zip(chunk_states) {
                let label = state.label as usize;
                part_counts[label] += 1;
                for (sum, &value) in part_sums[label * d..(label + 1) * d].iter_mut().zip(row) {
                    *sum += f64::from(value);
                }
            }
            (part_sums, part_counts)
        })
        .collect();
    sums.fill(0.0);
    counts.fill(0);
    for (part_sums, part_counts) in partials {
        sums.iter_mut().zip(part_sums).for_each(|(s, p)| *s += p);
        counts.iter_mut().zip(part_counts).for_each(|(c, p)| *c += p);
    }
}

/// Applies label changes to the sums; each cluster's updates run in point order.
fn apply_moves(x: &[f32], d: usize, moves: &[Move], sums: &mut [f64], counts: &mut [u64]) {
    let k = counts.len();
    let mut per_cluster: Vec<Vec<(u32, bool)>> = vec![Vec::new(); k];
    for m in moves {
        per_cluster[m.from as usize].push((m.point, false));
        per_cluster[m.to as usize].push((m.point, true));
    }
    sums.par_chunks_mut(d).zip(counts.par_iter_mut()).zip(per_cluster.par_iter()).for_each(
        |((sum, count), updates)| {
            for &(point, add) in updates {
                let row = &x[point as usize * d..(point as usize + 1) * d];
                if add {
                    *count += 1;
                    sum.iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
                } else {
                    *count -= 1;
                    sum.iter_mut().zip(row).for_each(|(s, &v)| *s -= f64::from(v));
                }
            }
        },
    );
}

/// Means from sums; an empty cluster keeps its previous centre until it is re-seeded.
fn centres_from_sums(sums: &[f64], counts: &[u64], previous: &Centres, d: usize) -> Vec<f32> {
    let mut raw = Vec::with_capacity(sums.len());
    for (j, (sum, &count)) in sums.chunks_exact(d).zip(counts).enumerate() {
        if count == 0 {
            raw.extend_from_slice(previous.row(j));
        } else {
            raw.extend(sum.iter().map(|s| (s / count as f64) as f32));
        }
    }
    raw
}

/// Re-seeds each empty cluster with the point farthest from its centre (as scikit-learn
/// does), taking points only from clusters that keep at least one other point.
fn relocate_empty(
    prepared: &Prepared<'_>,
    centres: &Centres,
    empty: &[usize],
    states: &mut [PointState],
    sums: &mut [f64],
    counts: &mut [u64],
) {
    let x = prepared.data.data();
    let d = centres.d;
    let distances: Vec<f32> = states
        .par_iter()
        .enumerate()
        .map(|(i, state)| sq_dist(&x[i * d..(i + 1) * d], centres.row(state.label as usize)))
        .collect();
    let mut order: Vec<u32> = (0..states.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        distances[b as usize].total_cmp(&distances[a as usize]).then(a.cmp(&b))
    });

    let mut candidates = order.into_iter();
    for &target in empty {
        let Some(point) =
            candidates.by_ref().find(|&p| counts[states[p as usize].label as usize] > 1)
        else {
            break;
        };
        let point = point as usize;
        let row = &x[point * d..(point + 1) * d];
        let from = states[point].label as usize;
        counts[from] -= 1;
        sums[from * d..(from + 1) * d].iter_mut().zip(row).for_each(|(s, &v)| *s -= f64::from(v));
        counts[target] = 1;
        sums[target * d..(target + 1) * d]
            .iter_mut()
            .zip(row)
            .for_each(|(s, &v)| *s = f64::from(v));
        // The point now sits exactly on its new centre; a zero lower bound makes the next
        // pass look at it again.
        states[point] = PointState { label: target as u32, upper: 0.0, lower: 0.0 };
    }
}

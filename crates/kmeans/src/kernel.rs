//! Distance kernels shared by initialisation, Lloyd iterations and prediction.
//!
//! Many-points-to-many-centres distances go through the fused SIMD kernels of
//! [`crate::simd`]: `‖x − c‖² = ‖x‖² + ‖c‖² − 2 x·c`, with both sides shifted by the same
//! vector (the data mean) first, so that the cancellation in that formula stays small when
//! the data sit far from the origin. One-point distances use the direct loop, which has no
//! cancellation.
//!
//! All parallel work is cut into [`CHUNK`]-row chunks whose boundaries do not depend on the
//! number of threads, and partial results are reduced in chunk order, so a fit is
//! bit-for-bit reproducible on any number of threads.

use rayon::prelude::*;

use crate::simd::{lanes, nearest_in_panels, Groups};
use crate::Matrix;

/// Rows per unit of parallel work; small enough that a chunk, its products and the centres
/// stay in a core's L2 cache.
pub(crate) const CHUNK: usize = 256;

/// Rows per partial sum when reducing over all points (centre sums, inertia).
pub(crate) const SUM_CHUNK: usize = 16 * 1024;

/// Width of the accumulator arrays; eight f32 lanes fill one AVX register.
const LANES: usize = 8;

/// Relative safety margin on squared distances that come from the fused kernel, so that
/// lower bounds stay lower bounds despite f32 rounding.
const PRODUCT_MARGIN: f32 = 1e-5;

/// Squared Euclidean distance between two equally long slices.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let tail: f32 =
        a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            let diff = x[lane] - y[lane];
            acc[lane] += diff * diff;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Centres laid out for the distance kernels.
#[derive(Debug, Clone)]
pub(crate) struct Centres {
    /// `k × d` centres in data coordinates.
    pub(crate) raw: Vec<f32>,
    /// Largest squared norm of the shifted centres.
    max_norm: f32,
    /// The shifted centres laid out for the fused kernels.
    pub(crate) groups: Groups,
    pub(crate) k: usize,
    pub(crate) d: usize,
}

impl Centres {
    pub(crate) fn new(raw: Vec<f32>, k: usize, d: usize, shift: &[f32]) -> Self {
        debug_assert_eq!(raw.len(), k * d);
        let mut shifted = raw.clone();
        for row in shifted.chunks_exact_mut(d) {
            for (value, s) in row.iter_mut().zip(shift) {
                *value -= s;
            }
        }
        let norms: Vec<f32> = shifted.chunks_exact(d).map(sq_norm).collect();
        let max_norm = norms.iter().copied().fold(0.0, f32::max);
        let groups = Groups::new(&shifted, &norms, k, d);
        Self { raw, max_norm, groups, k, d }
    }

    pub(crate) fn row(&self, j: usize) -> &[f32] {
        &self.raw[j * self.d..(j + 1) * self.d]
    }
}

fn sq_norm(row: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for chunk in chunks {
        for lane in 0..LANES {
            acc[lane] += chunk[lane] * chunk[lane];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// All rows, shifted and transposed into the panels of the fused kernel (`d × width` values
/// per panel of `width` consecutive rows; the last panel is padded with zeros), so that the
/// Lloyd passes can run the kernel on the data in place when most points of a panel need it.
#[derive(Debug)]
pub(crate) struct PanelStore {
    values: Vec<f32>,
    pub(crate) width: usize,
    d: usize,
}

impl PanelStore {
    pub(crate) fn new(data: &[f32], d: usize, shift: &[f32]) -> Self {
        let width = 2 * lanes();
        let n = data.len() / d;
        let n_panels = n.div_ceil(width);
        let mut values = vec![0.0f32; n_panels * width * d];
        values.par_chunks_mut(width * d).enumerate().for_each(|(p, panel)| {
            let rows = &data[p * width * d..((p + 1) * width * d).min(data.len())];
            for (lane, row) in rows.chunks_exact(d).enumerate() {
                for ((target, &value), &mu) in
                    panel[lane..].iter_mut().step_by(width).zip(row).zip(shift)
                {
                    *target = value - mu;
                }
            }
        });
        Self { values, width, d }
    }

    /// Panel `p`: rows `p * width ..`.
    pub(crate) fn panel(&self, p: usize) -> &[f32] {
        &self.values[p * self.width * self.d..(p + 1) * self.width * self.d]
    }
}

/// Per-task buffers for the fused kernel.
#[derive(Debug)]
pub(crate) struct Scratch {
    norms: Vec<f32>,
    /// Points per panel of the fused kernel (two SIMD vectors).
    width: usize,
    /// One panel of gathered rows, transposed (`d × width`), for the fused kernel.
    panel: Vec<f32>,
    index: Vec<u32>,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(d: usize) -> Self {
        let width = 2 * lanes();
        let padded = CHUNK.next_multiple_of(width);
        Self {
            norms: vec![0.0; padded],
            width,
            panel: vec![0.0; width * d],
            index: vec![0; padded],
            first: vec![0.0; padded],
            second: vec![0.0; padded],
        }
    }

    /// Nearest and second-nearest centres of the `width` rows of a stored panel.
    pub(crate) fn nearest_in_stored(
        &mut self,
        panel: &[f32],
        centres: &Centres,
        out: &mut Vec<Nearest>,
    ) {
        let width = self.width;
        nearest_in_panels(
            panel,
            centres.d,
            &centres.groups,
            &mut self.norms[..width],
            &mut self.index[..width],
            &mut self.first[..width],
            &mut self.second[..width],
        );
        self.finish(width, centres, out);
    }

    /// Nearest and second-nearest centres of the given rows (at most [`CHUNK`]), in order.
    pub(crate) fn nearest_of(
        &mut self,
        data: &[f32],
        d: usize,
        shift: &[f32],
        rows: impl Iterator<Item = usize>,
        centres: &Centres,
        out: &mut Vec<Nearest>,
    ) {
        // Gather one panel at a time and run the kernel on it while it sits in L1.
        let width = self.width;
        let panel = &mut self.panel[..];
        let mut rows = rows.peekable();
        let mut m = 0;
        while rows.peek().is_some() {
            let start = m;
            for (lane, row) in rows.by_ref().take(width).enumerate() {
                m += 1;
                let source = &data[row * d..(row + 1) * d];
                for ((target, &value), &mu) in
                    panel[lane..].iter_mut().step_by(width).zip(source).zip(shift)
                {
                    *target = value - mu;
                }
            }
            let lanes = start..start + width;
            nearest_in_panels(
                panel,
                d,
                &centres.groups,
                &mut self.norms[lanes.clone()],
                &mut self.index[lanes.clone()],
                &mut self.first[lanes.clone()],
                &mut self.second[lanes],
            );
        }
        self.finish(m, centres, out);
    }

    /// Turns the kernel's output for the first `m` points into [`Nearest`] values.
    fn finish(&self, m: usize, centres: &Centres, out: &mut Vec<Nearest>) {
        out.clear();
        for q in 0..m {
            let x_norm = self.norms[q];
            let margin = PRODUCT_MARGIN * (x_norm + centres.max_norm);
            out.push(Nearest {
                best: self.index[q],
                best_d2: (self.first[q] + x_norm + margin).max(0.0),
                second_d2: (self.second[q] + x_norm - margin).max(0.0),
            });
        }
    }
}

/// The nearest centre of a row and squared distances to it and to the runner-up (ties go to
/// the lower index). Both distances come from the fused kernel, with a margin that keeps
/// them upper and lower bounds respectively.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Nearest {
    pub(crate) best: u32,
    pub(crate) best_d2: f32,
    pub(crate) second_d2: f32,
}

/// Labels every row with its nearest centre; returns the labels and the inertia (sum of
/// exact squared distances to the chosen centres, accumulated in f64).
pub(crate) fn assign_all(data: Matrix<'_>, centres: &Centres, shift: &[f32]) -> (Vec<u32>, f64) {
    let (n, d) = (data.n_rows(), data.n_cols());
    let x = data.data();
    let mut labels = vec![0u32; n];
    let partials: Vec<f64> = labels
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map_init(
            || (Scratch::new(d), Vec::with_capacity(CHUNK)),
            |(scratch, nearest), (chunk_idx, chunk_labels)| {
                let start = chunk_idx * CHUNK;
                let rows = start..start + chunk_labels.len();
                scratch.nearest_of(x, d, shift, rows, centres, nearest);
                let mut inertia = 0.0f64;
                for (offset, (label, found)) in
                    chunk_labels.iter_mut().zip(nearest.iter()).enumerate()
                {
                    *label = found.best;
                    let row = &x[(start + offset) * d..(start + offset + 1) * d];
                    inertia += f64::from(sq_dist(row, centres.row(found.best as usize)));
                }
                inertia
            },
        )
        .collect();
    (labels, partials.iter().sum())
}

/// Sum over all rows of the exact squared distance to the centre named by `labels`, in f64,
/// reduced in a fixed order.
pub(crate) fn inertia_of(data: &[f32], d: usize, labels: &[u32], centres: &Centres) -> f64 {
    let partials: Vec<f64> = data
        .par_chunks(SUM_CHUNK * d)
        .zip(labels.par_chunks(SUM_CHUNK))
        .map(|(rows, chunk_labels)| {
            rows.chunks_exact(d)
                .zip(chunk_labels)
                .map(|(row, &label)| f64::from(sq_dist(row, centres.row(label as usize))))
                .sum::<f64>()
        })
        .collect();
    partials.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::distances_in_panel;

    #[test]
    fn sq_dist_matches_the_definition_for_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| (i * i) as f32 * 0.1).collect();

        let expected: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();

        approx::assert_relative_eq!(sq_dist(&a, &b), expected, max_relative = 1e-6);
    }

    #[test]
    fn panel_distances_match_direct_ones() {
        let d = 13;
        let data: Vec<f32> = (0..40 * d).map(|i| ((i * 7919) % 101) as f32 / 7.0 + 100.0).collect();
        let raw: Vec<f32> = (0..3 * d).map(|i| ((i * 31) % 17) as f32 / 3.0 + 100.0).collect();
        let shift = vec![100.0; d];
        let centres = Centres::new(raw, 3, d, &shift);
        let store = PanelStore::new(&data, d, &shift);
        let width = store.width;
        let stride = 40usize.next_multiple_of(width);
        let mut distances = vec![0.0f32; 3 * stride];

        for p in 0..40usize.div_ceil(width) {
            let out = &mut distances[p * width..];
            distances_in_panel(store.panel(p), d, &centres.groups, 3, out, stride);
        }

        for i in 0..40 {
            for j in 0..3 {
                let direct = sq_dist(&data[i * d..(i + 1) * d], centres.row(j));
                approx::assert_relative_eq!(distances[j * stride + i], direct, max_relative = 1e-4);
            }
        }
    }

    #[test]
    fn fused_kernel_finds_the_two_nearest_centres() {
        // K = 7 leaves a padded group, 37 rows a partial panel; rows 5..42 are gathered.
        let (d, k) = (11, 7);
        let data: Vec<f32> = (0..50 * d).map(|i| ((i * 7919) % 97) as f32 / 9.0 - 3.0).collect();
        let raw: Vec<f32> = (0..k * d).map(|i| ((i * 31) % 23) as f32 / 4.0 - 2.0).collect();
        let shift: Vec<f32> = (0..d).map(|f| f as f32 * 0.1).collect();
        let centres = Centres::new(raw, k, d, &shift);
        let mut scratch = Scratch::new(d);
        let mut nearest = Vec::new();

        scratch.nearest_of(&data, d, &shift, 5..42, &centres, &mut nearest);

        assert_eq!(nearest.len(), 37);
        for (found, i) in nearest.iter().zip(5..) {
            let row = &data[i * d..(i + 1) * d];
            let mut direct: Vec<(f32, usize)> =
                (0..k).map(|j| (sq_dist(row, centres.row(j)), j)).collect();
            direct.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert_eq!(found.best as usize, direct[0].1);
            assert!(found.best_d2 >= direct[0].0 * (1.0 - 1e-5));
            assert!(found.second_d2 <= direct[1].0 * (1.0 + 1e-5));
            approx::assert_relative_eq!(found.second_d2, direct[1].0, max_relative = 1e-3);
        }

        let store = PanelStore::new(&data, d, &shift);
        scratch.nearest_in_stored(store.panel(1), &centres, &mut nearest);
        let width = store.width;
        for (found, i) in nearest.iter().zip(width..2 * width) {
            let row = &data[i * d..(i + 1) * d];
            let best = (0..k).min_by(|&a, &b| {
                sq_dist(row, centres.row(a)).total_cmp(&sq_dist(row, centres.row(b)))
            });
            assert_eq!(Some(found.best as usize), best);
        }
    }
}

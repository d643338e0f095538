//! The fused nearest-centre kernel: distances of a panel of points to every centre and the
//! running arg-min, without writing the distance matrix anywhere.
//!
//! Points are gathered transposed into panels of `2 × lanes` points (feature-major, one point
//! per SIMD lane), and centres into groups of [`GROUP`] (feature-major, pre-multiplied by
//! −2). For each panel and group, `2 × GROUP` vector accumulators hold `‖c‖² − 2 x·c` for
//! `2 × lanes` points and `GROUP` centres; each feature costs two vector loads, `GROUP`
//! broadcasts and `2 × GROUP` fused multiply-adds, which keeps the FMA units busy. The
//! nearest and second-nearest centres then follow lane-wise, with no horizontal reduction.
//!
//! `pulp` picks the widest instruction set the CPU has at run time (AVX2 and FMA, else
//! scalar code), so the binary runs on any x86-64.

use pulp::{Arch, Simd, WithSimd};

/// Centres per register tile of the kernel.
pub(crate) const GROUP: usize = 6;

/// Number of f32 lanes of the instruction set chosen at run time.
pub(crate) fn lanes() -> usize {
    struct Lanes;
    impl WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) -> usize {
            core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>()
        }
    }
    Arch::new().dispatch(Lanes)
}

/// Centres laid out for [`nearest_in_panels`]: `K` rounded up to a multiple of [`GROUP`];
/// padding centres have an infinite norm, so they are never the nearest.
#[derive(Debug, Clone)]
pub(crate) struct Groups {
    /// Per group, `d × GROUP` values: `−2 c[j][f]` at `f * GROUP + j`.
    minus_two: Vec<f32>,
    /// Squared norms, padded with `+∞`.
    norms: Vec<f32>,
}

impl Groups {
    /// `shifted` is `k × d`, row-major; `norms` its `k` squared row norms.
    pub(crate) fn new(shifted: &[f32], norms: &[f32], k: usize, d: usize) -> Self {
        let n_groups = k.div_ceil(GROUP);
        let mut minus_two = vec![0.0f32; n_groups * GROUP * d];
        for (j, row) in shifted.chunks_exact(d).enumerate() {
            let (group, slot) = (j / GROUP, j % GROUP);
            let block = &mut minus_two[group * GROUP * d..(group + 1) * GROUP * d];
            for (f, &value) in row.iter().enumerate() {
                block[f * GROUP + slot] = -2.0 * value;
            }
        }
        let mut padded = norms.to_vec();
        padded.resize(n_groups * GROUP, f32::INFINITY);
        Self { minus_two, norms: padded }
    }
}

/// Nearest and second-nearest centre of every point in `panels` (`d × width` values per
/// panel, `width = 2 × lanes()`), written per point as the index and the two values of
/// `‖c‖² − 2 x·c` (the squared distance minus `‖x‖²`), and `‖x‖²` itself.
pub(crate) fn nearest_in_panels(
    panels: &[f32],
    d: usize,
    groups: &Groups,
    x_norms: &mut [f32],
    index: &mut [u32],
    first: &mut [f32],
    second: &mut [f32],
) {
    Arch::new().dispatch(NearestInPanels { panels, d, groups, x_norms, index, first, second });
}

struct NearestInPanels<'a> {
    panels: &'a [f32],
    d: usize,
    groups: &'a Groups,
    x_norms: &'a mut [f32],
    index: &'a mut [u32],
    first: &'a mut [f32],
    second: &'a mut [f32],
}

impl WithSimd for NearestInPanels<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self { panels, d, groups, x_norms, index, first, second } = self;
        let lanes = core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>();
        let width = 2 * lanes;
        let infinity = simd.splat_f32s(f32::INFINITY);
        let outputs = x_norms
            .chunks_exact_mut(width)
            .zip(index.chunks_exact_mut(width))
            .zip(first.chunks_exact_mut(width))
            .zip(second.chunks_exact_mut(width));
        for (panel, (((norm_out, index_out), first_out), second_out)) in
            panels.chunks_exact(d * width).zip(outputs)
        {
            let (points, _) = S::as_simd_f32s(panel);
            let mut norms = [simd.splat_f32s(0.0); 2];
            for x in points.chunks_exact(2) {
                norms[0] = simd.mul_add_e_f32s(x[0], x[0], norms[0]);
                norms[1] = simd.mul_add_e_f32s(x[1], x[1], norms[1]);
            }
            S::as_mut_simd_f32s(norm_out).0[..2].copy_from_slice(&norms);
            let mut best = [infinity; 2];
            let mut runner_up = [infinity; 2];
            let mut best_index = [simd.splat_u32s(0); 2];
            for (g, (block, norms)) in groups
                .minus_two
                .chunks_exact(d * GROUP)
                .zip(groups.norms.chunks_exact(GROUP))
                .enumerate()
            {
                let norms: &[f32; GROUP] = norms.try_into().expect("a group of norms");
                let mut acc = [[infinity; 2]; GROUP];
                for j in 0..GROUP {
                    acc[j] = [simd.splat_f32s(norms[j]); 2];
                }
                for (x, c) in points.chunks_exact(2).zip(block.chunks_exact(GROUP)) {
                    let c: &[f32; GROUP] = c.try_into().expect("a group of coordinates");
                    let (x0, x1) = (x[0], x[1]);
                    for j in 0..GROUP {
                        let b = simd.splat_f32s(c[j]);
                        acc[j][0] = simd.mul_add_e_f32s(x0, b, acc[j][0]);
                        acc[j][1] = simd.mul_add_e_f32s(x1, b, acc[j][1]);
                    }
                }
                for (j, values) in acc.iter().enumerate() {
                    let id = simd.splat_u32s((g * GROUP + j) as u32);
                    for h in 0..2 {
                        let v = values[h];
                        let larger = simd.max_f32s(v, best[h]);
                        runner_up[h] = simd.min_f32s(runner_up[h], larger);
                        let closer = simd.less_than_f32s(v, best[h]);
                        best_index[h] = simd.select_u32s(closer, id, best_index[h]);
                        best[h] = simd.min_f32s(v, best[h]);
                    }
                }
            }
            let (index_vecs, _) = S::as_mut_simd_u32s(index_out);
            let (first_vecs, _) = S::as_mut_simd_f32s(first_out);
            let (second_vecs, _) = S::as_mut_simd_f32s(second_out);
            index_vecs[..2].copy_from_slice(&best_index);
            first_vecs[..2].copy_from_slice(&best);
            second_vecs[..2].copy_from_slice(&runner_up);
        }
    }
}

/// Squared distances (clamped at zero) of the points of one panel to every centre of
/// `groups` (the first `k` of them), written centre-major: centre `j`'s `width` values at
/// `out[j * stride..]`.
pub(crate) fn distances_in_panel(
    panel: &[f32],
    d: usize,
    groups: &Groups,
    k: usize,
    out: &mut [f32],
    stride: usize,
) {
    Arch::new().dispatch(DistancesInPanel { panel, d, groups, k, out, stride });
}

struct DistancesInPanel<'a> {
    panel: &'a [f32],
    d: usize,
    groups: &'a Groups,
    k: usize,
    out: &'a mut [f32],
    stride: usize,
}

impl WithSimd for DistancesInPanel<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self { panel, d, groups, k, out, stride } = self;
        let lanes = core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>();
        let width = 2 * lanes;
        let zero = simd.splat_f32s(0.0);
        let (points, _) = S::as_simd_f32s(panel);
        let mut x_norms = [zero; 2];
        for x in points.chunks_exact(2) {
            x_norms[0] = simd.mul_add_e_f32s(x[0], x[0], x_norms[0]);
            x_norms[1] = simd.mul_add_e_f32s(x[1], x[1], x_norms[1]);
        }
        for (g, (block, norms)) in groups
            .minus_two
            .chunks_exact(d * GROUP)
            .zip(groups.norms.chunks_exact(GROUP))
            .enumerate()
        {
            let mut acc = [[zero; 2]; GROUP];
            for (j, &norm) in norms.iter().enumerate() {
                let norm = simd.splat_f32s(norm);
                acc[j] = [simd.add_f32s(norm, x_norms[0]), simd.add_f32s(norm, x_norms[1])];
            }
            for (x, c) in points.chunks_exact(2).zip(block.chunks_exact(GROUP)) {
                let c: &[f32; GROUP] = c.try_into().expect("a group of coordinates");
                for j in 0..GROUP {
                    let b = simd.splat_f32s(c[j]);
                    acc[j][0] = simd.mul_add_e_f32s(x[0], b, acc[j][0]);
                    acc[j][1] = simd.mul_add_e_f32s(x[1], b, acc[j][1]);
                }
            }
            for (j, values) in acc.iter().enumerate().take(k.saturating_sub(g * GROUP)) {
                let target = &mut out[(g * GROUP + j) * stride..][..width];
                let (vecs, _) = S::as_mut_simd_f32s(target);
                vecs[0] = simd.max_f32s(values[0], zero);
                vecs[1] = simd.max_f32s(values[1], zero);
            }
        }
    }
}

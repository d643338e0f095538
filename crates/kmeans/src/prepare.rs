//! Checks and statistics of the training data, computed once per fit.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::kernel::SUM_CHUNK;
use crate::{KMeansError, Matrix};

/// Training data with what every restart needs: the shift used by the fused kernel and the
/// scale of the tolerance.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub(crate) data: Matrix<'a>,
    /// Column means (f64 sums, stored as f32): the shift of the fused kernel.
    pub(crate) mean: Vec<f32>,
    /// Mean over features of the per-feature (population) variance.
    pub(crate) mean_variance: f64,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(data: Matrix<'a>) -> Self {
        let (n, d) = (data.n_rows(), data.n_cols());
        let column_sums = data
            .data()
            .par_chunks(SUM_CHUNK * d)
            .map(|rows| {
                let mut sums = vec![0.0f64; d];
                for row in rows.chunks_exact(d) {
                    for (sum, &value) in sums.iter_mut().zip(row) {
                        *sum += f64::from(value);
                    }
                }
                sums
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(vec![0.0f64; d], |mut total, part| {
                total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
                total
            });
        let mean_f64: Vec<f64> = column_sums.iter().map(|sum| sum / n as f64).collect();

        let squares: Vec<f64> = data
            .data()
            .par_chunks(SUM_CHUNK * d)
            .map(|rows| {
                rows.chunks_exact(d)
                    .map(|row| {
                        row.iter()
                            .zip(&mean_f64)
                            .map(|(&value, mu)| (f64::from(value) - mu).powi(2))
                            .sum::<f64>()
                    })
                    .sum::<f64>()
            })
            .collect();
        let mean_variance = squares.iter().sum::<f64>() / (n as f64 * d as f64);

        let mean = mean_f64.iter().map(|&mu| mu as f32).collect();
        Self { data, mean, mean_variance }
    }
}

/// The first non-finite value in row-major order, as an error.
pub(crate) fn check_finite(data: Matrix<'_>) -> Result<(), KMeansError> {
    let d = data.n_cols();
    let first =
        data.data().par_chunks(SUM_CHUNK * d).enumerate().find_map_first(|(chunk_idx, values)| {
            values
                .iter()
                .position(|value| !value.is_finite())
                .map(|offset| chunk_idx * SUM_CHUNK * d + offset)
        });
    match first {
        None => Ok(()),
        Some(position) => Err(KMeansError::NonFinite {
            row: position / d,
            column: position % d,
            value: data.data()[position],
        }),
    }
}

/// Counts distinct rows, stopping as soon as `limit` have been seen.
///
/// `-0.0` and `0.0` count as the same value. On ordinary data this looks at little more
/// than the first `limit` rows; only data with many repeated rows is scanned in full.
pub(crate) fn count_distinct_up_to(data: Matrix<'_>, limit: usize) -> usize {
    let mut seen: HashSet<Vec<u32>> = HashSet::with_capacity(limit.min(data.n_rows()));
    for i in 0..data.n_rows() {
        let key = data.row(i).iter().map(|&v| if v == 0.0 { 0 } else { v.to_bits() }).collect();
        seen.insert(key);
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_variance_is_the_mean_of_the_column_variances() {
        // Columns [1, 3] (variance 1) and [0, 10] (variance 25).
        let values = [1.0, 0.0, 3.0, 10.0];
        let data = Matrix::new(&values, 2, 2).unwrap();

        let prepared = Prepared::new(data);

        assert_eq!(prepared.mean, vec![2.0, 5.0]);
        approx::assert_relative_eq!(prepared.mean_variance, 13.0);
    }

    #[test]
    fn distinct_rows_treat_signed_zeros_as_equal() {
        let values = [0.0, 1.0, -0.0, 1.0, 2.0, 1.0];
        let data = Matrix::new(&values, 3, 2).unwrap();

        assert_eq!(count_distinct_up_to(data, 10), 2);
        assert_eq!(count_distinct_up_to(data, 1), 1);
    }
}

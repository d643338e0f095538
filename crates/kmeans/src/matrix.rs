//! A borrowed, row-major f32 matrix view.

use crate::KMeansError;

/// A row-major view of `n_rows × n_cols` f32 values, one row per point.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    n_rows: usize,
    n_cols: usize,
}

impl<'a> Matrix<'a> {
    /// Views `data` as `n_rows` rows of `n_cols` values.
    ///
    /// Fails when the length does not match, or when `n_cols` is zero while rows exist.
    /// Values are not checked here; fitting rejects non-finite values.
    pub fn new(data: &'a [f32], n_rows: usize, n_cols: usize) -> Result<Self, KMeansError> {
        if n_rows.checked_mul(n_cols) != Some(data.len()) {
            return Err(KMeansError::Shape { len: data.len(), n_rows, n_cols });
        }
        if n_cols == 0 && n_rows > 0 {
            return Err(KMeansError::NoColumns);
        }
        Ok(Self { data, n_rows, n_cols })
    }

    /// The underlying row-major buffer.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// Number of rows (points).
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns (features).
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Row `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= n_rows`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }
}

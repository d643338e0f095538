//! `ease`: EASE (Steck 2019) in its user-space (dual) form, protocol section 7.6.
//!
//! With M = (X Xᵀ + λI)⁻¹ (users × users) and diag(P)_j = (1 - x_jᵀ M x_j) / λ, the scores
//! are s_u = x_u - (M X)_u ⊘ diag(P). Only the second term matters for candidates (the first
//! is non-zero on seen items only), so a user's scores are -(M X)_u ⊘ diag(P).

use nalgebra::DMatrix;

use super::Interactions;

/// The EASE grid: input (binary first), then λ.
pub const LAMBDA_GRID: [f64; 5] = [50.0, 100.0, 250.0, 500.0, 1000.0];

/// X Xᵀ, dense users × users.
pub fn gram(x: &Interactions) -> DMatrix<f64> {
    let n = x.rows.len();
    let mut gram = DMatrix::<f64>::zeros(n, n);
    for column in &x.columns {
        for &(v, xv) in column {
            for &(w, xw) in column {
                gram[(v as usize, w as usize)] += xv * xw;
            }
        }
    }
    gram
}

/// A fitted dual EASE model.
#[derive(Debug, Clone)]
pub struct Ease {
    m: DMatrix<f64>,
    diag_p: Vec<f64>,
}

impl Ease {
    /// Fits EASE for one λ from X and its Gram matrix; `None` if the system is singular
    /// (impossible for λ > 0, but never panic).
    pub fn fit(x: &Interactions, gram: &DMatrix<f64>, lambda: f64) -> Option<Ease> {
        let n = gram.nrows();
        let regularised = gram + DMatrix::<f64>::identity(n, n) * lambda;
        let m = regularised.cholesky()?.inverse();
        let diag_p = x
            .columns
            .iter()
            .map(|column| {
                let mut quadratic = 0.0;
                for &(v, xv) in column {
                    for &(w, xw) in column {
                        quadratic += xv * m[(v as usize, w as usize)] * xw;
                    }
                }
                (1.0 - quadratic) / lambda
            })
            .collect();
        Some(Ease { m, diag_p })
    }

    /// Writes -(M X)_u ⊘ diag(P) into `scores` (the candidates' EASE scores).
    pub fn score_user(&self, x: &Interactions, user: u32, scores: &mut [f64]) {
        let u = user as usize;
        for (v, row) in x.rows.iter().enumerate() {
            let weight = self.m[(v, u)]; // M is symmetric; this walks one column.
            if weight == 0.0 {
                continue;
            }
            for &(item, value) in row {
                scores[item as usize] += weight * value;
            }
        }
        for (score, &p) in scores.iter_mut().zip(&self.diag_p) {
            *score = if *score == 0.0 { 0.0 } else { -*score / p };
        }
    }
}

//! `itemknn`: cosine item-kNN over all neighbours (protocol section 7.5).

use super::Interactions;

/// Adds s_u(i) = sum over seen j of cos(j, i) to `scores`, for binary `x`.
///
/// Uses cos(j, i) = x_j · x_i / (|x_j| |x_i|): first a_v = sum over seen j of x_vj / |x_j|
/// for every user v, then s(i) = sum over v of a_v x_vi / |x_i|.
pub fn score_user(x: &Interactions, user: u32, weights_by_user: &mut [f64], scores: &mut [f64]) {
    weights_by_user.iter_mut().for_each(|a| *a = 0.0);
    for &(item, _) in &x.rows[user as usize] {
        let column = &x.columns[item as usize];
        let norm = (column.len() as f64).sqrt();
        for &(other, _) in column {
            weights_by_user[other as usize] += 1.0 / norm;
        }
    }
    for (other, &a) in weights_by_user.iter().enumerate() {
        if a == 0.0 {
            continue;
        }
        for &(item, _) in &x.rows[other] {
            scores[item as usize] += a;
        }
    }
    for (item, score) in scores.iter_mut().enumerate() {
        if *score != 0.0 {
            *score /= (x.columns[item].len() as f64).sqrt();
        }
    }
}

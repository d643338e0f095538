//! Exact K-means clustering of f32 data, fast on many cores and reproducible for a seed.
//!
//! # Algorithm
//!
//! K-means looks for K centres that minimise the *inertia*, the sum over all points of the
//! squared Euclidean distance to the nearest centre. A fit has two phases.
//!
//! 1. **Initialisation** with greedy k-means++ ([Arthur & Vassilvitskii, "k-means++: the
//!    advantages of careful seeding", SODA 2007](https://theory.stanford.edu/~sergei/papers/kMeansPP-soda.pdf)).
//!    The first centre is a uniformly drawn point. Each further centre is drawn with
//!    probability proportional to the squared distance from the nearest centre chosen so
//!    far; like scikit-learn, we draw `2 + ⌊ln K⌋` candidates per step and keep the one that
//!    lowers the inertia most. This gives an `O(log K)`-competitive start and far fewer
//!    Lloyd iterations than random points. Seeding makes one pass over its points per
//!    centre, so on more than `max(100 000, 1024·K)` points it runs on a uniform sample of
//!    that size (the Lloyd iterations always use every point). Explicit centres can be
//!    given instead ([`Init::Centres`]).
//! 2. **Lloyd iterations**: assign every point to its nearest centre, then move every centre
//!    to the mean of its points. The iterations are exact (the same result as the textbook
//!    loop) but accelerated: Hamerly's distance bounds skip the points whose nearest centre
//!    cannot have changed, and the remaining distances come from an f32 kernel that
//!    computes a block of points against all centres in SIMD registers and keeps the
//!    running arg-min there (AVX2/FMA chosen at run time, scalar code elsewhere). Centre
//!    sums and the inertia are accumulated in f64.
//!
//! A cluster that loses all its points is re-seeded with the point farthest from its
//! centre, so no centre is ever NaN. `n_init` restarts keep the run with the lowest
//! inertia.
//!
//! # Convergence
//!
//! As in scikit-learn, a run stops when an iteration leaves every label unchanged, or when
//! the sum over centres of the squared centre shift is at most `tol` times the mean over
//! features of the per-feature variance of the data (so `tol` is scale-free). Reaching
//! `max_iter` first is not an error: the model says `converged() == false`. The labels of
//! the model are always those of the final centres.
//!
//! # Determinism
//!
//! For a given seed the result is the same, bit for bit, whatever the number of threads:
//! parallel work is cut into chunks of a fixed size, partial sums are reduced in chunk
//! order, and random draws never depend on scheduling.
//!
//! # Input rules
//!
//! K must not exceed the number of distinct points (an error, not a silent reduction of K);
//! data must be non-empty and finite. Parameters are checked once by
//! [`KMeansParams::check`].
//!
//! # Example
//!
//! ```
//! use centroid_kmeans::{fit, KMeansParams, Matrix};
//!
//! // Two obvious groups on a line.
//! let points = [0.0, 1.0, 10.0, 11.0];
//! let data = Matrix::new(&points, 4, 1)?;
//! let params = KMeansParams::new(2).seed(7).check()?;
//!
//! let model = fit(&params, data)?;
//!
//! let mut centres = model.centres().to_vec();
//! centres.sort_by(f32::total_cmp);
//! assert_eq!(centres, [0.5, 10.5]);
//! assert_eq!(model.inertia(), 1.0);
//! let near_ten = model.predict(&[9.0])?;
//! assert_eq!(model.centre(near_ten.cluster as usize), [10.5]);
//! assert_eq!(near_ten.distance, 1.5);
//! # Ok::<(), centroid_kmeans::KMeansError>(())
//! ```

#![warn(missing_docs)]

mod error;
mod fit;
mod init;
mod kernel;
mod lloyd;
mod matrix;
mod model;
mod params;
mod prepare;
mod relabel;
mod select;
mod simd;
#[cfg(test)]
mod tests;

pub use crate::error::KMeansError;
pub use crate::fit::fit;
pub use crate::matrix::Matrix;
pub use crate::model::{Assignment, KMeans};
pub use crate::params::{Init, KMeansParams, ValidKMeansParams};
pub use crate::select::{select_k, KScore};

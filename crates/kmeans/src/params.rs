//! Fitting parameters: an unchecked builder and its validated form.

use crate::KMeansError;

/// How the first centres of each restart are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// Greedy k-means++ (the default): each new centre is the best of `2 + ln K` candidates
    /// drawn with probability proportional to the squared distance to the nearest centre.
    /// On more than `max(100 000, 1024·K)` points it seeds from a uniform sample of that size.
    KMeansPlusPlus,
    /// Start from these centres, `n_clusters × n_features` values in row-major order.
    ///
    /// With explicit centres a fit makes a single run whatever `n_init` says, because every
    /// restart would give the same result.
    Centres(Vec<f32>),
}

/// K-means parameters as given by the caller, not yet checked.
///
/// Build with [`KMeansParams::new`] and the setters, then [`check`](KMeansParams::check) it
/// into [`ValidKMeansParams`], which is what [`fit`](crate::fit) takes.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
    init: Init,
    n_threads: Option<usize>,
    sample: Option<usize>,
}

impl KMeansParams {
    /// Parameters for `n_clusters` clusters with scikit-learn's defaults otherwise: one
    /// restart, at most 300 iterations, `tol = 1e-4`, seed 0, k-means++, all cores, no
    /// sampling.
    pub fn new(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            init: Init::KMeansPlusPlus,
            n_threads: None,
            sample: None,
        }
    }

    /// Sets the number of clusters K.
    pub fn n_clusters(mut self, n_clusters: usize) -> Self {
        self.n_clusters = n_clusters;
        self
    }

    /// Sets the number of restarts; the one with the lowest inertia is kept.
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Sets the maximum number of Lloyd iterations of one restart.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the relative tolerance: a run stops when the summed squared centre shift of one
    /// iteration is at most `tol` times the mean per-feature variance of the data.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the seed of every random draw (initialisation, restarts, sampling).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Runs the fit in a local pool of this many threads instead of rayon's global pool.
    ///
    /// The result does not depend on it.
    pub fn n_threads(mut self, n_threads: Option<usize>) -> Self {
        self.n_threads = n_threads;
        self
    }

    /// Trains on a random sample of this many points, then assigns every point once.
    ///
    /// Labels, inertia and cluster sizes of the model then cover all points; the iterations
    /// and convergence flag are those of the training on the sample.
    pub fn sample(mut self, sample: Option<usize>) -> Self {
        self.sample = sample;
        self
    }

    /// Checks the parameters that do not depend on the data.
    ///
    /// The checks that need the data (K against the number of distinct points, the shape of
    /// initial centres, non-finite values) are made by [`fit`](crate::fit).
    pub fn check(&self) -> Result<ValidKMeansParams, KMeansError> {
        if self.n_clusters == 0 {
            return Err(KMeansError::ZeroClusters);
        }
        if self.n_init == 0 {
            return Err(KMeansError::ZeroRestarts);
        }
        if self.max_iter == 0 {
            return Err(KMeansError::ZeroMaxIter);
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(KMeansError::InvalidTolerance(self.tol));
        }
        if self.n_threads == Some(0) {
            return Err(KMeansError::ZeroThreads);
        }
        if let Some(sample) = self.sample {
            if sample < self.n_clusters {
                return Err(KMeansError::SampleTooSmall { sample, n_clusters: self.n_clusters });
            }
        }
        if let Init::Centres(centres) = &self.init {
            if centres.is_empty() || centres.len() % self.n_clusters != 0 {
                return Err(KMeansError::CentresShape {
                    len: centres.len(),
                    n_clusters: self.n_clusters,
                    n_features: centres.len() / self.n_clusters,
                });
            }
            if let Some(position) = centres.iter().position(|value| !value.is_finite()) {
                let n_features = centres.len() / self.n_clusters;
                return Err(KMeansError::NonFinite {
                    row: position / n_features,
                    column: position % n_features,
                    value: centres[position],
                });
            }
        }
        Ok(ValidKMeansParams(self.clone()))
    }
}

/// Parameters that passed [`KMeansParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidKMeansParams(KMeansParams);

impl ValidKMeansParams {
    /// Number of clusters K (at least 1).
    pub fn n_clusters(&self) -> usize {
        self.0.n_clusters
    }

    /// Number of restarts (at least 1).
    pub fn n_init(&self) -> usize {
        self.0.n_init
    }

    /// Maximum number of iterations per restart (at least 1).
    pub fn max_iter(&self) -> usize {
        self.0.max_iter
    }

    /// Relative tolerance (finite, non-negative).
    pub fn tol(&self) -> f64 {
        self.0.tol
    }

    /// Seed of every random draw.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }

    /// Initialisation.
    pub fn init(&self) -> &Init {
        &self.0.init
    }

    /// Size of the local thread pool, if any.
    pub fn n_threads(&self) -> Option<usize> {
        self.0.n_threads
    }

    /// Training sample size, if any.
    pub fn sample(&self) -> Option<usize> {
        self.0.sample
    }

    /// The same parameters with another K (used by [`select_k`](crate::select_k)).
    pub(crate) fn with_n_clusters(&self, n_clusters: usize) -> Result<Self, KMeansError> {
        self.0.clone().n_clusters(n_clusters).check()
    }
}

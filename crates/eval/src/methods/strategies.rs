//! Cluster strategies beyond the protocol.

use crate::dataset::Dataset;
use crate::metrics::Metrics;
use crate::protocol::Protocol;
use crate::run::{FoldState, Method};
use crate::{EvalError, KMeansSettings};

/// What a strategy needs from the run.
pub(crate) struct Context<'r, 'a> {
    pub(crate) data: &'a Dataset,
    pub(crate) protocol: &'a Protocol,
    pub(crate) settings: KMeansSettings,
    pub(crate) test: &'r mut FoldState<'a>,
    pub(crate) val: &'r mut FoldState<'a>,
}

/// A strategy's test metrics, validation score and chosen setting.
pub(crate) struct Outcome {
    pub(crate) test: Metrics,
    pub(crate) val_ndcg: f64,
    pub(crate) note: String,
}

pub(crate) fn run(
    ctx: &mut Context<'_, '_>,
    method: Method,
    k: usize,
) -> Result<Outcome, EvalError> {
    let _ = (ctx, method, k);
    Err(EvalError::Option { option: "methods", reason: "not yet".into() })
}

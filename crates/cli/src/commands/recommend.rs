//! `centroid recommend` (being written).

use crate::args::RecommendArgs;

pub(crate) fn run(_args: RecommendArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid recommend` is not written yet")
}

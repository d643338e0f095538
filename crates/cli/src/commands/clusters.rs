//! `centroid clusters` (being written).

use crate::args::ClustersArgs;

pub(crate) fn run(_args: ClustersArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid clusters` is not written yet")
}

//! `centroid cluster`: K-means on a plain matrix (placeholder, being written).

use crate::args::ClusterArgs;

pub(crate) fn run(_args: ClusterArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid cluster` is not written yet")
}

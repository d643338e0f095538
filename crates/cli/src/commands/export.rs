//! `centroid export` (being written).

use crate::args::ExportArgs;

pub(crate) fn run(_args: ExportArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid export` is not written yet")
}

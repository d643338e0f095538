//! `centroid import` (being written).

use crate::args::ImportArgs;

pub(crate) fn run(_args: ImportArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid import` is not written yet")
}

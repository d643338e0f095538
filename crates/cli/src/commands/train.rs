//! `centroid train` (being written).

use crate::args::TrainArgs;

pub(crate) fn run(_args: TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`centroid train` is not written yet")
}

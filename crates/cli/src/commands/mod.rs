//! One module per subcommand.

pub(crate) mod cluster;
pub(crate) mod clusters;
pub(crate) mod evaluate;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod recommend;
pub(crate) mod serve;
pub(crate) mod train;

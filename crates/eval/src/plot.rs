//! Plots.
pub fn x() {}

//! Integration tests of the `centroid` binary, compiled into one test binary.

mod cluster;
mod pipeline;
mod reference;

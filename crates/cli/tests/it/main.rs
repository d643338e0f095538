//! Integration tests of the `centroid` binary, compiled into one test binary.

mod cluster;
mod evaluate;
mod pipeline;
mod reference;
mod serve;

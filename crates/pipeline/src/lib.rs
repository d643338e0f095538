//! Centroid batch pipeline (being written).

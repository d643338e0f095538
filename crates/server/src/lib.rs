//! Centroid's HTTP API (being written; see issue 4).

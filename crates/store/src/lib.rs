//! Centroid storage (being written).

//! Centroid core (being written).

//! K-means clustering for Centroid (placeholder, being written).

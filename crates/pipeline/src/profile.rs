//! What sets each cluster apart: its centre read back in the units of the raw features.

use centroid_core::model::ModelVersion;

/// One feature of a cluster's centre compared with the average user.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureContrast {
    /// A readable name: `category shoes`, `purchases (log1p)`, `mean rating`, ...
    pub label: String,
    /// The column name in the feature table.
    pub column: String,
    /// The centre's value in standard deviations from the training mean.
    pub z: f64,
    /// The centre's value in raw units.
    pub value: f64,
    /// The training mean in raw units.
    pub mean: f64,
}

/// A cluster's size and its most distinctive features.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterProfile {
    /// Cluster id.
    pub cluster: usize,
    /// Training users in it.
    pub size: usize,
    /// Features sorted by |z|, largest first.
    pub contrasts: Vec<FeatureContrast>,
}

/// Profiles of every cluster of a model, each with its `n_features` most distinctive features.
pub fn cluster_profiles(model: &ModelVersion, n_features: usize) -> Vec<ClusterProfile> {
    let columns = model.spec.names();
    let labels = readable_labels(model);
    (0..model.k)
        .map(|cluster| {
            let centre = model.centre(cluster);
            let mut contrasts: Vec<FeatureContrast> = columns
                .iter()
                .enumerate()
                .filter(|(j, _)| !model.scaler.constant[*j])
                .map(|(j, column)| {
                    let z = f64::from(centre[j]);
                    FeatureContrast {
                        label: labels[j].clone(),
                        column: column.clone(),
                        z,
                        value: z * model.scaler.std[j] + model.scaler.mean[j],
                        mean: model.scaler.mean[j],
                    }
                })
                .collect();
            contrasts.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()));
            contrasts.truncate(n_features);
            ClusterProfile {
                cluster,
                size: model.cluster_sizes.get(cluster).copied().unwrap_or(0),
                contrasts,
            }
        })
        .collect()
}

fn readable_labels(model: &ModelVersion) -> Vec<String> {
    let mut labels: Vec<String> = model
        .spec
        .top_categories
        .iter()
        .map(|c| if c.is_empty() { "share: no category".to_owned() } else { format!("share: {c}") })
        .collect();
    for name in model.spec.names().into_iter().skip(labels.len()) {
        let label = match name.strip_prefix("log1p_n_") {
            Some(event_type) => format!("{} events (log1p)", event_type.replace('_', " ")),
            None => name.replace('_', " ").replace("cat other", "share: other categories"),
        };
        labels.push(label);
    }
    labels
}

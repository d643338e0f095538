//! The hand-made user features of `cluster-pop` (protocol section 7.2) and their
//! standardisation.

use centroid_core::EventType;

use crate::dataset::Dataset;
use crate::protocol::FeatureKind;
use crate::split::Fold;

/// A dense row-major feature table, one row per user with train events.
#[derive(Debug, Clone)]
pub struct FeatureTable {
    /// The user of each row, ascending.
    pub users: Vec<u32>,
    /// Column names.
    pub columns: Vec<String>,
    /// `users.len() × columns.len()` values.
    pub values: Vec<f64>,
}

impl FeatureTable {
    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// The standardised table as f32 for K-means: z = (x - mean) / population std, and a
    /// constant column becomes 0.
    pub fn standardised(&self) -> Vec<f32> {
        let (n, d) = (self.users.len(), self.n_cols());
        let mut out = vec![0.0f32; n * d];
        if n == 0 {
            return out;
        }
        for column in 0..d {
            let values = || self.values.iter().skip(column).step_by(d);
            let first = self.values[column];
            if values().all(|&v| v == first) {
                continue;
            }
            let mean = values().sum::<f64>() / n as f64;
            let variance = values().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            let std = variance.sqrt();
            for (row, value) in values().enumerate() {
                out[row * d + column] = ((value - mean) / std) as f32;
            }
        }
        out
    }
}

/// The features of every user with train events in `fold`.
pub fn user_features(data: &Dataset, fold: &Fold, kind: FeatureKind) -> FeatureTable {
    match kind {
        FeatureKind::Genres => genre_features(data, fold),
        FeatureKind::TopCategories { n_top } => category_features(data, fold, n_top),
    }
}

fn genre_features(data: &Dataset, fold: &Fold) -> FeatureTable {
    let n_genres = data.categories.len();
    let mut columns: Vec<String> = data.categories.iter().map(|g| format!("genre:{g}")).collect();
    columns.push("log1p_events".into());
    columns.push("mean_rating".into());
    let d = columns.len();

    let mut table = FeatureTable { users: Vec::new(), columns, values: Vec::new() };
    for (user, events) in fold.train.iter().enumerate() {
        if events.is_empty() {
            continue;
        }
        let mut row = vec![0.0; d];
        let (mut rating_sum, mut n_ratings) = (0.0, 0usize);
        for &index in events {
            let event = &data.events[index as usize];
            let genres = data.event_categories(event);
            for &genre in genres {
                row[genre as usize] += 1.0 / genres.len() as f64;
            }
            if event.action == EventType::Rating && event.rating.is_finite() {
                rating_sum += event.rating;
                n_ratings += 1;
            }
        }
        let n = events.len() as f64;
        row[..n_genres].iter_mut().for_each(|share| *share /= n);
        row[n_genres] = n.ln_1p();
        row[n_genres + 1] = if n_ratings > 0 { rating_sum / n_ratings as f64 } else { 0.0 };
        table.users.push(user as u32);
        table.values.extend(row);
    }
    table
}

/// The behaviours whose log-counts end the Taobao feature row, in protocol order.
const BEHAVIOURS: [EventType; 4] =
    [EventType::View, EventType::AddToCart, EventType::Like, EventType::Purchase];

fn category_features(data: &Dataset, fold: &Fold, n_top: usize) -> FeatureTable {
    let mut counts = vec![0u64; data.categories.len()];
    for &index in fold.train.iter().flatten() {
        for &category in data.event_categories(&data.events[index as usize]) {
            counts[category as usize] += 1;
        }
    }
    let mut ranked: Vec<u32> =
        (0..counts.len() as u32).filter(|&c| counts[c as usize] > 0).collect();
    ranked.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    ranked.truncate(n_top);
    let mut column_of = vec![None; counts.len()];
    for (column, &category) in ranked.iter().enumerate() {
        column_of[category as usize] = Some(column);
    }

    let n_kept = ranked.len();
    let mut columns: Vec<String> =
        ranked.iter().map(|&c| format!("category:{}", data.categories[c as usize])).collect();
    columns.push("category:other".into());
    columns.extend(BEHAVIOURS.iter().map(|b| format!("log1p_{b}")));
    let d = columns.len();

    let mut table = FeatureTable { users: Vec::new(), columns, values: Vec::new() };
    for (user, events) in fold.train.iter().enumerate() {
        if events.is_empty() {
            continue;
        }
        let mut row = vec![0.0; d];
        let mut behaviour_counts = [0u64; BEHAVIOURS.len()];
        for &index in events {
            let event = &data.events[index as usize];
            let categories = data.event_categories(event);
            let kept = categories.iter().find_map(|&c| column_of[c as usize]);
            match kept {
                Some(column) => row[column] += 1.0,
                None => row[n_kept] += 1.0,
            }
            if let Some(b) = BEHAVIOURS.iter().position(|&b| b == event.action) {
                behaviour_counts[b] += 1;
            }
        }
        let n = events.len() as f64;
        row[..=n_kept].iter_mut().for_each(|share| *share /= n);
        for (b, &count) in behaviour_counts.iter().enumerate() {
            row[n_kept + 1 + b] = (count as f64).ln_1p();
        }
        table.users.push(user as u32);
        table.values.extend(row);
    }
    table
}

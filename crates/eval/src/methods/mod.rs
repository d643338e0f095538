//! The methods of protocol section 7 and the cluster strategies built on them.

pub mod cluster;
pub mod ease;
pub mod itemknn;
pub mod strategies;

use crate::dataset::Dataset;
use crate::protocol::Weights;
use crate::split::Fold;

/// g_i: the summed weight of the train events on each item.
pub fn popularity(data: &Dataset, fold: &Fold, weights: &Weights) -> Vec<f64> {
    let mut counts = vec![0.0; data.items.len()];
    for &index in fold.train.iter().flatten() {
        let event = &data.events[index as usize];
        counts[event.item as usize] += weights.weight(event);
    }
    counts
}

/// A sparse user × item matrix, by rows and by columns.
#[derive(Debug, Clone)]
pub struct Interactions {
    /// Each user's `(item, value)` entries, items ascending.
    pub rows: Vec<Vec<(u32, f64)>>,
    /// Each item's `(user, value)` entries, users ascending.
    pub columns: Vec<Vec<(u32, f64)>>,
}

impl Interactions {
    /// X from the train events: `binary` gives 1 for any train event on the item, otherwise
    /// the summed weight of the user's events on it. Zero entries are left out.
    pub fn new(data: &Dataset, fold: &Fold, weights: &Weights, binary: bool) -> Self {
        let mut rows = Vec::with_capacity(fold.train.len());
        let mut columns = vec![Vec::new(); data.items.len()];
        for (user, events) in fold.train.iter().enumerate() {
            let mut entries: Vec<(u32, f64)> = events
                .iter()
                .map(|&i| {
                    let event = &data.events[i as usize];
                    (event.item, if binary { 1.0 } else { weights.weight(event) })
                })
                .collect();
            entries.sort_by_key(|&(item, _)| item);
            let mut merged: Vec<(u32, f64)> = Vec::with_capacity(entries.len());
            for (item, value) in entries {
                match merged.last_mut() {
                    Some((last, sum)) if *last == item => {
                        *sum = if binary { 1.0 } else { *sum + value };
                    }
                    _ => merged.push((item, value)),
                }
            }
            merged.retain(|&(_, value)| value != 0.0);
            for &(item, value) in &merged {
                columns[item as usize].push((user as u32, value));
            }
            rows.push(merged);
        }
        Interactions { rows, columns }
    }
}

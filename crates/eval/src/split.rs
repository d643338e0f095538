//! The per-user temporal split (protocol section 2), the validation split (section 6) and
//! what each split implies: catalogue, seen items, relevant items and scored users
//! (section 3), plus the two fingerprints (section 8).

use std::fmt::Write;

use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::protocol::Protocol;

/// A train / test pair with everything the metrics need.
#[derive(Debug, Clone)]
pub struct Fold {
    /// Train events of each user (indices into [`Dataset::events`]), in split order.
    pub train: Vec<Vec<u32>>,
    /// Test events of each user, in split order.
    pub test: Vec<Vec<u32>>,
    /// Whether each item is in the catalogue (has a train event).
    pub in_catalogue: Vec<bool>,
    /// Catalogue items, ascending.
    pub catalogue: Vec<u32>,
    /// Items of each user's train events, ascending, without repeats.
    pub seen: Vec<Vec<u32>>,
    /// Relevant items of each user, ascending, without repeats (cold items included).
    pub relevant: Vec<Vec<u32>>,
    /// Users with a non-empty relevant set, ascending.
    pub scored: Vec<u32>,
}

/// Each user's events sorted by (timestamp, item id, row).
pub fn user_sequences(data: &Dataset) -> Vec<Vec<u32>> {
    let mut sequences = vec![Vec::new(); data.users.len()];
    for (index, event) in data.events.iter().enumerate() {
        sequences[event.user as usize].push(index as u32);
    }
    for sequence in &mut sequences {
        sequence.sort_by_key(|&i| {
            let event = &data.events[i as usize];
            (event.timestamp, event.item, event.row)
        });
    }
    sequences
}

/// Splits each sequence: users with n >= 5 events give their last (n + 4) div 5 to test.
pub fn temporal_split(sequences: &[Vec<u32>]) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let mut train = Vec::with_capacity(sequences.len());
    let mut test = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let n = sequence.len();
        // (n + 4) div 5 in integers, as the protocol demands (never via floating point).
        let n_test = if n >= 5 { n.div_ceil(5) } else { 0 };
        train.push(sequence[..n - n_test].to_vec());
        test.push(sequence[n - n_test..].to_vec());
    }
    (train, test)
}

impl Fold {
    /// The test fold: the temporal split of every user's events.
    pub fn test(data: &Dataset, protocol: &Protocol) -> Fold {
        let (train, test) = temporal_split(&user_sequences(data));
        Fold::new(data, protocol, train, test)
    }

    /// The validation fold: the same split applied to this fold's train events.
    pub fn validation(&self, data: &Dataset, protocol: &Protocol) -> Fold {
        let (train, test) = temporal_split(&self.train);
        Fold::new(data, protocol, train, test)
    }

    fn new(data: &Dataset, protocol: &Protocol, train: Vec<Vec<u32>>, test: Vec<Vec<u32>>) -> Fold {
        let mut in_catalogue = vec![false; data.items.len()];
        let mut seen = Vec::with_capacity(train.len());
        for events in &train {
            let mut items: Vec<u32> =
                events.iter().map(|&i| data.events[i as usize].item).collect();
            items.sort_unstable();
            items.dedup();
            for &item in &items {
                in_catalogue[item as usize] = true;
            }
            seen.push(items);
        }
        let catalogue =
            (0..data.items.len() as u32).filter(|&i| in_catalogue[i as usize]).collect();

        let mut relevant = Vec::with_capacity(test.len());
        let mut scored = Vec::new();
        for (user, events) in test.iter().enumerate() {
            let mut items: Vec<u32> = events
                .iter()
                .map(|&i| &data.events[i as usize])
                .filter(|event| protocol.is_relevant(event))
                .map(|event| event.item)
                .filter(|item| seen[user].binary_search(item).is_err())
                .collect();
            items.sort_unstable();
            items.dedup();
            if !items.is_empty() {
                scored.push(user as u32);
            }
            relevant.push(items);
        }
        Fold { train, test, in_catalogue, catalogue, seen, relevant, scored }
    }

    /// Number of train events.
    pub fn n_train_events(&self) -> usize {
        self.train.iter().map(Vec::len).sum()
    }

    /// Number of test events.
    pub fn n_test_events(&self) -> usize {
        self.test.iter().map(Vec::len).sum()
    }

    /// Users with at least one train event.
    pub fn n_train_users(&self) -> usize {
        self.train.iter().filter(|events| !events.is_empty()).count()
    }

    /// Users with a test part.
    pub fn n_test_users(&self) -> usize {
        self.test.iter().filter(|events| !events.is_empty()).count()
    }

    /// Relevant (user, item) pairs over the scored users.
    pub fn n_relevant_pairs(&self) -> usize {
        self.relevant.iter().map(Vec::len).sum()
    }

    /// Relevant pairs whose item is not in the catalogue (they can never be hit).
    pub fn n_cold_pairs(&self) -> usize {
        self.relevant.iter().flatten().filter(|&&item| !self.in_catalogue[item as usize]).count()
    }

    /// Scored users with at least one relevant item in the catalogue.
    pub fn n_scored_with_warm_item(&self) -> usize {
        self.scored
            .iter()
            .filter(|&&u| self.relevant[u as usize].iter().any(|&i| self.in_catalogue[i as usize]))
            .count()
    }

    /// First 16 hex digits of the SHA-256 of `user,item,timestamp\n` per test event, users
    /// ascending, each user's events in split order.
    pub fn test_events_fingerprint(&self, data: &Dataset) -> String {
        let mut hasher = Sha256::new();
        let mut line = String::new();
        for events in &self.test {
            for &index in events {
                let event = &data.events[index as usize];
                line.clear();
                let user = &data.users[event.user as usize];
                let item = &data.items[event.item as usize];
                let _ = writeln!(line, "{user},{item},{}", event.timestamp);
                hasher.update(line.as_bytes());
            }
        }
        short_hex(hasher)
    }

    /// First 16 hex digits of the SHA-256 of `user,item\n` per relevant pair, sorted by user
    /// and then item.
    pub fn relevant_pairs_fingerprint(&self, data: &Dataset) -> String {
        let mut hasher = Sha256::new();
        let mut line = String::new();
        for &user in &self.scored {
            for &item in &self.relevant[user as usize] {
                line.clear();
                let _ =
                    writeln!(line, "{},{}", data.users[user as usize], data.items[item as usize]);
                hasher.update(line.as_bytes());
            }
        }
        short_hex(hasher)
    }
}

fn short_hex(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    digest[..8].iter().fold(String::with_capacity(16), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_size_is_the_integer_ceiling_of_a_fifth() {
        let sequences: Vec<Vec<u32>> =
            [4usize, 5, 6, 10, 11, 35].iter().map(|&n| (0..n as u32).collect()).collect();

        let (train, test) = temporal_split(&sequences);

        let sizes: Vec<usize> = test.iter().map(Vec::len).collect();
        assert_eq!(sizes, [0, 1, 2, 2, 3, 7]);
        assert_eq!(train[5].len(), 28);
        assert_eq!(test[1], [4]);
    }
}

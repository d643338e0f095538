//! Loaders: the raw MovieLens and Taobao files, and canonical events as stored by Centroid.
//!
//! All three produce the same [`Dataset`], so `centroid evaluate --db` and the raw-file paths
//! give identical numbers when the database was filled by `centroid import` from the same
//! files (import keeps file row order as the store's `seq`).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use centroid_core::{ContentItem, EventType};

use crate::dataset::{Dataset, DatasetBuilder, RawEvent};
use crate::EvalError;

/// The MovieLens label of a movie without genres; the protocol treats it as a genre.
pub const NO_GENRES: &str = "(no genres listed)";

/// Reads `movies.csv` and `ratings.csv` of a MovieLens directory (`ml-latest-small` layout).
pub fn movielens_dir(dir: &Path) -> Result<Dataset, EvalError> {
    let movies_path = dir.join("movies.csv");
    let mut genres: HashMap<String, Vec<String>> = HashMap::new();
    let mut vocabulary = BTreeSet::new();
    let mut reader = csv_reader(&movies_path, true)?;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| EvalError::csv(&movies_path, e))?;
        let (Some(movie), Some(labels)) = (record.get(0), record.get(2)) else {
            return Err(EvalError::Row {
                file: movies_path.display().to_string(),
                line: line as u64 + 2,
                reason: "expected `movieId,title,genres`".into(),
            });
        };
        let labels: Vec<String> = labels.split('|').map(str::to_owned).collect();
        vocabulary.extend(labels.iter().cloned());
        genres.insert(movie.to_owned(), labels);
    }

    let ratings_path = dir.join("ratings.csv");
    let mut builder = DatasetBuilder::new();
    for label in vocabulary {
        builder.add_category(label);
    }
    let mut reader = csv_reader(&ratings_path, true)?;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| EvalError::csv(&ratings_path, e))?;
        let row_error = |reason: String| EvalError::Row {
            file: ratings_path.display().to_string(),
            line: line as u64 + 2,
            reason,
        };
        if record.len() != 4 {
            return Err(row_error(format!("expected 4 fields, found {}", record.len())));
        }
        let rating: f64 = record[2].trim().parse().map_err(|_| row_error("bad `rating`".into()))?;
        let timestamp: i64 =
            record[3].trim().parse().map_err(|_| row_error("bad `timestamp`".into()))?;
        let movie = record[1].trim();
        let categories = genres
            .get(movie)
            .cloned()
            .ok_or_else(|| EvalError::NoGenres { item: movie.to_owned() })?;
        builder.push(RawEvent {
            user: record[0].trim().to_owned(),
            item: movie.to_owned(),
            timestamp,
            action: EventType::Rating,
            rating: Some(rating),
            categories,
        });
    }
    builder.build()
}

/// Reads a Taobao `UserBehavior.csv` (no header:
/// `user_id,item_id,category_id,behavior_type,timestamp`).
pub fn taobao_file(path: &Path) -> Result<Dataset, EvalError> {
    let mut builder = DatasetBuilder::new();
    let mut reader = csv_reader(path, false)?;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| EvalError::csv(path, e))?;
        let row_error = |reason: String| EvalError::Row {
            file: path.display().to_string(),
            line: line as u64 + 1,
            reason,
        };
        if record.len() != 5 {
            return Err(row_error(format!("expected 5 fields, found {}", record.len())));
        }
        let action = match record[3].trim() {
            "pv" => EventType::View,
            "cart" => EventType::AddToCart,
            "fav" => EventType::Like,
            "buy" => EventType::Purchase,
            other => return Err(row_error(format!("unknown behaviour `{other}`"))),
        };
        let timestamp: i64 =
            record[4].trim().parse().map_err(|_| row_error("bad `timestamp`".into()))?;
        builder.push(RawEvent {
            user: record[0].trim().to_owned(),
            item: record[1].trim().to_owned(),
            timestamp,
            action,
            rating: None,
            categories: vec![record[2].trim().to_owned()],
        });
    }
    builder.build()
}

/// Builds a data set from canonical events in store (`seq`) order and the catalogue.
///
/// Timestamps are epoch milliseconds in the store; when all of them are whole seconds (as
/// after a MovieLens or Taobao import) they are turned back into seconds, so the
/// fingerprints match the source files. Events without a user id are skipped.
///
/// For a rating data set (every event a rating), the catalogue's genres form the vocabulary
/// and a rated movie that is in the catalogue with a title but no genre gets
/// [`NO_GENRES`] (the import stores that marker as no category). A rated movie with no
/// genre and no catalogue title is an error, as the protocol demands.
pub fn from_events(
    events: &[centroid_core::Event],
    catalogue: &[ContentItem],
) -> Result<Dataset, EvalError> {
    let whole_seconds = events.iter().all(|e| e.timestamp_ms % 1000 == 0);
    let ratings = !events.is_empty() && events.iter().all(|e| e.event_type == EventType::Rating);

    let mut builder = DatasetBuilder::new();
    let mut titled_without_genre: HashMap<&str, bool> = HashMap::new();
    if ratings {
        for item in catalogue {
            for category in &item.categories {
                builder.add_category(category.clone());
            }
            let no_genre = item.categories.is_empty() && item.title.is_some();
            titled_without_genre.insert(item.content_id.as_str(), no_genre);
            if no_genre {
                builder.add_category(NO_GENRES);
            }
        }
    }
    for event in events {
        let Some(user) = &event.user_id else { continue };
        let mut categories = event.categories.clone();
        if ratings && categories.is_empty() {
            if titled_without_genre.get(event.content_id.as_str()) == Some(&true) {
                categories.push(NO_GENRES.to_owned());
            } else {
                return Err(EvalError::NoGenres { item: event.content_id.clone() });
            }
        }
        let timestamp = if whole_seconds { event.timestamp_ms / 1000 } else { event.timestamp_ms };
        builder.push(RawEvent {
            user: user.clone(),
            item: event.content_id.clone(),
            timestamp,
            action: event.event_type,
            rating: event.value.filter(|_| event.event_type == EventType::Rating),
            categories,
        });
    }
    builder.build()
}

fn csv_reader(path: &Path, has_headers: bool) -> Result<csv::Reader<std::fs::File>, EvalError> {
    let file = std::fs::File::open(path)
        .map_err(|source| EvalError::Io { path: path.display().to_string(), source })?;
    Ok(csv::ReaderBuilder::new().has_headers(has_headers).flexible(true).from_reader(file))
}

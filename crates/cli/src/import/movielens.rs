//! MovieLens (`ml-latest`, `ml-latest-small`, `ml-25m` layout): `movies.csv` becomes the
//! catalogue and `ratings.csv` rating events.
//!
//! `movies.csv` is read first so that every rating carries its movie's genres as categories
//! (the features are built from event categories). Genres split on `|` (the `(no genres
//! listed)` marker gives none); the year in the title's trailing `(YYYY)` goes to the
//! entry's attributes. A rating's event id is `ml:{user}:{movie}:{timestamp}`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use centroid_core::event::MAX_CATEGORIES_PER_CONTENT;
use centroid_core::parse::CsvRecord;
use centroid_core::ContentItem;
use indicatif::ProgressBar;
use serde_json::Value;

use super::{
    canonical_event, csv_reader, csv_row_error, field, next_row, open_input, Disconnected, Sink,
};

const NO_GENRES: &str = "(no genres listed)";

pub(super) fn parse(
    files: &[PathBuf],
    sink: &mut Sink,
    progress: &ProgressBar,
) -> anyhow::Result<Result<(), Disconnected>> {
    let (movies, ratings) = locate(files)?;

    let mut genres: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(movies) = &movies {
        sink.start_file(movies);
        let input = open_input(movies, progress)?;
        parse_movies(input, sink, &mut genres)
            .with_context(|| format!("reading `{}`", movies.display()))?;
    }
    if let Some(ratings) = &ratings {
        sink.start_file(ratings);
        let input = open_input(ratings, progress)?;
        let parsed = parse_ratings(input, sink, &genres)
            .with_context(|| format!("reading `{}`", ratings.display()))?;
        if parsed.is_err() {
            return Ok(parsed);
        }
    }
    Ok(sink.flush())
}

/// Finds `movies.csv` and `ratings.csv` (optionally `.gz`) among the arguments, which may be
/// the files themselves or the directory holding them.
fn locate(files: &[PathBuf]) -> anyhow::Result<(Option<PathBuf>, Option<PathBuf>)> {
    let mut candidates = Vec::new();
    for path in files {
        if path.is_dir() {
            for name in ["movies.csv", "movies.csv.gz", "ratings.csv", "ratings.csv.gz"] {
                let file = path.join(name);
                if file.is_file() {
                    candidates.push(file);
                }
            }
        } else {
            candidates.push(path.clone());
        }
    }

    let (mut movies, mut ratings) = (None, None);
    for path in candidates {
        let slot = match file_stem(&path).as_str() {
            "movies" => &mut movies,
            "ratings" => &mut ratings,
            _ => bail!(
                "`{}`: movielens takes `movies.csv` and `ratings.csv` (or their directory)",
                path.display()
            ),
        };
        if slot.replace(path.clone()).is_some() {
            bail!("`{}`: given twice", path.display());
        }
    }
    if movies.is_none() && ratings.is_none() {
        bail!("no `movies.csv` or `ratings.csv` found");
    }
    Ok((movies, ratings))
}

/// `ratings.csv.gz` → `ratings`.
fn file_stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.strip_suffix(".csv").unwrap_or(name).to_owned()
}

fn parse_movies(
    input: Box<dyn BufRead>,
    sink: &mut Sink,
    genres: &mut HashMap<String, Vec<String>>,
) -> anyhow::Result<()> {
    let mut reader = csv_reader(input, true);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                csv_row_error(error, sink)?;
                continue;
            }
        }
        sink.catalogue_row();
        let line = record.position().map(|p| p.line()).unwrap_or_default();
        match movie(&record) {
            Ok(item) => {
                genres.insert(item.content_id.clone(), item.categories.clone());
                sink.catalogue(item);
            }
            Err(reason) => sink.reject(line, reason),
        }
    }
    Ok(())
}

fn movie(record: &csv::StringRecord) -> Result<ContentItem, String> {
    let movie_id = field(record, 0, 3)?;
    let title = field(record, 1, 3)?.trim();
    let genre_list = field(record, 2, 3)?;

    let mut item = ContentItem::new(movie_id);
    item.title = (!title.is_empty()).then(|| title.to_owned());
    for genre in genre_list.split('|').map(str::trim) {
        if !genre.is_empty() && genre != NO_GENRES && !item.categories.iter().any(|g| g == genre) {
            item.categories.push(genre.to_owned());
        }
    }
    item.categories.truncate(MAX_CATEGORIES_PER_CONTENT);
    if let Some(year) = title_year(title) {
        item.attributes.insert("year".into(), Value::from(year));
    }
    item.validate().map_err(|e| e.to_string())?;
    Ok(item)
}

/// The year of a title ending in `(YYYY)`.
fn title_year(title: &str) -> Option<i64> {
    let inner = title.trim_end().strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let year = &inner[open + 1..];
    if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) {
        year.parse().ok()
    } else {
        None
    }
}

fn parse_ratings(
    input: Box<dyn BufRead>,
    sink: &mut Sink,
    genres: &HashMap<String, Vec<String>>,
) -> anyhow::Result<Result<(), Disconnected>> {
    let mut reader = csv_reader(input, true);
    let mut record = csv::StringRecord::new();
    let mut event_id = String::new();
    let mut timestamp = String::new();
    while let Some(line) = next_row(&mut reader, &mut record, sink)? {
        match rating(&record, sink, &mut event_id, &mut timestamp) {
            Ok(mut event) => {
                if let Some(movie_genres) = genres.get(&event.content_id) {
                    event.categories = movie_genres.clone();
                } else if !sink.knows_content(&event.content_id) {
                    sink.derived_content(ContentItem::new(event.content_id.clone()));
                }
                if sink.event(event).is_err() {
                    return Ok(Err(Disconnected));
                }
            }
            Err(reason) => sink.reject(line, reason),
        }
    }
    Ok(Ok(()))
}

fn rating(
    record: &csv::StringRecord,
    sink: &Sink,
    event_id: &mut String,
    timestamp: &mut String,
) -> Result<centroid_core::Event, String> {
    if record.len() != 4 {
        return Err(format!("expected 4 fields, found {}", record.len()));
    }
    let user_id = field(record, 0, 4)?;
    let movie_id = field(record, 1, 4)?;
    let stars = field(record, 2, 4)?;
    let seconds: i64 = field(record, 3, 4)?
        .parse()
        .map_err(|_| "`timestamp`: must be integer seconds".to_owned())?;
    let ms = seconds.checked_mul(1000).ok_or("`timestamp`: out of range")?;
    if stars.is_empty() {
        return Err("`rating`: is empty".into());
    }

    use std::fmt::Write;
    event_id.clear();
    let _ = write!(event_id, "ml:{user_id}:{movie_id}:{seconds}");
    timestamp.clear();
    let _ = write!(timestamp, "{ms}");
    let row = CsvRecord {
        event_id,
        user_id,
        content_id: movie_id,
        event_type: "rating",
        timestamp,
        value: stars,
        category: "",
    };
    canonical_event(&row, sink).map_err(|reason| reason.replace("`value`", "`rating`"))
}

#[cfg(test)]
mod tests {
    use super::title_year;

    #[test]
    fn year_comes_from_the_trailing_parentheses() {
        assert_eq!(title_year("Toy Story (1995)"), Some(1995));
        assert_eq!(title_year("Seven (a.k.a. Se7en) (1995) "), Some(1995));
        assert_eq!(title_year("Babylon 5"), None);
        assert_eq!(title_year("Stranger Things (2016-)"), None);
    }
}

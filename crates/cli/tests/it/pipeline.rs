//! Import, train and recommend end to end on the real data sets in `../shared/data`.
//!
//! Each test skips with a message when the data set is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn data_set(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(name);
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/data/{name} not found");
        None
    }
}

fn centroid(args: &[&str], db: &Path) -> Value {
    serde_json::from_str(run(args, db).trim()).unwrap_or(Value::Null)
}

/// A count from `centroid import`'s summary (`imported:  123`).
fn import_count(args: &[&str], db: &Path, field: &str) -> u64 {
    let summary = run(args, db);
    summary
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{field}` in import summary:\n{summary}"))
}

fn run(args: &[&str], db: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_centroid"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("centroid starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "centroid {args:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.into_owned()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Trains K clusters, then checks every cluster's list: full, catalogued, and not all equal to
/// the global list. Returns the train summary.
fn train_and_check_lists(db: &Path, k: usize, metric: &str) -> Value {
    let summary = centroid(&["train", "-k", &k.to_string(), "--json"], db);
    assert_eq!(summary["k"], k);
    let sizes: Vec<u64> =
        summary["cluster_sizes"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    assert_eq!(sizes.iter().sum::<u64>(), summary["users"].as_u64().unwrap());

    let global = centroid(
        &["recommend", "--cluster", "global", "--metric", metric, "--limit", "10", "--json"],
        db,
    );
    let global_ids = ids(&global);
    assert_eq!(global_ids.len(), 10);
    let mut differing = 0;
    for cluster in 0..k {
        let answer = centroid(
            &[
                "recommend",
                "--cluster",
                &cluster.to_string(),
                "--metric",
                metric,
                "--limit",
                "10",
                "--json",
            ],
            db,
        );
        assert_eq!(answer["model_version"], summary["version"]);
        let cluster_ids = ids(&answer);
        assert_eq!(cluster_ids.len(), 10, "cluster {cluster} list is filled");
        for item in answer["items"].as_array().unwrap() {
            assert!(item["categories"].as_array().is_some_and(|c| !c.is_empty()), "{item}");
        }
        if cluster_ids != global_ids {
            differing += 1;
        }
    }
    assert!(differing > 0, "some cluster's top list differs from the global top list");
    summary
}

#[test]
fn movielens_imports_trains_and_recommends_titled_movies() {
    let Some(data) = data_set("movielens-latest-small") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ml.db");

    let imported =
        import_count(&["import", "--format", "movielens", data.to_str().unwrap()], &db, "imported");

    assert_eq!(imported, 100_836);
    let summary = train_and_check_lists(&db, 6, "rating");
    assert_eq!(summary["users"], 610);
    assert_eq!(summary["events"], 100_836);

    // A known user's list leaves out what they rated, and carries titles from movies.csv.
    let answer = centroid(
        &["recommend", "--user", "1", "--metric", "rating", "--limit", "10", "--json"],
        &db,
    );
    let ratings = std::fs::read_to_string(data.join("ratings.csv")).unwrap();
    let rated: std::collections::HashSet<&str> = ratings
        .lines()
        .skip(1)
        .filter(|line| line.starts_with("1,"))
        .map(|line| line.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(rated.len(), 232);
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for item in items {
        assert!(!rated.contains(item["content_id"].as_str().unwrap()), "{item}");
        assert!(item["title"].as_str().is_some_and(|t| t.contains('(')), "{item}");
    }
}

#[test]
fn taobao_imports_trains_and_recommends() {
    let Some(data) = data_set("taobao-userbehavior-head") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tb.db");

    run(
        &["import", "--format", "taobao", data.join("UserBehavior_head.csv").to_str().unwrap()],
        &db,
    );

    let summary = train_and_check_lists(&db, 8, "views");
    assert_eq!(summary["users"], 815);
}

#[test]
fn rees46_imports_trains_and_recommends_with_brand_and_price() {
    let Some(data) = data_set("rees46-multicategory-head") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rees.db");

    let file = data.join("2019-Oct_head.csv");
    let rows =
        import_count(&["import", "--format", "rees46", file.to_str().unwrap()], &db, "rows read");

    assert_eq!(rows, 17_434);
    let summary = train_and_check_lists(&db, 5, "views");
    assert_eq!(summary["users"], 4_504);
    let answer = centroid(
        &["recommend", "--cluster", "0", "--metric", "views", "--limit", "5", "--json"],
        &db,
    );
    let priced =
        answer["items"].as_array().unwrap().iter().filter(|i| i["price"].is_number()).count();
    assert_eq!(priced, 5);
}

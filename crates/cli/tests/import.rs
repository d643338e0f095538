//! `centroid import` run as a process: the shared real data sets, re-imports, malformed rows,
//! gzip, Segment identify calls, and a SIGKILL in the middle of an import.
//!
//! Expected numbers are computed here from the input files (and checked against the data
//! sets' SOURCE.md), never taken from the import's own output.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use centroid_core::EventType;
use centroid_store::{SqliteStore, Store};

/// The shared data sets, beside the repository.
fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/data not found (looked in {})", dir.display());
        None
    }
}

/// Runs `centroid import` and returns its summary as `key -> value`.
fn import(db: &Path, format: &str, files: &[&Path]) -> HashMap<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_centroid"))
        .args(["import", "--db"])
        .arg(db)
        .args(["--format", format])
        .args(files)
        .output()
        .expect("run centroid import");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "import failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    summary(&stdout)
}

fn summary(stdout: &str) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for line in stdout.lines().filter(|l| !l.starts_with(' ')) {
        if let Some((key, value)) = line.split_once(':') {
            fields.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    fields.insert("_stdout".into(), stdout.to_owned());
    fields
}

fn count(summary: &HashMap<String, String>, key: &str) -> u64 {
    let value = summary.get(key).unwrap_or_else(|| panic!("no `{key}` in {summary:?}"));
    let number = value.split_whitespace().next().unwrap_or_default();
    number.parse().unwrap_or_else(|_| panic!("`{key}: {value}` is not a count"))
}

/// Event counts per type over every stored state.
fn type_counts(store: &SqliteStore) -> HashMap<EventType, u64> {
    let mut counts = HashMap::new();
    for (_, user) in store.load_states().unwrap().users() {
        for event_type in EventType::ALL {
            *counts.entry(event_type).or_default() += user.aggregate.counts[event_type.index()];
        }
    }
    counts
}

fn all_content(store: &SqliteStore) -> Vec<centroid_core::ContentItem> {
    let mut items = Vec::new();
    loop {
        let after = items.last().map(|i: &centroid_core::ContentItem| i.content_id.clone());
        let page = store.list_content(after.as_deref().unwrap_or(""), 10_000).unwrap();
        if page.is_empty() {
            return items;
        }
        items.extend(page);
    }
}

#[test]
fn movielens_ratings_and_catalogue() {
    let Some(data) = data_dir() else { return };
    let dir = data.join("movielens-latest-small");
    let ratings = std::fs::read_to_string(dir.join("ratings.csv")).unwrap();
    let rows: Vec<Vec<&str>> =
        ratings.lines().skip(1).map(|l| l.trim_end().split(',').collect()).collect();
    let users: HashSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!((rows.len(), users.len()), (100_836, 610), "SOURCE.md counts");
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("ml.db");

    let first = import(&db, "movielens", &[&dir]);
    let second = import(&db, "movielens", &[&dir.join("ratings.csv"), &dir.join("movies.csv")]);

    assert_eq!(count(&first, "rows read"), 100_836);
    assert_eq!(count(&first, "imported"), 100_836);
    assert_eq!(count(&first, "duplicates"), 0);
    assert_eq!(count(&first, "rejected"), 0);
    assert_eq!(count(&first, "catalogue rows"), 9_742);
    assert_eq!(count(&second, "imported"), 0, "a second import adds nothing");
    assert_eq!(count(&second, "duplicates"), 100_836);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.count_events().unwrap(), 100_836);
    assert_eq!(store.count_content().unwrap(), 9_742);
    assert_eq!(store.load_states().unwrap().n_users(), 610);
    assert_eq!(type_counts(&store)[&EventType::Rating], 100_836);
    assert_eq!(store.watermark().unwrap().seq, 100_836);

    // ratings.csv line 2: `1,1,4.0,964982703`; movies.csv: Toy Story's genres.
    let first_event = &store.events_since(0, 1).unwrap()[0].event;
    assert_eq!(first_event.event_id, "ml:1:1:964982703");
    assert_eq!(first_event.timestamp_ms, 964_982_703_000);
    assert_eq!(first_event.value, Some(4.0));
    let genres = ["Adventure", "Animation", "Children", "Comedy", "Fantasy"];
    assert_eq!(first_event.categories, genres);
    let toy_story = &store.content(&["1"]).unwrap()[0];
    assert_eq!(toy_story.title.as_deref(), Some("Toy Story (1995)"));
    assert_eq!(toy_story.categories, genres);
    assert_eq!(toy_story.attributes.get("year"), Some(&serde_json::json!(1995)));
    store.integrity_check().unwrap();
}

#[test]
fn taobao_rows_with_deterministic_ids() {
    let Some(data) = data_dir() else { return };
    let file = data.join("taobao-userbehavior-head/UserBehavior_head.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let unique: HashSet<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[0], r[1], r[3], r[4])).collect();
    let users: HashSet<&str> = rows.iter().map(|r| r[0]).collect();
    let items: HashSet<&str> = rows.iter().map(|r| r[1]).collect();
    let categories: HashSet<&str> = rows.iter().map(|r| r[2]).collect();
    let behaviours = |b: &str| {
        let keys: HashSet<_> =
            rows.iter().filter(|r| r[3] == b).map(|r| (r[0], r[1], r[4])).collect();
        keys.len() as u64
    };
    assert_eq!(
        (rows.len(), users.len(), items.len(), categories.len()),
        (84_475, 815, 55_368, 2_914),
        "SOURCE.md counts"
    );
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("tb.db");

    let first = import(&db, "taobao", &[&file]);
    let second = import(&db, "taobao", &[&file]);

    let imported = count(&first, "imported");
    assert_eq!(imported, unique.len() as u64);
    assert_eq!(imported + count(&first, "duplicates"), rows.len() as u64);
    assert_eq!(count(&first, "rejected"), 0);
    assert_eq!(count(&second, "imported"), 0);
    assert_eq!(count(&second, "duplicates"), rows.len() as u64);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.count_events().unwrap(), unique.len() as u64);
    assert_eq!(store.load_states().unwrap().n_users(), users.len());
    let content = all_content(&store);
    assert_eq!(content.len(), items.len());
    let stored_categories: HashSet<&str> =
        content.iter().flat_map(|c| c.categories.iter().map(String::as_str)).collect();
    assert_eq!(stored_categories, categories);
    let counts = type_counts(&store);
    assert_eq!(counts[&EventType::View], behaviours("pv"));
    assert_eq!(counts[&EventType::AddToCart], behaviours("cart"));
    assert_eq!(counts[&EventType::Like], behaviours("fav"));
    assert_eq!(counts[&EventType::Purchase], behaviours("buy"));
}

#[test]
fn rees46_events_with_brand_and_price() {
    let Some(data) = data_dir() else { return };
    let file = data.join("rees46-multicategory-head/2019-Oct_head.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // An event is (time, type, product, user, session); identical rows are one event.
    let unique: HashSet<(&str, &str, &str, &str, &str)> =
        rows.iter().map(|r| (r[0], r[1], r[2], r[7], r[8])).collect();
    let per_type = |t: &str| {
        (
            rows.iter().filter(|r| r[1] == t).count(),
            unique.iter().filter(|u| u.1 == t).count() as u64,
        )
    };
    let users: HashSet<&str> = rows.iter().map(|r| r[7]).collect();
    let products: HashSet<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!((rows.len(), users.len(), products.len()), (17_434, 4_504, 6_493), "SOURCE.md");
    assert_eq!(
        (per_type("view").0, per_type("cart").0, per_type("purchase").0),
        (17_055, 165, 214),
        "SOURCE.md"
    );
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("r46.db");

    let report = import(&db, "rees46", &[&file]);

    assert_eq!(count(&report, "rows read"), 17_434);
    assert_eq!(count(&report, "imported"), unique.len() as u64);
    assert_eq!(count(&report, "duplicates"), (rows.len() - unique.len()) as u64);
    assert_eq!(count(&report, "rejected"), 0);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.load_states().unwrap().n_users(), users.len());
    assert_eq!(store.count_content().unwrap(), products.len() as u64);
    let counts = type_counts(&store);
    assert_eq!(counts[&EventType::View], per_type("view").1);
    assert_eq!(counts[&EventType::AddToCart], per_type("cart").1);
    assert_eq!(counts[&EventType::Purchase], per_type("purchase").1);
    // Line 2: `2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,...`.
    let item = &store.content(&["44600062"]).unwrap()[0];
    assert_eq!(item.price, Some(35.79));
    assert_eq!(item.attributes.get("brand"), Some(&serde_json::json!("shiseido")));
    assert_eq!(item.categories, ["2103807459595387724"], "category_id when the code is empty");
    let first = &store.events_since(0, 1).unwrap()[0].event;
    assert_eq!(first.timestamp_ms, 1_569_888_000_000);
    assert_eq!(first.session_id.as_deref(), Some("72d76fde-8bb3-4e00-8c23-a032dfed738c"));
}

const CSV_HEADER: &str = "event_id,user_id,content_id,type,timestamp,value,category\n";

#[test]
fn malformed_rows_are_reported_and_good_rows_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.csv");
    let mut bytes = CSV_HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"e1,u1,c1,view,1000,,books\n"); // line 2
    bytes.extend_from_slice(b"e2,u1,c2,teleport,1000,,books\n"); // 3: unknown type
    bytes.extend_from_slice(b"e3,u1,c2,view,yesterday,,books\n"); // 4: bad timestamp
    bytes.extend_from_slice(b"e4,u2,c1,rating,2000,,books\n"); // 5: rating without value
    bytes.extend_from_slice(b"e5,u2\n"); // 6: too few fields
    bytes.extend_from_slice(b"e6,u\xff,c1,view,3000,,books\n"); // 7: not UTF-8
    bytes.extend_from_slice(b"e7,u2,c3,rating,4000,4.5,films\n"); // 8
    bytes.extend_from_slice(b"e8,,c3,view,4000,,films\n"); // 9: empty user
    bytes.extend_from_slice(b"e1,u1,c1,view,1000,,books\n"); // 10: duplicate of line 2
    std::fs::write(&file, bytes).unwrap();
    let db = dir.path().join("db.sqlite");

    let report = import(&db, "events-csv", &[&file]);

    assert_eq!(count(&report, "rows read"), 9);
    assert_eq!(count(&report, "imported"), 2);
    assert_eq!(count(&report, "duplicates"), 1);
    assert_eq!(count(&report, "rejected"), 6);
    let stdout = &report["_stdout"];
    for (line, reason) in [
        (3, "unknown event type `teleport`"),
        (4, "`timestamp`"),
        (5, "a rating needs a value"),
        (6, "expected 7 fields, found 2"),
        (7, "not valid UTF-8"),
        (9, "`user_id`: must not be empty"),
    ] {
        let expected = format!("events.csv:{line}: ");
        let reported = stdout.lines().find(|l| l.trim_start().starts_with(&expected));
        let reported = reported.unwrap_or_else(|| panic!("line {line} not reported:\n{stdout}"));
        assert!(reported.contains(reason), "{reported:?} should say {reason:?}");
    }
    let store = SqliteStore::open(&db).unwrap();
    let ids: Vec<String> =
        store.events_since(0, 10).unwrap().into_iter().map(|e| e.event.event_id).collect();
    assert_eq!(ids, ["e1", "e7"]);
    let c3 = &store.content(&["c3"]).unwrap()[0];
    assert_eq!(c3.categories, ["films"], "the catalogue is filled from event categories");
}

#[test]
fn gzip_input_is_detected_by_its_magic_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = CSV_HEADER.to_owned();
    for i in 0..1000 {
        text.push_str(&format!("e{i},u{},c{},view,{},,cat{}\n", i % 7, i % 13, 1000 + i, i % 3));
    }
    let gz = dir.path().join("events.csv.gz");
    let disguised = dir.path().join("events-compressed.csv");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    let compressed = encoder.finish().unwrap();
    std::fs::write(&gz, &compressed).unwrap();
    std::fs::write(&disguised, &compressed).unwrap();

    let a = import(&dir.path().join("a.db"), "events-csv", &[&gz]);
    let b = import(&dir.path().join("b.db"), "events-csv", &[&disguised]);

    assert_eq!(count(&a, "imported"), 1000);
    assert_eq!(count(&b, "imported"), 1000);
    assert_eq!(count(&a, "content added"), 13);
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    assert_eq!(store.load_states().unwrap().n_events(), 1000);
}

#[test]
fn segment_identify_merges_the_anonymous_profile() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("segment.jsonl");
    let lines = [
        r#"{"type":"track","event":"Product Viewed","messageId":"m1","anonymousId":"anon-1","timestamp":"2024-01-01T10:00:00Z","properties":{"product_id":"p1","name":"Lamp","price":20,"category":"home"}}"#,
        r#"{"type":"track","event":"Product Added","messageId":"m2","anonymousId":"anon-1","timestamp":"2024-01-01T10:01:00Z","properties":{"product_id":"p1"}}"#,
        r#"{"type":"identify","userId":"alice","anonymousId":"anon-1"}"#,
        r#"{"type":"track","event":"Order Completed","messageId":"m3","anonymousId":"anon-1","timestamp":"2024-01-01T10:05:00Z","properties":{"products":[{"product_id":"p1","quantity":2},{"product_id":"p2"}]}}"#,
        r#"{"type":"track","event":"Signed Up","messageId":"m4","userId":"alice"}"#,
        r#"{"type":"track","event":"Product Viewed","messageId":"m5","userId":"bob","properties":{}}"#,
        "",
        r#"not json"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let db = dir.path().join("db.sqlite");

    let report = import(&db, "segment-jsonl", &[&file]);

    assert_eq!(count(&report, "rows read"), 7, "the blank line is not a row");
    assert_eq!(count(&report, "imported"), 4, "two events, then one purchase per product");
    assert_eq!(count(&report, "ignored"), 2, "identify and Signed Up");
    assert_eq!(count(&report, "rejected"), 2, "no product id; not JSON");
    assert_eq!(count(&report, "profile merges"), 1);
    let store = SqliteStore::open(&db).unwrap();
    let alice: Vec<String> =
        store.user_events("alice", 0).unwrap().into_iter().map(|e| e.event.event_id).collect();
    assert_eq!(alice, ["m1", "m2", "m3:0", "m3:1"]);
    assert!(store.user_events("anon-1", 0).unwrap().is_empty());
    let states = store.load_states().unwrap();
    assert_eq!(states.n_users(), 1);
    assert_eq!(states.user("alice").map(|s| s.aggregate.n_events()), Some(4));
    assert_eq!(store.linked_user("anon-1").unwrap().as_deref(), Some("alice"));
    let lamp = &store.content(&["p1"]).unwrap()[0];
    assert_eq!((lamp.title.as_deref(), lamp.price), (Some("Lamp"), Some(20.0)));
}

/// Events per transaction for the SIGKILL test, set through the import's override variable
/// (the default batch is far larger, and would need a far larger file).
const IMPORT_BATCH: u64 = 20_000;

/// The canonical row of event `i` of the SIGKILL test; every row is unique and valid.
fn generated_row(i: u64) -> String {
    let kinds = ["view", "like", "add_to_cart", "view", "purchase"];
    let kind = kinds[(i % 5) as usize];
    let value = if kind == "purchase" { "1" } else { "" };
    format!(
        "g{i:08},u{},c{},{kind},{},{value},cat{}\n",
        i % 5_000,
        (i * 7) % 3_000,
        1_700_000_000_000 + i,
        i % 40
    )
}

#[cfg(unix)]
#[test]
fn sigkill_mid_import_loses_no_committed_batch() {
    const N: u64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.csv");
    let mut text = String::with_capacity(N as usize * 48);
    text.push_str(CSV_HEADER);
    for i in 0..N {
        text.push_str(&generated_row(i));
    }
    std::fs::write(&file, text).unwrap();
    let db = dir.path().join("db.sqlite");
    // Created (and migrated) before the child starts, so the test can watch it.
    let watcher = SqliteStore::open(&db).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_centroid"))
        .env("CENTROID_IMPORT_BATCH_EVENTS", IMPORT_BATCH.to_string())
        .args(["import", "--format", "events-csv", "--db"])
        .arg(&db)
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while watcher.count_events().unwrap() == 0 {
        assert!(child.try_wait().unwrap().is_none(), "the import ended before its first commit");
        assert!(Instant::now() < deadline, "no batch committed within two minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(watcher);

    let store = SqliteStore::open(&db).unwrap();
    store.integrity_check().unwrap();
    let committed = store.count_events().unwrap();
    assert!(committed > 0 && committed < N, "killed after {committed} of {N} events");
    assert_eq!(committed % IMPORT_BATCH, 0, "only whole batches are committed");
    let mut seq = 0;
    let mut i = 0;
    loop {
        let page = store.events_since(seq, 50_000).unwrap();
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for stored in &page {
            let expected = generated_row(i);
            let fields: Vec<&str> = expected.trim_end().split(',').collect();
            let event = &stored.event;
            assert_eq!(event.event_id, fields[0]);
            assert_eq!(event.user_id.as_deref(), Some(fields[1]));
            assert_eq!(event.content_id, fields[2]);
            assert_eq!(event.event_type.as_str(), fields[3]);
            assert_eq!(event.timestamp_ms.to_string(), fields[4]);
            assert_eq!(event.categories, [fields[6]]);
            i += 1;
        }
    }
    assert_eq!(i, committed, "every committed event reads back, in file order");
    drop(store);

    let rerun = import(&db, "events-csv", &[&file]);

    assert_eq!(count(&rerun, "duplicates"), committed);
    assert_eq!(count(&rerun, "imported"), N - committed);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.count_events().unwrap(), N);
    assert_eq!(store.last_seq().unwrap(), N as i64, "no sequence number was used twice");
    let states = store.load_states().unwrap();
    assert_eq!(states.n_events(), N, "the re-run folds the interrupted import's events too");
    assert_eq!(store.watermark().unwrap().seq, N as i64);
    store.integrity_check().unwrap();
}

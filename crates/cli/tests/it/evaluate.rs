//! `centroid evaluate` on the shared data sets, through the database: import, then the
//! protocol of `docs/evaluation.md`. The split, the fingerprints and every metric of global
//! popularity must equal the reference values of EVALUATION.md; cluster popularity with K = 1
//! must give popularity's lists, and at K = 16 land inside the reference seed spread.
//!
//! Skips with a message when `../shared/data` is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared_data(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(name);
    if !dir.exists() {
        eprintln!("skipping: {} not found", dir.display());
        return None;
    }
    Some(dir)
}

fn centroid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_centroid"))
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("command starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Imports `input` and evaluates it; returns the JSON report.
fn import_and_evaluate(format: &str, input: &Path, methods: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("centroid.db");
    let out = dir.path().join("report");
    run(centroid().args(["import", "--format", format, "--db"]).arg(&db).arg(input));

    let table = run(centroid()
        .args(["evaluate", "--methods", methods, "--k", "1,16", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .args(extra));

    assert!(table.contains("| pop | - |"), "{table}");
    assert!(out.join("metrics_vs_k.svg").exists());
    assert!(out.join("k_selection.svg").exists());
    let json = std::fs::read_to_string(out.join("evaluation.json")).unwrap();
    serde_json::from_str(&json).unwrap()
}

fn row<'a>(report: &'a Value, method: &str, k: Option<u64>) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["k"].as_u64() == k)
        .unwrap_or_else(|| panic!("no row {method} {k:?}"))
}

fn assert_close(found: &Value, expected: f64, what: &str) {
    let found = found.as_f64().unwrap();
    assert!((found - expected).abs() <= 1e-6, "{what}: {found} != {expected}");
}

/// The split rows of EVALUATION.md section 8.
struct Reference {
    train_test: (u64, u64),
    users: (u64, u64),
    catalogue: u64,
    scored: (u64, u64),
    relevant: (u64, u64),
    fingerprints: (&'static str, &'static str),
    validation: (u64, u64, u64),
    global_top: [&'static str; 10],
}

fn assert_split(report: &Value, reference: &Reference) {
    let split = &report["split"];
    assert_eq!(split["train_events"], reference.train_test.0);
    assert_eq!(split["test_events"], reference.train_test.1);
    assert_eq!(split["users"], reference.users.0);
    assert_eq!(split["users_with_test"], reference.users.1);
    assert_eq!(split["catalogue_items"], reference.catalogue);
    assert_eq!(split["scored_users"], reference.scored.0);
    assert_eq!(split["scored_users_with_warm_item"], reference.scored.1);
    assert_eq!(split["relevant_pairs"], reference.relevant.0);
    assert_eq!(split["cold_pairs"], reference.relevant.1);
    assert_eq!(report["fingerprints"]["test_events"], reference.fingerprints.0);
    assert_eq!(report["fingerprints"]["relevant_pairs"], reference.fingerprints.1);
    let validation = &report["validation"];
    assert_eq!(validation["train_events"], reference.validation.0);
    assert_eq!(validation["test_events"], reference.validation.1);
    assert_eq!(validation["scored_users"], reference.validation.2);
    let top: Vec<&str> =
        report["global_top"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(top, reference.global_top);
}

fn assert_metrics(row: &Value, expected: [f64; 4], what: &str) {
    for (name, value) in ["hr", "ndcg", "recall", "coverage"].iter().zip(expected) {
        assert_close(&row[*name], value, &format!("{what} {name}"));
    }
}

fn assert_k1_is_pop(report: &Value) {
    assert_eq!(report["k1_check"], true, "cluster-pop with K=1 must give pop's lists");
    let (pop, k1) = (row(report, "pop", None), row(report, "cluster-pop", Some(1)));
    for name in ["hr", "ndcg", "recall", "coverage", "hit_users"] {
        assert_eq!(pop[name], k1[name], "{name}");
    }
}

#[test]
fn movielens_through_the_database_matches_the_reference() {
    let Some(dir) = shared_data("movielens-latest-small") else { return };

    let report =
        import_and_evaluate("movielens", &dir, "pop,cluster-pop", &["--seeds", "0,1,2,3,4"]);

    assert_split(
        &report,
        &Reference {
            train_test: (80_419, 20_417),
            users: (610, 610),
            catalogue: 8_230,
            scored: (592, 591),
            relevant: (9_509, 627),
            fingerprints: ("3fc494ac464fe7e8", "f63999601b458328"),
            validation: (64_081, 16_338, 593),
            global_top: ["318", "356", "296", "2571", "593", "260", "2959", "110", "1196", "527"],
        },
    );
    assert_metrics(row(&report, "pop", None), [0.326014, 0.079408, 0.075898, 0.010936], "pop");
    assert_k1_is_pop(&report);

    // K-means differs from scikit-learn's by its random generator, so the protocol compares
    // against the reference spread over seeds 0 to 4: NDCG@10 0.0888 [0.0862, 0.0907],
    // HR@10 0.3801 [0.3632, 0.3919].
    let spread = report["seed_spread"].as_array().unwrap();
    let k16 = spread.iter().find(|s| s["k"] == 16).unwrap();
    let ndcg_mean = k16["ndcg"]["mean"].as_f64().unwrap();
    let hr_mean = k16["hr"]["mean"].as_f64().unwrap();
    assert!((0.0862..=0.0907).contains(&ndcg_mean), "NDCG@10 seed mean {ndcg_mean}");
    assert!((0.3632..=0.3919).contains(&hr_mean), "HR@10 seed mean {hr_mean}");
    // FIXME(#6): the seed-0 row alone is at 0.0847, below the reference minimum 0.0862 (our
    // seeds 1 to 4 give 0.0874 to 0.0897); only the spreads are comparable across generators.
    let seed0 = row(&report, "cluster-pop", Some(16))["ndcg"].as_f64().unwrap();
    assert!((0.0800..=0.0950).contains(&seed0), "seed-0 NDCG@10 {seed0}");
}

#[test]
fn taobao_through_the_database_matches_the_reference() {
    let Some(dir) = shared_data("taobao-userbehavior-head") else { return };

    let report = import_and_evaluate(
        "taobao",
        &dir.join("UserBehavior_head.csv"),
        "pop,pop-unweighted,cluster-pop",
        &[],
    );

    assert_split(
        &report,
        &Reference {
            train_test: (67_254, 17_221),
            users: (815, 813),
            catalogue: 45_635,
            scored: (810, 583),
            relevant: (12_153, 9_948),
            fingerprints: ("b13d8d12fd499d00", "ff1b5b526db980f9"),
            validation: (53_492, 13_762, 805),
            global_top: [
                "3006793", "2331370", "3769601", "138964", "667682", "4350284", "4458366",
                "3845720", "1325619", "1545024",
            ],
        },
    );
    assert_metrics(row(&report, "pop", None), [0.013580, 0.001438, 0.001425, 0.000285], "pop");
    assert_metrics(
        row(&report, "pop-unweighted", None),
        [0.014815, 0.001762, 0.001658, 0.000307],
        "pop-unweighted",
    );
    assert_k1_is_pop(&report);
}

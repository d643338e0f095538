//! The product against the reference pipeline (`../shared/bench/reference_pipeline.py`): on the
//! same event file, from the same start centres, both give the same tables, features, clusters
//! and top lists; and the plain-Python checker recomputes our export independently.
//!
//! Skips with a message when `../shared/bench` or its Python packages are absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_bench() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench");
    if !dir.join("reference_pipeline.py").exists() {
        eprintln!("skipping: ../shared/bench not found");
        return None;
    }
    let python_ok = Command::new("python3")
        .args(["-c", "import numpy, pandas, sklearn"])
        .status()
        .is_ok_and(|s| s.success());
    if !python_ok {
        eprintln!("skipping: python3 with numpy, pandas and scikit-learn not available");
        return None;
    }
    Some(dir)
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

fn centroid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_centroid"))
}

#[test]
fn export_matches_the_reference_pipeline_from_the_same_centres() {
    let Some(bench) = shared_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.csv");
    let reference = dir.path().join("ref");
    let product = dir.path().join("product");
    let db = dir.path().join("centroid.db");

    run(Command::new("python3")
        .arg(bench.join("gen_events.py"))
        .args([
            "--users",
            "1500",
            "--contents",
            "800",
            "--categories",
            "40",
            "--events",
            "30000",
            "--seed",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(&events));
    run(Command::new("python3")
        .arg(bench.join("reference_pipeline.py"))
        .arg("--events")
        .arg(&events)
        .args(["--k", "6", "--seed", "0", "--top", "50", "--save-init", "--format", "csv", "--out"])
        .arg(&reference));

    run(centroid().args(["import", "--format", "events-csv", "--db"]).arg(&db).arg(&events));
    run(centroid()
        .args(["train", "-k", "6", "--max-iter", "100", "--db"])
        .arg(&db)
        .arg("--init")
        .arg(reference.join("init_centers.csv")));
    run(centroid().args(["export", "--top", "50", "--db"]).arg(&db).arg("--out").arg(&product));

    let compare = run(Command::new("python3")
        .arg(bench.join("reference_pipeline.py"))
        .arg("--compare")
        .arg(&reference)
        .arg(&product));
    assert!(compare.contains("\"ok\": true"), "{compare}");
    run(Command::new("python3")
        .arg(bench.join("check_reference_pipeline.py"))
        .arg("--events")
        .arg(&events)
        .arg("--out")
        .arg(&product));
}

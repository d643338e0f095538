//! `centroid cluster` run as a user would: the built binary on small files.

use std::path::Path;
use std::process::Command;

fn centroid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_centroid")).args(args).output().expect("the binary runs")
}

/// A version 1.0 .npy file of little-endian float32 values in C order.
fn write_npy(path: &Path, values: &[f32], n_rows: usize, n_cols: usize, fortran: bool) {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': {}, 'shape': ({n_rows}, {n_cols}), }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for value in values {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn json_report_of_a_npy_file_with_given_centres() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.npy");
    let init = dir.path().join("init.npy");
    write_npy(&data, &[0.0, 0.0, 1.0, 0.0, 10.0, 0.0, 11.0, 0.0], 4, 2, false);
    write_npy(&init, &[0.0, 0.0, 10.0, 0.0], 2, 2, false);

    let output = centroid(&[
        "cluster",
        "--input",
        data.to_str().unwrap(),
        "-k",
        "2",
        "--init",
        init.to_str().unwrap(),
        "--json",
    ]);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["inertia"], 1.0);
    assert_eq!(report["k"], 2);
    assert_eq!(report["n"], 4);
    assert_eq!(report["d"], 2);
    assert_eq!(report["converged"], true);
    assert_eq!(report["cluster_sizes"], serde_json::json!([2, 2]));
    assert!(report["fit_s"].as_f64().unwrap() >= report["init_s"].as_f64().unwrap());
    assert!(report["n_iter"].as_u64().unwrap() >= 1);
}

#[test]
fn csv_with_a_header_row_and_a_table_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.csv");
    std::fs::write(&data, "a,b\n0,1\n0,2\n9,1\n9,2\n").unwrap();

    let output =
        centroid(&["cluster", "--input", data.to_str().unwrap(), "-k", "2", "--seed", "3"]);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("points      4 x 2"), "{table}");
    assert!(table.contains("inertia     1.000000e0"), "{table}");
}

#[test]
fn fortran_order_and_too_many_clusters_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fortran = dir.path().join("f.npy");
    write_npy(&fortran, &[0.0, 1.0, 2.0, 3.0], 2, 2, true);
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "1,1\n1,1\n2,2\n").unwrap();

    let fortran_output = centroid(&["cluster", "--input", fortran.to_str().unwrap(), "-k", "1"]);
    let k_output = centroid(&["cluster", "--input", csv.to_str().unwrap(), "-k", "3"]);

    assert!(!fortran_output.status.success());
    assert!(String::from_utf8_lossy(&fortran_output.stderr).contains("Fortran order"));
    assert!(!k_output.status.success());
    assert!(
        String::from_utf8_lossy(&k_output.stderr).contains("only 2 distinct points"),
        "{}",
        String::from_utf8_lossy(&k_output.stderr)
    );
}

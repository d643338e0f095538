//! Profiling aid: fits a float32 C-order .npy file and prints one line of timings.
//!
//! `cargo run --release -p centroid-kmeans --example fit_npy -- X.npy K [INIT.npy|-] [SAMPLE]`
//! (the `centroid cluster` command is the supported front end; this one has no other deps).

use std::time::Instant;

use centroid_kmeans::{fit, Init, KMeansParams, Matrix};

/// Reads a version 1 or 2 .npy of little-endian float32 in C order: (values, rows, cols).
fn read_f32_npy(path: &str) -> (Vec<f32>, usize, usize) {
    let bytes = std::fs::read(path).expect("readable file");
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).expect("ascii header");
    assert!(header.contains("'<f4'") && header.contains("'fortran_order': False"), "{header}");
    let shape = &header[header.find("'shape': (").expect("shape") + 10..];
    let dims: Vec<usize> = shape[..shape.find(')').expect("shape end")]
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    let values = bytes[start + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (values, dims[0], dims[1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (values, n, d) = read_f32_npy(&args[1]);
    let k: usize = args[2].parse().expect("K");
    let mut params = KMeansParams::new(k).max_iter(50);
    if let Some(init) = args.get(3).filter(|a| *a != "-") {
        params = params.init(Init::Centres(read_f32_npy(init).0));
    }
    if let Some(sample) = args.get(4) {
        params = params.sample(Some(sample.parse().expect("sample size")));
    }
    let params = params.check().expect("valid parameters");
    let data = Matrix::new(&values, n, d).expect("shape");

    let started = Instant::now();
    let model = fit(&params, data).expect("fit");
    let fit_s = started.elapsed().as_secs_f64();

    let init_s = model.init_duration().as_secs_f64();
    let per_iter_ms = (fit_s - init_s) / model.n_iter() as f64 * 1e3;
    let line = format!(
        "fit_s={fit_s:.3} init_s={init_s:.3} n_iter={} per_iter_ms={per_iter_ms:.1} \
         inertia={:.6e} converged={}",
        model.n_iter(),
        model.inertia(),
        model.converged()
    );
    std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes())
        .expect("stdout");
}

//! `centroid cluster`: K-means on a plain matrix read from a .npy or CSV file.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use centroid_kmeans::{fit, Init, KMeans, KMeansParams, Matrix};
use npyz::{DType, NpyFile, Order, TypeChar};
use serde::Serialize;

use crate::args::ClusterArgs;

/// A dense row-major matrix loaded from disk.
#[derive(Debug)]
struct Table {
    values: Vec<f32>,
    n_rows: usize,
    n_cols: usize,
}

/// The `--json` output.
#[derive(Debug, Serialize)]
struct ClusterReport<'a> {
    fit_s: f64,
    init_s: f64,
    n_iter: usize,
    inertia: f64,
    converged: bool,
    k: usize,
    n: usize,
    d: usize,
    cluster_sizes: &'a [usize],
}

pub(crate) fn run(args: ClusterArgs) -> anyhow::Result<()> {
    let table = read_table(&args.input)?;
    let mut params = KMeansParams::new(args.k)
        .seed(args.seed)
        .n_init(args.n_init)
        .max_iter(args.max_iter)
        .tol(args.tol)
        .n_threads(args.threads)
        .sample(args.sample);
    if let Some(path) = &args.init {
        let init = read_table(path)?;
        if init.n_cols != table.n_cols || init.n_rows != args.k {
            bail!(
                "initial centres in {} have shape {}x{}, expected {}x{}",
                path.display(),
                init.n_rows,
                init.n_cols,
                args.k,
                table.n_cols
            );
        }
        params = params.init(Init::Centres(init.values));
    }
    let params = params.check().context("invalid K-means parameters")?;
    let data = Matrix::new(&table.values, table.n_rows, table.n_cols)?;

    let started = Instant::now();
    let model = fit(&params, data).context("K-means failed")?;
    let fit_s = started.elapsed().as_secs_f64();
    tracing::info!(
        k = model.n_clusters(),
        n = table.n_rows,
        inertia = model.inertia(),
        n_iter = model.n_iter(),
        elapsed_ms = (fit_s * 1e3) as u64,
        "clustering finished"
    );

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let report = ClusterReport {
            fit_s,
            init_s: model.init_duration().as_secs_f64(),
            n_iter: model.n_iter(),
            inertia: model.inertia(),
            converged: model.converged(),
            k: model.n_clusters(),
            n: table.n_rows,
            d: table.n_cols,
            cluster_sizes: model.cluster_sizes(),
        };
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &model, &table, fit_s)?;
    }
    out.flush()?;
    Ok(())
}

fn write_table(
    out: &mut impl Write,
    model: &KMeans,
    table: &Table,
    fit_s: f64,
) -> anyhow::Result<()> {
    writeln!(out, "points      {} x {}", table.n_rows, table.n_cols)?;
    writeln!(out, "clusters    {}", model.n_clusters())?;
    writeln!(out, "inertia     {:.6e}", model.inertia())?;
    writeln!(
        out,
        "iterations  {} ({})",
        model.n_iter(),
        if model.converged() { "converged" } else { "max_iter reached" }
    )?;
    writeln!(
        out,
        "time        {fit_s:.3} s (initialisation {:.3} s)",
        model.init_duration().as_secs_f64()
    )?;
    writeln!(out)?;
    writeln!(out, "{:>8}  {:>10}", "cluster", "points")?;
    for (cluster, size) in model.cluster_sizes().iter().enumerate() {
        writeln!(out, "{cluster:>8}  {size:>10}")?;
    }
    Ok(())
}

/// Reads a .npy file (by extension) or a CSV file.
fn read_table(path: &Path) -> anyhow::Result<Table> {
    let is_npy = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("npy"));
    let table = if is_npy { read_npy(path) } else { read_csv(path) };
    table.with_context(|| format!("cannot read {}", path.display()))
}

fn read_npy(path: &Path) -> anyhow::Result<Table> {
    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let npy = NpyFile::new(file)?;
    let &[n_rows, n_cols] = npy.shape() else {
        bail!("expected a 2-D array, found shape {:?}", npy.shape());
    };
    if npy.order() == Order::Fortran {
        bail!("the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
    }
    let (n_rows, n_cols) = (usize::try_from(n_rows)?, usize::try_from(n_cols)?);
    let values = match npy.dtype() {
        DType::Plain(ty) if ty.type_char() == TypeChar::Float && ty.size_field() == 4 => {
            npy.into_vec::<f32>()?
        }
        DType::Plain(ty) if ty.type_char() == TypeChar::Float && ty.size_field() == 8 => {
            npy.into_vec::<f64>()?.into_iter().map(|v| v as f32).collect()
        }
        other => bail!("unsupported dtype {}; expected float32 or float64", other.descr()),
    };
    Ok(Table { values, n_rows, n_cols })
}

/// Comma-separated numbers, one row per line; a first line that does not parse is a header.
fn read_csv(path: &Path) -> anyhow::Result<Table> {
    let reader = BufReader::new(File::open(path)?);
    let mut values = Vec::new();
    let mut n_rows = 0;
    let mut n_cols = 0;
    for (line_idx, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Vec<f32>, _> =
            line.split(',').map(|field| field.trim().parse::<f32>()).collect();
        let row = match parsed {
            Ok(row) => row,
            Err(_) if line_idx == 0 => continue,
            Err(error) => bail!("line {}: {error}", line_idx + 1),
        };
        if n_rows == 0 {
            n_cols = row.len();
        } else if row.len() != n_cols {
            bail!("line {}: {} fields, expected {n_cols}", line_idx + 1, row.len());
        }
        values.extend(row);
        n_rows += 1;
    }
    if n_rows == 0 {
        bail!("no data rows");
    }
    Ok(Table { values, n_rows, n_cols })
}

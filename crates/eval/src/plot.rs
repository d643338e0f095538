//! SVG plots of a report: metrics against K for every cluster method (with the global
//! methods as flat reference lines), and inertia and silhouette against K.

use std::path::Path;

use plotters::prelude::*;

use crate::report::Report;
use crate::EvalError;

const SIZE: (u32, u32) = (960, 420);

/// The colour of the `index`th series.
fn colour(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[index % PALETTE.len()]
}

/// Writes `metrics_vs_k.svg` (NDCG@10 and HR@10 against K) and, when K scores exist,
/// `k_selection.svg` (inertia and silhouette against K) into `dir`. Returns the files written.
pub fn write_plots(report: &Report, dir: &Path, title: &str) -> Result<Vec<String>, EvalError> {
    let mut written = Vec::new();
    let metrics_path = dir.join("metrics_vs_k.svg");
    if report.rows.iter().any(|r| r.k.is_some()) {
        metrics_vs_k(report, &metrics_path, title).map_err(|e| write_error(&metrics_path, e))?;
        written.push(metrics_path.display().to_string());
    }
    let k_path = dir.join("k_selection.svg");
    if !report.k_scores.is_empty() {
        k_selection(report, &k_path, title).map_err(|e| write_error(&k_path, e))?;
        written.push(k_path.display().to_string());
    }
    Ok(written)
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> EvalError {
    EvalError::Write { path: path.display().to_string(), message: error.to_string() }
}

type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// Reads one metric of a row.
type RowValue = fn(&crate::Row) -> f64;

/// X positions: K on a log2 axis.
fn log_k(k: usize) -> f64 {
    (k.max(1) as f64).log2()
}

fn metrics_vs_k(report: &Report, path: &Path, title: &str) -> PlotResult {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let panels = root.split_evenly((1, 2));

    let metrics: [(&str, RowValue); 2] = [("NDCG@10", |r| r.ndcg), ("HR@10", |r| r.hr)];
    for (panel, (name, value)) in panels.iter().zip(metrics) {
        let mut methods: Vec<&str> = Vec::new();
        for row in &report.rows {
            if !methods.contains(&row.method.as_str()) {
                methods.push(&row.method);
            }
        }
        let ks: Vec<usize> = report.rows.iter().filter_map(|r| r.k).collect();
        let x_max = ks.iter().copied().map(log_k).fold(1.0, f64::max);
        let y_max = report.rows.iter().map(value).fold(0.0, f64::max) * 1.1;
        let y_max = if y_max > 0.0 { y_max } else { 1.0 };

        let mut chart = ChartBuilder::on(panel)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.2..x_max + 0.2, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("K (log2 scale)")
            .y_desc(name)
            .x_label_formatter(&|x| format!("{}", 2f64.powf(*x).round()))
            .draw()?;

        for (index, method) in methods.iter().enumerate() {
            let style = ShapeStyle::from(colour(index)).stroke_width(2);
            let points: Vec<(f64, f64)> = report
                .rows
                .iter()
                .filter(|r| r.method == *method)
                .filter_map(|r| r.k.map(|k| (log_k(k), value(r))))
                .collect();
            let series = if points.is_empty() {
                // A global method: a flat dashed reference line.
                let Some(row) = report.rows.iter().find(|r| r.method == *method) else { continue };
                let y = value(row);
                chart.draw_series(DashedLineSeries::new(
                    vec![(-0.2, y), (x_max + 0.2, y)],
                    6,
                    4,
                    style,
                ))?
            } else {
                chart.draw_series(PointSeries::of_element(
                    points.clone(),
                    3,
                    style.filled(),
                    &|c, s, st| Circle::new(c, s, st),
                ))?;
                chart.draw_series(LineSeries::new(points, style))?
            };
            series.label(*method).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour(index).stroke_width(2))
            });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 11))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn k_selection(report: &Report, path: &Path, title: &str) -> PlotResult {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let panels = root.split_evenly((1, 2));
    let x_max = report.k_scores.iter().map(|s| log_k(s.k)).fold(1.0, f64::max);

    let inertia: Vec<(f64, f64)> =
        report.k_scores.iter().map(|s| (log_k(s.k), s.inertia)).collect();
    let silhouette: Vec<(f64, f64)> =
        report.k_scores.iter().filter_map(|s| s.silhouette.map(|v| (log_k(s.k), v))).collect();
    let series: [(&str, Vec<(f64, f64)>); 2] =
        [("inertia", inertia), ("silhouette (sampled)", silhouette)];

    for (index, (panel, (name, points))) in panels.iter().zip(series).enumerate() {
        let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max) * 1.1;
        let y_min = points.iter().map(|p| p.1).fold(0.0, f64::min);
        let y_max = if y_max > y_min { y_max } else { y_min + 1.0 };
        let mut chart = ChartBuilder::on(panel)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.2..x_max + 0.2, y_min..y_max)?;
        chart
            .configure_mesh()
            .x_desc("K (log2 scale)")
            .y_desc(name)
            .x_label_formatter(&|x| format!("{}", 2f64.powf(*x).round()))
            .draw()?;
        let style = ShapeStyle::from(colour(index)).stroke_width(2);
        chart.draw_series(LineSeries::new(points.clone(), style))?;
        chart.draw_series(PointSeries::of_element(points, 3, style.filled(), &|c, s, st| {
            Circle::new(c, s, st)
        }))?;
    }
    root.present()?;
    Ok(())
}

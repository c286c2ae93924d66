//! The soak run drawn and written down: `latency.svg` (p50, p95 and p99 of every operation per
//! time window, and the p95 of message delivery), `memory.svg` (the server's resident memory and
//! open file descriptors every second, the load's start and end marked), and the raw figures as
//! CSV (`samples.csv`: every reading of the server; `operations.csv`: every operation).

use std::fmt::Write as _;
use std::path::Path;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use super::stats::{OpSample, ProcSample, percentile};

/// The operation name of a message's trip from its sender's request to a receiver's socket.
pub const DELIVERY: &str = "message delivery";

fn drawn<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    format!("drawing: {e}")
}

/// A line per percentile over windows of the run: `(window middle, value)`.
fn windowed(samples: &[OpSample], window: f64, p: f64) -> Vec<(f64, f64)> {
    let mut by_window: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
    for sample in samples {
        by_window
            .entry((sample.at_secs / window) as u64)
            .or_default()
            .push(sample.millis);
    }
    by_window
        .into_iter()
        .filter_map(|(n, mut millis)| {
            millis.sort_by(f64::total_cmp);
            percentile(&millis, p).map(|v| ((n as f64 + 0.5) * window, v))
        })
        .collect()
}

/// Writes `latency.svg`.
pub fn latency(dir: &Path, title: &str, samples: &[OpSample]) -> Result<(), String> {
    let end = samples.iter().map(|s| s.at_secs).fold(1.0, f64::max);
    let window = (end / 120.0).max(2.0);
    let requests: Vec<OpSample> = samples
        .iter()
        .filter(|s| s.op != DELIVERY)
        .cloned()
        .collect();
    let deliveries: Vec<OpSample> = samples
        .iter()
        .filter(|s| s.op == DELIVERY)
        .cloned()
        .collect();
    let lines = [
        ("operations p50", windowed(&requests, window, 50.0), BLUE),
        ("operations p95", windowed(&requests, window, 95.0), GREEN),
        ("operations p99", windowed(&requests, window, 99.0), RED),
        ("delivery p95", windowed(&deliveries, window, 95.0), MAGENTA),
    ];
    let top = lines
        .iter()
        .flat_map(|(_, points, _)| points.iter().map(|(_, v)| *v))
        .fold(1.0, f64::max)
        * 1.1;
    let path = dir.join("latency.svg");
    let root = SVGBackend::new(&path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(drawn)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title}: latency per {window:.0} s window"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end * 1.02, 0.0..top)
        .map_err(drawn)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the server started")
        .y_desc("milliseconds")
        .draw()
        .map_err(drawn)?;
    for (label, points, color) in lines {
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(drawn)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(drawn)?;
    root.present().map_err(drawn)
}

/// One panel of `memory.svg`: a series over the run, with the load's start and end marked.
struct Panel<'a> {
    /// What the series is, for the caption.
    what: &'a str,
    /// Its unit, for the axis.
    unit: &'a str,
    /// `(seconds, value)`.
    points: Vec<(f64, f64)>,
    /// Its line's color.
    color: RGBColor,
}

/// Writes `memory.svg`: resident memory above, open descriptors below; `load` is the load's
/// start and end.
pub fn memory(
    dir: &Path,
    title: &str,
    samples: &[ProcSample],
    load: (f64, f64),
) -> Result<(), String> {
    let end = samples.iter().map(|s| s.at_secs).fold(1.0, f64::max) * 1.02;
    let path = dir.join("memory.svg");
    let root = SVGBackend::new(&path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(drawn)?;
    let (upper, lower) = root.split_vertically(400);
    let panels = [
        Panel {
            what: "resident memory (VmRSS)",
            unit: "MiB",
            points: samples
                .iter()
                .map(|s| (s.at_secs, s.rss_kib as f64 / 1024.0))
                .collect(),
            color: BLUE,
        },
        Panel {
            what: "open file descriptors",
            unit: "descriptors",
            points: samples.iter().map(|s| (s.at_secs, s.fds as f64)).collect(),
            color: RED,
        },
    ];
    for (area, panel) in [upper, lower].into_iter().zip(panels) {
        let top = panel.points.iter().map(|(_, v)| *v).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!("{title}: server {}", panel.what),
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(drawn)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the server started")
            .y_desc(panel.unit)
            .draw()
            .map_err(drawn)?;
        // The load's start and end, as thin vertical lines.
        for at in [load.0, load.1] {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at, 0.0), (at, top)],
                    BLACK.mix(0.4),
                )))
                .map_err(drawn)?;
        }
        chart
            .draw_series(LineSeries::new(panel.points, panel.color.stroke_width(2)))
            .map_err(drawn)?;
    }
    root.present().map_err(drawn)
}

/// Writes `samples.csv` and `operations.csv`.
pub fn csv(dir: &Path, procs: &[ProcSample], ops: &[OpSample]) -> Result<(), String> {
    let mut samples = String::from("seconds,rss_kib,fds\n");
    for s in procs {
        let _ = writeln!(samples, "{:.3},{},{}", s.at_secs, s.rss_kib, s.fds);
    }
    let mut operations = String::from("seconds,operation,millis,ok\n");
    for s in ops {
        let _ = writeln!(
            operations,
            "{:.3},{},{:.3},{}",
            s.at_secs, s.op, s.millis, s.ok
        );
    }
    std::fs::write(dir.join("samples.csv"), samples).map_err(|e| format!("samples.csv: {e}"))?;
    std::fs::write(dir.join("operations.csv"), operations)
        .map_err(|e| format!("operations.csv: {e}"))
}

//! Reports: pure renderers from in-memory results to bytes, and the one atomic writer.

pub mod charts;
pub mod csv;
pub mod decision;
pub mod font;
pub mod html;
pub mod json;
pub mod table;
pub mod write;

/// Round a reported value to 9 decimals: sums of cents divided by 100 carry binary noise
/// (829827.7559999998) that says nothing and makes files harder to read and diff.
pub fn round_reported(x: f64) -> f64 {
    let r = (x * 1e9).round() / 1e9;
    if r.is_finite() {
        r
    } else {
        x
    }
}

use crate::metrics::RunResults;
use crate::scenario::Scenario;
use write::OutputFiles;

/// Render every output file of a run, with charts and report.html (nothing is written).
pub fn render_run(sc: &Scenario, r: &RunResults) -> crate::Result<OutputFiles> {
    render_run_with(sc, r, true)
}

/// Render a run's files; `charts` adds `charts/*.png|svg` and `report.html`.
pub fn render_run_with(sc: &Scenario, r: &RunResults, charts: bool) -> crate::Result<OutputFiles> {
    let mut files = render_tables(sc, r);
    if charts {
        let rendered = self::charts::render(sc, r)?;
        files.add("report.html", html::render(sc, r, &rendered));
        for c in &rendered.charts {
            files.add(format!("charts/{}.svg", c.name), c.svg.clone().into_bytes());
            files.add(format!("charts/{}.png", c.name), c.png.clone());
        }
    }
    Ok(files)
}

/// The numeric files of a run: summary.json and the CSV tables.
fn render_tables(sc: &Scenario, r: &RunResults) -> OutputFiles {
    let mut files = OutputFiles::new();
    files.add("summary.json", json::render_summary(sc, r));
    files.add("designs.csv", csv::render_designs(r));
    files.add("timeseries.csv", csv::render_timeseries(sc, r));
    files.add("timeseries_long.csv", csv::render_timeseries_long(r));
    files.add("replicates.csv", csv::render_replicates(sc, r));
    files.add("tiers.csv", csv::render_tiers(r));
    files.add("progress_curve.csv", csv::render_progress(r));
    if let Some(d) = &r.decision {
        files.add("worlds.csv", decision::worlds_csv(d));
    }
    files
}

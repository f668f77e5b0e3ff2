//! Charts of a simulation report, rendered to bytes (PNG and SVG) with plotters.
//!
//! - `power_vs_days`: power of a fixed-horizon test run on each day, and the share of mSPRT
//!   rejections by that day, with the 80% line;
//! - `lift_distribution`: histogram of the estimated relative lift, significant estimates
//!   highlighted, with the true lift and 0 marked (the winner's curse at a glance);
//! - `fpr_vs_looks`: A/A false-positive rate against the number of evenly spaced looks, for
//!   peeking and for the mSPRT, with the nominal alpha.
//!
//! Pure: returns (relative path, bytes); only `report::write` touches the disk.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::ORANGE;

use super::simulate::SimulationReport;
use crate::{Error, Result};

const SIZE: (u32, u32) = (900, 560);
type DrawResult<E> = std::result::Result<(), DrawingAreaErrorKind<E>>;

fn power_vs_days<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rep: &SimulationReport,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let days = rep.design.days as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Power vs days: {}", rep.experiment),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..days + 0.5, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("days of traffic")
        .y_desc("share of experiments significant")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.8), (days + 0.5, 0.8)],
            BLACK.mix(0.7).stroke_width(2),
        ))?
        .label("80% power")
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.7).stroke_width(2))
        });
    let fixed: Vec<(f64, f64)> = rep
        .power_by_day
        .iter()
        .map(|d| (d.day as f64, d.fixed_horizon.value))
        .collect();
    let seq: Vec<(f64, f64)> = rep
        .power_by_day
        .iter()
        .map(|d| (d.day as f64, d.sequential.value))
        .collect();
    chart
        .draw_series(LineSeries::new(fixed, BLUE.stroke_width(2)))?
        .label("fixed-horizon test on that day")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(seq, RED.stroke_width(2)))?
        .label("mSPRT: stopped by that day")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

fn lift_distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rep: &SimulationReport,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let h = &rep.lift_distribution.histogram;
    let lo = 100.0 * h.bin_edges.first().copied().unwrap_or(0.0);
    let hi = 100.0 * h.bin_edges.last().copied().unwrap_or(1.0);
    let truth = rep.true_lift.relative_window.map(|t| 100.0 * t);
    let (lo, hi) = (
        lo.min(truth.unwrap_or(lo)).min(0.0),
        hi.max(truth.unwrap_or(hi)).max(0.0),
    );
    let pad = 0.02 * (hi - lo).max(1e-9);
    let top = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Estimated lift ({}): {}",
                rep.design.analysis.method.name(),
                rep.experiment
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(lo - pad..hi + pad, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("estimated relative lift (%)")
        .y_desc("simulated experiments")
        .draw()?;
    let bars = |counts: &[u64], style: ShapeStyle| -> Vec<Rectangle<(f64, f64)>> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                Rectangle::new(
                    [
                        (100.0 * h.bin_edges[i], 0.0),
                        (100.0 * h.bin_edges[i + 1], c as f64),
                    ],
                    style,
                )
            })
            .collect()
    };
    chart
        .draw_series(bars(&h.counts, BLUE.mix(0.35).filled()))?
        .label("all estimates")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.35).filled()));
    let sig = bars(&h.significant_counts, ORANGE.mix(0.8).filled());
    chart
        .draw_series(sig)?
        .label("significant estimates")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], ORANGE.mix(0.8).filled()));
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (0.0, top)],
            BLACK.mix(0.7).stroke_width(2),
        ))?
        .label("no effect")
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.7).stroke_width(2))
        });
    if let Some(t) = truth {
        chart
            .draw_series(LineSeries::new([(t, 0.0), (t, top)], RED.stroke_width(2)))?
            .label("true lift over the test window")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

fn fpr_vs_looks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rep: &SimulationReport,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let alpha = rep.design.analysis.alpha;
    let n = rep.fpr_by_looks.len() as f64;
    let top = rep
        .fpr_by_looks
        .iter()
        .map(|l| l.peeking.value.max(l.sequential.value))
        .fold(alpha, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("A/A false positives vs looks: {}", rep.experiment),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("number of evenly spaced looks")
        .y_desc("A/A false-positive rate")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(0.5, alpha), (n + 0.5, alpha)],
            BLACK.mix(0.7).stroke_width(2),
        ))?
        .label(format!("nominal alpha = {alpha}"))
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.7).stroke_width(2))
        });
    let pts = |f: &dyn Fn(&super::simulate::LooksFpr) -> f64| -> Vec<(f64, f64)> {
        rep.fpr_by_looks
            .iter()
            .map(|l| (l.looks as f64, f(l)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(
            pts(&|l| l.peeking.value),
            RED.stroke_width(2),
        ))?
        .label("peeking: stop at first p < alpha")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            pts(&|l| l.sequential.value),
            BLUE.stroke_width(2),
        ))?
        .label("mSPRT (always valid)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

use crate::report::charts::encode_png;

macro_rules! render_both {
    ($out:expr, $name:literal, $draw:ident, $rep:expr) => {{
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            $draw(&root, $rep).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            $draw(&root, $rep).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        $out.push((
            concat!("charts/", $name, ".svg").to_string(),
            svg.into_bytes(),
        ));
        $out.push((
            concat!("charts/", $name, ".png").to_string(),
            encode_png(&rgb, SIZE)?,
        ));
    }};
}

/// Render the three charts as PNG and SVG: (path relative to the output folder, bytes).
pub fn render(rep: &SimulationReport) -> Result<Vec<(String, Vec<u8>)>> {
    crate::report::font::ensure_registered()?;
    let mut out = Vec::new();
    render_both!(out, "power_vs_days", power_vs_days, rep);
    render_both!(out, "lift_distribution", lift_distribution, rep);
    render_both!(out, "fpr_vs_looks", fpr_vs_looks, rep);
    Ok(out)
}

//! Optimisation charts (the report's size, palette, font and PNG encoder): the search's
//! convergence, and each trade-off frontier (objective against a metric), and the short
//! self-contained HTML page that shows them.

use std::fmt::Write;

use plotters::prelude::*;

use super::output::{headline, short, Frontier};
use super::spec::Spec;
use super::Outcome;
use crate::report::html::esc;
use crate::report::round_reported;
use crate::{Error, Result};

const SIZE: (u32, u32) = crate::report::charts::SIZE;
/// (file stem, SVG, PNG).
pub type Charts = Vec<(String, String, Vec<u8>)>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Draw with `draw` on an SVG and a bitmap backend; push (name, SVG, PNG).
macro_rules! both {
    ($out:expr, $name:expr, $draw:expr) => {{
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            $draw(&root).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            $draw(&root).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        $out.push(($name, svg, crate::report::charts::encode_png(&rgb, SIZE)?));
    }};
}

fn range(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return None;
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs().max(1.0) * 1e-3);
    Some((lo - pad, hi + pad))
}

fn convergence<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    spec: &Spec,
    o: &Outcome,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let pts: Vec<(f64, f64, bool)> = o
        .log
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            Some((
                i as f64,
                l.assessment.objective.mean?,
                l.assessment.feasible(),
            ))
        })
        .collect();
    let Some((y0, y1)) = range(pts.iter().map(|p| p.1)) else {
        return Ok(());
    };
    let n = o.log.len().max(2) as f64;
    let mut c = ChartBuilder::on(root)
        .caption(
            format!("Search: {} of every evaluation", spec.objective.0.name()),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..n, y0..y1)?;
    c.configure_mesh()
        .x_desc("evaluation")
        .y_desc(spec.objective.0.name())
        .draw()?;
    let col = crate::report::charts::colour(1);
    c.draw_series(
        pts.iter()
            .filter(|p| p.2)
            .map(|p| Circle::new((p.0, p.1), 3, col.mix(0.6).filled())),
    )?
    .label("feasible")
    .legend(move |(x, y)| Circle::new((x + 9, y), 3, col.filled()));
    let grey = crate::report::charts::colour(0);
    c.draw_series(
        pts.iter()
            .filter(|p| !p.2)
            .map(|p| Cross::new((p.0, p.1), 3, grey.mix(0.6))),
    )?
    .label("breaks a constraint")
    .legend(move |(x, y)| Cross::new((x + 9, y), 3, grey));
    let lambda = spec.population as f64;
    let best: Vec<(f64, f64)> = o
        .best_by_generation
        .iter()
        .enumerate()
        .filter_map(|(g, v)| Some(((g as f64 + 1.0) * lambda - 1.0, (*v)?)))
        .collect();
    let orange = crate::report::charts::colour(2);
    c.draw_series(LineSeries::new(best, orange.stroke_width(2)))?
        .label("best feasible so far")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(3)));
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

fn frontier<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    spec: &Spec,
    o: &Outcome,
    f: &Frontier,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (m, idx) = f;
    let pts: Vec<(f64, f64, bool)> = o
        .log
        .iter()
        .filter(|l| !l.repeat)
        .filter_map(|l| {
            let a = &l.assessment;
            Some((a.metric(*m)?, a.objective.mean?, a.feasible()))
        })
        .collect();
    let (Some((x0, x1)), Some((y0, y1))) = (
        range(pts.iter().map(|p| p.0)),
        range(pts.iter().map(|p| p.1)),
    ) else {
        return Ok(());
    };
    let mut c = ChartBuilder::on(root)
        .caption(
            format!("Trade-off: {} vs {}", spec.objective.0.name(), m.name()),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    c.configure_mesh()
        .x_desc(format!(
            "{} ({} is better)",
            m.name(),
            if m.less_is_better() { "less" } else { "more" }
        ))
        .y_desc(spec.objective.0.name())
        .draw()?;
    let grey = crate::report::charts::colour(0);
    c.draw_series(pts.iter().map(|p| {
        let style = if p.2 {
            grey.mix(0.5).filled()
        } else {
            grey.mix(0.2).filled()
        };
        Circle::new((p.0, p.1), 3, style)
    }))?;
    let front: Vec<(f64, f64)> = idx
        .iter()
        .filter_map(|&i| {
            let a = &o.log[i].assessment;
            Some((a.metric(*m)?, a.objective.mean?))
        })
        .collect();
    let col = crate::report::charts::colour(1);
    c.draw_series(LineSeries::new(front.clone(), col.stroke_width(2)))?
        .label("frontier (feasible, not dominated)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(3)));
    c.draw_series(front.iter().map(|p| Circle::new(*p, 4, col.filled())))?;
    let best = &o.best().fresh.values;
    if let Some(l) = o.log.iter().find(|l| &l.assessment.values == best) {
        if let (Some(x), Some(y)) = (l.assessment.metric(*m), l.assessment.objective.mean) {
            let red = crate::report::charts::colour(4);
            c.draw_series([TriangleMarker::new((x, y), 8, red.filled())])?
                .label("chosen best")
                .legend(move |(x, y)| TriangleMarker::new((x + 9, y), 6, red.filled()));
        }
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Render the convergence chart and one frontier chart per frontier metric.
pub fn render(spec: &Spec, o: &Outcome, fronts: &[Frontier]) -> Result<Charts> {
    crate::report::font::ensure_registered()?;
    let mut out: Charts = Vec::new();
    both!(out, "convergence".to_string(), |r| convergence(r, spec, o));
    for f in fronts {
        both!(out, format!("frontier_{}", f.0.name()), |r| frontier(
            r, spec, o, f
        ));
    }
    Ok(out)
}

fn row(cells: &[String]) -> String {
    let mut s = String::from("<tr>");
    for c in cells {
        let _ = write!(s, "<td>{}</td>", esc(c));
    }
    s.push_str("</tr>\n");
    s
}

fn ci(s: &crate::stats::Summary) -> String {
    match (s.mean, s.ci95) {
        (Some(m), Some([lo, hi])) => format!("{} [{}, {}]", short(m), short(lo), short(hi)),
        (Some(m), None) => short(m),
        _ => "-".into(),
    }
}

/// `report.html`: one self-contained page (inline CSS and SVG, no script, no network).
pub fn html(spec: &Spec, o: &Outcome, charts: &Charts) -> Result<String> {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}pre{{background:#f4f4f4;padding:1em}}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&format!("Optimising `{}`: {}", spec.design, spec.name))
    );
    let _ = writeln!(
        s,
        "<p>{} {} by CMA-ES over {} evaluations ({} distinct designs, {} generations of {}), each on replicates 0-{} shared by every candidate (common random numbers). The top {} and the base design were then re-evaluated on {} fresh replicates ({}-{}): the figures below come from those, so the best is not flattered by the luck that picked it. Intervals are 95% CIs of Monte Carlo noise only, not of uncertainty about the inputs.</p>",
        if spec.objective.1 { "Maximising" } else { "Minimising" },
        esc(spec.objective.0.name()),
        o.log.len(),
        o.distinct,
        spec.generations(),
        spec.population,
        spec.replicates - 1,
        spec.top,
        spec.reevaluation_replicates,
        spec.replicates,
        spec.replicates + spec.reevaluation_replicates - 1
    );
    if !spec.constraints.is_empty() {
        let c: Vec<String> = spec.constraints.iter().map(|c| c.describe()).collect();
        let _ = writeln!(s, "<p>Constraints: {}.</p>", esc(&c.join("; ")));
    }
    let _ = writeln!(s, "<pre>{}</pre>", esc(&headline(spec, o)));
    s.push_str("<h2>Finalists (fresh replicates)</h2>\n<table><tr><th>rank</th>");
    for p in &spec.parameters {
        let _ = write!(s, "<th>{}</th>", esc(&p.path));
    }
    s.push_str("<th>search estimate</th><th>objective [95% CI]</th><th>P(loss)</th><th>feasible</th></tr>\n");
    for (i, f) in o.finals.iter().enumerate() {
        let mut cells = vec![format!("{i}{}", if f.baseline { " (base)" } else { "" })];
        cells.extend(
            f.fresh
                .values
                .iter()
                .map(|v| round_reported(*v).to_string()),
        );
        cells.push(
            f.search
                .as_ref()
                .and_then(|a| a.objective.mean)
                .map_or("-".into(), |v| round_reported(v).to_string()),
        );
        cells.push(ci(&f.fresh.objective));
        cells.push(format!("{:.0}%", 100.0 * f.fresh.p_loss));
        cells.push(if f.fresh.feasible() { "yes" } else { "no" }.into());
        s.push_str(&row(&cells));
    }
    s.push_str("</table>\n<h2>Best design, ready to paste</h2>\n");
    let _ = writeln!(
        s,
        "<pre>{}</pre>",
        esc(&super::output::best_design_toml(spec, o.best())?)
    );
    for (name, svg, _) in charts {
        let _ = writeln!(s, "<h2>{}</h2>\n{svg}", esc(name));
    }
    s.push_str("</body></html>\n");
    Ok(s)
}

//! `sweep_report.html`: one self-contained page (inline CSS and SVG, no script, no network)
//! that answers "which setting is best, and is it clearly best?": the best point per design
//! and objective with its 95% CI and how many other points are within noise of it, then the
//! sweep's charts with captions saying what each shows.

use std::fmt::Write;

use super::charts::{money, value, SweepChart};
use super::{Mode, Sweep};
use crate::metrics::RunResults;
use crate::report::html::esc;
use crate::Result;

/// Objectives the best point is chosen for (all maximised), with how their numbers read.
const OBJECTIVES: &[(&str, &str)] = &[
    ("incremental_net_profit", "incremental net profit"),
    (
        "net_profit_after_liability",
        "net profit after points liability",
    ),
    (
        "roi",
        "ROI (incremental net profit per unit of program spend)",
    ),
];

const CSS: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1100px;\
margin:1.5rem auto;padding:0 1rem;color:#1d1d1d;line-height:1.45}\
h2{border-bottom:1px solid #ccc;margin-top:2rem}.note{color:#555}\
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}\
td,th{padding:.25rem .5rem;border-bottom:1px solid #e6e6e6;text-align:right}\
td:first-child,th:first-child,td.l,th.l{text-align:left}th{background:#f3f3f3}\
.scroll{overflow-x:auto}figure{margin:1rem 0 2rem}\
figure svg{width:100%;height:auto;border:1px solid #e6e6e6}\
figcaption{color:#444;font-size:.92rem}";

fn fmt(metric: &str, v: f64) -> String {
    if metric == "roi" {
        crate::report::table::roi(v)
    } else {
        money(v)
    }
}

/// `path = value` of every parameter at point `p`.
fn point_text(sweep: &Sweep, p: usize) -> String {
    sweep
        .parameters
        .iter()
        .zip(&sweep.points[p])
        .map(|(par, x)| format!("{} = {}", esc(&par.path), value(*x)))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The table of best points: per design and objective, the point with the highest mean,
/// its CI and half-width, and the other points whose CI reaches the best's lower bound
/// (those are not distinguishable from it at these replicates).
fn best_points(sweep: &Sweep, results: &[(usize, RunResults)]) -> String {
    let mut h = String::from(
        "<div class=\"scroll\"><table><tr><th>design</th><th class=\"l\">objective</th>\
         <th class=\"l\">best point</th><th>mean</th><th>95% CI</th><th>± half-width</th>\
         <th>other points within noise</th></tr>",
    );
    let Some((_, first)) = results.first() else {
        return h + "</table></div>";
    };
    for (d, design) in first.designs.iter().enumerate() {
        if design.kind == "none" {
            continue;
        }
        for (metric, label) in OBJECTIVES {
            let Some(m) = RunResults::metric_index(metric) else {
                continue;
            };
            let est: Vec<(usize, f64, [f64; 2])> = results
                .iter()
                .filter_map(|(p, r)| {
                    let s = &r.designs[d].metrics[m];
                    let mean = s.mean.filter(|v| v.is_finite())?;
                    Some((*p, mean, s.ci95.unwrap_or([mean, mean])))
                })
                .collect();
            let Some(best) = est
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            else {
                continue;
            };
            let ties = est
                .iter()
                .filter(|e| e.0 != best.0 && e.2[1] >= best.2[0])
                .count();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"l\">{label}</td><td class=\"l\">{}</td><td>{}</td>\
                 <td>{} – {}</td><td>± {}</td><td>{ties} of {}</td></tr>",
                esc(&design.name),
                point_text(sweep, best.0),
                fmt(metric, best.1),
                fmt(metric, best.2[0]),
                fmt(metric, best.2[1]),
                fmt(metric, (best.2[1] - best.2[0]) / 2.0),
                est.len() - 1,
            );
        }
    }
    h + "</table></div>"
}

fn parameters_table(sweep: &Sweep) -> String {
    let mut h =
        String::from("<table><tr><th>parameter</th><th class=\"l\">values</th><th>base</th></tr>");
    for p in &sweep.parameters {
        let values = if sweep.mode == Mode::LatinHypercube {
            let lo = p.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = p.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{} to {} (sampled)", value(lo), value(hi))
        } else {
            p.values
                .iter()
                .map(|v| value(*v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"l\">{values}</td><td>{}</td></tr>",
            esc(&p.path),
            value(p.base)
        );
    }
    h + "</table>"
}

/// Render the page.
pub fn render(
    sweep: &Sweep,
    results: &[(usize, RunResults)],
    charts: &[SweepChart],
) -> Result<Vec<u8>> {
    let mode = match sweep.mode {
        Mode::Grid => "grid",
        Mode::LatinHypercube => "latin-hypercube",
        Mode::OneAtATime => "one-at-a-time",
    };
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>loyalsim sweep: {name}</title><style>{CSS}</style></head><body>\
         <h1>{name}</h1><p class=\"note\">loyalsim sweep ({mode}): {} points x {} replicates. \
         Every point simulates the same customers (common random numbers), so differences \
         between points are the parameters', not noise. Sweep SHA-256 {}.</p>",
        sweep.points.len(),
        sweep.replicates()?,
        sweep.sha256,
        name = esc(&sweep.name),
    );
    let untouched = sweep.untouched_designs()?;
    if !untouched.is_empty() {
        let _ = write!(
            h,
            "<p class=\"note\">No swept path touches {}: simulated once and the same at \
             every point (no heatmap).</p>",
            esc(&untouched.join(", "))
        );
    }
    h += "<h2>Parameters</h2>";
    h += &parameters_table(sweep);
    h += "<h2>Best point per design and objective</h2><p class=\"note\">The point with the \
          highest mean. \"Within noise\": other points whose 95% CI reaches the best's lower \
          bound; with many, the best is not clearly best at these replicates.</p>";
    h += &best_points(sweep, results);
    h += "<h2>Charts</h2>";
    for c in charts {
        let svg = c.svg.find("<svg").map_or(c.svg.as_str(), |i| &c.svg[i..]);
        let _ = write!(
            h,
            "<figure id=\"{}\"><h3>{}</h3>{svg}<figcaption>{}</figcaption></figure>",
            c.name,
            esc(&c.title),
            esc(&c.caption)
        );
    }
    h += "</body></html>\n";
    Ok(h.into_bytes())
}

//! Sweep charts: incremental net profit against each parameter (one line per design, with
//! the 95% CI as error bars), a heatmap per design when two parameters form a grid, and a
//! tornado chart of sensitivity for one-at-a-time sweeps.

use plotters::prelude::*;

use super::{Mode, Sweep};
use crate::metrics::RunResults;
use crate::{Error, Result};

const SIZE: (u32, u32) = crate::report::charts::SIZE;
type Charts = Vec<(String, String, Vec<u8>)>;
/// (x, mean, 95% CI low, 95% CI high).
type Estimate = (f64, f64, f64, f64);

/// Sweep series skip the report's control grey.
fn colour(i: usize) -> RGBColor {
    crate::report::charts::colour(i + 1)
}

fn png(rgb: &[u8]) -> Result<Vec<u8>> {
    crate::report::charts::encode_png(rgb, SIZE)
}

/// (x, mean, lo, hi) of incremental net profit of design `d` at the points `idx`.
fn inc(results: &[(usize, RunResults)], d: usize) -> Vec<(usize, f64, f64, f64)> {
    let m = RunResults::metric_index("net_profit").expect("metric");
    results
        .iter()
        .filter_map(|(p, r)| {
            let s = r.designs[d].vs_control[m];
            let mean = s.mean?;
            let [lo, hi] = s.ci95.unwrap_or([mean, mean]);
            Some((*p, mean, lo, hi))
        })
        .collect()
}

macro_rules! render {
    ($out:expr, $name:expr, |$root:ident| $body:block) => {{
        let mut svg = String::new();
        {
            let $root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            let r: std::result::Result<(), Box<dyn std::error::Error>> = (|| {
                $body;
                $root.present()?;
                Ok(())
            })();
            r.map_err(|e| Error::Other(format!("sweep chart {}: {e}", $name)))?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let $root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            let r: std::result::Result<(), Box<dyn std::error::Error>> = (|| {
                $body;
                $root.present()?;
                Ok(())
            })();
            r.map_err(|e| Error::Other(format!("sweep chart {}: {e}", $name)))?;
        }
        $out.push(($name, svg, png(&rgb)?));
    }};
}

/// Render the sweep's charts: (file stem, SVG, PNG).
pub fn render(sweep: &Sweep, results: &[(usize, RunResults)]) -> Result<Charts> {
    crate::report::font::ensure_registered()?;
    let mut out: Charts = Vec::new();
    let Some((_, first)) = results.first() else {
        return Ok(out);
    };
    let designs: Vec<(usize, String)> = first
        .designs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind != "none")
        .map(|(i, d)| (i, d.name.clone()))
        .collect();
    // 1-D lines: incremental net profit against each parameter (other parameters at the
    // point's own values; for a grid, the first value of the others).
    for (k, par) in sweep.parameters.iter().enumerate() {
        let pts_for = |d: usize| -> Vec<Estimate> {
            inc(results, d)
                .into_iter()
                .filter(|(p, ..)| {
                    let v = &sweep.points[*p];
                    match sweep.mode {
                        Mode::Grid => sweep
                            .parameters
                            .iter()
                            .enumerate()
                            .all(|(j, q)| j == k || v[j] == q.values[0]),
                        Mode::OneAtATime => sweep
                            .parameters
                            .iter()
                            .enumerate()
                            .all(|(j, q)| j == k || v[j] == q.base),
                        Mode::LatinHypercube => true,
                    }
                })
                .map(|(p, m, lo, hi)| (sweep.points[p][k], m, lo, hi))
                .collect()
        };
        let all: Vec<(usize, Vec<Estimate>)> =
            designs.iter().map(|(d, _)| (*d, pts_for(*d))).collect();
        let xs = all.iter().flat_map(|(_, v)| v.iter().map(|p| p.0));
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let ys = all
            .iter()
            .flat_map(|(_, v)| v.iter().flat_map(|p| [p.2, p.3]))
            .chain([0.0]);
        let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        if !x0.is_finite() {
            continue;
        }
        let xpad = ((x1 - x0) * 0.05).max(1e-9);
        let ypad = ((y1 - y0) * 0.08).max(1.0);
        let name = format!("line_{k}");
        render!(out, name.clone(), |root| {
            root.fill(&WHITE)?;
            let mut c = ChartBuilder::on(&root)
                .caption(
                    format!("Incremental net profit vs {}", par.path),
                    ("sans-serif", 18),
                )
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(x0 - xpad..x1 + xpad, y0 - ypad..y1 + ypad)?;
            c.configure_mesh()
                .x_desc(par.path.as_str())
                .y_desc("incremental net profit (95% CI)")
                .draw()?;
            c.draw_series(LineSeries::new(
                [(x0 - xpad, 0.0), (x1 + xpad, 0.0)],
                BLACK.mix(0.4),
            ))?;
            for (i, (d, pts)) in all.iter().enumerate() {
                let col = colour(i);
                let mut pts = pts.clone();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                c.draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    col.stroke_width(2),
                ))?
                .label(first.designs[*d].name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(3))
                });
                c.draw_series(
                    pts.iter().map(|p| {
                        PathElement::new(vec![(p.0, p.2), (p.0, p.3)], col.stroke_width(2))
                    }),
                )?;
                c.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, col.filled())))?;
            }
            c.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        });
    }
    // 2-D heatmaps of a two-parameter grid, one per design.
    if sweep.mode == Mode::Grid && sweep.parameters.len() == 2 {
        let (a, b) = (&sweep.parameters[0], &sweep.parameters[1]);
        for (d, dname) in &designs {
            let vals = inc(results, *d);
            let (lo, hi) = vals
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v.1), h.max(v.1))
                });
            let scale = lo.abs().max(hi.abs()).max(1e-9);
            let name = format!("heatmap_{d}");
            render!(out, name.clone(), |root| {
                root.fill(&WHITE)?;
                let (na, nb) = (a.values.len(), b.values.len());
                let mut c = ChartBuilder::on(&root)
                    .caption(
                        format!("{dname}: incremental net profit (green gains, red loses)"),
                        ("sans-serif", 18),
                    )
                    .margin(12)
                    .x_label_area_size(50)
                    .y_label_area_size(80)
                    .build_cartesian_2d(0.0..na as f64, 0.0..nb as f64)?;
                // Cells carry their own parameter values; axis ticks would sit on edges.
                c.configure_mesh()
                    .disable_mesh()
                    .x_desc(format!("{} (left to right)", a.path))
                    .y_desc(format!("{} (bottom to top)", b.path))
                    .x_label_formatter(&|_| String::new())
                    .y_label_formatter(&|_| String::new())
                    .draw()?;
                c.draw_series(vals.iter().map(|(p, m, ..)| {
                    let (i, j) = (p / nb, p % nb);
                    let t = (m / scale).clamp(-1.0, 1.0);
                    let col = if t >= 0.0 {
                        RGBColor((255.0 * (1.0 - t)) as u8, 200, (255.0 * (1.0 - t)) as u8)
                    } else {
                        RGBColor(220, (255.0 * (1.0 + t)) as u8, (255.0 * (1.0 + t)) as u8)
                    };
                    Rectangle::new(
                        [(i as f64, j as f64), (i as f64 + 1.0, j as f64 + 1.0)],
                        col.filled(),
                    )
                }))?;
                c.draw_series(vals.iter().map(|(p, m, ..)| {
                    let (i, j) = (p / nb, p % nb);
                    Text::new(
                        format!("{m:.0}"),
                        (i as f64 + 0.3, j as f64 + 0.6),
                        ("sans-serif", 16),
                    )
                }))?;
                c.draw_series(vals.iter().map(|(p, ..)| {
                    let (i, j) = (p / nb, p % nb);
                    Text::new(
                        format!("{} / {}", a.values[i], b.values[j]),
                        (i as f64 + 0.3, j as f64 + 0.35),
                        ("sans-serif", 12),
                    )
                }))?;
            });
        }
    }
    // Tornado: swing of incremental net profit of the first program design per parameter.
    if sweep.mode == Mode::OneAtATime {
        if let Some((d, dname)) = designs.first() {
            let vals = inc(results, *d);
            let base = vals.iter().find(|v| v.0 == 0).map_or(0.0, |v| v.1);
            let mut rows: Vec<(String, f64, f64)> = sweep
                .parameters
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let sw: Vec<f64> = vals
                        .iter()
                        .filter(|v| v.0 > 0 && sweep.points[v.0][k] != p.base)
                        .filter(|v| {
                            sweep.points[v.0]
                                .iter()
                                .enumerate()
                                .all(|(j, x)| j == k || *x == sweep.parameters[j].base)
                        })
                        .map(|v| v.1 - base)
                        .collect();
                    let lo = sw.iter().copied().fold(0.0, f64::min);
                    let hi = sw.iter().copied().fold(0.0, f64::max);
                    (p.path.clone(), lo, hi)
                })
                .collect();
            rows.sort_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)));
            let ext = rows
                .iter()
                .map(|r| r.1.abs().max(r.2.abs()))
                .fold(1.0, f64::max)
                * 1.1;
            render!(out, "tornado".to_string(), |root| {
                root.fill(&WHITE)?;
                let n = rows.len();
                let mut c = ChartBuilder::on(&root)
                    .caption(
                        format!(
                            "Sensitivity of {dname}'s incremental net profit (vs base {base:.0})"
                        ),
                        ("sans-serif", 18),
                    )
                    .margin(12)
                    .x_label_area_size(40)
                    .y_label_area_size(260)
                    .build_cartesian_2d(-ext..ext, 0.0..n as f64)?;
                c.configure_mesh()
                    .disable_y_mesh()
                    .y_labels(n)
                    .y_label_formatter(&|y| {
                        rows.get(y.floor() as usize)
                            .map_or(String::new(), |r| r.0.clone())
                    })
                    .x_desc("change in incremental net profit")
                    .draw()?;
                c.draw_series(rows.iter().enumerate().map(|(i, r)| {
                    Rectangle::new(
                        [(r.1, i as f64 + 0.2), (r.2, i as f64 + 0.8)],
                        colour(0).filled(),
                    )
                }))?;
            });
        }
    }
    Ok(out)
}

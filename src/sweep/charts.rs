//! Sweep charts of incremental net profit (the design's net profit minus the control's, per
//! replicate; 95% CI from the paired differences).
//!
//! - `line_K`: against parameter K. A grid shows the *partial dependence*: at each value of
//!   K, the mean over every combination of the other parameters (a slice at one value of
//!   the others would answer a narrower question, unlabelled). One-at-a-time sweeps show the
//!   slice with the others at base, and say so. Latin-hypercube points are random, so they
//!   are a scatter with binned means as the smooth, never a line through the points.
//! - `heatmap_D`: a two-parameter grid, one per design the sweep touches (an untouched
//!   design is the same at every point: a flat map says nothing), on one colour scale
//!   shared by all designs with a colour bar, each cell with its mean and CI half-width.
//! - `tornado`: one-at-a-time swings of the first program design.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Mode, Sweep};
use crate::metrics::RunResults;
use crate::report::table::thousands;
use crate::{Error, Result};

const SIZE: (u32, u32) = crate::report::charts::SIZE;
type Area<'a, B> = DrawingArea<B, Shift>;
type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

/// One rendered chart with the caption the sweep report prints under it.
pub struct SweepChart {
    /// File stem under charts/.
    pub name: String,
    /// Title shown above the chart in the report.
    pub title: String,
    /// What the chart shows and how to read it (true for every mode it is drawn for).
    pub caption: String,
    /// SVG text.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// (x, mean, 95% CI low, 95% CI high).
pub type Estimate = (f64, f64, f64, f64);

/// A design's colour: the run report's colour of its index, so a design looks the same in
/// every chart.
fn colour(d: usize) -> RGBColor {
    crate::report::charts::colour(d)
}

/// Money with thousands separators, no cents (axis ticks and cell labels).
pub fn money(v: f64) -> String {
    let s = thousands(v, 0);
    match s.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${s}"),
    }
}

/// A parameter value as written: no spurious decimals.
pub fn value(v: f64) -> String {
    crate::report::table::number(v, 3)
}

/// (point, mean, lo, hi) of incremental net profit of design `d` at every point.
pub fn incremental(results: &[(usize, RunResults)], d: usize) -> Vec<(usize, f64, f64, f64)> {
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

/// Draw `draw` once as SVG and once as PNG.
fn render(
    name: String,
    title: String,
    caption: String,
    draw: &dyn Fn(&Area<SVGBackend>) -> Drawn,
    draw_png: &dyn Fn(&Area<BitMapBackend>) -> Drawn,
) -> Result<SweepChart> {
    let fail = |e: Box<dyn std::error::Error>| Error::Other(format!("sweep chart {name}: {e}"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root)
            .and_then(|_| Ok(root.present()?))
            .map_err(fail)?;
    }
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw_png(&root)
            .and_then(|_| Ok(root.present()?))
            .map_err(fail)?;
    }
    let png = crate::report::charts::encode_png(&rgb, SIZE)?;
    Ok(SweepChart {
        name,
        title,
        caption,
        svg,
        png,
    })
}

/// The same drawing code for both backends.
macro_rules! both {
    (|$root:ident| $body:expr) => {
        (
            &|$root: &Area<SVGBackend>| -> Drawn { $body },
            &|$root: &Area<BitMapBackend>| -> Drawn { $body },
        )
    };
}

/// Partial dependence of a grid on parameter `k`: per value, the mean of the point means
/// over the other parameters, with the mean of their CI half-widths. The mean of the
/// half-widths bounds the half-width of the average (standard deviations are subadditive),
/// so the bars are conservative.
pub fn partial_dependence(
    sweep: &Sweep,
    est: &[(usize, f64, f64, f64)],
    k: usize,
) -> Vec<Estimate> {
    let mut out = Vec::new();
    for &x in &sweep.parameters[k].values {
        let at: Vec<_> = est
            .iter()
            .filter(|(p, ..)| sweep.points[*p][k] == x)
            .collect();
        if at.is_empty() {
            continue;
        }
        let n = at.len() as f64;
        let mean = at.iter().map(|e| e.1).sum::<f64>() / n;
        let half = at.iter().map(|e| (e.3 - e.2) / 2.0).sum::<f64>() / n;
        out.push((x, mean, mean - half, mean + half));
    }
    out
}

/// The one-at-a-time slice of parameter `k`: the base point and the points varying only k.
fn base_slice(sweep: &Sweep, est: &[(usize, f64, f64, f64)], k: usize) -> Vec<Estimate> {
    let mut v: Vec<Estimate> = est
        .iter()
        .filter(|(p, ..)| {
            let v = &sweep.points[*p];
            sweep
                .parameters
                .iter()
                .enumerate()
                .all(|(j, q)| j == k || v[j] == q.base)
        })
        .map(|(p, m, lo, hi)| (sweep.points[*p][k], *m, *lo, *hi))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

/// Binned means of a scatter: about sqrt(n) equal-width bins (3 to 10) over the x range,
/// each drawn at the mean x of its points; empty bins are skipped.
pub fn binned_means(points: &[Estimate]) -> Vec<(f64, f64)> {
    let n = points.len();
    let (lo, hi) = bounds(points.iter().map(|p| p.0));
    if n == 0 || hi <= lo {
        return Vec::new();
    }
    let bins = ((n as f64).sqrt().round() as usize).clamp(3, 10);
    let mut acc = vec![(0.0, 0.0, 0usize); bins];
    for p in points {
        let b = (((p.0 - lo) / (hi - lo) * bins as f64) as usize).min(bins - 1);
        acc[b].0 += p.0;
        acc[b].1 += p.1;
        acc[b].2 += 1;
    }
    acc.iter()
        .filter(|a| a.2 > 0)
        .map(|a| (a.0 / a.2 as f64, a.1 / a.2 as f64))
        .collect()
}

fn bounds(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    })
}

/// What a line chart of parameter `k` draws per design, and how it is described.
fn line_series(
    sweep: &Sweep,
    results: &[(usize, RunResults)],
    designs: &[(usize, String)],
    k: usize,
) -> (Vec<(usize, Vec<Estimate>)>, &'static str) {
    let per = |d: usize| -> Vec<Estimate> {
        let est = incremental(results, d);
        match sweep.mode {
            Mode::Grid => partial_dependence(sweep, &est, k),
            Mode::OneAtATime => base_slice(sweep, &est, k),
            Mode::LatinHypercube => est
                .iter()
                .map(|(p, m, lo, hi)| (sweep.points[*p][k], *m, *lo, *hi))
                .collect(),
        }
    };
    let how = match sweep.mode {
        Mode::Grid if sweep.parameters.len() > 1 => {
            "Partial dependence: at each value, the mean over every combination of the other \
             parameters; bars are the mean of those points' 95% CI half-widths (an upper \
             bound on the average's)."
        }
        Mode::Grid => "Each point with its 95% CI.",
        Mode::OneAtATime => {
            "One at a time: the other parameters at their base values; bars are 95% CIs."
        }
        Mode::LatinHypercube => {
            "Latin hypercube: each dot is one sampled point (all parameters vary at once, so \
             the scatter includes the others' effects); the line joins binned means, a \
             smooth, not a fit."
        }
    };
    (designs.iter().map(|(d, _)| (*d, per(*d))).collect(), how)
}

/// The line (or scatter) chart of incremental net profit against parameter `k`.
fn line_chart(
    sweep: &Sweep,
    results: &[(usize, RunResults)],
    designs: &[(usize, String)],
    k: usize,
) -> Result<Option<SweepChart>> {
    let par = &sweep.parameters[k];
    let (series, how) = line_series(sweep, results, designs, k);
    let (x0, x1) = bounds(series.iter().flat_map(|(_, v)| v.iter().map(|p| p.0)));
    if !x0.is_finite() {
        return Ok(None);
    }
    let scatter = sweep.mode == Mode::LatinHypercube;
    let (y0, y1) = bounds(
        series
            .iter()
            .flat_map(|(_, v)| {
                v.iter()
                    .flat_map(|p| if scatter { [p.1, p.1] } else { [p.2, p.3] })
            })
            .chain([0.0]),
    );
    let xpad = ((x1 - x0) * 0.05).max(1e-9);
    let ypad = ((y1 - y0) * 0.08).max(1.0);
    let names: Vec<&str> = designs.iter().map(|(_, n)| n.as_str()).collect();
    let (svg, png) =
        both!(|root| {
            root.fill(&WHITE)?;
            let (plot, legend) = root.split_horizontally(SIZE.0 - 170);
            let mut c = ChartBuilder::on(&plot)
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(90)
                .build_cartesian_2d(x0 - xpad..x1 + xpad, y0 - ypad..y1 + ypad)?;
            c.configure_mesh()
                .x_desc(par.path.as_str())
                .y_desc("incremental net profit")
                .x_label_formatter(&|x| value(*x))
                .y_label_formatter(&|y| money(*y))
                .draw()?;
            c.draw_series(LineSeries::new(
                [(x0 - xpad, 0.0), (x1 + xpad, 0.0)],
                BLACK.mix(0.4),
            ))?;
            for (d, pts) in &series {
                let col = colour(*d);
                if scatter {
                    c.draw_series(
                        pts.iter()
                            .map(|p| Circle::new((p.0, p.1), 3, col.mix(0.6).filled())),
                    )?;
                    c.draw_series(LineSeries::new(binned_means(pts), col.stroke_width(3)))?;
                } else {
                    c.draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, p.1)),
                        col.stroke_width(2),
                    ))?;
                    c.draw_series(pts.iter().map(|p| {
                        PathElement::new(vec![(p.0, p.2), (p.0, p.3)], col.stroke_width(2))
                    }))?;
                    c.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, col.filled())))?;
                }
            }
            legend_box(&legend, designs, &names)
        });
    let title = format!("Incremental net profit vs {}", par.path);
    render(format!("line_{k}"), title, how.to_string(), svg, png).map(Some)
}

/// A legend beside the plot (never over the data): one swatch per design.
fn legend_box<B: DrawingBackend>(
    area: &Area<B>,
    designs: &[(usize, String)],
    names: &[&str],
) -> Drawn
where
    B::ErrorType: 'static,
{
    for (i, ((d, _), name)) in designs.iter().zip(names).enumerate() {
        let y = 30 + 24 * i as i32;
        let col = colour(*d);
        area.draw(&Rectangle::new([(6, y - 6), (24, y + 6)], col.filled()))?;
        area.draw(&Text::new(
            name.to_string(),
            (30, y - 8),
            ("sans-serif", 15),
        ))?;
    }
    Ok(())
}

/// Diverging colour of `t` in [-1, 1]: red loses, white zero, green gains.
fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    if t >= 0.0 {
        RGBColor(
            (255.0 * (1.0 - t)) as u8,
            (255.0 - 55.0 * t) as u8,
            (255.0 * (1.0 - t)) as u8,
        )
    } else {
        RGBColor(
            (255.0 + 35.0 * t) as u8,
            (255.0 * (1.0 + t)) as u8,
            (255.0 * (1.0 + t)) as u8,
        )
    }
}

/// The colour bar of a heatmap scale ±`scale`.
fn colour_bar<B: DrawingBackend>(area: &Area<B>, scale: f64) -> Drawn
where
    B::ErrorType: 'static,
{
    let mut c = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(56)
        .margin_right(8)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..1.0, -scale..scale)?;
    c.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(7)
        .y_label_formatter(&|y| money(*y))
        .draw()?;
    let steps = 60;
    c.draw_series((0..steps).map(|i| {
        let a = -scale + 2.0 * scale * i as f64 / steps as f64;
        let b = a + 2.0 * scale / steps as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            diverging((a + b) / 2.0 / scale).filled(),
        )
    }))?;
    Ok(())
}

/// Heatmaps of a two-parameter grid: one per touched design, one shared colour scale.
fn heatmaps(
    sweep: &Sweep,
    results: &[(usize, RunResults)],
    designs: &[(usize, String)],
) -> Result<Vec<SweepChart>> {
    let untouched = sweep.untouched_designs()?;
    let shown: Vec<&(usize, String)> = designs
        .iter()
        .filter(|(_, n)| !untouched.contains(n))
        .collect();
    let all: Vec<_> = shown
        .iter()
        .map(|(d, _)| incremental(results, *d))
        .collect();
    let (lo, hi) = bounds(all.iter().flatten().map(|v| v.1));
    let scale = lo.abs().max(hi.abs()).max(1.0);
    let mut out = Vec::new();
    for ((d, dname), vals) in shown.into_iter().zip(&all) {
        let (svg, png) = both!(|root| heatmap(root, sweep, vals, scale));
        let caption = "Each cell: mean incremental net profit and ± its 95% CI half-width. \
            Green gains, red loses; one colour scale for every design of this sweep.";
        let title = format!("{dname}: incremental net profit");
        out.push(render(
            format!("heatmap_{d}"),
            title,
            caption.into(),
            svg,
            png,
        )?);
    }
    Ok(out)
}

fn heatmap<B: DrawingBackend>(
    root: &Area<B>,
    sweep: &Sweep,
    vals: &[(usize, f64, f64, f64)],
    scale: f64,
) -> Drawn
where
    B::ErrorType: 'static,
{
    let (a, b) = (&sweep.parameters[0], &sweep.parameters[1]);
    let (na, nb) = (a.values.len(), b.values.len());
    root.fill(&WHITE)?;
    let (plot, bar) = root.split_horizontally(SIZE.0 - 120);
    let mut c = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..na as f64, 0.0..nb as f64)?;
    // Ticks at cell centres, labelled with the parameter values.
    c.configure_mesh()
        .disable_mesh()
        .x_labels(2 * na + 1)
        .y_labels(2 * nb + 1)
        .x_desc(a.path.as_str())
        .y_desc(b.path.as_str())
        .x_label_formatter(&|x| centre_label(*x, &a.values))
        .y_label_formatter(&|y| centre_label(*y, &b.values))
        .draw()?;
    c.draw_series(vals.iter().map(|(p, m, ..)| {
        let (i, j) = ((p / nb) as f64, (p % nb) as f64);
        Rectangle::new([(i, j), (i + 1.0, j + 1.0)], diverging(m / scale).filled())
    }))?;
    c.draw_series(vals.iter().map(|(p, m, ..)| {
        let (i, j) = ((p / nb) as f64, (p % nb) as f64);
        Text::new(money(*m), (i + 0.3, j + 0.62), ("sans-serif", 17))
    }))?;
    c.draw_series(vals.iter().map(|(p, _, lo, hi)| {
        let (i, j) = ((p / nb) as f64, (p % nb) as f64);
        let half = (hi - lo) / 2.0;
        Text::new(
            format!("± {}", money(half)),
            (i + 0.3, j + 0.38),
            ("sans-serif", 13),
        )
    }))?;
    colour_bar(&bar, scale)
}

/// Label a tick only at a cell centre (k + 0.5), with the value of cell k.
fn centre_label(x: f64, values: &[f64]) -> String {
    let k = x - 0.5;
    if (k - k.round()).abs() > 1e-6 || k < 0.0 {
        return String::new();
    }
    values
        .get(k.round() as usize)
        .map_or(String::new(), |v| value(*v))
}

/// Tornado: swing of incremental net profit of the first program design per parameter.
fn tornado(
    sweep: &Sweep,
    results: &[(usize, RunResults)],
    (d, dname): &(usize, String),
) -> Result<SweepChart> {
    let vals = incremental(results, *d);
    let base = vals.iter().find(|v| v.0 == 0).map_or(0.0, |v| v.1);
    let mut rows: Vec<(String, f64, f64)> = (0..sweep.parameters.len())
        .map(|k| {
            let sw: Vec<f64> = base_slice(sweep, &vals, k)
                .iter()
                .map(|v| v.1 - base)
                .collect();
            let lo = sw.iter().copied().fold(0.0, f64::min);
            let hi = sw.iter().copied().fold(0.0, f64::max);
            (sweep.parameters[k].path.clone(), lo, hi)
        })
        .collect();
    rows.sort_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)));
    let ext = rows
        .iter()
        .map(|r| r.1.abs().max(r.2.abs()))
        .fold(1.0, f64::max)
        * 1.1;
    let col = colour(*d);
    let (svg, png) = both!(|root| {
        root.fill(&WHITE)?;
        let n = rows.len();
        let mut c = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(300)
            .build_cartesian_2d(-ext..ext, 0.0..n as f64)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(2 * n + 1)
            .y_label_formatter(&|y| {
                let names: Vec<f64> = (0..n).map(|i| i as f64).collect();
                centre_label(*y, &names)
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| rows.get(i))
                    .map_or(String::new(), |r| r.0.clone())
            })
            .x_label_formatter(&|x| money(*x))
            .x_desc("change in incremental net profit from the base point")
            .draw()?;
        c.draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new([(r.1, i as f64 + 0.2), (r.2, i as f64 + 0.8)], col.filled())
        }))?;
        Ok(())
    });
    let title = format!("Sensitivity of {dname} (base point: {})", money(base));
    let caption = "Each bar spans the change in incremental net profit when one parameter \
        moves over its values with the others at base; the widest bar matters most.";
    render("tornado".into(), title, caption.into(), svg, png)
}

/// Render the sweep's charts.
pub fn render_all(sweep: &Sweep, results: &[(usize, RunResults)]) -> Result<Vec<SweepChart>> {
    crate::report::font::ensure_registered()?;
    let mut out = Vec::new();
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
    for k in 0..sweep.parameters.len() {
        out.extend(line_chart(sweep, results, &designs, k)?);
    }
    if sweep.mode == Mode::Grid && sweep.parameters.len() == 2 {
        out.extend(heatmaps(sweep, results, &designs)?);
    }
    if let (Mode::OneAtATime, Some(d)) = (sweep.mode, designs.first()) {
        out.push(tornado(sweep, results, d)?);
    }
    Ok(out)
}

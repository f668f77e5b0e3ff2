//! Small inline SVG charts for the A/B HTML reports (`ab_report.html`): a forest plot of
//! estimates with their 95% intervals, and lines with ±1.96 standard-error bands.
//!
//! Hand-written rather than drawn with plotters so that the page carries text a reader can
//! select and the bytes depend on the numbers alone (fixed decimals, no font metrics).
//! Every interval a chart shows is an uncertainty band: a chart without one would suggest
//! more precision than the data or the simulation has.

use std::fmt::Write;

use crate::report::html::esc;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 300.0;
const RIGHT: f64 = 30.0;

/// One row of a forest plot: a label, the estimate and its 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// What the row estimates.
    pub label: String,
    /// Point estimate.
    pub estimate: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
}

/// A line with its standard errors: points (x, y, se).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS colour.
    pub colour: &'static str,
    /// (x, y, Monte Carlo standard error of y).
    pub points: Vec<(f64, f64, f64)>,
}

/// A horizontal reference line (a target or nominal level) and its legend text.
pub type Reference = Option<(f64, String)>;

/// Axis range covering `values` (and 0 when `with_zero`), padded by 5%.
fn range(values: impl Iterator<Item = f64>, with_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = lo.abs().max(1.0) * 0.05;
        return (lo - pad, hi + pad);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Five evenly spaced tick values over [lo, hi].
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    (0..5)
        .map(|i| lo + (hi - lo) * f64::from(i) / 4.0)
        .collect()
}

fn open(h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH:.0} {h:.0}\" role=\"img\" \
         font-family=\"DejaVu Sans,Helvetica,Arial,sans-serif\" font-size=\"13\"><title>{}</title>\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{:.0}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
        esc(title),
        WIDTH / 2.0,
        esc(title)
    )
}

/// Forest plot: each row's estimate as a dot on its 95% interval (a translucent bar), with
/// the no-effect line at 0. `fmt` formats axis values in the metric's unit.
pub fn forest(title: &str, rows: &[Interval], fmt: &dyn Fn(f64) -> String) -> String {
    let row_h = 30.0;
    let top = 36.0;
    let height = top + row_h * rows.len() as f64 + 44.0;
    let (lo, hi) = range(rows.iter().flat_map(|r| [r.lo, r.hi, r.estimate]), true);
    let x = |v: f64| LEFT + (WIDTH - LEFT - RIGHT) * (v - lo) / (hi - lo);
    let mut s = open(height, title);
    let bottom = top + row_h * rows.len() as f64;
    let _ = write!(
        s,
        "<line x1=\"{0:.1}\" y1=\"{top:.1}\" x2=\"{0:.1}\" y2=\"{bottom:.1}\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>",
        x(0.0)
    );
    for t in ticks(lo, hi) {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{bottom:.1}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#888\"/>\
             <text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\" fill=\"#444\">{3}</text>",
            x(t),
            bottom + 5.0,
            bottom + 20.0,
            esc(&fmt(t))
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 10.0,
            y + 4.0,
            esc(&r.label)
        );
        if r.lo.is_finite() && r.hi.is_finite() {
            let _ = write!(
                s,
                "<rect class=\"band\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#1f77b4\" fill-opacity=\"0.3\"/>",
                x(r.lo),
                y - 6.0,
                (x(r.hi) - x(r.lo)).max(1.0)
            );
        }
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#1f77b4\"/>",
            x(r.estimate)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">dot: estimate; bar: 95% interval; dashed: no effect</text></svg>",
        (LEFT + WIDTH - RIGHT) / 2.0,
        height - 6.0
    );
    s
}

/// The polyline path of points (x, y) through the axis mapping.
fn path(points: impl Iterator<Item = (f64, f64)>) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.enumerate() {
        let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
    }
    d
}

/// Lines over x with ±1.96 se bands (95% Monte Carlo intervals) and an optional
/// reference line; `fmt` formats y values.
pub fn lines(
    title: &str,
    x_desc: &str,
    series: &[Series],
    reference: &Reference,
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let (h, top, bottom, left) = (420.0, 36.0, 350.0, 90.0);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = range(all().map(|p| p.0), false);
    let (y0, y1) = range(
        all()
            .flat_map(|p| [p.1 - 1.96 * p.2, p.1 + 1.96 * p.2])
            .chain(reference.iter().map(|r| r.0)),
        false,
    );
    let px = |v: f64| left + (WIDTH - left - RIGHT) * (v - x0) / (x1 - x0);
    let py = |v: f64| bottom - (bottom - top) * (v - y0) / (y1 - y0);
    let mut s = open(h, title);
    for t in ticks(y0, y1) {
        let _ = write!(
            s,
            "<line x1=\"{left:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#eee\"/>\
             <text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\" fill=\"#444\">{4}</text>",
            py(t),
            WIDTH - RIGHT,
            left - 6.0,
            py(t) + 4.0,
            esc(&fmt(t))
        );
    }
    for t in ticks(x0, x1) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{t:.0}</text>",
            px(t),
            bottom + 18.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        (left + WIDTH - RIGHT) / 2.0,
        bottom + 38.0,
        esc(x_desc)
    );
    let mut legend: Vec<(String, &str, bool)> = Vec::new();
    if let Some((v, name)) = reference {
        let _ = write!(
            s,
            "<line x1=\"{left:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#000\" stroke-dasharray=\"6 4\"/>",
            py(*v),
            WIDTH - RIGHT
        );
        legend.push((name.clone(), "#000", true));
    }
    for ser in series {
        let upper = ser.points.iter().map(|p| (px(p.0), py(p.1 + 1.96 * p.2)));
        let lower = ser
            .points
            .iter()
            .rev()
            .map(|p| (px(p.0), py(p.1 - 1.96 * p.2)));
        let _ = write!(
            s,
            "<path class=\"band\" d=\"{} Z\" fill=\"{}\" fill-opacity=\"0.2\" stroke=\"none\"/>\
             <path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            path(upper.chain(lower)),
            ser.colour,
            path(ser.points.iter().map(|p| (px(p.0), py(p.1)))),
            ser.colour
        );
        legend.push((ser.name.clone(), ser.colour, false));
    }
    for (i, (name, colour, dashed)) in legend.iter().enumerate() {
        let y = top + 8.0 + 18.0 * i as f64;
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"3\"{}/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left + 12.0,
            left + 36.0,
            if *dashed { " stroke-dasharray=\"6 4\"" } else { "" },
            left + 42.0,
            y + 4.0,
            esc(name)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">shaded: ±1.96 Monte Carlo standard errors</text></svg>",
        (left + WIDTH - RIGHT) / 2.0,
        h - 8.0
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forest_places_zero_and_bands_inside_the_plot() {
        let rows = vec![
            Interval {
                label: "a".into(),
                estimate: 1.0,
                lo: 0.5,
                hi: 1.5,
            },
            Interval {
                label: "b <x>".into(),
                estimate: -1.0,
                lo: -2.0,
                hi: 0.1,
            },
        ];
        let s = forest("t", &rows, &|v| format!("{v:.1}"));
        assert_eq!(s.matches("class=\"band\"").count(), 2);
        assert!(s.contains("b &lt;x&gt;") && s.ends_with("</svg>"));
    }

    #[test]
    fn band_width_is_1_96_standard_errors() {
        let ser = Series {
            name: "p".into(),
            colour: "#00f",
            points: vec![(0.0, 0.5, 0.0), (10.0, 0.5, 0.1)],
        };
        // With y from 0.304 to 0.696 (±1.96 x 0.1) the axis pads 5% of 0.392 either side.
        let s = lines("t", "x", &[ser], &None, &|v| format!("{v:.3}"));
        assert!(s.contains(">0.284<") && s.contains(">0.716<"), "{s}");
    }
}

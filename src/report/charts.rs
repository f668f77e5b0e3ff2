//! Charts of a run, rendered to bytes (PNG and SVG) with plotters and the embedded font.
//!
//! Every chart is one drawing function generic over the plotters backend, drawn once to an
//! SVG string and once to an RGB buffer encoded as PNG. A design keeps its colour in every
//! chart. Charts whose data a run does not have (no program, no goal-gradient curve) are
//! skipped and listed with the reason, so the report can say why.
//!
//! 1. `cumulative_net_profit`: mean line and 5-95% band across replicates, per design.
//! 2. `incremental_profit`: cumulative incremental net profit vs the control, band, and the
//!    payback point.
//! 3. `retention`: active customers over time and CRR per period.
//! 4. `members`: members over time, and the tier mix of the first tiered design.
//! 5. `points`: points liability over time, and redemption and breakage rates.
//! 6. `profit_distribution`: incremental net profit of every replicate, with the share of
//!    replicates losing money.
//! 7. `goal_gradient`: mean days to the next purchase by progress toward the reward.
//! 8. `member_lift`: naive vs causal member lift.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::metrics::{RunResults, PERIOD_METRICS};
use crate::scenario::Scenario;
use crate::{Error, Result};

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (960, 540);
type DrawResult<E> = std::result::Result<(), DrawingAreaErrorKind<E>>;

/// The charts a run can have, in report order: (file stem, title, one-line caption).
pub const CHARTS: &[(&str, &str, &str)] = &[
    ("cumulative_net_profit", "Cumulative net profit", "Which design earns most over the horizon, and how sure we are: bands are the 5-95% range across replicates."),
    ("incremental_profit", "Incremental net profit vs control", "Above zero a design pays for itself; the dot marks the payback month of the mean curve."),
    ("retention", "Retention", "Active customers at each period end (left) and customer retention rate per period (right)."),
    ("members", "Members and tiers", "Active members (enrolled and not yet dropped out) at each period end: how fast each program fills up (left) and, for a tiered design, where its active members sit (right)."),
    ("points", "Points liability, redemption and breakage", "Outstanding points at their cost to the merchant (left); redemption and breakage rates (right)."),
    ("profit_distribution", "Incremental net profit by replicate", "Each dot is a replicate; the share of replicates losing money is in the label."),
    ("goal_gradient", "Goal gradient", "Days to the next purchase by progress toward the reward. For a punch card (stamp k to k+1, completed cards only) a falling line is the goal-gradient effect. For a points design each point compares different members: heavy buyers hold high balances and buy more often, so the line falls even with every behaviour mechanism off; it shows who holds points, not that members speed up."),
    ("member_lift", "Naive vs causal member lift", "Members vs non-members (naive) against members vs themselves without the program (causal)."),
];

/// The colour of series `i` (0 is the control's grey), the same in every chart.
pub fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(80, 80, 80),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
    ];
    C[i % C.len()]
}

fn series(name: &str) -> usize {
    PERIOD_METRICS
        .iter()
        .position(|m| *m == name)
        .expect("known series")
}

/// What the chart functions read.
struct Data<'a> {
    sc: &'a Scenario,
    r: &'a RunResults,
    /// Month at the end of each period.
    months: Vec<f64>,
}

impl Data<'_> {
    fn band(&self, d: usize, s: usize) -> Vec<BandPoint> {
        self.r.designs[d]
            .periods
            .iter()
            .zip(&self.months)
            .filter_map(|(p, &m)| {
                let b = p[s];
                Some((m, b.mean?, b.p05?, b.p95?))
            })
            .collect()
    }

    fn metric(&self, d: usize, name: &str) -> Option<f64> {
        RunResults::metric_index(name).and_then(|i| self.r.designs[d].metrics[i].mean)
    }

    fn programs(&self) -> Vec<usize> {
        (0..self.r.designs.len())
            .filter(|&d| d != self.sc.control)
            .collect()
    }
}

/// Value range with a margin, never empty.
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.08)
        .max(hi.abs().max(lo.abs()) * 0.01)
        .max(1e-9);
    (lo - pad)..(hi + pad)
}

/// Axis numbers: 1.2M, 35k, 250, 0.45.
fn money(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e5 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// (month, mean, 5% quantile, 95% quantile).
type BandPoint = (f64, f64, f64, f64);

/// What a band panel shows.
struct Panel<'p> {
    /// Designs to draw.
    designs: &'p [usize],
    /// Period series (index in `PERIOD_METRICS`).
    series: usize,
    title: &'p str,
    y_desc: &'p str,
    /// Draw the zero line.
    zero_line: bool,
    /// Mark each design's payback month.
    payback: bool,
}

/// Lines with translucent bands, one per design.
fn band_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Data,
    panel: Panel,
) -> DrawResult<DB::ErrorType> {
    let Panel {
        designs,
        series: s,
        title,
        y_desc,
        zero_line,
        payback,
    } = panel;
    let bands: Vec<(usize, Vec<BandPoint>)> =
        designs.iter().map(|&d| (d, data.band(d, s))).collect();
    let y = range(
        bands
            .iter()
            .flat_map(|(_, b)| b.iter().flat_map(|p| [p.1, p.2, p.3]))
            .chain(zero_line.then_some(0.0)),
    );
    let x_max = data.months.last().copied().unwrap_or(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, y)?;
    chart
        .configure_mesh()
        .x_desc("months")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(y_desc)
        .y_label_formatter(&|v| money(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if zero_line {
        chart.draw_series(LineSeries::new([(0.0, 0.0), (x_max, 0.0)], BLACK.mix(0.5)))?;
    }
    for (d, b) in &bands {
        let c = colour(*d);
        if b.len() > 1 && data.r.tallies.len() > 1 {
            let mut poly: Vec<(f64, f64)> = b.iter().map(|p| (p.0, p.3)).collect();
            poly.extend(b.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.15).filled())))?;
        }
        let name = &data.r.designs[*d].name;
        chart
            .draw_series(LineSeries::new(
                b.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        if payback {
            if let Some(m) = data.r.designs[*d].payback_months {
                let at = b.iter().find(|p| p.0 >= m - 1e-9).map_or(0.0, |p| p.1);
                chart.draw_series(std::iter::once(Circle::new((m, at), 6, c.filled())))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn cumulative_net_profit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let all: Vec<usize> = (0..data.r.designs.len()).collect();
    band_panel(
        root,
        data,
        Panel {
            designs: &all,
            series: series("cumulative_net_profit"),
            title: "Cumulative net profit per design (mean, 5-95% band)",
            y_desc: "net profit",
            zero_line: true,
            payback: false,
        },
    )?;
    root.present()
}

fn incremental_profit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    band_panel(
        root,
        data,
        Panel {
            designs: &data.programs(),
            series: series("cumulative_incremental_net_profit"),
            title: "Cumulative incremental net profit vs control (dot: payback)",
            y_desc: "incremental net profit",
            zero_line: true,
            payback: true,
        },
    )?;
    root.present()
}

fn retention<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let all: Vec<usize> = (0..data.r.designs.len()).collect();
    band_panel(
        &left,
        data,
        Panel {
            designs: &all,
            series: series("active_customers"),
            title: "Active customers",
            y_desc: "customers",
            zero_line: false,
            payback: false,
        },
    )?;
    band_panel(
        &right,
        data,
        Panel {
            designs: &all,
            series: series("crr"),
            title: "Retention rate per period (CRR, %)",
            y_desc: "CRR %",
            zero_line: false,
            payback: false,
        },
    )?;
    root.present()
}

fn members<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    band_panel(
        &left,
        data,
        Panel {
            designs: &data.programs(),
            series: series("members"),
            title: "Active members",
            y_desc: "active members",
            zero_line: false,
            payback: false,
        },
    )?;
    let tiered = data.r.designs.iter().find_map(|d| {
        d.tiers
            .as_ref()
            .map(|(names, bands)| (d.name.as_str(), names, bands))
    });
    match tiered {
        Some((design, names, bands)) => {
            let x_max = data.months.last().copied().unwrap_or(1.0);
            let y = range(bands.iter().flatten().filter_map(|b| b.mean).chain([0.0]));
            let mut chart = ChartBuilder::on(&right)
                .caption(format!("Tier mix: {design}"), ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(0.0..x_max, y)?;
            chart
                .configure_mesh()
                .x_desc("months")
                .y_desc("active members")
                .y_label_formatter(&|v| money(*v))
                .draw()?;
            for (l, name) in names.iter().enumerate() {
                let c = colour(l + 3);
                let pts: Vec<(f64, f64)> = bands
                    .iter()
                    .zip(&data.months)
                    .filter_map(|(b, &m)| Some((m, b[l].mean?)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 14))
                .draw()?;
        }
        None => {
            right.draw(&Text::new(
                "No design with tiers",
                (40, (SIZE.1 / 2) as i32),
                ("sans-serif", 18),
            ))?;
        }
    }
    root.present()
}

/// Grouped bars: one group per design, one bar per value.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Data,
    title: &str,
    y_desc: &str,
    groups: &[(usize, Vec<Option<f64>>)],
    labels: &[&str],
) -> DrawResult<DB::ErrorType> {
    let n = groups.len().max(1) as f64;
    let y = range(
        groups
            .iter()
            .flat_map(|(_, v)| v.iter().flatten().copied())
            .chain([0.0]),
    );
    // Headroom above the tallest bar for the legend.
    let y = y.start..y.end + 0.35 * (y.end - y.start);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n - 0.5, y)?;
    let names: Vec<String> = groups
        .iter()
        .map(|(d, _)| data.r.designs[*d].name.clone())
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .y_label_formatter(&|v| money(*v))
        .draw()?;
    let k = labels.len().max(1) as f64;
    let w = 0.8 / k;
    for (j, label) in labels.iter().enumerate() {
        let c = colour(j + 1);
        chart
            .draw_series(groups.iter().enumerate().filter_map(|(i, (_, v))| {
                let v = v.get(j).copied().flatten()?;
                let x0 = i as f64 - 0.4 + j as f64 * w;
                Some(Rectangle::new([(x0, 0.0), (x0 + w * 0.9, v)], c.filled()))
            }))?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn points<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let with_points: Vec<usize> = data
        .programs()
        .into_iter()
        .filter(|&d| data.metric(d, "points_issued").unwrap_or(0.0) > 0.0)
        .collect();
    band_panel(
        &left,
        data,
        Panel {
            designs: &with_points,
            series: series("points_liability"),
            title: "Points liability (at cost)",
            y_desc: "liability",
            zero_line: false,
            payback: false,
        },
    )?;
    let groups: Vec<(usize, Vec<Option<f64>>)> = with_points
        .iter()
        .map(|&d| {
            (
                d,
                vec![
                    data.metric(d, "redemption_rate"),
                    data.metric(d, "breakage_rate"),
                ],
            )
        })
        .collect();
    bars(
        &right,
        data,
        "Redemption and breakage",
        "share of points issued",
        &groups,
        &["redemption rate", "breakage rate"],
    )?;
    root.present()
}

fn profit_distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let programs = data.programs();
    let values: Vec<Vec<f64>> = programs
        .iter()
        .map(|&d| {
            data.r
                .tallies
                .iter()
                .map(|rep| {
                    (rep[d].net_profit_cents() - rep[data.sc.control].net_profit_cents()) as f64
                        / 100.0
                })
                .collect()
        })
        .collect();
    let n = programs.len().max(1) as f64;
    let y = range(values.iter().flatten().copied().chain([0.0]));
    let names: Vec<String> = programs
        .iter()
        .zip(&values)
        .map(|(&d, v)| {
            let losing = v.iter().filter(|x| **x < 0.0).count() as f64 / v.len().max(1) as f64;
            format!("{} ({:.0}% lose)", data.r.designs[d].name, 100.0 * losing)
        })
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Incremental net profit of every replicate vs control",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n - 0.5, y)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(programs.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 13))
        .y_desc("incremental net profit")
        .y_label_formatter(&|v| money(*v))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(-0.5, 0.0), (n - 0.5, 0.0)],
        BLACK.mix(0.5),
    ))?;
    for (i, (&d, v)) in programs.iter().zip(&values).enumerate() {
        let c = colour(d);
        let k = v.len().max(1) as f64;
        chart.draw_series(v.iter().enumerate().map(|(j, &y)| {
            // Spread the dots across the slot so they do not overlap.
            let x = i as f64 - 0.25 + 0.5 * (j as f64 + 0.5) / k;
            Circle::new((x, y), 4, c.mix(0.7).filled())
        }))?;
        if let Some(mean) = data.r.designs[d].vs_control
            [RunResults::metric_index("net_profit").expect("metric")]
        .mean
        {
            chart.draw_series(LineSeries::new(
                [(i as f64 - 0.35, mean), (i as f64 + 0.35, mean)],
                c.stroke_width(3),
            ))?;
        }
    }
    root.present()
}

fn goal_gradient<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let curves: Vec<(usize, Vec<(f64, f64)>)> = data
        .r
        .designs
        .iter()
        .enumerate()
        .filter_map(|(d, s)| {
            let c = s.progress_curve.as_ref()?;
            // Stamp numbers become the share of the card done, so cards and points share
            // one axis.
            let per = data.sc.designs[d]
                .punch_card
                .map_or(1.0, |pc| f64::from(pc.stamps));
            Some((
                d,
                c.iter().map(|p| (p.progress / per, p.mean_days)).collect(),
            ))
        })
        .collect();
    let y = range(
        curves
            .iter()
            .flat_map(|(_, c)| c.iter().map(|p| p.1))
            .chain([0.0]),
    );
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Days to the next purchase by progress toward the reward",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, y)?;
    chart
        .configure_mesh()
        .x_desc("progress toward the reward (share of stamps or points)")
        .y_desc("mean days to next purchase")
        .draw()?;
    for (d, c) in &curves {
        let col = colour(*d);
        chart
            .draw_series(LineSeries::new(c.clone(), col.stroke_width(2)))?
            .label(data.r.designs[*d].name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(3)));
        chart.draw_series(c.iter().map(|p| Circle::new(*p, 4, col.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()
}

fn member_lift<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let groups = lift_groups(data);
    bars(
        root,
        data,
        "Spend lift per member: naive vs causal",
        "spend per member over the horizon",
        &groups,
        &["naive (members vs non-members)", "causal (vs own control)"],
    )?;
    root.present()
}

fn lift_groups(data: &Data) -> Vec<(usize, Vec<Option<f64>>)> {
    data.programs()
        .into_iter()
        .filter_map(|d| {
            let naive = data.metric(d, "naive_member_lift")?;
            let causal = data.metric(d, "causal_member_lift")?;
            Some((d, vec![Some(naive), Some(causal)]))
        })
        .collect()
}

/// Encode an RGB buffer (as plotters' bitmap backend draws it) as PNG bytes. Shared by
/// every chart renderer.
pub fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| Error::Other(format!("PNG encoding failed: {e}")))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| Error::Other(format!("PNG encoding failed: {e}")))?;
    }
    Ok(out)
}

macro_rules! render_both {
    ($out:expr, $name:expr, $draw:ident, $data:expr) => {{
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            $draw(&root, $data).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            $draw(&root, $data).map_err(|e| Error::Other(format!("chart {}: {e}", $name)))?;
        }
        $out.charts.push(Chart {
            name: $name,
            svg,
            png: encode_png(&rgb, SIZE)?,
        });
    }};
}

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem (one of [`CHARTS`]).
    pub name: &'static str,
    /// SVG document.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// The charts of a run, and the ones skipped with the reason.
#[derive(Debug, Clone, Default)]
pub struct RunCharts {
    /// Rendered charts, in [`CHARTS`] order.
    pub charts: Vec<Chart>,
    /// (chart name, why it was skipped).
    pub skipped: Vec<(&'static str, String)>,
}

/// Render every chart a run has data for.
pub fn render(sc: &Scenario, r: &RunResults) -> Result<RunCharts> {
    crate::report::font::ensure_registered()?;
    let months: Vec<f64> = (0..sc.periods())
        .map(|p| {
            ((p + 1) as f64 * sc.period.days()).min(f64::from(sc.horizon_days)) / (365.25 / 12.0)
        })
        .collect();
    let data = Data { sc, r, months };
    let mut out = RunCharts::default();
    let programs = !data.programs().is_empty();
    let skip = |out: &mut RunCharts, name: &'static str, why: &str| {
        out.skipped.push((name, why.to_string()))
    };
    render_both!(out, "cumulative_net_profit", cumulative_net_profit, &data);
    if programs {
        render_both!(out, "incremental_profit", incremental_profit, &data);
    } else {
        skip(
            &mut out,
            "incremental_profit",
            "the scenario has no design besides the control",
        );
    }
    render_both!(out, "retention", retention, &data);
    if programs {
        render_both!(out, "members", members, &data);
        render_both!(out, "points", points, &data);
        render_both!(out, "profit_distribution", profit_distribution, &data);
    } else {
        for name in ["members", "points", "profit_distribution"] {
            skip(
                &mut out,
                name,
                "the scenario has no design besides the control",
            );
        }
    }
    if r.designs.iter().any(|d| d.progress_curve.is_some()) {
        render_both!(out, "goal_gradient", goal_gradient, &data);
    } else {
        skip(
            &mut out,
            "goal_gradient",
            "no design has a punch card or a points threshold to progress toward",
        );
    }
    if !lift_groups(&data).is_empty() {
        render_both!(out, "member_lift", member_lift, &data);
    } else {
        skip(&mut out, "member_lift", "no design has both members and non-members to compare (every design enrols everyone, or none)");
    }
    Ok(out)
}

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

use plotters::coord::types::RangedCoordf64;
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
    ("retention", "Retention", "Active customers at each period end with the 5-95% band across replicates (left), and each design's customer retention rate per period minus the control's, in percentage points (right; mean across replicates, above zero the design keeps more customers). A dashed line marks the launch day of a design that starts after day 0."),
    ("members", "Members and tiers", "Active members (enrolled and not yet dropped out) at each period end: how fast each program fills up (left) and, for a tiered design, where its active members sit (right)."),
    ("points", "Points liability, redemption and breakage", "Outstanding points (or cashback balance) at their cost to the merchant, for designs that issue any (left); the share of issued points redeemed (solid bar) and expired (pale bar) per design (right)."),
    ("profit_distribution", "Incremental net profit by replicate", "Each dot is a replicate; the share of replicates losing money is in the label."),
    ("goal_gradient", "Goal gradient", "Days to the next purchase by progress toward the reward. For a punch card (stamp k to k+1, completed cards only) a falling line is the goal-gradient effect. For a points design each point compares different members: heavy buyers hold high balances and buy more often, so the line falls even with every behaviour mechanism off; it shows who holds points, not that members speed up."),
    ("member_lift", "Naive vs causal member lift", "Spend per member over the horizon: members vs non-members (naive, solid bar) against members vs themselves without the program (causal, pale bar), for designs that have both members and non-members."),
];

/// The colour of design `i` (0 is the control's grey), the same in every chart and panel
/// of every command: a design is recognised by its colour alone.
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

/// The colour of tier `l` (0 the entry tier), from a palette no design uses, so a tier line
/// is never mistaken for a design: light to dark, as tiers rise.
pub fn tier_colour(l: usize) -> RGBColor {
    const C: [RGBColor; 5] = [
        RGBColor(102, 194, 165),
        RGBColor(23, 190, 207),
        RGBColor(0, 128, 128),
        RGBColor(188, 160, 34),
        RGBColor(0, 48, 96),
    ];
    C[l % C.len()]
}

/// The colour of marks that are not a design (calibration end, reference lines).
pub const MARKER: RGBColor = RGBColor(190, 30, 110);

/// Tick labels of one axis in one format: the unit (none, `k`, `M`) follows the largest
/// magnitude on the axis, so all ticks of an axis read alike, with thousands separators
/// and only the decimals the tick spacing needs (`50k`, `100k`, `12.5k`; never `50.0k` or
/// `5.0`).
pub fn tick_format(axis: &std::ops::Range<f64>) -> impl Fn(&f64) -> String {
    let top = axis.start.abs().max(axis.end.abs());
    let (scale, unit) = if top >= 1e6 {
        (1e6, "M")
    } else if top >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    // Plotters puts about ten ticks on an axis; one decimal beyond a tenth of the span keeps
    // ticks such as 2.5k apart, and trailing zeros are dropped.
    let step = ((axis.end - axis.start).abs() / scale / 10.0).max(1e-12);
    let decimals = ((-step.log10()).ceil() + 1.0).clamp(0.0, 6.0) as usize;
    move |v: &f64| {
        let s = crate::report::table::number(v / scale, decimals);
        if s == "0" {
            s
        } else {
            format!("{s}{unit}")
        }
    }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A line (a series).
    Line(RGBColor),
    /// A dashed line (a marker such as a launch day or calibration end).
    Dashed(RGBColor),
    /// A filled box (a bar or a band).
    Swatch(RGBColor),
    /// A dot (scatter points).
    Dot(RGBColor),
}

const LEGEND_FONT: (&str, u32) = ("sans-serif", 14);
const LEGEND_ROW: u32 = 22;

/// Lay out legend entries in rows across `width`; returns each entry's (row, x).
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
    width: u32,
) -> Vec<(u32, i32)> {
    let (mut row, mut x) = (0u32, 16i32);
    entries
        .iter()
        .map(|(name, _)| {
            let text = area
                .estimate_text_size(name, &LEGEND_FONT.into_text_style(area))
                .map_or(8 * name.len() as u32, |s| s.0);
            let w = 28 + text as i32 + 22;
            if x > 16 && x + w > width as i32 {
                row += 1;
                x = 16;
            }
            let at = (row, x);
            x += w;
            at
        })
        .collect()
}

/// Reserve a strip below the plot for the legend, draw it there and return the plot area:
/// a legend outside the data can never hide a line.
pub fn with_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    if entries.is_empty() {
        return Ok(root.clone());
    }
    let (w, h) = root.dim_in_pixel();
    let at = legend_layout(root, entries, w);
    let rows = at.last().map_or(1, |a| a.0 + 1);
    let (plot, strip) = root.split_vertically(h.saturating_sub(rows * LEGEND_ROW + 10));
    for ((name, mark), (row, x)) in entries.iter().zip(at) {
        let y = (row * LEGEND_ROW + LEGEND_ROW / 2) as i32;
        match *mark {
            Mark::Line(c) => strip.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                c.stroke_width(3),
            ))?,
            Mark::Dashed(c) => {
                for k in 0..3 {
                    let x0 = x + 9 * k;
                    strip.draw(&PathElement::new(
                        vec![(x0, y), (x0 + 5, y)],
                        c.stroke_width(2),
                    ))?;
                }
            }
            Mark::Swatch(c) => strip.draw(&Rectangle::new(
                [(x + 4, y - 6), (x + 18, y + 6)],
                c.filled(),
            ))?,
            Mark::Dot(c) => strip.draw(&Circle::new((x + 11, y), 5, c.filled()))?,
        }
        strip.draw(&Text::new(
            name.clone(),
            (x + 28, y - 8),
            LEGEND_FONT.into_font(),
        ))?;
    }
    Ok(plot)
}

/// A vertical dashed line at `x` across the y range, labelled at the top (a launch day, the
/// end of a calibration period): dashed and coloured so it never reads as grid.
pub fn vertical_marker<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: f64,
    y: &std::ops::Range<f64>,
    colour: RGBColor,
    label: &str,
) -> DrawResult<DB::ErrorType> {
    chart.draw_series(DashedLineSeries::new(
        [(x, y.start), (x, y.end)],
        8,
        5,
        colour.stroke_width(2),
    ))?;
    chart.draw_series(std::iter::once(Text::new(
        label.to_string(),
        (x, y.end - 0.02 * (y.end - y.start)),
        ("sans-serif", 13).into_font().color(&colour),
    )))?;
    Ok(())
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
    /// Draw each design's mean minus the control's mean (no band): seven lines that sit on
    /// top of each other in levels separate when shown as differences.
    minus_control: bool,
}

const MONTH_DAYS: f64 = 365.25 / 12.0;

impl Data<'_> {
    /// What a panel draws for design `d`: its band, or its mean minus the control's.
    fn panel_band(&self, d: usize, s: usize, minus_control: bool) -> Vec<BandPoint> {
        if !minus_control {
            return self.band(d, s);
        }
        let control = self.sc.control;
        self.r.designs[d]
            .periods
            .iter()
            .zip(&self.r.designs[control].periods)
            .zip(&self.months)
            .filter_map(|((p, c), &m)| {
                let v = p[s].mean? - c[s].mean?;
                Some((m, v, v, v))
            })
            .collect()
    }

    /// Designs among `designs` that launch after day 0: (design, launch month).
    fn launches(&self, designs: &[usize]) -> Vec<(usize, f64)> {
        designs
            .iter()
            .filter_map(|&d| {
                let day = self.sc.designs[d].start_day;
                (day > 0.0).then_some((d, day / MONTH_DAYS))
            })
            .collect()
    }

    /// Legend entries for `designs`: one line per design, and the launch-day marker when a
    /// design starts late.
    fn legend(&self, designs: &[usize]) -> Vec<(String, Mark)> {
        let mut e: Vec<(String, Mark)> = designs
            .iter()
            .map(|&d| (self.r.designs[d].name.clone(), Mark::Line(colour(d))))
            .collect();
        if !self.launches(designs).is_empty() {
            e.push((
                "launch day (design's colour)".into(),
                Mark::Dashed(colour(0)),
            ));
        }
        e
    }
}

/// Lines with translucent bands, one per design; the legend is drawn by the caller.
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
        minus_control,
    } = panel;
    let bands: Vec<(usize, Vec<BandPoint>)> = designs
        .iter()
        .map(|&d| (d, data.panel_band(d, s, minus_control)))
        .collect();
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
        .build_cartesian_2d(0.0..x_max, y.clone())?;
    chart
        .configure_mesh()
        .x_desc("months")
        .x_label_formatter(&tick_format(&(0.0..x_max)))
        .y_desc(y_desc)
        .y_label_formatter(&tick_format(&y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if zero_line {
        chart.draw_series(LineSeries::new([(0.0, 0.0), (x_max, 0.0)], BLACK.mix(0.5)))?;
    }
    for (d, b) in &bands {
        let c = colour(*d);
        if b.len() > 1 && data.r.tallies.len() > 1 && !minus_control {
            let mut poly: Vec<(f64, f64)> = b.iter().map(|p| (p.0, p.3)).collect();
            poly.extend(b.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.15).filled())))?;
        }
        chart.draw_series(LineSeries::new(
            b.iter().map(|p| (p.0, p.1)),
            c.stroke_width(2),
        ))?;
        if payback {
            if let Some(m) = data.r.designs[*d].payback_months {
                let at = b.iter().find(|p| p.0 >= m - 1e-9).map_or(0.0, |p| p.1);
                chart.draw_series(std::iter::once(Circle::new((m, at), 6, c.filled())))?;
            }
        }
    }
    for (d, month) in data.launches(designs) {
        let day = data.sc.designs[d].start_day;
        let label = format!(" {} launches (day {day:.0})", data.r.designs[d].name);
        vertical_marker(&mut chart, month, &y, colour(d), &label)?;
    }
    Ok(())
}

impl<'p> Panel<'p> {
    /// A plain panel of `series` for `designs`.
    fn of(designs: &'p [usize], name: &str, title: &'p str, y_desc: &'p str) -> Self {
        Panel {
            designs,
            series: series(name),
            title,
            y_desc,
            zero_line: false,
            payback: false,
            minus_control: false,
        }
    }
}

fn cumulative_net_profit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let all: Vec<usize> = (0..data.r.designs.len()).collect();
    let plot = with_legend(root, &data.legend(&all))?;
    let panel = Panel::of(
        &all,
        "cumulative_net_profit",
        "Cumulative net profit per design (mean, 5-95% band)",
        "net profit",
    );
    band_panel(
        &plot,
        data,
        Panel {
            zero_line: true,
            ..panel
        },
    )?;
    root.present()
}

fn incremental_profit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let programs = data.programs();
    let plot = with_legend(root, &data.legend(&programs))?;
    let panel = Panel::of(
        &programs,
        "cumulative_incremental_net_profit",
        "Cumulative incremental net profit vs control (dot: payback)",
        "incremental net profit",
    );
    band_panel(
        &plot,
        data,
        Panel {
            zero_line: true,
            payback: true,
            ..panel
        },
    )?;
    root.present()
}

fn retention<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let all: Vec<usize> = (0..data.r.designs.len()).collect();
    let plot = with_legend(root, &data.legend(&all))?;
    let (left, right) = plot.split_horizontally(SIZE.0 / 2);
    band_panel(
        &left,
        data,
        Panel::of(&all, "active_customers", "Active customers", "customers"),
    )?;
    let crr = Panel::of(
        &all,
        "crr",
        "Retention rate vs control (CRR, points)",
        "CRR minus control's, percentage points",
    );
    band_panel(
        &right,
        data,
        Panel {
            zero_line: true,
            minus_control: true,
            ..crr
        },
    )?;
    root.present()
}

fn members<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let programs = data.programs();
    let tiered = data
        .r
        .designs
        .iter()
        .enumerate()
        .find_map(|(d, s)| s.tiers.as_ref().map(|(names, bands)| (d, names, bands)));
    let mut entries = data.legend(&programs);
    if let Some((_, names, _)) = tiered {
        entries.extend(
            names
                .iter()
                .enumerate()
                .map(|(l, n)| (format!("tier {n}"), Mark::Line(tier_colour(l)))),
        );
    }
    let plot = with_legend(root, &entries)?;
    let (left, right) = plot.split_horizontally(SIZE.0 / 2);
    band_panel(
        &left,
        data,
        Panel::of(&programs, "members", "Active members", "active members"),
    )?;
    match tiered {
        Some((d, names, bands)) => tier_mix(&right, data, d, names, bands)?,
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

/// Active members per tier of design `d` over time, in the tier palette.
fn tier_mix<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Data,
    d: usize,
    names: &[String],
    bands: &[Vec<crate::stats::Band>],
) -> DrawResult<DB::ErrorType> {
    let x_max = data.months.last().copied().unwrap_or(1.0);
    let y = range(bands.iter().flatten().filter_map(|b| b.mean).chain([0.0]));
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Tier mix: {}", data.r.designs[d].name),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, y.clone())?;
    chart
        .configure_mesh()
        .x_desc("months")
        .x_label_formatter(&tick_format(&(0.0..x_max)))
        .y_desc("active members")
        .y_label_formatter(&tick_format(&y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for l in 0..names.len() {
        let pts: Vec<(f64, f64)> = bands
            .iter()
            .zip(&data.months)
            .filter_map(|(b, &m)| Some((m, b.get(l)?.mean?)))
            .collect();
        chart.draw_series(LineSeries::new(pts, tier_colour(l).stroke_width(2)))?;
    }
    if let Some((_, month)) = data.launches(&[d]).first() {
        let label = format!(" launch (day {:.0})", data.sc.designs[d].start_day);
        vertical_marker(&mut chart, *month, &y, colour(d), &label)?;
    }
    Ok(())
}

/// Design colour `c` lightened toward white by `share` (0: unchanged), for the second bar of
/// a pair: both bars of a design keep its hue.
pub fn pale(c: RGBColor, share: f64) -> RGBColor {
    let mix = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * share).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// How pale the k-th bar of a design's group is.
fn bar_shade(j: usize) -> f64 {
    [0.0, 0.55, 0.3][j % 3]
}

/// Legend entries for grouped bars: the shade of each value, shown in the control's grey.
fn bar_legend(labels: &[&str]) -> Vec<(String, Mark)> {
    labels
        .iter()
        .enumerate()
        .map(|(j, l)| {
            let how = ["solid", "pale", "light"][j % 3];
            (
                format!("{how}: {l}"),
                Mark::Swatch(pale(colour(0), bar_shade(j))),
            )
        })
        .collect()
}

/// Grouped bars: one group per design in the design's colour, one shade per value (see
/// [`bar_legend`]).
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &Data,
    title: &str,
    y_desc: &str,
    groups: &[(usize, Vec<Option<f64>>)],
    values: usize,
) -> DrawResult<DB::ErrorType> {
    let n = groups.len().max(1) as f64;
    let y = range(
        groups
            .iter()
            .flat_map(|(_, v)| v.iter().flatten().copied())
            .chain([0.0]),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n - 0.5, y.clone())?;
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
        .y_label_formatter(&tick_format(&y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let w = 0.8 / values.max(1) as f64;
    for j in 0..values {
        chart.draw_series(groups.iter().enumerate().filter_map(|(i, (d, v))| {
            let v = v.get(j).copied().flatten()?;
            let x0 = i as f64 - 0.4 + j as f64 * w;
            let c = pale(colour(*d), bar_shade(j));
            Some(Rectangle::new([(x0, 0.0), (x0 + w * 0.9, v)], c.filled()))
        }))?;
    }
    Ok(())
}

fn points<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let with_points: Vec<usize> = data
        .programs()
        .into_iter()
        .filter(|&d| data.metric(d, "points_issued").unwrap_or(0.0) > 0.0)
        .collect();
    let rates = ["redemption rate", "breakage rate"];
    let mut entries = data.legend(&with_points);
    entries.extend(bar_legend(&rates));
    let plot = with_legend(root, &entries)?;
    let (left, right) = plot.split_horizontally(SIZE.0 / 2);
    band_panel(
        &left,
        data,
        Panel::of(
            &with_points,
            "points_liability",
            "Points liability (at cost)",
            "liability",
        ),
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
        rates.len(),
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
        .build_cartesian_2d(-0.5..n - 0.5, y.clone())?;
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
        .y_label_formatter(&tick_format(&y))
        .light_line_style(WHITE.mix(0.0))
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
    let entries: Vec<(String, Mark)> = curves
        .iter()
        .map(|(d, _)| (data.r.designs[*d].name.clone(), Mark::Line(colour(*d))))
        .collect();
    let plot = with_legend(root, &entries)?;
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Days to the next purchase by progress toward the reward",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, y.clone())?;
    chart
        .configure_mesh()
        .x_desc("progress toward the reward (share of stamps or points)")
        .x_label_formatter(&tick_format(&(0.0..1.0)))
        .y_desc("mean days to next purchase")
        .y_label_formatter(&tick_format(&y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (d, c) in &curves {
        let col = colour(*d);
        chart.draw_series(LineSeries::new(c.clone(), col.stroke_width(2)))?;
        chart.draw_series(c.iter().map(|p| Circle::new(*p, 4, col.filled())))?;
    }
    root.present()
}

fn member_lift<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let groups = lift_groups(data);
    let kinds = ["naive (members vs non-members)", "causal (vs own control)"];
    let plot = with_legend(root, &bar_legend(&kinds))?;
    bars(
        &plot,
        data,
        "Spend lift per member: naive vs causal",
        "spend per member over the horizon",
        &groups,
        kinds.len(),
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

//! `designs.csv` and `timeseries.csv`: the run's numbers in flat tables.
//!
//! designs.csv: `design,kind,metric,mean,sd,ci95_lo,ci95_hi,vs_control_mean,
//! vs_control_ci95_lo,vs_control_ci95_hi`, one row per design x metric.
//! timeseries.csv: `design,period,start_day,end_day` then `<series>_mean,<series>_p05,
//! <series>_p95` for every per-period series, one row per design x period.
//! Empty cells are undefined values.

use std::fmt::Write;

use crate::metrics::{RunResults, PERIOD_METRICS, RUN_METRICS};
use crate::scenario::Scenario;

fn cell(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| super::round_reported(v).to_string())
}

/// Quote a text cell if it needs it (RFC 4180).
pub fn text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Render designs.csv.
pub fn render_designs(r: &RunResults) -> Vec<u8> {
    let mut out = String::from(
        "design,kind,metric,mean,sd,ci95_lo,ci95_hi,vs_control_mean,vs_control_ci95_lo,vs_control_ci95_hi\n",
    );
    for d in &r.designs {
        for (i, name) in RUN_METRICS.iter().enumerate() {
            let m = &d.metrics[i];
            let v = &d.vs_control[i];
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                text(&d.name),
                d.kind,
                name,
                cell(m.mean),
                cell(m.sd),
                cell(m.ci95.map(|c| c[0])),
                cell(m.ci95.map(|c| c[1])),
                cell(v.mean),
                cell(v.ci95.map(|c| c[0])),
                cell(v.ci95.map(|c| c[1])),
            );
        }
    }
    out.into_bytes()
}

/// Render timeseries.csv.
pub fn render_timeseries(sc: &Scenario, r: &RunResults) -> Vec<u8> {
    let mut out = String::from("design,period,start_day,end_day");
    for m in PERIOD_METRICS {
        let _ = write!(out, ",{m}_mean,{m}_p05,{m}_p95");
    }
    out.push('\n');
    let len = sc.period.days();
    let horizon = f64::from(sc.horizon_days);
    for d in &r.designs {
        for (p, series) in d.periods.iter().enumerate() {
            let start = p as f64 * len;
            let end = ((p + 1) as f64 * len).min(horizon);
            let _ = write!(out, "{},{},{},{}", text(&d.name), p + 1, start, end);
            for b in series {
                let _ = write!(out, ",{},{},{}", cell(b.mean), cell(b.p05), cell(b.p95));
            }
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Render tiers.csv: `design,period,tier,members_mean,members_p05,members_p95`, active
/// members per tier at each period end, for designs with tiers (header only otherwise).
pub fn render_tiers(r: &RunResults) -> Vec<u8> {
    let mut out = String::from("design,period,tier,members_mean,members_p05,members_p95\n");
    for d in &r.designs {
        if let Some((names, bands)) = &d.tiers {
            for (p, levels) in bands.iter().enumerate() {
                for (name, b) in names.iter().zip(levels) {
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{},{}",
                        text(&d.name),
                        p + 1,
                        text(name),
                        cell(b.mean),
                        cell(b.p05),
                        cell(b.p95)
                    );
                }
            }
        }
    }
    out.into_bytes()
}

/// Render progress_curve.csv: `design,progress,mean_days,intervals`: the goal-gradient
/// curve of each design that has one. For a punch card `progress` is the stamp number k
/// and `mean_days` the mean time from stamp k to stamp k+1 over completed cards; for a
/// points design it is the share of the cheapest reward's points held (bucket middle).
pub fn render_progress(r: &RunResults) -> Vec<u8> {
    let mut out = String::from("design,progress,mean_days,intervals\n");
    for d in &r.designs {
        for p in d.progress_curve.iter().flatten() {
            let _ = writeln!(
                out,
                "{},{},{},{}",
                text(&d.name),
                cell(Some(p.progress)),
                cell(Some(p.mean_days)),
                p.n
            );
        }
    }
    out.into_bytes()
}

/// Render replicates.csv: `replicate,design,metric,value`, one row per replicate x design
/// x run metric (replicates from 0, metrics in designs.csv order); the values every mean,
/// sd and CI of designs.csv summarises. An undefined value is an empty cell.
pub fn render_replicates(sc: &Scenario, r: &RunResults) -> Vec<u8> {
    let mut out = String::from("replicate,design,metric,value\n");
    for (rep, designs) in r.replicate_metrics(sc).iter().enumerate() {
        for (d, values) in r.designs.iter().zip(designs) {
            let name = text(&d.name);
            for (m, v) in RUN_METRICS.iter().zip(values) {
                let _ = writeln!(out, "{rep},{name},{m},{}", cell(*v));
            }
        }
    }
    out.into_bytes()
}

/// Render timeseries_long.csv: `design,period,series,stat,value`, the numbers of
/// timeseries.csv in long format (stat `mean`, `p05` or `p95`), one row per design x
/// period x series x stat, for tools that pivot themselves.
pub fn render_timeseries_long(r: &RunResults) -> Vec<u8> {
    let mut out = String::from("design,period,series,stat,value\n");
    for d in &r.designs {
        let name = text(&d.name);
        for (p, series) in d.periods.iter().enumerate() {
            for (m, b) in PERIOD_METRICS.iter().zip(series) {
                for (stat, v) in [("mean", b.mean), ("p05", b.p05), ("p95", b.p95)] {
                    let _ = writeln!(out, "{name},{},{m},{stat},{}", p + 1, cell(v));
                }
            }
        }
    }
    out.into_bytes()
}

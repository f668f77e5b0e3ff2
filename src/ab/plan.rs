//! `loyalsim ab plan`: how many visitors, and how many days, a test needs to detect a given
//! effect, and its power curve over sample size.
//!
//! Conversion uses the pooled-null / unpooled-alternative closed form of Fleiss, Levin &
//! Paik (2003, eq. 4.14, no continuity correction), the one behind statsmodels'
//! `NormalIndPower` with `proportion_effectsize` replaced by the exact variances, and the one
//! that gives 14,751 visitors per arm for 10% → 11% at α = 0.05, power 0.8. Revenue per
//! visitor uses the two-sample z approximation with a common standard deviation. Formulas
//! are in [`super::stats`].
//!
//! # JSON output (`--json`), stable keys
//!
//! `metric` ("conversion" | "revenue"), `formula`, `alpha`, `power`, `ratio`
//! (treatment/control visitors), `control_value` (baseline rate or mean), `treatment_value`,
//! `mde_absolute`, `mde_relative`, `sd` (revenue only, else null), `visitors_control`,
//! `visitors_treatment`, `visitors_total`, `visitors_per_day` (null if not given), `days`
//! (null without `--visitors-per-day`), `power_curve` [ { `visitors_control`,
//! `visitors_treatment`, `days` (null without visitors per day), `power` } ] at 10%, 20%, …,
//! 250% of the required sample.

use serde::Serialize;

use super::stats;
use crate::{Error, Result};

/// Which metric the test is planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanMetric {
    /// Conversion rate (needs `--baseline`).
    Conversion,
    /// Revenue per visitor (needs `--mean` and `--sd`).
    Revenue,
}

/// Inputs of a plan (validated by [`plan`]).
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Metric.
    pub metric: PlanMetric,
    /// Baseline conversion rate (conversion).
    pub baseline: Option<f64>,
    /// Baseline revenue per visitor (revenue).
    pub mean: Option<f64>,
    /// Standard deviation of revenue per visitor (revenue).
    pub sd: Option<f64>,
    /// Minimum detectable effect: absolute, or relative with `relative`.
    pub mde: f64,
    /// `mde` is relative to the baseline (0.1 = +10%).
    pub relative: bool,
    /// Two-sided significance level.
    pub alpha: f64,
    /// Power, 1 − β.
    pub power: f64,
    /// Treatment visitors per control visitor.
    pub ratio: f64,
    /// Visitors entering the test per day (both arms together).
    pub visitors_per_day: Option<f64>,
}

/// One point of the power curve.
#[derive(Debug, Clone, Serialize)]
pub struct PowerPoint {
    /// Control visitors.
    pub visitors_control: u64,
    /// Treatment visitors.
    pub visitors_treatment: u64,
    /// Days to collect them (null without visitors per day).
    pub days: Option<f64>,
    /// Power at this sample size.
    pub power: f64,
}

/// A sample-size plan (keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Metric planned for.
    pub metric: PlanMetric,
    /// The formula used, in words.
    pub formula: &'static str,
    /// Significance level.
    pub alpha: f64,
    /// Target power.
    pub power: f64,
    /// Treatment/control ratio.
    pub ratio: f64,
    /// Baseline rate or mean.
    pub control_value: f64,
    /// Rate or mean under the alternative.
    pub treatment_value: f64,
    /// treatment_value − control_value.
    pub mde_absolute: f64,
    /// treatment_value / control_value − 1.
    pub mde_relative: f64,
    /// Standard deviation (revenue only).
    pub sd: Option<f64>,
    /// Required control visitors.
    pub visitors_control: u64,
    /// Required treatment visitors.
    pub visitors_treatment: u64,
    /// Both arms.
    pub visitors_total: u64,
    /// Traffic per day, when given.
    pub visitors_per_day: Option<f64>,
    /// Days needed, when traffic is given.
    pub days: Option<u64>,
    /// Power over sample size.
    pub power_curve: Vec<PowerPoint>,
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

fn open01(name: &str, x: f64) -> Result<f64> {
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(usage(format!("{name} must be in (0, 1), got {x}")))
    }
}

/// Compute a plan.
pub fn plan(o: &PlanOptions) -> Result<Plan> {
    let alpha = open01("--alpha", o.alpha)?;
    let power = open01("--power", o.power)?;
    if !(o.ratio > 0.0 && o.ratio.is_finite()) {
        return Err(usage(format!("--ratio must be > 0, got {}", o.ratio)));
    }
    if !(o.mde.is_finite() && o.mde != 0.0) {
        return Err(usage(format!(
            "--mde must be a non-zero number, got {}",
            o.mde
        )));
    }
    if let Some(v) = o.visitors_per_day {
        if !(v > 0.0 && v.is_finite()) {
            return Err(usage(format!("--visitors-per-day must be > 0, got {v}")));
        }
    }
    let k = o.ratio;
    let (c, t, sd, n_raw, formula): (f64, f64, Option<f64>, f64, &'static str) = match o.metric {
        PlanMetric::Conversion => {
            let base = o
                .baseline
                .ok_or_else(|| usage("--baseline is required for --metric conversion".into()))?;
            let c = open01("--baseline", base)?;
            let t = if o.relative {
                c * (1.0 + o.mde)
            } else {
                c + o.mde
            };
            if !(t > 0.0 && t < 1.0) {
                return Err(usage(format!(
                    "the target rate ({t}) from --baseline {c} and --mde {}{} must be in (0, 1)",
                    o.mde,
                    if o.relative { " (relative)" } else { "" }
                )));
            }
            let n = stats::sample_size_proportions(c, t, alpha, power, k);
            (
                c,
                t,
                None,
                n,
                "two-sided pooled z-test; n_control = [z(1-alpha/2) sqrt(pbar qbar (1+1/k)) + \
                 z(power) sqrt(p_c q_c + p_t q_t / k)]^2 / (p_t - p_c)^2, pbar = (p_c + k p_t)/(1+k) \
                 (Fleiss, Levin & Paik 2003, eq. 4.14, no continuity correction)",
            )
        }
        PlanMetric::Revenue => {
            let mean = o
                .mean
                .ok_or_else(|| usage("--mean is required for --metric revenue".into()))?;
            let sd =
                o.sd.ok_or_else(|| usage("--sd is required for --metric revenue".into()))?;
            if !(mean.is_finite() && mean >= 0.0) {
                return Err(usage(format!("--mean must be >= 0, got {mean}")));
            }
            if !(sd > 0.0 && sd.is_finite()) {
                return Err(usage(format!("--sd must be > 0, got {sd}")));
            }
            if o.relative && mean == 0.0 {
                return Err(usage(
                    "--relative needs --mean > 0 (a lift relative to 0 is undefined)".into(),
                ));
            }
            let t = if o.relative {
                mean * (1.0 + o.mde)
            } else {
                mean + o.mde
            };
            let n = stats::sample_size_means(sd, t - mean, alpha, power, k);
            (
                mean,
                t,
                Some(sd),
                n,
                "two-sided two-sample z approximation with a common sd; n_control = \
                 (z(1-alpha/2) + z(power))^2 sd^2 (1 + 1/k) / delta^2",
            )
        }
    };
    // Beyond 2^53 visitors counts stop being exact and the total would wrap (issue 12):
    // such an effect is too small to detect with any real traffic.
    let needed = n_raw * (1.0 + k);
    if !(needed.is_finite() && needed <= super::input::MAX_VISITORS as f64) {
        return Err(usage(format!(
            "the test would need more than 2^53 visitors ({needed:.3e}): the effect --mde {:e} is \
             too small to detect; plan for a larger one",
            o.mde
        )));
    }
    let n_c = n_raw.ceil() as u64;
    let n_t = (k * n_raw).ceil() as u64;
    let per_day = o.visitors_per_day;
    let days = per_day.map(|v| ((n_c + n_t) as f64 / v).ceil() as u64);
    let power_at = |nc: f64| match o.metric {
        PlanMetric::Conversion => stats::power_proportions(c, t, nc, alpha, k),
        PlanMetric::Revenue => stats::power_means(sd.unwrap_or(1.0), t - c, nc, alpha, k),
    };
    let power_curve = (1..=25)
        .map(|i| {
            let nc = (n_raw * i as f64 / 10.0).ceil().max(1.0);
            let nt = (k * nc).ceil();
            PowerPoint {
                visitors_control: nc as u64,
                visitors_treatment: nt as u64,
                days: per_day.map(|v| (nc + nt) / v),
                power: power_at(nc),
            }
        })
        .collect();
    Ok(Plan {
        metric: o.metric,
        formula,
        alpha,
        power,
        ratio: k,
        control_value: c,
        treatment_value: t,
        mde_absolute: t - c,
        mde_relative: if c != 0.0 { t / c - 1.0 } else { 0.0 },
        sd,
        visitors_control: n_c,
        visitors_treatment: n_t,
        visitors_total: n_c + n_t,
        visitors_per_day: per_day,
        days,
        power_curve,
    })
}

/// Render a plan as plain text.
pub fn render_text(p: &Plan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let what = match p.metric {
        PlanMetric::Conversion => format!(
            "conversion {:.4}% -> {:.4}% ({:+.4} pp, {:+.2}% relative)",
            100.0 * p.control_value,
            100.0 * p.treatment_value,
            100.0 * p.mde_absolute,
            100.0 * p.mde_relative
        ),
        PlanMetric::Revenue => format!(
            "revenue per visitor {:.4} -> {:.4} ({:+.4}, {:+.2}% relative), sd {:.4}",
            p.control_value,
            p.treatment_value,
            p.mde_absolute,
            100.0 * p.mde_relative,
            p.sd.unwrap_or(0.0)
        ),
    };
    let _ = writeln!(s, "A/B test plan: {what}");
    let _ = writeln!(
        s,
        "alpha {} (two-sided), power {}, treatment/control ratio {}",
        p.alpha, p.power, p.ratio
    );
    let _ = writeln!(s, "formula: {}\n", p.formula);
    let _ = writeln!(
        s,
        "visitors: {} control + {} treatment = {} total",
        p.visitors_control, p.visitors_treatment, p.visitors_total
    );
    if let (Some(d), Some(v)) = (p.days, p.visitors_per_day) {
        let _ = writeln!(s, "days needed at {v} visitors/day: {d}");
    }
    let _ = writeln!(s, "\npower curve:");
    let _ = writeln!(
        s,
        "  {:>12}  {:>12}  {:>8}  power",
        "control", "treatment", "days"
    );
    for pt in &p.power_curve {
        let _ = writeln!(
            s,
            "  {:>12}  {:>12}  {:>8}  {:.3}",
            pt.visitors_control,
            pt.visitors_treatment,
            pt.days
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "-".into()),
            pt.power
        );
    }
    s
}

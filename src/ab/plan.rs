//! `loyalsim ab plan`: how many visitors, and how many days, a test needs to detect a given
//! effect, and its power curve over sample size; or, given the traffic and duration, the
//! minimum detectable effect (MDE).
//!
//! Conversion uses the pooled-null / unpooled-alternative closed form of Fleiss, Levin &
//! Paik (2003, eq. 4.14, no continuity correction), the one behind statsmodels'
//! `samplesize_proportions_2indep_onetail`, and the one that gives 14,751 visitors per arm
//! for 10% → 11% at α = 0.05, power 0.8. Revenue per visitor uses the two-sample z
//! approximation with a common standard deviation (statsmodels' `NormalIndPower`). Formulas
//! are in [`super::stats`].
//!
//! Issue 16 additions, all closed form:
//! - **several arms** (`--arms N`, the control and N − 1 treatments): each treatment is
//!   compared with the control at the Bonferroni level α / (N − 1), the bound that holds
//!   for any correlation between the comparisons (Holm, which `ab analyze` applies, is never
//!   less powerful, so the plan is conservative);
//! - **one-sided** tests (`--one-sided`): z_{1−α} instead of z_{1−α/2}, one rejection tail;
//! - **CUPED** (`--cuped-correlation ρ`): regression on a pre-period covariate correlated ρ
//!   with the metric leaves the share 1 − ρ² of the variance (Deng et al. 2013), so every
//!   sample size is multiplied by 1 − ρ²;
//! - **MDE** from `--visitors N` (all arms), `--days D` or `--weeks W` with
//!   `--visitors-per-day`: the effect whose required sample is exactly the one available,
//!   solved by bisection for conversion and in closed form for revenue;
//! - **whole weeks**: the duration is rounded up to full weeks, because conversion and
//!   order value vary by weekday; a test that stops mid-week over-weights some days.
//!
//! # JSON output (`--json`), stable keys
//!
//! `metric` ("conversion" | "revenue"), `formula`, `alpha`, `power`, `ratio`
//! (treatment/control visitors), `control_value` (baseline rate or mean), `treatment_value`,
//! `mde_absolute`, `mde_relative`, `sd` (revenue only, else null), `visitors_control`,
//! `visitors_treatment` (per treatment arm), `visitors_total` (all arms), `visitors_per_day`
//! (null if not given), `days` (null without `--visitors-per-day`), `power_curve` [ {
//! `visitors_control`, `visitors_treatment`, `days` (null without visitors per day),
//! `power` } ] at 10%, 20%, …, 250% of the required sample.
//!
//! Added by issue 16: `solved_for` ("sample_size" | "mde"), `arms`, `alternative`
//! ("two-sided" | "one-sided"), `correction` ("none" | "bonferroni"),
//! `alpha_per_comparison`, `cuped_correlation` (null without), `variance_factor` (1 − ρ²),
//! `weeks`, `days_whole_weeks`, `visitors_whole_weeks`, `power_whole_weeks` (nulls without
//! visitors per day), `notes` [strings].

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
    /// Minimum detectable effect: absolute, or relative with `relative`; `None` solves for
    /// it from `visitors`, `days` or `weeks`.
    pub mde: Option<f64>,
    /// `mde` is relative to the baseline (0.1 = +10%).
    pub relative: bool,
    /// Significance level (family-wise over the treatments).
    pub alpha: f64,
    /// Power, 1 − β.
    pub power: f64,
    /// Treatment visitors per control visitor (each treatment arm).
    pub ratio: f64,
    /// Visitors entering the test per day (all arms together).
    pub visitors_per_day: Option<f64>,
    /// Arms including the control (2 for a plain A/B test).
    pub arms: u32,
    /// One-sided test (the treatment is only looked at for being better).
    pub one_sided: bool,
    /// Correlation of the metric with a pre-period covariate used by CUPED.
    pub cuped_correlation: Option<f64>,
    /// Visitors available (all arms), to solve for the MDE.
    pub visitors: Option<f64>,
    /// Days available, to solve for the MDE (rounded up to whole weeks).
    pub days: Option<u32>,
    /// Weeks available, to solve for the MDE.
    pub weeks: Option<u32>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            metric: PlanMetric::Conversion,
            baseline: None,
            mean: None,
            sd: None,
            mde: None,
            relative: false,
            alpha: 0.05,
            power: 0.8,
            ratio: 1.0,
            visitors_per_day: None,
            arms: 2,
            one_sided: false,
            cuped_correlation: None,
            visitors: None,
            days: None,
            weeks: None,
        }
    }
}

/// One point of the power curve.
#[derive(Debug, Clone, Serialize)]
pub struct PowerPoint {
    /// Control visitors.
    pub visitors_control: u64,
    /// Treatment visitors (each treatment arm).
    pub visitors_treatment: u64,
    /// Days to collect them (null without visitors per day).
    pub days: Option<f64>,
    /// Power at this sample size.
    pub power: f64,
}

/// A sample-size or MDE plan (keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Metric planned for.
    pub metric: PlanMetric,
    /// The formula used, in words.
    pub formula: &'static str,
    /// Significance level (family-wise).
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
    /// Required (or available) control visitors.
    pub visitors_control: u64,
    /// Required (or available) visitors of each treatment arm.
    pub visitors_treatment: u64,
    /// All arms.
    pub visitors_total: u64,
    /// Traffic per day, when given.
    pub visitors_per_day: Option<f64>,
    /// Days needed, when traffic is given.
    pub days: Option<u64>,
    /// Power over sample size.
    pub power_curve: Vec<PowerPoint>,
    /// "sample_size" (from `--mde`) or "mde" (from the sample).
    pub solved_for: &'static str,
    /// Arms including the control.
    pub arms: u32,
    /// "two-sided" or "one-sided".
    pub alternative: &'static str,
    /// "none" (one treatment) or "bonferroni".
    pub correction: &'static str,
    /// Level each treatment-vs-control comparison is tested at.
    pub alpha_per_comparison: f64,
    /// CUPED pre-period correlation, when given.
    pub cuped_correlation: Option<f64>,
    /// 1 − ρ²: the share of the variance CUPED leaves.
    pub variance_factor: f64,
    /// Whole weeks the test runs.
    pub weeks: Option<u64>,
    /// 7 × weeks.
    pub days_whole_weeks: Option<u64>,
    /// Expected visitors (all arms) in the whole weeks.
    pub visitors_whole_weeks: Option<f64>,
    /// Power at the MDE with the whole weeks' visitors.
    pub power_whole_weeks: Option<f64>,
    /// What was assumed or rounded, in words.
    pub notes: Vec<String>,
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

/// The test as planned: its level per comparison, sidedness, variance factor and ratio.
#[derive(Debug, Clone, Copy)]
pub struct TestShape {
    /// Level of each comparison.
    pub alpha: f64,
    /// One rejection tail.
    pub one_sided: bool,
    /// Variance multiplier (1 − ρ² with CUPED).
    pub variance_factor: f64,
    /// Treatment/control visitors.
    pub ratio: f64,
}

impl TestShape {
    /// Critical value z_{1−α} (one-sided) or z_{1−α/2}.
    fn z_alpha(&self) -> f64 {
        stats::normal_quantile(
            1.0 - if self.one_sided {
                self.alpha
            } else {
                self.alpha / 2.0
            },
        )
    }

    /// Null and alternative standard deviations of one control visitor's share of the
    /// difference, so that SE = s / √n_c.
    fn spreads(&self, metric: PlanMetric, c: f64, t: f64, sd: f64) -> (f64, f64) {
        let k = self.ratio;
        let f = self.variance_factor.sqrt();
        match metric {
            PlanMetric::Conversion => {
                let pbar = (c + k * t) / (1.0 + k);
                (
                    f * (pbar * (1.0 - pbar) * (1.0 + 1.0 / k)).sqrt(),
                    f * (c * (1.0 - c) + t * (1.0 - t) / k).sqrt(),
                )
            }
            PlanMetric::Revenue => {
                let s = f * sd * (1.0 + 1.0 / k).sqrt();
                (s, s)
            }
        }
    }

    /// Control visitors (unrounded) for power `power` at c → t.
    pub fn sample_size(&self, metric: PlanMetric, c: f64, t: f64, sd: f64, power: f64) -> f64 {
        let (s0, s1) = self.spreads(metric, c, t, sd);
        let zb = stats::normal_quantile(power);
        ((self.z_alpha() * s0 + zb * s1) / (t - c)).powi(2)
    }

    /// Power with `n_c` control visitors at c → t (both tails for a two-sided test).
    pub fn power(&self, metric: PlanMetric, c: f64, t: f64, sd: f64, n_c: f64) -> f64 {
        let (s0, s1) = self.spreads(metric, c, t, sd);
        let za = self.z_alpha();
        let d = (t - c).abs() * n_c.sqrt();
        let upper = stats::normal_cdf((d - za * s0) / s1);
        if self.one_sided {
            upper
        } else {
            upper + stats::normal_cdf((-d - za * s0) / s1)
        }
    }
}

/// The baseline, standard deviation and formula text of the metric.
fn baseline(o: &PlanOptions) -> Result<(f64, f64, &'static str)> {
    match o.metric {
        PlanMetric::Conversion => {
            let base = o
                .baseline
                .ok_or_else(|| usage("--baseline is required for --metric conversion".into()))?;
            Ok((
                open01("--baseline", base)?,
                0.0,
                "pooled z-test; n_control = [z_a sqrt(pbar qbar (1+1/k)) + z(power) \
                 sqrt(p_c q_c + p_t q_t / k)]^2 (1 - rho^2) / (p_t - p_c)^2, pbar = (p_c + k \
                 p_t)/(1+k), z_a = z(1 - alpha/m/2) or z(1 - alpha/m) one-sided, m = arms - 1 \
                 (Fleiss, Levin & Paik 2003, eq. 4.14, no continuity correction; Bonferroni; \
                 CUPED factor 1 - rho^2)",
            ))
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
            Ok((
                mean,
                sd,
                "two-sample z approximation with a common sd; n_control = (z_a + z(power))^2 \
                 sd^2 (1 + 1/k) (1 - rho^2) / delta^2, z_a = z(1 - alpha/m/2) or z(1 - alpha/m) \
                 one-sided, m = arms - 1 (Bonferroni; CUPED factor 1 - rho^2)",
            ))
        }
    }
}

fn check_inputs(o: &PlanOptions) -> Result<()> {
    open01("--alpha", o.alpha)?;
    open01("--power", o.power)?;
    if !(o.ratio > 0.0 && o.ratio.is_finite()) {
        return Err(usage(format!("--ratio must be > 0, got {}", o.ratio)));
    }
    if !(2..=100).contains(&o.arms) {
        return Err(usage(format!(
            "--arms counts the control and the treatments: 2 to 100, got {}",
            o.arms
        )));
    }
    if let Some(r) = o.cuped_correlation {
        if !(r.is_finite() && r.abs() < 1.0) {
            return Err(usage(format!(
                "--cuped-correlation must be in (-1, 1), got {r}"
            )));
        }
    }
    if let Some(v) = o.visitors_per_day {
        if !(v > 0.0 && v.is_finite()) {
            return Err(usage(format!("--visitors-per-day must be > 0, got {v}")));
        }
    }
    let given = [
        o.mde.is_some(),
        o.visitors.is_some(),
        o.days.is_some(),
        o.weeks.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() != 1 {
        return Err(usage(
            "give exactly one of --mde (to get the sample size) or --visitors, --days, \
             --weeks (to get the minimum detectable effect)"
                .into(),
        ));
    }
    if (o.days.is_some() || o.weeks.is_some()) && o.visitors_per_day.is_none() {
        return Err(usage(
            "--days and --weeks need --visitors-per-day to know the sample".into(),
        ));
    }
    Ok(())
}

/// The rate or mean under the alternative for an effect `mde` (absolute or relative).
fn target(o: &PlanOptions, c: f64, mde: f64) -> Result<f64> {
    if !(mde.is_finite() && mde != 0.0) {
        return Err(usage(format!("--mde must be a non-zero number, got {mde}")));
    }
    let t = if o.relative { c * (1.0 + mde) } else { c + mde };
    if o.metric == PlanMetric::Conversion && !(t > 0.0 && t < 1.0) {
        return Err(usage(format!(
            "the target rate ({t}) from --baseline {c} and --mde {mde}{} must be in (0, 1)",
            if o.relative { " (relative)" } else { "" }
        )));
    }
    Ok(t)
}

/// The upward effect detectable with `n_c` control visitors: closed form for revenue,
/// bisection on the rate for conversion (the required sample falls as the rate rises).
fn solve_mde(shape: &TestShape, o: &PlanOptions, c: f64, sd: f64, n_c: f64) -> Result<f64> {
    match o.metric {
        PlanMetric::Revenue => {
            let (s, _) = shape.spreads(o.metric, c, c, sd);
            Ok(c + (shape.z_alpha() + stats::normal_quantile(o.power)) * s / n_c.sqrt())
        }
        PlanMetric::Conversion => {
            let need = |t: f64| shape.sample_size(o.metric, c, t, sd, o.power);
            let (mut lo, mut hi) = (c, 1.0 - 1e-12);
            if need(hi) > n_c {
                return Err(usage(format!(
                    "{n_c:.0} control visitors cannot detect any rise from {c}: even a rate of \
                     100% would need {:.0}; plan for more traffic",
                    need(hi)
                )));
            }
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if need(mid) > n_c {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            Ok(hi)
        }
    }
}

/// Compute a plan.
pub fn plan(o: &PlanOptions) -> Result<Plan> {
    check_inputs(o)?;
    let (c, sd, formula) = baseline(o)?;
    let k = o.ratio;
    let comparisons = o.arms - 1;
    let variance_factor = 1.0 - o.cuped_correlation.map_or(0.0, |r| r * r);
    let shape = TestShape {
        alpha: o.alpha / f64::from(comparisons),
        one_sided: o.one_sided,
        variance_factor,
        ratio: k,
    };
    // Control visitors per visitor of the test: n_total = n_c (1 + (arms − 1) k).
    let per_control = 1.0 + f64::from(comparisons) * k;
    let mut notes = Vec::new();
    let (t, n_raw, solved_for) = match o.mde {
        Some(mde) => {
            let t = target(o, c, mde)?;
            (
                t,
                shape.sample_size(o.metric, c, t, sd, o.power),
                "sample_size",
            )
        }
        None => {
            let total = match (o.visitors, o.days, o.weeks, o.visitors_per_day) {
                (Some(v), ..) => v,
                (None, Some(d), None, Some(v)) => {
                    let w = u64::from(d).div_ceil(7);
                    if u64::from(d) % 7 != 0 {
                        notes.push(format!(
                            "--days {d} rounded up to {w} whole weeks ({} days): conversion \
                             and order value differ by weekday, so a test covers each weekday \
                             equally",
                            7 * w
                        ));
                    }
                    v * 7.0 * w as f64
                }
                (None, None, Some(w), Some(v)) => v * 7.0 * f64::from(w),
                _ => unreachable!("check_inputs allows one source of the sample"),
            };
            if !(total.is_finite() && total >= 2.0) {
                return Err(usage(format!("--visitors must be at least 2, got {total}")));
            }
            let n_c = total / per_control;
            (c, n_c, "mde")
        }
    };
    let t = if solved_for == "mde" {
        solve_mde(&shape, o, c, sd, n_raw)?
    } else {
        t
    };
    finish(
        o,
        &shape,
        c,
        t,
        sd,
        n_raw,
        per_control,
        formula,
        solved_for,
        notes,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    o: &PlanOptions,
    shape: &TestShape,
    c: f64,
    t: f64,
    sd: f64,
    n_raw: f64,
    per_control: f64,
    formula: &'static str,
    solved_for: &'static str,
    mut notes: Vec<String>,
) -> Result<Plan> {
    let k = o.ratio;
    let treatments = u64::from(o.arms - 1);
    // Beyond 2^53 visitors counts stop being exact and the total would wrap (issue 12):
    // such an effect is too small to detect with any real traffic.
    let needed = n_raw * per_control;
    if !(needed.is_finite() && needed <= super::input::MAX_VISITORS as f64) {
        return Err(usage(format!(
            "the test would need more than 2^53 visitors ({needed:.3e}): the effect --mde {:e} is \
             too small to detect; plan for a larger one",
            o.mde.unwrap_or(t - c)
        )));
    }
    let n_c = n_raw.ceil() as u64;
    let n_t = (k * n_raw).ceil() as u64;
    let total = n_c + treatments * n_t;
    let per_day = o.visitors_per_day;
    let days = per_day.map(|v| (total as f64 / v).ceil() as u64);
    let weeks = match (o.weeks, days) {
        (Some(w), _) => Some(u64::from(w)),
        (None, Some(d)) => Some(d.div_ceil(7).max(1)),
        _ => None,
    };
    let visitors_whole_weeks = weeks.zip(per_day).map(|(w, v)| v * 7.0 * w as f64);
    let power_whole_weeks =
        visitors_whole_weeks.map(|v| shape.power(o.metric, c, t, sd, v / per_control));
    if solved_for == "sample_size" && days.is_some_and(|d| d % 7 != 0) {
        notes.push(format!(
            "run {} whole weeks ({} days), not {} days: conversion and order value differ by \
             weekday, so a test covers each weekday equally; the extra days raise the power \
             to {:.3}",
            weeks.unwrap_or(0),
            7 * weeks.unwrap_or(0),
            days.unwrap_or(0),
            power_whole_weeks.unwrap_or(f64::NAN)
        ));
    }
    if o.arms > 2 {
        notes.push(format!(
            "{treatments} treatments each compared with the control at alpha/{treatments} = {} \
             (Bonferroni, valid for any correlation between the comparisons)",
            shape.alpha
        ));
    }
    let power_curve = (1..=25)
        .map(|i| {
            let nc = (n_raw * i as f64 / 10.0).ceil().max(1.0);
            let nt = (k * nc).ceil();
            PowerPoint {
                visitors_control: nc as u64,
                visitors_treatment: nt as u64,
                days: per_day.map(|v| (nc + treatments as f64 * nt) / v),
                power: shape.power(o.metric, c, t, sd, nc),
            }
        })
        .collect();
    Ok(Plan {
        metric: o.metric,
        formula,
        alpha: o.alpha,
        power: o.power,
        ratio: k,
        control_value: c,
        treatment_value: t,
        mde_absolute: t - c,
        mde_relative: if c != 0.0 { t / c - 1.0 } else { 0.0 },
        sd: (o.metric == PlanMetric::Revenue).then_some(sd),
        visitors_control: n_c,
        visitors_treatment: n_t,
        visitors_total: total,
        visitors_per_day: per_day,
        days,
        power_curve,
        solved_for,
        arms: o.arms,
        alternative: if o.one_sided {
            "one-sided"
        } else {
            "two-sided"
        },
        correction: if o.arms > 2 { "bonferroni" } else { "none" },
        alpha_per_comparison: shape.alpha,
        cuped_correlation: o.cuped_correlation,
        variance_factor: shape.variance_factor,
        weeks,
        days_whole_weeks: weeks.map(|w| 7 * w),
        visitors_whole_weeks,
        power_whole_weeks,
        notes,
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
    let head = if p.solved_for == "mde" {
        "A/B test plan, minimum detectable effect"
    } else {
        "A/B test plan"
    };
    let _ = writeln!(s, "{head}: {what}");
    let _ = writeln!(
        s,
        "alpha {} ({}; {} per comparison, {} arm(s) incl. control, correction {}), power {}, treatment/control ratio {}",
        p.alpha, p.alternative, p.alpha_per_comparison, p.arms, p.correction, p.power, p.ratio
    );
    if let Some(r) = p.cuped_correlation {
        let _ = writeln!(
            s,
            "CUPED: pre-period correlation {r}, variance x {:.4}",
            p.variance_factor
        );
    }
    let _ = writeln!(s, "formula: {}\n", p.formula);
    let _ = writeln!(
        s,
        "visitors: {} control + {} per treatment arm = {} total",
        p.visitors_control, p.visitors_treatment, p.visitors_total
    );
    if let (Some(d), Some(v)) = (p.days, p.visitors_per_day) {
        let _ = writeln!(s, "days needed at {v} visitors/day: {d}");
    }
    if let (Some(w), Some(pw)) = (p.weeks, p.power_whole_weeks) {
        let _ = writeln!(s, "whole weeks: {w} ({} days), power {pw:.3}", 7 * w);
    }
    for n in &p.notes {
        let _ = writeln!(s, "note: {n}");
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

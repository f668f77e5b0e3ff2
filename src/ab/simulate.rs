//! `loyalsim ab simulate`: Monte Carlo of a whole A/B test, to learn what it can and cannot
//! see before running it.
//!
//! Each simulated experiment runs the test twice on fresh traffic: once with the variant's
//! effect (A/B: power, estimated lift, winner's curse) and once with no effect at all (A/A:
//! false-positive rate). Both runs are read three ways at once, so one simulation compares
//! them on the same data: a fixed-horizon test on the last day, an analyst who peeks every
//! `look_every_days` and stops at the first p < alpha, and an mSPRT that stops when its
//! always-valid likelihood ratio reaches 1/alpha (Johari et al. 2022; formulas in
//! [`super::stats`]).
//!
//! Traffic, day by day: visitors ~ Poisson(visitors_per_day) (or fixed); arm ~
//! Binomial(visitors, treatment_share) (or an exact split); segment counts by sequential
//! binomials (a multinomial); conversions ~ Binomial(n, p) with the treatment's p multiplied
//! by 1 + conversion_lift + novelty_lift·0.5^(day/half-life); for revenue, each order's value
//! ~ Gamma with the segment's mean and sd (order_value_lift scales both).
//!
//! Determinism is a contract: experiment i draws from its own
//! `Xoshiro256PlusPlus` stream keyed by (seed, i, A/B or A/A); rayon maps experiments to
//! outcomes and collects them in index order, and every sum is then taken sequentially in
//! that order. The report is therefore byte-identical for any `--threads`.
//!
//! Each Monte Carlo figure carries its standard error: √(p̂(1−p̂)/R) for rates, s/√n for
//! means, and for quantiles half the width of the distribution-free 95% order-statistic
//! interval divided by 1.96.
//!
//! # JSON output (`ab_simulation.json`), stable keys
//!
//! - `experiment` (name), `seed`, `experiments`, `design` (the validated experiment file);
//! - `true_lift`: `control_value`, `treatment_value_window`, `relative_window` (the average
//!   lift over the planned days, what the test estimates), `relative_long_run` (without
//!   novelty), `absolute_window`;
//! - `plan`: `expected_visitors_control`, `expected_visitors_treatment`, `analytic_power`
//!   (closed form at the true window lift; null for a zero lift), `visitors_control_for_80_power`,
//!   `days_for_80_power` (nulls with `undefined` reasons when the lift is 0);
//! - `primary`: the configured method's `method`, `power`, `aa_false_positive_rate`,
//!   `exaggeration_ratio`, `expected_duration_days`;
//! - `methods`: `fixed_horizon`, `peeking`, `sequential`, each { `power`,
//!   `aa_false_positive_rate`, `expected_duration_days`, `aa_expected_duration_days`,
//!   `exaggeration_ratio` (vs the true window lift), `exaggeration_vs_long_run` (vs the lift
//!   once novelty fades), `type_s_rate`, `significant_results`, `undefined` };
//! - `lift_distribution` (primary method's estimate of the relative lift): `estimates`,
//!   `undefined_estimates`, `mean`, `sd`, `quantiles` [ {`q`, `value`, `se`} ],
//!   `histogram` {`bin_edges`, `counts`, `significant_counts`};
//! - `power_by_day` [ {`day`, `fixed_horizon`, `sequential`} ]: power of a fixed test run on
//!   that day, and the share of mSPRT rejections by that day;
//! - `fpr_by_looks` [ {`looks`, `peeking`, `sequential`} ]: A/A false-positive rate with that
//!   many evenly spaced looks;
//! - `long_run`: null, or {`scenario`, `design`, `enrolment_lift`, `months`, `replicates`,
//!   `members` [without, with the lift], `incremental_profit` and `incremental_profit_se`
//!   (net profit over `months` of the design with enrolment x (1 + lift) minus the design
//!   as it is, paired across the scenario's replicates), `incremental_revenue`,
//!   `undefined`}.
//!
//! Every Monte Carlo figure is an object {`value`, `se`}; a figure undefined for the
//! simulation (no significant result, a zero true lift) is `null` with its reason under the
//! nearest `undefined` map.

use std::collections::BTreeMap;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Gamma, Poisson};
use rayon::prelude::*;
use serde::Serialize;

use super::decision;
use super::experiment::{Assignment, DailyVariation, Experiment, Method, Metric};
use super::stats::{self, Moments};
use crate::stats::summarize;
use crate::{Error, Result};

/// Run-time overrides of the experiment file.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Replaces the file's seed.
    pub seed: Option<u64>,
    /// Replaces the file's number of experiments.
    pub experiments: Option<u64>,
    /// Worker threads (None = rayon's default). Never changes the results.
    pub threads: Option<usize>,
}

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stream 0 drives the A/B run of an experiment, stream 1 its A/A run.
pub const STREAM_AB: u64 = 0;
/// See [`STREAM_AB`].
pub const STREAM_AA: u64 = 1;
/// Stream 2 drives the decision run (issue 16): the effect scale, then fresh traffic.
pub const STREAM_DECISION: u64 = 2;

/// The generator of experiment `index`'s `stream` under master `seed`. Depends on nothing
/// else (not the thread, not the chunk).
pub fn rng_for(seed: u64, index: u64, stream: u64) -> Xoshiro256PlusPlus {
    let key = splitmix(splitmix(splitmix(seed) ^ index) ^ stream);
    Xoshiro256PlusPlus::seed_from_u64(key)
}

/// Cumulative counts of one arm.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ArmTally {
    /// Visitors so far.
    pub visitors: u64,
    /// Conversions so far.
    pub conversions: u64,
    /// Revenue so far (revenue metric only; 0 otherwise).
    pub revenue: f64,
    /// Sum of squared order values (revenue metric only).
    pub revenue_squares: f64,
}

/// Simulate one run of the test; element `d` holds the cumulative [control, treatment]
/// tallies at the end of day `d` (0-based). `with_effect = false` gives the A/A run.
pub fn simulate_run<R: Rng + ?Sized>(
    exp: &Experiment,
    with_effect: bool,
    rng: &mut R,
) -> Vec<[ArmTally; 2]> {
    let mut cum = [ArmTally::default(); 2];
    let mut out = Vec::with_capacity(exp.days as usize);
    let poisson = Poisson::new(exp.visitors_per_day).ok();
    let draw_revenue = exp.analysis.metric == Metric::RevenuePerVisitor;
    // Order-value distributions per (arm, segment): Gamma with the given mean and sd
    // (shape = mean²/sd², scale = sd²/mean); None means every order is worth the mean.
    let order_dists: Vec<[(f64, Option<Gamma<f64>>); 2]> = exp
        .segments
        .iter()
        .map(|s| {
            let mk = |scale_by: f64| {
                let (m, sd) = (s.order_value_mean * scale_by, s.order_value_sd * scale_by);
                let g = (sd > 0.0)
                    .then(|| Gamma::new(m * m / (sd * sd), sd * sd / m).ok())
                    .flatten();
                (m, g)
            };
            let lift = if with_effect {
                1.0 + s.effect.order_value_lift
            } else {
                1.0
            };
            [mk(1.0), mk(lift)]
        })
        .collect();
    for day in 0..exp.days {
        let total = match (exp.daily_variation, &poisson) {
            (DailyVariation::Poisson, Some(p)) => p.sample(rng) as u64,
            _ => exp.visitors_per_day.round() as u64,
        };
        let n_t = match exp.assignment {
            Assignment::Random => binomial(rng, total, exp.treatment_share),
            Assignment::Exact => (total as f64 * exp.treatment_share).round() as u64,
        };
        let per_arm = [total - n_t, n_t];
        for arm in 0..2 {
            let mut remaining = per_arm[arm];
            let mut share_left = 1.0;
            let last = exp.segments.len() - 1;
            for (si, seg) in exp.segments.iter().enumerate() {
                let n = if si == last {
                    remaining
                } else {
                    let q = (seg.share / share_left).clamp(0.0, 1.0);
                    binomial(rng, remaining, q)
                };
                remaining -= n;
                share_left -= seg.share;
                let p = if arm == 1 && with_effect {
                    (seg.conversion * (1.0 + seg.effect.conversion_lift_on(day))).clamp(0.0, 1.0)
                } else {
                    seg.conversion
                };
                let x = binomial(rng, n, p);
                let t = &mut cum[arm];
                t.visitors += n;
                t.conversions += x;
                if draw_revenue && x > 0 {
                    let (mean, dist) = &order_dists[si][arm];
                    for _ in 0..x {
                        let v = match dist {
                            Some(g) => g.sample(rng),
                            None => *mean,
                        };
                        t.revenue += v;
                        t.revenue_squares += v * v;
                    }
                }
            }
        }
        out.push(cum);
    }
    out
}

fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    Binomial::new(n, p).map_or(0, |b| b.sample(rng))
}

/// What the analyst sees on one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Fixed-horizon test significant (p < alpha).
    pub significant: bool,
    /// mSPRT rejects (Λ ≥ 1/alpha).
    pub sequential_rejects: bool,
    /// Estimated relative lift, if defined.
    pub estimate: Option<f64>,
}

/// Evaluate the test on cumulative tallies (control, treatment). `tau2` is the mSPRT
/// mixing variance.
pub fn look(c: &ArmTally, t: &ArmTally, metric: Metric, alpha: f64, tau2: f64) -> Look {
    let ln_threshold = (1.0 / alpha).ln();
    match metric {
        Metric::Conversion => {
            let p = stats::pooled_z_test(c.conversions, c.visitors, t.conversions, t.visitors)
                .map(|r| r.p_value)
                .ok();
            let (ok_c, ok_t) = (c.visitors > 0, t.visitors > 0);
            let (pc, pt) = if ok_c && ok_t {
                (
                    c.conversions as f64 / c.visitors as f64,
                    t.conversions as f64 / t.visitors as f64,
                )
            } else {
                (0.0, 0.0)
            };
            let var = if ok_c && ok_t {
                stats::proportion_variance(c.conversions, c.visitors)
                    + stats::proportion_variance(t.conversions, t.visitors)
            } else {
                0.0
            };
            Look {
                significant: p.is_some_and(|p| p < alpha),
                sequential_rejects: var > 0.0
                    && stats::msprt_log_lambda(pt - pc, var, tau2) >= ln_threshold,
                estimate: (pc > 0.0).then(|| pt / pc - 1.0),
            }
        }
        Metric::RevenuePerVisitor => {
            let mc = Moments::from_sums(c.visitors, c.revenue, c.revenue_squares);
            let mt = Moments::from_sums(t.visitors, t.revenue, t.revenue_squares);
            let w = stats::welch_test(&mc, &mt, 0.95).ok();
            let var = if mc.n > 1 && mt.n > 1 {
                mc.variance_of_mean() + mt.variance_of_mean()
            } else {
                0.0
            };
            Look {
                significant: w.is_some_and(|w| w.p_value < alpha),
                sequential_rejects: var > 0.0
                    && stats::msprt_log_lambda(mt.mean - mc.mean, var, tau2) >= ln_threshold,
                estimate: (mc.mean > 0.0).then(|| mt.mean / mc.mean - 1.0),
            }
        }
    }
}

/// How one method read one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Declared a difference.
    pub significant: bool,
    /// Day the test stopped (1-based; the planned last day if it never stopped early).
    pub stop_day: u32,
    /// Relative-lift estimate at the stop.
    pub estimate: Option<f64>,
}

/// Everything kept from one run: per-day bits and each method's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Fixed-horizon test significant on day d (bit d, 0-based).
    pub significant_by_day: Vec<bool>,
    /// mSPRT rejects on day d.
    pub sequential_by_day: Vec<bool>,
    /// Decisions in [`Method::ALL`] order.
    pub decisions: [Decision; 3],
}

/// Days (0-based) on which the analyst looks: every `every` days and always the last.
pub fn look_days(days: u32, every: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (1..=days / every).map(|j| j * every - 1).collect();
    if v.last() != Some(&(days - 1)) {
        v.push(days - 1);
    }
    v
}

/// Read one run with all three methods.
pub fn read_run(exp: &Experiment, tallies: &[[ArmTally; 2]], tau2: f64) -> RunOutcome {
    let a = &exp.analysis;
    let looks: Vec<Look> = tallies
        .iter()
        .map(|[c, t]| look(c, t, a.metric, a.alpha, tau2))
        .collect();
    let last = exp.days - 1;
    let schedule = look_days(exp.days, a.look_every_days);
    let stop = |hit: &dyn Fn(&Look) -> bool| -> Decision {
        let d = schedule.iter().copied().find(|&d| hit(&looks[d as usize]));
        let day = d.unwrap_or(last);
        Decision {
            significant: d.is_some(),
            stop_day: day + 1,
            estimate: looks[day as usize].estimate,
        }
    };
    let fixed = Decision {
        significant: looks[last as usize].significant,
        stop_day: exp.days,
        estimate: looks[last as usize].estimate,
    };
    RunOutcome {
        significant_by_day: looks.iter().map(|l| l.significant).collect(),
        sequential_by_day: looks.iter().map(|l| l.sequential_rejects).collect(),
        decisions: [
            fixed,
            stop(&|l: &Look| l.significant),
            stop(&|l: &Look| l.sequential_rejects),
        ],
    }
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

/// A Monte Carlo figure and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    /// Estimate.
    pub value: f64,
    /// Monte Carlo standard error.
    pub se: f64,
}

impl Figure {
    /// A share and its binomial standard error.
    pub fn rate(hits: u64, n: u64) -> Option<Figure> {
        (n > 0).then(|| {
            let p = hits as f64 / n as f64;
            Figure {
                value: p,
                se: (p * (1.0 - p) / n as f64).sqrt(),
            }
        })
    }

    /// Mean and its standard error s/√n ([`crate::stats::summarize`]); se 0 for one value.
    pub fn mean(xs: &[f64]) -> Option<Figure> {
        let v: Vec<Option<f64>> = xs.iter().copied().map(Some).collect();
        let s = summarize(&v);
        s.mean.map(|m| Figure {
            value: m,
            se: s.sd.map_or(0.0, |sd| sd / (s.n as f64).sqrt()),
        })
    }
}

/// The true effect the simulation was given.
#[derive(Debug, Clone, Serialize)]
pub struct TrueLift {
    /// Control metric (conversion rate or revenue per visitor).
    pub control_value: f64,
    /// Treatment metric averaged over the planned days.
    pub treatment_value_window: f64,
    /// Relative lift averaged over the planned days (the estimand of the test).
    pub relative_window: Option<f64>,
    /// Relative lift once novelty has faded.
    pub relative_long_run: Option<f64>,
    /// Absolute difference averaged over the planned days.
    pub absolute_window: f64,
}

/// Closed-form cross-check of the simulated power.
#[derive(Debug, Clone, Serialize)]
pub struct PlanCheck {
    /// Expected control visitors over the planned days.
    pub expected_visitors_control: f64,
    /// Expected treatment visitors.
    pub expected_visitors_treatment: f64,
    /// Closed-form power at the true window lift.
    pub analytic_power: Option<f64>,
    /// Control visitors for 80% power at the true window lift.
    pub visitors_control_for_80_power: Option<u64>,
    /// Days for 80% power at the configured traffic.
    pub days_for_80_power: Option<u64>,
    /// Reasons for nulls.
    pub undefined: BTreeMap<String, String>,
}

/// Results of one analysis method over all simulated experiments.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    /// Share of A/B runs declared significant.
    pub power: Option<Figure>,
    /// Share of A/A runs declared significant.
    pub aa_false_positive_rate: Option<Figure>,
    /// Mean stopping day of A/B runs.
    pub expected_duration_days: Option<Figure>,
    /// Mean stopping day of A/A runs.
    pub aa_expected_duration_days: Option<Figure>,
    /// Mean of estimate / true window lift over significant A/B results (type M error,
    /// Gelman & Carlin 2014).
    pub exaggeration_ratio: Option<Figure>,
    /// Mean of estimate / true long-run lift (novelty faded) over significant A/B results:
    /// how much a shipped winner overstates what it will deliver for good.
    pub exaggeration_vs_long_run: Option<Figure>,
    /// Share of significant A/B results with the wrong sign (type S error).
    pub type_s_rate: Option<Figure>,
    /// Number of significant A/B results.
    pub significant_results: u64,
    /// Reasons for nulls.
    pub undefined: BTreeMap<String, String>,
}

/// The headline figures of the configured method.
#[derive(Debug, Clone, Serialize)]
pub struct Primary {
    /// Configured method.
    pub method: Method,
    /// Power.
    pub power: Option<Figure>,
    /// A/A false-positive rate.
    pub aa_false_positive_rate: Option<Figure>,
    /// Exaggeration ratio of significant results.
    pub exaggeration_ratio: Option<Figure>,
    /// Expected duration in days.
    pub expected_duration_days: Option<Figure>,
}

/// The three methods side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Methods {
    /// One test on the last planned day.
    pub fixed_horizon: MethodResult,
    /// Repeated fixed-horizon tests, stop at the first p < alpha.
    pub peeking: MethodResult,
    /// mSPRT.
    pub sequential: MethodResult,
}

/// A quantile with its Monte Carlo standard error.
#[derive(Debug, Clone, Serialize)]
pub struct Quantile {
    /// Probability level.
    pub q: f64,
    /// Value.
    pub value: f64,
    /// Standard error (from the order-statistic interval).
    pub se: f64,
}

/// Histogram of the estimated lift.
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// Bin edges (one more than bins).
    pub bin_edges: Vec<f64>,
    /// All estimates per bin.
    pub counts: Vec<u64>,
    /// Significant estimates per bin.
    pub significant_counts: Vec<u64>,
}

/// Distribution of the primary method's estimated relative lift over A/B runs.
#[derive(Debug, Clone, Serialize)]
pub struct LiftDistribution {
    /// Estimates (runs with a defined lift).
    pub estimates: u64,
    /// Runs whose lift was undefined (control metric 0).
    pub undefined_estimates: u64,
    /// Mean estimate.
    pub mean: Option<Figure>,
    /// Standard deviation of the estimates.
    pub sd: Option<f64>,
    /// Selected quantiles.
    pub quantiles: Vec<Quantile>,
    /// Histogram (40 bins).
    pub histogram: Histogram,
}

/// Power on one day.
#[derive(Debug, Clone, Serialize)]
pub struct DayPower {
    /// Day (1-based).
    pub day: u32,
    /// Power of a fixed-horizon test run on this day.
    pub fixed_horizon: Figure,
    /// Share of mSPRT rejections by this day.
    pub sequential: Figure,
}

/// A/A false-positive rate for a number of looks.
#[derive(Debug, Clone, Serialize)]
pub struct LooksFpr {
    /// Evenly spaced looks, the last on the final day.
    pub looks: u32,
    /// Stop at the first p < alpha.
    pub peeking: Figure,
    /// mSPRT at the same looks.
    pub sequential: Figure,
}

/// The long-run link: the loyalty scenario's design simulated over `months` as it is and
/// with the variant's enrolment lift, on the same customers (common random numbers).
#[derive(Debug, Clone, Serialize)]
pub struct LongRunReport {
    /// Scenario file.
    pub scenario: String,
    /// Design in that scenario.
    pub design: String,
    /// Enrolment lift from the variant.
    pub enrolment_lift: f64,
    /// Months.
    pub months: u32,
    /// Replicates of the loyalty simulation.
    pub replicates: u32,
    /// Members without and with the lift (means across replicates).
    pub members: [f64; 2],
    /// Incremental net profit of showing the variant over `months`: the design with the
    /// lifted enrolment minus the design as it is (mean, standard error across replicates).
    pub incremental_profit: Option<f64>,
    /// Standard error of `incremental_profit`.
    pub incremental_profit_se: Option<f64>,
    /// Incremental revenue, same comparison.
    pub incremental_revenue: Option<f64>,
    /// SHA-256 of the scenario text as simulated (designs and horizon rewritten).
    pub scenario_sha256: String,
    /// Reasons for nulls.
    pub undefined: BTreeMap<String, String>,
}

/// The long-run scenario as simulated: the file's text with its designs replaced by the
/// control, the design as it is, and the design with enrolment x (1 + s · lift) for each
/// scale s, and `horizon_days` set from `months`; then parsed again, so that every limit is
/// checked on what is simulated and its `sha256` describes it.
fn long_run_scenario(
    lr: &crate::ab::experiment::LongRun,
    origin: &str,
    scales: &[f64],
) -> Result<(crate::scenario::Scenario, BTreeMap<String, String>)> {
    use crate::scenario::design::EnrolmentMode;
    use crate::scenario::{origin_name, read_text, Scenario};
    let text = read_text(&lr.scenario)?;
    let file = origin_name(&lr.scenario);
    let sc = Scenario::parse(&text, &file)?;
    let field_err = |field: &str, message: String| Error::Scenario {
        path: origin.to_string(),
        line: None,
        field: field.into(),
        message,
    };
    let d = sc
        .designs
        .iter()
        .position(|d| d.name == lr.design)
        .ok_or_else(|| {
            field_err(
                "long_run.design",
                format!(
                    "no design `{}` in {}; its designs are: {}",
                    lr.design,
                    lr.scenario.display(),
                    sc.designs
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let Some(enrolment) = sc.designs[d].enrolment.as_ref() else {
        return Err(field_err(
            "long_run.design",
            format!(
                "design `{}` is the control: it has no enrolment for the variant to lift",
                lr.design
            ),
        ));
    };
    let mut undefined = BTreeMap::new();
    if enrolment.mode == EnrolmentMode::Auto {
        undefined.insert(
            "note".to_string(),
            "the design enrols everyone automatically, so an enrolment lift changes nothing"
                .to_string(),
        );
    }
    let mut tree: toml::Value =
        toml::from_str(&text).map_err(|e| Error::Other(format!("{file}: {e}")))?;
    let designs = tree
        .get("designs")
        .and_then(toml::Value::as_array)
        .ok_or_else(|| Error::Other(format!("{file}: [[designs]] is not an array")))?;
    let (control, base) = (designs[sc.control].clone(), designs[d].clone());
    let mut list = vec![control, base.clone()];
    for (i, &s) in scales.iter().enumerate() {
        let mut lifted = base.clone();
        let factor = 1.0 + s * lr.enrolment_lift;
        if let Some(e) = lifted
            .get_mut("enrolment")
            .and_then(toml::Value::as_table_mut)
        {
            lift_probabilities(e, factor).map_err(|m| {
                field_err(
                    "long_run.design",
                    format!("design `{}` in {file}: {m}", lr.design),
                )
            })?;
        }
        let name = if i == 0 {
            format!("{} (variant lift)", lr.design)
        } else {
            format!("{} (variant lift x {s})", lr.design)
        };
        if let Some(t) = lifted.as_table_mut() {
            t.insert("name".into(), toml::Value::String(name));
        }
        list.push(lifted);
    }
    let horizon = ((f64::from(lr.months) * 365.25 / 12.0).round() as i64).max(1);
    if let Some(t) = tree.as_table_mut() {
        t.insert("designs".into(), toml::Value::Array(list));
        t.insert("horizon_days".into(), toml::Value::Integer(horizon));
    }
    let rewritten = toml::to_string(&tree).map_err(|e| Error::Other(e.to_string()))?;
    let sc = Scenario::parse(
        &rewritten,
        &format!(
            "{file} (ab long run: `{}` with lifted enrolment)",
            lr.design
        ),
    )?;
    Ok((sc, undefined))
}

/// Multiply an enrolment table's probabilities (first purchase, later purchases, per
/// segment) by `factor`, clamped to [0, 1].
fn lift_probabilities(
    e: &mut toml::map::Map<String, toml::Value>,
    factor: f64,
) -> std::result::Result<(), String> {
    let lift = |key: &str, v: &mut toml::Value| -> std::result::Result<(), String> {
        let x = match v {
            toml::Value::Float(x) => *x,
            toml::Value::Integer(i) => *i as f64,
            _ => {
                return Err(format!(
                    "enrolment.{key} must be a plain number for the variant to lift it, not a distribution"
                ))
            }
        };
        *v = toml::Value::Float((x * factor).clamp(0.0, 1.0));
        Ok(())
    };
    for key in ["probability", "per_purchase"] {
        if let Some(v) = e.get_mut(key) {
            lift(key, v)?;
        }
    }
    if let Some(toml::Value::Table(segs)) = e.get_mut("segments") {
        for (name, v) in segs.iter_mut() {
            lift(&format!("segments.{name}"), v)?;
        }
    }
    Ok(())
}

/// Run the long-run link of an experiment through the loyalty engine, at the file's lift
/// and at the decision grid's scales (all designs on the same customers).
fn long_run(
    lr: &crate::ab::experiment::LongRun,
    origin: &str,
) -> Result<(LongRunReport, Vec<decision::ValuePoint>, u32)> {
    let scales = decision::engine_scales(lr.effect_scale_sd);
    let (sc, undefined) = long_run_scenario(lr, origin, &scales)?;
    let tallies = crate::engine::simulate(&sc, None);
    let per_replicate = |k: usize, of: fn(&crate::metrics::Tally) -> f64| -> Vec<Option<f64>> {
        tallies
            .iter()
            .map(|r| Some(of(&r[k]) - of(&r[1])))
            .collect()
    };
    let profit = |t: &crate::metrics::Tally| t.net_profit_cents() as f64 / 100.0;
    let revenue = |t: &crate::metrics::Tally| t.revenue_cents as f64 / 100.0;
    let grid: Vec<decision::ValuePoint> = scales
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let sum = summarize(&per_replicate(2 + i, profit));
            decision::ValuePoint {
                scale: s,
                enrolment_lift: s * lr.enrolment_lift,
                incremental_profit: sum.mean.unwrap_or(0.0),
                se: sum.sd.map(|sd| sd / (sum.n as f64).sqrt()),
            }
        })
        .collect();
    let mut undefined = undefined;
    let p = summarize(&per_replicate(2, profit));
    if p.sd.is_none() {
        undefined.insert(
            "incremental_profit_se".to_string(),
            "the scenario has one replicate".to_string(),
        );
    }
    let n = tallies.len() as f64;
    let members = |k: usize| tallies.iter().map(|r| r[k].members as f64).sum::<f64>() / n;
    let report = LongRunReport {
        scenario: lr.scenario.display().to_string(),
        design: lr.design.clone(),
        enrolment_lift: lr.enrolment_lift,
        months: lr.months,
        replicates: sc.replicates,
        members: [members(1), members(2)],
        incremental_profit: p.mean,
        incremental_profit_se: p.sd.map(|sd| sd / (p.n as f64).sqrt()),
        incremental_revenue: summarize(&per_replicate(2, revenue)).mean,
        scenario_sha256: sc.sha256.clone(),
        undefined,
    };
    Ok((report, grid, sc.horizon_days))
}

/// The full simulation report (`ab_simulation.json`; keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    /// Experiment name.
    pub experiment: String,
    /// Master seed used.
    pub seed: u64,
    /// Number of simulated experiments.
    pub experiments: u64,
    /// mSPRT mixing standard deviation used.
    pub mixture_sd: f64,
    /// The validated experiment.
    pub design: Experiment,
    /// True effect.
    pub true_lift: TrueLift,
    /// Closed-form cross-check.
    pub plan: PlanCheck,
    /// Headline figures.
    pub primary: Primary,
    /// All three methods.
    pub methods: Methods,
    /// Estimated-lift distribution of the primary method.
    pub lift_distribution: LiftDistribution,
    /// Power over days.
    pub power_by_day: Vec<DayPower>,
    /// A/A FPR over number of looks.
    pub fpr_by_looks: Vec<LooksFpr>,
    /// Long-run link.
    pub long_run: Option<LongRunReport>,
    /// Decision rules valued in long-run profit (with `[long_run]`).
    pub decision: Option<decision::DecisionReport>,
}

/// Expected (control, treatment) metric on day `day`, and the control's variance per
/// visitor (for the revenue plan).
fn metric_on(exp: &Experiment, day: Option<u32>) -> (f64, f64) {
    let mut c = 0.0;
    let mut t = 0.0;
    for s in &exp.segments {
        let lift = match day {
            Some(d) => s.effect.conversion_lift_on(d),
            None => s.effect.conversion_lift,
        };
        let pt = s.conversion * (1.0 + lift);
        match exp.analysis.metric {
            Metric::Conversion => {
                c += s.share * s.conversion;
                t += s.share * pt;
            }
            Metric::RevenuePerVisitor => {
                c += s.share * s.conversion * s.order_value_mean;
                t += s.share * pt * s.order_value_mean * (1.0 + s.effect.order_value_lift);
            }
        }
    }
    (c, t)
}

/// The true lift over the planned window and in the long run.
pub fn true_lift(exp: &Experiment) -> TrueLift {
    let (c, _) = metric_on(exp, None);
    let t_window = (0..exp.days)
        .map(|d| metric_on(exp, Some(d)).1)
        .sum::<f64>()
        / exp.days as f64;
    let (_, t_long) = metric_on(exp, None);
    let rel = |t: f64| (c > 0.0).then(|| t / c - 1.0);
    TrueLift {
        control_value: c,
        treatment_value_window: t_window,
        relative_window: rel(t_window),
        relative_long_run: rel(t_long),
        absolute_window: t_window - c,
    }
}

/// The mSPRT mixing standard deviation: the file's, or 10% of the control metric.
pub fn mixture_sd(exp: &Experiment) -> f64 {
    exp.analysis.mixture_sd.unwrap_or_else(|| {
        let c = metric_on(exp, None).0;
        if c > 0.0 {
            0.1 * c
        } else {
            1e-3
        }
    })
}

fn plan_check(exp: &Experiment, truth: &TrueLift) -> PlanCheck {
    let total = exp.visitors_per_day * exp.days as f64;
    let n_c = total * (1.0 - exp.treatment_share);
    let n_t = total * exp.treatment_share;
    let k = exp.treatment_share / (1.0 - exp.treatment_share);
    let alpha = exp.analysis.alpha;
    let mut undefined = BTreeMap::new();
    let (c, t) = (truth.control_value, truth.treatment_value_window);
    let mut analytic_power = None;
    let mut n80 = None;
    if t == c {
        let why = "the true lift is 0: power equals the false-positive rate";
        for k in [
            "analytic_power",
            "visitors_control_for_80_power",
            "days_for_80_power",
        ] {
            undefined.insert(k.to_string(), why.to_string());
        }
    } else {
        match exp.analysis.metric {
            Metric::Conversion => {
                analytic_power = Some(stats::power_proportions(c, t, n_c, alpha, k));
                n80 = Some(stats::sample_size_proportions(c, t, alpha, 0.8, k));
            }
            Metric::RevenuePerVisitor => {
                // Per-visitor revenue of the control: E[X²] = Σ w p (m² + sd²).
                let ex2: f64 = exp
                    .segments
                    .iter()
                    .map(|s| {
                        s.share
                            * s.conversion
                            * (s.order_value_mean.powi(2) + s.order_value_sd.powi(2))
                    })
                    .sum();
                let sd = (ex2 - c * c).max(0.0).sqrt();
                if sd > 0.0 {
                    analytic_power = Some(stats::power_means(sd, t - c, n_c, alpha, k));
                    n80 = Some(stats::sample_size_means(sd, t - c, alpha, 0.8, k));
                } else {
                    let why = "revenue per visitor has zero variance";
                    undefined.insert("analytic_power".into(), why.into());
                    undefined.insert("visitors_control_for_80_power".into(), why.into());
                    undefined.insert("days_for_80_power".into(), why.into());
                }
            }
        }
    }
    let visitors_control_for_80_power = n80.map(|n| n.ceil() as u64);
    let days_for_80_power = n80.map(|n| {
        let total = n.ceil() + (k * n).ceil();
        (total / exp.visitors_per_day).ceil() as u64
    });
    PlanCheck {
        expected_visitors_control: n_c,
        expected_visitors_treatment: n_t,
        analytic_power,
        visitors_control_for_80_power,
        days_for_80_power,
        undefined,
    }
}

fn method_result(
    ab: &[RunOutcome],
    aa: &[RunOutcome],
    m: usize,
    truth: Option<f64>,
    long_run: Option<f64>,
) -> MethodResult {
    let r = ab.len() as u64;
    let mut undefined = BTreeMap::new();
    let sig_ab = ab.iter().filter(|o| o.decisions[m].significant).count() as u64;
    let sig_aa = aa.iter().filter(|o| o.decisions[m].significant).count() as u64;
    let dur: Vec<f64> = ab.iter().map(|o| o.decisions[m].stop_day as f64).collect();
    let dur_aa: Vec<f64> = aa.iter().map(|o| o.decisions[m].stop_day as f64).collect();
    let sig_est: Vec<f64> = ab
        .iter()
        .filter(|o| o.decisions[m].significant)
        .filter_map(|o| o.decisions[m].estimate)
        .collect();
    let (exaggeration_ratio, type_s_rate) = match truth {
        Some(tl) if tl != 0.0 => {
            if sig_est.is_empty() {
                let why = "no significant result in the A/B runs";
                undefined.insert("exaggeration_ratio".into(), why.into());
                undefined.insert("type_s_rate".into(), why.into());
                (None, None)
            } else {
                let ratios: Vec<f64> = sig_est.iter().map(|e| e / tl).collect();
                let wrong = sig_est.iter().filter(|e| e.signum() != tl.signum()).count() as u64;
                (
                    Figure::mean(&ratios),
                    Figure::rate(wrong, sig_est.len() as u64),
                )
            }
        }
        _ => {
            let why = "the true lift is 0 or undefined: there is no effect to exaggerate";
            undefined.insert("exaggeration_ratio".into(), why.into());
            undefined.insert("type_s_rate".into(), why.into());
            (None, None)
        }
    };
    let exaggeration_vs_long_run = match long_run {
        Some(lr) if lr != 0.0 && !sig_est.is_empty() => {
            Figure::mean(&sig_est.iter().map(|e| e / lr).collect::<Vec<_>>())
        }
        _ => {
            undefined.insert(
                "exaggeration_vs_long_run".into(),
                "no significant result, or the long-run lift is 0 or undefined".into(),
            );
            None
        }
    };
    MethodResult {
        power: Figure::rate(sig_ab, r),
        aa_false_positive_rate: Figure::rate(sig_aa, r),
        expected_duration_days: Figure::mean(&dur),
        aa_expected_duration_days: Figure::mean(&dur_aa),
        exaggeration_ratio,
        exaggeration_vs_long_run,
        type_s_rate,
        significant_results: sig_ab,
        undefined,
    }
}

fn lift_distribution(ab: &[RunOutcome], m: usize) -> LiftDistribution {
    let est: Vec<(f64, bool)> = ab
        .iter()
        .filter_map(|o| {
            o.decisions[m]
                .estimate
                .map(|e| (e, o.decisions[m].significant))
        })
        .collect();
    let values: Vec<f64> = est.iter().map(|e| e.0).collect();
    let n = values.len();
    let mean = Figure::mean(&values);
    let sd = mean.map(|f| f.se * (n as f64).sqrt());
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let quantiles = if n == 0 {
        Vec::new()
    } else {
        [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975]
            .iter()
            .map(|&q| {
                let nf = n as f64;
                let at = |rank: f64| sorted[(rank.clamp(1.0, nf) as usize) - 1];
                let half = 1.96 * (nf * q * (1.0 - q)).sqrt();
                Quantile {
                    q,
                    value: at((q * nf).ceil()),
                    se: (at((q * nf + half).ceil()) - at((q * nf - half).floor())) / (2.0 * 1.96),
                }
            })
            .collect()
    };
    let bins = 40usize;
    let (lo, hi) = match (sorted.first(), sorted.last()) {
        (Some(&a), Some(&b)) if b > a => (a, b),
        (Some(&a), _) => (a - 0.5, a + 0.5),
        _ => (0.0, 1.0),
    };
    let width = (hi - lo) / bins as f64;
    let bin_edges: Vec<f64> = (0..=bins).map(|i| lo + i as f64 * width).collect();
    let mut counts = vec![0u64; bins];
    let mut significant_counts = vec![0u64; bins];
    for &(e, sig) in &est {
        let b = (((e - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
        if sig {
            significant_counts[b] += 1;
        }
    }
    LiftDistribution {
        estimates: n as u64,
        undefined_estimates: ab.len() as u64 - n as u64,
        mean,
        sd,
        quantiles,
        histogram: Histogram {
            bin_edges,
            counts,
            significant_counts,
        },
    }
}

/// Run the Monte Carlo and build the report. Pure apart from CPU: no files, no printing.
pub fn simulate(exp: &Experiment, opts: &SimOptions) -> Result<SimulationReport> {
    let seed = opts.seed.unwrap_or(exp.seed);
    let r = opts.experiments.unwrap_or(exp.experiments);
    if r == 0 || r > super::experiment::MAX_EXPERIMENTS {
        return Err(Error::Usage(format!(
            "--experiments must be in 1..={}, got {r}",
            super::experiment::MAX_EXPERIMENTS
        )));
    }
    // The long-run link first: a bad `[long_run]` is reported before any experiment is
    // simulated (issue 12), and it does not depend on the experiments' results.
    let long_run = exp
        .long_run
        .as_ref()
        .map(|lr| long_run(lr, &exp.name))
        .transpose()?;
    let tau = mixture_sd(exp);
    let tau2 = tau * tau;
    let work = |i: u64| {
        let ab = simulate_run(exp, true, &mut rng_for(seed, i, STREAM_AB));
        let aa = simulate_run(exp, false, &mut rng_for(seed, i, STREAM_AA));
        let dec = exp
            .long_run
            .as_ref()
            .map(|lr| decision::decision_run(exp, lr, &mut rng_for(seed, i, STREAM_DECISION)));
        (read_run(exp, &ab, tau2), read_run(exp, &aa, tau2), dec)
    };
    type Outcome = (RunOutcome, RunOutcome, Option<decision::DecisionRun>);
    let run_all = || -> Vec<Outcome> { (0..r).into_par_iter().map(work).collect() };
    let outcomes = match opts.threads {
        None => run_all(),
        Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::Other(format!("cannot start {n} worker threads: {e}")))?
            .install(run_all),
    };
    let mut ab = Vec::with_capacity(outcomes.len());
    let mut aa = Vec::with_capacity(outcomes.len());
    let mut runs = Vec::with_capacity(outcomes.len());
    for (x, y, z) in outcomes {
        ab.push(x);
        aa.push(y);
        runs.extend(z);
    }
    let (long_run, decision) = match (long_run, exp.long_run.as_ref()) {
        (Some((report, grid, horizon)), Some(lr)) => (
            Some(report),
            Some(decision::evaluate(exp, lr, &runs, grid, horizon)),
        ),
        _ => (None, None),
    };

    let truth = true_lift(exp);
    let plan = plan_check(exp, &truth);
    let tl = truth.relative_window;
    let results: Vec<MethodResult> = (0..3)
        .map(|m| method_result(&ab, &aa, m, tl, truth.relative_long_run))
        .collect();
    let primary_index = Method::ALL
        .iter()
        .position(|&m| m == exp.analysis.method)
        .unwrap_or(0);
    let pr = &results[primary_index];
    let primary = Primary {
        method: exp.analysis.method,
        power: pr.power,
        aa_false_positive_rate: pr.aa_false_positive_rate,
        exaggeration_ratio: pr.exaggeration_ratio,
        expected_duration_days: pr.expected_duration_days,
    };
    let lift = lift_distribution(&ab, primary_index);

    let schedule = look_days(exp.days, exp.analysis.look_every_days);
    let power_by_day = (0..exp.days)
        .map(|d| {
            let fixed = ab
                .iter()
                .filter(|o| o.significant_by_day[d as usize])
                .count() as u64;
            let seq = ab
                .iter()
                .filter(|o| {
                    schedule
                        .iter()
                        .take_while(|&&l| l <= d)
                        .any(|&l| o.sequential_by_day[l as usize])
                })
                .count() as u64;
            DayPower {
                day: d + 1,
                fixed_horizon: Figure::rate(fixed, r).unwrap_or(Figure {
                    value: 0.0,
                    se: 0.0,
                }),
                sequential: Figure::rate(seq, r).unwrap_or(Figure {
                    value: 0.0,
                    se: 0.0,
                }),
            }
        })
        .collect();
    let fpr_by_looks = (1..=exp.days)
        .map(|k| {
            let days: Vec<usize> = (1..=k)
                .map(|j| ((exp.days as u64 * j as u64).div_ceil(k as u64) - 1) as usize)
                .collect();
            let peek = aa
                .iter()
                .filter(|o| days.iter().any(|&d| o.significant_by_day[d]))
                .count() as u64;
            let seq = aa
                .iter()
                .filter(|o| days.iter().any(|&d| o.sequential_by_day[d]))
                .count() as u64;
            LooksFpr {
                looks: k,
                peeking: Figure::rate(peek, r).unwrap_or(Figure {
                    value: 0.0,
                    se: 0.0,
                }),
                sequential: Figure::rate(seq, r).unwrap_or(Figure {
                    value: 0.0,
                    se: 0.0,
                }),
            }
        })
        .collect();

    let mut results = results.into_iter();
    let mut next = || results.next().expect("three methods");
    Ok(SimulationReport {
        experiment: exp.name.clone(),
        seed,
        experiments: r,
        mixture_sd: tau,
        design: exp.clone(),
        true_lift: truth,
        plan,
        primary,
        methods: Methods {
            fixed_horizon: next(),
            peeking: next(),
            sequential: next(),
        },
        lift_distribution: lift,
        power_by_day,
        fpr_by_looks,
        long_run,
        decision,
    })
}

fn money(f: Option<Figure>) -> String {
    f.map_or("n/a".into(), |f| format!("{:+.0} ± {:.0}", f.value, f.se))
}

fn render_decision(s: &mut String, d: &decision::DecisionReport) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "\ndecision (long-run incremental profit over {} days; lifts x s, s ~ Normal(1, {})):",
        d.horizon_days, d.effect_scale_sd
    );
    let _ = writeln!(
        s,
        "  ship blind {}; P(launch is good) {}; value of perfect information {}",
        money(d.expected_value_blind),
        fig(d.probability_launch_is_good, true),
        money(d.expected_value_of_perfect_information)
    );
    let _ = writeln!(
        s,
        "  {:<22} {:>5} {:>15} {:>16} {:>14} {:>14} {:>14}",
        "rule", "days", "ships", "expected profit", "wrong ships", "missed gains", "vs blind"
    );
    for r in &d.rules {
        let _ = writeln!(
            s,
            "  {:<22} {:>5} {:>15} {:>16} {:>14} {:>14} {:>14}",
            r.rule,
            r.test_days,
            fig(r.ship_rate, true),
            money(r.expected_profit),
            money(r.loss_from_wrong_ships),
            money(r.missed_gains),
            money(r.value_vs_blind)
        );
    }
    let _ = writeln!(
        s,
        "  value of testing by test length (expected profit, vs blind):"
    );
    for c in &d.evsi_curve {
        let _ = writeln!(
            s,
            "  {:>5} days: if significant {} ({}), if P(win) > {} {} ({})",
            c.test_days,
            money(c.ship_if_significant.expected_profit),
            money(c.ship_if_significant.value_vs_blind),
            d.ship_probability,
            money(c.ship_if_probability.expected_profit),
            money(c.ship_if_probability.value_vs_blind)
        );
    }
    let _ = writeln!(
        s,
        "  profit-maximising test length: {} days (if significant), {} days (if P(win) > {})",
        d.best_test_days.ship_if_significant,
        d.best_test_days.ship_if_probability,
        d.ship_probability
    );
}

fn fig(f: Option<Figure>, pct: bool) -> String {
    match f {
        Some(f) if pct => format!("{:.2}% ± {:.2}", 100.0 * f.value, 100.0 * f.se),
        Some(f) => format!("{:.3} ± {:.3}", f.value, f.se),
        None => "n/a".into(),
    }
}

/// Render the report as plain text (± one Monte Carlo standard error).
pub fn render_text(rep: &SimulationReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let d = &rep.design;
    let metric = match d.analysis.metric {
        Metric::Conversion => "conversion",
        Metric::RevenuePerVisitor => "revenue per visitor",
    };
    let _ = writeln!(
        s,
        "A/B simulation: {} ({} experiments, seed {})",
        rep.experiment, rep.experiments, rep.seed
    );
    let _ = writeln!(
        s,
        "{} visitors/day for {} days, {:.0}% in treatment; metric {metric}, alpha {}, looks every {} day(s), mSPRT mixing sd {:.5}",
        d.visitors_per_day,
        d.days,
        100.0 * d.treatment_share,
        d.analysis.alpha,
        d.analysis.look_every_days,
        rep.mixture_sd
    );
    let t = &rep.true_lift;
    let rel = |x: Option<f64>| {
        x.map(|v| format!("{:+.2}%", 100.0 * v))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        s,
        "true lift: {} over the test window, {} once novelty fades",
        rel(t.relative_window),
        rel(t.relative_long_run)
    );
    let p = &rep.plan;
    let _ = writeln!(
        s,
        "closed form: power {} at {:.0} control visitors; 80% power needs {} control visitors ({} days)\n",
        p.analytic_power
            .map(|x| format!("{:.3}", x))
            .unwrap_or_else(|| "n/a".into()),
        p.expected_visitors_control,
        p.visitors_control_for_80_power
            .map(|x| x.to_string())
            .unwrap_or_else(|| "n/a".into()),
        p.days_for_80_power
            .map(|x| x.to_string())
            .unwrap_or_else(|| "n/a".into()),
    );
    let _ = writeln!(
        s,
        "{:<15} {:>17} {:>17} {:>15} {:>15} {:>15} {:>15}",
        "method",
        "power",
        "A/A false pos.",
        "exaggeration",
        "vs long run",
        "days (A/B)",
        "days (A/A)"
    );
    for (name, m) in [
        ("fixed-horizon", &rep.methods.fixed_horizon),
        ("peeking", &rep.methods.peeking),
        ("sequential", &rep.methods.sequential),
    ] {
        let star = if name == d.analysis.method.name() {
            "*"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:<15} {:>17} {:>17} {:>15} {:>15} {:>15} {:>15}",
            format!("{name}{star}"),
            fig(m.power, true),
            fig(m.aa_false_positive_rate, true),
            fig(m.exaggeration_ratio, false),
            fig(m.exaggeration_vs_long_run, false),
            fig(m.expected_duration_days, false),
            fig(m.aa_expected_duration_days, false),
        );
    }
    let l = &rep.lift_distribution;
    let q = |p: f64| {
        l.quantiles
            .iter()
            .find(|x| x.q == p)
            .map(|x| format!("{:+.2}%", 100.0 * x.value))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        s,
        "\nestimated lift ({}): mean {}, 90% of estimates in [{}, {}]",
        d.analysis.method.name(),
        l.mean
            .map(|f| format!("{:+.2}% ± {:.2}", 100.0 * f.value, 100.0 * f.se))
            .unwrap_or_else(|| "n/a".into()),
        q(0.05),
        q(0.95)
    );
    if let Some(lr) = &rep.long_run {
        let _ = writeln!(
            s,
            "long run: scenario {}, design `{}`, enrolment {:+.1}% -> members {:.0} -> {:.0}; incremental net profit over {} months {} (revenue {})",
            lr.scenario,
            lr.design,
            100.0 * lr.enrolment_lift,
            lr.members[0],
            lr.members[1],
            lr.months,
            match (lr.incremental_profit, lr.incremental_profit_se) {
                (Some(m), Some(se)) => format!("{m:+.0} ± {se:.0}"),
                (Some(m), None) => format!("{m:+.0}"),
                _ => "n/a".into(),
            },
            lr.incremental_revenue.map_or("n/a".into(), |r| format!("{r:+.0}")),
        );
        if let Some(note) = lr.undefined.get("note") {
            let _ = writeln!(s, "  note: {note}");
        }
    }
    if let Some(dec) = &rep.decision {
        render_decision(&mut s, dec);
    }
    let _ = writeln!(
        s,
        "(* = configured method; ± one Monte Carlo standard error)"
    );
    s
}

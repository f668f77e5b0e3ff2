//! From a short test to a launch decision (issue 16): what each decision rule is worth in
//! long-run profit, and how long the test should run.
//!
//! The world: the variant's true lifts (conversion, novelty, order value in the visitor
//! segments, enrolment in `[long_run]`) are the file's times a scale s, drawn per simulated
//! experiment from Normal(1, `effect_scale_sd`) (s = 1 when the sd is 0). The long-run value
//! of launching, V(s), is the loyalty engine's incremental net profit over `months` of the
//! design with enrolment × (1 + s · enrolment_lift) against the design as it is, on the same
//! customers (common random numbers); the engine runs once at a grid of scales, and V is
//! interpolated linearly between them (V(0) = 0 exactly, the same design).
//!
//! Each simulated experiment's *estimate* drives the decision: ship if the fixed-horizon
//! test is significantly positive at `alpha`; ship if P(treatment beats control) >
//! `ship_probability` (Beta(1,1)-Binomial for conversion, flat-prior normal for revenue);
//! ship blind (always); never. A test of L days, in a horizon of H days, is valued as
//!
//! - launch after the test: V(s) · (1 − (1 − share) · L / H) − cost · L
//! - no launch:             V(s) · share · L / H − cost · L
//!
//! i.e. profit accrues evenly over the horizon, and while the test runs only the treatment
//! share sees the variant (an assumption stated in the report; the engine's own profit
//! path is front-loaded or back-loaded depending on the design). Every expected value is
//! a mean over the simulated experiments with its Monte Carlo standard error; the paired
//! differences (value of testing versus shipping blind) use the same draws.
//!
//! # JSON (`ab_simulation.json` → `decision`), stable keys
//!
//! `effect_scale_sd`, `ship_probability`, `test_cost_per_day`, `horizon_days`,
//! `assumptions` [strings], `value_grid` [ {`scale`, `enrolment_lift`,
//! `incremental_profit`, `se`} ], `expected_value_blind` {value, se} (E V(s)),
//! `probability_launch_is_good` {value, se}, `expected_value_of_perfect_information`
//! {value, se}, `rules` [ {`rule`, `test_days`, `ship_rate`, `expected_profit`,
//! `loss_from_wrong_ships`, `missed_gains`, `value_vs_blind`} ] at the planned test length
//! (and `always`, `never`), `evsi_curve` [ {`test_days`, `ship_if_significant`,
//! `ship_if_probability`} each {`expected_profit`, `value_vs_blind`} ], `best_test_days`
//! {`ship_if_significant`, `ship_if_probability`}. The curve runs in whole weeks (and the
//! planned days) up to `long_run.max_test_days` (default twice the planned days).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::experiment::{Experiment, LongRun, Metric};
use super::simulate::{ArmTally, Figure};
use super::stats;

/// Test lengths on the EVSI curve: whole weeks up to `max_days`, the planned `days` and
/// `max_days`, ascending.
pub fn test_lengths(days: u32, max_days: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (1..=max_days / 7).map(|w| 7 * w).collect();
    v.push(days);
    v.push(max_days);
    v.sort_unstable();
    v.dedup();
    v
}

/// Scales at which the engine is run: s = 1 first (the file's lifts, the `long_run` block's
/// figure), then ±1, 2, 3 sd when the sd is positive.
pub fn engine_scales(sd: f64) -> Vec<f64> {
    let mut v = vec![1.0];
    if sd > 0.0 {
        for k in [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0] {
            let s = 1.0 + k * sd;
            if s != 0.0 && s != 1.0 {
                v.push(s);
            }
        }
    }
    v
}

/// The experiment with every lift of the variant multiplied by `s` (order-value lifts kept
/// above −0.99 so that orders keep a positive value).
pub fn scaled(exp: &Experiment, s: f64) -> Experiment {
    let mut e = exp.clone();
    for seg in &mut e.segments {
        seg.effect.conversion_lift *= s;
        seg.effect.novelty_lift *= s;
        seg.effect.order_value_lift = (seg.effect.order_value_lift * s).max(-0.99);
    }
    e
}

/// What one simulated experiment decided at each test length.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRun {
    /// Scale of the true effects in this experiment.
    pub scale: f64,
    /// Significantly positive fixed-horizon test at each of [`test_lengths`].
    pub significant: Vec<bool>,
    /// P(treatment beats control) above the threshold at each length.
    pub probable: Vec<bool>,
}

/// Draw the scale and read the run at each test length.
pub fn decision_run<R: Rng + ?Sized>(exp: &Experiment, lr: &LongRun, rng: &mut R) -> DecisionRun {
    let z: f64 = StandardNormal.sample(rng);
    let scale = 1.0 + lr.effect_scale_sd * z;
    let mut world = scaled(exp, scale);
    world.days = lr.max_test_days;
    let tallies = super::simulate::simulate_run(&world, true, rng);
    let mut significant = Vec::new();
    let mut probable = Vec::new();
    for l in test_lengths(exp.days, lr.max_test_days) {
        let [c, t] = &tallies[l as usize - 1];
        let (sig, p_win) = read_at(c, t, exp.analysis.metric, exp.analysis.alpha);
        significant.push(sig);
        probable.push(p_win.is_some_and(|p| p > lr.ship_probability));
    }
    DecisionRun {
        scale,
        significant,
        probable,
    }
}

/// (significantly positive at alpha, P(treatment beats control)) on cumulative tallies.
fn read_at(c: &ArmTally, t: &ArmTally, metric: Metric, alpha: f64) -> (bool, Option<f64>) {
    match metric {
        Metric::Conversion => {
            let sig = stats::pooled_z_test(c.conversions, c.visitors, t.conversions, t.visitors)
                .is_ok_and(|r| r.p_value < alpha && r.statistic > 0.0);
            let p = (c.visitors > 0 && t.visitors > 0).then(|| {
                stats::bayes_beta_binomial(c.conversions, c.visitors, t.conversions, t.visitors)
                    .prob_treatment_beats_control
            });
            (sig, p)
        }
        Metric::RevenuePerVisitor => {
            let mc = stats::Moments::from_sums(c.visitors, c.revenue, c.revenue_squares);
            let mt = stats::Moments::from_sums(t.visitors, t.revenue, t.revenue_squares);
            let sig = stats::welch_test(&mc, &mt, 0.95)
                .is_ok_and(|w| w.p_value < alpha && mt.mean > mc.mean);
            let var = if mc.n > 1 && mt.n > 1 {
                mc.variance_of_mean() + mt.variance_of_mean()
            } else {
                0.0
            };
            let p = (var > 0.0).then(|| stats::normal_cdf((mt.mean - mc.mean) / var.sqrt()));
            (sig, p)
        }
    }
}

/// One engine point: V at a scale.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ValuePoint {
    /// Scale of the variant's lifts.
    pub scale: f64,
    /// Enrolment lift simulated (scale × the file's).
    pub enrolment_lift: f64,
    /// Incremental net profit over the horizon (mean over the scenario's replicates).
    pub incremental_profit: f64,
    /// Its standard error across replicates (null with one replicate).
    pub se: Option<f64>,
}

/// V(s) by linear interpolation on the grid (which holds s = 0, V = 0), extrapolated
/// linearly beyond its ends.
pub fn value_at(grid: &[ValuePoint], s: f64) -> f64 {
    let mut pts: Vec<(f64, f64)> = grid
        .iter()
        .map(|p| (p.scale, p.incremental_profit))
        .collect();
    pts.push((0.0, 0.0));
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.dedup_by(|a, b| a.0 == b.0);
    if pts.len() == 1 {
        return 0.0;
    }
    let i = pts
        .windows(2)
        .position(|w| s <= w[1].0)
        .unwrap_or(pts.len() - 2);
    let (a, b) = (pts[i], pts[i + 1]);
    a.1 + (b.1 - a.1) * (s - a.0) / (b.0 - a.0)
}

/// Expected profit and loss of one rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleValue {
    /// "ship_if_significant", "ship_if_probability", "always", "never".
    pub rule: &'static str,
    /// Days the test runs before the decision (0 for always/never).
    pub test_days: u32,
    /// Share of experiments that ship.
    pub ship_rate: Option<Figure>,
    /// Expected long-run incremental profit, net of the test's cost.
    pub expected_profit: Option<Figure>,
    /// Expected loss from shipping a variant whose long-run value is negative.
    pub loss_from_wrong_ships: Option<Figure>,
    /// Expected gain forgone by not shipping a variant whose value is positive.
    pub missed_gains: Option<Figure>,
    /// expected_profit minus the best blind decision's (paired): the value of testing.
    pub value_vs_blind: Option<Figure>,
}

/// A point of the EVSI curve for one rule.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurveValue {
    /// Expected long-run profit net of the test's cost.
    pub expected_profit: Option<Figure>,
    /// Minus the best blind decision (the expected value of sample information, net).
    pub value_vs_blind: Option<Figure>,
}

/// The EVSI curve at one test length.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurvePoint {
    /// Test length in days.
    pub test_days: u32,
    /// Ship if significantly positive.
    pub ship_if_significant: CurveValue,
    /// Ship if P(win) > threshold.
    pub ship_if_probability: CurveValue,
}

/// The test length that maximises each rule's expected profit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BestDays {
    /// Ship if significant.
    pub ship_if_significant: u32,
    /// Ship if P(win) > threshold.
    pub ship_if_probability: u32,
}

/// The decision block of the report (keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionReport {
    /// Sd of the effect scale.
    pub effect_scale_sd: f64,
    /// Threshold of the probability rule.
    pub ship_probability: f64,
    /// Running cost of the test per day.
    pub test_cost_per_day: f64,
    /// Long-run horizon in days.
    pub horizon_days: u32,
    /// Assumptions, with values.
    pub assumptions: Vec<String>,
    /// V(s) from the engine.
    pub value_grid: Vec<ValuePoint>,
    /// E V(s): the value of shipping blind.
    pub expected_value_blind: Option<Figure>,
    /// P(V(s) > 0).
    pub probability_launch_is_good: Option<Figure>,
    /// E max(V, 0) − max(E V, 0).
    pub expected_value_of_perfect_information: Option<Figure>,
    /// Rules at the planned test length.
    pub rules: Vec<RuleValue>,
    /// Value over test lengths.
    pub evsi_curve: Vec<CurvePoint>,
    /// Best test lengths.
    pub best_test_days: BestDays,
}

/// Per-experiment values of a rule at test length `l` (days) given ship flags.
fn rule_values(v: &[f64], ship: &[bool], l: f64, share: f64, h: f64, cost: f64) -> [Vec<f64>; 3] {
    let mut profit = Vec::with_capacity(v.len());
    let mut loss = Vec::with_capacity(v.len());
    let mut missed = Vec::with_capacity(v.len());
    for (&vi, &s) in v.iter().zip(ship) {
        let after = 1.0 - (1.0 - share) * l / h;
        let during = share * l / h;
        profit.push(if s { vi * after } else { vi * during } - cost * l);
        loss.push(if s { (-vi).max(0.0) * after } else { 0.0 });
        missed.push(if s { 0.0 } else { vi.max(0.0) * (1.0 - during) });
    }
    [profit, loss, missed]
}

fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// Value every rule over the simulated experiments.
pub fn evaluate(
    exp: &Experiment,
    lr: &LongRun,
    runs: &[DecisionRun],
    value_grid: Vec<ValuePoint>,
    horizon_days: u32,
) -> DecisionReport {
    let v: Vec<f64> = runs
        .iter()
        .map(|r| value_at(&value_grid, r.scale))
        .collect();
    let h = f64::from(horizon_days);
    let share = exp.treatment_share;
    let cost = lr.test_cost_per_day;
    let blind = Figure::mean(&v);
    let blind_ships = blind.is_some_and(|b| b.value > 0.0);
    let best_blind: Vec<f64> = v
        .iter()
        .map(|&x| if blind_ships { x } else { 0.0 })
        .collect();
    let good = v.iter().filter(|&&x| x > 0.0).count() as u64;
    let evpi = Figure::mean(&diff(
        &v.iter().map(|x| x.max(0.0)).collect::<Vec<_>>(),
        &best_blind,
    ));
    let lengths = test_lengths(exp.days, lr.max_test_days);
    let rule = |name: &'static str, l: u32, ship: &[bool]| {
        let [p, loss, missed] = rule_values(&v, ship, f64::from(l), share, h, cost);
        let shipped = ship.iter().filter(|&&s| s).count() as u64;
        RuleValue {
            rule: name,
            test_days: l,
            ship_rate: Figure::rate(shipped, ship.len() as u64),
            expected_profit: Figure::mean(&p),
            loss_from_wrong_ships: Figure::mean(&loss),
            missed_gains: Figure::mean(&missed),
            value_vs_blind: Figure::mean(&diff(&p, &best_blind)),
        }
    };
    let flags = |i: usize, probable: bool| -> Vec<bool> {
        runs.iter()
            .map(|r| {
                if probable {
                    r.probable[i]
                } else {
                    r.significant[i]
                }
            })
            .collect()
    };
    let planned = exp.days;
    let last = lengths.iter().position(|&l| l == planned).unwrap_or(0);
    let rules = vec![
        rule("ship_if_significant", planned, &flags(last, false)),
        rule("ship_if_probability", planned, &flags(last, true)),
        rule("always", 0, &vec![true; runs.len()]),
        rule("never", 0, &vec![false; runs.len()]),
    ];
    let curve_value = |r: RuleValue| CurveValue {
        expected_profit: r.expected_profit,
        value_vs_blind: r.value_vs_blind,
    };
    let evsi_curve: Vec<CurvePoint> = lengths
        .iter()
        .enumerate()
        .map(|(i, &l)| CurvePoint {
            test_days: l,
            ship_if_significant: curve_value(rule("ship_if_significant", l, &flags(i, false))),
            ship_if_probability: curve_value(rule("ship_if_probability", l, &flags(i, true))),
        })
        .collect();
    let best = |pick: fn(&CurvePoint) -> &CurveValue| {
        evsi_curve
            .iter()
            .max_by(|a, b| {
                let va = pick(a)
                    .expected_profit
                    .map_or(f64::NEG_INFINITY, |f| f.value);
                let vb = pick(b)
                    .expected_profit
                    .map_or(f64::NEG_INFINITY, |f| f.value);
                va.total_cmp(&vb).then(b.test_days.cmp(&a.test_days))
            })
            .map_or(planned, |p| p.test_days)
    };
    let best_test_days = BestDays {
        ship_if_significant: best(|p| &p.ship_if_significant),
        ship_if_probability: best(|p| &p.ship_if_probability),
    };
    DecisionReport {
        effect_scale_sd: lr.effect_scale_sd,
        ship_probability: lr.ship_probability,
        test_cost_per_day: cost,
        horizon_days,
        assumptions: assumptions(exp, lr, horizon_days),
        value_grid,
        expected_value_blind: blind,
        probability_launch_is_good: Figure::rate(good, v.len() as u64),
        expected_value_of_perfect_information: evpi,
        rules,
        evsi_curve,
        best_test_days,
    }
}

fn assumptions(exp: &Experiment, lr: &LongRun, horizon_days: u32) -> Vec<String> {
    vec![
        format!(
            "true lifts = the file's x s, s ~ Normal(1, {}) per simulated experiment (long_run.effect_scale_sd{})",
            lr.effect_scale_sd,
            if lr.effect_scale_sd == 0.0 { ", default: no uncertainty" } else { "" }
        ),
        format!(
            "long-run value V(s) = the loyalty engine's incremental net profit of `{}` with enrolment x (1 + s x {}) over {} months ({horizon_days} days), linear between the simulated scales",
            lr.design, lr.enrolment_lift, lr.months
        ),
        "only the enrolment channel is carried into the long run: the page's direct conversion and order-value lift is what the test measures, not an extra profit term".into(),
        format!(
            "profit accrues evenly over the horizon; during a test only the treatment share ({}) sees the variant",
            exp.treatment_share
        ),
        format!(
            "rules: ship if the fixed-horizon test is significantly positive at alpha {}; ship if P(treatment beats control) > {} (Beta(1,1)-Binomial for conversion, flat-prior normal for revenue)",
            exp.analysis.alpha, lr.ship_probability
        ),
        format!("test cost {} per day (long_run.test_cost_per_day)", lr.test_cost_per_day),
        "expected values are means over the simulated experiments, +/- one Monte Carlo standard error; the engine's own replicate error on V is in value_grid[].se".into(),
    ]
}

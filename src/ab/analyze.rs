//! `loyalsim ab analyze`: read an experiment's results from CSV and compare every treatment
//! with the control on conversion and revenue per visitor, check the sample ratio, and
//! correct for several treatments.
//!
//! Input is either one row per visitor (`variant,converted[,revenue]`) or one row per
//! variant (or per variant and day: rows of the same variant are added up)
//! (`variant,visitors,conversions[,revenue_sum,revenue_sum_squares]`). Columns are found by
//! header name, in any order. The statistics themselves are in [`super::stats`].
//!
//! # JSON output (`--json`), stable keys
//!
//! ```text
//! {
//!   "input": path, "format": "per-visitor" | "aggregated",
//!   "control": name, "alpha": number, "correction": "holm" | "bh",
//!   "weights": [number per arm, normalised to sum 1],
//!   "arms": [ { "name", "visitors", "conversions", "conversion_rate",
//!               "revenue_per_visitor" (null without revenue columns), "revenue_sd" } ],
//!   "comparisons": [ {
//!       "treatment", "control",
//!       "conversion": { "control_rate", "treatment_rate", "abs_diff", "z", "p_value",
//!                       "p_value_adjusted", "significant", "ci95" [lo, hi],
//!                       "relative_lift", "relative_ci95" [lo, hi],
//!                       "prob_treatment_beats_control", "expected_loss", "undefined" {} },
//!       "revenue_per_visitor": { "control_mean", "treatment_mean", "abs_diff", "t", "df",
//!                       "p_value", "p_value_adjusted", "significant", "ci95" [lo, hi],
//!                       "relative_lift", "relative_ci95" [lo, hi], "undefined" {} } } ],
//!   "srm": { "chi2", "df", "p_value", "flagged" }
//! }
//! ```
//!
//! - `ci95` and `relative_ci95` are always 95% intervals (the key names them); `alpha` and
//!   the correction decide `significant` (adjusted p-value < alpha).
//! - `abs_diff` is treatment − control (rate units for conversion, currency for revenue);
//!   `relative_lift` is treatment/control − 1.
//! - `expected_loss` is E[max(p_control − p_treatment, 0)] under Beta(1,1) priors: the
//!   conversion rate given up in expectation by shipping the treatment.
//! - Any number that is undefined for the data is `null`, and `undefined` maps its key to
//!   the reason (for example `"z": "no conversions in either arm: the pooled variance is 0"`).
//!   `undefined` is `{}` when everything is defined.
//! - `srm.flagged` is true when p < 0.001 against `weights`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::stats::{self, Defined, Srm};
use crate::{Error, Result};

/// Multiple-testing correction across treatments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Holm's step-down procedure (controls the family-wise error rate).
    Holm,
    /// Benjamini–Hochberg (controls the false discovery rate).
    Bh,
}

pub use super::input::{ArmData, ExperimentData};

/// Options of an analysis.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Control arm name; `None` = the first arm in the file.
    pub control: Option<String>,
    /// Designed split, one weight per arm in file order; `None` = equal.
    pub weights: Option<Vec<f64>>,
    /// Significance level in (0, 1).
    pub alpha: f64,
    /// Correction across treatments.
    pub correction: Correction,
    /// Prior on the relative revenue effect for the Gaussian Bayesian result.
    pub prior: stats::GaussianPrior,
    /// Tuning parameter τ of the sequential confidence sequence; `None` = no sequential
    /// results.
    pub sequential_tuning: Option<f64>,
    /// Metrics that must not get worse (`conversion`, `revenue` or a ratio's name).
    pub guardrails: Vec<String>,
    /// Names of the ratio metrics read (`NUM/DEN`), in the order of the arms' ratio sums.
    pub ratio_names: Vec<String>,
    /// The revenue cap applied while reading, reported.
    pub capping: Option<Capping>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            control: None,
            weights: None,
            alpha: 0.05,
            correction: Correction::Holm,
            prior: stats::GaussianPrior {
                mean: 0.0,
                sd: None,
            },
            sequential_tuning: None,
            guardrails: Vec::new(),
            ratio_names: Vec::new(),
            capping: None,
        }
    }
}

/// The revenue cap of `--cap`, as applied.
#[derive(Debug, Clone, Serialize)]
pub struct Capping {
    /// Always `"revenue"`.
    pub metric: &'static str,
    /// Percentile asked for (of the converters' revenue), or null for a fixed value.
    pub percentile: Option<f64>,
    /// Cap applied (currency).
    pub value: f64,
    /// Visitors whose revenue was lowered to the cap, all arms.
    pub visitors_capped: u64,
}

/// One arm in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ArmSummary {
    /// Variant name.
    pub name: String,
    /// Visitors.
    pub visitors: u64,
    /// Conversions.
    pub conversions: u64,
    /// conversions / visitors.
    pub conversion_rate: f64,
    /// Mean revenue per visitor (null without revenue data).
    pub revenue_per_visitor: Option<f64>,
    /// Sample standard deviation of revenue per visitor (null without revenue data).
    pub revenue_sd: Option<f64>,
}

/// Conversion comparison of one treatment with the control.
#[derive(Debug, Clone, Serialize)]
pub struct ConversionComparison {
    /// Control conversion rate.
    pub control_rate: f64,
    /// Treatment conversion rate.
    pub treatment_rate: f64,
    /// treatment_rate − control_rate.
    pub abs_diff: f64,
    /// Pooled two-proportion z.
    pub z: Option<f64>,
    /// Two-sided p-value of `z`.
    pub p_value: Option<f64>,
    /// p-value after the correction across treatments.
    pub p_value_adjusted: Option<f64>,
    /// `p_value_adjusted < alpha`.
    pub significant: Option<bool>,
    /// Unpooled Wald 95% interval of `abs_diff`.
    pub ci95: Option<[f64; 2]>,
    /// treatment_rate / control_rate − 1.
    pub relative_lift: Option<f64>,
    /// Delta-method 95% interval of `relative_lift`.
    pub relative_ci95: Option<[f64; 2]>,
    /// P(p_treatment > p_control) under Beta(1,1) priors.
    pub prob_treatment_beats_control: f64,
    /// E[max(p_control − p_treatment, 0)] under Beta(1,1) priors.
    pub expected_loss: f64,
    /// Reason for each `null` above, by key.
    pub undefined: BTreeMap<String, String>,
    /// Regression-adjusted result (`--covariate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuped: Option<CupedResult>,
    /// Always-valid results (`--sequential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialResult>,
}

/// Revenue-per-visitor comparison of one treatment with the control.
#[derive(Debug, Clone, Serialize)]
pub struct RevenueComparison {
    /// Control mean revenue per visitor.
    pub control_mean: Option<f64>,
    /// Treatment mean revenue per visitor.
    pub treatment_mean: Option<f64>,
    /// treatment_mean − control_mean.
    pub abs_diff: Option<f64>,
    /// Welch t.
    pub t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: Option<f64>,
    /// Two-sided p-value of `t`.
    pub p_value: Option<f64>,
    /// p-value after the correction across treatments.
    pub p_value_adjusted: Option<f64>,
    /// `p_value_adjusted < alpha`.
    pub significant: Option<bool>,
    /// 95% interval of `abs_diff` with the t quantile at `df`.
    pub ci95: Option<[f64; 2]>,
    /// treatment_mean / control_mean − 1.
    pub relative_lift: Option<f64>,
    /// Delta-method 95% interval of `relative_lift`.
    pub relative_ci95: Option<[f64; 2]>,
    /// Reason for each `null` above, by key.
    pub undefined: BTreeMap<String, String>,
    /// Gaussian Bayesian result on the relative effect (with revenue data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bayes: Option<BayesRevenue>,
    /// Regression-adjusted result (`--covariate`, with revenue data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuped: Option<CupedResult>,
    /// Always-valid results (`--sequential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialResult>,
}

/// CUPED-adjusted comparison (absolute difference; Welch degrees of freedom as for the
/// unadjusted test; theta pooled over both arms).
#[derive(Debug, Clone, Serialize)]
pub struct CupedResult {
    /// Adjusted treatment − control.
    pub abs_diff: Option<f64>,
    /// 95% interval of `abs_diff` (t quantile at `df`).
    pub ci95: Option<[f64; 2]>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Welch t of the adjusted values.
    pub t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom of the adjusted values.
    pub df: Option<f64>,
    /// Cov(metric, covariate) / Var(covariate) over both arms.
    pub theta: Option<f64>,
    /// 1 − Var(adjusted difference) / Var(unadjusted difference).
    pub variance_reduction: Option<f64>,
    /// Reason for each `null` above, by key.
    pub undefined: BTreeMap<String, String>,
}

/// A ratio metric (`--ratio NUM/DEN`) compared by the delta method.
#[derive(Debug, Clone, Serialize)]
pub struct RatioComparison {
    /// `NUM/DEN`.
    pub name: String,
    /// Control Σnum/Σden.
    pub control_value: Option<f64>,
    /// Treatment Σnum/Σden.
    pub treatment_value: Option<f64>,
    /// treatment_value − control_value.
    pub abs_diff: Option<f64>,
    /// 95% interval of `abs_diff` (Welch t quantile, as GrowthBook).
    pub ci95: Option<[f64; 2]>,
    /// treatment_value / control_value − 1.
    pub relative_lift: Option<f64>,
    /// 95% delta-method interval of `relative_lift` (t quantile at `df`, as GrowthBook).
    pub relative_ci95: Option<[f64; 2]>,
    /// Two-sided p-value of `abs_diff`.
    pub p_value: Option<f64>,
    /// Welch t.
    pub t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: Option<f64>,
    /// Reason for each `null` above, by key.
    pub undefined: BTreeMap<String, String>,
}

/// Gaussian posterior of the relative revenue effect, GrowthBook's effect model.
#[derive(Debug, Clone, Serialize)]
pub struct BayesRevenue {
    /// The prior: mean and sd of the relative effect (sd null = flat, improper).
    pub prior: stats::GaussianPrior,
    /// Always `"relative"`: effects are treatment/control − 1.
    pub scale: &'static str,
    /// Posterior mean of the relative effect.
    pub expected: f64,
    /// Posterior sd.
    pub sd: f64,
    /// 95% credible interval.
    pub ci95: [f64; 2],
    /// P(treatment beats control).
    pub chance_to_win: f64,
    /// Expected relative loss of shipping the treatment, E[max(−effect, 0)].
    pub risk_treatment: f64,
    /// Expected relative loss of keeping the control, E[max(effect, 0)].
    pub risk_control: f64,
}

/// Always-valid p-value and 95% confidence sequence of the absolute difference, valid
/// however often the data were looked at (Waudby-Smith et al. 2023, GrowthBook's form).
#[derive(Debug, Clone, Serialize)]
pub struct SequentialResult {
    /// Tuning parameter τ (visitors at which the sequence is tightest).
    pub tuning: f64,
    /// Always-valid two-sided p-value.
    pub p_value: Option<f64>,
    /// 95% confidence sequence.
    pub ci95: Option<[f64; 2]>,
    /// Reason for each `null` above, by key.
    pub undefined: BTreeMap<String, String>,
}

/// A guardrail check: a metric that must not get worse.
#[derive(Debug, Clone, Serialize)]
pub struct Guardrail {
    /// `conversion`, `revenue` or a ratio's name.
    pub metric: String,
    /// One-sided p-value of H1: the treatment is worse.
    pub p_value_worse: Option<f64>,
    /// `"failing"` (significantly worse at alpha, one-sided), `"ok"`, or `"unknown"`.
    pub status: &'static str,
}

/// One treatment against the control.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Treatment arm name.
    pub treatment: String,
    /// Control arm name.
    pub control: String,
    /// Conversion statistics.
    pub conversion: ConversionComparison,
    /// Revenue-per-visitor statistics.
    pub revenue_per_visitor: RevenueComparison,
    /// Ratio metrics (`--ratio`), in option order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ratios: Vec<RatioComparison>,
    /// Guardrail checks (`--guardrail`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Guardrail>,
}

/// The full analysis (serialised as the `--json` output; keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Input file as given.
    pub input: String,
    /// `"per-visitor"` or `"aggregated"`.
    pub format: &'static str,
    /// Control arm name.
    pub control: String,
    /// Significance level.
    pub alpha: f64,
    /// Correction across treatments.
    pub correction: Correction,
    /// Designed split, normalised.
    pub weights: Vec<f64>,
    /// Per-arm summaries in file order.
    pub arms: Vec<ArmSummary>,
    /// Each treatment against the control, in file order.
    pub comparisons: Vec<Comparison>,
    /// Sample ratio mismatch test.
    pub srm: Srm,
    /// The revenue cap applied (`--cap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capping: Option<Capping>,
}

const LEVEL95: f64 = 0.95;

/// Read per-visitor or aggregated rows from a CSV file (`-` = standard input).
pub fn read_csv(path: &Path) -> Result<ExperimentData> {
    super::input::read_path(path, &super::input::ReadOptions::default())
}

/// Parse CSV bytes (`path` is only used in messages).
pub fn parse_csv(path: &str, bytes: &[u8]) -> Result<ExperimentData> {
    super::input::read(path, bytes, &super::input::ReadOptions::default())
}

fn put<T>(r: Defined<T>, key: &str, undefined: &mut BTreeMap<String, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(why) => {
            undefined.insert(key.to_string(), why.0);
            None
        }
    }
}

/// Analyse `data` (already read) with `opts`. `input` names the file in the report.
pub fn analyze(input: &str, data: &ExperimentData, opts: &AnalyzeOptions) -> Result<Analysis> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(Error::Usage(format!(
            "--alpha must be in (0, 1), got {}",
            opts.alpha
        )));
    }
    let names: Vec<&str> = data.arms.iter().map(|a| a.name.as_str()).collect();
    let ci = match &opts.control {
        None => 0,
        Some(c) => names.iter().position(|n| n == c).ok_or_else(|| {
            Error::Usage(format!(
                "--control {c}: no such variant; the file has {}",
                names.join(", ")
            ))
        })?,
    };
    let k = data.arms.len();
    let weights = match &opts.weights {
        None => vec![1.0 / k as f64; k],
        Some(w) => {
            if w.len() != k {
                return Err(Error::Usage(format!(
                    "--weights has {} values but the file has {k} variants ({}); give one weight \
                     per variant in file order",
                    w.len(),
                    names.join(", ")
                )));
            }
            if let Some(bad) = w.iter().find(|x| !(**x > 0.0 && x.is_finite())) {
                return Err(Error::Usage(format!(
                    "--weights must all be positive numbers, got {bad}"
                )));
            }
            // Scale by the largest first: 1e308 + 1e308 would overflow to infinity and turn
            // every weight into 0 and the SRM statistic into NaN (issue 12).
            let top = w.iter().copied().fold(0.0_f64, f64::max);
            let scaled: Vec<f64> = w.iter().map(|x| x / top).collect();
            let s: f64 = scaled.iter().sum();
            scaled.iter().map(|x| x / s).collect()
        }
    };

    let arms: Vec<ArmSummary> = data
        .arms
        .iter()
        .map(|a| ArmSummary {
            name: a.name.clone(),
            visitors: a.visitors,
            conversions: a.conversions,
            conversion_rate: a.conversions as f64 / a.visitors as f64,
            revenue_per_visitor: a.revenue.map(|m| m.mean),
            revenue_sd: a.revenue.map(|m| m.variance.sqrt()),
        })
        .collect();

    let c = &data.arms[ci];
    let mut comparisons: Vec<Comparison> = data
        .arms
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ci)
        .map(|(_, t)| compare_with(c, t, opts))
        .collect::<Result<_>>()?;

    // Corrections within each metric family, over the comparisons whose p-value exists.
    let adjust = |ps: &[f64]| match opts.correction {
        Correction::Holm => stats::holm(ps),
        Correction::Bh => stats::benjamini_hochberg(ps),
    };
    let conv_p: Vec<(usize, f64)> = comparisons
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.conversion.p_value.map(|p| (i, p)))
        .collect();
    let adj = adjust(&conv_p.iter().map(|x| x.1).collect::<Vec<_>>());
    for ((i, _), a) in conv_p.iter().zip(adj) {
        comparisons[*i].conversion.p_value_adjusted = Some(a);
        comparisons[*i].conversion.significant = Some(a < opts.alpha);
    }
    let rev_p: Vec<(usize, f64)> = comparisons
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.revenue_per_visitor.p_value.map(|p| (i, p)))
        .collect();
    let adj = adjust(&rev_p.iter().map(|x| x.1).collect::<Vec<_>>());
    for ((i, _), a) in rev_p.iter().zip(adj) {
        comparisons[*i].revenue_per_visitor.p_value_adjusted = Some(a);
        comparisons[*i].revenue_per_visitor.significant = Some(a < opts.alpha);
    }
    for cmp in &mut comparisons {
        for (block, p) in [
            (&mut cmp.conversion.undefined, cmp.conversion.p_value),
            (
                &mut cmp.revenue_per_visitor.undefined,
                cmp.revenue_per_visitor.p_value,
            ),
        ] {
            if p.is_none() {
                block.insert("p_value_adjusted".into(), "the p-value is undefined".into());
                block.insert("significant".into(), "the p-value is undefined".into());
            }
        }
    }

    let observed: Vec<u64> = data.arms.iter().map(|a| a.visitors).collect();
    let srm = stats::srm_test(&observed, &weights);
    Ok(Analysis {
        input: input.to_string(),
        format: data.format,
        control: c.name.clone(),
        alpha: opts.alpha,
        correction: opts.correction,
        weights,
        arms,
        comparisons,
        srm,
        capping: opts.capping.clone(),
    })
}

/// Compare treatment `t` with control `c` with every option of `opts` (before the
/// multiple-testing correction).
pub fn compare_with(c: &ArmData, t: &ArmData, opts: &AnalyzeOptions) -> Result<Comparison> {
    let mut cmp = compare(c, t);
    if let (Some(mc), Some(mt)) = (c.revenue, t.revenue) {
        cmp.revenue_per_visitor.bayes = stats::gaussian_bayes(
            mc.mean,
            mc.variance_of_mean(),
            mt.mean,
            mt.variance_of_mean(),
            opts.prior,
            LEVEL95,
        )
        .ok()
        .map(|b| BayesRevenue {
            prior: opts.prior,
            scale: "relative",
            expected: b.mean,
            sd: b.sd,
            ci95: b.ci,
            chance_to_win: b.chance_to_win,
            risk_treatment: b.risk_treatment,
            risk_control: b.risk_control,
        });
    }
    if c.cuped_conversion.is_some() {
        cmp.conversion.cuped = Some(cuped_result(
            c.cuped_conversion.as_ref(),
            t.cuped_conversion.as_ref(),
        ));
        if c.revenue.is_some() {
            cmp.revenue_per_visitor.cuped = Some(cuped_result(
                c.cuped_revenue.as_ref(),
                t.cuped_revenue.as_ref(),
            ));
        }
    }
    cmp.ratios = c
        .ratios
        .iter()
        .zip(&t.ratios)
        .zip(&opts.ratio_names)
        .map(|((rc, rt), name)| ratio_comparison(name, rc, rt))
        .collect();
    if let Some(tau) = opts.sequential_tuning {
        let n = c.visitors + t.visitors;
        let (pc, pt) = (cmp.conversion.control_rate, cmp.conversion.treatment_rate);
        let var = pc * (1.0 - pc) / c.visitors as f64 + pt * (1.0 - pt) / t.visitors as f64;
        cmp.conversion.sequential = Some(sequential_result(pt - pc, var, n, tau));
        if let (Some(mc), Some(mt)) = (c.revenue, t.revenue) {
            let var = mc.variance_of_mean() + mt.variance_of_mean();
            cmp.revenue_per_visitor.sequential =
                Some(sequential_result(mt.mean - mc.mean, var, n, tau));
        }
    }
    cmp.guardrails = opts
        .guardrails
        .iter()
        .map(|g| guardrail(&cmp, g, opts.alpha))
        .collect::<Result<_>>()?;
    Ok(cmp)
}

fn cuped_result(c: Option<&stats::PairSums>, t: Option<&stats::PairSums>) -> CupedResult {
    let mut und = BTreeMap::new();
    let r = match (c, t) {
        (Some(c), Some(t)) => stats::cuped(c, t, LEVEL95),
        _ => Err(stats::Undefined("an arm has no covariate values".into())),
    };
    let r = put(r, "cuped", &mut und);
    if let Some(why) = und.remove("cuped") {
        for k in [
            "abs_diff",
            "ci95",
            "p_value",
            "t",
            "df",
            "theta",
            "variance_reduction",
        ] {
            und.insert(k.into(), why.clone());
        }
    }
    CupedResult {
        abs_diff: r.map(|r| r.diff),
        ci95: r.map(|r| r.welch.ci),
        p_value: r.map(|r| r.welch.p_value),
        t: r.map(|r| r.welch.t),
        df: r.map(|r| r.welch.df),
        theta: r.map(|r| r.theta),
        variance_reduction: r.map(|r| r.variance_reduction),
        undefined: und,
    }
}

fn ratio_comparison(name: &str, c: &stats::PairSums, t: &stats::PairSums) -> RatioComparison {
    let mut und = BTreeMap::new();
    let (rc, rt) = (stats::ratio_estimate(c), stats::ratio_estimate(t));
    let both = match (&rc, &rt) {
        (Ok(a), Ok(b)) => Ok((*a, *b)),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    let welch = both
        .clone()
        .and_then(|(a, b)| stats::welch_test(&a.moments(), &b.moments(), LEVEL95));
    // Relative interval as GrowthBook: delta-method variance, t quantile at Welch's df.
    let relative = both.clone().and_then(|(a, b)| {
        let (mc, mt) = (a.moments(), b.moments());
        if mc.mean.abs() < f64::MIN_POSITIVE {
            return Err(stats::Undefined(
                "the control ratio is 0: a lift relative to it is undefined".into(),
            ));
        }
        let lift = mt.mean / mc.mean - 1.0;
        let v = mt.variance_of_mean() / (mc.mean * mc.mean)
            + mt.mean * mt.mean * mc.variance_of_mean() / mc.mean.powi(4);
        let w = welch.clone()?;
        let h = stats::t_quantile(0.5 + LEVEL95 / 2.0, w.df) * v.sqrt();
        Ok((lift, [lift - h, lift + h]))
    });
    RatioComparison {
        name: name.to_string(),
        control_value: rc.as_ref().ok().map(|r| r.value),
        treatment_value: rt.as_ref().ok().map(|r| r.value),
        abs_diff: put(both.map(|(a, b)| b.value - a.value), "abs_diff", &mut und),
        ci95: put(welch.clone().map(|w| w.ci), "ci95", &mut und),
        relative_lift: put(relative.clone().map(|r| r.0), "relative_lift", &mut und),
        relative_ci95: put(relative.map(|r| r.1), "relative_ci95", &mut und),
        p_value: put(welch.clone().map(|w| w.p_value), "p_value", &mut und),
        t: put(welch.clone().map(|w| w.t), "t", &mut und),
        df: put(welch.map(|w| w.df), "df", &mut und),
        undefined: und,
    }
}

fn sequential_result(diff: f64, var: f64, n: u64, tau: f64) -> SequentialResult {
    let mut und = BTreeMap::new();
    if var > 0.0 && var.is_finite() {
        let (ci, p) = stats::sequential_gb(diff, var, n, 1.0 - LEVEL95, tau);
        SequentialResult {
            tuning: tau,
            p_value: Some(p),
            ci95: Some(ci),
            undefined: und,
        }
    } else {
        for k in ["p_value", "ci95"] {
            und.insert(k.into(), "the standard error is 0".into());
        }
        SequentialResult {
            tuning: tau,
            p_value: None,
            ci95: None,
            undefined: und,
        }
    }
}

/// One-sided check that `metric` did not get worse: p = P(T ≤ t) under H0 of no change,
/// from the metric's own test (z for conversion, Welch t for revenue and ratios).
fn guardrail(cmp: &Comparison, metric: &str, alpha: f64) -> Result<Guardrail> {
    let p_worse = match metric {
        "conversion" => cmp.conversion.z.map(stats::normal_cdf),
        "revenue" => cmp
            .revenue_per_visitor
            .t
            .zip(cmp.revenue_per_visitor.df)
            .map(|(t, df)| 1.0 - stats::t_sf(t, df)),
        name => {
            let r = cmp.ratios.iter().find(|r| r.name == name).ok_or_else(|| {
                Error::Usage(format!(
                    "--guardrail {name}: not a metric; use conversion, revenue or a --ratio name"
                ))
            })?;
            r.t.zip(r.df).map(|(t, df)| 1.0 - stats::t_sf(t, df))
        }
    };
    Ok(Guardrail {
        metric: metric.to_string(),
        p_value_worse: p_worse,
        status: match p_worse {
            Some(p) if p < alpha => "failing",
            Some(_) => "ok",
            None => "unknown",
        },
    })
}

/// Compare treatment `t` with control `c` on conversion and revenue (before the
/// multiple-testing correction; no covariate, ratio or sequential results).
pub fn compare(c: &ArmData, t: &ArmData) -> Comparison {
    let (xc, nc, xt, nt) = (c.conversions, c.visitors, t.conversions, t.visitors);
    let mut und = BTreeMap::new();
    let test = stats::pooled_z_test(xc, nc, xt, nt);
    let z = put(test.clone().map(|r| r.statistic), "z", &mut und);
    let p_value = put(test.map(|r| r.p_value), "p_value", &mut und);
    let ci95 = put(
        stats::wald_diff_ci(xc, nc, xt, nt, LEVEL95),
        "ci95",
        &mut und,
    );
    let (pc, pt) = (xc as f64 / nc as f64, xt as f64 / nt as f64);
    let rel = stats::relative_lift(
        pc,
        stats::proportion_variance(xc, nc),
        pt,
        stats::proportion_variance(xt, nt),
        LEVEL95,
    );
    let relative_lift = put(rel.lift, "relative_lift", &mut und);
    let relative_ci95 = put(rel.ci, "relative_ci95", &mut und);
    let bayes = stats::bayes_beta_binomial(xc, nc, xt, nt);
    let conversion = ConversionComparison {
        control_rate: pc,
        treatment_rate: pt,
        abs_diff: pt - pc,
        z,
        p_value,
        p_value_adjusted: None,
        significant: None,
        ci95,
        relative_lift,
        relative_ci95,
        prob_treatment_beats_control: bayes.prob_treatment_beats_control,
        expected_loss: bayes.expected_loss,
        undefined: und,
        cuped: None,
        sequential: None,
    };

    let mut und = BTreeMap::new();
    let revenue_per_visitor = match (c.revenue, t.revenue) {
        (Some(mc), Some(mt)) => {
            let w = stats::welch_test(&mc, &mt, LEVEL95);
            let rel = stats::relative_lift(
                mc.mean,
                mc.variance_of_mean(),
                mt.mean,
                mt.variance_of_mean(),
                LEVEL95,
            );
            RevenueComparison {
                control_mean: Some(mc.mean),
                treatment_mean: Some(mt.mean),
                abs_diff: Some(mt.mean - mc.mean),
                t: put(w.clone().map(|w| w.t), "t", &mut und),
                df: put(w.clone().map(|w| w.df), "df", &mut und),
                p_value: put(w.clone().map(|w| w.p_value), "p_value", &mut und),
                p_value_adjusted: None,
                significant: None,
                ci95: put(w.map(|w| w.ci), "ci95", &mut und),
                relative_lift: put(rel.lift, "relative_lift", &mut und),
                relative_ci95: put(rel.ci, "relative_ci95", &mut und),
                undefined: und,
                bayes: None,
                cuped: None,
                sequential: None,
            }
        }
        _ => {
            let why = "the input has no revenue columns";
            for key in [
                "control_mean",
                "treatment_mean",
                "abs_diff",
                "t",
                "df",
                "p_value",
                "ci95",
                "relative_lift",
                "relative_ci95",
            ] {
                und.insert(key.to_string(), why.to_string());
            }
            RevenueComparison {
                control_mean: None,
                treatment_mean: None,
                abs_diff: None,
                t: None,
                df: None,
                p_value: None,
                p_value_adjusted: None,
                significant: None,
                ci95: None,
                relative_lift: None,
                relative_ci95: None,
                undefined: und,
                bayes: None,
                cuped: None,
                sequential: None,
            }
        }
    };
    Comparison {
        treatment: t.name.clone(),
        control: c.name.clone(),
        conversion,
        revenue_per_visitor,
        ratios: Vec::new(),
        guardrails: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Human-readable rendering
// ---------------------------------------------------------------------------------------

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map(f).unwrap_or_else(|| "n/a".into())
}

fn pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

fn pp(x: f64) -> String {
    format!("{:+.3} pp", 100.0 * x)
}

fn pval(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn verdict(s: Option<bool>) -> &'static str {
    match s {
        Some(true) => "significant",
        Some(false) => "not significant",
        None => "",
    }
}

/// Render an analysis as a plain-text report.
pub fn render_text(a: &Analysis) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let corr = match a.correction {
        Correction::Holm => "Holm",
        Correction::Bh => "Benjamini-Hochberg",
    };
    let _ = writeln!(
        s,
        "A/B analysis of {} ({} rows); control: {}; alpha {}; correction: {corr}\n",
        a.input, a.format, a.control, a.alpha
    );
    let w = a
        .arms
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(4)
        .max(7);
    let _ = writeln!(
        s,
        "{:<w$}  {:>12}  {:>11}  {:>10}  {:>15}",
        "variant", "visitors", "conversions", "conv. rate", "revenue/visitor"
    );
    for arm in &a.arms {
        let _ = writeln!(
            s,
            "{:<w$}  {:>12}  {:>11}  {:>9.3}%  {:>15}",
            arm.name,
            arm.visitors,
            arm.conversions,
            100.0 * arm.conversion_rate,
            opt(arm.revenue_per_visitor, |x| format!("{x:.4}"))
        );
    }
    for c in &a.comparisons {
        let cv = &c.conversion;
        let _ = writeln!(s, "\n{} vs {}", c.treatment, c.control);
        let _ = writeln!(
            s,
            "  conversion       diff {}  95% CI {}  z {}  p {} (adjusted {}) {}",
            pp(cv.abs_diff),
            opt_ci(cv.ci95, pp),
            opt(cv.z, |z| format!("{z:.3}")),
            opt(cv.p_value, pval),
            opt(cv.p_value_adjusted, pval),
            verdict(cv.significant)
        );
        let _ = writeln!(
            s,
            "                   lift {}  95% CI {}  P({} beats {}) {:.2}%  expected loss {:.3} pp",
            opt(cv.relative_lift, pct),
            opt_ci(cv.relative_ci95, pct),
            c.treatment,
            c.control,
            100.0 * cv.prob_treatment_beats_control,
            100.0 * cv.expected_loss
        );
        let rv = &c.revenue_per_visitor;
        if rv.control_mean.is_some() {
            let _ = writeln!(
                s,
                "  revenue/visitor  diff {}  95% CI {}  t {} (df {})  p {} (adjusted {}) {}",
                opt(rv.abs_diff, |x| format!("{x:+.4}")),
                opt_ci(rv.ci95, |x| format!("{x:+.4}")),
                opt(rv.t, |t| format!("{t:.3}")),
                opt(rv.df, |d| format!("{d:.1}")),
                opt(rv.p_value, pval),
                opt(rv.p_value_adjusted, pval),
                verdict(rv.significant)
            );
            let _ = writeln!(
                s,
                "                   lift {}  95% CI {}",
                opt(rv.relative_lift, pct),
                opt_ci(rv.relative_ci95, pct)
            );
        }
        for (k, why) in cv.undefined.iter() {
            let _ = writeln!(s, "  note: conversion {k} undefined: {why}");
        }
        if rv.control_mean.is_some() {
            for (k, why) in rv.undefined.iter() {
                let _ = writeln!(s, "  note: revenue {k} undefined: {why}");
            }
        }
    }
    let _ = writeln!(
        s,
        "\nsample ratio mismatch: chi2 {:.3} (df {}), p {} -> {}",
        a.srm.chi2,
        a.srm.df,
        pval(a.srm.p_value),
        if a.srm.flagged {
            "FLAGGED (p < 0.001): the split differs from the design; do not trust the comparison"
        } else {
            "ok"
        }
    );
    s
}

fn opt_ci(ci: Option<[f64; 2]>, f: impl Fn(f64) -> String) -> String {
    ci.map(|[l, h]| format!("[{}, {}]", f(l), f(h)))
        .unwrap_or_else(|| "n/a".into())
}

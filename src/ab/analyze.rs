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

use super::stats::{self, Defined, Moments, Srm};
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

/// One variant's data, aggregated.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmData {
    /// Variant name as in the file.
    pub name: String,
    /// Visitors.
    pub visitors: u64,
    /// Visitors who converted.
    pub conversions: u64,
    /// Revenue per visitor moments, when the file has revenue.
    pub revenue: Option<Moments>,
}

/// The data of an experiment, read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentData {
    /// `"per-visitor"` or `"aggregated"`.
    pub format: &'static str,
    /// Arms in order of first appearance.
    pub arms: Vec<ArmData>,
}

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
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            control: None,
            weights: None,
            alpha: 0.05,
            correction: Correction::Holm,
        }
    }
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
}

const LEVEL95: f64 = 0.95;

fn data_err(path: &str, line: Option<usize>, message: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_string(),
        line,
        message: message.into(),
    }
}

/// Read per-visitor or aggregated rows from a CSV file.
pub fn read_csv(path: &Path) -> Result<ExperimentData> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_csv(&path.display().to_string(), &bytes)
}

/// Running per-arm accumulator (Welford's update for revenue, in file order, so results
/// are reproducible to the bit).
#[derive(Default)]
struct Acc {
    visitors: u64,
    conversions: u64,
    mean: f64,
    m2: f64,
    sum: f64,
    sum_sq: f64,
}

/// Parse CSV bytes (`path` is only used in messages).
pub fn parse_csv(path: &str, bytes: &[u8]) -> Result<ExperimentData> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| data_err(path, Some(1), format!("cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let variant = col("variant").ok_or_else(|| {
        data_err(
            path,
            Some(1),
            "missing column `variant`; expected `variant,converted,revenue` (one row per visitor) \
             or `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]` (aggregated)",
        )
    })?;
    let aggregated = col("visitors").is_some();
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            let form = if aggregated {
                "aggregated rows need `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]`"
            } else {
                "per-visitor rows need `variant,converted[,revenue]`"
            };
            data_err(path, Some(1), format!("missing column `{name}`; {form}"))
        })
    };
    let (c_a, c_b, c_rev, c_rev2) = if aggregated {
        let v = need("visitors")?;
        let c = need("conversions")?;
        let (rs, rq) = (col("revenue_sum"), col("revenue_sum_squares"));
        if rs.is_some() != rq.is_some() {
            return Err(data_err(
                path,
                Some(1),
                "columns `revenue_sum` and `revenue_sum_squares` go together: give both or neither",
            ));
        }
        (v, c, rs, rq)
    } else {
        (need("converted")?, 0, col("revenue"), None)
    };

    let mut names: Vec<String> = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| {
            let l = e.position().map(|p| p.line() as usize).unwrap_or(line);
            data_err(path, Some(l), format!("malformed CSV row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(line);
        let field = |c: usize, name: &str| -> Result<&str> {
            rec.get(c)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| data_err(path, Some(line), format!("empty `{name}`")))
        };
        let name = field(variant, "variant")?;
        let k = match names.iter().position(|n| n == name) {
            Some(k) => k,
            None => {
                names.push(name.to_string());
                accs.push(Acc::default());
                names.len() - 1
            }
        };
        let acc = &mut accs[k];
        let money = |c: usize, key: &str| -> Result<f64> {
            let s = field(c, key)?;
            match s.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => Err(data_err(
                    path,
                    Some(line),
                    format!("`{key}` must be a finite number >= 0, got `{s}`"),
                )),
            }
        };
        let count = |c: usize, key: &str| -> Result<u64> {
            let s = field(c, key)?;
            s.parse::<u64>().map_err(|_| {
                data_err(
                    path,
                    Some(line),
                    format!("`{key}` must be a whole number >= 0, got `{s}`"),
                )
            })
        };
        if aggregated {
            let n = count(c_a, "visitors")?;
            let x = count(c_b, "conversions")?;
            if x > n {
                return Err(data_err(
                    path,
                    Some(line),
                    format!("`conversions` ({x}) exceeds `visitors` ({n})"),
                ));
            }
            if let (Some(rs), Some(rq)) = (c_rev, c_rev2) {
                let s = money(rs, "revenue_sum")?;
                let q = money(rq, "revenue_sum_squares")?;
                // Revenue comes only from converters: (Σx)² ≤ conversions · Σx² (Cauchy–Schwarz).
                if s * s > x as f64 * q * (1.0 + 1e-9) + 1e-9 {
                    return Err(data_err(
                        path,
                        Some(line),
                        format!(
                            "`revenue_sum_squares` ({q}) is too small for `revenue_sum` ({s}) over \
                             {x} conversions: it must be at least revenue_sum² / conversions"
                        ),
                    ));
                }
                acc.sum += s;
                acc.sum_sq += q;
            }
            acc.visitors += n;
            acc.conversions += x;
        } else {
            let s = field(c_a, "converted")?;
            let conv = match s {
                "0" => false,
                "1" => true,
                _ => {
                    return Err(data_err(
                        path,
                        Some(line),
                        format!("`converted` must be 0 or 1, got `{s}`"),
                    ))
                }
            };
            let r = match c_rev {
                Some(c) => money(c, "revenue")?,
                None => 0.0,
            };
            if !conv && r != 0.0 {
                return Err(data_err(
                    path,
                    Some(line),
                    format!("`revenue` must be 0 when `converted` is 0, got `{r}`"),
                ));
            }
            acc.visitors += 1;
            acc.conversions += u64::from(conv);
            let delta = r - acc.mean;
            acc.mean += delta / acc.visitors as f64;
            acc.m2 += delta * (r - acc.mean);
        }
    }
    if names.len() < 2 {
        return Err(data_err(
            path,
            None,
            format!(
                "an experiment needs at least 2 variants, found {}",
                names.len()
            ),
        ));
    }
    let has_revenue = c_rev.is_some();
    let mut arms = Vec::with_capacity(names.len());
    for (name, acc) in names.into_iter().zip(accs) {
        if acc.visitors == 0 {
            return Err(data_err(
                path,
                None,
                format!("variant `{name}` has 0 visitors"),
            ));
        }
        let revenue = has_revenue.then(|| {
            if aggregated {
                Moments::from_sums(acc.visitors, acc.sum, acc.sum_sq)
            } else {
                Moments {
                    n: acc.visitors,
                    mean: acc.mean,
                    variance: if acc.visitors > 1 {
                        acc.m2 / (acc.visitors - 1) as f64
                    } else {
                        0.0
                    },
                }
            }
        });
        arms.push(ArmData {
            name,
            visitors: acc.visitors,
            conversions: acc.conversions,
            revenue,
        });
    }
    Ok(ExperimentData {
        format: if aggregated {
            "aggregated"
        } else {
            "per-visitor"
        },
        arms,
    })
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
            let s: f64 = w.iter().sum();
            w.iter().map(|x| x / s).collect()
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
        .map(|(_, t)| compare(c, t))
        .collect();

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
    })
}

/// Compare treatment `t` with control `c` (before the multiple-testing correction).
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
            }
        }
    };
    Comparison {
        treatment: t.name.clone(),
        control: c.name.clone(),
        conversion,
        revenue_per_visitor,
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

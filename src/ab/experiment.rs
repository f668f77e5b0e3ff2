//! The experiment file of `loyalsim ab simulate`: strict TOML, then validation into an
//! [`Experiment`] that the simulator alone accepts.
//!
//! Keys are snake_case and enum values kebab-case, like the scenario format. Unknown keys
//! are rejected; each value is checked by a newtype as it is read, so toml itself reports
//! the line; checks across fields (segment shares summing to 1, rates staying in [0, 1]
//! under the effect) run afterwards and locate the segment through its span. Every error
//! names the file, the line, the field and what is allowed.
//!
//! ```toml
//! name = "points shown on the product page"
//! seed = 6                        # optional (default 1); --seed overrides
//! experiments = 2000              # optional (default 1000); --experiments overrides
//!
//! [traffic]
//! visitors_per_day = 4000         # mean visitors entering the test per day, both arms
//! days = 28                       # planned duration (the fixed horizon)
//! treatment_share = 0.5           # allocation: share of visitors in the treatment arm
//! daily_variation = "poisson"     # "poisson" (default) or "none" (exactly visitors_per_day)
//! assignment = "random"           # "random" (default: a coin per visitor) or "exact" split
//!
//! [[segments]]
//! name = "returning members"
//! share = 0.15                    # share of visitors; all shares sum to 1
//! conversion = 0.09               # control conversion rate
//! order_value = { mean = 64.0, sd = 35.0 }   # gamma-distributed order value (sd 0 = fixed)
//! # relative effects of the variant; conversion lift on day d (0-based) is
//! # conversion_lift + novelty_lift * 0.5^(d / novelty_half_life_days)
//! effect = { conversion_lift = 0.04, order_value_lift = 0.0,
//!            novelty_lift = 0.08, novelty_half_life_days = 4.0 }
//!
//! [analysis]
//! metric = "conversion"           # or "revenue-per-visitor"
//! alpha = 0.05
//! method = "fixed-horizon"        # or "peeking" or "sequential" (mSPRT)
//! look_every_days = 1             # looks for "peeking" and "sequential"
//! mixture_sd = 0.002              # optional, mSPRT mixing sd of the absolute difference
//!
//! [long_run]                      # optional: the loyalty scenario the variant feeds
//! scenario = "default.toml"       # relative to this file
//! design = "points"
//! enrolment_lift = 0.2            # relative lift in enrolment from the variant
//! months = 24                     # optional (default 24), 1..=120
//! effect_scale_sd = 1.0           # optional (default 0): the variant's lifts are the
//!                                 # file's x s, s ~ Normal(1, sd), one draw per experiment
//! ship_probability = 0.95         # optional: the "ship if P(win) > x" rule's x
//! test_cost_per_day = 0           # optional: the test's own running cost per day
//! max_test_days = 56              # optional (default 2 x days): the EVSI curve's end
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, Result};

// ---------------------------------------------------------------------------------------
// Value newtypes: checked while toml deserialises, so its error carries the line.
// ---------------------------------------------------------------------------------------

macro_rules! checked_f64 {
    ($(#[$doc:meta])* $name:ident, $ok:expr, $allowed:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
        #[serde(try_from = "f64")]
        pub struct $name(pub f64);

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(x: f64) -> std::result::Result<Self, String> {
                let ok: fn(f64) -> bool = $ok;
                if ok(x) {
                    Ok($name(x))
                } else {
                    Err(format!(concat!("must be ", $allowed, ", got {}"), x))
                }
            }
        }
    };
}

checked_f64!(
    /// A probability in [0, 1].
    Probability,
    |x| (0.0..=1.0).contains(&x),
    "a probability in [0, 1]"
);
checked_f64!(
    /// A finite number > 0.
    Positive,
    |x| x > 0.0 && x.is_finite(),
    "a finite number > 0"
);
checked_f64!(
    /// A finite number >= 0.
    NonNegative,
    |x| x >= 0.0 && x.is_finite(),
    "a finite number >= 0"
);
checked_f64!(
    /// A relative lift: finite and > −1 (−1 would mean the metric vanishes).
    Lift,
    |x| x > -1.0 && x.is_finite(),
    "a relative lift, finite and > -1 (0.05 = +5%)"
);
checked_f64!(
    /// A significance level in (0, 0.5].
    Alpha,
    |x| x > 0.0 && x <= 0.5,
    "a significance level in (0, 0.5]"
);
checked_f64!(
    /// A share strictly inside (0, 1).
    OpenShare,
    |x| x > 0.0 && x < 1.0,
    "a share in (0, 1)"
);

/// Visitors per day: > 0 and at most 10⁸.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct VisitorsPerDay(pub f64);

impl TryFrom<f64> for VisitorsPerDay {
    type Error = String;
    fn try_from(x: f64) -> std::result::Result<Self, String> {
        if x > 0.0 && x <= 1e8 {
            Ok(VisitorsPerDay(x))
        } else {
            Err(format!("must be a number of visitors in (0, 1e8], got {x}"))
        }
    }
}

/// Test duration in days: 1..=[`MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Days(pub u32);

/// Longest test the simulator accepts (a year).
pub const MAX_DAYS: u32 = 366;
/// Most simulated experiments per run.
pub const MAX_EXPERIMENTS: u64 = 200_000;

impl TryFrom<i64> for Days {
    type Error = String;
    fn try_from(x: i64) -> std::result::Result<Self, String> {
        if (1..=MAX_DAYS as i64).contains(&x) {
            Ok(Days(x as u32))
        } else {
            Err(format!(
                "must be a whole number of days in 1..={MAX_DAYS}, got {x}"
            ))
        }
    }
}

/// Number of simulated experiments: 1..=[`MAX_EXPERIMENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Experiments(pub u64);

impl TryFrom<i64> for Experiments {
    type Error = String;
    fn try_from(x: i64) -> std::result::Result<Self, String> {
        if (1..=MAX_EXPERIMENTS as i64).contains(&x) {
            Ok(Experiments(x as u64))
        } else {
            Err(format!(
                "must be a whole number of experiments in 1..={MAX_EXPERIMENTS}, got {x}"
            ))
        }
    }
}

/// A seed: a whole number >= 0.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Seed(pub u64);

impl TryFrom<i64> for Seed {
    type Error = String;
    fn try_from(x: i64) -> std::result::Result<Self, String> {
        u64::try_from(x)
            .map(Seed)
            .map_err(|_| format!("must be a whole number >= 0, got {x}"))
    }
}

// ---------------------------------------------------------------------------------------
// Raw mirror of the file
// ---------------------------------------------------------------------------------------

// Field docs: each field is the TOML key of the same name, documented in the module docs.
#[allow(missing_docs)]
mod raw {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawExperiment {
        pub name: String,
        pub seed: Option<Seed>,
        pub experiments: Option<Experiments>,
        pub traffic: RawTraffic,
        pub segments: toml::Spanned<Vec<toml::Spanned<RawSegment>>>,
        pub analysis: RawAnalysis,
        pub long_run: Option<toml::Spanned<RawLongRun>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawTraffic {
        pub visitors_per_day: VisitorsPerDay,
        pub days: Days,
        pub treatment_share: OpenShare,
        pub daily_variation: Option<super::DailyVariation>,
        pub assignment: Option<super::Assignment>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawSegment {
        pub name: String,
        pub share: Probability,
        pub conversion: Probability,
        pub order_value: RawOrderValue,
        pub effect: Option<RawEffect>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawOrderValue {
        pub mean: Positive,
        pub sd: NonNegative,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawEffect {
        pub conversion_lift: Option<Lift>,
        pub order_value_lift: Option<Lift>,
        pub novelty_lift: Option<Lift>,
        pub novelty_half_life_days: Option<Positive>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawAnalysis {
        pub metric: super::Metric,
        pub alpha: Option<Alpha>,
        pub method: super::Method,
        pub look_every_days: Option<Days>,
        pub mixture_sd: Option<Positive>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawLongRun {
        pub scenario: String,
        pub design: String,
        pub enrolment_lift: Lift,
        pub months: Option<Days>,
        pub effect_scale_sd: Option<NonNegative>,
        pub ship_probability: Option<OpenShare>,
        pub test_cost_per_day: Option<NonNegative>,
        pub max_test_days: Option<Days>,
    }
}

// ---------------------------------------------------------------------------------------
// Validated experiment
// ---------------------------------------------------------------------------------------

/// Day-to-day variation of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DailyVariation {
    /// Visitors per day ~ Poisson(visitors_per_day).
    Poisson,
    /// Exactly round(visitors_per_day) visitors each day.
    None,
}

/// How visitors are assigned to arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// Each visitor independently with probability `treatment_share` (what a hash split does).
    Random,
    /// Exactly round(visitors × treatment_share) treatment visitors per day (blocked).
    Exact,
}

/// The metric the simulated test decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Conversion rate, pooled two-proportion z-test.
    Conversion,
    /// Revenue per visitor, Welch t-test.
    RevenuePerVisitor,
}

/// How the simulated analyst reads the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// One test at the planned last day.
    FixedHorizon,
    /// The fixed-horizon test every `look_every_days`, stopping at the first p < alpha.
    Peeking,
    /// mSPRT (always-valid) every `look_every_days`, stopping when Λ ≥ 1/alpha.
    Sequential,
}

impl Method {
    /// All methods, in report order.
    pub const ALL: [Method; 3] = [Method::FixedHorizon, Method::Peeking, Method::Sequential];

    /// The kebab-case name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::FixedHorizon => "fixed-horizon",
            Method::Peeking => "peeking",
            Method::Sequential => "sequential",
        }
    }
}

/// The variant's effect on one segment (relative lifts).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Effect {
    /// Lasting relative lift in conversion.
    pub conversion_lift: f64,
    /// Relative lift in order value.
    pub order_value_lift: f64,
    /// Extra relative conversion lift on day 0, halving every `novelty_half_life_days`.
    pub novelty_lift: f64,
    /// Half-life of the novelty lift in days.
    pub novelty_half_life_days: f64,
}

impl Effect {
    /// Relative conversion lift on day `day` (0-based).
    pub fn conversion_lift_on(&self, day: u32) -> f64 {
        if self.novelty_lift == 0.0 {
            self.conversion_lift
        } else {
            self.conversion_lift
                + self.novelty_lift * 0.5_f64.powf(day as f64 / self.novelty_half_life_days)
        }
    }
}

/// A segment of visitors.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Segment {
    /// Name.
    pub name: String,
    /// Share of visitors.
    pub share: f64,
    /// Control conversion rate.
    pub conversion: f64,
    /// Mean order value (currency units).
    pub order_value_mean: f64,
    /// Standard deviation of order value (0 = every order has the mean value).
    pub order_value_sd: f64,
    /// The variant's effect.
    pub effect: Effect,
}

/// How the simulated test is analysed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnalysisPlan {
    /// Decision metric.
    pub metric: Metric,
    /// Two-sided significance level.
    pub alpha: f64,
    /// Primary method (all three are simulated; this one heads the report).
    pub method: Method,
    /// Days between looks for peeking and sequential.
    pub look_every_days: u32,
    /// mSPRT mixing standard deviation τ of the absolute difference, if set; otherwise
    /// 10% of the baseline metric (a +/-10% relative effect is "typical").
    pub mixture_sd: Option<f64>,
}

/// The optional link to a loyalty scenario's long run (validated structurally; the engine
/// call is not wired yet).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LongRun {
    /// Scenario file, resolved against the experiment file's folder.
    pub scenario: PathBuf,
    /// Design of that scenario whose enrolment the variant lifts.
    pub design: String,
    /// Relative lift in enrolment caused by the variant.
    pub enrolment_lift: f64,
    /// Months to simulate.
    pub months: u32,
    /// Uncertainty about the variant (issue 16): every lift of the variant (conversion,
    /// novelty, order value, enrolment) is the file's times a scale s ~ Normal(1, sd), one
    /// draw per simulated experiment; 0 (the default) keeps the file's lifts as the truth.
    pub effect_scale_sd: f64,
    /// The "ship if P(treatment beats control) > x" decision rule's x (default 0.95).
    pub ship_probability: f64,
    /// Cost of running the test per day (analysts, tooling), in the scenario's currency
    /// (default 0).
    pub test_cost_per_day: f64,
    /// Longest test length valued on the decision's EVSI curve (default twice
    /// `traffic.days`, within the horizon and [`MAX_DAYS`]).
    pub max_test_days: u32,
}

/// A validated experiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Experiment {
    /// Name (its slug is the default output folder).
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Simulated experiments.
    pub experiments: u64,
    /// Mean visitors per day, both arms.
    pub visitors_per_day: f64,
    /// Planned duration in days.
    pub days: u32,
    /// Share of visitors in the treatment arm.
    pub treatment_share: f64,
    /// Day-to-day traffic variation.
    pub daily_variation: DailyVariation,
    /// Assignment to arms.
    pub assignment: Assignment,
    /// Visitor segments.
    pub segments: Vec<Segment>,
    /// Analysis.
    pub analysis: AnalysisPlan,
    /// Optional long-run link.
    pub long_run: Option<LongRun>,
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// The dotted field at an error position: the last table header above the line plus the
/// key on the line (best effort; toml gives the line but not the key path).
fn field_at(src: &str, line: usize) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let key = lines
        .get(line.saturating_sub(1))
        .and_then(|l| {
            let t = l.trim();
            if t.starts_with('[') {
                None
            } else {
                t.split('=').next().map(|k| k.trim().to_string())
            }
        })
        .filter(|k| !k.is_empty());
    let mut header: Option<String> = None;
    let mut counts: Vec<(String, usize)> = Vec::new();
    for l in lines.iter().take(line) {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("[[") {
            let name = rest.split("]]").next().unwrap_or("").trim().to_string();
            let n = match counts.iter_mut().find(|(k, _)| *k == name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((name.clone(), 0));
                    0
                }
            };
            header = Some(format!("{name}[{n}]"));
        } else if let Some(rest) = t.strip_prefix('[') {
            header = Some(rest.split(']').next().unwrap_or("").trim().to_string());
        }
    }
    match (header, key) {
        (Some(h), Some(k)) => format!("{h}.{k}"),
        (Some(h), None) => h,
        (None, Some(k)) => k,
        (None, None) => "(file)".into(),
    }
}

impl Experiment {
    /// Read and validate an experiment file.
    pub fn load(path: &Path) -> Result<Self> {
        let src = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_str_at(&src, path)
    }

    /// Parse and validate TOML source; `path` names the file in errors and resolves the
    /// long-run scenario path.
    pub fn from_str_at(src: &str, path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let err = |line: Option<usize>, field: &str, message: String| Error::Scenario {
            path: shown.clone(),
            line,
            field: field.to_string(),
            message,
        };
        let raw: raw::RawExperiment = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s.start));
            let field = line
                .map(|l| field_at(src, l))
                .unwrap_or_else(|| "(file)".into());
            err(line, &field, e.message().trim().to_string())
        })?;

        let name = raw.name.trim().to_string();
        if name.is_empty() || slug(&name).is_empty() {
            return Err(err(
                None,
                "name",
                "must contain at least one letter or digit (it names the output folder)".into(),
            ));
        }
        let segs_line = line_of(src, raw.segments.span().start);
        let raw_segments = raw.segments.into_inner();
        if raw_segments.is_empty() {
            return Err(err(
                Some(segs_line),
                "segments",
                "at least one [[segments]] entry is required".into(),
            ));
        }
        let mut segments: Vec<Segment> = Vec::with_capacity(raw_segments.len());
        let mut share_sum = 0.0;
        for (i, s) in raw_segments.into_iter().enumerate() {
            let line = Some(line_of(src, s.span().start));
            let s = s.into_inner();
            let field = |k: &str| format!("segments[{i}].{k}");
            let nm = s.name.trim().to_string();
            if nm.is_empty() {
                return Err(err(line, &field("name"), "must not be empty".into()));
            }
            if segments.iter().any(|o| o.name == nm) {
                return Err(err(
                    line,
                    &field("name"),
                    format!("segment `{nm}` is declared twice; names must be unique"),
                ));
            }
            let e = s.effect.unwrap_or(raw::RawEffect {
                conversion_lift: None,
                order_value_lift: None,
                novelty_lift: None,
                novelty_half_life_days: None,
            });
            let novelty = e.novelty_lift.map_or(0.0, |x| x.0);
            let half_life = match (novelty != 0.0, e.novelty_half_life_days) {
                (true, None) => {
                    return Err(err(
                        line,
                        &field("effect.novelty_half_life_days"),
                        "is required when novelty_lift is not 0 (days for the novelty lift to halve, > 0)"
                            .into(),
                    ))
                }
                (_, Some(h)) => h.0,
                (false, None) => 1.0,
            };
            let effect = Effect {
                conversion_lift: e.conversion_lift.map_or(0.0, |x| x.0),
                order_value_lift: e.order_value_lift.map_or(0.0, |x| x.0),
                novelty_lift: novelty,
                novelty_half_life_days: half_life,
            };
            let p = s.conversion.0;
            // Conversion under the variant must stay a probability on every day. The lift
            // moves monotonically from day 0 to the lasting lift, so both ends suffice.
            let day0 = p * (1.0 + effect.conversion_lift_on(0));
            let lasting = p * (1.0 + effect.conversion_lift);
            if !(0.0..=1.0).contains(&day0) || !(0.0..=1.0).contains(&lasting) {
                return Err(err(
                    line,
                    &field("effect"),
                    format!(
                        "conversion {p} with conversion_lift {} and novelty_lift {novelty} gives \
                         a treatment conversion of {} outside [0, 1]",
                        effect.conversion_lift,
                        day0.max(lasting)
                    ),
                ));
            }
            share_sum += s.share.0;
            segments.push(Segment {
                name: nm,
                share: s.share.0,
                conversion: p,
                order_value_mean: s.order_value.mean.0,
                order_value_sd: s.order_value.sd.0,
                effect,
            });
        }
        if (share_sum - 1.0).abs() > 1e-6 {
            return Err(err(
                Some(segs_line),
                "segments[].share",
                format!(
                    "segment shares must sum to 1, got {}",
                    (share_sum * 1e9).round() / 1e9
                ),
            ));
        }

        let days = raw.traffic.days.0;
        let look = raw.analysis.look_every_days.map_or(1, |d| d.0);
        if look > days {
            return Err(err(
                None,
                "analysis.look_every_days",
                format!("must be at most traffic.days ({days}), got {look}"),
            ));
        }
        let analysis = AnalysisPlan {
            metric: raw.analysis.metric,
            alpha: raw.analysis.alpha.map_or(0.05, |a| a.0),
            method: raw.analysis.method,
            look_every_days: look,
            mixture_sd: raw.analysis.mixture_sd.map(|x| x.0),
        };

        let long_run = match raw.long_run {
            None => None,
            Some(lr) => {
                let line = Some(line_of(src, lr.span().start));
                let lr = lr.into_inner();
                if lr.scenario.trim().is_empty() {
                    return Err(err(
                        line,
                        "long_run.scenario",
                        "must name a scenario file".into(),
                    ));
                }
                if lr.design.trim().is_empty() {
                    return Err(err(
                        line,
                        "long_run.design",
                        "must name a design of that scenario".into(),
                    ));
                }
                let base = path.parent().unwrap_or_else(|| Path::new(""));
                let scenario = base.join(&lr.scenario);
                // Structural checks only: the scenario is loaded (and its design looked up)
                // where the engine is linked, which reports a missing file with its path.
                let months = lr.months.map_or(24, |m| m.0);
                if months > 120 {
                    return Err(err(
                        line,
                        "long_run.months",
                        format!("must be in 1..=120, got {months}"),
                    ));
                }
                let effect_scale_sd = lr.effect_scale_sd.map_or(0.0, |x| x.0);
                if effect_scale_sd > 10.0 {
                    return Err(err(
                        line,
                        "long_run.effect_scale_sd",
                        format!("must be in [0, 10], got {effect_scale_sd}"),
                    ));
                }
                if f64::from(months) * 365.25 / 12.0 <= f64::from(days) {
                    return Err(err(
                        line,
                        "long_run.months",
                        format!(
                            "the long run ({months} months) must last longer than the test \
                             ({days} days): the decision is valued after the test"
                        ),
                    ));
                }
                let horizon = (f64::from(months) * 365.25 / 12.0).round() as u32;
                let max_test_days = match lr.max_test_days {
                    Some(m) if m.0 < days || m.0 >= horizon => {
                        return Err(err(
                            line,
                            "long_run.max_test_days",
                            format!(
                                "must be at least traffic.days ({days}) and shorter than the \
                                 long run ({horizon} days), got {}",
                                m.0
                            ),
                        ))
                    }
                    Some(m) => m.0,
                    None => (2 * days).min(MAX_DAYS).min(horizon - 1).max(days),
                };
                Some(LongRun {
                    scenario,
                    max_test_days,
                    design: lr.design.trim().to_string(),
                    enrolment_lift: lr.enrolment_lift.0,
                    months,
                    effect_scale_sd,
                    ship_probability: lr.ship_probability.map_or(0.95, |x| x.0),
                    test_cost_per_day: lr.test_cost_per_day.map_or(0.0, |x| x.0),
                })
            }
        };

        Ok(Experiment {
            name,
            seed: raw.seed.map_or(1, |s| s.0),
            experiments: raw.experiments.map_or(1000, |e| e.0),
            visitors_per_day: raw.traffic.visitors_per_day.0,
            days,
            treatment_share: raw.traffic.treatment_share.0,
            daily_variation: raw
                .traffic
                .daily_variation
                .unwrap_or(DailyVariation::Poisson),
            assignment: raw.traffic.assignment.unwrap_or(Assignment::Random),
            segments,
            analysis,
            long_run,
        })
    }
}

/// Lower-case ASCII slug of a name: runs of other characters become one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

//! The optimisation file: base scenario, the design to tune, its parameters and bounds, the
//! objective and the constraints, validated before any simulation.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::metrics::{RunResults, RUN_METRICS};
use crate::scenario::locate::Locator;
use crate::scenario::units::{Replicates, Seed};
use crate::scenario::Scenario;
use crate::{Error, Result};

/// Name of the pseudo-metric "share of replicates whose incremental net profit is negative".
pub const P_LOSS: &str = "p_loss";

/// Metrics where less is better (for the trade-off frontier's direction).
const LESS_IS_BETTER: &[&str] = &[
    "points_liability",
    "program_cost",
    "reward_cost",
    "acquisition_cost",
    "discount_given",
    "fraud_cost",
    "churn_rate",
    "points_outstanding",
    P_LOSS,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawGoal {
    #[serde(alias = "maximize")]
    Maximise,
    #[serde(alias = "minimize")]
    Minimise,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjective {
    metric: Option<String>,
    goal: Option<RawGoal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConstraint {
    metric: String,
    max: Option<f64>,
    min: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    path: String,
    min: Option<f64>,
    max: Option<f64>,
    integer: Option<bool>,
    choices: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    base: String,
    design: String,
    seed: Option<Seed>,
    replicates: Option<Replicates>,
    reevaluation_replicates: Option<Replicates>,
    customers: Option<u64>,
    budget: Option<u32>,
    population: Option<u32>,
    sigma: Option<f64>,
    top: Option<u32>,
    frontier: Option<Vec<String>>,
    objective: Option<RawObjective>,
    constraints: Option<Vec<RawConstraint>>,
    parameters: Vec<RawParameter>,
}

/// A metric the optimiser can read from an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A run metric of the design (index into [`RUN_METRICS`]), mean over replicates.
    Run(usize),
    /// Share of replicates with negative incremental net profit.
    PLoss,
}

impl Metric {
    /// Parse a metric name.
    pub fn parse(name: &str) -> Option<Self> {
        if name == P_LOSS {
            return Some(Metric::PLoss);
        }
        RunResults::metric_index(name).map(Metric::Run)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Run(i) => RUN_METRICS[i],
            Metric::PLoss => P_LOSS,
        }
    }

    /// Whether a smaller value is better (frontier direction).
    pub fn less_is_better(self) -> bool {
        LESS_IS_BETTER.contains(&self.name())
    }
}

/// A bound on a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// metric <= cap.
    Max(f64),
    /// metric >= floor.
    Min(f64),
}

/// One constraint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    /// What is bounded.
    pub metric: Metric,
    /// The bound.
    pub bound: Bound,
}

impl Constraint {
    /// Relative violation of the bound by `value` (0 when met; undefined values violate).
    pub fn violation(&self, value: Option<f64>) -> f64 {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            return 1e12;
        };
        let (excess, bound) = match self.bound {
            Bound::Max(c) => (v - c, c),
            Bound::Min(f) => (f - v, f),
        };
        let scale = if bound == 0.0 { 1.0 } else { bound.abs() };
        excess.max(0.0) / scale
    }

    /// `p_loss <= 0.1`, as text.
    pub fn describe(&self) -> String {
        match self.bound {
            Bound::Max(c) => format!("{} <= {c}", self.metric.name()),
            Bound::Min(f) => format!("{} >= {f}", self.metric.name()),
        }
    }
}

/// How a parameter's values are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// Any value in [min, max].
    Continuous(f64, f64),
    /// Whole numbers in [min, max].
    Integer(i64, i64),
    /// One of a list of values.
    Choices(Vec<f64>),
}

/// One tuned parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Path into the scenario, in the sweep syntax.
    pub path: String,
    /// Its domain.
    pub domain: Domain,
    /// Its value in the base scenario (the design as it stands).
    pub base: f64,
}

impl Parameter {
    /// The value at position `y` in [0, 1] of the domain (equal-width bins for integers and
    /// choices, so every value is equally reachable).
    pub fn value(&self, y: f64) -> f64 {
        let y = y.clamp(0.0, 1.0);
        match &self.domain {
            Domain::Continuous(lo, hi) => lo + y * (hi - lo),
            Domain::Integer(lo, hi) => {
                let k = (y * (hi - lo + 1) as f64).floor() as i64;
                (lo + k).min(*hi) as f64
            }
            Domain::Choices(c) => c[((y * c.len() as f64).floor() as usize).min(c.len() - 1)],
        }
    }

    /// Where value `x` sits in [0, 1] (the middle of its bin for integers and choices).
    pub fn position(&self, x: f64) -> f64 {
        match &self.domain {
            Domain::Continuous(lo, hi) => ((x - lo) / (hi - lo)).clamp(0.0, 1.0),
            Domain::Integer(lo, hi) => {
                ((x.round() - *lo as f64 + 0.5) / (hi - lo + 1) as f64).clamp(0.0, 1.0)
            }
            Domain::Choices(c) => {
                let i = (0..c.len())
                    .min_by(|a, b| (c[*a] - x).abs().total_cmp(&(c[*b] - x).abs()))
                    .unwrap_or(0);
                (i as f64 + 0.5) / c.len() as f64
            }
        }
    }
}

/// Map an unbounded search coordinate into [0, 1] by reflection at the bounds (so the
/// search distribution never piles up on a bound, and no penalty is needed).
pub fn reflect(z: f64) -> f64 {
    let m = z.rem_euclid(2.0);
    if m > 1.0 {
        2.0 - m
    } else {
        m
    }
}

/// A validated optimisation.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name (output folder slug).
    pub name: String,
    /// The optimisation file, for messages.
    pub origin: String,
    /// SHA-256 of the optimisation file and the base scenario text.
    pub sha256: String,
    /// The design tuned.
    pub design: String,
    /// Seed of the simulations (common random numbers) and of the search.
    pub seed: u64,
    /// Replicates per search evaluation (replicates 0..R).
    pub replicates: u32,
    /// Fresh replicates of the final re-evaluation (replicates R..R+this).
    pub reevaluation_replicates: u32,
    /// Evaluations of the search.
    pub budget: u32,
    /// Candidates per generation.
    pub population: u32,
    /// Initial step size as a share of each parameter's range.
    pub sigma: f64,
    /// Candidates re-evaluated at the end.
    pub top: u32,
    /// The objective and whether it is maximised.
    pub objective: (Metric, bool),
    /// Constraints.
    pub constraints: Vec<Constraint>,
    /// Parameters.
    pub parameters: Vec<Parameter>,
    /// Metrics of the trade-off frontier against the objective.
    pub frontier: Vec<Metric>,
    base: toml::Value,
    base_origin: String,
    customers: Option<u64>,
    text: String,
}

fn err(origin: &str, loc: &Locator, field: &str, message: String) -> Error {
    Error::Scenario {
        path: origin.to_string(),
        line: loc.line_of_field(field),
        field: field.to_string(),
        message,
    }
}

fn metric(origin: &str, loc: &Locator, field: &str, name: &str) -> Result<Metric> {
    Metric::parse(name).ok_or_else(|| {
        err(
            origin,
            loc,
            field,
            format!(
                "unknown metric `{name}`; known: {P_LOSS}, {}",
                RUN_METRICS.join(", ")
            ),
        )
    })
}

/// Keep only the control (the first `kind = "none"` design) and `design` in the scenario:
/// the other designs do not affect either, and simulating them would be wasted work.
fn reduce(base: &mut toml::Value, design: &str) -> std::result::Result<(), String> {
    let designs = base
        .get_mut("designs")
        .and_then(|d| d.as_array_mut())
        .ok_or("the base scenario has no [[designs]]")?;
    let name = |d: &toml::Value| d.get("name").and_then(|n| n.as_str()).map(str::to_string);
    let kind = |d: &toml::Value| d.get("kind").and_then(|n| n.as_str()).map(str::to_string);
    let names: Vec<String> = designs.iter().filter_map(name).collect();
    let Some(target) = designs.iter().find(|d| name(d).as_deref() == Some(design)) else {
        return Err(format!(
            "the base scenario has no design named `{design}`; it has: {}",
            names.join(", ")
        ));
    };
    if kind(target).as_deref() == Some("none") {
        return Err(format!(
            "`{design}` is a control (kind = \"none\"): it has nothing to tune"
        ));
    }
    let control = designs
        .iter()
        .position(|d| kind(d).as_deref() == Some("none"))
        .ok_or("the base scenario has no control design (kind = \"none\")")?;
    let keep: Vec<toml::Value> = designs
        .iter()
        .enumerate()
        .filter(|(i, d)| *i == control || name(d).as_deref() == Some(design))
        .map(|(_, d)| d.clone())
        .collect();
    *designs = keep;
    Ok(())
}

impl Spec {
    /// Read and validate an optimisation file and its base scenario.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let origin = path.display().to_string();
        let loc = Locator::new(&text);
        let raw: RawSpec =
            toml::from_str(&text).map_err(|e| crate::scenario::toml_error(&loc, &origin, &e))?;
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&raw.base);
        let base_text =
            std::fs::read_to_string(&base_path).map_err(|e| Error::io(&base_path, e))?;
        let base_origin = base_path.display().to_string();
        Scenario::parse(&base_text, &base_origin)?;
        let mut base: toml::Value = toml::from_str(&base_text).map_err(|e| {
            crate::scenario::toml_error(&Locator::new(&base_text), &base_origin, &e)
        })?;
        reduce(&mut base, &raw.design).map_err(|m| err(&origin, &loc, "design", m))?;
        let parameters = Self::parameters(&raw, &mut base, &origin, &loc)?;
        let objective = match &raw.objective {
            None => (
                Metric::parse("incremental_net_profit").expect("metric"),
                true,
            ),
            Some(o) => (
                match &o.metric {
                    Some(m) => metric(&origin, &loc, "objective.metric", m)?,
                    None => Metric::parse("incremental_net_profit").expect("metric"),
                },
                o.goal != Some(RawGoal::Minimise),
            ),
        };
        let constraints = Self::constraints(&raw, &origin, &loc)?;
        let frontier = match &raw.frontier {
            None => ["members", "points_liability"]
                .iter()
                .filter_map(|m| Metric::parse(m))
                .collect(),
            Some(names) => names
                .iter()
                .enumerate()
                .map(|(i, n)| metric(&origin, &loc, &format!("frontier[{i}]"), n))
                .collect::<Result<_>>()?,
        };
        let sc = Scenario::parse(&base_text, &base_origin)?;
        let replicates = raw.replicates.map_or(sc.replicates, |r| r.0);
        let population = raw
            .population
            .unwrap_or(super::cmaes::default_lambda(parameters.len()) as u32);
        if !(2..=1000).contains(&population) {
            return Err(err(
                &origin,
                &loc,
                "population",
                format!("must be from 2 to 1000, got {population}"),
            ));
        }
        let budget = raw.budget.unwrap_or(population * 10);
        if budget < population || budget > 100_000 {
            return Err(err(
                &origin,
                &loc,
                "budget",
                format!(
                    "must be from `population` ({population}) to 100000 evaluations, got {budget}"
                ),
            ));
        }
        let sigma = raw.sigma.unwrap_or(0.3);
        if !(sigma > 0.0 && sigma <= 1.0) {
            return Err(err(
                &origin,
                &loc,
                "sigma",
                format!(
                    "the initial step, as a share of each range, must be in (0, 1], got {sigma}"
                ),
            ));
        }
        let top = raw.top.unwrap_or(5);
        if !(1..=100).contains(&top) {
            return Err(err(
                &origin,
                &loc,
                "top",
                format!("must be from 1 to 100, got {top}"),
            ));
        }
        if let Some(c) = raw.customers {
            if c == 0 || c > crate::scenario::units::MAX_CUSTOMERS {
                return Err(err(
                    &origin,
                    &loc,
                    "customers",
                    format!(
                        "must be from 1 to {}",
                        crate::scenario::units::MAX_CUSTOMERS
                    ),
                ));
            }
        }
        let mut h = Sha256::new();
        h.update(text.as_bytes());
        h.update(base_text.as_bytes());
        let spec = Spec {
            name: raw.name,
            origin,
            sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            design: raw.design,
            seed: raw.seed.map_or(sc.seed, |s| s.0),
            replicates,
            reevaluation_replicates: raw
                .reevaluation_replicates
                .map_or(replicates.max(10) * 2, |r| r.0),
            budget,
            population,
            sigma,
            top,
            objective,
            constraints,
            parameters,
            frontier,
            base,
            base_origin,
            customers: raw.customers,
            text: text.clone(),
        };
        spec.check_corners()?;
        Ok(spec)
    }

    fn parameters(
        raw: &RawSpec,
        base: &mut toml::Value,
        origin: &str,
        loc: &Locator,
    ) -> Result<Vec<Parameter>> {
        if raw.parameters.is_empty() {
            return Err(err(
                origin,
                loc,
                "parameters",
                "needs at least one [[parameters]] entry".into(),
            ));
        }
        let mut out: Vec<Parameter> = Vec::new();
        for (i, p) in raw.parameters.iter().enumerate() {
            let field = |k: &str| format!("parameters[{i}].{k}");
            if out.iter().any(|q| q.path == p.path) {
                return Err(err(
                    origin,
                    loc,
                    &field("path"),
                    format!("path `{}` is given twice", p.path),
                ));
            }
            let segs: Vec<&str> = p.path.split('.').collect();
            if segs.first() == Some(&"designs") && segs.get(1) != Some(&raw.design.as_str()) {
                return Err(err(origin, loc, &field("path"), format!("path `{}`: address the tuned design by name, as `designs.{}.<field>` (other designs are not simulated)", p.path, raw.design)));
            }
            let v = crate::sweep::locate(base, &p.path)
                .map_err(|m| err(origin, loc, &field("path"), m))?;
            let value = v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            let base_value = value.ok_or_else(|| {
                err(
                    origin,
                    loc,
                    &field("path"),
                    format!("path `{}` is not a number in the base scenario", p.path),
                )
            })?;
            let domain = match (&p.choices, p.min, p.max) {
                (Some(c), None, None) => {
                    if c.is_empty() || c.iter().any(|x| !x.is_finite()) {
                        return Err(err(origin, loc, &field("choices"), "needs at least one finite value".into()));
                    }
                    Domain::Choices(c.clone())
                }
                (None, Some(lo), Some(hi)) => {
                    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                        return Err(err(origin, loc, &field("min"), format!("needs finite min < max, got {lo} and {hi}")));
                    }
                    if p.integer == Some(true) {
                        if lo.fract() != 0.0 || hi.fract() != 0.0 || lo.abs() > 1e15 || hi.abs() > 1e15 {
                            return Err(err(origin, loc, &field("min"), format!("an integer parameter needs whole-number bounds, got {lo} and {hi}")));
                        }
                        Domain::Integer(lo as i64, hi as i64)
                    } else {
                        Domain::Continuous(lo, hi)
                    }
                }
                _ => {
                    return Err(err(origin, loc, &format!("parameters[{i}]"), "give either `min` and `max` (with `integer = true` for whole numbers) or `choices = [...]`".into()))
                }
            };
            out.push(Parameter {
                path: p.path.clone(),
                domain,
                base: base_value,
            });
        }
        Ok(out)
    }

    fn constraints(raw: &RawSpec, origin: &str, loc: &Locator) -> Result<Vec<Constraint>> {
        let mut out = Vec::new();
        for (i, c) in raw.constraints.iter().flatten().enumerate() {
            let field = format!("constraints[{i}]");
            let m = metric(origin, loc, &format!("{field}.metric"), &c.metric)?;
            let bound = match (c.max, c.min) {
                (Some(x), None) if x.is_finite() => Bound::Max(x),
                (None, Some(x)) if x.is_finite() => Bound::Min(x),
                _ => {
                    return Err(err(
                        origin,
                        loc,
                        &field,
                        "give exactly one finite `max` or `min`".into(),
                    ))
                }
            };
            out.push(Constraint { metric: m, bound });
        }
        Ok(out)
    }

    /// Every parameter at its bounds (others at the start) must give a valid scenario:
    /// checked before any work, so a bad bound fails in a second, not after an hour.
    fn check_corners(&self) -> Result<()> {
        let start = self.start();
        let mut points = vec![start.clone()];
        for k in 0..self.parameters.len() {
            for y in [0.0, 1.0] {
                let mut p = start.clone();
                p[k] = y;
                points.push(p);
            }
        }
        for p in points {
            let x = self.values(&p);
            self.scenario(&x).map_err(|e| {
                err(
                    &self.origin,
                    &Locator::new(&self.text),
                    "parameters",
                    format!("at {} the scenario is invalid: {e}", self.describe(&x)),
                )
            })?;
        }
        Ok(())
    }

    /// The start of the search in [0, 1]^n: the base scenario's design.
    pub fn start(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.position(p.base)).collect()
    }

    /// The parameter values at positions `y` in [0, 1]^n.
    pub fn values(&self, y: &[f64]) -> Vec<f64> {
        self.parameters
            .iter()
            .zip(y)
            .map(|(p, y)| p.value(*y))
            .collect()
    }

    /// The base scenario's values of the parameters (the design as it stands).
    pub fn baseline(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.base).collect()
    }

    /// `path = value, ...`.
    pub fn describe(&self, x: &[f64]) -> String {
        self.parameters
            .iter()
            .zip(x)
            .map(|(p, v)| format!("{} = {}", p.path, crate::report::round_reported(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The base scenario (control and the tuned design) with the parameters set to `x`.
    pub fn value_at(&self, x: &[f64]) -> Result<toml::Value> {
        let mut v = self.base.clone();
        for (p, x) in self.parameters.iter().zip(x) {
            crate::sweep::set(&mut v, &p.path, *x).map_err(Error::Other)?;
        }
        Ok(v)
    }

    /// The validated scenario at `x`, with the optimisation's seed and customers.
    pub fn scenario(&self, x: &[f64]) -> Result<Scenario> {
        let v = self.value_at(x)?;
        let text = toml::to_string(&v).map_err(|e| Error::Other(e.to_string()))?;
        let origin = format!("{} at {}", self.base_origin, self.describe(x));
        let mut sc = Scenario::parse(&text, &origin)?;
        sc.seed = self.seed;
        sc.apply(crate::scenario::Overrides {
            customers: self.customers,
            ..Default::default()
        })?;
        Ok(sc)
    }

    /// Search generations: the budget divided by the population.
    pub fn generations(&self) -> u32 {
        self.budget / self.population
    }

    /// The line of a field in the optimisation file, for messages.
    pub fn line_of(&self, field: &str) -> Option<usize> {
        Locator::new(&self.text).line_of_field(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_map_bins_evenly() {
        let p = |domain| Parameter {
            path: "x".into(),
            domain,
            base: 0.0,
        };
        let int = p(Domain::Integer(1, 3));
        assert_eq!(int.value(0.0), 1.0);
        assert_eq!(int.value(0.34), 2.0);
        assert_eq!(int.value(1.0), 3.0);
        assert_eq!(int.value(int.position(2.0)), 2.0);
        let ch = p(Domain::Choices(vec![150.0, 250.0, 400.0]));
        assert_eq!(ch.value(0.5), 250.0);
        assert_eq!(ch.value(ch.position(400.0)), 400.0);
        let c = p(Domain::Continuous(0.5, 2.5));
        assert!((c.value(c.position(1.7)) - 1.7).abs() < 1e-12);
        assert_eq!(reflect(1.25), 0.75);
        assert_eq!(reflect(-0.25), 0.25);
        assert_eq!(reflect(2.5), 0.5);
    }

    #[test]
    fn violation_is_relative() {
        let c = Constraint {
            metric: Metric::PLoss,
            bound: Bound::Max(0.1),
        };
        assert_eq!(c.violation(Some(0.05)), 0.0);
        assert!((c.violation(Some(0.3)) - 2.0).abs() < 1e-12);
        let m = Constraint {
            metric: Metric::Run(0),
            bound: Bound::Min(5000.0),
        };
        assert!((m.violation(Some(4000.0)) - 0.2).abs() < 1e-12);
        assert!(m.violation(None) > 1e9);
    }
}

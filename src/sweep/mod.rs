//! Parameter sweeps and sensitivity analysis, sharded for job arrays.
//!
//! A sweep file names a base scenario and the parameters to vary, each by a path into the
//! scenario (`designs.points.earn.per_currency_unit`; designs and segments are addressed by
//! name, other arrays by index). Every point is the base scenario with those values set,
//! re-validated by the scenario parser. All points share the seed, so they simulate the
//! same customers (common random numbers across points as well as designs): neighbouring
//! points differ by the parameter, not by noise.
//!
//! Work is split into units (point, replicate). `--shard K/N` runs the units whose index
//! is K mod N and writes one partial file with their exact integer tallies; `merge` checks
//! the partials belong to the same sweep, then derives the results with the same function
//! as an unsharded run, so the bytes are identical.

pub mod charts;
mod report;
mod reuse;

pub use reuse::EVERY_DESIGN_ENV;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::{RunResults, Tally, RUN_METRICS};
use crate::report::write::OutputFiles;
use crate::scenario::locate::Locator;
use crate::scenario::units::{Positive, Replicates, Seed};
use crate::scenario::Scenario;
use crate::{Error, Result};

/// Largest number of points run without `--allow-large`.
pub const MAX_POINTS: usize = 10_000;

/// How points are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Every combination of the parameters' values.
    Grid,
    /// `samples` points, each parameter stratified into `samples` equal bins.
    LatinHypercube,
    /// The base point, then each parameter over its values with the others at base.
    OneAtATime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: f64,
    to: f64,
    /// Grid and one-at-a-time only: a Latin hypercube draws `samples` points instead.
    steps: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    path: String,
    values: Option<Vec<f64>>,
    range: Option<RawRange>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: String,
    base: String,
    mode: Option<Mode>,
    samples: Option<Positive>,
    replicates: Option<Replicates>,
    seed: Option<Seed>,
    metrics: Option<Vec<String>>,
    /// Only these designs (by name) are simulated at each point; the control always is.
    designs: Option<Vec<String>>,
    parameters: Vec<RawParameter>,
}

/// One varied parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Path into the scenario.
    pub path: String,
    /// The values it takes (points computed by index: from + i x (to - from) / (steps - 1)).
    pub values: Vec<f64>,
    /// Its value in the base scenario.
    pub base: f64,
}

/// A validated sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name.
    pub name: String,
    /// SHA-256 of the sweep file and the base scenario text.
    pub sha256: String,
    /// How points are chosen.
    pub mode: Mode,
    /// Parameters.
    pub parameters: Vec<Parameter>,
    /// Points: one value per parameter.
    pub points: Vec<Vec<f64>>,
    /// Metrics written to sweep.csv.
    pub metrics: Vec<usize>,
    base_text: String,
    base_origin: String,
    seed: Option<u64>,
    replicates: Option<u32>,
    /// Designs simulated at points after the first (`None`: all); see [`reuse`].
    kept: Option<Vec<usize>>,
    /// The designs the swept paths touch (`None`: all), whether or not results are reused.
    touched: Option<Vec<usize>>,
}

fn sweep_err(origin: &str, loc: &Locator, field: &str, message: String) -> Error {
    Error::Scenario {
        path: origin.to_string(),
        line: loc.line_of_field(field),
        field: field.to_string(),
        message,
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

fn nearest(key: &str, options: &[String]) -> String {
    let mut o: Vec<&String> = options.iter().collect();
    o.sort_by_key(|k| (levenshtein(key, k), (*k).clone()));
    o.iter()
        .take(4)
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Find the value at `path` in a scenario's TOML value; Err(message) names the nearest keys.
pub fn locate<'v>(
    root: &'v mut toml::Value,
    path: &str,
) -> std::result::Result<&'v mut toml::Value, String> {
    let mut cur = root;
    let mut walked = String::new();
    for seg in path.split('.') {
        let here = if walked.is_empty() {
            "the scenario".to_string()
        } else {
            format!("`{walked}`")
        };
        cur = match cur {
            toml::Value::Table(t) => {
                let keys: Vec<String> = t.keys().cloned().collect();
                match t.get_mut(seg) {
                    Some(v) => v,
                    None => {
                        return Err(format!(
                            "path `{path}`: {here} has no key `{seg}`; nearest: {}",
                            nearest(seg, &keys)
                        ))
                    }
                }
            }
            toml::Value::Array(a) => {
                let names: Vec<String> = a
                    .iter()
                    .filter_map(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect();
                let i = match seg.parse::<usize>() {
                    Ok(i) if i < a.len() => i,
                    _ => match names.iter().position(|n| n == seg) {
                        Some(i) => i,
                        None => {
                            return Err(format!(
                                "path `{path}`: {here} has no entry named `{seg}`; nearest: {}",
                                if names.is_empty() {
                                    format!("indices 0..{}", a.len())
                                } else {
                                    nearest(seg, &names)
                                }
                            ))
                        }
                    },
                };
                &mut a[i]
            }
            _ => {
                return Err(format!(
                    "path `{path}`: {here} is a value, not a table or array"
                ))
            }
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    Ok(cur)
}

/// Set the number at `path` (an integer is rounded); Err(message) names what is wrong.
pub fn set(root: &mut toml::Value, path: &str, x: f64) -> std::result::Result<(), String> {
    let v = locate(root, path)?;
    *v = match v {
        toml::Value::Integer(_) => toml::Value::Integer(x.round() as i64),
        toml::Value::Float(_) => toml::Value::Float(x),
        _ => {
            return Err(format!(
                "path `{path}` is not a number in the base scenario"
            ))
        }
    };
    Ok(())
}

impl Sweep {
    /// Read and validate a sweep file (and its base scenario).
    pub fn from_file(path: &Path, allow_large: bool) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let origin = path.display().to_string();
        let loc = Locator::new(&text);
        let raw: RawSweep =
            toml::from_str(&text).map_err(|e| crate::scenario::toml_error(&loc, &origin, &e))?;
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&raw.base);
        let base_text =
            std::fs::read_to_string(&base_path).map_err(|e| Error::io(&base_path, e))?;
        let base_origin = base_path.display().to_string();
        Scenario::parse(&base_text, &base_origin)?;
        // A sweep varies values itself: uncertain inputs of the base run at their median.
        let base_text = crate::uncertainty::at_medians(&base_text, &base_origin)?;
        let mut base_value: toml::Value = toml::from_str(&base_text).map_err(|e| {
            crate::scenario::toml_error(&Locator::new(&base_text), &base_origin, &e)
        })?;
        let base_text = match &raw.designs {
            Some(keep) => {
                keep_designs(&mut base_value, keep)
                    .map_err(|m| sweep_err(&origin, &loc, "designs", m))?;
                toml::to_string(&base_value).map_err(|e| Error::Other(e.to_string()))?
            }
            None => base_text,
        };
        if raw.parameters.is_empty() {
            return Err(sweep_err(
                &origin,
                &loc,
                "parameters",
                "needs at least one [[parameters]] entry".into(),
            ));
        }
        let mode = raw.mode.unwrap_or(Mode::Grid);
        check_samples(mode, raw.samples.is_some())
            .map_err(|m| sweep_err(&origin, &loc, "samples", m))?;
        let mut parameters = Vec::new();
        for (i, p) in raw.parameters.iter().enumerate() {
            let field = |k: &str| format!("parameters[{i}].{k}");
            let base = match locate(&mut base_value, &p.path) {
                Ok(v) => v
                    .as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .ok_or_else(|| {
                        sweep_err(
                            &origin,
                            &loc,
                            &field("path"),
                            format!("path `{}` is not a number in the base scenario", p.path),
                        )
                    })?,
                Err(m) => return Err(sweep_err(&origin, &loc, &field("path"), m)),
            };
            let values =
                parameter_values(p, i, mode).map_err(|(f, m)| sweep_err(&origin, &loc, &f, m))?;
            parameters.push(Parameter {
                path: p.path.clone(),
                values,
                base,
            });
        }
        let points = match mode {
            Mode::Grid => {
                let mut pts: Vec<Vec<f64>> = vec![Vec::new()];
                let total: f64 = parameters.iter().map(|p| p.values.len() as f64).product();
                if total > MAX_POINTS as f64 && !allow_large {
                    return Err(sweep_err(&origin, &loc, "parameters", format!("the grid has {total} points; more than {MAX_POINTS} needs --allow-large")));
                }
                for p in &parameters {
                    pts = pts
                        .iter()
                        .flat_map(|prefix| {
                            p.values.iter().map(move |v| {
                                let mut q = prefix.clone();
                                q.push(*v);
                                q
                            })
                        })
                        .collect();
                }
                pts
            }
            Mode::LatinHypercube => {
                let n = raw.samples.map(|s| s.get().round() as usize).unwrap_or(0);
                if n == 0 {
                    return Err(sweep_err(
                        &origin,
                        &loc,
                        "samples",
                        "latin-hypercube needs `samples` >= 1 (a whole number)".into(),
                    ));
                }
                if n > MAX_POINTS && !allow_large {
                    return Err(sweep_err(
                        &origin,
                        &loc,
                        "samples",
                        format!("{n} samples; more than {MAX_POINTS} needs --allow-large"),
                    ));
                }
                // Stratified: bin k of each parameter used once, bins permuted per parameter
                // by a generator seeded from the sweep's seed.
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(raw.seed.map_or(1, |s| s.0) ^ 0x4c48_5300);
                let mut cols: Vec<Vec<f64>> = Vec::new();
                for p in &parameters {
                    let lo = p.values.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = p.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let mut bins: Vec<usize> = (0..n).collect();
                    for k in (1..n).rev() {
                        let j = rng.random_range(0..=k);
                        bins.swap(k, j);
                    }
                    cols.push(
                        bins.iter()
                            .map(|&b| {
                                let u: f64 = rng.random();
                                lo + (b as f64 + u) / n as f64 * (hi - lo)
                            })
                            .collect(),
                    );
                }
                (0..n)
                    .map(|i| cols.iter().map(|c| c[i]).collect())
                    .collect()
            }
            Mode::OneAtATime => {
                let base: Vec<f64> = parameters.iter().map(|p| p.base).collect();
                let mut pts = vec![base.clone()];
                for (i, p) in parameters.iter().enumerate() {
                    for v in &p.values {
                        let mut q = base.clone();
                        q[i] = *v;
                        pts.push(q);
                    }
                }
                pts
            }
        };
        let metrics = match &raw.metrics {
            None => (0..RUN_METRICS.len()).collect(),
            Some(names) => names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    RunResults::metric_index(n).ok_or_else(|| {
                        sweep_err(
                            &origin,
                            &loc,
                            &format!("metrics[{k}]"),
                            format!("unknown metric `{n}`; known: {}", RUN_METRICS.join(", ")),
                        )
                    })
                })
                .collect::<Result<_>>()?,
        };
        let mut h = Sha256::new();
        h.update(text.as_bytes());
        h.update(base_text.as_bytes());
        let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let sweep = Sweep {
            name: raw.name,
            sha256,
            mode,
            parameters,
            points,
            metrics,
            base_text,
            base_origin,
            seed: raw.seed.map(|s| s.0),
            replicates: raw.replicates.map(|r| r.0),
            kept: None,
            touched: None,
        };
        // Every point must be a valid scenario: check them all before any work.
        for i in 0..sweep.points.len() {
            sweep.scenario(i)?;
        }
        let paths: Vec<&str> = sweep.parameters.iter().map(|p| p.path.as_str()).collect();
        let first = sweep.scenario(0)?;
        let kept = reuse::kept_designs(&first, &paths);
        let touched = reuse::touched_designs(&first, &paths);
        Ok(Sweep {
            kept,
            touched,
            ..sweep
        })
    }

    /// The scenario of point `i`.
    pub fn scenario(&self, i: usize) -> Result<Scenario> {
        let mut v: toml::Value =
            toml::from_str(&self.base_text).map_err(|e| Error::Other(e.to_string()))?;
        for (p, x) in self.parameters.iter().zip(&self.points[i]) {
            set(&mut v, &p.path, *x).map_err(Error::Other)?;
        }
        let text = toml::to_string(&v).map_err(|e| Error::Other(e.to_string()))?;
        let mut sc = Scenario::parse(&text, &format!("{} (sweep point {i})", self.base_origin))?;
        if let Some(s) = self.seed {
            sc.seed = s;
        }
        if let Some(r) = self.replicates {
            sc.replicates = r;
        }
        Ok(sc)
    }

    /// The scenario a unit of point `i` simulates: every design at point 0, only the kept
    /// designs elsewhere (the others are copied from point 0 when results are derived).
    fn unit_scenario(&self, i: usize) -> Result<Scenario> {
        let mut sc = self.scenario(i)?;
        if let (true, Some(keep)) = (i > 0, &self.kept) {
            reuse::reduce(&mut sc, keep);
        }
        Ok(sc)
    }

    /// Names of the designs no swept path touches (simulated once, at point 0).
    pub fn untouched_designs(&self) -> Result<Vec<String>> {
        let sc = self.scenario(0)?;
        Ok(match &self.touched {
            None => Vec::new(),
            Some(keep) => (0..sc.designs.len())
                .filter(|i| !keep.contains(i))
                .map(|i| sc.designs[i].name.clone())
                .collect(),
        })
    }

    /// Replicates per point.
    pub fn replicates(&self) -> Result<u32> {
        Ok(self.scenario(0)?.replicates)
    }

    /// Number of work units (point x replicate).
    pub fn units(&self) -> Result<usize> {
        Ok(self.points.len() * self.replicates()? as usize)
    }
}

/// The result of one unit: tallies of every design for (point, replicate).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unit {
    /// Point index.
    pub point: usize,
    /// Replicate.
    pub replicate: u32,
    /// One tally per design.
    pub tallies: Vec<Tally>,
}

/// A shard's partial file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    /// SHA-256 of the sweep (file and base scenario).
    pub sweep_sha256: String,
    /// Number of shards.
    pub shards: usize,
    /// This shard.
    pub shard: usize,
    /// Units of this shard, in unit order.
    pub units: Vec<Unit>,
}

/// Run the units of shard `k` of `n` (all units for 0 of 1). `progress` is told of each
/// finished unit.
pub fn run_units(
    sweep: &Sweep,
    k: usize,
    n: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Unit>> {
    let reps = sweep.replicates()? as usize;
    let units: Vec<usize> = (0..sweep.points.len() * reps)
        .filter(|u| u % n == k)
        .collect();
    let scenarios: Vec<Option<Scenario>> = (0..sweep.points.len())
        .map(|p| {
            if units.iter().any(|u| u / reps == p) {
                sweep.unit_scenario(p).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect::<Result<_>>()?;
    Ok(units
        .into_par_iter()
        .map(|u| {
            let (point, replicate) = (u / reps, (u % reps) as u32);
            let sc = scenarios[point]
                .as_ref()
                .expect("scenario of a unit's point");
            let ctx = crate::engine::customer::Context::new(sc);
            let tallies = crate::engine::simulate_replicate(&ctx, replicate, None);
            progress();
            Unit {
                point,
                replicate,
                tallies,
            }
        })
        .collect())
}

/// `samples` sets the number of points of a Latin hypercube and nothing else: required
/// there, refused elsewhere (where it would be silently ignored).
fn check_samples(mode: Mode, given: bool) -> std::result::Result<(), String> {
    match (mode, given) {
        (Mode::LatinHypercube, false) => Err(
            "mode = \"latin-hypercube\" needs `samples = N`, the number of points to draw".into(),
        ),
        (Mode::Grid | Mode::OneAtATime, true) => Err(format!(
            "`samples` is only for mode = \"latin-hypercube\"; a {} sweep takes its points \
             from each parameter's `values` or `range` steps",
            if mode == Mode::Grid {
                "grid"
            } else {
                "one-at-a-time"
            }
        )),
        _ => Ok(()),
    }
}

/// The values of one parameter: its `values`, or `range` points by index. A Latin
/// hypercube only uses the bounds (lowest and highest value), so its range takes no `steps`.
/// Err is (field, message).
fn parameter_values(
    p: &RawParameter,
    i: usize,
    mode: Mode,
) -> std::result::Result<Vec<f64>, (String, String)> {
    let field = |k: &str| format!("parameters[{i}].{k}");
    let r = match (&p.values, &p.range) {
        (Some(v), None) => {
            if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
                return Err((field("values"), "needs at least one finite value".into()));
            }
            return Ok(v.clone());
        }
        (None, Some(r)) => r,
        _ => {
            return Err((
                format!("parameters[{i}]"),
                "give exactly one of `values = [...]` or `range = { from, to, steps }` \
                 (`range = { from, to }` in a latin-hypercube sweep)"
                    .into(),
            ))
        }
    };
    let lhs = mode == Mode::LatinHypercube;
    let steps = match (r.steps, lhs) {
        (Some(_), true) => return Err((field("range"), "a latin-hypercube sweep draws `samples` points between `from` and `to`; `steps` is not used there: remove it".into())),
        (None, true) => 2,
        (None, false) => return Err((field("range"), "needs `steps`, the number of points from `from` to `to` (a latin-hypercube sweep uses `samples` instead)".into())),
        (Some(n), false) => n,
    };
    if steps < 1 || steps > MAX_POINTS as i64 {
        return Err((
            field("range"),
            format!("steps must be from 1 to {MAX_POINTS}, got {steps}"),
        ));
    }
    if !(r.from.is_finite() && r.to.is_finite()) || (steps > 1 && r.from == r.to) {
        return Err((
            field("range"),
            format!("the range {} to {} is empty", r.from, r.to),
        ));
    }
    let n = steps as usize;
    Ok((0..n)
        .map(|k| {
            if n == 1 {
                r.from
            } else {
                r.from + k as f64 * (r.to - r.from) / (n - 1) as f64
            }
        })
        .collect())
}

/// Drop from a base scenario every design that is neither the control (`kind = "none"`) nor
/// named in `keep`: a sweep that studies one design need not simulate the others at every
/// point. A name that is not a design of the base is an error listing the names there are.
fn keep_designs(base: &mut toml::Value, keep: &[String]) -> std::result::Result<(), String> {
    let Some(designs) = base.get_mut("designs").and_then(|d| d.as_array_mut()) else {
        return Err("the base scenario has no [[designs]] to choose from".into());
    };
    let name = |d: &toml::Value| d.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    let names: Vec<String> = designs.iter().filter_map(name).collect();
    if let Some(unknown) = keep.iter().find(|k| !names.contains(k)) {
        return Err(format!(
            "no design `{unknown}` in the base scenario; its designs: {}",
            names.join(", ")
        ));
    }
    designs.retain(|d| {
        let control = d.get("kind").and_then(|k| k.as_str()) == Some("none");
        control || name(d).is_some_and(|n| keep.contains(&n))
    });
    Ok(())
}

/// Parse `K/N` or `auto/N` (K from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| Error::Usage(format!("--shard `{s}`: expected K/N or auto/N")))?;
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::Usage(format!("--shard `{s}`: N must be a whole number >= 1")))?;
    let k: usize = if k == "auto" {
        let var = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]
            .iter()
            .find_map(|v| std::env::var(v).ok())
            .ok_or_else(|| {
                Error::Usage(
                    "--shard auto/N: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"
                        .into(),
                )
            })?;
        var.parse().map_err(|_| {
            Error::Usage(format!("--shard auto: task index `{var}` is not a number"))
        })?
    } else {
        k.parse()
            .map_err(|_| Error::Usage(format!("--shard `{s}`: K must be a whole number")))?
    };
    if k >= n {
        return Err(Error::Usage(format!(
            "--shard {k}/{n}: the shard index must be from 0 to {}",
            n - 1
        )));
    }
    Ok((k, n))
}

/// File name of shard `k` of `n`.
pub fn partial_name(k: usize, n: usize) -> String {
    format!("partial-{k:05}-of-{n:05}.json")
}

/// Render a shard's partial file.
pub fn render_partial(sweep: &Sweep, k: usize, n: usize, units: Vec<Unit>) -> Vec<u8> {
    let p = Partial {
        sweep_sha256: sweep.sha256.clone(),
        shards: n,
        shard: k,
        units,
    };
    serde_json::to_vec(&p).expect("partials serialise")
}

fn fmt_values(v: &[f64]) -> String {
    v.iter()
        .map(|x| crate::report::round_reported(*x).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Derive and render the sweep's results from all units (any order; sorted here).
pub fn render_results(sweep: &Sweep, mut units: Vec<Unit>) -> Result<OutputFiles> {
    units.sort_by_key(|u| (u.point, u.replicate));
    let designs = sweep.scenario(0)?.designs.len();
    let mut by_point: BTreeMap<usize, Vec<Vec<Tally>>> = BTreeMap::new();
    for u in units {
        let full = u.point == 0 || sweep.kept.is_none();
        if full && u.tallies.len() != designs {
            return Err(Error::Other(format!(
                "sweep unit (point {}, replicate {}) holds {} designs, expected {designs}: \
                 rerun the shards with this program version",
                u.point,
                u.replicate,
                u.tallies.len()
            )));
        }
        let tallies = match (&sweep.kept, by_point.get(&0)) {
            (Some(keep), Some(first)) if u.point > 0 => {
                let first = first.get(u.replicate as usize).ok_or_else(|| {
                    Error::Other(format!("point 0 lacks replicate {}", u.replicate))
                })?;
                reuse::complete(first, u.tallies, keep)?
            }
            _ => u.tallies,
        };
        by_point.entry(u.point).or_default().push(tallies);
    }
    let mut results = Vec::new();
    for (p, tallies) in by_point {
        let sc = sweep.scenario(p)?;
        results.push((p, RunResults::from_tallies(&sc, tallies)));
    }
    let cell = |x: Option<f64>| {
        x.filter(|v| v.is_finite()).map_or(String::new(), |v| {
            crate::report::round_reported(v).to_string()
        })
    };
    let mut csv = String::from("point");
    for p in &sweep.parameters {
        let _ = write!(csv, ",{}", crate::report::csv::text(&p.path));
    }
    csv.push_str(",design,metric,mean,sd,ci95_lo,ci95_hi,vs_control_mean,vs_control_ci95_lo,vs_control_ci95_hi\n");
    let mut points_json = Vec::new();
    for (p, r) in &results {
        let mut designs = Vec::new();
        for d in &r.designs {
            let mut metrics = serde_json::Map::new();
            for &m in &sweep.metrics {
                let s = &d.metrics[m];
                let v = &d.vs_control[m];
                let _ = writeln!(
                    csv,
                    "{p},{},{},{},{},{},{},{},{},{},{}",
                    fmt_values(&sweep.points[*p]),
                    crate::report::csv::text(&d.name),
                    RUN_METRICS[m],
                    cell(s.mean),
                    cell(s.sd),
                    cell(s.ci95.map(|c| c[0])),
                    cell(s.ci95.map(|c| c[1])),
                    cell(v.mean),
                    cell(v.ci95.map(|c| c[0])),
                    cell(v.ci95.map(|c| c[1])),
                );
                let mut o = crate::report::json::summary_value(s);
                o["vs_control"] = crate::report::json::diff_value(v);
                metrics.insert(RUN_METRICS[m].to_string(), o);
            }
            designs.push(serde_json::json!({"name": d.name, "kind": d.kind, "metrics": metrics}));
        }
        let values: serde_json::Map<String, serde_json::Value> = sweep
            .parameters
            .iter()
            .zip(&sweep.points[*p])
            .map(|(par, v)| {
                (
                    par.path.clone(),
                    serde_json::json!(crate::report::round_reported(*v)),
                )
            })
            .collect();
        points_json.push(serde_json::json!({"point": p, "values": values, "designs": designs}));
    }
    let json = serde_json::json!({
        "sweep": sweep.name,
        "sha256": sweep.sha256,
        "mode": sweep.mode,
        "parameters": sweep.parameters.iter().map(|p| serde_json::json!({"path": p.path, "values": p.values, "base": p.base})).collect::<Vec<_>>(),
        "points": points_json,
    });
    let mut files = OutputFiles::new();
    files.add("sweep.csv", csv.into_bytes());
    let mut j = serde_json::to_string_pretty(&json).expect("JSON values serialise");
    j.push('\n');
    files.add("sweep.json", j.into_bytes());
    let charts = charts::render_all(sweep, &results)?;
    files.add(
        "sweep_report.html",
        report::render(sweep, &results, &charts)?,
    );
    for c in charts {
        files.add(format!("charts/{}.svg", c.name), c.svg.into_bytes());
        files.add(format!("charts/{}.png", c.name), c.png);
    }
    Ok(files)
}

/// Read every partial in `dirs`, check they form one complete sweep, and return the units.
/// Missing shards are reported as an `--array=` list to resubmit.
pub fn gather(sweep: &Sweep, dirs: &[PathBuf]) -> Result<Vec<Unit>> {
    let kind = crate::shard::Kind {
        prefix: "partial-",
        noun: "sweep",
        mismatch: "this partial belongs to a different sweep (sweep file or base scenario changed)",
    };
    let partials: Vec<Partial> = crate::shard::gather(&kind, &sweep.sha256, dirs)?;
    let units: Vec<Unit> = partials.into_iter().flat_map(|p| p.units).collect();
    if units.len() != sweep.units()? {
        return Err(Error::Other(format!(
            "the partials hold {} units, the sweep has {}",
            units.len(),
            sweep.units()?
        )));
    }
    Ok(units)
}

impl crate::shard::ShardFile for Partial {
    fn fingerprint(&self) -> &str {
        &self.sweep_sha256
    }
    fn shards(&self) -> usize {
        self.shards
    }
    fn shard(&self) -> usize {
        self.shard
    }
}

/// `1,3-5,9` from sorted indices.
pub fn array_list(ks: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ks.len() {
        let mut j = i;
        while j + 1 < ks.len() && ks[j + 1] == ks[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}-{}", ks[i], ks[j])
        } else {
            ks[i].to_string()
        });
        i = j + 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lists_and_distance() {
        assert_eq!(array_list(&[1, 3, 4, 5, 9]), "1,3-5,9");
        assert_eq!(levenshtein("earn", "eran"), 2);
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1/0").is_err());
    }
}

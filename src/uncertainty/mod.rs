//! Decisions under uncertainty: probabilistic sensitivity analysis and value of
//! information for loyalty program designs.
//!
//! Any number in a scenario may be a distribution (`{ dist = "uniform", low, high }`; see
//! [`dist`]). With `[uncertainty] worlds = N`, N parameter sets ("worlds") are drawn by Latin
//! hypercube from the scenario's seed; each world is the scenario text with the drawn values
//! in place, parsed and validated like a hand-written file (a validated scenario is never
//! mutated), and simulated for every design on common random numbers with a few inner
//! replicates. [`decision`] turns the per-world objective into what to launch, how sure that
//! is, and the expected value of learning each input (EVPI, EVPPI).
//!
//! Work units are (world, inner replicate); each unit's result is exact (the objective
//! rounded to whole cents), so any thread count or sharding gives the same bytes.

pub mod copula;
pub mod decision;
pub mod defaults;
pub mod dist;
pub mod inputs;
pub mod metamodel;
pub mod shard;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::{Error, Result};
pub use inputs::Input;

/// Most worlds a scenario may ask for.
pub const MAX_WORLDS: i64 = 10_000;
/// Most inner replicates per world.
pub const MAX_INNER: i64 = 100;
/// Replicate numbers of world streams start here, away from the nominal run's.
const WORLD_REPLICATE_BASE: u32 = 100_000;

/// `[uncertainty]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    /// Number of worlds.
    pub worlds: i64,
    /// `"latin-hypercube"` (default) or `"random"`.
    pub method: Option<String>,
    /// Inner replicates per world (default 2).
    pub replicates: Option<i64>,
    /// Whether the illustrative behavioural defaults get their documented ranges (default
    /// true).
    pub defaults: Option<bool>,
    /// Whether a segment's fitted covariance makes its purchase parameters uncertain
    /// (default true).
    pub fitted: Option<bool>,
    /// Correlations between inputs (Gaussian copula).
    pub correlations: Option<Vec<RawCorrelation>>,
}

/// One entry of `[uncertainty] correlations`: `{ inputs = ["path a", "path b"], rho = 0.5 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    /// The two input paths (as in worlds.csv).
    pub inputs: Vec<String>,
    /// Correlation of their normal scores, in (-1, 1).
    pub rho: f64,
}

/// How worlds are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Each input stratified into `worlds` equal-probability bins, each bin used once.
    LatinHypercube,
    /// Independent uniform draws.
    Random,
}

/// The validated `[uncertainty]` table and the inputs found in the scenario.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Number of worlds.
    pub worlds: usize,
    /// Sampling method.
    pub method: Method,
    /// Inner replicates per world.
    pub replicates: u32,
    /// Built-in ranges for illustrative behavioural defaults.
    pub defaults: bool,
    /// Fitted covariances make inputs.
    pub fitted: bool,
    /// The uncertain inputs: the scenario's (by key order), the fitted segments'
    /// parameters, then built-in defaults.
    pub inputs: Vec<Input>,
    /// `[uncertainty] correlations` as written (resolved into `correlations`).
    raw_correlations: Vec<RawCorrelation>,
    /// Correlations between inputs, resolved.
    pub correlations: Vec<copula::Correlation>,
    /// Cholesky factor of the inputs' correlation matrix (`None`: independent).
    chol: Option<Vec<Vec<f64>>>,
    /// The scenario text with its distributions (the worlds are made from it).
    text: String,
}

impl Spec {
    /// Validate `[uncertainty]`; `Err((field, message))`.
    pub fn validate(raw: &RawUncertainty) -> std::result::Result<Spec, (String, String)> {
        if !(2..=MAX_WORLDS).contains(&raw.worlds) {
            return Err((
                "uncertainty.worlds".into(),
                format!(
                    "must be a whole number from 2 to {MAX_WORLDS}, got {}",
                    raw.worlds
                ),
            ));
        }
        let method = match raw.method.as_deref().unwrap_or("latin-hypercube") {
            "latin-hypercube" => Method::LatinHypercube,
            "random" => Method::Random,
            "sobol" => return Err(("uncertainty.method".into(), "\"sobol\" is not available yet; use \"latin-hypercube\" (the default) or \"random\"".into())),
            other => return Err(("uncertainty.method".into(), format!("unknown method `{other}`; use \"latin-hypercube\" or \"random\""))),
        };
        let replicates = raw.replicates.unwrap_or(2);
        if !(1..=MAX_INNER).contains(&replicates) {
            return Err((
                "uncertainty.replicates".into(),
                format!("must be a whole number from 1 to {MAX_INNER}, got {replicates}"),
            ));
        }
        let raw_correlations = raw.correlations.clone().unwrap_or_default();
        for (k, c) in raw_correlations.iter().enumerate() {
            if c.inputs.len() != 2 || c.inputs[0] == c.inputs[1] {
                return Err((
                    format!("uncertainty.correlations.{k}.inputs"),
                    "must name two different input paths, e.g. [\"designs.a.response.purchase_rate\", \"designs.b.response.purchase_rate\"]".into(),
                ));
            }
            if !(c.rho.is_finite() && c.rho > -1.0 && c.rho < 1.0) {
                return Err((
                    format!("uncertainty.correlations.{k}.rho"),
                    format!(
                        "must be a correlation strictly between -1 and 1, got {}",
                        c.rho
                    ),
                ));
            }
        }
        Ok(Spec {
            worlds: raw.worlds as usize,
            method,
            replicates: replicates as u32,
            defaults: raw.defaults.unwrap_or(true),
            fitted: raw.fitted.unwrap_or(true),
            inputs: Vec::new(),
            raw_correlations,
            correlations: Vec::new(),
            chol: None,
            text: String::new(),
        })
    }
}

fn located(origin: &str, line: Option<usize>, field: &str, message: String) -> Error {
    Error::Scenario {
        path: origin.to_string(),
        line,
        field: field.to_string(),
        message,
    }
}

/// Parse scenario text that may hold distributions: the nominal scenario has each
/// distribution at its median (and the behavioural defaults at their defaults); with
/// `[uncertainty]` its inputs are attached and every input's support is checked by
/// validating the scenario with that input at either end.
pub fn parse_scenario(src: &str, origin: &str) -> Result<Scenario> {
    let found = inputs::find(src, origin)?;
    let nominal_values: Vec<f64> = found.iter().map(|i| i.value(0.5)).collect();
    let nominal = inputs::substitute(src, &found, &nominal_values)?;
    let mut sc = Scenario::parse_plain(&nominal, origin)?;
    if !found.is_empty() {
        sc.sha256 = crate::scenario::sha256_hex(src);
    }
    let Some(mut spec) = sc.uncertainty.take() else {
        if let Some(first) = found.first() {
            return Err(located(
                origin,
                first.line,
                &first.path,
                "a distribution needs an `[uncertainty]` table (e.g. `worlds = 100`) that says how many worlds to draw".into(),
            ));
        }
        return Ok(sc);
    };
    let mut all = found;
    let mut pairs = Vec::new();
    if spec.fitted {
        let (fitted, p) = inputs::fitted_inputs(src, origin)?;
        all.extend(fitted);
        pairs = p;
    }
    if spec.defaults {
        all.extend(inputs::default_inputs(&nominal)?);
    }
    spec.text = src.to_string();
    spec.inputs = all;
    resolve_correlations(&mut spec, &pairs, src, origin)?;
    check_supports(&spec, origin)?;
    sc.uncertainty = Some(spec);
    Ok(sc)
}

/// Turn the fitted covariances' and `[uncertainty] correlations`' pairs into indices, refuse
/// unknown paths, pairs set twice and a matrix that is not positive definite.
fn resolve_correlations(
    spec: &mut Spec,
    fitted: &[inputs::PathPair],
    src: &str,
    origin: &str,
) -> Result<()> {
    let loc = crate::scenario::locate::Locator::new(src);
    let line = loc.line_of_field("uncertainty.correlations");
    let index = |p: &str| spec.inputs.iter().position(|i| i.path == p);
    let mut out: Vec<copula::Correlation> = Vec::new();
    for (a, b, rho) in fitted {
        if let (Some(a), Some(b)) = (index(a), index(b)) {
            out.push(copula::Correlation {
                a,
                b,
                rho: *rho,
                source: "fitted covariance".into(),
            });
        }
    }
    for (k, c) in spec.raw_correlations.iter().enumerate() {
        let field = format!("uncertainty.correlations.{k}");
        let mut ix = [0usize; 2];
        for (slot, p) in ix.iter_mut().zip(&c.inputs) {
            *slot = index(p).ok_or_else(|| {
                let known: Vec<&str> = spec.inputs.iter().map(|i| i.path.as_str()).collect();
                located(
                    origin,
                    line,
                    &format!("{field}.inputs"),
                    format!(
                        "`{p}` is not an uncertain input of this scenario; the inputs are: {}",
                        known.join(", ")
                    ),
                )
            })?;
        }
        let (a, b) = (ix[0].min(ix[1]), ix[0].max(ix[1]));
        if let Some(prev) = out.iter().find(|o| o.a.min(o.b) == a && o.a.max(o.b) == b) {
            return Err(located(
                origin,
                line,
                &field,
                format!(
                    "the correlation of {} and {} is already set (by {})",
                    c.inputs[0], c.inputs[1], prev.source
                ),
            ));
        }
        out.push(copula::Correlation {
            a: ix[0],
            b: ix[1],
            rho: c.rho,
            source: field,
        });
    }
    if !out.is_empty() {
        let m = copula::matrix(spec.inputs.len(), &out);
        let l = copula::cholesky(&m).map_err(|i| {
            located(origin, line, "uncertainty.correlations", format!("the correlations are not positive definite: no inputs can have them all at once (the first that cannot is {}); lower their sizes or remove one", spec.inputs[i].path))
        })?;
        spec.chol = Some(l);
    }
    spec.correlations = out;
    Ok(())
}

fn check_supports(spec: &Spec, origin: &str) -> Result<()> {
    let mid: Vec<f64> = spec.inputs.iter().map(|i| i.value(0.5)).collect();
    for (k, inp) in spec.inputs.iter().enumerate() {
        for (end, u) in [("lowest", 0.0), ("highest", 1.0)] {
            let mut v = mid.clone();
            v[k] = inp.value(u);
            let text = inputs::substitute(&spec.text, &spec.inputs, &v)?;
            if let Err(e) = Scenario::parse_plain(&text, origin) {
                let inner = match &e {
                    Error::Scenario { field, message, .. } => format!("{field}: {message}"),
                    other => other.to_string(),
                };
                let inner = inner.lines().next().unwrap_or("").to_string();
                return Err(located(
                    origin,
                    inp.line,
                    &inp.path,
                    format!(
                        "the distribution {} reaches {} at its {end} value, outside what this value allows ({inner})",
                        inp.dist.describe(),
                        crate::report::round_reported(v[k])
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn mix(seed: u64, k: u64) -> u64 {
    let mut z = seed ^ 0x756e_6365_7274_u64 ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The drawn inputs, `[world][input]`, from the scenario's seed. Latin hypercube: input j
/// uses each of the `worlds` probability bins once, in an order shuffled by its own stream.
pub fn draw(spec: &Spec, seed: u64) -> Vec<Vec<f64>> {
    let w = spec.worlds;
    let cols: Vec<Vec<f64>> = spec
        .inputs
        .iter()
        .enumerate()
        .map(|(j, _)| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, j as u64));
            let mut bins: Vec<usize> = (0..w).collect();
            if spec.method == Method::LatinHypercube {
                for k in (1..w).rev() {
                    bins.swap(k, rng.random_range(0..=k));
                }
            }
            bins.iter()
                .map(|&b| {
                    let v: f64 = rng.random();
                    match spec.method {
                        Method::LatinHypercube => (b as f64 + v) / w as f64,
                        Method::Random => v,
                    }
                })
                .collect()
        })
        .collect();
    (0..w)
        .map(|i| {
            let u: Vec<f64> = cols.iter().map(|c| c[i]).collect();
            let u = match &spec.chol {
                Some(l) => copula::correlate(l, &u),
                None => u,
            };
            spec.inputs
                .iter()
                .zip(&u)
                .map(|(inp, u)| inp.value(*u))
                .collect()
        })
        .collect()
}

/// The scenario of one world (validated like a file; the nominal run's seed and
/// command-line overrides carried over).
pub fn world_scenario(base: &Scenario, values: &[f64], world: usize) -> Result<Scenario> {
    let spec = base
        .uncertainty
        .as_ref()
        .ok_or_else(|| Error::Other("the scenario has no [uncertainty] table".into()))?;
    let text = inputs::substitute(&spec.text, &spec.inputs, values)?;
    let mut sc = Scenario::parse_plain(&text, &format!("{} (world {world})", base.origin))?;
    sc.uncertainty = None;
    sc.seed = base.seed;
    sc.population.customers = base.population.customers;
    Ok(sc)
}

/// The result of one work unit: each design's objective in that world and replicate, in
/// whole cents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WorldUnit {
    /// World.
    pub world: usize,
    /// Inner replicate.
    pub replicate: u32,
    /// Objective per design (scenario order), cents.
    pub objective_cents: Vec<i64>,
}

/// Run the units (world, inner replicate) whose index is `k` mod `n` (all for 0 of 1).
pub fn run_units(sc: &Scenario, k: usize, n: usize) -> Result<Vec<WorldUnit>> {
    run_units_from(sc, 0, k, n)
}

/// [`run_units`] with the world units numbered from `offset` (a sharded run counts its
/// nominal replicates first): unit `u` runs if `(offset + u) mod n == k`.
pub fn run_units_from(sc: &Scenario, offset: usize, k: usize, n: usize) -> Result<Vec<WorldUnit>> {
    let spec = sc
        .uncertainty
        .as_ref()
        .ok_or_else(|| Error::Other("the scenario has no [uncertainty] table".into()))?;
    let reps = spec.replicates as usize;
    let draws = draw(spec, sc.seed);
    let units: Vec<usize> = (0..spec.worlds * reps)
        .filter(|u| (offset + u) % n == k)
        .collect();
    let scenarios: Vec<Option<Scenario>> = (0..spec.worlds)
        .into_par_iter()
        .map(|w| {
            if units.iter().any(|u| u / reps == w) {
                world_scenario(sc, &draws[w], w).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect::<Result<_>>()?;
    Ok(units
        .into_par_iter()
        .map(|u| {
            let (world, replicate) = (u / reps, (u % reps) as u32);
            let wsc = scenarios[world]
                .as_ref()
                .expect("scenario of a unit's world");
            let ctx = crate::engine::customer::Context::new(wsc);
            let stream = WORLD_REPLICATE_BASE + (world * reps) as u32 + replicate;
            let tallies = crate::engine::simulate_replicate(&ctx, stream, None);
            let objective_cents = tallies
                .iter()
                .zip(&wsc.designs)
                .map(|(t, d)| {
                    (wsc.finance.objective(t, d.cost_per_point(), wsc) * 100.0).round() as i64
                })
                .collect();
            WorldUnit {
                world,
                replicate,
                objective_cents,
            }
        })
        .collect())
}

/// Everything the reports show about the decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// What is maximised, in words.
    pub objective: String,
    /// Worlds, inner replicates, method.
    pub worlds: usize,
    /// Inner replicates per world.
    pub replicates: u32,
    /// Sampling method.
    pub method: Method,
    /// The inputs.
    pub inputs: Vec<Input>,
    /// Correlations between the inputs.
    pub correlations: Vec<copula::Correlation>,
    /// Drawn values `[world][input]`.
    pub draws: Vec<Vec<f64>>,
    /// Design names.
    pub names: Vec<String>,
    /// Objective against the control, mean over inner replicates, `[world][design]`.
    pub net_benefit: Vec<Vec<f64>>,
    /// The statistics.
    pub stats: decision::Stats,
}

/// Derive the decision from all units (any order).
pub fn decide(sc: &Scenario, mut units: Vec<WorldUnit>) -> Result<Decision> {
    let spec = sc
        .uncertainty
        .as_ref()
        .ok_or_else(|| Error::Other("the scenario has no [uncertainty] table".into()))?;
    units.sort_by_key(|u| (u.world, u.replicate));
    let reps = spec.replicates as usize;
    let each_once = units
        .iter()
        .enumerate()
        .all(|(i, u)| u.world == i / reps && u.replicate as usize == i % reps);
    if units.len() != spec.worlds * reps || !each_once {
        return Err(Error::Other(format!(
            "have {} world units, the scenario needs {}",
            units.len(),
            spec.worlds * reps
        )));
    }
    let c = sc.control;
    let per_world: Vec<Vec<Vec<f64>>> = units
        .chunks(reps)
        .map(|ch| {
            ch.iter()
                .map(|u| {
                    u.objective_cents
                        .iter()
                        .map(|v| (v - u.objective_cents[c]) as f64 / 100.0)
                        .collect()
                })
                .collect()
        })
        .collect();
    let names: Vec<String> = sc.designs.iter().map(|d| d.name.clone()).collect();
    let paths: Vec<String> = spec.inputs.iter().map(|i| i.path.clone()).collect();
    let draws = draw(spec, sc.seed);
    let stats = decision::compute(&names, c, &paths, &draws, &per_world, sc.seed);
    let net_benefit = per_world
        .iter()
        .map(|rs| {
            (0..names.len())
                .map(|d| rs.iter().map(|r| r[d]).sum::<f64>() / rs.len() as f64)
                .collect()
        })
        .collect();
    Ok(Decision {
        objective: sc.finance.describe(),
        worlds: spec.worlds,
        replicates: spec.replicates,
        method: spec.method,
        inputs: spec.inputs.clone(),
        correlations: spec.correlations.clone(),
        draws,
        names,
        net_benefit,
        stats,
    })
}

/// Run every world and derive the decision.
pub fn run(sc: &Scenario) -> Result<Decision> {
    let units = run_units(sc, 0, 1)?;
    decide(sc, units)
}

/// `src` with every distribution written as its median: the nominal scenario, for the tools
/// that vary values themselves (sweeps) or write a scenario without `[uncertainty]` (fit).
pub fn at_medians(src: &str, origin: &str) -> Result<String> {
    let inputs = inputs::find(src, origin)?;
    if inputs.is_empty() {
        return Ok(src.to_string());
    }
    let values: Vec<f64> = inputs.iter().map(|i| i.value(0.5)).collect();
    inputs::substitute(src, &inputs, &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOY: &str = include_str!("../../tests/fixtures/uncertainty-toy.toml");

    fn normal_scores(x: &[f64], dist: &dist::Dist) -> Vec<f64> {
        // The inverse of the (truncated) quantile function, by bisection on u.
        use statrs::distribution::{ContinuousCDF, Normal};
        let std = Normal::new(0.0, 1.0).unwrap();
        x.iter()
            .map(|v| {
                let (mut lo, mut hi) = (0.0, 1.0);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if dist.quantile(mid) < *v {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                std.inverse_cdf((0.5 * (lo + hi)).clamp(1e-9, 1.0 - 1e-9))
            })
            .collect()
    }

    fn corr(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }

    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
        let mut r = vec![0.0; v.len()];
        for (k, i) in idx.into_iter().enumerate() {
            r[i] = k as f64;
        }
        r
    }

    fn with(extra_uncertainty: &str, worlds: usize) -> String {
        TOY.replace(
            "worlds = 200\nreplicates = 2\ndefaults = false\n",
            &format!("worlds = {worlds}\nreplicates = 2\ndefaults = false\n{extra_uncertainty}"),
        )
        .replace(
            "response = { purchase_rate = 1.2 }",
            "response = { purchase_rate = { dist = \"uniform\", low = 1.1, high = 1.3 } }",
        )
    }

    /// Sample correlations of the drawn inputs' normal scores match the asked ones within
    /// four standard errors ((1 - rho^2) / sqrt(W)), a negative one included; the rank
    /// correlation of two uniforms is 6/pi asin(rho/2); an uncorrelated pair stays ~0.
    #[test]
    fn drawn_correlations_match() {
        let w = 4000;
        let src = with(
            "correlations = [ { inputs = [\"designs.lift.costs.launch\", \"designs.lift.response.purchase_rate\"], rho = 0.6 }, { inputs = [\"population.acquisition.cost_per_customer\", \"designs.lift.response.purchase_rate\"], rho = -0.4 } ]\n",
            w,
        );
        let sc = parse_scenario(&src, "t.toml").unwrap();
        let spec = sc.uncertainty.as_ref().unwrap();
        let paths: Vec<&str> = spec.inputs.iter().map(|i| i.path.as_str()).collect();
        let col = |p: &str| -> (Vec<f64>, &dist::Dist) {
            let j = paths.iter().position(|q| *q == p).unwrap();
            let x: Vec<f64> = draw(spec, sc.seed).iter().map(|r| r[j]).collect();
            (x, &spec.inputs[j].dist)
        };
        let (launch, dl) = col("designs.lift.costs.launch");
        let (rate, dr) = col("designs.lift.response.purchase_rate");
        let (cac, dc) = col("population.acquisition.cost_per_customer");
        let (zl, zr, zc) = (
            normal_scores(&launch, dl),
            normal_scores(&rate, dr),
            normal_scores(&cac, dc),
        );
        let se = |rho: f64| (1.0 - rho * rho) / (w as f64).sqrt();
        let got = corr(&zl, &zr);
        assert!((got - 0.6).abs() < 4.0 * se(0.6), "{got}");
        let got = corr(&zc, &zr);
        assert!((got + 0.4).abs() < 4.0 * se(0.4), "{got}");
        // launch and cac: implied 0 (no entry), L keeps them independent of each other.
        let got = corr(&zl, &zc);
        assert!(got.abs() < 4.0 * se(0.0), "{got}");
        let spearman = corr(&ranks(&cac), &ranks(&rate));
        let exact = 6.0 / std::f64::consts::PI * (-0.4f64 / 2.0).asin();
        assert!(
            (spearman - exact).abs() < 4.0 * se(0.4),
            "{spearman} vs {exact}"
        );
    }

    /// A fitted segment's covariance: its parameters are lognormal around the estimates
    /// with sd of the log se / estimate and the fitted correlation.
    #[test]
    fn fitted_covariance_draws() {
        let w = 4000;
        let src = with("", w).replace(
            "spend = { model = \"gamma-gamma\"",
            "covariance = { params = [\"r\", \"alpha\"], matrix = [[0.0001, 0.0008], [0.0008, 0.04]] }\nspend = { model = \"gamma-gamma\"",
        );
        let sc = parse_scenario(&src, "t.toml").unwrap();
        let spec = sc.uncertainty.as_ref().unwrap();
        let paths: Vec<&str> = spec.inputs.iter().map(|i| i.path.as_str()).collect();
        let jr = paths
            .iter()
            .position(|p| *p == "population.segments.all.purchase.r")
            .unwrap();
        let ja = paths
            .iter()
            .position(|p| *p == "population.segments.all.purchase.alpha")
            .unwrap();
        let d = draw(spec, sc.seed);
        let lr: Vec<f64> = d.iter().map(|r| r[jr].ln()).collect();
        let la: Vec<f64> = d.iter().map(|r| r[ja].ln()).collect();
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
        };
        // Truncation at 0.1%/99.9% shrinks the sd by under 1%.
        assert!((sd(&lr) / (0.01 / 0.243) - 1.0).abs() < 0.05, "{}", sd(&lr));
        assert!((sd(&la) / (0.2 / 4.414) - 1.0).abs() < 0.05, "{}", sd(&la));
        let got = corr(&lr, &la);
        assert!(
            (got - 0.4).abs() < 4.0 * (1.0 - 0.16) / (w as f64).sqrt(),
            "{got}"
        );
        // A world's scenario carries the drawn parameters.
        let ws = world_scenario(&sc, &d[3], 3).unwrap();
        let crate::scenario::PurchaseModel::BgNbd { r, alpha, .. } =
            ws.population.segments[0].purchase
        else {
            panic!("bg-nbd")
        };
        assert!((r - d[3][jr]).abs() < 1e-12 && (alpha - d[3][ja]).abs() < 1e-12);
    }

    #[test]
    fn bad_correlations_are_refused() {
        let three = "correlations = [ { inputs = [\"designs.lift.costs.launch\", \"designs.lift.response.purchase_rate\"], rho = 0.9 }, { inputs = [\"population.acquisition.cost_per_customer\", \"designs.lift.response.purchase_rate\"], rho = 0.9 }, { inputs = [\"population.acquisition.cost_per_customer\", \"designs.lift.costs.launch\"], rho = -0.9 } ]\n";
        let e = parse_scenario(&with(three, 10), "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.toml:10") && e.contains("not positive definite"),
            "{e}"
        );
        let e = parse_scenario(&with("correlations = [ { inputs = [\"designs.lift.costs.launch\", \"nope\"], rho = 0.5 } ]\n", 10), "t.toml").unwrap_err().to_string();
        assert!(
            e.contains("uncertainty.correlations.0.inputs")
                && e.contains("`nope` is not an uncertain input"),
            "{e}"
        );
        let e = parse_scenario(&with("correlations = [ { inputs = [\"designs.lift.costs.launch\", \"nope\"], rho = 1.0 } ]\n", 10), "t.toml").unwrap_err().to_string();
        assert!(
            e.contains("uncertainty.correlations.0.rho") && e.contains("strictly between -1 and 1"),
            "{e}"
        );
    }
}

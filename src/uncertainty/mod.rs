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
    /// The uncertain inputs: the scenario's (by key order), then built-in defaults.
    pub inputs: Vec<Input>,
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
        Ok(Spec {
            worlds: raw.worlds as usize,
            method,
            replicates: replicates as u32,
            defaults: raw.defaults.unwrap_or(true),
            inputs: Vec::new(),
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
    if spec.defaults {
        all.extend(inputs::default_inputs(&nominal)?);
    }
    spec.text = src.to_string();
    spec.inputs = all;
    check_supports(&spec, origin)?;
    sc.uncertainty = Some(spec);
    Ok(sc)
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
        .map(|(j, inp)| {
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
                    let u = match spec.method {
                        Method::LatinHypercube => (b as f64 + v) / w as f64,
                        Method::Random => v,
                    };
                    inp.value(u)
                })
                .collect()
        })
        .collect();
    (0..w)
        .map(|i| cols.iter().map(|c| c[i]).collect())
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

//! A run sharded across machines (`loyalsim run --shard K/N`, then `loyalsim merge
//! --scenario`), like sweeps: the work units are the nominal run's replicates (units 0 to
//! R - 1), then the worlds' (world, inner replicate) pairs in world order; shard K runs the
//! units whose index is K mod N and writes their exact results (integer tallies, whole-cent
//! objectives) to `run-partial-K-of-N.json`. Merging derives everything with the same
//! functions as an unsharded run, so the files are byte-identical for any N.
//!
//! A partial records the seed, replicates and customers it ran with (command-line overrides
//! included), so `merge` needs only the scenario file; its fingerprint covers the scenario
//! text and those three numbers, and a partial of another scenario or other overrides is
//! refused.

use std::path::PathBuf;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::WorldUnit;
use crate::metrics::{RunResults, Tally};
use crate::scenario::{Overrides, Scenario};
use crate::{Error, Result};

/// One nominal replicate: one tally per design.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NominalUnit {
    /// Replicate.
    pub replicate: u32,
    /// One tally per design (scenario order).
    pub tallies: Vec<Tally>,
}

/// A shard's partial file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunPartial {
    /// SHA-256 of the scenario text, seed, replicates and customers.
    pub run_sha256: String,
    /// The seed the shard ran with.
    pub seed: u64,
    /// The nominal replicates.
    pub replicates: u32,
    /// Initial customers.
    pub customers: u64,
    /// Number of shards.
    pub shards: usize,
    /// This shard.
    pub shard: usize,
    /// Its nominal replicates.
    pub nominal: Vec<NominalUnit>,
    /// Its world units.
    pub worlds: Vec<WorldUnit>,
}

impl crate::shard::ShardFile for RunPartial {
    fn fingerprint(&self) -> &str {
        &self.run_sha256
    }
    fn shards(&self) -> usize {
        self.shards
    }
    fn shard(&self) -> usize {
        self.shard
    }
}

/// The fingerprint of a run: what the results depend on.
pub fn fingerprint(sc: &Scenario) -> String {
    let text = format!(
        "loyalsim run\n{}\nseed {}\nreplicates {}\ncustomers {}\n",
        sc.sha256, sc.seed, sc.replicates, sc.population.customers
    );
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// File name of shard `k` of `n`.
pub fn partial_name(k: usize, n: usize) -> String {
    format!("run-partial-{k:05}-of-{n:05}.json")
}

/// Number of work units of a run (nominal replicates, then world units).
pub fn units(sc: &Scenario) -> usize {
    sc.replicates as usize
        + sc.uncertainty
            .as_ref()
            .map_or(0, |u| u.worlds * u.replicates as usize)
}

/// Run shard `k` of `n` (common random numbers, as every run that is merged).
pub fn run_shard(sc: &Scenario, k: usize, n: usize) -> Result<RunPartial> {
    let ctx = crate::engine::customer::Context::new(sc);
    let nominal: Vec<NominalUnit> = (0..sc.replicates)
        .filter(|r| *r as usize % n == k)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|replicate| NominalUnit {
            replicate,
            tallies: crate::engine::simulate_replicate(&ctx, replicate, None),
        })
        .collect();
    let worlds = if sc.uncertainty.is_some() {
        super::run_units_from(sc, sc.replicates as usize, k, n)?
    } else {
        Vec::new()
    };
    Ok(RunPartial {
        run_sha256: fingerprint(sc),
        seed: sc.seed,
        replicates: sc.replicates,
        customers: sc.population.customers,
        shards: n,
        shard: k,
        nominal,
        worlds,
    })
}

/// Render a partial file.
pub fn render_partial(p: &RunPartial) -> Vec<u8> {
    serde_json::to_vec(p).expect("partials serialise")
}

/// Read the partials of `sc` (its file as written; the partials' seed, replicates and
/// customers are applied to it) in `dirs`, check they are complete, and derive the
/// results exactly as an unsharded run would.
pub fn merge(sc: &mut Scenario, dirs: &[PathBuf]) -> Result<RunResults> {
    let overrides = peek_overrides(dirs)?;
    if let Some((seed, replicates, customers)) = overrides {
        sc.apply(Overrides {
            seed: Some(seed),
            replicates: Some(replicates),
            customers: Some(customers),
            // As `run` applied it, so the merged scenario is the one the shards simulated.
            scale_with_customers: true,
        })?;
    }
    let kind = crate::shard::Kind {
        prefix: "run-partial-",
        noun: "run",
        mismatch: "this partial belongs to a different run (the scenario file, or the --seed, --replicates or --customers of the shards, changed)",
    };
    let partials: Vec<RunPartial> = crate::shard::gather(&kind, &fingerprint(sc), dirs)?;
    let mut nominal: Vec<NominalUnit> = Vec::new();
    let mut worlds: Vec<WorldUnit> = Vec::new();
    for p in partials {
        nominal.extend(p.nominal);
        worlds.extend(p.worlds);
    }
    nominal.sort_by_key(|u| u.replicate);
    let complete = nominal.len() == sc.replicates as usize
        && nominal
            .iter()
            .enumerate()
            .all(|(i, u)| u.replicate as usize == i);
    if !complete || nominal.len() + worlds.len() != units(sc) {
        return Err(Error::Other(format!(
            "the partials hold {} work units, the run has {}",
            nominal.len() + worlds.len(),
            units(sc)
        )));
    }
    let mut r = RunResults::from_tallies(sc, nominal.into_iter().map(|u| u.tallies).collect());
    if sc.uncertainty.is_some() {
        r.decision = Some(super::decide(sc, worlds)?);
    }
    Ok(r)
}

/// The seed, replicates and customers of the first run partial found (the fingerprint
/// check then makes sure every partial agrees).
fn peek_overrides(dirs: &[PathBuf]) -> Result<Option<(u64, u32, u64)>> {
    #[derive(Deserialize)]
    struct Head {
        seed: u64,
        replicates: u32,
        customers: u64,
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let paths = crate::shard::partial_paths(entries, "run-partial-");
        if let Some(path) = paths.first() {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let h: Head = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
                path: path.display().to_string(),
                line: None,
                message: format!("not a loyalsim run partial: {e}"),
            })?;
            return Ok(Some((h.seed, h.replicates, h.customers)));
        }
    }
    Ok(None)
}

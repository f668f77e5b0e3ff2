//! Optimising a program design: the best earn rate, threshold or reward under risk
//! constraints, found by CMA-ES on simulated customers instead of a grid to eyeball.
//!
//! An optimisation file names a base scenario, the design to tune, its parameters (sweep
//! paths, with bounds: continuous, integer or a list of choices), an objective (any run
//! metric, by default the design's incremental net profit over the control) and
//! constraints (P(loss), caps, floors). Every candidate is the base scenario with the values
//! set, simulated with the control on the same customers and the same replicates as every
//! other candidate (common random numbers), so the objective is a deterministic, nearly
//! smooth function of the design: differences between candidates are the design's, not
//! noise. The search is ask / tell CMA-ES ([`cmaes`]) in the unit box (reflected at the
//! bounds), constraints by feasibility ranking ([`eval::compare`]).
//!
//! Winner's curse: the best of many evaluations on the same replicates is biased upward
//! (it was partly picked for its luck on those replicates). So the top candidates and the
//! base design are re-evaluated on fresh replicates (indices after the search's), and the
//! reported best and its 95% CI come from those.
//!
//! Work is in rounds: each search generation, then the re-evaluation. `--shard K/N` replays
//! the search from the partial files already present, runs its share of the first
//! unfinished round and writes one partial; the search's state is a pure function of the
//! file and the exact tallies, so any sharding gives the same bytes.

pub mod charts;
pub mod cli;
pub mod cmaes;
pub mod eval;
pub mod output;
pub mod spec;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use eval::{assess, compare, key, Assessment, Cache, Sample};
pub use spec::Spec;

use crate::stats::{summarize, Summary};
use crate::{Error, Result};

/// One logged search evaluation.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Generation (from 0).
    pub generation: u32,
    /// Candidate within the generation.
    pub candidate: usize,
    /// Whether the same values were already evaluated earlier (integers and choices repeat).
    pub repeat: bool,
    /// What it showed.
    pub assessment: Assessment,
}

/// A candidate re-evaluated on fresh replicates.
#[derive(Debug, Clone)]
pub struct Final {
    /// Rank in the search (0 best); `None` for the base design added for comparison.
    pub search_rank: Option<usize>,
    /// Whether these are the base scenario's values.
    pub baseline: bool,
    /// Its search estimate (on the search replicates); `None` for an unsearched baseline.
    pub search: Option<Assessment>,
    /// Fresh-replicate assessment.
    pub fresh: Assessment,
}

/// The finished optimisation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every search evaluation, in order.
    pub log: Vec<Logged>,
    /// Re-evaluated candidates, best (by the fresh replicates) first.
    pub finals: Vec<Final>,
    /// Distinct designs simulated in the search.
    pub distinct: usize,
    /// Objective of the best minus the base design's, paired over the fresh replicates.
    pub improvement: Summary,
    /// Search's best objective so far after each generation.
    pub best_by_generation: Vec<Option<f64>>,
}

impl Outcome {
    /// The best design (first of the re-evaluated).
    pub fn best(&self) -> &Final {
        &self.finals[0]
    }

    /// The base design's re-evaluation.
    pub fn baseline(&self) -> &Final {
        self.finals
            .iter()
            .find(|f| f.baseline)
            .expect("the baseline is always re-evaluated")
    }
}

/// What one invocation did.
#[derive(Debug)]
pub enum Step {
    /// Every round is done: the results.
    Finished(Box<Outcome>),
    /// A shard ran its share of `round` (of `rounds`): the samples for its partial file.
    Partial {
        /// Round index (generations, then the re-evaluation).
        round: u32,
        /// Rounds in all.
        rounds: u32,
        /// The samples simulated.
        samples: Vec<Sample>,
    },
}

/// A shard's partial file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    /// SHA-256 of the optimisation (file and base scenario).
    pub optimise_sha256: String,
    /// Round.
    pub round: u32,
    /// Shards.
    pub shards: usize,
    /// This shard.
    pub shard: usize,
    /// Samples.
    pub samples: Vec<Sample>,
}

/// File name of shard `k` of `n` in `round`.
pub fn partial_name(round: u32, k: usize, n: usize) -> String {
    format!("optimise-round-{round:04}-shard-{k:05}-of-{n:05}.json")
}

/// Render a partial file.
pub fn render_partial(
    spec: &Spec,
    round: u32,
    k: usize,
    n: usize,
    samples: Vec<Sample>,
) -> Vec<u8> {
    let p = Partial {
        optimise_sha256: spec.sha256.clone(),
        round,
        shards: n,
        shard: k,
        samples,
    };
    serde_json::to_vec(&p).expect("partials serialise")
}

/// Load every `optimise-round-*.json` partial in `dirs` into a cache (a missing folder is
/// an empty one: the first round has none).
pub fn load_partials(spec: &Spec, dirs: &[PathBuf]) -> Result<Cache> {
    let mut cache = Cache::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let paths = crate::shard::partial_paths(entries, "optimise-round-");
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let p: Partial = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
                path: path.display().to_string(),
                line: None,
                message: format!("not a loyalsim optimise partial: {e}"),
            })?;
            if p.optimise_sha256 != spec.sha256 {
                return Err(Error::Data {
                    path: path.display().to_string(),
                    line: None,
                    message: "this partial belongs to a different optimisation (the file or its base scenario changed); use a fresh folder".into(),
                });
            }
            for s in p.samples {
                let k = key(&s.values, s.first_replicate, s.tallies.len() as u32);
                cache.insert(k, s);
            }
        }
    }
    Ok(cache)
}

/// How to run: everything here, or one shard's share of the first unfinished round.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Run every missing evaluation here.
    Local,
    /// Shard `k` of `n`.
    Shard(usize, usize),
}

/// Make sure `candidates` are in the cache for replicates `first..first + count`. Returns
/// `Some(samples)` when a shard ran its share of an unfinished round (stop there).
#[allow(clippy::too_many_arguments)]
fn ensure(
    spec: &Spec,
    cache: &mut Cache,
    candidates: &[Vec<f64>],
    first: u32,
    count: u32,
    mode: Mode,
    round: u32,
    progress: &(dyn Fn() + Sync),
) -> Result<Option<Vec<Sample>>> {
    let mut unique: Vec<Vec<f64>> = Vec::new();
    for c in candidates {
        if !unique.contains(c) {
            unique.push(c.clone());
        }
    }
    let missing = |c: &Vec<f64>, cache: &Cache| !cache.contains_key(&key(c, first, count));
    if !unique.iter().any(|c| missing(c, cache)) {
        return Ok(None);
    }
    match mode {
        Mode::Local => {
            let todo: Vec<Vec<f64>> = unique.into_iter().filter(|c| missing(c, cache)).collect();
            for s in eval::simulate(spec, &todo, first, count, progress)? {
                cache.insert(key(&s.values, first, count), s);
            }
            Ok(None)
        }
        Mode::Shard(k, n) => {
            // Shares are fixed by position in the round's distinct candidates, so a shard's
            // share does not depend on which other shards have finished.
            let mine: Vec<Vec<f64>> = unique
                .iter()
                .enumerate()
                .filter(|(i, _)| i % n == k)
                .map(|(_, c)| c.clone())
                .collect();
            if mine.iter().any(|c| missing(c, cache)) {
                return Ok(Some(eval::simulate(spec, &mine, first, count, progress)?));
            }
            let waiting: Vec<usize> = (0..n)
                .filter(|s| {
                    unique
                        .iter()
                        .enumerate()
                        .any(|(i, c)| i % n == *s && missing(c, cache))
                })
                .collect();
            Err(Error::Other(format!(
                "round {round}: this shard's share is done; the round waits for shard(s) {} (resubmit them with --array={})",
                crate::sweep::array_list(&waiting),
                crate::sweep::array_list(&waiting)
            )))
        }
    }
}

fn get(spec: &Spec, cache: &Cache, x: &[f64], first: u32, count: u32) -> Result<Assessment> {
    let s = cache
        .get(&key(x, first, count))
        .ok_or_else(|| Error::Other("internal: an evaluation is missing".into()))?;
    assess(spec, s)
}

/// Run the optimisation (or one shard's round of it) from what `cache` already holds.
pub fn drive(
    spec: &Spec,
    cache: &mut Cache,
    mode: Mode,
    progress: &(dyn Fn() + Sync),
) -> Result<Step> {
    let generations = spec.generations();
    let rounds = generations + 1;
    let mut es = cmaes::Cmaes::new(
        spec.start(),
        spec.sigma,
        spec.population as usize,
        spec.seed,
    );
    let mut log: Vec<Logged> = Vec::new();
    let mut best_by_generation = Vec::new();
    let r = spec.replicates;
    for g in 0..generations {
        let ys: Vec<Vec<f64>> = es
            .ask()
            .iter()
            .map(|z| z.iter().map(|v| spec::reflect(*v)).collect())
            .collect();
        let xs: Vec<Vec<f64>> = ys.iter().map(|y| spec.values(y)).collect();
        if let Some(samples) = ensure(spec, cache, &xs, 0, r, mode, g, progress)? {
            return Ok(Step::Partial {
                round: g,
                rounds,
                samples,
            });
        }
        let assessed: Vec<Assessment> = xs
            .iter()
            .map(|x| get(spec, cache, x, 0, r))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|a, b| compare(spec, &assessed[*a], &assessed[*b]));
        es.tell(&order);
        for (c, a) in assessed.into_iter().enumerate() {
            let repeat = log.iter().any(|l| l.assessment.values == a.values);
            log.push(Logged {
                generation: g,
                candidate: c,
                repeat,
                assessment: a,
            });
        }
        let best = log
            .iter()
            .filter(|l| l.assessment.feasible())
            .filter_map(|l| l.assessment.objective.mean)
            .fold(None, |b: Option<f64>, v| {
                Some(b.map_or(v, |b| if spec.objective.1 { b.max(v) } else { b.min(v) }))
            });
        best_by_generation.push(best);
    }
    if !log.iter().any(|l| l.assessment.feasible()) {
        return Err(infeasible(spec, &log));
    }
    let mut ranked: Vec<&Logged> = log.iter().filter(|l| !l.repeat).collect();
    ranked.sort_by(|a, b| compare(spec, &a.assessment, &b.assessment));
    let top: Vec<&Logged> = ranked
        .into_iter()
        .filter(|l| l.assessment.feasible())
        .take(spec.top as usize)
        .collect();
    let baseline = spec.baseline();
    let mut xs: Vec<Vec<f64>> = top.iter().map(|l| l.assessment.values.clone()).collect();
    if !xs.contains(&baseline) {
        xs.push(baseline.clone());
    }
    let (first, count) = (r, spec.reevaluation_replicates);
    if let Some(samples) = ensure(spec, cache, &xs, first, count, mode, generations, progress)? {
        return Ok(Step::Partial {
            round: generations,
            rounds,
            samples,
        });
    }
    let mut finals: Vec<Final> = xs
        .iter()
        .map(|x| {
            let rank = top.iter().position(|l| &l.assessment.values == x);
            Ok(Final {
                search_rank: rank,
                baseline: *x == baseline,
                search: rank.map(|i| top[i].assessment.clone()),
                fresh: get(spec, cache, x, first, count)?,
            })
        })
        .collect::<Result<_>>()?;
    finals.sort_by(|a, b| compare(spec, &a.fresh, &b.fresh));
    let base = finals.iter().find(|f| f.baseline).expect("baseline");
    let diffs: Vec<Option<f64>> = finals[0]
        .fresh
        .objective_by_replicate
        .iter()
        .zip(&base.fresh.objective_by_replicate)
        .map(|(a, b)| Some((*a)? - (*b)?))
        .collect();
    let improvement = summarize(&diffs);
    let distinct = log.iter().filter(|l| !l.repeat).count();
    Ok(Step::Finished(Box::new(Outcome {
        log,
        finals,
        distinct,
        improvement,
        best_by_generation,
    })))
}

/// The error for a problem no evaluated design could satisfy: names the constraint(s) the
/// closest candidate still breaks, with its values.
fn infeasible(spec: &Spec, log: &[Logged]) -> Error {
    let closest = log
        .iter()
        .min_by(|a, b| a.assessment.violation.total_cmp(&b.assessment.violation))
        .expect("at least one generation");
    let a = &closest.assessment;
    let broken: Vec<(usize, String)> = spec
        .constraints
        .iter()
        .zip(&a.constraint_values)
        .enumerate()
        .filter(|(_, (c, v))| c.violation(**v) > 0.0)
        .map(|(i, (c, v))| {
            let shown = v.map_or("undefined".to_string(), |v| {
                crate::report::round_reported(v).to_string()
            });
            (
                i,
                format!(
                    "`{}` (closest: {} = {shown})",
                    c.describe(),
                    c.metric.name()
                ),
            )
        })
        .collect();
    let field = broken.first().map_or("constraints".to_string(), |(i, _)| {
        format!("constraints[{i}]")
    });
    Error::Scenario {
        path: spec.origin.clone(),
        line: spec.line_of(&field),
        field,
        message: format!(
            "infeasible: none of the {} evaluated designs meets {}; the closest was {}. Loosen the constraint or widen the parameter bounds",
            log.len(),
            broken
                .iter()
                .map(|(_, s)| s.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            spec.describe(&a.values)
        ),
    }
}

/// Run a whole optimisation here and render its files (the library entry point for tests).
pub fn run_local(
    spec: &Spec,
    partial_dirs: &[PathBuf],
) -> Result<(Outcome, crate::report::write::OutputFiles)> {
    let mut cache = load_partials(spec, partial_dirs)?;
    match drive(spec, &mut cache, Mode::Local, &|| {})? {
        Step::Finished(o) => {
            let files = output::render(spec, &o)?;
            Ok((*o, files))
        }
        Step::Partial { .. } => Err(Error::Other("internal: a local run stopped early".into())),
    }
}

/// Where shard partials go when `--out` is not given.
pub fn default_out(spec: &Spec) -> PathBuf {
    Path::new("output").join(crate::scenario::slug(&spec.name))
}

//! Evaluating candidate designs: simulate the control and the design on the same customers
//! (common random numbers) for a range of replicates, keep the exact tallies, and derive
//! the objective, P(loss) and the constraint values from them.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::spec::{Metric, Spec};
use crate::metrics::{run_metrics, RunResults, Tally, RUN_METRICS};
use crate::stats::{summarize, Summary};
use crate::Result;

/// The simulated tallies of one candidate over a replicate range: exact integers, so a
/// sharded run reproduces an unsharded one byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// Parameter values (stored as their bits: a JSON decimal may not parse back to the
    /// same float, and the values are the cache key).
    #[serde(with = "bits")]
    pub values: Vec<f64>,
    /// First replicate index.
    pub first_replicate: u32,
    /// Per replicate: (control, design) tallies, without the per-period series.
    pub tallies: Vec<(Tally, Tally)>,
}

mod bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.to_bits())
            .collect::<Vec<u64>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

/// Key of a (candidate, replicate range) in the cache: exact values and the range.
pub fn key(values: &[f64], first: u32, count: u32) -> String {
    let v: Vec<String> = values.iter().map(|x| format!("{x:?}")).collect();
    format!("{}@{first}+{count}", v.join(","))
}

/// Every sample simulated so far (here or by other shards), by [`key`].
pub type Cache = BTreeMap<String, Sample>;

/// Simulate `candidates` over replicates `first..first + count`, all (candidate, replicate)
/// pairs in parallel; `progress` is told of each finished pair.
pub fn simulate(
    spec: &Spec,
    candidates: &[Vec<f64>],
    first: u32,
    count: u32,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Sample>> {
    let scenarios: Vec<_> = candidates
        .iter()
        .map(|x| spec.scenario(x))
        .collect::<Result<_>>()?;
    let units: Vec<(usize, u32)> = (0..candidates.len())
        .flat_map(|c| (first..first + count).map(move |r| (c, r)))
        .collect();
    let done: Vec<(Tally, Tally)> = units
        .into_par_iter()
        .map(|(c, rep)| {
            let sc = &scenarios[c];
            let ctx = crate::engine::customer::Context::new(sc);
            let mut t = crate::engine::simulate_replicate(&ctx, rep, None);
            for x in &mut t {
                x.periods = Vec::new();
                x.progress = Vec::new();
            }
            let design = 1 - sc.control;
            progress();
            (t[sc.control].clone(), t.swap_remove(design))
        })
        .collect();
    let per = count as usize;
    Ok(candidates
        .iter()
        .enumerate()
        .map(|(c, x)| Sample {
            values: x.clone(),
            first_replicate: first,
            tallies: done[c * per..(c + 1) * per].to_vec(),
        })
        .collect())
}

/// What an evaluation says about a candidate.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Parameter values.
    pub values: Vec<f64>,
    /// Per run metric of the design: mean, sd, 95% CI across the replicates.
    pub metrics: Vec<Summary>,
    /// Share of replicates with negative incremental net profit.
    pub p_loss: f64,
    /// The objective per replicate (for paired comparisons).
    pub objective_by_replicate: Vec<Option<f64>>,
    /// The objective's summary across replicates.
    pub objective: Summary,
    /// Each constraint's value.
    pub constraint_values: Vec<Option<f64>>,
    /// Sum of the constraints' relative violations (0: feasible).
    pub violation: f64,
}

impl Assessment {
    /// A metric's mean (P(loss) for [`Metric::PLoss`]).
    pub fn metric(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Run(i) => self.metrics[i].mean,
            Metric::PLoss => Some(self.p_loss),
        }
    }

    /// Whether every constraint is met.
    pub fn feasible(&self) -> bool {
        self.violation == 0.0
    }
}

/// Derive the objective and constraints of a sample.
pub fn assess(spec: &Spec, sample: &Sample) -> Result<Assessment> {
    let sc = spec.scenario(&sample.values)?;
    let design = 1 - sc.control;
    let cpp = sc.designs[design].cost_per_point();
    let per_rep: Vec<Vec<Option<f64>>> = sample
        .tallies
        .iter()
        .map(|(c, d)| run_metrics(d, c, cpp, &sc))
        .collect();
    let inc = RunResults::metric_index("incremental_net_profit").expect("metric");
    let losses = per_rep
        .iter()
        .filter(|r| r[inc].is_some_and(|v| v < 0.0))
        .count();
    let p_loss = losses as f64 / per_rep.len().max(1) as f64;
    let metrics: Vec<Summary> = (0..RUN_METRICS.len())
        .map(|m| summarize(&per_rep.iter().map(|r| r[m]).collect::<Vec<_>>()))
        .collect();
    let objective_by_replicate: Vec<Option<f64>> = match spec.objective.0 {
        Metric::Run(i) => per_rep.iter().map(|r| r[i]).collect(),
        Metric::PLoss => per_rep
            .iter()
            .map(|r| r[inc].map(|v| f64::from(u8::from(v < 0.0))))
            .collect(),
    };
    let objective = summarize(&objective_by_replicate);
    let mut a = Assessment {
        values: sample.values.clone(),
        metrics,
        p_loss,
        objective_by_replicate,
        objective,
        constraint_values: Vec::new(),
        violation: 0.0,
    };
    a.constraint_values = spec
        .constraints
        .iter()
        .map(|c| a.metric(c.metric))
        .collect();
    a.violation = spec
        .constraints
        .iter()
        .zip(&a.constraint_values)
        .map(|(c, v)| c.violation(*v))
        .sum();
    Ok(a)
}

/// Feasibility ranking (Deb 2000): a feasible candidate beats an infeasible one; two
/// feasible ones compare by objective; two infeasible ones by total violation. Ties keep
/// the earlier candidate first (the sort is stable).
pub fn compare(spec: &Spec, a: &Assessment, b: &Assessment) -> Ordering {
    let score = |x: &Assessment| {
        let v = x.objective.mean.filter(|v| v.is_finite());
        match v {
            Some(v) if spec.objective.1 => -v,
            Some(v) => v,
            None => f64::INFINITY,
        }
    };
    match (a.feasible(), b.feasible()) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, true) => score(a).total_cmp(&score(b)),
        (false, false) => a.violation.total_cmp(&b.violation),
    }
}

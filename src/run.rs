//! The run pipeline as a library call: scenario -> engine -> metrics -> rendered files.

use crate::engine::{self, Progress};
use crate::metrics::RunResults;
use crate::report::{self, write::OutputFiles};
use crate::scenario::Scenario;
use crate::{Error, Result};

/// How to run (what does not change the results).
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Worker threads; `None` uses rayon's default (one per core).
    pub threads: Option<usize>,
    /// Told how many customers finished, as work completes.
    pub progress: Option<Progress<'a>>,
    /// Simulate each design on independent customers instead of the same ones (only to
    /// measure what common random numbers buy; results are then unpaired).
    pub independent_streams: bool,
    /// Skip charts and report.html (`--no-charts`).
    pub no_charts: bool,
}

/// Simulate a scenario and derive all statistics.
pub fn simulate(sc: &Scenario, opts: &RunOptions) -> Result<RunResults> {
    let work = || {
        let mut ctx = engine::customer::Context::new(sc);
        ctx.common_random_numbers = !opts.independent_streams;
        engine::simulate_with(&ctx, opts.progress)
    };
    // The nominal run, then (with `[uncertainty]`) every world.
    let all = || -> Result<RunResults> {
        let mut r = RunResults::from_tallies(sc, work());
        if sc.uncertainty.is_some() {
            r.decision = Some(crate::uncertainty::run(sc)?);
        }
        Ok(r)
    };
    match opts.threads {
        None => all(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::Other(format!("cannot start {n} worker threads: {e}")))?
            .install(all),
    }
}

/// Simulate and render every output file (nothing touches the disk).
pub fn run(sc: &Scenario, opts: &RunOptions) -> Result<(RunResults, OutputFiles)> {
    let results = simulate(sc, opts)?;
    let files = report::render_run_with(sc, &results, !opts.no_charts)?;
    Ok((results, files))
}

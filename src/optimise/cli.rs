//! `loyalsim optimise`: arguments and the command (the progress bar and terminal lines).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use super::{drive, load_partials, output, partial_name, render_partial, Mode, Spec, Step};
use crate::{Error, Result};

/// Arguments of `loyalsim optimise`.
#[derive(Debug, clap::Args)]
pub struct OptimiseArgs {
    /// Optimisation file (TOML).
    pub file: PathBuf,
    /// Output folder [default: output/<name-slug>/]. For a shard, the folder where every
    /// shard's partial files go (shared by the array's tasks).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (K from 0) of the first unfinished round; `auto/N` takes K
    /// from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX. Writes one partial file.
    #[arg(long)]
    pub shard: Option<String>,
    /// Folders holding the partial files of a sharded run: a run without --shard resumes
    /// from them (evaluating anything missing) and writes the results.
    #[arg(long)]
    pub partials: Vec<PathBuf>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar and no summary lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run `loyalsim optimise`.
pub fn run(args: OptimiseArgs) -> Result<()> {
    let spec = Spec::from_file(&args.file)?;
    let shard = args
        .shard
        .as_deref()
        .map(crate::sweep::parse_shard)
        .transpose()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&spec));
    let mut dirs = args.partials.clone();
    if shard.is_some() {
        dirs.push(out.clone());
    }
    let mut cache = load_partials(&spec, &dirs)?;
    let mode = shard.map_or(Mode::Local, |(k, n)| Mode::Shard(k, n));
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} optimise: {pos} design-replicates simulated, {elapsed}",
            )
            .expect("valid template"),
        );
        bar
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let start = Instant::now();
    let step = with_threads(args.threads, || drive(&spec, &mut cache, mode, &tick))??;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match step {
        Step::Partial {
            round,
            rounds,
            samples,
        } => {
            let (k, n) = shard.expect("only shards stop early");
            let path = out.join(partial_name(round, k, n));
            let count = samples.len();
            crate::report::write::write_file_atomic(
                &path,
                &render_partial(&spec, round, k, n, samples),
            )?;
            if !args.quiet {
                eprintln!(
                    "shard {k}/{n}: round {} of {rounds}, {count} designs in {:.2} s -> {}",
                    round + 1,
                    start.elapsed().as_secs_f64(),
                    path.display()
                );
            }
        }
        Step::Finished(o) => {
            if shard.is_some() {
                eprintln!(
                    "every round is done; write the results with `loyalsim optimise {} --partials {}`",
                    args.file.display(),
                    out.display()
                );
                return Ok(());
            }
            output::render(&spec, &o)?.write_atomic(&out)?;
            println!("{}", output::headline(&spec, &o));
            if !args.quiet {
                eprintln!(
                    "optimise `{}`: {} evaluations ({} distinct designs) + {} re-evaluated in {:.2} s -> {}",
                    spec.name,
                    o.log.len(),
                    o.distinct,
                    o.finals.len(),
                    start.elapsed().as_secs_f64(),
                    out.display()
                );
            }
        }
    }
    Ok(())
}

fn with_threads<T: Send>(threads: Option<u16>, f: impl FnOnce() -> T + Send) -> Result<T> {
    match threads {
        None => Ok(f()),
        Some(n) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build()
            .map_err(|e| Error::Other(format!("cannot start {n} worker threads: {e}")))?
            .install(f)),
    }
}

//! Command line: clap definitions and dispatch to the library's entry points.
//! Each subcommand's argument struct lives with the module that implements it where that
//! module is self-contained (`ab`, `fit`); this file is the only place that prints run
//! results.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::scenario::{Overrides, Scenario};
use crate::{Error, Result};

/// loyalsim: simulate loyalty programs on buy-till-you-die customer populations.
#[derive(Debug, Parser)]
#[command(name = "loyalsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Let loyalsim add its files to a folder it did not create, and replace files it did
    /// not write. Without it such writes are refused; files loyalsim did not write are never
    /// deleted either way.
    #[arg(long, global = true)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario's designs and write summary.json, designs.csv, timeseries.csv.
    Run(RunArgs),
    /// Validate a scenario and print what a run would do, without running it.
    Check(CheckArgs),
    /// Run a parameter sweep (or one shard of it) over a base scenario.
    Sweep(SweepArgs),
    /// Merge the partial files of a sharded sweep (--sweep) or run (--scenario) into its results.
    Merge(MergeArgs),
    /// A/B tests: analyse results, plan sample sizes, simulate experiments.
    Ab(crate::ab::AbArgs),
    /// Fit BG/NBD, Pareto/NBD and gamma-gamma models to a transaction log or RFM summary.
    Fit(crate::fit::FitArgs),
    /// Optimise a design's parameters (CMA-ES) under risk constraints.
    Optimise(crate::optimise::cli::OptimiseArgs),
    /// Print a shell completion script (e.g. `loyalsim completions bash > ~/.local/share/bash-completion/completions/loyalsim`).
    Completions(CompletionsArgs),
}

/// Arguments of `loyalsim completions`.
#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell to complete for.
    shell: clap_complete::Shell,
}

/// Arguments of `loyalsim run`.
#[derive(Debug, Default, Args)]
struct RunArgs {
    /// Scenario file (TOML). Without it, the embedded default scenario runs.
    scenario: Option<PathBuf>,
    /// Output folder [default: output/<scenario-name-slug>/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Monte Carlo replicates (overrides the scenario's `replicates`).
    #[arg(long)]
    replicates: Option<u32>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Initial customers (overrides `population.customers`). Acquisition rates and fixed
    /// program costs scale with it, so CRR, payback and ROI stay the same in expectation.
    #[arg(long)]
    customers: Option<u64>,
    /// Simulate each design on its own independent customers instead of the same ones
    /// (common random numbers). Only for measuring the variance reduction pairing buys.
    #[arg(long)]
    independent_streams: bool,
    /// Write only the numbers (summary.json and CSVs): no charts, no report.html.
    #[arg(long)]
    no_charts: bool,
    /// No progress bar and no timing line on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Print summary.json to stdout instead of the table (files are written as usual).
    #[arg(long)]
    json: bool,
    /// Print the wide results table (every key metric, over 100 columns) instead of the
    /// compact one.
    #[arg(long)]
    wide: bool,
    /// Run even when the work or memory estimate is above the documented bounds
    /// (2e10 purchases, 4 GB of tallies).
    #[arg(long)]
    allow_large: bool,
    /// Also write the simulated customers' RFM summary (control, replicate 0) to this CSV,
    /// in the lifetimes / PyMC-Marketing layout, for `loyalsim fit` or other tools.
    #[arg(long)]
    export_rfm: Option<PathBuf>,
    /// Run only shard K of N (K from 0) of the work units (the nominal replicates, then the
    /// worlds' inner replicates); `auto/N` takes K from SLURM_ARRAY_TASK_ID or
    /// JOB_COMPLETION_INDEX. Writes run-partial-K-of-N.json for `loyalsim merge --scenario`.
    #[arg(long, conflicts_with_all = ["export_rfm", "independent_streams", "json"])]
    shard: Option<String>,
}

/// Arguments of `loyalsim sweep`.
#[derive(Debug, Args)]
struct SweepArgs {
    /// Sweep file (TOML).
    sweep: PathBuf,
    /// Output folder [default: output/<sweep-name-slug>/; for a shard, the partial goes there].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Run only shard K of N (K from 0); `auto/N` takes K from SLURM_ARRAY_TASK_ID or
    /// JOB_COMPLETION_INDEX. Writes partial-K-of-N.json for `loyalsim merge`.
    #[arg(long)]
    shard: Option<String>,
    /// Allow more than 10,000 points.
    #[arg(long)]
    allow_large: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `loyalsim merge`.
#[derive(Debug, Args)]
struct MergeArgs {
    /// The sweep file the partials came from.
    #[arg(long, conflicts_with = "scenario")]
    sweep: Option<PathBuf>,
    /// The scenario file of a sharded `loyalsim run --shard` (its run-partial-*.json files).
    /// Without --sweep or --scenario: the embedded default scenario's run.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Folders holding partial-*.json (sweep) or run-partial-*.json (run) files.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// A merged run: write only the numbers (as `run --no-charts`).
    #[arg(long, conflicts_with = "sweep")]
    no_charts: bool,
}

/// Arguments of `loyalsim check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// Scenario file (TOML; `-` reads standard input). Without it, the embedded default
    /// scenario is checked.
    scenario: Option<PathBuf>,
    /// Print the description as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Parse `args` and run the chosen subcommand.
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return Ok(());
            }
            return Err(Error::Usage(e.render().to_string().trim_end().to_string()));
        }
    };
    crate::report::write::set_force(cli.force);
    match cli.command {
        Some(Command::Run(args)) => run_cmd(args),
        Some(Command::Check(args)) => check_cmd(args),
        Some(Command::Sweep(args)) => sweep_cmd(args),
        Some(Command::Merge(args)) => merge_cmd(args),
        Some(Command::Ab(args)) => crate::ab::run(args),
        Some(Command::Fit(args)) => crate::fit::run(args),
        Some(Command::Optimise(args)) => crate::optimise::cli::run(args),
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "loyalsim",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        // The quick start: `loyalsim` alone runs the embedded default scenario.
        None => run_cmd(RunArgs::default()),
    }
}

fn load(path: Option<&PathBuf>) -> Result<Scenario> {
    match path {
        Some(p) => Scenario::from_file(p),
        None => Scenario::embedded_default(),
    }
}

fn run_cmd(args: RunArgs) -> Result<()> {
    let mut sc = load(args.scenario.as_ref())?;
    sc.apply(Overrides {
        seed: args.seed,
        replicates: args.replicates,
        customers: args.customers,
        scale_with_customers: true,
    })?;
    crate::engine::estimate::check_size(&sc, args.allow_large)?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("output").join(sc.slug()));
    if let Some(shard) = &args.shard {
        return run_shard_cmd(&sc, shard, &out, args.threads, args.quiet);
    }
    let start = Instant::now();
    // A progress bar for runs longer than a moment, only on a terminal.
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(crate::engine::total_customers(&sc));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} simulating [{bar:40}] {human_pos}/{human_len} customers, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(5));
        bar
    });
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let opts = crate::run::RunOptions {
        threads: args.threads.map(usize::from),
        progress: Some(&tick),
        independent_streams: args.independent_streams,
        no_charts: args.no_charts,
    };
    let (results, files) = crate::run::run(&sc, &opts)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let simulated = start.elapsed();
    let rfm = args
        .export_rfm
        .as_ref()
        .map(|_| crate::fit::rfm::to_csv(&crate::fit::rfm::simulated(&sc)));
    // Results and the RFM export are staged together: if either cannot be written, neither is.
    let mut batch = crate::report::write::WriteBatch::default();
    batch.folder(&out, &files);
    if let (Some(path), Some(bytes)) = (&args.export_rfm, rfm) {
        batch.file(path, bytes);
    }
    batch.commit()?;
    if args.json {
        let summary = files.get("summary.json").unwrap_or_default();
        print!("{}", String::from_utf8_lossy(summary));
    } else if args.wide {
        print!("{}", crate::report::table::render_wide(&sc, &results));
    } else {
        print!("{}", crate::report::table::render(&sc, &results));
    }
    if let (Some(c), false) = (args.customers, args.quiet) {
        eprintln!(
            "--customers {c}: acquisition and fixed program costs scaled by the same factor (CRR, payback and ROI comparable with the full run)"
        );
    }
    if !args.quiet {
        let customers: u64 = results.tallies.iter().map(|r| r[0].customers()).sum();
        eprintln!(
            "simulated {} customers x {} designs and rendered the results in {:.2} s; results in {}",
            customers,
            sc.designs.len(),
            simulated.as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

fn with_threads<T>(threads: Option<u16>, f: impl FnOnce() -> T + Send) -> Result<T>
where
    T: Send,
{
    match threads {
        None => Ok(f()),
        Some(n) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build()
            .map_err(|e| Error::Other(format!("cannot start {n} worker threads: {e}")))?
            .install(f)),
    }
}

fn sweep_cmd(args: SweepArgs) -> Result<()> {
    let sweep = crate::sweep::Sweep::from_file(&args.sweep, args.allow_large)?;
    let (k, n) = match &args.shard {
        Some(s) => crate::sweep::parse_shard(s)?,
        None => (0, 1),
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("output").join(crate::scenario::slug(&sweep.name)));
    let units = sweep.units()?;
    let mine = (0..units).filter(|u| u % n == k).count() as u64;
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(mine);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} sweep [{bar:40}] {pos}/{len} point-replicates, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let start = Instant::now();
    let done = with_threads(args.threads, || {
        crate::sweep::run_units(&sweep, k, n, &tick)
    })??;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if args.shard.is_some() {
        let path = out.join(crate::sweep::partial_name(k, n));
        crate::report::write::write_file_atomic(
            &path,
            &crate::sweep::render_partial(&sweep, k, n, done),
        )?;
        eprintln!(
            "shard {k}/{n}: {mine} point-replicates in {:.2} s -> {}",
            start.elapsed().as_secs_f64(),
            path.display()
        );
    } else {
        crate::sweep::render_results(&sweep, done)?.write_atomic(&out)?;
        eprintln!(
            "sweep `{}`: {} points x {} replicates in {:.2} s -> {}",
            sweep.name,
            sweep.points.len(),
            sweep.replicates()?,
            start.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

/// `run --shard K/N`: this shard's work units into its partial file in `out`.
fn run_shard_cmd(
    sc: &Scenario,
    shard: &str,
    out: &std::path::Path,
    threads: Option<u16>,
    quiet: bool,
) -> Result<()> {
    use crate::uncertainty::shard;
    let (k, n) = crate::sweep::parse_shard(shard)?;
    let start = Instant::now();
    let partial = with_threads(threads, || shard::run_shard(sc, k, n))??;
    let path = out.join(shard::partial_name(k, n));
    crate::report::write::write_file_atomic(&path, &shard::render_partial(&partial))?;
    if !quiet {
        eprintln!(
            "shard {k}/{n}: {} nominal replicates and {} world units of {} in {:.2} s -> {}",
            partial.nominal.len(),
            partial.worlds.len(),
            shard::units(sc),
            start.elapsed().as_secs_f64(),
            path.display()
        );
    }
    Ok(())
}

/// `merge --scenario`: a sharded run's files, byte-identical to the unsharded run's.
fn merge_run_cmd(args: MergeArgs) -> Result<()> {
    let mut sc = load(args.scenario.as_ref())?;
    let has = |prefix: &str| {
        args.dirs.iter().any(|d| {
            std::fs::read_dir(d).is_ok_and(|es| {
                es.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
            })
        })
    };
    if !has("run-partial-") && has("partial-") {
        return Err(Error::Usage(
            "these folders hold sweep partials: merge them with --sweep <SWEEP FILE>".into(),
        ));
    }
    let results = crate::uncertainty::shard::merge(&mut sc, &args.dirs)?;
    let files = crate::report::render_run_with(&sc, &results, !args.no_charts)?;
    files.write_atomic(&args.out)?;
    print!("{}", crate::report::table::render(&sc, &results));
    eprintln!("merged `{}` into {}", sc.name, args.out.display());
    Ok(())
}

fn merge_cmd(args: MergeArgs) -> Result<()> {
    let Some(sweep_file) = &args.sweep else {
        return merge_run_cmd(args);
    };
    let sweep = crate::sweep::Sweep::from_file(sweep_file, true)?;
    let units = crate::sweep::gather(&sweep, &args.dirs)?;
    crate::sweep::render_results(&sweep, units)?.write_atomic(&args.out)?;
    eprintln!("merged `{}` into {}", sweep.name, args.out.display());
    Ok(())
}

fn check_cmd(args: CheckArgs) -> Result<()> {
    let sc = load(args.scenario.as_ref())?;
    if args.json {
        println!("{}", describe_json(&sc));
    } else {
        print!("{}", describe(&sc));
    }
    Ok(())
}

/// What a run of `sc` would do, as text.
pub fn describe(sc: &Scenario) -> String {
    use crate::scenario::{PurchaseModel, SpendModel};
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "scenario `{}` ({}) is valid", sc.name, sc.origin);
    let _ = writeln!(s, "  sha256     {}", sc.sha256);
    let _ = writeln!(
        s,
        "  horizon    {} days, reported per {} ({} periods)",
        sc.horizon_days,
        sc.period.as_str(),
        sc.periods()
    );
    let _ = writeln!(s, "  replicates {} (seed {})", sc.replicates, sc.seed);
    let _ = writeln!(
        s,
        "  customers  {} synthetic at day 0",
        sc.population.customers
    );
    if sc.population.tenure_years > 0.0 {
        let _ = writeln!(
            s,
            "  tenure     {}",
            crate::population::tenure::describe(
                &sc.population.segments,
                sc.population.customers,
                sc.population.tenure_years
            )
        );
    }
    if let Some(b) = &sc.population.base {
        let _ = writeln!(
            s,
            "  base       {}",
            crate::base::describe(b, &sc.population.segments)
        );
    }
    if let Some(a) = &sc.population.acquisition {
        let _ = writeln!(
            s,
            "  acquisition {}/day (about {:.0} over the horizon), CAC {:.2}",
            a.per_day,
            sc.expected_acquired(),
            a.cost_per_customer_cents as f64 / 100.0
        );
    }
    for seg in &sc.population.segments {
        let model = match seg.purchase {
            PurchaseModel::BgNbd {
                r, alpha, a, b, unit,
            } => format!(
                "bg-nbd r={r} alpha={alpha} a={a} b={b} per {u}: mean rate {:.3}/{u}, mean dropout p {:.3}",
                r / alpha,
                a / (a + b),
                u = unit.as_str()
            ),
            PurchaseModel::ParetoNbd {
                r, alpha, s: sh, beta, unit,
            } => format!(
                "pareto-nbd r={r} alpha={alpha} s={sh} beta={beta} per {u}: mean rate {:.3}/{u}",
                r / alpha,
                u = unit.as_str()
            ),
        };
        let spend = match seg.spend {
            SpendModel::GammaGamma { p, q, gamma } => {
                format!("gamma-gamma p={p} q={q} gamma={gamma}")
            }
            SpendModel::LogNormal { mean, cv } => format!("lognormal mean={mean} cv={cv}"),
            SpendModel::Fixed { value } => format!("fixed {value}"),
        };
        let _ = writeln!(
            s,
            "  segment `{}`: share {}, margin {}\n    purchase {}\n    spend    {} (mean order value {:.2})",
            seg.name,
            seg.share,
            seg.margin,
            model,
            spend,
            seg.spend.mean()
        );
        for note in &seg.derived {
            let _ = writeln!(s, "    {note}");
        }
        if let Some(season) = &seg.seasonality {
            let _ = writeln!(s, "    season   {}", season.describe());
        }
    }
    for (i, d) in sc.designs.iter().enumerate() {
        let parts = d.parts();
        let _ = writeln!(
            s,
            "  design `{}` ({}){}{}",
            d.name,
            d.kind.as_str(),
            if i == sc.control { ", the control" } else { "" },
            if parts.is_empty() {
                String::new()
            } else {
                format!(": {}", parts.join(", "))
            }
        );
    }
    let w = crate::engine::estimate::estimate(sc);
    let count = |x: f64| {
        if x < 1e12 {
            format!("{x:.0}")
        } else {
            format!("{x:.2e}")
        }
    };
    let _ = writeln!(
        s,
        "  work       {} customer timelines ({} replicates x {} customers x {} designs, referrals included), at most {:.2e} purchases, {:.1} MB of tallies",
        count(w.timelines),
        sc.replicates,
        count(w.customers),
        sc.designs.len(),
        w.events,
        w.tally_bytes / 1e6,
    );
    if let Err(e) = crate::engine::estimate::check_size(sc, false) {
        let _ = writeln!(s, "  too large  {e}");
    }
    let _ = writeln!(s, "  output     output/{}/", sc.slug());
    s
}

/// What a run of `sc` would do, as JSON (the machine-readable `check --json`).
pub fn describe_json(sc: &Scenario) -> String {
    let w = crate::engine::estimate::estimate(sc);
    let designs: Vec<serde_json::Value> = sc
        .designs
        .iter()
        .map(|d| {
            serde_json::json!({
                "name": d.name, "kind": d.kind.as_str(), "parts": d.parts(),
            })
        })
        .collect();
    let value = serde_json::json!({
        "scenario": {"name": sc.name, "origin": sc.origin, "sha256": sc.sha256},
        "seed": sc.seed, "replicates": sc.replicates, "horizon_days": sc.horizon_days,
        "period": sc.period.as_str(), "periods": sc.periods(),
        "segments": sc.population.segments.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "designs": designs,
        "control": sc.control_design().name,
        "work": {
            "customers": w.customers, "timelines": w.timelines,
            "purchases_at_most": w.events, "tally_bytes": w.tally_bytes,
            "needs_allow_large": crate::engine::estimate::check_size(sc, false).is_err(),
        },
        "output": format!("output/{}/", sc.slug()),
    });
    serde_json::to_string_pretty(&value).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

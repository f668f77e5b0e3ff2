//! A/B test harness (issue 6): read a test's results correctly, plan its size, and learn by
//! simulation what it can and cannot see (power, false positives under peeking, the
//! winner's curse, sequential stopping).
//!
//! - [`stats`]: the statistics alone (tests, intervals, Bayesian comparison, corrections,
//!   sample-size formulas, mSPRT), reusable and tested on their own;
//! - [`analyze`]: `loyalsim ab analyze FILE.csv`;
//! - [`plan`]: `loyalsim ab plan`;
//! - [`experiment`], [`simulate`], [`charts`]: `loyalsim ab simulate EXPERIMENT.toml`.
//!
//! The JSON keys of each command are documented in its module.

pub mod analyze;
pub mod charts;
pub mod decision;
pub mod experiment;
pub mod holdout;
pub mod html;
pub mod input;
pub mod plan;
pub mod simulate;
pub mod stats;
pub mod svg;

use std::path::PathBuf;

use crate::report::write::OutputFiles;

use crate::{Error, Result};

/// Arguments of `loyalsim ab`.
#[derive(Debug, clap::Args)]
pub struct AbArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AbCommand,
}

/// The `ab` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AbCommand {
    /// Compare each treatment with the control from per-visitor or aggregated CSV.
    Analyze(AnalyzeArgs),
    /// Visitors and days a test needs, and its power curve.
    Plan(PlanArgs),
    /// Monte Carlo of a whole test from an experiment file.
    Simulate(SimulateArgs),
    /// How many customers to keep out of a loyalty program, and for how long, to measure its
    /// incremental profit (from the engine's simulated customers).
    Holdout(HoldoutArgs),
}

/// Arguments of `loyalsim ab holdout`.
#[derive(Debug, clap::Args)]
pub struct HoldoutArgs {
    /// Loyalty scenario (TOML).
    pub scenario: PathBuf,
    /// The program's design in the scenario (compared with its control).
    #[arg(long)]
    pub design: String,
    /// Target standard error of the incremental profit per customer, in the scenario's
    /// currency (default target: the simulated effect is detectable at --alpha and --power).
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub precision: Option<f64>,
    /// Hold out this share only (default: a table of shares from 1% to 50%).
    #[arg(long, value_name = "SHARE", allow_negative_numbers = true)]
    pub holdout_share: Option<f64>,
    /// Customers the holdout is drawn from (default: the scenario's initial customers).
    #[arg(long, value_name = "N")]
    pub population: Option<u64>,
    /// Significance level (two-sided) of the minimum detectable effect.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Power of the minimum detectable effect.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Worker threads, 1 to 1024 (results are identical for any number).
    #[arg(long, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1024), usize::from))]
    pub threads: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `loyalsim ab analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// CSV with `variant,converted,revenue` per visitor or
    /// `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]` per variant
    /// (`-` = standard input).
    pub file: PathBuf,
    /// Pre-period covariate column for CUPED (per-visitor rows).
    #[arg(long, value_name = "COL")]
    pub covariate: Option<String>,
    /// Ratio metric NUM/DEN of two per-visitor columns, by the delta method (repeatable).
    #[arg(long, value_name = "NUM/DEN")]
    pub ratio: Vec<String>,
    /// Cap revenue per visitor at a value (500) or a percentile of the converters' revenue
    /// (p99).
    #[arg(long, value_name = "VALUE|pNN")]
    pub cap: Option<input::Cap>,
    /// Standard deviation of a normal prior N(0, sd²) on the relative revenue effect for
    /// the Bayesian result (default: flat prior, as GrowthBook's default).
    #[arg(long)]
    pub prior_sd: Option<f64>,
    /// Add always-valid p-values and confidence sequences, for data looked at while the
    /// test runs; the value is the tuning parameter (visitors at which the sequence is
    /// tightest; GrowthBook's default 5000).
    #[arg(long, value_name = "TAU", num_args = 0..=1, default_missing_value = "5000")]
    pub sequential: Option<f64>,
    /// Metric that must not get worse: conversion, revenue or a --ratio name (repeatable);
    /// tested one-sided at --alpha.
    #[arg(long, value_name = "METRIC")]
    pub guardrail: Vec<String>,
    /// Control variant (default: the first in the file).
    #[arg(long)]
    pub control: Option<String>,
    /// Designed split, one weight per variant in file order (normalised), e.g. 0.5,0.5.
    #[arg(long, value_delimiter = ',')]
    pub weights: Option<Vec<f64>>,
    /// Significance level for the `significant` flags (intervals are always 95%).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Correction across several treatments.
    #[arg(long, value_enum, default_value = "holm")]
    pub correction: analyze::Correction,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report (estimate tables, Bayesian results,
    /// guardrails, forest plots of the 95% intervals) to FILE; an existing file is replaced
    /// only if loyalsim wrote it.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Arguments of `loyalsim ab plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Metric to plan for.
    #[arg(long, value_enum, default_value = "conversion")]
    pub metric: plan::PlanMetric,
    /// Baseline conversion rate, e.g. 0.10 (conversion).
    #[arg(long)]
    pub baseline: Option<f64>,
    /// Baseline revenue per visitor (revenue).
    #[arg(long)]
    pub mean: Option<f64>,
    /// Standard deviation of revenue per visitor (revenue).
    #[arg(long)]
    pub sd: Option<f64>,
    /// Minimum detectable effect, absolute (0.01 = one percentage point) or with
    /// --relative a share of the baseline (0.1 = +10%). Leave out to get the MDE from
    /// --visitors, --days or --weeks.
    #[arg(long, allow_hyphen_values = true)]
    pub mde: Option<f64>,
    /// Read --mde as relative to the baseline.
    #[arg(long)]
    pub relative: bool,
    /// Significance level (family-wise over the treatments; two-sided unless --one-sided).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Arms including the control; each treatment is tested at alpha / (arms - 1)
    /// (Bonferroni).
    #[arg(long, default_value_t = 2)]
    pub arms: u32,
    /// One-sided test: only an improvement counts.
    #[arg(long)]
    pub one_sided: bool,
    /// Correlation of the metric with a pre-period covariate for CUPED (variance x 1 - rho²).
    #[arg(long, allow_hyphen_values = true, value_name = "RHO")]
    pub cuped_correlation: Option<f64>,
    /// Visitors available in the test (all arms): solve for the MDE.
    #[arg(long)]
    pub visitors: Option<f64>,
    /// Days the test runs (rounded up to whole weeks): solve for the MDE; needs
    /// --visitors-per-day.
    #[arg(long)]
    pub days: Option<u32>,
    /// Weeks the test runs: solve for the MDE; needs --visitors-per-day.
    #[arg(long)]
    pub weeks: Option<u32>,
    /// Power (1 - beta).
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Treatment visitors per control visitor.
    #[arg(long, default_value_t = 1.0)]
    pub ratio: f64,
    /// Visitors entering the test per day (both arms), to get days.
    #[arg(long)]
    pub visitors_per_day: Option<f64>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `loyalsim ab simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Experiment file (TOML).
    pub file: PathBuf,
    /// Output folder (default: output/<experiment-name-slug>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed (default: the file's, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of simulated experiments (default: the file's, else 1000).
    #[arg(long)]
    pub experiments: Option<u64>,
    /// Worker threads, 1 to 1024 (results are identical for any number).
    #[arg(long, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1024), usize::from))]
    pub threads: Option<usize>,
    /// Print the JSON report instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// What a command prints: machine or human output for stdout, and notes ("wrote ...")
/// for stderr, so `--json` output on stdout is always parseable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Printed {
    /// For standard output.
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
}

impl From<String> for Printed {
    fn from(stdout: String) -> Self {
        Printed {
            stdout,
            stderr: String::new(),
        }
    }
}

/// Entry point of `loyalsim ab`: does the work and prints the result (the one place this
/// module writes to stdout and stderr).
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub fn run(args: AbArgs) -> Result<()> {
    let out = execute(args)?;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    Ok(())
}

fn to_json<T: serde::Serialize>(x: &T) -> Result<String> {
    serde_json::to_string_pretty(x)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Other(format!("cannot serialise the report: {e}")))
}

fn parse_ratios(specs: &[String]) -> Result<Vec<(String, String)>> {
    specs
        .iter()
        .map(|r| match r.split_once('/') {
            Some((n, d)) if !n.trim().is_empty() && !d.trim().is_empty() => {
                Ok((n.trim().to_string(), d.trim().to_string()))
            }
            _ => Err(Error::Usage(format!(
                "--ratio takes NUM/DEN, two column names, e.g. revenue/orders; got `{r}`"
            ))),
        })
        .collect()
}

fn run_analyze(a: AnalyzeArgs) -> Result<Printed> {
    if let Some(sd) = a.prior_sd {
        if !(sd > 0.0 && sd.is_finite()) {
            return Err(Error::Usage(format!("--prior-sd must be > 0, got {sd}")));
        }
    }
    if let Some(t) = a.sequential {
        if !(t >= 1.0 && t.is_finite()) {
            return Err(Error::Usage(format!(
                "--sequential TAU must be >= 1, got {t}"
            )));
        }
    }
    let ratios = parse_ratios(&a.ratio)?;
    let cap = match a.cap {
        None => None,
        Some(input::Cap::Value(v)) => Some((None, v)),
        Some(input::Cap::Percentile(p)) => {
            let mut rev = input::converter_revenues(&a.file)?;
            let v = input::percentile(&mut rev, p).ok_or_else(|| {
                Error::Usage("--cap pNN: nobody converted, so there is no revenue to cap".into())
            })?;
            Some((Some(p), v))
        }
    };
    let read = input::ReadOptions {
        covariate: a.covariate.clone(),
        ratios: ratios.clone(),
        cap: cap.map(|c| c.1),
    };
    let data = input::read_path(&a.file, &read)?;
    let opts = analyze::AnalyzeOptions {
        control: a.control,
        weights: a.weights,
        alpha: a.alpha,
        correction: a.correction,
        prior: stats::GaussianPrior {
            mean: 0.0,
            sd: a.prior_sd,
        },
        sequential_tuning: a.sequential,
        guardrails: a.guardrail,
        ratio_names: ratios.iter().map(|(n, d)| format!("{n}/{d}")).collect(),
        capping: cap.map(|(percentile, value)| analyze::Capping {
            metric: "revenue",
            percentile,
            value,
            visitors_capped: data.arms.iter().map(|x| x.capped).sum(),
        }),
    };
    let result = analyze::analyze(&a.file.display().to_string(), &data, &opts)?;
    let mut stderr = String::new();
    if let Some(path) = &a.html {
        crate::report::write::write_file_atomic(path, &html::analysis_page(&result))?;
        stderr = format!("wrote {}\n", path.display());
    }
    let stdout = if a.json {
        to_json(&result)?
    } else {
        analyze::render_text(&result)
    };
    Ok(Printed { stdout, stderr })
}

fn run_holdout(a: HoldoutArgs) -> Result<Printed> {
    let opts = holdout::HoldoutOptions {
        design: a.design,
        precision: a.precision,
        holdout_share: a.holdout_share,
        population: a.population,
        alpha: a.alpha,
        power: a.power,
    };
    let plan = match a.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t.max(1))
            .build()
            .map_err(|e| Error::Other(format!("cannot start {t} threads: {e}")))?
            .install(|| holdout::plan(&a.scenario, &opts))?,
        None => holdout::plan(&a.scenario, &opts)?,
    };
    if a.json {
        Ok(to_json(&plan)?.into())
    } else {
        Ok(holdout::render_text(&plan).into())
    }
}

/// Do the work of `loyalsim ab` (including writing simulation output files) and return what
/// the command prints.
pub fn execute(args: AbArgs) -> Result<Printed> {
    match args.command {
        AbCommand::Analyze(a) => run_analyze(a),
        AbCommand::Plan(a) => {
            let p = plan::plan(&plan::PlanOptions {
                metric: a.metric,
                baseline: a.baseline,
                mean: a.mean,
                sd: a.sd,
                mde: a.mde,
                relative: a.relative,
                alpha: a.alpha,
                power: a.power,
                ratio: a.ratio,
                visitors_per_day: a.visitors_per_day,
                arms: a.arms,
                one_sided: a.one_sided,
                cuped_correlation: a.cuped_correlation,
                visitors: a.visitors,
                days: a.days,
                weeks: a.weeks,
            })?;
            if a.json {
                Ok(to_json(&p)?.into())
            } else {
                Ok(plan::render_text(&p).into())
            }
        }
        AbCommand::Holdout(a) => run_holdout(a),
        AbCommand::Simulate(a) => {
            let exp = experiment::Experiment::load(&a.file)?;
            let report = simulate::simulate(
                &exp,
                &simulate::SimOptions {
                    seed: a.seed,
                    experiments: a.experiments,
                    threads: a.threads,
                },
            )?;
            let files = simulation_files(&report)?;
            let out = a
                .out
                .unwrap_or_else(|| PathBuf::from("output").join(experiment::slug(&exp.name)));
            files.write_atomic(&out)?;
            let stderr = format!(
                "wrote {}/ab_simulation.json, ab_report.html and charts/*.png|svg\n",
                out.display()
            );
            let stdout = if a.json {
                to_json(&report)?
            } else {
                simulate::render_text(&report)
            };
            Ok(Printed { stdout, stderr })
        }
    }
}

/// The files of a simulation: `ab_simulation.json`, `ab_report.html` and the charts, as
/// bytes.
pub fn simulation_files(report: &simulate::SimulationReport) -> Result<OutputFiles> {
    let mut files = OutputFiles::new();
    files.add("ab_simulation.json", to_json(report)?);
    let charts = charts::render(report)?;
    let lift = charts
        .iter()
        .find(|(p, _)| p == "charts/lift_distribution.svg")
        .and_then(|(_, b)| std::str::from_utf8(b).ok());
    files.add("ab_report.html", html::simulation_page(report, lift));
    for (path, bytes) in charts {
        files.add(path, bytes);
    }
    Ok(files)
}

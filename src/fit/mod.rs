//! `loyalsim fit`: build a population from a store's own history. Reads a transaction log
//! (CDNOW's whitespace format or a CSV with named columns) or an RFM summary, fits BG/NBD
//! and gamma-gamma by maximum likelihood, validates on a holdout period when a calibration
//! end is given, and writes a `[[population.segments]]` entry that `loyalsim run` accepts.
//!
//! Outputs: `--out population.toml` (the segment, with a comment naming the source and the
//! fit statistics); `--json FILE` with `{"model", "params", "log_likelihood", "customers",
//! "std_errors", "aic", "gamma_gamma", "holdout"}`; with a calibration end, next to the
//! `--out` file, `<stem>_holdout.csv` (the conditional-expectation table by calibration
//! frequency 0..7+) and `<stem>_holdout.png|svg` (cumulative repeat purchases by week,
//! predicted vs actual).

pub mod models;
pub mod outputs;
pub mod posterior;
pub mod rfm;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::report::write::write_files_atomic;
use crate::{Error, Result};
use models::Fit;
use rfm::{LogFormat, Rfm};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// From the file: RFM columns, a CSV log with the named columns, else CDNOW.
    Auto,
    /// CDNOW whitespace-separated log.
    Cdnow,
    /// CSV transaction log.
    Csv,
    /// RFM summary CSV.
    Rfm,
}

/// Arguments of `loyalsim fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Transaction log or RFM summary (`-` reads it from standard input).
    pub input: PathBuf,
    /// Where to write the population segment (TOML).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// Customer id column of a CSV log.
    #[arg(long, default_value = "customer_id")]
    pub customer_col: String,
    /// Date column of a CSV log (YYYYMMDD or YYYY-MM-DD).
    #[arg(long, default_value = "date")]
    pub date_col: String,
    /// Amount column of a CSV log.
    #[arg(long, default_value = "amount")]
    pub amount_col: String,
    /// Last day of the calibration period (YYYY-MM-DD); later purchases are the holdout.
    #[arg(long)]
    pub calibration_end: Option<String>,
    /// Also write the fit as JSON to this file (`--json` alone, or `--json -`: to stdout).
    #[arg(long, num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Write the per-customer table (RFM plus P(alive), expected purchases over the
    /// horizon, expected order value and CLV) to this CSV.
    #[arg(long)]
    pub base: Option<PathBuf>,
    /// Write a runnable scenario simulating these customers from their fitted state (with
    /// the base table; without `--base` it goes beside the scenario as `<stem>_base.csv`).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Add acquisition to the written scenario, estimated from the log's first purchases.
    #[arg(long)]
    pub acquisition: bool,
    /// Name of the segment written.
    #[arg(long, default_value = "fitted")]
    pub segment_name: String,
    /// Gross margin written into the segment (the log has no costs).
    #[arg(long, default_value_t = 0.3)]
    pub margin: f64,
    /// Purchase model to write: `best` picks the lower AIC of BG/NBD and Pareto/NBD.
    #[arg(long, value_enum, default_value = "best")]
    pub model: ModelChoice,
}

/// Which purchase model `loyalsim fit` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelChoice {
    /// The lower AIC of the two.
    Best,
    /// BG/NBD.
    BgNbd,
    /// Pareto/NBD.
    ParetoNbd,
}

/// The outcome of a fit, for the outputs.
#[derive(Debug, Clone)]
pub struct FitReport {
    /// The input file.
    pub source: String,
    /// BG/NBD fit.
    pub bgnbd: Fit,
    /// Pareto/NBD fit (None when `--model bg-nbd` did not ask for it).
    pub pareto: Option<Fit>,
    /// Whether the written model is Pareto/NBD (else BG/NBD).
    pub use_pareto: bool,
    /// Gamma-gamma fit, when there are enough repeat customers.
    pub gamma_gamma: Option<Fit>,
    /// Calibration end, as given.
    pub calibration_end: Option<String>,
    /// Holdout rows by calibration frequency: (label, customers, actual mean, predicted mean).
    pub holdout: Vec<(String, usize, f64, f64)>,
    /// Holdout totals (actual, predicted).
    pub holdout_total: Option<(f64, f64)>,
    /// Holdout length in weeks.
    pub holdout_weeks: f64,
}

impl FitReport {
    /// The model written into the segment.
    pub fn chosen(&self) -> &Fit {
        match &self.pareto {
            Some(p) if self.use_pareto => p,
            _ => &self.bgnbd,
        }
    }
}

/// Order value written when there are too few repeat customers for gamma-gamma.
pub const FALLBACK_ORDER_VALUE: f64 = 30.0;

/// Refuse a fit whose parameters `loyalsim check` would reject or that is meaningless
/// (issue 12: `r = 0.000000` used to be written).
fn check_fit(source: &str, f: &Fit, model: &str) -> Result<()> {
    for (n, v) in f.names.iter().zip(&f.params) {
        if !(v.is_finite() && *v > 1e-12 && *v < 1e12) {
            return Err(Error::Data {
                path: source.to_string(),
                line: None,
                message: format!(
                    "the {model} fit is degenerate ({n} = {v:e}): too few repeat purchases in the calibration window to fit it; choose a later --calibration-end"
                ),
            });
        }
    }
    Ok(())
}

/// The input's text: the file, or standard input for `-` (issue 12).
fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Error::io("<stdin>", e))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Read the input into RFM summaries; returns them and the holdout length in weeks.
pub fn load(args: &FitArgs) -> Result<(Vec<Rfm>, f64)> {
    let cal = match &args.calibration_end {
        None => None,
        Some(s) => Some(rfm::parse_date(s).ok_or_else(|| {
            Error::Usage(format!("--calibration-end `{s}` is not a YYYY-MM-DD date"))
        })?),
    };
    let text = read_input(&args.input)?;
    let head = text.lines().next().unwrap_or("").to_string();
    let format = match args.format {
        InputFormat::Auto if head.contains("frequency") || head.contains("t_x") => InputFormat::Rfm,
        InputFormat::Auto if head.contains(',') => InputFormat::Csv,
        InputFormat::Auto => InputFormat::Cdnow,
        f => f,
    };
    if format == InputFormat::Rfm {
        if cal.is_some() {
            return Err(Error::Usage(
                "--calibration-end needs a transaction log, not an RFM summary".into(),
            ));
        }
        return Ok((rfm::from_rfm_text(&args.input, &text)?, 0.0));
    }
    let log = match format {
        InputFormat::Csv => LogFormat::Csv {
            customer: args.customer_col.clone(),
            date: args.date_col.clone(),
            amount: args.amount_col.clone(),
        },
        _ => LogFormat::Cdnow,
    };
    let rows = rfm::from_log_text(&args.input, &text, &log, cal)?;
    // Holdout length: from the calibration end to the last purchase day in the log.
    let weeks = match cal {
        Some(c) => {
            let last = rows
                .iter()
                .filter_map(|r| Some(r.first_day? + *r.repeat_days.last()?))
                .max()
                .unwrap_or(c);
            (last - c).max(0) as f64 / 7.0
        }
        None => 0.0,
    };
    Ok((rows, weeks))
}

/// Fit and validate.
pub fn fit(
    source: &str,
    data: &[Rfm],
    holdout_weeks: f64,
    calibration_end: Option<String>,
    choice: ModelChoice,
) -> Result<FitReport> {
    if data.len() < 10 {
        return Err(Error::Data {
            path: source.to_string(),
            line: None,
            message: format!(
                "{} customers are too few to fit a model (at least 10)",
                data.len()
            ),
        });
    }
    if data.iter().all(|c| c.frequency == 0.0) {
        return Err(Error::Data {
            path: source.to_string(),
            line: None,
            message: "no customer has a repeat purchase in the calibration window: nothing to fit a purchase model to".into(),
        });
    }
    let bgnbd = models::fit_bgnbd(data);
    // Fit only what was asked for (issue 14): `--model bg-nbd` skips Pareto/NBD.
    let pareto = (choice != ModelChoice::BgNbd).then(|| models::fit_pareto(data));
    let use_pareto = match (&pareto, choice) {
        (Some(_), ModelChoice::ParetoNbd) => true,
        (Some(p), ModelChoice::Best) => {
            p.aic() < bgnbd.aic() && check_fit(source, p, "Pareto/NBD").is_ok()
        }
        _ => false,
    };
    if use_pareto || choice == ModelChoice::ParetoNbd {
        check_fit(source, pareto.as_ref().unwrap_or(&bgnbd), "Pareto/NBD")?;
    } else {
        check_fit(source, &bgnbd, "BG/NBD")?;
    }
    let gamma_gamma =
        models::fit_gamma_gamma(data).filter(|g| check_fit(source, g, "gamma-gamma").is_ok());
    let mut holdout = Vec::new();
    let mut holdout_total = None;
    if calibration_end.is_some() && holdout_weeks > 0.0 {
        let p = &bgnbd.params;
        let mut rows: Vec<(usize, f64, f64)> = vec![(0, 0.0, 0.0); 8];
        for c in data {
            let k = (c.frequency as usize).min(7);
            let pred = models::bgnbd_conditional(p, c.frequency, c.recency, c.t, holdout_weeks);
            rows[k].0 += 1;
            rows[k].1 += f64::from(c.holdout.unwrap_or(0));
            rows[k].2 += pred;
        }
        let actual: f64 = rows.iter().map(|r| r.1).sum();
        let predicted: f64 = rows.iter().map(|r| r.2).sum();
        holdout_total = Some((actual, predicted));
        holdout = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0 > 0)
            .map(|(k, r)| {
                (
                    if k == 7 {
                        "7+".to_string()
                    } else {
                        k.to_string()
                    },
                    r.0,
                    r.1 / r.0 as f64,
                    r.2 / r.0 as f64,
                )
            })
            .collect();
    }
    Ok(FitReport {
        source: source.to_string(),
        bgnbd,
        pareto,
        use_pareto,
        gamma_gamma,
        calibration_end,
        holdout,
        holdout_total,
        holdout_weeks,
    })
}

/// The population segment in the scenario format.
pub fn render_segment(rep: &FitReport, name: &str, margin: f64) -> String {
    let b = rep.chosen();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# fitted by loyalsim fit from {}: {}, LL = {:.2}, AIC = {:.2}, {} customers{}",
        rep.source,
        if rep.use_pareto {
            "Pareto/NBD"
        } else {
            "BG/NBD"
        },
        b.log_likelihood,
        b.aic(),
        b.customers,
        rep.calibration_end
            .as_ref()
            .map_or(String::new(), |c| format!(", calibration end {c}"))
    );
    if let Some(g) = &rep.gamma_gamma {
        let _ = writeln!(
            s,
            "# gamma-gamma on {} repeat customers, LL = {:.2}",
            g.customers, g.log_likelihood
        );
    }
    let _ = writeln!(s, "[[population.segments]]");
    let _ = writeln!(s, "name = {}", toml_str(name));
    let _ = writeln!(s, "share = 1.0");
    let _ = writeln!(s, "margin = {margin}");
    let _ = writeln!(
        s,
        "# BG/NBD LL = {:.2} (AIC {:.2}){}",
        rep.bgnbd.log_likelihood,
        rep.bgnbd.aic(),
        rep.pareto.as_ref().map_or(
            "; Pareto/NBD not fitted (--model bg-nbd)".to_string(),
            |p| format!(
                "; Pareto/NBD LL = {:.2} (AIC {:.2})",
                p.log_likelihood,
                p.aic()
            )
        )
    );
    // Parameters at full precision (shortest round-trip form): six decimals wrote a small r
    // as 0.000000, which `check` rejects (issue 12).
    if rep.use_pareto {
        let _ = writeln!(
            s,
            "purchase = {{ model = \"pareto-nbd\", r = {:?}, alpha = {:?}, s = {:?}, beta = {:?}, unit = \"week\" }}",
            b.params[0], b.params[1], b.params[2], b.params[3]
        );
    } else {
        let _ = writeln!(
            s,
            "purchase = {{ model = \"bg-nbd\", r = {:?}, alpha = {:?}, a = {:?}, b = {:?}, unit = \"week\" }}",
            b.params[0], b.params[1], b.params[2], b.params[3]
        );
    }
    match &rep.gamma_gamma {
        Some(g) => {
            let _ = writeln!(
                s,
                "spend = {{ model = \"gamma-gamma\", p = {:?}, q = {:?}, gamma = {:?} }}",
                g.params[0], g.params[1], g.params[2]
            );
        }
        None => {
            let _ = writeln!(
                s,
                "# too few repeat customers for gamma-gamma: a fixed mean order value"
            );
            let _ = writeln!(
                s,
                "spend = {{ model = \"fixed\", mean = {FALLBACK_ORDER_VALUE:?} }}"
            );
        }
    }
    if let Some(cov) = &b.covariance {
        // Issue 14: the Hessian covariance of the purchase-model estimates, as data for
        // carrying fit uncertainty into results (not used by `run` yet).
        let names: Vec<String> = b.names.iter().map(|n| toml_str(n)).collect();
        let rows: Vec<String> = cov
            .iter()
            .map(|r| {
                let cells: Vec<String> = r.iter().map(|v| format!("{v:?}")).collect();
                format!("[{}]", cells.join(", "))
            })
            .collect();
        let _ = writeln!(
            s,
            "covariance = {{ params = [{}], matrix = [{}] }}",
            names.join(", "),
            rows.join(", ")
        );
    }
    s
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn params_json(f: &Fit) -> (serde_json::Value, serde_json::Value) {
    let mut p = serde_json::Map::new();
    let mut se = serde_json::Map::new();
    for ((n, v), e) in f.names.iter().zip(&f.params).zip(&f.std_errors) {
        p.insert((*n).into(), json!(v));
        se.insert((*n).into(), e.map_or(serde_json::Value::Null, |x| json!(x)));
    }
    (p.into(), se.into())
}

/// The JSON document of a fit.
pub fn render_json(rep: &FitReport) -> Vec<u8> {
    let chosen = rep.chosen();
    let (params, std_errors) = params_json(chosen);
    let models: Vec<serde_json::Value> = [("bg-nbd", Some(&rep.bgnbd)), ("pareto-nbd", rep.pareto.as_ref())]
        .iter()
        .filter_map(|(n, f)| Some((*n, (*f)?)))
        .map(|(name, f)| {
            let (p, se) = params_json(f);
            json!({"model": name, "params": p, "std_errors": se, "log_likelihood": f.log_likelihood, "aic": f.aic(), "limit": f.limit, "iterations": f.iterations})
        })
        .collect();
    let gg = rep.gamma_gamma.as_ref().map(|g| {
        let (p, se) = params_json(g);
        json!({"params": p, "std_errors": se, "log_likelihood": g.log_likelihood, "customers": g.customers})
    });
    let holdout = rep.holdout_total.map(|(actual, predicted)| {
        json!({
            "weeks": rep.holdout_weeks,
            "actual_repeat_purchases": actual,
            "predicted_repeat_purchases": predicted,
            "by_calibration_frequency": rep.holdout.iter().map(|(k, n, a, p)| json!({
                "frequency": k, "customers": n, "actual_mean": a, "predicted_mean": p
            })).collect::<Vec<_>>(),
        })
    });
    let v = json!({
        "model": if rep.use_pareto { "pareto-nbd" } else { "bg-nbd" },
        "params": params,
        "log_likelihood": chosen.log_likelihood,
        "customers": chosen.customers,
        "std_errors": std_errors,
        "aic": chosen.aic(),
        "models": models,
        "gamma_gamma": gg,
        "holdout": holdout,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialise");
    s.push('\n');
    s.into_bytes()
}

fn holdout_csv(rep: &FitReport) -> Vec<u8> {
    let mut s = String::from("calibration_frequency,customers,actual_mean,predicted_mean\n");
    for (k, n, a, p) in &rep.holdout {
        let _ = writeln!(s, "{k},{n},{a},{p}");
    }
    s.into_bytes()
}

/// Weekly cumulative repeat purchases of the cohort, actual and predicted (E[X(t)] summed
/// over customers from their own first purchase).
pub fn cumulative_weekly(rep: &FitReport, data: &[Rfm], weeks: usize) -> Vec<(f64, f64, f64)> {
    let start = data.iter().filter_map(|c| c.first_day).min().unwrap_or(0);
    (1..=weeks)
        .map(|w| {
            let day = start + 7 * w as i64;
            let mut actual = 0usize;
            let mut predicted = 0.0;
            for c in data {
                let Some(first) = c.first_day else { continue };
                if first >= day {
                    continue;
                }
                actual += c.repeat_days.iter().filter(|d| first + **d <= day).count();
                predicted += models::bgnbd_expected(&rep.bgnbd.params, (day - first) as f64 / 7.0);
            }
            (w as f64, actual as f64, predicted)
        })
        .collect()
}

fn chart(points: &[(f64, f64, f64)], cal_week: f64) -> Result<(String, Vec<u8>)> {
    use plotters::prelude::*;
    crate::report::font::ensure_registered()?;
    let size = crate::report::charts::SIZE;
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, plotters::coord::Shift>,
        points: &[(f64, f64, f64)],
        cal_week: f64,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        use crate::report::charts::{colour, tick_format, vertical_marker, with_legend, Mark};
        root.fill(&WHITE)?;
        let x_max = points.last().map_or(1.0, |p| p.0);
        let y_max = points.iter().map(|p| p.1.max(p.2)).fold(1.0, f64::max) * 1.08;
        let (actual, model) = (colour(1), colour(4));
        let marker = crate::report::charts::MARKER;
        let plot = with_legend(
            &root,
            &[
                ("actual".into(), Mark::Line(actual)),
                ("BG/NBD".into(), Mark::Line(model)),
                ("calibration end".into(), Mark::Dashed(marker)),
            ],
        )?;
        let mut c = ChartBuilder::on(&plot)
            .caption(
                "Cumulative repeat purchases: actual vs BG/NBD",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        c.configure_mesh()
            .x_desc("weeks")
            .x_label_formatter(&tick_format(&(0.0..x_max)))
            .y_desc("repeat purchases")
            .y_label_formatter(&tick_format(&(0.0..y_max)))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let label = format!(" calibration end (week {cal_week:.0}); holdout after");
        vertical_marker(&mut c, cal_week, &(0.0..y_max), marker, &label)?;
        c.draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.1)),
            actual.stroke_width(2),
        ))?;
        c.draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.2)),
            model.stroke_width(2),
        ))?;
        root.present()
    }
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, size).into_drawing_area(),
        points,
        cal_week,
    )
    .map_err(|e| Error::Other(format!("holdout chart: {e}")))?;
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area(),
        points,
        cal_week,
    )
    .map_err(|e| Error::Other(format!("holdout chart: {e}")))?;
    let png = crate::report::charts::encode_png(&rgb, size)?;
    Ok((svg, png))
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or("population".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}{suffix}"))
}

/// Human summary of a fit.
pub fn render_text(rep: &FitReport) -> String {
    let mut s = String::new();
    let b = &rep.bgnbd;
    let _ = writeln!(
        s,
        "BG/NBD on {} customers: LL = {:.2}, AIC = {:.2}",
        b.customers,
        b.log_likelihood,
        b.aic()
    );
    for ((n, v), e) in b.names.iter().zip(&b.params).zip(&b.std_errors) {
        let _ = writeln!(
            s,
            "  {n:<6} {v:>10.4}  (se {})",
            e.map_or("n/a".into(), |e| format!("{e:.4}"))
        );
    }
    if let Some(p) = &rep.pareto {
        let _ = writeln!(
            s,
            "Pareto/NBD: LL = {:.2}, AIC = {:.2}",
            p.log_likelihood,
            p.aic()
        );
        for ((n, v), e) in p.names.iter().zip(&p.params).zip(&p.std_errors) {
            let _ = writeln!(
                s,
                "  {n:<6} {v:>10.4}  (se {})",
                e.map_or("n/a".into(), |e| format!("{e:.4}"))
            );
        }
        if let Some(note) = &p.limit {
            let _ = writeln!(s, "  {note}");
        }
    }
    let _ = writeln!(
        s,
        "writing {} (the lower AIC unless --model says otherwise)",
        if rep.use_pareto {
            "Pareto/NBD"
        } else {
            "BG/NBD"
        }
    );
    if let Some(g) = &rep.gamma_gamma {
        let _ = writeln!(
            s,
            "gamma-gamma on {} repeat customers: LL = {:.2}",
            g.customers, g.log_likelihood
        );
        for ((n, v), e) in g.names.iter().zip(&g.params).zip(&g.std_errors) {
            let _ = writeln!(
                s,
                "  {n:<6} {v:>10.4}  (se {})",
                e.map_or("n/a".into(), |e| format!("{e:.4}"))
            );
        }
    }
    if let Some((a, p)) = rep.holdout_total {
        let _ = writeln!(
            s,
            "holdout ({:.1} weeks): actual {a:.0} vs predicted {p:.1} repeat purchases",
            rep.holdout_weeks
        );
        let _ = writeln!(s, "  x_cal  customers  actual  predicted");
        for (k, n, a, p) in &rep.holdout {
            let _ = writeln!(s, "  {k:>5}  {n:>9}  {a:>6.2}  {p:>9.2}");
        }
    }
    s
}

/// Entry point of `loyalsim fit`.
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub fn run(args: FitArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.margin) {
        return Err(Error::Usage(format!(
            "--margin must be in [0, 1], got {}",
            args.margin
        )));
    }
    if args.out.is_none() && args.json.is_none() && args.base.is_none() && args.scenario.is_none() {
        return Err(Error::Usage(
            "nothing to write: give --out, --json, --base or --scenario".into(),
        ));
    }
    let (data, weeks) = load(&args)?;
    let source = if args.input == Path::new("-") {
        "<stdin>".to_string()
    } else {
        args.input
            .file_name()
            .map_or(args.input.display().to_string(), |f| {
                f.to_string_lossy().into_owned()
            })
    };
    let rep = fit(
        &source,
        &data,
        weeks,
        args.calibration_end.clone(),
        args.model,
    )?;
    // Render everything first; write only when all succeeded, and then as one set.
    let (files, json_stdout) = render_outputs(&args, &rep, &data)?;
    write_files_atomic(&files)?;
    if let Some(j) = json_stdout {
        print!("{}", String::from_utf8_lossy(&j));
        eprint!("{}", render_text(&rep));
    } else {
        print!("{}", render_text(&rep));
    }
    if !files.is_empty() {
        eprintln!(
            "wrote {}",
            files
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Output files as (path, bytes), written as one set.
type Files = Vec<(PathBuf, Vec<u8>)>;

/// Every output of `fit` as bytes: the files, and the JSON when it goes to stdout.
fn render_outputs(
    args: &FitArgs,
    rep: &FitReport,
    data: &[Rfm],
) -> Result<(Files, Option<Vec<u8>>)> {
    let segment = render_segment(rep, &args.segment_name, args.margin);
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some(out) = &args.out {
        files.push((out.clone(), segment.clone().into_bytes()));
    }
    let mut json_stdout = None;
    match &args.json {
        Some(j) if j == Path::new("-") => json_stdout = Some(render_json(rep)),
        Some(j) => files.push((j.clone(), render_json(rep))),
        None => {}
    }
    // The scenario's horizon: the holdout, else two years (issue 14).
    let horizon_days = if rep.holdout_total.is_some() {
        (rep.holdout_weeks * 7.0).round().max(1.0) as u32
    } else {
        730
    };
    let base_path = match (&args.base, &args.scenario) {
        (Some(b), _) => Some(b.clone()),
        (None, Some(sc)) => Some(sibling(sc, "_base.csv")),
        (None, None) => None,
    };
    if let Some(b) = &base_path {
        let bytes = outputs::base_csv(rep, data, f64::from(horizon_days) / 7.0, args.margin);
        files.push((b.clone(), bytes));
    }
    if let (Some(sc), Some(b)) = (&args.scenario, &base_path) {
        let spec = outputs::ScenarioSpec {
            base_rfm: outputs::path_from_scenario(sc, b),
            horizon_days,
            acquisition_per_day: args.acquisition.then(|| arrivals_per_day(data)),
            segments: segment,
            segment: Some(args.segment_name.clone()),
        };
        files.push((sc.clone(), outputs::scenario_toml(rep, &spec).into_bytes()));
    }
    if rep.holdout_total.is_some() {
        let stem = args
            .out
            .clone()
            .or_else(|| args.scenario.clone())
            .unwrap_or_else(|| PathBuf::from("population.toml"));
        files.push((sibling(&stem, "_holdout.csv"), holdout_csv(rep)));
        let (svg, png) = holdout_chart(rep, data)?;
        files.push((sibling(&stem, "_holdout.svg"), svg.into_bytes()));
        files.push((sibling(&stem, "_holdout.png"), png));
    }
    Ok((files, json_stdout))
}

/// First purchases per day over the log's calibration window (for `--acquisition`).
fn arrivals_per_day(data: &[Rfm]) -> f64 {
    let first = data.iter().filter_map(|c| c.first_day).min();
    let span = data
        .iter()
        .filter_map(|c| Some(c.first_day? as f64 + c.t * 7.0))
        .fold(f64::NEG_INFINITY, f64::max);
    match first {
        Some(f) if span > f as f64 => data.len() as f64 / (span - f as f64),
        _ => 0.0,
    }
}

fn holdout_chart(rep: &FitReport, data: &[Rfm]) -> Result<(String, Vec<u8>)> {
    let cal = data.iter().filter_map(|c| c.first_day).min();
    let total_weeks = data
        .iter()
        .filter_map(|c| Some(c.first_day? + *c.repeat_days.last()?))
        .max()
        .zip(cal)
        .map_or(1, |(last, first)| {
            ((last - first) as f64 / 7.0).ceil() as usize
        });
    let cal_week = data
        .iter()
        .filter_map(|c| Some(c.first_day? as f64 + c.t * 7.0))
        .next()
        .zip(cal)
        .map_or(0.0, |(end, first)| (end - first as f64) / 7.0);
    let points = cumulative_weekly(rep, data, total_weeks.max(1));
    chart(&points, cal_week)
}

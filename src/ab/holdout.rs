//! `loyalsim ab holdout SCENARIO.toml --design NAME`: plan a long-term program holdout, the
//! customers kept out of the loyalty program to measure its incremental profit.
//!
//! Not a static formula: the per-customer spread of cumulative net profit, with and without
//! the program, comes from the engine's own simulated customers (their churn, purchase and
//! spend dynamics, enrolment and rewards) at every duration. A holdout of share h of N
//! customers estimates the incremental profit per customer by the difference of the two
//! groups' means, with standard error
//!
//! ```text
//! se(h, T) = sqrt( V_program(T) / ((1 − h) N) + V_holdout(T) / (h N) )
//! ```
//!
//! where V(T) is the variance across customers of the cumulative profit up to T (each
//! customer is in one group only, so the paired, common-random-numbers covariance does not
//! help a real holdout). The minimum detectable effect is (z_{1−α/2} + z_power) se.
//!
//! # JSON output (`--json`), stable keys
//!
//! `scenario`, `design`, `control`, `population` (N), `simulated_customers`, `alpha`,
//! `power`, `precision` (target se or null), `target` (what the recommendation meets),
//! `shares` [h], `durations` [ { `days`, `incremental_profit` {`value`, `se`} (per
//! customer, common random numbers), `sd_program`, `sd_holdout` (per customer),
//! `se` [per share], `mde` [per share], `min_share` (smallest share meeting the target, or
//! null) } ], `recommended` (null when nothing meets the target) { `days`, `share`,
//! `holdout_customers`, `se`, `mde`, `customer_days` }, `notes` [text].

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::simulate::Figure;
use super::stats::normal_quantile;
use crate::engine::customer::Context;
use crate::scenario::{origin_name, read_text, Scenario};
use crate::{Error, Result};

/// Holdout shares of the table when `--holdout-share` is not given.
pub const SHARES: [f64; 8] = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];

/// Durations (months) of the table, within the scenario's horizon.
const MONTHS: [f64; 12] = [
    1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0, 48.0, 60.0,
];

/// Options of the planner.
#[derive(Debug, Clone)]
pub struct HoldoutOptions {
    /// Design of the scenario that is the program.
    pub design: String,
    /// Target standard error of the incremental profit per customer (currency).
    pub precision: Option<f64>,
    /// Fixed holdout share (otherwise the grid [`SHARES`]).
    pub holdout_share: Option<f64>,
    /// Customers the holdout is drawn from (default: the scenario's initial customers).
    pub population: Option<u64>,
    /// Two-sided significance level of the MDE.
    pub alpha: f64,
    /// Power of the MDE.
    pub power: f64,
}

/// Exact per-customer sums of cumulative profit (cents) at each duration, for the control
/// (index 0) and the program (index 1): integer sums, so any thread count gives the same.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSums {
    /// Customers summed.
    pub n: u64,
    /// Σ profit, per group and duration.
    pub sum: [Vec<i128>; 2],
    /// Σ profit², per group and duration.
    pub sum_sq: [Vec<i128>; 2],
    /// Σ (program − control) and its square, per duration (the paired difference).
    pub diff: [Vec<i128>; 2],
}

impl CustomerSums {
    fn new(k: usize) -> Self {
        let z = || vec![0i128; k];
        CustomerSums {
            n: 0,
            sum: [z(), z()],
            sum_sq: [z(), z()],
            diff: [z(), z()],
        }
    }

    fn add(&mut self, o: &CustomerSums) {
        self.n += o.n;
        for g in 0..2 {
            for k in 0..self.sum[g].len() {
                self.sum[g][k] += o.sum[g][k];
                self.sum_sq[g][k] += o.sum_sq[g][k];
                self.diff[g][k] += o.diff[g][k];
            }
        }
    }

    /// Mean and sample variance (currency units) of group `g` at duration `k`.
    pub fn moments(&self, g: usize, k: usize) -> (f64, f64) {
        moments(self.n, self.sum[g][k], self.sum_sq[g][k])
    }
}

fn moments(n: u64, s: i128, s2: i128) -> (f64, f64) {
    let n_ = n as f64;
    let mean = s as f64 / n_ / 100.0;
    // Σ(x − x̄)² = Σx² − (Σx)²/n, exact in integers up to the final division.
    let ss = (s2 as f64) - (s as f64) * (s as f64) / n_;
    let var = if n > 1 { ss / (n_ - 1.0) / 1e4 } else { 0.0 };
    (mean, var.max(0.0))
}

/// The scenario as the planner simulates it: the file with its designs replaced by the
/// control and the program, parsed (validated) again, so that the validated scenario is
/// never edited.
pub fn holdout_scenario(path: &Path, design: &str) -> Result<Scenario> {
    let text = read_text(path)?;
    let file = origin_name(path);
    let sc = Scenario::parse(&text, &file)?;
    let Some(d) = sc.designs.iter().position(|x| x.name == design) else {
        return Err(Error::Usage(format!(
            "--design: no design `{design}` in {file}; its designs are: {}",
            sc.designs
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if d == sc.control {
        return Err(Error::Usage(format!(
            "--design: `{design}` is the control of {file}; name the program's design"
        )));
    }
    let mut tree: toml::Value =
        toml::from_str(&text).map_err(|e| Error::Other(format!("{file}: {e}")))?;
    let designs = tree
        .get("designs")
        .and_then(toml::Value::as_array)
        .ok_or_else(|| Error::Other(format!("{file}: [[designs]] is not an array")))?;
    let list = vec![designs[sc.control].clone(), designs[d].clone()];
    if let Some(t) = tree.as_table_mut() {
        t.insert("designs".into(), toml::Value::Array(list));
    }
    let rewritten = toml::to_string(&tree).map_err(|e| Error::Other(e.to_string()))?;
    Scenario::parse(
        &rewritten,
        &format!("{file} (ab holdout: control and `{design}`)"),
    )
}

/// Period indices (0-based, cumulative to their end) of the table's durations.
pub fn duration_periods(sc: &Scenario) -> Vec<usize> {
    let pd = sc.period.days();
    let periods = sc.periods();
    let mut out: Vec<usize> = MONTHS
        .iter()
        .map(|m| (m * 365.25 / 12.0).round())
        .filter(|&days| days <= f64::from(sc.horizon_days) + 1.0)
        .map(|days| ((days / pd).round() as usize).clamp(1, periods) - 1)
        .collect();
    if out.is_empty() {
        out.push(periods - 1);
    }
    out.dedup();
    out
}

/// Simulate the initial customers of every replicate under the control and the program
/// and sum their cumulative profits at the periods `at` (see [`CustomerSums`]).
pub fn customer_sums(sc: &Scenario, at: &[usize]) -> CustomerSums {
    let ctx = Context::new(sc);
    let initial = sc.population.base_len() + sc.population.customers;
    let blocks: Vec<(u32, u64)> = (0..sc.replicates)
        .flat_map(|r| (0..initial.div_ceil(crate::engine::BLOCK)).map(move |b| (r, b)))
        .collect();
    let parts: Vec<CustomerSums> = blocks
        .par_iter()
        .map(|&(r, b)| {
            let plan = crate::engine::plan(sc, r);
            let lo = b * crate::engine::BLOCK;
            let hi = (lo + crate::engine::BLOCK).min(initial);
            let mut acc = CustomerSums::new(at.len());
            let mut scratch = crate::engine::replay::Scratch::default();
            for id in lo..hi {
                let mut t = ctx.empty_tallies();
                ctx.simulate_customer(r, id, &plan, &mut t, &mut scratch);
                add_customer(&mut acc, &t, at);
            }
            acc
        })
        .collect();
    let mut total = CustomerSums::new(at.len());
    for p in &parts {
        total.add(p);
    }
    total
}

fn add_customer(acc: &mut CustomerSums, t: &[crate::metrics::Tally], at: &[usize]) {
    acc.n += 1;
    let cum = |g: usize| -> Vec<i128> {
        let mut run = 0i128;
        let by_period: Vec<i128> = t[g]
            .periods
            .iter()
            .map(|p| {
                run += i128::from(p.net_profit_cents());
                run
            })
            .collect();
        at.iter().map(|&k| by_period[k]).collect()
    };
    let (c, p) = (cum(0), cum(1));
    for k in 0..at.len() {
        for (g, x) in [(0, c[k]), (1, p[k])] {
            acc.sum[g][k] += x;
            acc.sum_sq[g][k] += x * x;
        }
        let d = p[k] - c[k];
        acc.diff[0][k] += d;
        acc.diff[1][k] += d * d;
    }
}

/// One duration of the table.
#[derive(Debug, Clone, Serialize)]
pub struct DurationRow {
    /// Days from the start of the holdout (end of the reporting period).
    pub days: f64,
    /// Incremental profit per customer the engine simulates (program − control, paired).
    pub incremental_profit: Figure,
    /// Standard deviation across customers of cumulative profit with the program.
    pub sd_program: f64,
    /// Same without the program (the holdout).
    pub sd_holdout: f64,
    /// Standard error of the holdout estimate, per share.
    pub se: Vec<f64>,
    /// Minimum detectable effect per customer, per share.
    pub mde: Vec<f64>,
    /// Smallest share meeting the target at this duration (null: none up to 50%).
    pub min_share: Option<f64>,
}

/// The recommended (cheapest) holdout meeting the target.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// Duration.
    pub days: f64,
    /// Holdout share.
    pub share: f64,
    /// Customers kept out of the program.
    pub holdout_customers: u64,
    /// Standard error at that share and duration.
    pub se: f64,
    /// MDE at that share and duration.
    pub mde: f64,
    /// Customers kept out x days: the cost being minimised.
    pub customer_days: f64,
}

/// The plan (`--json` output; keys in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct HoldoutPlan {
    /// Scenario file.
    pub scenario: String,
    /// Program design.
    pub design: String,
    /// Control design.
    pub control: String,
    /// Customers the holdout is drawn from.
    pub population: u64,
    /// Customers simulated to estimate the spreads (all replicates).
    pub simulated_customers: u64,
    /// Significance level of the MDE.
    pub alpha: f64,
    /// Power of the MDE.
    pub power: f64,
    /// Target standard error, if given.
    pub precision: Option<f64>,
    /// What the recommendation meets.
    pub target: String,
    /// Holdout shares of the table.
    pub shares: Vec<f64>,
    /// Rows by duration.
    pub durations: Vec<DurationRow>,
    /// Cheapest holdout (share x duration) meeting the target.
    pub recommended: Option<Recommendation>,
    /// How to read it.
    pub notes: Vec<String>,
}

/// Standard error of the holdout estimate for share h of n customers.
pub fn holdout_se(var_program: f64, var_holdout: f64, n: f64, h: f64) -> f64 {
    (var_program / ((1.0 - h) * n) + var_holdout / (h * n)).sqrt()
}

/// Smallest share h in (0, 0.5] with se(h) <= target: se falls as h grows up to the
/// Neyman optimum, so bisection on that decreasing part finds it.
fn min_share(vp: f64, vh: f64, n: f64, target: f64) -> Option<f64> {
    let se = |h: f64| holdout_se(vp, vh, n, h);
    // se is convex in h; its minimum is at h* = sqrt(vh) / (sqrt(vh) + sqrt(vp)).
    let best = if vp + vh > 0.0 {
        (vh.sqrt() / (vh.sqrt() + vp.sqrt())).min(0.5)
    } else {
        0.5
    };
    let (mut lo, mut hi) = (1e-9, best);
    if se(hi) > target {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if se(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

fn validate(o: &HoldoutOptions) -> Result<()> {
    let bad = |m: String| Err(Error::Usage(m));
    if let Some(p) = o.precision {
        if !(p > 0.0 && p.is_finite()) {
            return bad(format!("--precision must be a positive amount, got {p}"));
        }
    }
    if let Some(s) = o.holdout_share {
        if !(s > 0.0 && s < 1.0) {
            return bad(format!("--holdout-share must be in (0, 1), got {s}"));
        }
    }
    if !(o.alpha > 0.0 && o.alpha < 1.0) {
        return bad(format!("--alpha must be in (0, 1), got {}", o.alpha));
    }
    if !(o.power > 0.0 && o.power < 1.0) {
        return bad(format!("--power must be in (0, 1), got {}", o.power));
    }
    if o.population == Some(0) {
        return bad("--population must be at least 2 customers".into());
    }
    Ok(())
}

/// Plan the holdout of `path`'s design `opts.design`.
pub fn plan(path: &Path, opts: &HoldoutOptions) -> Result<HoldoutPlan> {
    validate(opts)?;
    let sc = holdout_scenario(path, &opts.design)?;
    let at = duration_periods(&sc);
    let sums = customer_sums(&sc, &at);
    if sums.n < 2 {
        return Err(Error::Usage(format!(
            "{}: the planner needs at least 2 initial customers to estimate their spread",
            origin_name(path)
        )));
    }
    let population = opts
        .population
        .unwrap_or(sc.population.base_len() + sc.population.customers);
    Ok(table(&sc, path, opts, &at, &sums, population))
}

/// The table and recommendation from the simulated sums.
pub fn table(
    sc: &Scenario,
    path: &Path,
    opts: &HoldoutOptions,
    at: &[usize],
    sums: &CustomerSums,
    population: u64,
) -> HoldoutPlan {
    let shares: Vec<f64> = opts.holdout_share.map_or(SHARES.to_vec(), |s| vec![s]);
    let z = normal_quantile(1.0 - opts.alpha / 2.0) + normal_quantile(opts.power);
    let n = population as f64;
    let days_of = |k: usize| ((k + 1) as f64 * sc.period.days()).min(f64::from(sc.horizon_days));
    let mut rows = Vec::new();
    let mut best: Option<Recommendation> = None;
    for (k, &p) in at.iter().enumerate() {
        let (_, vh) = sums.moments(0, k);
        let (_, vp) = sums.moments(1, k);
        let (d, dv) = moments(sums.n, sums.diff[0][k], sums.diff[1][k]);
        let target = opts.precision.unwrap_or(d.abs() / z);
        let se: Vec<f64> = shares.iter().map(|&h| holdout_se(vp, vh, n, h)).collect();
        let min = match opts.holdout_share {
            Some(h) => (holdout_se(vp, vh, n, h) <= target).then_some(h),
            None => min_share(vp, vh, n, target),
        };
        let days = days_of(p);
        if let Some(h) = min.filter(|_| target > 0.0) {
            let cost = (h * n).ceil() * days;
            if best.as_ref().is_none_or(|b| cost < b.customer_days) {
                let s = holdout_se(vp, vh, n, h);
                best = Some(Recommendation {
                    days,
                    share: h,
                    holdout_customers: (h * n).ceil() as u64,
                    se: s,
                    mde: z * s,
                    customer_days: cost,
                });
            }
        }
        rows.push(DurationRow {
            days,
            incremental_profit: Figure {
                value: d,
                se: (dv / sums.n as f64).sqrt(),
            },
            sd_program: vp.sqrt(),
            sd_holdout: vh.sqrt(),
            mde: se.iter().map(|s| z * s).collect(),
            se,
            min_share: min,
        });
    }
    let target = match opts.precision {
        Some(p) => format!("standard error of the incremental profit per customer <= {p}"),
        None => format!(
            "the simulated incremental profit per customer is detectable: MDE (alpha {}, power {}) <= |incremental profit|",
            opts.alpha, opts.power
        ),
    };
    HoldoutPlan {
        scenario: path.display().to_string(),
        design: opts.design.clone(),
        control: sc.designs[0].name.clone(),
        population,
        simulated_customers: sums.n,
        alpha: opts.alpha,
        power: opts.power,
        precision: opts.precision,
        target,
        shares,
        durations: rows,
        recommended: best,
        notes: notes(sc),
    }
}

fn notes(sc: &Scenario) -> Vec<String> {
    vec![
        format!(
            "spreads from the engine's {} initial customers x {} replicates simulated with and without the program (churn, purchases, spend, enrolment, rewards)",
            sc.population.base_len() + sc.population.customers,
            sc.replicates
        ),
        "profit is cumulative net profit per customer from day 0 to the duration; fixed program costs (launch, platform) do not depend on who is held out and are left out".into(),
        "each customer is in one group only, so se = sqrt(V_program/((1-h)N) + V_holdout/(hN)); the engine's paired difference (common random numbers) is only the expected effect".into(),
        "recommended: the share x duration meeting the target with the fewest customer-days kept out of the program".into(),
    ]
}

/// The plan as text.
pub fn render_text(p: &HoldoutPlan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Holdout plan for `{}` (vs `{}`) in {}: {} customers, spreads from {} simulated customers",
        p.design, p.control, p.scenario, p.population, p.simulated_customers
    );
    let _ = writeln!(s, "target: {}\n", p.target);
    let _ = write!(
        s,
        "{:>6} {:>18} {:>9}",
        "days", "incr. profit/cust", "min share"
    );
    for h in &p.shares {
        let _ = write!(s, " {:>14}", format!("se|mde @{:.0}%", 100.0 * h));
    }
    s.push('\n');
    for r in &p.durations {
        let _ = write!(
            s,
            "{:>6.0} {:>18} {:>9}",
            r.days,
            format!(
                "{:+.2} ± {:.2}",
                r.incremental_profit.value, r.incremental_profit.se
            ),
            r.min_share
                .map_or("-".into(), |h| format!("{:.1}%", 100.0 * h))
        );
        for (se, mde) in r.se.iter().zip(&r.mde) {
            let _ = write!(s, " {:>14}", format!("{se:.2}|{mde:.2}"));
        }
        s.push('\n');
    }
    match &p.recommended {
        Some(r) => {
            let _ = writeln!(
                s,
                "\nrecommended minimum: hold out {:.1}% ({} customers) for {:.0} days: se {:.2}, MDE {:.2} per customer",
                100.0 * r.share,
                r.holdout_customers,
                r.days,
                r.se,
                r.mde
            );
        }
        None => {
            let _ = writeln!(
                s,
                "\nno share up to 50% meets the target at these durations"
            );
        }
    }
    for n in &p.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

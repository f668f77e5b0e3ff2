//! `[population.base]`: the store's own customers at launch (issue 14).
//!
//! A scenario can name a per-customer RFM table (`customer_id,frequency,recency,T[,
//! monetary_value]`, the lifetimes layout `loyalsim fit --base` writes). Each row becomes one
//! customer who enters the horizon at day 0 = the end of their calibration window, with no
//! purchase on day 0, alive with their posterior P(alive | x, t_x, T), and with latent traits
//! drawn from their exact posterior (see [`crate::fit::posterior`]):
//!
//! - BG/NBD, alive: lambda ~ Gamma(r + x, rate alpha + T), p ~ Beta(a, b + x);
//! - Pareto/NBD, alive: lambda ~ Gamma(r + x, rate alpha + T), mu ~ Gamma(s, rate beta + T),
//!   remaining lifetime Exp(mu) (memoryless, so conditioning on survival to T is exact);
//! - gamma-gamma: nu ~ Gamma(p x + q, rate gamma + x z) (the prior without repeat orders);
//!   other spend models keep the segment's order values.
//!
//! A customer drawn not alive makes no purchases: they had already left before day 0, and
//! count as churned in the first period. Draws come from the customer's own behaviour stream
//! keyed by (seed, replicate, customer id), in a fixed order (alive, rate, dropout, spend), so
//! results are byte-identical for any thread count.

use std::path::Path;

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution, Exp1, Gamma};

use crate::fit::posterior::{self, Model};
use crate::population::{Customer, Dropout, Spend};
use crate::scenario::{PurchaseModel, Segment, SpendModel, TimeUnit};
use crate::{Error, Result};

/// One customer of the base, times in the table's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseCustomer {
    /// Id as in the table.
    pub id: String,
    /// Index of the customer's segment in the scenario.
    pub segment: usize,
    /// Repeat purchases in the calibration window (x).
    pub frequency: f64,
    /// Time from the first to the last repeat purchase (t_x).
    pub recency: f64,
    /// Time from the first purchase to day 0 (T).
    pub t: f64,
    /// Mean value of the repeat purchases (0 without repeats or without the column).
    pub monetary: f64,
}

/// A validated `[population.base]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Base {
    /// The table's path as written in the scenario.
    pub rfm: String,
    /// SHA-256 of the table's bytes (reported with the results: the scenario's own hash does
    /// not cover it).
    pub sha256: String,
    /// Unit of recency and T in the table.
    pub unit: TimeUnit,
    /// The customers, in table order (customer ids 0..n of every replicate).
    pub customers: Vec<BaseCustomer>,
}

/// How to map rows to segments.
#[derive(Debug, Clone, Copy)]
pub enum SegmentOf<'a> {
    /// Every row follows this segment.
    All(usize),
    /// Each row names its segment in this column.
    Column(&'a str),
}

fn bad(path: &Path, line: usize, message: String) -> Error {
    Error::Data {
        path: path.display().to_string(),
        line: Some(line),
        message,
    }
}

/// Read and check an RFM table. Every bad row names file, line and column; nothing is run
/// before the whole table has been read.
pub fn load(
    path: &Path,
    segment_names: &[String],
    seg: SegmentOf,
) -> Result<(Vec<u8>, Vec<BaseCustomer>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let headers = rdr
        .headers()
        .map_err(|e| bad(path, 1, format!("unreadable header: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            bad(
                path,
                1,
                format!(
                    "missing column `{name}`; a base table has customer_id,frequency,recency,T[,monetary_value], this header has: {}",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let (ii, fi, ri, ti) = (
        need("customer_id")?,
        need("frequency")?,
        need("recency")?,
        need("T")?,
    );
    let mi = find("monetary_value");
    let (si, every_row) = match seg {
        SegmentOf::Column(c) => (Some((need(c)?, c)), 0),
        SegmentOf::All(s) => (None, s),
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| bad(path, line, format!("bad CSV row: {e}")))?;
        let num = |k: usize| -> Result<f64> {
            let s = rec.get(k).unwrap_or("");
            let col = &headers[k];
            let v: f64 = s
                .parse()
                .map_err(|_| bad(path, line, format!("column `{col}`: `{s}` is not a number")))?;
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(
                    path,
                    line,
                    format!("column `{col}`: {s} must be a finite number >= 0"),
                ));
            }
            Ok(v)
        };
        let (x, tx, t) = (num(fi)?, num(ri)?, num(ti)?);
        if x.fract() != 0.0 {
            return Err(bad(
                path,
                line,
                format!("column `frequency`: {x} is not a whole number of repeat purchases"),
            ));
        }
        if tx > t * (1.0 + 1e-9) {
            return Err(bad(path, line, format!("column `recency`: {tx} is after T = {t}; the last purchase cannot be after day 0")));
        }
        if x > 0.0 && tx <= 0.0 {
            return Err(bad(
                path,
                line,
                format!("column `recency`: frequency {x} > 0 needs recency > 0"),
            ));
        }
        if t <= 0.0 {
            return Err(bad(
                path,
                line,
                format!("column `T`: must be > 0 (time from the first purchase to day 0), got {t}"),
            ));
        }
        let segment = match si {
            Some((k, c)) => {
                let name = rec.get(k).unwrap_or("");
                segment_names.iter().position(|n| n == name).ok_or_else(|| {
                    bad(
                        path,
                        line,
                        format!(
                            "column `{c}`: unknown segment `{name}`; the scenario's segments are: {}",
                            segment_names.join(", ")
                        ),
                    )
                })?
            }
            None => every_row,
        };
        out.push(BaseCustomer {
            id: rec.get(ii).unwrap_or("").to_string(),
            segment,
            frequency: x,
            recency: tx,
            t,
            monetary: match mi {
                Some(k) => num(k)?,
                None => 0.0,
            },
        });
    }
    if out.is_empty() {
        return Err(Error::Data {
            path: path.display().to_string(),
            line: None,
            message: "the base table has no customers".into(),
        });
    }
    Ok((bytes, out))
}

/// The purchase model of a segment as (model, parameters, unit).
pub fn purchase_params(seg: &Segment) -> (Model, [f64; 4], TimeUnit) {
    match seg.purchase {
        PurchaseModel::BgNbd {
            r,
            alpha,
            a,
            b,
            unit,
        } => (Model::BgNbd, [r, alpha, a, b], unit),
        PurchaseModel::ParetoNbd {
            r,
            alpha,
            s,
            beta,
            unit,
        } => (Model::ParetoNbd, [r, alpha, s, beta], unit),
    }
}

/// (x, t_x, T) of a base customer in the segment model's unit.
fn in_model_unit(c: &BaseCustomer, table: TimeUnit, model: TimeUnit) -> (f64, f64, f64) {
    let k = table.days() / model.days();
    (c.frequency, c.recency * k, c.t * k)
}

/// Posterior P(alive at day 0) of a base customer under their segment's model.
pub fn p_alive(c: &BaseCustomer, table: TimeUnit, seg: &Segment) -> f64 {
    let (m, p, unit) = purchase_params(seg);
    let (x, tx, t) = in_model_unit(c, table, unit);
    posterior::p_alive(m, &p, x, tx, t)
}

/// Mean posterior P(alive) over the base: the expected alive share at day 0.
pub fn expected_alive_share(base: &Base, segments: &[Segment]) -> f64 {
    let sum: f64 = base
        .customers
        .iter()
        .map(|c| p_alive(c, base.unit, &segments[c.segment]))
        .sum();
    sum / base.customers.len().max(1) as f64
}

/// Draw a base customer's state at day 0 from their posterior (see the module doc).
pub fn draw<R: Rng + ?Sized>(
    rng: &mut R,
    c: &BaseCustomer,
    table: TimeUnit,
    seg: &Segment,
) -> Customer {
    let (m, p, unit) = purchase_params(seg);
    let (x, tx, t) = in_model_unit(c, table, unit);
    let u: f64 = rng.random();
    let alive = u < posterior::p_alive(m, &p, x, tx, t);
    // Rates per model unit, turned into per day by the unit length (rate x unit days).
    let gamma = |shape: f64, rate: f64| {
        Gamma::new(shape, 1.0 / (rate * unit.days())).expect("posterior shapes and rates > 0")
    };
    let lambda = gamma(p[0] + x, p[1] + t).sample(rng);
    let dropout = match m {
        Model::BgNbd => Dropout::AfterPurchase {
            p: Beta::new(p[2], p[3] + x).expect("a, b + x > 0").sample(rng),
        },
        Model::ParetoNbd => Dropout::Lifetime {
            mu: gamma(p[2], p[3] + t).sample(rng),
            e: Exp1.sample(rng),
        },
    };
    let (spend, spend_mean) = draw_spend(rng, c, seg);
    Customer {
        segment: c.segment,
        arrival: 0.0,
        acquired: false,
        referred: false,
        has_counterfactual: true,
        opening_purchase: false,
        alive,
        lambda,
        dropout,
        spend,
        spend_mean,
    }
}

fn draw_spend<R: Rng + ?Sized>(rng: &mut R, c: &BaseCustomer, seg: &Segment) -> (Spend, f64) {
    match seg.spend {
        SpendModel::GammaGamma { p, q, gamma } => {
            let (shape, rate) = if c.frequency > 0.0 && c.monetary > 0.0 {
                (p * c.frequency + q, gamma + c.frequency * c.monetary)
            } else {
                (q, gamma)
            };
            let nu: f64 = Gamma::new(shape, 1.0 / rate)
                .expect("posterior shape and rate > 0")
                .sample(rng);
            let nu = nu.max(1e-12);
            (
                Spend::Gamma(Gamma::new(p, 1.0 / nu).expect("p > 0, nu > 0")),
                p / nu,
            )
        }
        SpendModel::LogNormal { mean, cv } => {
            let sigma2 = (1.0 + cv * cv).ln();
            let l = rand_distr::LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
                .expect("validated mean > 0, cv >= 0");
            (Spend::LogNormal(l), mean)
        }
        SpendModel::Fixed { value } => (Spend::Fixed(value), value),
    }
}

/// The `base` block of summary.json: which customers a run started from.
pub fn summary_json(base: &Base, segments: &[Segment]) -> serde_json::Value {
    serde_json::json!({
        "rfm": base.rfm,
        "sha256": base.sha256,
        "unit": base.unit.as_str(),
        "customers": base.customers.len(),
        "expected_alive_share_day0": crate::report::round_reported(expected_alive_share(base, segments)),
    })
}

/// One line for the reports: "2,357 store customers from customers.csv, 59.1% expected
/// alive at day 0".
pub fn describe(base: &Base, segments: &[Segment]) -> String {
    format!(
        "{} store customers from {} ({:.1}% expected alive at day 0, posterior mean P(alive))",
        base.customers.len(),
        base.rfm,
        100.0 * expected_alive_share(base, segments)
    )
}

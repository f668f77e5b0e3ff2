//! Transaction logs and RFM summaries.
//!
//! A log is turned into one summary per customer, as in the published CDNOW analyses
//! (Fader, Hardie & Lee 2005): purchases on the same day are one occasion; `frequency` is
//! the number of repeat occasions up to the calibration end, `recency` the weeks from the
//! first to the last of them, `T` the weeks from the first purchase to the calibration
//! end, `monetary_value` the mean value of the repeat occasions (0 without repeats), and
//! `holdout` the occasions after the calibration end. The RFM CSV layout is the one
//! lifetimes and PyMC-Marketing use: `customer_id,frequency,recency,T,monetary_value`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::{Error, Result};

/// One customer's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Rfm {
    /// Customer id as in the input.
    pub id: String,
    /// Repeat purchase occasions in the calibration period (x).
    pub frequency: f64,
    /// Weeks from the first purchase to the last repeat one (t_x; 0 without repeats).
    pub recency: f64,
    /// Weeks from the first purchase to the calibration end (T).
    pub t: f64,
    /// Mean value of the repeat occasions (0 without repeats).
    pub monetary: f64,
    /// Repeat occasions after the calibration end (holdout), when known.
    pub holdout: Option<u32>,
    /// Days from the first purchase to each repeat occasion, calibration and holdout (for
    /// the cumulative chart).
    pub repeat_days: Vec<i64>,
    /// Day of the first purchase (days since 1970-01-01), when known.
    pub first_day: Option<i64>,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse `YYYYMMDD` or `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    if digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if s.contains('-') && (s.len() != 10 || &s[4..5] != "-" || &s[7..8] != "-") {
        return None;
    }
    let y: i64 = digits[..4].parse().ok()?;
    let m: u32 = digits[4..6].parse().ok()?;
    let d: u32 = digits[6..8].parse().ok()?;
    let days_in = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = if m == 2 && leap {
        29
    } else {
        *days_in.get(m.wrapping_sub(1) as usize)?
    };
    if !(1..=12).contains(&m) || d == 0 || d > max {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// How to read a transaction log.
#[derive(Debug, Clone)]
pub enum LogFormat {
    /// CDNOW's whitespace-separated files: `id date cds dollars` (master, with a header)
    /// or `master_id sample_id date cds dollars` (sample).
    Cdnow,
    /// A CSV with a header and the named columns.
    Csv {
        /// Customer id column.
        customer: String,
        /// Date column (`YYYYMMDD` or `YYYY-MM-DD`).
        date: String,
        /// Amount column.
        amount: String,
    },
}

/// One transaction.
#[derive(Debug, Clone)]
struct Tx {
    id: String,
    day: i64,
    amount: f64,
}

fn data_err(path: &Path, line: usize, message: String) -> Error {
    Error::Data {
        path: path.display().to_string(),
        line: Some(line),
        message,
    }
}

fn parse_amount(path: &Path, line: usize, s: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| data_err(path, line, format!("amount `{s}` is not a number")))?;
    if v < 0.0 || !v.is_finite() {
        return Err(data_err(
            path,
            line,
            format!("amount {s} is negative or not finite; amounts must be >= 0"),
        ));
    }
    Ok(v)
}

/// Years a transaction date may fall in: a typo such as 9997 for 1997 would otherwise make
/// one customer's T thousands of years long and drag the whole fit (issue 12).
pub const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i64> = 1900..=2100;

fn parse_day(path: &Path, line: usize, s: &str) -> Result<i64> {
    let day = parse_date(s.trim()).ok_or_else(|| {
        data_err(
            path,
            line,
            format!("date `{s}` is not a valid YYYYMMDD or YYYY-MM-DD date"),
        )
    })?;
    let (lo, hi) = (
        days_from_civil(*PLAUSIBLE_YEARS.start(), 1, 1),
        days_from_civil(*PLAUSIBLE_YEARS.end(), 12, 31),
    );
    if !(lo..=hi).contains(&day) {
        return Err(data_err(
            path,
            line,
            format!(
                "date `{s}` is outside the years {}..={}; a typo in the year?",
                PLAUSIBLE_YEARS.start(),
                PLAUSIBLE_YEARS.end()
            ),
        ));
    }
    Ok(day)
}

fn read_log(path: &Path, text: &str, format: &LogFormat) -> Result<Vec<Tx>> {
    let mut out = Vec::new();
    match format {
        LogFormat::Cdnow => {
            for (i, raw) in text.lines().enumerate() {
                let line = i + 1;
                let f: Vec<&str> = raw.split_whitespace().collect();
                if f.is_empty() {
                    continue;
                }
                if i == 0 && f[0].parse::<u64>().is_err() {
                    continue; // header
                }
                let (id, date, amount) = match f.len() {
                    4 => (f[0], f[1], f[3]),
                    5 => (f[0], f[2], f[4]),
                    n => {
                        return Err(data_err(
                            path,
                            line,
                            format!("expected 4 (id date cds dollars) or 5 (master_id sample_id date cds dollars) fields, found {n}"),
                        ))
                    }
                };
                out.push(Tx {
                    id: id.to_string(),
                    day: parse_day(path, line, date)?,
                    amount: parse_amount(path, line, amount)?,
                });
            }
        }
        LogFormat::Csv {
            customer,
            date,
            amount,
        } => {
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers = rdr
                .headers()
                .map_err(|e| data_err(path, 1, format!("unreadable header: {e}")))?
                .clone();
            let col = |name: &str| {
                headers.iter().position(|h| h == name).ok_or_else(|| {
                    data_err(
                        path,
                        1,
                        format!(
                            "missing column `{name}`; the header has: {}",
                            headers.iter().collect::<Vec<_>>().join(", ")
                        ),
                    )
                })
            };
            let (ci, di, ai) = (col(customer)?, col(date)?, col(amount)?);
            for (i, rec) in rdr.records().enumerate() {
                let line = i + 2;
                let rec = rec.map_err(|e| data_err(path, line, format!("bad CSV row: {e}")))?;
                let get = |k: usize| rec.get(k).unwrap_or("");
                out.push(Tx {
                    id: get(ci).to_string(),
                    day: parse_day(path, line, get(di))?,
                    amount: parse_amount(path, line, get(ai))?,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Data {
            path: path.display().to_string(),
            line: None,
            message: "no transactions".into(),
        });
    }
    Ok(out)
}

/// Summaries of a transaction log with a calibration end (a day; `None`: the last day in
/// the log, no holdout). Customers whose first purchase is after the calibration end are
/// left out.
pub fn from_log(path: &Path, format: &LogFormat, calibration_end: Option<i64>) -> Result<Vec<Rfm>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    from_log_text(path, &text, format, calibration_end)
}

/// [`from_log`] on text already read (`path` names it in errors; `-` for stdin).
pub fn from_log_text(
    path: &Path,
    text: &str,
    format: &LogFormat,
    calibration_end: Option<i64>,
) -> Result<Vec<Rfm>> {
    let txs = read_log(path, text, format)?;
    let last_day = txs.iter().map(|t| t.day).max().unwrap_or(0);
    let cal_end = calibration_end.unwrap_or(last_day);
    // Occasions per customer: same-day purchases merged.
    let mut by_customer: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
    for t in &txs {
        *by_customer
            .entry(&t.id)
            .or_default()
            .entry(t.day)
            .or_insert(0.0) += t.amount;
    }
    let mut out = Vec::new();
    for (id, days) in by_customer {
        let (&first, _) = days.iter().next().expect("at least one occasion");
        if first > cal_end {
            continue;
        }
        let repeats: Vec<(i64, f64)> = days
            .iter()
            .skip(1)
            .filter(|(d, _)| **d <= cal_end)
            .map(|(d, v)| (*d, *v))
            .collect();
        let holdout = days.keys().filter(|d| **d > cal_end).count();
        let repeat_days: Vec<i64> = days.keys().skip(1).map(|d| d - first).collect();
        let x = repeats.len();
        out.push(Rfm {
            id: id.to_string(),
            frequency: x as f64,
            recency: repeats
                .last()
                .map_or(0.0, |(d, _)| (d - first) as f64 / 7.0),
            t: (cal_end - first) as f64 / 7.0,
            monetary: if x > 0 {
                repeats.iter().map(|(_, v)| v).sum::<f64>() / x as f64
            } else {
                0.0
            },
            holdout: calibration_end.map(|_| holdout as u32),
            repeat_days,
            first_day: Some(first),
        });
    }
    Ok(out)
}

/// Read an RFM CSV: `frequency,recency,T[,monetary_value]` (or `x,t_x,T[,zbar]`), with an
/// optional id column (`customer_id`, `ID` or `id`).
pub fn from_rfm_csv(path: &Path) -> Result<Vec<Rfm>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    from_rfm_text(path, &text)
}

/// [`from_rfm_csv`] on text already read.
pub fn from_rfm_text(path: &Path, text: &str) -> Result<Vec<Rfm>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| data_err(path, 1, format!("unreadable header: {e}")))?
        .clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h));
    let need = |names: &[&str]| {
        find(names).ok_or_else(|| {
            data_err(
                path,
                1,
                format!(
                    "missing column `{}`; the header has: {}",
                    names[0],
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let (fi, ri, ti) = (
        need(&["frequency", "x"])?,
        need(&["recency", "t_x"])?,
        need(&["T"])?,
    );
    let mi = find(&["monetary_value", "zbar"]);
    let ii = find(&["customer_id", "ID", "id"]);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| data_err(path, line, format!("bad CSV row: {e}")))?;
        let num = |k: usize, name: &str| -> Result<f64> {
            let s = rec.get(k).unwrap_or("");
            let v: f64 = s
                .parse()
                .map_err(|_| data_err(path, line, format!("{name} `{s}` is not a number")))?;
            if v < 0.0 || !v.is_finite() {
                return Err(data_err(path, line, format!("{name} {s} must be >= 0")));
            }
            Ok(v)
        };
        let (x, tx, t) = (num(fi, "frequency")?, num(ri, "recency")?, num(ti, "T")?);
        if tx > t + 1e-9 {
            return Err(data_err(path, line, format!("recency {tx} is after T {t}")));
        }
        if x > 0.0 && tx <= 0.0 {
            return Err(data_err(
                path,
                line,
                format!("frequency {x} > 0 needs recency > 0"),
            ));
        }
        out.push(Rfm {
            id: ii
                .and_then(|k| rec.get(k))
                .map_or_else(|| (i + 1).to_string(), str::to_string),
            frequency: x,
            recency: tx,
            t,
            monetary: match mi {
                Some(k) => num(k, "monetary_value")?,
                None => 0.0,
            },
            holdout: None,
            repeat_days: Vec::new(),
            first_day: None,
        });
    }
    if out.is_empty() {
        return Err(Error::Data {
            path: path.display().to_string(),
            line: None,
            message: "no customers".into(),
        });
    }
    Ok(out)
}

/// Render summaries as an RFM CSV (`customer_id,frequency,recency,T,monetary_value`).
pub fn to_csv(rows: &[Rfm]) -> Vec<u8> {
    let mut s = String::from("customer_id,frequency,recency,T,monetary_value\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            crate::report::csv::text(&r.id),
            r.frequency,
            r.recency,
            r.t,
            r.monetary
        );
    }
    s.into_bytes()
}

/// RFM summaries of the customers a scenario simulates under its control in replicate 0,
/// observed to the horizon (T in weeks from each customer's first purchase), in the
/// lifetimes layout: a fitted population can be simulated and re-fitted.
pub fn simulated(sc: &crate::scenario::Scenario) -> Vec<Rfm> {
    use rayon::prelude::*;
    let ctx = crate::engine::customer::Context::new(sc);
    let horizon = f64::from(sc.horizon_days);
    let n = crate::engine::plan(sc, 0).shared;
    (0..n)
        .into_par_iter()
        .map(|id| {
            let (arrival, orders) = ctx.control_history(0, id);
            let repeats = &orders[1..];
            let x = repeats.len();
            Rfm {
                id: id.to_string(),
                frequency: x as f64,
                recency: repeats.last().map_or(0.0, |(t, _)| (t - arrival) / 7.0),
                t: (horizon - arrival) / 7.0,
                monetary: if x > 0 {
                    repeats.iter().map(|(_, v)| v).sum::<f64>() / x as f64
                } else {
                    0.0
                },
                holdout: None,
                repeat_days: Vec::new(),
                first_day: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("19700101"), Some(0));
        assert_eq!(
            parse_date("1997-09-30").unwrap() - parse_date("19970101").unwrap(),
            272
        );
        assert_eq!(parse_date("19970230"), None);
        assert!(parse_date("2024-02-29").is_some());
        assert_eq!(parse_date("1997/01/01"), None);
    }
}

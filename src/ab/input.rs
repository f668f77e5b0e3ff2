//! Streaming reader of `ab analyze` input (issue 16): one pass over the CSV with a reused
//! byte record, so memory stays flat however many rows the file has, and each row only
//! updates a handful of sums per arm.
//!
//! Per-visitor rows: `variant,converted[,revenue][,COVARIATE][,NUM,DEN...]`; aggregated rows:
//! `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]`. Columns are found by
//! header name (ASCII case-insensitive), in any order. `-` reads standard input.
//!
//! Limits, each a data error naming file and line (exit 65): variant names are UTF-8 of at
//! most [`MAX_NAME_BYTES`] bytes, at most [`MAX_VARIANTS`] variants, and the visitors of all
//! arms together at most 2^53 (where f64 stops counting exactly, and far beyond any real
//! experiment), so no count can wrap.

use std::io::{BufReader, Read};
use std::path::Path;

use super::stats::{Moments, PairSums};
use crate::{Error, Result};

/// Longest variant name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// Most variants accepted in one file.
pub const MAX_VARIANTS: usize = 1000;
/// Most visitors over all arms: 2^53, the largest count every f64 formula holds exactly.
pub const MAX_VISITORS: u64 = 1 << 53;

/// Outlier capping of revenue per visitor (`--cap`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cap {
    /// Cap at this value (currency).
    Value(f64),
    /// Cap at this percentile (0–100) of the converters' revenue (zeros left out: with a
    /// few percent converting, a percentile over all visitors would be 0 or the converters'
    /// anyway); the data are read twice.
    Percentile(f64),
}

impl std::str::FromStr for Cap {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!("--cap takes a value (e.g. 500) or a percentile (e.g. p99 or p99.9), got `{s}`")
        };
        if let Some(p) = s.strip_prefix('p').or_else(|| s.strip_prefix('P')) {
            let p: f64 = p.parse().map_err(|_| bad())?;
            if !(p > 0.0 && p < 100.0) {
                return Err(format!("--cap percentile must be in (0, 100), got {p}"));
            }
            Ok(Cap::Percentile(p))
        } else {
            let v: f64 = s.parse().map_err(|_| bad())?;
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("--cap value must be a positive number, got {v}"));
            }
            Ok(Cap::Value(v))
        }
    }
}

/// What to read besides conversion and revenue.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Pre-period covariate column for CUPED.
    pub covariate: Option<String>,
    /// Ratio metrics as (numerator column, denominator column).
    pub ratios: Vec<(String, String)>,
    /// Revenue cap already resolved to a value.
    pub cap: Option<f64>,
}

/// One variant's data, aggregated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArmData {
    /// Variant name as in the file.
    pub name: String,
    /// Visitors.
    pub visitors: u64,
    /// Visitors who converted.
    pub conversions: u64,
    /// Revenue per visitor moments, when the file has revenue.
    pub revenue: Option<Moments>,
    /// (revenue, covariate) sums, with `--covariate` and a revenue column.
    pub cuped_revenue: Option<PairSums>,
    /// (converted, covariate) sums, with `--covariate`.
    pub cuped_conversion: Option<PairSums>,
    /// (numerator, denominator) sums, one per `--ratio`, in option order.
    pub ratios: Vec<PairSums>,
    /// Visitors whose revenue was capped.
    pub capped: u64,
}

/// The data of an experiment, read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentData {
    /// `"per-visitor"` or `"aggregated"`.
    pub format: &'static str,
    /// Arms in order of first appearance.
    pub arms: Vec<ArmData>,
}

pub(crate) fn data_err(path: &str, line: Option<usize>, message: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_string(),
        line,
        message: message.into(),
    }
}

/// Open `path` (`-` = standard input) and stream it through [`read`].
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<ExperimentData> {
    let name = path.display().to_string();
    if path.as_os_str() == "-" {
        read(&name, std::io::stdin().lock(), opts)
    } else {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        read(&name, BufReader::with_capacity(1 << 16, f), opts)
    }
}

/// The converters' revenue values of `path`, for a percentile cap (first of two passes).
pub fn converter_revenues(path: &Path) -> Result<Vec<f64>> {
    let name = path.display().to_string();
    if path.as_os_str() == "-" {
        return Err(Error::Usage(
            "--cap pNN reads the data twice and cannot read standard input; give a file or \
             a cap value"
                .into(),
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    let (mut rdr, cols) = open(&name, BufReader::new(f), &ReadOptions::default())?;
    let Layout::PerVisitor {
        revenue: Some(rc), ..
    } = cols.layout
    else {
        return Err(Error::Usage(
            "--cap needs per-visitor rows with a `revenue` column".into(),
        ));
    };
    let mut rec = csv::ByteRecord::new();
    while next(&name, &mut rdr, &mut rec)? {
        let line = line_of(&rec);
        let r = number(&name, line, &rec, rc, "revenue")?;
        if r > 0.0 {
            out.push(r);
        }
    }
    Ok(out)
}

/// Percentile `p` (0–100) of `values` with linear interpolation between order statistics
/// (numpy's default, "type 7"). `None` for an empty slice.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let h = (values.len() - 1) as f64 * p / 100.0;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    let hi = (lo + 1).min(values.len() - 1);
    Some(values[lo] + frac * (values[hi] - values[lo]))
}

enum Layout {
    PerVisitor {
        converted: usize,
        revenue: Option<usize>,
        covariate: Option<usize>,
        ratios: Vec<(usize, usize)>,
    },
    Aggregated {
        visitors: usize,
        conversions: usize,
        revenue: Option<(usize, usize)>,
    },
}

struct Columns {
    variant: usize,
    layout: Layout,
}

fn find_columns(path: &str, headers: &csv::ByteRecord, opts: &ReadOptions) -> Result<Columns> {
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name.as_bytes()))
    };
    let variant = col("variant").ok_or_else(|| {
        data_err(
            path,
            Some(1),
            "missing column `variant`; expected `variant,converted,revenue` (one row per visitor) \
             or `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]` (aggregated)",
        )
    })?;
    let aggregated = col("visitors").is_some();
    let form = if aggregated {
        "aggregated rows need `variant,visitors,conversions[,revenue_sum,revenue_sum_squares]`"
    } else {
        "per-visitor rows need `variant,converted[,revenue]`"
    };
    let need = |name: &str, why: &str| {
        col(name).ok_or_else(|| data_err(path, Some(1), format!("missing column `{name}`; {why}")))
    };
    let layout = if aggregated {
        if opts.covariate.is_some() || !opts.ratios.is_empty() || opts.cap.is_some() {
            return Err(Error::Usage(
                "--covariate, --ratio and --cap need per-visitor rows \
                 (`variant,converted,revenue,...`), not aggregated ones"
                    .into(),
            ));
        }
        let (rs, rq) = (col("revenue_sum"), col("revenue_sum_squares"));
        if rs.is_some() != rq.is_some() {
            return Err(data_err(
                path,
                Some(1),
                "columns `revenue_sum` and `revenue_sum_squares` go together: give both or neither",
            ));
        }
        Layout::Aggregated {
            visitors: need("visitors", form)?,
            conversions: need("conversions", form)?,
            revenue: rs.zip(rq),
        }
    } else {
        let from_option = "named by the command-line option";
        let covariate = match &opts.covariate {
            Some(c) => Some(need(c, &format!("--covariate {c}: {from_option}"))?),
            None => None,
        };
        let ratios = opts
            .ratios
            .iter()
            .map(|(n, d)| {
                let why = format!("--ratio {n}/{d}: {from_option}");
                Ok((need(n, &why)?, need(d, &why)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let revenue = col("revenue");
        if opts.cap.is_some() && revenue.is_none() {
            return Err(Error::Usage(
                "--cap caps revenue, but the file has no `revenue` column".into(),
            ));
        }
        Layout::PerVisitor {
            converted: need("converted", form)?,
            revenue,
            covariate,
            ratios,
        }
    };
    Ok(Columns { variant, layout })
}

fn open<R: Read>(path: &str, reader: R, opts: &ReadOptions) -> Result<(csv::Reader<R>, Columns)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr
        .byte_headers()
        .map_err(|e| data_err(path, Some(1), format!("cannot read the header: {e}")))?
        .clone();
    let cols = find_columns(path, &headers, opts)?;
    Ok((rdr, cols))
}

fn next<R: Read>(path: &str, rdr: &mut csv::Reader<R>, rec: &mut csv::ByteRecord) -> Result<bool> {
    rdr.read_byte_record(rec).map_err(|e| {
        let line = e.position().map(|p| p.line() as usize);
        let what = match e.kind() {
            csv::ErrorKind::Io(_) => "cannot read the data",
            _ => "malformed CSV row",
        };
        data_err(path, line, format!("{what}: {e}"))
    })
}

fn line_of(rec: &csv::ByteRecord) -> usize {
    rec.position().map(|p| p.line() as usize).unwrap_or(0)
}

fn field<'r>(
    path: &str,
    line: usize,
    rec: &'r csv::ByteRecord,
    c: usize,
    name: &str,
) -> Result<&'r [u8]> {
    rec.get(c)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| data_err(path, Some(line), format!("empty `{name}`")))
}

fn shown(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// A finite number (any sign).
fn number(path: &str, line: usize, rec: &csv::ByteRecord, c: usize, name: &str) -> Result<f64> {
    let b = field(path, line, rec, c, name)?;
    if b == b"0" {
        return Ok(0.0);
    }
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|x| x.is_finite())
        .ok_or_else(|| {
            data_err(
                path,
                Some(line),
                format!("`{name}` must be a finite number, got `{}`", shown(b)),
            )
        })
}

fn money(path: &str, line: usize, rec: &csv::ByteRecord, c: usize, name: &str) -> Result<f64> {
    let x = number(path, line, rec, c, name).map_err(|_| {
        let got = rec.get(c).map(shown).unwrap_or_default();
        data_err(
            path,
            Some(line),
            format!("`{name}` must be a finite number >= 0, got `{got}`"),
        )
    })?;
    if x < 0.0 {
        return Err(data_err(
            path,
            Some(line),
            format!("`{name}` must be a finite number >= 0, got `{x}`"),
        ));
    }
    Ok(x)
}

fn count(path: &str, line: usize, rec: &csv::ByteRecord, c: usize, name: &str) -> Result<u64> {
    let b = field(path, line, rec, c, name)?;
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&x| x <= MAX_VISITORS)
        .ok_or_else(|| {
            data_err(
                path,
                Some(line),
                format!(
                    "`{name}` must be a whole number from 0 to 2^53 ({MAX_VISITORS}), got `{}`",
                    shown(b)
                ),
            )
        })
}

/// The arms seen so far, looked up by the name's bytes (a handful of arms: a linear scan
/// beats hashing).
struct Arms {
    names: Vec<Vec<u8>>,
    data: Vec<Acc>,
}

impl Arms {
    fn index(&mut self, path: &str, line: usize, name: &[u8]) -> Result<usize> {
        if let Some(k) = self.names.iter().position(|n| n == name) {
            return Ok(k);
        }
        let s = std::str::from_utf8(name).map_err(|_| {
            data_err(
                path,
                Some(line),
                format!(
                    "variant name `{}` is not UTF-8 (a Latin-1 export?); re-encode the file as UTF-8",
                    shown(name)
                ),
            )
        })?;
        if name.len() > MAX_NAME_BYTES {
            return Err(data_err(
                path,
                Some(line),
                format!(
                    "variant name of {} bytes; at most {MAX_NAME_BYTES} are allowed",
                    name.len()
                ),
            ));
        }
        if self.names.len() == MAX_VARIANTS {
            return Err(data_err(
                path,
                Some(line),
                format!("more than {MAX_VARIANTS} variants"),
            ));
        }
        self.names.push(name.to_vec());
        self.data.push(Acc {
            arm: ArmData {
                name: s.to_string(),
                ..ArmData::default()
            },
            ..Acc::default()
        });
        Ok(self.names.len() - 1)
    }
}

/// Running per-arm accumulator (Welford's update for revenue, in file order, so results
/// are reproducible to the bit).
#[derive(Default)]
struct Acc {
    arm: ArmData,
    mean: f64,
    m2: f64,
    sum: f64,
    sum_sq: f64,
}

/// Stream CSV from `reader` (`path` names it in messages).
pub fn read<R: Read>(path: &str, reader: R, opts: &ReadOptions) -> Result<ExperimentData> {
    let (mut rdr, cols) = open(path, reader, opts)?;
    let mut arms = Arms {
        names: Vec::new(),
        data: Vec::new(),
    };
    let mut rec = csv::ByteRecord::new();
    let mut total: u64 = 0;
    while next(path, &mut rdr, &mut rec)? {
        let line = line_of(&rec);
        let k = arms.index(
            path,
            line,
            field(path, line, &rec, cols.variant, "variant")?,
        )?;
        let acc = &mut arms.data[k];
        let n = match &cols.layout {
            Layout::PerVisitor {
                converted,
                revenue,
                covariate,
                ratios,
            } => {
                let conv = match field(path, line, &rec, *converted, "converted")? {
                    b"0" => false,
                    b"1" => true,
                    other => {
                        return Err(data_err(
                            path,
                            Some(line),
                            format!("`converted` must be 0 or 1, got `{}`", shown(other)),
                        ))
                    }
                };
                let mut r = match revenue {
                    Some(c) => money(path, line, &rec, *c, "revenue")?,
                    None => 0.0,
                };
                if !conv && r != 0.0 {
                    return Err(data_err(
                        path,
                        Some(line),
                        format!("`revenue` must be 0 when `converted` is 0, got `{r}`"),
                    ));
                }
                if let Some(cap) = opts.cap {
                    if r > cap {
                        r = cap;
                        acc.arm.capped += 1;
                    }
                }
                let a = &mut acc.arm;
                a.visitors += 1;
                a.conversions += u64::from(conv);
                let delta = r - acc.mean;
                acc.mean += delta / a.visitors as f64;
                acc.m2 += delta * (r - acc.mean);
                if let Some(c) = covariate {
                    let x = number(
                        path,
                        line,
                        &rec,
                        *c,
                        opts.covariate.as_deref().unwrap_or(""),
                    )?;
                    a.cuped_conversion
                        .get_or_insert_with(PairSums::default)
                        .push(f64::from(u8::from(conv)), x);
                    if revenue.is_some() {
                        a.cuped_revenue
                            .get_or_insert_with(PairSums::default)
                            .push(r, x);
                    }
                }
                if !ratios.is_empty() {
                    a.ratios.resize(ratios.len(), PairSums::default());
                    for (i, ((nc, dc), (nn, dn))) in ratios.iter().zip(&opts.ratios).enumerate() {
                        let num = number(path, line, &rec, *nc, nn)?;
                        let den = number(path, line, &rec, *dc, dn)?;
                        a.ratios[i].push(num, den);
                    }
                }
                1
            }
            Layout::Aggregated {
                visitors,
                conversions,
                revenue,
            } => {
                let n = count(path, line, &rec, *visitors, "visitors")?;
                let x = count(path, line, &rec, *conversions, "conversions")?;
                if x > n {
                    return Err(data_err(
                        path,
                        Some(line),
                        format!("`conversions` ({x}) exceeds `visitors` ({n})"),
                    ));
                }
                if let Some((rs, rq)) = revenue {
                    let s = money(path, line, &rec, *rs, "revenue_sum")?;
                    let q = money(path, line, &rec, *rq, "revenue_sum_squares")?;
                    // Revenue comes only from converters: (Σx)² ≤ conversions · Σx² (Cauchy–Schwarz).
                    if s * s > x as f64 * q * (1.0 + 1e-9) + 1e-9 {
                        return Err(data_err(
                            path,
                            Some(line),
                            format!(
                                "`revenue_sum_squares` ({q}) is too small for `revenue_sum` ({s}) over \
                                 {x} conversions: it must be at least revenue_sum² / conversions"
                            ),
                        ));
                    }
                    acc.sum += s;
                    acc.sum_sq += q;
                }
                // `total` bounds every arm's sum, and both stay below 2^54: no wrap.
                acc.arm.visitors += n;
                acc.arm.conversions += x;
                n
            }
        };
        total += n;
        if total > MAX_VISITORS {
            return Err(data_err(
                path,
                Some(line),
                format!(
                    "more than 2^53 ({MAX_VISITORS}) visitors in all: counts that large cannot be \
                     analysed exactly"
                ),
            ));
        }
    }
    finish(path, arms, &cols)
}

fn finish(path: &str, arms: Arms, cols: &Columns) -> Result<ExperimentData> {
    if arms.data.len() < 2 {
        return Err(data_err(
            path,
            None,
            format!(
                "an experiment needs at least 2 variants, found {}",
                arms.data.len()
            ),
        ));
    }
    let (aggregated, has_revenue) = match &cols.layout {
        Layout::PerVisitor { revenue, .. } => (false, revenue.is_some()),
        Layout::Aggregated { revenue, .. } => (true, revenue.is_some()),
    };
    let mut out = Vec::with_capacity(arms.data.len());
    for acc in arms.data {
        let mut arm = acc.arm;
        if arm.visitors == 0 {
            return Err(data_err(
                path,
                None,
                format!("variant `{}` has 0 visitors", arm.name),
            ));
        }
        arm.revenue = has_revenue.then(|| {
            if aggregated {
                Moments::from_sums(arm.visitors, acc.sum, acc.sum_sq)
            } else {
                Moments {
                    n: arm.visitors,
                    mean: acc.mean,
                    variance: if arm.visitors > 1 {
                        acc.m2 / (arm.visitors - 1) as f64
                    } else {
                        0.0
                    },
                }
            }
        });
        out.push(arm);
    }
    Ok(ExperimentData {
        format: if aggregated {
            "aggregated"
        } else {
            "per-visitor"
        },
        arms: out,
    })
}

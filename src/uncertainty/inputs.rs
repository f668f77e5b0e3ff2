//! Finding the uncertain inputs of a scenario and putting drawn values in their place.
//!
//! A distribution is an inline table with a `dist` key written where a number is allowed.
//! It is found in the text before the strict parse, with its byte span, so a value can be
//! put in its place without moving any other line: errors in the rest of the file keep
//! their line numbers, and every world is parsed and validated like a hand-written file.
//! Paths follow the sweep syntax: designs and segments by name, other arrays by index.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::defaults::DEFAULT_RANGES;
use super::dist::Dist;
use crate::scenario::locate::Locator;
use crate::{Error, Result};

/// Where an input's drawn value goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A distribution written in the scenario text at this byte span.
    Text(Range<usize>),
    /// A behavioural default with a documented range, set on these designs (by index):
    /// every non-control design on the literature model that does not set the key.
    Behaviour {
        /// Key under `[designs.behaviour]`, e.g. `post_reward.dip`.
        key: &'static str,
        /// Designs it applies to.
        designs: Vec<usize>,
    },
}

/// One uncertain input.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Path as in sweeps (`designs.punch card.behaviour.goal_gradient.dropout_strength`);
    /// a behavioural default shared by every design is `designs.*.behaviour.<key>`.
    pub path: String,
    /// Line in the scenario file (`None` for a built-in default range).
    pub line: Option<usize>,
    /// Its distribution.
    pub dist: Dist,
    /// Drawn values are rounded to whole numbers (the distribution's parameters are all
    /// written as integers, or the default is a number of days).
    pub integer: bool,
    /// Where the value goes.
    pub target: Target,
    /// Where the range comes from (for defaults) or "scenario".
    pub source: &'static str,
}

impl Input {
    /// The value at probability `u`, rounded if the input is whole-numbered.
    pub fn value(&self, u: f64) -> f64 {
        let x = self.dist.quantile(u);
        if self.integer {
            x.round()
        } else {
            x
        }
    }
}

fn scenario_err(origin: &str, line: Option<usize>, field: &str, message: String) -> Error {
    Error::Scenario {
        path: origin.to_string(),
        line,
        field: field.to_string(),
        message,
    }
}

/// Every distribution written in `src`, ordered by table keys (deterministic).
pub fn find(src: &str, origin: &str) -> Result<Vec<Input>> {
    if !src.contains("dist") {
        return Ok(Vec::new());
    }
    let loc = Locator::new(src);
    let doc = DeTable::parse(src).map_err(|e| syntax_err(&loc, origin, &e))?;
    let mut out = Vec::new();
    walk_table(src, &loc, origin, doc.get_ref(), "", &mut out)?;
    Ok(out)
}

fn syntax_err(loc: &Locator, origin: &str, e: &toml::de::Error) -> Error {
    let line = e.span().map(|s| loc.line_of_offset(s.start));
    scenario_err(
        origin,
        line,
        "(syntax)",
        e.message().trim().replace('\n', " "),
    )
}

fn join(prefix: &str, seg: &str) -> String {
    if prefix.is_empty() {
        seg.to_string()
    } else {
        format!("{prefix}.{seg}")
    }
}

fn walk_table(
    src: &str,
    loc: &Locator,
    origin: &str,
    t: &DeTable,
    prefix: &str,
    out: &mut Vec<Input>,
) -> Result<()> {
    for (k, v) in t.iter() {
        let path = join(prefix, k.get_ref());
        walk_value(src, loc, origin, v, &path, out)?;
    }
    Ok(())
}

fn walk_value(
    src: &str,
    loc: &Locator,
    origin: &str,
    v: &Spanned<DeValue>,
    path: &str,
    out: &mut Vec<Input>,
) -> Result<()> {
    match v.get_ref() {
        DeValue::Table(t) if t.get("dist").is_some() => {
            out.push(read_dist(src, loc, origin, v.span(), path)?);
            Ok(())
        }
        DeValue::Table(t) => walk_table(src, loc, origin, t, path, out),
        DeValue::Array(a) => {
            // Designs and segments are addressed by name, other arrays by index.
            let by_name = path == "designs" || path == "population.segments";
            for (i, e) in a.iter().enumerate() {
                let name = match e.get_ref() {
                    DeValue::Table(t) if by_name => t.get("name").and_then(|n| match n.get_ref() {
                        DeValue::String(s) => Some(s.to_string()),
                        _ => None,
                    }),
                    _ => None,
                };
                let seg = name.unwrap_or_else(|| i.to_string());
                walk_value(src, loc, origin, e, &join(path, &seg), out)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn read_dist(
    src: &str,
    loc: &Locator,
    origin: &str,
    span: Range<usize>,
    path: &str,
) -> Result<Input> {
    let line = Some(loc.line_of_offset(span.start));
    let text = &src[span.clone()];
    if !text.trim_start().starts_with('{') {
        return Err(scenario_err(
            origin,
            line,
            path,
            "a distribution must be written as an inline table in place of the number, e.g. `x = { dist = \"uniform\", low = 0.1, high = 0.4 }`".into(),
        ));
    }
    let table: toml::Table = toml::from_str(&format!("x = {text}"))
        .ok()
        .and_then(|mut t: toml::Table| match t.remove("x") {
            Some(toml::Value::Table(t)) => Some(t),
            _ => None,
        })
        .ok_or_else(|| scenario_err(origin, line, path, "not a readable inline table".into()))?;
    let dist = Dist::from_table(&table)
        .map_err(|(k, m)| scenario_err(origin, line, &format!("{path}.{k}"), m))?;
    let integer = table
        .iter()
        .filter(|(k, _)| *k != "dist")
        .all(|(_, v)| v.is_integer());
    Ok(Input {
        path: path.to_string(),
        line,
        dist,
        integer,
        target: Target::Text(span),
        source: "scenario",
    })
}

/// The built-in default ranges that apply to this scenario: one input per illustrative
/// behavioural default, shared by every non-control design on the literature model that
/// does not set that key itself (the value is a fact about customers, so one draw per
/// world applies to every design).
pub fn default_inputs(src: &str) -> Result<Vec<Input>> {
    let value: toml::Value = toml::from_str(src).map_err(|e| Error::Other(e.to_string()))?;
    let designs = value
        .get("designs")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for r in DEFAULT_RANGES {
        let applies: Vec<usize> = designs
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                let b = d.get("behaviour");
                let fixed = b
                    .and_then(|b| b.get("model"))
                    .and_then(|m| m.as_str())
                    .is_some_and(|m| m == "fixed-lift");
                let kind_none = d.get("kind").and_then(|k| k.as_str()) == Some("none");
                let set = b.is_some_and(|b| get_path(b, r.key).is_some());
                !fixed && !kind_none && !set
            })
            .map(|(i, _)| i)
            .collect();
        if applies.is_empty() {
            continue;
        }
        out.push(Input {
            path: format!("designs.*.behaviour.{}", r.key),
            line: None,
            dist: Dist::Triangular {
                low: r.low,
                mode: r.default,
                high: r.high,
            },
            integer: r.integer,
            target: Target::Behaviour {
                key: r.key,
                designs: applies,
            },
            source: r.source,
        });
    }
    Ok(out)
}

/// A correlation between two inputs by path: `(path, path, rho)`.
pub type PathPair = (String, String, f64);

/// Where a fitted segment's covariance comes from (shown with each of its inputs).
pub const FITTED_SOURCE: &str = "the segment's fitted covariance (loyalsim fit, inverse Hessian): multivariate normal on the log scale, median at the estimate, sigma = se / estimate (delta method)";

/// The purchase-model parameters of every segment that carries its fitted covariance, as
/// lognormal inputs at their place in the text (median the estimate, sigma of the log
/// se / estimate), and their correlations (covariance / (se_i se_j)) as
/// `(path, path, rho)`.
pub fn fitted_inputs(src: &str, origin: &str) -> Result<(Vec<Input>, Vec<PathPair>)> {
    if !src.contains("covariance") {
        return Ok((Vec::new(), Vec::new()));
    }
    let loc = Locator::new(src);
    let doc = DeTable::parse(src).map_err(|e| syntax_err(&loc, origin, &e))?;
    let value: toml::Value = toml::from_str(src).map_err(|e| Error::Other(e.to_string()))?;
    let segs = doc
        .get_ref()
        .get("population")
        .and_then(|p| match p.get_ref() {
            DeValue::Table(t) => t.get("segments"),
            _ => None,
        })
        .and_then(|s| match s.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => None,
        });
    let (Some(segs), Some(raw)) = (
        segs,
        value
            .get("population")
            .and_then(|p| p.get("segments"))
            .and_then(|s| s.as_array()),
    ) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut inputs = Vec::new();
    let mut pairs = Vec::new();
    for (seg, raw) in segs.iter().zip(raw) {
        let (DeValue::Table(t), Some(cov)) = (seg.get_ref(), raw.get("covariance")) else {
            continue;
        };
        let name = raw.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let prefix = format!("population.segments.{name}");
        let params: Vec<&str> = cov
            .get("params")
            .and_then(|p| p.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let m: Vec<Vec<f64>> = cov
            .get("matrix")
            .and_then(|m| m.as_array())
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        r.as_array()
                            .map(|c| {
                                c.iter()
                                    .filter_map(|v| {
                                        v.as_float().or(v.as_integer().map(|i| i as f64))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let purchase = t.get("purchase").and_then(|p| match p.get_ref() {
            DeValue::Table(pt) => Some(pt),
            _ => None,
        });
        let first = inputs.len();
        for (i, param) in params.iter().enumerate() {
            let path = format!("{prefix}.purchase.{param}");
            let cov_field = format!("{prefix}.covariance");
            let line = loc.line_of_field(&cov_field);
            let Some(v) = purchase.and_then(|p| p.get(*param)) else {
                return Err(scenario_err(origin, line, &cov_field, format!("names `{param}`, which is not a parameter of this segment's purchase model")));
            };
            let span = v.span();
            let Ok(estimate) = src[span.clone()].trim().parse::<f64>() else {
                return Err(scenario_err(origin, Some(loc.line_of_offset(span.start)), &path, "has a fitted covariance, so it must be a number (the estimate), not a distribution".into()));
            };
            let var = m.get(i).and_then(|r| r.get(i)).copied().unwrap_or(0.0);
            if !(estimate > 0.0 && var > 0.0) {
                return Err(scenario_err(origin, line, &cov_field, format!("the variance of `{param}` must be > 0 and its estimate positive, got variance {var} and estimate {estimate}")));
            }
            inputs.push(Input {
                path,
                line: Some(loc.line_of_offset(span.start)),
                dist: Dist::LogNormal {
                    median: estimate,
                    sigma: var.sqrt() / estimate,
                },
                integer: false,
                target: Target::Text(span),
                source: FITTED_SOURCE,
            });
        }
        for i in 0..params.len() {
            for j in 0..i {
                let rho = m[i][j] / (m[i][i] * m[j][j]).sqrt();
                if rho != 0.0 {
                    pairs.push((
                        inputs[first + i].path.clone(),
                        inputs[first + j].path.clone(),
                        rho,
                    ));
                }
            }
        }
    }
    Ok((inputs, pairs))
}

fn get_path<'v>(v: &'v toml::Value, dotted: &str) -> Option<&'v toml::Value> {
    dotted.split('.').try_fold(v, |cur, k| cur.get(k))
}

fn number_text(x: f64, integer: bool) -> String {
    if integer {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:?}")
    }
}

/// The scenario text with `values[i]` in place of input `i` (same order as `inputs`).
pub fn substitute(src: &str, inputs: &[Input], values: &[f64]) -> Result<String> {
    let mut spans: Vec<(Range<usize>, String)> = inputs
        .iter()
        .zip(values)
        .filter_map(|(inp, x)| match &inp.target {
            Target::Text(span) => Some((span.clone(), number_text(*x, inp.integer))),
            Target::Behaviour { .. } => None,
        })
        .collect();
    spans.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    let mut text = src.to_string();
    for (span, num) in spans {
        text.replace_range(span, &num);
    }
    let behaviour: Vec<(&Input, f64)> = inputs
        .iter()
        .zip(values)
        .filter(|(i, _)| matches!(i.target, Target::Behaviour { .. }))
        .map(|(i, x)| (i, *x))
        .collect();
    if behaviour.is_empty() {
        return Ok(text);
    }
    let mut value: toml::Value = toml::from_str(&text).map_err(|e| Error::Other(e.to_string()))?;
    for (inp, x) in behaviour {
        if let Target::Behaviour { key, designs } = &inp.target {
            for &d in designs {
                set_behaviour(&mut value, d, key, x, inp.integer);
            }
        }
    }
    toml::to_string(&value).map_err(|e| Error::Other(e.to_string()))
}

fn set_behaviour(root: &mut toml::Value, design: usize, key: &str, x: f64, integer: bool) {
    let Some(mut cur) = root
        .get_mut("designs")
        .and_then(|d| d.as_array_mut())
        .and_then(|a| a.get_mut(design))
    else {
        return;
    };
    let mut segs: Vec<&str> = std::iter::once("behaviour").chain(key.split('.')).collect();
    let last = segs.pop().unwrap_or(key);
    for s in segs {
        let Some(t) = cur.as_table_mut() else { return };
        cur = t
            .entry(s.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    if let Some(t) = cur.as_table_mut() {
        let v = if integer {
            toml::Value::Integer(x.round() as i64)
        } else {
            toml::Value::Float(x)
        };
        t.insert(last.to_string(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paths_and_lines() {
        let src = "name = \"x\"\n[[designs]]\nname = \"a b\"\nresponse = { purchase_rate = { dist = \"normal\", mean = 1.03, sd = 0.03 } }\n[[designs]]\nname = \"c\"\nrewards = [ { points = { dist = \"uniform\", low = 150, high = 400 } } ]\n";
        let found = find(src, "t").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, "designs.a b.response.purchase_rate");
        assert_eq!(found[0].line, Some(4));
        assert!(!found[0].integer);
        assert_eq!(found[1].path, "designs.c.rewards.0.points");
        assert!(found[1].integer);
        let text = substitute(src, &found, &[1.05, 200.0]).unwrap();
        assert!(text.contains("purchase_rate = 1.05 }"), "{text}");
        assert!(text.contains("points = 200 }"), "{text}");
        assert_eq!(text.lines().count(), src.lines().count());
    }
}

//! `summary.json`: the stable machine-readable contract of a run.
//!
//! Layout: `{"scenario": {"name", "sha256"}, "seed", "replicates", "horizon_days", "period",
//! "control", "designs": [{"name", "kind", "metrics": {METRIC: {"mean", "sd", "ci95"}},
//! "vs_control": {METRIC: {"mean", "ci95"}}}]}`. Keys keep their order; undefined values are
//! `null`. No timestamps or durations, so identical inputs give identical bytes. With a
//! `[population.base]` (issue 14) a last key `"base": {"rfm", "sha256", "unit", "customers",
//! "expected_alive_share_day0"}` says which store customers the run started from.

use serde_json::{json, Map, Value};

use crate::metrics::{RunResults, RUN_METRICS};
use crate::scenario::Scenario;
use crate::stats::Summary;

fn num(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite())
        .map_or(Value::Null, |v| json!(super::round_reported(v)))
}

fn ci(c: Option<[f64; 2]>) -> Value {
    c.map_or(Value::Null, |[lo, hi]| {
        json!([num(Some(lo)), num(Some(hi))])
    })
}

/// `{"mean", "sd", "ci95"}` of one metric.
pub fn summary_value(s: &Summary) -> Value {
    json!({"mean": num(s.mean), "sd": num(s.sd), "ci95": ci(s.ci95)})
}

/// `{"mean", "ci95"}` of a paired difference.
pub fn diff_value(s: &Summary) -> Value {
    json!({"mean": num(s.mean), "ci95": ci(s.ci95)})
}

/// The summary document as a JSON value.
pub fn summary(sc: &Scenario, r: &RunResults) -> Value {
    let designs: Vec<Value> = r
        .designs
        .iter()
        .map(|d| {
            let mut metrics = Map::new();
            let mut vs = Map::new();
            for (i, name) in RUN_METRICS.iter().enumerate() {
                metrics.insert((*name).into(), summary_value(&d.metrics[i]));
                vs.insert((*name).into(), diff_value(&d.vs_control[i]));
            }
            let payback = match d.payback_months {
                Some(m) => json!(super::round_reported(m)),
                None => json!("never"),
            };
            json!({
                "name": d.name,
                "kind": d.kind,
                "metrics": metrics,
                "vs_control": vs,
                "payback": {
                    "months": payback,
                    "share_of_replicates_never": super::round_reported(d.payback_never_share),
                },
            })
        })
        .collect();
    let mut doc = json!({
        "scenario": {"name": sc.name, "sha256": sc.sha256},
        "seed": sc.seed,
        "replicates": sc.replicates,
        "horizon_days": sc.horizon_days,
        "period": sc.period.as_str(),
        "control": sc.control_design().name,
        "objective": sc.finance.describe(),
        "designs": designs,
    });
    // Issue 14: only scenarios with a `[population.base]` get the key, so the documents of
    // every other scenario keep their bytes.
    if let Some(b) = &sc.population.base {
        doc["base"] = crate::base::summary_json(b, &sc.population.segments);
    }
    // Issue 14: likewise only seasoned synthetic customers get `tenure`.
    if sc.population.tenure_years > 0.0 {
        doc["tenure"] = crate::population::tenure::summary_json(sc);
    }
    if let Some(d) = &r.decision {
        doc["decision"] = super::decision::json(d);
    }
    doc
}

/// Render `summary.json` (pretty, newline-terminated).
pub fn render_summary(sc: &Scenario, r: &RunResults) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(&summary(sc, r)).expect("JSON values serialise");
    s.push('\n');
    s.into_bytes()
}

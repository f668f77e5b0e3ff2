//! The optimisation's files: `evaluations.csv` (every search evaluation), `finalists.csv`
//! (the re-evaluation on fresh replicates), `best_design.toml` (a ready-to-paste
//! `[[designs]]` entry), `frontier.csv` and its charts, `summary.json` and `report.html`.
//! Pure renderers to bytes; no timings, so identical inputs give identical bytes.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::eval::Assessment;
use super::spec::{Bound, Domain, Metric, Spec};
use super::{Final, Logged, Outcome};
use crate::report::json::{diff_value, summary_value};
use crate::report::write::OutputFiles;
use crate::report::{csv::text, round_reported};
use crate::stats::Summary;
use crate::Result;

/// Metrics reported beside the objective for every finalist.
const REPORTED: &[&str] = &[
    "incremental_net_profit",
    "net_profit",
    "incremental_revenue",
    "members",
    "points_liability",
    "reward_cost",
    "program_cost",
    "redemption_rate",
    "roi",
];

fn cell(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| round_reported(v).to_string())
}

fn num(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite())
        .map_or(Value::Null, |v| json!(round_reported(v)))
}

/// A frontier: (metric, indices into the log of the non-dominated feasible evaluations,
/// sorted by the metric).
pub type Frontier = (Metric, Vec<usize>);

/// The objective-vs-metric trade-off frontiers over the feasible, distinct search
/// evaluations: no other evaluation is at least as good on both and better on one.
pub fn frontiers(spec: &Spec, log: &[Logged]) -> Vec<Frontier> {
    let maximise = spec.objective.1;
    spec.frontier
        .iter()
        .map(|&m| {
            let pts: Vec<(usize, f64, f64)> = log
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.repeat && l.assessment.feasible())
                .filter_map(|(i, l)| {
                    let o = l.assessment.objective.mean?;
                    let v = l.assessment.metric(m)?;
                    // Both as "more is better".
                    let o = if maximise { o } else { -o };
                    let v = if m.less_is_better() { -v } else { v };
                    Some((i, o, v))
                })
                .collect();
            let mut front: Vec<(usize, f64, f64)> = pts
                .iter()
                .filter(|a| {
                    !pts.iter()
                        .any(|b| b.1 >= a.1 && b.2 >= a.2 && (b.1 > a.1 || b.2 > a.2))
                })
                .copied()
                .collect();
            front.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
            front.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
            (m, front.into_iter().map(|p| p.0).collect())
        })
        .collect()
}

fn evaluations_csv(spec: &Spec, log: &[Logged]) -> String {
    let mut s = String::from("evaluation,generation,candidate");
    for p in &spec.parameters {
        let _ = write!(s, ",{}", text(&p.path));
    }
    let _ = write!(s, ",objective,objective_ci95_lo,objective_ci95_hi,p_loss");
    for c in &spec.constraints {
        let _ = write!(s, ",{}", text(&c.describe()));
    }
    for m in &spec.frontier {
        let _ = write!(s, ",{}", m.name());
    }
    s.push_str(",violation,feasible,repeat\n");
    for (i, l) in log.iter().enumerate() {
        let a = &l.assessment;
        let _ = write!(s, "{i},{},{}", l.generation, l.candidate);
        for v in &a.values {
            let _ = write!(s, ",{}", round_reported(*v));
        }
        let _ = write!(
            s,
            ",{},{},{},{}",
            cell(a.objective.mean),
            cell(a.objective.ci95.map(|c| c[0])),
            cell(a.objective.ci95.map(|c| c[1])),
            cell(Some(a.p_loss))
        );
        for v in &a.constraint_values {
            let _ = write!(s, ",{}", cell(*v));
        }
        for m in &spec.frontier {
            let _ = write!(s, ",{}", cell(a.metric(*m)));
        }
        let _ = writeln!(
            s,
            ",{},{},{}",
            cell(Some(a.violation)),
            a.feasible(),
            l.repeat
        );
    }
    s
}

fn finalists_csv(spec: &Spec, o: &Outcome) -> String {
    let mut s = String::from("rank,search_rank,baseline");
    for p in &spec.parameters {
        let _ = write!(s, ",{}", text(&p.path));
    }
    s.push_str(",search_objective,objective,objective_ci95_lo,objective_ci95_hi,p_loss,feasible\n");
    for (i, f) in o.finals.iter().enumerate() {
        let a = &f.fresh;
        let _ = write!(
            s,
            "{i},{},{}",
            f.search_rank.map_or(String::new(), |r| r.to_string()),
            f.baseline
        );
        for v in &a.values {
            let _ = write!(s, ",{}", round_reported(*v));
        }
        let _ = writeln!(
            s,
            ",{},{},{},{},{},{}",
            cell(f.search.as_ref().and_then(|x| x.objective.mean)),
            cell(a.objective.mean),
            cell(a.objective.ci95.map(|c| c[0])),
            cell(a.objective.ci95.map(|c| c[1])),
            cell(Some(a.p_loss)),
            a.feasible()
        );
    }
    s
}

fn frontier_csv(spec: &Spec, log: &[Logged], fronts: &[Frontier]) -> String {
    let mut s = String::from("metric,evaluation");
    for p in &spec.parameters {
        let _ = write!(s, ",{}", text(&p.path));
    }
    let _ = writeln!(s, ",{},value", spec.objective.0.name());
    for (m, idx) in fronts {
        for &i in idx {
            let a = &log[i].assessment;
            let _ = write!(s, "{},{i}", m.name());
            for v in &a.values {
                let _ = write!(s, ",{}", round_reported(*v));
            }
            let _ = writeln!(s, ",{},{}", cell(a.objective.mean), cell(a.metric(*m)));
        }
    }
    s
}

/// The best design as a `[[designs]]` entry to paste into a scenario.
pub fn best_design_toml(spec: &Spec, best: &Final) -> Result<String> {
    let v = spec.value_at(&best.fresh.values)?;
    let design = v
        .get("designs")
        .and_then(|d| d.as_array())
        .and_then(|a| {
            a.iter()
                .find(|d| d.get("name").and_then(|n| n.as_str()) == Some(spec.design.as_str()))
        })
        .cloned()
        .ok_or_else(|| crate::Error::Other("internal: the tuned design is missing".into()))?;
    let mut doc = toml::map::Map::new();
    doc.insert("designs".into(), toml::Value::Array(vec![design]));
    let body = toml::to_string(&toml::Value::Table(doc))
        .map_err(|e| crate::Error::Other(e.to_string()))?;
    let mut s = format!(
        "# Best `{}` design found by `loyalsim optimise` ({}).\n# {} on fresh replicates: {}\n",
        spec.design,
        spec.name,
        spec.objective.0.name(),
        estimate(&best.fresh.objective)
    );
    for (p, x) in spec.parameters.iter().zip(&best.fresh.values) {
        let inside = p.path.starts_with(&format!("designs.{}.", spec.design));
        let _ = writeln!(
            s,
            "# {}{} = {}",
            if inside {
                ""
            } else {
                "also set outside the design: "
            },
            p.path,
            round_reported(*x)
        );
    }
    s.push('\n');
    s.push_str(&body);
    Ok(s)
}

/// A number for reading: whole units from 100 up, else 3 decimals.
pub fn short(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn estimate(s: &Summary) -> String {
    match (s.mean, s.ci95) {
        (Some(m), Some([lo, hi])) => {
            format!("{} (95% CI {} to {})", short(m), short(lo), short(hi))
        }
        (Some(m), None) => short(m),
        _ => "undefined".into(),
    }
}

fn values_json(spec: &Spec, x: &[f64]) -> Value {
    let m: Map<String, Value> = spec
        .parameters
        .iter()
        .zip(x)
        .map(|(p, v)| (p.path.clone(), json!(round_reported(*v))))
        .collect();
    Value::Object(m)
}

fn assessment_json(spec: &Spec, a: &Assessment) -> Value {
    let metrics: Map<String, Value> = REPORTED
        .iter()
        .filter_map(|n| Metric::parse(n).map(|m| (n, m)))
        .filter_map(|(n, m)| match m {
            Metric::Run(i) => Some((n.to_string(), summary_value(&a.metrics[i]))),
            Metric::PLoss => None,
        })
        .collect();
    json!({
        "values": values_json(spec, &a.values),
        "objective": summary_value(&a.objective),
        "p_loss": num(Some(a.p_loss)),
        "constraints": spec.constraints.iter().zip(&a.constraint_values).map(|(c, v)| json!({"constraint": c.describe(), "value": num(*v), "met": c.violation(*v) == 0.0})).collect::<Vec<_>>(),
        "feasible": a.feasible(),
        "metrics": metrics,
    })
}

fn summary_json(spec: &Spec, o: &Outcome, fronts: &[Frontier]) -> Value {
    let params: Vec<Value> = spec
        .parameters
        .iter()
        .map(|p| match &p.domain {
            Domain::Continuous(lo, hi) => {
                json!({"path": p.path, "kind": "continuous", "min": lo, "max": hi, "base": p.base})
            }
            Domain::Integer(lo, hi) => {
                json!({"path": p.path, "kind": "integer", "min": lo, "max": hi, "base": p.base})
            }
            Domain::Choices(c) => {
                json!({"path": p.path, "kind": "choices", "choices": c, "base": p.base})
            }
        })
        .collect();
    let constraints: Vec<Value> = spec
        .constraints
        .iter()
        .map(|c| match c.bound {
            Bound::Max(x) => json!({"metric": c.metric.name(), "max": x}),
            Bound::Min(x) => json!({"metric": c.metric.name(), "min": x}),
        })
        .collect();
    let finals: Vec<Value> = o
        .finals
        .iter()
        .map(|f| {
            let mut v = assessment_json(spec, &f.fresh);
            v["search_rank"] = f.search_rank.map_or(Value::Null, |r| json!(r));
            v["baseline"] = json!(f.baseline);
            v["search_objective"] = f
                .search
                .as_ref()
                .map_or(Value::Null, |s| summary_value(&s.objective));
            v
        })
        .collect();
    let best = o.best();
    json!({
        "optimise": spec.name,
        "sha256": spec.sha256,
        "design": spec.design,
        "objective": {"metric": spec.objective.0.name(), "goal": if spec.objective.1 { "maximise" } else { "minimise" }},
        "constraints": constraints,
        "parameters": params,
        "search": {
            "method": "CMA-ES",
            "seed": spec.seed,
            "budget": spec.budget,
            "population": spec.population,
            "generations": spec.generations(),
            "evaluations": o.log.len(),
            "distinct_designs": o.distinct,
            "replicates": {"first": 0, "count": spec.replicates},
            "best_by_generation": o.best_by_generation.iter().map(|v| num(*v)).collect::<Vec<_>>(),
        },
        "reevaluation": {
            "replicates": {"first": spec.replicates, "count": spec.reevaluation_replicates},
            "candidates": finals,
        },
        "best": {
            "values": values_json(spec, &best.fresh.values),
            "feasible": best.fresh.feasible(),
            "objective": summary_value(&best.fresh.objective),
            "vs_baseline": diff_value(&o.improvement),
        },
        "frontier": fronts.iter().map(|(m, idx)| json!({"metric": m.name(), "points": idx.len()})).collect::<Vec<_>>(),
    })
}

/// Render every file of a finished optimisation.
pub fn render(spec: &Spec, o: &Outcome) -> Result<OutputFiles> {
    let fronts = frontiers(spec, &o.log);
    let charts = super::charts::render(spec, o, &fronts)?;
    let mut files = OutputFiles::new();
    files.add("evaluations.csv", evaluations_csv(spec, &o.log));
    files.add("finalists.csv", finalists_csv(spec, o));
    files.add("frontier.csv", frontier_csv(spec, &o.log, &fronts));
    files.add("best_design.toml", best_design_toml(spec, o.best())?);
    let mut j = serde_json::to_string_pretty(&summary_json(spec, o, &fronts))
        .expect("JSON values serialise");
    j.push('\n');
    files.add("summary.json", j);
    files.add("report.html", super::charts::html(spec, o, &charts)?);
    for (name, svg, png) in charts {
        files.add(format!("charts/{name}.svg"), svg);
        files.add(format!("charts/{name}.png"), png);
    }
    Ok(files)
}

/// One line for the terminal: the best design and how it compares with the base design.
pub fn headline(spec: &Spec, o: &Outcome) -> String {
    let best = o.best();
    let base = o.baseline();
    format!(
        "best `{}`: {}\n  {} on {} fresh replicates: {} (base design: {}); paired difference {}; P(loss) {:.0}%{}",
        spec.design,
        spec.describe(&best.fresh.values),
        spec.objective.0.name(),
        spec.reevaluation_replicates,
        estimate(&best.fresh.objective),
        estimate(&base.fresh.objective),
        estimate(&o.improvement),
        100.0 * best.fresh.p_loss,
        if best.fresh.feasible() {
            String::new()
        } else {
            "\n  warning: on fresh replicates this design breaks a constraint (see summary.json)".into()
        }
    )
}

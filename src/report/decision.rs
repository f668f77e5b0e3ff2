//! The decision under uncertainty in every output: `decision` in summary.json,
//! `worlds.csv`, the terminal block and the report's first section, "What should we
//! launch?". Kept apart from the run's other renderers; each hooks it in with a line.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::html::esc;
use super::round_reported as rr;
use super::table::thousands;
use crate::uncertainty::decision::MAX_LOSS_PROBABILITY;
use crate::uncertainty::inputs::Target;
use crate::uncertainty::Decision;

/// What the 90% interval covers, said wherever it is shown.
pub const INTERVAL_NOTE: &str = "90% uncertainty interval: 5% to 95% of the objective over the drawn worlds (what is not known about the inputs), not the Monte Carlo confidence interval of one world";

/// What the first-order sensitivity indices are, said wherever they are shown.
pub const SENSITIVITY_NOTE: &str = "first-order Sobol' index: the share of a design's variance over worlds (inner Monte Carlo noise removed) that the input explains alone, from the regression metamodel; the se is a bootstrap over worlds (sampling error of the given-data estimate), not input uncertainty";

/// The `decision` object of summary.json.
pub fn json(d: &Decision) -> Value {
    let s = &d.stats;
    let mut evppi = Map::new();
    for e in &s.evppi {
        evppi.insert(e.path.clone(), json!(rr(e.value)));
    }
    let designs: Vec<Value> = s
        .designs
        .iter()
        .map(|x| {
            json!({
                "name": x.name,
                "expected": rr(x.expected),
                "interval90": [rr(x.interval90[0]), rr(x.interval90[1])],
                "prob_best": rr(x.prob_best),
                "prob_profitable": x.prob_profitable.map(rr),
                "prob_loss": rr(x.prob_loss),
                "expected_loss": rr(x.expected_loss),
            })
        })
        .collect();
    let inputs: Vec<Value> = d
        .inputs
        .iter()
        .map(|i| {
            json!({
                "path": i.path,
                "distribution": i.dist.describe(),
                "line": i.line,
                "source": i.source,
                "designs": match &i.target {
                    Target::Behaviour { designs, .. } => json!(designs.iter().map(|k| d.names[*k].clone()).collect::<Vec<_>>()),
                    Target::Text(_) => Value::Null,
                },
            })
        })
        .collect();
    json!({
        "objective": d.objective,
        "worlds": d.worlds,
        "inner_replicates": d.replicates,
        "method": d.method,
        "interval_note": INTERVAL_NOTE,
        "recommended": s.recommended,
        "recommended_risk_averse": s.recommended_risk_averse,
        "risk_rule": format!("largest expected objective among designs with P(loss) <= {MAX_LOSS_PROBABILITY}"),
        "evpi": rr(s.evpi),
        "evpi_se": rr(s.evpi_se),
        "evpi_naive": rr(s.evpi_naive),
        "noise_corrected": s.noise_corrected,
        "prob_best_se_max": rr(s.prob_best_se),
        "evppi": evppi,
        "evppi_detail": s.evppi.iter().map(|e| json!({"path": e.path, "value": rr(e.value), "naive": rr(e.naive), "se": rr(e.se)})).collect::<Vec<_>>(),
        "designs": designs,
        "robustness": s.robustness.iter().map(|r| json!({"path": r.path, "values": [rr(r.values[0]), rr(r.values[1])], "ranking_p05": r.ranking_p05, "ranking_p95": r.ranking_p95})).collect::<Vec<_>>(),
        "inputs": inputs,
        "sensitivity_note": SENSITIVITY_NOTE,
        "sensitivity": s.sensitivity.iter().map(|e| {
            let by_design = |v: &[Option<f64>]| -> Map<String, Value> {
                d.names.iter().zip(v).filter_map(|(n, x)| x.map(|x| (n.clone(), json!(rr(x))))).collect()
            };
            json!({"path": e.path, "first_order": by_design(&e.first_order), "se": by_design(&e.se)})
        }).collect::<Vec<_>>(),
        "correlations": d.correlations.iter().map(|c| json!({
            "inputs": [d.inputs[c.a].path, d.inputs[c.b].path],
            "rho": rr(c.rho),
            "source": c.source,
        })).collect::<Vec<_>>(),
    })
}

/// `worlds.csv`: `world`, the drawn inputs by path, then each design's objective against
/// the control (mean of the world's inner replicates).
pub fn worlds_csv(d: &Decision) -> Vec<u8> {
    let mut s = String::from("world");
    for i in &d.inputs {
        let _ = write!(s, ",{}", super::csv::text(&i.path));
    }
    for n in &d.names {
        let _ = write!(s, ",{}", super::csv::text(n));
    }
    s.push('\n');
    for (w, (x, nb)) in d.draws.iter().zip(&d.net_benefit).enumerate() {
        let _ = write!(s, "{w}");
        for v in x.iter().chain(nb) {
            let _ = write!(s, ",{}", rr(*v));
        }
        s.push('\n');
    }
    s.into_bytes()
}

/// Inputs ordered by EVPPI, largest first.
fn ranked_evppi(d: &Decision) -> Vec<&crate::uncertainty::decision::Evppi> {
    let mut e: Vec<_> = d.stats.evppi.iter().collect();
    e.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.path.cmp(&b.path)));
    e
}

/// The recommendation in one sentence.
pub fn sentence(d: &Decision) -> String {
    let s = &d.stats;
    let best = s
        .designs
        .iter()
        .find(|x| x.name == s.recommended)
        .expect("recommended design exists");
    let mut out = format!(
        "Launch \"{}\": expected {} against the control (90% interval {} to {}), best in {:.0}% of {} worlds.",
        best.name,
        thousands(best.expected, 0),
        thousands(best.interval90[0], 0),
        thousands(best.interval90[1], 0),
        best.prob_best * 100.0,
        d.worlds
    );
    if s.recommended_risk_averse != s.recommended {
        let _ = write!(
            out,
            " If a loss more likely than {:.0}% is unacceptable: \"{}\".",
            MAX_LOSS_PROBABILITY * 100.0,
            s.recommended_risk_averse
        );
    }
    if let Some(top) = ranked_evppi(d).first().filter(|e| e.value > 0.0) {
        let _ = write!(
            out,
            " Worth testing first: {} (EVPPI {}).",
            top.path,
            thousands(top.value, 0)
        );
    }
    out
}

/// The terminal block printed after the results table.
pub fn terminal(d: &Decision) -> String {
    let s = &d.stats;
    let mut out = format!(
        "\nWhat should we launch? Objective: {}.\n{}\n",
        d.objective,
        sentence(d)
    );
    let _ = writeln!(
        out,
        "{:<22} {:>12} {:>26} {:>8} {:>10} {:>12}",
        "design", "expected", "90% uncertainty interval", "P(best)", "P(profit)", "exp. loss"
    );
    for x in &s.designs {
        let _ = writeln!(
            out,
            "{:<22} {:>12} {:>26} {:>7.0}% {:>10} {:>12}",
            x.name,
            thousands(x.expected, 0),
            format!(
                "[{}, {}]",
                thousands(x.interval90[0], 0),
                thousands(x.interval90[1], 0)
            ),
            x.prob_best * 100.0,
            x.prob_profitable
                .map_or("-".into(), |p| format!("{:.0}%", p * 100.0)),
            thousands(x.expected_loss, 0)
        );
    }
    let _ = writeln!(
        out,
        "EVPI {} (se {}; P(best) se <= {:.1} points); {} worlds x {} inner replicates.",
        thousands(s.evpi, 0),
        thousands(s.evpi_se, 0),
        s.prob_best_se * 100.0,
        d.worlds,
        d.replicates
    );
    let top: Vec<String> = ranked_evppi(d)
        .iter()
        .take(3)
        .map(|e| format!("{} {}", e.path, thousands(e.value, 0)))
        .collect();
    let _ = writeln!(out, "EVPPI (largest): {}", top.join("; "));
    if let Some(k) = d.names.iter().position(|n| *n == s.recommended) {
        let mut shares: Vec<(f64, &str)> = s
            .sensitivity
            .iter()
            .filter_map(|e| e.first_order[k].map(|v| (v, e.path.as_str())))
            .collect();
        shares.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        if !shares.is_empty() {
            let top: Vec<String> = shares
                .iter()
                .take(3)
                .map(|(v, p)| format!("{p} {:.0}%", v * 100.0))
                .collect();
            let _ = writeln!(
                out,
                "Spread of \"{}\" explained (first-order Sobol'): {}",
                s.recommended,
                top.join("; ")
            );
        }
    }
    out
}

fn bar(share: f64, label: &str) -> String {
    format!(
        "<div class=\"dbar\"><div style=\"width:{:.1}%\"></div><span>{}</span></div>",
        (share * 100.0).clamp(0.0, 100.0),
        esc(label)
    )
}

/// The report's first section.
pub fn html(d: &Decision, assumptions: &[(String, String)]) -> String {
    let s = &d.stats;
    let mut h = String::from("<style>.dbar{position:relative;background:#eee;height:1.2em;min-width:12em}.dbar div{background:#4e79a7;height:100%}.dbar span{position:absolute;left:.4em;top:0;font-size:.85em}.ivl{position:relative;height:1.2em;min-width:16em;background:#f4f4f4}.ivl div{position:absolute;background:#f28e2b;height:100%}.ivl i{position:absolute;width:2px;background:#000;height:100%}</style>");
    let _ = write!(
        h,
        "<h2>What should we launch?</h2><p><strong>{}</strong></p><p class=\"muted\">Objective: {}. {}. {} worlds drawn by {}, each simulated for every design on common random numbers with {} inner replicates; P(best) has a Monte Carlo standard error of at most {:.1} points, EVPI {} &plusmn; {}{}.</p>",
        esc(&sentence(d)),
        esc(&d.objective),
        INTERVAL_NOTE,
        d.worlds,
        match d.method {
            crate::uncertainty::Method::LatinHypercube => "Latin hypercube",
            crate::uncertainty::Method::Random => "independent random draws",
        },
        d.replicates,
        s.prob_best_se * 100.0,
        thousands(s.evpi, 0),
        thousands(s.evpi_se, 0),
        if s.noise_corrected { " (corrected for inner-loop noise)" } else { " (not corrected for inner-loop noise: one inner replicate)" }
    );
    let lo = s
        .designs
        .iter()
        .map(|x| x.interval90[0])
        .fold(0.0, f64::min);
    let hi = s
        .designs
        .iter()
        .map(|x| x.interval90[1])
        .fold(0.0, f64::max);
    let span = (hi - lo).max(1e-9);
    let pos = |v: f64| (v - lo) / span * 100.0;
    h.push_str("<table><tr><th>design</th><th>expected vs control</th><th>90% uncertainty interval</th><th></th><th>P(best)</th><th>P(profitable)</th><th>expected loss</th></tr>");
    for x in &s.designs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>[{}, {}]</td><td><div class=\"ivl\"><div style=\"left:{:.1}%;width:{:.1}%\"></div><i style=\"left:{:.1}%\"></i></div></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&x.name),
            thousands(x.expected, 0),
            thousands(x.interval90[0], 0),
            thousands(x.interval90[1], 0),
            pos(x.interval90[0]),
            pos(x.interval90[1]) - pos(x.interval90[0]),
            pos(x.expected),
            bar(x.prob_best, &format!("{:.0}%", x.prob_best * 100.0)),
            x.prob_profitable.map_or("-".into(), |p| format!("{:.0}%", p * 100.0)),
            thousands(x.expected_loss, 0)
        );
    }
    h.push_str("</table>");
    let ranked = ranked_evppi(d);
    let max = ranked
        .first()
        .map_or(0.0, |e| e.value)
        .max(s.evpi)
        .max(1e-9);
    let _ = write!(h, "<h3>Which assumption is worth testing first?</h3><p class=\"muted\">Expected value of partial perfect information (EVPPI): how much the expected objective would rise if this input alone were known before choosing (regression metamodel, Strong, Oakley &amp; Brennan 2014, corrected for inner-loop noise). EVPI, knowing everything: {}.</p><table><tr><th>input</th><th>EVPPI</th><th></th><th>ranking at its 5% value</th><th>at its 95% value</th></tr>", thousands(s.evpi, 0));
    for e in ranked {
        let rob = s.robustness.iter().find(|r| r.path == e.path);
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{} &plusmn; {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.path),
            thousands(e.value, 0),
            thousands(e.se, 0),
            bar(e.value / max, ""),
            rob.map_or(String::new(), |r| esc(&r.ranking_p05.join(" > "))),
            rob.map_or(String::new(), |r| esc(&r.ranking_p95.join(" > "))),
        );
    }
    h.push_str("</table>");
    h.push_str(&sensitivity_html(d));
    h.push_str("<h3>Every assumption</h3><table><tr><th>input</th><th>value or range</th><th>source</th></tr>");
    for i in &d.inputs {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&i.path),
            esc(&i.dist.describe()),
            esc(&match i.line {
                Some(l) => format!("scenario line {l}"),
                None => i.source.to_string(),
            })
        );
    }
    for c in &d.correlations {
        let _ = write!(
            h,
            "<tr><td><code>{}</code> with <code>{}</code></td><td>correlation {} of the normal scores (Gaussian copula)</td><td>{}</td></tr>",
            esc(&d.inputs[c.a].path),
            esc(&d.inputs[c.b].path),
            rr(c.rho),
            esc(&c.source)
        );
    }
    for (k, v) in assumptions {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>fixed</td></tr>",
            esc(k),
            esc(v)
        );
    }
    h.push_str("</table>");
    h
}

/// The table of first-order indices: inputs by design, each `S ± se` in percent.
fn sensitivity_html(d: &Decision) -> String {
    let s = &d.stats;
    let shown: Vec<usize> = (0..d.names.len())
        .filter(|k| s.sensitivity.iter().any(|e| e.first_order[*k].is_some()))
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<h3>What drives each design's spread?</h3><p class=\"muted\">{}. Indices of one design add up to at most 1 when the inputs are independent; the rest is interactions.</p><table><tr><th>input</th>",
        esc(SENSITIVITY_NOTE)
    );
    for k in &shown {
        let _ = write!(h, "<th>{}</th>", esc(&d.names[*k]));
    }
    h.push_str("</tr>");
    for e in &s.sensitivity {
        let _ = write!(h, "<tr><td><code>{}</code></td>", esc(&e.path));
        for k in &shown {
            let cell = match (e.first_order[*k], e.se[*k]) {
                (Some(v), Some(se)) => format!("{:.0}% &plusmn; {:.0}", v * 100.0, se * 100.0),
                _ => "-".into(),
            };
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// The fixed behavioural assumptions of each design (what the worlds do not vary), as
/// (design path, values), so the report shows every behaviour number.
pub fn fixed_assumptions(sc: &crate::scenario::Scenario) -> Vec<(String, String)> {
    let mut out = vec![(
        "finance".to_string(),
        format!(
            "discount rate {}%/year, points liability {}, {}",
            rr(sc.finance.discount_rate * 100.0),
            if sc.finance.liability {
                "counted"
            } else {
                "ignored"
            },
            match sc.finance.horizon_value_years {
                Some(y) => format!("horizon value of active customers for {} years (last period's run rate)", rr(y)),
                None => "no horizon value (customers still active at the end count for nothing after it)".into(),
            }
        ),
    )];
    for d in sc.designs.iter().filter(|d| d.kind.as_str() != "none") {
        let text = format!("{:?}", d.behaviour);
        let inner = text
            .trim_start_matches("Behaviour")
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim()
            .to_string();
        out.push((format!("designs.{}.behaviour (nominal)", d.name), inner));
    }
    out
}

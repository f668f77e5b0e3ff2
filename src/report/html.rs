//! `report.html`: one self-contained page (inline CSS and SVG, no script, no network) with
//! the scenario, a results table per design, the charts with a caption saying what to look
//! at, and the assumptions with their sources.

use std::fmt::Write;

use super::charts::{RunCharts, CHARTS};
use super::table::thousands;
use crate::metrics::{unit_of, RunResults, Unit, RUN_METRICS};
use crate::scenario::{PurchaseModel, Scenario, SpendModel};
use crate::stats::Summary;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How a metric is shown: money, a share (as %), CRR (already in %), ROI (a ratio, as in
/// the terminal and the CSV), or a plain number without spurious decimals.
fn format(metric: &str, v: f64) -> String {
    match unit_of(metric) {
        Unit::Money => {
            let sign = if v < 0.0 { "-" } else { "" };
            format!(
                "{sign}${}",
                thousands(v.abs(), if v.abs() < 1000.0 { 2 } else { 0 })
            )
        }
        Unit::Share => format!("{:.1}%", 100.0 * v),
        Unit::Percent => format!("{v:.1}%"),
        Unit::Ratio => super::table::roi(v),
        Unit::Number if v.abs() >= 1000.0 => thousands(v, 0),
        Unit::Number => super::table::number(v, 2),
    }
}

fn cell(metric: &str, s: &Summary) -> (String, String) {
    let mean = s.mean.map_or("–".into(), |m| format(metric, m));
    let ci = s.ci95.map_or("–".into(), |[lo, hi]| {
        format!("{} – {}", format(metric, lo), format(metric, hi))
    });
    (mean, ci)
}

fn model_text(sc: &Scenario) -> String {
    let mut s = String::new();
    for seg in &sc.population.segments {
        let purchase = match seg.purchase {
            PurchaseModel::BgNbd { r, alpha, a, b, unit } => format!(
                "BG/NBD (Fader, Hardie &amp; Lee 2005): r = {r}, alpha = {alpha}, a = {a}, b = {b} per {}",
                unit.as_str()
            ),
            PurchaseModel::ParetoNbd { r, alpha, s: sh, beta, unit } => format!(
                "Pareto/NBD (Schmittlein, Morrison &amp; Colombo 1987): r = {r}, alpha = {alpha}, s = {sh}, beta = {beta} per {}",
                unit.as_str()
            ),
        };
        let spend = match seg.spend {
            SpendModel::GammaGamma { p, q, gamma } => format!(
                "gamma-gamma spend (Fader, Hardie &amp; Lee 2005): p = {p}, q = {q}, gamma = {gamma}"
            ),
            SpendModel::LogNormal { mean, cv } => format!("log-normal spend, mean {mean}, cv {cv}"),
            SpendModel::Fixed { value } => format!("fixed order value {value}"),
        };
        // Issue 17: returns only when set, so reports without them keep their bytes.
        let spend = if seg.return_rate > 0.0 {
            format!(
                "{spend}; {:.1}% of orders returned and refunded, earning no points (return_rate)",
                100.0 * seg.return_rate
            )
        } else {
            spend
        };
        // Issue 14: calculator inputs say how they became the models.
        let spend = seg
            .derived
            .iter()
            .fold(spend, |acc, n| format!("{acc}; {}", esc(n)));
        let spend = match &seg.seasonality {
            Some(season) => format!("{spend}; {} (seasonality)", season.describe()),
            None => spend,
        };
        let _ = write!(
            s,
            "<li><b>{}</b> ({:.0}% of customers, margin {:.0}%): {purchase}; {spend}.</li>",
            esc(&seg.name),
            100.0 * seg.share,
            100.0 * seg.margin
        );
    }
    s
}

const CSS: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}\
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.3rem}\
h3{margin-bottom:.3rem}.muted{color:#666}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;width:100%}\
th,td{border-bottom:1px solid #e4e4e4;padding:.3rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}\
th{background:#f5f5f5}tr.key td{font-weight:bold}.neg{color:#b00020}.pos{color:#0a7a2f}\
figure{margin:1.2rem 0 2rem}figure svg{width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.92rem;margin-top:.3rem}\
details{margin:.4rem 0}summary{cursor:pointer;font-weight:bold}\
@media(max-width:700px){body{margin:1rem auto;padding:0 .5rem}table{display:block;overflow-x:auto}}";

/// Render the report page.
pub fn render(sc: &Scenario, r: &RunResults, charts: &RunCharts) -> Vec<u8> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>loyalsim: {}</title><style>{CSS}</style></head><body>",
        esc(&sc.name)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class=\"muted\">loyalsim report: {} replicates, {} days reported per {}, seed {}, {} customers at day 0{}. Scenario SHA-256 {}.</p>",
        esc(&sc.name),
        sc.replicates,
        sc.horizon_days,
        sc.period.as_str(),
        sc.seed,
        thousands(sc.population.customers as f64, 0),
        sc.population.acquisition.as_ref().map_or(String::new(), |a| format!(
            ", {} new customers a day at ${:.2} each",
            a.per_day,
            a.cost_per_customer_cents as f64 / 100.0
        )) + &sc.population.base.as_ref().map_or(String::new(), |b| format!(
            ", plus {}",
            esc(&crate::base::describe(b, &sc.population.segments))
        )) + &crate::population::tenure::report_note(sc),
        &sc.sha256[..16]
    );
    if let Some(dec) = &r.decision {
        let fixed = super::decision::fixed_assumptions(sc);
        h.push_str(&super::decision::html(dec, &fixed));
    }

    // Headline table.
    let idx = |m: &str| RunResults::metric_index(m).expect("metric");
    h.push_str("<h2>Designs at a glance</h2><table><tr><th>design</th><th>kind</th><th>revenue</th><th>net profit</th><th>net profit vs control (95% CI)</th><th>payback</th><th>enrolled (ever)</th><th>active at end</th></tr>");
    for d in &r.designs {
        let vs = &d.vs_control[idx("net_profit")];
        let class = match vs.mean {
            Some(m) if m < 0.0 => "neg",
            Some(m) if m > 0.0 => "pos",
            _ => "",
        };
        let (m, ci) = if d.kind == "none" {
            ("–".to_string(), "the baseline".to_string())
        } else {
            cell("net_profit", vs)
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{m} ({ci})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            d.kind,
            cell("revenue", &d.metrics[idx("revenue")]).0,
            cell("net_profit", &d.metrics[idx("net_profit")]).0,
            if d.kind == "none" {
                "–".to_string()
            } else {
                d.payback_months.map_or("never".into(), |p| {
                    let p = p.round();
                    format!("{p:.0} month{}", if p == 1.0 { "" } else { "s" })
                })
            },
            cell("members", &d.metrics[idx("members")]).0,
            cell("customers_active_end", &d.metrics[idx("customers_active_end")]).0,
        );
    }
    h.push_str("</table>");

    // Charts.
    h.push_str("<h2>Charts</h2>");
    for (name, title, caption) in CHARTS {
        if let Some(c) = charts.charts.iter().find(|c| c.name == *name) {
            let svg = c.svg.find("<svg").map_or(c.svg.as_str(), |i| &c.svg[i..]);
            let _ = write!(
                h,
                "<figure id=\"{name}\"><h3>{title}</h3>{svg}<figcaption>{caption}</figcaption></figure>"
            );
        } else if let Some((_, why)) = charts.skipped.iter().find(|(n, _)| n == name) {
            let _ = write!(
                h,
                "<figure id=\"{name}\"><h3>{title}</h3><p class=\"muted\">Not drawn: {}.</p></figure>",
                esc(why)
            );
        }
    }

    // Full results.
    h.push_str("<h2>Results by design</h2><p class=\"muted\">Mean and 95% confidence interval across replicates; “vs control” is the paired difference, replicate by replicate.</p>");
    let key = [
        "revenue",
        "net_profit",
        "incremental_net_profit",
        "roi",
        "customers_active_end",
        "members",
    ];
    for d in &r.designs {
        let _ = write!(
            h,
            "<details{}><summary>{} ({})</summary><table><tr><th>metric</th><th>mean</th><th>95% CI</th><th>vs control</th><th>vs control 95% CI</th></tr>",
            if d.kind == "none" { "" } else { " open" },
            esc(&d.name),
            d.kind
        );
        for (i, m) in RUN_METRICS.iter().enumerate() {
            let s = &d.metrics[i];
            if s.mean.is_none() {
                continue;
            }
            let (mean, ci) = cell(m, s);
            let (vm, vci) = cell(m, &d.vs_control[i]);
            let _ = write!(
                h,
                "<tr{}><td>{}</td><td>{mean}</td><td>{ci}</td><td>{vm}</td><td>{vci}</td></tr>",
                if key.contains(m) {
                    " class=\"key\""
                } else {
                    ""
                },
                if *m == "members" {
                    "members (ever enrolled)".to_string()
                } else {
                    m.replace('_', " ")
                }
            );
        }
        h.push_str("</table></details>");
    }

    // Assumptions.
    let _ = write!(
        h,
        "<h2>Assumptions</h2><ul>{}</ul><p>Each customer makes a first purchase on arrival (day 0 for the initial population), then buys as a Poisson process while active; the simulation runs event by event in continuous time. Every design is simulated on the same customers with common random numbers, so differences between designs are paired. Members' behaviour follows each design's <code>[designs.behaviour]</code> (goal gradient: Kivetz, Urminsky &amp; Zheng 2006; endowed progress: Nunes &amp; Dreze 2006; self-selection: Leenheer et al. 2007; heavy buyers: Liu 2007; tier demotion: Wagner, Hennig-Thurau &amp; Rudolph 2009; rewarded behaviour: Taylor &amp; Neslin 2005). Post-reward effects follow only rewards paid for by purchase points, not by event bonuses such as review or share points (a goal reached after effort, Kivetz et al. 2006; <code>post_reward.after_event_points</code>). A design with <code>start_day</code> launches on that day: before it nobody enrols or earns and no program cost is booked. Money is exact to the cent until the statistics.</p>",
        model_text(sc)
    );
    let designs: Vec<String> = sc
        .designs
        .iter()
        .map(|d| {
            let parts = d.parts();
            format!(
                "<li><b>{}</b> ({}){}</li>",
                esc(&d.name),
                d.kind.as_str(),
                if parts.is_empty() {
                    ": no program (the control)".to_string()
                } else {
                    format!(": {}", parts.join(", "))
                }
            )
        })
        .collect();
    let _ = write!(h, "<h3>Designs</h3><ul>{}</ul>", designs.join(""));
    h.push_str("<p class=\"muted\">Generated by loyalsim. No scripts, no network: this file is complete on its own.</p></body></html>\n");
    h.into_bytes()
}

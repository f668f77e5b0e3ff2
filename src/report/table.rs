//! The one-screen results table printed after a run.

use std::fmt::Write;

use crate::metrics::RunResults;
use crate::scenario::Scenario;

/// Format a number with thousands separators and `decimals` decimals.
pub fn thousands(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("-".into(), |v| thousands(v, decimals))
}

/// Render the summary table: one row per design, key metrics as means, and the paired
/// difference in net profit against the control with its 95% CI.
pub fn render(sc: &Scenario, r: &RunResults) -> String {
    let idx = |m: &str| RunResults::metric_index(m).expect("known metric");
    let cols = [
        ("revenue", 0),
        ("net_profit", 0),
        ("customers_active_end", 0),
        ("crr", 1),
        ("clv_simulated", 2),
        ("members", 0),
        ("reward_cost", 0),
        ("program_cost", 0),
        ("roi", 2),
    ];
    let mut rows: Vec<Vec<String>> = vec![{
        let mut h = vec!["design".to_string(), "kind".to_string()];
        h.extend(cols.iter().map(|(c, _)| c.to_string()));
        h.push("net_profit vs control [95% CI]".into());
        h.push("objective vs control [95% CI]".into());
        h.push("payback".into());
        h.push("member lift naive/causal".into());
        h
    }];
    for d in &r.designs {
        let mut row = vec![d.name.clone(), d.kind.to_string()];
        for (c, dec) in cols {
            row.push(opt(d.metrics[idx(c)].mean, dec));
        }
        for metric in ["net_profit", "objective"] {
            let v = &d.vs_control[idx(metric)];
            row.push(match (v.mean, v.ci95) {
                (Some(m), Some([lo, hi])) => format!(
                    "{} [{}, {}]",
                    thousands(m, 0),
                    thousands(lo, 0),
                    thousands(hi, 0)
                ),
                (Some(m), None) => thousands(m, 0),
                _ => "-".into(),
            });
        }
        row.push(if d.kind == "none" {
            "-".into()
        } else {
            d.payback_months
                .map_or("never".into(), |m| format!("{m:.0} mo"))
        });
        let naive = d.metrics[idx("naive_member_lift")].mean;
        let causal = d.metrics[idx("causal_member_lift")].mean;
        row.push(match (naive, causal) {
            (Some(n), Some(c)) if d.kind != "none" => format!("{n:.0} / {c:.0}"),
            _ => "-".into(),
        });
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} replicates, {} days, seed {}, {} initial customers",
        sc.name, sc.replicates, sc.horizon_days, sc.seed, sc.population.customers
    );
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c < 2 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 {
            let _ = writeln!(
                out,
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1))
            );
        }
    }
    let _ = writeln!(
        out,
        "objective: {} (95% CI: Monte Carlo noise at fixed inputs)",
        sc.finance.describe()
    );
    if let Some(d) = &r.decision {
        out.push_str(&super::decision::terminal(d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_digits() {
        assert_eq!(thousands(1234567.891, 2), "1,234,567.89");
        assert_eq!(thousands(-1234.0, 0), "-1,234");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(-0.001, 0), "0");
    }
}

//! The results printed after a run: a compact table that fits a 100-column terminal by
//! default, and with `--wide` the full table of key metrics.

use std::fmt::Write;

use crate::metrics::RunResults;
use crate::scenario::Scenario;

/// Widest line the default terminal output may have.
pub const TERMINAL_COLUMNS: usize = 100;

/// Longest design name shown in the compact table before it is cut with `…`.
const NAME_COLUMNS: usize = 24;

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

/// A number with thousands separators and at most `decimals` decimals, trailing zeros
/// dropped: a mean count of 176.9 reads `176.9`, not `176.900`, and 29,104.0 reads `29,104`.
pub fn number(x: f64, decimals: usize) -> String {
    let s = thousands(x, decimals);
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".into()
        } else {
            t.to_string()
        }
    } else {
        s
    }
}

/// ROI as shown everywhere (terminal, report): the ratio itself with two decimals, the same
/// number the CSV and summary.json hold (2.02 = each unit of program spend returned 2.02 in
/// incremental net profit).
pub fn roi(x: f64) -> String {
    thousands(x, 2)
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("-".into(), |v| thousands(v, decimals))
}

/// `mean [lo, hi]` of a paired difference, `-` when undefined.
fn with_ci(v: &crate::stats::Summary) -> String {
    match (v.mean, v.ci95) {
        (Some(m), Some([lo, hi])) => format!(
            "{} [{}, {}]",
            thousands(m, 0),
            thousands(lo, 0),
            thousands(hi, 0)
        ),
        (Some(m), None) => thousands(m, 0),
        _ => "-".into(),
    }
}

fn payback(d: &crate::metrics::DesignStats) -> String {
    if d.kind == "none" {
        "-".into()
    } else {
        d.payback_months
            .map_or("never".into(), |m| format!("{m:.0} mo"))
    }
}

/// Cut a design name to the compact table's column.
fn short_name(name: &str) -> String {
    if name.chars().count() <= NAME_COLUMNS {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(NAME_COLUMNS - 1).collect();
        s.push('…');
        s
    }
}

/// Lay out rows as aligned columns (the first `left` columns left-aligned), with a rule
/// under the header.
fn layout(rows: &[Vec<String>], left: usize) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c < left {
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
    out
}

/// Word-wrap every line of `text` to `width` columns; a word longer than the width is
/// broken. Continuation lines are indented by two spaces.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut cur = String::new();
        for word in line.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let used = cur.chars().count();
                let sep = usize::from(used > 0 && !cur.trim().is_empty());
                if used + sep + word.len() <= width {
                    if sep == 1 {
                        cur.push(' ');
                    }
                    cur.extend(word.iter());
                    break;
                }
                if cur.trim().is_empty() {
                    // A word longer than a line: break it.
                    let room = width - used;
                    cur.extend(word.drain(..room));
                }
                out.push_str(cur.trim_end());
                out.push('\n');
                cur = "  ".to_string();
            }
        }
        if !cur.trim().is_empty() {
            out.push_str(cur.trim_end());
            out.push('\n');
        }
    }
    out
}

fn heading(sc: &Scenario) -> String {
    format!(
        "{}: {} replicates, {} days, seed {}, {} initial customers\n",
        sc.name,
        sc.replicates,
        sc.horizon_days,
        sc.seed,
        thousands(sc.population.customers as f64, 0)
    )
}

/// The compact table (default): design, the objective against the control with its 95% CI,
/// P(best) when the scenario has an `[uncertainty]` block, payback, enrolled members, ROI;
/// then the decision block. Every line fits [`TERMINAL_COLUMNS`].
pub fn render(sc: &Scenario, r: &RunResults) -> String {
    let idx = |m: &str| RunResults::metric_index(m).expect("known metric");
    let prob_best = |name: &str| -> Option<f64> {
        r.decision.as_ref().and_then(|d| {
            d.stats
                .designs
                .iter()
                .find(|x| x.name == name)
                .map(|x| x.prob_best)
        })
    };
    let mut head = vec!["design".to_string(), "vs control [95% CI]".to_string()];
    if r.decision.is_some() {
        head.push("P(best)".into());
    }
    head.extend(["payback", "enrolled", "ROI"].map(String::from));
    let mut rows = vec![head];
    for d in &r.designs {
        let control = d.kind == "none";
        let mut row = vec![
            short_name(&d.name),
            if control {
                "(baseline)".into()
            } else {
                with_ci(&d.vs_control[idx("objective")])
            },
        ];
        if r.decision.is_some() {
            row.push(prob_best(&d.name).map_or("-".into(), |p| format!("{:.0}%", p * 100.0)));
        }
        row.push(payback(d));
        row.push(opt(d.metrics[idx("members")].mean, 0));
        row.push(d.metrics[idx("roi")].mean.map_or("-".into(), roi));
        rows.push(row);
    }
    let mut out = heading(sc);
    out.push_str(&layout(&rows, 1));
    let _ = writeln!(
        out,
        "vs control: {}, design minus control, paired replicate by replicate; 95% CI: Monte Carlo noise at fixed inputs.",
        sc.finance.describe()
    );
    out.push_str("enrolled: customers who ever joined. ROI: incremental net profit / program spend (a ratio). `--wide`: more columns.\n");
    if let Some(d) = &r.decision {
        out.push_str(&super::decision::terminal(d));
    }
    wrap(&out, TERMINAL_COLUMNS)
}

/// The wide table (`run --wide`): key metrics as means per design and the paired
/// differences in net profit and the objective against the control with their 95% CI.
pub fn render_wide(sc: &Scenario, r: &RunResults) -> String {
    let idx = |m: &str| RunResults::metric_index(m).expect("known metric");
    let cols = [
        ("revenue", "revenue", 0),
        ("net_profit", "net_profit", 0),
        ("customers_active_end", "customers_active_end", 0),
        ("crr", "crr", 1),
        ("clv_simulated", "clv_simulated", 2),
        ("members", "enrolled", 0),
        ("reward_cost", "reward_cost", 0),
        ("program_cost", "program_cost", 0),
    ];
    let mut rows: Vec<Vec<String>> = vec![{
        let mut h = vec!["design".to_string(), "kind".to_string()];
        h.extend(cols.iter().map(|(_, label, _)| label.to_string()));
        h.push("roi".into());
        h.push("net_profit vs control [95% CI]".into());
        h.push("objective vs control [95% CI]".into());
        h.push("payback".into());
        h.push("member lift naive/causal".into());
        h
    }];
    for d in &r.designs {
        let mut row = vec![d.name.clone(), d.kind.to_string()];
        for (c, _, dec) in cols {
            row.push(opt(d.metrics[idx(c)].mean, dec));
        }
        row.push(d.metrics[idx("roi")].mean.map_or("-".into(), roi));
        for metric in ["net_profit", "objective"] {
            row.push(with_ci(&d.vs_control[idx(metric)]));
        }
        row.push(payback(d));
        let naive = d.metrics[idx("naive_member_lift")].mean;
        let causal = d.metrics[idx("causal_member_lift")].mean;
        row.push(match (naive, causal) {
            (Some(n), Some(c)) if d.kind != "none" => {
                format!("{} / {}", thousands(n, 0), thousands(c, 0))
            }
            _ => "-".into(),
        });
        rows.push(row);
    }
    let mut out = heading(sc);
    out.push_str(&layout(&rows, 2));
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
    use super::{number, thousands, wrap};

    #[test]
    fn groups_digits() {
        assert_eq!(thousands(1234567.891, 2), "1,234,567.89");
        assert_eq!(thousands(-1234.0, 0), "-1,234");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(-0.001, 0), "0");
    }

    #[test]
    fn numbers_drop_spurious_decimals() {
        assert_eq!(number(176.9, 3), "176.9");
        assert_eq!(number(29104.0, 3), "29,104");
        assert_eq!(number(-0.0001, 3), "0");
        assert_eq!(number(2.346, 2), "2.35");
    }

    #[test]
    fn wraps_long_lines() {
        let long = format!("{} {}", "word ".repeat(40), "x".repeat(130));
        let w = wrap(&long, 100);
        assert!(w.lines().all(|l| l.chars().count() <= 100), "{w}");
        assert_eq!(
            w.split_whitespace().collect::<String>(),
            long.split_whitespace().collect::<String>()
        );
        assert_eq!(wrap("short\n", 100), "short\n");
    }
}

//! CLI contract: outputs, determinism across thread counts, defaults.

use std::fs;

use crate::util::{loyalsim, one_segment};

fn write_scenario(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    let mut src = one_segment(
        "{ model = \"bg-nbd\", r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, unit = \"week\" }",
        3000,
        6,
        365,
    );
    src = src.replace(
        "[[population.segments]]",
        "[population.acquisition]\nper_day = 4.0\ncost_per_customer = 20.0\n[[population.segments]]",
    );
    fs::write(&path, src).unwrap();
    path
}

#[test]
fn threads_do_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_scenario(dir.path());
    let s = s.to_str().unwrap();
    for (threads, out) in [("1", "t1"), ("2", "t2"), ("3", "t3")] {
        let o = loyalsim(dir.path(), &["run", s, "--threads", threads, "--out", out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in ["summary.json", "designs.csv", "timeseries.csv"] {
        let a = fs::read(dir.path().join("t1").join(f)).unwrap();
        for other in ["t2", "t3"] {
            let b = fs::read(dir.path().join(other).join(f)).unwrap();
            assert!(a == b, "{f} differs between --threads 1 and {other}");
        }
    }
}

#[test]
fn summary_json_has_the_contracted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_scenario(dir.path());
    let o = loyalsim(dir.path(), &["run", s.to_str().unwrap(), "--seed", "9"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("output").join("one-segment");
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["seed"], 9);
    assert_eq!(v["replicates"], 6);
    assert_eq!(v["horizon_days"], 365);
    assert_eq!(v["scenario"]["name"], "one segment");
    assert_eq!(v["scenario"]["sha256"].as_str().unwrap().len(), 64);
    let d = &v["designs"][0];
    assert_eq!(d["name"], "control");
    assert_eq!(d["kind"], "none");
    // Every metric key is there; those a control has no value for (redemption rate,
    // ROI, ...) are null, never NaN.
    let undefined_for_control = [
        "redemption_rate",
        "breakage_rate",
        "card_completion_rate",
        "roi",
        "naive_member_lift",
        "causal_member_lift",
        "naive_to_causal_ratio",
        "member_orders_per_year",
    ];
    for m in loyalsim::metrics::RUN_METRICS {
        let stat = &d["metrics"][m];
        assert!(
            stat.get("mean").is_some() && stat.get("sd").is_some() && stat.get("ci95").is_some(),
            "{m}: {stat}"
        );
        if undefined_for_control.contains(m) {
            assert!(stat["mean"].is_null(), "{m}: {stat}");
            continue;
        }
        assert!(stat["mean"].is_number(), "{m}: {stat}");
        assert!(stat["sd"].is_number(), "{m}: {stat}");
        assert_eq!(stat["ci95"].as_array().unwrap().len(), 2, "{m}");
        assert!(d["vs_control"][m]["mean"].is_number(), "{m}");
    }
    assert_eq!(d["payback"]["months"], "never");
    // Identities between metrics.
    let mean = |m: &str| d["metrics"][m]["mean"].as_f64().unwrap();
    assert!((mean("aov") - mean("revenue") / mean("orders")).abs() < 0.05);
    let customers = mean("customers_initial") + mean("customers_acquired");
    assert!((mean("purchase_frequency") - mean("orders") / customers).abs() < 1e-3);
    assert_eq!(mean("customers_initial"), 3000.0);
    assert!((mean("acquisition_cost") - 20.0 * mean("customers_acquired")).abs() < 1e-6);
    // Acquired customers: Poisson(4 x 365) per replicate.
    assert!((mean("customers_acquired") - 1460.0).abs() < 4.0 * (1460.0f64 / 6.0).sqrt());
    let csv = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 12,
        "12 monthly periods in 365 days"
    );
    let designs = fs::read_to_string(out.join("designs.csv")).unwrap();
    assert_eq!(
        designs.lines().count(),
        1 + loyalsim::metrics::RUN_METRICS.len()
    );
    // Same inputs, same bytes.
    let first = fs::read(out.join("summary.json")).unwrap();
    let o = loyalsim(dir.path(), &["run", s.to_str().unwrap(), "--seed", "9"]);
    assert!(o.status.success());
    assert_eq!(first, fs::read(out.join("summary.json")).unwrap());
}

#[test]
fn period_series_add_up_to_totals() {
    let sc = crate::util::scenario(
        &std::fs::read_to_string(write_scenario(&tempfile::tempdir().unwrap().keep())).unwrap(),
    );
    let res = crate::util::run(&sc);
    for rep in &res.tallies {
        let t = &rep[0];
        let orders: u64 = t.periods.iter().map(|p| p.orders).sum();
        let revenue: i64 = t.periods.iter().map(|p| p.revenue_cents).sum();
        let new: u64 = t.periods.iter().map(|p| p.new_customers).sum();
        let churned: u64 = t.periods.iter().map(|p| p.churned).sum();
        assert_eq!(orders, t.orders);
        assert_eq!(revenue, t.revenue_cents);
        assert_eq!(new, t.customers_acquired);
        assert_eq!(churned, t.churned);
        assert_eq!(*t.active_by_period().last().unwrap(), t.active_end());
        assert_eq!(t.orders, t.customers() + t.repeat_orders);
    }
}

#[test]
fn default_scenario_is_embedded_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let o = loyalsim(dir.path(), &["check"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("is valid"), "{text}");
    assert!(!dir.path().join("output").exists(), "check writes nothing");
    let o = loyalsim(dir.path(), &["--help"]);
    assert!(o.status.success());
    let o = loyalsim(dir.path(), &["run", "--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--replicates"));
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = fs::read_to_string(&path).unwrap();
            // Sweep and experiment files have their own formats.
            if text.contains("[[population.segments]]") {
                loyalsim::scenario::Scenario::from_file(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
    }
    assert!(n >= 1);
}

/// The default terminal output fits a 100-column terminal (issue 18), even with a long
/// scenario name and a long design name, and `--wide` still prints the full table.
#[test]
fn default_table_fits_100_columns() {
    let dir = tempfile::tempdir().unwrap();
    let src = loyalsim::scenario::DEFAULT_SCENARIO.replacen(
        "name = \"points\"",
        "name = \"points with a very long and descriptive design name for the board\"",
        1,
    );
    let path = dir.path().join("long.toml");
    fs::write(&path, &src).unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "run",
            path.to_str().unwrap(),
            "--customers",
            "1000",
            "--replicates",
            "2",
            "--no-charts",
            "-q",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = loyalsim(dir.path(), &a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let compact = run(args(&["--out", "a"]));
    assert!(
        compact.contains("P(best)") && compact.contains("payback"),
        "{compact}"
    );
    assert!(compact.contains("What should we launch?"), "{compact}");
    for line in compact.lines() {
        assert!(
            line.chars().count() <= 100,
            "line over 100 columns:\n{line}"
        );
    }
    let wide = run(args(&["--out", "b", "--wide"]));
    assert!(wide.contains("member lift naive/causal"), "{wide}");
    assert!(wide.lines().any(|l| l.chars().count() > 100));
    assert!(!wide.contains("/ -0"), "{wide}");
}

/// replicates.csv and timeseries_long.csv hold exactly the numbers the summary files
/// summarise: the mean of a metric over replicates.csv is designs.csv's mean, and every
/// long-format row matches its cell in timeseries.csv.
#[test]
fn replicates_and_long_timeseries_agree_with_the_wide_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_scenario(dir.path());
    let o = loyalsim(
        dir.path(),
        &["run", s.to_str().unwrap(), "--no-charts", "-q"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("output").join("one-segment");
    let read = |f: &str| fs::read_to_string(out.join(f)).unwrap();
    let reps = read("replicates.csv");
    let mut lines = reps.lines();
    assert_eq!(lines.next(), Some("replicate,design,metric,value"));
    let revenue: Vec<f64> = lines
        .filter(|l| l.contains(",control,revenue,"))
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(revenue.len(), 6, "one row per replicate");
    let designs = read("designs.csv");
    let row = designs
        .lines()
        .find(|l| l.starts_with("control,none,revenue,"))
        .unwrap();
    let mean: f64 = row.split(',').nth(3).unwrap().parse().unwrap();
    let ours = revenue.iter().sum::<f64>() / revenue.len() as f64;
    assert!((ours - mean).abs() < 1e-6 * mean.abs(), "{ours} vs {mean}");

    let wide = read("timeseries.csv");
    let header: Vec<&str> = wide.lines().next().unwrap().split(',').collect();
    let first: Vec<&str> = wide.lines().nth(1).unwrap().split(',').collect();
    let long = read("timeseries_long.csv");
    assert_eq!(long.lines().next(), Some("design,period,series,stat,value"));
    let rows: Vec<Vec<&str>> = long
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), (header.len() - 4) * (wide.lines().count() - 1));
    for (h, v) in header.iter().zip(&first).skip(4) {
        let (series, stat) = h.rsplit_once('_').unwrap();
        let r = rows
            .iter()
            .find(|r| r[0] == first[0] && r[1] == first[1] && r[2] == series && r[3] == stat)
            .unwrap_or_else(|| panic!("{h} missing"));
        assert_eq!(r[4], *v, "{h}");
    }
}

/// `--customers N` is the same business at another size (issue 18): with acquisition and
/// fixed costs scaled, a run at a tenth of the customers has the control's CRR and the
/// designs' payback of the full run in expectation. Without the scaling the small run's CRR
/// is about -90 and this fails.
#[test]
fn customers_override_scales_acquisition_with_the_business() {
    use loyalsim::metrics::RunResults;
    use loyalsim::scenario::{Overrides, Scenario};
    let at = |customers: u64| {
        let mut sc = Scenario::embedded_default().unwrap();
        sc.uncertainty = None;
        sc.apply(Overrides {
            customers: Some(customers),
            replicates: Some(12),
            scale_with_customers: true,
            ..Default::default()
        })
        .unwrap();
        crate::util::run(&sc)
    };
    let (full, small) = (at(20_000), at(2_000));
    let crr = RunResults::metric_index("crr").unwrap();
    let (a, b) = (
        &full.designs[0].metrics[crr],
        &small.designs[0].metrics[crr],
    );
    let se = |s: &loyalsim::stats::Summary| s.sd.unwrap() / 12f64.sqrt();
    let tol = 4.0 * (se(a).powi(2) + se(b).powi(2)).sqrt();
    let diff = a.mean.unwrap() - b.mean.unwrap();
    assert!(diff.abs() < tol, "CRR {a:?} vs {b:?} (tolerance {tol})");
    for (f, s) in full.designs.iter().zip(&small.designs).skip(1) {
        match (f.payback_months, s.payback_months) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= 1.01, "{}: {x} vs {y}", f.name),
            (None, None) => {}
            other => panic!("{}: payback {other:?}", f.name),
        }
    }
}

/// Issue 13: `check` lists every part a design has, from the same list as the engine; it
/// once left out win-back and the adverse-selection acquisition discount-trap is about.
#[test]
fn check_lists_win_back_and_design_acquisition() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let trap = root.join("scenarios/discount-trap.toml");
    let o = loyalsim(dir.path(), &["check", trap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("cashback, adverse-selection acquisition"),
        "{text}"
    );
    let bench = fs::read_to_string(root.join("scenarios/bench-v1.toml")).unwrap();
    let wb = format!(
        "{bench}\n[[designs]]\nname = \"winback only\"\nkind = \"hybrid\"\n\
         winback = {{ after_days = 60, response_probability = 0.2, cost_per_contact = 0.5 }}\n\
         acquisition = {{ extra_per_day = 1.0 }}\n"
    );
    let path = dir.path().join("wb.toml");
    fs::write(&path, wb).unwrap();
    let o = loyalsim(dir.path(), &["check", "--json", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let parts = &v["designs"][2]["parts"];
    assert_eq!(
        parts,
        &serde_json::json!([
            "auto enrolment",
            "adverse-selection acquisition",
            "win-back"
        ]),
        "{v}"
    );
}

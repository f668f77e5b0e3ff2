//! Issue 15: decisions under uncertainty (distributions, worlds, P(best), EVPI, EVPPI).

use std::path::Path;

use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::util::loyalsim;

const TOY: &str = include_str!("fixtures/uncertainty-toy.toml");

fn run_toy(dir: &Path, threads: &str) -> serde_json::Value {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    let out = loyalsim(
        dir,
        &[
            "run",
            "toy.toml",
            "--out",
            "o",
            "--quiet",
            "--no-charts",
            "--threads",
            threads,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(dir.join("o/summary.json")).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap()
}

/// Two options (control, and a lift design whose launch cost is normal): the incremental
/// objective is G - launch, normal with sd 1900. EVPI = EVPPI(launch) = E[max(0, X)] -
/// max(0, mu), matched within 3 standard errors; an input that affects nothing has EVPPI
/// ~0; EVPPI <= EVPI; P(best) and the naive EVPI recomputed from worlds.csv match.
#[test]
fn toy_matches_closed_form_and_worlds_csv() {
    let dir = tempfile::tempdir().unwrap();
    let s = run_toy(dir.path(), "2");
    let d = &s["decision"];
    let text = std::fs::read_to_string(dir.path().join("o/worlds.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header,
        [
            "world",
            "designs.lift.costs.launch",
            "population.acquisition.cost_per_customer",
            "control",
            "lift"
        ]
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 200);
    // mu: the design's mean gross effect (launch added back) minus the launch cost's mean.
    let g: f64 = rows.iter().map(|r| r[4] + r[1]).sum::<f64>() / 200.0;
    let (mu, sigma) = (g - 6000.0, 1900.0);
    let n = Normal::new(0.0, 1.0).unwrap();
    let exact = mu * n.cdf(mu / sigma) + sigma * n.pdf(mu / sigma) - mu.max(0.0);
    let (evpi, se) = (f(&d["evpi"]), f(&d["evpi_se"]));
    assert!(
        (evpi - exact).abs() < 3.0 * se,
        "EVPI {evpi} vs closed form {exact} (se {se})"
    );
    let launch = &d["evppi_detail"][0];
    assert_eq!(launch["path"], "designs.lift.costs.launch");
    assert!(
        (f(&launch["value"]) - exact).abs() < 3.0 * f(&launch["se"]),
        "EVPPI {launch} vs {exact}"
    );
    let null = f(&d["evppi"]["population.acquisition.cost_per_customer"]);
    assert!(
        null < 0.1 * exact,
        "EVPPI of an input that affects nothing: {null}"
    );
    for (_, v) in d["evppi"].as_object().unwrap() {
        assert!(f(v) <= evpi + 2.0 * se);
    }
    // Recompute from worlds.csv.
    let best_lift = rows.iter().filter(|r| r[4] > r[3]).count() as f64 / 200.0;
    assert!((f(&d["designs"][1]["prob_best"]) - best_lift).abs() < 1e-9);
    let mean_lift = rows.iter().map(|r| r[4]).sum::<f64>() / 200.0;
    let star = if mean_lift > 0.0 { 4 } else { 3 };
    let naive = rows.iter().map(|r| r[3].max(r[4]) - r[star]).sum::<f64>() / 200.0;
    assert!((f(&d["evpi_naive"]) - naive).abs() < 1e-3, "{naive}");
    assert!((f(&d["designs"][1]["expected"]) - mean_lift).abs() < 1e-3);
    assert!(evpi <= f(&d["evpi_naive"]) + 1e-9);
}

#[test]
fn worlds_are_byte_identical_for_any_thread_count() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_toy(a.path(), "1");
    run_toy(b.path(), "3");
    for f in ["summary.json", "worlds.csv"] {
        assert_eq!(
            std::fs::read(a.path().join("o").join(f)).unwrap(),
            std::fs::read(b.path().join("o").join(f)).unwrap(),
            "{f}"
        );
    }
}

fn bad(replace: (&str, &str), expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    assert!(TOY.contains(replace.0), "{}", replace.0);
    std::fs::write(
        dir.path().join("bad.toml"),
        TOY.replace(replace.0, replace.1),
    )
    .unwrap();
    let out = loyalsim(dir.path(), &["run", "bad.toml", "--out", "o", "--quiet"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    for e in expect {
        assert!(err.contains(e), "{err} lacks {e}");
    }
    assert!(!dir.path().join("o").exists());
}

#[test]
fn bad_uncertain_inputs_are_located() {
    bad(
        ("sd = 1900.0", "sd = 2500.0"),
        &[
            "bad.toml:30",
            "designs.lift.costs.launch",
            "lowest value",
            "must be in [0, 1e9]",
        ],
    );
    bad(
        ("worlds = 200", "worlds = 20000"),
        &["bad.toml:7", "uncertainty.worlds", "from 2 to 10000"],
    );
    bad(
        ("dist = \"uniform\"", "dist = \"cauchy\""),
        &[
            "bad.toml:14",
            "cost_per_customer.dist",
            "unknown distribution `cauchy`",
        ],
    );
    bad(
        (
            "[uncertainty]\nworlds = 200\nreplicates = 2\ndefaults = false\n",
            "",
        ),
        &["needs an `[uncertainty]` table"],
    );
}

/// With the defaults (no discounting, liability counted) the objective is the accrual
/// net profit; discounting lowers a positive one.
#[test]
fn objective_is_npv_after_liability() {
    let src = TOY
        .replace(
            "[uncertainty]\nworlds = 200\nreplicates = 2\ndefaults = false\n",
            "",
        )
        .replace("{ dist = \"uniform\", low = 10.0, high = 50.0 }", "20.0")
        .replace("{ dist = \"normal\", mean = 6000.0, sd = 1900.0 }", "100.0");
    let sc = crate::util::scenario(&src);
    let r = crate::util::run(&sc);
    let idx = |m: &str| loyalsim::metrics::RunResults::metric_index(m).unwrap();
    for d in &r.designs {
        let a = d.metrics[idx("objective")].mean.unwrap();
        let b = d.metrics[idx("net_profit_after_liability")].mean.unwrap();
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let sc8 = crate::util::scenario(&format!("{src}\n[finance]\ndiscount_rate = 0.08\n"));
    let r8 = crate::util::run(&sc8);
    let a = r.designs[0].metrics[idx("objective")].mean.unwrap();
    let b = r8.designs[0].metrics[idx("objective")].mean.unwrap();
    assert!(b < a && b > a * 0.95, "{a} {b}");
}

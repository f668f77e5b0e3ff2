//! Issue 15: decisions under uncertainty (distributions, worlds, P(best), EVPI, EVPPI).

use std::path::Path;

use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::util::{loyalsim, output_files as files};

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
    // First-order Sobol' indices: the launch cost is all of lift's spread between worlds
    // (the rest is inner noise, removed), the acquisition cost none of it.
    let sens = d["sensitivity"].as_array().unwrap();
    assert_eq!(sens[0]["path"], "designs.lift.costs.launch");
    let s_launch = f(&sens[0]["first_order"]["lift"]);
    let s_cac = f(&sens[1]["first_order"]["lift"]);
    assert!(s_launch > 0.9, "{s_launch}");
    assert!(s_cac < 0.02, "{s_cac}");
    assert!(sens[0]["first_order"].get("control").is_none());
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
        (
            "defaults = false\n",
            "defaults = false\ncorrelations = [ { inputs = [\"designs.lift.costs.launch\", \"population.acquisition.cost_per_customer\"], rho = 1.5 } ]\n",
        ),
        &[
            "bad.toml:10",
            "uncertainty.correlations.0.rho",
            "strictly between -1 and 1",
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
    // Horizon value: 0 years adds nothing, 3 years add the customers' continued flow.
    let hv = |years: &str| {
        let sc = crate::util::scenario(&format!(
            "{src}\n[finance]\nhorizon_value = true\nhorizon_value_years = {years}\n"
        ));
        let r = crate::util::run(&sc);
        r.designs[0].metrics[idx("objective")].mean.unwrap()
    };
    assert!((hv("0.0") - a).abs() < 1e-6);
    let h3 = hv("3.0");
    assert!(h3 > a + 1000.0, "{a} {h3}");
    let e = loyalsim::scenario::Scenario::parse(
        &format!("{src}\n[finance]\nhorizon_value_years = 2.0\n"),
        "f.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("finance.horizon_value_years") && e.contains("horizon_value = true"),
        "{e}"
    );
}

/// Every file of `dir` (the ownership manifest aside: it names the writing command).
/// `run --shard K/N` for every K, then `merge --scenario`: the same bytes as the unsharded
/// run for N = 1, 2, 3 and 7 (more shards than some unit kinds), charts and report included,
/// with command-line overrides carried by the partials. A missing shard, a partial of
/// other overrides and a changed scenario file are refused.
#[test]
fn any_sharding_of_a_run_merges_to_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = TOY
        .replace("worlds = 200", "worlds = 9")
        .replace("customers = 2000", "customers = 300");
    std::fs::write(d.join("toy.toml"), &small).unwrap();
    let ok = |args: &[&str]| {
        let o = loyalsim(d, args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(&[
        "run",
        "toy.toml",
        "--out",
        "whole",
        "--quiet",
        "--replicates",
        "5",
        "--threads",
        "1",
    ]);
    let whole = files(&d.join("whole"));
    assert!(whole.iter().any(|(n, _)| n == "worlds.csv"));
    assert!(whole.iter().any(|(n, _)| n.ends_with(".png")));
    for n in [1usize, 2, 3, 7] {
        let parts = format!("parts{n}");
        for k in 0..n {
            let shard = format!("{k}/{n}");
            ok(&[
                "run",
                "toy.toml",
                "--shard",
                &shard,
                "--out",
                &parts,
                "--quiet",
                "--replicates",
                "5",
                "--threads",
                "2",
            ]);
        }
        let merged = format!("merged{n}");
        ok(&["merge", "--scenario", "toy.toml", &parts, "--out", &merged]);
        let got = files(&d.join(&merged));
        assert_eq!(got.len(), whole.len(), "N = {n}");
        for ((a, x), (b, y)) in whole.iter().zip(&got) {
            assert_eq!(a, b);
            assert!(x == y, "N = {n}: {a} differs");
        }
    }
    // A missing shard is named for resubmission.
    std::fs::remove_file(d.join("parts3/run-partial-00001-of-00003.json")).unwrap();
    let o = loyalsim(
        d,
        &["merge", "--scenario", "toy.toml", "parts3", "--out", "m"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--array=1"));
    // A shard run with another seed does not belong to the others.
    ok(&[
        "run",
        "toy.toml",
        "--shard",
        "1/3",
        "--out",
        "parts3",
        "--quiet",
        "--seed",
        "5",
        "--replicates",
        "5",
    ]);
    let o = loyalsim(
        d,
        &["merge", "--scenario", "toy.toml", "parts3", "--out", "m"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("belongs to a different run"));
    // Nor does a changed scenario file.
    std::fs::write(d.join("toy.toml"), small.replace("seed = 11", "seed = 12")).unwrap();
    let o = loyalsim(
        d,
        &["merge", "--scenario", "toy.toml", "parts2", "--out", "m"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("belongs to a different run"));
    assert!(!d.join("m").exists());
}

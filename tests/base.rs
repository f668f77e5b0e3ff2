//! Issue 14: simulating the store's own customers from their fitted state. The CDNOW
//! holdout is simulated from the calibration base and matches the model's conditional
//! prediction in total and by calibration frequency; per-customer posterior draws reproduce
//! P(alive) and E[X | data]; bad base tables are rejected with file, line and column.
//!
//! Tolerances are k standard errors of the Monte Carlo mean (k = 4: a false alarm about
//! once in 16,000 runs per check), with the standard error estimated from the draws.

use std::path::{Path, PathBuf};

use loyalsim::engine::{self, customer::Context};
use loyalsim::fit::{models, posterior};
use loyalsim::scenario::{Overrides, Scenario};

use crate::util::{lifetimes_python, loyalsim};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `loyalsim fit CDNOW_sample.txt --calibration-end 1997-09-30 --scenario s.toml --out
/// pop.toml` in `dir`.
fn fit_cdnow(dir: &Path) {
    let input = data("CDNOW_sample.txt");
    let o = loyalsim(
        dir,
        &[
            "fit",
            input.to_str().unwrap(),
            "--calibration-end",
            "1997-09-30",
            "--scenario",
            "s.toml",
            "--out",
            "pop.toml",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wrote pop.toml, s_base.csv, s.toml"), "{err}");
}

/// Mean and standard error of the mean.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn cdnow_holdout_simulated_from_the_calibration_base_matches_the_model() {
    let dir = tempfile::tempdir().unwrap();
    fit_cdnow(dir.path());
    let check = loyalsim(dir.path(), &["check", "s.toml"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut sc = Scenario::from_file(&dir.path().join("s.toml")).unwrap();
    assert_eq!(sc.horizon_days, 273, "the 39-week holdout");
    assert_eq!(sc.population.customers, 0, "no synthetic customers");
    assert!(sc.population.acquisition.is_none());
    assert_eq!(sc.population.base_len(), 2357);
    sc.apply(Overrides {
        replicates: Some(60),
        ..Default::default()
    })
    .unwrap();
    let r = crate::util::run(&sc);
    let repeats: Vec<f64> = r
        .tallies
        .iter()
        .map(|t| t[sc.control].repeat_orders as f64)
        .collect();
    let orders: u64 = r.tallies.iter().map(|t| t[sc.control].orders).sum();
    assert_eq!(
        orders,
        repeats.iter().sum::<f64>() as u64,
        "no phantom day-0 orders"
    );
    let (m, se) = mean_se(&repeats);
    eprintln!("control repeat purchases {m:.1} +- {se:.1} (model 1653.4, actual 1882)");
    assert!((m - 1653.4).abs() < 4.0 * se, "{m} +- {se} vs 1653.4");
    // The command-line run says which customers it used.
    let o = loyalsim(
        dir.path(),
        &["run", "s.toml", "--replicates", "2", "--out", "out"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["base"]["customers"], 2357);
    assert_eq!(summary["base"]["rfm"], "s_base.csv");
    let alive = summary["base"]["expected_alive_share_day0"]
        .as_f64()
        .unwrap();
    assert!(alive > 0.5 && alive < 1.0, "{alive}");
}

#[test]
fn cdnow_conditional_expectation_by_calibration_frequency_matches_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    fit_cdnow(dir.path());
    let sc = Scenario::from_file(&dir.path().join("s.toml")).unwrap();
    let base = sc.population.base.as_ref().unwrap();
    let seg = &sc.population.segments[0];
    let (_, p, _) = loyalsim::base::purchase_params(seg);
    let ctx = Context::new(&sc);
    let replicates = 40u32;
    // Per group 0..7+: per-(customer, replicate) simulated holdout purchases, and the closed
    // form summed over the group's customers.
    let mut sims: Vec<Vec<f64>> = vec![Vec::new(); 8];
    let mut closed = [0.0f64; 8];
    let mut counts = [0usize; 8];
    for (id, c) in base.customers.iter().enumerate() {
        let k = (c.frequency as usize).min(7);
        counts[k] += 1;
        closed[k] += models::bgnbd_conditional(&p, c.frequency, c.recency, c.t, 39.0);
        for rep in 0..replicates {
            let (_, orders) = ctx.control_history(rep, id as u64);
            sims[k].push(orders.len() as f64);
        }
    }
    for k in 0..8 {
        let want = closed[k] / counts[k] as f64;
        let (m, se) = mean_se(&sims[k]);
        eprintln!(
            "x = {k}: {} customers, simulated {m:.3} +- {se:.3}, closed form {want:.3}",
            counts[k]
        );
        assert!(
            (m - want).abs() < 4.0 * se,
            "x = {k}: {m} +- {se} vs {want}"
        );
    }
}

/// A scenario with one segment `purchase` and a base table of `rows` (x, t_x, T in weeks).
fn base_scenario(dir: &Path, purchase: &str, rows: &[(f64, f64, f64)], horizon: u32) -> Scenario {
    let mut csv = String::from("customer_id,frequency,recency,T,monetary_value\n");
    for (i, (x, tx, t)) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "c{i},{x},{tx},{t},{}\n",
            if *x > 0.0 { 40.0 } else { 0.0 }
        ));
    }
    std::fs::write(dir.join("base.csv"), csv).unwrap();
    let src = format!(
        r#"name = "posterior"
seed = 3
replicates = 1
horizon_days = {horizon}
[population]
customers = 0
[population.base]
rfm = "base.csv"
unit = "week"
segment = "s"
[[population.segments]]
name = "s"
share = 1.0
margin = 0.3
purchase = {purchase}
spend = {{ model = "gamma-gamma", p = 6.25, q = 3.74, gamma = 15.44 }}
[[designs]]
name = "control"
kind = "none"
"#
    );
    let path = dir.join("s.toml");
    std::fs::write(&path, src).unwrap();
    Scenario::from_file(&path).unwrap()
}

/// For each base customer: the share drawn alive and the mean simulated purchases over the
/// horizon, each with its standard error, from `n` replicates.
fn posterior_draws(sc: &Scenario, n: u32) -> Vec<((f64, f64), (f64, f64))> {
    let ctx = Context::new(sc);
    (0..sc.population.base_len())
        .map(|id| {
            let mut alive = Vec::new();
            let mut bought = Vec::new();
            for rep in 0..n {
                let (c, _) = engine::draw_customer(sc.seed, sc, &ctx.population, rep, id);
                alive.push(f64::from(u8::from(c.alive)));
                bought.push(ctx.control_history(rep, id).1.len() as f64);
            }
            (mean_se(&alive), mean_se(&bought))
        })
        .collect()
}

const CUSTOMERS: [(f64, f64, f64); 5] = [
    (0.0, 0.0, 38.0),
    (2.0, 30.43, 38.86),
    (1.0, 2.0, 38.0),
    (6.0, 36.0, 38.0),
    (10.0, 12.0, 38.0),
];

#[test]
fn bgnbd_posterior_draws_reproduce_p_alive_and_conditional_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let p = [0.2426, 4.4136, 0.7929, 2.4259];
    let purchase = format!(
        "{{ model = \"bg-nbd\", r = {}, alpha = {}, a = {}, b = {}, unit = \"week\" }}",
        p[0], p[1], p[2], p[3]
    );
    let sc = base_scenario(dir.path(), &purchase, &CUSTOMERS, 273);
    for ((x, tx, t), ((a, ase), (e, ese))) in CUSTOMERS.iter().zip(posterior_draws(&sc, 20_000)) {
        let want_a = posterior::bgnbd_p_alive(&p, *x, *tx, *t);
        let want_e = models::bgnbd_conditional(&p, *x, *tx, *t, 39.0);
        eprintln!("({x}, {tx}, {t}): P(alive) {a:.4} vs {want_a:.4}, E[X] {e:.4} vs {want_e:.4}");
        assert!((a - want_a).abs() < 4.0 * ase.max(1e-3), "{a} vs {want_a}");
        assert!((e - want_e).abs() < 4.0 * ese, "{e} +- {ese} vs {want_e}");
    }
}

#[test]
fn pareto_posterior_draws_reproduce_p_alive_and_conditional_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let p = [0.5533, 10.5777, 0.6063, 11.6692];
    let purchase = format!(
        "{{ model = \"pareto-nbd\", r = {}, alpha = {}, s = {}, beta = {}, unit = \"week\" }}",
        p[0], p[1], p[2], p[3]
    );
    let sc = base_scenario(dir.path(), &purchase, &CUSTOMERS, 273);
    for ((x, tx, t), ((a, ase), (e, ese))) in CUSTOMERS.iter().zip(posterior_draws(&sc, 20_000)) {
        let want_a = posterior::pareto_p_alive(&p, *x, *tx, *t);
        let want_e = posterior::pareto_conditional(&p, *x, *tx, *t, 39.0);
        eprintln!("({x}, {tx}, {t}): P(alive) {a:.4} vs {want_a:.4}, E[X] {e:.4} vs {want_e:.4}");
        assert!((a - want_a).abs() < 4.0 * ase.max(1e-3), "{a} vs {want_a}");
        assert!((e - want_e).abs() < 4.0 * ese, "{e} +- {ese} vs {want_e}");
    }
}

#[test]
fn base_draws_are_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let purchase = "{ model = \"bg-nbd\", r = 0.2426, alpha = 4.4136, a = 0.7929, b = 2.4259, unit = \"week\" }";
    let mut sc = base_scenario(dir.path(), purchase, &CUSTOMERS, 273);
    sc.apply(Overrides {
        replicates: Some(4),
        customers: Some(50),
        ..Default::default()
    })
    .unwrap();
    let run = |threads| {
        let opts = loyalsim::run::RunOptions {
            threads: Some(threads),
            ..Default::default()
        };
        let r = loyalsim::run::simulate(&sc, &opts).unwrap();
        loyalsim::report::json::render_summary(&sc, &r)
    };
    assert_eq!(run(1), run(3));
}

/// Bad base tables: exit 65, naming file, line and column; no output folder written.
#[test]
fn bad_base_rows_are_rejected_with_file_line_and_column() {
    let cases: [(&str, &str, &str); 5] = [
        (
            "customer_id,frequency,recency,T\na,1,2,3\nb,1,5,3\n",
            "base.csv:3",
            "column `recency`",
        ),
        (
            "customer_id,frequency,recency,T\na,-1,2,3\n",
            "base.csv:2",
            "column `frequency`",
        ),
        (
            "customer_id,frequency,recency\na,1,2\n",
            "base.csv:1",
            "missing column `T`",
        ),
        (
            "customer_id,frequency,recency,T,segment\na,1,2,3,s\nb,1,2,3,nope\n",
            "base.csv:3",
            "column `segment`: unknown segment `nope`",
        ),
        (
            "customer_id,frequency,recency,T\na,1,x,3\n",
            "base.csv:2",
            "column `recency`",
        ),
    ];
    for (i, (table, place, what)) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let _ = base_scenario(
            dir.path(),
            "{ model = \"bg-nbd\", r = 1, alpha = 1, a = 1, b = 1 }",
            &[(0.0, 0.0, 1.0)],
            30,
        );
        std::fs::write(dir.path().join("base.csv"), table).unwrap();
        if i == 3 {
            let s = std::fs::read_to_string(dir.path().join("s.toml")).unwrap();
            std::fs::write(
                dir.path().join("s.toml"),
                s.replace("segment = \"s\"", "segment_col = \"segment\""),
            )
            .unwrap();
        }
        let o = loyalsim(dir.path(), &["run", "s.toml", "--out", "out"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(65), "case {i}: {err}");
        assert!(err.contains(place) && err.contains(what), "case {i}: {err}");
        assert!(
            !dir.path().join("out").exists(),
            "case {i}: nothing written"
        );
    }
}

#[test]
fn fit_base_table_matches_the_lifetimes_package() {
    let Some(python) = lifetimes_python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: the lifetimes venv must be available"
        );
        eprintln!("skipped: could not create a venv with lifetimes (no network?)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    fit_cdnow(dir.path());
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/lifetimes_base_check.py");
    let o = std::process::Command::new(python)
        .arg(script)
        .args(["s.toml", "s_base.csv", "39"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("lifetimes: {out}");
    for key in ["p_alive=", "expected=", "order_value="] {
        let v: f64 = out
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap()
            .parse()
            .unwrap();
        assert!(v < 1e-9, "{key}{v}: {out}");
    }
}

/// A one-segment scenario of `customers` synthetic customers seasoned by `years` of tenure.
fn tenure_scenario(dir: &Path, purchase: &str, customers: u64, years: f64) -> Scenario {
    let src = format!(
        r#"name = "tenure"
seed = 5
replicates = 1
horizon_days = 364
[population]
customers = {customers}
tenure = {{ years = {years} }}
[[population.segments]]
name = "s"
share = 1.0
margin = 0.3
purchase = {purchase}
spend = {{ model = "gamma-gamma", p = 6.25, q = 3.74, gamma = 15.44 }}
[[designs]]
name = "control"
kind = "none"
"#
    );
    let path = dir.join("tenure.toml");
    std::fs::write(&path, src).unwrap();
    Scenario::from_file(&path).unwrap()
}

/// Share alive at day 0 and purchases in the first 52 weeks, per customer, with their
/// standard errors; the run's own control tally must count the same purchases.
fn seasoned_draws(sc: &Scenario) -> ((f64, f64), (f64, f64)) {
    let ctx = Context::new(sc);
    let n = sc.population.customers;
    let alive: Vec<f64> = (0..n)
        .map(|id| {
            let (c, _) = engine::draw_customer(sc.seed, sc, &ctx.population, 0, id);
            assert!(!c.opening_purchase, "no day-0 phantom purchase");
            f64::from(u8::from(c.alive))
        })
        .collect();
    let bought: Vec<f64> = (0..n)
        .map(|id| ctx.control_history(0, id).1.len() as f64)
        .collect();
    let r = crate::util::run(sc);
    let t = &r.tallies[0][sc.control];
    assert_eq!(t.orders as f64, bought.iter().sum::<f64>());
    assert_eq!(
        t.repeat_orders, t.orders,
        "every order of a seasoned customer is a repeat"
    );
    (mean_se(&alive), mean_se(&bought))
}

/// `population.tenure`: with 3 years of simulated history, the day-0 alive share and the
/// first-year purchases match the closed forms averaged over arrival ages uniform on 3
/// years: BG/NBD P(alive at A) = 2F1(r, a; a + b; -A / alpha) and E[X(A + 52)] - E[X(A)]
/// (FHL 2005 eq. 9); Pareto/NBD (beta / (beta + A))^s and E[X(A + 52)] - E[X(A)].
#[test]
fn tenure_alive_share_and_first_year_purchases_match_closed_forms() {
    use loyalsim::population::tenure;
    let dir = tempfile::tempdir().unwrap();
    let p = [0.2426, 4.4136, 0.7929, 2.4259];
    let purchase = format!(
        "{{ model = \"bg-nbd\", r = {}, alpha = {}, a = {}, b = {}, unit = \"week\" }}",
        p[0], p[1], p[2], p[3]
    );
    let sc = tenure_scenario(dir.path(), &purchase, 40_000, 3.0);
    let ((a, ase), (e, ese)) = seasoned_draws(&sc);
    let want_a = tenure::population_alive_share(&sc.population.segments, 3.0);
    let want_e = tenure::mean_over_ages(3.0, |age| {
        let w = age / 7.0;
        models::bgnbd_expected(&p, w + 52.0) - models::bgnbd_expected(&p, w)
    });
    eprintln!("BG/NBD: alive {a:.4} +- {ase:.4} vs {want_a:.4}; first year {e:.4} +- {ese:.4} vs {want_e:.4}");
    assert!((a - want_a).abs() < 4.0 * ase, "{a} vs {want_a}");
    assert!((e - want_e).abs() < 4.0 * ese, "{e} vs {want_e}");
    // A seasoned base is not a new one: about a quarter of these customers left within 3 years.
    assert!(want_a < 0.75, "{want_a}");

    // Pareto/NBD: E[X(t)] = r beta / (alpha (s - 1)) (1 - (beta / (beta + t))^(s - 1)).
    let q = [0.5533, 10.5777, 1.6063, 11.6692];
    let purchase = format!(
        "{{ model = \"pareto-nbd\", r = {}, alpha = {}, s = {}, beta = {}, unit = \"week\" }}",
        q[0], q[1], q[2], q[3]
    );
    let sc = tenure_scenario(dir.path(), &purchase, 40_000, 3.0);
    let ((a, ase), (e, ese)) = seasoned_draws(&sc);
    let ex =
        |t: f64| q[0] * q[3] / (q[1] * (q[2] - 1.0)) * (1.0 - (q[3] / (q[3] + t)).powf(q[2] - 1.0));
    let want_a = tenure::mean_over_ages(3.0, |age| (q[3] / (q[3] + age / 7.0)).powf(q[2]));
    let want_e = tenure::mean_over_ages(3.0, |age| ex(age / 7.0 + 52.0) - ex(age / 7.0));
    eprintln!("Pareto/NBD: alive {a:.4} +- {ase:.4} vs {want_a:.4}; first year {e:.4} +- {ese:.4} vs {want_e:.4}");
    assert!((a - want_a).abs() < 4.0 * ase, "{a} vs {want_a}");
    assert!((e - want_e).abs() < 4.0 * ese, "{e} vs {want_e}");
}

/// `tenure = { years = 0 }` is today's behaviour: byte-identical results.
#[test]
fn zero_tenure_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let purchase = "{ model = \"bg-nbd\", r = 0.2426, alpha = 4.4136, a = 0.7929, b = 2.4259, unit = \"week\" }";
    let zero = tenure_scenario(dir.path(), purchase, 500, 0.0);
    let src = std::fs::read_to_string(dir.path().join("tenure.toml")).unwrap();
    let none = Scenario::parse(&src.replace("tenure = { years = 0 }\n", ""), "none.toml").unwrap();
    let render = |sc: &Scenario| loyalsim::report::json::render_summary(sc, &crate::util::run(sc));
    let strip = |v: Vec<u8>| {
        let mut j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        j["scenario"]["sha256"] = serde_json::Value::Null;
        j
    };
    assert_eq!(strip(render(&zero)), strip(render(&none)));
    let seasoned = tenure_scenario(dir.path(), purchase, 500, 2.0);
    let j = strip(render(&seasoned));
    assert_eq!(j["tenure"]["years"], 2.0);
    assert!(j["tenure"]["expected_alive_share_day0"].as_f64().unwrap() < 0.9);
}

/// Calculator-style inputs: simulating the derived BG/NBD and gamma-gamma reproduces what
/// the merchant gave (orders in a customer's first year, the share who buy again within a
/// year, the mean and sd of order values) within 4 Monte Carlo standard errors.
#[test]
fn calculator_inputs_are_reproduced_by_simulating_the_derived_model() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let src = r#"name = "calculator"
seed = 11
replicates = 1
horizon_days = 365
[population]
customers = 40000
[[population.segments]]
name = "s"
share = 1.0
margin = 0.3
purchase = { model = "calculator", orders_per_year = 2.1, repeat_within_year = 0.3 }
spend = { model = "calculator", average_order = 60, sd = 40 }
[[designs]]
name = "control"
kind = "none"
"#;
    std::fs::write(dir.path().join("c.toml"), src).unwrap();
    let check = loyalsim(dir.path(), &["check", "c.toml"]);
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        out.contains("purchase derived by moments") && out.contains("spend derived by moments"),
        "{out}"
    );
    let mut sc = Scenario::from_file(&dir.path().join("c.toml")).unwrap();
    // A 365.25-day year: the horizon is whole days, so simulate the first year exactly.
    sc.horizon_days = 365;
    let rfm = loyalsim::fit::rfm::simulated(&sc);
    let orders: Vec<f64> = rfm.iter().map(|c| 1.0 + c.frequency).collect();
    let repeat: Vec<f64> = rfm
        .iter()
        .map(|c| f64::from(u8::from(c.frequency > 0.0)))
        .collect();
    let ((o, ose), (q, qse)) = (mean_se(&orders), mean_se(&repeat));
    eprintln!("orders {o:.4} +- {ose:.4} vs 2.1; repeat {q:.4} +- {qse:.4} vs 0.3");
    // The 0.25-day gap to a 365.25-day year is far below the standard error.
    assert!((o - 2.1).abs() < 4.0 * ose, "{o}");
    assert!((q - 0.3).abs() < 4.0 * qse, "{q}");
    let pop = loyalsim::population::PopulationSampler::new(&sc);
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
    let values: Vec<f64> = (0..200_000)
        .map(|_| {
            let c = pop.segment(0).draw(&mut rng, 0, 0.0, false);
            c.spend.draw(&mut rng)
        })
        .collect();
    let (m, mse) = mean_se(&values);
    let sq: Vec<f64> = values.iter().map(|v| (v - 60.0).powi(2)).collect();
    let (v, vse) = mean_se(&sq);
    eprintln!("order value mean {m:.3} +- {mse:.3} vs 60; variance {v:.1} +- {vse:.1} vs 1600");
    assert!((m - 60.0).abs() < 4.0 * mse, "{m}");
    assert!((v - 1600.0).abs() < 4.0 * vse, "{v}");
}

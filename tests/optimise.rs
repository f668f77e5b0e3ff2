//! Issue 19: optimising a design. A known optimum is found; the optimiser beats a fine grid
//! with far fewer evaluations; the shipped points optimisation beats the default design
//! under its risk constraint; infeasible constraints are named; results are the same bytes
//! for any thread count and any sharding.

use std::fs;
use std::path::{Path, PathBuf};

use loyalsim::optimise::{eval, run_local, Spec};

use crate::util::loyalsim;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// A variant of the cashback optimisation file with `extra` appended, written into `dir`
/// beside a copy of its base scenario.
fn variant(dir: &Path, replace: &[(&str, &str)], extra: &str) -> PathBuf {
    fs::copy(
        fixture("optimise-cashback.toml"),
        dir.join("optimise-cashback.toml"),
    )
    .unwrap();
    let mut text = fs::read_to_string(fixture("optimise-cashback-opt.toml")).unwrap();
    for (a, b) in replace {
        text = text.replace(a, b);
    }
    text.push_str(extra);
    let path = dir.join("opt.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn finds_the_known_cashback_optimum() {
    // Profit is a parabola in the rate with its top at r* = (m e - 1) / (2 e) = 0.2 (see
    // the fixture). Tolerance from the Monte Carlo noise: the curvature is ~5.3e6 per unit
    // rate squared and the objective's standard error ~1,400, so rates within
    // sqrt(2 x 1400 / 5.3e6) = 0.023 of r* are indistinguishable from it.
    let spec = Spec::from_file(&fixture("optimise-cashback-opt.toml")).unwrap();
    let (o, files) = run_local(&spec, &[]).unwrap();
    let r = o.best().fresh.values[0];
    assert!((r - 0.2).abs() < 0.025, "best rate {r}, optimum 0.2");
    assert_eq!(o.log.len(), 48, "the budget is spent exactly");
    let csv = std::str::from_utf8(files.get("evaluations.csv").unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 49, "every evaluation is logged");
    // The re-evaluation uses fresh replicates: its estimate differs from the search's.
    let best = o.best();
    assert_ne!(
        best.search.as_ref().unwrap().objective.mean,
        best.fresh.objective.mean
    );
    let toml_text = std::str::from_utf8(files.get("best_design.toml").unwrap()).unwrap();
    assert!(toml_text.contains("[[designs]]") && toml_text.contains("name = \"cashback\""));
    // Ready to paste: the entry parses as a design of a scenario.
    let base = fs::read_to_string(fixture("optimise-cashback.toml")).unwrap();
    let cut = base.find("[[designs]]\nname = \"cashback\"").unwrap();
    let pasted = format!("{}{toml_text}", &base[..cut]);
    let sc = loyalsim::scenario::Scenario::parse(&pasted, "pasted").unwrap();
    let c = sc.designs[1].cashback.as_ref().unwrap();
    assert!((c.rate_at(0.0) - r).abs() < 1e-9);
}

#[test]
fn beats_a_fine_grid_with_fewer_evaluations() {
    // The same objective (same replicates, common random numbers) on an 81-point grid.
    let spec = Spec::from_file(&fixture("optimise-cashback-opt.toml")).unwrap();
    let grid: Vec<Vec<f64>> = (0..=80).map(|i| vec![0.4 * f64::from(i) / 80.0]).collect();
    let samples = eval::simulate(&spec, &grid, 0, spec.replicates, &|| {}).unwrap();
    let grid_best = samples
        .iter()
        .map(|s| eval::assess(&spec, s).unwrap().objective.mean.unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    let (o, _) = run_local(&spec, &[]).unwrap();
    let search_best = o.best().search.as_ref().unwrap();
    let half = search_best
        .objective
        .ci95
        .map(|[lo, hi]| (hi - lo) / 2.0)
        .unwrap();
    assert!(
        search_best.objective.mean.unwrap() >= grid_best - half,
        "optimiser {:?} vs grid {grid_best}",
        search_best.objective.mean
    );
    assert!(o.log.len() < grid.len());
}

#[test]
fn shipped_points_optimisation_beats_the_default_design() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/optimise-points.toml");
    let spec = Spec::from_file(&path).unwrap();
    let (o, _) = run_local(&spec, &[]).unwrap();
    let best = o.best();
    assert!(!best.baseline, "the default design must not be the best");
    assert!(best.fresh.p_loss <= 0.10, "P(loss) {}", best.fresh.p_loss);
    // Paired over the same fresh replicates: the gain's whole 95% CI is above zero.
    let [lo, _] = o.improvement.ci95.unwrap();
    assert!(lo > 0.0, "gain over the default design {:?}", o.improvement);
}

#[test]
fn same_seed_same_bytes_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let opt = fixture("optimise-cashback-opt.toml");
    let o = opt.to_str().unwrap();
    for (out, threads) in [("one", "1"), ("two", "2")] {
        let r = loyalsim(
            dir.path(),
            &["optimise", o, "--out", out, "--threads", threads, "--quiet"],
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let one = files(&dir.path().join("one"));
    assert!(one.iter().any(|(n, _)| n == "charts/frontier_members.png"));
    assert!(one.iter().any(|(n, _)| n == "report.html"));
    assert_eq!(one, files(&dir.path().join("two")));
    // Another seed searches differently.
    let other = variant(dir.path(), &[("seed = 7", "seed = 8")], "");
    let r = loyalsim(
        dir.path(),
        &[
            "optimise",
            other.to_str().unwrap(),
            "--out",
            "other",
            "--quiet",
        ],
    );
    assert!(r.status.success());
    assert_ne!(
        fs::read(dir.path().join("one/evaluations.csv")).unwrap(),
        fs::read(dir.path().join("other/evaluations.csv")).unwrap()
    );
}

#[test]
fn sharded_rounds_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let opt = variant(dir.path(), &[("budget = 48", "budget = 18")], "");
    let o = opt.to_str().unwrap();
    let r = loyalsim(dir.path(), &["optimise", o, "--out", "whole", "-q"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // 3 generations and the re-evaluation: 4 rounds of 3 shards.
    for round in 0..4 {
        for k in 0..3 {
            let shard = format!("{k}/3");
            let r = loyalsim(
                dir.path(),
                &["optimise", o, "--shard", &shard, "--out", "parts"],
            );
            assert!(
                r.status.success(),
                "round {round} shard {k}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
        }
    }
    // Count the partials only (the folder also holds loyalsim's ownership manifest).
    let parts = fs::read_dir(dir.path().join("parts"))
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(parts, 12, "one partial per round and shard");
    let r = loyalsim(
        dir.path(),
        &[
            "optimise",
            o,
            "--partials",
            "parts",
            "--out",
            "merged",
            "-q",
        ],
    );
    assert!(r.status.success());
    assert_eq!(
        files(&dir.path().join("whole")),
        files(&dir.path().join("merged"))
    );
    // A shard whose share is done while another's is missing says which to resubmit.
    fs::remove_file(
        dir.path()
            .join("parts/optimise-round-0003-shard-00001-of-00003.json"),
    )
    .unwrap();
    let r = loyalsim(
        dir.path(),
        &["optimise", o, "--shard", "0/3", "--out", "parts"],
    );
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("--array=1"), "{err}");
}

#[test]
fn infeasible_constraints_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let opt = variant(
        dir.path(),
        &[],
        "\n[[constraints]]\nmetric = \"members\"\nmin = 1000000\n",
    );
    let r = loyalsim(
        dir.path(),
        &["optimise", opt.to_str().unwrap(), "--out", "out", "-q"],
    );
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(78), "{err}");
    assert!(
        err.contains("constraints[1]")
            && err.contains("members >= 1000000")
            && err.contains("infeasible"),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "a failed run writes nothing"
    );
}

#[test]
fn bad_files_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("design = \"cashback\"", "design = \"cashbak\"")],
            "",
            "no design named `cashbak`",
        ),
        (
            &[("metric = \"p_loss\"", "metric = \"profit\"")],
            "",
            "unknown metric `profit`",
        ),
        (&[("max = 0.4", "max = -0.1")], "", "min < max"),
        (
            &[(
                "designs.cashback.cashback.rate",
                "designs.control.cashback.rate",
            )],
            "",
            "address the tuned design by name",
        ),
        (
            &[(
                "designs.cashback.cashback.rate",
                "designs.cashback.cashback.rat",
            )],
            "",
            "nearest",
        ),
        (&[("max = 0.4", "max = 4.0")], "", "invalid"),
        (&[], "\n[objective]\ngoal = \"maximum\"\n", "objective.goal"),
    ];
    for (replace, extra, want) in cases {
        let opt = variant(dir.path(), replace, extra);
        let r = loyalsim(
            dir.path(),
            &["optimise", opt.to_str().unwrap(), "--out", "out"],
        );
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(78), "{want}: {err}");
        assert!(
            err.contains(want) && err.contains("opt.toml"),
            "want `{want}`: {err}"
        );
    }
}

//! Issue 7: sweeps. Any sharding merges to the same bytes as the unsharded run; bad sweep
//! files and partials fail cleanly; a real Slurm job array is tested by
//! scripts/slurm/test-array.sh (run by .ci/run).

use std::fs;

use crate::util::{fixture, loyalsim, output_files as files};

#[test]
fn any_sharding_merges_to_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = fixture("sweep-small.toml");
    let s = sweep.to_str().unwrap();
    let o = loyalsim(
        dir.path(),
        &["sweep", s, "--out", "whole", "--threads", "1"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = files(&dir.path().join("whole"));
    assert!(
        whole.iter().any(|(n, _)| n == "sweep.csv")
            && whole.iter().any(|(n, _)| n.ends_with(".png"))
    );
    let csv = String::from_utf8(
        whole
            .iter()
            .find(|(n, _)| n == "sweep.csv")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    // 6 points x 2 designs x every metric, plus the header.
    assert_eq!(
        csv.lines().count(),
        1 + 6 * 2 * loyalsim::metrics::RUN_METRICS.len()
    );
    let o = loyalsim(
        dir.path(),
        &["sweep", s, "--out", "threads2", "--threads", "2"],
    );
    assert!(o.status.success());
    assert!(
        files(&dir.path().join("threads2")) == whole,
        "thread count changed the bytes"
    );
    for n in [1usize, 2, 3, 7] {
        let parts = format!("parts{n}");
        for k in 0..n {
            let o = loyalsim(
                dir.path(),
                &["sweep", s, "--shard", &format!("{k}/{n}"), "--out", &parts],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let merged = format!("merged{n}");
        let o = loyalsim(
            dir.path(),
            &["merge", "--sweep", s, &parts, "--out", &merged],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            files(&dir.path().join(&merged)) == whole,
            "{n} shards differ from the unsharded run"
        );
    }
    // A missing shard is named as an --array list and nothing is written.
    fs::remove_file(
        dir.path()
            .join("parts7")
            .join(loyalsim::sweep::partial_name(3, 7)),
    )
    .unwrap();
    fs::remove_file(
        dir.path()
            .join("parts7")
            .join(loyalsim::sweep::partial_name(4, 7)),
    )
    .unwrap();
    let o = loyalsim(
        dir.path(),
        &["merge", "--sweep", s, "parts7", "--out", "broken"],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--array=3-4"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!dir.path().join("broken").exists());
    // Auto shard index from the scheduler's environment.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_loyalsim"))
        .current_dir(dir.path())
        .env("SLURM_ARRAY_TASK_ID", "1")
        .args(["sweep", s, "--shard", "auto/2", "--out", "auto"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir
        .path()
        .join("auto")
        .join(loyalsim::sweep::partial_name(1, 2))
        .exists());
}

#[test]
fn partials_of_another_sweep_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixture("sweep-small.toml");
    let o = loyalsim(
        dir.path(),
        &["sweep", a.to_str().unwrap(), "--shard", "0/1", "--out", "p"],
    );
    assert!(o.status.success());
    let other = dir.path().join("other.toml");
    fs::write(
        &other,
        fs::read_to_string(&a)
            .unwrap()
            .replace("steps = 3", "steps = 2")
            .replace(
                "base = \"sweep-base.toml\"",
                &format!("base = \"{}\"", fixture("sweep-base.toml").display()),
            ),
    )
    .unwrap();
    let o = loyalsim(
        dir.path(),
        &[
            "merge",
            "--sweep",
            other.to_str().unwrap(),
            "p",
            "--out",
            "m",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("different sweep"));
    assert!(!dir.path().join("m").exists());
}

#[test]
fn bad_sweeps_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("sweep-base.toml");
    let cases = [
        ("unknown path", "path = \"designs.points.earn.per_currency\"\nvalues = [1.0]", "no key `per_currency`; nearest: `per_currency_unit`"),
        ("unknown design", "path = \"designs.pionts.earn.per_currency_unit\"\nvalues = [1.0]", "no entry named `pionts`; nearest: `points`"),
        ("empty range", "path = \"designs.points.earn.per_currency_unit\"\nrange = { from = 1.0, to = 1.0, steps = 3 }", "is empty"),
        ("zero steps", "path = \"designs.points.earn.per_currency_unit\"\nrange = { from = 1.0, to = 2.0, steps = 0 }", "steps must be from 1"),
        ("too large", "path = \"designs.points.earn.per_currency_unit\"\nrange = { from = 1.0, to = 2.0, steps = 10000 }\n[[parameters]]\npath = \"population.segments.a.margin\"\nvalues = [0.3, 0.4]", "needs --allow-large"),
        ("invalid value", "path = \"population.segments.a.margin\"\nvalues = [1.5]", "must be a probability in [0, 1], got 1.5"),
    ];
    for (name, param, expect) in cases {
        let path = dir.path().join("s.toml");
        fs::write(
            &path,
            format!(
                "name = \"bad\"\nbase = \"{}\"\n[[parameters]]\n{param}\n",
                base.display()
            ),
        )
        .unwrap();
        let o = loyalsim(dir.path(), &["sweep", path.to_str().unwrap(), "--out", "o"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(78), "{name}: {err}");
        assert!(err.contains(expect), "{name}: expected `{expect}` in {err}");
        assert!(!dir.path().join("o").exists(), "{name}: nothing written");
    }
    let o = loyalsim(
        dir.path(),
        &[
            "sweep",
            fixture("sweep-small.toml").to_str().unwrap(),
            "--shard",
            "3/3",
            "--out",
            "o",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("from 0 to 2"));
}

#[test]
fn latin_hypercube_and_one_at_a_time_points() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("sweep-base.toml");
    let params = "[[parameters]]\npath = \"designs.points.earn.per_currency_unit\"\nrange = { from = 0.5, to = 2.0, steps = 4 }\n[[parameters]]\npath = \"population.segments.a.margin\"\nvalues = [0.2, 0.5]\n";
    let lhs = dir.path().join("lhs.toml");
    fs::write(
        &lhs,
        format!(
            "name = \"lhs\"\nbase = \"{}\"\nmode = \"latin-hypercube\"\nsamples = 10\n{}",
            base.display(),
            params.replace(", steps = 4", "")
        ),
    )
    .unwrap();
    let s = loyalsim::sweep::Sweep::from_file(&lhs, false).unwrap();
    assert_eq!(s.points.len(), 10);
    // Each parameter hits each of the 10 strata exactly once, within its range.
    let mut bins: Vec<usize> = s
        .points
        .iter()
        .map(|p| ((p[0] - 0.5) / 1.5 * 10.0) as usize)
        .collect();
    bins.sort();
    assert_eq!(bins, (0..10).collect::<Vec<_>>());
    assert!(s.points.iter().all(|p| (0.2..=0.5).contains(&p[1])));
    let oat = dir.path().join("oat.toml");
    fs::write(
        &oat,
        format!(
            "name = \"oat\"\nbase = \"{}\"\nmode = \"one-at-a-time\"\n{params}",
            base.display()
        ),
    )
    .unwrap();
    let s = loyalsim::sweep::Sweep::from_file(&oat, false).unwrap();
    assert_eq!(s.points.len(), 1 + 4 + 2);
    assert_eq!(s.points[0], vec![1.0, 0.35], "the base point first");
    let o = loyalsim(
        dir.path(),
        &["sweep", oat.to_str().unwrap(), "--out", "oat-out"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("oat-out/charts/tornado.png").exists());
    // Range points are computed by index: exact ends, no drift.
    let grid = loyalsim::sweep::Sweep::from_file(&fixture("sweep-small.toml"), false).unwrap();
    assert_eq!(grid.parameters[0].values, vec![0.5, 1.0, 1.5]);
}

/// Issue 18: `designs = [...]` simulates only the named designs (and the control) at each
/// point; their rows are the full sweep's to the byte (common random numbers: a design's
/// customers do not depend on which other designs run), the others are absent, and a name
/// that is not a design is an error naming the field and the designs there are.
#[test]
fn designs_list_simulates_only_those_designs() {
    let dir = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(fixture("sweep-base.toml")).unwrap()
        + "[[designs]]\nname = \"cashback\"\nkind = \"cashback\"\n\
           cashback = { rate = 0.02 }\n";
    fs::write(dir.path().join("sweep-base.toml"), base).unwrap();
    let small = fs::read_to_string(fixture("sweep-small.toml")).unwrap();
    fs::write(dir.path().join("all.toml"), &small).unwrap();
    let only = small.replacen("base =", "designs = [\"points\"]\nbase =", 1);
    fs::write(dir.path().join("only.toml"), &only).unwrap();
    let sweep = |file: &str, out: &str| {
        let o = loyalsim(dir.path(), &["sweep", file, "--out", out, "--quiet"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        fs::read_to_string(dir.path().join(out).join("sweep.csv")).unwrap()
    };
    let all = sweep("all.toml", "all");
    let only = sweep("only.toml", "only");
    assert!(all.contains(",cashback,"), "{all}");
    assert!(!only.contains(",cashback,"), "{only}");
    let without_cashback: Vec<&str> = all.lines().filter(|l| !l.contains(",cashback,")).collect();
    assert_eq!(only.lines().collect::<Vec<_>>(), without_cashback);

    let bad = small.replacen("base =", "designs = [\"pionts\"]\nbase =", 1);
    fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let o = loyalsim(dir.path(), &["sweep", "bad.toml", "--out", "bad"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(78), "{err}");
    assert!(
        err.contains("designs") && err.contains("no design `pionts`"),
        "{err}"
    );
    assert!(err.contains("control, points, cashback"), "{err}");
    assert!(!dir.path().join("bad").exists());
}

/// A base with a second program design (cashback) and a sweep whose paths all address the
/// points design: cashback is untouched.
fn untouched_case(dir: &std::path::Path) -> std::path::PathBuf {
    let base = fs::read_to_string(fixture("sweep-base.toml")).unwrap()
        + "[[designs]]\nname = \"cashback\"\nkind = \"cashback\"\n\
           cashback = { rate = 0.02 }\n";
    fs::write(dir.join("sweep-base.toml"), base).unwrap();
    let sweep = dir.join("points-only.toml");
    fs::write(
        &sweep,
        "name = \"points only\"\nbase = \"sweep-base.toml\"\n\
         [[parameters]]\npath = \"designs.points.earn.per_currency_unit\"\n\
         range = { from = 0.5, to = 1.5, steps = 3 }\n\
         [[parameters]]\npath = \"designs.points.redemption.rewards.0.points\"\n\
         values = [150, 300]\n",
    )
    .unwrap();
    sweep
}

/// Issue 18: a design no swept path touches is simulated once (point 0) and its tallies
/// reused at every point; every output byte equals simulating every design everywhere
/// (LOYALSIM_SWEEP_EVERY_DESIGN=1), also when sharded and merged.
#[test]
fn untouched_designs_are_simulated_once_with_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = untouched_case(dir.path());
    let s = sweep.to_str().unwrap();
    let parsed = loyalsim::sweep::Sweep::from_file(&sweep, false).unwrap();
    assert_eq!(parsed.untouched_designs().unwrap(), vec!["cashback"]);
    let run = |out: &str, every: bool, extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_loyalsim"));
        cmd.current_dir(dir.path())
            .args(["sweep", s, "--out", out, "--quiet"])
            .args(extra);
        if every {
            cmd.env(loyalsim::sweep::EVERY_DESIGN_ENV, "1");
        } else {
            cmd.env_remove(loyalsim::sweep::EVERY_DESIGN_ENV);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run("reused", false, &[]);
    run("every", true, &[]);
    let reused = files(&dir.path().join("reused"));
    assert!(reused.iter().any(|(n, _)| n == "sweep_report.html"));
    let csv = String::from_utf8(
        reused
            .iter()
            .find(|(n, _)| n == "sweep.csv")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(
        csv.contains(",cashback,"),
        "the untouched design keeps its rows"
    );
    assert!(
        reused == files(&dir.path().join("every")),
        "reusing the untouched design changed the bytes"
    );
    // The reuse is real: units after point 0 carry two designs, point 0 three.
    run("parts", false, &["--shard", "0/1"]);
    let partial: loyalsim::sweep::Partial = serde_json::from_slice(
        &fs::read(
            dir.path()
                .join("parts")
                .join(loyalsim::sweep::partial_name(0, 1)),
        )
        .unwrap(),
    )
    .unwrap();
    for u in &partial.units {
        assert_eq!(
            u.tallies.len(),
            if u.point == 0 { 3 } else { 2 },
            "{}",
            u.point
        );
    }
    for k in 0..3 {
        run("parts3", false, &["--shard", &format!("{k}/3")]);
    }
    let o = loyalsim(
        dir.path(),
        &["merge", "--sweep", s, "parts3", "--out", "merged"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        files(&dir.path().join("merged")) == reused,
        "sharded reuse differs"
    );
    // Partials of the full path cannot be merged as if reused: a clear error, nothing written.
    run("full-parts", true, &["--shard", "0/1"]);
    let o = loyalsim(
        dir.path(),
        &["merge", "--sweep", s, "full-parts", "--out", "mixed"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("designs, expected"));
    assert!(!dir.path().join("mixed").exists());
}

/// Issue 18: a sweep's report page is written with its other files, names every design and
/// parameter, shows the best points and heatmaps only for designs the sweep touches, and
/// loads in headless Chromium.
#[test]
fn sweep_report_names_designs_and_parameters_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = untouched_case(dir.path());
    let o = loyalsim(
        dir.path(),
        &["sweep", sweep.to_str().unwrap(), "--out", "o", "--quiet"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = fs::read_to_string(dir.path().join("o/sweep_report.html")).unwrap();
    for needle in [
        "points",
        "cashback",
        "designs.points.earn.per_currency_unit",
        "designs.points.redemption.rewards.0.points",
        "Best point per design and objective",
        "Partial dependence",
        "id=\"heatmap_1\"",
    ] {
        assert!(
            html.contains(needle),
            "`{needle}` missing from sweep_report.html"
        );
    }
    assert!(
        !html.contains("heatmap_2"),
        "no heatmap for the untouched cashback design"
    );
    assert!(!dir.path().join("o/charts/heatmap_2.png").exists());
    assert!(
        !["src=\"http", "href=\"http", "url(http"]
            .iter()
            .any(|n| html.contains(n)),
        "self-contained"
    );
    let Some(browser) = crate::util::chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs Chromium"
        );
        eprintln!("note: no Chromium; sweep report rendering check skipped");
        return;
    };
    let shot = dir.path().join("shot.png");
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", dir.path().join("profile").display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            &format!(
                "file://{}",
                dir.path().join("o/sweep_report.html").display()
            ),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let png = fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 50_000,
        "a blank page would be tiny: {} bytes",
        png.len()
    );
    if let Ok(keep) = std::env::var("LOYALSIM_KEEP_SCREENSHOT") {
        fs::copy(&shot, keep).unwrap();
    }
}

/// Issue 18: a Latin hypercube takes `samples` and ranges without `steps`; `steps` there,
/// `samples` elsewhere, or a grid range without `steps` are clear errors.
#[test]
fn latin_hypercube_needs_samples_not_steps() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("sweep-base.toml");
    let write = |head: &str, range: &str| {
        let path = dir.path().join("s.toml");
        fs::write(
            &path,
            format!(
                "name = \"lhs\"\nbase = \"{}\"\n{head}\n[[parameters]]\n\
                 path = \"designs.points.earn.per_currency_unit\"\nrange = {range}\n",
                base.display()
            ),
        )
        .unwrap();
        loyalsim(
            dir.path(),
            &["sweep", path.to_str().unwrap(), "--out", "o", "--quiet"],
        )
    };
    let o = write(
        "mode = \"latin-hypercube\"\nsamples = 5",
        "{ from = 0.5, to = 2.0 }",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = fs::read_to_string(dir.path().join("o/sweep.csv")).unwrap();
    let points: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(points.len(), 5);
    let html = fs::read_to_string(dir.path().join("o/sweep_report.html")).unwrap();
    assert!(
        html.contains("binned means"),
        "LHS is a scatter with a smooth"
    );
    fs::remove_dir_all(dir.path().join("o")).unwrap();
    let cases = [
        (
            "mode = \"latin-hypercube\"\nsamples = 5",
            "{ from = 0.5, to = 2.0, steps = 4 }",
            "parameters[0].range",
            "`steps` is not used",
        ),
        (
            "mode = \"latin-hypercube\"",
            "{ from = 0.5, to = 2.0 }",
            "samples",
            "needs `samples = N`",
        ),
        (
            "mode = \"grid\"\nsamples = 5",
            "{ from = 0.5, to = 2.0, steps = 4 }",
            "samples",
            "only for mode = \"latin-hypercube\"",
        ),
        (
            "mode = \"grid\"",
            "{ from = 0.5, to = 2.0 }",
            "parameters[0].range",
            "needs `steps`",
        ),
    ];
    for (head, range, field, expect) in cases {
        let o = write(head, range);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(78), "{head} {range}: {err}");
        assert!(
            err.contains(field) && err.contains(expect),
            "{head} {range}: {err}"
        );
        assert!(!dir.path().join("o").exists());
    }
}

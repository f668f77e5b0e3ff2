//! Issue 5: charts and report. Every run scenario renders valid PNG and SVG charts and a
//! report naming every design and chart; edge cases (control only, one replicate) render;
//! headless Chromium loads the report.

use std::path::{Path, PathBuf};
use std::process::Command;

use loyalsim::report::charts::CHARTS;
use loyalsim::scenario::{Overrides, Scenario};

use crate::util::{run, scenario};

fn small(path: &Path) -> Scenario {
    let mut sc = Scenario::from_file(path).unwrap_or_else(|e| panic!("{e}"));
    sc.apply(Overrides {
        customers: Some(300),
        replicates: Some(3),
        ..Default::default()
    })
    .unwrap();
    sc
}

fn check_files(files: &loyalsim::report::write::OutputFiles, sc: &Scenario) {
    let mut charts = 0;
    for p in files.paths() {
        let name = p.to_string_lossy().to_string();
        let bytes = files.get(p).unwrap();
        if name.ends_with(".png") {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
            assert_eq!(&bytes[12..16], b"IHDR", "{name}");
            charts += 1;
        } else if name.ends_with(".svg") {
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(
                text.contains("<svg") && text.trim_end().ends_with("</svg>"),
                "{name}"
            );
        }
    }
    assert!(charts >= 2, "at least the profit and retention charts");
    let html = std::str::from_utf8(files.get("report.html").expect("report.html")).unwrap();
    for d in &sc.designs {
        assert!(
            html.contains(&loyalsim::report::html::esc(&d.name)),
            "design {} in report",
            d.name
        );
    }
    for (name, _, _) in CHARTS {
        assert!(
            html.contains(&format!("id=\"{name}\"")),
            "chart {name} (drawn or explained) in report"
        );
    }
    assert!(!html.contains("<script"), "no JavaScript");
    // No resource is fetched (the SVG namespace URI is an identifier, not a fetch).
    for pat in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(pat), "no network: {pat}");
    }
}

#[test]
fn every_run_scenario_renders_charts_and_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_some_and(|e| e == "toml") && text.contains("[[population.segments]]")
        {
            let sc = small(&path);
            let res = run(&sc);
            let files = loyalsim::report::render_run(&sc, &res).unwrap();
            check_files(&files, &sc);
            n += 1;
        }
    }
    assert!(n >= 7, "{n} scenarios");
}

#[test]
fn control_only_and_single_replicate_render() {
    let control_only = crate::util::one_segment(
        "{ model = \"bg-nbd\", r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, unit = \"week\" }",
        500,
        1,
        365,
    );
    let sc = scenario(&control_only);
    let res = run(&sc);
    let files = loyalsim::report::render_run(&sc, &res).unwrap();
    check_files(&files, &sc);
    let html = std::str::from_utf8(files.get("report.html").unwrap()).unwrap();
    assert!(html.contains("Not drawn: the scenario has no design besides the control"));

    let mut default = Scenario::embedded_default().unwrap();
    default
        .apply(Overrides {
            customers: Some(500),
            replicates: Some(1),
            ..Default::default()
        })
        .unwrap();
    let res = run(&default);
    check_files(
        &loyalsim::report::render_run(&default, &res).unwrap(),
        &default,
    );
}

#[test]
fn no_charts_flag_writes_numbers_only() {
    let dir = tempfile::tempdir().unwrap();
    let o = crate::util::loyalsim(
        dir.path(),
        &[
            "run",
            "--customers",
            "300",
            "--replicates",
            "2",
            "--no-charts",
            "--quiet",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("o/summary.json").exists());
    assert!(!dir.path().join("o/report.html").exists() && !dir.path().join("o/charts").exists());
    assert!(
        o.stderr.is_empty(),
        "--quiet: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            let out = Command::new("which").arg(b).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

#[test]
fn report_loads_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and no Chromium: .ci/run must install it"
        );
        eprintln!("note: no Chromium on this machine; report rendering check skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = crate::util::loyalsim(
        dir.path(),
        &[
            "run",
            "--customers",
            "2000",
            "--replicates",
            "4",
            "--quiet",
            "--out",
            "run",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = dir.path().join("run/report.html");
    let shot = dir.path().join("report.png");
    let profile = dir.path().join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,3000",
            &format!("file://{}", report.display()),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 50_000,
        "a blank page would be tiny: {} bytes",
        png.len()
    );
    assert!(
        !stderr.contains("ERR_FILE_NOT_FOUND") && !stderr.contains("Uncaught"),
        "{stderr}"
    );
    if let Ok(keep) = std::env::var("LOYALSIM_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

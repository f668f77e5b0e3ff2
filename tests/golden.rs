//! Issue 13: the golden corpus. Pins the exact bytes (SHA-256 per file) of every output of
//! each shipped scenario at a small size, of 48 frozen random designs, of a sweep shard's
//! partial, of `ab simulate` (with its long-run scenario) and of `fit`. Any change to a draw,
//! a stream, the order of a float operation or an output layout fails here, naming the file
//! and (for JSON and CSV) the first line that differs.
//!
//! A deliberate change is recorded by rewriting the expectations, with the reason in the
//! commit message:
//!
//! ```text
//! LOYALSIM_GOLDEN_UPDATE=1 cargo test --test tests golden
//! ```
//!
//! `tests/golden/<case>.sha256` holds `sha256sum`-style lines (review these in the diff);
//! `tests/golden/<case>.lines` holds a short hash of every line of each JSON and CSV file, only
//! to point at the first differing line. The random designs were drawn once from
//! `programs::design_strategy` (see `freeze_random_designs`) and live as TOML fixtures in
//! `tests/golden/designs/`, so the corpus does not depend on proptest's generator.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::util::loyalsim;

/// Customers and replicates of the shipped scenarios in the corpus.
const CUSTOMERS: &str = "2000";
const REPLICATES: &str = "3";
/// Random designs frozen into fixtures, and the proptest seed they came from.
const RANDOM_DESIGNS: usize = 48;
const FREEZE_SEED: u8 = 13;
/// Shipped scenarios that are not run files (a sweep and an A/B experiment).
const NOT_RUNS: [&str; 4] = [
    "sweep-earn-rate.toml",
    "ab-points-visibility.toml",
    "optimise-earn-rate.toml",
    "optimise-points.toml",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("tests/golden")
}

/// One command whose outputs are pinned: its stdout plus every file under `outputs`.
struct Case {
    name: String,
    /// Working directory (paths printed in outputs are relative to it).
    cwd: PathBuf,
    args: Vec<String>,
    /// Folder or file the command writes (files are keyed relative to it).
    outputs: Vec<PathBuf>,
}

fn shipped_runs(tmp: &Path) -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ is readable")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") && !NOT_RUNS.contains(&n.as_str()))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let stem = n.trim_end_matches(".toml");
            let out = tmp.join(format!("run-{stem}"));
            let rfm = tmp.join(format!("run-{stem}-rfm.csv"));
            let args = [
                "run",
                &format!("scenarios/{n}"),
                "--customers",
                CUSTOMERS,
                "--replicates",
                REPLICATES,
                "--threads",
                "1",
                "--quiet",
                "--out",
                &out.display().to_string(),
                "--export-rfm",
                &rfm.display().to_string(),
            ];
            Case {
                name: format!("run-{stem}"),
                cwd: root(),
                args: args.iter().map(|s| s.to_string()).collect(),
                outputs: vec![out, rfm],
            }
        })
        .collect()
}

fn random_design_runs(tmp: &Path) -> Vec<Case> {
    (0..RANDOM_DESIGNS)
        .map(|i| {
            let name = format!("random-{i:02}");
            let out = tmp.join(&name);
            let args = [
                "run",
                &format!("tests/golden/designs/{name}.toml"),
                "--threads",
                "1",
                "--quiet",
                "--no-charts",
                "--out",
                &out.display().to_string(),
            ];
            Case {
                name,
                cwd: root(),
                args: args.iter().map(|s| s.to_string()).collect(),
                outputs: vec![out],
            }
        })
        .collect()
}

/// The earn-rate sweep at a reduced size (2,000 customers, 2 replicates), shard 0 of 2.
fn sweep_case(tmp: &Path) -> Case {
    let dir = tmp.join("sweep-input");
    std::fs::create_dir_all(&dir).unwrap();
    let base = std::fs::read_to_string(root().join("scenarios/default.toml")).unwrap();
    let base = base.replacen("\ncustomers = 20000\n", "\ncustomers = 2000\n", 1);
    assert!(
        base.contains("\ncustomers = 2000\n"),
        "default.toml's customers line moved"
    );
    std::fs::write(dir.join("default.toml"), base).unwrap();
    let sweep = std::fs::read_to_string(root().join("scenarios/sweep-earn-rate.toml")).unwrap();
    let sweep = sweep.replacen("\nreplicates = 8\n", "\nreplicates = 2\n", 1);
    assert!(
        sweep.contains("\nreplicates = 2\n"),
        "the sweep's replicates line moved"
    );
    std::fs::write(dir.join("sweep-earn-rate.toml"), sweep).unwrap();
    let out = tmp.join("sweep-shard");
    let args = [
        "sweep",
        "sweep-earn-rate.toml",
        "--shard",
        "0/2",
        "--threads",
        "1",
        "--quiet",
        "--out",
        &out.display().to_string(),
    ];
    Case {
        name: "sweep-earn-rate-shard-0-of-2".into(),
        cwd: dir,
        args: args.iter().map(|s| s.to_string()).collect(),
        outputs: vec![out],
    }
}

fn ab_case(tmp: &Path) -> Case {
    let out = tmp.join("ab-simulate");
    let args = [
        "ab",
        "simulate",
        "scenarios/ab-points-visibility.toml",
        "--experiments",
        "40",
        "--threads",
        "1",
        "--json",
        "--out",
        &out.display().to_string(),
    ];
    Case {
        name: "ab-simulate-points-visibility".into(),
        cwd: root(),
        args: args.iter().map(|s| s.to_string()).collect(),
        outputs: vec![out],
    }
}

fn fit_case(tmp: &Path) -> Case {
    let toml = tmp.join("fit-cdnow.toml");
    let json = tmp.join("fit-cdnow.json");
    let args = [
        "fit",
        "tests/data/CDNOW_sample.txt",
        "--out",
        &toml.display().to_string(),
        "--json",
        &json.display().to_string(),
    ];
    Case {
        name: "fit-cdnow-sample".into(),
        cwd: root(),
        args: args.iter().map(|s| s.to_string()).collect(),
        outputs: vec![toml, json],
    }
}

/// Run a case: its outputs as (relative name, bytes), sorted by name.
fn produce(case: &Case, tmp: &Path) -> BTreeMap<String, Vec<u8>> {
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let out = loyalsim(&case.cwd, &args);
    assert!(
        out.status.success(),
        "golden case {}: `loyalsim {}` failed:\n{}",
        case.name,
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = BTreeMap::new();
    // Printed paths into the temporary folder change from run to run.
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&tmp.display().to_string(), "$TMP");
    files.insert("stdout".to_string(), stdout.into_bytes());
    for o in &case.outputs {
        if o.is_dir() {
            collect(o, o, &mut files);
        } else {
            let name = o.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read(o).unwrap());
        }
    }
    files
}

fn collect(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(base, &p, files);
        } else if p.file_name().is_some_and(|n| n == ".loyalsim-output") {
            // The ownership manifest names the writing command, not a result.
        } else {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Files whose lines are indexed, so a mismatch can name the first differing line.
fn indexed(name: &str) -> bool {
    name == "stdout" || name.ends_with(".json") || name.ends_with(".csv") || name.ends_with(".toml")
}

/// A short hash of each line of `bytes`.
fn line_hashes(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| sha256(l.as_bytes())[..6].to_string())
        .collect()
}

fn render_sums(files: &BTreeMap<String, Vec<u8>>) -> String {
    files
        .iter()
        .map(|(n, b)| format!("{}  {n}\n", sha256(b)))
        .collect()
}

fn render_lines(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut s = String::new();
    for (n, b) in files.iter().filter(|(n, _)| indexed(n)) {
        let _ = writeln!(s, "== {n}");
        for row in line_hashes(b).chunks(12) {
            let _ = writeln!(s, "{}", row.join(" "));
        }
    }
    s
}

fn parse_sums(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, n)| (n.to_string(), h.to_string()))
        .collect()
}

fn parse_lines(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur = None;
    for l in text.lines() {
        if let Some(n) = l.strip_prefix("== ") {
            cur = Some(n.to_string());
            out.entry(n.to_string()).or_default();
        } else if let Some(n) = &cur {
            out.get_mut(n)
                .unwrap()
                .extend(l.split_whitespace().map(str::to_string));
        }
    }
    out
}

/// What differs between the expectation and the produced files (empty when identical).
fn compare(case: &str, files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let sums_path = golden_dir().join(format!("{case}.sha256"));
    let Ok(sums) = std::fs::read_to_string(&sums_path) else {
        return vec![format!("{case}: no expectation at {}", sums_path.display())];
    };
    let expected = parse_sums(&sums);
    let lines = std::fs::read_to_string(golden_dir().join(format!("{case}.lines")))
        .map(|t| parse_lines(&t))
        .unwrap_or_default();
    let mut problems = Vec::new();
    for name in expected.keys().filter(|n| !files.contains_key(*n)) {
        problems.push(format!("{case}/{name}: expected but not written"));
    }
    for (name, bytes) in files {
        match expected.get(name) {
            None => problems.push(format!("{case}/{name}: written but not in the corpus")),
            Some(h) if *h == sha256(bytes) => {}
            Some(_) => problems.push(first_difference(case, name, bytes, lines.get(name))),
        }
    }
    problems
}

fn first_difference(
    case: &str,
    name: &str,
    bytes: &[u8],
    expected: Option<&Vec<String>>,
) -> String {
    let Some(expected) = expected else {
        return format!("{case}/{name}: bytes differ (not line-indexed)");
    };
    let text = String::from_utf8_lossy(bytes);
    let got: Vec<&str> = text.lines().collect();
    for (i, line) in got.iter().enumerate() {
        match expected.get(i) {
            Some(h) if *h == sha256(line.as_bytes())[..6] => {}
            Some(_) => {
                return format!("{case}/{name}: first differing line {}: {line}", i + 1);
            }
            None => {
                return format!(
                    "{case}/{name}: {} lines where {} were expected; first extra line {}: {line}",
                    got.len(),
                    expected.len(),
                    i + 1
                );
            }
        }
    }
    format!(
        "{case}/{name}: {} lines where {} were expected (or only line endings differ)",
        got.len(),
        expected.len()
    )
}

fn all_cases(tmp: &Path) -> Vec<Case> {
    let mut cases = shipped_runs(tmp);
    cases.extend(random_design_runs(tmp));
    cases.push(sweep_case(tmp));
    cases.push(ab_case(tmp));
    cases.push(fit_case(tmp));
    cases
}

#[test]
fn golden_corpus_is_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = all_cases(tmp.path());
    let update = std::env::var_os("LOYALSIM_GOLDEN_UPDATE").is_some_and(|v| v == "1");
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    // Two workers: each case is its own single-threaded process.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let files = produce(case, tmp.path());
                results.lock().unwrap().push((case.name.clone(), files));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    if update {
        for (name, files) in &results {
            std::fs::write(
                golden_dir().join(format!("{name}.sha256")),
                render_sums(files),
            )
            .unwrap();
            std::fs::write(
                golden_dir().join(format!("{name}.lines")),
                render_lines(files),
            )
            .unwrap();
        }
        return;
    }
    let problems: Vec<String> = results.iter().flat_map(|(n, f)| compare(n, f)).collect();
    assert!(
        problems.is_empty(),
        "the golden corpus differs in {} file(s) (if deliberate, regenerate with \
         LOYALSIM_GOLDEN_UPDATE=1 cargo test --test tests golden and say why in the commit):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Draw the random design fixtures once from `programs::design_strategy` with a fixed seed.
/// Run by hand only to re-freeze: `cargo test --test tests golden::freeze -- --ignored`.
#[test]
#[ignore = "writes tests/golden/designs/; run by hand to re-freeze the random designs"]
fn freeze_random_designs() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[FREEZE_SEED; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let dir = golden_dir().join("designs");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..RANDOM_DESIGNS {
        let design = crate::programs::design_strategy()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let text = format!(
            "# Frozen for the golden corpus (tests/golden.rs) from programs::design_strategy,\n\
             # seed {FREEZE_SEED}, draw {i}. Edit only together with its expectation.\n{}",
            crate::programs::with_designs(&design, 300, 2, 500)
        );
        std::fs::write(dir.join(format!("random-{i:02}.toml")), text).unwrap();
    }
}

//! Shared test helpers.

use std::path::Path;
use std::process::{Command, Output};

use loyalsim::metrics::RunResults;
use loyalsim::run::{simulate, RunOptions};
use loyalsim::scenario::Scenario;

/// Parse a scenario from text (panics with the error: tests only).
pub fn scenario(src: &str) -> Scenario {
    Scenario::parse(src, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Simulate in-process.
pub fn run(sc: &Scenario) -> RunResults {
    simulate(sc, &RunOptions::default()).expect("simulation runs")
}

/// Run the binary with `args` in `dir`.
pub fn loyalsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loyalsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs")
}

/// A one-segment scenario with the given purchase model, spend and population.
pub fn one_segment(purchase: &str, customers: u64, replicates: u32, horizon_days: u32) -> String {
    format!(
        r#"name = "one segment"
seed = 7
replicates = {replicates}
horizon_days = {horizon_days}
period = "month"
[population]
customers = {customers}
[[population.segments]]
name = "all"
share = 1.0
margin = 0.3
purchase = {purchase}
spend = {{ model = "gamma-gamma", p = 6.25, q = 3.74, gamma = 15.44 }}
[[designs]]
name = "control"
kind = "none"
"#
    )
}

/// A file under tests/fixtures.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every file under `dir` (relative path, bytes), sorted, without the ownership manifest:
/// it names the writing command, which differs between a run and its merge.
pub fn output_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != ".loyalsim-output") {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The python interpreter of a venv with lifetimes 0.11.3 (created under target/ once);
/// None when it cannot be made here (no network). Several tests ask at once: an exclusive
/// file lock makes one of them build the venv while the others wait, and the stamp is
/// written last, so a killed build is rebuilt from scratch next time.
pub fn lifetimes_python() -> Option<std::path::PathBuf> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let venv = target.join("lifetimes-venv");
    let stamp = venv.join(".installed-v1");
    std::fs::create_dir_all(&target).ok()?;
    let lock = std::fs::File::create(target.join("lifetimes-venv.lock")).ok()?;
    lock.lock().ok()?;
    if !stamp.exists() {
        let _ = std::fs::remove_dir_all(&venv);
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "lifetimes==0.11.3",
                ])
                .status()
                .is_ok_and(|s| s.success());
        if !made || std::fs::write(&stamp, b"").is_err() {
            return None;
        }
    }
    Some(venv.join("bin/python"))
}

/// A headless browser for the page checks (Debian's chromium in CI), if one is installed.
pub fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            let out = Command::new("which").arg(b).output().ok()?;
            let path = String::from_utf8(out.stdout).ok()?;
            let path = path.trim();
            (out.status.success() && !path.is_empty()).then(|| path.into())
        })
}

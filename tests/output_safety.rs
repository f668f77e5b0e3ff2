//! Issue 12: no command deletes or overwrites a file loyalsim did not write, and the quick
//! start works. Every writing command is run against a folder holding a user's file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{loyalsim, one_segment};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn small_scenario(dir: &Path) -> PathBuf {
    let path = dir.join("s.toml");
    let src = one_segment(
        "{ model = \"bg-nbd\", r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, unit = \"week\" }",
        500,
        2,
        120,
    );
    fs::write(&path, src).unwrap();
    path
}

/// A folder with a file of the user's in it.
fn users_folder(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("thesis.tex"), "my work").unwrap();
    d
}

fn assert_intact(folder: &Path) {
    assert_eq!(
        fs::read_to_string(folder.join("thesis.tex")).unwrap(),
        "my work",
        "the user's file in {} was changed",
        folder.display()
    );
}

/// `args` writing into `out` (a folder holding a user's file): refused without --force,
/// writes with it, then rewrites freely; the user's file survives all three.
fn refused_then_forced(dir: &Path, args: &[&str], out: &Path, expect_file: &str) {
    let o = loyalsim(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        err.contains("--force") && err.contains("not empty"),
        "{err}"
    );
    assert!(
        !out.join(expect_file).exists(),
        "{args:?} wrote although refused"
    );
    assert_intact(out);
    for extra in [&["--force"][..], &[]] {
        let all: Vec<&str> = args.iter().copied().chain(extra.iter().copied()).collect();
        let o = loyalsim(dir, &all);
        assert!(
            o.status.success(),
            "{all:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            out.join(expect_file).exists(),
            "{all:?}: {expect_file} missing"
        );
        assert!(out.join(".loyalsim-output").exists());
        assert_intact(out);
    }
}

#[test]
fn run_refuses_a_users_folder_and_keeps_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small_scenario(tmp.path());
    let out = users_folder(tmp.path(), "home");
    let args = ["run", s.to_str().unwrap(), "--out", "home", "--quiet"];
    refused_then_forced(tmp.path(), &args, &out, "summary.json");
    // A file as --out is refused and stays; a symlink to a folder stays a symlink.
    fs::write(tmp.path().join("afile"), "keep").unwrap();
    let o = loyalsim(
        tmp.path(),
        &["run", s.to_str().unwrap(), "--out", "afile", "-q"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(tmp.path().join("afile")).unwrap(),
        "keep"
    );
    fs::create_dir(tmp.path().join("real")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("real"), tmp.path().join("link")).unwrap();
    let o = loyalsim(
        tmp.path(),
        &["run", s.to_str().unwrap(), "--out", "link", "-q"],
    );
    assert!(o.status.success());
    assert!(fs::symlink_metadata(tmp.path().join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(tmp.path().join("real/summary.json").exists());
    let leftovers: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "hidden leftovers: {leftovers:?}");
}

#[test]
fn an_export_that_cannot_be_written_writes_no_results() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small_scenario(tmp.path());
    let mine = users_folder(tmp.path(), "docs");
    let o = loyalsim(
        tmp.path(),
        &[
            "run",
            s.to_str().unwrap(),
            "--out",
            "res",
            "-q",
            "--export-rfm",
            "docs/thesis.tex",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !tmp.path().join("res").exists(),
        "results written without their export"
    );
    assert_intact(&mine);
}

#[test]
fn sweep_shard_and_merge_keep_users_files_and_partials() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = root().join("tests/fixtures/sweep-small.toml");
    let sw = sweep.to_str().unwrap();
    let out = users_folder(tmp.path(), "sweep");
    refused_then_forced(
        tmp.path(),
        &["sweep", sw, "--out", "sweep", "-q"],
        &out,
        "sweep.csv",
    );
    // Shards add their partial files to a shared folder, whoever else's files are in it.
    let parts = users_folder(tmp.path(), "parts");
    for k in 0..2 {
        let shard = format!("{k}/2");
        let o = loyalsim(
            tmp.path(),
            &["sweep", sw, "--shard", &shard, "--out", "parts", "-q"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Merging into the partials folder itself keeps the partials.
    let o = loyalsim(
        tmp.path(),
        &["merge", "--sweep", sw, "parts", "--out", "parts", "--force"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(parts.join("sweep.csv").exists());
    let partials = fs::read_dir(&parts)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("partial-")
        })
        .count();
    assert_eq!(partials, 2, "merge removed partials");
    assert_intact(&parts);
}

#[test]
fn ab_simulate_and_fit_keep_users_files() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = root().join("tests/fixtures/ab-small.toml");
    let out = users_folder(tmp.path(), "ab");
    let args = [
        "ab",
        "simulate",
        exp.to_str().unwrap(),
        "--experiments",
        "20",
        "--out",
        "ab",
    ];
    refused_then_forced(tmp.path(), &args, &out, "ab_simulation.json");
    // fit writes single files: beside a user's file is fine, over it is refused.
    let log = root().join("tests/data/CDNOW_sample.txt");
    let fit = users_folder(tmp.path(), "fit");
    let o = loyalsim(
        tmp.path(),
        &["fit", log.to_str().unwrap(), "--out", "fit/pop.toml"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fit.join("pop.toml").exists());
    let o = loyalsim(
        tmp.path(),
        &["fit", log.to_str().unwrap(), "--out", "fit/thesis.tex"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_intact(&fit);
}

#[test]
fn quick_start_runs_the_default_scenario_without_a_command() {
    let tmp = tempfile::tempdir().unwrap();
    let o = loyalsim(tmp.path(), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = tmp.path().join("output/online-fashion-store/summary.json");
    let v: serde_json::Value = serde_json::from_slice(&fs::read(summary).unwrap()).unwrap();
    assert_eq!(v["scenario"]["name"], "online fashion store");
    assert!(String::from_utf8_lossy(&o.stdout).contains("points"));
}

//! Bad scenarios: one fixture file per case in tests/fixtures/bad/, whose first line says
//! `# expect: LINE | FIELD | MESSAGE`. Each must fail with exit code 78 and the message
//! `FILE:LINE: FIELD: ...MESSAGE...`, without a panic and without writing any output.

use std::fs;
use std::path::PathBuf;

use crate::util::loyalsim;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_bad_scenario_gets_a_located_error_and_writes_nothing() {
    let cases = fixtures();
    assert!(cases.len() >= 15, "fixtures missing: {}", cases.len());
    for path in cases {
        let src = fs::read_to_string(&path).unwrap();
        let expect = src.lines().next().unwrap().trim_start_matches("# expect:");
        let parts: Vec<&str> = expect.split('|').map(str::trim).collect();
        let (line, field, message) = (parts[0], parts[1], parts[2]);
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(path.file_name().unwrap());
        fs::copy(&path, &copy).unwrap();
        for cmd in ["run", "check"] {
            let o = loyalsim(
                dir.path(),
                &[cmd, copy.to_str().unwrap(), "--out", "out"][..if cmd == "run" { 4 } else { 2 }],
            );
            let err = String::from_utf8_lossy(&o.stderr);
            let name = path.file_name().unwrap().to_string_lossy();
            assert_eq!(o.status.code(), Some(78), "{name} ({cmd}): {err}");
            let head = format!("{}:{line}: {field}: ", copy.display());
            assert!(err.contains(&head), "{name}: expected `{head}` in: {err}");
            assert!(
                err.contains(message),
                "{name}: expected `{message}` in: {err}"
            );
            assert!(!err.contains("panicked"), "{name}: {err}");
            assert!(!dir.path().join("out").exists(), "{name}: output written");
            assert!(
                !dir.path().join("output").exists(),
                "{name}: output written"
            );
        }
    }
}

#[test]
fn missing_file_and_bad_flags_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = loyalsim(dir.path(), &["run", "nope.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.toml"));
    let o = loyalsim(dir.path(), &["run", "--replicates", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--replicates"));
    let o = loyalsim(dir.path(), &["run", "--threads", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = loyalsim(dir.path(), &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("output").exists());
}

//! Issue 12: a structured fuzzer of every input the command line reads, run for a bounded
//! time (`LOYALSIM_FUZZ_SECONDS`, default 20; CI sets 60).
//!
//! Seeds: every shipped scenario, the sweep and experiment fixtures, the CSV inputs of `fit`
//! and `ab analyze`. Mutations: numbers replaced by extremes (0, negatives, 1e308, 1e-308,
//! 2^63, NaN, inf), strings by long, empty or non-ASCII ones, keys removed, array entries
//! duplicated, values retyped; bytes: BOM, CRLF, a Latin-1 byte, truncation. The property:
//! exit 0, or a clean error (exit 2, 65 or 78 with a message naming the file), never a
//! panic, a signal, a run past the time limit or memory past the limit. Every input that
//! ever broke it is kept in tests/fixtures/fuzz/ and replayed first.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Wall-clock limit of one command: a hang is anything longer.
const CASE_LIMIT: Duration = Duration::from_secs(20);
/// Address-space limit of one command (KiB): memory past it is a failure.
const MEMORY_LIMIT_KB: u64 = 4 * 1024 * 1024;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How an input file is used on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Scenario,
    Sweep,
    Experiment,
    FitLog,
    AbCsv,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            n if n.starts_with("sweep") && n.ends_with(".toml") => Kind::Sweep,
            n if n.starts_with("ab-") && n.ends_with(".toml") => Kind::Experiment,
            n if n.starts_with("ab_") || n.starts_with("ab-") => Kind::AbCsv,
            n if n.ends_with(".toml") => Kind::Scenario,
            _ => Kind::FitLog,
        }
    }

    /// Arguments that use `input`, writing into `out`. Sizes are cut so a valid case is quick.
    fn args(self, input: &str, out: &str) -> Vec<String> {
        let v: Vec<&str> = match self {
            Kind::Scenario => vec![
                "run",
                input,
                "--out",
                out,
                "--customers",
                "300",
                "--replicates",
                "2",
                "--no-charts",
                "--quiet",
            ],
            Kind::Sweep => vec!["sweep", input, "--out", out, "--quiet"],
            Kind::Experiment => vec!["ab", "simulate", input, "--experiments", "8", "--out", out],
            Kind::FitLog => vec!["fit", input, "--out", "pop.toml"],
            Kind::AbCsv => vec!["ab", "analyze", input],
        };
        v.into_iter().map(String::from).collect()
    }
}

/// The seed inputs, as (file name, bytes), each small enough to run in a moment.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in fs::read_dir(root().join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("sweep") || name.starts_with("ab-") || name.starts_with("optimise") {
            continue; // their fixtures below are the small versions
        }
        v.push((name, fs::read(&p).unwrap()));
    }
    v.push((
        "sweep-small.toml".into(),
        fs::read(root().join("tests/fixtures/sweep-small.toml")).unwrap(),
    ));
    v.push((
        "ab-small.toml".into(),
        fs::read(root().join("tests/fixtures/ab-small.toml")).unwrap(),
    ));
    for f in ["aggregated.csv", "tiny.csv"] {
        v.push((
            format!("ab_{f}"),
            fs::read(root().join("tests/data/ab").join(f)).unwrap(),
        ));
    }
    let log = fs::read_to_string(root().join("tests/data/CDNOW_sample.txt")).unwrap();
    let head: String = log.lines().take(400).map(|l| format!("{l}\n")).collect();
    v.push(("cdnow_log.txt".into(), head.into_bytes()));
    let rfm = fs::read_to_string(root().join("tests/data/cdnow_customers_summary.csv")).unwrap();
    let head: String = rfm.lines().take(300).map(|l| format!("{l}\n")).collect();
    v.push(("rfm.csv".into(), head.into_bytes()));
    v.sort();
    v
}

const NUMBERS: [&str; 14] = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-308",
    "9223372036854775807",
    "-9223372036854775808",
    "nan",
    "inf",
    "-inf",
    "1e19",
    "0.5",
    "36525",
    "1000000001",
];

fn pick<'a, T>(rng: &mut Xoshiro256PlusPlus, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// A weird string: long, empty, non-ASCII, with quotes or control characters.
fn weird_string(rng: &mut Xoshiro256PlusPlus) -> String {
    match rng.random_range(0..6) {
        0 => "x".repeat(rng.random_range(150..70_000)),
        1 => String::new(),
        2 => "ünïcødé 名前 🙂".into(),
        3 => "a\"b\\c\td".into(),
        4 => "   ".into(),
        _ => "../../etc".into(),
    }
}

/// Mutate one leaf (or structure) of a TOML tree in place.
fn mutate_value(rng: &mut Xoshiro256PlusPlus, v: &mut toml::Value, depth: usize) {
    match v {
        toml::Value::Table(t) if !t.is_empty() => {
            let keys: Vec<String> = t.keys().cloned().collect();
            let k = pick(rng, &keys).clone();
            if depth > 0 && rng.random_range(0..8) == 0 {
                t.remove(&k);
            } else if rng.random_range(0..10) == 0 {
                t.insert(weird_string(rng), toml::Value::Integer(1));
            } else {
                mutate_value(rng, t.get_mut(&k).unwrap(), depth + 1);
            }
        }
        toml::Value::Array(a) if !a.is_empty() => {
            let i = rng.random_range(0..a.len());
            match rng.random_range(0..6) {
                0 => {
                    let dup = a[i].clone();
                    a.push(dup);
                }
                1 => {
                    a.remove(i);
                }
                _ => mutate_value(rng, &mut a[i], depth + 1),
            }
        }
        toml::Value::String(s) => *s = weird_string(rng),
        _ => {
            let n = pick(rng, &NUMBERS);
            *v = match rng.random_range(0..8) {
                0 => toml::Value::String(n.to_string()),
                1 => toml::Value::Boolean(true),
                _ => match n.parse::<i64>() {
                    Ok(i) => toml::Value::Integer(i),
                    Err(_) => toml::Value::Float(n.parse::<f64>().unwrap_or(f64::NAN)),
                },
            };
        }
    }
}

/// Byte-level mutations every input gets now and then.
fn mutate_bytes(rng: &mut Xoshiro256PlusPlus, mut b: Vec<u8>) -> Vec<u8> {
    match rng.random_range(0..7) {
        0 => {
            let mut v = vec![0xef, 0xbb, 0xbf];
            v.extend(b);
            v
        }
        1 => String::from_utf8_lossy(&b)
            .replace('\n', "\r\n")
            .into_bytes(),
        2 if !b.is_empty() => {
            let i = rng.random_range(0..b.len());
            b.insert(i, 0xe9);
            b
        }
        3 => {
            b.truncate(rng.random_range(0..=b.len()));
            b
        }
        4 => Vec::new(),
        5 => b.split(|&c| c == b'\n').next().unwrap_or(&[]).to_vec(), // header only
        _ if !b.is_empty() => {
            let i = rng.random_range(0..b.len());
            b[i] = rng.random();
            b
        }
        _ => b,
    }
}

/// CSV mutations: a field replaced by an extreme, rows duplicated.
fn mutate_csv(rng: &mut Xoshiro256PlusPlus, text: &str) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.len() < 2 {
        return text.as_bytes().to_vec();
    }
    for _ in 0..rng.random_range(1..4) {
        let i = rng.random_range(1..lines.len());
        let sep = if lines[i].contains(',') { ',' } else { ' ' };
        let mut cols: Vec<String> = lines[i].split(sep).map(String::from).collect();
        let c = rng.random_range(0..cols.len());
        cols[c] = match rng.random_range(0..5) {
            0 => "99970101".into(),
            1 => weird_string(rng),
            _ => pick(rng, &NUMBERS).to_string(),
        };
        lines[i] = cols.join(&sep.to_string());
        if rng.random_range(0..4) == 0 {
            let dup = lines[i].clone();
            lines.push(dup);
        }
    }
    (lines.join("\n") + "\n").into_bytes()
}

fn mutate(rng: &mut Xoshiro256PlusPlus, name: &str, seed: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(seed);
    let structured = if name.ends_with(".toml") {
        match text.parse::<toml::Table>() {
            Ok(t) => {
                let mut v = toml::Value::Table(t);
                for _ in 0..rng.random_range(1..4) {
                    mutate_value(rng, &mut v, 0);
                }
                toml::to_string(&v)
                    .map(String::into_bytes)
                    .unwrap_or_else(|_| seed.to_vec())
            }
            Err(_) => seed.to_vec(),
        }
    } else {
        mutate_csv(rng, &text)
    };
    if rng.random_range(0..5) == 0 {
        mutate_bytes(rng, structured)
    } else {
        structured
    }
}

/// Run one case in `dir` (which holds the input and what it refers to); `Err` describes a
/// violation of the property.
fn run_case(dir: &Path, kind: Kind, input: &str) -> Result<(), String> {
    let args = kind.args(input, "out");
    // stderr goes to a file: a pipe read only after exit would block a long message.
    let err_path = dir.join("stderr.txt");
    let err_file = fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_loyalsim"))
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > CASE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{args:?}: no answer within {CASE_LIMIT:?} (a hang)"
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = String::from_utf8_lossy(&fs::read(&err_path).unwrap_or_default()).into_owned();
    let clean_error = matches!(status.code(), Some(2 | 65 | 78))
        && err.starts_with("loyalsim: ")
        && !err.contains("panicked");
    // A missing file a mutated input names (e.g. a sweep's `base`) is an I/O error, exit 1.
    let io_error =
        status.code() == Some(1) && err.starts_with("loyalsim: ") && !err.contains("panicked");
    match status.code() {
        Some(0) if !err.contains("panicked") => Ok(()),
        _ if clean_error || io_error => Ok(()),
        code => Err(format!(
            "{args:?}: exit {code:?}: {}",
            err.chars().take(2000).collect::<String>()
        )),
    }
}

/// Lay out a case: the input under its seed's name, plus the files it may refer to.
fn case_dir(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Kind) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    let kind = Kind::of(name);
    if kind == Kind::Sweep {
        fs::copy(
            root().join("tests/fixtures/sweep-base.toml"),
            dir.path().join("sweep-base.toml"),
        )
        .unwrap();
    }
    (dir, kind)
}

fn check(name: &str, bytes: &[u8]) -> Result<(), String> {
    let (dir, kind) = case_dir(name, bytes);
    run_case(dir.path(), kind, name)
}

fn keep_failure(name: &str, bytes: &[u8], why: &str) -> String {
    let keep = root().join("target/fuzz-failures");
    fs::create_dir_all(&keep).unwrap();
    let digest = format!("{:016x}", fxhash(bytes));
    let path = keep.join(format!("{digest}-{name}"));
    fs::write(&path, bytes).unwrap();
    format!(
        "{why}\n  input kept in {} (copy it to tests/fixtures/fuzz/ once fixed)",
        path.display()
    )
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &c| {
        (h ^ u64::from(c)).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn past_fuzz_findings_stay_fixed() {
    let dir = root().join("tests/fixtures/fuzz");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        // Stored as `<finding>--<seed name>`: the seed name says how the input is used.
        let used_as = name.split_once("--").map_or(name.as_str(), |(_, s)| s);
        if let Err(why) = check(used_as, &fs::read(&p).unwrap()) {
            panic!("{name}: {why}");
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn fuzz_every_input_for_a_bounded_time() {
    let seconds: u64 = std::env::var("LOYALSIM_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("LOYALSIM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    // LOYALSIM_FUZZ_ONLY=word keeps the seeds whose name contains it (for triage).
    let only = std::env::var("LOYALSIM_FUZZ_ONLY").unwrap_or_default();
    let seeds: Vec<_> = seeds()
        .into_iter()
        .filter(|(n, _)| n.contains(&only))
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut cases = 0u64;
    let mut failures = Vec::new();
    while Instant::now() < deadline && failures.len() < 5 {
        let (name, bytes) = &seeds[cases as usize % seeds.len()];
        let input = mutate(&mut rng, name, bytes);
        if let Err(why) = check(name, &input) {
            failures.push(keep_failure(name, &input, &why));
        }
        cases += 1;
    }
    eprintln!(
        "fuzz: {cases} cases in {seconds} s (seed {seed}), {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

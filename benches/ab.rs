//! Benchmarks of the A/B harness (issue 6): the statistics per comparison, and the
//! simulator per experiment. Throughput is in visitors (statistics) and simulated
//! experiments (simulator); seeds are fixed inside each bench.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use loyalsim::ab::analyze::{self, ArmData};
use loyalsim::ab::experiment::Experiment;
use loyalsim::ab::simulate::{self, SimOptions};
use loyalsim::ab::stats;

fn arm(name: &str, n: u64, x: u64) -> ArmData {
    ArmData {
        name: name.into(),
        visitors: n,
        conversions: x,
        revenue: None,
        ..ArmData::default()
    }
}

fn statistics(c: &mut Criterion) {
    let mut g = c.benchmark_group("ab_stats");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for &n in &[1_000u64, 100_000, 1_000_000] {
        let (xc, xt) = (n / 10, n / 10 + n / 100);
        g.throughput(Throughput::Elements(2 * n));
        g.bench_with_input(BenchmarkId::new("pooled_z_test", n), &n, |b, &n| {
            b.iter(|| stats::pooled_z_test(black_box(xc), n, black_box(xt), n))
        });
        g.bench_with_input(BenchmarkId::new("bayes_beta_binomial", n), &n, |b, &n| {
            b.iter(|| stats::bayes_beta_binomial(black_box(xc), n, black_box(xt), n))
        });
        g.bench_with_input(BenchmarkId::new("full_comparison", n), &n, |b, &n| {
            let (c, t) = (arm("c", n, xc), arm("t", n, xt));
            b.iter(|| analyze::compare(black_box(&c), black_box(&t)))
        });
    }
    g.finish();
}

/// A per-visitor CSV of `rows` visitors (two arms, 3% converting, revenue and a
/// covariate), built in memory with a fixed linear congruential sequence.
fn per_visitor_csv(rows: u64) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(rows as usize * 20);
    out.extend_from_slice(b"variant,converted,revenue,pre\n");
    let mut s: u64 = 16;
    for i in 0..rows {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (s >> 11) as f64 / (1u64 << 53) as f64;
        let arm = if i % 2 == 0 { "control" } else { "points" };
        let pre = (s >> 40) % 200;
        if u < 0.03 {
            let _ = writeln!(out, "{arm},1,{:.2},{pre}", 20.0 + 2000.0 * u);
        } else {
            let _ = writeln!(out, "{arm},0,0,{pre}");
        }
    }
    out
}

/// Streaming the input (issue 16): throughput in CSV rows, plain and with CUPED.
fn reading(c: &mut Criterion) {
    use loyalsim::ab::input::{self, ReadOptions};
    let rows = 1_000_000u64;
    let bytes = per_visitor_csv(rows);
    let mut g = c.benchmark_group("ab_read");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    g.throughput(Throughput::Elements(rows));
    for (label, cov) in [("per_visitor", None), ("per_visitor_cuped", Some("pre"))] {
        let opts = ReadOptions {
            covariate: cov.map(String::from),
            ..ReadOptions::default()
        };
        g.bench_with_input(BenchmarkId::new(label, rows), &rows, |b, _| {
            b.iter(|| input::read("bench.csv", black_box(&bytes[..]), &opts).expect("reads"))
        });
    }
    g.finish();
}

/// The 10M-row per-visitor CSV of the issue-16 target (~190 MB), written once to
/// `target/bench-data/` (kept between runs; rebuilt if its size is off).
fn ten_million_row_file() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join("ab_per_visitor_10m.csv");
    let bytes = per_visitor_csv(10_000_000);
    let fresh = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if !fresh {
        std::fs::create_dir_all(&dir).expect("target/bench-data");
        std::fs::write(&path, &bytes).expect("bench CSV written");
    }
    path
}

/// `ab analyze` end to end on a 10M-row file (issue 16: under 1 s per core, flat memory):
/// read from disk, compare, render the text report. Throughput in rows.
fn analyze_file(c: &mut Criterion) {
    use loyalsim::ab::input::{self, ReadOptions};
    let rows = 10_000_000u64;
    let path = ten_million_row_file();
    let mut g = c.benchmark_group("ab_analyze_file");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .sample_size(10);
    g.throughput(Throughput::Elements(rows));
    for (label, cov) in [("per_visitor", None), ("per_visitor_cuped", Some("pre"))] {
        let read = ReadOptions {
            covariate: cov.map(String::from),
            ..ReadOptions::default()
        };
        g.bench_with_input(BenchmarkId::new(label, rows), &rows, |b, _| {
            b.iter(|| {
                let data = input::read_path(black_box(&path), &read).expect("reads");
                let a = analyze::analyze("bench.csv", &data, &analyze::AnalyzeOptions::default())
                    .expect("analyses");
                analyze::render_text(&a)
            })
        });
    }
    g.finish();
}

fn simulator(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ab-points-visibility.toml");
    let exp = Experiment::load(&path).expect("worked example loads");
    let mut g = c.benchmark_group("ab_simulate");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    for &r in &[100u64, 400] {
        g.throughput(Throughput::Elements(r));
        g.bench_with_input(
            BenchmarkId::new("worked_example_1_thread", r),
            &r,
            |b, &r| {
                let opts = SimOptions {
                    seed: Some(1),
                    experiments: Some(r),
                    threads: Some(1),
                };
                b.iter(|| simulate::simulate(black_box(&exp), &opts).expect("simulates"))
            },
        );
    }
    g.finish();
}

criterion_group!(benches, statistics, reading, analyze_file, simulator);
criterion_main!(benches);

//! Engine benches (issue 9): throughput in customers per second.
//!
//! `bench_v1/engine` runs the fixed benchmark scenario `scenarios/bench-v1.toml` (100,000
//! of its customers, one replicate, one thread) through the real engine; `bench_v1/bare`
//! is a hand-written loop of the same model (same draws, no program machinery), so the
//! ratio of the two is the engine's overhead, measured in one run. Reproduce with
//! `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution, Exp1, Gamma};

use loyalsim::engine::{self, customer::Context};
use loyalsim::scenario::{Overrides, Scenario};

const BENCH_CUSTOMERS: u64 = 100_000;

fn scenario(name: &str, customers: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let mut sc = Scenario::from_file(&path).expect("scenario parses");
    sc.apply(Overrides {
        customers: Some(customers),
        replicates: Some(1),
        ..Default::default()
    })
    .unwrap();
    sc
}

fn single_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
}

/// The bench-v1 model written out by hand: CDNOW BG/NBD + gamma-gamma customers, each
/// simulated as the control and as the points design (rate x 1.1, floor(value) points,
/// 100 points -> $5 with probability 0.8), summing revenue, points and rewards.
fn bare_bench_v1(customers: u64, seed: u64) -> (u64, u64, u64) {
    let week = 7.0;
    let lambda = Gamma::new(0.243, 1.0 / (4.414 * week)).unwrap();
    let dropout = Beta::new(0.793, 2.426).unwrap();
    let nu = Gamma::new(3.74, 1.0 / 15.44).unwrap();
    let horizon = 730.0;
    let (mut revenue, mut points_issued, mut rewards) = (0u64, 0u64, 0u64);
    for id in 0..customers {
        let mut state = [0u8; 32];
        state[..8].copy_from_slice(&(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
        let mut rng = Xoshiro256PlusPlus::from_seed(state);
        let l: f64 = lambda.sample(&mut rng);
        let p: f64 = dropout.sample(&mut rng);
        let n: f64 = nu.sample(&mut rng);
        let value = Gamma::new(6.25, 1.0 / n.max(1e-12)).unwrap();
        let mut program = rng.clone();
        program.random::<u64>();
        for mult in [1.0, 1.1] {
            let mut r = rng.clone();
            let mut t = 0.0;
            let mut balance = 0u64;
            let mut first = true;
            loop {
                if !first {
                    let e: f64 = Exp1.sample(&mut r);
                    t += e / (l * mult);
                    if t >= horizon {
                        break;
                    }
                }
                let v: f64 = value.sample(&mut r);
                revenue += (v * 100.0 + 0.5) as u64;
                if mult > 1.0 {
                    let pts = v as u64;
                    points_issued += pts;
                    balance += pts;
                    while balance >= 100 && program.random::<f64>() < 0.8 {
                        balance -= 100;
                        rewards += 1;
                    }
                }
                if !first && r.random::<f64>() < p / mult {
                    break;
                }
                first = false;
            }
        }
    }
    (revenue, points_issued, rewards)
}

fn bench_v1(c: &mut Criterion) {
    let sc = scenario("bench-v1.toml", BENCH_CUSTOMERS);
    let pool = single_thread();
    let mut g = c.benchmark_group("bench_v1");
    g.throughput(Throughput::Elements(BENCH_CUSTOMERS));
    g.sample_size(10);
    g.bench_function("engine", |b| {
        let ctx = Context::new(&sc);
        b.iter(|| pool.install(|| black_box(engine::simulate_replicate(&ctx, 0, None))))
    });
    g.bench_function("bare", |b| {
        b.iter(|| black_box(bare_bench_v1(BENCH_CUSTOMERS, 7)))
    });
    g.finish();
}

fn population(c: &mut Criterion) {
    let sc = scenario("default.toml", BENCH_CUSTOMERS);
    let pop = loyalsim::population::PopulationSampler::new(&sc);
    let mut g = c.benchmark_group("population");
    g.throughput(Throughput::Elements(BENCH_CUSTOMERS));
    g.sample_size(10);
    g.bench_function("draw_customers", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for id in 0..BENCH_CUSTOMERS {
                let (c, _) = engine::draw_customer(sc.seed, &sc, &pop, 0, id);
                acc += c.lambda;
            }
            black_box(acc)
        })
    });
    g.finish();
}

/// The engine on each program type of the default scenario, one design beside the control.
fn designs(c: &mut Criterion) {
    let full = scenario("default.toml", 20_000);
    let pool = single_thread();
    let mut g = c.benchmark_group("engine_by_design");
    g.sample_size(10);
    for name in [
        "control",
        "points",
        "tiered",
        "paid membership",
        "punch card",
    ] {
        let mut sc = full.clone();
        let control = sc.designs[sc.control].clone();
        let design = sc.designs.iter().find(|d| d.name == name).unwrap().clone();
        sc.designs = if name == "control" {
            vec![control]
        } else {
            vec![control, design]
        };
        sc.control = 0;
        let customers = engine::plan(&sc, 0).total();
        g.throughput(Throughput::Elements(customers));
        g.bench_with_input(BenchmarkId::from_parameter(name), &sc, |b, sc| {
            let ctx = Context::new(sc);
            b.iter(|| pool.install(|| black_box(engine::simulate_replicate(&ctx, 0, None))))
        });
    }
    g.finish();
}

/// The fitter on the CDNOW summary (2,357 customers): one likelihood evaluation and a
/// whole BG/NBD fit.
fn fitter(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cdnow_customers_summary.csv");
    let rows = loyalsim::fit::rfm::from_rfm_csv(&path).unwrap();
    let mut g = c.benchmark_group("fit");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.sample_size(10);
    let p = [0.243, 4.414, 0.793, 2.426];
    g.bench_function("bgnbd_log_likelihood", |b| {
        b.iter(|| black_box(loyalsim::fit::models::bgnbd_ll(&p, &rows)))
    });
    g.bench_function("bgnbd_fit", |b| {
        b.iter(|| black_box(loyalsim::fit::models::fit_bgnbd(&rows)))
    });
    g.finish();
}

criterion_group!(benches, bench_v1, population, designs, fitter);
criterion_main!(benches);

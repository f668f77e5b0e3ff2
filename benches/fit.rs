//! Fit-only timing (issue 14 item 6): the BG/NBD and gamma-gamma maximum-likelihood fits of
//! the CDNOW master log (23,570 customers, calibration to 1997-09-30), and the Pareto/NBD
//! fit, with the log already read into RFM summaries. The log is /work/shared/data/cdnow
//! or `LOYALSIM_CDNOW_MASTER`; the bench is skipped when neither exists.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use loyalsim::fit::models;
use loyalsim::fit::rfm::{self, LogFormat};

fn master_log() -> Option<PathBuf> {
    let path = std::env::var_os("LOYALSIM_CDNOW_MASTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/cdnow/CDNOW_master.txt"));
    path.exists().then_some(path)
}

fn fits(c: &mut Criterion) {
    let Some(path) = master_log() else {
        eprintln!("skipped: no CDNOW master log (set LOYALSIM_CDNOW_MASTER)");
        return;
    };
    let cal = rfm::parse_date("1997-09-30");
    let rows = rfm::from_log(&path, &LogFormat::Cdnow, cal).expect("CDNOW master log reads");
    let mut g = c.benchmark_group("fit_cdnow_master");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("bg_nbd", |b| b.iter(|| models::fit_bgnbd(black_box(&rows))));
    g.bench_function("gamma_gamma", |b| {
        b.iter(|| models::fit_gamma_gamma(black_box(&rows)))
    });
    g.bench_function("pareto_nbd", |b| {
        b.iter(|| models::fit_pareto(black_box(&rows)))
    });
    g.finish();
}

criterion_group!(benches, fits);
criterion_main!(benches);

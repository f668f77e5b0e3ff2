//! The engine against published closed forms.
//!
//! Per replicate we take the mean number of repeat purchases per customer over the horizon
//! and the share still active; across R replicates their mean has standard error sd/sqrt(R).
//! We require |z| < 4 (a false alarm about once in 16,000 runs of a correct model) and show,
//! with r 5% off, that the same check rejects a wrong model.

use crate::util::{one_segment, run, scenario};

/// CDNOW BG/NBD parameters (Fader, Hardie & Lee 2005), per week.
const R: f64 = 0.243;
const ALPHA: f64 = 4.414;
const A: f64 = 0.793;
const B: f64 = 2.426;

const HORIZON_DAYS: u32 = 730;
const CUSTOMERS: u64 = 20_000;
const REPLICATES: u32 = 20;

/// Gauss hypergeometric 2F1(a, b; c; z) by its power series (|z| < 1).
fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..100_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum
}

/// BG/NBD E[X(t)], Fader, Hardie & Lee (2005) eq. 9.
fn bgnbd_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    (a + b - 1.0) / (a - 1.0)
        * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, t / (alpha + t)))
}

/// ln Beta(a, b) via the Lanczos ln-gamma (independent of the library).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x)
    } else {
        let x = x - 1.0;
        let mut s = G[0];
        for (i, g) in G.iter().enumerate().skip(1) {
            s += g / (x + i as f64);
        }
        let t = x + 7.5;
        0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
    }
}

/// E[f(p)] for p ~ Beta(a, b), by Simpson's rule after p = u^(1/a) (removes the p^(a-1)
/// singularity at 0 when a < 1).
fn beta_expectation(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    let n = 20_000;
    let h = 1.0 / n as f64;
    let g = |u: f64| {
        let p = u.powf(1.0 / a);
        f(p) * (1.0 - p).max(0.0).powf(b - 1.0)
    };
    let mut s = g(0.0) + g(1.0);
    for i in 1..n {
        s += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0 / (a * (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)).exp())
}

/// P(active at t) under BG/NBD: E[(alpha / (alpha + p t))^r] over p ~ Beta(a, b).
fn bgnbd_alive(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    beta_expectation(a, b, |p| (alpha / (alpha + p * t)).powf(r))
}

/// (mean, standard error) across replicates of repeat purchases and active share.
fn simulated(purchase: &str) -> ((f64, f64), (f64, f64)) {
    let sc = scenario(&one_segment(purchase, CUSTOMERS, REPLICATES, HORIZON_DAYS));
    let res = run(&sc);
    let per_rep = |f: &dyn Fn(&loyalsim::metrics::Tally) -> f64| -> (f64, f64) {
        let xs: Vec<f64> = res.tallies.iter().map(|r| f(&r[0])).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    };
    let repeats = per_rep(&|t| t.repeat_orders as f64 / t.customers() as f64);
    let alive = per_rep(&|t| t.active_end() as f64 / t.customers() as f64);
    (repeats, alive)
}

fn z((mean, se): (f64, f64), exact: f64) -> f64 {
    (mean - exact) / se
}

fn bg(r: f64) -> String {
    format!("{{ model = \"bg-nbd\", r = {r}, alpha = {ALPHA}, a = {A}, b = {B}, unit = \"week\" }}")
}

#[test]
fn closed_forms_agree_with_each_other() {
    // eq. 9 against the direct integral E[(1 - (alpha/(alpha + p t))^r) / p].
    let t = f64::from(HORIZON_DAYS) / 7.0;
    let direct = beta_expectation(A, B, |p| {
        if p < 1e-12 {
            R * t / ALPHA // the limit as p -> 0
        } else {
            (1.0 - (ALPHA / (ALPHA + p * t)).powf(R)) / p
        }
    });
    let eq9 = bgnbd_expected(R, ALPHA, A, B, t);
    assert!((direct - eq9).abs() < 1e-6 * eq9, "{direct} vs {eq9}");
}

#[test]
fn bgnbd_matches_closed_form() {
    let t = f64::from(HORIZON_DAYS) / 7.0;
    let (repeats, alive) = simulated(&bg(R));
    let (ex, pa) = (
        bgnbd_expected(R, ALPHA, A, B, t),
        bgnbd_alive(R, ALPHA, A, B, t),
    );
    let (zx, za) = (z(repeats, ex), z(alive, pa));
    eprintln!(
        "BG/NBD t = {t:.2} weeks: E[X] sim {:.4} ± {:.4} vs exact {ex:.4} (z = {zx:.2}); \
         P(alive) sim {:.4} ± {:.4} vs exact {pa:.4} (z = {za:.2})",
        repeats.0, repeats.1, alive.0, alive.1
    );
    assert!(zx.abs() < 4.0, "E[X(t)] z = {zx}");
    assert!(za.abs() < 4.0, "P(alive) z = {za}");
}

#[test]
fn bgnbd_check_rejects_r_five_percent_off() {
    // The same check, on a population simulated with r 5% too high, must fail.
    let t = f64::from(HORIZON_DAYS) / 7.0;
    let (repeats, _) = simulated(&bg(R * 1.05));
    let zx = z(repeats, bgnbd_expected(R, ALPHA, A, B, t));
    eprintln!("BG/NBD with r +5%: z = {zx:.2}");
    assert!(zx.abs() > 4.0, "a 5% error in r went unnoticed (z = {zx})");
}

#[test]
fn pareto_nbd_matches_closed_form() {
    // Schmittlein, Morrison & Colombo (1987): E[X(t)] = r beta / (alpha (s - 1))
    // [1 - (beta / (beta + t))^(s - 1)], P(alive at t) = (beta / (beta + t))^s.
    let (r, alpha, s, beta) = (0.55, 10.58, 0.61, 11.67);
    let t = f64::from(HORIZON_DAYS) / 7.0;
    let purchase = format!(
        "{{ model = \"pareto-nbd\", r = {r}, alpha = {alpha}, s = {s}, beta = {beta}, unit = \"week\" }}"
    );
    let (repeats, alive) = simulated(&purchase);
    let ex = r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + t)).powf(s - 1.0));
    let pa = (beta / (beta + t)).powf(s);
    let (zx, za) = (z(repeats, ex), z(alive, pa));
    eprintln!(
        "Pareto/NBD: E[X] sim {:.4} ± {:.4} vs exact {ex:.4} (z = {zx:.2}); \
         P(alive) sim {:.4} ± {:.4} vs exact {pa:.4} (z = {za:.2})",
        repeats.0, repeats.1, alive.0, alive.1
    );
    assert!(zx.abs() < 4.0, "E[X(t)] z = {zx}");
    assert!(za.abs() < 4.0, "P(alive) z = {za}");
}

#[test]
fn gamma_gamma_mean_order_value() {
    // E[order value] = p gamma / (q - 1) (Fader, Hardie & Lee 2005, gamma-gamma).
    let sc = scenario(&one_segment(&bg(R), CUSTOMERS, REPLICATES, HORIZON_DAYS));
    let res = run(&sc);
    // Spend is independent of the purchase process in the gamma-gamma model, so revenue /
    // orders estimates E[order value] within its spread across replicates.
    let aov: Vec<f64> = res
        .tallies
        .iter()
        .map(|r| r[0].revenue_cents as f64 / 100.0 / r[0].orders as f64)
        .collect();
    let mean = aov.iter().sum::<f64>() / aov.len() as f64;
    let exact = 6.25 * 15.44 / (3.74 - 1.0);
    let sd = (aov.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (aov.len() - 1) as f64).sqrt();
    let zv = (mean - exact) / (sd / (aov.len() as f64).sqrt());
    eprintln!("gamma-gamma AOV sim {mean:.3} vs exact {exact:.3} (z = {zv:.2})");
    assert!(zv.abs() < 4.0, "z = {zv}");
}

//! Decision statistics from the worlds: what to launch, how sure we are, and what is
//! worth learning first.
//!
//! Input: for every world w, inner replicate r and design d the objective against the
//! control, `reps[w][r][d]` (the control's is 0). The world's net benefit `nb[w][d]` is the
//! mean over its inner replicates, so it carries inner Monte Carlo noise.
//!
//! - `expected`, `interval90`: mean and 5%-95% quantiles of `nb` over worlds: uncertainty
//!   about the inputs (plus the small inner noise), not the Monte Carlo CI of one world.
//! - `prob_best`, `prob_profitable`, `expected_loss` (opportunity loss: best in that world
//!   minus this design), all over worlds.
//! - EVPI = E[max_d nb] - max_d E[nb] = expected loss of the recommended design. Noise makes
//!   the naive estimate biased upward (the max picks up noise). Correction: one step of
//!   simulation-extrapolation (SIMEX). The inner noise is added once more, resampled from
//!   each world's own replicate deviations (x_r - mean) / sqrt(R - 1), which have the
//!   covariance of the noise in the mean across designs; the increase of EVPI is the bias
//!   of one noise dose, subtracted once: evpi = 2 x naive - mean(evpi with the extra noise).
//!   Needs R >= 2; with R = 1 the naive value is reported, flagged uncorrected.
//! - EVPPI per input: each design's `nb` is regressed on the input ([`Spline`]); EVPPI =
//!   E[max_d g_d(x)] - max_d E[g_d(x)]. The regression averages out the other inputs and
//!   the inner noise, but its fitted values still carry estimation error (the hat matrix
//!   times the residuals), which biases EVPPI upward (the max picks it up). Correction:
//!   each design's fitted deviations from its mean are shrunk by the positive-part
//!   James-Stein factor 1 - (df - 1) s^2 / SS_fit (s^2 the residual variance), which is 0
//!   when the fit explains no more than noise would. What remains: a small upward bias
//!   for weak effects, and a downward one if the spline cannot follow a sharp effect.
//! - Standard errors: P(best) sqrt(p(1-p)/W); EVPI and EVPPI the sd over worlds of the
//!   per-world opportunity loss divided by sqrt(W) (Latin hypercube sampling makes them
//!   conservative).

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use super::metamodel::Spline;

/// Extra-noise draws averaged in each SIMEX step.
const SIMEX_DRAWS: usize = 20;

/// The risk rule: the largest expected objective among designs with P(loss) at most this.
pub const MAX_LOSS_PROBABILITY: f64 = 0.10;

/// Decision figures of one design.
#[derive(Debug, Clone, Serialize)]
pub struct DesignDecision {
    /// Design name.
    pub name: String,
    /// Mean objective against the control over worlds.
    pub expected: f64,
    /// 5% and 95% quantiles over worlds (uncertainty about the inputs).
    pub interval90: [f64; 2],
    /// Share of worlds where it is the best design (the control counts as a design).
    pub prob_best: f64,
    /// Share of worlds where it beats the control (`null` for the control).
    pub prob_profitable: Option<f64>,
    /// Share of worlds where it loses money against the control.
    pub prob_loss: f64,
    /// Mean over worlds of (best design's objective - this design's).
    pub expected_loss: f64,
}

/// EVPPI of one input.
#[derive(Debug, Clone, Serialize)]
pub struct Evppi {
    /// Input path.
    pub path: String,
    /// Noise-corrected EVPPI.
    pub value: f64,
    /// Before the correction.
    pub naive: f64,
    /// Standard error (Monte Carlo, over worlds).
    pub se: f64,
}

/// First-order variance-based (Sobol') sensitivity indices of one input: per design, the
/// share of the variance of its objective over worlds that the input explains alone,
/// Var(E[nb | x_j]) / Var(nb). Numerator from the (James-Stein shrunk) spline metamodel,
/// the given-data estimator of the EVPPI fit; the denominator is the variance over worlds
/// minus the inner Monte Carlo noise of the world means, so the index is about input
/// uncertainty only. Clamped to [0, 1]. With correlated inputs an index includes what the
/// input's partners contribute through it, and the indices may sum above 1.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// Input path.
    pub path: String,
    /// Per design (scenario order); `None` for the control or a design whose objective
    /// does not vary.
    pub first_order: Vec<Option<f64>>,
    /// Bootstrap standard error of each (over worlds).
    pub se: Vec<Option<f64>>,
}

/// The ranking with one input at its 5% or 95% value (the others over their range),
/// from the regression metamodel.
#[derive(Debug, Clone, Serialize)]
pub struct Robustness {
    /// Input path.
    pub path: String,
    /// Its 5% and 95% values.
    pub values: [f64; 2],
    /// Designs best first, at the 5% value.
    pub ranking_p05: Vec<String>,
    /// Designs best first, at the 95% value.
    pub ranking_p95: Vec<String>,
}

/// All decision statistics.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Per design, in scenario order.
    pub designs: Vec<DesignDecision>,
    /// Maximum expected objective.
    pub recommended: String,
    /// Maximum expected objective with P(loss) <= 10%.
    pub recommended_risk_averse: String,
    /// Noise-corrected EVPI.
    pub evpi: f64,
    /// EVPI straight from the worlds (what worlds.csv gives).
    pub evpi_naive: f64,
    /// Standard error of EVPI.
    pub evpi_se: f64,
    /// Whether the inner-noise correction was applied (inner replicates >= 2).
    pub noise_corrected: bool,
    /// Largest standard error of a P(best).
    pub prob_best_se: f64,
    /// Per input, in input order.
    pub evppi: Vec<Evppi>,
    /// Per input.
    pub robustness: Vec<Robustness>,
    /// Per input: first-order sensitivity indices.
    pub sensitivity: Vec<Sensitivity>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    let n = v.len();
    if n < 2 {
        return 0.0;
    }
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// Quantile by linear interpolation between order statistics.
pub fn quantile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let h = p * (s.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

fn column_means(nb: &[Vec<f64>]) -> Vec<f64> {
    let d = nb.first().map_or(0, Vec::len);
    (0..d)
        .map(|k| mean(&nb.iter().map(|r| r[k]).collect::<Vec<_>>()))
        .collect()
}

/// EVPI-type value of a world x design matrix: E[max] - max E, with the per-world losses
/// of the design best on average.
fn value_of_information(nb: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let means = column_means(nb);
    let star = argmax(&means);
    let losses: Vec<f64> = nb
        .iter()
        .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max) - r[star])
        .collect();
    (mean(&losses), losses)
}

/// Compute every statistic; `x[w][j]` the inputs, `reps[w][r][d]` the objective against
/// the control. `seed` drives the SIMEX resampling.
pub fn compute(
    names: &[String],
    control: usize,
    paths: &[String],
    x: &[Vec<f64>],
    reps: &[Vec<Vec<f64>>],
    seed: u64,
) -> Stats {
    let w = reps.len();
    let nd = names.len();
    let nb: Vec<Vec<f64>> = reps
        .iter()
        .map(|rs| {
            (0..nd)
                .map(|d| mean(&rs.iter().map(|r| r[d]).collect::<Vec<_>>()))
                .collect()
        })
        .collect();
    let means = column_means(&nb);
    let mut best_count = vec![0usize; nd];
    for r in &nb {
        best_count[argmax(r)] += 1;
    }
    let designs: Vec<DesignDecision> = (0..nd)
        .map(|d| {
            let col: Vec<f64> = nb.iter().map(|r| r[d]).collect();
            let loss: Vec<f64> = nb
                .iter()
                .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max) - r[d])
                .collect();
            let share =
                |f: &dyn Fn(f64) -> bool| col.iter().filter(|v| f(**v)).count() as f64 / w as f64;
            DesignDecision {
                name: names[d].clone(),
                expected: means[d],
                interval90: [quantile(&col, 0.05), quantile(&col, 0.95)],
                prob_best: best_count[d] as f64 / w as f64,
                prob_profitable: (d != control).then(|| share(&|v| v > 0.0)),
                prob_loss: share(&|v| v < 0.0),
                expected_loss: mean(&loss),
            }
        })
        .collect();
    let rec = argmax(&means);
    let safe: Vec<f64> = (0..nd)
        .map(|d| {
            if designs[d].prob_loss <= MAX_LOSS_PROBABILITY {
                means[d]
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let rec_safe = argmax(&safe);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5349_4d45_5800);
    let (evpi_naive, losses) = value_of_information(&nb);
    let inner = reps.first().map_or(0, Vec::len);
    let noise_corrected = inner >= 2;
    let evpi = if noise_corrected {
        let scale = 1.0 / ((inner - 1) as f64).sqrt();
        let noisy: f64 = (0..SIMEX_DRAWS)
            .map(|_| {
                let m: Vec<Vec<f64>> = nb
                    .iter()
                    .zip(reps)
                    .map(|(row, rs)| {
                        let r = rng.random_range(0..inner);
                        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                        row.iter()
                            .zip(&rs[r])
                            .map(|(m, v)| m + sign * scale * (v - m))
                            .collect()
                    })
                    .collect();
                value_of_information(&m).0
            })
            .sum::<f64>()
            / SIMEX_DRAWS as f64;
        (2.0 * evpi_naive - noisy).max(0.0)
    } else {
        evpi_naive
    };
    let evpi_se = sd(&losses) / (w as f64).sqrt();
    let (evppi, robustness) = per_input(names, control, paths, x, &nb);
    let sensitivity = sensitivities(control, paths, x, &nb, &inner_noise(reps), seed);
    let prob_best_se = designs
        .iter()
        .map(|d| (d.prob_best * (1.0 - d.prob_best) / w as f64).sqrt())
        .fold(0.0, f64::max);
    Stats {
        recommended: names[rec].clone(),
        recommended_risk_averse: names[rec_safe].clone(),
        designs,
        evpi,
        evpi_naive,
        evpi_se,
        noise_corrected,
        prob_best_se,
        evppi,
        robustness,
        sensitivity,
    }
}

/// Per design: the inner Monte Carlo noise variance of the world means (the mean over
/// worlds of the replicates' variance / R; 0 with R = 1, when it cannot be told apart).
fn inner_noise(reps: &[Vec<Vec<f64>>]) -> Vec<f64> {
    let nd = reps.first().and_then(|r| r.first()).map_or(0, Vec::len);
    (0..nd)
        .map(|d| {
            mean(
                &reps
                    .iter()
                    .map(|rs| {
                        let v: Vec<f64> = rs.iter().map(|r| r[d]).collect();
                        sd(&v).powi(2) / v.len() as f64
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

fn per_input(
    names: &[String],
    control: usize,
    paths: &[String],
    x: &[Vec<f64>],
    nb: &[Vec<f64>],
) -> (Vec<Evppi>, Vec<Robustness>) {
    let w = nb.len();
    let nd = names.len();
    let mut evppi = Vec::new();
    let mut robustness = Vec::new();
    for (j, path) in paths.iter().enumerate() {
        let xj: Vec<f64> = x.iter().map(|r| r[j]).collect();
        let splines: Vec<Option<Spline>> = (0..nd)
            .map(|d| {
                (d != control)
                    .then(|| Spline::fit(&xj, &nb.iter().map(|r| r[d]).collect::<Vec<_>>()))
            })
            .collect();
        let fitted: Vec<Vec<f64>> = xj
            .iter()
            .map(|v| {
                splines
                    .iter()
                    .map(|s| s.as_ref().map_or(0.0, |s| s.predict(*v)))
                    .collect()
            })
            .collect();
        let (naive, _) = value_of_information(&fitted);
        // Shrink each design's fitted deviations toward its mean by the positive-part
        // James-Stein factor 1 - (df - 1) s^2 / SS_fit: under an input that affects
        // nothing SS_fit is about (df - 1) s^2 (noise alone), so the fit collapses to the
        // mean and EVPPI to 0; a real effect keeps nearly all of its fit.
        let shrunk: Vec<Vec<f64>> = {
            let factors: Vec<f64> = (0..nd)
                .map(|d| match &splines[d] {
                    None => 0.0,
                    Some(s) => {
                        let ys: Vec<f64> = nb.iter().map(|r| r[d]).collect();
                        let m = mean(&ys);
                        let ss_fit: f64 = fitted.iter().map(|f| (f[d] - m).powi(2)).sum();
                        let ss_res: f64 = fitted
                            .iter()
                            .zip(&ys)
                            .map(|(f, y)| (y - f[d]).powi(2))
                            .sum();
                        let k = s.df();
                        let s2 = ss_res / (w.saturating_sub(k)).max(1) as f64;
                        if ss_fit > 0.0 {
                            (1.0 - (k.saturating_sub(1)) as f64 * s2 / ss_fit).max(0.0)
                        } else {
                            0.0
                        }
                    }
                })
                .collect();
            let means = column_means(&fitted);
            fitted
                .iter()
                .map(|f| {
                    (0..nd)
                        .map(|d| means[d] + factors[d] * (f[d] - means[d]))
                        .collect()
                })
                .collect()
        };
        let (value, losses) = value_of_information(&shrunk);
        evppi.push(Evppi {
            path: path.clone(),
            value,
            naive,
            se: sd(&losses) / (w as f64).sqrt(),
        });
        let values = [quantile(&xj, 0.05), quantile(&xj, 0.95)];
        let rank = |v: f64| -> Vec<String> {
            let mut order: Vec<(f64, usize)> = splines
                .iter()
                .enumerate()
                .map(|(d, s)| (s.as_ref().map_or(0.0, |s| s.predict(v)), d))
                .collect();
            order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            order.iter().map(|(_, d)| names[*d].clone()).collect()
        };
        robustness.push(Robustness {
            path: path.clone(),
            values,
            ranking_p05: rank(values[0]),
            ranking_p95: rank(values[1]),
        });
    }
    (evppi, robustness)
}

/// Bootstrap resamples of the worlds behind each sensitivity index's standard error.
const BOOTSTRAP: usize = 20;

/// The positive-part James-Stein factor of a spline fit: 1 - (df - 1) s^2 / SS_fit.
fn shrink_factor(s: &Spline, fitted: &[f64], ys: &[f64]) -> f64 {
    let m = mean(ys);
    let ss_fit: f64 = fitted.iter().map(|f| (f - m).powi(2)).sum();
    let ss_res: f64 = fitted.iter().zip(ys).map(|(f, y)| (y - f).powi(2)).sum();
    let k = s.df();
    let s2 = ss_res / ys.len().saturating_sub(k).max(1) as f64;
    if ss_fit > 0.0 {
        (1.0 - k.saturating_sub(1) as f64 * s2 / ss_fit).max(0.0)
    } else {
        0.0
    }
}

/// First-order index of `x` for the objective `ys` whose world means carry inner noise of
/// variance `noise`: shrunk fitted variance / (variance of `ys` - `noise`), in [0, 1].
fn first_order_index(x: &[f64], ys: &[f64], noise: f64) -> Option<f64> {
    let input_var = sd(ys).powi(2) - noise;
    if input_var <= 0.0 {
        return None;
    }
    let s = Spline::fit(x, ys);
    let fitted: Vec<f64> = x.iter().map(|v| s.predict(*v)).collect();
    let shrunk_var = shrink_factor(&s, &fitted, ys).powi(2) * sd(&fitted).powi(2);
    Some((shrunk_var / input_var).clamp(0.0, 1.0))
}

/// Each input's first-order index per design, with a bootstrap standard error over
/// worlds (the sampling error of the given-data estimate: chance correlations between the
/// drawn inputs among W worlds move it by about 1/sqrt(W) times the effects involved).
fn sensitivities(
    control: usize,
    paths: &[String],
    x: &[Vec<f64>],
    nb: &[Vec<f64>],
    noise: &[f64],
    seed: u64,
) -> Vec<Sensitivity> {
    let w = nb.len();
    let nd = noise.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x534f_424f_4c00);
    let resamples: Vec<Vec<usize>> = (0..BOOTSTRAP)
        .map(|_| (0..w).map(|_| rng.random_range(0..w)).collect())
        .collect();
    paths
        .iter()
        .enumerate()
        .map(|(j, path)| {
            let xj: Vec<f64> = x.iter().map(|r| r[j]).collect();
            let (mut first_order, mut se) = (Vec::new(), Vec::new());
            for d in 0..nd {
                let ys: Vec<f64> = nb.iter().map(|r| r[d]).collect();
                let point = (d != control)
                    .then(|| first_order_index(&xj, &ys, noise[d]))
                    .flatten();
                let boot: Vec<f64> = resamples
                    .iter()
                    .filter(|_| point.is_some())
                    .filter_map(|idx| {
                        let xb: Vec<f64> = idx.iter().map(|i| xj[*i]).collect();
                        let yb: Vec<f64> = idx.iter().map(|i| ys[*i]).collect();
                        first_order_index(&xb, &yb, noise[d])
                    })
                    .collect();
                first_order.push(point);
                se.push(point.map(|_| sd(&boot)));
            }
            Sensitivity {
                path: path.clone(),
                first_order,
                se,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stratified sample of `n` points in `k` dimensions (a Latin hypercube from a fixed
    /// seed), each coordinate uniform on (0, 1).
    fn hypercube(n: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|_| {
                let mut bins: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    bins.swap(i, rng.random_range(0..=i));
                }
                bins.iter()
                    .map(|b| (*b as f64 + rng.random::<f64>()) / n as f64)
                    .collect()
            })
            .collect();
        (0..n)
            .map(|i| cols.iter().map(|c| c[i]).collect())
            .collect()
    }

    fn first_order(f: impl Fn(&[f64]) -> f64, x: &[Vec<f64>], noise: f64) -> Vec<(f64, f64)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut gauss = move || {
            // Box-Muller from the fixed stream.
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let reps: Vec<Vec<Vec<f64>>> = x
            .iter()
            .map(|r| (0..2).map(|_| vec![0.0, f(r) + noise * gauss()]).collect())
            .collect();
        let names = vec!["control".to_string(), "b".to_string()];
        let paths: Vec<String> = (0..x[0].len()).map(|j| format!("x{j}")).collect();
        let s = compute(&names, 0, &paths, x, &reps, 1);
        assert!(s.sensitivity.iter().all(|e| e.first_order[0].is_none()));
        s.sensitivity
            .iter()
            .map(|e| (e.first_order[1].unwrap(), e.se[1].unwrap()))
            .collect()
    }

    /// First-order Sobol' indices against closed forms, within 4 bootstrap standard errors
    /// (plus 0.01 for the spline's approximation of Ishigami's sin^2 over two periods).
    /// Ishigami (a = 7, b = 0.1, inputs uniform on [-pi, pi]): S1 = 0.3139, S2 = 0.4424,
    /// S3 = 0 (Ishigami & Homma 1990; Saltelli et al. 2008). A linear-quadratic model
    /// y = x1 + 2 x2 + x3^2 (uniform on [0, 1]) with inner noise of sd 0.5 per replicate
    /// (a fifth of the world means' variance): S = (1/12, 4/12, 4/45) / (5/12 + 4/45),
    /// which holds only because the noise is taken out of the denominator.
    #[test]
    fn first_order_indices_match_closed_forms() {
        use std::f64::consts::PI;
        let x: Vec<Vec<f64>> = hypercube(4000, 3, 5)
            .into_iter()
            .map(|r| r.iter().map(|u| -PI + 2.0 * PI * u).collect())
            .collect();
        let ishigami =
            |v: &[f64]| v[0].sin() + 7.0 * v[1].sin().powi(2) + 0.1 * v[2].powi(4) * v[0].sin();
        let s = first_order(ishigami, &x, 0.0);
        for ((got, se), exact) in s.iter().zip([0.3139, 0.4424, 0.0]) {
            assert!((got - exact).abs() < 4.0 * se + 0.01, "Ishigami {s:?}");
        }
        let x = hypercube(4000, 3, 6);
        let s = first_order(|v| v[0] + 2.0 * v[1] + v[2] * v[2], &x, 0.5);
        let total = 5.0 / 12.0 + 4.0 / 45.0;
        let exact = [1.0 / 12.0 / total, 4.0 / 12.0 / total, 4.0 / 45.0 / total];
        for ((got, se), exact) in s.iter().zip(exact) {
            assert!(*se > 0.0 && *se < 0.03, "{s:?}");
            assert!((got - exact).abs() < 4.0 * se, "linear-quadratic {s:?}");
        }
    }

    /// Two options, net benefit of B = mu + sigma z exactly (no noise): EVPI and EVPPI
    /// of z match the closed form E[max(0, X)] - max(0, mu).
    #[test]
    fn normal_net_benefit_closed_form() {
        use statrs::distribution::{Continuous, ContinuousCDF, Normal};
        let n = 2000;
        let std = Normal::new(0.0, 1.0).unwrap();
        let (mu, sigma) = (200.0, 1000.0);
        let x: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                vec![
                    std.inverse_cdf((i as f64 + 0.5) / n as f64),
                    (i * 7 % n) as f64,
                ]
            })
            .collect();
        let reps: Vec<Vec<Vec<f64>>> = x
            .iter()
            .map(|r| vec![vec![0.0, mu + sigma * r[0]]; 2])
            .collect();
        let names = vec!["control".to_string(), "b".to_string()];
        let paths = vec!["z".to_string(), "nothing".to_string()];
        let s = compute(&names, 0, &paths, &x, &reps, 1);
        let k = mu / sigma;
        let exact = mu * std.cdf(k) + sigma * std.pdf(k) - mu;
        assert!(
            (s.evpi - exact).abs() < 3.0 * s.evpi_se,
            "{} vs {exact}",
            s.evpi
        );
        assert!((s.evppi[0].value - exact).abs() < 3.0 * s.evppi[0].se);
        assert!(s.evppi[1].value < 0.05 * exact, "{:?}", s.evppi[1]);
        assert_eq!(s.recommended, "b");
        assert!((s.designs[1].prob_best - std.cdf(k)).abs() < 0.01);
    }
}

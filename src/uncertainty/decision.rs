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
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

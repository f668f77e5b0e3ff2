//! Maximum-likelihood fits of BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers
//! the easy way", eq. 6) and gamma-gamma spend (Fader, Hardie & Lee 2005, "RFM and CLV"),
//! with standard errors from the Hessian and the BG/NBD conditional expectation (eq. 10)
//! for holdout validation.
//!
//! Likelihoods are evaluated in log space (ln-gamma, log-sum-exp) so that customers with
//! many purchases or long histories do not overflow. Parameters are optimised on the log
//! scale (all are positive) by BFGS with analytic gradients, within bounds that stop a
//! drift to a limit model (the Pareto/NBD likelihood is in `pareto.rs`); then the Hessian of the log-likelihood on the
//! natural scale is taken by central differences and inverted for standard errors.

use statrs::function::gamma::{digamma, ln_gamma};

use super::rfm::Rfm;

mod pareto;
pub use pareto::{
    dropout_integral, fit_pareto, pareto_ll, pareto_ll_grad, pareto_ll_grad_one, pareto_ll_one,
    MAX_PANELS,
};

/// A fitted model.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Parameter names, in order.
    pub names: Vec<&'static str>,
    /// Estimates.
    pub params: Vec<f64>,
    /// Standard errors (None where the Hessian is not invertible).
    pub std_errors: Vec<Option<f64>>,
    /// Covariance of the estimates: the inverse of the observed information (the negative
    /// Hessian of the log-likelihood), natural scale; None where it is not invertible.
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Customers the fit used.
    pub customers: usize,
    /// Set when the optimiser ran into the parameter bounds: which limit model fits as well.
    pub limit: Option<String>,
    /// Optimiser iterations taken (bounded).
    pub iterations: usize,
    /// Likelihood (and gradient) evaluations the optimiser used (bounded).
    pub evaluations: usize,
}

impl Fit {
    /// Akaike information criterion.
    pub fn aic(&self) -> f64 {
        2.0 * self.params.len() as f64 - 2.0 * self.log_likelihood
    }
}

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// BG/NBD log-likelihood of one customer (x repeats, last at t_x, observed for T).
pub fn bgnbd_ll_one(p: &[f64], x: f64, tx: f64, t: f64) -> f64 {
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
    let a3 = -(r + x) * (alpha + t).ln();
    let a4 = if x > 0.0 {
        a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + tx).ln()
    } else {
        f64::NEG_INFINITY
    };
    a1 + a2 + log_add(a3, a4)
}

/// Total BG/NBD log-likelihood.
pub fn bgnbd_ll(p: &[f64], data: &[Rfm]) -> f64 {
    data.iter()
        .map(|c| bgnbd_ll_one(p, c.frequency, c.recency, c.t))
        .sum()
}

/// Gamma-gamma log-likelihood of the repeat customers' mean order values (p, q, gamma).
pub fn gamma_gamma_ll(par: &[f64], data: &[Rfm]) -> f64 {
    let (p, q, g) = (par[0], par[1], par[2]);
    data.iter()
        .filter(|c| c.frequency > 0.0 && c.monetary > 0.0)
        .map(|c| {
            let (x, z) = (c.frequency, c.monetary);
            ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
                + q * g.ln()
                + (p * x - 1.0) * z.ln()
                + p * x * x.ln()
                - (p * x + q) * (g + x * z).ln()
        })
        .sum()
}

/// Customers with the same (x, t_x, T) contribute the same term: group them once, so a
/// likelihood evaluation costs one term per distinct history (CDNOW master: 23,570
/// customers, far fewer distinct histories).
pub fn distinct_histories(data: &[Rfm]) -> Vec<([f64; 3], f64)> {
    let mut keys: Vec<[u64; 3]> = data
        .iter()
        .map(|c| [c.frequency.to_bits(), c.recency.to_bits(), c.t.to_bits()])
        .collect();
    keys.sort_unstable();
    let mut out: Vec<([f64; 3], f64)> = Vec::new();
    for k in keys {
        let h = [
            f64::from_bits(k[0]),
            f64::from_bits(k[1]),
            f64::from_bits(k[2]),
        ];
        match out.last_mut() {
            Some((last, w)) if *last == h => *w += 1.0,
            _ => out.push((h, 1.0)),
        }
    }
    out
}

/// The parts of a BG/NBD history's term that depend on x only: ln Γ(r+x) + ln Γ(b+x) -
/// ln Γ(a+b+x), their digammas and ln(b+x-1). Histories are sorted by x, so these are
/// computed once per distinct x (CDNOW master: ~60) rather than once per history.
struct PerFrequency {
    x: f64,
    ln_gammas: f64,
    dg_rx: f64,
    dg_abx: f64,
    dg_bx: f64,
    ln_bx1: f64,
}

impl PerFrequency {
    fn new(r: f64, a: f64, b: f64, x: f64) -> Self {
        PerFrequency {
            x,
            ln_gammas: ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x),
            dg_rx: digamma(r + x),
            dg_abx: digamma(a + b + x),
            dg_bx: digamma(b + x),
            ln_bx1: if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 },
        }
    }
}

/// BG/NBD log-likelihood and its gradient on the natural scale (r, alpha, a, b), from
/// differentiating FHL eq. 6 term by term (the log-sum-exp weights w3, w4 split the last
/// term), over grouped histories (sorted by x, as [`distinct_histories`] returns them).
pub fn bgnbd_ll_grad(p: &[f64], groups: &[([f64; 3], f64)]) -> (f64, [f64; 4]) {
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    let (mut ll, mut g) = (0.0, [0.0; 4]);
    let common = r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b) - ln_gamma(r);
    let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
    let (ln_a, ln_alpha) = (a.ln(), alpha.ln());
    let mut fx = PerFrequency::new(r, a, b, groups.first().map_or(0.0, |g| g.0[0]));
    for &([x, tx, t], n) in groups {
        if x != fx.x {
            fx = PerFrequency::new(r, a, b, x);
        }
        let ln_t = (alpha + t).ln();
        let a3 = -(r + x) * ln_t;
        let (a4, ln_tx) = if x > 0.0 {
            let ln_tx = (alpha + tx).ln();
            (ln_a - fx.ln_bx1 - (r + x) * ln_tx, ln_tx)
        } else {
            (f64::NEG_INFINITY, 0.0)
        };
        // log-sum-exp of a3 and a4 with one exp: e = e^-|a4 - a3| (0 when x = 0).
        let e = (-(a4 - a3).abs()).exp();
        let l = a3.max(a4) + e.ln_1p();
        let w4 = if a4 > a3 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        let w3 = 1.0 - w4;
        ll += n * (common + fx.ln_gammas + l);
        g[0] += n * (fx.dg_rx - dg_r + ln_alpha - w3 * ln_t - w4 * ln_tx);
        let d_alpha = w3 * (r + x) / (alpha + t)
            + if x > 0.0 {
                w4 * (r + x) / (alpha + tx)
            } else {
                0.0
            };
        g[1] += n * (r / alpha - d_alpha);
        g[2] += n * (dg_ab - fx.dg_abx + if x > 0.0 { w4 / a } else { 0.0 });
        g[3] += n
            * (dg_ab + fx.dg_bx
                - dg_b
                - fx.dg_abx
                - if x > 0.0 { w4 / (b + x - 1.0) } else { 0.0 });
    }
    (ll, g)
}

/// Gamma-gamma log-likelihood and gradient (p, q, gamma) of the repeat customers.
pub fn gamma_gamma_ll_grad(par: &[f64], data: &[Rfm]) -> (f64, [f64; 3]) {
    let (p, q, gm) = (par[0], par[1], par[2]);
    let (mut ll, mut g) = (0.0, [0.0; 3]);
    let (lq, dq) = (ln_gamma(q), digamma(q));
    for c in data
        .iter()
        .filter(|c| c.frequency > 0.0 && c.monetary > 0.0)
    {
        let (x, z) = (c.frequency, c.monetary);
        let (px, lgz) = (p * x, (gm + x * z).ln());
        ll +=
            ln_gamma(px + q) - ln_gamma(px) - lq + q * gm.ln() + (px - 1.0) * z.ln() + px * x.ln()
                - (px + q) * lgz;
        let d = digamma(px + q);
        g[0] += x * (d - digamma(px) + z.ln() + x.ln() - lgz);
        g[1] += d - dq + gm.ln() - lgz;
        g[2] += q / gm - (px + q) / (gm + x * z);
    }
    (ll, g)
}

/// A function returning its value and gradient at a point.
pub type ValueAndGradient<'a> = dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a;

/// Log-parameters are kept within ±this: e^±13.8 = 1e∓6 .. 1e6 on the natural scale. A
/// fit that runs into it is a drift towards a limit model, stopped and reported.
pub const LOG_BOUND: f64 = 13.815_510_557_964_274;

/// Where a minimisation stopped and what it cost.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The best point found.
    pub x: Vec<f64>,
    /// BFGS iterations taken.
    pub iterations: usize,
    /// Function (value and gradient) evaluations.
    pub evaluations: usize,
    /// Coordinates held at ±`bound` with the gradient still pushing outwards (a drift).
    pub at_bound: Vec<usize>,
}

/// BFGS minimisation of `f` (value and gradient) from `x0`, with a backtracking Armijo line
/// search, every coordinate kept within ±`bound`. Stops after `iterations` steps, on
/// convergence, or when the descent runs into the bound (then `at_bound` names the
/// coordinates): bounded time on any input.
pub fn bfgs(f: &ValueAndGradient<'_>, x0: &[f64], iterations: usize, bound: f64) -> Minimum {
    let n = x0.len();
    let clamp = |v: f64| v.clamp(-bound, bound);
    let mut x: Vec<f64> = x0.iter().map(|&v| clamp(v)).collect();
    let (mut fx, mut gx) = f(&x);
    let mut out = Minimum {
        x: x.clone(),
        iterations: 0,
        evaluations: 1,
        at_bound: Vec::new(),
    };
    if !fx.is_finite() {
        return out;
    }
    let identity = |h: &mut Vec<Vec<f64>>, scale: f64| {
        h.iter_mut().enumerate().for_each(|(i, row)| {
            row.iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = if i == j { scale } else { 0.0 })
        })
    };
    let mut h = vec![vec![0.0; n]; n];
    identity(&mut h, 1.0);
    for it in 0..iterations {
        out.iterations = it + 1;
        let mut d: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i][j] * gx[j]).sum::<f64>())
            .collect();
        let mut slope: f64 = d.iter().zip(&gx).map(|(a, b)| a * b).sum();
        if slope >= 0.0 {
            // Not a descent direction: reset to steepest descent.
            identity(&mut h, 1.0);
            d = gx.iter().map(|v| -v).collect();
            slope = -gx.iter().map(|v| v * v).sum::<f64>();
        }
        // Keep each step within e^5 on the log scale.
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut step = if longest > 5.0 { 5.0 / longest } else { 1.0 };
        let mut accepted = None;
        for _ in 0..60 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| clamp(a + step * b)).collect();
            let (fnew, gnew) = f(&xn);
            out.evaluations += 1;
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * slope {
                accepted = Some((xn, fnew, gnew));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fnew, gnew)) = accepted else {
            break;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gnew.iter().zip(&gx).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let done = (fx - fnew).abs() <= 1e-13 * (1.0 + fx.abs())
            && gnew
                .iter()
                .all(|v| v.abs() < 1e-5 * (1.0 + fnew.abs()).sqrt());
        (x, fx, gx) = (xn, fnew, gnew);
        // At the bound with the gradient pointing further out: the optimum is a limit.
        out.at_bound = (0..n)
            .filter(|&i| x[i].abs() >= bound && gx[i] * x[i].signum() < 0.0)
            .collect();
        if done || !out.at_bound.is_empty() {
            break;
        }
        if sy > 1e-300 {
            if it == 0 {
                identity(&mut h, sy / y.iter().map(|v| v * v).sum::<f64>());
            }
            bfgs_update(&mut h, &s, &y, sy);
        }
    }
    out.x = x;
    out
}

/// The BFGS update of the inverse-Hessian approximation `h` from step `s` and gradient
/// change `y` (Nocedal & Wright eq. 6.17, expanded).
fn bfgs_update(h: &mut [Vec<f64>], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i][j] * y[j]).sum())
        .collect();
    let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
    for i in 0..n {
        for j in 0..n {
            h[i][j] += (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
        }
    }
}

/// What a drift to the bound means, in the domain's words: a shape and its scale growing
/// together is a gamma collapsing onto its mean (no heterogeneity in that rate); otherwise
/// the parameter's own limit.
fn limit_note(names: &[&'static str], params: &[f64], at_bound: &[usize]) -> Option<String> {
    if at_bound.is_empty() {
        return None;
    }
    let pairs = [("r", "alpha", "purchase"), ("s", "beta", "dropout")];
    let mut parts = Vec::new();
    for &(shape, scale, what) in &pairs {
        let (Some(i), Some(j)) = (
            names.iter().position(|n| *n == shape),
            names.iter().position(|n| *n == scale),
        ) else {
            continue;
        };
        if at_bound.contains(&i) || at_bound.contains(&j) {
            parts.push(format!(
                "{shape} = {:.3e}, {scale} = {:.3e} at the bound: a gamma {what} rate with mean {shape}/{scale} = {:.6} per week and coefficient of variation {:.2e} (every customer the same {what} rate when both grow together)",
                params[i],
                params[j],
                params[i] / params[j],
                params[i].powf(-0.5)
            ));
        }
    }
    for &k in at_bound {
        if !pairs.iter().any(|p| p.0 == names[k] || p.1 == names[k]) {
            parts.push(format!("{} = {:.3e} at the bound", names[k], params[k]));
        }
    }
    Some(format!(
        "the data are fit as well by a limit model: {}; the fit stopped there",
        parts.join("; ")
    ))
}

/// Fit positive parameters with BFGS on their logarithms, given the log-likelihood and its
/// natural-scale gradient; then standard errors from the Hessian (differenced gradient).
fn fit_positive_bfgs(
    names: Vec<&'static str>,
    start: &[f64],
    ll_grad: &ValueAndGradient<'_>,
    customers: usize,
) -> Fit {
    let objective = |lp: &[f64]| {
        let p: Vec<f64> = lp.iter().map(|v| v.exp()).collect();
        let (v, g) = ll_grad(&p);
        // d(-ll)/d(ln p) = -p dll/dp.
        (-v, g.iter().zip(&p).map(|(g, p)| -g * p).collect())
    };
    let x0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let min = bfgs(&objective, &x0, 500, LOG_BOUND);
    let mut fit = fit_at(names, &min.x, ll_grad, customers);
    fit.limit = limit_note(&fit.names, &fit.params, &min.at_bound);
    fit.iterations = min.iterations;
    fit.evaluations = min.evaluations;
    fit
}

/// Invert a small symmetric matrix by Gauss–Jordan elimination.
fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, p);
        let d = a[c][c];
        a[c].iter_mut().for_each(|v| *v /= d);
        for r in 0..n {
            if r != c {
                let k = a[r][c];
                let row_c = a[c].clone();
                a[r].iter_mut().zip(&row_c).for_each(|(v, w)| *v -= k * w);
            }
        }
    }
    Some(a.into_iter().map(|r| r[n..].to_vec()).collect())
}

/// Standard errors and covariance from the Hessian of the log-likelihood at `p` (natural
/// scale), by central differences of its analytic gradient (2n gradient evaluations).
fn std_errors(
    ll_grad: &ValueAndGradient<'_>,
    p: &[f64],
) -> (Vec<Option<f64>>, Option<Vec<Vec<f64>>>) {
    let n = p.len();
    let mut columns = Vec::with_capacity(n);
    for j in 0..n {
        let h = 1e-4 * p[j].abs().max(1e-3);
        let (mut up, mut dn) = (p.to_vec(), p.to_vec());
        up[j] += h;
        dn[j] -= h;
        let (gu, gd) = (ll_grad(&up).1, ll_grad(&dn).1);
        columns.push(
            (0..n)
                .map(|i| (gu[i] - gd[i]) / (2.0 * h))
                .collect::<Vec<f64>>(),
        );
    }
    // Observed information: minus the (symmetrised) Hessian.
    let info: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| -0.5 * (columns[j][i] + columns[i][j]))
                .collect()
        })
        .collect();
    match invert(&info) {
        Some(cov) => (
            (0..n)
                .map(|i| (cov[i][i] > 0.0).then(|| cov[i][i].sqrt()))
                .collect(),
            cov.iter().flatten().all(|v| v.is_finite()).then_some(cov),
        ),
        None => (vec![None; n], None),
    }
}

/// The fit at an optimum found on the log scale: parameters, log-likelihood, and standard
/// errors and covariance from the numerical Hessian.
fn fit_at(
    names: Vec<&'static str>,
    log_params: &[f64],
    ll_grad: &ValueAndGradient<'_>,
    customers: usize,
) -> Fit {
    let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
    let (std_errors, covariance) = std_errors(ll_grad, &params);
    Fit {
        std_errors,
        covariance,
        log_likelihood: ll_grad(&params).0,
        names,
        params,
        customers,
        limit: None,
        iterations: 0,
        evaluations: 0,
    }
}

/// Fit BG/NBD (r, alpha, a, b) to RFM data in weeks.
pub fn fit_bgnbd(data: &[Rfm]) -> Fit {
    let groups = distinct_histories(data);
    let ll_grad = |p: &[f64]| {
        let (v, g) = bgnbd_ll_grad(p, &groups);
        (v, g.to_vec())
    };
    fit_positive_bfgs(
        vec!["r", "alpha", "a", "b"],
        &[1.0, 1.0, 1.0, 1.0],
        &ll_grad,
        data.len(),
    )
}

/// Fit gamma-gamma (p, q, gamma) to the repeat customers' mean order values.
pub fn fit_gamma_gamma(data: &[Rfm]) -> Option<Fit> {
    let n = data
        .iter()
        .filter(|c| c.frequency > 0.0 && c.monetary > 0.0)
        .count();
    if n < 10 {
        return None;
    }
    let ll_grad = |p: &[f64]| {
        let (v, g) = gamma_gamma_ll_grad(p, data);
        (v, g.to_vec())
    };
    Some(fit_positive_bfgs(
        vec!["p", "q", "gamma"],
        &[1.0, 1.0, 1.0],
        &ll_grad,
        n,
    ))
}

/// Gauss hypergeometric 2F1(a, b; c; z) by its power series, |z| < 1.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..100_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

/// BG/NBD expected repeat purchases in (T, T + t] of a customer with (x, t_x, T) (FHL 2005
/// eq. 10).
pub fn bgnbd_conditional(p: &[f64], x: f64, tx: f64, t_cal: f64, t: f64) -> f64 {
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    let z = t / (alpha + t_cal + t);
    let num = (a + b + x - 1.0) / (a - 1.0)
        * (1.0
            - ((alpha + t_cal) / (alpha + t_cal + t)).powf(r + x)
                * hyp2f1(r + x, b + x, a + b + x - 1.0, z));
    let den = if x > 0.0 {
        1.0 + a / (b + x - 1.0) * ((alpha + t_cal) / (alpha + tx)).powf(r + x)
    } else {
        1.0
    };
    num / den
}

/// BG/NBD E[X(t)]: expected repeat purchases in (0, t] for a new customer (eq. 9).
pub fn bgnbd_expected(p: &[f64], t: f64) -> f64 {
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    (a + b - 1.0) / (a - 1.0)
        * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, t / (alpha + t)))
}

/// `covariance = { params = [...], matrix = [[...], ...] }` in a fitted segment: the
/// Hessian covariance of the fitted parameters that `loyalsim fit` writes (issue 14), kept as
/// data for carrying fit uncertainty into results later. Checked square, symmetric and finite.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(try_from = "RawCovariance")]
pub struct FitCovariance {
    /// Parameter names, in matrix order.
    pub params: Vec<String>,
    /// The covariance matrix.
    pub matrix: Vec<Vec<f64>>,
}

/// The TOML mirror of [`FitCovariance`].
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCovariance {
    params: Vec<String>,
    matrix: Vec<Vec<f64>>,
}

impl TryFrom<RawCovariance> for FitCovariance {
    type Error = String;
    fn try_from(r: RawCovariance) -> Result<Self, String> {
        let n = r.params.len();
        if r.matrix.len() != n || r.matrix.iter().any(|row| row.len() != n) {
            return Err(format!(
                "covariance.matrix must be {n} x {n} (one row and column per entry of params)"
            ));
        }
        for i in 0..n {
            for j in 0..n {
                let (a, b) = (r.matrix[i][j], r.matrix[j][i]);
                if !a.is_finite() || (a - b).abs() > 1e-9 * (1.0 + a.abs()) {
                    return Err("covariance.matrix must be finite and symmetric".into());
                }
            }
        }
        Ok(FitCovariance {
            params: r.params,
            matrix: r.matrix,
        })
    }
}

#[cfg(test)]
mod gradient_tests {
    use super::*;

    fn sample() -> Vec<Rfm> {
        let rows = [
            (0.0, 0.0, 30.0),
            (2.0, 10.5, 30.0),
            (2.0, 10.5, 30.0),
            (1.0, 3.0, 38.0),
            (9.0, 35.0, 36.0),
        ];
        rows.iter()
            .map(|&(x, tx, t)| Rfm {
                id: String::new(),
                frequency: x,
                recency: tx,
                t,
                monetary: 10.0 + 3.0 * x,
                holdout: None,
                repeat_days: Vec::new(),
                first_day: None,
            })
            .collect()
    }

    /// The analytic gradients agree with central differences of the likelihoods, and the
    /// grouped likelihood equals the per-customer sum (FHL eq. 6).
    #[test]
    fn analytic_gradients_match_central_differences() {
        let data = sample();
        let groups = distinct_histories(&data);
        assert_eq!(groups.len(), 4);
        let p = [0.3, 4.0, 0.8, 2.5];
        let (ll, g) = bgnbd_ll_grad(&p, &groups);
        assert!((ll - bgnbd_ll(&p, &data)).abs() < 1e-10, "{ll}");
        for i in 0..4 {
            let h = 1e-6 * p[i];
            let (mut up, mut dn) = (p, p);
            up[i] += h;
            dn[i] -= h;
            let fd = (bgnbd_ll(&up, &data) - bgnbd_ll(&dn, &data)) / (2.0 * h);
            assert!(
                (g[i] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "bg {i}: {} vs {fd}",
                g[i]
            );
        }
        let q = [4.0, 3.0, 20.0];
        let (llg, gg) = gamma_gamma_ll_grad(&q, &data);
        assert!((llg - gamma_gamma_ll(&q, &data)).abs() < 1e-10);
        for i in 0..3 {
            let h = 1e-6 * q[i];
            let (mut up, mut dn) = (q, q);
            up[i] += h;
            dn[i] -= h;
            let fd = (gamma_gamma_ll(&up, &data) - gamma_gamma_ll(&dn, &data)) / (2.0 * h);
            assert!(
                (gg[i] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "gg {i}: {} vs {fd}",
                gg[i]
            );
        }
    }
}

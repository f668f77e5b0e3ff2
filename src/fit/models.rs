//! Maximum-likelihood fits of BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers
//! the easy way", eq. 6) and gamma-gamma spend (Fader, Hardie & Lee 2005, "RFM and CLV"),
//! with standard errors from the Hessian and the BG/NBD conditional expectation (eq. 10)
//! for holdout validation.
//!
//! Likelihoods are evaluated in log space (ln-gamma, log-sum-exp) so that customers with
//! many purchases or long histories do not overflow. Parameters are optimised on the log
//! scale (all are positive): BG/NBD and gamma-gamma by BFGS with analytic gradients,
//! Pareto/NBD by Nelder–Mead; then the Hessian of the log-likelihood on the
//! natural scale is taken by central differences and inverted for standard errors.

use statrs::function::gamma::{digamma, ln_gamma};

use super::rfm::Rfm;

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

/// Nelder–Mead minimisation of `f` from `x0`.
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], iterations: usize) -> Vec<f64> {
    let n = x0.len();
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..n {
        let mut v = x0.to_vec();
        v[i] += if v[i].abs() > 1e-3 {
            0.1 * v[i].abs().max(0.5)
        } else {
            0.25
        };
        simplex.push(v);
    }
    let mut values: Vec<f64> = simplex.iter().map(|v| f(v)).collect();
    for _ in 0..iterations {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        if (values[n] - values[0]).abs() < 1e-11 * (1.0 + values[0].abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|k| simplex[..n].iter().map(|v| v[k]).sum::<f64>() / n as f64)
            .collect();
        let point = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|k| centroid[k] + t * (simplex[n][k] - centroid[k]))
                .collect()
        };
        let xr = point(-1.0);
        let fr = f(&xr);
        if fr < values[0] {
            let xe = point(-2.0);
            let fe = f(&xe);
            if fe < fr {
                simplex[n] = xe;
                values[n] = fe;
            } else {
                simplex[n] = xr;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = xr;
            values[n] = fr;
        } else {
            let xc = if fr < values[n] {
                point(-0.5)
            } else {
                point(0.5)
            };
            let fc = f(&xc);
            if fc < values[n].min(fr) {
                simplex[n] = xc;
                values[n] = fc;
            } else {
                for i in 1..=n {
                    simplex[i] = (0..n)
                        .map(|k| simplex[0][k] + 0.5 * (simplex[i][k] - simplex[0][k]))
                        .collect();
                    values[i] = f(&simplex[i]);
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&i, &j| values[i].total_cmp(&values[j]))
        .expect("simplex");
    simplex[best].clone()
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

/// BG/NBD log-likelihood and its gradient on the natural scale (r, alpha, a, b), from
/// differentiating FHL eq. 6 term by term (the log-sum-exp weights w3, w4 split the last
/// term), over grouped histories.
pub fn bgnbd_ll_grad(p: &[f64], groups: &[([f64; 3], f64)]) -> (f64, [f64; 4]) {
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    let (mut ll, mut g) = (0.0, [0.0; 4]);
    let common = r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b) - ln_gamma(r);
    let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
    for &([x, tx, t], n) in groups {
        let a3 = -(r + x) * (alpha + t).ln();
        let a4 = if x > 0.0 {
            a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + tx).ln()
        } else {
            f64::NEG_INFINITY
        };
        let l = log_add(a3, a4);
        let (w3, w4) = ((a3 - l).exp(), (a4 - l).exp());
        ll += n * (common + ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x) + l);
        let dg_abx = digamma(a + b + x);
        let ln_tx = if x > 0.0 { (alpha + tx).ln() } else { 0.0 };
        g[0] += n * (digamma(r + x) - dg_r + alpha.ln() - w3 * (alpha + t).ln() - w4 * ln_tx);
        g[1] += n
            * (r / alpha
                - w3 * (r + x) / (alpha + t)
                - if x > 0.0 {
                    w4 * (r + x) / (alpha + tx)
                } else {
                    0.0
                });
        g[2] += n * (dg_ab - dg_abx + if x > 0.0 { w4 / a } else { 0.0 });
        g[3] += n
            * (dg_ab + digamma(b + x)
                - dg_b
                - dg_abx
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

/// BFGS minimisation of `f` (value and gradient) from `x0`, with a backtracking Armijo line
/// search. Returns the best point found within `iterations` steps: bounded time on any input.
pub fn bfgs(f: &ValueAndGradient<'_>, x0: &[f64], iterations: usize) -> Vec<f64> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut fx, mut gx) = f(&x);
    if !fx.is_finite() {
        return x;
    }
    let mut h: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for it in 0..iterations {
        let mut d: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i][j] * gx[j]).sum::<f64>())
            .collect();
        let mut slope: f64 = d.iter().zip(&gx).map(|(a, b)| a * b).sum();
        if slope >= 0.0 {
            // Not a descent direction: reset to steepest descent.
            h.iter_mut().enumerate().for_each(|(i, row)| {
                row.iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = f64::from(u8::from(i == j)))
            });
            d = gx.iter().map(|v| -v).collect();
            slope = -gx.iter().map(|v| v * v).sum::<f64>();
        }
        // Keep each step within e^5 on the log scale.
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut step = if longest > 5.0 { 5.0 / longest } else { 1.0 };
        let mut accepted = None;
        for _ in 0..60 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + step * b).collect();
            let (fnew, gnew) = f(&xn);
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
        if done {
            break;
        }
        if sy > 1e-300 {
            if it == 0 {
                let yy: f64 = y.iter().map(|v| v * v).sum();
                h.iter_mut().enumerate().for_each(|(i, row)| {
                    row.iter_mut()
                        .enumerate()
                        .for_each(|(j, v)| *v = if i == j { sy / yy } else { 0.0 });
                });
            }
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| h[i][j] * y[j]).sum())
                .collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i][j] +=
                        (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                }
            }
        }
    }
    x
}

/// Fit positive parameters with BFGS on their logarithms, given the log-likelihood and its
/// natural-scale gradient; then standard errors from the numerical Hessian.
fn fit_positive_bfgs(
    names: Vec<&'static str>,
    start: &[f64],
    ll: &dyn Fn(&[f64]) -> f64,
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
    let best = bfgs(&objective, &x0, 500);
    fit_at(names, &best, ll, customers)
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

/// Standard errors and covariance from the numerical Hessian of `ll` at `p` (natural scale).
fn std_errors(ll: &dyn Fn(&[f64]) -> f64, p: &[f64]) -> (Vec<Option<f64>>, Option<Vec<Vec<f64>>>) {
    let n = p.len();
    let h: Vec<f64> = p.iter().map(|v| 1e-4 * v.abs().max(1e-3)).collect();
    let at = |d: &[(usize, f64)]| {
        let mut q = p.to_vec();
        for &(i, s) in d {
            q[i] += s;
        }
        ll(&q)
    };
    let mut hess = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let v = if i == j {
                (at(&[(i, h[i])]) - 2.0 * ll(p) + at(&[(i, -h[i])])) / (h[i] * h[i])
            } else {
                (at(&[(i, h[i]), (j, h[j])])
                    - at(&[(i, h[i]), (j, -h[j])])
                    - at(&[(i, -h[i]), (j, h[j])])
                    + at(&[(i, -h[i]), (j, -h[j])]))
                    / (4.0 * h[i] * h[j])
            };
            hess[i][j] = -v;
            hess[j][i] = -v;
        }
    }
    match invert(&hess) {
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
/// errors and covariance from the numerical Hessian (shared by both optimisers).
fn fit_at(
    names: Vec<&'static str>,
    log_params: &[f64],
    ll: &dyn Fn(&[f64]) -> f64,
    customers: usize,
) -> Fit {
    let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
    let (std_errors, covariance) = std_errors(ll, &params);
    Fit {
        std_errors,
        covariance,
        log_likelihood: ll(&params),
        names,
        params,
        customers,
    }
}

fn fit_positive(
    names: Vec<&'static str>,
    start: &[f64],
    ll: &dyn Fn(&[f64]) -> f64,
    customers: usize,
) -> Fit {
    let objective = |lp: &[f64]| {
        let p: Vec<f64> = lp.iter().map(|v| v.exp()).collect();
        let v = -ll(&p);
        if v.is_finite() {
            v
        } else {
            f64::MAX
        }
    };
    let x0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    // Two passes: a restart from the first optimum refreshes a collapsed simplex.
    let first = nelder_mead(&objective, &x0, 4000);
    let best = nelder_mead(&objective, &first, 4000);
    fit_at(names, &best, ll, customers)
}

/// Fit BG/NBD (r, alpha, a, b) to RFM data in weeks.
pub fn fit_bgnbd(data: &[Rfm]) -> Fit {
    let groups = distinct_histories(data);
    let ll = |p: &[f64]| bgnbd_ll_grad(p, &groups).0;
    let ll_grad = |p: &[f64]| {
        let (v, g) = bgnbd_ll_grad(p, &groups);
        (v, g.to_vec())
    };
    fit_positive_bfgs(
        vec!["r", "alpha", "a", "b"],
        &[1.0, 1.0, 1.0, 1.0],
        &ll,
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
    let ll = |p: &[f64]| gamma_gamma_ll(p, data);
    let ll_grad = |p: &[f64]| {
        let (v, g) = gamma_gamma_ll_grad(p, data);
        (v, g.to_vec())
    };
    Some(fit_positive_bfgs(
        vec!["p", "q", "gamma"],
        &[1.0, 1.0, 1.0],
        &ll,
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

/// ln of a Gauss hypergeometric 2F1 series value (positive terms here).
fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    hyp2f1(a, b, c, z).ln()
}

/// Pareto/NBD log-likelihood of one customer (Fader & Hardie, "A note on deriving the
/// Pareto/NBD model and related expressions", 2005), in log space: the A0 term is a
/// difference of two hypergeometric terms, scaled by the larger before subtracting.
pub fn pareto_ll_one(p: &[f64], x: f64, tx: f64, t: f64) -> f64 {
    let (r, alpha, s, beta) = (p[0], p[1], p[2], p[3]);
    let rsx = r + s + x;
    let (big, b2) = if alpha >= beta {
        (alpha, s + 1.0)
    } else {
        (beta, r + x)
    };
    let diff = (alpha - beta).abs();
    let l1 = ln_hyp2f1(rsx, b2, rsx + 1.0, diff / (big + tx)) - rsx * (big + tx).ln();
    let l2 = ln_hyp2f1(rsx, b2, rsx + 1.0, diff / (big + t)) - rsx * (big + t).ln();
    // ln A0 = l1 + ln(1 - exp(l2 - l1)); A0 > 0 because the series term decreases in T.
    let ln_a0 = l1 + (-(l2 - l1).exp()).ln_1p();
    let ln_first = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
    let ln_second = (s / rsx).ln() + ln_a0;
    let m = ln_first.max(ln_second);
    let ln_sum = if ln_second.is_finite() {
        m + ((ln_first - m).exp() + (ln_second - m).exp()).ln()
    } else {
        ln_first
    };
    ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + ln_sum
}

/// Total Pareto/NBD log-likelihood.
pub fn pareto_ll(p: &[f64], data: &[Rfm]) -> f64 {
    data.iter()
        .map(|c| pareto_ll_one(p, c.frequency, c.recency, c.t))
        .sum()
}

/// Fit Pareto/NBD (r, alpha, s, beta) to RFM data in weeks.
pub fn fit_pareto(data: &[Rfm]) -> Fit {
    let ll = |p: &[f64]| pareto_ll(p, data);
    fit_positive(
        vec!["r", "alpha", "s", "beta"],
        &[1.0, 1.0, 1.0, 1.0],
        &ll,
        data.len(),
    )
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

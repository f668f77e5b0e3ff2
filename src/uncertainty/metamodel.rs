//! The regression metamodel of EVPPI (Strong, Oakley & Brennan 2014): each design's net
//! benefit regressed on one input with a cubic regression spline, so the fitted value is
//! the expected net benefit given that input, with the other inputs and the inner Monte
//! Carlo noise averaged out.
//!
//! Basis: 1, x, x^2, x^3 and (x - k)^3_+ at interior knots placed at quantiles of x (one
//! per 25 worlds, at most 4), x standardised. Least squares by modified Gram-Schmidt QR;
//! a column that adds nothing (an input with few distinct values) is dropped.

/// A fitted spline: predicts the net benefit at any value of the input.
#[derive(Debug, Clone)]
pub struct Spline {
    centre: f64,
    scale: f64,
    knots: Vec<f64>,
    /// Basis columns kept, and their coefficients.
    kept: Vec<usize>,
    coef: Vec<f64>,
}

fn basis(z: f64, knots: &[f64]) -> Vec<f64> {
    let mut b = vec![1.0, z, z * z, z * z * z];
    b.extend(knots.iter().map(|k| (z - k).max(0.0).powi(3)));
    b
}

/// The design matrix's knots for `x` (standardised scale), given how many worlds there are.
fn knots_for(z: &[f64]) -> Vec<f64> {
    let n_knots = (z.len() / 25).min(4);
    let mut s = z.to_vec();
    s.sort_by(f64::total_cmp);
    let mut k: Vec<f64> = (1..=n_knots)
        .map(|i| s[(i * s.len()) / (n_knots + 1)])
        .collect();
    k.dedup();
    k
}

impl Spline {
    /// Fit `y` on `x` (same length, at least 2).
    pub fn fit(x: &[f64], y: &[f64]) -> Spline {
        let n = x.len() as f64;
        let centre = x.iter().sum::<f64>() / n;
        let sd = (x.iter().map(|v| (v - centre).powi(2)).sum::<f64>() / n).sqrt();
        let scale = if sd > 0.0 { sd } else { 1.0 };
        let z: Vec<f64> = x.iter().map(|v| (v - centre) / scale).collect();
        let knots = knots_for(&z);
        let cols: Vec<Vec<f64>> = {
            let rows: Vec<Vec<f64>> = z.iter().map(|v| basis(*v, &knots)).collect();
            (0..4 + knots.len())
                .map(|c| rows.iter().map(|r| r[c]).collect())
                .collect()
        };
        // Modified Gram-Schmidt: Q columns orthonormal, R upper triangular.
        let mut q: Vec<Vec<f64>> = Vec::new();
        let mut r: Vec<Vec<f64>> = Vec::new();
        let mut kept = Vec::new();
        for (c, col) in cols.iter().enumerate() {
            let norm0 = dot(col, col).sqrt();
            let mut v = col.clone();
            let mut rc = vec![0.0; q.len()];
            for (i, qi) in q.iter().enumerate() {
                rc[i] = dot(qi, &v);
                for (a, b) in v.iter_mut().zip(qi) {
                    *a -= rc[i] * b;
                }
            }
            let norm = dot(&v, &v).sqrt();
            if norm0 == 0.0 || norm <= 1e-9 * norm0 || kept.len() >= x.len() {
                continue;
            }
            v.iter_mut().for_each(|a| *a /= norm);
            rc.push(norm);
            q.push(v);
            r.push(rc);
            kept.push(c);
        }
        // Coefficients: R beta = Q'y, by back-substitution.
        let qty: Vec<f64> = q.iter().map(|qi| dot(qi, y)).collect();
        let p = kept.len();
        let mut coef = vec![0.0; p];
        for i in (0..p).rev() {
            let mut s = qty[i];
            for (j, c) in coef.iter().enumerate().skip(i + 1) {
                s -= r[j][i] * c;
            }
            coef[i] = s / r[i][i];
        }
        Spline {
            centre,
            scale,
            knots,
            kept,
            coef,
        }
    }

    /// Number of basis columns kept (the fit's degrees of freedom).
    pub fn df(&self) -> usize {
        self.kept.len()
    }

    /// The fitted net benefit at input value `x`.
    pub fn predict(&self, x: f64) -> f64 {
        let b = basis((x - self.centre) / self.scale, &self.knots);
        self.kept
            .iter()
            .zip(&self.coef)
            .map(|(&c, k)| b[c] * k)
            .sum()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_cubic_and_a_constant() {
        let x: Vec<f64> = (0..100).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 - v + 0.1 * v * v * v).collect();
        let s = Spline::fit(&x, &y);
        for v in [0.5, 3.3, 9.0] {
            assert!((s.predict(v) - (2.0 - v + 0.1 * v * v * v)).abs() < 1e-6);
        }
        let flat = Spline::fit(&[1.0; 10], &[3.0; 10]);
        assert!((flat.predict(1.0) - 3.0).abs() < 1e-12);
    }
}

//! Correlated inputs by a Gaussian copula: each world's uniforms are mapped to normal
//! scores, mixed by the Cholesky factor of the correlation matrix, and mapped back, so every
//! input keeps its own distribution and the normal scores of two inputs have correlation
//! `rho` (their Spearman rank correlation is 6/pi asin(rho / 2)). The first input of a
//! correlated group keeps its Latin hypercube strata exactly; the others keep their
//! distribution, their strata only approximately.
//!
//! Correlations come from `[uncertainty] correlations` and from a fitted segment's
//! parameter covariance (multivariate normal on the log scale, see [`super::inputs`]).

use statrs::distribution::{ContinuousCDF, Normal};

/// One correlation between two inputs (by index into the inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// First input.
    pub a: usize,
    /// Second input.
    pub b: usize,
    /// Correlation of their normal scores.
    pub rho: f64,
    /// Where it comes from (`uncertainty.correlations.K` or the segment's covariance).
    pub source: String,
}

/// The lower-triangular Cholesky factor of `m`, or the first index whose pivot is not
/// positive (the matrix is not positive definite).
pub fn cholesky(m: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, usize> {
    let n = m.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = m[i][i] - s;
                if d <= 1e-10 || !d.is_finite() {
                    return Err(i);
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - s) / l[j][j];
            }
        }
    }
    Ok(l)
}

/// The correlation matrix of `n` inputs with `pairs` set (the rest 0, diagonal 1).
pub fn matrix(n: usize, pairs: &[Correlation]) -> Vec<Vec<f64>> {
    let mut m = vec![vec![0.0; n]; n];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for c in pairs {
        m[c.a][c.b] = c.rho;
        m[c.b][c.a] = c.rho;
    }
    m
}

/// Correlate one world's uniforms `u` (one per input) through the factor `l`.
pub fn correlate(l: &[Vec<f64>], u: &[f64]) -> Vec<f64> {
    let std = Normal::new(0.0, 1.0).expect("standard normal");
    // Keep the scores finite: a uniform of exactly 0 or 1 (an end of a stratum).
    let z: Vec<f64> = u
        .iter()
        .map(|x| std.inverse_cdf(x.clamp(1e-12, 1.0 - 1e-12)))
        .collect();
    l.iter()
        .map(|row| {
            let s: f64 = row.iter().zip(&z).map(|(a, b)| a * b).sum();
            std.cdf(s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_factor_and_refusal() {
        let m = vec![
            vec![1.0, 0.5, 0.2],
            vec![0.5, 1.0, 0.3],
            vec![0.2, 0.3, 1.0],
        ];
        let l = cholesky(&m).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((v - m[i][j]).abs() < 1e-12);
            }
        }
        // rho(a,b) = rho(b,c) = 0.9 but rho(a,c) = -0.9: no variables can have these.
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        assert_eq!(cholesky(&bad), Err(2));
    }
}

//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen & Ostermeier 2001;
//! the parameter settings of Hansen's tutorial "The CMA Evolution Strategy", 2016).
//!
//! Why this method: it needs only the ranking of candidates (so a constraint ranking slots
//! in), it is robust to noise and to badly scaled parameters, and with common random
//! numbers the simulated objective is a deterministic, nearly smooth function of the
//! design, which is where CMA-ES converges quickly. It is driven as ask / tell: the caller
//! evaluates a generation's candidates however it likes (in parallel, on a cluster) and
//! reports their ranking. The sampling stream is seeded, so the same seed and the same
//! rankings give the same candidates.

use rand::rngs::Xoshiro256PlusPlus;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// State of one CMA-ES run, minimising (rank 0 is the best).
#[derive(Debug, Clone)]
pub struct Cmaes {
    n: usize,
    lambda: usize,
    weights: Vec<f64>,
    mueff: f64,
    cc: f64,
    cs: f64,
    c1: f64,
    cmu: f64,
    damps: f64,
    chi_n: f64,
    mean: Vec<f64>,
    sigma: f64,
    c: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
    d: Vec<f64>,
    pc: Vec<f64>,
    ps: Vec<f64>,
    generation: u32,
    rng: Xoshiro256PlusPlus,
    /// The steps `y = B D z` of the last generation asked for.
    steps: Vec<Vec<f64>>,
}

/// The default population size for `n` dimensions: 4 + floor(3 ln n).
pub fn default_lambda(n: usize) -> usize {
    4 + (3.0 * (n.max(1) as f64).ln()).floor() as usize
}

impl Cmaes {
    /// Start at `mean` with step size `sigma`, `lambda` candidates per generation (>= 2).
    pub fn new(mean: Vec<f64>, sigma: f64, lambda: usize, seed: u64) -> Self {
        let n = mean.len();
        let lambda = lambda.max(2);
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu)
            .map(|i| (mu as f64 + 0.5).ln() - (i as f64).ln())
            .collect();
        let sum: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let nf = n as f64;
        let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
        let cs = (mueff + 2.0) / (nf + mueff + 5.0);
        let c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
        let cmu = (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
        let damps = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let identity: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
            .collect();
        Cmaes {
            n,
            lambda,
            weights,
            mueff,
            cc,
            cs,
            c1,
            cmu,
            damps,
            chi_n,
            mean,
            sigma,
            c: identity.clone(),
            b: identity,
            d: vec![1.0; n],
            pc: vec![0.0; n],
            ps: vec![0.0; n],
            generation: 0,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x434d_4145_5300),
            steps: Vec::new(),
        }
    }

    /// Candidates per generation.
    pub fn lambda(&self) -> usize {
        self.lambda
    }

    /// Current mean of the search distribution.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Current overall step size.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Sample the next generation's candidates.
    pub fn ask(&mut self) -> Vec<Vec<f64>> {
        let n = self.n;
        self.steps = (0..self.lambda)
            .map(|_| {
                let z: Vec<f64> = (0..n)
                    .map(|_| StandardNormal.sample(&mut self.rng))
                    .collect();
                (0..n)
                    .map(|i| (0..n).map(|j| self.b[i][j] * self.d[j] * z[j]).sum())
                    .collect()
            })
            .collect();
        self.steps
            .iter()
            .map(|y| {
                self.mean
                    .iter()
                    .zip(y)
                    .map(|(m, s)| m + self.sigma * s)
                    .collect()
            })
            .collect()
    }

    /// Report the ranking of the last generation: `order[0]` is the index of the best
    /// candidate, and so on (at least `lambda / 2` entries are used).
    pub fn tell(&mut self, order: &[usize]) {
        let n = self.n;
        let selected: Vec<&Vec<f64>> = order
            .iter()
            .take(self.weights.len())
            .map(|&k| &self.steps[k])
            .collect();
        let ymean: Vec<f64> = (0..n)
            .map(|i| {
                selected
                    .iter()
                    .zip(&self.weights)
                    .map(|(y, w)| w * y[i])
                    .sum()
            })
            .collect();
        for (m, y) in self.mean.iter_mut().zip(&ymean) {
            *m += self.sigma * y;
        }
        // C^(-1/2) ymean = B D^-1 B' ymean.
        let bt_y: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|i| self.b[i][j] * ymean[i]).sum::<f64>() / self.d[j])
            .collect();
        let inv_sqrt_y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| self.b[i][j] * bt_y[j]).sum())
            .collect();
        let ks = (self.cs * (2.0 - self.cs) * self.mueff).sqrt();
        for (p, v) in self.ps.iter_mut().zip(&inv_sqrt_y) {
            *p = (1.0 - self.cs) * *p + ks * v;
        }
        let ps_norm = self.ps.iter().map(|x| x * x).sum::<f64>().sqrt();
        self.generation += 1;
        let decay = 1.0 - (1.0 - self.cs).powi(2 * self.generation as i32);
        let hsig = ps_norm / decay.sqrt() / self.chi_n < 1.4 + 2.0 / (n as f64 + 1.0);
        let kc = f64::from(u8::from(hsig)) * (self.cc * (2.0 - self.cc) * self.mueff).sqrt();
        for (p, y) in self.pc.iter_mut().zip(&ymean) {
            *p = (1.0 - self.cc) * *p + kc * y;
        }
        let old_weight = 1.0 - self.c1 - self.cmu
            + if hsig {
                0.0
            } else {
                self.c1 * self.cc * (2.0 - self.cc)
            };
        for i in 0..n {
            for j in 0..n {
                let rank_mu: f64 = selected
                    .iter()
                    .zip(&self.weights)
                    .map(|(y, w)| w * y[i] * y[j])
                    .sum();
                self.c[i][j] = old_weight * self.c[i][j]
                    + self.c1 * self.pc[i] * self.pc[j]
                    + self.cmu * rank_mu;
            }
        }
        self.sigma *= ((self.cs / self.damps) * (ps_norm / self.chi_n - 1.0)).exp();
        let (values, vectors) = jacobi_eigen(&self.c);
        self.d = values.iter().map(|v| v.max(1e-20).sqrt()).collect();
        self.b = vectors;
    }
}

/// Eigenvalues and eigenvectors (as columns) of a symmetric matrix by cyclic Jacobi
/// rotations: exact to rounding for the handful of dimensions a design has.
pub fn jacobi_eigen(m: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (row_p, row_q) = (a[p].clone(), a[q].clone());
                for (k, (apk, aqk)) in row_p.iter().zip(&row_q).enumerate() {
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimise `f` from `x0`; returns (best value, best point, evaluations used).
    fn minimise(
        f: impl Fn(&[f64]) -> f64,
        x0: Vec<f64>,
        sigma: f64,
        budget: usize,
        target: f64,
    ) -> (f64, Vec<f64>, usize) {
        let lambda = default_lambda(x0.len());
        let mut es = Cmaes::new(x0.clone(), sigma, lambda, 7);
        let mut best = (f(&x0), x0, 1);
        let mut used = 1;
        while used < budget && best.0 > target {
            let xs = es.ask();
            let fs: Vec<f64> = xs.iter().map(|x| f(x)).collect();
            used += xs.len();
            let mut order: Vec<usize> = (0..xs.len()).collect();
            order.sort_by(|a, b| fs[*a].total_cmp(&fs[*b]));
            if fs[order[0]] < best.0 {
                best = (fs[order[0]], xs[order[0]].clone(), used);
            }
            es.tell(&order);
        }
        best
    }

    #[test]
    fn sphere_converges() {
        let sphere = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
        let (f, x, used) = minimise(sphere, vec![3.0; 6], 2.0, 20_000, 1e-10);
        assert!(f < 1e-10, "sphere 6-D: f = {f} at {x:?}");
        // Hansen's figures: about 1,000-1,500 evaluations for 6-D sphere to 1e-10.
        assert!(used < 3_000, "sphere took {used} evaluations");
    }

    #[test]
    fn rosenbrock_converges() {
        let rosen = |x: &[f64]| {
            x.windows(2)
                .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
                .sum::<f64>()
        };
        let (f, x, used) = minimise(rosen, vec![-1.0; 4], 0.5, 20_000, 1e-10);
        assert!(f < 1e-10, "Rosenbrock 4-D: f = {f} at {x:?} after {used}");
        for v in &x {
            assert!((v - 1.0).abs() < 1e-4, "optimum is (1,1,1,1): {x:?}");
        }
    }

    #[test]
    fn ill_conditioned_ellipsoid_is_learned() {
        // Axis scales 1 to 1000: plain random search would stall; the covariance learns it.
        let ell = |x: &[f64]| {
            x.iter()
                .enumerate()
                .map(|(i, v)| 1e6_f64.powf(i as f64 / 3.0) * v * v)
                .sum::<f64>()
        };
        let (f, _, used) = minimise(ell, vec![1.0; 4], 1.0, 20_000, 1e-8);
        assert!(f < 1e-8, "ellipsoid: f = {f} after {used}");
    }

    #[test]
    fn same_seed_same_candidates() {
        let mut a = Cmaes::new(vec![0.5, 0.5], 0.3, 6, 11);
        let mut b = Cmaes::new(vec![0.5, 0.5], 0.3, 6, 11);
        let (xa, xb) = (a.ask(), b.ask());
        assert_eq!(xa, xb);
        a.tell(&[3, 1, 0, 2, 4, 5]);
        b.tell(&[3, 1, 0, 2, 4, 5]);
        assert_eq!(a.ask(), b.ask());
        let mut c = Cmaes::new(vec![0.5, 0.5], 0.3, 6, 12);
        assert_ne!(c.ask(), xa);
    }

    #[test]
    fn jacobi_diagonalises() {
        let m = vec![
            vec![4.0, 1.0, 0.5],
            vec![1.0, 3.0, 0.2],
            vec![0.5, 0.2, 1.0],
        ];
        let (vals, vecs) = jacobi_eigen(&m);
        for k in 0..3 {
            for i in 0..3 {
                let mv: f64 = (0..3).map(|j| m[i][j] * vecs[j][k]).sum();
                assert!((mv - vals[k] * vecs[i][k]).abs() < 1e-10);
            }
        }
    }
}

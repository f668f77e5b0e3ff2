//! Summary statistics across Monte Carlo replicates.
//!
//! The 95% confidence interval of a mean uses Student's t with n - 1 degrees of freedom,
//! because replicate counts are often small (10 to 50). Undefined values (one replicate, a
//! metric undefined in every replicate) are `None`, written as JSON `null`, never NaN.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, standard deviation and 95% CI of the mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean over the replicates where the value is defined.
    pub mean: Option<f64>,
    /// Sample standard deviation (n - 1); `None` with fewer than 2 values.
    pub sd: Option<f64>,
    /// 95% CI of the mean; `None` with fewer than 2 values.
    pub ci95: Option<[f64; 2]>,
    /// Number of replicates where the value is defined.
    pub n: usize,
}

/// Mean with a 5%-95% band across replicates (for time series).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Mean.
    pub mean: Option<f64>,
    /// 5% quantile.
    pub p05: Option<f64>,
    /// 95% quantile.
    pub p95: Option<f64>,
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Summarise the defined values of `xs`.
pub fn summarize(xs: &[Option<f64>]) -> Summary {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    let n = v.len();
    if n == 0 {
        return Summary {
            mean: None,
            sd: None,
            ci95: None,
            n,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Summary {
            mean: Some(mean),
            sd: None,
            ci95: None,
            n,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    Summary {
        mean: Some(mean),
        sd: Some(sd),
        ci95: Some([mean - half, mean + half]),
        n,
    }
}

/// Quantile `q` of sorted values, linear interpolation between order statistics (type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Mean and 5%/95% quantiles of the defined values.
pub fn band(xs: &[Option<f64>]) -> Band {
    let mut v: Vec<f64> = xs.iter().flatten().copied().collect();
    if v.is_empty() {
        return Band {
            mean: None,
            p05: None,
            p95: None,
        };
    }
    v.sort_by(f64::total_cmp);
    Band {
        mean: Some(v.iter().sum::<f64>() / v.len() as f64),
        p05: quantile_sorted(&v, 0.05),
        p95: quantile_sorted(&v, 0.95),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_hand_computation() {
        let s = summarize(&[Some(1.0), Some(2.0), Some(3.0), None]);
        assert_eq!(s.mean, Some(2.0));
        assert_eq!(s.sd, Some(1.0));
        // t(0.975, 2) = 4.302653
        let [lo, hi] = s.ci95.unwrap();
        assert!((hi - 2.0 - 4.302653 / 3f64.sqrt()).abs() < 1e-5);
        assert!((2.0 - lo - 4.302653 / 3f64.sqrt()).abs() < 1e-5);
        assert_eq!(summarize(&[Some(5.0)]).sd, None);
        assert_eq!(summarize(&[None]).mean, None);
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(3.0));
        assert_eq!(quantile_sorted(&v, 0.05), Some(1.2));
    }
}

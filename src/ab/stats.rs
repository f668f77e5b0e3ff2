//! Pure statistics for A/B tests: distributions, tests, intervals, Bayesian comparisons,
//! multiple-testing corrections, sample ratio mismatch, sample-size formulas and the
//! mixture sequential probability ratio test.
//!
//! Nothing here knows about files, CSV or simulation, so every function can be reused and
//! tested alone (issue 6, "Statistics live in their own module"). A quantity that is not
//! defined for the data (zero variance, a control mean of 0) comes back as
//! `Err(Undefined(reason))`, never as NaN or infinity, and no function panics on valid
//! counts.
//!
//! Sources of the formulas:
//! - pooled two-proportion z-test and unpooled Wald interval: Agresti, *Categorical Data
//!   Analysis* (3rd ed. 2013), §3.1; Newcombe (1998), *Stat. Med.* 17(8);
//! - delta method for a ratio of independent means: Casella & Berger, *Statistical
//!   Inference* (2nd ed.), §5.5.4; as used for relative lift by Deng, Knoblich & Lu (2018),
//!   "Applying the delta method in metric analytics", KDD;
//! - Welch's t-test and the Welch–Satterthwaite degrees of freedom: Welch (1947),
//!   *Biometrika* 34; Satterthwaite (1946), *Biometrics Bulletin* 2(6);
//! - exact P(Beta > Beta) as a finite sum: Cook (2005), "Exact calculation of beta
//!   inequalities", MD Anderson tech. report; expected loss: Stucchio (2015), "Bayesian A/B
//!   testing at VWO";
//! - Holm (1979), *Scand. J. Statist.* 6(2); Benjamini & Hochberg (1995), *JRSS B* 57(1);
//! - sample size with the pooled variance under the null and the unpooled one under the
//!   alternative: Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*
//!   (3rd ed. 2003), eq. 4.14 without continuity correction;
//! - mSPRT with a normal mixture: Johari, Koomen, Pekelis & Walsh (2022), "Always valid
//!   inference", *Operations Research* 70(3), eq. (11) and Proposition 3; its inversion as a
//!   confidence sequence: Howard, Ramdas, McAuliffe & Sekhon (2021), *Ann. Statist.* 49(2).

use std::f64::consts::SQRT_2;

use statrs::function::{beta::beta_reg, erf, gamma::gamma_ur};

/// Why a statistic is undefined for the data at hand (reported in JSON as the reason next
/// to a `null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undefined(pub String);

impl Undefined {
    fn new(reason: impl Into<String>) -> Self {
        Undefined(reason.into())
    }
}

impl std::fmt::Display for Undefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A statistic, or the reason it is undefined.
pub type Defined<T> = Result<T, Undefined>;

// ---------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------

/// Standard normal CDF Φ(z) = erfc(−z/√2)/2 (accurate in both tails).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erf::erfc(-z / SQRT_2)
}

/// Standard normal survival function 1 − Φ(z), computed without cancellation.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erf::erfc(z / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) for p in (0, 1); ±infinity at 0 and 1.
pub fn normal_quantile(p: f64) -> f64 {
    -SQRT_2 * erf::erfc_inv(2.0 * p)
}

/// Two-sided p-value of a standard normal statistic: 2(1 − Φ(|z|)).
pub fn normal_two_sided_p(z: f64) -> f64 {
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// Student t survival function P(T > t) with `df` > 0 degrees of freedom, through the
/// regularised incomplete beta function: P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        // Undefined inputs (a zero or overflowing variance) give an undefined tail, which the
        // callers report as such, never a panic inside the incomplete beta function.
        return f64::NAN;
    }
    if df > 1e7 {
        return normal_sf(t);
    }
    let x = (df / (df + t * t)).clamp(0.0, 1.0);
    let tail = 0.5 * beta_reg(df / 2.0, 0.5, x);
    if t >= 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// Two-sided p-value of a t statistic.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    (2.0 * t_sf(t.abs(), df)).min(1.0)
}

/// Student t quantile for p in (0, 1) with `df` > 0: bisection on [`t_sf`] (robust for any df;
/// about 60 evaluations, only called once per comparison).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if df > 1e7 {
        return normal_quantile(p);
    }
    if p == 0.5 {
        return 0.0;
    }
    let upper = p > 0.5;
    let tail = if upper { 1.0 - p } else { p };
    // Find t > 0 with t_sf(t) = tail.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_sf(hi, df) > tail && hi < 1e300 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_sf(mid, df) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    let t = 0.5 * (lo + hi);
    if upper {
        t
    } else {
        -t
    }
}

/// Chi-square survival function P(X > x) with `df` degrees of freedom: Q(df/2, x/2).
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        1.0
    } else {
        gamma_ur(df / 2.0, x / 2.0)
    }
}

// ---------------------------------------------------------------------------------------
// Conversion (proportions)
// ---------------------------------------------------------------------------------------

/// A test statistic with its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The statistic (z or t).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Pooled two-proportion z-test of H0: p_t = p_c.
///
/// z = (p̂_t − p̂_c) / √(p̂(1 − p̂)(1/n_c + 1/n_t)), p̂ = (x_c + x_t)/(n_c + n_t).
/// Undefined when the pooled rate is 0 or 1 (no variance under the null).
pub fn pooled_z_test(x_c: u64, n_c: u64, x_t: u64, n_t: u64) -> Defined<TestResult> {
    if n_c == 0 || n_t == 0 {
        return Err(Undefined::new("an arm has no visitors"));
    }
    let (nc, nt) = (n_c as f64, n_t as f64);
    let pooled = (x_c + x_t) as f64 / (nc + nt);
    if x_c + x_t == 0 {
        return Err(Undefined::new(
            "no conversions in either arm: the pooled variance is 0",
        ));
    }
    if x_c + x_t == n_c + n_t {
        return Err(Undefined::new(
            "every visitor converted in both arms: the pooled variance is 0",
        ));
    }
    let se = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt)).sqrt();
    let z = (x_t as f64 / nt - x_c as f64 / nc) / se;
    Ok(TestResult {
        statistic: z,
        p_value: normal_two_sided_p(z),
    })
}

/// Variance of a sample proportion x/n: p̂(1 − p̂)/n.
pub fn proportion_variance(x: u64, n: u64) -> f64 {
    let p = x as f64 / n as f64;
    p * (1.0 - p) / n as f64
}

/// Unpooled Wald interval for p_t − p_c at confidence `level`:
/// (p̂_t − p̂_c) ± z_{(1+level)/2} √(p̂_c(1 − p̂_c)/n_c + p̂_t(1 − p̂_t)/n_t).
/// Undefined when both arms have rate 0 or 1 (zero standard error).
pub fn wald_diff_ci(x_c: u64, n_c: u64, x_t: u64, n_t: u64, level: f64) -> Defined<[f64; 2]> {
    if n_c == 0 || n_t == 0 {
        return Err(Undefined::new("an arm has no visitors"));
    }
    let se = (proportion_variance(x_c, n_c) + proportion_variance(x_t, n_t)).sqrt();
    if se == 0.0 {
        return Err(Undefined::new(
            "both arms have a rate of 0 or 1: the standard error is 0",
        ));
    }
    let diff = x_t as f64 / n_t as f64 - x_c as f64 / n_c as f64;
    let h = normal_quantile(0.5 + level / 2.0) * se;
    Ok([diff - h, diff + h])
}

/// Relative lift m_t/m_c − 1 and its delta-method interval for two independent means.
#[derive(Debug, Clone, PartialEq)]
pub struct RelativeLift {
    /// m_t / m_c − 1.
    pub lift: Defined<f64>,
    /// Confidence interval of the lift.
    pub ci: Defined<[f64; 2]>,
}

/// Relative lift with a delta-method interval.
///
/// `var_c` and `var_t` are the variances of the two *means* (for a proportion p̂(1−p̂)/n,
/// for a mean s²/n). First-order delta method for the ratio of independent estimates:
/// Var(m_t/m_c) ≈ var_t/m_c² + m_t² var_c/m_c⁴; interval lift ± z √Var.
pub fn relative_lift(m_c: f64, var_c: f64, m_t: f64, var_t: f64, level: f64) -> RelativeLift {
    if m_c.abs() < f64::MIN_POSITIVE || !m_c.is_finite() {
        let why = "the control mean is 0: a lift relative to it is undefined";
        return RelativeLift {
            lift: Err(Undefined::new(why)),
            ci: Err(Undefined::new(why)),
        };
    }
    let lift = m_t / m_c - 1.0;
    let var = var_t / (m_c * m_c) + m_t * m_t * var_c / (m_c * m_c * m_c * m_c);
    let ci = if var > 0.0 && var.is_finite() {
        let h = normal_quantile(0.5 + level / 2.0) * var.sqrt();
        Ok([lift - h, lift + h])
    } else {
        Err(Undefined::new(
            "both means have zero variance: the delta-method interval is degenerate",
        ))
    };
    RelativeLift { lift: Ok(lift), ci }
}

// ---------------------------------------------------------------------------------------
// Bayesian Beta-Binomial
// ---------------------------------------------------------------------------------------

fn log_add(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

/// Most terms the exact sum may take before the quadrature takes over.
const EXACT_SUM_MAX_TERMS: u64 = 20_000;

/// lnΓ(x + h) − lnΓ(x) for x, h > 0, accurate to a few ulps of the result even when x is
/// 10⁹ (where lnΓ(x) itself, about 2·10¹⁰, carries an absolute rounding error of 10⁻⁶):
/// Stirling's series with the leading terms rearranged around ln1p(h/x).
fn ln_gamma_diff(x: f64, h: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    if x < 10.0 {
        return ln_gamma(x + h) - ln_gamma(x);
    }
    // δ(z) = lnΓ(z) − [(z − ½) ln z − z + ½ ln 2π], the Stirling correction (error < 1e-17
    // for z ≥ 10 with these terms).
    let delta = |z: f64| {
        let z2 = z * z;
        (1.0 / 12.0
            - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * z2)) / z2) / z2) / z2)
            / z
    };
    (x - 0.5) * (h / x).ln_1p() + h * (x + h).ln() - h + delta(x + h) - delta(x)
}

/// P(Y > X) for X ~ Beta(a, b), Y ~ Beta(c, d) with `c` a positive integer, as the finite
/// sum Σ_{i=0}^{c−1} B(a+i, b+d) / ((d+i) B(1+i, d) B(a, b)) (Cook 2005). The terms follow
/// t_{i+1}/t_i = (a+i)(d+i)/((a+b+d+i)(1+i)), summed in log space so that none underflows,
/// from a first term computed stably (see [`ln_gamma_diff`]):
/// ln t₀ = ln B(a, b+d) − ln B(a, b) = [lnΓ(a+b) − lnΓ(b)] − [lnΓ(a+b+d) − lnΓ(b+d)].
fn beta_gt_exact(a: f64, b: f64, c: u64, d: f64) -> f64 {
    let mut ln_t = ln_gamma_diff(b, a) - ln_gamma_diff(b + d, a);
    let mut ln_sum = f64::NEG_INFINITY;
    for i in 0..c {
        ln_sum = log_add(ln_sum, ln_t);
        let fi = i as f64;
        ln_t += ((a + fi) * (d + fi)).ln() - ((a + b + d + fi) * (1.0 + fi)).ln();
    }
    ln_sum.exp().clamp(0.0, 1.0)
}

/// (P(Y > X), P(X > Y)) for X ~ Beta(a, b), Y ~ Beta(c, d), positive integer parameters.
///
/// The smaller of the two is always computed directly, never as 1 − (something close to
/// 1), so a probability to beat of 1 − 10⁻³⁰ keeps its tail to full relative precision
/// (issue 16). By the symmetries P(Y > X) = 1 − P(X > Y) and 1 − X ~ Beta(b, a), the exact
/// sum for P(Y > X) can run over c or b, and for P(X > Y) over a or d; when the shorter of
/// the two is longer than [`EXACT_SUM_MAX_TERMS`] (millions of conversions), Gauss–Legendre
/// quadrature of the posterior densities takes over ([`beta_tails_quadrature`]).
pub fn beta_tails(a: u64, b: u64, c: u64, d: u64) -> (f64, f64) {
    let (af, bf, cf, df) = (a as f64, b as f64, c as f64, d as f64);
    let y_higher = cf / (cf + df) > af / (af + bf);
    if y_higher {
        // P(X > Y) is the small one.
        let small = if a.min(d) > EXACT_SUM_MAX_TERMS {
            return beta_tails_quadrature(af, bf, cf, df);
        } else if a <= d {
            beta_gt_exact(cf, df, a, bf)
        } else {
            beta_gt_exact(bf, af, d, cf)
        };
        (1.0 - small, small)
    } else {
        let small = if c.min(b) > EXACT_SUM_MAX_TERMS {
            return beta_tails_quadrature(af, bf, cf, df);
        } else if c <= b {
            beta_gt_exact(af, bf, c, df)
        } else {
            beta_gt_exact(df, cf, b, af)
        };
        (small, 1.0 - small)
    }
}

/// P(Y > X) for X ~ Beta(a, b), Y ~ Beta(c, d) with all four parameters positive integers
/// (see [`beta_tails`]).
pub fn prob_beta_greater(a: u64, b: u64, c: u64, d: u64) -> f64 {
    beta_tails(a, b, c, d).0
}

/// 10-point Gauss–Legendre nodes (positive half) and weights on [−1, 1].
const GL_X: [f64; 5] = [
    0.148_874_338_981_631_2,
    0.433_395_394_129_247_2,
    0.679_409_568_299_024_4,
    0.865_063_366_688_984_5,
    0.973_906_528_517_171_7,
];
const GL_W: [f64; 5] = [
    0.295_524_224_714_752_9,
    0.269_266_719_309_996_4,
    0.219_086_362_515_982,
    0.149_451_349_150_580_6,
    0.066_671_344_308_688_1,
];

fn gauss_legendre(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    let (m, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    GL_X.iter()
        .zip(GL_W)
        .map(|(x, w)| w * (f(m - r * x) + f(m + r * x)))
        .sum::<f64>()
        * r
}

/// A Beta(a, b) posterior for quadrature: its density relative to the value at the mean,
/// exp((a−1) ln(t/μ) + (b−1) ln((1−t)/(1−μ))), written with ln1p of (t − μ) so that it
/// stays accurate for a, b of 10⁹ (no lnΓ of huge arguments), and normalised numerically
/// on the same panels the integrals use.
struct BetaPanels {
    a: f64,
    b: f64,
    mean: f64,
    /// Mass of each panel (unnormalised), and prefix and suffix sums, so each tail is a
    /// sum of its own small terms (no 1 − F).
    mass: Vec<f64>,
    below: Vec<f64>,
    above: Vec<f64>,
    total: f64,
}

impl BetaPanels {
    fn new(a: f64, b: f64, edges: &[f64]) -> Self {
        let mean = a / (a + b);
        let mut s = BetaPanels {
            a,
            b,
            mean,
            mass: Vec::new(),
            below: Vec::new(),
            above: Vec::new(),
            total: 0.0,
        };
        s.mass = edges
            .windows(2)
            .map(|e| gauss_legendre(e[0], e[1], |t| s.u(t)))
            .collect();
        let mut acc = 0.0;
        s.above = vec![0.0; s.mass.len() + 1];
        for k in (0..s.mass.len()).rev() {
            acc += s.mass[k];
            s.above[k] = acc;
        }
        s.total = acc;
        let mut acc = 0.0;
        s.below = vec![0.0; s.mass.len() + 1];
        for k in 0..s.mass.len() {
            s.below[k] = acc;
            acc += s.mass[k];
        }
        s.below[s.mass.len()] = acc;
        s
    }

    fn u(&self, t: f64) -> f64 {
        let dt = t - self.mean;
        ((self.a - 1.0) * (dt / self.mean).ln_1p()
            + (self.b - 1.0) * (-dt / (1.0 - self.mean)).ln_1p())
        .exp()
    }

    /// Density at t.
    fn pdf(&self, t: f64) -> f64 {
        self.u(t) / self.total
    }

    /// P(X ≤ t) for t in panel k (left tail summed from the left: accurate when tiny).
    fn cdf(&self, t: f64, k: usize, edges: &[f64]) -> f64 {
        (self.below[k] + gauss_legendre(edges[k], t, |s| self.u(s))) / self.total
    }

    /// P(X > t) for t in panel k (right tail from the suffix sums).
    fn sf(&self, t: f64, k: usize, edges: &[f64]) -> f64 {
        (self.above[k + 1] + gauss_legendre(t, edges[k + 1], |s| self.u(s))) / self.total
    }
}

/// (P(Y > X), P(X > Y)) and E[max(X − Y, 0)] by quadrature, for large posteriors.
///
/// P(X > Y) = ∫ f_Y(t) S_X(t) dt, P(Y > X) = ∫ f_Y(t) F_X(t) dt and
/// E[max(X − Y, 0)] = ∫ F_Y(t) S_X(t) dt (from (X − Y)⁺ = ∫ 1{Y < t < X} dt). Panels one
/// posterior sd wide (at most 4000) over both posteriors ± 40 sd, 10-point Gauss–Legendre
/// on each panel and on the partial panel of every CDF: relative error below 10⁻¹² for
/// these near-Gaussian integrands. Posteriors more than 40 sd apart are decided exactly.
fn beta_quadrature(a: f64, b: f64, c: f64, d: f64) -> (f64, f64, f64) {
    let moments = |a: f64, b: f64| {
        let m = a / (a + b);
        (m, (m * (1.0 - m) / (a + b + 1.0)).sqrt())
    };
    let ((mx, sx), (my, sy)) = (moments(a, b), moments(c, d));
    if (mx - my).abs() > 40.0 * (sx + sy) {
        return if my > mx {
            (1.0, 0.0, 0.0)
        } else {
            (0.0, 1.0, mx - my)
        };
    }
    let lo = (mx - 40.0 * sx).min(my - 40.0 * sy).max(0.0);
    let hi = (mx + 40.0 * sx).max(my + 40.0 * sy).min(1.0);
    let panels = (((hi - lo) / sx.min(sy)).ceil() as usize).clamp(8, 4000);
    let edges: Vec<f64> = (0..=panels)
        .map(|i| lo + (hi - lo) * i as f64 / panels as f64)
        .collect();
    let (x, y) = (BetaPanels::new(a, b, &edges), BetaPanels::new(c, d, &edges));
    let (mut p_y_gt_x, mut p_x_gt_y, mut loss) = (0.0, 0.0, 0.0);
    for k in 0..panels {
        let (m, r) = (
            0.5 * (edges[k] + edges[k + 1]),
            0.5 * (edges[k + 1] - edges[k]),
        );
        for (gx, w) in GL_X.iter().zip(GL_W) {
            for t in [m - r * gx, m + r * gx] {
                let fy = y.pdf(t);
                let (fx_cdf, fx_sf) = (x.cdf(t, k, &edges), x.sf(t, k, &edges));
                p_y_gt_x += w * r * fy * fx_cdf;
                p_x_gt_y += w * r * fy * fx_sf;
                loss += w * r * y.cdf(t, k, &edges) * fx_sf;
            }
        }
    }
    (
        p_y_gt_x.clamp(0.0, 1.0),
        p_x_gt_y.clamp(0.0, 1.0),
        loss.max(0.0),
    )
}

fn beta_tails_quadrature(a: f64, b: f64, c: f64, d: f64) -> (f64, f64) {
    let (p, q, _) = beta_quadrature(a, b, c, d);
    // Keep the small tail as computed; the large one is its complement.
    if p < q {
        (p, 1.0 - p)
    } else {
        (1.0 - q, q)
    }
}

/// Bayesian comparison of two conversion rates under independent Beta(1, 1) priors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BayesComparison {
    /// P(p_t > p_c | data).
    pub prob_treatment_beats_control: f64,
    /// E[max(p_c − p_t, 0) | data]: the conversion rate given up, in expectation, by
    /// shipping the treatment (absolute rate units).
    pub expected_loss: f64,
}

/// Beta(1,1)-Binomial probability to beat and expected loss of choosing the treatment.
///
/// Posteriors X = p_c ~ Beta(1+x_c, 1+n_c−x_c), Y = p_t ~ Beta(1+x_t, 1+n_t−x_t).
/// E[max(X − Y, 0)] = E[X]·P(X⁺ > Y) − E[Y]·P(X > Y⁺), where X⁺ ~ Beta(α_X+1, β_X) and
/// Y⁺ ~ Beta(α_Y+1, β_Y) (size-biased posteriors; Stucchio 2015), each probability taken
/// from [`beta_tails`] so the small ones keep their precision; with millions of
/// conversions the loss is integrated directly ([`beta_quadrature`]).
pub fn bayes_beta_binomial(x_c: u64, n_c: u64, x_t: u64, n_t: u64) -> BayesComparison {
    let (a, b) = (1 + x_c, 1 + n_c - x_c);
    let (c, d) = (1 + x_t, 1 + n_t - x_t);
    let exact = a.min(b).min(c).min(d) <= EXACT_SUM_MAX_TERMS;
    let prob = beta_tails(a, b, c, d).0;
    let loss = if exact {
        let mean_x = a as f64 / (a + b) as f64;
        let mean_y = c as f64 / (c + d) as f64;
        let p_xplus_gt_y = beta_tails(a + 1, b, c, d).1;
        let p_x_gt_yplus = beta_tails(a, b, c + 1, d).1;
        (mean_x * p_xplus_gt_y - mean_y * p_x_gt_yplus).max(0.0)
    } else {
        beta_quadrature(a as f64, b as f64, c as f64, d as f64).2
    };
    BayesComparison {
        prob_treatment_beats_control: prob,
        expected_loss: loss,
    }
}

// ---------------------------------------------------------------------------------------
// Means (revenue per visitor)
// ---------------------------------------------------------------------------------------

/// Sample size, mean and unbiased sample variance of one arm's per-visitor values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Number of visitors.
    pub n: u64,
    /// Sample mean.
    pub mean: f64,
    /// Unbiased sample variance (n − 1 in the denominator); 0 when n < 2.
    pub variance: f64,
}

impl Moments {
    /// From a sum and a sum of squares over `n` values (aggregated input). The variance
    /// (Σx² − (Σx)²/n)/(n − 1) is clamped at 0 against rounding.
    pub fn from_sums(n: u64, sum: f64, sum_squares: f64) -> Self {
        if n == 0 {
            return Moments {
                n,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let nf = n as f64;
        let mean = sum / nf;
        let variance = if n > 1 {
            ((sum_squares - sum * mean) / (nf - 1.0)).max(0.0)
        } else {
            0.0
        };
        Moments { n, mean, variance }
    }

    /// Variance of the mean, s²/n.
    pub fn variance_of_mean(&self) -> f64 {
        self.variance / self.n as f64
    }
}

/// Result of Welch's unequal-variance t-test, with the interval of the difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// t = (m_t − m_c)/√(s_c²/n_c + s_t²/n_t).
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value from Student t with `df`.
    pub p_value: f64,
    /// (m_t − m_c) ± t_{df,(1+level)/2} · se.
    pub ci: [f64; 2],
}

/// Welch's t-test of H0: μ_t = μ_c.
///
/// df = (v_c + v_t)² / (v_c²/(n_c − 1) + v_t²/(n_t − 1)) with v = s²/n.
/// Undefined when an arm has fewer than 2 visitors or both variances are 0.
pub fn welch_test(c: &Moments, t: &Moments, level: f64) -> Defined<Welch> {
    if c.n < 2 || t.n < 2 {
        return Err(Undefined::new(
            "an arm has fewer than 2 visitors: its variance is unknown",
        ));
    }
    let (vc, vt) = (c.variance_of_mean(), t.variance_of_mean());
    let se2 = vc + vt;
    if se2 <= 0.0 || !se2.is_finite() {
        return Err(Undefined::new(
            "both arms have zero variance: the standard error is 0",
        ));
    }
    let se = se2.sqrt();
    let diff = t.mean - c.mean;
    let stat = diff / se;
    let df = se2 * se2 / (vc * vc / (c.n as f64 - 1.0) + vt * vt / (t.n as f64 - 1.0));
    let h = t_quantile(0.5 + level / 2.0, df) * se;
    Ok(Welch {
        t: stat,
        df,
        p_value: t_two_sided_p(stat, df),
        ci: [diff - h, diff + h],
    })
}

// ---------------------------------------------------------------------------------------
// Sums of a pair of per-visitor values: CUPED and ratio metrics (issue 16)
// ---------------------------------------------------------------------------------------

/// Sums over one arm's visitors of a pair of per-visitor values (y, x): Σy, Σy², Σx, Σx²,
/// Σxy. They add up exactly across rows in file order, so the streaming reader keeps five
/// numbers per pair and memory stays flat however long the file is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairSums {
    /// Visitors.
    pub n: u64,
    /// Σy.
    pub sy: f64,
    /// Σy².
    pub syy: f64,
    /// Σx.
    pub sx: f64,
    /// Σx².
    pub sxx: f64,
    /// Σxy.
    pub sxy: f64,
}

impl PairSums {
    /// Add one visitor's (y, x).
    #[inline]
    pub fn push(&mut self, y: f64, x: f64) {
        self.n += 1;
        self.sy += y;
        self.syy += y * y;
        self.sx += x;
        self.sxx += x * x;
        self.sxy += x * y;
    }

    /// Both arms together (for the pooled CUPED theta).
    pub fn joined(&self, o: &PairSums) -> PairSums {
        PairSums {
            n: self.n + o.n,
            sy: self.sy + o.sy,
            syy: self.syy + o.syy,
            sx: self.sx + o.sx,
            sxx: self.sxx + o.sxx,
            sxy: self.sxy + o.sxy,
        }
    }

    fn nf(&self) -> f64 {
        self.n as f64
    }

    /// Mean of y.
    pub fn mean_y(&self) -> f64 {
        self.sy / self.nf()
    }

    /// Mean of x.
    pub fn mean_x(&self) -> f64 {
        self.sx / self.nf()
    }

    /// Unbiased sample variance of y (n − 1), clamped at 0 against rounding.
    pub fn var_y(&self) -> f64 {
        ((self.syy - self.sy * self.sy / self.nf()) / (self.nf() - 1.0)).max(0.0)
    }

    /// Unbiased sample variance of x.
    pub fn var_x(&self) -> f64 {
        ((self.sxx - self.sx * self.sx / self.nf()) / (self.nf() - 1.0)).max(0.0)
    }

    /// Unbiased sample covariance of x and y.
    pub fn cov(&self) -> f64 {
        (self.sxy - self.sx * self.sy / self.nf()) / (self.nf() - 1.0)
    }
}

/// Result of a CUPED (regression-adjusted) comparison of means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuped {
    /// θ = Cov(y, x) / Var(x) over both arms together.
    pub theta: f64,
    /// Adjusted difference (ȳ_t − ȳ_c) − θ (x̄_t − x̄_c).
    pub diff: f64,
    /// Welch test on the adjusted values (statistic, df, p-value, interval).
    pub welch: Welch,
    /// 1 − Var(adjusted difference) / Var(unadjusted difference).
    pub variance_reduction: f64,
}

/// CUPED (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online controlled
/// experiments by utilizing pre-experiment data", WSDM): y' = y − θ x with θ from both arms
/// pooled (as GrowthBook's `compute_theta`), then Welch's test on y', whose per-arm variance
/// is Var(y) + θ² Var(x) − 2θ Cov(x, y) with unbiased (n − 1) estimates. The unadjusted
/// difference is the same Welch test with θ = 0, so `variance_reduction` compares like with
/// like.
pub fn cuped(c: &PairSums, t: &PairSums, level: f64) -> Defined<Cuped> {
    if c.n < 2 || t.n < 2 {
        return Err(Undefined::new(
            "an arm has fewer than 2 visitors: its variance is unknown",
        ));
    }
    let joint = c.joined(t);
    let vx = joint.var_x();
    if vx <= 0.0 {
        return Err(Undefined::new(
            "the covariate has zero variance: it cannot explain anything",
        ));
    }
    let theta = joint.cov() / vx;
    let adjusted = |a: &PairSums| Moments {
        n: a.n,
        mean: a.mean_y() - theta * a.mean_x(),
        variance: (a.var_y() + theta * theta * a.var_x() - 2.0 * theta * a.cov()).max(0.0),
    };
    let (mc, mt) = (adjusted(c), adjusted(t));
    let welch = welch_test(&mc, &mt, level)?;
    let raw = c.var_y() / c.nf() + t.var_y() / t.nf();
    let adj = mc.variance_of_mean() + mt.variance_of_mean();
    let variance_reduction = if raw > 0.0 { 1.0 - adj / raw } else { 0.0 };
    Ok(Cuped {
        theta,
        diff: mt.mean - mc.mean,
        welch,
        variance_reduction,
    })
}

/// A ratio metric Σnum/Σden of one arm with the delta-method variance of the ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioEstimate {
    /// Σnum / Σden.
    pub value: f64,
    /// Per-visitor variance of the linearised ratio: Var(n)/μd² − 2 μn Cov/μd³ + μn² Var(d)/μd⁴
    /// (so the variance of `value` is this over the visitors).
    pub unit_variance: f64,
    /// Visitors.
    pub n: u64,
}

/// Delta-method ratio of means (Deng, Knoblich & Lu 2018, KDD, eq. 3; GrowthBook's
/// `RatioStatistic`). `s.sy` is the numerator, `s.sx` the denominator.
pub fn ratio_estimate(s: &PairSums) -> Defined<RatioEstimate> {
    if s.n < 2 {
        return Err(Undefined::new(
            "an arm has fewer than 2 visitors: its variance is unknown",
        ));
    }
    let (mn, md) = (s.mean_y(), s.mean_x());
    if md.abs() < f64::MIN_POSITIVE {
        return Err(Undefined::new(
            "the denominator sums to 0 in an arm: the ratio is undefined",
        ));
    }
    let v = s.var_y() / (md * md) - 2.0 * s.cov() * mn / (md * md * md)
        + mn * mn * s.var_x() / (md * md * md * md);
    Ok(RatioEstimate {
        value: mn / md,
        unit_variance: v.max(0.0),
        n: s.n,
    })
}

impl RatioEstimate {
    /// As [`Moments`], so Welch's test applies to the ratio (GrowthBook does the same).
    pub fn moments(&self) -> Moments {
        Moments {
            n: self.n,
            mean: self.value,
            variance: self.unit_variance,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bayesian comparison of means with a Gaussian prior (GrowthBook's effect model)
// ---------------------------------------------------------------------------------------

/// Prior on the relative effect (treatment/control − 1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GaussianPrior {
    /// Prior mean of the relative effect.
    pub mean: f64,
    /// Prior standard deviation; `None` = flat (improper) prior.
    pub sd: Option<f64>,
}

/// Posterior of the relative effect and the decision quantities derived from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianBayes {
    /// Posterior mean of the relative effect.
    pub mean: f64,
    /// Posterior standard deviation.
    pub sd: f64,
    /// P(effect > 0).
    pub chance_to_win: f64,
    /// E[max(−effect, 0)]: relative loss expected from shipping the treatment.
    pub risk_treatment: f64,
    /// E[max(effect, 0)]: relative loss expected from keeping the control.
    pub risk_control: f64,
    /// Central credible interval at the requested level.
    pub ci: [f64; 2],
}

/// Normal-normal update on the relative effect, as GrowthBook's `EffectBayesianABTest`:
/// the data give the delta-method relative lift with variance
/// v = var_t/m_c² + m_t² var_c/m_c⁴; with a prior N(μ₀, σ₀²) the posterior precision is
/// 1/v + 1/σ₀² and the mean the precision-weighted average (flat prior: lift and v).
/// Risk is the mean of the loss, σ φ(μ/σ) − μ Φ(−μ/σ) and its mirror (closed form of the
/// truncated normal mean times its probability).
pub fn gaussian_bayes(
    m_c: f64,
    var_c: f64,
    m_t: f64,
    var_t: f64,
    prior: GaussianPrior,
    level: f64,
) -> Defined<GaussianBayes> {
    if m_c.abs() < f64::MIN_POSITIVE || !m_c.is_finite() {
        return Err(Undefined::new(
            "the control mean is 0: a relative effect is undefined",
        ));
    }
    let lift = (m_t - m_c) / m_c;
    let v = var_t / (m_c * m_c) + m_t * m_t * var_c / (m_c * m_c * m_c * m_c);
    if !(v > 0.0 && v.is_finite()) {
        return Err(Undefined::new(
            "both means have zero variance: the posterior is degenerate",
        ));
    }
    let (mean, prec) = match prior.sd {
        Some(sd) => {
            let p0 = 1.0 / (sd * sd);
            let prec = 1.0 / v + p0;
            ((lift / v + prior.mean * p0) / prec, prec)
        }
        None => (lift, 1.0 / v),
    };
    let sd = (1.0 / prec).sqrt();
    let z = mean / sd;
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let h = normal_quantile(0.5 + level / 2.0) * sd;
    Ok(GaussianBayes {
        mean,
        sd,
        chance_to_win: normal_cdf(z),
        risk_treatment: sd * pdf - mean * normal_cdf(-z),
        risk_control: sd * pdf + mean * normal_cdf(z),
        ci: [mean - h, mean + h],
    })
}

// ---------------------------------------------------------------------------------------
// Sequential analysis of live data: GrowthBook's asymptotic confidence sequence
// ---------------------------------------------------------------------------------------

/// Always-valid p-value and confidence sequence for a difference estimated as `diff` with
/// variance `var` from `n_total` visitors (both arms), in the asymptotic form of
/// Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2023), eqs. 9 and 155, as GrowthBook
/// computes it: with ρ² = (−2 ln α + ln(1 − 2 ln α)) / τ (τ the tuning parameter, the
/// sample size at which the sequence is tightest), s² = var·N,
/// half-width = s √(2(Nρ² + 1) ln(√(Nρ² + 1)/α) / (Nρ)²) and p = min(1, √(Nρ²+1) ·
/// exp(−ρ² N Δ²/(2 var (Nρ² + 1)))). Valid at every look, however many.
pub fn sequential_gb(
    diff: f64,
    var: f64,
    n_total: u64,
    alpha: f64,
    tuning: f64,
) -> ([f64; 2], f64) {
    let n = n_total as f64;
    let rho2 = (-2.0 * alpha.ln() + (1.0 - 2.0 * alpha.ln()).ln()) / tuning;
    let s2 = var * n;
    let nr1 = n * rho2 + 1.0;
    let half = (s2 * 2.0 * nr1 * (nr1.sqrt() / alpha).ln() / (n * n * rho2)).sqrt();
    let st2 = diff * diff * n / var;
    let ln_e = rho2 * st2 / (2.0 * nr1) - 0.5 * nr1.ln();
    let p = (-ln_e).exp().min(1.0);
    ([diff - half, diff + half], p)
}

// ---------------------------------------------------------------------------------------
// Sample ratio mismatch and multiple testing
// ---------------------------------------------------------------------------------------

/// Pearson chi-square test of the observed visitors per arm against the designed split.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Srm {
    /// Σ (observed − expected)² / expected.
    pub chi2: f64,
    /// Number of arms − 1.
    pub df: u64,
    /// P(χ²_df > chi2).
    pub p_value: f64,
    /// p < [`SRM_THRESHOLD`]: the split is unlikely to be the designed one.
    pub flagged: bool,
}

/// p-value below which a sample ratio mismatch is flagged (the industry convention used by
/// Optimizely, GrowthBook and Eppo; Fabijan et al. 2019, KDD).
pub const SRM_THRESHOLD: f64 = 0.001;

/// Sample ratio mismatch test. `weights` are positive and normalised here; `observed` and
/// `weights` have the same length of at least 2 (the caller validates).
pub fn srm_test(observed: &[u64], weights: &[f64]) -> Srm {
    let total: u64 = observed.iter().sum();
    let wsum: f64 = weights.iter().sum();
    let chi2: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let e = total as f64 * w / wsum;
            let d = o as f64 - e;
            d * d / e
        })
        .sum();
    let df = observed.len() as u64 - 1;
    let p_value = chi2_sf(chi2, df as f64);
    Srm {
        chi2,
        df,
        p_value,
        flagged: p_value < SRM_THRESHOLD,
    }
}

/// Holm's step-down adjusted p-values (same order as the input):
/// p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)) over the ascending order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
    let mut out = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Benjamini–Hochberg step-up adjusted p-values (q-values), same order as the input:
/// p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j) over the ascending order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
    let mut out = vec![0.0; m];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adj = (m as f64 * p[i] / (rank + 1) as f64).min(1.0);
        running = running.min(adj);
        out[i] = running;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Planning: sample size and power
// ---------------------------------------------------------------------------------------

/// Visitors in the control arm (unrounded) to detect p_c → p_t with a two-sided test at
/// `alpha` and `power`, the treatment arm having `ratio` × as many visitors (Fleiss 2003,
/// eq. 4.14 without continuity correction):
///
/// n_c = [z_{1−α/2} √(p̄ q̄ (1 + 1/k)) + z_{power} √(p_c q_c + p_t q_t / k)]² / (p_t − p_c)²,
/// p̄ = (p_c + k p_t)/(1 + k). For 10% → 11%, α = 0.05, power 0.8, k = 1: 14,750.8 → 14,751.
pub fn sample_size_proportions(p_c: f64, p_t: f64, alpha: f64, power: f64, ratio: f64) -> f64 {
    let k = ratio;
    let pbar = (p_c + k * p_t) / (1.0 + k);
    let za = normal_quantile(1.0 - alpha / 2.0);
    let zb = normal_quantile(power);
    let s0 = (pbar * (1.0 - pbar) * (1.0 + 1.0 / k)).sqrt();
    let s1 = (p_c * (1.0 - p_c) + p_t * (1.0 - p_t) / k).sqrt();
    let d = p_t - p_c;
    ((za * s0 + zb * s1) / d).powi(2)
}

/// Power of the pooled two-sided z-test with `n_c` control visitors and `ratio · n_c`
/// treatment visitors, under the same normal approximation as
/// [`sample_size_proportions`] (both rejection tails counted).
pub fn power_proportions(p_c: f64, p_t: f64, n_c: f64, alpha: f64, ratio: f64) -> f64 {
    let k = ratio;
    let pbar = (p_c + k * p_t) / (1.0 + k);
    let za = normal_quantile(1.0 - alpha / 2.0);
    let s0 = (pbar * (1.0 - pbar) * (1.0 + 1.0 / k)).sqrt();
    let s1 = (p_c * (1.0 - p_c) + p_t * (1.0 - p_t) / k).sqrt();
    let d = (p_t - p_c).abs() * n_c.sqrt();
    normal_cdf((d - za * s0) / s1) + normal_cdf((-d - za * s0) / s1)
}

/// Visitors in the control arm (unrounded) to detect a difference `delta` in means with a
/// common standard deviation `sd` (two-sided z approximation to the t-test):
/// n_c = (z_{1−α/2} + z_{power})² σ² (1 + 1/k) / δ².
pub fn sample_size_means(sd: f64, delta: f64, alpha: f64, power: f64, ratio: f64) -> f64 {
    let za = normal_quantile(1.0 - alpha / 2.0);
    let zb = normal_quantile(power);
    ((za + zb) * sd / delta).powi(2) * (1.0 + 1.0 / ratio)
}

/// Power for a difference in means under the same approximation as [`sample_size_means`].
pub fn power_means(sd: f64, delta: f64, n_c: f64, alpha: f64, ratio: f64) -> f64 {
    let za = normal_quantile(1.0 - alpha / 2.0);
    let se = sd * ((1.0 + 1.0 / ratio) / n_c).sqrt();
    let d = delta.abs() / se;
    normal_cdf(d - za) + normal_cdf(-d - za)
}

// ---------------------------------------------------------------------------------------
// Sequential: mSPRT / confidence sequence
// ---------------------------------------------------------------------------------------

/// Mixture likelihood ratio of the mSPRT for a difference of means estimated as `diff` with
/// variance `var` (the estimate's variance, e.g. p̂_c q̂_c/n_c + p̂_t q̂_t/n_t), mixing the
/// alternative over N(0, τ²) with τ² = `tau2`:
///
/// Λ = √(V/(V + τ²)) · exp(τ² Δ̂² / (2 V (V + τ²))) (Johari et al. 2022, eq. 11).
///
/// Returned as ln Λ to avoid overflow. Rejecting H0 the first time Λ ≥ 1/α keeps the
/// false-positive rate at most α however often one looks.
pub fn msprt_log_lambda(diff: f64, var: f64, tau2: f64) -> f64 {
    let vt = var + tau2;
    0.5 * (var / vt).ln() + tau2 * diff * diff / (2.0 * var * vt)
}

/// Half-width of the always-valid (1 − α) confidence sequence obtained by inverting
/// [`msprt_log_lambda`]: Δ̂ ± √(V (V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V))).
pub fn confidence_sequence_half_width(var: f64, tau2: f64, alpha: f64) -> f64 {
    let vt = var + tau2;
    (var * vt / tau2 * (2.0 * (1.0 / alpha).ln() + (vt / var).ln())).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_invert_cdfs() {
        for &p in &[1e-6, 0.025, 0.3, 0.5, 0.8, 0.975] {
            let err = (normal_cdf(normal_quantile(p)) - p).abs();
            // statrs erfc is good to ~2e-11 here, far beyond what p-values need.
            assert!(err < 1e-10, "p {p}: error {err:e}");
            for &df in &[1.0, 3.5, 30.0, 1e5] {
                let t = t_quantile(p, df);
                assert!((1.0 - t_sf(t, df) - p).abs() < 1e-10, "p {p} df {df}");
            }
        }
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
    }

    #[test]
    fn holm_and_bh_known_values() {
        let p = [0.01, 0.04, 0.03];
        let h = holm(&p);
        assert_eq!(h, vec![0.03, 0.06, 0.06]);
        let q = benjamini_hochberg(&p);
        assert!((q[0] - 0.03).abs() < 1e-15 && (q[1] - 0.04).abs() < 1e-15);
        assert!((q[2] - 0.04).abs() < 1e-15);
    }
}

//! What a customer's own history says about them: the closed-form posterior quantities of
//! BG/NBD, Pareto/NBD and gamma-gamma that `loyalsim fit --base` writes and that the
//! `[population.base]` customers are drawn from (issue 14).
//!
//! All times are in the purchase model's unit (weeks for the CDNOW fits); `x` is the number
//! of repeat purchases, `t_x` the time of the last one and `T` the time since the first
//! purchase, both from the first purchase.
//!
//! - BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): given
//!   (x, t_x, T) the joint posterior of (lambda, p) is a two-component mixture. Alive at T:
//!   lambda ~ Gamma(r + x, rate alpha + T), p ~ Beta(a, b + x); dropped out at t_x (x > 0
//!   only): lambda ~ Gamma(r + x, rate alpha + t_x), p ~ Beta(a + 1, b + x - 1). The weight
//!   of the first is P(alive) (their eq. in the technical note, lifetimes'
//!   `conditional_probability_alive`).
//! - Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note): alive at
//!   T, lambda ~ Gamma(r + x, rate alpha + T) and mu ~ Gamma(s, rate beta + T) independently,
//!   and the remaining lifetime is Exp(mu) (memoryless). P(alive) is the alive term of the
//!   likelihood over the whole likelihood.
//! - Gamma-gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): nu | x, mean spend z ~
//!   Gamma(p x + q, rate gamma + x z); E[order value | x, z] = p (gamma + x z) / (p x + q - 1).

use statrs::function::gamma::ln_gamma;

use super::models;

/// BG/NBD P(alive at T | x, t_x, T); parameters `[r, alpha, a, b]`.
pub fn bgnbd_p_alive(p: &[f64], x: f64, tx: f64, t: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    // ln of (dropped-out weight / alive weight), kept in logs so long histories stay finite.
    let ln_odds = a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + t).ln() - (alpha + tx).ln());
    1.0 / (1.0 + ln_odds.exp())
}

/// ln of the Pareto/NBD likelihood term of being alive at T (lifetime > T).
fn pareto_ln_alive(p: &[f64], x: f64, t: f64) -> f64 {
    let (r, alpha, s, beta) = (p[0], p[1], p[2], p[3]);
    ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() - (r + x) * (alpha + t).ln() + s * beta.ln()
        - s * (beta + t).ln()
}

/// Pareto/NBD P(alive at T | x, t_x, T); parameters `[r, alpha, s, beta]`.
pub fn pareto_p_alive(p: &[f64], x: f64, tx: f64, t: f64) -> f64 {
    let v = (pareto_ln_alive(p, x, t) - models::pareto_ll_one(p, x, tx, t)).exp();
    if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Pareto/NBD expected purchases in (T, T + h] given (x, t_x, T).
pub fn pareto_conditional(p: &[f64], x: f64, tx: f64, t: f64, h: f64) -> f64 {
    let (r, alpha, s, beta) = (p[0], p[1], p[2], p[3]);
    let rate = (r + x) / (alpha + t);
    // E over mu ~ Gamma(s, beta + T) of (1 - e^{-mu h}) / mu: its s = 1 limit is a log.
    let alive_mean = if (s - 1.0).abs() < 1e-9 {
        (beta + t) * ((beta + t + h) / (beta + t)).ln()
    } else {
        (beta + t) / (s - 1.0) * (1.0 - ((beta + t) / (beta + t + h)).powf(s - 1.0))
    };
    pareto_p_alive(p, x, tx, t) * rate * alive_mean
}

/// Which purchase model a parameter vector belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `[r, alpha, a, b]`.
    BgNbd,
    /// `[r, alpha, s, beta]`.
    ParetoNbd,
}

/// P(alive) under either model.
pub fn p_alive(m: Model, p: &[f64], x: f64, tx: f64, t: f64) -> f64 {
    match m {
        Model::BgNbd => bgnbd_p_alive(p, x, tx, t),
        Model::ParetoNbd => pareto_p_alive(p, x, tx, t),
    }
}

/// Expected purchases in (T, T + h] under either model.
pub fn conditional_purchases(m: Model, p: &[f64], x: f64, tx: f64, t: f64, h: f64) -> f64 {
    match m {
        Model::BgNbd => models::bgnbd_conditional(p, x, tx, t, h),
        Model::ParetoNbd => pareto_conditional(p, x, tx, t, h),
    }
}

/// Gamma-gamma E[order value | x repeat orders of mean value z]; parameters `[p, q, gamma]`.
/// Without repeat orders it is the population mean p gamma / (q - 1) (infinite for q <= 1).
pub fn gamma_gamma_mean(g: &[f64], x: f64, z: f64) -> f64 {
    let (p, q, gamma) = (g[0], g[1], g[2]);
    let (x, z) = if x > 0.0 && z > 0.0 {
        (x, z)
    } else {
        (0.0, 0.0)
    };
    if p * x + q <= 1.0 {
        return f64::INFINITY;
    }
    p * (gamma + x * z) / (p * x + q - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // P(alive) is the alive term of the BG/NBD likelihood over the whole likelihood: checked
    // against `models::bgnbd_ll_one`, written independently from FHL's eq. 6.
    #[test]
    fn bgnbd_p_alive_is_the_alive_share_of_the_likelihood() {
        let p = [0.2426, 4.4136, 0.7929, 2.4259];
        for (x, tx, t) in [(2.0, 30.43, 38.86), (1.0, 2.0, 30.0), (10.0, 35.0, 36.0)] {
            let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
            let ln_alive =
                ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) + ln_gamma(b + x)
                    - ln_gamma(b)
                    - ln_gamma(a + b + x)
                    - (r + x) * (alpha + t).ln();
            let want = (ln_alive - models::bgnbd_ll_one(&p, x, tx, t)).exp();
            let got = bgnbd_p_alive(&p, x, tx, t);
            assert!((got - want).abs() < 1e-12, "{got} {want}");
        }
        assert_eq!(bgnbd_p_alive(&p, 0.0, 0.0, 38.86), 1.0);
    }

    #[test]
    fn pareto_alive_is_a_probability_and_falls_with_silence() {
        let p = [0.55, 10.58, 0.61, 11.67];
        let recent = pareto_p_alive(&p, 4.0, 37.0, 38.0);
        let silent = pareto_p_alive(&p, 4.0, 5.0, 38.0);
        assert!(
            recent > silent && recent <= 1.0 && silent > 0.0,
            "{recent} {silent}"
        );
    }

    #[test]
    fn gamma_gamma_shrinks_towards_the_population_mean() {
        let g = [6.25, 3.74, 15.44];
        let pop = gamma_gamma_mean(&g, 0.0, 0.0);
        let one = gamma_gamma_mean(&g, 1.0, 100.0);
        let many = gamma_gamma_mean(&g, 50.0, 100.0);
        assert!(
            pop < one && one < many && many < 100.0,
            "{pop} {one} {many}"
        );
    }
}

//! `population.tenure = { years = N }`: a synthetic seasoned base for stores without data
//! (issue 14).
//!
//! Without tenure every synthetic day-0 customer is brand new: a purchase on day 0, alive,
//! with traits from the segment's prior. A real store's customer list is not like that: it
//! holds customers who arrived over the past years, some of whom have already left, and the
//! survivors are the loyal ones. With tenure each synthetic day-0 customer
//!
//! 1. keeps the traits drawn from the segment's prior (rate, dropout, spend: the same draws
//!    as without tenure);
//! 2. arrived (first purchase) at an age A ~ Uniform(0, N years) before day 0, drawn from the
//!    customer's own history stream;
//! 3. lived the segment's model over (-A, 0]; who is still alive at day 0 keeps buying from
//!    day 0 with no phantom day-0 purchase, who is not makes no purchase (counted as churned,
//!    like a `[population.base]` customer who left before day 0).
//!
//! The past is simulated exactly and in O(1) draws, so long tenures cost nothing:
//!
//! - BG/NBD: a customer dies at a repeat purchase with probability p, so the purchases that
//!   end the lifetime form a thinned Poisson process of rate lambda p, independent of the
//!   others. Alive at day 0 iff the first such event, Exp(1) / (lambda p), comes after A.
//!   After day 0 the process restarts by memorylessness, as the engine simulates it.
//! - Pareto/NBD: alive iff the lifetime e / mu exceeds A; the remaining lifetime
//!   e / mu - A is again exponential, so the engine's lifetime draw becomes e - mu A.
//!
//! `customers` then counts everyone who bought in the last N years (the store's customer
//! list), and the alive share at day 0 follows from the model:
//! P(alive at age A) = E[exp(-lambda p A)] = 2F1(r, a; a + b; -A / alpha)
//! (Euler's integral over p ~ Beta(a, b)), written through Pfaff's transformation as
//! (alpha / (alpha + A))^r 2F1(r, b; a + b; A / (alpha + A)) so its series converges;
//! Pareto/NBD: (beta / (beta + A))^s. The mean over A is reported with the results.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};

use super::{Customer, Dropout};
use crate::scenario::raw::RawTenure;
use crate::scenario::{Checker, PurchaseModel, Segment};
use crate::Result;

/// Longest tenure allowed: a century of history is already far beyond any store.
pub const MAX_YEARS: f64 = 100.0;

/// Days per year of tenure.
const YEAR_DAYS: f64 = 365.25;

/// Check `population.tenure`; its years (0 without the table).
pub(crate) fn validate(ck: &Checker, raw: Option<&RawTenure>) -> Result<f64> {
    let Some(t) = raw else {
        return Ok(0.0);
    };
    if !(t.years.is_finite() && (0.0..=MAX_YEARS).contains(&t.years)) {
        return Err(ck.err(
            "population.tenure.years",
            format!(
                "must be a number of years from 0 to {MAX_YEARS} (0: new customers with a purchase on day 0), got {}",
                t.years
            ),
        ));
    }
    Ok(t.years)
}

/// Age the synthetic day-0 customer `c` by a simulated past of up to `years` (see the module
/// doc). Two draws from `past`, always: the age, then the lifetime event (unused under
/// Pareto/NBD, whose lifetime is already part of the traits).
pub fn season<R: Rng + ?Sized>(c: &mut Customer, past: &mut R, years: f64) {
    let u: f64 = past.random();
    let age = u * years * YEAR_DAYS;
    let e: f64 = Exp1.sample(past);
    c.opening_purchase = false;
    match &mut c.dropout {
        Dropout::AfterPurchase { p } => {
            // First lifetime-ending purchase at Exp(1) / (lambda p) after arrival.
            c.alive = e > c.lambda * *p * age;
        }
        Dropout::Lifetime { mu, e: life } => {
            c.alive = *life > *mu * age;
            if c.alive {
                *life -= *mu * age;
            }
        }
    }
}

/// P(alive at age `age_days`) of a random new customer of `seg`: the closed forms of the
/// module doc.
pub fn p_alive_at_age(seg: &Segment, age_days: f64) -> f64 {
    match seg.purchase {
        PurchaseModel::BgNbd {
            r,
            alpha,
            a,
            b,
            unit,
        } => {
            let t = age_days / unit.days();
            (alpha / (alpha + t)).powf(r) * crate::fit::models::hyp2f1(r, b, a + b, t / (alpha + t))
        }
        PurchaseModel::ParetoNbd { s, beta, unit, .. } => {
            let t = age_days / unit.days();
            (beta / (beta + t)).powf(s)
        }
    }
}

/// Mean of `f(age)` for ages uniform over `years` (Simpson's rule on 200 intervals: the
/// integrands are smooth and monotone, so the error is far below Monte Carlo error).
pub fn mean_over_ages(years: f64, f: impl Fn(f64) -> f64) -> f64 {
    if years <= 0.0 {
        return f(0.0);
    }
    const N: usize = 200;
    let h = years * YEAR_DAYS / N as f64;
    let sum: f64 = (0..=N)
        .map(|i| {
            let w = if i == 0 || i == N {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * f(i as f64 * h)
        })
        .sum();
    sum * h / 3.0 / (years * YEAR_DAYS)
}

/// Expected alive share at day 0 of a segment's seasoned customers.
pub fn expected_alive_share(seg: &Segment, years: f64) -> f64 {
    mean_over_ages(years, |age| p_alive_at_age(seg, age))
}

/// Expected alive share at day 0 over all synthetic day-0 customers (segments by share).
pub fn population_alive_share(segments: &[Segment], years: f64) -> f64 {
    segments
        .iter()
        .map(|s| s.share * expected_alive_share(s, years))
        .sum()
}

/// One line for `check` and the reports.
pub fn describe(segments: &[Segment], customers: u64, years: f64) -> String {
    format!(
        "{customers} synthetic customers seasoned by {years} years of simulated history (arrivals uniform over the {years} years; {:.1}% expected alive at day 0, no day-0 purchase)",
        100.0 * population_alive_share(segments, years)
    )
}

/// The `tenure` block of summary.json: how the synthetic day-0 customers were seasoned.
pub fn summary_json(sc: &crate::scenario::Scenario) -> serde_json::Value {
    let pop = &sc.population;
    serde_json::json!({
        "years": pop.tenure_years,
        "customers": pop.customers,
        "expected_alive_share_day0": crate::report::round_reported(
            population_alive_share(&pop.segments, pop.tenure_years)
        ),
    })
}

/// The report header's note on seasoned customers ("" without tenure, so reports of other
/// scenarios keep their bytes).
pub fn report_note(sc: &crate::scenario::Scenario) -> String {
    let pop = &sc.population;
    if pop.tenure_years > 0.0 && pop.customers > 0 {
        format!(
            " (seasoned: {})",
            describe(&pop.segments, pop.customers, pop.tenure_years)
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simpson_mean_is_exact_for_polynomials() {
        let y = 2.0 * YEAR_DAYS;
        let m = mean_over_ages(2.0, |a| a * a);
        assert!((m - y * y / 3.0).abs() < 1e-9 * y * y);
    }
}

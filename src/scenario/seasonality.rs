//! Seasonality of purchase rates (issue 17): a segment's purchase hazard on day t is its
//! rate times a factor of the month or weekday t falls in. It applies to the control and
//! every design alike, so it shifts when customers buy, not what a program changes.
//!
//! Exact simulation of the time-varying hazard by a change of clock: the seasonal clock
//! S(t) = integral of the factor from day 0 to t is piecewise linear and increasing, so a
//! customer whose constant-rate process would use up a hazard budget of x days after day
//! t buys at S^-1(S(t) + x). No draw is added or moved (the same Exp(1) budgets as
//! without seasonality), so common random numbers hold, and a segment without
//! seasonality never calls this code (its bytes are unchanged).
//!
//! The factors are divided by their mean, so a year (a week) of the seasonal clock lasts
//! as long as a calendar one: seasonality moves purchases within the year and leaves the
//! yearly rate, the fitted model's mean, unchanged.

use serde::Deserialize;

use super::units::{show, Multiplier};
use super::Checker;
use crate::Result;

/// Days in the tool's year (day 0 is 1 January, as for `end-of-year` expiry).
const YEAR_DAYS: f64 = 365.25;

/// `seasonality = { by = "month", factors = [...] }` on a `[[population.segments]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeasonality {
    /// `"month"` or `"weekday"`.
    pub by: Cycle,
    /// One factor per month (12) or weekday (7), each in [0, 100].
    pub factors: Vec<Multiplier>,
}

/// What the factors follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cycle {
    /// 12 months of 365.25 / 12 days, from day 0 = 1 January (the tool's calendar).
    Month,
    /// 7 days: factor k applies to days d with floor(d) mod 7 = k (day 0's weekday first).
    Weekday,
}

impl Cycle {
    /// Name as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Month => "month",
            Cycle::Weekday => "weekday",
        }
    }

    fn pieces(self) -> usize {
        match self {
            Cycle::Month => 12,
            Cycle::Weekday => 7,
        }
    }

    fn days(self) -> f64 {
        match self {
            Cycle::Month => YEAR_DAYS,
            Cycle::Weekday => 7.0,
        }
    }
}

/// A validated seasonality: mean-normalised factors and the seasonal clock they define.
#[derive(Debug, Clone, PartialEq)]
pub struct Seasonality {
    /// What the factors follow.
    pub by: Cycle,
    /// The factors as used: the scenario's divided by their mean (so they average 1).
    pub factors: Vec<f64>,
    /// Seasonal days elapsed at the start of each piece of a cycle (one more entry than
    /// pieces: the last is a whole cycle's seasonal length).
    cumulative: Vec<f64>,
    /// Calendar days of one piece (a month or a day).
    piece_days: f64,
}

impl Seasonality {
    /// The seasonal clock S(t): days of purchase hazard at factor 1 from day 0 to day t.
    pub fn clock(&self, t: f64) -> f64 {
        let cycle = self.by.days();
        let q = (t / cycle).floor();
        let r = t - q * cycle;
        let n = self.factors.len();
        let k = ((r / self.piece_days) as usize).min(n - 1);
        let into = (r - k as f64 * self.piece_days).max(0.0);
        q * self.cumulative[n] + self.cumulative[k] + self.factors[k] * into
    }

    /// The day at which the seasonal clock reads `s` (the earliest, where factors are 0).
    pub fn day_at(&self, s: f64) -> f64 {
        let n = self.factors.len();
        let total = self.cumulative[n];
        let mut q = (s / total).floor();
        let mut r = s - q * total;
        if r >= total {
            q += 1.0;
            r -= total;
        } else if r < 0.0 {
            q -= 1.0;
            r += total;
        }
        // The last piece with positive hazard that starts at or before r.
        let k = (0..n)
            .rev()
            .find(|&k| self.factors[k] > 0.0 && self.cumulative[k] <= r)
            .unwrap_or(0);
        let into = ((r - self.cumulative[k]) / self.factors[k]).min(self.piece_days);
        q * self.by.days() + k as f64 * self.piece_days + into
    }

    /// The day a constant-rate process at `t` reaches a budget of `x` factor-1 days (never
    /// before `t`; infinite or NaN budgets pass through as in calendar time).
    pub fn advance(&self, t: f64, x: f64) -> f64 {
        if !x.is_finite() || !t.is_finite() {
            return t + x;
        }
        self.day_at(self.clock(t) + x).max(t)
    }

    /// Factor-1 days of hazard between calendar days `from` and `to`.
    pub fn elapsed(&self, from: f64, to: f64) -> f64 {
        self.clock(to) - self.clock(from)
    }

    /// The largest factor as used (for an upper estimate of purchases).
    pub fn max_factor(&self) -> f64 {
        self.factors.iter().copied().fold(0.0, f64::max)
    }

    /// One line for `check` and the report's assumptions.
    pub fn describe(&self) -> String {
        let f: Vec<String> = self.factors.iter().map(|x| format!("{x:.2}")).collect();
        format!(
            "purchase rates x {} factors [{}] (mean-normalised)",
            self.by.as_str(),
            f.join(", ")
        )
    }
}

/// Advance a constant-rate purchase process from day `t` by a budget of `x` factor-1 days:
/// `t + x` without seasonality (bit for bit), else on the seasonal clock.
#[inline]
pub fn advance(season: Option<&Seasonality>, t: f64, x: f64) -> f64 {
    match season {
        None => t + x,
        Some(s) => s.advance(t, x),
    }
}

/// Factor-1 days of hazard between `from` and `to`: `to - from` without seasonality.
#[inline]
pub fn elapsed(season: Option<&Seasonality>, from: f64, to: f64) -> f64 {
    match season {
        None => to - from,
        Some(s) => s.elapsed(from, to),
    }
}

/// Check a segment's `seasonality` (`field` is its path, e.g.
/// `population.segments[0].seasonality`): the number of factors the cycle needs and a
/// positive mean.
pub(crate) fn validate(ck: &Checker, field: &str, raw: &RawSeasonality) -> Result<Seasonality> {
    let n = raw.by.pieces();
    if raw.factors.len() != n {
        return Err(ck.err(
            format!("{field}.factors"),
            format!(
                "by = \"{}\" needs {n} factors (one per {}), got {}",
                raw.by.as_str(),
                if n == 12 {
                    "month, January first"
                } else {
                    "day of the week, day 0's first"
                },
                raw.factors.len()
            ),
        ));
    }
    let mean = raw.factors.iter().map(|x| x.get()).sum::<f64>() / n as f64;
    // Factors are in [0, 100], so the mean is finite and never below 0.
    if mean <= 0.0 {
        return Err(ck.err(
            format!("{field}.factors"),
            format!(
                "must not all be 0 (their mean, {}, scales the purchase rate to 1)",
                show(mean)
            ),
        ));
    }
    let factors: Vec<f64> = raw.factors.iter().map(|x| x.get() / mean).collect();
    let piece_days = raw.by.days() / n as f64;
    let mut cumulative = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    cumulative.push(acc);
    for f in &factors {
        acc += f * piece_days;
        cumulative.push(acc);
    }
    Ok(Seasonality {
        by: raw.by,
        factors,
        cumulative,
        piece_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn season(by: Cycle, f: &[f64]) -> Seasonality {
        let src = "x = 1\n";
        let loc = super::super::locate::Locator::new(src);
        let ck = Checker {
            loc: &loc,
            origin: "t.toml",
        };
        let raw = RawSeasonality {
            by,
            factors: f.iter().map(|&x| Multiplier(x)).collect(),
        };
        validate(&ck, "s", &raw).expect("valid")
    }

    #[test]
    fn the_clock_and_its_inverse_agree() {
        let s = season(
            Cycle::Month,
            &[2.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 0.5],
        );
        for i in 0..2000 {
            let t = i as f64 * 1.37;
            let back = s.day_at(s.clock(t));
            // Inside a zero-factor month the inverse is that month's end (the next
            // moment with hazard); elsewhere it is t.
            let month = ((t % YEAR_DAYS) / (YEAR_DAYS / 12.0)) as usize;
            if month != 1 {
                assert!((back - t).abs() < 1e-9, "t {t}: back {back}");
            }
        }
        // A year of the seasonal clock is a calendar year.
        assert!((s.clock(YEAR_DAYS) - YEAR_DAYS).abs() < 1e-9);
        assert!((s.clock(3.0 * YEAR_DAYS) - 3.0 * YEAR_DAYS).abs() < 1e-9);
    }

    #[test]
    fn advancing_skips_closed_days_and_runs_faster_in_busy_ones() {
        // Closed on day 6 of each week (factor 0), the other days 1 (7/6 after normalising).
        let s = season(Cycle::Weekday, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        let f = 7.0 / 6.0;
        // From day 5.5, half a day at 7/6 reaches day 6; the rest waits for day 7.
        let t = s.advance(5.5, 0.5 * f + 0.25);
        assert!((t - (7.0 + 0.25 / f)).abs() < 1e-12, "{t}");
        assert_eq!(s.advance(1.0, f64::INFINITY), f64::INFINITY);
        assert!(s.advance(1.0, f64::NAN).is_nan());
        assert!((s.elapsed(0.0, 14.0) - 14.0).abs() < 1e-12);
    }
}

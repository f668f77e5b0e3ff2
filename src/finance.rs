//! The objective a finance team signs: the net present value of a design's cash flows,
//! after the points still owed at the horizon (`[finance]`).
//!
//! Cash flows are the reporting periods' net profit (gross margin - acquisition - rewards -
//! program cost + fees), each discounted from the end of its period at the yearly
//! `discount_rate`; the liability (outstanding and pending points at their cost to the
//! merchant) is deducted at the horizon, discounted likewise. With the defaults (rate 0,
//! liability counted) the objective equals `net_profit_after_liability`. The cash-basis
//! `net_profit` stays in every file beside it.
//!
//! Optional horizon value (`horizon_value = true`): what the customers still active at the
//! horizon are worth afterwards, as a run-rate continuation of the last reporting period.
//! The period's net cash flow of the existing customers (gross margin - rewards - program
//! cost + fees; no acquisition) per day is continued for `horizon_value_years`, decaying at
//! the period's observed dropout hazard h = dropouts / ((active at the end + dropouts / 2)
//! x days) and discounted at the same rate: value = flow/day x (1 - e^-(h + rho) T) /
//! (h + rho), rho = ln(1 + rate) / 365.25 per day, then discounted from the horizon. It is
//! an approximation of the customers' conditional CLV at the design's end-of-horizon run
//! rate (a per-customer conditional CLV would need each customer's history, which the
//! tallies do not keep); it assumes the program continues unchanged, fixed program costs
//! decaying with the customers.

use serde::Deserialize;

use crate::metrics::Tally;
use crate::scenario::Scenario;

/// `[finance]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinance {
    /// Yearly discount rate, 0 to 1.
    pub discount_rate: Option<f64>,
    /// Whether outstanding points count as a liability (default yes).
    pub liability: Option<bool>,
    /// Add the horizon value of the customers still active (default no).
    pub horizon_value: Option<bool>,
    /// Years the horizon value runs for, 0 to 50 (default 3).
    pub horizon_value_years: Option<f64>,
}

/// Default years of horizon value.
pub const HORIZON_VALUE_YEARS: f64 = 3.0;

/// The validated objective settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finance {
    /// Yearly discount rate.
    pub discount_rate: f64,
    /// Deduct the points liability at the horizon.
    pub liability: bool,
    /// Years of horizon value added (`None`: no horizon value).
    pub horizon_value_years: Option<f64>,
}

impl Default for Finance {
    fn default() -> Self {
        Finance {
            discount_rate: 0.0,
            liability: true,
            horizon_value_years: None,
        }
    }
}

impl Finance {
    /// Validate `[finance]`; `Err((field, message))`.
    pub fn validate(raw: Option<&RawFinance>) -> Result<Self, (String, String)> {
        let Some(r) = raw else {
            return Ok(Finance::default());
        };
        let rate = r.discount_rate.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&rate) {
            return Err((
                "finance.discount_rate".into(),
                format!("must be a yearly rate from 0 to 1 (0.08 = 8%), got {rate}"),
            ));
        }
        let years = r.horizon_value_years.unwrap_or(HORIZON_VALUE_YEARS);
        if !(years.is_finite() && (0.0..=50.0).contains(&years)) {
            return Err((
                "finance.horizon_value_years".into(),
                format!("must be a number of years from 0 to 50, got {years}"),
            ));
        }
        if r.horizon_value_years.is_some() && r.horizon_value != Some(true) {
            return Err((
                "finance.horizon_value_years".into(),
                "only applies with `horizon_value = true`".into(),
            ));
        }
        Ok(Finance {
            discount_rate: rate,
            liability: r.liability.unwrap_or(true),
            horizon_value_years: (r.horizon_value == Some(true)).then_some(years),
        })
    }

    /// What is maximised, in words.
    pub fn describe(&self) -> String {
        let base = if self.liability {
            "net profit after points liability"
        } else {
            "net profit (cash basis, points liability ignored)"
        };
        let base = match self.horizon_value_years {
            Some(y) => format!(
                "{base}, plus {} years of horizon value of the customers still active (run rate of the last period)",
                crate::report::round_reported(y)
            ),
            None => base.to_string(),
        };
        if self.discount_rate > 0.0 {
            format!(
                "{base}, NPV of the period cash flows at {}%/year",
                crate::report::round_reported(self.discount_rate * 100.0)
            )
        } else {
            format!("{base}, undiscounted")
        }
    }

    fn discount(&self, days: f64) -> f64 {
        (1.0 + self.discount_rate).powf(-days / 365.25)
    }

    /// The objective of one design in one replicate, in currency units; `cost_per_point`
    /// in cents.
    pub fn objective(&self, t: &Tally, cost_per_point: f64, sc: &Scenario) -> f64 {
        let horizon = f64::from(sc.horizon_days);
        let len = sc.period.days();
        let mut cents = 0.0;
        for (p, pt) in t.periods.iter().enumerate() {
            let flow = pt.margin_cents
                - pt.acquisition_cost_cents
                - pt.reward_cost_cents
                - pt.program_cost_cents
                + pt.fee_revenue_cents;
            let end = ((p + 1) as f64 * len).min(horizon);
            cents += flow as f64 * self.discount(end);
        }
        if self.liability {
            let held = (t.points_outstanding + t.points_pending) as f64;
            cents -= held * cost_per_point * self.discount(horizon);
        }
        if let Some(years) = self.horizon_value_years {
            cents += self.horizon_value_cents(t, sc, years);
        }
        cents / 100.0
    }

    /// The horizon value in cents at day 0 (see the module notes).
    pub fn horizon_value_cents(&self, t: &Tally, sc: &Scenario, years: f64) -> f64 {
        let Some(last) = t.periods.last() else {
            return 0.0;
        };
        let horizon = f64::from(sc.horizon_days);
        let start = (t.periods.len() - 1) as f64 * sc.period.days();
        let days = (horizon - start).max(1.0);
        let flow = (last.margin_cents - last.reward_cost_cents - last.program_cost_cents
            + last.fee_revenue_cents) as f64
            / days;
        let alive = t.active_end() as f64 + last.churned as f64 / 2.0;
        let hazard = if alive > 0.0 {
            last.churned as f64 / (alive * days)
        } else {
            0.0
        };
        let rho = (1.0 + self.discount_rate).ln() / 365.25;
        let span = years * 365.25;
        let k = hazard + rho;
        let integral = if k > 0.0 {
            (1.0 - (-k * span).exp()) / k
        } else {
            span
        };
        flow * integral * self.discount(horizon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The horizon value against a day-by-day sum of the decaying, discounted flow, and
    /// its limits: no dropout and no discounting give flow/day x days; 0 years give 0.
    #[test]
    fn horizon_value_matches_a_daily_sum() {
        let sc = Scenario::embedded_default().unwrap();
        let mut t = Tally::new(sc.periods());
        t.customers_initial = 10_000;
        t.churned = 1_000 + 200;
        let last_days = f64::from(sc.horizon_days) - (sc.periods() - 1) as f64 * sc.period.days();
        let last = t.periods.last_mut().unwrap();
        last.margin_cents = 3_000_000;
        last.reward_cost_cents = 400_000;
        last.program_cost_cents = 30_000;
        last.churned = 200;
        let flow = (3_000_000.0 - 430_000.0) / last_days;
        let f = Finance {
            discount_rate: 0.08,
            liability: true,
            horizon_value_years: Some(2.0),
        };
        let hazard = 200.0 / ((8_800.0 + 100.0) * last_days);
        let day = (1.0f64 + 0.08).powf(-1.0 / 365.25);
        let mut sum = 0.0;
        let n = (2.0 * 365.25 * 10.0) as usize;
        for i in 0..n {
            let tday = (i as f64 + 0.5) / 10.0;
            sum += flow / 10.0 * (-hazard * tday).exp() * day.powf(tday);
        }
        let at0 = sum * (1.0f64 + 0.08).powf(-f64::from(sc.horizon_days) / 365.25);
        let got = f.horizon_value_cents(&t, &sc, 2.0);
        assert!((got / at0 - 1.0).abs() < 1e-4, "{got} vs {at0}");
        let flat = Finance {
            discount_rate: 0.0,
            ..f
        };
        t.periods.last_mut().unwrap().churned = 0;
        let got = flat.horizon_value_cents(&t, &sc, 2.0);
        assert!((got / (flow * 2.0 * 365.25) - 1.0).abs() < 1e-9);
        assert_eq!(flat.horizon_value_cents(&t, &sc, 0.0), 0.0);
    }
}

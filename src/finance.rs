//! The objective a finance team signs: the net present value of a design's cash flows,
//! after the points still owed at the horizon (`[finance]`).
//!
//! Cash flows are the reporting periods' net profit (gross margin - acquisition - rewards -
//! program cost + fees), each discounted from the end of its period at the yearly
//! `discount_rate`; the liability (outstanding and pending points at their cost to the
//! merchant) is deducted at the horizon, discounted likewise. With the defaults (rate 0,
//! liability counted) the objective equals `net_profit_after_liability`. The cash-basis
//! `net_profit` stays in every file beside it.

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
}

/// The validated objective settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finance {
    /// Yearly discount rate.
    pub discount_rate: f64,
    /// Deduct the points liability at the horizon.
    pub liability: bool,
}

impl Default for Finance {
    fn default() -> Self {
        Finance {
            discount_rate: 0.0,
            liability: true,
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
        Ok(Finance {
            discount_rate: rate,
            liability: r.liability.unwrap_or(true),
        })
    }

    /// What is maximised, in words.
    pub fn describe(&self) -> String {
        let base = if self.liability {
            "net profit after points liability"
        } else {
            "net profit (cash basis, points liability ignored)"
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
        cents / 100.0
    }
}

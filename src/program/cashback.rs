//! `[designs.cashback]`: a share of spend back as store credit, kept in the points ledger
//! (1 point = 1 cent), optionally with an introductory rate that ends on a given day.

use serde::Deserialize;

use rand::RngExt;

use super::part::{Cx, DesignCheck, Order, Part, Spend, Stay};
use crate::scenario::units::{Days, PositiveDays, Probability};
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCashback {
    pub rate: Probability,
    pub expiry_days: Option<PositiveDays>,
    pub use_probability: Option<Probability>,
    pub until_day: Option<Days>,
    pub after_rate: Option<Probability>,
}

impl RawCashback {
    /// The preset of the cashback kind: 2% back (domain brief).
    pub fn preset() -> Self {
        RawCashback {
            rate: Probability(0.02),
            expiry_days: None,
            use_probability: None,
            until_day: None,
            after_rate: None,
        }
    }
}

/// Store credit back on spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cashback {
    /// Share of order value credited.
    pub rate: f64,
    /// Probability the member uses available credit at a purchase.
    pub use_probability: f64,
    /// From this day on the rate is `after_rate` (an introductory offer ending).
    pub until_day: f64,
    /// The rate after `until_day`.
    pub after_rate: f64,
}

impl Cashback {
    /// The credit rate in force on day `t`.
    pub fn rate_at(&self, t: f64) -> f64 {
        if t < self.until_day {
            self.rate
        } else {
            self.after_rate
        }
    }
}

pub(crate) fn validate(dc: &DesignCheck, c: &RawCashback) -> Result<Cashback> {
    if c.after_rate.is_some() != c.until_day.is_some() {
        return Err(dc.err(
            "cashback.after_rate",
            "`until_day` and `after_rate` go together (the rate changes to after_rate on until_day)",
        ));
    }
    Ok(Cashback {
        rate: c.rate.get(),
        use_probability: c.use_probability.map_or(1.0, |p| p.get()),
        until_day: c.until_day.map_or(f64::INFINITY, |x| x.get()),
        after_rate: c.after_rate.map_or(c.rate.get(), |x| x.get()),
    })
}

/// A member's introductory-rate timer.
#[derive(Debug)]
pub struct State {
    /// Day the introductory rate ends for this member (infinity: no cut ahead).
    cut_at: f64,
}

impl Default for State {
    fn default() -> Self {
        State {
            cut_at: f64::INFINITY,
        }
    }
}

impl Part for Cashback {
    type State = State;

    fn on_join(&self, s: &mut State, _cx: &mut Cx<'_>, t: f64) {
        if self.until_day > t && self.after_rate < self.rate {
            s.cut_at = self.until_day;
        }
    }

    fn on_leave(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.cut_at = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.cut_at
    }

    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.cut_at <= t {
            // The introductory rate ends: deal seekers feel the cut.
            s.cut_at = f64::INFINITY;
            cx.effects.dropout_penalty *= cx.segment.benefit_cut_dropout;
        }
        Stay::Member
    }

    /// Use the credit there is (a draw unless always used), then earn on this order.
    fn on_purchase(&self, _s: &mut State, cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        let available = cx.ledger.as_ref().map_or(0, |l| l.available(t));
        if available > 0
            && (self.use_probability >= 1.0 || cx.prng.random::<f64>() < self.use_probability)
        {
            let used = available.min(o.paid_cents.max(0) as u64);
            if used > 0 {
                cx.redeem_in(t, cx.period(t), used, used as i64, Spend::Credit);
            }
        }
        let credit = (o.paid_cents as f64 * self.rate_at(t) + 1e-9).floor() as u64;
        cx.award(t, credit);
    }
}

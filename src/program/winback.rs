//! `[designs.winback]`: contact members who have not bought for a while with an offer; a
//! still-active member may answer with a purchase now.

use serde::Deserialize;

use rand::RngExt;

use super::part::{points, Account, Cx, Order, Part, Stay};
use crate::scenario::units::{to_cents, Money, Points, PositiveDays, Probability};

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWinback {
    pub after_days: PositiveDays,
    pub cost_per_contact: Option<Money>,
    pub response_probability: Probability,
    pub bonus_points: Option<Points>,
    pub bonus_value: Option<Money>,
}

/// A win-back campaign for members showing a churn signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Winback {
    /// Days without a purchase that trigger a contact.
    pub after_days: f64,
    /// Cost per contact, cents.
    pub cost_per_contact_cents: i64,
    /// Probability that a still-active contacted member responds with a purchase.
    pub response_probability: f64,
    /// Points given with the offer on response.
    pub bonus_points: u64,
    /// Cash value of the offer on response (reward cost), cents.
    pub bonus_value_cents: i64,
}

pub(crate) fn validate(w: &RawWinback) -> Winback {
    Winback {
        after_days: w.after_days.get(),
        cost_per_contact_cents: to_cents(w.cost_per_contact.map_or(0.0, |x| x.get())),
        response_probability: w.response_probability.get(),
        bonus_points: w.bonus_points.map_or(0, points),
        bonus_value_cents: to_cents(w.bonus_value.map_or(0.0, |x| x.get())),
    }
}

/// A member's next contact day.
#[derive(Debug)]
pub struct State {
    next: f64,
}

impl Default for State {
    fn default() -> Self {
        State {
            next: f64::INFINITY,
        }
    }
}

impl Part for Winback {
    type State = State;

    fn on_join(&self, s: &mut State, cx: &mut Cx<'_>, _t: f64) {
        s.next = cx.last_purchase + self.after_days;
    }

    fn on_leave(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.next = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.next
    }

    /// Contact a member who has not bought for `after_days`; a still-active one may answer
    /// with a purchase now.
    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.next > t {
            return Stay::Member;
        }
        s.next = f64::INFINITY;
        cx.tally.winback_contacts += 1;
        cx.cost(t, self.cost_per_contact_cents, Account::Program);
        if cx.prng.random::<f64>() < self.response_probability {
            cx.tally.winback_responses += 1;
            cx.award(t, self.bonus_points);
            if self.bonus_value_cents > 0 {
                cx.cost(t, self.bonus_value_cents, Account::Reward);
            }
            // Buy now: the pending purchase budget is spent at once.
            cx.effects.buy_now = true;
        }
        Stay::Member
    }

    /// A purchase restarts the clock.
    fn on_purchase(&self, s: &mut State, _cx: &mut Cx<'_>, t: f64, _o: &mut Order) {
        s.next = t + self.after_days;
    }

    /// The merchant cannot tell a lapsed customer from a departed one: the contact is made
    /// (and paid for) all the same, and goes unanswered.
    fn on_churn(&self, _s: &mut State, cx: &mut Cx<'_>, _t: f64) {
        if !cx.member {
            return;
        }
        let contact = cx.last_purchase + self.after_days;
        if contact < cx.horizon {
            cx.tally.winback_contacts += 1;
            cx.cost(contact, self.cost_per_contact_cents, Account::Program);
        }
    }
}

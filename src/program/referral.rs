//! `[designs.referral]`: members bring in new customers (Poisson per member), with rewards
//! to both sides paid at sign-up or at the referee's first purchase.

use std::collections::BTreeMap;

use serde::Deserialize;

use rand::RngExt;

use super::part::{Account, Cx, DesignCheck, Part, Stay};
use crate::scenario::units::{to_cents, Money, PerYear, Probability};
use crate::Result;

/// When a referral reward is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferralTrigger {
    /// When the referred customer signs up.
    SignUp,
    /// When the referred customer makes a first purchase.
    FirstPurchase,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReferral {
    pub per_member_per_year: PerYear,
    pub referrer_reward: Option<Money>,
    pub referee_reward: Option<Money>,
    pub trigger: Option<ReferralTrigger>,
    pub first_purchase_probability: Option<Probability>,
    pub cost_per_referral: Option<Money>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

/// A referral programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    /// Referrals (sign-ups) per member per year.
    pub per_member_per_year: f64,
    /// Reward to the referrer, cents.
    pub referrer_reward_cents: i64,
    /// Reward to the referee, cents.
    pub referee_reward_cents: i64,
    /// When rewards are paid.
    pub trigger: ReferralTrigger,
    /// Probability a referred sign-up makes a first purchase.
    pub first_purchase_probability: f64,
    /// Other cost per referred sign-up, cents.
    pub cost_per_referral_cents: i64,
    /// Cumulative segment mix of referred customers.
    pub segment_cumulative: Vec<f64>,
}

pub(crate) fn validate(dc: &DesignCheck, r: &RawReferral) -> Result<Referral> {
    if r.per_member_per_year.get() > 100.0 {
        return Err(dc.err(
            "referral.per_member_per_year",
            "must be at most 100 referrals per member per year",
        ));
    }
    // Referred customers follow the population's mix unless told otherwise.
    let segment_cumulative = dc.cumulative_mix(
        "referral.segments",
        &r.segments,
        "segment shares of referred customers",
    )?;
    Ok(Referral {
        per_member_per_year: r.per_member_per_year.get(),
        referrer_reward_cents: to_cents(r.referrer_reward.map_or(0.0, |x| x.get())),
        referee_reward_cents: to_cents(r.referee_reward.map_or(0.0, |x| x.get())),
        trigger: r.trigger.unwrap_or(ReferralTrigger::FirstPurchase),
        first_purchase_probability: r.first_purchase_probability.map_or(1.0, |x| x.get()),
        cost_per_referral_cents: to_cents(r.cost_per_referral.map_or(0.0, |x| x.get())),
        segment_cumulative,
    })
}

/// A member's referral timer and the referrals made.
#[derive(Debug)]
pub struct State {
    next: f64,
    /// Referrals made: (day, whether the referee makes a first purchase). The engine runs
    /// the referees' timelines after the referrer's.
    pub made: Vec<(f64, bool)>,
}

impl Default for State {
    fn default() -> Self {
        State {
            next: f64::INFINITY,
            made: Vec::new(),
        }
    }
}

impl Referral {
    /// One referral at `t`: whether the referee buys (a draw), the rewards when due, and the
    /// handling of a sign-up who never buys.
    fn refer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        let purchases = cx.prng.random::<f64>() < self.first_purchase_probability;
        let pay = match self.trigger {
            ReferralTrigger::SignUp => true,
            ReferralTrigger::FirstPurchase => purchases,
        };
        let (rewards, handling) = (
            self.referrer_reward_cents + self.referee_reward_cents,
            self.cost_per_referral_cents,
        );
        if pay {
            cx.cost(t, rewards, Account::Reward);
        }
        if !purchases && handling > 0 {
            // A sign-up who never buys still cost the referral handling.
            let p = cx.period(t);
            cx.tally.acquisition_cost_cents += handling;
            cx.tally.periods[p].acquisition_cost_cents += handling;
        }
        s.made.push((t, purchases));
    }
}

impl Part for Referral {
    type State = State;

    fn on_join(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        s.next = t + cx.exp_days(self.per_member_per_year);
    }

    fn on_leave(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.next = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.next
    }

    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.next <= t {
            self.refer(s, cx, t);
            s.next = t + cx.exp_days(self.per_member_per_year);
        }
        Stay::Member
    }
}

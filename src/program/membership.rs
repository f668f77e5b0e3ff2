//! `[designs.membership]`: a paid membership (fee per month or year, optional free trial,
//! renewal), its member benefits, and how customers decide to pay.

use serde::Deserialize;

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::ledger::YEAR_DAYS;
use super::part::{Cx, Part, Stay};
use crate::scenario::units::{to_cents, Days, EarnRate, Money, Probability, Spread};

/// How customers decide to pay for a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinDecision {
    /// With the enrolment probabilities.
    Probability,
    /// When the benefit they expect from their own purchase rate and basket beats the fee.
    Value,
}

/// Fee billing period of a paid membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Billing {
    /// Every 365.25 / 12 days.
    Month,
    /// Every 365.25 days.
    Year,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenefits {
    pub discount: Option<Probability>,
    pub free_shipping_value: Option<Money>,
    pub extra_earn_rate: Option<EarnRate>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembership {
    pub decision: Option<JoinDecision>,
    pub value_noise: Option<Spread>,
    pub fee: Money,
    pub billing: Option<Billing>,
    pub trial_days: Option<Days>,
    pub trial_conversion: Option<Probability>,
    pub renewal: Option<Probability>,
    pub benefits: Option<RawBenefits>,
}

/// A paid membership.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Membership {
    /// How customers decide to join, convert and renew.
    pub decision: JoinDecision,
    /// Log-normal sd of the perceived benefit around its expected value (heterogeneity).
    pub value_noise: f64,
    /// Fee per billing period, cents.
    pub fee_cents: i64,
    /// Billing period in days.
    pub billing_days: f64,
    /// Free trial length in days (0: none).
    pub trial_days: f64,
    /// Probability a trial converts to paying.
    pub trial_conversion: f64,
    /// Probability of renewing at each billing date.
    pub renewal: f64,
    /// Discount on order value for members.
    pub discount: f64,
    /// Shipping paid by the merchant per member order, cents.
    pub free_shipping_cents: i64,
    /// Extra points per currency unit for members.
    pub extra_earn_rate: f64,
}

pub(crate) fn validate(m: &RawMembership) -> Membership {
    let b = m.benefits.as_ref();
    Membership {
        decision: m.decision.unwrap_or(JoinDecision::Probability),
        value_noise: m.value_noise.map_or(0.5, |x| x.get()),
        fee_cents: to_cents(m.fee.get()),
        billing_days: match m.billing.unwrap_or(Billing::Year) {
            Billing::Month => 365.25 / 12.0,
            Billing::Year => 365.25,
        },
        trial_days: m.trial_days.map_or(0.0, |x| x.get()),
        trial_conversion: m.trial_conversion.map_or(1.0, |x| x.get()),
        renewal: m.renewal.map_or(1.0, |x| x.get()),
        discount: b.and_then(|b| b.discount).map_or(0.0, |x| x.get()),
        free_shipping_cents: to_cents(
            b.and_then(|b| b.free_shipping_value)
                .map_or(0.0, |x| x.get()),
        ),
        extra_earn_rate: b.and_then(|b| b.extra_earn_rate).map_or(0.0, |x| x.get()),
    }
}

/// A member's fee status.
#[derive(Debug)]
pub struct State {
    /// Whether the member pays (false during a trial).
    paying: bool,
    /// Whether the free trial was used (once per customer).
    trial_used: bool,
    /// Next billing (or trial end) day.
    next_billing: f64,
}

impl Default for State {
    fn default() -> Self {
        State {
            paying: false,
            trial_used: false,
            next_billing: f64::INFINITY,
        }
    }
}

impl Membership {
    /// The paid-membership decision: the benefit this customer expects in a year, from
    /// their own purchase rate and basket, times a log-normal taste draw (mean 1), against
    /// the yearly fee.
    pub fn worth_it(&self, cx: &mut Cx<'_>) -> bool {
        let c = cx.customer;
        let response = cx.design.response[c.segment];
        let orders_per_year = c.lambda * YEAR_DAYS * response.purchase_rate;
        let basket = c.spend_mean * response.order_value;
        let per_order = basket * self.discount
            + self.free_shipping_cents as f64 / 100.0
            + basket * self.extra_earn_rate * cx.design.cost_per_point() / 100.0;
        let benefit = orders_per_year * per_order;
        let z: f64 = StandardNormal.sample(&mut *cx.prng);
        let s = self.value_noise;
        let perceived = benefit * (s * z - s * s / 2.0).exp();
        let fee_per_year = self.fee_cents as f64 / 100.0 * YEAR_DAYS / self.billing_days;
        perceived > fee_per_year
    }

    /// Member price: the discount (multiplied into `keep`) and merchant-paid shipping.
    pub fn price(&self, keep: &mut f64, shipping: &mut i64) {
        *keep *= 1.0 - self.discount;
        *shipping = (*shipping).max(self.free_shipping_cents);
    }

    fn charge_fee(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        s.paying = true;
        cx.tally.fee_revenue_cents += self.fee_cents;
        let p = cx.period(t);
        cx.tally.periods[p].fee_revenue_cents += self.fee_cents;
        s.next_billing = t + self.billing_days;
    }
}

impl Part for Membership {
    type State = State;

    /// A first membership may start with the free trial; otherwise the fee is due now.
    fn on_join(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        if self.trial_days > 0.0 && !s.trial_used {
            s.trial_used = true;
            s.paying = false;
            s.next_billing = t + self.trial_days;
        } else {
            self.charge_fee(s, cx, t);
        }
    }

    fn on_leave(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.paying = false;
        s.next_billing = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.next_billing
    }

    /// Billing day: the trial converts or the member renews (draws), or the membership
    /// lapses, which is a benefit cut.
    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.next_billing > t {
            return Stay::Member;
        }
        let keep = if self.decision == JoinDecision::Value {
            let worth = self.worth_it(cx);
            worth && (!s.paying || cx.prng.random::<f64>() < self.renewal)
        } else {
            let p = if s.paying {
                self.renewal
            } else {
                self.trial_conversion
            };
            cx.prng.random::<f64>() < p
        };
        if keep {
            self.charge_fee(s, cx, t);
            Stay::Member
        } else {
            cx.effects.dropout_penalty *= cx.segment.benefit_cut_dropout;
            Stay::Leave
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::part::testing::Fixture;

    fn membership(trial_days: f64, trial_conversion: f64, renewal: f64) -> Membership {
        Membership {
            decision: JoinDecision::Probability,
            value_noise: 0.5,
            fee_cents: 5_000,
            billing_days: 365.25,
            trial_days,
            trial_conversion,
            renewal,
            discount: 0.1,
            free_shipping_cents: 300,
            extra_earn_rate: 0.0,
        }
    }

    #[test]
    fn trial_then_fee_then_lapse() {
        let m = membership(30.0, 1.0, 0.0);
        let mut f = Fixture::new();
        let mut s = State::default();
        let mut cx = f.cx();
        m.on_join(&mut s, &mut cx, 10.0);
        assert_eq!(m.next_timer(&s), 40.0, "the trial ends after 30 days");
        assert_eq!(cx.tally.fee_revenue_cents, 0, "no fee during the trial");
        // Not due yet: nothing happens.
        assert_eq!(m.on_timer(&mut s, &mut cx, 39.0), Stay::Member);
        // Trial converts for sure: the fee is charged and the next bill is a year on.
        assert_eq!(m.on_timer(&mut s, &mut cx, 40.0), Stay::Member);
        assert_eq!(cx.tally.fee_revenue_cents, 5_000);
        assert_eq!(m.next_timer(&s), 40.0 + 365.25);
        // Renewal 0: the membership lapses and the dropout penalty is the segment's.
        assert_eq!(m.on_timer(&mut s, &mut cx, 405.25), Stay::Leave);
        assert_eq!(cx.effects.dropout_penalty, cx.segment.benefit_cut_dropout);
        m.on_leave(&mut s, &mut cx, 405.25);
        assert_eq!(m.next_timer(&s), f64::INFINITY);
        // A second join has no trial left: the fee is due at once.
        m.on_join(&mut s, &mut cx, 500.0);
        assert_eq!(cx.tally.fee_revenue_cents, 10_000);
    }

    #[test]
    fn member_price_multiplies_discounts_and_keeps_the_dearest_shipping() {
        let m = membership(0.0, 1.0, 1.0);
        let (mut keep, mut shipping) = (0.8, 500);
        m.price(&mut keep, &mut shipping);
        assert!((keep - 0.72).abs() < 1e-15);
        assert_eq!(shipping, 500);
        let (mut keep, mut shipping) = (1.0, 0);
        m.price(&mut keep, &mut shipping);
        assert_eq!((keep, shipping), (0.9, 300));
    }

    #[test]
    fn value_decision_follows_the_fee() {
        // The fixture customer buys 0.05 orders a day of 40.00: 730 a year at 10% off.
        let mut f = Fixture::new();
        let cheap = Membership {
            fee_cents: 100,
            value_noise: 0.0,
            ..membership(0.0, 1.0, 1.0)
        };
        let dear = Membership {
            fee_cents: 100_000,
            ..cheap
        };
        let mut cx = f.cx();
        assert!(cheap.worth_it(&mut cx));
        assert!(!dear.worth_it(&mut cx));
    }
}

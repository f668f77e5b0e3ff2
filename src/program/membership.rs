//! `[designs.membership]`: a paid membership (fee per month or year, optional free trial,
//! renewal), its member benefits, and how customers decide to pay.

use serde::Deserialize;

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

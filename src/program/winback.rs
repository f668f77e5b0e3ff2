//! `[designs.winback]`: contact members who have not bought for a while with an offer; a
//! still-active member may answer with a purchase now.

use serde::Deserialize;

use super::part::points;
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

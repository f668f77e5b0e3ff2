//! `[designs.punch_card]`: one stamp per qualifying purchase, a reward after N stamps, with
//! optional pre-stamped bonus stamps (endowed progress) and stamp fraud.

use serde::Deserialize;

use super::part::DesignCheck;
use crate::scenario::units::{to_cents, Count, Money, Probability};
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPunchCard {
    pub stamps: Count,
    pub bonus_stamps: Option<Count>,
    pub reward_value: Money,
    pub cost_share: Option<Probability>,
    pub min_purchase: Option<Money>,
    pub fraud_rate: Option<Probability>,
    pub stamp_joining_purchase: Option<bool>,
}

impl RawPunchCard {
    /// The preset of the punch-card kind: buy 10, get a 10.00 reward (domain brief).
    pub fn preset() -> Self {
        RawPunchCard {
            stamps: Count(10.0),
            bonus_stamps: None,
            reward_value: Money(10.0),
            cost_share: None,
            min_purchase: None,
            fraud_rate: None,
            stamp_joining_purchase: None,
        }
    }
}

/// A punch card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PunchCard {
    /// Stamps that complete a card (including pre-stamped ones).
    pub stamps: u32,
    /// Pre-stamped bonus stamps on each new card.
    pub bonus_stamps: u32,
    /// Value of the reward to the customer, cents.
    pub reward_value_cents: i64,
    /// Cost of the reward to the merchant, cents.
    pub reward_cost_cents: i64,
    /// Orders below this value earn no stamp, currency units.
    pub min_purchase: f64,
    /// Probability a stamp comes with a fraudulent extra stamp.
    pub fraud_rate: f64,
    /// Whether the purchase at which the card is handed out earns its first stamp (false:
    /// the card is given after paying, as in Nunes & Dreze 2006).
    pub stamp_joining_purchase: bool,
}

pub(crate) fn validate(dc: &DesignCheck, p: &RawPunchCard) -> Result<PunchCard> {
    let stamps = p.stamps.get().round();
    let bonus = p.bonus_stamps.map_or(0.0, |x| x.get().round());
    if !(1.0..=1000.0).contains(&stamps) {
        return Err(dc.err(
            "punch_card.stamps",
            format!(
                "must be a whole number from 1 to 1000, got {}",
                p.stamps.get()
            ),
        ));
    }
    if bonus >= stamps {
        return Err(dc.err(
            "punch_card.bonus_stamps",
            format!("must be fewer than the stamps needed ({stamps}), got {bonus}"),
        ));
    }
    let value = to_cents(p.reward_value.get());
    Ok(PunchCard {
        stamps: stamps as u32,
        bonus_stamps: bonus as u32,
        reward_value_cents: value,
        reward_cost_cents: (value as f64 * p.cost_share.map_or(1.0, |c| c.get())).round() as i64,
        min_purchase: p.min_purchase.map_or(0.0, |x| x.get()),
        fraud_rate: p.fraud_rate.map_or(0.0, |x| x.get()),
        stamp_joining_purchase: p.stamp_joining_purchase.unwrap_or(true),
    })
}

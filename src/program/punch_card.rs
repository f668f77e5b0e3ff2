//! `[designs.punch_card]`: one stamp per qualifying purchase, a reward after N stamps, with
//! optional pre-stamped bonus stamps (endowed progress) and stamp fraud.

use serde::Deserialize;

use rand::RngExt;

use super::part::{Checkout, Cx, DesignCheck, Order, Part};
use crate::scenario::units::round_half_away;
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

/// A member's card.
#[derive(Debug, Default)]
pub struct State {
    /// Stamps on the current card (bonus stamps included).
    pub stamps: u32,
    /// Fraudulent stamps not yet charged to a completed card.
    fraud_stamps: u32,
    /// Whether the customer ever completed a card.
    completed_any: bool,
    /// (day, stamps after the purchase) of each stamped purchase on the current card.
    card: Vec<(f64, u32)>,
}

impl PunchCard {
    /// Progress toward the reward, in [0, 1].
    pub fn progress(&self, s: &State) -> f64 {
        f64::from(s.stamps) / f64::from(self.stamps)
    }

    /// A full card: reward cost, fraud's share, the goal-gradient intervals of the card,
    /// and a new card with its bonus stamps.
    fn complete_card(&self, s: &mut State, cx: &mut Cx<'_>, p: usize) {
        s.stamps -= self.stamps - self.bonus_stamps;
        let tally = &mut *cx.tally;
        tally.cards_completed += 1;
        tally.rewards_redeemed += 1;
        tally.reward_cost_cents += self.reward_cost_cents;
        tally.periods[p].reward_cost_cents += self.reward_cost_cents;
        if !s.completed_any {
            s.completed_any = true;
            tally.card_completers += 1;
        }
        if s.fraud_stamps > 0 {
            // Fraud's share of this reward: its stamps over the stamps earned.
            let earned = self.stamps - self.bonus_stamps;
            let f = s.fraud_stamps.min(earned);
            s.fraud_stamps -= f;
            tally.fraud_cost_cents += self.reward_cost_cents * i64::from(f) / i64::from(earned);
        }
        // Inter-purchase time by stamp number, over completed cards only (every stamp
        // number then has the same customers: the within-card view of Kivetz et al.).
        for w in s.card.windows(2) {
            let (start, stamp) = w[0];
            if let Some(b) = tally.progress.get_mut(stamp as usize) {
                b.0 += round_half_away((w[1].0 - start) * 1000.0) as u64;
                b.1 += 1;
            }
        }
        s.card.clear();
    }
}

impl Part for PunchCard {
    type State = State;

    /// A first card comes with its pre-stamped bonus stamps (endowed progress).
    fn on_first_join(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.stamps = self.bonus_stamps;
    }

    /// A stamp (and perhaps a fraudulent one, a draw) per qualifying order; the checkout
    /// that hands out the card may earn none.
    fn on_purchase(&self, s: &mut State, cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        if o.checkout == Checkout::First && !self.stamp_joining_purchase {
            return;
        }
        if o.paid < self.min_purchase {
            return;
        }
        s.stamps += 1;
        if self.fraud_rate > 0.0 && cx.prng.random::<f64>() < self.fraud_rate {
            s.stamps += 1;
            s.fraud_stamps += 1;
        }
        s.card.push((t, s.stamps.min(self.stamps)));
        while s.stamps >= self.stamps {
            self.complete_card(s, cx, o.period);
            o.rewarded = true;
        }
    }
}

//! `[designs.redemption]`: how points are spent (a catalogue of rewards, or cash value per
//! point), and when members choose to spend them.

use serde::Deserialize;

use rand::RngExt;

use super::part::{points, Cx, DesignCheck, Order, Part, Spend, MAX_COUNT};
use crate::scenario::units::{to_cents, Money, Points, PositiveMoney, PositivePoints, Probability};
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReward {
    pub name: String,
    pub points: Points,
    pub face_value: Money,
    pub cost_share: Option<Probability>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCash {
    pub per_point: PositiveMoney,
    pub step: Option<PositivePoints>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedemption {
    pub min_balance: Option<Points>,
    pub probability: Option<Probability>,
    pub rewards: Option<Vec<RawReward>>,
    pub cash: Option<RawCash>,
}

impl RawRedemption {
    /// The preset of a points kind: a small reward within 2-4 purchases (domain brief).
    pub fn preset() -> Self {
        RawRedemption {
            min_balance: None,
            probability: None,
            rewards: Some(vec![RawReward {
                name: "$5 off".into(),
                points: Points(250.0),
                face_value: Money(5.0),
                cost_share: None,
            }]),
            cash: None,
        }
    }
}

/// A catalogue reward.
#[derive(Debug, Clone, PartialEq)]
pub struct Reward {
    /// Name.
    pub name: String,
    /// Cost in points.
    pub points: u64,
    /// Value to the customer, cents.
    pub face_value_cents: i64,
    /// Cost to the merchant, cents (face value x cost share).
    pub cost_cents: i64,
}

/// Redemption rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Redemption {
    /// Points needed before anything can be redeemed.
    pub min_balance: u64,
    /// Probability that an eligible member redeems at a purchase (the rest hoard).
    pub probability: f64,
    /// Catalogue, by increasing points (the member takes the dearest they can afford).
    pub rewards: Vec<Reward>,
    /// Cash-value points: (cents per point, step in points).
    pub cash: Option<(f64, u64)>,
}

impl Redemption {
    /// Cost to the merchant of one outstanding point (for the liability), in cents.
    pub fn cost_per_point(&self) -> f64 {
        if let Some((per_point, _)) = self.cash {
            return per_point;
        }
        self.rewards
            .first()
            .map_or(0.0, |r| r.cost_cents as f64 / r.points as f64)
    }
}

pub(crate) fn validate(dc: &DesignCheck, r: &RawRedemption) -> Result<Redemption> {
    let mut rewards = Vec::new();
    for (k, w) in r.rewards.iter().flatten().enumerate() {
        let pts = points(w.points);
        if pts == 0 {
            return Err(dc.err(
                &format!("redemption.rewards[{k}].points"),
                "a reward must cost at least 1 point",
            ));
        }
        if w.points.get() > MAX_COUNT {
            return Err(dc.err(
                &format!("redemption.rewards[{k}].points"),
                "must be at most 1e12 points",
            ));
        }
        let face = to_cents(w.face_value.get());
        rewards.push(Reward {
            name: w.name.clone(),
            points: pts,
            face_value_cents: face,
            cost_cents: (face as f64 * w.cost_share.map_or(1.0, |c| c.get())).round() as i64,
        });
    }
    rewards.sort_by_key(|w| w.points);
    let cash = r.cash.as_ref().map(|c| {
        (
            c.per_point.get() * 100.0,
            c.step.map_or(1, |s| s.get().round().max(1.0) as u64),
        )
    });
    if rewards.is_empty() && cash.is_none() {
        return Err(dc.err(
            "redemption",
            "needs `rewards = [...]` (a catalogue) or `cash = { per_point = ... }`",
        ));
    }
    Ok(Redemption {
        min_balance: r.min_balance.map_or(0, points),
        probability: r.probability.map_or(1.0, |p| p.get()),
        rewards,
        cash,
    })
}

/// The dearest catalogue reward a balance can pay for.
pub fn affordable(redemption: &Redemption, balance: u64) -> Option<&Reward> {
    if balance < redemption.min_balance {
        return None;
    }
    redemption
        .rewards
        .iter()
        .rev()
        .find(|r| r.points <= balance)
}

impl Part for Redemption {
    type State = ();

    /// While the balance allows and the member chooses to (a draw unless always), take the
    /// dearest affordable reward, or cash out in whole steps.
    fn on_purchase(&self, _s: &mut (), cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        while let Some(ledger) = cx.ledger.as_ref() {
            let available = ledger.available(t);
            let (points, cost) = if let Some((per_point, step)) = self.cash {
                if available < self.min_balance.max(step) {
                    break;
                }
                let pts = available / step * step;
                (pts, (pts as f64 * per_point).round() as i64)
            } else {
                match affordable(self, available) {
                    Some(w) => (w.points, w.cost_cents),
                    None => break,
                }
            };
            if self.probability < 1.0 && cx.prng.random::<f64>() >= self.probability {
                break;
            }
            cx.redeem_in(t, o.period, points, cost, Spend::Reward);
            o.rewarded = true;
        }
    }
}

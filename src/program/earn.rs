//! `[designs.earn]`: points on purchases (per currency unit, per order, by category, with
//! promotions and a per-period cap).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::part::{cap_days, points, Cx, DesignCheck, Order, Part};
use crate::scenario::units::{round_half_away, Days, EarnRate, Money, Multiplier, Points};
use crate::scenario::Period;
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPromotion {
    pub from_day: Days,
    pub to_day: Days,
    pub multiplier: Multiplier,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEarn {
    pub per_currency_unit: Option<EarnRate>,
    pub per_order: Option<Points>,
    pub min_order_value: Option<Money>,
    pub categories: Option<BTreeMap<String, Multiplier>>,
    pub promotions: Option<Vec<RawPromotion>>,
    pub cap_per_period: Option<Points>,
    pub cap_period: Option<Period>,
}

impl RawEarn {
    /// The preset of a points kind: 1 point per currency unit (domain brief).
    pub fn preset() -> Self {
        RawEarn {
            per_currency_unit: Some(EarnRate(1.0)),
            per_order: None,
            min_order_value: None,
            categories: None,
            promotions: None,
            cap_per_period: None,
            cap_period: None,
        }
    }
}

/// A time-limited earn multiplier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Promotion {
    /// First day (inclusive).
    pub from_day: f64,
    /// Last day (exclusive).
    pub to_day: f64,
    /// Multiplier on purchase points.
    pub multiplier: f64,
}

/// Earning points on purchases.
#[derive(Debug, Clone, PartialEq)]
pub struct Earn {
    /// Points per currency unit of order value (the product is rounded down per order).
    pub per_currency_unit: f64,
    /// Flat points per qualifying order.
    pub per_order: u64,
    /// Orders below this value (currency units) earn nothing.
    pub min_order_value: f64,
    /// Earn multiplier per scenario category (`[[categories]]`, same order); spend outside
    /// the categories earns at 1x.
    pub category_multipliers: Vec<f64>,
    /// Time-limited multipliers.
    pub promotions: Vec<Promotion>,
    /// Most purchase points per cap period, if capped.
    pub cap: Option<(u64, f64)>,
}

pub(crate) fn validate(dc: &DesignCheck, e: &RawEarn) -> Result<Earn> {
    let categories = dc.categories;
    let mut category_multipliers = vec![1.0; categories.len()];
    for (name, m) in e.categories.iter().flatten() {
        let k = categories.iter().position(|c| c == name).ok_or_else(|| {
            dc.err(
                &format!("earn.categories.{name}"),
                if categories.is_empty() {
                    format!("unknown category `{name}`: the scenario has no [[categories]]")
                } else {
                    format!(
                        "unknown category `{name}`; the categories are: {}",
                        categories.join(", ")
                    )
                },
            )
        })?;
        category_multipliers[k] = m.get();
    }
    let mut promotions = Vec::new();
    for (k, p) in e.promotions.iter().flatten().enumerate() {
        if p.to_day.get() <= p.from_day.get() {
            return Err(dc.err(
                &format!("earn.promotions[{k}].to_day"),
                format!(
                    "must be after from_day ({}), got {}",
                    p.from_day.get(),
                    p.to_day.get()
                ),
            ));
        }
        promotions.push(Promotion {
            from_day: p.from_day.get(),
            to_day: p.to_day.get(),
            multiplier: p.multiplier.get(),
        });
    }
    let earn = Earn {
        per_currency_unit: e.per_currency_unit.map_or(0.0, |x| x.get()),
        per_order: e.per_order.map_or(0, points),
        min_order_value: e.min_order_value.map_or(0.0, |x| x.get()),
        category_multipliers,
        promotions,
        cap: e
            .cap_per_period
            .map(|c| (points(c), cap_days(e.cap_period))),
    };
    if earn.per_currency_unit > 1e6 {
        return Err(dc.err(
            "earn.per_currency_unit",
            "must be at most 1000000 points per currency unit",
        ));
    }
    Ok(earn)
}

/// The average points multiplier of a basket whose categories take `shares` of the
/// spend: 1 + sum of share x (multiplier - 1); spend outside the categories earns at 1x.
pub fn category_mix(earn: &Earn, shares: &[f64]) -> f64 {
    1.0 + shares
        .iter()
        .zip(&earn.category_multipliers)
        .map(|(s, m)| s * (m - 1.0))
        .sum::<f64>()
}

/// Points earned by an order of `paid` currency units at day `t` under `earn`, before any
/// cap: floor(paid x per unit x category mix x promotion x tier) + extra member rate +
/// per-order points.
pub fn purchase_points(
    earn: &Earn,
    mix: f64,
    paid: f64,
    t: f64,
    tier_multiplier: f64,
    extra_per_unit: f64,
) -> u64 {
    if paid < earn.min_order_value {
        return 0;
    }
    let promo: f64 = earn
        .promotions
        .iter()
        .filter(|p| p.from_day <= t && t < p.to_day)
        .map(|p| p.multiplier)
        .product();
    let rate = earn.per_currency_unit * mix * promo * tier_multiplier + extra_per_unit;
    // A tiny epsilon keeps 20.00 x 1 from flooring to 19 through binary noise.
    // Truncation is floor for the non-negative values here (and avoids a libm call).
    let pts = (paid * rate + 1e-9).max(0.0) as u64;
    pts + earn.per_order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earn() -> Earn {
        Earn {
            per_currency_unit: 1.0,
            per_order: 0,
            min_order_value: 0.0,
            category_multipliers: vec![3.0],
            promotions: vec![Promotion {
                from_day: 10.0,
                to_day: 20.0,
                multiplier: 2.0,
            }],
            cap: None,
        }
    }

    #[test]
    fn points_round_down_with_category_and_promotion() {
        let e = earn();
        // 20% of spend in a 3x category: 100 x (0.8 + 0.6) = 140.
        let mix = category_mix(&e, &[0.2]);
        assert_eq!(purchase_points(&e, mix, 100.0, 0.0, 1.0, 0.0), 140);
        assert_eq!(purchase_points(&e, mix, 100.0, 15.0, 1.0, 0.0), 280);
        assert_eq!(purchase_points(&e, 1.0, 20.0, 0.0, 1.0, 0.0), 20);
        assert_eq!(purchase_points(&e, 1.0, 19.99, 0.0, 1.0, 0.0), 19);
    }
}

/// A member's earning state.
#[derive(Debug)]
pub struct State {
    /// (cap window index, points earned in it).
    cap_window: (i64, u64),
    /// Points multiplier of the member's basket after the category shift.
    pub member_mix: f64,
    /// Goal-gradient interval in progress: (start day, progress bucket).
    pub interval: Option<(f64, usize)>,
}

impl Default for State {
    fn default() -> Self {
        State {
            cap_window: (-1, 0),
            member_mix: 1.0,
            interval: None,
        }
    }
}

impl Part for Earn {
    type State = State;

    /// Category shift: a member moves part of their basket toward categories with a points
    /// multiplier above 1; margin and points mix follow.
    fn on_first_join(&self, s: &mut State, cx: &mut Cx<'_>, _t: f64) {
        let shift = cx.behaviour.category_shift * cx.strength;
        let mut shifted: Vec<f64> = cx
            .category_shares
            .iter()
            .zip(&self.category_multipliers)
            .map(|(s, m)| s * (1.0 + shift * (m - 1.0)).max(0.0))
            .collect();
        let total: f64 = shifted.iter().sum();
        if total > 1.0 {
            shifted.iter_mut().for_each(|s| *s /= total);
        }
        let total: f64 = shifted.iter().sum();
        cx.effects.member_margin = shifted
            .iter()
            .zip(cx.categories)
            .map(|(s, c)| s * c.margin)
            .sum::<f64>()
            + (1.0 - total) * cx.segment.margin;
        s.member_mix = category_mix(self, &shifted);
    }

    /// Close the goal-gradient interval that ends with this order, then earn its points
    /// (within the cap) into `o.points_earned`.
    fn on_purchase(&self, s: &mut State, cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        if let Some((start, bucket)) = s.interval.take() {
            if let Some(b) = cx.tally.progress.get_mut(bucket) {
                b.0 += round_half_away((t - start) * 1000.0) as u64;
                b.1 += 1;
            }
        }
        let mut pts = purchase_points(
            self,
            s.member_mix,
            o.paid,
            t,
            o.earn_multiplier,
            o.extra_earn_rate,
        );
        if let Some((max, days)) = self.cap {
            let window = (t / days).floor() as i64;
            if s.cap_window.0 != window {
                s.cap_window = (window, 0);
            }
            pts = pts.min(max.saturating_sub(s.cap_window.1));
            s.cap_window.1 += pts;
        }
        cx.award_in(t, o.period, pts);
        o.points_earned = pts;
    }
}

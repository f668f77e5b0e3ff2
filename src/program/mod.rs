//! Program rules: how a design turns a member's purchases and time into points, rewards,
//! discounts, fees and costs. The engine's per-customer timeline calls these; they hold no
//! random generator of their own (draws are passed in), so they can be tested alone.

pub mod ledger;

use crate::scenario::design::{Design, Earn, Redemption, Reward, TierLevel};

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

/// The tier a qualifying value reaches: the highest level whose threshold it meets.
pub fn qualifying_level(levels: &[TierLevel], value: u64) -> Option<usize> {
    levels.iter().rposition(|l| l.threshold <= value)
}

/// Split a cost accruing at `per_day` cents from day `t0` to `t1` over reporting periods
/// of `period_days`, calling `add(period, cents)` for each piece (rounded per piece).
pub fn accrue(
    t0: f64,
    t1: f64,
    per_day: f64,
    period_days: f64,
    periods: usize,
    mut add: impl FnMut(usize, i64),
) {
    if per_day <= 0.0 || t1 <= t0 {
        return;
    }
    let mut t = t0;
    while t < t1 {
        let p = ((t / period_days) as usize).min(periods - 1);
        let end = if p + 1 == periods {
            t1
        } else {
            (((p + 1) as f64) * period_days).min(t1)
        };
        let end = if end <= t { t1 } else { end };
        add(p, ((end - t) * per_day).round() as i64);
        t = end;
    }
}

/// Whether a design changes nothing about purchases (used to skip work).
pub fn is_control(d: &Design) -> bool {
    d.enrolment.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::design::Promotion;

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

    #[test]
    fn accrual_splits_over_periods() {
        let mut v = vec![0i64; 3];
        accrue(5.0, 25.0, 10.0, 10.0, 3, |p, c| v[p] += c);
        assert_eq!(v, vec![50, 100, 50]);
    }
}

//! `[designs.tiers]`: status levels that members reach on points, spend or orders, over a
//! lifetime, calendar-year or rolling window, with a downgrade policy and grace period.

use std::collections::VecDeque;

use serde::Deserialize;

use super::ledger::{year_end_after, YEAR_DAYS};
use super::part::{points, Cx, DesignCheck, Order, Part, Stay};
use super::response::{multipliers, Multipliers, RawMultipliers};
use crate::scenario::units::{to_cents, Days, Money, Multiplier, Points, Probability, Threshold};
use crate::Result;

/// What qualifies a member for a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierMetric {
    /// Points earned from purchases.
    Points,
    /// Spend (order value).
    Spend,
    /// Number of orders.
    Orders,
}

/// Over which window the qualifying metric is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierWindow {
    /// Since joining.
    Lifetime,
    /// The current calendar year; status is reviewed at each year end.
    CalendarYear,
    /// The last 365 days; status is reviewed at each month end.
    #[serde(rename = "rolling-12-months")]
    Rolling12Months,
}

/// What happens when a member no longer qualifies for their tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downgrade {
    /// Status is kept.
    None,
    /// Down one tier per review.
    OneDown,
    /// Straight to the tier the metric qualifies for.
    ReEvaluate,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTierLevel {
    pub name: String,
    pub threshold: Threshold,
    pub earn_multiplier: Option<Multiplier>,
    pub discount: Option<Probability>,
    pub free_shipping_value: Option<Money>,
    pub upgrade_bonus: Option<Points>,
    pub response: Option<RawMultipliers>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTiers {
    pub metric: TierMetric,
    pub window: Option<TierWindow>,
    pub downgrade: Option<Downgrade>,
    pub grace_days: Option<Days>,
    pub levels: Vec<RawTierLevel>,
}

/// One tier level.
#[derive(Debug, Clone, PartialEq)]
pub struct TierLevel {
    /// Name.
    pub name: String,
    /// Qualifying threshold (points, cents of spend, or orders).
    pub threshold: u64,
    /// Multiplier on purchase points.
    pub earn_multiplier: f64,
    /// Discount on order value.
    pub discount: f64,
    /// Shipping paid by the merchant per order, cents.
    pub free_shipping_cents: i64,
    /// Points awarded on reaching the tier.
    pub upgrade_bonus: u64,
    /// Extra behavioural response of members in this tier.
    pub response: Multipliers,
}

/// A tier programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiers {
    /// What qualifies.
    pub metric: TierMetric,
    /// Over which window.
    pub window: TierWindow,
    /// Downgrade policy.
    pub downgrade: Downgrade,
    /// Days a member may stay below their tier's threshold before a downgrade.
    pub grace_days: f64,
    /// Levels by increasing threshold; the first is the entry tier.
    pub levels: Vec<TierLevel>,
}

/// Tiers; `earns` says whether the design earns purchase points (needed by metric points).
pub(crate) fn validate(dc: &DesignCheck, t: &RawTiers, earns: bool) -> Result<Tiers> {
    if t.levels.is_empty() {
        return Err(dc.err("tiers.levels", "needs at least one level"));
    }
    let mut levels: Vec<TierLevel> = Vec::new();
    for (k, l) in t.levels.iter().enumerate() {
        let threshold = match t.metric {
            TierMetric::Spend => to_cents(l.threshold.get()) as u64,
            _ => points(l.threshold),
        };
        if let Some(prev) = levels.last() {
            if threshold <= prev.threshold {
                return Err(dc.err(
                    &format!("tiers.levels[{k}].threshold"),
                    format!(
                        "tier thresholds must be strictly increasing: `{}` ({}) does not exceed `{}`",
                        l.name,
                        l.threshold.get(),
                        prev.name
                    ),
                ));
            }
        }
        levels.push(TierLevel {
            name: l.name.clone(),
            threshold,
            earn_multiplier: l.earn_multiplier.map_or(1.0, |x| x.get()),
            discount: l.discount.map_or(0.0, |x| x.get()),
            free_shipping_cents: to_cents(l.free_shipping_value.map_or(0.0, |x| x.get())),
            upgrade_bonus: l.upgrade_bonus.map_or(0, points),
            response: l
                .response
                .as_ref()
                .map_or(Multipliers::NEUTRAL, multipliers),
        });
    }
    if t.metric == TierMetric::Points && !earns {
        return Err(dc.err(
            "tiers.metric",
            "tiers qualify on points but the design earns none; add [designs.earn] or use metric = \"spend\"",
        ));
    }
    if levels.len() > 16 {
        return Err(dc.err("tiers.levels", "at most 16 levels are allowed"));
    }
    Ok(Tiers {
        metric: t.metric,
        window: t.window.unwrap_or(TierWindow::Lifetime),
        downgrade: t.downgrade.unwrap_or(Downgrade::None),
        grace_days: t.grace_days.map_or(0.0, |x| x.get()),
        levels,
    })
}

/// Days in a month (monthly reviews of a rolling window).
const MONTH_DAYS: f64 = YEAR_DAYS / 12.0;

/// The tier a qualifying value reaches: the highest level whose threshold it meets.
pub fn qualifying_level(levels: &[TierLevel], value: u64) -> Option<usize> {
    levels.iter().rposition(|l| l.threshold <= value)
}

/// A member's tier status.
#[derive(Debug)]
pub struct State {
    /// Current level (none before joining and after leaving).
    tier: Option<usize>,
    /// Qualifying value counted in the current window.
    qual: u64,
    /// Rolling window: (day, amount) of each qualifying event still counted.
    rolling: VecDeque<(f64, u64)>,
    /// Next scheduled review (calendar year or month end; infinity for lifetime).
    next_review: f64,
    /// End of the grace period below the tier's threshold (infinity: not in grace).
    grace_until: f64,
}

impl Default for State {
    fn default() -> Self {
        State {
            tier: None,
            qual: 0,
            rolling: VecDeque::new(),
            next_review: f64::INFINITY,
            grace_until: f64::INFINITY,
        }
    }
}

impl Tiers {
    /// The member's level, if any.
    pub fn level<'t>(&'t self, s: &State) -> Option<&'t TierLevel> {
        s.tier.map(|l| &self.levels[l])
    }

    /// Progress toward the next tier, in [0, 1).
    pub fn progress(&self, s: &State) -> f64 {
        let next = s.tier.map_or(0, |l| l + 1);
        match self.levels.get(next) {
            Some(level) if level.threshold > 0 => (s.qual as f64 / level.threshold as f64).min(1.0),
            _ => 0.0,
        }
    }

    /// Move the member to `level`: tier counts, the upgrade bonus, and the tier dynamics (a
    /// promotion lowers dropout a little, a demotion raises it more and is a benefit cut;
    /// both for good).
    fn set_tier(&self, s: &mut State, cx: &mut Cx<'_>, t: f64, level: Option<usize>) {
        if level == s.tier {
            return;
        }
        let p = cx.period(t);
        if let Some(old) = s.tier {
            cx.tally.periods[p].tier_delta[old] -= 1;
        }
        if let Some(new) = level {
            cx.tally.periods[p].tier_delta[new] += 1;
            let up = s.tier.is_none_or(|old| new > old);
            let bonus = self.levels[new].upgrade_bonus;
            if up && bonus > 0 && cx.member {
                cx.award(t, bonus);
            }
        }
        if cx.member {
            match (s.tier, level) {
                (Some(old), Some(new)) if new > old => {
                    cx.effects.dropout_penalty *= cx.behaviour.promotion_dropout;
                }
                (Some(old), new) if new.is_none_or(|n| n < old) && level.is_some() => {
                    cx.effects.dropout_penalty *=
                        cx.behaviour.demotion_dropout * cx.segment.benefit_cut_dropout;
                }
                _ => {}
            }
        }
        s.tier = level;
        cx.effects.rates_changed = true;
    }

    fn qualify(&self, s: &mut State, cx: &mut Cx<'_>, t: f64, amount: u64) {
        s.qual += amount;
        if self.window == TierWindow::Rolling12Months {
            s.rolling.push_back((t, amount));
        }
        let reached = qualifying_level(&self.levels, s.qual);
        if reached > s.tier {
            s.grace_until = f64::INFINITY;
            self.set_tier(s, cx, t, reached);
        }
    }

    fn review(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        let window = self.window;
        if window == TierWindow::Rolling12Months {
            while let Some(&(when, amount)) = s.rolling.front() {
                if when <= t - YEAR_DAYS {
                    s.qual -= amount;
                    s.rolling.pop_front();
                } else {
                    break;
                }
            }
        }
        let qualifies = qualifying_level(&self.levels, s.qual);
        let grace_over = s.grace_until <= t;
        if s.next_review <= t {
            s.next_review = match window {
                TierWindow::CalendarYear => s.next_review + YEAR_DAYS,
                TierWindow::Rolling12Months => s.next_review + MONTH_DAYS,
                TierWindow::Lifetime => f64::INFINITY,
            };
        }
        if qualifies < s.tier && self.downgrade != Downgrade::None {
            if self.grace_days > 0.0 && !grace_over {
                if s.grace_until.is_infinite() {
                    s.grace_until = t + self.grace_days;
                }
            } else {
                s.grace_until = f64::INFINITY;
                let target = match self.downgrade {
                    Downgrade::OneDown => s.tier.and_then(|l| l.checked_sub(1)),
                    _ => qualifies,
                };
                self.set_tier(s, cx, t, target.max(qualifies));
            }
        } else if grace_over {
            s.grace_until = f64::INFINITY;
        }
        if window == TierWindow::CalendarYear && !grace_over {
            // A new qualifying year starts.
            s.qual = 0;
        }
    }
}

impl Part for Tiers {
    type State = State;

    /// A member starts at the tier their qualifying value reaches; reviews are scheduled.
    fn on_join(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        self.set_tier(s, cx, t, qualifying_level(&self.levels, s.qual));
        s.next_review = match self.window {
            TierWindow::Lifetime => f64::INFINITY,
            TierWindow::CalendarYear => year_end_after(t),
            TierWindow::Rolling12Months => ((t / MONTH_DAYS).floor() + 1.0) * MONTH_DAYS,
        };
    }

    fn on_leave(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        self.set_tier(s, cx, t, None);
        s.next_review = f64::INFINITY;
        s.grace_until = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.next_review.min(s.grace_until)
    }

    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.next_review <= t || s.grace_until <= t {
            self.review(s, cx, t);
        }
        Stay::Member
    }

    /// Qualify on the order's points (set by earn), spend or count.
    fn on_purchase(&self, s: &mut State, cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        let amount = match self.metric {
            TierMetric::Points => o.points_earned,
            TierMetric::Spend => o.paid_cents.max(0) as u64,
            TierMetric::Orders => 1,
        };
        self.qualify(s, cx, t, amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::part::testing::Fixture;
    use crate::program::part::Checkout;
    use crate::scenario::behaviour::Behaviour;

    fn level(name: &str, threshold: u64, upgrade_bonus: u64) -> TierLevel {
        TierLevel {
            name: name.into(),
            threshold,
            earn_multiplier: 1.0,
            discount: 0.0,
            free_shipping_cents: 0,
            upgrade_bonus,
            response: Multipliers::NEUTRAL,
        }
    }

    fn tiers(metric: TierMetric, window: TierWindow, downgrade: Downgrade) -> Tiers {
        Tiers {
            metric,
            window,
            downgrade,
            grace_days: 0.0,
            levels: vec![
                level("base", 0, 0),
                level("silver", 3, 50),
                level("gold", 6, 0),
            ],
        }
    }

    fn order(paid_cents: i64) -> Order {
        Order {
            checkout: Checkout::Repeat,
            period: 0,
            paid_cents,
            paid: paid_cents as f64 / 100.0,
            earn_multiplier: 1.0,
            extra_earn_rate: 0.0,
            points_earned: 0,
            rewarded: false,
        }
    }

    #[test]
    fn orders_qualify_upward_with_bonus_and_promotion_effect() {
        let t = tiers(TierMetric::Orders, TierWindow::Lifetime, Downgrade::None);
        let mut f = Fixture::new();
        let b = Behaviour {
            promotion_dropout: 0.9,
            ..Behaviour::FIXED_LIFT
        };
        let mut s = State::default();
        let mut cx = f.cx();
        cx.behaviour = &b;
        t.on_join(&mut s, &mut cx, 0.0);
        assert_eq!(t.level(&s).map(|l| l.name.as_str()), Some("base"));
        assert_eq!(
            t.next_timer(&s),
            f64::INFINITY,
            "lifetime tiers are never reviewed"
        );
        for day in 1..=3 {
            t.on_purchase(&mut s, &mut cx, f64::from(day), &mut order(1_000));
        }
        assert_eq!(t.level(&s).map(|l| l.name.as_str()), Some("silver"));
        assert_eq!(cx.tally.points_issued, 50, "the silver upgrade bonus");
        assert_eq!(cx.effects.dropout_penalty, 0.9, "one promotion");
        assert!((t.progress(&s) - 0.5).abs() < 1e-12, "3 of gold's 6 orders");
        assert_eq!(cx.tally.periods[0].tier_delta[..3], [0, 1, 0]);
        // Leaving ends the tier.
        cx.member = false;
        t.on_leave(&mut s, &mut cx, 20.0);
        assert_eq!(t.level(&s), None);
        assert_eq!(cx.tally.periods[0].tier_delta[..3], [0, 0, 0]);
    }

    #[test]
    fn calendar_year_review_downgrades_one_step_and_restarts_the_count() {
        let t = tiers(
            TierMetric::Spend,
            TierWindow::CalendarYear,
            Downgrade::OneDown,
        );
        let mut f = Fixture::new();
        let mut s = State::default();
        let mut cx = f.cx();
        t.on_join(&mut s, &mut cx, 10.0);
        assert_eq!(t.next_timer(&s), YEAR_DAYS, "first review at the year end");
        t.on_purchase(&mut s, &mut cx, 20.0, &mut order(7));
        assert_eq!(t.level(&s).map(|l| l.name.as_str()), Some("gold"));
        // Nothing spent in year 2: one step down at each review.
        t.on_timer(&mut s, &mut cx, YEAR_DAYS);
        assert_eq!(
            t.level(&s).map(|l| l.name.as_str()),
            Some("gold"),
            "year 1 qualified"
        );
        t.on_timer(&mut s, &mut cx, 2.0 * YEAR_DAYS);
        assert_eq!(t.level(&s).map(|l| l.name.as_str()), Some("silver"));
        assert_eq!(t.next_timer(&s), 3.0 * YEAR_DAYS);
    }

    #[test]
    fn grace_period_delays_a_downgrade() {
        let mut t = tiers(
            TierMetric::Orders,
            TierWindow::CalendarYear,
            Downgrade::ReEvaluate,
        );
        t.grace_days = 30.0;
        let mut f = Fixture::new();
        let mut s = State::default();
        let mut cx = f.cx();
        t.on_join(&mut s, &mut cx, 0.0);
        for day in 1..=6 {
            t.on_purchase(&mut s, &mut cx, f64::from(day), &mut order(100));
        }
        t.on_timer(&mut s, &mut cx, YEAR_DAYS);
        t.on_timer(&mut s, &mut cx, 2.0 * YEAR_DAYS);
        assert_eq!(
            t.level(&s).map(|l| l.name.as_str()),
            Some("gold"),
            "in grace"
        );
        assert_eq!(t.next_timer(&s), 2.0 * YEAR_DAYS + 30.0);
        t.on_timer(&mut s, &mut cx, 2.0 * YEAR_DAYS + 30.0);
        assert_eq!(
            t.level(&s).map(|l| l.name.as_str()),
            Some("base"),
            "re-evaluated"
        );
    }
}

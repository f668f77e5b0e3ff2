//! `[designs.tiers]`: status levels that members reach on points, spend or orders, over a
//! lifetime, calendar-year or rolling window, with a downgrade policy and grace period.

use serde::Deserialize;

use super::part::{points, DesignCheck};
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

/// The tier a qualifying value reaches: the highest level whose threshold it meets.
pub fn qualifying_level(levels: &[TierLevel], value: u64) -> Option<usize> {
    levels.iter().rposition(|l| l.threshold <= value)
}

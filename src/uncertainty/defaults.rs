//! Documented default ranges of the illustrative behavioural defaults.
//!
//! The README's behaviour table marks which defaults are calibrated to a published finding
//! and which are illustrative magnitudes. With `[uncertainty]`, every illustrative default a
//! design does not set itself becomes an uncertain input: a triangular distribution with its
//! peak at the default and the range below, so the decision reflects what is not known.
//! Calibrated defaults (goal-gradient rate strength, dropout strength, self-selection
//! elasticity) stay fixed unless the scenario gives them a distribution.

/// One default range.
#[derive(Debug, Clone, Copy)]
pub struct DefaultRange {
    /// Key under `[designs.behaviour]`.
    pub key: &'static str,
    /// The model's default (the triangle's peak).
    pub default: f64,
    /// Lowest plausible value.
    pub low: f64,
    /// Highest plausible value.
    pub high: f64,
    /// A whole number (days).
    pub integer: bool,
    /// Where the default and the range come from.
    pub source: &'static str,
}

const KIVETZ: &str = "Kivetz, Urminsky & Zheng 2006: direction only (activity drops and defection peaks after a reward); range spans no effect to twice the default";
const TAYLOR: &str = "Taylor & Neslin 2005: rewarded-behaviour effect, illustrative magnitude; range from no lift to twice the default";
const WAGNER: &str = "Wagner, Hennig-Thurau & Rudolph 2009: demotion hurts more than promotion helps (direction); magnitudes illustrative";

/// The table (also in README.md, "Uncertainty and decisions").
pub const DEFAULT_RANGES: &[DefaultRange] = &[
    DefaultRange { key: "post_reward.dip", default: 0.9, low: 0.8, high: 1.0, integer: false, source: KIVETZ },
    DefaultRange { key: "post_reward.dip_days", default: 7.0, low: 0.0, high: 14.0, integer: true, source: KIVETZ },
    DefaultRange { key: "post_reward.dropout", default: 1.2, low: 1.0, high: 1.4, integer: false, source: KIVETZ },
    DefaultRange { key: "post_reward.dropout_days", default: 14.0, low: 0.0, high: 28.0, integer: true, source: KIVETZ },
    DefaultRange { key: "post_reward.rewarded_lift", default: 1.05, low: 1.0, high: 1.1, integer: false, source: TAYLOR },
    DefaultRange { key: "post_reward.rewarded_days", default: 180.0, low: 90.0, high: 365.0, integer: true, source: TAYLOR },
    DefaultRange { key: "tier_dynamics.chase_strength", default: 0.15, low: 0.0, high: 0.3, integer: false, source: WAGNER },
    DefaultRange { key: "tier_dynamics.promotion_dropout", default: 0.95, low: 0.9, high: 1.0, integer: false, source: WAGNER },
    DefaultRange { key: "tier_dynamics.demotion_dropout", default: 1.3, low: 1.0, high: 1.6, integer: false, source: WAGNER },
    DefaultRange { key: "heavy_buyers.response_factor", default: 0.0, low: 0.0, high: 0.5, integer: false, source: "Liu 2007: heavy buyers took rewards without changing behaviour (0); up to half the response allowed" },
    DefaultRange { key: "category_shift", default: 0.1, low: 0.0, high: 0.2, integer: false, source: "guides' claim that points multipliers steer the basket mix [V]; illustrative, range from no shift to twice the default" },
];

//! `[designs.behaviour]`: how members respond to a program, mechanism by mechanism, with
//! defaults taken from the literature (shared/domain.md, "What a program does to
//! behaviour"). Vendor ROI calculators apply one fixed lift to members; `model =
//! "fixed-lift"` reproduces that view (only `response` multipliers act), while the default
//! `model = "literature"` switches on every mechanism that applies to the design's parts.
//!
//! Every strength `s` below acts as a multiplier `1 + s x (...)`, and the design's reward
//! `relevance` scales every strength (Colloquy-type surveys: 44% of complaints are about
//! irrelevant rewards; an irrelevant program moves nobody).

use serde::Deserialize;

use super::units::{Days, Multiplier, PositiveMultiplier, Probability};
use super::Checker;
use crate::Result;

/// Which behavioural model a design uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// The mechanisms below, with their defaults.
    Literature,
    /// Only the design's `response` multipliers (the vendor-calculator view).
    FixedLift,
}

/// Raw `[designs.behaviour]`; keys documented in README.md ("Customer response").
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBehaviour {
    pub model: Option<Model>,
    pub relevance: Option<Multiplier>,
    pub goal_gradient: Option<RawGoalGradient>,
    pub post_reward: Option<RawPostReward>,
    pub self_selection: Option<RawSelfSelection>,
    pub heavy_buyers: Option<RawHeavyBuyers>,
    pub tier_dynamics: Option<RawTierDynamics>,
    pub category_shift: Option<Multiplier>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGoalGradient {
    pub rate_strength: Option<Multiplier>,
    pub dropout_strength: Option<Probability>,
    pub curvature: Option<PositiveMultiplier>,
    pub dropout_curvature: Option<PositiveMultiplier>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostReward {
    pub dip: Option<Multiplier>,
    pub dip_days: Option<Days>,
    pub dropout: Option<Multiplier>,
    pub dropout_days: Option<Days>,
    pub rewarded_lift: Option<Multiplier>,
    pub rewarded_days: Option<Days>,
    pub after_event_points: Option<bool>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelfSelection {
    pub rate_elasticity: Multiplier,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeavyBuyers {
    pub threshold: Option<PositiveMultiplier>,
    pub response_factor: Option<Multiplier>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTierDynamics {
    pub chase_strength: Option<Multiplier>,
    pub promotion_dropout: Option<Multiplier>,
    pub demotion_dropout: Option<Multiplier>,
}

/// The validated behaviour of a design's members. All-neutral values switch a mechanism
/// off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Perceived value of the rewards: scales every response strength (1 = as calibrated).
    pub relevance: f64,
    /// Goal gradient: purchase rate x (1 + rate_strength x progress^curvature) toward the
    /// next reward (punch card or points threshold). Kivetz, Urminsky & Zheng (2006): the
    /// time between purchases fell ~20% from the first to the last stamp of a buy-10 card;
    /// rate_strength 0.32 gives 1/(1 + 0.32 x 0.9) ~ 0.78 of the first interval at the
    /// ninth stamp versus 1/(1 + 0.032) at the first.
    pub gg_rate: f64,
    /// Goal commitment: dropout x (1 - dropout_strength x progress). Calibrated so a
    /// 10-stamp card with 2 free stamps is completed by ~34% vs ~19% for a plain 8-stamp
    /// card (Nunes & Dreze 2006): progress already made keeps customers coming.
    pub gg_dropout: f64,
    /// Curvature of the goal gradient on the rate (1 = linear in the share of distance
    /// covered).
    pub gg_curvature: f64,
    /// Curvature of goal commitment on dropout (< 1: having started matters most; a task
    /// seen as already begun holds customers from the first stamp, Nunes & Dreze 2006).
    pub gg_dropout_curvature: f64,
    /// Post-reward reset: purchase rate x dip for `dip_days` after a reward (Kivetz et
    /// al. 2006: activity drops right after a reward).
    pub reset_dip: f64,
    /// Days the dip lasts.
    pub reset_dip_days: f64,
    /// Dropout x this for `dropout_days` after a reward (defection risk peaks then).
    pub reset_dropout: f64,
    /// Days the raised dropout risk lasts.
    pub reset_dropout_days: f64,
    /// Rewarded behaviour: purchase rate x this for `rewarded_days` after a redemption
    /// (Taylor & Neslin 2005).
    pub rewarded_lift: f64,
    /// Days the rewarded-behaviour lift lasts.
    pub rewarded_days: f64,
    /// Whether a reward paid for by event-bonus points (reviews, shares, sign-up) also
    /// starts the post-reward effects. Off by default: Kivetz et al. 2006 measured the
    /// reset after a goal reached through purchase effort, not after small free bonuses.
    pub after_event_points: bool,
    /// Self-selection: opt-in probability x (lambda / segment mean)^elasticity, capped at
    /// 1: heavier buyers enrol first (Leenheer et al. 2007; Meyer-Waarden & Benavent 2009).
    pub selection_elasticity: f64,
    /// Customers whose rate exceeds `heavy_threshold` x their segment's mean are heavy.
    pub heavy_threshold: f64,
    /// Heavy buyers' response strength as a share of the others' (Liu 2007: heavy buyers
    /// claimed rewards without changing behaviour; 0).
    pub heavy_response: f64,
    /// Tier chase: rate x (1 + chase x progress^curvature) toward the next tier.
    pub tier_chase: f64,
    /// Dropout x this for good after a promotion.
    pub promotion_dropout: f64,
    /// Dropout x this for good after a demotion (Wagner, Hennig-Thurau & Rudolph 2009:
    /// demotion hurts more than promotion helps).
    pub demotion_dropout: f64,
    /// Category shift: a category's share of a member's spend x (1 + shift x (points
    /// multiplier - 1)), the rest scaled down to keep the basket whole.
    pub category_shift: f64,
}

impl Behaviour {
    /// No mechanism at all: the vendor-calculator view.
    pub const FIXED_LIFT: Behaviour = Behaviour {
        relevance: 1.0,
        gg_rate: 0.0,
        gg_dropout: 0.0,
        gg_curvature: 1.0,
        gg_dropout_curvature: 1.0,
        reset_dip: 1.0,
        reset_dip_days: 0.0,
        reset_dropout: 1.0,
        reset_dropout_days: 0.0,
        rewarded_lift: 1.0,
        rewarded_days: 0.0,
        after_event_points: false,
        selection_elasticity: 0.0,
        heavy_threshold: f64::INFINITY,
        heavy_response: 1.0,
        tier_chase: 0.0,
        promotion_dropout: 1.0,
        demotion_dropout: 1.0,
        category_shift: 0.0,
    };

    /// The literature defaults (sources in the field docs).
    pub const LITERATURE: Behaviour = Behaviour {
        relevance: 1.0,
        gg_rate: 0.26,
        gg_dropout: 1.0,
        gg_curvature: 1.0,
        gg_dropout_curvature: 0.1,
        reset_dip: 0.9,
        reset_dip_days: 7.0,
        reset_dropout: 1.2,
        reset_dropout_days: 14.0,
        rewarded_lift: 1.05,
        rewarded_days: 180.0,
        after_event_points: false,
        selection_elasticity: 0.3,
        heavy_threshold: 2.0,
        heavy_response: 0.0,
        tier_chase: 0.15,
        promotion_dropout: 0.95,
        demotion_dropout: 1.3,
        category_shift: 0.1,
    };

    /// Scale a multiplier's strength by relevance and (for heavy buyers) the heavy-buyer
    /// factor: 1 + factor x (m - 1).
    #[inline]
    pub fn scaled(m: f64, factor: f64) -> f64 {
        1.0 + factor * (m - 1.0)
    }
}

/// Validate `[designs.behaviour]` of design `i`.
pub(crate) fn validate(ck: &Checker, i: usize, raw: Option<&RawBehaviour>) -> Result<Behaviour> {
    let empty = RawBehaviour::default();
    let r = raw.unwrap_or(&empty);
    let f = |k: &str| format!("designs[{i}].behaviour.{k}");
    let base = match r.model.unwrap_or(Model::Literature) {
        Model::Literature => Behaviour::LITERATURE,
        Model::FixedLift => {
            let tuned = r.goal_gradient.is_some()
                || r.post_reward.is_some()
                || r.self_selection.is_some()
                || r.heavy_buyers.is_some()
                || r.tier_dynamics.is_some()
                || r.category_shift.is_some();
            if tuned {
                return Err(ck.err(
                    f("model"),
                    "`fixed-lift` applies only the `response` multipliers; remove the mechanism tables or use model = \"literature\"",
                ));
            }
            Behaviour::FIXED_LIFT
        }
    };
    let mut b = base;
    if let Some(x) = r.relevance {
        b.relevance = x.get();
    }
    if let Some(g) = &r.goal_gradient {
        b.gg_rate = g.rate_strength.map_or(b.gg_rate, |x| x.get());
        b.gg_dropout = g.dropout_strength.map_or(b.gg_dropout, |x| x.get());
        b.gg_curvature = g.curvature.map_or(b.gg_curvature, |x| x.get());
        b.gg_dropout_curvature = g
            .dropout_curvature
            .map_or(b.gg_dropout_curvature, |x| x.get());
    }
    if let Some(p) = &r.post_reward {
        b.reset_dip = p.dip.map_or(b.reset_dip, |x| x.get());
        b.reset_dip_days = p.dip_days.map_or(b.reset_dip_days, |x| x.get());
        b.reset_dropout = p.dropout.map_or(b.reset_dropout, |x| x.get());
        b.reset_dropout_days = p.dropout_days.map_or(b.reset_dropout_days, |x| x.get());
        b.rewarded_lift = p.rewarded_lift.map_or(b.rewarded_lift, |x| x.get());
        b.rewarded_days = p.rewarded_days.map_or(b.rewarded_days, |x| x.get());
        b.after_event_points = p.after_event_points.unwrap_or(b.after_event_points);
    }
    if let Some(s) = &r.self_selection {
        b.selection_elasticity = s.rate_elasticity.get();
        if b.selection_elasticity > 10.0 {
            return Err(ck.err(f("self_selection.rate_elasticity"), "must be at most 10"));
        }
    }
    if let Some(h) = &r.heavy_buyers {
        b.heavy_threshold = h.threshold.map_or(b.heavy_threshold, |x| x.get());
        b.heavy_response = h.response_factor.map_or(b.heavy_response, |x| x.get());
    }
    if let Some(t) = &r.tier_dynamics {
        b.tier_chase = t.chase_strength.map_or(b.tier_chase, |x| x.get());
        b.promotion_dropout = t.promotion_dropout.map_or(b.promotion_dropout, |x| x.get());
        b.demotion_dropout = t.demotion_dropout.map_or(b.demotion_dropout, |x| x.get());
    }
    if let Some(c) = r.category_shift {
        b.category_shift = c.get();
    }
    for (name, v) in [
        ("relevance", b.relevance),
        ("goal_gradient.rate_strength", b.gg_rate),
        ("tier_dynamics.chase_strength", b.tier_chase),
    ] {
        if v > 100.0 {
            return Err(ck.err(f(name), format!("must be at most 100, got {v}")));
        }
    }
    Ok(b)
}

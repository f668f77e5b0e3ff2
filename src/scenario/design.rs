//! `[[designs]]`: the candidate loyalty programs of a scenario.
//!
//! A design is a label (`kind`) plus composable program parts, each an optional table:
//! `enrolment`, `response`, `costs`, `earn`, `events`, `points`, `redemption`, `cashback`,
//! `tiers`, `membership`, `punch_card`, `referral`, `acquisition`, `winback`. Real programs
//! combine them (points + tiers + referral is common). `kind` is shown in the results and
//! acts as a preset: a kind whose defining part is missing gets that part with defaults
//! drawn from the domain brief (see [`preset`]). The control (`kind = "none"`) has no parts.
//!
//! Each part lives in its own file under `src/program/` (its TOML table, validation,
//! per-customer state and reactions); this file only assembles them. [`RawDesign`] and
//! [`Design`] are the one list of parts: [`Design::parts`] and [`RawDesign::has_parts`]
//! destructure them exhaustively, so a new part field does not compile until `check`, the
//! report and the control know about it.

use serde::Deserialize;

use super::Checker;
pub use crate::program::acquisition::{ExtraAcquisition, RawDesignAcquisition};
pub use crate::program::cashback::{Cashback, RawCashback};
pub use crate::program::costs::{Costs, RawCosts};
pub use crate::program::earn::{Earn, Promotion, RawEarn, RawPromotion};
pub use crate::program::enrolment::{Enrolment, EnrolmentMode, RawEnrolment};
pub use crate::program::events::{
    Events, OnceEvent, RawEvents, RawOnce, RawRecurring, RecurringEvent,
};
pub use crate::program::membership::{
    Billing, JoinDecision, Membership, RawBenefits, RawMembership,
};
pub use crate::program::points::{Expiry, ExpiryMode, RawExpiry, RawLifecycle};
pub use crate::program::punch_card::{PunchCard, RawPunchCard};
pub use crate::program::redemption::{RawCash, RawRedemption, RawReward, Redemption, Reward};
pub use crate::program::referral::{RawReferral, Referral, ReferralTrigger};
pub use crate::program::response::{Multipliers, RawMultipliers, RawResponse};
pub use crate::program::tiers::{
    Downgrade, RawTierLevel, RawTiers, TierLevel, TierMetric, TierWindow, Tiers,
};
pub use crate::program::winback::{RawWinback, Winback};
use crate::program::{self as part, part::DesignCheck};
use crate::Result;

/// Program kinds: a label and a preset for the parts a design combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// No program: the control.
    None,
    /// Points per currency unit, redeemed for rewards.
    Points,
    /// A share of spend back as store credit.
    Cashback,
    /// Status levels with better benefits.
    Tiered,
    /// A fee for member benefits.
    Paid,
    /// One stamp per purchase, a reward after N stamps.
    PunchCard,
    /// Rewards for bringing in new customers.
    Referral,
    /// Several of the above combined.
    Hybrid,
}

impl Kind {
    /// Name as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Points => "points",
            Kind::Cashback => "cashback",
            Kind::Tiered => "tiered",
            Kind::Paid => "paid",
            Kind::PunchCard => "punch-card",
            Kind::Referral => "referral",
            Kind::Hybrid => "hybrid",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Raw TOML mirror. Field docs: each field is the TOML key of the same name, documented in
// README.md ("Program designs").

/// One `[[designs]]` entry as written.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesign {
    pub name: String,
    pub kind: Kind,
    pub enrolment: Option<RawEnrolment>,
    pub response: Option<RawResponse>,
    pub costs: Option<RawCosts>,
    pub earn: Option<RawEarn>,
    pub events: Option<RawEvents>,
    pub points: Option<RawLifecycle>,
    pub redemption: Option<RawRedemption>,
    pub cashback: Option<RawCashback>,
    pub tiers: Option<RawTiers>,
    pub membership: Option<RawMembership>,
    pub punch_card: Option<RawPunchCard>,
    pub referral: Option<RawReferral>,
    pub behaviour: Option<super::behaviour::RawBehaviour>,
    pub acquisition: Option<RawDesignAcquisition>,
    pub winback: Option<RawWinback>,
    pub start_day: Option<crate::scenario::units::Days>,
}

impl RawDesign {
    /// Whether the design gives any part table (a `none` design may not).
    pub fn has_parts(&self) -> bool {
        // Exhaustive on purpose: a new part field must be listed here.
        let RawDesign {
            name: _,
            kind: _,
            enrolment,
            response,
            costs,
            earn,
            events,
            points,
            redemption,
            cashback,
            tiers,
            membership,
            punch_card,
            referral,
            behaviour,
            acquisition,
            winback,
            start_day,
        } = self;
        start_day.is_some()
            || enrolment.is_some()
            || response.is_some()
            || costs.is_some()
            || earn.is_some()
            || events.is_some()
            || points.is_some()
            || redemption.is_some()
            || cashback.is_some()
            || tiers.is_some()
            || membership.is_some()
            || punch_card.is_some()
            || referral.is_some()
            || behaviour.is_some()
            || acquisition.is_some()
            || winback.is_some()
    }
}

// ---------------------------------------------------------------------------------------
// Validated, engine-ready design. Money in cents, times in days, points as integers.

/// A validated design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Unique name within the scenario.
    pub name: String,
    /// Label shown in the results.
    pub kind: Kind,
    /// Who joins; `None` for a design without membership (the control).
    pub enrolment: Option<Enrolment>,
    /// Members' response per segment.
    pub response: Vec<Multipliers>,
    /// Program costs.
    pub costs: Costs,
    /// Purchase earning.
    pub earn: Option<Earn>,
    /// Non-purchase earning.
    pub events: Events,
    /// Days before earned points can be spent.
    pub pending_days: f64,
    /// Point expiry.
    pub expiry: Expiry,
    /// Redemption rules.
    pub redemption: Option<Redemption>,
    /// Store credit (counted in the points ledger, 1 point = 1 cent).
    pub cashback: Option<Cashback>,
    /// Tiers.
    pub tiers: Option<Tiers>,
    /// Paid membership.
    pub membership: Option<Membership>,
    /// Punch card.
    pub punch_card: Option<PunchCard>,
    /// Referrals.
    pub referral: Option<Referral>,
    /// How members respond, mechanism by mechanism.
    pub behaviour: super::behaviour::Behaviour,
    /// Extra customers the design attracts.
    pub acquisition: Option<ExtraAcquisition>,
    /// Win-back campaign.
    pub winback: Option<Winback>,
    /// Launch day, days from the horizon start: no enrolment, earning or program costs
    /// before it (0: the program runs from day 0; the control: 0).
    pub start_day: f64,
}

impl Design {
    /// The plain control design.
    pub fn control(name: &str) -> Self {
        Design {
            name: name.to_string(),
            kind: Kind::None,
            enrolment: None,
            response: Vec::new(),
            costs: Costs::default(),
            earn: None,
            events: Events::default(),
            pending_days: 0.0,
            expiry: Expiry::None,
            redemption: None,
            cashback: None,
            tiers: None,
            membership: None,
            punch_card: None,
            referral: None,
            behaviour: super::behaviour::Behaviour::FIXED_LIFT,
            acquisition: None,
            winback: None,
            start_day: 0.0,
        }
    }

    /// Whether the design keeps a points (or credit) ledger.
    pub fn has_ledger(&self) -> bool {
        self.earn.is_some()
            || self.cashback.is_some()
            || self.events.any()
            || self
                .tiers
                .as_ref()
                .is_some_and(|t| t.levels.iter().any(|l| l.upgrade_bonus > 0))
    }

    /// The program parts this design combines, as `check` and the report's assumptions
    /// list them. Exhaustive on purpose: a new part field must get a label here.
    pub fn parts(&self) -> Vec<&'static str> {
        let Design {
            name: _,
            kind: _,
            enrolment,
            response,
            costs,
            earn,
            events,
            pending_days,
            expiry,
            redemption,
            cashback,
            tiers,
            membership,
            punch_card,
            referral,
            // The behavioural model is described in the assumptions' model text.
            behaviour: _,
            acquisition,
            winback,
            start_day,
        } = self;
        let mut v = Vec::new();
        if let Some(e) = enrolment {
            v.push(e.label());
        }
        let flags = [
            (
                response.iter().any(|m| *m != Multipliers::NEUTRAL),
                "response",
            ),
            (costs.any(), "costs"),
            (earn.is_some(), "earn"),
            (events.any(), "events"),
            (*pending_days > 0.0, "pending points"),
            (*expiry != Expiry::None, "expiry"),
            (redemption.is_some(), "redemption"),
            (cashback.is_some(), "cashback"),
            (tiers.is_some(), "tiers"),
            (membership.is_some(), "membership"),
            (punch_card.is_some(), "punch card"),
            (referral.is_some(), "referral"),
            (acquisition.is_some(), "adverse-selection acquisition"),
            (winback.is_some(), "win-back"),
            (*start_day > 0.0, "delayed launch (start_day)"),
        ];
        v.extend(flags.iter().filter(|(on, _)| *on).map(|(_, n)| *n));
        v
    }

    /// Cost to the merchant of one outstanding point, in cents (credit: 1 cent).
    pub fn cost_per_point(&self) -> f64 {
        if self.cashback.is_some() {
            1.0
        } else {
            self.redemption
                .as_ref()
                .map_or(0.0, Redemption::cost_per_point)
        }
    }
}

/// Fill in the parts a kind implies when the scenario leaves them out (values from the
/// domain brief: 1 point per currency unit with a 1-5% payback; a small reward within 2-4
/// purchases; cashback 2%; a buy-10 punch card).
pub fn preset(d: &mut RawDesign) {
    match d.kind {
        Kind::Points | Kind::Tiered => {
            if d.earn.is_none() && d.cashback.is_none() {
                d.earn = Some(RawEarn::preset());
            }
            if d.earn.is_some() && d.redemption.is_none() {
                d.redemption = Some(RawRedemption::preset());
            }
        }
        Kind::Cashback if d.cashback.is_none() => d.cashback = Some(RawCashback::preset()),
        Kind::PunchCard if d.punch_card.is_none() => {
            d.punch_card = Some(RawPunchCard::preset());
        }
        _ => {}
    }
}

/// Validate one design (`i` is its index in `[[designs]]`) against the scenario's segments:
/// each part validates its own table (in `src/program/`), then the rules between parts.
/// The order of the checks is the order in which errors are reported.
pub(crate) fn validate(
    ck: &Checker,
    i: usize,
    raw: &RawDesign,
    segments: &[String],
    categories: &[String],
    horizon_days: u32,
) -> Result<Design> {
    let mut d = raw.clone();
    preset(&mut d);
    let dc = DesignCheck {
        ck,
        base: format!("designs[{i}]"),
        segments,
        categories,
    };
    if d.kind == Kind::None {
        return control(&dc, &d);
    }
    let enrolment = part::enrolment::validate(&dc, d.enrolment.as_ref())?;
    let response = part::response::validate(&dc, d.response.as_ref())?;
    let costs = part::costs::validate(d.costs.as_ref());
    let Currency {
        earn,
        events,
        pending_days,
        expiry,
        redemption,
        cashback,
    } = currency(&dc, &d)?;
    let tiers = d
        .tiers
        .as_ref()
        .map(|t| part::tiers::validate(&dc, t, earn.is_some()))
        .transpose()?;
    let membership = d.membership.as_ref().map(part::membership::validate);
    if membership.is_some_and(|m| m.extra_earn_rate > 0.0) && redemption.is_none() {
        return Err(dc.err(
            "membership.benefits.extra_earn_rate",
            "members earn extra points but the design has no [designs.redemption] table",
        ));
    }
    let punch_card = d
        .punch_card
        .as_ref()
        .map(|p| part::punch_card::validate(&dc, p))
        .transpose()?;
    let referral = d
        .referral
        .as_ref()
        .map(|r| part::referral::validate(&dc, r))
        .transpose()?;
    let behaviour = super::behaviour::validate(ck, i, d.behaviour.as_ref())?;
    let acquisition = d
        .acquisition
        .as_ref()
        .map(|a| part::acquisition::validate(&dc, a))
        .transpose()?;
    let winback = winback(&dc, &d, redemption.is_some())?;
    if membership.is_some_and(|m| m.decision == JoinDecision::Value)
        && d.enrolment
            .as_ref()
            .is_some_and(|e| e.mode == EnrolmentMode::Auto)
    {
        return Err(dc.err(
            "membership.decision",
            "`value` decides who pays; it cannot be combined with enrolment mode \"auto\"",
        ));
    }
    let start_day = start_day(&dc, &d, horizon_days)?;
    Ok(Design {
        name: d.name.clone(),
        kind: d.kind,
        enrolment: Some(enrolment),
        response,
        costs,
        earn,
        events,
        pending_days,
        expiry,
        redemption,
        cashback,
        tiers,
        membership,
        punch_card,
        referral,
        behaviour,
        acquisition,
        winback,
        start_day,
    })
}

/// The control (`kind = "none"`): a design without parts.
fn control(dc: &DesignCheck, d: &RawDesign) -> Result<Design> {
    if d.has_parts() {
        return Err(dc.err(
            "kind",
            "a `none` design is the control and takes no program parts; give it another kind",
        ));
    }
    Ok(Design::control(&d.name))
}

/// `[designs.winback]`, whose bonus points need a redemption table to be worth anything.
fn winback(
    dc: &DesignCheck,
    d: &RawDesign,
    redeemable: bool,
) -> Result<Option<part::winback::Winback>> {
    let winback = d.winback.as_ref().map(part::winback::validate);
    if winback.is_some_and(|w| w.bonus_points > 0) && !redeemable {
        return Err(dc.err(
            "winback.bonus_points",
            "bonus points need a [designs.redemption] table to be spent",
        ));
    }
    Ok(winback)
}

/// The launch day: within the horizon (0 without `start_day`).
fn start_day(dc: &DesignCheck, d: &RawDesign, horizon_days: u32) -> Result<f64> {
    let start_day = d.start_day.map_or(0.0, |x| x.get());
    if start_day >= f64::from(horizon_days) {
        return Err(dc.err(
            "start_day",
            format!("must be a day within the horizon: 0 <= start_day < {horizon_days}"),
        ));
    }
    Ok(start_day)
}

/// The parts that make up a design's currency (points or store credit) and its rules.
struct Currency {
    earn: Option<Earn>,
    events: Events,
    pending_days: f64,
    expiry: Expiry,
    redemption: Option<Redemption>,
    cashback: Option<Cashback>,
}

/// Validate the currency parts, `earn`, `events`, `points`, `redemption` and `cashback`,
/// and the rules between them (one currency; points need a way to be spent; one expiry).
fn currency(dc: &DesignCheck, d: &RawDesign) -> Result<Currency> {
    if d.earn.is_some() && d.cashback.is_some() {
        return Err(dc.err(
            "cashback",
            "a design has one currency: either points (`earn`) or store credit (`cashback`), not both",
        ));
    }
    let earn = d
        .earn
        .as_ref()
        .map(|e| part::earn::validate(dc, e))
        .transpose()?;
    let events = part::events::validate(dc, d.events.as_ref())?;
    let (pending_days, expiry) = part::points::validate(dc, d.points.as_ref())?;
    let redemption = d
        .redemption
        .as_ref()
        .map(|r| part::redemption::validate(dc, r))
        .transpose()?;
    if (earn.is_some() || events.any()) && redemption.is_none() && d.cashback.is_none() {
        return Err(dc.err(
            "redemption",
            "points are earned but there is no [designs.redemption] table to spend them",
        ));
    }
    let cashback = d
        .cashback
        .as_ref()
        .map(|c| part::cashback::validate(dc, c))
        .transpose()?;
    // Store credit lives in the points ledger: its expiry is the ledger's.
    let expiry = match (&d.cashback, expiry) {
        (Some(c), Expiry::None) => c
            .expiry_days
            .map_or(Expiry::None, |x| Expiry::AfterEarning(x.get())),
        (Some(c), _) if c.expiry_days.is_some() => {
            return Err(dc.err(
                "cashback.expiry_days",
                "give the credit's expiry either here or in [designs.points].expiry, not both",
            ))
        }
        _ => expiry,
    };
    Ok(Currency {
        earn,
        events,
        pending_days,
        expiry,
        redemption,
        cashback,
    })
}

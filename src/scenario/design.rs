//! `[[designs]]`: the candidate loyalty programs of a scenario.
//!
//! A design is a label (`kind`) plus composable program parts, each an optional table:
//! `enrolment`, `response`, `costs`, `earn`, `events`, `points`, `redemption`, `cashback`,
//! `tiers`, `membership`, `punch_card`, `referral`. Real programs combine them (points +
//! tiers + referral is common). `kind` is shown in the results and acts as a preset: a kind
//! whose defining part is missing gets that part with defaults drawn from the domain brief
//! (see [`preset`]). The control (`kind = "none"`) has no parts.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::units::{
    to_cents, Count, Days, EarnRate, Money, Multiplier, PerDay, PerYear, Points, PositiveDays,
    PositiveMoney, PositivePoints, Probability, Spread, Threshold,
};
use super::{Checker, Period};
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
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesignAcquisition {
    pub extra_per_day: PerDay,
    pub cost_per_customer: Option<Money>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWinback {
    pub after_days: PositiveDays,
    pub cost_per_contact: Option<Money>,
    pub response_probability: Probability,
    pub bonus_points: Option<Points>,
    pub bonus_value: Option<Money>,
}

/// How customers become members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnrolmentMode {
    /// Every customer is enrolled right after their first purchase.
    Auto,
    /// Customers join with a probability at their first purchase (and optionally later).
    OptIn,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnrolment {
    pub mode: EnrolmentMode,
    pub probability: Option<Probability>,
    pub per_purchase: Option<Probability>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMultipliers {
    pub purchase_rate: Option<Multiplier>,
    pub dropout: Option<Multiplier>,
    pub order_value: Option<Multiplier>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    pub purchase_rate: Option<Multiplier>,
    pub dropout: Option<Multiplier>,
    pub order_value: Option<Multiplier>,
    pub segments: Option<BTreeMap<String, RawMultipliers>>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    pub launch: Option<Money>,
    pub platform_per_month: Option<Money>,
    pub per_member_per_month: Option<Money>,
}

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

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnce {
    pub points: Points,
    pub probability: Option<Probability>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurring {
    pub per_year: PerYear,
    pub points: Points,
    pub cap_per_period: Option<Points>,
    pub cap_period: Option<Period>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    pub signup: Option<RawOnce>,
    pub profile_completion: Option<RawOnce>,
    pub birthday: Option<RawOnce>,
    pub review: Option<RawRecurring>,
    pub social_share: Option<RawRecurring>,
}

/// When points expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryMode {
    /// Never.
    None,
    /// `days` after each lot was earned.
    AfterEarning,
    /// The whole balance, after `days` without a purchase.
    Inactivity,
    /// The whole balance at the end of each calendar year.
    EndOfYear,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpiry {
    pub mode: ExpiryMode,
    pub days: Option<PositiveDays>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    pub pending_days: Option<Days>,
    pub expiry: Option<RawExpiry>,
}

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

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCashback {
    pub rate: Probability,
    pub expiry_days: Option<PositiveDays>,
    pub use_probability: Option<Probability>,
    pub until_day: Option<Days>,
    pub after_rate: Option<Probability>,
}

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

/// How customers decide to pay for a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinDecision {
    /// With the enrolment probabilities.
    Probability,
    /// When the benefit they expect from their own purchase rate and basket beats the fee.
    Value,
}

/// Fee billing period of a paid membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Billing {
    /// Every 365.25 / 12 days.
    Month,
    /// Every 365.25 days.
    Year,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenefits {
    pub discount: Option<Probability>,
    pub free_shipping_value: Option<Money>,
    pub extra_earn_rate: Option<EarnRate>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembership {
    pub decision: Option<JoinDecision>,
    pub value_noise: Option<Spread>,
    pub fee: Money,
    pub billing: Option<Billing>,
    pub trial_days: Option<Days>,
    pub trial_conversion: Option<Probability>,
    pub renewal: Option<Probability>,
    pub benefits: Option<RawBenefits>,
}

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

/// When a referral reward is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferralTrigger {
    /// When the referred customer signs up.
    SignUp,
    /// When the referred customer makes a first purchase.
    FirstPurchase,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReferral {
    pub per_member_per_year: PerYear,
    pub referrer_reward: Option<Money>,
    pub referee_reward: Option<Money>,
    pub trigger: Option<ReferralTrigger>,
    pub first_purchase_probability: Option<Probability>,
    pub cost_per_referral: Option<Money>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

// ---------------------------------------------------------------------------------------
// Validated, engine-ready design. Money in cents, times in days, points as integers.

/// Multipliers on a customer's behaviour while they are a member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Multipliers {
    /// On the purchase rate.
    pub purchase_rate: f64,
    /// On the dropout probability (BG/NBD) or dropout rate (Pareto/NBD).
    pub dropout: f64,
    /// On each order's value.
    pub order_value: f64,
}

impl Multipliers {
    /// No change.
    pub const NEUTRAL: Multipliers = Multipliers {
        purchase_rate: 1.0,
        dropout: 1.0,
        order_value: 1.0,
    };

    /// Element-wise product.
    pub fn then(self, o: Multipliers) -> Multipliers {
        Multipliers {
            purchase_rate: self.purchase_rate * o.purchase_rate,
            dropout: self.dropout * o.dropout,
            order_value: self.order_value * o.order_value,
        }
    }
}

/// Who becomes a member, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    /// Auto or opt-in.
    pub mode: EnrolmentMode,
    /// Per segment: probability of joining at the first purchase.
    pub at_first: Vec<f64>,
    /// Per segment: probability of joining at each later purchase while not a member.
    pub per_purchase: Vec<f64>,
}

/// Program costs, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Costs {
    /// Once, at day 0.
    pub launch_cents: i64,
    /// Fixed per month (365.25 / 12 days).
    pub platform_per_month_cents: i64,
    /// Per member per month of membership.
    pub per_member_per_month: f64,
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

/// A one-off non-purchase event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnceEvent {
    /// Points awarded.
    pub points: u64,
    /// Probability a member does it (1 for sign-up; birthday is yearly).
    pub probability: f64,
}

/// A recurring non-purchase event (Poisson per member).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecurringEvent {
    /// Occurrences per member per year.
    pub per_year: f64,
    /// Points per occurrence.
    pub points: u64,
    /// Most awarded occurrences per cap period, and the period length in days.
    pub cap: Option<(u64, f64)>,
}

/// Non-purchase earning.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Events {
    /// Points for joining.
    pub signup: Option<OnceEvent>,
    /// Points for completing the profile (once, with a probability).
    pub profile_completion: Option<OnceEvent>,
    /// Points on each birthday while a member.
    pub birthday: Option<OnceEvent>,
    /// Reviews.
    pub review: Option<RecurringEvent>,
    /// Social shares.
    pub social_share: Option<RecurringEvent>,
}

impl Events {
    /// Whether any event is configured.
    pub fn any(&self) -> bool {
        self.signup.is_some()
            || self.profile_completion.is_some()
            || self.birthday.is_some()
            || self.review.is_some()
            || self.social_share.is_some()
    }
}

/// Point expiry rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expiry {
    /// Never.
    None,
    /// Each lot `days` after it was earned.
    AfterEarning(f64),
    /// The whole balance after this many days without a purchase.
    Inactivity(f64),
    /// The whole balance at each calendar year end.
    EndOfYear,
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

/// Store credit back on spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cashback {
    /// Share of order value credited.
    pub rate: f64,
    /// Probability the member uses available credit at a purchase.
    pub use_probability: f64,
    /// From this day on the rate is `after_rate` (an introductory offer ending).
    pub until_day: f64,
    /// The rate after `until_day`.
    pub after_rate: f64,
}

impl Cashback {
    /// The credit rate in force on day `t`.
    pub fn rate_at(&self, t: f64) -> f64 {
        if t < self.until_day {
            self.rate
        } else {
            self.after_rate
        }
    }
}

/// Customers a design brings in beyond the scenario's acquisition: a design that leads
/// with discounts draws more deal seekers (adverse selection).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraAcquisition {
    /// Extra Poisson arrivals per day under this design.
    pub per_day: f64,
    /// Their acquisition cost, cents.
    pub cost_per_customer_cents: i64,
    /// Cumulative segment mix (empty: the population's).
    pub segment_cumulative: Vec<f64>,
}

/// A win-back campaign for members showing a churn signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Winback {
    /// Days without a purchase that trigger a contact.
    pub after_days: f64,
    /// Cost per contact, cents.
    pub cost_per_contact_cents: i64,
    /// Probability that a still-active contacted member responds with a purchase.
    pub response_probability: f64,
    /// Points given with the offer on response.
    pub bonus_points: u64,
    /// Cash value of the offer on response (reward cost), cents.
    pub bonus_value_cents: i64,
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

/// A paid membership.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Membership {
    /// How customers decide to join, convert and renew.
    pub decision: JoinDecision,
    /// Log-normal sd of the perceived benefit around its expected value (heterogeneity).
    pub value_noise: f64,
    /// Fee per billing period, cents.
    pub fee_cents: i64,
    /// Billing period in days.
    pub billing_days: f64,
    /// Free trial length in days (0: none).
    pub trial_days: f64,
    /// Probability a trial converts to paying.
    pub trial_conversion: f64,
    /// Probability of renewing at each billing date.
    pub renewal: f64,
    /// Discount on order value for members.
    pub discount: f64,
    /// Shipping paid by the merchant per member order, cents.
    pub free_shipping_cents: i64,
    /// Extra points per currency unit for members.
    pub extra_earn_rate: f64,
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

/// A referral programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    /// Referrals (sign-ups) per member per year.
    pub per_member_per_year: f64,
    /// Reward to the referrer, cents.
    pub referrer_reward_cents: i64,
    /// Reward to the referee, cents.
    pub referee_reward_cents: i64,
    /// When rewards are paid.
    pub trigger: ReferralTrigger,
    /// Probability a referred sign-up makes a first purchase.
    pub first_purchase_probability: f64,
    /// Other cost per referred sign-up, cents.
    pub cost_per_referral_cents: i64,
    /// Cumulative segment mix of referred customers.
    pub segment_cumulative: Vec<f64>,
}

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

    /// The program parts this design combines, by their TOML table names.
    pub fn parts(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if let Some(e) = &self.enrolment {
            v.push(match e.mode {
                EnrolmentMode::Auto => "auto enrolment",
                EnrolmentMode::OptIn => "opt-in enrolment",
            });
        }
        let flags = [
            (self.earn.is_some(), "earn"),
            (self.events.any(), "events"),
            (self.expiry != Expiry::None, "expiry"),
            (self.redemption.is_some(), "redemption"),
            (self.cashback.is_some(), "cashback"),
            (self.tiers.is_some(), "tiers"),
            (self.membership.is_some(), "membership"),
            (self.punch_card.is_some(), "punch card"),
            (self.referral.is_some(), "referral"),
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

/// Days in the periods used for caps.
fn cap_days(p: Option<Period>) -> f64 {
    p.unwrap_or(Period::Month).days()
}

/// A validated amount (points, stamps, thresholds) as a whole number.
fn points(x: impl Into<f64>) -> u64 {
    x.into().round() as u64
}

/// Largest number of points, stamps or thresholds accepted (keeps sums far from overflow).
const MAX_COUNT: f64 = 1e12;

/// Fill in the parts a kind implies when the scenario leaves them out (values from the
/// domain brief: 1 point per currency unit with a 1-5% payback; a small reward within 2-4
/// purchases; cashback 2%; a buy-10 punch card).
pub fn preset(d: &mut RawDesign) {
    let earn_default = || RawEarn {
        per_currency_unit: Some(EarnRate(1.0)),
        per_order: None,
        min_order_value: None,
        categories: None,
        promotions: None,
        cap_per_period: None,
        cap_period: None,
    };
    let redemption_default = || RawRedemption {
        min_balance: None,
        probability: None,
        rewards: Some(vec![RawReward {
            name: "$5 off".into(),
            points: Points(250.0),
            face_value: Money(5.0),
            cost_share: None,
        }]),
        cash: None,
    };
    match d.kind {
        Kind::Points | Kind::Tiered => {
            if d.earn.is_none() && d.cashback.is_none() {
                d.earn = Some(earn_default());
            }
            if d.earn.is_some() && d.redemption.is_none() {
                d.redemption = Some(redemption_default());
            }
        }
        Kind::Cashback if d.cashback.is_none() => {
            d.cashback = Some(RawCashback {
                rate: Probability(0.02),
                expiry_days: None,
                use_probability: None,
                until_day: None,
                after_rate: None,
            });
        }
        Kind::PunchCard if d.punch_card.is_none() => {
            d.punch_card = Some(RawPunchCard {
                stamps: Count(10.0),
                bonus_stamps: None,
                reward_value: Money(10.0),
                cost_share: None,
                min_purchase: None,
                fraud_rate: None,
                stamp_joining_purchase: None,
            });
        }
        _ => {}
    }
}

/// Validate one design (`i` is its index in `[[designs]]`) against the scenario's segments.
pub(crate) fn validate(
    ck: &Checker,
    i: usize,
    raw: &RawDesign,
    segments: &[String],
    categories: &[String],
) -> Result<Design> {
    let mut d = raw.clone();
    preset(&mut d);
    let base = format!("designs[{i}]");
    let f = |k: &str| format!("{base}.{k}");
    let has_parts = d.enrolment.is_some()
        || d.response.is_some()
        || d.costs.is_some()
        || d.earn.is_some()
        || d.events.is_some()
        || d.points.is_some()
        || d.redemption.is_some()
        || d.cashback.is_some()
        || d.tiers.is_some()
        || d.membership.is_some()
        || d.punch_card.is_some()
        || d.referral.is_some()
        || d.behaviour.is_some()
        || d.acquisition.is_some()
        || d.winback.is_some();
    if d.kind == Kind::None {
        if has_parts {
            return Err(ck.err(
                f("kind"),
                "a `none` design is the control and takes no program parts; give it another kind",
            ));
        }
        return Ok(Design::control(&d.name));
    }
    let seg_index = |field: String, name: &str| -> Result<usize> {
        segments.iter().position(|s| s == name).ok_or_else(|| {
            ck.err(
                field,
                format!(
                    "unknown segment `{name}`; the segments are: {}",
                    segments.join(", ")
                ),
            )
        })
    };
    let n = segments.len();

    // Enrolment: auto unless said otherwise.
    let enrolment = match &d.enrolment {
        None => Enrolment {
            mode: EnrolmentMode::Auto,
            at_first: vec![1.0; n],
            per_purchase: vec![0.0; n],
        },
        Some(e) => {
            let p = match e.mode {
                EnrolmentMode::Auto => {
                    if e.probability.is_some() || e.segments.is_some() {
                        return Err(ck.err(
                            f("enrolment.mode"),
                            "`auto` enrols everyone; use mode = \"opt-in\" with a probability",
                        ));
                    }
                    1.0
                }
                EnrolmentMode::OptIn => e
                    .probability
                    .ok_or_else(|| {
                        ck.err(
                            f("enrolment.probability"),
                            "is required with mode = \"opt-in\" (probability of joining at the first purchase, in [0, 1])",
                        )
                    })?
                    .get(),
            };
            let mut at_first = vec![p; n];
            for (name, q) in e.segments.iter().flatten() {
                at_first[seg_index(f(&format!("enrolment.segments.{name}")), name)?] = q.get();
            }
            let later = e.per_purchase.map_or(0.0, |x| x.get());
            Enrolment {
                mode: e.mode,
                at_first,
                per_purchase: vec![later; n],
            }
        }
    };

    // Members' response.
    let mut response = vec![Multipliers::NEUTRAL; n];
    if let Some(r) = &d.response {
        let all = multipliers(&RawMultipliers {
            purchase_rate: r.purchase_rate,
            dropout: r.dropout,
            order_value: r.order_value,
        });
        response = vec![all; n];
        for (name, m) in r.segments.iter().flatten() {
            let s = seg_index(f(&format!("response.segments.{name}")), name)?;
            response[s] = all_then(all, m);
        }
    }

    let costs = d.costs.as_ref().map_or(Costs::default(), |c| Costs {
        launch_cents: to_cents(c.launch.map_or(0.0, |x| x.get())),
        platform_per_month_cents: to_cents(c.platform_per_month.map_or(0.0, |x| x.get())),
        per_member_per_month: c.per_member_per_month.map_or(0.0, |x| x.get()) * 100.0,
    });

    if d.earn.is_some() && d.cashback.is_some() {
        return Err(ck.err(
            f("cashback"),
            "a design has one currency: either points (`earn`) or store credit (`cashback`), not both",
        ));
    }

    let earn = match &d.earn {
        None => None,
        Some(e) => {
            let mut category_multipliers = vec![1.0; categories.len()];
            for (name, m) in e.categories.iter().flatten() {
                let k = categories.iter().position(|c| c == name).ok_or_else(|| {
                    ck.err(
                        f(&format!("earn.categories.{name}")),
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
                    return Err(ck.err(
                        f(&format!("earn.promotions[{k}].to_day")),
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
                return Err(ck.err(
                    f("earn.per_currency_unit"),
                    "must be at most 1000000 points per currency unit",
                ));
            }
            Some(earn)
        }
    };

    let events = match &d.events {
        None => Events::default(),
        Some(ev) => {
            let once = |o: &Option<RawOnce>| {
                o.as_ref().map(|o| OnceEvent {
                    points: points(o.points),
                    probability: o.probability.map_or(1.0, |p| p.get()),
                })
            };
            let rec = |r: &Option<RawRecurring>| {
                r.as_ref().map(|r| RecurringEvent {
                    per_year: r.per_year.get(),
                    points: points(r.points),
                    cap: r
                        .cap_per_period
                        .map(|c| (points(c), cap_days(r.cap_period))),
                })
            };
            for (k, r) in [("review", &ev.review), ("social_share", &ev.social_share)] {
                if let Some(r) = r {
                    if r.per_year.get() > 10_000.0 {
                        return Err(ck.err(
                            f(&format!("events.{k}.per_year")),
                            "must be at most 10000 per member per year",
                        ));
                    }
                }
            }
            Events {
                signup: once(&ev.signup),
                profile_completion: once(&ev.profile_completion),
                birthday: once(&ev.birthday),
                review: rec(&ev.review),
                social_share: rec(&ev.social_share),
            }
        }
    };

    let (pending_days, expiry) = match &d.points {
        None => (0.0, Expiry::None),
        Some(l) => {
            let pending = l.pending_days.map_or(0.0, |x| x.get());
            let expiry = match &l.expiry {
                None => Expiry::None,
                Some(x) => {
                    let days = |mode: &str| -> Result<f64> {
                        x.days.map(|d| d.get()).ok_or_else(|| {
                            ck.err(
                                f("points.expiry.days"),
                                format!("is required with mode = \"{mode}\" (days > 0)"),
                            )
                        })
                    };
                    match x.mode {
                        ExpiryMode::None => Expiry::None,
                        ExpiryMode::AfterEarning => Expiry::AfterEarning(days("after-earning")?),
                        ExpiryMode::Inactivity => Expiry::Inactivity(days("inactivity")?),
                        ExpiryMode::EndOfYear => Expiry::EndOfYear,
                    }
                }
            };
            if let Expiry::AfterEarning(days) | Expiry::Inactivity(days) = expiry {
                if days <= pending {
                    return Err(ck.err(
                        f("points.expiry.days"),
                        format!(
                            "points would expire ({days} days) before they can be spent (pending_days = {pending}); expiry must be longer than the pending period"
                        ),
                    ));
                }
            }
            if pending > 3650.0 {
                return Err(ck.err(f("points.pending_days"), "must be at most 3650 days"));
            }
            (pending, expiry)
        }
    };

    let redemption = match &d.redemption {
        None => None,
        Some(r) => {
            let mut rewards = Vec::new();
            for (k, w) in r.rewards.iter().flatten().enumerate() {
                let pts = points(w.points);
                if pts == 0 {
                    return Err(ck.err(
                        f(&format!("redemption.rewards[{k}].points")),
                        "a reward must cost at least 1 point",
                    ));
                }
                if w.points.get() > MAX_COUNT {
                    return Err(ck.err(
                        f(&format!("redemption.rewards[{k}].points")),
                        "must be at most 1e12 points",
                    ));
                }
                let face = to_cents(w.face_value.get());
                rewards.push(Reward {
                    name: w.name.clone(),
                    points: pts,
                    face_value_cents: face,
                    cost_cents: (face as f64 * w.cost_share.map_or(1.0, |c| c.get())).round()
                        as i64,
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
                return Err(ck.err(
                    f("redemption"),
                    "needs `rewards = [...]` (a catalogue) or `cash = { per_point = ... }`",
                ));
            }
            Some(Redemption {
                min_balance: r.min_balance.map_or(0, points),
                probability: r.probability.map_or(1.0, |p| p.get()),
                rewards,
                cash,
            })
        }
    };
    if (earn.is_some() || events.any()) && redemption.is_none() && d.cashback.is_none() {
        return Err(ck.err(
            f("redemption"),
            "points are earned but there is no [designs.redemption] table to spend them",
        ));
    }

    let cashback = d.cashback.as_ref().map(|c| Cashback {
        rate: c.rate.get(),
        use_probability: c.use_probability.map_or(1.0, |p| p.get()),
        until_day: c.until_day.map_or(f64::INFINITY, |x| x.get()),
        after_rate: c.after_rate.map_or(c.rate.get(), |x| x.get()),
    });
    if let Some(c) = &d.cashback {
        if c.after_rate.is_some() != c.until_day.is_some() {
            return Err(ck.err(
                f("cashback.after_rate"),
                "`until_day` and `after_rate` go together (the rate changes to after_rate on until_day)",
            ));
        }
    }
    let (pending_days, expiry) = match (&d.cashback, expiry) {
        (Some(c), Expiry::None) => (
            pending_days,
            c.expiry_days
                .map_or(Expiry::None, |x| Expiry::AfterEarning(x.get())),
        ),
        (Some(c), _) if c.expiry_days.is_some() => {
            return Err(ck.err(
                f("cashback.expiry_days"),
                "give the credit's expiry either here or in [designs.points].expiry, not both",
            ))
        }
        _ => (pending_days, expiry),
    };

    let tiers = match &d.tiers {
        None => None,
        Some(t) => {
            if t.levels.is_empty() {
                return Err(ck.err(f("tiers.levels"), "needs at least one level"));
            }
            let mut levels: Vec<TierLevel> = Vec::new();
            for (k, l) in t.levels.iter().enumerate() {
                let threshold = match t.metric {
                    TierMetric::Spend => to_cents(l.threshold.get()) as u64,
                    _ => points(l.threshold),
                };
                if let Some(prev) = levels.last() {
                    if threshold <= prev.threshold {
                        return Err(ck.err(
                            f(&format!("tiers.levels[{k}].threshold")),
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
            if t.metric == TierMetric::Points && earn.is_none() {
                return Err(ck.err(
                    f("tiers.metric"),
                    "tiers qualify on points but the design earns none; add [designs.earn] or use metric = \"spend\"",
                ));
            }
            if levels.len() > 16 {
                return Err(ck.err(f("tiers.levels"), "at most 16 levels are allowed"));
            }
            Some(Tiers {
                metric: t.metric,
                window: t.window.unwrap_or(TierWindow::Lifetime),
                downgrade: t.downgrade.unwrap_or(Downgrade::None),
                grace_days: t.grace_days.map_or(0.0, |x| x.get()),
                levels,
            })
        }
    };

    let membership = d.membership.as_ref().map(|m| {
        let b = m.benefits.as_ref();
        Membership {
            decision: m.decision.unwrap_or(JoinDecision::Probability),
            value_noise: m.value_noise.map_or(0.5, |x| x.get()),
            fee_cents: to_cents(m.fee.get()),
            billing_days: match m.billing.unwrap_or(Billing::Year) {
                Billing::Month => 365.25 / 12.0,
                Billing::Year => 365.25,
            },
            trial_days: m.trial_days.map_or(0.0, |x| x.get()),
            trial_conversion: m.trial_conversion.map_or(1.0, |x| x.get()),
            renewal: m.renewal.map_or(1.0, |x| x.get()),
            discount: b.and_then(|b| b.discount).map_or(0.0, |x| x.get()),
            free_shipping_cents: to_cents(
                b.and_then(|b| b.free_shipping_value)
                    .map_or(0.0, |x| x.get()),
            ),
            extra_earn_rate: b.and_then(|b| b.extra_earn_rate).map_or(0.0, |x| x.get()),
        }
    });
    if membership.is_some_and(|m| m.extra_earn_rate > 0.0) && redemption.is_none() {
        return Err(ck.err(
            f("membership.benefits.extra_earn_rate"),
            "members earn extra points but the design has no [designs.redemption] table",
        ));
    }

    let punch_card = match &d.punch_card {
        None => None,
        Some(p) => {
            let stamps = p.stamps.get().round();
            let bonus = p.bonus_stamps.map_or(0.0, |x| x.get().round());
            if !(1.0..=1000.0).contains(&stamps) {
                return Err(ck.err(
                    f("punch_card.stamps"),
                    format!(
                        "must be a whole number from 1 to 1000, got {}",
                        p.stamps.get()
                    ),
                ));
            }
            if bonus >= stamps {
                return Err(ck.err(
                    f("punch_card.bonus_stamps"),
                    format!("must be fewer than the stamps needed ({stamps}), got {bonus}"),
                ));
            }
            let value = to_cents(p.reward_value.get());
            Some(PunchCard {
                stamps: stamps as u32,
                bonus_stamps: bonus as u32,
                reward_value_cents: value,
                reward_cost_cents: (value as f64 * p.cost_share.map_or(1.0, |c| c.get())).round()
                    as i64,
                min_purchase: p.min_purchase.map_or(0.0, |x| x.get()),
                fraud_rate: p.fraud_rate.map_or(0.0, |x| x.get()),
                stamp_joining_purchase: p.stamp_joining_purchase.unwrap_or(true),
            })
        }
    };

    let referral = match &d.referral {
        None => None,
        Some(r) => {
            if r.per_member_per_year.get() > 100.0 {
                return Err(ck.err(
                    f("referral.per_member_per_year"),
                    "must be at most 100 referrals per member per year",
                ));
            }
            let mut mix = vec![0.0; n];
            match &r.segments {
                None => {
                    // Referred customers follow the population's mix unless told otherwise.
                    mix = Vec::new();
                }
                Some(m) => {
                    for (name, q) in m {
                        mix[seg_index(f(&format!("referral.segments.{name}")), name)?] = q.get();
                    }
                    let total: f64 = mix.iter().sum();
                    if (total - 1.0).abs() > 1e-6 {
                        return Err(ck.err(
                            f("referral.segments"),
                            format!("segment shares of referred customers must sum to 1, they sum to {total}"),
                        ));
                    }
                }
            }
            let mut acc = 0.0;
            let mut cumulative: Vec<f64> = mix
                .iter()
                .map(|x| {
                    acc += x;
                    acc
                })
                .collect();
            if let Some(last) = cumulative.last_mut() {
                *last = f64::INFINITY;
            }
            Some(Referral {
                per_member_per_year: r.per_member_per_year.get(),
                referrer_reward_cents: to_cents(r.referrer_reward.map_or(0.0, |x| x.get())),
                referee_reward_cents: to_cents(r.referee_reward.map_or(0.0, |x| x.get())),
                trigger: r.trigger.unwrap_or(ReferralTrigger::FirstPurchase),
                first_purchase_probability: r.first_purchase_probability.map_or(1.0, |x| x.get()),
                cost_per_referral_cents: to_cents(r.cost_per_referral.map_or(0.0, |x| x.get())),
                segment_cumulative: cumulative,
            })
        }
    };

    let behaviour = super::behaviour::validate(ck, i, d.behaviour.as_ref())?;
    let mix = |field: String, m: &Option<BTreeMap<String, Probability>>| -> Result<Vec<f64>> {
        let Some(m) = m else {
            return Ok(Vec::new());
        };
        let mut shares = vec![0.0; n];
        for (name, q) in m {
            shares[seg_index(format!("{field}.{name}"), name)?] = q.get();
        }
        let total: f64 = shares.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(ck.err(
                field,
                format!("segment shares must sum to 1, they sum to {total}"),
            ));
        }
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = shares
            .iter()
            .map(|x| {
                acc += x;
                acc
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = f64::INFINITY;
        }
        Ok(cumulative)
    };
    let acquisition = match &d.acquisition {
        None => None,
        Some(a) => {
            if a.extra_per_day.get() > 1e6 {
                return Err(ck.err(
                    f("acquisition.extra_per_day"),
                    "must be at most 1000000 per day",
                ));
            }
            Some(ExtraAcquisition {
                per_day: a.extra_per_day.get(),
                cost_per_customer_cents: to_cents(a.cost_per_customer.map_or(0.0, |x| x.get())),
                segment_cumulative: mix(f("acquisition.segments"), &a.segments)?,
            })
        }
    };
    let winback = d.winback.as_ref().map(|w| Winback {
        after_days: w.after_days.get(),
        cost_per_contact_cents: to_cents(w.cost_per_contact.map_or(0.0, |x| x.get())),
        response_probability: w.response_probability.get(),
        bonus_points: w.bonus_points.map_or(0, points),
        bonus_value_cents: to_cents(w.bonus_value.map_or(0.0, |x| x.get())),
    });
    if winback.is_some_and(|w| w.bonus_points > 0) && redemption.is_none() {
        return Err(ck.err(
            f("winback.bonus_points"),
            "bonus points need a [designs.redemption] table to be spent",
        ));
    }
    if membership.is_some_and(|m| m.decision == JoinDecision::Value)
        && d.enrolment
            .as_ref()
            .is_some_and(|e| e.mode == EnrolmentMode::Auto)
    {
        return Err(ck.err(
            f("membership.decision"),
            "`value` decides who pays; it cannot be combined with enrolment mode \"auto\"",
        ));
    }

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
    })
}

fn multipliers(m: &RawMultipliers) -> Multipliers {
    Multipliers {
        purchase_rate: m.purchase_rate.map_or(1.0, |x| x.get()),
        dropout: m.dropout.map_or(1.0, |x| x.get()),
        order_value: m.order_value.map_or(1.0, |x| x.get()),
    }
}

/// A segment's override: keys it gives replace the design-wide value.
fn all_then(all: Multipliers, m: &RawMultipliers) -> Multipliers {
    Multipliers {
        purchase_rate: m.purchase_rate.map_or(all.purchase_rate, |x| x.get()),
        dropout: m.dropout.map_or(all.dropout, |x| x.get()),
        order_value: m.order_value.map_or(all.order_value, |x| x.get()),
    }
}

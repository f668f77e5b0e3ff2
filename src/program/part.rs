//! What every program part shares: the [`Part`] trait through which the engine's timeline
//! tells a part about a customer's events, the context [`Cx`] a part may read and change,
//! and the validation context a part's `validate` gets.
//!
//! # Adding a part
//! 1. A new file `src/program/<part>.rs`: its `Raw*` table (serde, `deny_unknown_fields`),
//!    its validated type, `validate`, a `State` and `impl Part` with the hooks it needs
//!    (every hook has a no-op default), and its unit tests.
//! 2. One field in `RawDesign` and one in `Design` (`scenario/design.rs`); the compiler then
//!    asks for it in `RawDesign::has_parts`, `Design::parts` and `Design::control`, which
//!    destructure or build the whole struct.
//! 3. One field in [`States`] (the compiler asks for nothing here: `Default`), and one call in
//!    each choreography hook of `engine/customer.rs` it implements (`join`, `leave`,
//!    `on_timer`, `purchase`, `churn`, `next_timer`). The order of those calls fixes the
//!    order of draws from the program stream and of float operations: it is part of the
//!    reproducibility contract (tests/golden.rs).

use std::collections::BTreeMap;

use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Exp1};

use super::ledger::{Ledger, YEAR_DAYS};
use crate::metrics::Tally;
use crate::population::Customer;
use crate::scenario::behaviour::Behaviour;
use crate::scenario::units::Probability;
use crate::scenario::{Category, Checker, Design, Period, Segment};
use crate::{Error, Result};

/// A program part as the timeline sees it. A part implements only the hooks it reacts to;
/// the rest are no-ops. Every hook gets the day `t` of the event.
pub trait Part {
    /// What the part remembers about one customer (its timers, counters, status).
    type State: Default;
    /// The customer becomes a member for the first time (before [`Part::on_join`]).
    fn on_first_join(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64) {}
    /// The customer becomes a member (first time or again).
    fn on_join(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64) {}
    /// The customer stops being a member (the part's timers must stop).
    fn on_leave(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64) {}
    /// Day of the part's next timer while the customer is a member (infinity: none).
    fn next_timer(&self, _s: &Self::State) -> f64 {
        f64::INFINITY
    }
    /// Time has reached `t`: act on every timer of the part that is due.
    fn on_timer(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64) -> Stay {
        Stay::Member
    }
    /// A member's order, already booked as revenue.
    fn on_purchase(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64, _o: &mut Order) {}
    /// The customer drops out (before they leave the program).
    fn on_churn(&self, _s: &mut Self::State, _cx: &mut Cx<'_>, _t: f64) {}
}

/// A part a design may leave out: an absent part does nothing.
impl<P: Part> Part for Option<P> {
    type State = P::State;
    #[inline]
    fn on_first_join(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64) {
        if let Some(p) = self {
            p.on_first_join(s, cx, t);
        }
    }
    #[inline]
    fn on_join(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64) {
        if let Some(p) = self {
            p.on_join(s, cx, t);
        }
    }
    #[inline]
    fn on_leave(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64) {
        if let Some(p) = self {
            p.on_leave(s, cx, t);
        }
    }
    #[inline]
    fn next_timer(&self, s: &Self::State) -> f64 {
        self.as_ref().map_or(f64::INFINITY, |p| p.next_timer(s))
    }
    #[inline]
    fn on_timer(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64) -> Stay {
        self.as_ref().map_or(Stay::Member, |p| p.on_timer(s, cx, t))
    }
    #[inline]
    fn on_purchase(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64, o: &mut Order) {
        if let Some(p) = self {
            p.on_purchase(s, cx, t, o);
        }
    }
    #[inline]
    fn on_churn(&self, s: &mut Self::State, cx: &mut Cx<'_>, t: f64) {
        if let Some(p) = self {
            p.on_churn(s, cx, t);
        }
    }
}

/// Every part's per-customer state, one field per part.
#[allow(missing_docs)]
#[derive(Debug, Default)]
pub struct States {
    pub earn: super::earn::State,
    pub events: super::events::State,
    pub cashback: super::cashback::State,
    pub tiers: super::tiers::State,
    pub membership: super::membership::State,
    pub punch_card: super::punch_card::State,
    pub referral: super::referral::State,
    pub winback: super::winback::State,
}

/// Whether a timer keeps the customer in the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stay {
    /// Still a member.
    Member,
    /// The membership ends now (a lapsed fee).
    Leave,
}

/// Which checkout of the customer an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    /// The first checkout the program sees (where the customer may join).
    First,
    /// Any later one.
    Repeat,
}

/// Which account a cost is booked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// Rewards (redemptions, referral rewards, offers).
    Reward,
    /// Running the program (contacts, handling).
    Program,
}

/// What a spend from the ledger is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// A reward taken (counted in `rewards_redeemed`).
    Reward,
    /// Store credit used at checkout.
    Credit,
}

/// One member order as it passes through the parts.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    /// First or repeat checkout.
    pub checkout: Checkout,
    /// Reporting period of the order.
    pub period: usize,
    /// What the customer paid, cents (after discounts).
    pub paid_cents: i64,
    /// What the customer paid, currency units.
    pub paid: f64,
    /// Multiplier on purchase points (the member's tier).
    pub earn_multiplier: f64,
    /// Extra points per currency unit (paid membership).
    pub extra_earn_rate: f64,
    /// Purchase points earned (set by earn).
    pub points_earned: u64,
    /// Whether the order brought a reward (redemption or a full card).
    pub rewarded: bool,
}

/// Lasting effects a part can have on the customer's behaviour and economics.
#[derive(Debug, Clone, Copy)]
pub struct Effects {
    /// Persistent dropout factor (demotions, promotions, benefit cuts): applies after the
    /// customer leaves too.
    pub dropout_penalty: f64,
    /// Gross margin of a member's order (categories shift toward bonus categories).
    pub member_margin: f64,
    /// A part changed something the rate multipliers depend on (a tier): the timeline
    /// recomputes them before the customer's next event.
    pub rates_changed: bool,
    /// The customer buys at once (a win-back offer answered).
    pub buy_now: bool,
}

/// Reporting periods: which period a day falls in.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// 1 / days per period (a multiply on the hot path, not a divide).
    pub per_period_day: f64,
    /// Number of periods.
    pub periods: usize,
}

impl Clock {
    /// Reporting period of day `t`.
    #[inline]
    pub fn period_of(&self, t: f64) -> usize {
        ((t * self.per_period_day) as usize).min(self.periods - 1)
    }
}

/// What a part may read and change while one customer's timeline runs. The behaviour
/// stream never reaches a part: `prng` is the program stream (common random numbers).
pub struct Cx<'a> {
    /// The design.
    pub design: &'a Design,
    /// The customer.
    pub customer: &'a Customer,
    /// Their segment.
    pub segment: &'a Segment,
    /// The design's behavioural model.
    pub behaviour: &'a Behaviour,
    /// Response strength of this customer: relevance x heavy-buyer factor.
    pub strength: f64,
    /// Reporting periods.
    pub clock: Clock,
    /// Last day of the horizon (exclusive).
    pub horizon: f64,
    /// Category shares of spend, in scenario order.
    pub category_shares: &'a [f64],
    /// The scenario's categories.
    pub categories: &'a [Category],
    /// Whether the customer is a member now.
    pub member: bool,
    /// Day of the customer's last purchase.
    pub last_purchase: f64,
    /// The design's tally for this replicate.
    pub tally: &'a mut Tally,
    /// The program stream.
    pub prng: &'a mut Xoshiro256PlusPlus,
    /// The points (or credit) ledger, if the design keeps one.
    pub ledger: &'a mut Option<Ledger>,
    /// Lasting effects on behaviour.
    pub effects: &'a mut Effects,
}

impl Cx<'_> {
    /// Reporting period of day `t`.
    #[inline]
    pub fn period(&self, t: f64) -> usize {
        self.clock.period_of(t)
    }

    /// Issue `points` to the ledger at `t`.
    pub fn award(&mut self, t: f64, points: u64) {
        self.award_in(t, self.period(t), points);
    }

    /// [`Cx::award`] with the period of `t` already known.
    pub fn award_in(&mut self, t: f64, p: usize, points: u64) {
        if points == 0 {
            return;
        }
        if let Some(l) = self.ledger.as_mut() {
            l.issue(t, points);
            self.tally.points_issued += points;
            self.tally.periods[p].points_issued += points;
        }
    }

    /// Book a cost of `cents` at `t` to `account`.
    pub fn cost(&mut self, t: f64, cents: i64, account: Account) {
        let p = self.period(t);
        match account {
            Account::Reward => {
                self.tally.reward_cost_cents += cents;
                self.tally.periods[p].reward_cost_cents += cents;
            }
            Account::Program => {
                self.tally.program_cost_cents += cents;
                self.tally.periods[p].program_cost_cents += cents;
            }
        }
    }

    /// Spend `points` from the ledger at merchant cost `cost_cents`, in period `p` of `t`.
    pub fn redeem_in(&mut self, t: f64, p: usize, points: u64, cost_cents: i64, what: Spend) {
        if let Some(l) = self.ledger.as_mut() {
            l.spend(t, points);
        }
        let tally = &mut *self.tally;
        tally.points_redeemed += points;
        tally.periods[p].points_redeemed += points;
        tally.reward_cost_cents += cost_cents;
        tally.periods[p].reward_cost_cents += cost_cents;
        tally.rewards_redeemed += u64::from(what == Spend::Reward);
    }

    /// Days to the next event of a Poisson process of `per_year` events a year (a draw from
    /// the program stream; infinity for a zero rate, without a draw).
    pub fn exp_days(&mut self, per_year: f64) -> f64 {
        if per_year <= 0.0 {
            return f64::INFINITY;
        }
        let e: f64 = Exp1.sample(&mut *self.prng);
        e * YEAR_DAYS / per_year
    }
}

/// The context in which one design's part tables are validated: where errors point, and the
/// scenario's segment and category names that parts refer to.
pub(crate) struct DesignCheck<'a> {
    /// Locates fields in the scenario file.
    pub ck: &'a Checker<'a>,
    /// `designs[i]`.
    pub base: String,
    /// Segment names, in scenario order.
    pub segments: &'a [String],
    /// Category names, in scenario order.
    pub categories: &'a [String],
}

impl DesignCheck<'_> {
    /// The full field name of key `k` of this design (`designs[i].k`).
    pub fn field(&self, k: &str) -> String {
        format!("{}.{k}", self.base)
    }

    /// An error at key `k` of this design.
    pub fn err(&self, k: &str, message: impl Into<String>) -> Error {
        self.ck.err(self.field(k), message)
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Index of segment `name`, or an error at `field` listing the segments.
    pub fn segment(&self, field: String, name: &str) -> Result<usize> {
        self.segments.iter().position(|s| s == name).ok_or_else(|| {
            self.ck.err(
                field,
                format!(
                    "unknown segment `{name}`; the segments are: {}",
                    self.segments.join(", ")
                ),
            )
        })
    }

    /// A segment mix at key `k` (shares that must sum to 1) as cumulative shares with the
    /// last one infinite, ready for `partition_point` on a uniform draw; empty when the
    /// table is absent (the population's own mix). `what` names the shares in the error.
    pub fn cumulative_mix(
        &self,
        k: &str,
        m: &Option<BTreeMap<String, Probability>>,
        what: &str,
    ) -> Result<Vec<f64>> {
        let Some(m) = m else {
            return Ok(Vec::new());
        };
        let mut shares = vec![0.0; self.segment_count()];
        for (name, q) in m {
            shares[self.segment(self.field(&format!("{k}.{name}")), name)?] = q.get();
        }
        let total: f64 = shares.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(self.err(k, format!("{what} must sum to 1, they sum to {total}")));
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
    }
}

/// Days in the periods used for caps.
pub(crate) fn cap_days(p: Option<Period>) -> f64 {
    p.unwrap_or(Period::Month).days()
}

/// A validated amount (points, stamps, thresholds) as a whole number.
pub(crate) fn points(x: impl Into<f64>) -> u64 {
    x.into().round() as u64
}

/// Largest number of points, stamps or thresholds accepted (keeps sums far from overflow).
pub(crate) const MAX_COUNT: f64 = 1e12;

/// A one-customer stage for a part's unit tests: a scenario with one segment, a customer
/// buying 0.05 orders a day of 40.00, a tally, a seeded program stream and a ledger.
#[cfg(test)]
pub(crate) mod testing {
    use rand::SeedableRng;

    use super::*;
    use crate::population::{Dropout, Spend as OrderValue};
    use crate::scenario::Scenario;

    const SCENARIO: &str = r#"
name = "part test"
seed = 1
replicates = 1
horizon_days = 730
period = "month"
[population]
customers = 10
[[population.segments]]
name = "all"
share = 1.0
margin = 0.3
benefit_cut_dropout = 1.5
purchase = { model = "bg-nbd", r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, unit = "week" }
spend = { model = "gamma-gamma", p = 6.25, q = 3.74, gamma = 15.44 }
[[designs]]
name = "control"
kind = "none"
[[designs]]
name = "points"
kind = "points"
"#;

    /// Everything a [`Cx`] borrows.
    pub struct Fixture {
        pub scenario: Scenario,
        pub customer: Customer,
        pub tally: Tally,
        pub prng: Xoshiro256PlusPlus,
        pub ledger: Option<Ledger>,
        pub effects: Effects,
        pub member: bool,
    }

    impl Fixture {
        pub fn new() -> Self {
            let scenario = Scenario::parse(SCENARIO, "part test").expect("test scenario");
            let periods = scenario.periods();
            Fixture {
                scenario,
                customer: Customer {
                    segment: 0,
                    arrival: 0.0,
                    acquired: false,
                    referred: false,
                    has_counterfactual: true,
                    opening_purchase: true,
                    alive: true,
                    lambda: 0.05,
                    dropout: Dropout::AfterPurchase { p: 0.1 },
                    spend: OrderValue::Fixed(40.0),
                    spend_mean: 40.0,
                },
                tally: Tally::new(periods),
                prng: Xoshiro256PlusPlus::seed_from_u64(7),
                ledger: Some(Ledger::new(super::super::points::Expiry::None, 0.0)),
                effects: Effects {
                    dropout_penalty: 1.0,
                    member_margin: 0.3,
                    rates_changed: false,
                    buy_now: false,
                },
                member: true,
            }
        }

        /// The context of the scenario's points design.
        pub fn cx(&mut self) -> Cx<'_> {
            let sc = &self.scenario;
            Cx {
                design: &sc.designs[1],
                customer: &self.customer,
                segment: &sc.population.segments[0],
                behaviour: &sc.designs[1].behaviour,
                strength: 1.0,
                clock: Clock {
                    per_period_day: 1.0 / sc.period.days(),
                    periods: sc.periods(),
                },
                horizon: f64::from(sc.horizon_days),
                category_shares: &[],
                categories: &sc.categories,
                member: self.member,
                last_purchase: 0.0,
                tally: &mut self.tally,
                prng: &mut self.prng,
                ledger: &mut self.ledger,
                effects: &mut self.effects,
            }
        }
    }
}

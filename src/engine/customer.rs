//! One customer's timeline under one design, event by event: cost grows with purchases and
//! program events, not with days.
//!
//! Common random numbers: per repeat purchase the behaviour stream gives, always in this
//! order, an Exp(1) hazard budget, an order value and (BG/NBD) a dropout uniform. A design
//! changes what is done with those numbers (a rate multiplier stretches time, a discount
//! lowers revenue), never which numbers are drawn; program decisions (enrolment,
//! redemption, events) draw from a separate program stream. A design whose multipliers are
//! all 1 therefore buys exactly as the control does.
//!
//! Time-varying rates: the purchase process keeps a hazard budget `e_left` from an anchor
//! time; when a multiplier changes at time tau the budget is reduced by what was used up
//! since the anchor and re-anchored at tau (exact for piecewise-constant rates). The
//! Pareto/NBD lifetime is handled the same way. Budgets are only touched when a rate really
//! changes, so timers that change nothing leave purchase times bit-identical.
//!
//! Under BG/NBD, where dropout happens at purchases, the per-purchase dropout probability
//! is divided by the purchase-rate multiplier, so buying more often does not by itself
//! shorten a customer's life in calendar time.
//!
//! The behavioural mechanisms (goal gradient, post-reward reset, tier dynamics, deal
//! seeking, ...) all act through [`Timeline::current_multipliers`]; see
//! `scenario::behaviour` for their definitions and sources.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1};

use super::replay::{Replay, Scratch};
use super::rng::{child_key, stream, Purpose};
use crate::metrics::Tally;
use crate::population::{Customer, Dropout, PopulationSampler};
use crate::program::accrue;
use crate::program::enrolment::Chance;
use crate::program::ledger::{Ledger, YEAR_DAYS};
use crate::program::part::{Checkout, Clock, Cx, Effects, Order, Part, States, Stay};
use crate::scenario::behaviour::Behaviour;
use crate::scenario::design::{Design, Multipliers, TierLevel, TierWindow};
use crate::scenario::seasonality::{advance, elapsed};
use crate::scenario::units::{round_half_away, to_cents};
use crate::scenario::{Scenario, Segment};

/// Days in a month (for monthly costs, billing and reviews).
pub const MONTH_DAYS: f64 = YEAR_DAYS / 12.0;

/// Deepest chain of referrals followed (a referred customer's referrals, and so on).
const MAX_REFERRAL_DEPTH: u32 = 8;

/// Progress buckets of the goal-gradient curve of a points design (tenths of the way).
pub const POINTS_PROGRESS_BUCKETS: usize = 10;

/// Everything a worker needs that is shared by all customers of a run.
#[derive(Debug)]
pub struct Context<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Pre-built samplers.
    pub population: PopulationSampler,
    horizon: f64,
    period_days: f64,
    /// 1 / period_days: the period index is a multiply on the hot path, not a divide.
    per_period_day: f64,
    periods: usize,
    /// Per segment: gross margin of an order, blending the categories' margins.
    blended_margin: Vec<f64>,
    /// Category shares of spend, in scenario order.
    category_shares: Vec<f64>,
    /// Common random numbers across designs (the default). Off, each design gets its own
    /// independent customers: only for measuring what pairing buys.
    pub common_random_numbers: bool,
    /// Whether any segment returns orders: without returns no order draws from the returns
    /// stream, so it is not derived (eight splitmix rounds per timeline saved).
    has_returns: bool,
}

/// The stream of a timeline that never draws returns: any fixed non-zero state.
const NO_RETURNS: [u8; 32] = [0x5a; 32];

/// One customer's run under one design: who, under what, from which stream positions.
struct CustomerRun<'r> {
    customer: &'r Customer,
    design: &'r Design,
    brng: Replay<'r>,
    prng: Xoshiro256PlusPlus,
    replicate: u32,
    /// The customer's stream key (referees: derived from their referrer's).
    key: u64,
    /// Depth in a referral chain (0: not referred).
    depth: u32,
    /// Acquisition cost override (referred and attracted customers).
    cac: Option<i64>,
    /// The customer's spend under the control (their counterfactual), cents.
    control_spend: i64,
}

impl<'r> CustomerRun<'r> {
    /// A customer at the top of a referral chain, with the scenario's acquisition cost.
    fn new(
        customer: &'r Customer,
        design: &'r Design,
        brng: Replay<'r>,
        prng: Xoshiro256PlusPlus,
        replicate: u32,
        key: u64,
    ) -> Self {
        CustomerRun {
            customer,
            design,
            brng,
            prng,
            replicate,
            key,
            depth: 0,
            cac: None,
            control_spend: 0,
        }
    }
}

/// Customers a replicate simulates: the shared population, then per design the extra
/// customers that design attracts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Initial plus scenario-acquired customers (simulated under every design).
    pub shared: u64,
    /// Per design, extra attracted customers (ids `shared..shared + extra[d]`).
    pub extra: Vec<u64>,
}

impl Plan {
    /// All customer ids to visit.
    pub fn total(&self) -> u64 {
        self.shared + self.extra.iter().copied().max().unwrap_or(0)
    }
}

impl<'a> Context<'a> {
    /// Prepare the shared state of a run.
    pub fn new(scenario: &'a Scenario) -> Self {
        let cat_share: f64 = scenario.categories.iter().map(|c| c.share_of_spend).sum();
        let cat_margin: f64 = scenario
            .categories
            .iter()
            .map(|c| c.share_of_spend * c.margin)
            .sum();
        Context {
            scenario,
            population: PopulationSampler::new(scenario),
            horizon: f64::from(scenario.horizon_days),
            period_days: scenario.period.days(),
            per_period_day: 1.0 / scenario.period.days(),
            periods: scenario.periods(),
            blended_margin: scenario
                .population
                .segments
                .iter()
                .map(|s| cat_margin + (1.0 - cat_share) * s.margin)
                .collect(),
            category_shares: scenario
                .categories
                .iter()
                .map(|c| c.share_of_spend)
                .collect(),
            common_random_numbers: true,
            has_returns: scenario
                .population
                .segments
                .iter()
                .any(|s| s.return_rate > 0.0),
        }
    }

    /// The returns stream of customer `key` in `replicate` (shared by every design).
    fn returns_stream(&self, replicate: u32, key: u64) -> Xoshiro256PlusPlus {
        if self.has_returns {
            stream(self.scenario.seed, replicate, key, Purpose::Returns)
        } else {
            Xoshiro256PlusPlus::from_seed(NO_RETURNS)
        }
    }

    /// One empty tally per design (with the design's goal-gradient buckets).
    pub fn empty_tallies(&self) -> Vec<Tally> {
        self.scenario
            .designs
            .iter()
            .map(|d| {
                let mut t = Tally::new(self.periods);
                t.progress = vec![(0, 0); progress_buckets(d)];
                t
            })
            .collect()
    }

    /// The reporting periods, for the program parts.
    pub fn clock(&self) -> Clock {
        Clock {
            per_period_day: self.per_period_day,
            periods: self.periods,
        }
    }

    /// Reporting period of day `t`.
    #[inline]
    pub fn period_of(&self, t: f64) -> usize {
        ((t * self.per_period_day) as usize).min(self.periods - 1)
    }

    /// Add the costs that do not depend on customers (launch, platform) to a replicate's
    /// tally of design `d`.
    pub fn add_fixed_costs(&self, d: usize, tally: &mut Tally) {
        let design = &self.scenario.designs[d];
        let costs = &design.costs;
        // Nothing is spent on the program before it launches.
        let start = design.start_day;
        if costs.launch_cents > 0 {
            tally.program_cost_cents += costs.launch_cents;
            tally.periods[self.period_of(start)].program_cost_cents += costs.launch_cents;
        }
        let per_day = costs.platform_per_month_cents as f64 / MONTH_DAYS;
        let periods = &mut tally.periods;
        let mut total = 0;
        accrue(
            start,
            self.horizon,
            per_day,
            self.period_days,
            self.periods,
            |p, c| {
                periods[p].program_cost_cents += c;
                total += c;
            },
        );
        tally.program_cost_cents += total;
    }

    /// Simulate customer `id` of `replicate` under every design that has it, adding to
    /// `tallies` (one per design).
    pub fn simulate_customer(
        &self,
        replicate: u32,
        id: u64,
        plan: &Plan,
        tallies: &mut [Tally],
        scratch: &mut Scratch,
    ) {
        let sc = self.scenario;
        let seed = sc.seed;
        if id >= plan.shared {
            // A customer attracted by one or more designs only (adverse selection).
            let k = id - plan.shared;
            for (d, tally) in tallies.iter_mut().enumerate() {
                if k >= plan.extra[d] {
                    continue;
                }
                let design = &sc.designs[d];
                let acq = design
                    .acquisition
                    .as_ref()
                    .expect("extra customers need acquisition");
                let mut brng = stream(seed, replicate, id, Purpose::Behaviour);
                let arrival = brng.random::<f64>() * self.horizon;
                if arrival < design.start_day {
                    // The program cannot attract anyone before it exists.
                    continue;
                }
                let segment = if acq.segment_cumulative.is_empty() {
                    self.population.random_segment(&mut brng)
                } else {
                    let u: f64 = brng.random();
                    acq.segment_cumulative.partition_point(|&x| x <= u)
                };
                let mut c = self
                    .population
                    .segment(segment)
                    .draw(&mut brng, segment, arrival, true);
                c.has_counterfactual = false;
                let prng = stream(seed, replicate, id, Purpose::Program);
                let cac = acq.cost_per_customer_cents;
                let run = CustomerRun {
                    cac: Some(cac),
                    ..CustomerRun::new(&c, design, Replay::live(brng), prng, replicate, id)
                };
                self.run(run, tally);
            }
            return;
        }
        let (customer, brng) = super::draw_customer(seed, sc, &self.population, replicate, id);
        let prng = stream(seed, replicate, id, Purpose::Program);
        // The control runs first: its spend is every other design's counterfactual.
        let returns = self.returns_stream(replicate, id);
        let record = &mut scratch.draws;
        record.clear();
        let (control_spend, after) =
            self.run_control(&customer, brng, returns, &mut tallies[sc.control], record);
        for (d, tally) in tallies.iter_mut().enumerate() {
            if d == sc.control {
                continue;
            }
            let design = &sc.designs[d];
            if !self.common_random_numbers {
                // Independent streams: design d simulates other customers of the same
                // population (a different seed per design).
                let seed = seed ^ child_key(0x1d, d as u64);
                let (customer, brng) =
                    super::draw_customer(seed, sc, &self.population, replicate, id);
                let prng = stream(seed, replicate, id, Purpose::Program);
                let brng = Replay::live(brng);
                let run = CustomerRun::new(&customer, design, brng, prng, replicate, id);
                self.run(run, tally);
                continue;
            }
            // Every design replays the control's behaviour draws: common random numbers.
            let brng = Replay::new(record, after.clone());
            let run = CustomerRun {
                control_spend,
                ..CustomerRun::new(&customer, design, brng, prng.clone(), replicate, id)
            };
            self.run(run, tally);
        }
    }

    /// The control's timeline: the general [`Timeline`] with no program, written out as a
    /// plain loop because it is half of every run. It does exactly the same arithmetic in
    /// the same order (the neutral-design tests check the two agree to the bit). It records
    /// the behaviour draws in `record` for the designs to replay; returns the customer's
    /// spend in cents and the stream after the last draw.
    fn run_control(
        &self,
        c: &Customer,
        rng: Xoshiro256PlusPlus,
        mut returns: Xoshiro256PlusPlus,
        tally: &mut Tally,
        record: &mut Vec<f64>,
    ) -> (i64, Xoshiro256PlusPlus) {
        let margin = self.blended_margin[c.segment];
        let return_rate = self.scenario.population.segments[c.segment].return_rate;
        if c.acquired {
            let p = self.period_of(c.arrival);
            let cac = self
                .scenario
                .population
                .acquisition
                .as_ref()
                .map_or(0, |a| a.cost_per_customer_cents);
            tally.customers_acquired += 1;
            tally.periods[p].new_customers += 1;
            tally.acquisition_cost_cents += cac;
            tally.periods[p].acquisition_cost_cents += cac;
        } else {
            tally.customers_initial += 1;
        }
        let mut spend = 0i64;
        let mut orders = 0u64;
        let mut last = c.arrival;
        let (end_of_activity, rng) = self.control_orders(c, rng, record, |t, value, repeat| {
            // A returned order is refunded in full: it counts as an order, earns nothing.
            let cents = if returned(return_rate, &mut returns) {
                0
            } else {
                to_cents(value)
            };
            let gross = round_half_away(cents as f64 - cents as f64 * (1.0 - margin));
            let pt = &mut tally.periods[self.period_of(t)];
            pt.orders += 1;
            pt.revenue_cents += cents;
            pt.margin_cents += gross;
            tally.orders += 1;
            tally.repeat_orders += u64::from(repeat);
            tally.revenue_cents += cents;
            tally.margin_cents += gross;
            spend += cents;
            orders += 1;
            last = t;
        });
        if end_of_activity < self.horizon {
            tally.churned += 1;
            tally.periods[self.period_of(end_of_activity)].churned += 1;
        }
        let churned = (end_of_activity < self.horizon).then_some(spend);
        tally.count_customer_path(c.opening_purchase, orders, c.arrival, last, churned);
        if c.has_counterfactual {
            let days = round_half_away((end_of_activity - c.arrival).max(0.0) * 1000.0) as u64;
            tally.cf_nonmembers += 1;
            tally.cf_nonmember_spend_cents += spend;
            tally.cf_nonmember_orders += orders;
            tally.cf_nonmember_millidays += days;
        }
        (spend, rng)
    }

    /// The control's purchase process of customer `c`, the one code path of the control's
    /// tallies and of its exported histories: calls `order(day, value, repeat)` per order and
    /// pushes every behaviour draw onto `record` in draw order. Returns the end of activity
    /// (the horizon for a customer still active) and the stream after the last draw.
    #[inline]
    fn control_orders(
        &self,
        c: &Customer,
        mut rng: Xoshiro256PlusPlus,
        record: &mut Vec<f64>,
        mut order: impl FnMut(f64, f64, bool),
    ) -> (f64, Xoshiro256PlusPlus) {
        let horizon = self.horizon;
        let season = self.scenario.population.segments[c.segment]
            .seasonality
            .as_ref();
        if c.opening_purchase {
            let value = c.spend.draw(&mut rng);
            record.push(value);
            order(c.arrival, value, false);
        }
        let death = match c.dropout {
            // Issue 14: a base customer who left before day 0 has no activity at all.
            _ if !c.alive => c.arrival,
            Dropout::Lifetime { mu, e } => c.arrival + e / mu,
            Dropout::AfterPurchase { .. } => f64::INFINITY,
        };
        let mut t = c.arrival;
        let mut end_of_activity = horizon;
        loop {
            let e: f64 = Exp1.sample(&mut rng);
            record.push(e);
            let next = advance(season, t, e / c.lambda);
            if next.min(death) >= horizon || next.is_nan() {
                break;
            }
            if death <= next {
                end_of_activity = death;
                break;
            }
            t = next;
            let value = c.spend.draw(&mut rng);
            record.push(value);
            order(t, value, true);
            if let Dropout::AfterPurchase { p } = c.dropout {
                let u: f64 = rng.random();
                record.push(u);
                if u < p {
                    end_of_activity = t;
                    break;
                }
            }
        }
        (end_of_activity, rng)
    }

    /// The control timeline of one customer as purchase days (first purchase first) and
    /// order values, from the same code path as [`Context::run_control`]: for exporting
    /// the simulated customers' RFM summaries.
    pub fn control_history(&self, replicate: u32, id: u64) -> (f64, Vec<(f64, f64)>) {
        let (c, rng) = super::draw_customer(
            self.scenario.seed,
            self.scenario,
            &self.population,
            replicate,
            id,
        );
        let mut out = Vec::new();
        self.control_orders(&c, rng, &mut Vec::new(), |t, value, _| out.push((t, value)));
        (c.arrival, out)
    }

    /// Run one customer's timeline (and those of the customers they refer) under its
    /// design; returns the customer's own spend in cents.
    fn run(&self, run: CustomerRun<'_>, tally: &mut Tally) -> i64 {
        let CustomerRun {
            customer: c,
            design,
            brng,
            prng,
            replicate,
            key,
            depth,
            cac,
            control_spend,
        } = run;
        let mut tl = Timeline::new(self, design, c, brng, prng, tally);
        tl.returns = self.returns_stream(replicate, key);
        tl.control_spend = control_spend;
        tl.cac = cac;
        tl.run();
        let spend = tl.spend_cents;
        let referrals = std::mem::take(&mut tl.parts.referral.made);
        drop(tl);
        for (k, (t, purchases)) in referrals.into_iter().enumerate() {
            if !purchases || depth >= MAX_REFERRAL_DEPTH {
                continue;
            }
            let child = child_key(key, k as u64);
            let mut brng = stream(self.scenario.seed, replicate, child, Purpose::Behaviour);
            let r = design
                .referral
                .as_ref()
                .expect("referrals need a referral part");
            let segment = if r.segment_cumulative.is_empty() {
                self.population.random_segment(&mut brng)
            } else {
                let u: f64 = brng.random();
                r.segment_cumulative.partition_point(|&x| x <= u)
            };
            let mut referee = self
                .population
                .segment(segment)
                .draw(&mut brng, segment, t, true);
            referee.referred = true;
            referee.has_counterfactual = false;
            let prng = stream(self.scenario.seed, replicate, child, Purpose::Program);
            let cost = r.cost_per_referral_cents;
            let run = CustomerRun {
                depth: depth + 1,
                cac: Some(cost),
                ..CustomerRun::new(&referee, design, Replay::live(brng), prng, replicate, child)
            };
            self.run(run, tally);
        }
        spend
    }
}

/// Whether an order of a segment with `rate` returns is returned (no draw for a zero rate,
/// so scenarios without returns keep their streams and bytes).
#[inline]
fn returned(rate: f64, rng: &mut Xoshiro256PlusPlus) -> bool {
    rate > 0.0 && rng.random::<f64>() < rate
}

/// Number of goal-gradient buckets a design's tally keeps: stamp numbers for a punch card,
/// tenths of the way for a points design, none otherwise.
pub fn progress_buckets(d: &Design) -> usize {
    if let Some(pc) = d.punch_card {
        pc.stamps as usize + 1
    } else if d.earn.is_some() && d.redemption.is_some() {
        POINTS_PROGRESS_BUCKETS
    } else {
        0
    }
}

/// x^c, skipping the libm call for the common linear case.
#[inline]
fn power(x: f64, c: f64) -> f64 {
    if c == 1.0 {
        x
    } else {
        x.powf(c)
    }
}

/// The per-call context of the program parts, built from a timeline's fields (a macro, so
/// the borrows stay split between the parts' states and the rest).
macro_rules! cx {
    ($s:ident) => {
        Cx {
            design: $s.d,
            customer: $s.c,
            segment: $s.seg,
            behaviour: &$s.b,
            strength: $s.strength,
            clock: $s.ctx.clock(),
            horizon: $s.ctx.horizon,
            category_shares: &$s.ctx.category_shares,
            categories: &$s.ctx.scenario.categories,
            member: $s.member,
            last_purchase: $s.last_purchase,
            tally: &mut *$s.tally,
            prng: &mut $s.prng,
            ledger: &mut $s.ledger,
            effects: &mut $s.effects,
        }
    };
}

/// The state of one customer under one design while their timeline runs: the purchase
/// process and membership here, each program part's own state in `parts`.
struct Timeline<'c, 'a> {
    ctx: &'c Context<'a>,
    d: &'c Design,
    c: &'c Customer,
    seg: &'c Segment,
    b: Behaviour,
    /// The behaviour stream: the control's recorded draws, then live ones.
    brng: Replay<'c>,
    prng: Xoshiro256PlusPlus,
    tally: &'c mut Tally,
    /// Acquisition cost override (referred and attracted customers).
    cac: Option<i64>,
    margin: f64,
    /// Response strength of this customer: relevance x heavy-buyer factor.
    strength: f64,
    /// Whether progress toward a reward or tier moves the multipliers (goal gradient, tier
    /// chase, commitment), so they must be recomputed after each purchase.
    progress_effects: bool,
    /// Whether a reward starts time-limited effects (post-reward reset, rewarded lift).
    reward_effects: bool,
    /// Whether a member can have any timer besides point expiry (fees, tier reviews,
    /// events, referrals, win-back, a cashback cut, post-reward effects). Most designs
    /// have none, and the event loop then skips a dozen comparisons per step.
    member_timers: bool,
    // Purchase and lifetime hazards.
    mult: Multipliers,
    anchor: f64,
    e_left: f64,
    life_anchor: f64,
    life_left: f64,
    alive: bool,
    end_of_activity: f64,
    last_purchase: f64,
    /// Lasting effects the parts have on behaviour (dropout penalty, member margin).
    effects: Effects,
    // Time-limited effects (infinity when inactive).
    dip_until: f64,
    reset_dropout_until: f64,
    rewarded_until: f64,
    // Membership.
    member: bool,
    ever_member: bool,
    joined_at: f64,
    // Points.
    ledger: Option<Ledger>,
    /// Every part's state.
    parts: States,
    /// Purchase points not yet spent on a reward: a reward they pay for was reached
    /// through purchase effort (the post-reward effects need that, see `reward_effort`).
    effort_points: u64,
    /// Whether each order is returned (the returns stream, shared with the control).
    returns: Xoshiro256PlusPlus,
    // Own results, for the causal accounting.
    spend_cents: i64,
    own_orders: u64,
    control_spend: i64,
}

impl<'c, 'a> Timeline<'c, 'a> {
    fn new(
        ctx: &'c Context<'a>,
        d: &'c Design,
        c: &'c Customer,
        brng: Replay<'c>,
        prng: Xoshiro256PlusPlus,
        tally: &'c mut Tally,
    ) -> Self {
        let life_left = match c.dropout {
            Dropout::Lifetime { e, .. } => e,
            Dropout::AfterPurchase { .. } => f64::INFINITY,
        };
        let seg = &ctx.scenario.population.segments[c.segment];
        let b = d.behaviour;
        let heavy = c.lambda > b.heavy_threshold * seg.mean_rate_per_day();
        let strength = b.relevance * if heavy { b.heavy_response } else { 1.0 };
        let margin = ctx.blended_margin[c.segment];
        let rewards = d.punch_card.is_some() || (d.earn.is_some() && d.redemption.is_some());
        let progress_effects = (rewards
            && (b.gg_rate > 0.0 || (d.punch_card.is_some() && b.gg_dropout > 0.0)))
            || (d.tiers.is_some() && b.tier_chase > 0.0);
        let reward_effects = (b.reset_dip != 1.0 && b.reset_dip_days > 0.0)
            || (b.reset_dropout != 1.0 && b.reset_dropout_days > 0.0)
            || (b.rewarded_lift != 1.0 && b.rewarded_days > 0.0);
        let member_timers = reward_effects
            || d.membership.is_some()
            || d.tiers
                .as_ref()
                .is_some_and(|t| t.window != TierWindow::Lifetime)
            || d.events.review.is_some()
            || d.events.social_share.is_some()
            || d.events.birthday.is_some()
            || d.referral.is_some()
            || d.winback.is_some()
            || d.cashback.is_some_and(|c| c.until_day.is_finite());
        Timeline {
            ctx,
            d,
            c,
            seg,
            b,
            brng,
            prng,
            tally,
            cac: None,
            margin,
            strength,
            progress_effects,
            reward_effects,
            member_timers,
            mult: Multipliers::NEUTRAL,
            anchor: c.arrival,
            e_left: 0.0,
            life_anchor: c.arrival,
            life_left,
            alive: true,
            end_of_activity: ctx.horizon,
            last_purchase: c.arrival,
            effects: Effects {
                dropout_penalty: 1.0,
                member_margin: margin,
                rates_changed: false,
                buy_now: false,
            },
            dip_until: f64::INFINITY,
            reset_dropout_until: f64::INFINITY,
            rewarded_until: f64::INFINITY,
            member: false,
            ever_member: false,
            joined_at: 0.0,
            ledger: d
                .has_ledger()
                .then(|| Ledger::new(d.expiry, d.pending_days)),
            parts: States::default(),
            effort_points: 0,
            returns: Xoshiro256PlusPlus::from_seed(NO_RETURNS),
            spend_cents: 0,
            own_orders: 0,
            control_spend: 0,
        }
    }

    #[inline]
    fn period(&self, t: f64) -> usize {
        self.ctx.period_of(t)
    }

    fn purchase_rate(&self) -> f64 {
        self.c.lambda * self.mult.purchase_rate
    }

    fn death_rate(&self) -> f64 {
        match self.c.dropout {
            Dropout::Lifetime { mu, .. } => mu * self.mult.dropout,
            Dropout::AfterPurchase { .. } => 0.0,
        }
    }

    /// Day of the next purchase if nothing changes the rate before it.
    fn next_purchase(&self) -> f64 {
        advance(
            self.seg.seasonality.as_ref(),
            self.anchor,
            self.e_left / self.purchase_rate(),
        )
    }

    /// Day the customer drops out (Pareto/NBD) if nothing changes the rate before it.
    fn death_time(&self) -> f64 {
        match self.c.dropout {
            Dropout::Lifetime { .. } => self.life_anchor + self.life_left / self.death_rate(),
            Dropout::AfterPurchase { .. } => f64::INFINITY,
        }
    }

    /// Progress toward the next reward, in [0, 1]: stamps on the card, or the spendable
    /// balance over the cheapest reward.
    fn reward_progress(&self) -> f64 {
        if let Some(pc) = &self.d.punch_card {
            return pc.progress(&self.parts.punch_card);
        }
        match (&self.d.redemption, &self.ledger, &self.d.earn) {
            (Some(r), Some(l), Some(_)) => {
                let target = match (r.cash, r.rewards.first()) {
                    (Some((_, step)), _) => step.max(r.min_balance),
                    (None, Some(w)) => w.points.max(r.min_balance),
                    (None, None) => return 0.0,
                };
                (l.available(self.last_purchase) as f64 / target as f64).min(1.0)
            }
            _ => 0.0,
        }
    }

    /// Progress toward the next tier, in [0, 1).
    fn tier_progress(&self) -> f64 {
        self.d
            .tiers
            .as_ref()
            .map_or(0.0, |t| t.progress(&self.parts.tiers))
    }

    /// The member's tier level, if the design has tiers.
    fn tier_level(&self) -> Option<&'c TierLevel> {
        self.d.tiers.as_ref()?.level(&self.parts.tiers)
    }

    /// The design's benefit rate for a member on day `t`: discounts, store credit and
    /// points payback as a share of spend (what a deal seeker responds to).
    fn benefit_rate(&self, t: f64) -> f64 {
        let d = self.d;
        let mut rate = d.cashback.map_or(0.0, |c| c.rate_at(t));
        if let Some(m) = &d.membership {
            rate += m.discount;
        }
        if let Some(level) = self.tier_level() {
            rate += level.discount;
        }
        if let Some(earn) = &d.earn {
            rate += earn.per_currency_unit * d.cost_per_point() / 100.0;
        }
        rate
    }

    /// The multipliers in force now. Members: the design's response, their tier's, and the
    /// behavioural mechanisms, each strength scaled by relevance and the heavy-buyer
    /// factor. Everyone: the persistent dropout penalty.
    fn current_multipliers(&self, t: f64) -> Multipliers {
        let mut m = Multipliers::NEUTRAL;
        m.dropout = self.effects.dropout_penalty;
        if !self.member {
            return m;
        }
        let k = self.strength;
        let b = &self.b;
        let scale = |x: Multipliers| Multipliers {
            purchase_rate: Behaviour::scaled(x.purchase_rate, k),
            dropout: Behaviour::scaled(x.dropout, k),
            order_value: Behaviour::scaled(x.order_value, k),
        };
        m = m.then(scale(self.d.response[self.c.segment]));
        if let Some(level) = self.tier_level() {
            m = m.then(scale(level.response));
        }
        // Goal gradient toward the next reward, and toward the next tier; with the
        // post-reward reset these are within-customer dynamics found in all customers
        // (Kivetz et al. 2006), so only relevance scales them, not the heavy-buyer factor.
        let g = b.relevance;
        if self.progress_effects {
            let progress = self.reward_progress();
            let p = power(progress, b.gg_curvature);
            let q = power(self.tier_progress(), b.gg_curvature);
            m.purchase_rate *= 1.0 + g * (b.gg_rate * p + b.tier_chase * q);
            if self.d.punch_card.is_some() && b.gg_dropout > 0.0 {
                // Goal commitment is modelled where it was measured: visibly stamped
                // cards (a points balance is far less salient).
                let commitment = power(progress, b.gg_dropout_curvature);
                m.dropout *= (1.0 - g.min(1.0) * b.gg_dropout * commitment).max(0.0);
            }
        }
        // Post-reward reset and rewarded behaviour (finite only while in force).
        if self.dip_until.is_finite() {
            m.purchase_rate *= Behaviour::scaled(b.reset_dip, g);
        }
        if self.reset_dropout_until.is_finite() {
            m.dropout *= Behaviour::scaled(b.reset_dropout, g);
        }
        if self.rewarded_until.is_finite() {
            m.purchase_rate *= Behaviour::scaled(b.rewarded_lift, k);
        }
        // Deal seeking: price-oriented segments buy more the richer the deal.
        if self.seg.discount_elasticity > 0.0 {
            m.purchase_rate *= 1.0 + k * self.seg.discount_elasticity * self.benefit_rate(t);
        }
        m
    }

    /// Re-anchor the hazard budgets at `t` if the multipliers changed.
    fn update_rates(&mut self, t: f64) {
        self.effects.rates_changed = false;
        let new = self.current_multipliers(t);
        if new == self.mult {
            return;
        }
        if new.purchase_rate != self.mult.purchase_rate {
            let used = elapsed(self.seg.seasonality.as_ref(), self.anchor, t);
            self.e_left -= self.purchase_rate() * used;
            self.e_left = self.e_left.max(0.0);
            self.anchor = t;
        }
        if new.dropout != self.mult.dropout && self.life_left.is_finite() {
            self.life_left -= self.death_rate() * (t - self.life_anchor);
            self.life_left = self.life_left.max(0.0);
            self.life_anchor = t;
        }
        self.mult = new;
    }

    /// Book the customer's arrival (acquisition cost or the initial population).
    fn arrive(&mut self) {
        let t0 = self.c.arrival;
        if !self.c.acquired {
            self.tally.customers_initial += 1;
            return;
        }
        let p = self.period(t0);
        self.tally.customers_acquired += 1;
        self.tally.periods[p].new_customers += 1;
        if self.c.referred {
            self.tally.customers_referred += 1;
        }
        let cac = self.cac.unwrap_or_else(|| {
            self.ctx
                .scenario
                .population
                .acquisition
                .as_ref()
                .map_or(0, |a| a.cost_per_customer_cents)
        });
        self.tally.acquisition_cost_cents += cac;
        self.tally.periods[p].acquisition_cost_cents += cac;
    }

    /// The event loop: purchases, timers and dropout until the horizon.
    fn run(&mut self) {
        let horizon = self.ctx.horizon;
        let t0 = self.c.arrival;
        self.arrive();
        if !self.c.alive {
            // Issue 14: a base customer who left before day 0.
            self.churn(t0);
            self.finish();
            return;
        }
        // First purchase on arrival; the customer may join the program at this checkout.
        // Base customers (issue 14) bought before day 0: their next checkout is a repeat.
        // Before the design's launch (`start_day`) nobody joins: the first checkout on or
        // after it is the customer's first chance, as a new customer's opening order is.
        let launched = self.d.start_day <= 0.0 || t0 >= self.d.start_day;
        if self.c.opening_purchase {
            let spend = &self.c.spend;
            let value = self.brng.next(|r| spend.draw(r));
            if launched {
                self.consider_joining(t0, Chance::First);
            }
            self.purchase(t0, value, Checkout::First);
        }
        // A base customer meets the program at their first checkout after launch: that is
        // their first chance to join, as a new customer's opening order is.
        let mut base_first_checkout = !self.c.opening_purchase || !launched;

        loop {
            // A new hazard budget for the next repeat purchase, from the last purchase.
            self.e_left = self.brng.next(|r| Exp1.sample(r));
            self.anchor = self.last_purchase;
            let t = loop {
                let tp = self.next_purchase();
                let td = self.death_time();
                let tt = self.next_timer();
                let first = tp.min(td);
                if tt < first && tt < horizon {
                    self.on_timer(tt);
                    continue;
                }
                break first;
            };
            // NaN (a zero rate with a zero draw) ends the timeline too.
            if t >= horizon || t.is_nan() {
                break;
            }
            if self.death_time() <= t {
                self.churn(self.death_time());
                break;
            }
            let spend = &self.c.spend;
            let value = self.brng.next(|r| spend.draw(r)) * self.mult.order_value;
            let first_checkout = base_first_checkout && t >= self.d.start_day;
            if first_checkout {
                base_first_checkout = false;
                self.consider_joining(t, Chance::First);
            }
            self.purchase(t, value, Checkout::Repeat);
            if let Dropout::AfterPurchase { p } = self.c.dropout {
                let u = self.brng.next(|r| r.random::<f64>());
                // BG/NBD drops out at purchases, so its calendar-time dropout hazard is
                // lambda x p: a program that makes members buy more often must not make
                // them leave sooner. Dividing by the rate multiplier keeps the hazard as
                // the dropout multiplier alone says (and is exactly p when both are 1).
                if u < p * self.mult.dropout / self.mult.purchase_rate {
                    self.churn(t);
                    break;
                }
            }
            if !self.member && !first_checkout && !base_first_checkout {
                self.consider_joining(t, Chance::Later);
            }
        }
        self.finish();
    }

    // ----- the choreography: the order in which parts act ------------------------------
    //
    // Each hook below calls the parts in a fixed order. That order fixes the order of
    // draws from the program stream and of float operations, so it is part of the
    // reproducibility contract (tests/golden.rs): a new part goes where its draws belong.

    fn consider_joining(&mut self, t: f64, chance: Chance) {
        let Some(e) = &self.d.enrolment else {
            return;
        };
        if e.joins(&mut cx!(self), chance, self.d.membership.as_ref()) {
            self.join(t);
        }
    }

    fn join(&mut self, t: f64) {
        self.member = true;
        self.joined_at = t;
        let p = self.period(t);
        self.tally.periods[p].members_joined += 1;
        let d = self.d;
        let s = &mut self.parts;
        if !self.ever_member {
            self.ever_member = true;
            self.tally.members += 1;
            let cx = &mut cx!(self);
            d.events.on_first_join(&mut s.events, cx, t);
            d.punch_card.on_first_join(&mut s.punch_card, cx, t);
            d.earn.on_first_join(&mut s.earn, cx, t);
        }
        let cx = &mut cx!(self);
        d.membership.on_join(&mut s.membership, cx, t);
        d.events.on_join(&mut s.events, cx, t);
        d.referral.on_join(&mut s.referral, cx, t);
        d.cashback.on_join(&mut s.cashback, cx, t);
        d.winback.on_join(&mut s.winback, cx, t);
        d.tiers.on_join(&mut s.tiers, cx, t);
        self.update_rates(t);
    }

    /// Leave the program at `t` (lapsed fee, or dropout).
    fn leave(&mut self, t: f64) {
        if !self.member {
            return;
        }
        self.member = false;
        let p = self.period(t);
        self.tally.periods[p].members_left += 1;
        self.accrue_member_cost(self.joined_at, t);
        let d = self.d;
        let s = &mut self.parts;
        let cx = &mut cx!(self);
        d.tiers.on_leave(&mut s.tiers, cx, t);
        d.membership.on_leave(&mut s.membership, cx, t);
        d.events.on_leave(&mut s.events, cx, t);
        d.referral.on_leave(&mut s.referral, cx, t);
        d.winback.on_leave(&mut s.winback, cx, t);
        d.cashback.on_leave(&mut s.cashback, cx, t);
        self.update_rates(t);
    }

    fn next_timer(&self) -> f64 {
        let mut t = self
            .ledger
            .as_ref()
            .map_or(f64::INFINITY, Ledger::next_expiry);
        if self.member && self.member_timers {
            let (d, s) = (self.d, &self.parts);
            t = t
                .min(d.membership.next_timer(&s.membership))
                .min(d.tiers.next_timer(&s.tiers))
                .min(d.events.next_timer(&s.events))
                .min(d.referral.next_timer(&s.referral))
                .min(d.winback.next_timer(&s.winback))
                .min(d.cashback.next_timer(&s.cashback))
                .min(self.dip_until)
                .min(self.reset_dropout_until)
                .min(self.rewarded_until);
        }
        t
    }

    fn on_timer(&mut self, t: f64) {
        if let Some(l) = self.ledger.as_mut() {
            if l.next_expiry() <= t {
                let gone = l.expire(t);
                self.tally.points_expired += gone;
                let p = self.period(t);
                self.tally.periods[p].points_expired += gone;
            }
        }
        if !self.member {
            self.update_rates(t);
            return;
        }
        for until in [
            &mut self.dip_until,
            &mut self.reset_dropout_until,
            &mut self.rewarded_until,
        ] {
            if *until <= t {
                *until = f64::INFINITY;
            }
        }
        let d = self.d;
        let s = &mut self.parts;
        let cx = &mut cx!(self);
        d.cashback.on_timer(&mut s.cashback, cx, t);
        if d.membership.on_timer(&mut s.membership, cx, t) == Stay::Leave {
            self.leave(t);
            return;
        }
        d.tiers.on_timer(&mut s.tiers, cx, t);
        d.events.on_timer(&mut s.events, cx, t);
        d.referral.on_timer(&mut s.referral, cx, t);
        d.winback.on_timer(&mut s.winback, cx, t);
        if std::mem::take(&mut self.effects.buy_now) {
            // Buy now: the pending purchase budget is spent at once.
            self.e_left = 0.0;
            self.anchor = t;
        }
        self.update_rates(t);
    }

    /// Book an order: revenue, margin, discounts and merchant-paid shipping; then, for a
    /// member, the parts' reactions.
    fn purchase(&mut self, t: f64, value: f64, checkout: Checkout) {
        self.last_purchase = t;
        let p = self.period(t);
        let d = self.d;
        let member = self.member;
        // Discounts and shipping paid by the merchant.
        let mut keep = 1.0;
        let mut shipping = 0;
        if member {
            if let Some(m) = &d.membership {
                m.price(&mut keep, &mut shipping);
            }
            if let Some(level) = self.tier_level() {
                keep *= 1.0 - level.discount;
                shipping = shipping.max(level.free_shipping_cents);
            }
        }
        // A returned order is refunded in full and the program never sees it.
        let is_returned = returned(self.seg.return_rate, &mut self.returns);
        let list_cents = if is_returned { 0 } else { to_cents(value) };
        let paid_cents = if keep < 1.0 && !is_returned {
            to_cents(value * keep)
        } else {
            list_cents
        };
        let margin = if member {
            self.effects.member_margin
        } else {
            self.margin
        };
        let gross = round_half_away(paid_cents as f64 - list_cents as f64 * (1.0 - margin));
        {
            let tally = &mut *self.tally;
            let pt = &mut tally.periods[p];
            pt.orders += 1;
            pt.revenue_cents += paid_cents;
            pt.margin_cents += gross;
            pt.program_cost_cents += shipping;
            tally.orders += 1;
            tally.repeat_orders += u64::from(checkout == Checkout::Repeat);
            tally.revenue_cents += paid_cents;
            tally.margin_cents += gross;
            tally.discount_cents += list_cents - paid_cents;
            tally.program_cost_cents += shipping;
        }
        self.spend_cents += paid_cents;
        self.own_orders += 1;
        if member && !is_returned {
            let mut order = Order {
                checkout,
                period: p,
                paid_cents,
                paid: paid_cents as f64 / 100.0,
                earn_multiplier: self.tier_level().map_or(1.0, |l| l.earn_multiplier),
                extra_earn_rate: d.membership.map_or(0.0, |m| m.extra_earn_rate),
                points_earned: 0,
                rewarded: false,
            };
            self.member_purchase(t, &mut order);
        }
    }

    /// The parts' reactions to a member's order, in choreography order.
    fn member_purchase(&mut self, t: f64, o: &mut Order) {
        let d = self.d;
        let redeemed_before = self.tally.points_redeemed;
        let s = &mut self.parts;
        let cx = &mut cx!(self);
        d.winback.on_purchase(&mut s.winback, cx, t, o);
        if let Some(l) = cx.ledger.as_mut() {
            l.touch(t);
        }
        d.cashback.on_purchase(&mut s.cashback, cx, t, o);
        d.earn.on_purchase(&mut s.earn, cx, t, o);
        d.tiers.on_purchase(&mut s.tiers, cx, t, o);
        d.redemption.on_purchase(&mut (), cx, t, o);
        d.punch_card.on_purchase(&mut s.punch_card, cx, t, o);
        let rewarded = o.rewarded;
        let spent = self.tally.points_redeemed - redeemed_before;
        self.effort_points += o.points_earned;
        if rewarded && self.reward_effects && self.reward_effort(spent) {
            let b = self.b;
            if b.reset_dip != 1.0 && b.reset_dip_days > 0.0 {
                self.dip_until = t + b.reset_dip_days;
            }
            if b.reset_dropout != 1.0 && b.reset_dropout_days > 0.0 {
                self.reset_dropout_until = t + b.reset_dropout_days;
            }
            if b.rewarded_lift != 1.0 && b.rewarded_days > 0.0 {
                self.rewarded_until = t + b.rewarded_days;
            }
        }
        if d.earn.is_some() && !self.tally.progress.is_empty() && d.punch_card.is_none() {
            // Open the goal-gradient interval that the next purchase closes.
            let bucket = ((self.reward_progress() * POINTS_PROGRESS_BUCKETS as f64) as usize)
                .min(POINTS_PROGRESS_BUCKETS - 1);
            self.parts.earn.interval = Some((t, bucket));
        }
        // Multipliers move after a purchase only through progress, a reward's effects or
        // a tier change.
        if self.progress_effects || (rewarded && self.reward_effects) || self.effects.rates_changed
        {
            self.update_rates(t);
        }
    }

    /// Whether a reward that spent `spent` points was a goal reached through purchase
    /// effort: the purchase points not yet spent pay for it. Post-reward effects follow only such goals
    /// (Kivetz et al. 2006); event-bonus points (reviews, shares, sign-up) paying for a
    /// reward do not count, unless `post_reward.after_event_points = true`. Designs
    /// without events: always (their only non-purchase points, tier and win-back bonuses,
    /// come after purchases anyway).
    fn reward_effort(&mut self, spent: u64) -> bool {
        if !self.d.events.any() || self.b.after_event_points {
            return true;
        }
        let effort = self.effort_points >= spent;
        self.effort_points = self.effort_points.saturating_sub(spent);
        effort
    }

    fn accrue_member_cost(&mut self, from: f64, to: f64) {
        let per_day = self.d.costs.per_member_per_month / MONTH_DAYS;
        let periods = &mut self.tally.periods;
        let mut total = 0;
        accrue(
            from,
            to,
            per_day,
            self.ctx.period_days,
            self.ctx.periods,
            |p, c| {
                periods[p].program_cost_cents += c;
                total += c;
            },
        );
        self.tally.program_cost_cents += total;
    }

    fn churn(&mut self, t: f64) {
        self.alive = false;
        self.end_of_activity = t;
        self.tally.churned += 1;
        let p = self.period(t);
        self.tally.periods[p].churned += 1;
        let d = self.d;
        let s = &mut self.parts;
        d.winback.on_churn(&mut s.winback, &mut cx!(self), t);
        self.leave(t);
        // Points stay on the books after a customer drops out, until they expire.
        let horizon = self.ctx.horizon;
        loop {
            let next = self
                .ledger
                .as_ref()
                .map_or(f64::INFINITY, Ledger::next_expiry);
            if next >= horizon {
                break;
            }
            self.on_timer(next);
        }
    }

    fn finish(&mut self) {
        let horizon = self.ctx.horizon;
        if self.alive && self.member {
            // End the membership's cost accrual at the horizon without a departure.
            self.accrue_member_cost(self.joined_at, horizon);
        }
        if let Some(l) = &self.ledger {
            let (outstanding, pending) = l.close(horizon);
            self.tally.points_outstanding += outstanding;
            self.tally.points_pending += pending;
            if !self.alive {
                self.tally.points_stranded += outstanding + pending;
            }
        }
        let churned = (!self.alive).then_some(self.spend_cents);
        self.tally.count_customer_path(
            self.c.opening_purchase,
            self.own_orders,
            self.c.arrival,
            self.last_purchase,
            churned,
        );
        if self.c.has_counterfactual {
            let days =
                round_half_away((self.end_of_activity - self.c.arrival).max(0.0) * 1000.0) as u64;
            let t = &mut *self.tally;
            if self.ever_member {
                t.cf_members += 1;
                t.cf_member_spend_cents += self.spend_cents;
                t.cf_member_control_spend_cents += self.control_spend;
                t.cf_member_orders += self.own_orders;
                t.cf_member_millidays += days;
            } else {
                t.cf_nonmembers += 1;
                t.cf_nonmember_spend_cents += self.spend_cents;
                t.cf_nonmember_orders += self.own_orders;
                t.cf_nonmember_millidays += days;
            }
        }
    }
}

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
use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

use super::rng::{child_key, stream, Purpose};
use crate::metrics::Tally;
use crate::population::{Customer, Dropout, PopulationSampler};
use crate::program::ledger::{year_end_after, Ledger, YEAR_DAYS};
use crate::program::{accrue, affordable, category_mix, purchase_points, qualifying_level};
use crate::scenario::behaviour::Behaviour;
use crate::scenario::design::{
    Design, Downgrade, EnrolmentMode, JoinDecision, Multipliers, ReferralTrigger, TierMetric,
    TierWindow,
};
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

    /// Reporting period of day `t`.
    #[inline]
    pub fn period_of(&self, t: f64) -> usize {
        ((t * self.per_period_day) as usize).min(self.periods - 1)
    }

    /// Add the costs that do not depend on customers (launch, platform) to a replicate's
    /// tally of design `d`.
    pub fn add_fixed_costs(&self, d: usize, tally: &mut Tally) {
        let costs = &self.scenario.designs[d].costs;
        if costs.launch_cents > 0 {
            tally.program_cost_cents += costs.launch_cents;
            tally.periods[0].program_cost_cents += costs.launch_cents;
        }
        let per_day = costs.platform_per_month_cents as f64 / MONTH_DAYS;
        let periods = &mut tally.periods;
        let mut total = 0;
        accrue(
            0.0,
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
    pub fn simulate_customer(&self, replicate: u32, id: u64, plan: &Plan, tallies: &mut [Tally]) {
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
                self.run(
                    &c,
                    design,
                    brng,
                    prng,
                    replicate,
                    id,
                    0,
                    Some(cac),
                    0,
                    tally,
                );
            }
            return;
        }
        let (customer, brng) = super::draw_customer(seed, sc, &self.population, replicate, id);
        let prng = stream(seed, replicate, id, Purpose::Program);
        // The control runs first: its spend is every other design's counterfactual.
        let control_spend = self.run_control(&customer, brng.clone(), &mut tallies[sc.control]);
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
                self.run(
                    &customer, design, brng, prng, replicate, id, 0, None, 0, tally,
                );
                continue;
            }
            // Every design restarts from the same stream positions: common random numbers.
            self.run(
                &customer,
                design,
                brng.clone(),
                prng.clone(),
                replicate,
                id,
                0,
                None,
                control_spend,
                tally,
            );
        }
    }

    /// The control's timeline: the general [`Timeline`] with no program, written out as a
    /// plain loop because it is half of every run. It does exactly the same arithmetic in
    /// the same order (the neutral-design tests check the two agree to the bit); returns
    /// the customer's spend in cents.
    fn run_control(&self, c: &Customer, mut rng: Xoshiro256PlusPlus, tally: &mut Tally) -> i64 {
        let horizon = self.horizon;
        let margin = self.blended_margin[c.segment];
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
        let mut order = |tally: &mut Tally, t: f64, value: f64, repeat: bool| {
            let cents = to_cents(value);
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
        };
        if c.opening_purchase {
            let value = c.spend.draw(&mut rng);
            order(tally, c.arrival, value, false);
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
            let next = t + e / c.lambda;
            if next.min(death) >= horizon || next.is_nan() {
                break;
            }
            if death <= next {
                end_of_activity = death;
                break;
            }
            t = next;
            order(tally, t, c.spend.draw(&mut rng), true);
            if let Dropout::AfterPurchase { p } = c.dropout {
                let u: f64 = rng.random();
                if u < p {
                    end_of_activity = t;
                    break;
                }
            }
        }
        if end_of_activity < horizon {
            tally.churned += 1;
            tally.periods[self.period_of(end_of_activity)].churned += 1;
        }
        if c.has_counterfactual {
            let days = round_half_away((end_of_activity - c.arrival).max(0.0) * 1000.0) as u64;
            tally.cf_nonmembers += 1;
            tally.cf_nonmember_spend_cents += spend;
            tally.cf_nonmember_orders += orders;
            tally.cf_nonmember_millidays += days;
        }
        spend
    }

    /// The control timeline of one customer as purchase days (first purchase first) and
    /// order values, drawn exactly as [`Context::run_control`] draws them: for exporting
    /// the simulated customers' RFM summaries.
    pub fn control_history(&self, replicate: u32, id: u64) -> (f64, Vec<(f64, f64)>) {
        let (c, mut rng) = super::draw_customer(
            self.scenario.seed,
            self.scenario,
            &self.population,
            replicate,
            id,
        );
        let horizon = self.horizon;
        let mut out = Vec::new();
        if c.opening_purchase {
            out.push((c.arrival, c.spend.draw(&mut rng)));
        }
        let death = match c.dropout {
            _ if !c.alive => c.arrival,
            Dropout::Lifetime { mu, e } => c.arrival + e / mu,
            Dropout::AfterPurchase { .. } => f64::INFINITY,
        };
        let mut t = c.arrival;
        loop {
            let e: f64 = Exp1.sample(&mut rng);
            let next = t + e / c.lambda;
            if next.min(death) >= horizon || next.is_nan() || death <= next {
                break;
            }
            t = next;
            out.push((t, c.spend.draw(&mut rng)));
            if let Dropout::AfterPurchase { p } = c.dropout {
                if rng.random::<f64>() < p {
                    break;
                }
            }
        }
        (c.arrival, out)
    }

    /// Run one customer's timeline (and those of the customers they refer) under `design`;
    /// returns the customer's own spend in cents. `cac` overrides the acquisition cost.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        c: &Customer,
        design: &Design,
        brng: Xoshiro256PlusPlus,
        prng: Xoshiro256PlusPlus,
        replicate: u32,
        key: u64,
        depth: u32,
        cac: Option<i64>,
        control_spend: i64,
        tally: &mut Tally,
    ) -> i64 {
        let mut tl = Timeline::new(self, design, c, brng, prng, tally);
        tl.control_spend = control_spend;
        tl.cac = cac;
        tl.run();
        let spend = tl.spend_cents;
        let referrals = std::mem::take(&mut tl.referrals);
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
            self.run(
                &referee,
                design,
                brng,
                prng,
                replicate,
                child,
                depth + 1,
                Some(cost),
                0,
                tally,
            );
        }
        spend
    }
}

fn pc_stamps_joining(d: &Design) -> bool {
    d.punch_card.is_none_or(|pc| pc.stamp_joining_purchase)
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

/// The state of one customer under one design while their timeline runs.
struct Timeline<'c, 'a> {
    ctx: &'c Context<'a>,
    d: &'c Design,
    c: &'c Customer,
    seg: &'c Segment,
    b: Behaviour,
    brng: Xoshiro256PlusPlus,
    prng: Xoshiro256PlusPlus,
    tally: &'c mut Tally,
    /// Acquisition cost override (referred and attracted customers).
    cac: Option<i64>,
    margin: f64,
    member_margin: f64,
    member_mix: f64,
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
    // Persistent dropout factor (demotions, promotions, benefit cuts): applies after the
    // customer leaves too.
    dropout_penalty: f64,
    // Time-limited effects (infinity when inactive).
    dip_until: f64,
    reset_dropout_until: f64,
    rewarded_until: f64,
    cashback_cut_at: f64,
    // Membership.
    member: bool,
    ever_member: bool,
    joined_at: f64,
    paying: bool,
    trial_used: bool,
    next_billing: f64,
    next_winback: f64,
    // Points.
    ledger: Option<Ledger>,
    cap_window: (i64, u64),
    // Tiers.
    tier: Option<usize>,
    qual: u64,
    rolling: std::collections::VecDeque<(f64, u64)>,
    next_review: f64,
    grace_until: f64,
    // Events.
    next_review_event: f64,
    review_cap: (i64, u64),
    next_share: f64,
    share_cap: (i64, u64),
    next_birthday: f64,
    // Punch card.
    stamps: u32,
    fraud_stamps: u32,
    completed_any: bool,
    /// (day, stamps after the purchase) of each stamped purchase on the current card.
    card: Vec<(f64, u32)>,
    /// Points goal-gradient interval in progress: (start day, bucket).
    points_interval: Option<(f64, usize)>,
    // Referrals made: (time, whether the referee makes a first purchase).
    next_referral: f64,
    referrals: Vec<(f64, bool)>,
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
        brng: Xoshiro256PlusPlus,
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
            member_margin: margin,
            member_mix: 1.0,
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
            dropout_penalty: 1.0,
            dip_until: f64::INFINITY,
            reset_dropout_until: f64::INFINITY,
            rewarded_until: f64::INFINITY,
            cashback_cut_at: f64::INFINITY,
            member: false,
            ever_member: false,
            joined_at: 0.0,
            paying: false,
            trial_used: false,
            next_billing: f64::INFINITY,
            next_winback: f64::INFINITY,
            ledger: d
                .has_ledger()
                .then(|| Ledger::new(d.expiry, d.pending_days)),
            cap_window: (-1, 0),
            tier: None,
            qual: 0,
            rolling: Default::default(),
            next_review: f64::INFINITY,
            grace_until: f64::INFINITY,
            next_review_event: f64::INFINITY,
            review_cap: (-1, 0),
            next_share: f64::INFINITY,
            share_cap: (-1, 0),
            next_birthday: f64::INFINITY,
            stamps: 0,
            fraud_stamps: 0,
            completed_any: false,
            card: Vec::new(),
            points_interval: None,
            next_referral: f64::INFINITY,
            referrals: Vec::new(),
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
        self.anchor + self.e_left / self.purchase_rate()
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
        if let Some(pc) = self.d.punch_card {
            return f64::from(self.stamps) / f64::from(pc.stamps);
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
        let Some(tiers) = &self.d.tiers else {
            return 0.0;
        };
        let next = self.tier.map_or(0, |l| l + 1);
        match tiers.levels.get(next) {
            Some(level) if level.threshold > 0 => {
                (self.qual as f64 / level.threshold as f64).min(1.0)
            }
            _ => 0.0,
        }
    }

    /// The design's benefit rate for a member on day `t`: discounts, store credit and
    /// points payback as a share of spend (what a deal seeker responds to).
    fn benefit_rate(&self, t: f64) -> f64 {
        let d = self.d;
        let mut rate = d.cashback.map_or(0.0, |c| c.rate_at(t));
        if let Some(m) = &d.membership {
            rate += m.discount;
        }
        if let (Some(tiers), Some(level)) = (&d.tiers, self.tier) {
            rate += tiers.levels[level].discount;
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
        m.dropout = self.dropout_penalty;
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
        if let (Some(tiers), Some(level)) = (&self.d.tiers, self.tier) {
            m = m.then(scale(tiers.levels[level].response));
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
        let new = self.current_multipliers(t);
        if new == self.mult {
            return;
        }
        if new.purchase_rate != self.mult.purchase_rate {
            self.e_left -= self.purchase_rate() * (t - self.anchor);
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

    fn run(&mut self) {
        let horizon = self.ctx.horizon;
        let t0 = self.c.arrival;
        // Arrival.
        if self.c.acquired {
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
        } else {
            self.tally.customers_initial += 1;
        }
        if !self.c.alive {
            // Issue 14: a base customer who left before day 0.
            self.churn(t0);
            self.finish();
            return;
        }
        // First purchase on arrival; the customer may join the program at this checkout.
        // Base customers (issue 14) bought before day 0: their next checkout is a repeat.
        if self.c.opening_purchase {
            let value = self.c.spend.draw(&mut self.brng);
            self.consider_joining(t0, true);
            self.purchase(t0, value, false);
        }
        // A base customer meets the program at their first checkout after launch: that is
        // their first chance to join, as a new customer's opening order is.
        let mut base_first_checkout = !self.c.opening_purchase;

        loop {
            // A new hazard budget for the next repeat purchase, from the last purchase.
            self.e_left = Exp1.sample(&mut self.brng);
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
            let value = self.c.spend.draw(&mut self.brng) * self.mult.order_value;
            let first_checkout = std::mem::take(&mut base_first_checkout);
            if first_checkout {
                self.consider_joining(t, true);
            }
            self.purchase(t, value, true);
            if let Dropout::AfterPurchase { p } = self.c.dropout {
                let u: f64 = self.brng.random();
                // BG/NBD drops out at purchases, so its calendar-time dropout hazard is
                // lambda x p: a program that makes members buy more often must not make
                // them leave sooner. Dividing by the rate multiplier keeps the hazard as
                // the dropout multiplier alone says (and is exactly p when both are 1).
                if u < p * self.mult.dropout / self.mult.purchase_rate {
                    self.churn(t);
                    break;
                }
            }
            if !self.member && !first_checkout {
                self.consider_joining(t, false);
            }
        }
        self.finish();
    }

    // ----- membership -------------------------------------------------------------------

    fn consider_joining(&mut self, t: f64, first: bool) {
        let Some(e) = &self.d.enrolment else {
            return;
        };
        let mut p = if first {
            e.at_first[self.c.segment]
        } else {
            e.per_purchase[self.c.segment]
        };
        if p <= 0.0 {
            return;
        }
        let value_decision = self
            .d
            .membership
            .is_some_and(|m| m.decision == JoinDecision::Value);
        if e.mode == EnrolmentMode::OptIn && !value_decision && self.b.selection_elasticity > 0.0 {
            // Self-selection: heavier buyers are more likely to sign up.
            let relative = self.c.lambda / self.seg.mean_rate_per_day();
            p = (p * relative.powf(self.b.selection_elasticity)).min(1.0);
        }
        let considers = p >= 1.0 || self.prng.random::<f64>() < p;
        if !considers {
            return;
        }
        if value_decision && !self.membership_worth_it() {
            return;
        }
        self.join(t);
    }

    /// The paid-membership decision: the benefit this customer expects in a year, from
    /// their own purchase rate and basket, times a log-normal taste draw (mean 1), against
    /// the yearly fee.
    fn membership_worth_it(&mut self) -> bool {
        let m = self.d.membership.expect("membership decision");
        let response = self.d.response[self.c.segment];
        let orders_per_year = self.c.lambda * YEAR_DAYS * response.purchase_rate;
        let basket = self.c.spend_mean * response.order_value;
        let per_order = basket * m.discount
            + m.free_shipping_cents as f64 / 100.0
            + basket * m.extra_earn_rate * self.d.cost_per_point() / 100.0;
        let benefit = orders_per_year * per_order;
        let z: f64 = StandardNormal.sample(&mut self.prng);
        let s = m.value_noise;
        let perceived = benefit * (s * z - s * s / 2.0).exp();
        let fee_per_year = m.fee_cents as f64 / 100.0 * YEAR_DAYS / m.billing_days;
        perceived > fee_per_year
    }

    fn join(&mut self, t: f64) {
        self.member = true;
        self.joined_at = t;
        let p = self.period(t);
        self.tally.periods[p].members_joined += 1;
        if !self.ever_member {
            self.ever_member = true;
            self.tally.members += 1;
            if let Some(ev) = self.d.events.signup {
                self.award(t, ev.points);
            }
            if let Some(ev) = self.d.events.profile_completion {
                if self.prng.random::<f64>() < ev.probability {
                    self.award(t, ev.points);
                }
            }
            if let Some(pc) = self.d.punch_card {
                // A first card comes with its pre-stamped bonus stamps (endowed progress).
                self.stamps = pc.bonus_stamps;
            }
            if self.d.events.birthday.is_some() {
                let doy = self.prng.random::<f64>() * YEAR_DAYS;
                let mut b = (t / YEAR_DAYS).floor() * YEAR_DAYS + doy;
                if b <= t {
                    b += YEAR_DAYS;
                }
                self.next_birthday = b;
            }
            self.shift_categories();
        }
        if let Some(m) = &self.d.membership {
            if m.trial_days > 0.0 && !self.trial_used {
                self.trial_used = true;
                self.paying = false;
                self.next_billing = t + m.trial_days;
            } else {
                self.charge_fee(t);
            }
        }
        if let Some(r) = self.d.events.review {
            self.next_review_event = t + self.exp_days(r.per_year);
        }
        if let Some(r) = self.d.events.social_share {
            self.next_share = t + self.exp_days(r.per_year);
        }
        if let Some(r) = &self.d.referral {
            self.next_referral = t + self.exp_days(r.per_member_per_year);
        }
        if let Some(c) = self.d.cashback {
            if c.until_day > t && c.after_rate < c.rate {
                self.cashback_cut_at = c.until_day;
            }
        }
        if let Some(w) = self.d.winback {
            self.next_winback = self.last_purchase + w.after_days;
        }
        if let Some(tiers) = &self.d.tiers {
            self.set_tier(t, qualifying_level(&tiers.levels, self.qual));
            self.next_review = match tiers.window {
                TierWindow::Lifetime => f64::INFINITY,
                TierWindow::CalendarYear => year_end_after(t),
                TierWindow::Rolling12Months => ((t / MONTH_DAYS).floor() + 1.0) * MONTH_DAYS,
            };
        }
        self.update_rates(t);
    }

    /// Category shift: a member moves part of their basket toward categories with a points
    /// multiplier above 1; margin and points mix follow.
    fn shift_categories(&mut self) {
        let shares = &self.ctx.category_shares;
        let Some(earn) = &self.d.earn else {
            return;
        };
        let shift = self.b.category_shift * self.strength;
        let mut shifted: Vec<f64> = shares
            .iter()
            .zip(&earn.category_multipliers)
            .map(|(s, m)| s * (1.0 + shift * (m - 1.0)).max(0.0))
            .collect();
        let total: f64 = shifted.iter().sum();
        if total > 1.0 {
            shifted.iter_mut().for_each(|s| *s /= total);
        }
        let total: f64 = shifted.iter().sum();
        let cats = &self.ctx.scenario.categories;
        self.member_margin = shifted
            .iter()
            .zip(cats)
            .map(|(s, c)| s * c.margin)
            .sum::<f64>()
            + (1.0 - total) * self.seg.margin;
        self.member_mix = category_mix(earn, &shifted);
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
        if self.d.tiers.is_some() {
            self.set_tier(t, None);
        }
        self.paying = false;
        self.next_billing = f64::INFINITY;
        self.next_review_event = f64::INFINITY;
        self.next_share = f64::INFINITY;
        self.next_birthday = f64::INFINITY;
        self.next_referral = f64::INFINITY;
        self.next_review = f64::INFINITY;
        self.grace_until = f64::INFINITY;
        self.next_winback = f64::INFINITY;
        self.cashback_cut_at = f64::INFINITY;
        self.update_rates(t);
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

    fn charge_fee(&mut self, t: f64) {
        let m = self.d.membership.expect("fees need a membership");
        self.paying = true;
        self.tally.fee_revenue_cents += m.fee_cents;
        let p = self.period(t);
        self.tally.periods[p].fee_revenue_cents += m.fee_cents;
        self.next_billing = t + m.billing_days;
    }

    fn exp_days(&mut self, per_year: f64) -> f64 {
        if per_year <= 0.0 {
            return f64::INFINITY;
        }
        let e: f64 = Exp1.sample(&mut self.prng);
        e * YEAR_DAYS / per_year
    }

    fn cost(&mut self, t: f64, cents: i64, reward: bool) {
        let p = self.period(t);
        if reward {
            self.tally.reward_cost_cents += cents;
            self.tally.periods[p].reward_cost_cents += cents;
        } else {
            self.tally.program_cost_cents += cents;
            self.tally.periods[p].program_cost_cents += cents;
        }
    }

    // ----- timers -----------------------------------------------------------------------

    fn next_timer(&self) -> f64 {
        let mut t = self
            .ledger
            .as_ref()
            .map_or(f64::INFINITY, Ledger::next_expiry);
        if self.member && self.member_timers {
            t = t
                .min(self.next_billing)
                .min(self.next_review)
                .min(self.grace_until)
                .min(self.next_review_event)
                .min(self.next_share)
                .min(self.next_birthday)
                .min(self.next_referral)
                .min(self.next_winback)
                .min(self.cashback_cut_at)
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
        if self.cashback_cut_at <= t {
            // The introductory rate ends: deal seekers feel the cut.
            self.cashback_cut_at = f64::INFINITY;
            self.dropout_penalty *= self.seg.benefit_cut_dropout;
        }
        if self.next_billing <= t {
            let m = self.d.membership.expect("billing needs a membership");
            let keep = if m.decision == JoinDecision::Value {
                let worth = self.membership_worth_it();
                worth && (!self.paying || self.prng.random::<f64>() < m.renewal)
            } else {
                let p = if self.paying {
                    m.renewal
                } else {
                    m.trial_conversion
                };
                self.prng.random::<f64>() < p
            };
            if keep {
                self.charge_fee(t);
            } else {
                // A lapsed membership is a benefit cut.
                self.dropout_penalty *= self.seg.benefit_cut_dropout;
                self.leave(t);
                return;
            }
        }
        if self.next_review <= t || self.grace_until <= t {
            self.review_tier(t);
        }
        if self.next_review_event <= t {
            let r = self.d.events.review.expect("review timer");
            if Self::under_cap(&mut self.review_cap, r.cap, t) {
                self.award(t, r.points);
            }
            self.next_review_event = t + self.exp_days(r.per_year);
        }
        if self.next_share <= t {
            let r = self.d.events.social_share.expect("share timer");
            if Self::under_cap(&mut self.share_cap, r.cap, t) {
                self.award(t, r.points);
            }
            self.next_share = t + self.exp_days(r.per_year);
        }
        if self.next_birthday <= t {
            let b = self.d.events.birthday.expect("birthday timer");
            self.award(t, b.points);
            self.next_birthday += YEAR_DAYS;
        }
        if self.next_referral <= t {
            self.refer(t);
            let r = self.d.referral.as_ref().expect("referral timer");
            self.next_referral = t + self.exp_days(r.per_member_per_year);
        }
        if self.next_winback <= t {
            self.winback(t);
        }
        self.update_rates(t);
    }

    /// Contact a member who has not bought for `after_days`; a still-active one may answer
    /// with a purchase now.
    fn winback(&mut self, t: f64) {
        let w = self.d.winback.expect("win-back timer");
        self.next_winback = f64::INFINITY;
        self.tally.winback_contacts += 1;
        self.cost(t, w.cost_per_contact_cents, false);
        if self.prng.random::<f64>() < w.response_probability {
            self.tally.winback_responses += 1;
            self.award(t, w.bonus_points);
            if w.bonus_value_cents > 0 {
                self.cost(t, w.bonus_value_cents, true);
            }
            // Buy now: the pending purchase budget is spent at once.
            self.e_left = 0.0;
            self.anchor = t;
        }
    }

    /// Count one occurrence against a per-period cap; false if the cap is reached.
    fn under_cap(state: &mut (i64, u64), cap: Option<(u64, f64)>, t: f64) -> bool {
        let Some((max, days)) = cap else {
            return true;
        };
        let window = (t / days).floor() as i64;
        if state.0 != window {
            *state = (window, 0);
        }
        if state.1 >= max {
            return false;
        }
        state.1 += 1;
        true
    }

    fn refer(&mut self, t: f64) {
        let r = self.d.referral.as_ref().expect("referral");
        let purchases = self.prng.random::<f64>() < r.first_purchase_probability;
        let pay = match r.trigger {
            ReferralTrigger::SignUp => true,
            ReferralTrigger::FirstPurchase => purchases,
        };
        let (rewards, handling) = (
            r.referrer_reward_cents + r.referee_reward_cents,
            r.cost_per_referral_cents,
        );
        if pay {
            self.cost(t, rewards, true);
        }
        if !purchases && handling > 0 {
            // A sign-up who never buys still cost the referral handling.
            let p = self.period(t);
            self.tally.acquisition_cost_cents += handling;
            self.tally.periods[p].acquisition_cost_cents += handling;
        }
        self.referrals.push((t, purchases));
    }

    // ----- tiers ------------------------------------------------------------------------

    fn set_tier(&mut self, t: f64, level: Option<usize>) {
        if level == self.tier {
            return;
        }
        let p = self.period(t);
        if let Some(old) = self.tier {
            self.tally.periods[p].tier_delta[old] -= 1;
        }
        if let Some(new) = level {
            self.tally.periods[p].tier_delta[new] += 1;
            let up = self.tier.is_none_or(|old| new > old);
            let bonus = self
                .d
                .tiers
                .as_ref()
                .map_or(0, |t| t.levels[new].upgrade_bonus);
            if up && bonus > 0 && self.member {
                self.award(t, bonus);
            }
        }
        // Tier dynamics: a promotion lowers dropout a little, a demotion raises it more
        // (and is a benefit cut); both for good.
        if self.member {
            match (self.tier, level) {
                (Some(old), Some(new)) if new > old => {
                    self.dropout_penalty *= self.b.promotion_dropout;
                }
                (Some(old), new) if new.is_none_or(|n| n < old) && level.is_some() => {
                    self.dropout_penalty *= self.b.demotion_dropout * self.seg.benefit_cut_dropout;
                }
                _ => {}
            }
        }
        self.tier = level;
        self.update_rates(t);
    }

    fn qualify(&mut self, t: f64, amount: u64) {
        let Some(tiers) = &self.d.tiers else {
            return;
        };
        self.qual += amount;
        if tiers.window == TierWindow::Rolling12Months {
            self.rolling.push_back((t, amount));
        }
        let reached = qualifying_level(&tiers.levels, self.qual);
        if reached > self.tier {
            self.grace_until = f64::INFINITY;
            self.set_tier(t, reached);
        }
    }

    fn review_tier(&mut self, t: f64) {
        let tiers = self.d.tiers.as_ref().expect("tier review");
        let window = tiers.window;
        if window == TierWindow::Rolling12Months {
            while let Some(&(when, amount)) = self.rolling.front() {
                if when <= t - YEAR_DAYS {
                    self.qual -= amount;
                    self.rolling.pop_front();
                } else {
                    break;
                }
            }
        }
        let qualifies = qualifying_level(&tiers.levels, self.qual);
        let grace_over = self.grace_until <= t;
        if self.next_review <= t {
            self.next_review = match window {
                TierWindow::CalendarYear => self.next_review + YEAR_DAYS,
                TierWindow::Rolling12Months => self.next_review + MONTH_DAYS,
                TierWindow::Lifetime => f64::INFINITY,
            };
        }
        if qualifies < self.tier && tiers.downgrade != Downgrade::None {
            if tiers.grace_days > 0.0 && !grace_over {
                if self.grace_until.is_infinite() {
                    self.grace_until = t + tiers.grace_days;
                }
            } else {
                self.grace_until = f64::INFINITY;
                let target = match tiers.downgrade {
                    Downgrade::OneDown => self.tier.and_then(|l| l.checked_sub(1)),
                    _ => qualifies,
                };
                self.set_tier(t, target.max(qualifies));
            }
        } else if grace_over {
            self.grace_until = f64::INFINITY;
        }
        if window == TierWindow::CalendarYear && !grace_over {
            // A new qualifying year starts.
            self.qual = 0;
        }
    }

    // ----- purchases and points ---------------------------------------------------------

    fn award(&mut self, t: f64, points: u64) {
        self.award_in(t, self.period(t), points);
    }

    /// [`Timeline::award`] with the period of `t` already known.
    fn award_in(&mut self, t: f64, p: usize, points: u64) {
        if points == 0 {
            return;
        }
        if let Some(l) = self.ledger.as_mut() {
            l.issue(t, points);
            self.tally.points_issued += points;
            self.tally.periods[p].points_issued += points;
        }
    }

    fn purchase(&mut self, t: f64, value: f64, repeat: bool) {
        self.last_purchase = t;
        let p = self.period(t);
        let d = self.d;
        let member = self.member;
        // Discounts and shipping paid by the merchant.
        let mut keep = 1.0;
        let mut shipping = 0;
        if member {
            if let Some(m) = &d.membership {
                keep *= 1.0 - m.discount;
                shipping = shipping.max(m.free_shipping_cents);
            }
            if let (Some(tiers), Some(level)) = (&d.tiers, self.tier) {
                keep *= 1.0 - tiers.levels[level].discount;
                shipping = shipping.max(tiers.levels[level].free_shipping_cents);
            }
        }
        let list_cents = to_cents(value);
        let paid_cents = if keep < 1.0 {
            to_cents(value * keep)
        } else {
            list_cents
        };
        let margin = if member {
            self.member_margin
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
            tally.repeat_orders += u64::from(repeat);
            tally.revenue_cents += paid_cents;
            tally.margin_cents += gross;
            tally.discount_cents += list_cents - paid_cents;
            tally.program_cost_cents += shipping;
        }
        self.spend_cents += paid_cents;
        self.own_orders += 1;
        if !member {
            return;
        }
        if let Some(w) = d.winback {
            self.next_winback = t + w.after_days;
        }
        if let Some(l) = self.ledger.as_mut() {
            l.touch(t);
        }
        let paid = paid_cents as f64 / 100.0;
        let mut rewarded = false;

        // Store credit: use what is there, then earn on this order.
        if let Some(cb) = d.cashback {
            let available = self.ledger.as_ref().map_or(0, |l| l.available(t));
            if available > 0
                && (cb.use_probability >= 1.0 || self.prng.random::<f64>() < cb.use_probability)
            {
                let used = available.min(paid_cents.max(0) as u64);
                if used > 0 {
                    self.redeem(t, used, used as i64, false);
                }
            }
            let credit = (paid_cents as f64 * cb.rate_at(t) + 1e-9).floor() as u64;
            self.award(t, credit);
        }

        // Points on the purchase.
        if let Some(earn) = &d.earn {
            // Close the goal-gradient interval that ends with this purchase.
            if let Some((start, bucket)) = self.points_interval.take() {
                if let Some(b) = self.tally.progress.get_mut(bucket) {
                    b.0 += round_half_away((t - start) * 1000.0) as u64;
                    b.1 += 1;
                }
            }
            let tier_mult = match (&d.tiers, self.tier) {
                (Some(tiers), Some(level)) => tiers.levels[level].earn_multiplier,
                _ => 1.0,
            };
            let extra = d.membership.map_or(0.0, |m| m.extra_earn_rate);
            let mut pts = purchase_points(earn, self.member_mix, paid, t, tier_mult, extra);
            if let Some((max, days)) = earn.cap {
                let window = (t / days).floor() as i64;
                if self.cap_window.0 != window {
                    self.cap_window = (window, 0);
                }
                pts = pts.min(max.saturating_sub(self.cap_window.1));
                self.cap_window.1 += pts;
            }
            self.award_in(t, p, pts);
            if let Some(tiers) = &d.tiers {
                if tiers.metric == TierMetric::Points {
                    self.qualify(t, pts);
                }
            }
        }
        if let Some(tiers) = &d.tiers {
            match tiers.metric {
                TierMetric::Spend => self.qualify(t, paid_cents.max(0) as u64),
                TierMetric::Orders => self.qualify(t, 1),
                TierMetric::Points => {}
            }
        }

        // Redemption: while the balance allows and the member chooses to.
        if let Some(r) = &d.redemption {
            while let Some(ledger) = self.ledger.as_ref() {
                let available = ledger.available(t);
                let (points, cost) = if let Some((per_point, step)) = r.cash {
                    if available < r.min_balance.max(step) {
                        break;
                    }
                    let pts = available / step * step;
                    (pts, (pts as f64 * per_point).round() as i64)
                } else {
                    match affordable(r, available) {
                        Some(w) => (w.points, w.cost_cents),
                        None => break,
                    }
                };
                if r.probability < 1.0 && self.prng.random::<f64>() >= r.probability {
                    break;
                }
                self.redeem_in(t, p, points, cost, true);
                rewarded = true;
            }
        }

        // Punch card (the checkout that hands out the card may earn no stamp).
        let handed_out_now = !repeat && !pc_stamps_joining(d);
        if let Some(pc) = d.punch_card.filter(|_| !handed_out_now) {
            if paid >= pc.min_purchase {
                self.stamps += 1;
                if pc.fraud_rate > 0.0 && self.prng.random::<f64>() < pc.fraud_rate {
                    self.stamps += 1;
                    self.fraud_stamps += 1;
                }
                self.card.push((t, self.stamps.min(pc.stamps)));
                while self.stamps >= pc.stamps {
                    self.complete_card(p);
                    rewarded = true;
                }
            }
        }
        if rewarded && self.reward_effects {
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
            let bucket = ((self.reward_progress() * POINTS_PROGRESS_BUCKETS as f64) as usize)
                .min(POINTS_PROGRESS_BUCKETS - 1);
            self.points_interval = Some((t, bucket));
        }
        // Multipliers move after a purchase only through progress or a reward's effects
        // (tier changes and joins update them where they happen).
        if self.progress_effects || (rewarded && self.reward_effects) {
            self.update_rates(t);
        }
    }

    /// A full punch card: reward cost, fraud's share, the goal-gradient intervals of the
    /// card, and a new card with its bonus stamps.
    fn complete_card(&mut self, p: usize) {
        let pc = self.d.punch_card.expect("punch card");
        self.stamps -= pc.stamps - pc.bonus_stamps;
        self.tally.cards_completed += 1;
        self.tally.rewards_redeemed += 1;
        self.tally.reward_cost_cents += pc.reward_cost_cents;
        self.tally.periods[p].reward_cost_cents += pc.reward_cost_cents;
        if !self.completed_any {
            self.completed_any = true;
            self.tally.card_completers += 1;
        }
        if self.fraud_stamps > 0 {
            // Fraud's share of this reward: its stamps over the stamps earned.
            let earned = pc.stamps - pc.bonus_stamps;
            let f = self.fraud_stamps.min(earned);
            self.fraud_stamps -= f;
            self.tally.fraud_cost_cents += pc.reward_cost_cents * i64::from(f) / i64::from(earned);
        }
        // Inter-purchase time by stamp number, over completed cards only (every stamp
        // number then has the same customers: the within-card view of Kivetz et al.).
        for w in self.card.windows(2) {
            let (start, stamp) = w[0];
            if let Some(b) = self.tally.progress.get_mut(stamp as usize) {
                b.0 += round_half_away((w[1].0 - start) * 1000.0) as u64;
                b.1 += 1;
            }
        }
        self.card.clear();
    }

    /// Spend `points` from the ledger at merchant cost `cost_cents`.
    fn redeem(&mut self, t: f64, points: u64, cost_cents: i64, reward: bool) {
        self.redeem_in(t, self.period(t), points, cost_cents, reward);
    }

    /// [`Timeline::redeem`] with the period of `t` already known.
    fn redeem_in(&mut self, t: f64, p: usize, points: u64, cost_cents: i64, reward: bool) {
        if let Some(l) = self.ledger.as_mut() {
            l.spend(t, points);
        }
        let tally = &mut *self.tally;
        tally.points_redeemed += points;
        tally.periods[p].points_redeemed += points;
        tally.reward_cost_cents += cost_cents;
        tally.periods[p].reward_cost_cents += cost_cents;
        tally.rewards_redeemed += u64::from(reward);
    }

    fn churn(&mut self, t: f64) {
        self.alive = false;
        self.end_of_activity = t;
        self.tally.churned += 1;
        let p = self.period(t);
        self.tally.periods[p].churned += 1;
        if let (true, Some(w)) = (self.member, self.d.winback) {
            // The merchant cannot tell a lapsed customer from a departed one: the contact
            // is made (and paid for) all the same, and goes unanswered.
            let contact = self.last_purchase + w.after_days;
            if contact < self.ctx.horizon {
                self.tally.winback_contacts += 1;
                self.cost(contact, w.cost_per_contact_cents, false);
            }
        }
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

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

use rand::rngs::Xoshiro256PlusPlus;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::rng::{child_key, stream, Purpose};
use crate::metrics::Tally;
use crate::population::{Customer, Dropout, PopulationSampler};
use crate::program::ledger::{Ledger, YEAR_DAYS};
use crate::program::{accrue, affordable, purchase_points, qualifying_level};
use crate::scenario::design::{
    Design, Downgrade, Multipliers, ReferralTrigger, TierMetric, TierWindow,
};
use crate::scenario::{units::to_cents, Scenario};

/// Days in a month (for monthly costs, billing and reviews).
pub const MONTH_DAYS: f64 = YEAR_DAYS / 12.0;

/// Deepest chain of referrals followed (a referred customer's referrals, and so on).
const MAX_REFERRAL_DEPTH: u32 = 8;

/// Everything a worker needs that is shared by all customers of a run.
#[derive(Debug)]
pub struct Context<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Pre-built samplers.
    pub population: PopulationSampler,
    horizon: f64,
    period_days: f64,
    periods: usize,
    /// Per segment: gross margin of an order, blending the categories' margins.
    blended_margin: Vec<f64>,
    /// Category shares of spend, in scenario order.
    category_shares: Vec<f64>,
    /// Common random numbers across designs (the default). Off, each design gets its own
    /// independent customers: only for measuring what pairing buys.
    pub common_random_numbers: bool,
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

    /// One empty tally per design.
    pub fn empty_tallies(&self) -> Vec<Tally> {
        vec![Tally::new(self.periods); self.scenario.designs.len()]
    }

    /// Reporting period of day `t`.
    #[inline]
    pub fn period_of(&self, t: f64) -> usize {
        ((t / self.period_days) as usize).min(self.periods - 1)
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

    /// Simulate customer `id` of `replicate` under every design, adding to `tallies`
    /// (one per design).
    pub fn simulate_customer(&self, replicate: u32, id: u64, tallies: &mut [Tally]) {
        let seed = self.scenario.seed;
        let (customer, brng) =
            super::draw_customer(seed, self.scenario, &self.population, replicate, id);
        let prng = stream(seed, replicate, id, Purpose::Program);
        for (d, tally) in tallies.iter_mut().enumerate() {
            let design = &self.scenario.designs[d];
            if !self.common_random_numbers && d > 0 {
                // Independent streams: design d simulates other customers of the same
                // population (a different seed per design).
                let seed = seed ^ child_key(0x1d, d as u64);
                let (customer, brng) =
                    super::draw_customer(seed, self.scenario, &self.population, replicate, id);
                let prng = stream(seed, replicate, id, Purpose::Program);
                self.run(&customer, design, brng, prng, replicate, id, 0, tally);
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
                tally,
            );
        }
    }

    /// Run one customer's timeline (and those of the customers they refer) under `design`.
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
        tally: &mut Tally,
    ) {
        let mut tl = Timeline::new(self, design, c, brng, prng, tally);
        tl.run();
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
            let prng = stream(self.scenario.seed, replicate, child, Purpose::Program);
            self.run(
                &referee,
                design,
                brng,
                prng,
                replicate,
                child,
                depth + 1,
                tally,
            );
        }
    }
}

/// The state of one customer under one design while their timeline runs.
struct Timeline<'c, 'a> {
    ctx: &'c Context<'a>,
    d: &'c Design,
    c: &'c Customer,
    brng: Xoshiro256PlusPlus,
    prng: Xoshiro256PlusPlus,
    tally: &'c mut Tally,
    margin: f64,
    // Purchase and lifetime hazards.
    mult: Multipliers,
    anchor: f64,
    e_left: f64,
    life_anchor: f64,
    life_left: f64,
    alive: bool,
    last_purchase: f64,
    // Membership.
    member: bool,
    ever_member: bool,
    joined_at: f64,
    paying: bool,
    trial_used: bool,
    next_billing: f64,
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
    // Referrals made: (time, whether the referee makes a first purchase).
    next_referral: f64,
    referrals: Vec<(f64, bool)>,
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
        Timeline {
            ctx,
            d,
            c,
            brng,
            prng,
            tally,
            margin: ctx.blended_margin[c.segment],
            mult: Multipliers::NEUTRAL,
            anchor: c.arrival,
            e_left: 0.0,
            life_anchor: c.arrival,
            life_left,
            alive: true,
            last_purchase: c.arrival,
            member: false,
            ever_member: false,
            joined_at: 0.0,
            paying: false,
            trial_used: false,
            next_billing: f64::INFINITY,
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
            next_referral: f64::INFINITY,
            referrals: Vec::new(),
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

    /// The multipliers in force now: the design's response while a member, times the
    /// member's tier response.
    fn current_multipliers(&self) -> Multipliers {
        if !self.member {
            return Multipliers::NEUTRAL;
        }
        let mut m = self.d.response[self.c.segment];
        if let (Some(tiers), Some(level)) = (&self.d.tiers, self.tier) {
            m = m.then(tiers.levels[level].response);
        }
        m
    }

    /// Re-anchor the hazard budgets at `t` if the multipliers changed.
    fn update_rates(&mut self, t: f64) {
        let new = self.current_multipliers();
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
            let cac = if self.c.referred {
                self.tally.customers_referred += 1;
                self.d
                    .referral
                    .as_ref()
                    .map_or(0, |r| r.cost_per_referral_cents)
            } else {
                self.ctx
                    .scenario
                    .population
                    .acquisition
                    .as_ref()
                    .map_or(0, |a| a.cost_per_customer_cents)
            };
            self.tally.acquisition_cost_cents += cac;
            self.tally.periods[p].acquisition_cost_cents += cac;
        } else {
            self.tally.customers_initial += 1;
        }
        // First purchase on arrival; the customer may join the program at this checkout.
        let value = self.c.spend.draw(&mut self.brng);
        self.consider_joining(t0, true);
        self.purchase(t0, value, false);

        loop {
            // A new hazard budget for the next repeat purchase.
            self.e_left = Exp1.sample(&mut self.brng);
            self.anchor = self.last_event_anchor();
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
            self.purchase(t, value, true);
            if let Dropout::AfterPurchase { p } = self.c.dropout {
                let u: f64 = self.brng.random();
                if u < p * self.mult.dropout {
                    self.churn(t);
                    break;
                }
            }
            if !self.member {
                self.consider_joining(t, false);
            }
        }
        self.finish();
    }

    /// The anchor for a fresh purchase budget: the time of the last purchase, which is
    /// where the previous budget was used up.
    fn last_event_anchor(&self) -> f64 {
        self.last_purchase
    }

    // ----- membership -------------------------------------------------------------------

    fn consider_joining(&mut self, t: f64, first: bool) {
        let Some(e) = &self.d.enrolment else {
            return;
        };
        let p = if first {
            e.at_first[self.c.segment]
        } else {
            e.per_purchase[self.c.segment]
        };
        if p <= 0.0 {
            return;
        }
        let joins = p >= 1.0 || self.prng.random::<f64>() < p;
        if joins {
            self.join(t);
        }
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
        if let Some(tiers) = &self.d.tiers {
            self.set_tier(t, qualifying_level(&tiers.levels, self.qual));
            self.next_review = match tiers.window {
                TierWindow::Lifetime => f64::INFINITY,
                TierWindow::CalendarYear => crate::program::ledger::year_end_after(t),
                TierWindow::Rolling12Months => ((t / MONTH_DAYS).floor() + 1.0) * MONTH_DAYS,
            };
        }
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

    // ----- timers -----------------------------------------------------------------------

    fn next_timer(&self) -> f64 {
        let mut t = self
            .ledger
            .as_ref()
            .map_or(f64::INFINITY, Ledger::next_expiry);
        if self.member {
            t = t
                .min(self.next_billing)
                .min(self.next_review)
                .min(self.grace_until)
                .min(self.next_review_event)
                .min(self.next_share)
                .min(self.next_birthday)
                .min(self.next_referral);
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
            return;
        }
        if self.next_billing <= t {
            let m = self.d.membership.expect("billing needs a membership");
            let keep = if self.paying {
                m.renewal
            } else {
                m.trial_conversion
            };
            if self.prng.random::<f64>() < keep {
                self.charge_fee(t);
            } else {
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
        if pay {
            let cost = r.referrer_reward_cents + r.referee_reward_cents;
            self.tally.reward_cost_cents += cost;
            let p = self.period(t);
            self.tally.periods[p].reward_cost_cents += cost;
        }
        if !purchases && r.cost_per_referral_cents > 0 {
            // A sign-up who never buys still cost the referral handling.
            let p = self.period(t);
            self.tally.acquisition_cost_cents += r.cost_per_referral_cents;
            self.tally.periods[p].acquisition_cost_cents += r.cost_per_referral_cents;
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
        if points == 0 {
            return;
        }
        if let Some(l) = self.ledger.as_mut() {
            l.issue(t, points);
            self.tally.points_issued += points;
            let p = self.period(t);
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
        let cogs = list_cents as f64 * (1.0 - self.margin);
        let gross = (paid_cents as f64 - cogs).round() as i64;
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
        if !member {
            return;
        }
        if let Some(l) = self.ledger.as_mut() {
            l.touch(t);
        }
        let paid = paid_cents as f64 / 100.0;

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
            let credit = (paid_cents as f64 * cb.rate + 1e-9).floor() as u64;
            self.award(t, credit);
        }

        // Points on the purchase.
        if let Some(earn) = &d.earn {
            let tier_mult = match (&d.tiers, self.tier) {
                (Some(tiers), Some(level)) => tiers.levels[level].earn_multiplier,
                _ => 1.0,
            };
            let extra = d.membership.map_or(0.0, |m| m.extra_earn_rate);
            let mut pts =
                purchase_points(earn, &self.ctx.category_shares, paid, t, tier_mult, extra);
            if let Some((max, days)) = earn.cap {
                let window = (t / days).floor() as i64;
                if self.cap_window.0 != window {
                    self.cap_window = (window, 0);
                }
                pts = pts.min(max.saturating_sub(self.cap_window.1));
                self.cap_window.1 += pts;
            }
            self.award(t, pts);
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
                self.redeem(t, points, cost, true);
            }
        }

        // Punch card.
        if let Some(pc) = d.punch_card {
            if paid >= pc.min_purchase {
                self.stamps += 1;
                if pc.fraud_rate > 0.0 && self.prng.random::<f64>() < pc.fraud_rate {
                    self.stamps += 1;
                    self.fraud_stamps += 1;
                }
                while self.stamps >= pc.stamps {
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
                        self.tally.fraud_cost_cents +=
                            pc.reward_cost_cents * i64::from(f) / i64::from(earned);
                    }
                }
            }
        }
    }

    /// Spend `points` from the ledger at merchant cost `cost_cents`.
    fn redeem(&mut self, t: f64, points: u64, cost_cents: i64, reward: bool) {
        if let Some(l) = self.ledger.as_mut() {
            l.spend(t, points);
        }
        let p = self.period(t);
        let tally = &mut *self.tally;
        tally.points_redeemed += points;
        tally.periods[p].points_redeemed += points;
        tally.reward_cost_cents += cost_cents;
        tally.periods[p].reward_cost_cents += cost_cents;
        tally.rewards_redeemed += u64::from(reward);
    }

    fn churn(&mut self, t: f64) {
        self.alive = false;
        self.tally.churned += 1;
        let p = self.period(t);
        self.tally.periods[p].churned += 1;
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
        if self.alive {
            // Timers due before the horizon after the last purchase already ran; end the
            // membership's cost accrual at the horizon without counting a departure.
            if self.member {
                self.accrue_member_cost(self.joined_at, horizon);
            }
        }
        if let Some(l) = &self.ledger {
            let (outstanding, pending) = l.close(horizon);
            self.tally.points_outstanding += outstanding;
            self.tally.points_pending += pending;
            if !self.alive {
                self.tally.points_stranded += outstanding + pending;
            }
        }
    }
}

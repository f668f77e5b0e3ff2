//! One customer's timeline under one design, event by event: cost grows with purchases,
//! not with days.
//!
//! Per repeat purchase the behaviour stream gives, always in this order, an Exp(1) waiting
//! hazard, an order value and (BG/NBD) a dropout uniform. A design changes what is done with
//! those numbers (a rate multiplier stretches time, a discount lowers revenue), never which
//! numbers are drawn, so paired differences between designs are due to the program alone.

use rand::rngs::Xoshiro256PlusPlus;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::metrics::Tally;
use crate::population::{Customer, Dropout, PopulationSampler};
use crate::scenario::{units::to_cents, Scenario};

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
}

impl<'a> Context<'a> {
    /// Prepare the shared state of a run.
    pub fn new(scenario: &'a Scenario) -> Self {
        Context {
            scenario,
            population: PopulationSampler::new(scenario),
            horizon: f64::from(scenario.horizon_days),
            period_days: scenario.period.days(),
            periods: scenario.periods(),
        }
    }

    /// One empty tally per design.
    pub fn empty_tallies(&self) -> Vec<Tally> {
        vec![Tally::new(self.periods); self.scenario.designs.len()]
    }

    #[inline]
    fn period_of(&self, t: f64) -> usize {
        ((t / self.period_days) as usize).min(self.periods - 1)
    }

    /// Simulate customer `id` of `replicate` under every design, adding to `tallies`
    /// (one per design).
    pub fn simulate_customer(&self, replicate: u32, id: u64, tallies: &mut [Tally]) {
        let (customer, rng) = super::draw_customer(self.scenario, &self.population, replicate, id);
        for tally in tallies.iter_mut() {
            // Every design restarts from the same stream position: common random numbers.
            let mut rng = rng.clone();
            self.run_timeline(&customer, &mut rng, tally);
        }
    }

    fn run_timeline(&self, c: &Customer, rng: &mut Xoshiro256PlusPlus, tally: &mut Tally) {
        let seg = &self.scenario.population.segments[c.segment];
        let margin = seg.margin;
        if c.acquired {
            // Day-0 customers are the start population S of the first period, not new ones.
            tally.periods[self.period_of(c.arrival)].new_customers += 1;
            tally.customers_acquired += 1;
            if let Some(acq) = &self.scenario.population.acquisition {
                tally.acquisition_cost_cents += acq.cost_per_customer_cents;
            }
        } else {
            tally.customers_initial += 1;
        }
        let value = c.spend.draw(rng);
        self.record_order(tally, c.arrival, value, margin, false);

        let death = match c.dropout {
            Dropout::Lifetime { mu, e } => c.arrival + e / mu,
            Dropout::AfterPurchase { .. } => f64::INFINITY,
        };
        let end = death.min(self.horizon);
        let mut t = c.arrival;
        loop {
            let e: f64 = Exp1.sample(rng);
            t += e / c.lambda;
            // NaN (a zero rate with a zero draw) stops the timeline too.
            if t >= end || t.is_nan() {
                break;
            }
            let value = c.spend.draw(rng);
            self.record_order(tally, t, value, margin, true);
            if let Dropout::AfterPurchase { p } = c.dropout {
                let u: f64 = rng.random();
                if u < p {
                    self.record_churn(tally, t);
                    return;
                }
            }
        }
        if death < self.horizon {
            self.record_churn(tally, death);
        }
    }

    #[inline]
    fn record_order(&self, tally: &mut Tally, t: f64, value: f64, margin: f64, repeat: bool) {
        let revenue = to_cents(value);
        let gross = (revenue as f64 * margin).round() as i64;
        let p = &mut tally.periods[self.period_of(t)];
        p.orders += 1;
        p.revenue_cents += revenue;
        p.margin_cents += gross;
        tally.orders += 1;
        tally.repeat_orders += u64::from(repeat);
        tally.revenue_cents += revenue;
        tally.margin_cents += gross;
    }

    #[inline]
    fn record_churn(&self, tally: &mut Tally, t: f64) {
        tally.churned += 1;
        tally.periods[self.period_of(t)].churned += 1;
    }
}

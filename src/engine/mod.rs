//! The Monte Carlo engine: every replicate x block of customers is a rayon work item; each
//! customer is simulated event by event under every design with common random numbers, and
//! counted into exact integer tallies that are merged as they come (memory does not grow
//! with the number of customers).

pub mod customer;
pub mod estimate;
pub mod replay;
pub mod rng;

use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

use crate::metrics::Tally;
use crate::population::PopulationSampler;
use crate::scenario::Scenario;
use rng::{stream, Purpose, REPLICATE_STREAM_ID};

/// Customers per work item. Fixed (not derived from the thread count), although results
/// would not depend on it anyway: every draw is keyed by customer id and tallies are
/// integer sums.
pub const BLOCK: u64 = 4096;

/// Callback told how many customers finished (called from worker threads).
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Number of customers acquired in a replicate: Poisson(per_day x horizon), drawn from the
/// replicate's own stream.
pub fn acquired_count(sc: &Scenario, replicate: u32) -> u64 {
    let mean = sc.expected_acquired();
    if mean <= 0.0 {
        return 0;
    }
    let mut rng = stream(sc.seed, replicate, REPLICATE_STREAM_ID, Purpose::Replicate);
    let draw: f64 = Poisson::new(mean)
        .expect("mean > 0 and finite")
        .sample(&mut rng);
    draw as u64
}

/// Who a replicate simulates: the shared customers, and per design the extra customers it
/// attracts (Poisson(extra per day x horizon), from a stream keyed by replicate and design).
pub fn plan(sc: &Scenario, replicate: u32) -> customer::Plan {
    let shared = sc.population.base_len() + sc.population.customers + acquired_count(sc, replicate);
    let extra = sc
        .designs
        .iter()
        .enumerate()
        .map(|(d, design)| {
            let Some(a) = &design.acquisition else {
                return 0;
            };
            let mean = a.per_day * f64::from(sc.horizon_days);
            if mean <= 0.0 {
                return 0;
            }
            let key = rng::child_key(REPLICATE_STREAM_ID, d as u64);
            let mut rng = stream(sc.seed, replicate, key, Purpose::Replicate);
            let draw: f64 = Poisson::new(mean)
                .expect("mean > 0 and finite")
                .sample(&mut rng);
            draw as u64
        })
        .collect();
    customer::Plan { shared, extra }
}

/// Total customer ids visited over all replicates: the progress total.
pub fn total_customers(sc: &Scenario) -> u64 {
    (0..sc.replicates).map(|r| plan(sc, r).total()).sum()
}

/// Simulate every replicate and design; returns `tallies[replicate][design]`.
pub fn simulate(sc: &Scenario, progress: Option<Progress>) -> Vec<Vec<Tally>> {
    simulate_with(&customer::Context::new(sc), progress)
}

/// [`simulate`] with a prepared context (e.g. with common random numbers switched off).
pub fn simulate_with(ctx: &customer::Context, progress: Option<Progress>) -> Vec<Vec<Tally>> {
    let sc = ctx.scenario;
    (0..sc.replicates)
        .into_par_iter()
        .map(|rep| simulate_replicate(ctx, rep, progress))
        .collect()
}

/// Simulate one replicate: all its customers under every design.
pub fn simulate_replicate(
    ctx: &customer::Context,
    replicate: u32,
    progress: Option<Progress>,
) -> Vec<Tally> {
    let sc = ctx.scenario;
    let plan = plan(sc, replicate);
    let n = plan.total();
    let blocks = n.div_ceil(BLOCK);
    let empty = || ctx.empty_tallies();
    let mut tallies = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let lo = b * BLOCK;
            let hi = (lo + BLOCK).min(n);
            let mut tallies = empty();
            let mut scratch = replay::Scratch::default();
            for id in lo..hi {
                ctx.simulate_customer(replicate, id, &plan, &mut tallies, &mut scratch);
            }
            if let Some(p) = progress {
                p(hi - lo);
            }
            tallies
        })
        .reduce(empty, |mut a, b| {
            for (x, y) in a.iter_mut().zip(&b) {
                *x += y;
            }
            a
        });
    for (d, t) in tallies.iter_mut().enumerate() {
        ctx.add_fixed_costs(d, t);
    }
    tallies
}

/// Draw who customer `id` is in a replicate (segment, arrival, traits) and return the
/// behaviour stream positioned after the trait draws.
pub fn draw_customer(
    seed: u64,
    sc: &Scenario,
    pop: &PopulationSampler,
    replicate: u32,
    id: u64,
) -> (crate::population::Customer, rand::rngs::Xoshiro256PlusPlus) {
    let mut rng = stream(seed, replicate, id, Purpose::Behaviour);
    // Ids: the base table's customers first (issue 14), then the synthetic initial ones, then
    // the acquired ones.
    if let Some(base) = &sc.population.base {
        if let Some(c) = base.customers.get(id as usize) {
            let seg = &sc.population.segments[c.segment];
            return (crate::base::draw(&mut rng, c, base.unit, seg), rng);
        }
    }
    let key = id;
    let id = id - sc.population.base_len();
    let (segment, arrival, acquired) = if id < sc.population.customers {
        (pop.initial_segment(id), 0.0, false)
    } else {
        let arrival = rng.random::<f64>() * f64::from(sc.horizon_days);
        (pop.random_segment(&mut rng), arrival, true)
    };
    let mut c = pop
        .segment(segment)
        .draw(&mut rng, segment, arrival, acquired);
    if !acquired && sc.population.tenure_years > 0.0 {
        // Issue 14: a seasoned customer's past comes from its own stream.
        let mut past = stream(seed, replicate, key, Purpose::History);
        crate::population::tenure::season(&mut c, &mut past, sc.population.tenure_years);
    }
    (c, rng)
}

//! Customers and their latent traits, drawn from the segment's buy-till-you-die model.
//!
//! Every customer gets its own random stream keyed by (seed, replicate, customer id), so the
//! population is the same whatever the thread count and however the work is split. Traits
//! are drawn first; the engine then draws, per purchase and in lockstep, the same numbers
//! under every design (common random numbers), so designs differ only through the program.

pub mod draws;
pub mod tenure;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma, LogNormal};

use draws::{BetaDraw, GammaDraw};

use crate::scenario::{PurchaseModel, Scenario, Segment, SpendModel};

/// Who a simulated customer is, before any program acts on them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    /// Index of the customer's segment in the scenario.
    pub segment: usize,
    /// Day of arrival and first purchase (0 for the initial population).
    pub arrival: f64,
    /// Whether the customer was acquired during the horizon (and so cost CAC).
    pub acquired: bool,
    /// Whether the customer came through a referral (then `acquired` too).
    pub referred: bool,
    /// Whether the customer exists under the control too (initial and scenario-acquired
    /// customers do; referred and design-attracted ones exist only under their design).
    pub has_counterfactual: bool,
    /// Whether the customer's first purchase is on arrival (false for `[population.base]`
    /// customers, whose history lies before day 0; issue 14).
    pub opening_purchase: bool,
    /// Whether the customer is still active on arrival (false for a base customer drawn as
    /// having left before day 0: they make no purchases; issue 14).
    pub alive: bool,
    /// Purchase rate per day while active.
    pub lambda: f64,
    /// How the customer stops buying.
    pub dropout: Dropout,
    /// Per-customer spend parameters.
    pub spend: Spend,
    /// The customer's expected order value (what they expect a discount to save on).
    pub spend_mean: f64,
}

/// The dropout process of a customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dropout {
    /// BG/NBD: after each repeat purchase, inactive with probability `p`.
    AfterPurchase {
        /// Dropout probability per repeat purchase.
        p: f64,
    },
    /// Pareto/NBD: inactive after an exponential lifetime. The lifetime is kept as an
    /// Exp(1) draw `e` and the rate `mu` per day, so a program can scale the rate.
    Lifetime {
        /// Dropout rate per day.
        mu: f64,
        /// Exp(1) draw: lifetime = e / mu.
        e: f64,
    },
}

/// The order-value distribution of one customer.
#[derive(Debug, Clone, Copy)]
pub enum Spend {
    /// Gamma(shape p, scale) order values.
    Gamma(Gamma<f64>),
    /// Log-normal order values.
    LogNormal(LogNormal<f64>),
    /// Fixed order value.
    Fixed(f64),
}

impl PartialEq for Spend {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Spend::Fixed(a), Spend::Fixed(b)) => a == b,
            _ => false,
        }
    }
}

impl Spend {
    /// Draw one order value in currency units.
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Spend::Gamma(g) => g.sample(rng),
            Spend::LogNormal(l) => l.sample(rng),
            Spend::Fixed(v) => *v,
        }
    }
}

/// Pre-built distributions of one segment, so per-customer draws do no set-up work. The
/// trait draws use the exact samplers of [`draws`], whose algorithm is chosen here once.
#[derive(Debug, Clone)]
pub struct SegmentSampler {
    lambda: GammaDraw,
    dropout: DropoutSampler,
    spend: SpendSampler,
}

#[derive(Debug, Clone)]
enum DropoutSampler {
    Beta(BetaDraw),
    Gamma(GammaDraw),
}

#[derive(Debug, Clone)]
enum SpendSampler {
    GammaGamma { p: f64, nu: GammaDraw },
    LogNormal(LogNormal<f64>, f64),
    Fixed(f64),
}

impl SegmentSampler {
    /// Build the samplers of a validated segment (parameters are already checked > 0).
    pub fn new(seg: &Segment) -> Self {
        let (lambda, dropout) = match seg.purchase {
            PurchaseModel::BgNbd {
                r,
                alpha,
                a,
                b,
                unit,
            } => (
                // lambda per unit ~ Gamma(r, rate alpha); per day divide by the unit length,
                // i.e. rate alpha * unit_days.
                GammaDraw::new(r, 1.0 / (alpha * unit.days())).expect("validated r, alpha > 0"),
                DropoutSampler::Beta(BetaDraw::new(a, b).expect("validated a, b > 0")),
            ),
            PurchaseModel::ParetoNbd {
                r,
                alpha,
                s,
                beta,
                unit,
            } => (
                GammaDraw::new(r, 1.0 / (alpha * unit.days())).expect("validated r, alpha > 0"),
                DropoutSampler::Gamma(
                    GammaDraw::new(s, 1.0 / (beta * unit.days())).expect("validated s, beta > 0"),
                ),
            ),
        };
        let spend = match seg.spend {
            SpendModel::GammaGamma { p, q, gamma } => SpendSampler::GammaGamma {
                p,
                nu: GammaDraw::new(q, 1.0 / gamma).expect("validated q, gamma > 0"),
            },
            SpendModel::LogNormal { mean, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                SpendSampler::LogNormal(
                    LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
                        .expect("validated mean > 0, cv >= 0"),
                    mean,
                )
            }
            SpendModel::Fixed { value } => SpendSampler::Fixed(value),
        };
        SegmentSampler {
            lambda,
            dropout,
            spend,
        }
    }

    /// Draw a customer's traits: purchase rate, dropout, spend (in that order, always).
    #[inline]
    pub fn draw<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        segment: usize,
        arrival: f64,
        acquired: bool,
    ) -> Customer {
        let lambda = self.lambda.sample(rng);
        let dropout = match &self.dropout {
            DropoutSampler::Beta(b) => Dropout::AfterPurchase { p: b.sample(rng) },
            DropoutSampler::Gamma(g) => Dropout::Lifetime {
                mu: g.sample(rng),
                e: Exp1.sample(rng),
            },
        };
        let (spend, spend_mean) = match &self.spend {
            SpendSampler::GammaGamma { p, nu } => {
                // Order value ~ Gamma(p, rate nu): scale 1/nu. Guard nu underflow to 0.
                let nu = nu.sample(rng).max(1e-12);
                (
                    Spend::Gamma(Gamma::new(*p, 1.0 / nu).expect("p > 0, nu > 0")),
                    p / nu,
                )
            }
            SpendSampler::LogNormal(l, mean) => (Spend::LogNormal(*l), *mean),
            SpendSampler::Fixed(v) => (Spend::Fixed(*v), *v),
        };
        Customer {
            segment,
            arrival,
            acquired,
            referred: false,
            has_counterfactual: true,
            opening_purchase: true,
            alive: true,
            lambda,
            dropout,
            spend,
            spend_mean,
        }
    }
}

/// Samplers of every segment plus the deterministic segment allocation of the initial
/// population.
#[derive(Debug, Clone)]
pub struct PopulationSampler {
    segments: Vec<SegmentSampler>,
    /// Cumulative shares, for drawing the segment of an acquired customer.
    cumulative: Vec<f64>,
    /// Cumulative counts of the initial customers per segment (largest-remainder rounding),
    /// so the initial population has exactly its shares and no sampling noise in the mix.
    initial_bounds: Vec<u64>,
}

impl PopulationSampler {
    /// Build the samplers of a scenario.
    pub fn new(sc: &Scenario) -> Self {
        let segs = &sc.population.segments;
        let mut cumulative = Vec::with_capacity(segs.len());
        let mut acc = 0.0;
        for s in segs {
            acc += s.share;
            cumulative.push(acc);
        }
        if let Some(last) = cumulative.last_mut() {
            *last = f64::INFINITY;
        }
        PopulationSampler {
            segments: segs.iter().map(SegmentSampler::new).collect(),
            cumulative,
            initial_bounds: allocate(
                sc.population.customers,
                &segs.iter().map(|s| s.share).collect::<Vec<_>>(),
            ),
        }
    }

    /// Segment of initial customer `id` (< number of initial customers).
    #[inline]
    pub fn initial_segment(&self, id: u64) -> usize {
        self.initial_bounds.partition_point(|&b| b <= id)
    }

    /// Draw the segment of an acquired customer by share.
    #[inline]
    pub fn random_segment<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let u: f64 = rng.random();
        self.cumulative.partition_point(|&c| c <= u)
    }

    /// The sampler of one segment.
    pub fn segment(&self, i: usize) -> &SegmentSampler {
        &self.segments[i]
    }
}

/// Split `n` into integer counts by `shares` (largest remainder), returned cumulatively.
fn allocate(n: u64, shares: &[f64]) -> Vec<u64> {
    let exact: Vec<f64> = shares.iter().map(|s| s * n as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = n.saturating_sub(counts.iter().sum::<u64>());
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Largest fractional part first; ties by index, so the allocation is deterministic.
    order.sort_by(|&i, &j| {
        let fi = exact[i] - exact[i].floor();
        let fj = exact[j] - exact[j].floor();
        fj.total_cmp(&fi).then(i.cmp(&j))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    let mut acc = 0;
    counts
        .iter()
        .map(|c| {
            acc += c;
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact() {
        assert_eq!(allocate(10, &[0.8, 0.2]), vec![8, 10]);
        assert_eq!(allocate(10, &[1.0 / 3.0; 3]), vec![4, 7, 10]);
        assert_eq!(allocate(0, &[0.5, 0.5]), vec![0, 0]);
    }
}

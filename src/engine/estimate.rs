//! How much work and memory a run will take, known before it starts, so that a scenario that
//! would run for hours or exhaust memory is refused with numbers instead of hanging.

use crate::metrics::{PeriodTally, Tally};
use crate::scenario::{Design, Scenario};
use crate::{Error, Result};

/// Most simulated purchases a run may make without `--allow-large`: about ten minutes on one
/// core at the measured engine speed (bench-v1: ~3.5e7 purchases a second per core), and far
/// beyond any decision study; larger runs belong on a cluster as a sweep.
pub const MAX_EVENTS: f64 = 2e10;

/// Most purchases any run may make, even with `--allow-large`: beyond this no machine would
/// finish (a year of one core is about 1e15), so the scenario is a mistake, not a big study.
pub const HARD_MAX_EVENTS: f64 = 1e14;

/// Deepest referral chain the engine follows (engine/customer.rs `MAX_REFERRAL_DEPTH`).
const REFERRAL_DEPTH: i32 = 8;

/// Most memory the per-period tallies may take without `--allow-large` (machines here have
/// 24 GB; other work needs room too).
pub const MAX_TALLY_BYTES: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;

/// The size of a run, from expected values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    /// Expected customers per replicate (initial, acquired and attracted by designs).
    pub customers: f64,
    /// Customer timelines: customers x designs x replicates.
    pub timelines: f64,
    /// Expected purchases over all timelines, counting every customer as active over the
    /// whole horizon (an upper estimate: dropout only lowers it).
    pub events: f64,
    /// Bytes of the tallies kept until the end (replicates x designs x periods).
    pub tally_bytes: f64,
}

/// Estimate the work of `sc`.
pub fn estimate(sc: &Scenario) -> Work {
    let designs = sc.designs.len() as f64;
    let replicates = f64::from(sc.replicates);
    let attracted: f64 = sc
        .designs
        .iter()
        .filter_map(|d| d.acquisition.as_ref())
        .map(|a| a.per_day * f64::from(sc.horizon_days))
        .sum();
    let shared =
        (sc.population.base_len() + sc.population.customers) as f64 + sc.expected_acquired();
    let per_customer: f64 = sc
        .population
        .segments
        .iter()
        .map(|s| {
            // Seasonality (issue 17): the days of hazard in the horizon on the seasonal clock,
            // at least those of any later arrival.
            let h = f64::from(sc.horizon_days);
            let days = s.seasonality.as_ref().map_or(h, |x| x.clock(h));
            s.share * (1.0 + s.mean_rate_per_day() * days)
        })
        .sum();
    let horizon_years = f64::from(sc.horizon_days) / 365.25;
    let (mut timelines, mut events) = (0.0, 0.0);
    for d in &sc.designs {
        let attracted_d = d
            .acquisition
            .as_ref()
            .map_or(0.0, |a| a.per_day * f64::from(sc.horizon_days));
        let t = (shared + attracted_d) * referral_tree(d, horizon_years) * replicates;
        timelines += t;
        events += t * per_customer * rate_multiplier(d);
    }
    let tally = std::mem::size_of::<Tally>() + sc.periods() * std::mem::size_of::<PeriodTally>();
    Work {
        customers: shared + attracted,
        timelines,
        events,
        tally_bytes: replicates * designs * tally as f64,
    }
}

/// Customers per customer once referrals are followed. A member refers buying customers at
/// rate m per year, and so do they: the expected number of k-th generation referees within
/// the horizon is (m T)^k / k! (a constant-rate branching process, dropout ignored, so an
/// upper estimate), summed down to the engine's depth.
fn referral_tree(d: &Design, horizon_years: f64) -> f64 {
    let Some(r) = &d.referral else {
        return 1.0;
    };
    let x = r.per_member_per_year * r.first_purchase_probability * horizon_years;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=REFERRAL_DEPTH {
        term *= x / f64::from(k);
        sum += term;
    }
    sum
}

/// The largest purchase-rate multiplier a member of `d` can have from its response and
/// tiers (behaviour effects add tens of percent at most and are left out).
fn rate_multiplier(d: &Design) -> f64 {
    let response = d
        .response
        .iter()
        .map(|m| m.purchase_rate)
        .fold(1.0, f64::max);
    let tier = d
        .tiers
        .iter()
        .flat_map(|t| &t.levels)
        .map(|l| l.response.purchase_rate)
        .fold(1.0, f64::max);
    response * tier
}

/// Refuse a run above the documented bounds unless the user asked for it.
pub fn check_size(sc: &Scenario, allow_large: bool) -> Result<()> {
    let w = estimate(sc);
    if w.events.is_nan() || w.events > HARD_MAX_EVENTS {
        return Err(Error::Usage(format!(
            "{}: would simulate about {:.2e} purchases (with referral chains and rate multipliers); no machine finishes more than {HARD_MAX_EVENTS:.0e}, even with --allow-large",
            sc.origin, w.events
        )));
    }
    if allow_large {
        return Ok(());
    }
    let problem = if w.events > MAX_EVENTS {
        format!(
            "would simulate about {:.2e} purchases ({:.2e} customer timelines); more than {MAX_EVENTS:.0e}",
            w.events, w.timelines
        )
    } else if w.tally_bytes > MAX_TALLY_BYTES {
        format!(
            "would keep {:.1} GB of per-period tallies (replicates x designs x {} periods); more than {:.0} GB",
            w.tally_bytes / 1e9,
            sc.periods(),
            MAX_TALLY_BYTES / 1e9
        )
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "{}: {problem} needs --allow-large (or fewer customers, replicates or designs, or a longer `period`)",
        sc.origin
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_is_small_and_a_century_of_weeks_is_not() {
        let sc = Scenario::embedded_default().unwrap();
        let w = estimate(&sc);
        assert!(w.events > 1e5 && w.events < 1e8, "{w:?}");
        assert!(check_size(&sc, false).is_ok());
        let src = crate::scenario::DEFAULT_SCENARIO
            .replace("horizon_days = 730", "horizon_days = 3652")
            .replace("replicates = 20", "replicates = 100000")
            .replace("period = \"month\"", "period = \"week\"");
        let big = Scenario::parse(&src, "big").unwrap();
        let err = check_size(&big, false).unwrap_err().to_string();
        assert!(err.contains("--allow-large"), "{err}");
        assert!(check_size(&big, true).is_ok());
    }
}

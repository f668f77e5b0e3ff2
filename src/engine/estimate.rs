//! How much work and memory a run will take, known before it starts, so that a scenario that
//! would run for hours or exhaust memory is refused with numbers instead of hanging.

use crate::metrics::{PeriodTally, Tally};
use crate::scenario::Scenario;
use crate::{Error, Result};

/// Most simulated purchases a run may make without `--allow-large`: about ten minutes on one
/// core at the measured engine speed (bench-v1: ~3.5e7 purchases a second per core), and far
/// beyond any decision study; larger runs belong on a cluster as a sweep.
pub const MAX_EVENTS: f64 = 2e10;

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
    let shared = sc.population.customers as f64 + sc.expected_acquired();
    let per_customer: f64 = sc
        .population
        .segments
        .iter()
        .map(|s| s.share * (1.0 + s.mean_rate_per_day() * f64::from(sc.horizon_days)))
        .sum();
    let timelines = (shared * designs + attracted) * replicates;
    let tally = std::mem::size_of::<Tally>() + sc.periods() * std::mem::size_of::<PeriodTally>();
    Work {
        customers: shared + attracted,
        timelines,
        events: timelines * per_customer,
        tally_bytes: replicates * designs * tally as f64,
    }
}

/// Refuse a run above the documented bounds unless the user asked for it.
pub fn check_size(sc: &Scenario, allow_large: bool) -> Result<()> {
    if allow_large {
        return Ok(());
    }
    let w = estimate(sc);
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
            .replace("horizon_days = 730", "horizon_days = 36525")
            .replace("replicates = 20", "replicates = 100000")
            .replace("period = \"month\"", "period = \"week\"");
        let big = Scenario::parse(&src, "big").unwrap();
        let err = check_size(&big, false).unwrap_err().to_string();
        assert!(err.contains("--allow-large"), "{err}");
        assert!(check_size(&big, true).is_ok());
    }
}

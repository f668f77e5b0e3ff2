//! Designs no swept path touches are simulated once, not at every point.
//!
//! A sweep over `designs.points.*` changes nothing about the cashback design: with common
//! random numbers its customers, their control counterfactual and every draw are the same
//! at every point, so its tallies are too. Point 0 simulates every design; the other points
//! simulate only the control (whose spend is every design's counterfactual, so it always
//! runs) and the touched designs, and the untouched designs' tallies are copied from point 0
//! of the same replicate. The results are byte-identical to simulating everything
//! everywhere (tests/sweep.rs compares the two; [`EVERY_DESIGN_ENV`] forces the full path).

use crate::metrics::Tally;
use crate::scenario::Scenario;
use crate::{Error, Result};

/// Set to `1` to simulate every design at every point (the full computation the reuse is
/// checked against, and the "before" of its CPU measurement).
pub const EVERY_DESIGN_ENV: &str = "LOYALSIM_SWEEP_EVERY_DESIGN";

/// The design a path addresses (`designs.<name or index>.…`), or `None` for a path outside
/// the designs (population, categories, horizon, …), which touches every design.
fn design_of(sc: &Scenario, path: &str) -> Option<usize> {
    let mut segs = path.split('.');
    if segs.next() != Some("designs") {
        return None;
    }
    let seg = segs.next()?;
    match seg.parse::<usize>() {
        Ok(i) if i < sc.designs.len() => Some(i),
        _ => sc.designs.iter().position(|d| d.name == seg),
    }
}

/// Designs simulated at points after the first (control first among them in design order),
/// or `None` when every design must run at every point: a path outside the non-control
/// designs touches them all, and a kept design that draws its own extra customers would
/// move to another index (those draws are keyed by the design's index).
pub(super) fn kept_designs(sc: &Scenario, paths: &[&str]) -> Option<Vec<usize>> {
    if std::env::var(EVERY_DESIGN_ENV).is_ok_and(|v| v == "1") {
        return None;
    }
    touched_designs(sc, paths)
}

/// The designs a sweep's paths touch (control first among them in design order), or `None`
/// when every design is touched or must run at every point. It does not read
/// [`EVERY_DESIGN_ENV`]: what the sweep touches, and so what its report and charts show,
/// does not depend on whether the results were reused.
pub(super) fn touched_designs(sc: &Scenario, paths: &[&str]) -> Option<Vec<usize>> {
    let mut keep = vec![sc.control];
    for path in paths {
        let d = design_of(sc, path).filter(|d| *d != sc.control)?;
        keep.push(d);
    }
    keep.sort_unstable();
    keep.dedup();
    let index_safe = keep
        .iter()
        .enumerate()
        .all(|(j, &i)| i == j || sc.designs[i].acquisition.is_none());
    (keep.len() < sc.designs.len() && index_safe).then_some(keep)
}

/// Keep only the designs `keep` (indices into `sc.designs`, ascending, control among them).
pub(super) fn reduce(sc: &mut Scenario, keep: &[usize]) {
    let control = &sc.designs[sc.control].name;
    let designs: Vec<_> = keep.iter().map(|&i| sc.designs[i].clone()).collect();
    sc.control = designs
        .iter()
        .position(|d| &d.name == control)
        .expect("the control is kept");
    sc.designs = designs;
}

/// Every design's tallies at a point from the kept designs' (`reduced`) and point 0's
/// (`first`, same replicate). Errors if a partial's unit has the wrong number of designs
/// (e.g. written by a build that reused nothing, or with [`EVERY_DESIGN_ENV`] set).
pub(super) fn complete(first: &[Tally], reduced: Vec<Tally>, keep: &[usize]) -> Result<Vec<Tally>> {
    if reduced.len() != keep.len() {
        return Err(Error::Other(format!(
            "a sweep unit holds {} designs, expected {}: the partials were written with a \
             different {EVERY_DESIGN_ENV} setting or program version; rerun the shards",
            reduced.len(),
            keep.len()
        )));
    }
    let mut full = first.to_vec();
    for (t, &i) in reduced.into_iter().zip(keep) {
        full[i] = t;
    }
    Ok(full)
}

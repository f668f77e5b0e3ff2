//! `[designs.acquisition]`: customers a design brings in beyond the scenario's own
//! acquisition. A design that leads with discounts draws more deal seekers (adverse
//! selection), so these customers have their own segment mix and acquisition cost.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::part::DesignCheck;
use crate::scenario::units::{to_cents, Money, PerDay, Probability};
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesignAcquisition {
    pub extra_per_day: PerDay,
    pub cost_per_customer: Option<Money>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

/// Customers a design brings in beyond the scenario's acquisition: a design that leads
/// with discounts draws more deal seekers (adverse selection).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraAcquisition {
    /// Extra Poisson arrivals per day under this design.
    pub per_day: f64,
    /// Their acquisition cost, cents.
    pub cost_per_customer_cents: i64,
    /// Cumulative segment mix (empty: the population's).
    pub segment_cumulative: Vec<f64>,
}

pub(crate) fn validate(dc: &DesignCheck, a: &RawDesignAcquisition) -> Result<ExtraAcquisition> {
    if a.extra_per_day.get() > 1e6 {
        return Err(dc.err(
            "acquisition.extra_per_day",
            "must be at most 1000000 per day",
        ));
    }
    Ok(ExtraAcquisition {
        per_day: a.extra_per_day.get(),
        cost_per_customer_cents: to_cents(a.cost_per_customer.map_or(0.0, |x| x.get())),
        segment_cumulative: dc.cumulative_mix(
            "acquisition.segments",
            &a.segments,
            "segment shares",
        )?,
    })
}

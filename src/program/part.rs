//! What every program part shares: the validation context a part's `validate` gets, and the
//! small conversions all parts use. (The run-time side, the [`Part`] trait, lives here too
//! once the engine calls parts through it.)

use std::collections::BTreeMap;

use crate::scenario::units::Probability;
use crate::scenario::{Checker, Period};
use crate::{Error, Result};

/// The context in which one design's part tables are validated: where errors point, and the
/// scenario's segment and category names that parts refer to.
pub(crate) struct DesignCheck<'a> {
    /// Locates fields in the scenario file.
    pub ck: &'a Checker<'a>,
    /// `designs[i]`.
    pub base: String,
    /// Segment names, in scenario order.
    pub segments: &'a [String],
    /// Category names, in scenario order.
    pub categories: &'a [String],
}

impl DesignCheck<'_> {
    /// The full field name of key `k` of this design (`designs[i].k`).
    pub fn field(&self, k: &str) -> String {
        format!("{}.{k}", self.base)
    }

    /// An error at key `k` of this design.
    pub fn err(&self, k: &str, message: impl Into<String>) -> Error {
        self.ck.err(self.field(k), message)
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Index of segment `name`, or an error at `field` listing the segments.
    pub fn segment(&self, field: String, name: &str) -> Result<usize> {
        self.segments.iter().position(|s| s == name).ok_or_else(|| {
            self.ck.err(
                field,
                format!(
                    "unknown segment `{name}`; the segments are: {}",
                    self.segments.join(", ")
                ),
            )
        })
    }

    /// A segment mix at key `k` (shares that must sum to 1) as cumulative shares with the
    /// last one infinite, ready for `partition_point` on a uniform draw; empty when the
    /// table is absent (the population's own mix). `what` names the shares in the error.
    pub fn cumulative_mix(
        &self,
        k: &str,
        m: &Option<BTreeMap<String, Probability>>,
        what: &str,
    ) -> Result<Vec<f64>> {
        let Some(m) = m else {
            return Ok(Vec::new());
        };
        let mut shares = vec![0.0; self.segment_count()];
        for (name, q) in m {
            shares[self.segment(self.field(&format!("{k}.{name}")), name)?] = q.get();
        }
        let total: f64 = shares.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(self.err(k, format!("{what} must sum to 1, they sum to {total}")));
        }
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = shares
            .iter()
            .map(|x| {
                acc += x;
                acc
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = f64::INFINITY;
        }
        Ok(cumulative)
    }
}

/// Days in the periods used for caps.
pub(crate) fn cap_days(p: Option<Period>) -> f64 {
    p.unwrap_or(Period::Month).days()
}

/// A validated amount (points, stamps, thresholds) as a whole number.
pub(crate) fn points(x: impl Into<f64>) -> u64 {
    x.into().round() as u64
}

/// Largest number of points, stamps or thresholds accepted (keeps sums far from overflow).
pub(crate) const MAX_COUNT: f64 = 1e12;

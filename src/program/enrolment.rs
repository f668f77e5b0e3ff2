//! `[designs.enrolment]`: who becomes a member, and when (auto after the first purchase, or
//! opt-in with a probability at the first and at later purchases).

use std::collections::BTreeMap;

use serde::Deserialize;

use rand::RngExt;

use super::membership::{JoinDecision, Membership};
use super::part::{Cx, DesignCheck};
use crate::scenario::units::Probability;
use crate::Result;

/// How customers become members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnrolmentMode {
    /// Every customer is enrolled right after their first purchase.
    Auto,
    /// Customers join with a probability at their first purchase (and optionally later).
    OptIn,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnrolment {
    pub mode: EnrolmentMode,
    pub probability: Option<Probability>,
    pub per_purchase: Option<Probability>,
    pub segments: Option<BTreeMap<String, Probability>>,
}

/// Who becomes a member, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    /// Auto or opt-in.
    pub mode: EnrolmentMode,
    /// Per segment: probability of joining at the first purchase.
    pub at_first: Vec<f64>,
    /// Per segment: probability of joining at each later purchase while not a member.
    pub per_purchase: Vec<f64>,
}

impl Enrolment {
    /// Label in `check` and the report's assumptions.
    pub fn label(&self) -> &'static str {
        match self.mode {
            EnrolmentMode::Auto => "auto enrolment",
            EnrolmentMode::OptIn => "opt-in enrolment",
        }
    }
}

/// Enrolment: auto unless said otherwise.
pub(crate) fn validate(dc: &DesignCheck, raw: Option<&RawEnrolment>) -> Result<Enrolment> {
    let n = dc.segment_count();
    let Some(e) = raw else {
        return Ok(Enrolment {
            mode: EnrolmentMode::Auto,
            at_first: vec![1.0; n],
            per_purchase: vec![0.0; n],
        });
    };
    let p = match e.mode {
        EnrolmentMode::Auto => {
            if e.probability.is_some() || e.segments.is_some() {
                return Err(dc.err(
                    "enrolment.mode",
                    "`auto` enrols everyone; use mode = \"opt-in\" with a probability",
                ));
            }
            1.0
        }
        EnrolmentMode::OptIn => e
            .probability
            .ok_or_else(|| {
                dc.err(
                    "enrolment.probability",
                    "is required with mode = \"opt-in\" (probability of joining at the first purchase, in [0, 1])",
                )
            })?
            .get(),
    };
    let mut at_first = vec![p; n];
    for (name, q) in e.segments.iter().flatten() {
        at_first[dc.segment(dc.field(&format!("enrolment.segments.{name}")), name)?] = q.get();
    }
    let later = e.per_purchase.map_or(0.0, |x| x.get());
    Ok(Enrolment {
        mode: e.mode,
        at_first,
        per_purchase: vec![later; n],
    })
}

impl Enrolment {
    /// Whether a customer who is not a member joins at this checkout: the segment's
    /// probability (raised for heavy buyers by self-selection under opt-in), a draw unless
    /// certain, then, when the membership is decided on value, the membership's own test.
    pub fn joins(&self, cx: &mut Cx<'_>, chance: Chance, membership: Option<&Membership>) -> bool {
        let segment = cx.customer.segment;
        let mut p = match chance {
            Chance::First => self.at_first[segment],
            Chance::Later => self.per_purchase[segment],
        };
        if p <= 0.0 {
            return false;
        }
        let value = membership.filter(|m| m.decision == JoinDecision::Value);
        let b = cx.behaviour;
        if self.mode == EnrolmentMode::OptIn && value.is_none() && b.selection_elasticity > 0.0 {
            // Self-selection: heavier buyers are more likely to sign up.
            let relative = cx.customer.lambda / cx.segment.mean_rate_per_day();
            p = (p * relative.powf(b.selection_elasticity)).min(1.0);
        }
        let considers = p >= 1.0 || cx.prng.random::<f64>() < p;
        if !considers {
            return false;
        }
        value.is_none_or(|m| m.worth_it(cx))
    }
}

/// Which chance to join a checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chance {
    /// The first checkout the program sees.
    First,
    /// A later checkout while not a member.
    Later,
}

//! `[[designs]]`: the candidate loyalty programs of a scenario.
//!
//! A design is a label (`kind`, shown in the results) plus composable program parts; the
//! control (`kind = "none"`) has no parts and is the baseline every other design is
//! compared with.

use serde::Deserialize;

/// Program kinds: a label and a preset for the parts a design combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// No program: the control.
    None,
    /// Points per currency unit, redeemed for rewards.
    Points,
    /// A share of spend back as store credit.
    Cashback,
    /// Status levels with better benefits.
    Tiered,
    /// A fee for member benefits.
    Paid,
    /// One stamp per purchase, a reward after N stamps.
    PunchCard,
    /// Rewards for bringing in new customers.
    Referral,
    /// Several of the above combined.
    Hybrid,
}

impl Kind {
    /// Name as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Points => "points",
            Kind::Cashback => "cashback",
            Kind::Tiered => "tiered",
            Kind::Paid => "paid",
            Kind::PunchCard => "punch-card",
            Kind::Referral => "referral",
            Kind::Hybrid => "hybrid",
        }
    }
}

/// One `[[designs]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesign {
    /// Unique name.
    pub name: String,
    /// Label and preset.
    pub kind: Kind,
}

/// A validated design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Unique name within the scenario.
    pub name: String,
    /// Label shown in the results.
    pub kind: Kind,
}

/// Validate one design (`i` is its index in `[[designs]]`).
pub(crate) fn validate(_ck: &super::Checker, _i: usize, d: &RawDesign) -> crate::Result<Design> {
    Ok(Design {
        name: d.name.clone(),
        kind: d.kind,
    })
}

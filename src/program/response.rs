//! `[designs.response]`: fixed multipliers on members' behaviour (the vendor-calculator
//! view), design-wide or per segment. Tier levels reuse [`RawMultipliers`] for their own
//! response.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::part::DesignCheck;
use crate::scenario::units::Multiplier;
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMultipliers {
    pub purchase_rate: Option<Multiplier>,
    pub dropout: Option<Multiplier>,
    pub order_value: Option<Multiplier>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    pub purchase_rate: Option<Multiplier>,
    pub dropout: Option<Multiplier>,
    pub order_value: Option<Multiplier>,
    pub segments: Option<BTreeMap<String, RawMultipliers>>,
}

/// Multipliers on a customer's behaviour while they are a member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Multipliers {
    /// On the purchase rate.
    pub purchase_rate: f64,
    /// On the dropout probability (BG/NBD) or dropout rate (Pareto/NBD).
    pub dropout: f64,
    /// On each order's value.
    pub order_value: f64,
}

impl Multipliers {
    /// No change.
    pub const NEUTRAL: Multipliers = Multipliers {
        purchase_rate: 1.0,
        dropout: 1.0,
        order_value: 1.0,
    };

    /// Element-wise product.
    pub fn then(self, o: Multipliers) -> Multipliers {
        Multipliers {
            purchase_rate: self.purchase_rate * o.purchase_rate,
            dropout: self.dropout * o.dropout,
            order_value: self.order_value * o.order_value,
        }
    }
}

/// Members' response per segment (neutral without a `response` table).
pub(crate) fn validate(dc: &DesignCheck, raw: Option<&RawResponse>) -> Result<Vec<Multipliers>> {
    let n = dc.segment_count();
    let Some(r) = raw else {
        return Ok(vec![Multipliers::NEUTRAL; n]);
    };
    let all = multipliers(&RawMultipliers {
        purchase_rate: r.purchase_rate,
        dropout: r.dropout,
        order_value: r.order_value,
    });
    let mut response = vec![all; n];
    for (name, m) in r.segments.iter().flatten() {
        let s = dc.segment(dc.field(&format!("response.segments.{name}")), name)?;
        response[s] = all_then(all, m);
    }
    Ok(response)
}

/// Raw multipliers with 1 for each key not given.
pub(crate) fn multipliers(m: &RawMultipliers) -> Multipliers {
    Multipliers {
        purchase_rate: m.purchase_rate.map_or(1.0, |x| x.get()),
        dropout: m.dropout.map_or(1.0, |x| x.get()),
        order_value: m.order_value.map_or(1.0, |x| x.get()),
    }
}

/// A segment's override: keys it gives replace the design-wide value.
fn all_then(all: Multipliers, m: &RawMultipliers) -> Multipliers {
    Multipliers {
        purchase_rate: m.purchase_rate.map_or(all.purchase_rate, |x| x.get()),
        dropout: m.dropout.map_or(all.dropout, |x| x.get()),
        order_value: m.order_value.map_or(all.order_value, |x| x.get()),
    }
}

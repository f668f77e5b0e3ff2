//! `[designs.points]`: the life cycle of a point (or of store credit) in the ledger: a
//! pending period before it can be spent, and when it expires.

use serde::Deserialize;

use super::part::DesignCheck;
use crate::scenario::units::{Days, PositiveDays};
use crate::Result;

/// When points expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryMode {
    /// Never.
    None,
    /// `days` after each lot was earned.
    AfterEarning,
    /// The whole balance, after `days` without a purchase.
    Inactivity,
    /// The whole balance at the end of each calendar year.
    EndOfYear,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpiry {
    pub mode: ExpiryMode,
    pub days: Option<PositiveDays>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    pub pending_days: Option<Days>,
    pub expiry: Option<RawExpiry>,
}

/// Point expiry rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expiry {
    /// Never.
    None,
    /// Each lot `days` after it was earned.
    AfterEarning(f64),
    /// The whole balance after this many days without a purchase.
    Inactivity(f64),
    /// The whole balance at each calendar year end.
    EndOfYear,
}

/// The pending days and the expiry rule (none of either without a `points` table).
pub(crate) fn validate(dc: &DesignCheck, raw: Option<&RawLifecycle>) -> Result<(f64, Expiry)> {
    let Some(l) = raw else {
        return Ok((0.0, Expiry::None));
    };
    let pending = l.pending_days.map_or(0.0, |x| x.get());
    let expiry = match &l.expiry {
        None => Expiry::None,
        Some(x) => {
            let days = |mode: &str| -> Result<f64> {
                x.days.map(|d| d.get()).ok_or_else(|| {
                    dc.err(
                        "points.expiry.days",
                        format!("is required with mode = \"{mode}\" (days > 0)"),
                    )
                })
            };
            match x.mode {
                ExpiryMode::None => Expiry::None,
                ExpiryMode::AfterEarning => Expiry::AfterEarning(days("after-earning")?),
                ExpiryMode::Inactivity => Expiry::Inactivity(days("inactivity")?),
                ExpiryMode::EndOfYear => Expiry::EndOfYear,
            }
        }
    };
    if let Expiry::AfterEarning(days) | Expiry::Inactivity(days) = expiry {
        if days <= pending {
            return Err(dc.err(
                "points.expiry.days",
                format!(
                    "points would expire ({days} days) before they can be spent (pending_days = {pending}); expiry must be longer than the pending period"
                ),
            ));
        }
    }
    if pending > 3650.0 {
        return Err(dc.err("points.pending_days", "must be at most 3650 days"));
    }
    Ok((pending, expiry))
}

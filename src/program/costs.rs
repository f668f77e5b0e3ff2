//! `[designs.costs]`: what running the program costs besides rewards (launch, platform,
//! per member), and how a cost accruing by the day is split over reporting periods.

use serde::Deserialize;

use crate::scenario::units::{to_cents, Money};

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    pub launch: Option<Money>,
    pub platform_per_month: Option<Money>,
    pub per_member_per_month: Option<Money>,
}

/// Program costs, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Costs {
    /// Once, at day 0.
    pub launch_cents: i64,
    /// Fixed per month (365.25 / 12 days).
    pub platform_per_month_cents: i64,
    /// Per member per month of membership.
    pub per_member_per_month: f64,
}

impl Costs {
    /// Whether any cost is set (for the list of a design's parts).
    pub fn any(&self) -> bool {
        *self != Costs::default()
    }
}

/// Costs in cents (all zero without a `costs` table).
pub(crate) fn validate(raw: Option<&RawCosts>) -> Costs {
    raw.map_or(Costs::default(), |c| Costs {
        launch_cents: to_cents(c.launch.map_or(0.0, |x| x.get())),
        platform_per_month_cents: to_cents(c.platform_per_month.map_or(0.0, |x| x.get())),
        per_member_per_month: c.per_member_per_month.map_or(0.0, |x| x.get()) * 100.0,
    })
}

/// Split a cost accruing at `per_day` cents from day `t0` to `t1` over reporting periods
/// of `period_days`, calling `add(period, cents)` for each piece (rounded per piece).
pub fn accrue(
    t0: f64,
    t1: f64,
    per_day: f64,
    period_days: f64,
    periods: usize,
    mut add: impl FnMut(usize, i64),
) {
    if per_day <= 0.0 || t1 <= t0 {
        return;
    }
    let mut t = t0;
    while t < t1 {
        let p = ((t / period_days) as usize).min(periods - 1);
        let end = if p + 1 == periods {
            t1
        } else {
            (((p + 1) as f64) * period_days).min(t1)
        };
        let end = if end <= t { t1 } else { end };
        add(p, ((end - t) * per_day).round() as i64);
        t = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accrual_splits_over_periods() {
        let mut v = vec![0i64; 3];
        accrue(5.0, 25.0, 10.0, 10.0, 3, |p, c| v[p] += c);
        assert_eq!(v, vec![50, 100, 50]);
    }
}

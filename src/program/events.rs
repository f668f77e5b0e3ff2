//! `[designs.events]`: points for things other than purchases (sign-up, profile completion,
//! birthdays, reviews, social shares).

use serde::Deserialize;

use super::part::{cap_days, points, DesignCheck};
use crate::scenario::units::{PerYear, Points, Probability};
use crate::scenario::Period;
use crate::Result;

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnce {
    pub points: Points,
    pub probability: Option<Probability>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurring {
    pub per_year: PerYear,
    pub points: Points,
    pub cap_per_period: Option<Points>,
    pub cap_period: Option<Period>,
}

#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    pub signup: Option<RawOnce>,
    pub profile_completion: Option<RawOnce>,
    pub birthday: Option<RawOnce>,
    pub review: Option<RawRecurring>,
    pub social_share: Option<RawRecurring>,
}

/// A one-off non-purchase event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnceEvent {
    /// Points awarded.
    pub points: u64,
    /// Probability a member does it (1 for sign-up; birthday is yearly).
    pub probability: f64,
}

/// A recurring non-purchase event (Poisson per member).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecurringEvent {
    /// Occurrences per member per year.
    pub per_year: f64,
    /// Points per occurrence.
    pub points: u64,
    /// Most awarded occurrences per cap period, and the period length in days.
    pub cap: Option<(u64, f64)>,
}

/// Non-purchase earning.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Events {
    /// Points for joining.
    pub signup: Option<OnceEvent>,
    /// Points for completing the profile (once, with a probability).
    pub profile_completion: Option<OnceEvent>,
    /// Points on each birthday while a member.
    pub birthday: Option<OnceEvent>,
    /// Reviews.
    pub review: Option<RecurringEvent>,
    /// Social shares.
    pub social_share: Option<RecurringEvent>,
}

impl Events {
    /// Whether any event is configured.
    pub fn any(&self) -> bool {
        self.signup.is_some()
            || self.profile_completion.is_some()
            || self.birthday.is_some()
            || self.review.is_some()
            || self.social_share.is_some()
    }
}

/// Events (none without an `events` table).
pub(crate) fn validate(dc: &DesignCheck, raw: Option<&RawEvents>) -> Result<Events> {
    let Some(ev) = raw else {
        return Ok(Events::default());
    };
    let once = |o: &Option<RawOnce>| {
        o.as_ref().map(|o| OnceEvent {
            points: points(o.points),
            probability: o.probability.map_or(1.0, |p| p.get()),
        })
    };
    let rec = |r: &Option<RawRecurring>| {
        r.as_ref().map(|r| RecurringEvent {
            per_year: r.per_year.get(),
            points: points(r.points),
            cap: r
                .cap_per_period
                .map(|c| (points(c), cap_days(r.cap_period))),
        })
    };
    for (k, r) in [("review", &ev.review), ("social_share", &ev.social_share)] {
        if let Some(r) = r {
            if r.per_year.get() > 10_000.0 {
                return Err(dc.err(
                    &format!("events.{k}.per_year"),
                    "must be at most 10000 per member per year",
                ));
            }
        }
    }
    Ok(Events {
        signup: once(&ev.signup),
        profile_completion: once(&ev.profile_completion),
        birthday: once(&ev.birthday),
        review: rec(&ev.review),
        social_share: rec(&ev.social_share),
    })
}

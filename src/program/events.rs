//! `[designs.events]`: points for things other than purchases (sign-up, profile completion,
//! birthdays, reviews, social shares).

use serde::Deserialize;

use rand::RngExt;

use super::ledger::YEAR_DAYS;
use super::part::{cap_days, points, Cx, DesignCheck, Part, Stay};
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

/// A member's event timers and caps.
#[derive(Debug)]
pub struct State {
    next_review: f64,
    review_cap: (i64, u64),
    next_share: f64,
    share_cap: (i64, u64),
    next_birthday: f64,
}

impl Default for State {
    fn default() -> Self {
        State {
            next_review: f64::INFINITY,
            review_cap: (-1, 0),
            next_share: f64::INFINITY,
            share_cap: (-1, 0),
            next_birthday: f64::INFINITY,
        }
    }
}

/// Count one occurrence against a per-period cap; false if the cap is reached.
fn under_cap(state: &mut (i64, u64), cap: Option<(u64, f64)>, t: f64) -> bool {
    let Some((max, days)) = cap else {
        return true;
    };
    let window = (t / days).floor() as i64;
    if state.0 != window {
        *state = (window, 0);
    }
    if state.1 >= max {
        return false;
    }
    state.1 += 1;
    true
}

impl Part for Events {
    type State = State;

    /// Sign-up points, profile completion (a draw) and the birthday (a draw of the day).
    fn on_first_join(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        if let Some(ev) = self.signup {
            cx.award(t, ev.points);
        }
        if let Some(ev) = self.profile_completion {
            if cx.prng.random::<f64>() < ev.probability {
                cx.award(t, ev.points);
            }
        }
        if self.birthday.is_some() {
            let doy = cx.prng.random::<f64>() * YEAR_DAYS;
            let mut b = (t / YEAR_DAYS).floor() * YEAR_DAYS + doy;
            if b <= t {
                b += YEAR_DAYS;
            }
            s.next_birthday = b;
        }
    }

    /// The first review and share of this membership (draws).
    fn on_join(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) {
        if let Some(r) = self.review {
            s.next_review = t + cx.exp_days(r.per_year);
        }
        if let Some(r) = self.social_share {
            s.next_share = t + cx.exp_days(r.per_year);
        }
    }

    fn on_leave(&self, s: &mut State, _cx: &mut Cx<'_>, _t: f64) {
        s.next_review = f64::INFINITY;
        s.next_share = f64::INFINITY;
        s.next_birthday = f64::INFINITY;
    }

    fn next_timer(&self, s: &State) -> f64 {
        s.next_review.min(s.next_share).min(s.next_birthday)
    }

    fn on_timer(&self, s: &mut State, cx: &mut Cx<'_>, t: f64) -> Stay {
        if s.next_review <= t {
            let r = self.review.expect("a review timer runs only with reviews");
            if under_cap(&mut s.review_cap, r.cap, t) {
                cx.award(t, r.points);
            }
            s.next_review = t + cx.exp_days(r.per_year);
        }
        if s.next_share <= t {
            let r = self
                .social_share
                .expect("a share timer runs only with shares");
            if under_cap(&mut s.share_cap, r.cap, t) {
                cx.award(t, r.points);
            }
            s.next_share = t + cx.exp_days(r.per_year);
        }
        if s.next_birthday <= t {
            let b = self
                .birthday
                .expect("a birthday timer runs only with birthdays");
            cx.award(t, b.points);
            s.next_birthday += YEAR_DAYS;
        }
        Stay::Member
    }
}

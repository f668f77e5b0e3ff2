//! A member's points (or store credit) ledger: lots with a pending period and an expiry,
//! soonest-expiring spent first.
//!
//! Lots are kept in the order they were earned. Every expiry rule expires lots in that
//! order too (N days after earning; end of the calendar year of earning; or the whole
//! balance after inactivity), so the front lot is always the next to expire and spending
//! from the front spends the soonest-expiring points first. Without a pending period or an
//! expiry rule the ledger is a plain counter (the common, fast case).

use std::collections::VecDeque;

use crate::scenario::design::Expiry;

/// Days in a calendar year of the simulation (the horizon starts on 1 January).
pub const YEAR_DAYS: f64 = 365.25;

/// The end of the calendar year that contains day `t`.
pub fn year_end_after(t: f64) -> f64 {
    ((t / YEAR_DAYS).floor() + 1.0) * YEAR_DAYS
}

#[derive(Debug, Clone, Copy)]
struct Lot {
    points: u64,
    available_at: f64,
    expires_at: f64,
}

/// Point movements caused by one ledger operation, for the tallies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired(pub u64);

/// One member's balance.
#[derive(Debug, Clone)]
pub struct Ledger {
    expiry: Expiry,
    pending_days: f64,
    lots: VecDeque<Lot>,
    /// Plain balance, when no lots are needed.
    balance: u64,
    lots_mode: bool,
    last_activity: f64,
}

impl Ledger {
    /// An empty ledger with the design's rules.
    pub fn new(expiry: Expiry, pending_days: f64) -> Self {
        let lots_mode =
            pending_days > 0.0 || !matches!(expiry, Expiry::None | Expiry::Inactivity(_));
        Ledger {
            expiry,
            pending_days,
            lots: VecDeque::new(),
            balance: 0,
            lots_mode,
            last_activity: 0.0,
        }
    }

    /// Record member activity (a purchase) at `t`: it restarts the inactivity clock.
    pub fn touch(&mut self, t: f64) {
        self.last_activity = t;
    }

    /// Add `points` earned at `t`.
    ///
    /// Points credited to an empty balance (a sign-up bonus at a join that did not come with
    /// a member's purchase, a win-back bonus after the balance expired) start the inactivity
    /// clock at `t`: otherwise the clock would still run from a purchase before the balance
    /// existed, the expiry would fall before `t`, and the points would be booked as expired
    /// in a period before the one that issued them.
    pub fn issue(&mut self, t: f64, points: u64) {
        if points == 0 {
            return;
        }
        if self.total() == 0 {
            self.last_activity = self.last_activity.max(t);
        }
        if self.lots_mode {
            let expires_at = match self.expiry {
                Expiry::AfterEarning(d) => t + d,
                Expiry::EndOfYear => year_end_after(t),
                Expiry::None | Expiry::Inactivity(_) => f64::INFINITY,
            };
            self.lots.push_back(Lot {
                points,
                available_at: t + self.pending_days,
                expires_at,
            });
        } else {
            self.balance += points;
        }
    }

    /// All points held, spendable or pending.
    pub fn total(&self) -> u64 {
        if self.lots_mode {
            self.lots.iter().map(|l| l.points).sum()
        } else {
            self.balance
        }
    }

    /// Points spendable at `t`.
    pub fn available(&self, t: f64) -> u64 {
        if self.lots_mode {
            self.lots
                .iter()
                .filter(|l| l.available_at <= t)
                .map(|l| l.points)
                .sum()
        } else {
            self.balance
        }
    }

    /// Spend `points` (at most [`Ledger::available`]) at `t`, soonest-expiring first.
    pub fn spend(&mut self, t: f64, mut points: u64) {
        if !self.lots_mode {
            debug_assert!(points <= self.balance);
            self.balance -= points;
            return;
        }
        for lot in self.lots.iter_mut() {
            if points == 0 {
                break;
            }
            if lot.available_at <= t {
                let take = lot.points.min(points);
                lot.points -= take;
                points -= take;
            }
        }
        debug_assert_eq!(points, 0, "spent more than available");
        self.lots.retain(|l| l.points > 0);
    }

    /// When the next expiry happens (infinity if never).
    pub fn next_expiry(&self) -> f64 {
        match self.expiry {
            Expiry::None => f64::INFINITY,
            Expiry::Inactivity(d) => {
                if self.total() > 0 {
                    self.last_activity + d
                } else {
                    f64::INFINITY
                }
            }
            Expiry::AfterEarning(_) | Expiry::EndOfYear => {
                self.lots.front().map_or(f64::INFINITY, |l| l.expires_at)
            }
        }
    }

    /// Expire what is due at `t`; returns the points expired.
    pub fn expire(&mut self, t: f64) -> u64 {
        match self.expiry {
            Expiry::None => 0,
            Expiry::Inactivity(d) => {
                if t >= self.last_activity + d {
                    let all = self.total();
                    self.lots.clear();
                    self.balance = 0;
                    all
                } else {
                    0
                }
            }
            Expiry::AfterEarning(_) | Expiry::EndOfYear => {
                let mut gone = 0;
                while let Some(l) = self.lots.front() {
                    if l.expires_at <= t {
                        gone += l.points;
                        self.lots.pop_front();
                    } else {
                        break;
                    }
                }
                gone
            }
        }
    }

    /// (spendable, pending) at the horizon.
    pub fn close(&self, horizon: f64) -> (u64, u64) {
        let available = self.available(horizon);
        (available, self.total() - available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_then_spend_soonest_expiring_first() {
        let mut l = Ledger::new(Expiry::AfterEarning(100.0), 10.0);
        l.issue(0.0, 50);
        l.issue(5.0, 30);
        assert_eq!(l.available(9.0), 0);
        assert_eq!(l.available(15.0), 80);
        l.spend(15.0, 60);
        // The lot earned first (expiring at 100) is used up first.
        assert_eq!(l.next_expiry(), 105.0);
        assert_eq!(l.expire(105.0), 20);
        assert_eq!(l.total(), 0);
    }

    #[test]
    fn inactivity_expires_whole_balance() {
        let mut l = Ledger::new(Expiry::Inactivity(30.0), 0.0);
        l.issue(1.0, 10);
        l.touch(1.0);
        l.issue(20.0, 5);
        l.touch(20.0);
        assert_eq!(l.next_expiry(), 50.0);
        assert_eq!(l.expire(49.0), 0);
        assert_eq!(l.expire(50.0), 15);
    }

    #[test]
    fn points_credited_to_an_empty_balance_start_the_inactivity_clock() {
        let mut l = Ledger::new(Expiry::Inactivity(30.0), 0.0);
        // Last purchase at day 10, nothing held; a bonus at day 200 (sign-up on a later join,
        // or a win-back bonus) must not expire in the past.
        l.touch(10.0);
        l.issue(200.0, 40);
        assert_eq!(l.next_expiry(), 230.0);
        // Points added to a non-empty balance leave the clock where the purchase set it.
        l.issue(210.0, 5);
        assert_eq!(l.next_expiry(), 230.0);
        assert_eq!(l.expire(230.0), 45);
    }

    #[test]
    fn end_of_year() {
        let mut l = Ledger::new(Expiry::EndOfYear, 0.0);
        l.issue(100.0, 7);
        l.issue(400.0, 3);
        assert_eq!(l.next_expiry(), YEAR_DAYS);
        assert_eq!(l.expire(YEAR_DAYS), 7);
        assert_eq!(l.next_expiry(), 2.0 * YEAR_DAYS);
    }
}

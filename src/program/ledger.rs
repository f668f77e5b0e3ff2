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

#[derive(Debug, Clone, Copy, PartialEq)]
struct Lot {
    points: u64,
    available_at: f64,
    expires_at: f64,
}

/// One member's balance.
///
/// The representation is chosen once, at construction, from the design's rules (as
/// rand_distr's `Gamma` chooses its algorithm): a plain counter when points are neither
/// pending nor expire lot by lot, else a queue of lots with running totals.
#[derive(Debug, Clone)]
pub struct Ledger {
    expiry: Expiry,
    store: Store,
    last_activity: f64,
}

#[derive(Debug, Clone)]
enum Store {
    /// No pending period and no per-lot expiry: one number.
    Plain(u64),
    /// Lots, for a pending period or an expiry that depends on when points were earned.
    Lots(Lots),
}

/// Lots in the order they were earned, with running totals so that a purchase costs O(1)
/// amortised however long the member's history.
///
/// Lots are issued at non-decreasing times with one pending period and one expiry rule, so
/// both `available_at` and `expires_at` are non-decreasing along the queue: the spendable lots
/// are a prefix (the first `matured`), and the front lot is the next to expire. The prefix
/// is known up to `matured_through`, the latest time it was brought up to date. Should lots
/// ever be issued out of time order (`ordered` false), every query falls back to a scan of
/// all lots, which is exact in any order.
#[derive(Debug, Clone)]
struct Lots {
    pending_days: f64,
    lots: VecDeque<Lot>,
    /// Points in all lots.
    total: u64,
    /// The first `matured` lots are the ones with `available_at <= matured_through`.
    matured: usize,
    /// Points in the first `matured` lots.
    matured_points: u64,
    matured_through: f64,
    ordered: bool,
}

impl Lots {
    fn new(pending_days: f64) -> Self {
        Lots {
            pending_days,
            lots: VecDeque::new(),
            total: 0,
            matured: 0,
            matured_points: 0,
            matured_through: f64::NEG_INFINITY,
            ordered: true,
        }
    }

    /// Extend the spendable prefix to the lots available at `t` (no-op for an earlier `t`).
    #[inline]
    fn mature(&mut self, t: f64) {
        if !self.ordered || t < self.matured_through {
            return;
        }
        self.matured_through = t;
        while let Some(lot) = self.lots.get(self.matured) {
            if lot.available_at > t {
                break;
            }
            self.matured_points += lot.points;
            self.matured += 1;
        }
    }

    fn issue(&mut self, t: f64, points: u64, expires_at: f64) {
        let lot = Lot {
            points,
            available_at: t + self.pending_days,
            expires_at,
        };
        if let Some(back) = self.lots.back() {
            if lot.available_at < back.available_at || lot.expires_at < back.expires_at {
                self.ordered = false;
            }
        }
        self.lots.push_back(lot);
        self.total += points;
        let through = self.matured_through;
        self.mature(through);
        self.mature(t);
    }

    fn available(&self, t: f64) -> u64 {
        if !self.ordered || t < self.matured_through {
            return self
                .lots
                .iter()
                .filter(|l| l.available_at <= t)
                .map(|l| l.points)
                .sum();
        }
        // Lots beyond the prefix that have become available since (at most the few earned
        // within one pending period).
        let newly: u64 = self
            .lots
            .range(self.matured..)
            .take_while(|l| l.available_at <= t)
            .map(|l| l.points)
            .sum();
        self.matured_points + newly
    }

    /// Take the front lot off the queue, keeping the totals.
    fn pop_front(&mut self) -> Option<Lot> {
        let lot = self.lots.pop_front()?;
        self.total -= lot.points;
        if self.ordered && self.matured > 0 {
            self.matured -= 1;
            self.matured_points -= lot.points;
        }
        Some(lot)
    }

    fn spend(&mut self, t: f64, mut points: u64) {
        if !self.ordered {
            self.spend_unordered(t, points);
            return;
        }
        self.mature(t);
        // Available lots form the front of the queue: spend the front lots, popping the
        // emptied ones (as the scan did by dropping zero lots).
        while points > 0 {
            let Some(front) = self.lots.front_mut() else {
                break;
            };
            if front.available_at > t {
                break;
            }
            if front.points > points {
                front.points -= points;
                self.total -= points;
                self.matured_points -= points;
                points = 0;
            } else {
                points -= front.points;
                self.pop_front();
            }
        }
        debug_assert_eq!(points, 0, "spent more than available");
    }

    /// Spending when lots are out of time order: scan every lot, soonest-earned first.
    fn spend_unordered(&mut self, t: f64, mut points: u64) {
        for lot in self.lots.iter_mut() {
            if points == 0 {
                break;
            }
            if lot.available_at <= t {
                let take = lot.points.min(points);
                lot.points -= take;
                points -= take;
                self.total -= take;
            }
        }
        debug_assert_eq!(points, 0, "spent more than available");
        self.lots.retain(|l| l.points > 0);
    }

    /// Expire every lot due by `t` from the front; returns the points expired.
    fn expire_due(&mut self, t: f64) -> u64 {
        let mut gone = 0;
        while let Some(l) = self.lots.front() {
            if l.expires_at > t {
                break;
            }
            gone += l.points;
            self.pop_front();
        }
        gone
    }

    fn clear(&mut self) -> u64 {
        let all = self.total;
        self.lots.clear();
        self.total = 0;
        self.matured = 0;
        self.matured_points = 0;
        all
    }
}

impl Ledger {
    /// An empty ledger with the design's rules.
    pub fn new(expiry: Expiry, pending_days: f64) -> Self {
        let plain = pending_days <= 0.0 && matches!(expiry, Expiry::None | Expiry::Inactivity(_));
        Ledger {
            expiry,
            store: if plain {
                Store::Plain(0)
            } else {
                Store::Lots(Lots::new(pending_days))
            },
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
        match &mut self.store {
            Store::Plain(balance) => *balance += points,
            Store::Lots(lots) => {
                let expires_at = match self.expiry {
                    Expiry::AfterEarning(d) => t + d,
                    Expiry::EndOfYear => year_end_after(t),
                    Expiry::None | Expiry::Inactivity(_) => f64::INFINITY,
                };
                lots.issue(t, points, expires_at);
            }
        }
    }

    /// All points held, spendable or pending.
    #[inline]
    pub fn total(&self) -> u64 {
        match &self.store {
            Store::Plain(balance) => *balance,
            Store::Lots(lots) => lots.total,
        }
    }

    /// Points spendable at `t`.
    #[inline]
    pub fn available(&self, t: f64) -> u64 {
        match &self.store {
            Store::Plain(balance) => *balance,
            Store::Lots(lots) => lots.available(t),
        }
    }

    /// Spend `points` (at most [`Ledger::available`]) at `t`, soonest-expiring first.
    pub fn spend(&mut self, t: f64, points: u64) {
        match &mut self.store {
            Store::Plain(balance) => {
                debug_assert!(points <= *balance);
                *balance -= points;
            }
            Store::Lots(lots) => lots.spend(t, points),
        }
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
            Expiry::AfterEarning(_) | Expiry::EndOfYear => match &self.store {
                Store::Lots(lots) => lots.lots.front().map_or(f64::INFINITY, |l| l.expires_at),
                Store::Plain(_) => f64::INFINITY,
            },
        }
    }

    /// Expire what is due at `t`; returns the points expired.
    pub fn expire(&mut self, t: f64) -> u64 {
        match (self.expiry, &mut self.store) {
            (Expiry::None, _) => 0,
            (Expiry::Inactivity(d), store) => {
                if t < self.last_activity + d {
                    return 0;
                }
                match store {
                    Store::Plain(balance) => std::mem::take(balance),
                    Store::Lots(lots) => lots.clear(),
                }
            }
            (Expiry::AfterEarning(_) | Expiry::EndOfYear, Store::Lots(lots)) => lots.expire_due(t),
            (Expiry::AfterEarning(_) | Expiry::EndOfYear, Store::Plain(_)) => 0,
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

    /// The ledger before running totals (issue 13): every query scans every lot. The fast
    /// ledger must agree with it on every operation.
    #[derive(Debug, Clone)]
    struct Scan {
        expiry: Expiry,
        pending_days: f64,
        lots: Vec<Lot>,
        last_activity: f64,
    }

    impl Scan {
        fn total(&self) -> u64 {
            self.lots.iter().map(|l| l.points).sum()
        }
        /// The plain counter (no pending period, no per-lot expiry) never looked at `t`.
        fn plain(&self) -> bool {
            self.pending_days <= 0.0 && matches!(self.expiry, Expiry::None | Expiry::Inactivity(_))
        }
        fn available(&self, t: f64) -> u64 {
            if self.plain() {
                return self.total();
            }
            self.lots
                .iter()
                .filter(|l| l.available_at <= t)
                .map(|l| l.points)
                .sum()
        }
        fn issue(&mut self, t: f64, points: u64) {
            if points == 0 {
                return;
            }
            if self.total() == 0 {
                self.last_activity = self.last_activity.max(t);
            }
            let expires_at = match self.expiry {
                Expiry::AfterEarning(d) => t + d,
                Expiry::EndOfYear => year_end_after(t),
                Expiry::None | Expiry::Inactivity(_) => f64::INFINITY,
            };
            self.lots.push(Lot {
                points,
                available_at: t + self.pending_days,
                expires_at,
            });
        }
        fn spend(&mut self, t: f64, mut points: u64) {
            let plain = self.plain();
            for lot in self.lots.iter_mut() {
                if plain || lot.available_at <= t {
                    let take = lot.points.min(points);
                    lot.points -= take;
                    points -= take;
                }
            }
            self.lots.retain(|l| l.points > 0);
        }
        fn next_expiry(&self) -> f64 {
            match self.expiry {
                Expiry::None => f64::INFINITY,
                Expiry::Inactivity(d) if self.total() > 0 => self.last_activity + d,
                Expiry::Inactivity(_) => f64::INFINITY,
                _ => self.lots.first().map_or(f64::INFINITY, |l| l.expires_at),
            }
        }
        fn expire(&mut self, t: f64) -> u64 {
            match self.expiry {
                Expiry::None => 0,
                Expiry::Inactivity(d) if t >= self.last_activity + d => {
                    let all = self.total();
                    self.lots.clear();
                    all
                }
                Expiry::Inactivity(_) => 0,
                _ => {
                    let due = self.lots.iter().take_while(|l| l.expires_at <= t).count();
                    self.lots.drain(..due).map(|l| l.points).sum()
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Touch,
        Issue(u64),
        /// Spend this share (per mille) of what is available.
        Spend(u16),
        Expire,
        /// Query the balance at an earlier time (progress toward a reward is read at the
        /// last purchase).
        LookBack(f64),
    }

    fn expiry_strategy() -> impl Strategy<Value = Expiry> {
        prop_oneof![
            Just(Expiry::None),
            (1.0..400.0f64).prop_map(Expiry::Inactivity),
            (1.0..400.0f64).prop_map(Expiry::AfterEarning),
            Just(Expiry::EndOfYear),
        ]
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Touch),
            (0u64..300).prop_map(Op::Issue),
            (0u16..=1000).prop_map(Op::Spend),
            Just(Op::Expire),
            (0.0..60.0f64).prop_map(Op::LookBack),
        ]
    }

    /// Run `ops` at times advancing by `steps` (negative steps issue out of time order)
    /// on both ledgers and compare every answer.
    fn agree(expiry: Expiry, pending: f64, ops: &[(f64, Op)]) -> Result<(), TestCaseError> {
        let mut fast = Ledger::new(expiry, pending);
        let mut scan = Scan {
            expiry,
            pending_days: pending,
            lots: Vec::new(),
            last_activity: 0.0,
        };
        let mut t = 0.0f64;
        for (step, op) in ops {
            t = (t + step).max(0.0);
            match *op {
                Op::Touch => {
                    fast.touch(t);
                    scan.last_activity = t;
                }
                Op::Issue(p) => {
                    fast.issue(t, p);
                    scan.issue(t, p);
                }
                Op::Spend(share) => {
                    let avail = scan.available(t);
                    prop_assert_eq!(fast.available(t), avail);
                    let p = avail * u64::from(share) / 1000;
                    fast.spend(t, p);
                    scan.spend(t, p);
                }
                Op::Expire => {
                    let due = scan.next_expiry();
                    prop_assert_eq!(fast.next_expiry().to_bits(), due.to_bits());
                    if due <= t {
                        prop_assert_eq!(fast.expire(due), scan.expire(due));
                    }
                }
                Op::LookBack(back) => {
                    prop_assert_eq!(fast.available(t - back), scan.available(t - back));
                }
            }
            prop_assert_eq!(fast.total(), scan.total());
            prop_assert_eq!(fast.available(t), scan.available(t));
            prop_assert_eq!(fast.next_expiry().to_bits(), scan.next_expiry().to_bits());
            prop_assert_eq!(fast.close(t + 30.0), {
                let a = scan.available(t + 30.0);
                (a, scan.total() - a)
            });
        }
        Ok(())
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn running_totals_agree_with_a_scan_of_every_lot(
            expiry in expiry_strategy(),
            pending in prop_oneof![Just(0.0), 0.5..40.0f64],
            ops in proptest::collection::vec((0.0..20.0f64, op_strategy()), 0..200),
        ) {
            agree(expiry, pending, &ops)?;
        }

        #[test]
        fn out_of_time_order_issues_fall_back_to_the_scan(
            expiry in expiry_strategy(),
            pending in prop_oneof![Just(0.0), 0.5..40.0f64],
            ops in proptest::collection::vec((-15.0..20.0f64, op_strategy()), 0..200),
        ) {
            agree(expiry, pending, &ops)?;
        }
    }

    #[test]
    fn a_long_history_is_spent_from_the_front() {
        // 1,000 lots, each spent on the next purchase: the queue stays short.
        let mut l = Ledger::new(Expiry::AfterEarning(365.0), 0.0);
        for day in 0..1000 {
            let t = f64::from(day);
            l.issue(t, 10);
            assert_eq!(l.available(t), 10);
            l.spend(t, 10);
            if let Store::Lots(lots) = &l.store {
                assert!(lots.lots.is_empty() && lots.ordered);
            }
        }
        assert_eq!(l.total(), 0);
        assert!(matches!(
            Ledger::new(Expiry::Inactivity(9.0), 0.0).store,
            Store::Plain(0)
        ));
    }
}

//! Exact tallies, the business metrics derived from them, and statistics across replicates.
//!
//! The engine adds integers only (counts, money in cents), so tallies merge associatively:
//! any split of the work gives the same bytes. Floats appear only here, when metrics are
//! derived from a finished tally, in a fixed order.

use std::ops::AddAssign;

use crate::scenario::Scenario;
use crate::stats::{self, Summary};

mod table;
pub use table::{
    unit_of, PeriodInputs, PeriodSeries, RunInputs, RunMetric, Unit, PERIOD_METRICS,
    PERIOD_SERIES_TABLE, RUN_METRICS, RUN_METRIC_TABLE,
};

/// Per-period counters of one design in one replicate.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeriodTally {
    /// Customers who arrived (made their first purchase) in the period.
    pub new_customers: u64,
    /// Orders placed in the period (first purchases included).
    pub orders: u64,
    /// Revenue in cents.
    pub revenue_cents: i64,
    /// Gross margin in cents.
    pub margin_cents: i64,
    /// Customers who became inactive in the period.
    pub churned: u64,
    /// Acquisition cost in cents (acquired and referred customers).
    pub acquisition_cost_cents: i64,
    /// Cost of rewards redeemed, cents.
    pub reward_cost_cents: i64,
    /// Program running costs, cents.
    pub program_cost_cents: i64,
    /// Membership fees, cents.
    pub fee_revenue_cents: i64,
    /// Members who joined in the period.
    pub members_joined: u64,
    /// Members who left (lapsed, or dropped out) in the period.
    pub members_left: u64,
    /// Points issued in the period.
    pub points_issued: u64,
    /// Points redeemed in the period.
    pub points_redeemed: u64,
    /// Points expired in the period.
    pub points_expired: u64,
    /// Net change of active members per tier level in the period.
    pub tier_delta: [i64; MAX_TIERS],
}

/// Most tier levels a design may have.
pub const MAX_TIERS: usize = 16;

impl AddAssign<&PeriodTally> for PeriodTally {
    fn add_assign(&mut self, o: &PeriodTally) {
        self.new_customers += o.new_customers;
        self.orders += o.orders;
        self.revenue_cents += o.revenue_cents;
        self.margin_cents += o.margin_cents;
        self.churned += o.churned;
        self.acquisition_cost_cents += o.acquisition_cost_cents;
        self.reward_cost_cents += o.reward_cost_cents;
        self.program_cost_cents += o.program_cost_cents;
        self.fee_revenue_cents += o.fee_revenue_cents;
        self.members_joined += o.members_joined;
        self.members_left += o.members_left;
        self.points_issued += o.points_issued;
        self.points_redeemed += o.points_redeemed;
        self.points_expired += o.points_expired;
        for (a, b) in self.tier_delta.iter_mut().zip(&o.tier_delta) {
            *a += b;
        }
    }
}

impl PeriodTally {
    /// Net profit of the period, cents.
    pub fn net_profit_cents(&self) -> i64 {
        self.margin_cents
            - self.acquisition_cost_cents
            - self.reward_cost_cents
            - self.program_cost_cents
            + self.fee_revenue_cents
    }
}

/// Everything counted for one design in one replicate (serialisable: sweep shards carry
/// exact tallies so that merging reproduces the unsharded results byte for byte).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Customers present at day 0.
    pub customers_initial: u64,
    /// Customers who arrived during the horizon.
    pub customers_acquired: u64,
    /// All orders, first purchases included.
    pub orders: u64,
    /// Orders after a customer's first.
    pub repeat_orders: u64,
    /// Revenue in cents.
    pub revenue_cents: i64,
    /// Gross margin in cents.
    pub margin_cents: i64,
    /// Acquisition cost in cents.
    pub acquisition_cost_cents: i64,
    /// Customers who became inactive before the horizon.
    pub churned: u64,
    /// Customers brought in by referrals (also counted in `customers_acquired`).
    pub customers_referred: u64,
    /// Customers who ever enrolled.
    pub members: u64,
    /// Points (or cents of store credit) issued.
    pub points_issued: u64,
    /// Points redeemed.
    pub points_redeemed: u64,
    /// Points expired.
    pub points_expired: u64,
    /// Points spendable at the horizon.
    pub points_outstanding: u64,
    /// Points earned but still in their pending period at the horizon.
    pub points_pending: u64,
    /// Points (spendable or pending) held at the horizon by customers who have dropped
    /// out: they will never be redeemed (known to the simulator, not to a real merchant).
    pub points_stranded: u64,
    /// Rewards redeemed (catalogue rewards, cash redemptions, punch-card rewards).
    pub rewards_redeemed: u64,
    /// Cost of rewards to the merchant, cents (includes referral rewards and fraud).
    pub reward_cost_cents: i64,
    /// Program running costs, cents (launch, platform, per member, free shipping).
    pub program_cost_cents: i64,
    /// Membership fees collected, cents.
    pub fee_revenue_cents: i64,
    /// Discounts given on orders, cents (already deducted from revenue).
    pub discount_cents: i64,
    /// Punch cards completed (legitimately or not).
    pub cards_completed: u64,
    /// Customers who completed at least one punch card.
    pub card_completers: u64,
    /// Cost of fraudulent punch-card rewards, cents (part of reward cost).
    pub fraud_cost_cents: i64,
    /// Win-back contacts made.
    pub winback_contacts: u64,
    /// Win-back contacts answered with a purchase.
    pub winback_responses: u64,
    /// Customers who dropped out before the horizon: their revenue within the horizon,
    /// cents (the value the churn took; issue 17).
    pub churned_revenue_cents: i64,
    /// Customers whose first purchase falls within the horizon (every customer but base
    /// customers, who bought before day 0) ...
    pub first_purchasers: u64,
    /// ... of whom this many made a second purchase within the horizon ...
    pub second_purchasers: u64,
    /// ... and a third.
    pub third_purchasers: u64,
    /// Their orders after the first, and the days from their first to their last
    /// purchase in thousandths: the mean time between purchases is the ratio.
    pub first_purchaser_repeats: u64,
    /// See `first_purchaser_repeats`.
    pub first_purchaser_span_millidays: u64,
    /// Causal accounting over customers who also exist under the control (not referred or
    /// design-attracted ones): customers who ever enrolled ...
    pub cf_members: u64,
    /// ... and who never did.
    pub cf_nonmembers: u64,
    /// Their spend under this design, cents (members, then non-members).
    pub cf_member_spend_cents: i64,
    /// Non-members' spend under this design, cents.
    pub cf_nonmember_spend_cents: i64,
    /// The same members' spend under the control, cents: the counterfactual.
    pub cf_member_control_spend_cents: i64,
    /// Members' orders and active days (thousandths), for orders per year.
    pub cf_member_orders: u64,
    /// Members' active time within the horizon, in thousandths of a day.
    pub cf_member_millidays: u64,
    /// Non-members' orders.
    pub cf_nonmember_orders: u64,
    /// Non-members' active time within the horizon, in thousandths of a day.
    pub cf_nonmember_millidays: u64,
    /// Goal-gradient curve: per progress bucket, (sum of inter-purchase times in
    /// thousandths of a day, number of intervals).
    pub progress: Vec<(u64, u64)>,
    /// Per reporting period.
    pub periods: Vec<PeriodTally>,
}

impl Tally {
    /// An empty tally with `periods` reporting periods.
    pub fn new(periods: usize) -> Self {
        Tally {
            periods: vec![PeriodTally::default(); periods],
            ..Default::default()
        }
    }

    /// All customers simulated.
    pub fn customers(&self) -> u64 {
        self.customers_initial + self.customers_acquired
    }

    /// Customers still active at the horizon.
    pub fn active_end(&self) -> u64 {
        self.customers() - self.churned
    }

    /// Net profit in cents: gross margin - acquisition cost - reward cost - program cost
    /// + fee revenue.
    pub fn net_profit_cents(&self) -> i64 {
        self.margin_cents
            - self.acquisition_cost_cents
            - self.reward_cost_cents
            - self.program_cost_cents
            + self.fee_revenue_cents
    }

    /// Count one customer's purchase path at the end of their timeline: whether their first
    /// purchase was within the horizon and, if so, how far they got (`orders` in all,
    /// `first` and `last` purchase days), and their revenue if they dropped out (`churned`).
    /// The control and every design book this the same way.
    pub fn count_customer_path(
        &mut self,
        opening_purchase: bool,
        orders: u64,
        first: f64,
        last: f64,
        churned: Option<i64>,
    ) {
        if let Some(spend_cents) = churned {
            self.churned_revenue_cents += spend_cents;
        }
        if !opening_purchase || orders == 0 {
            return;
        }
        self.first_purchasers += 1;
        self.second_purchasers += u64::from(orders >= 2);
        self.third_purchasers += u64::from(orders >= 3);
        self.first_purchaser_repeats += orders - 1;
        self.first_purchaser_span_millidays += ((last - first).max(0.0) * 1000.0).round() as u64;
    }

    /// Members at the end of each period (enrolled, not lapsed, not dropped out).
    pub fn members_by_period(&self) -> Vec<u64> {
        let mut m: i64 = 0;
        self.periods
            .iter()
            .map(|p| {
                m += p.members_joined as i64 - p.members_left as i64;
                m.max(0) as u64
            })
            .collect()
    }

    /// Points outstanding (spendable or pending) at the end of each period.
    pub fn points_by_period(&self) -> Vec<i64> {
        let mut b: i64 = 0;
        self.periods
            .iter()
            .map(|p| {
                b += p.points_issued as i64 - p.points_redeemed as i64 - p.points_expired as i64;
                b
            })
            .collect()
    }

    /// Whether the points ledger balances: issued = redeemed + expired + outstanding +
    /// pending, in total and period by period.
    pub fn ledger_balances(&self) -> bool {
        let sum = |f: fn(&PeriodTally) -> u64| self.periods.iter().map(f).sum::<u64>();
        self.points_issued
            == self.points_redeemed
                + self.points_expired
                + self.points_outstanding
                + self.points_pending
            && sum(|p| p.points_issued) == self.points_issued
            && sum(|p| p.points_redeemed) == self.points_redeemed
            && sum(|p| p.points_expired) == self.points_expired
    }

    /// Active customers at the end of each period.
    pub fn active_by_period(&self) -> Vec<u64> {
        let mut active = self.customers_initial;
        self.periods
            .iter()
            .map(|p| {
                active = active + p.new_customers - p.churned;
                active
            })
            .collect()
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, o: &Tally) {
        self.customers_initial += o.customers_initial;
        self.customers_acquired += o.customers_acquired;
        self.orders += o.orders;
        self.repeat_orders += o.repeat_orders;
        self.revenue_cents += o.revenue_cents;
        self.margin_cents += o.margin_cents;
        self.acquisition_cost_cents += o.acquisition_cost_cents;
        self.churned += o.churned;
        self.customers_referred += o.customers_referred;
        self.members += o.members;
        self.points_issued += o.points_issued;
        self.points_redeemed += o.points_redeemed;
        self.points_expired += o.points_expired;
        self.points_outstanding += o.points_outstanding;
        self.points_pending += o.points_pending;
        self.points_stranded += o.points_stranded;
        self.rewards_redeemed += o.rewards_redeemed;
        self.reward_cost_cents += o.reward_cost_cents;
        self.program_cost_cents += o.program_cost_cents;
        self.fee_revenue_cents += o.fee_revenue_cents;
        self.discount_cents += o.discount_cents;
        self.cards_completed += o.cards_completed;
        self.card_completers += o.card_completers;
        self.fraud_cost_cents += o.fraud_cost_cents;
        self.winback_contacts += o.winback_contacts;
        self.winback_responses += o.winback_responses;
        self.churned_revenue_cents += o.churned_revenue_cents;
        self.first_purchasers += o.first_purchasers;
        self.second_purchasers += o.second_purchasers;
        self.third_purchasers += o.third_purchasers;
        self.first_purchaser_repeats += o.first_purchaser_repeats;
        self.first_purchaser_span_millidays += o.first_purchaser_span_millidays;
        self.cf_members += o.cf_members;
        self.cf_nonmembers += o.cf_nonmembers;
        self.cf_member_spend_cents += o.cf_member_spend_cents;
        self.cf_nonmember_spend_cents += o.cf_nonmember_spend_cents;
        self.cf_member_control_spend_cents += o.cf_member_control_spend_cents;
        self.cf_member_orders += o.cf_member_orders;
        self.cf_member_millidays += o.cf_member_millidays;
        self.cf_nonmember_orders += o.cf_nonmember_orders;
        self.cf_nonmember_millidays += o.cf_nonmember_millidays;
        if self.progress.len() < o.progress.len() {
            self.progress.resize(o.progress.len(), (0, 0));
        }
        for (a, b) in self.progress.iter_mut().zip(&o.progress) {
            a.0 += b.0;
            a.1 += b.1;
        }
        if self.periods.len() < o.periods.len() {
            self.periods.resize(o.periods.len(), PeriodTally::default());
        }
        for (a, b) in self.periods.iter_mut().zip(&o.periods) {
            *a += b;
        }
    }
}

/// The metrics of one design in one replicate, in [`RUN_METRICS`] order, given the
/// control's tally of the same replicate (for the paired incremental figures) and the
/// design's cost of one outstanding point in cents. `None` marks a metric undefined for
/// this replicate (e.g. AOV with no orders).
pub fn run_metrics(
    t: &Tally,
    control: &Tally,
    cost_per_point: f64,
    sc: &Scenario,
) -> Vec<Option<f64>> {
    let inputs = RunInputs {
        t,
        control,
        cost_per_point,
        sc,
    };
    RUN_METRIC_TABLE
        .iter()
        .map(|m| (m.value)(&inputs))
        .collect()
}

/// Per-period metrics of one design in one replicate: `[period][PERIOD_METRICS]`.
pub fn period_metrics(t: &Tally, control: &Tally, cost_per_point: f64) -> Vec<Vec<Option<f64>>> {
    let active = t.active_by_period();
    let members = t.members_by_period();
    let points = t.points_by_period();
    let mut start = t.customers_initial;
    let mut cumulative = 0i64;
    let mut cumulative_control = 0i64;
    t.periods
        .iter()
        .zip(&control.periods)
        .enumerate()
        .map(|(i, (p, cp))| {
            cumulative += p.net_profit_cents();
            cumulative_control += cp.net_profit_cents();
            let inputs = PeriodInputs {
                p,
                active_start: start,
                active_end: active[i],
                members: members[i],
                points: points[i],
                cost_per_point,
                cumulative_cents: cumulative,
                cumulative_control_cents: cumulative_control,
            };
            start = active[i];
            PERIOD_SERIES_TABLE
                .iter()
                .map(|s| (s.value)(&inputs))
                .collect()
        })
        .collect()
}

/// Active members per tier level at the end of each period: `[period][level]`.
pub fn tier_mix(t: &Tally, levels: usize) -> Vec<Vec<i64>> {
    let mut acc = vec![0i64; levels];
    t.periods
        .iter()
        .map(|p| {
            for (a, d) in acc.iter_mut().zip(&p.tier_delta) {
                *a += d;
            }
            acc.clone()
        })
        .collect()
}

/// Months until the cumulative incremental net profit turns positive for good: the end of
/// the first period after which it stays > 0 to the horizon. `None` means never (within
/// the horizon).
pub fn payback_months(cumulative: &[Option<f64>], period_days: f64) -> Option<f64> {
    let mut first_positive: Option<usize> = None;
    for (i, x) in cumulative.iter().enumerate() {
        match x {
            Some(v) if *v > 0.0 => {
                first_positive.get_or_insert(i);
            }
            _ => first_positive = None,
        }
    }
    first_positive.map(|i| (i + 1) as f64 * period_days / (365.25 / 12.0))
}

/// One point of a goal-gradient curve: the mean time between purchases of members at a
/// given progress toward their next reward.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressPoint {
    /// Progress toward the next reward when the interval started: the stamp number for a
    /// punch card (1 = first stamp), or the share of the reward's points (0..1) in tenths.
    pub progress: f64,
    /// Mean days until the next purchase.
    pub mean_days: f64,
    /// Intervals observed (over all replicates).
    pub n: u64,
}

/// Statistics of one design across replicates.
#[derive(Debug, Clone)]
pub struct DesignStats {
    /// Design name.
    pub name: String,
    /// Design kind label.
    pub kind: &'static str,
    /// Per metric (in [`RUN_METRICS`] order): mean, sd, 95% CI across replicates.
    pub metrics: Vec<Summary>,
    /// Per metric: paired difference to the control across replicates.
    pub vs_control: Vec<Summary>,
    /// Per period, per series (in [`PERIOD_METRICS`] order): mean, 5% and 95% quantiles.
    pub periods: Vec<Vec<stats::Band>>,
    /// Tier names and, per period and level, the active members (mean, 5%, 95%).
    pub tiers: Option<(Vec<String>, Vec<Vec<stats::Band>>)>,
    /// Payback of the mean cumulative incremental net profit, months (`None`: never).
    pub payback_months: Option<f64>,
    /// Share of replicates whose cumulative incremental net profit never turns positive
    /// for good.
    pub payback_never_share: f64,
    /// Goal-gradient curve (inter-purchase time by progress toward the reward), for designs
    /// with a punch card or a points threshold; filled by the behaviour model (issue 4).
    pub progress_curve: Option<Vec<ProgressPoint>>,
}

/// Results of a run: the tallies of every replicate and design, and their statistics.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// `tallies[replicate][design]`.
    pub tallies: Vec<Vec<Tally>>,
    /// Statistics per design, in scenario order.
    pub designs: Vec<DesignStats>,
    /// The decision over uncertain inputs, for a scenario with `[uncertainty]`.
    pub decision: Option<crate::uncertainty::Decision>,
}

impl RunResults {
    /// Derive every statistic from the tallies of a finished run.
    pub fn from_tallies(sc: &Scenario, tallies: Vec<Vec<Tally>>) -> Self {
        let cpp: Vec<f64> = sc.designs.iter().map(|d| d.cost_per_point()).collect();
        let per_rep: Vec<Vec<Vec<Option<f64>>>> = tallies
            .iter()
            .map(|reps| {
                reps.iter()
                    .enumerate()
                    .map(|(d, t)| run_metrics(t, &reps[sc.control], cpp[d], sc))
                    .collect()
            })
            .collect();
        let per_period: Vec<Vec<Vec<Vec<Option<f64>>>>> = tallies
            .iter()
            .map(|reps| {
                reps.iter()
                    .enumerate()
                    .map(|(d, t)| period_metrics(t, &reps[sc.control], cpp[d]))
                    .collect()
            })
            .collect();
        let n_periods = sc.periods();
        let cum_inc = PERIOD_METRICS
            .iter()
            .position(|m| *m == "cumulative_incremental_net_profit")
            .expect("series exists");
        let designs = sc
            .designs
            .iter()
            .enumerate()
            .map(|(d, design)| {
                let column = |m: usize, of: usize| -> Vec<Option<f64>> {
                    per_rep.iter().map(|r| r[of][m]).collect()
                };
                let metrics = (0..RUN_METRICS.len())
                    .map(|m| stats::summarize(&column(m, d)))
                    .collect();
                let vs_control = (0..RUN_METRICS.len())
                    .map(|m| {
                        let diffs: Vec<Option<f64>> = column(m, d)
                            .iter()
                            .zip(column(m, sc.control))
                            .map(|(a, b)| Some((*a)? - b?))
                            .collect();
                        stats::summarize(&diffs)
                    })
                    .collect();
                let periods: Vec<Vec<stats::Band>> = (0..n_periods)
                    .map(|p| {
                        (0..PERIOD_METRICS.len())
                            .map(|m| {
                                let xs: Vec<Option<f64>> =
                                    per_period.iter().map(|r| r[d][p][m]).collect();
                                stats::band(&xs)
                            })
                            .collect()
                    })
                    .collect();
                let tiers = design.tiers.as_ref().map(|t| {
                    let names: Vec<String> = t.levels.iter().map(|l| l.name.clone()).collect();
                    let mixes: Vec<Vec<Vec<i64>>> = tallies
                        .iter()
                        .map(|r| tier_mix(&r[d], names.len()))
                        .collect();
                    let bands = (0..n_periods)
                        .map(|p| {
                            (0..names.len())
                                .map(|l| {
                                    let xs: Vec<Option<f64>> =
                                        mixes.iter().map(|m| Some(m[p][l] as f64)).collect();
                                    stats::band(&xs)
                                })
                                .collect()
                        })
                        .collect();
                    (names, bands)
                });
                let mean_curve: Vec<Option<f64>> =
                    periods.iter().map(|p| p[cum_inc].mean).collect();
                let never = per_period
                    .iter()
                    .filter(|r| {
                        let curve: Vec<Option<f64>> = r[d].iter().map(|p| p[cum_inc]).collect();
                        payback_months(&curve, sc.period.days()).is_none()
                    })
                    .count();
                let progress_curve = (!tallies.is_empty() && !tallies[0][d].progress.is_empty())
                    .then(|| {
                        let buckets = tallies[0][d].progress.len();
                        (0..buckets)
                            .filter_map(|b| {
                                let (sum, n) = tallies.iter().fold((0u64, 0u64), |acc, r| {
                                    let x = r[d].progress.get(b).copied().unwrap_or((0, 0));
                                    (acc.0 + x.0, acc.1 + x.1)
                                });
                                (n > 0).then(|| ProgressPoint {
                                    progress: if design.punch_card.is_some() {
                                        b as f64
                                    } else {
                                        (b as f64 + 0.5) / buckets as f64
                                    },
                                    mean_days: sum as f64 / 1000.0 / n as f64,
                                    n,
                                })
                            })
                            .collect()
                    });
                DesignStats {
                    name: design.name.clone(),
                    kind: design.kind.as_str(),
                    metrics,
                    vs_control,
                    periods,
                    tiers,
                    payback_months: payback_months(&mean_curve, sc.period.days()),
                    payback_never_share: never as f64 / per_period.len().max(1) as f64,
                    progress_curve,
                }
            })
            .collect();
        RunResults {
            tallies,
            designs,
            decision: None,
        }
    }

    /// Every run metric of every replicate, `[replicate][design][metric]` in
    /// [`RUN_METRICS`] order: the per-replicate values the statistics summarise, for
    /// `replicates.csv`.
    pub fn replicate_metrics(&self, sc: &Scenario) -> Vec<Vec<Vec<Option<f64>>>> {
        self.tallies
            .iter()
            .map(|reps| {
                reps.iter()
                    .zip(&sc.designs)
                    .map(|(t, d)| run_metrics(t, &reps[sc.control], d.cost_per_point(), sc))
                    .collect()
            })
            .collect()
    }

    /// Index of a run metric by name.
    pub fn metric_index(name: &str) -> Option<usize> {
        RUN_METRICS.iter().position(|m| *m == name)
    }
}

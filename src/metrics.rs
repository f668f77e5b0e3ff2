//! Exact tallies, the business metrics derived from them, and statistics across replicates.
//!
//! The engine adds integers only (counts, money in cents), so tallies merge associatively:
//! any split of the work gives the same bytes. Floats appear only here, when metrics are
//! derived from a finished tally, in a fixed order.

use std::ops::AddAssign;

use crate::scenario::Scenario;
use crate::stats::{self, Summary};

/// Per-period counters of one design in one replicate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

impl AddAssign<&PeriodTally> for PeriodTally {
    fn add_assign(&mut self, o: &PeriodTally) {
        self.new_customers += o.new_customers;
        self.orders += o.orders;
        self.revenue_cents += o.revenue_cents;
        self.margin_cents += o.margin_cents;
        self.churned += o.churned;
    }
}

/// Everything counted for one design in one replicate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

    /// Net profit in cents.
    pub fn net_profit_cents(&self) -> i64 {
        self.margin_cents - self.acquisition_cost_cents
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
        if self.periods.len() < o.periods.len() {
            self.periods.resize(o.periods.len(), PeriodTally::default());
        }
        for (a, b) in self.periods.iter_mut().zip(&o.periods) {
            *a += b;
        }
    }
}

/// Names of the run metrics, in the order they are reported.
pub const RUN_METRICS: &[&str] = &[
    "orders",
    "repeat_orders",
    "revenue",
    "gross_margin",
    "acquisition_cost",
    "net_profit",
    "customers_initial",
    "customers_acquired",
    "customers_active_end",
    "aov",
    "purchase_frequency",
    "churn_rate",
    "crr",
    "clv_textbook",
    "clv_simulated",
];

fn cents(c: i64) -> f64 {
    c as f64 / 100.0
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den).filter(|x| x.is_finite())
}

/// The metrics of one design in one replicate, in [`RUN_METRICS`] order. `None` marks a
/// metric undefined for this replicate (e.g. AOV with no orders).
pub fn run_metrics(t: &Tally, sc: &Scenario) -> Vec<Option<f64>> {
    let customers = t.customers() as f64;
    let years = f64::from(sc.horizon_days) / 365.25;
    let revenue = cents(t.revenue_cents);
    let margin = cents(t.margin_cents);
    let aov = ratio(revenue, t.orders as f64);
    let frequency = ratio(t.orders as f64, customers);
    let churn_rate = ratio(t.churned as f64, customers);
    // Textbook CLV (the guide's formula): AOV x purchase frequency per year x average
    // lifespan in years, lifespan = 1 / yearly churn rate. Applied to margin per order so it
    // is comparable with the simulated truth.
    let clv_textbook = match (aov, frequency, churn_rate) {
        (Some(aov), Some(f), Some(c)) if c > 0.0 => {
            let margin_share = ratio(margin, revenue).unwrap_or(0.0);
            Some(aov * margin_share * (f / years) * (years / c))
        }
        _ => None,
    };
    vec![
        Some(t.orders as f64),
        Some(t.repeat_orders as f64),
        Some(revenue),
        Some(margin),
        Some(cents(t.acquisition_cost_cents)),
        Some(cents(t.net_profit_cents())),
        Some(t.customers_initial as f64),
        Some(t.customers_acquired as f64),
        Some(t.active_end() as f64),
        aov,
        frequency,
        churn_rate,
        // CRR over the whole horizon: ((E - N) / S) x 100.
        ratio(
            t.active_end() as f64 - t.customers_acquired as f64,
            t.customers_initial as f64,
        )
        .map(|x| x * 100.0),
        clv_textbook,
        ratio(margin, customers),
    ]
}

/// Names of the per-period series, in the order they are reported.
pub const PERIOD_METRICS: &[&str] = &[
    "active_customers",
    "new_customers",
    "orders",
    "revenue",
    "gross_margin",
    "churned_customers",
    "crr",
];

/// Per-period metrics of one design in one replicate: `[period][PERIOD_METRICS]`.
pub fn period_metrics(t: &Tally) -> Vec<Vec<Option<f64>>> {
    let active = t.active_by_period();
    let mut start = t.customers_initial;
    t.periods
        .iter()
        .zip(active)
        .map(|(p, end)| {
            let crr = ratio(end as f64 - p.new_customers as f64, start as f64).map(|x| x * 100.0);
            start = end;
            vec![
                Some(end as f64),
                Some(p.new_customers as f64),
                Some(p.orders as f64),
                Some(cents(p.revenue_cents)),
                Some(cents(p.margin_cents)),
                Some(p.churned as f64),
                crr,
            ]
        })
        .collect()
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
}

/// Results of a run: the tallies of every replicate and design, and their statistics.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// `tallies[replicate][design]`.
    pub tallies: Vec<Vec<Tally>>,
    /// Statistics per design, in scenario order.
    pub designs: Vec<DesignStats>,
}

impl RunResults {
    /// Derive every statistic from the tallies of a finished run.
    pub fn from_tallies(sc: &Scenario, tallies: Vec<Vec<Tally>>) -> Self {
        let per_rep: Vec<Vec<Vec<Option<f64>>>> = tallies
            .iter()
            .map(|reps| reps.iter().map(|t| run_metrics(t, sc)).collect())
            .collect();
        let per_period: Vec<Vec<Vec<Vec<Option<f64>>>>> = tallies
            .iter()
            .map(|reps| reps.iter().map(period_metrics).collect())
            .collect();
        let n_periods = sc.periods();
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
                let periods = (0..n_periods)
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
                DesignStats {
                    name: design.name.clone(),
                    kind: design.kind.as_str(),
                    metrics,
                    vs_control,
                    periods,
                }
            })
            .collect();
        RunResults { tallies, designs }
    }

    /// Index of a run metric by name.
    pub fn metric_index(name: &str) -> Option<usize> {
        RUN_METRICS.iter().position(|m| *m == name)
    }
}

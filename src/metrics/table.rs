//! The one table of reported metrics: each metric's name, how it is shown, what it means and
//! how it is computed, side by side. Every writer (summary.json, designs.csv,
//! replicates.csv, timeseries*.csv, the report, sweeps, optimisation) iterates these tables,
//! so a metric cannot be named in one place and computed at another position elsewhere.
//! Adding a metric is one row here (and its tally fields, if it needs new counts).

use super::{PeriodTally, Tally};
use crate::scenario::Scenario;

/// How a metric's value is shown in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count or plain number (thousands grouped, no spurious decimals).
    Number,
    /// Currency units.
    Money,
    /// A fraction shown as a percentage.
    Share,
    /// Already a percentage (CRR).
    Percent,
    /// A ratio shown as in the terminal (ROI).
    Ratio,
}

/// One run metric: a number per design and replicate.
pub struct RunMetric {
    /// Key in summary.json, designs.csv and replicates.csv (a contract: never renamed).
    pub name: &'static str,
    /// How the report shows it.
    pub unit: Unit,
    /// What it means (the README's metric table says the same in more words).
    pub doc: &'static str,
    /// Its value in one replicate (`None`: undefined, e.g. AOV with no orders).
    pub value: fn(&RunInputs<'_>) -> Option<f64>,
}

/// One per-period series: a number per design, replicate and reporting period.
pub struct PeriodSeries {
    /// Column stem in timeseries.csv and series name in timeseries_long.csv.
    pub name: &'static str,
    /// What it means.
    pub doc: &'static str,
    /// Its value in one period of one replicate.
    pub value: fn(&PeriodInputs<'_>) -> Option<f64>,
}

/// What a run metric is computed from: one design's tally in one replicate, the control's
/// tally of the same replicate (for paired incremental figures), the design's cost of one
/// outstanding point in cents, and the scenario.
pub struct RunInputs<'a> {
    /// The design's tally.
    pub t: &'a Tally,
    /// The control's tally of the same replicate.
    pub control: &'a Tally,
    /// The design's cost of one outstanding point, cents.
    pub cost_per_point: f64,
    /// The scenario.
    pub sc: &'a Scenario,
}

fn cents(c: i64) -> f64 {
    c as f64 / 100.0
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den).filter(|x| x.is_finite())
}

/// Orders per year of active time, from a count and active millidays.
fn per_active_year(orders: u64, millidays: u64) -> Option<f64> {
    ratio(orders as f64, millidays as f64 / 1000.0 / 365.25)
}

impl RunInputs<'_> {
    fn customers(&self) -> f64 {
        self.t.customers() as f64
    }
    fn years(&self) -> f64 {
        f64::from(self.sc.horizon_days) / 365.25
    }
    fn revenue(&self) -> f64 {
        cents(self.t.revenue_cents)
    }
    fn margin(&self) -> f64 {
        cents(self.t.margin_cents)
    }
    fn aov(&self) -> Option<f64> {
        ratio(self.revenue(), self.t.orders as f64)
    }
    fn frequency(&self) -> Option<f64> {
        ratio(self.t.orders as f64, self.customers())
    }
    fn churn_rate(&self) -> Option<f64> {
        ratio(self.t.churned as f64, self.customers())
    }
    /// Points held at the horizon, spendable or pending.
    fn held(&self) -> f64 {
        (self.t.points_outstanding + self.t.points_pending) as f64
    }
    fn liability(&self) -> f64 {
        self.held() * self.cost_per_point / 100.0
    }
    fn incremental_profit(&self) -> f64 {
        cents(self.t.net_profit_cents() - self.control.net_profit_cents())
    }
    /// Program spend: rewards, running costs, discounts.
    fn spend(&self) -> f64 {
        cents(self.t.reward_cost_cents + self.t.program_cost_cents + self.t.discount_cents)
    }
    /// Textbook CLV (the guide's formula) with a given lifespan in years: AOV x purchase
    /// frequency per year x lifespan, on margin per order so it compares with the truth.
    fn clv_with_lifespan(&self, lifespan_years: Option<f64>) -> Option<f64> {
        let (aov, f, life) = (self.aov()?, self.frequency()?, lifespan_years?);
        let margin_share = ratio(self.margin(), self.revenue()).unwrap_or(0.0);
        let years = self.years();
        Some(aov * margin_share * (f / years) * life)
    }
    /// The guide's other lifespan: the mean time between purchases (of customers whose
    /// first purchase is in the horizon) times the purchases per customer, in years. It
    /// treats a customer's n purchases as n gaps long, so it runs one gap longer than the
    /// observed span; it cannot see beyond the horizon.
    fn gap_lifespan_years(&self) -> Option<f64> {
        let t = self.t;
        let gap_days = ratio(
            t.first_purchaser_span_millidays as f64 / 1000.0,
            t.first_purchaser_repeats as f64,
        )?;
        Some(gap_days / 365.25 * self.frequency()?)
    }
    /// Naive member lift: members' spend per customer minus non-members' (what a
    /// member/non-member report shows), over customers who exist under the control too.
    fn naive(&self) -> Option<f64> {
        let t = self.t;
        let member_avg = ratio(cents(t.cf_member_spend_cents), t.cf_members as f64);
        let nonmember_avg = ratio(cents(t.cf_nonmember_spend_cents), t.cf_nonmembers as f64);
        member_avg.zip(nonmember_avg).map(|(m, n)| m - n)
    }
    /// Causal member lift: members' spend minus the same customers' spend under the
    /// control (their counterfactual).
    fn causal(&self) -> Option<f64> {
        let t = self.t;
        ratio(
            cents(t.cf_member_spend_cents - t.cf_member_control_spend_cents),
            t.cf_members as f64,
        )
    }
    /// The `[finance]` objective (NPV after points liability).
    fn objective(&self) -> f64 {
        self.sc
            .finance
            .objective(self.t, self.cost_per_point, self.sc)
    }
    fn control_objective(&self) -> f64 {
        let cpp = self.sc.control_design().cost_per_point();
        self.sc.finance.objective(self.control, cpp, self.sc)
    }
}

macro_rules! metric {
    ($name:literal, $unit:ident, $doc:literal, $value:expr) => {
        RunMetric {
            name: $name,
            unit: Unit::$unit,
            doc: $doc,
            value: $value,
        }
    };
}

/// Every run metric, in the order it is reported.
pub const RUN_METRIC_TABLE: &[RunMetric] = &[
    metric!(
        "orders",
        Number,
        "all orders, first purchases included",
        |r| Some(r.t.orders as f64)
    ),
    metric!(
        "repeat_orders",
        Number,
        "orders after each customer's first",
        |r| Some(r.t.repeat_orders as f64)
    ),
    metric!("revenue", Money, "sum of order values", |r| Some(
        r.revenue()
    )),
    metric!("gross_margin", Money, "revenue x segment margin", |r| Some(
        r.margin()
    )),
    metric!("acquisition_cost", Money, "acquired customers x CAC", |r| {
        Some(cents(r.t.acquisition_cost_cents))
    }),
    metric!(
        "net_profit",
        Money,
        "gross margin - acquisition, reward and program cost + fees",
        |r| Some(cents(r.t.net_profit_cents()))
    ),
    // Accrual view: outstanding points are a liability at their cost to the merchant.
    metric!(
        "net_profit_after_liability",
        Money,
        "net profit - points liability",
        |r| Some(cents(r.t.net_profit_cents()) - r.liability())
    ),
    metric!(
        "customers_initial",
        Number,
        "customers present at day 0",
        |r| Some(r.t.customers_initial as f64)
    ),
    metric!(
        "customers_acquired",
        Number,
        "customers who arrived during the horizon",
        |r| Some(r.t.customers_acquired as f64)
    ),
    metric!(
        "customers_active_end",
        Number,
        "customers not dropped out at the horizon",
        |r| Some(r.t.active_end() as f64)
    ),
    metric!("aov", Money, "revenue / orders", |r| r.aov()),
    metric!(
        "purchase_frequency",
        Number,
        "orders / unique customers",
        |r| r.frequency()
    ),
    metric!(
        "churn_rate",
        Share,
        "customers who dropped out / all customers",
        |r| r.churn_rate()
    ),
    // CRR over the whole horizon: ((E - N) / S) x 100.
    metric!(
        "crr",
        Percent,
        "((E - N) / S) x 100 over the horizon",
        |r| ratio(
            r.t.active_end() as f64 - r.t.customers_acquired as f64,
            r.t.customers_initial as f64,
        )
        .map(|x| x * 100.0)
    ),
    // Lifespan = 1 / yearly churn rate: years / churn rate over the horizon.
    metric!(
        "clv_textbook",
        Money,
        "AOV x frequency per year x lifespan (1 / yearly churn), on margin",
        |r| {
            let lifespan = r.churn_rate().filter(|c| *c > 0.0).map(|c| r.years() / c);
            r.clv_with_lifespan(lifespan)
        }
    ),
    metric!(
        "clv_simulated",
        Money,
        "true mean gross margin per customer over the horizon",
        |r| ratio(r.margin(), r.customers())
    ),
    metric!("members", Number, "customers who ever enrolled", |r| Some(
        r.t.members as f64
    )),
    metric!(
        "adoption_rate",
        Share,
        "members / all customers",
        |r| ratio(r.t.members as f64, r.customers())
    ),
    metric!(
        "points_issued",
        Number,
        "points (or cents of credit) issued",
        |r| Some(r.t.points_issued as f64)
    ),
    metric!("points_redeemed", Number, "points redeemed", |r| Some(
        r.t.points_redeemed as f64
    )),
    metric!("points_expired", Number, "points expired", |r| Some(
        r.t.points_expired as f64
    )),
    metric!(
        "points_outstanding",
        Number,
        "points spendable at the horizon",
        |r| Some(r.t.points_outstanding as f64)
    ),
    metric!(
        "points_pending",
        Number,
        "points still pending at the horizon",
        |r| Some(r.t.points_pending as f64)
    ),
    metric!("redemption_rate", Share, "redeemed / issued", |r| ratio(
        r.t.points_redeemed as f64,
        r.t.points_issued as f64
    )),
    // Breakage the simulator can already see: expired points plus points held by
    // customers who have dropped out (they will never redeem them).
    metric!(
        "breakage_rate",
        Share,
        "(expired + held by dropped-out customers) / issued",
        |r| ratio(
            (r.t.points_expired + r.t.points_stranded) as f64,
            r.t.points_issued as f64,
        )
    ),
    metric!(
        "points_liability",
        Money,
        "(outstanding + pending) x cost per point",
        |r| Some(r.liability())
    ),
    metric!("rewards_redeemed", Number, "rewards taken", |r| Some(
        r.t.rewards_redeemed as f64
    )),
    metric!(
        "reward_cost",
        Money,
        "cost of rewards to the merchant",
        |r| Some(cents(r.t.reward_cost_cents))
    ),
    metric!(
        "program_cost",
        Money,
        "launch, platform, per-member costs and free shipping",
        |r| Some(cents(r.t.program_cost_cents))
    ),
    metric!("fee_revenue", Money, "membership fees", |r| Some(cents(
        r.t.fee_revenue_cents
    ))),
    metric!(
        "discount_given",
        Money,
        "discounts given (already deducted from revenue)",
        |r| Some(cents(r.t.discount_cents))
    ),
    metric!(
        "customers_referred",
        Number,
        "customers brought by referrals",
        |r| Some(r.t.customers_referred as f64)
    ),
    metric!(
        "cards_completed",
        Number,
        "punch cards completed",
        |r| Some(r.t.cards_completed as f64)
    ),
    metric!(
        "card_completion_rate",
        Share,
        "members completing at least one card / members",
        |r| ratio(r.t.card_completers as f64, r.t.members as f64)
    ),
    metric!(
        "fraud_cost",
        Money,
        "cost of fraudulent punch-card rewards",
        |r| Some(cents(r.t.fraud_cost_cents))
    ),
    metric!(
        "incremental_revenue",
        Money,
        "revenue minus the control's, paired",
        |r| Some(cents(r.t.revenue_cents - r.control.revenue_cents))
    ),
    metric!(
        "incremental_net_profit",
        Money,
        "net profit minus the control's, paired",
        |r| Some(r.incremental_profit())
    ),
    // ROI: incremental net profit per unit of program spend; undefined for a design that
    // spends nothing.
    metric!(
        "roi",
        Ratio,
        "incremental net profit / (reward + program cost + discounts)",
        |r| ratio(r.incremental_profit(), r.spend())
    ),
    metric!(
        "naive_member_lift",
        Money,
        "members' spend minus non-members' per customer",
        |r| r.naive()
    ),
    metric!(
        "causal_member_lift",
        Money,
        "members' spend minus their own spend under the control",
        |r| r.causal()
    ),
    metric!(
        "naive_to_causal_ratio",
        Number,
        "naive / causal member lift",
        |r| match (r.naive(), r.causal()) {
            (Some(n), Some(c)) if c.abs() > 1e-9 => Some(n / c),
            _ => None,
        }
    ),
    metric!(
        "member_orders_per_year",
        Number,
        "members' orders per year of active life",
        |r| per_active_year(r.t.cf_member_orders, r.t.cf_member_millidays)
    ),
    metric!(
        "nonmember_orders_per_year",
        Number,
        "non-members' orders per year of active life",
        |r| per_active_year(r.t.cf_nonmember_orders, r.t.cf_nonmember_millidays)
    ),
    metric!("winback_contacts", Number, "win-back contacts made", |r| {
        Some(r.t.winback_contacts as f64)
    }),
    metric!(
        "winback_responses",
        Number,
        "win-back contacts answered with a purchase",
        |r| Some(r.t.winback_responses as f64)
    ),
    // The report has always shown the objective as a plain number (kept: its bytes are
    // pinned by the golden corpus).
    metric!("objective", Number, "the [finance] objective", |r| Some(
        r.objective()
    )),
    metric!(
        "incremental_objective",
        Number,
        "the objective minus the control's, paired",
        |r| Some(r.objective() - r.control_objective())
    ),
    // Issue 17: the guides' churn by value, the path of new customers, and the guide's
    // own CLV variant.
    metric!(
        "churned_revenue",
        Money,
        "revenue within the horizon of customers who dropped out",
        |r| Some(cents(r.t.churned_revenue_cents))
    ),
    metric!(
        "value_weighted_churn_rate",
        Share,
        "churned_revenue / revenue: the share of the horizon's revenue whose customers are lost",
        |r| ratio(cents(r.t.churned_revenue_cents), r.revenue())
    ),
    metric!(
        "second_purchase_rate",
        Share,
        "share of customers with a first purchase in the horizon who made a second",
        |r| ratio(r.t.second_purchasers as f64, r.t.first_purchasers as f64)
    ),
    metric!(
        "third_purchase_rate",
        Share,
        "share of customers with a first purchase in the horizon who made a third",
        |r| ratio(r.t.third_purchasers as f64, r.t.first_purchasers as f64)
    ),
    metric!(
        "clv_purchase_gap",
        Money,
        "AOV x frequency per year x lifespan (mean time between purchases x purchases per customer), on margin",
        |r| r.clv_with_lifespan(r.gap_lifespan_years())
    ),
];

const fn run_metric_names<const N: usize>() -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = RUN_METRIC_TABLE[i].name;
        i += 1;
    }
    names
}

const fn period_series_names<const N: usize>() -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = PERIOD_SERIES_TABLE[i].name;
        i += 1;
    }
    names
}

/// Names of the run metrics, in the order they are reported (from [`RUN_METRIC_TABLE`]).
pub const RUN_METRICS: &[&str] = &run_metric_names::<{ RUN_METRIC_TABLE.len() }>();

/// Names of the per-period series, in the order they are reported (from
/// [`PERIOD_SERIES_TABLE`]).
pub const PERIOD_METRICS: &[&str] = &period_series_names::<{ PERIOD_SERIES_TABLE.len() }>();

/// What a per-period series is computed from: one period of one design's tally in one
/// replicate, with the running quantities the period's end needs.
pub struct PeriodInputs<'a> {
    /// The period's counters.
    pub p: &'a PeriodTally,
    /// Active customers at the period's start.
    pub active_start: u64,
    /// Active customers at the period's end.
    pub active_end: u64,
    /// Members at the period's end.
    pub members: u64,
    /// Points outstanding at the period's end.
    pub points: i64,
    /// The design's cost of one outstanding point, cents.
    pub cost_per_point: f64,
    /// Net profit from the horizon start to the period's end, cents: the design's ...
    pub cumulative_cents: i64,
    /// ... and the control's.
    pub cumulative_control_cents: i64,
}

macro_rules! series {
    ($name:literal, $doc:literal, $value:expr) => {
        PeriodSeries {
            name: $name,
            doc: $doc,
            value: $value,
        }
    };
}

/// Every per-period series, in the order it is reported.
pub const PERIOD_SERIES_TABLE: &[PeriodSeries] = &[
    series!(
        "active_customers",
        "active customers at the period's end",
        |q| Some(q.active_end as f64)
    ),
    series!(
        "new_customers",
        "customers who arrived in the period",
        |q| Some(q.p.new_customers as f64)
    ),
    series!("orders", "orders in the period", |q| Some(
        q.p.orders as f64
    )),
    series!("revenue", "revenue in the period", |q| Some(cents(
        q.p.revenue_cents
    ))),
    series!("gross_margin", "gross margin in the period", |q| Some(
        cents(q.p.margin_cents)
    )),
    series!(
        "churned_customers",
        "customers who dropped out in the period",
        |q| Some(q.p.churned as f64)
    ),
    series!("crr", "((E - N) / S) x 100 over the period", |q| ratio(
        q.active_end as f64 - q.p.new_customers as f64,
        q.active_start as f64,
    )
    .map(|x| x * 100.0)),
    series!("members", "members at the period's end", |q| Some(
        q.members as f64
    )),
    series!(
        "points_outstanding",
        "points outstanding at the period's end",
        |q| Some(q.points as f64)
    ),
    series!(
        "points_liability",
        "outstanding points x cost per point",
        |q| Some(q.points as f64 * q.cost_per_point / 100.0)
    ),
    series!("reward_cost", "reward cost in the period", |q| Some(cents(
        q.p.reward_cost_cents
    ))),
    series!("program_cost", "program cost in the period", |q| Some(
        cents(q.p.program_cost_cents)
    )),
    series!("fee_revenue", "membership fees in the period", |q| Some(
        cents(q.p.fee_revenue_cents)
    )),
    series!("net_profit", "net profit in the period", |q| Some(cents(
        q.p.net_profit_cents()
    ))),
    series!(
        "cumulative_net_profit",
        "net profit to the period's end",
        |q| Some(cents(q.cumulative_cents))
    ),
    series!(
        "cumulative_incremental_net_profit",
        "cumulative net profit minus the control's",
        |q| Some(cents(q.cumulative_cents - q.cumulative_control_cents))
    ),
];

/// The unit a run metric is shown in (`Number` for an unknown name).
pub fn unit_of(name: &str) -> Unit {
    RUN_METRIC_TABLE
        .iter()
        .find(|m| m.name == name)
        .map_or(Unit::Number, |m| m.unit)
}

//! The serde mirror of the scenario TOML: field names and nesting exactly as users write
//! them, unknown keys rejected. Values are checked one by one here (through the newtypes in
//! `units`); checks across fields happen in `validate`.

// Field docs: each field is the TOML key of the same name, documented in README.md
// ("Scenario format"); repeating them here would only drift.
#![allow(missing_docs)]

use serde::Deserialize;

use super::units::{
    Customers, HorizonDays, Money, Multiplier, OrderValue, PerDay, Probability, Replicates, Seed,
    Shape, Spread,
};

/// Top level of a scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    pub seed: Option<Seed>,
    pub replicates: Option<Replicates>,
    pub horizon_days: HorizonDays,
    pub period: Option<Period>,
    pub population: RawPopulation,
    pub categories: Option<Vec<RawCategory>>,
    pub designs: Vec<super::design::RawDesign>,
    pub uncertainty: Option<crate::uncertainty::RawUncertainty>,
    pub finance: Option<crate::finance::RawFinance>,
}

/// One `[[categories]]` entry: a part of every order's spend with its own margin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub name: String,
    pub share_of_spend: Probability,
    pub margin: Probability,
}

/// Reporting period of the time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    /// 7 days.
    Week,
    /// 365.25 / 12 days.
    Month,
    /// 365.25 / 4 days.
    Quarter,
}

impl Period {
    /// Length in days.
    pub fn days(self) -> f64 {
        match self {
            Period::Week => 7.0,
            Period::Month => 365.25 / 12.0,
            Period::Quarter => 365.25 / 4.0,
        }
    }

    /// Name as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }
}

/// `[population]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    pub customers: Customers,
    pub acquisition: Option<RawAcquisition>,
    pub segments: Vec<RawSegment>,
    /// Issue 14: the store's own customers.
    pub base: Option<RawBase>,
    /// Issue 14: a synthetic seasoned base (`tenure = { years = N }`).
    pub tenure: Option<RawTenure>,
}

/// `population.tenure` (issue 14): how long the synthetic day-0 customers have been
/// customers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenure {
    pub years: f64,
}

/// `[population.base]` (issue 14): a per-customer RFM table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBase {
    pub rfm: String,
    pub unit: Option<TimeUnit>,
    pub segment: Option<String>,
    pub segment_col: Option<String>,
}

/// `[population.acquisition]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcquisition {
    pub per_day: PerDay,
    #[serde(default)]
    pub cost_per_customer: Option<Money>,
}

/// One `[[population.segments]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSegment {
    pub name: String,
    pub share: Probability,
    pub margin: Probability,
    pub purchase: RawPurchase,
    pub spend: RawSpend,
    pub discount_elasticity: Option<Multiplier>,
    pub benefit_cut_dropout: Option<Multiplier>,
    pub return_rate: Option<Probability>,
    pub seasonality: Option<super::seasonality::RawSeasonality>,
    /// Issue 14: the fit's parameter covariance (data for a later issue).
    pub covariance: Option<crate::fit::models::FitCovariance>,
}

/// Time unit the purchase-model rates are expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeUnit {
    /// 1 day.
    Day,
    /// 7 days (the unit of the published CDNOW fits).
    Week,
    /// 365.25 / 12 days.
    Month,
    /// 365.25 days.
    Year,
}

impl TimeUnit {
    /// Name as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }

    /// Length in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => 365.25 / 12.0,
            TimeUnit::Year => 365.25,
        }
    }
}

/// Purchase (transaction-count) model names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PurchaseModelName {
    /// Fader, Hardie & Lee (2005).
    BgNbd,
    /// Schmittlein, Morrison & Colombo (1987).
    ParetoNbd,
    /// BG/NBD derived from what a merchant knows (issue 14; `scenario::calculator`).
    Calculator,
}

/// `purchase = { model = ..., ... }`: a flat table so that every value error carries its own
/// line and column; which keys a model needs is checked in `validate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPurchase {
    pub model: PurchaseModelName,
    pub r: Option<Shape>,
    pub alpha: Option<Shape>,
    pub a: Option<Shape>,
    pub b: Option<Shape>,
    pub s: Option<Shape>,
    pub beta: Option<Shape>,
    pub unit: Option<TimeUnit>,
    pub orders_per_year: Option<Shape>,
    pub repeat_within_year: Option<Probability>,
    pub dropout_per_order: Option<Probability>,
}

/// Spend (order value) model names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpendModelName {
    /// Fader, Hardie & Lee (2005) gamma-gamma.
    GammaGamma,
    /// Log-normal order values given by mean and coefficient of variation.
    Lognormal,
    /// Every order has the same value.
    Fixed,
    /// Gamma-gamma derived from the average order and its spread (issue 14).
    Calculator,
}

/// `spend = { model = ..., ... }`, flat like [`RawPurchase`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpend {
    pub model: SpendModelName,
    pub p: Option<Shape>,
    pub q: Option<Shape>,
    pub gamma: Option<Shape>,
    pub mean: Option<OrderValue>,
    pub cv: Option<Spread>,
    pub average_order: Option<OrderValue>,
    pub sd: Option<Shape>,
    pub between_customer_share: Option<Probability>,
}

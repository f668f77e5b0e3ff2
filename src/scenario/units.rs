//! Validated numeric newtypes for scenario fields.
//!
//! Each is deserialised through `try_from`, so a bad value is rejected by the TOML parser
//! itself, which then reports the line and column of the offending value. Checks are written
//! as `!(x > 0.0)` so that NaN is rejected too.

use serde::Deserialize;

/// A number as a user would write it: `1e308`, not 309 digits.
pub fn show(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e15).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

macro_rules! float_newtype {
    ($(#[$doc:meta])* $name:ident, $check:expr, $allowed:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Deserialize)]
        #[serde(try_from = "f64")]
        pub struct $name(pub f64);

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(x: f64) -> Result<Self, String> {
                let ok: fn(f64) -> bool = $check;
                if ok(x) {
                    Ok($name(x))
                } else {
                    Err(format!(concat!("must be ", $allowed, ", got {}"), show(x)))
                }
            }
        }

        impl $name {
            /// The plain value.
            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl From<$name> for f64 {
            fn from(x: $name) -> f64 {
                x.0
            }
        }
    };
}

float_newtype!(
    /// A finite number > 0 (model shapes and rates).
    Positive,
    |x| x > 0.0 && x.is_finite(),
    "a finite number > 0"
);
float_newtype!(
    /// A finite number >= 0 (money amounts, arrival rates).
    NonNegative,
    |x| x >= 0.0 && x.is_finite(),
    "a finite number >= 0"
);
float_newtype!(
    /// A probability or share in [0, 1].
    Probability,
    |x| (0.0..=1.0).contains(&x),
    "a probability in [0, 1]"
);

// Bounded kinds of value. Each range is what a real store could have, and keeps the engine's
// arithmetic finite: rates and multipliers cannot stall the event clock (a rate so large that
// the next event time rounds to the current one), money and points cannot overflow the
// integer tallies (cents and points in 64 bits), and shapes cannot make a sampler fail.
float_newtype!(
    /// A model shape or rate parameter (BG/NBD, Pareto/NBD, gamma-gamma).
    Shape,
    |x| (1e-6..=1e6).contains(&x),
    "in [1e-6, 1e6] (a model shape or rate)"
);
float_newtype!(
    /// A behaviour multiplier or strength (1 = no effect).
    Multiplier,
    |x| (0.0..=100.0).contains(&x),
    "in [0, 100] (a multiplier or strength)"
);
float_newtype!(
    /// A strictly positive multiplier, curvature or threshold ratio.
    PositiveMultiplier,
    |x| x > 0.0 && x <= 100.0,
    "in (0, 100]"
);
float_newtype!(
    /// An amount of money in currency units.
    Money,
    |x| (0.0..=1e9).contains(&x),
    "in [0, 1e9] (an amount of money)"
);
float_newtype!(
    /// A strictly positive amount of money (e.g. the cash value of one point).
    PositiveMoney,
    |x| x > 0.0 && x <= 1e6,
    "in (0, 1e6] (an amount of money)"
);
float_newtype!(
    /// A mean order value.
    OrderValue,
    |x| x > 0.0 && x <= 1e7,
    "in (0, 1e7] (a mean order value)"
);
float_newtype!(
    /// A number of points.
    Points,
    |x| (0.0..=1e8).contains(&x),
    "in [0, 1e8] (a number of points)"
);
float_newtype!(
    /// A strictly positive number of points.
    PositivePoints,
    |x| x > 0.0 && x <= 1e8,
    "in (0, 1e8] (a number of points)"
);
float_newtype!(
    /// Points earned per currency unit.
    EarnRate,
    |x| (0.0..=1e4).contains(&x),
    "in [0, 1e4] (points per currency unit)"
);
float_newtype!(
    /// A tier threshold in points, currency or orders.
    Threshold,
    |x| (0.0..=1e12).contains(&x),
    "in [0, 1e12]"
);
float_newtype!(
    /// A number of days (a day in the horizon, a delay or a duration).
    Days,
    |x| (0.0..=36_525.0).contains(&x),
    "in [0, 36525] (days; 100 years at most)"
);
float_newtype!(
    /// A strictly positive number of days.
    PositiveDays,
    |x| x > 0.0 && x <= 36_525.0,
    "in (0, 36525] (days; 100 years at most)"
);
float_newtype!(
    /// Events per customer and year.
    PerYear,
    |x| (0.0..=1000.0).contains(&x),
    "in [0, 1000] (events per year)"
);
float_newtype!(
    /// Arrivals per day.
    PerDay,
    |x| (0.0..=1e6).contains(&x),
    "in [0, 1e6] (customers per day)"
);
float_newtype!(
    /// A count of stamps or similar.
    Count,
    |x| (0.0..=1e6).contains(&x),
    "in [0, 1e6]"
);
float_newtype!(
    /// A spread: a coefficient of variation or a log-scale standard deviation.
    Spread,
    |x| (0.0..=100.0).contains(&x),
    "in [0, 100]"
);

/// Longest name accepted for a scenario, segment, category, design, tier or reward.
pub const MAX_NAME_CHARS: usize = 200;

/// Most entries accepted in a list (promotions, rewards, segments, categories, designs):
/// more is not a program a store runs, and the engine's cost grows with them.
pub const MAX_LIST_ENTRIES: usize = 100;

/// An integer count with an upper bound that keeps runs on one machine sane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "i64")]
pub struct Customers(pub u64);

/// Largest initial population accepted (memory does not grow with it; time does).
pub const MAX_CUSTOMERS: u64 = 1_000_000_000;

impl TryFrom<i64> for Customers {
    type Error = String;
    fn try_from(x: i64) -> Result<Self, String> {
        if (0..=MAX_CUSTOMERS as i64).contains(&x) {
            Ok(Customers(x as u64))
        } else {
            Err(format!(
                "must be a whole number from 0 to {MAX_CUSTOMERS}, got {x}"
            ))
        }
    }
}

/// Number of Monte Carlo replicates, 1 to [`MAX_REPLICATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Replicates(pub u32);

/// Largest number of replicates accepted.
pub const MAX_REPLICATES: u32 = 100_000;

impl TryFrom<i64> for Replicates {
    type Error = String;
    fn try_from(x: i64) -> Result<Self, String> {
        if (1..=MAX_REPLICATES as i64).contains(&x) {
            Ok(Replicates(x as u32))
        } else {
            Err(format!(
                "must be a whole number from 1 to {MAX_REPLICATES}, got {x}"
            ))
        }
    }
}

/// Simulation horizon in days, 1 to [`MAX_HORIZON_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct HorizonDays(pub u32);

/// Longest horizon accepted (100 years).
pub const MAX_HORIZON_DAYS: u32 = 36_525;

impl TryFrom<i64> for HorizonDays {
    type Error = String;
    fn try_from(x: i64) -> Result<Self, String> {
        if (1..=MAX_HORIZON_DAYS as i64).contains(&x) {
            Ok(HorizonDays(x as u32))
        } else {
            Err(format!(
                "must be a whole number of days from 1 to {MAX_HORIZON_DAYS}, got {x}"
            ))
        }
    }
}

/// The master seed (any non-negative 64-bit integer TOML can hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Seed(pub u64);

impl TryFrom<i64> for Seed {
    type Error = String;
    fn try_from(x: i64) -> Result<Self, String> {
        u64::try_from(x)
            .map(Seed)
            .map_err(|_| format!("must be a whole number >= 0, got {x}"))
    }
}

/// Convert a money amount in currency units to integer cents (rounded half away from zero).
#[inline]
pub fn to_cents(x: f64) -> i64 {
    round_half_away(x * 100.0)
}

/// Round half away from zero, as `f64::round`, without the libm call that `round`
/// compiles to on baseline x86-64 (6% of a bench-v1 run). Exact for |x| < 2^52.
#[inline]
pub fn round_half_away(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        (x - 0.5) as i64
    }
}

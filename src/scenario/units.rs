//! Validated numeric newtypes for scenario fields.
//!
//! Each is deserialised through `try_from`, so a bad value is rejected by the TOML parser
//! itself, which then reports the line and column of the offending value. Checks are written
//! as `!(x > 0.0)` so that NaN is rejected too.

use serde::Deserialize;

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
                    Err(format!(concat!("must be ", $allowed, ", got {}"), x))
                }
            }
        }

        impl $name {
            /// The plain value.
            pub fn get(self) -> f64 {
                self.0
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

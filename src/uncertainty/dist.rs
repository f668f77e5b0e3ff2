//! The distributions an uncertain scenario value may take, read from their TOML tables
//! (`{ dist = "uniform", low = 0.1, high = 0.4 }`) and drawn by their quantile function.
//!
//! Draws use the inverse CDF of a stratified uniform, so Latin hypercube strata map to
//! quantile strata. Distributions with unbounded support (normal, lognormal, gamma) are
//! truncated at their 0.1% and 99.9% quantiles: that is the support checked against the
//! value's allowed range, and a world never draws beyond it.

use statrs::distribution::{Beta, ContinuousCDF, Gamma, LogNormal, Normal, Triangular};

/// Tail probability cut from each side of an unbounded distribution.
pub const TAIL: f64 = 0.001;

/// One distribution, validated (fields are the TOML keys of the same name).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Uniform on [low, high].
    Uniform { low: f64, high: f64 },
    /// Normal with `mean` and `sd`, truncated at its 0.1% / 99.9% quantiles.
    Normal { mean: f64, sd: f64 },
    /// exp(Normal(ln median, sigma)), truncated likewise.
    LogNormal { median: f64, sigma: f64 },
    /// Beta(alpha, beta) rescaled to [low, high] (default [0, 1]).
    Beta {
        alpha: f64,
        beta: f64,
        low: f64,
        high: f64,
    },
    /// Gamma with `shape` and `scale` (mean shape x scale), truncated likewise.
    Gamma { shape: f64, scale: f64 },
    /// Triangular on [low, high] with its peak at `mode`.
    Triangular { low: f64, mode: f64, high: f64 },
}

/// The names accepted for `dist`, with their parameters (for error messages).
pub const KNOWN: &str = "\"uniform\" (low, high), \"normal\" (mean, sd), \"lognormal\" (median, sigma), \"beta\" (alpha, beta, optional low, high), \"gamma\" (shape, scale), \"triangular\" (low, mode, high)";

impl Dist {
    /// Read a distribution from its table; `Err((key, message))` names the offending key.
    pub fn from_table(t: &toml::Table) -> Result<Dist, (String, String)> {
        let name = match t.get("dist") {
            Some(toml::Value::String(s)) => s.as_str(),
            _ => return Err(("dist".into(), format!("must be a string, one of {KNOWN}"))),
        };
        let allowed: &[&str] = match name {
            "uniform" => &["low", "high"],
            "normal" => &["mean", "sd"],
            "lognormal" => &["median", "sigma"],
            "beta" => &["alpha", "beta", "low", "high"],
            "gamma" => &["shape", "scale"],
            "triangular" => &["low", "mode", "high"],
            other => {
                return Err((
                    "dist".into(),
                    format!("unknown distribution `{other}`; known: {KNOWN}"),
                ))
            }
        };
        for k in t.keys() {
            if k != "dist" && !allowed.contains(&k.as_str()) {
                return Err((
                    k.clone(),
                    format!("`{name}` takes {}, not `{k}`", allowed.join(", ")),
                ));
            }
        }
        let num = |k: &str, default: Option<f64>| -> Result<f64, (String, String)> {
            match t.get(k) {
                Some(toml::Value::Float(x)) if x.is_finite() => Ok(*x),
                Some(toml::Value::Integer(i)) => Ok(*i as f64),
                None => default.ok_or_else(|| (k.to_string(), format!("`{name}` needs `{k}`"))),
                Some(_) => Err((k.to_string(), "must be a finite number".into())),
            }
        };
        let positive = |k: &str| -> Result<f64, (String, String)> {
            let x = num(k, None)?;
            if x > 0.0 {
                Ok(x)
            } else {
                Err((k.to_string(), format!("must be > 0, got {x}")))
            }
        };
        let ordered = |lo: f64, hi: f64| -> Result<(), (String, String)> {
            if lo < hi {
                Ok(())
            } else {
                Err(("high".into(), format!("must be above low ({lo}), got {hi}")))
            }
        };
        let d = match name {
            "uniform" => {
                let (low, high) = (num("low", None)?, num("high", None)?);
                ordered(low, high)?;
                Dist::Uniform { low, high }
            }
            "normal" => Dist::Normal {
                mean: num("mean", None)?,
                sd: positive("sd")?,
            },
            "lognormal" => Dist::LogNormal {
                median: positive("median")?,
                sigma: positive("sigma")?,
            },
            "beta" => {
                let (low, high) = (num("low", Some(0.0))?, num("high", Some(1.0))?);
                ordered(low, high)?;
                Dist::Beta {
                    alpha: positive("alpha")?,
                    beta: positive("beta")?,
                    low,
                    high,
                }
            }
            "gamma" => Dist::Gamma {
                shape: positive("shape")?,
                scale: positive("scale")?,
            },
            _ => {
                let (low, mode, high) = (num("low", None)?, num("mode", None)?, num("high", None)?);
                ordered(low, high)?;
                if !(low..=high).contains(&mode) {
                    return Err((
                        "mode".into(),
                        format!("must be within [low, high] = [{low}, {high}], got {mode}"),
                    ));
                }
                Dist::Triangular { low, mode, high }
            }
        };
        Ok(d)
    }

    /// Whether the support is unbounded (and so truncated at [`TAIL`]).
    fn truncated(&self) -> bool {
        matches!(
            self,
            Dist::Normal { .. } | Dist::LogNormal { .. } | Dist::Gamma { .. }
        )
    }

    /// The value at probability `u` in [0, 1] of the (truncated) distribution: `u` is
    /// mapped onto [TAIL, 1 - TAIL] for an unbounded distribution.
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let p = if self.truncated() {
            TAIL + u * (1.0 - 2.0 * TAIL)
        } else {
            u
        };
        match *self {
            Dist::Uniform { low, high } => low + p * (high - low),
            Dist::Normal { mean, sd } => Normal::new(mean, sd).map_or(mean, |n| n.inverse_cdf(p)),
            Dist::LogNormal { median, sigma } => {
                LogNormal::new(median.ln(), sigma).map_or(median, |n| n.inverse_cdf(p))
            }
            Dist::Beta {
                alpha,
                beta,
                low,
                high,
            } => {
                let x = if p <= 0.0 {
                    0.0
                } else if p >= 1.0 {
                    1.0
                } else {
                    Beta::new(alpha, beta).map_or(0.5, |b| b.inverse_cdf(p))
                };
                low + x * (high - low)
            }
            Dist::Gamma { shape, scale } => {
                Gamma::new(shape, 1.0 / scale).map_or(shape * scale, |g| g.inverse_cdf(p))
            }
            Dist::Triangular { low, mode, high } => {
                Triangular::new(low, high, mode).map_or(mode, |t| t.inverse_cdf(p))
            }
        }
    }

    /// The lowest and highest value a world can draw.
    pub fn support(&self) -> (f64, f64) {
        (self.quantile(0.0), self.quantile(1.0))
    }

    /// The median: the value of the nominal (single-world) run.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// A short description, e.g. `uniform(0.1, 0.4)`.
    pub fn describe(&self) -> String {
        let r = crate::report::round_reported;
        match *self {
            Dist::Uniform { low, high } => format!("uniform({}, {})", r(low), r(high)),
            Dist::Normal { mean, sd } => format!("normal(mean {}, sd {})", r(mean), r(sd)),
            Dist::LogNormal { median, sigma } => {
                format!("lognormal(median {}, sigma {})", r(median), r(sigma))
            }
            Dist::Beta {
                alpha,
                beta,
                low,
                high,
            } => format!(
                "beta({}, {}) on [{}, {}]",
                r(alpha),
                r(beta),
                r(low),
                r(high)
            ),
            Dist::Gamma { shape, scale } => {
                format!("gamma(shape {}, scale {})", r(shape), r(scale))
            }
            Dist::Triangular { low, mode, high } => {
                format!("triangular({}, {}, {})", r(low), r(mode), r(high))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn quantiles_and_errors() {
        let u = Dist::from_table(&table("dist = \"uniform\"\nlow = 1\nhigh = 3")).unwrap();
        assert_eq!(u.quantile(0.25), 1.5);
        assert_eq!(u.support(), (1.0, 3.0));
        let n = Dist::from_table(&table("dist = \"normal\"\nmean = 0\nsd = 1")).unwrap();
        assert!((n.median()).abs() < 1e-9);
        assert!((n.support().1 - 3.0902).abs() < 1e-3);
        let t =
            Dist::from_table(&table("dist = \"triangular\"\nlow = 0\nmode = 1\nhigh = 2")).unwrap();
        assert!((t.median() - 1.0).abs() < 1e-9);
        let b = Dist::from_table(&table("dist = \"beta\"\nalpha = 2\nbeta = 2")).unwrap();
        assert!((b.median() - 0.5).abs() < 1e-6);
        let g = Dist::from_table(&table("dist = \"gamma\"\nshape = 1\nscale = 2")).unwrap();
        assert!((g.median() - 2.0 * 2f64.ln()).abs() < 1e-6);
        let l = Dist::from_table(&table("dist = \"lognormal\"\nmedian = 2\nsigma = 0.5")).unwrap();
        assert!((l.median() - 2.0).abs() < 1e-9);
        let e = Dist::from_table(&table("dist = \"cauchy\"")).unwrap_err();
        assert!(e.1.contains("unknown distribution `cauchy`"), "{e:?}");
        let e = Dist::from_table(&table("dist = \"uniform\"\nlow = 1\nhi = 3")).unwrap_err();
        assert_eq!(e.0, "hi");
        let e = Dist::from_table(&table("dist = \"normal\"\nmean = 1\nsd = -1")).unwrap_err();
        assert_eq!(e.0, "sd");
    }
}

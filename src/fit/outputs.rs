//! What `loyalsim fit` writes for `loyalsim run` (issue 14): the per-customer table
//! (`--base`) and a runnable scenario (`--scenario`) that simulates those customers from
//! their fitted state.
//!
//! The base table is the lifetimes layout plus the numbers lifetimes users know, all under
//! the written purchase model at the fitted parameters: `p_alive` (P(alive | x, t_x, T)),
//! `expected_purchases` (E[X(T, T + h] | x, t_x, T] over the scenario's horizon h),
//! `expected_order_value` (gamma-gamma E[order value | x, mean spend]) and `clv`
//! (expected purchases x expected order value x margin over the horizon, undiscounted;
//! lifetimes' `customer_lifetime_value` discounts monthly, so its figures are lower by the
//! discount factor).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::posterior::{self, Model};
use super::rfm::Rfm;
use super::FitReport;

/// The written purchase model and its parameters.
pub fn written_model(rep: &FitReport) -> (Model, &[f64]) {
    let model = if rep.use_pareto {
        Model::ParetoNbd
    } else {
        Model::BgNbd
    };
    (model, &rep.chosen().params)
}

/// The per-customer table: `customer_id,frequency,recency,T,monetary_value,p_alive,
/// expected_purchases,expected_order_value,clv` (times in weeks, the fit's unit).
pub fn base_csv(rep: &FitReport, data: &[Rfm], horizon_weeks: f64, margin: f64) -> Vec<u8> {
    let (m, p) = written_model(rep);
    let mut s = String::from(
        "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases,expected_order_value,clv\n",
    );
    for c in data {
        let alive = posterior::p_alive(m, p, c.frequency, c.recency, c.t);
        let n = posterior::conditional_purchases(m, p, c.frequency, c.recency, c.t, horizon_weeks);
        let value = match &rep.gamma_gamma {
            Some(g) => posterior::gamma_gamma_mean(&g.params, c.frequency, c.monetary),
            None => super::FALLBACK_ORDER_VALUE,
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            crate::report::csv::text(&c.id),
            c.frequency,
            c.recency,
            c.t,
            c.monetary,
            alive,
            n,
            value,
            n * value * margin
        );
    }
    s.into_bytes()
}

/// The base table's path as the scenario should name it: relative to the scenario's folder
/// when both are in the same one, else absolute.
pub fn path_from_scenario(scenario: &Path, base: &Path) -> String {
    let dir = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir(scenario) == dir(base) {
        if let Some(name) = base.file_name() {
            return name.to_string_lossy().into_owned();
        }
    }
    std::path::absolute(base)
        .unwrap_or_else(|_| PathBuf::from(base))
        .display()
        .to_string()
}

/// What a written scenario needs besides the fit.
#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    /// The base table as the scenario names it.
    pub base_rfm: String,
    /// Horizon in days (the holdout length, else 730).
    pub horizon_days: u32,
    /// New customers per day, when `--acquisition` asks for them.
    pub acquisition_per_day: Option<f64>,
    /// The segments' TOML (from [`super::render_segment`]).
    pub segments: String,
    /// Name of the segment every base row follows (None: the `segment` column of the table).
    pub segment: Option<String>,
}

/// A runnable scenario: the base, the fitted segment(s), a control and the default designs.
pub fn scenario_toml(rep: &FitReport, spec: &ScenarioSpec) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Written by `loyalsim fit` from {}{}: the store's own customers from their fitted\n\
         # state (issue 14). The control simulates what the model predicts for them; the other\n\
         # designs are loyalsim's defaults with their segment- and category-specific settings\n\
         # left out. Edit freely; `loyalsim check` this file after editing.",
        rep.source,
        rep.calibration_end
            .as_ref()
            .map_or(String::new(), |c| format!(", calibration end {c}"))
    );
    let _ = writeln!(
        s,
        "name = {}",
        super::toml_str(&format!("{}: fitted base", rep.source))
    );
    let _ = writeln!(s, "seed = 1\nreplicates = 20");
    let _ = writeln!(
        s,
        "horizon_days = {}   # {}",
        spec.horizon_days,
        if rep.holdout_total.is_some() {
            "the holdout length"
        } else {
            "two years (no calibration end given)"
        }
    );
    let _ = writeln!(s, "period = \"week\"\n");
    let _ = writeln!(s, "[population]");
    let _ = writeln!(
        s,
        "customers = 0   # no synthetic customers on top of the base"
    );
    if let Some(per_day) = spec.acquisition_per_day {
        let _ = writeln!(
            s,
            "\n# --acquisition: first purchases per day in the calibration window of the log.\n\
             [population.acquisition]\nper_day = {per_day}"
        );
    }
    let _ = writeln!(s, "\n[population.base]");
    let _ = writeln!(s, "rfm = {}", super::toml_str(&spec.base_rfm));
    let _ = writeln!(s, "unit = \"week\"");
    match &spec.segment {
        Some(seg) => {
            let _ = writeln!(s, "segment = {}", super::toml_str(seg));
        }
        None => {
            let _ = writeln!(s, "segment_col = \"segment\"");
        }
    }
    let _ = writeln!(s, "\n{}", spec.segments);
    s.push_str(&default_designs());
    s
}

/// The `[[designs]]` of the embedded default scenario, without the settings that name the
/// default's own segments and categories (`segments = {...}`, `categories = {...}`).
pub fn default_designs() -> String {
    let src = crate::scenario::DEFAULT_SCENARIO;
    let start = src.find("[[designs]]").unwrap_or(src.len());
    let mut text = src[start..].to_string();
    for key in [", segments = {", ", categories = {"] {
        text = strip_inline(&text, key);
    }
    // The default's uncertain inputs are written at their median: the fitted scenario has
    // no `[uncertainty]` table of its own.
    crate::uncertainty::at_medians(&text, crate::scenario::DEFAULT_ORIGIN).unwrap_or(text)
}

/// Remove every `, key = { ... }` (balanced braces) from `text`.
fn strip_inline(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i]);
        let mut depth = 0usize;
        let mut end = rest.len();
        for (j, ch) in rest[i..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_balanced_tables() {
        let t = "a = { x = 1, segments = { \"b\" = { y = 2 } } }\nc = 3";
        assert_eq!(strip_inline(t, ", segments = {"), "a = { x = 1 }\nc = 3");
    }
}

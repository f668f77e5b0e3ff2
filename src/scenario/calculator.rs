//! Calculator-style segment inputs for stores without logs (issue 14): a segment given by
//! what a merchant knows, turned into BG/NBD and gamma-gamma parameters by the method of
//! moments (closed forms and one bisection; no simulated fit).
//!
//! Purchases, `purchase = { model = "calculator", orders_per_year = 2.1,
//! repeat_within_year = 0.3 }`: a new customer's expected orders in their first year
//! (the first order included) and the share of new customers who buy again within a year.
//! The BG/NBD has four parameters and these are two moments, so the dropout distribution
//! is fixed: p ~ Beta with mean `dropout_per_order` (default 0.25) and concentration
//! a + b = 3.22, both as fitted on CDNOW (Fader, Hardie & Lee 2005: a = 0.793, b = 2.426).
//! Then, with t = one year in weeks:
//!
//! - P(no repeat in (0, t]) = (alpha / (alpha + t))^r, whatever the dropout (a customer
//!   only drops out at a repeat purchase), so the repeat share fixes alpha given r:
//!   alpha = t c / (1 - c) with c = (1 - repeat_within_year)^(1 / r);
//! - E[X(t)] (FHL 2005 eq. 9) = orders_per_year - 1 fixes r, found by bisection on ln r.
//!
//! Spend, `spend = { model = "calculator", average_order = 60, sd = 40 }`: the mean and
//! standard deviation of order values. Under gamma-gamma the order-value variance splits
//! into a between-customer part (mean^2 / (q - 2)) and a within-customer part; the split is
//! `between_customer_share` (default 0.5), so with cv^2 = (sd / mean)^2 and share w:
//! q = 2 + 1 / (w cv^2), p = (q - 1) / ((q - 2) (1 - w) cv^2), gamma = mean (q - 1) / p.

use super::raw::{RawPurchase, RawSpend};
use super::{Checker, PurchaseModel, SpendModel, TimeUnit};
use crate::fit::models::bgnbd_expected;
use crate::Result;

/// Concentration a + b of the dropout Beta (CDNOW's fit).
pub const DROPOUT_CONCENTRATION: f64 = 3.22;
/// Default mean dropout probability per repeat purchase (CDNOW's fit: 0.246).
pub const DEFAULT_DROPOUT_PER_ORDER: f64 = 0.25;
/// Default share of the order-value variance that lies between customers.
pub const DEFAULT_BETWEEN_CUSTOMER_SHARE: f64 = 0.5;
/// One year in weeks, the unit of the derived BG/NBD.
const YEAR_WEEKS: f64 = 365.25 / 7.0;
/// Range of r searched (beyond it the model is degenerate or the series unreliable).
const R_RANGE: (f64, f64) = (0.02, 200.0);

/// BG/NBD `[r, alpha, a, b]` per week with repeat share `q` in a year and `dropout` mean.
fn alpha_for(r: f64, q: f64) -> f64 {
    let c = (1.0 - q).powf(1.0 / r);
    YEAR_WEEKS * c / (1.0 - c)
}

/// Expected repeat purchases in a customer's first year at shape `r`.
fn first_year_repeats(r: f64, q: f64, a: f64, b: f64) -> f64 {
    bgnbd_expected(&[r, alpha_for(r, q), a, b], YEAR_WEEKS)
}

/// Solve the BG/NBD of the module doc; `Err` names the reachable range of orders.
pub fn derive_bgnbd(
    orders_per_year: f64,
    q: f64,
    dropout: f64,
) -> std::result::Result<[f64; 4], String> {
    let mut a = dropout * DROPOUT_CONCENTRATION;
    if (a - 1.0).abs() < 1e-6 {
        // E[X(t)] has a removable singularity at a = 1; step aside from it.
        a = 1.0 - 1e-6;
    }
    let b = DROPOUT_CONCENTRATION - a;
    let want = orders_per_year - 1.0;
    let (lo, hi) = (R_RANGE.0.ln(), R_RANGE.1.ln());
    let f = |ln_r: f64| first_year_repeats(ln_r.exp(), q, a, b) - want;
    let (flo, fhi) = (f(lo), f(hi));
    if !(flo.is_finite() && fhi.is_finite()) || flo.signum() == fhi.signum() {
        let (x, y) = (1.0 + flo + want, 1.0 + fhi + want);
        return Err(format!(
            "with {:.0}% of customers buying again within a year and dropout {dropout} per order, a BG/NBD base averages between {:.2} and {:.2} orders in a customer's first year; {orders_per_year} is outside that range",
            100.0 * q,
            x.min(y),
            x.max(y)
        ));
    }
    let (mut l, mut h) = (lo, hi);
    for _ in 0..100 {
        let m = 0.5 * (l + h);
        if f(m).signum() == flo.signum() {
            l = m;
        } else {
            h = m;
        }
    }
    let r = (0.5 * (l + h)).exp();
    Ok([r, alpha_for(r, q), a, b])
}

/// Gamma-gamma `[p, q, gamma]` of the module doc.
pub fn derive_gamma_gamma(mean: f64, sd: f64, between: f64) -> [f64; 3] {
    let cv2 = (sd / mean).powi(2);
    let q = 2.0 + 1.0 / (between * cv2);
    let p = (q - 1.0) / ((q - 2.0) * (1.0 - between) * cv2);
    [p, q, mean * (q - 1.0) / p]
}

/// Check a calculator purchase block and derive its model, with a note of what was done.
pub(crate) fn purchase(
    ck: &Checker,
    field: &dyn Fn(&str) -> String,
    p: &RawPurchase,
) -> Result<(PurchaseModel, String)> {
    let m = "calculator";
    let takes = "orders_per_year, repeat_within_year, dropout_per_order";
    for (v, k) in [
        (p.r, "r"),
        (p.alpha, "alpha"),
        (p.a, "a"),
        (p.b, "b"),
        (p.s, "s"),
        (p.beta, "beta"),
    ] {
        ck.forbid(&v, field(k), m, takes)?;
    }
    ck.forbid(&p.unit, field("unit"), m, takes)?;
    let orders = ck
        .require(p.orders_per_year, field("orders_per_year"), m)?
        .get();
    let q = ck
        .require(p.repeat_within_year, field("repeat_within_year"), m)?
        .get();
    if !(q > 0.0 && q < 1.0) {
        return Err(ck.err(
            field("repeat_within_year"),
            format!("must be a share strictly between 0 and 1, got {q}"),
        ));
    }
    if orders <= 1.0 || orders > 10_000.0 {
        return Err(ck.err(
            field("orders_per_year"),
            format!("must be above 1 (the first order counts) and at most 10000, got {orders}"),
        ));
    }
    let dropout = p
        .dropout_per_order
        .map_or(DEFAULT_DROPOUT_PER_ORDER, |x| x.get());
    if !(dropout > 0.0 && dropout < 1.0) {
        return Err(ck.err(
            field("dropout_per_order"),
            format!("must be a probability strictly between 0 and 1, got {dropout}"),
        ));
    }
    let [r, alpha, a, b] =
        derive_bgnbd(orders, q, dropout).map_err(|e| ck.err(field("orders_per_year"), e))?;
    let note = format!(
        "purchase derived by moments from orders_per_year = {orders}, repeat_within_year = {q} (dropout per order {dropout}, a + b = {DROPOUT_CONCENTRATION}): bg-nbd r = {r:.4}, alpha = {alpha:.4}, a = {a:.4}, b = {b:.4} per week"
    );
    Ok((
        PurchaseModel::BgNbd {
            r,
            alpha,
            a,
            b,
            unit: TimeUnit::Week,
        },
        note,
    ))
}

/// Check a calculator spend block and derive its gamma-gamma, with a note.
pub(crate) fn spend(
    ck: &Checker,
    field: &dyn Fn(&str) -> String,
    s: &RawSpend,
) -> Result<(SpendModel, String)> {
    let m = "calculator";
    let takes = "average_order, sd, between_customer_share";
    for (v, k) in [(s.p, "p"), (s.q, "q"), (s.gamma, "gamma")] {
        ck.forbid(&v, field(k), m, takes)?;
    }
    ck.forbid(&s.mean, field("mean"), m, takes)?;
    ck.forbid(&s.cv, field("cv"), m, takes)?;
    let mean = ck
        .require(s.average_order, field("average_order"), m)?
        .get();
    let sd = ck.require(s.sd, field("sd"), m)?.get();
    if mean > 1e7 || sd > 100.0 * mean {
        return Err(ck.err(field("sd"), format!("average_order must be at most 1e7 and sd at most 100 x average_order, got {mean} and {sd}")));
    }
    let w = s
        .between_customer_share
        .map_or(DEFAULT_BETWEEN_CUSTOMER_SHARE, |x| x.get());
    if !(w > 0.0 && w < 1.0) {
        return Err(ck.err(
            field("between_customer_share"),
            format!("must be a share strictly between 0 and 1, got {w}"),
        ));
    }
    let [p, q, gamma] = derive_gamma_gamma(mean, sd, w);
    let note = format!(
        "spend derived by moments from average_order = {mean}, sd = {sd} ({:.0}% of the variance between customers): gamma-gamma p = {p:.4}, q = {q:.4}, gamma = {gamma:.4}",
        100.0 * w
    );
    Ok((SpendModel::GammaGamma { p, q, gamma }, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_models_meet_their_moments() {
        let [r, alpha, a, b] = derive_bgnbd(2.1, 0.3, 0.25).unwrap();
        let repeat = 1.0 - (alpha / (alpha + YEAR_WEEKS)).powf(r);
        assert!((repeat - 0.3).abs() < 1e-9, "{repeat}");
        let orders = 1.0 + bgnbd_expected(&[r, alpha, a, b], YEAR_WEEKS);
        assert!((orders - 2.1).abs() < 1e-6, "{orders}");
        let [p, q, g] = derive_gamma_gamma(60.0, 40.0, 0.5);
        let mean = p * g / (q - 1.0);
        let var = p * g * g * (q - 1.0 + p) / ((q - 1.0).powi(2) * (q - 2.0));
        assert!((mean - 60.0).abs() < 1e-9 && (var.sqrt() - 40.0).abs() < 1e-9);
        assert!(derive_bgnbd(50.0, 0.01, 0.25).is_err());
    }
}

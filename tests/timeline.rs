//! Issue 17: the program over time. A design's `start_day` delays enrolment, earning and
//! program costs; before it the design's books equal the control's to the cent.

use crate::programs::with_designs;
use crate::util::{run, scenario};

/// A points design with launch and platform costs that launches on day 183 of 365.
const LATE: &str = "[[designs]]\nname = \"late\"\nkind = \"points\"\nstart_day = 183\ncosts = { launch = 5000.0, platform_per_month = 300.0 }\nearn = { per_currency_unit = 1.0 }\nredemption = { rewards = [ { name = \"r\", points = 100, face_value = 5.0 } ] }\n";

#[test]
fn before_start_day_the_design_books_equal_the_control() {
    let res = run(&scenario(&with_designs(LATE, 2000, 3, 365)));
    // Months of 30.44 days: day 183 falls in period 6, so periods 0..=5 are pre-launch.
    for r in &res.tallies {
        let (c, d) = (&r[0], &r[1]);
        for p in 0..6 {
            let (cp, dp) = (&c.periods[p], &d.periods[p]);
            assert_eq!(cp.orders, dp.orders, "period {p}");
            assert_eq!(cp.revenue_cents, dp.revenue_cents, "period {p}");
            assert_eq!(cp.margin_cents, dp.margin_cents, "period {p}");
            assert_eq!(cp.churned, dp.churned, "period {p}");
            assert_eq!(dp.members_joined, 0, "period {p}");
            assert_eq!(dp.points_issued, 0, "period {p}");
            assert_eq!(dp.program_cost_cents, 0, "period {p}");
            assert_eq!(dp.reward_cost_cents, 0, "period {p}");
        }
        // After launch the program acts: members join (base customers at their first
        // checkout after launch too), points are issued, the launch cost lands on day 183.
        let joined: u64 = d.periods[6..].iter().map(|p| p.members_joined).sum();
        assert!(joined > 500, "joined after launch: {joined}");
        assert!(d.periods[6].program_cost_cents >= 500_000);
        assert!(d.periods[6..].iter().all(|p| p.points_issued > 0));
        // Platform cost for the 182 days left, not the whole year: 300 x 12 x 182/365.25.
        let platform = d.program_cost_cents - 500_000;
        assert!((platform - 179_384).abs() <= 12, "platform cost {platform}");
    }
}

#[test]
fn start_day_zero_is_the_default() {
    let early = LATE.replace("start_day = 183", "start_day = 0");
    let none = LATE.replace("start_day = 183\n", "");
    let a = run(&scenario(&with_designs(&early, 300, 2, 200)));
    let b = run(&scenario(&with_designs(&none, 300, 2, 200)));
    for (x, y) in a.tallies.iter().zip(&b.tallies) {
        assert_eq!(x[1].net_profit_cents(), y[1].net_profit_cents());
        assert_eq!(x[1].points_issued, y[1].points_issued);
    }
}

/// A points design with review points so frequent they pay for most rewards, and a strong
/// post-reward dropout so the effect is visible.
fn reviews(after_event_points: bool) -> String {
    format!("[[designs]]\nname = \"reviews\"\nkind = \"points\"\nearn = {{ per_currency_unit = 1.0 }}\nevents = {{ review = {{ per_year = 12.0, points = 100 }} }}\nredemption = {{ rewards = [ {{ name = \"r\", points = 100, face_value = 5.0 }} ] }}\nbehaviour = {{ post_reward = {{ dropout = 3.0, dropout_days = 60, dip = 1.0, rewarded_lift = 1.0, after_event_points = {after_event_points} }} }}\n")
}

#[test]
fn event_bonus_rewards_do_not_trigger_the_post_reward_reset_by_default() {
    // Same customers and draws; only whether review-funded rewards start the reset differs.
    // With it, dropout x3 for 60 days after most rewards: fewer customers stay active.
    let active = |flag: bool| {
        let res = run(&scenario(&with_designs(&reviews(flag), 3000, 4, 365)));
        let v: Vec<f64> = res
            .tallies
            .iter()
            .map(|r| r[1].churned as f64 / r[1].customers() as f64)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (default, old) = (active(false), active(true));
    // Churn shares are ~0.3-0.5 with binomial SE ~ sqrt(0.25 / 12000) ~ 0.005 per arm, and
    // the arms are paired; the reset after review-funded rewards adds far more than 4 SE.
    assert!(
        old - default > 0.02,
        "churn share: default {default}, old {old}"
    );
}

#[test]
fn returned_orders_refund_revenue_and_earn_no_points() {
    // 20% of every segment's orders come back: revenue and points issued fall by ~20%
    // against the same customers (same behaviour stream) without returns.
    let design = "[[designs]]\nname = \"p\"\nkind = \"points\"\nbehaviour = { model = \"fixed-lift\" }\nearn = { per_currency_unit = 1.0 }\nredemption = { probability = 0.0, rewards = [ { name = \"r\", points = 100, face_value = 5.0 } ] }\n";
    let base = with_designs(design, 3000, 2, 365);
    let with = base
        .replace("margin = 0.4\n", "margin = 0.4\nreturn_rate = 0.2\n")
        .replace("margin = 0.3\n", "margin = 0.3\nreturn_rate = 0.2\n");
    let (a, b) = (run(&scenario(&base)), run(&scenario(&with)));
    for (x, y) in a.tallies.iter().zip(&b.tallies) {
        assert_eq!(x[0].orders, y[0].orders, "returns do not change buying");
        for d in 0..2 {
            let kept = y[d].revenue_cents as f64 / x[d].revenue_cents as f64;
            // ~15k orders: SE of the kept share ~ sqrt(0.16 / 15000) x spend CV ~ 0.005.
            assert!((kept - 0.8).abs() < 0.025, "design {d}: kept {kept}");
        }
        let pts = y[1].points_issued as f64 / x[1].points_issued as f64;
        assert!((pts - 0.8).abs() < 0.025, "points kept {pts}");
    }
}

/// Monthly factors of a store with a December peak and a quiet February (mean 1.1; the
/// engine divides by it).
const MONTHS: [f64; 12] = [0.8, 0.5, 0.9, 1.0, 1.0, 1.1, 1.0, 0.9, 1.0, 1.1, 1.5, 2.4];

/// One Pareto/NBD segment whose customers practically never drop out (so every month's
/// expected orders have a closed form), with or without seasonality, a control and a
/// points design whose members (everyone, from day 0) buy 1.5x as often.
fn seasonal(season: &str, customers: u64) -> String {
    format!(
        r#"name = "seasons"
seed = 5
replicates = 1
horizon_days = 365
period = "month"
[population]
customers = {customers}
[[population.segments]]
name = "a"
share = 1.0
margin = 0.4
{season}
purchase = {{ model = "pareto-nbd", r = 2.0, alpha = 4.0, s = 0.01, beta = 1000.0, unit = "week" }}
spend = {{ model = "fixed", mean = 20.0 }}
[[designs]]
name = "control"
kind = "none"
[[designs]]
name = "lift"
kind = "points"
enrolment = {{ mode = "auto" }}
behaviour = {{ model = "fixed-lift" }}
response = {{ purchase_rate = 1.5 }}
"#
    )
}

fn season_line() -> String {
    let f: Vec<String> = MONTHS.iter().map(|x| x.to_string()).collect();
    format!(
        "seasonality = {{ by = \"month\", factors = [{}] }}",
        f.join(", ")
    )
}

#[test]
fn monthly_orders_follow_the_seasonal_factors_for_control_and_designs() {
    let n = 20_000u64;
    let res = run(&scenario(&seasonal(&season_line(), n)));
    let mean: f64 = MONTHS.iter().sum::<f64>() / 12.0;
    // Rate ~ Gamma(2, 4) per week: E = 0.5/7 a day, Var = 2/16/49 a day squared.
    let (e_rate, v_rate) = (0.5 / 7.0, 2.0 / 16.0 / 49.0);
    let month = 365.25 / 12.0;
    for (d, lift) in [(0usize, 1.0), (1, 1.5)] {
        let t = &res.tallies[0][d];
        for (k, f) in MONTHS.iter().enumerate() {
            // The 12th period ends at the horizon (day 365), a quarter day short.
            let days = if k == 11 { 365.0 - 11.0 * month } else { month };
            let x = lift * f / mean * days;
            // Mixed Poisson: per-customer variance E[rate] x + Var(rate) x^2.
            let expected = n as f64 * e_rate * x + if k == 0 { n as f64 } else { 0.0 };
            let se = (n as f64 * (e_rate * x + v_rate * x * x)).sqrt();
            let got = t.periods[k].orders as f64;
            assert!(
                (got - expected).abs() < 4.0 * se,
                "design {d} month {k}: {got} orders, expected {expected:.0} +- {se:.0}"
            );
        }
    }
}

#[test]
fn seasonality_moves_orders_within_the_year_but_keeps_the_yearly_total() {
    let n = 20_000u64;
    let flat = run(&scenario(&seasonal("", n)));
    let season = run(&scenario(&seasonal(&season_line(), n)));
    for d in 0..2 {
        let (a, b) = (&flat.tallies[0][d], &season.tallies[0][d]);
        // The same Exp(1) budgets on another clock: the yearly counts differ only by the
        // purchases near the year's end, a few per hundred customers; SE of the paired
        // difference well under 1% of the ~1.3 / 1.9 orders per customer and year.
        let (x, y) = (a.orders as f64, b.orders as f64);
        assert!(
            (y / x - 1.0).abs() < 0.01,
            "design {d}: {x} flat vs {y} seasonal"
        );
        // ...while December and February differ by the factors.
        let dec = b.periods[11].orders as f64 / a.periods[11].orders as f64;
        let feb = b.periods[1].orders as f64 / a.periods[1].orders as f64;
        assert!((dec - 2.4 / 1.1).abs() < 0.1, "design {d}: December x{dec}");
        assert!(
            (feb - 0.5 / 1.1).abs() < 0.05,
            "design {d}: February x{feb}"
        );
    }
}

#[test]
fn a_closed_weekday_gets_no_orders() {
    // Factor 0 on day 6 of each week (a store closed on that day): no repeat order falls on
    // it, under the control or the design; the weekly total stays the flat one.
    let src = seasonal(
        "seasonality = { by = \"weekday\", factors = [1, 1, 1, 1, 1, 1, 0] }",
        500,
    )
    .replace("period = \"month\"", "period = \"week\"");
    let sc = scenario(&src);
    let ctx = loyalsim::engine::customer::Context::new(&sc);
    for id in 0..500 {
        let (_, history) = ctx.control_history(0, id);
        for (t, _) in history.iter().skip(1) {
            assert!(
                t.floor() as i64 % 7 != 6,
                "customer {id} bought on closed day {t}"
            );
        }
    }
}

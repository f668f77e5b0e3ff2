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

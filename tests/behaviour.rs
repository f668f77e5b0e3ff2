//! Issue 4: the behavioural mechanisms reproduce published findings, each through its
//! shipped scenario. Tolerances combine the Monte Carlo standard error (reported) with the
//! precision the source gives ("about 20%", "34% vs 19%").

use std::path::Path;

use loyalsim::metrics::RunResults;
use loyalsim::scenario::Scenario;

use crate::util::{run, scenario};

fn shipped(name: &str) -> (Scenario, RunResults) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let sc = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let res = run(&sc);
    (sc, res)
}

fn metric(res: &RunResults, design: usize, name: &str) -> loyalsim::stats::Summary {
    res.designs[design].metrics[RunResults::metric_index(name).unwrap()]
}

fn first_last_fall(res: &RunResults, design: usize) -> (f64, f64, f64) {
    let curve = res.designs[design]
        .progress_curve
        .as_ref()
        .expect("a goal-gradient curve");
    let first = curve.first().unwrap().mean_days;
    let last = curve.last().unwrap().mean_days;
    (first, last, 1.0 - last / first)
}

#[test]
fn coffee_card_goal_gradient_kivetz_2006() {
    // Kivetz, Urminsky & Zheng (2006): ~20% (0.7 days) shorter intervals at the last stamp.
    let (_, res) = shipped("coffee-punch-card.toml");
    let (first, last, fall) = first_last_fall(&res, 1);
    let n = res.designs[1].progress_curve.as_ref().unwrap()[0].n;
    eprintln!("coffee card: stamp 1 -> 2 {first:.3} days, stamp 9 -> 10 {last:.3} days, fall {:.1}% over {n} completed cards", 100.0 * fall);
    assert!((0.17..0.23).contains(&fall), "fall {fall}");
    assert!((0.5..0.9).contains(&(first - last)), "{first} - {last}");
    // Monotone: each stamp brings the reward closer and the next visit sooner.
    let curve = res.designs[1].progress_curve.as_ref().unwrap();
    assert!(curve.windows(2).all(|w| w[1].mean_days < w[0].mean_days));
}

#[test]
fn without_the_goal_gradient_the_curve_is_flat() {
    // The same card under the fixed-lift model: no gradient (this is the check that the
    // test above can fail).
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/coffee-punch-card.toml"),
    )
    .unwrap()
    .replace(
        "behaviour = { model = \"literature\" }",
        "behaviour = { model = \"fixed-lift\" }",
    );
    let res = run(&scenario(&src));
    let (_, _, fall) = first_last_fall(&res, 1);
    eprintln!("coffee card, fixed-lift model: fall {:.1}%", 100.0 * fall);
    assert!(fall.abs() < 0.04, "fall {fall}");
}

#[test]
fn endowed_progress_nunes_dreze_2006() {
    // 10-stamp card with 2 free stamps completed by ~34%, plain 8-stamp card by ~19%.
    let (_, res) = shipped("endowed-progress.toml");
    let plain = metric(&res, 1, "card_completion_rate");
    let endowed = metric(&res, 2, "card_completion_rate");
    eprintln!(
        "completion: plain {:?}, endowed {:?}",
        plain.mean, endowed.mean
    );
    let (p, e) = (plain.mean.unwrap(), endowed.mean.unwrap());
    assert!((p - 0.19).abs() < 0.03, "plain {p}");
    assert!((e - 0.34).abs() < 0.04, "endowed {e}");
    // The paired difference is far outside its CI.
    assert!(endowed.ci95.unwrap()[0] > plain.ci95.unwrap()[1]);
}

#[test]
fn discount_trap_cashback_loses_points_does_not() {
    let (sc, res) = shipped("discount-trap.toml");
    let cashback = sc
        .designs
        .iter()
        .position(|d| d.name == "cashback-led")
        .unwrap();
    let points = sc.designs.iter().position(|d| d.name == "points").unwrap();
    let inc = RunResults::metric_index("net_profit").unwrap();
    let cash_inc = res.designs[cashback].vs_control[inc];
    let pts_inc = res.designs[points].vs_control[inc];
    // Revenue lifts at first: the first six months, every replicate.
    for rep in &res.tallies {
        let early = |d: usize| {
            rep[d].periods[..6]
                .iter()
                .map(|p| p.revenue_cents)
                .sum::<i64>()
        };
        assert!(early(cashback) > early(sc.control));
    }
    eprintln!(
        "two-year incremental net profit: cashback-led {:?} {:?}, points {:?} {:?}",
        cash_inc.mean, cash_inc.ci95, pts_inc.mean, pts_inc.ci95
    );
    assert!(
        cash_inc.ci95.unwrap()[1] < 0.0,
        "cashback-led must lose money within two years"
    );
    assert!(pts_inc.ci95.unwrap()[0] > 0.0, "the points design must not");
    // The trap works through deal seekers: more of them, and they leave after the cut.
    assert!(
        res.designs[cashback].metrics[RunResults::metric_index("customers_acquired").unwrap()].mean
            > res.designs[points].metrics[RunResults::metric_index("customers_acquired").unwrap()]
                .mean
    );
}

#[test]
fn paid_membership_cirp_frequencies() {
    // CIRP: members ~25 orders a year, others ~14, at the same basket.
    let (_, res) = shipped("paid-membership.toml");
    let members = metric(&res, 1, "member_orders_per_year").mean.unwrap();
    let others = metric(&res, 1, "nonmember_orders_per_year").mean.unwrap();
    let aov = metric(&res, 1, "aov").mean.unwrap();
    eprintln!(
        "paid membership: members {members:.1} vs others {others:.1} orders a year, AOV {aov:.2}"
    );
    assert!((members - 25.0).abs() < 2.5, "members {members}");
    assert!((others - 14.0).abs() < 2.0, "others {others}");
    assert!((aov - 50.0).abs() < 1.0, "same basket: {aov}");
    // The naive gap is mostly self-selection.
    let naive = metric(&res, 1, "naive_member_lift").mean.unwrap();
    let causal = metric(&res, 1, "causal_member_lift").mean.unwrap();
    assert!(naive > 3.0 * causal && causal > 0.0, "{naive} vs {causal}");
}

#[test]
fn self_selection_naive_several_times_causal_leenheer_2007() {
    let (_, res) = shipped("self-selection.toml");
    let naive = metric(&res, 1, "naive_member_lift");
    let causal = metric(&res, 1, "causal_member_lift");
    let ratio = metric(&res, 1, "naive_to_causal_ratio");
    eprintln!(
        "self-selection: naive {:?} causal {:?} ratio {:?}",
        naive.mean, causal.mean, ratio.mean
    );
    assert!(causal.ci95.unwrap()[0] > 0.0, "a small but real effect");
    let r = ratio.mean.unwrap();
    assert!(
        (4.0..12.0).contains(&r),
        "ratio {r} (Leenheer et al.: about 7)"
    );
}

#[test]
fn buying_more_often_does_not_shorten_life_under_bgnbd() {
    // A fixed 50% purchase-rate lift must not change calendar-time dropout.
    let design = "[[designs]]\nname = \"lift\"\nkind = \"points\"\nbehaviour = { model = \"fixed-lift\" }\nresponse = { purchase_rate = 1.5 }\nearn = { per_currency_unit = 0.0 }\nredemption = { rewards = [ { name = \"r\", points = 100, face_value = 1.0 } ] }\n";
    let src = crate::util::one_segment(
        "{ model = \"bg-nbd\", r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, unit = \"week\" }",
        20000,
        10,
        730,
    ) + design;
    let res = run(&scenario(&src));
    let share = |d: usize| -> Vec<f64> {
        res.tallies
            .iter()
            .map(|r| r[d].active_end() as f64 / r[d].customers() as f64)
            .collect()
    };
    let diffs: Vec<f64> = share(1).iter().zip(share(0)).map(|(a, b)| a - b).collect();
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let sd = (diffs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    eprintln!("active share difference {mean:.4} ± {:.4}", sd / n.sqrt());
    assert!(
        (mean / (sd / n.sqrt())).abs() < 4.0,
        "rate lift changed dropout: {mean}"
    );
    let orders = |d: usize| res.tallies.iter().map(|r| r[d].repeat_orders).sum::<u64>() as f64;
    assert!(orders(1) / orders(0) > 1.4, "the lift itself works");
}

#[test]
fn winback_contacts_cost_and_answers() {
    let design = "[[designs]]\nname = \"winback\"\nkind = \"points\"\nearn = { per_currency_unit = 1.0 }\nredemption = { rewards = [ { name = \"r\", points = 250, face_value = 5.0 } ] }\nwinback = { after_days = 60, cost_per_contact = 0.5, response_probability = 0.3, bonus_points = 100 }\n";
    let src = crate::util::one_segment(
        "{ model = \"pareto-nbd\", r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, unit = \"week\" }",
        5000,
        4,
        365,
    ) + design;
    let res = run(&scenario(&src));
    for r in &res.tallies {
        let t = &r[1];
        assert!(t.winback_contacts > 0);
        assert!(t.winback_responses > 0 && t.winback_responses < t.winback_contacts);
        // Contacts cost 50 cents each; nothing else costs money in this design but rewards.
        assert_eq!(t.program_cost_cents, 50 * t.winback_contacts as i64);
        assert!(t.orders > r[0].orders, "answered contacts buy");
    }
}

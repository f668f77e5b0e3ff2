"""Independent reference for `loyalsim ab analyze` (issue 16): GrowthBook's stats engine
(gbstats) and statsmodels compute every new statistic from the raw per-visitor CSV, and
mpmath integrates the Beta-Binomial posteriors at 40 digits.

Usage: ab_reference.py analyze FILE.csv CONTROL COVARIATE CAP_PERCENTILE PRIOR_SD
       ab_reference.py beta XC NC XT NT   (P(treatment beats control), expected loss)
Prints JSON on stdout. Nothing here shares code with the Rust implementation."""
import json
import sys

import numpy as np


def suff(y, x=None):
    d = {"n": len(y), "sum": float(np.sum(y)), "sum_squares": float(np.sum(y * y))}
    if x is not None:
        d.update(x_sum=float(np.sum(x)), x_sum_squares=float(np.sum(x * x)),
                 xy=float(np.sum(x * y)))
    return d


def analyze(path, control, covariate, cap_pct, prior_sd):
    import pandas as pd
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind
    from statsmodels.stats.proportion import proportions_ztest
    from gbstats.models.statistics import (SampleMeanStatistic, RatioStatistic,
                                           RegressionAdjustedStatistic, compute_theta)
    from gbstats.frequentist.tests import (TwoSidedTTest, SequentialTwoSidedTTest,
                                           FrequentistConfig, SequentialConfig)
    from gbstats.bayesian.tests import (EffectBayesianABTest, EffectBayesianConfig,
                                        GaussianPrior)

    df = pd.read_csv(path)
    conv_rev = df.loc[df.converted == 1, "revenue"].to_numpy()
    cap = float(np.percentile(conv_rev, cap_pct))  # numpy's default linear interpolation
    df["revenue_capped"] = np.minimum(df.revenue.to_numpy(), cap)
    out = {"cap": cap, "capped": int((df.revenue > cap).sum()), "comparisons": {}}

    def mean_stat(v):
        return SampleMeanStatistic(n=len(v), sum=float(v.sum()), sum_squares=float((v * v).sum()))

    def ra_stat(y, x):
        return RegressionAdjustedStatistic(
            n=len(y), post_statistic=mean_stat(y), pre_statistic=mean_stat(x),
            post_pre_sum_of_products=float((x * y).sum()), theta=0)

    def cuped(yc, xc, yt, xt):
        a, b = ra_stat(yc, xc), ra_stat(yt, xt)
        theta = compute_theta(a, b)
        a.theta = b.theta = theta
        r = TwoSidedTTest(a, b, FrequentistConfig(difference_type="absolute")).compute_result()
        # statsmodels on the adjusted values themselves, with the same theta
        ac, at = yc - theta * xc, yt - theta * xt
        _, p_sm, dof = ttest_ind(at, ac, usevar="unequal")
        ci_sm = CompareMeans(DescrStatsW(at), DescrStatsW(ac)).tconfint_diff(usevar="unequal")
        raw = yc.var(ddof=1) / len(yc) + yt.var(ddof=1) / len(yt)
        adj = ac.var(ddof=1) / len(ac) + at.var(ddof=1) / len(at)
        return {"abs_diff": r.expected, "ci95": list(r.ci), "p_value": r.p_value,
                "theta": theta, "variance_reduction": 1 - adj / raw,
                "p_value_statsmodels": p_sm, "ci95_statsmodels": list(ci_sm), "df": dof}

    def ratio(nc, dc, nt, dt):
        def rs(n, d):
            return RatioStatistic(n=len(n), m_statistic=mean_stat(n), d_statistic=mean_stat(d),
                                  m_d_sum_of_products=float((n * d).sum()))
        a, b = rs(nc, dc), rs(nt, dt)
        ab = TwoSidedTTest(a, b, FrequentistConfig(difference_type="absolute")).compute_result()
        rel = TwoSidedTTest(a, b, FrequentistConfig(difference_type="relative")).compute_result()
        return {"control_value": a.mean, "treatment_value": b.mean, "abs_diff": ab.expected,
                "ci95": list(ab.ci), "p_value": ab.p_value, "relative_lift": rel.expected,
                "relative_ci95": list(rel.ci)}

    c = df[df.variant == control]
    for name in [v for v in dict.fromkeys(df.variant) if v != control]:
        t = df[df.variant == name]
        y = lambda d, col: d[col].to_numpy(dtype=float)
        res = {}
        res["revenue_cuped"] = cuped(y(c, "revenue_capped"), y(c, covariate),
                                     y(t, "revenue_capped"), y(t, covariate))
        res["conversion_cuped"] = cuped(y(c, "converted"), y(c, covariate),
                                        y(t, "converted"), y(t, covariate))
        res["ratios"] = {
            "revenue/orders": ratio(y(c, "revenue"), y(c, "orders"), y(t, "revenue"), y(t, "orders")),
            "items/orders": ratio(y(c, "items"), y(c, "orders"), y(t, "items"), y(t, "orders")),
        }
        rc, rt = mean_stat(y(c, "revenue_capped")), mean_stat(y(t, "revenue_capped"))
        prior = GaussianPrior(mean=0.0, variance=prior_sd ** 2, proper=True)
        b = EffectBayesianABTest(rc, rt, EffectBayesianConfig(
            difference_type="relative", prior_effect=prior)).compute_result()
        res["revenue_bayes"] = {"expected": b.expected, "ci95": list(b.ci),
                                "chance_to_win": b.chance_to_win,
                                "risk_control": b.risk[0], "risk_treatment": b.risk[1]}
        s = SequentialTwoSidedTTest(rc, rt, SequentialConfig(
            difference_type="absolute", sequential_tuning_parameter=5000)).compute_result()
        res["revenue_sequential"] = {"p_value": s.p_value, "ci95": list(s.ci)}
        z, p = proportions_ztest([t.converted.sum(), c.converted.sum()], [len(t), len(c)])
        res["conversion"] = {"z": z, "p_value": p}
        out["comparisons"][name] = res
    return out


def beta(xc, nc, xt, nt):
    import mpmath as mp
    mp.mp.dps = 40
    a, b, c, d = 1 + xc, 1 + nc - xc, 1 + xt, 1 + nt - xt
    mx, my = mp.mpf(a) / (a + b), mp.mpf(c) / (c + d)
    sx = mp.sqrt(mx * (1 - mx) / (a + b + 1))
    sy = mp.sqrt(my * (1 - my) / (c + d + 1))
    lo = max(mp.mpf(0), min(mx - 40 * sx, my - 40 * sy))
    hi = min(mp.mpf(1), max(mx + 40 * sx, my + 40 * sy))
    s = min(sx, sy)
    pts = [lo + (hi - lo) * i / int(mp.ceil((hi - lo) / s)) for i in range(int(mp.ceil((hi - lo) / s)) + 1)]
    lbx = mp.log(mp.beta(a, b))
    lby = mp.log(mp.beta(c, d))
    fx = lambda t: mp.exp((a - 1) * mp.log(t) + (b - 1) * mp.log1p(-t) - lbx)
    fy = lambda t: mp.exp((c - 1) * mp.log(t) + (d - 1) * mp.log1p(-t) - lby)
    Fx = lambda t: mp.betainc(a, b, 0, t, regularized=True)
    Fy = lambda t: mp.betainc(c, d, 0, t, regularized=True)
    # P(Y > X) = ∫ f_X(t) (1 − F_Y(t)) dt ; E[max(X − Y, 0)] = ∫ F_Y(t) (1 − F_X(t)) dt
    p_x_gt_y = mp.quad(lambda t: fy(t) * (1 - Fx(t)), pts)
    loss = mp.quad(lambda t: Fy(t) * (1 - Fx(t)), pts)
    return {"prob_treatment_beats_control": float(1 - p_x_gt_y),
            "prob_control_beats_treatment": float(p_x_gt_y), "expected_loss": float(loss)}


def plan():
    """Sample sizes, power and MDEs of `ab plan` (issue 16) from statsmodels' power functions.

    statsmodels' proportion functions call the treatment sample 1 (prop1 = prop2 + diff) and
    take ratio = nobs2 / nobs1, so with loyalsim's k = treatment / control visitors, nobs1 is
    the treatment arm and ratio is 1 / k. Bonferroni: alpha / (arms - 1). CUPED: statsmodels
    has none; the covariate leaves the share 1 - rho^2 of the variance, so the revenue effect
    size is delta / (sd sqrt(1 - rho^2)) and a proportion's sample is scaled by 1 - rho^2.
    """
    from scipy.optimize import brentq
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import (power_proportions_2indep,
                                              samplesize_proportions_2indep_onetail)

    def n_prop(pc, pt, alpha, power, k, alt="two-sided"):
        # nobs1 = treatment visitors; the control has nobs1 / k.
        return samplesize_proportions_2indep_onetail(pt - pc, pc, power, ratio=1 / k,
                                                     alpha=alpha, alternative=alt) / k

    out = {}
    out["conv_two_sided"] = n_prop(0.10, 0.11, 0.05, 0.8, 1.0)
    out["conv_k2_one_sided"] = n_prop(0.05, 0.055, 0.05, 0.9, 2.0, "larger")
    out["conv_four_arms"] = n_prop(0.10, 0.11, 0.05 / 3, 0.8, 1.0)
    out["conv_cuped_rho_0.5"] = n_prop(0.10, 0.11, 0.05, 0.8, 1.0) * (1 - 0.25)
    out["conv_power_at_10000"] = power_proportions_2indep(0.01, 0.10, 10000, ratio=1,
                                                          alpha=0.05, return_results=False)
    out["conv_power_one_sided_k2"] = power_proportions_2indep(
        0.005, 0.05, 2 * 30000, ratio=0.5, alpha=0.05, alternative="larger",
        return_results=False)
    nip = NormalIndPower()
    # loyalsim (as Fleiss) solves a two-sided n with the rejection tail in the effect's
    # direction only; statsmodels' two-sided solve adds the far tail (about 1e-6 of power
    # here), so the two-sided cases use its one-sided form at alpha / 2, the same critical
    # value.
    out["rev_two_sided"] = nip.solve_power(1 / 30, alpha=0.025, power=0.8, ratio=1.0,
                                           alternative="larger")
    out["rev_cuped_rho_0.6_one_sided"] = nip.solve_power(
        1 / (30 * (1 - 0.36) ** 0.5), alpha=0.05, power=0.8, ratio=1.5, alternative="larger")
    # MDE from 100,000 visitors over three arms (k = 1): 33,333.3 control visitors.
    out["rev_mde_three_arms"] = 30 * nip.solve_power(None, nobs1=100000 / 3, alpha=0.0125,
                                                     power=0.8, ratio=1.0,
                                                     alternative="larger")
    # MDE of a one-sided conversion test over two weeks at 10,000 visitors a day.
    n_c = 10000 * 14 / 2
    out["conv_mde_two_weeks_one_sided"] = brentq(
        lambda d: n_prop(0.03, 0.03 + d, 0.05, 0.8, 1.0, "larger") - n_c, 1e-6, 0.5,
        xtol=1e-15)
    return out


if __name__ == "__main__":
    if sys.argv[1] == "plan":
        r = plan()
    elif sys.argv[1] == "analyze":
        r = analyze(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    else:
        r = beta(*[int(v) for v in sys.argv[2:6]])
    print(json.dumps(r, default=float))

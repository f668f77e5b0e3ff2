"""Issue 14: cross-check `loyalsim fit --base` against the python lifetimes package.

Usage: lifetimes_base_check.py SCENARIO BASE_CSV HORIZON_WEEKS. Reads the fitted BG/NBD and
gamma-gamma parameters from the scenario, recomputes P(alive), the conditional expected
purchases and the conditional expected order value with lifetimes, and prints the largest
absolute differences as `p_alive=.. expected=.. order_value=..`.
"""
import re
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

scenario, base, horizon = sys.argv[1], sys.argv[2], float(sys.argv[3])
seg = open(scenario).read()
d = pd.read_csv(base, dtype={"customer_id": str})
num = r"([-+\d.eE]+)"
r, alpha, a, b = map(float, re.search(
    rf"r = {num}, alpha = {num}, a = {num}, b = {num}", seg).groups())
bg = BetaGeoFitter()
bg.params_ = pd.Series(dict(r=r, alpha=alpha, a=a, b=b))
pa = bg.conditional_probability_alive(d["frequency"], d["recency"], d["T"])
ex = bg.conditional_expected_number_of_purchases_up_to_time(
    horizon, d["frequency"], d["recency"], d["T"])
p, q, g = map(float, re.search(rf"p = {num}, q = {num}, gamma = {num}", seg).groups())
gg = GammaGammaFitter()
gg.params_ = pd.Series(dict(p=p, q=q, v=g))
ev = gg.conditional_expected_average_profit(d["frequency"], d["monetary_value"])
print("p_alive=%g expected=%g order_value=%g total_expected=%.4f" % (
    abs(pa - d["p_alive"]).max(), abs(ex - d["expected_purchases"]).max(),
    abs(ev - d["expected_order_value"]).max(), ex.sum()))

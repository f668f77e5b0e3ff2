"""Issue 14 item 6: cross-check loyalsim's Pareto/NBD likelihood and fit with lifetimes.

Usage: lifetimes_pareto_check.py RFM_CSV R ALPHA S BETA. Fits lifetimes' ParetoNBDFitter to
the frequency/recency/T columns, and prints its parameters, its log-likelihood at its own
optimum and lifetimes' log-likelihood at the given (loyalsim's) parameters, as
`r=.. alpha=.. s=.. beta=.. ll=.. ll_at_given=.. seconds=..`.
"""
import sys
import time

import numpy as np
import pandas as pd
from lifetimes import ParetoNBDFitter

d = pd.read_csv(sys.argv[1])
given = [float(v) for v in sys.argv[2:6]]
f, rec, T = d["frequency"].values, d["recency"].values, d["T"].values


def ll(params):
    return float(ParetoNBDFitter._conditional_log_likelihood(params, f, rec, T).sum())


start = time.process_time()
m = ParetoNBDFitter().fit(f, rec, T)
seconds = time.process_time() - start
p = [float(m.params_[k]) for k in ["r", "alpha", "s", "beta"]]
print("r=%.10g alpha=%.10g s=%.10g beta=%.10g ll=%.10f ll_at_given=%.10f seconds=%.3f" % (
    *p, ll(p), ll(given), seconds))

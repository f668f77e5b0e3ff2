"""Write tests/data/ab/cuped_ratio.csv: a seeded per-visitor fixture for the issue-16
reference test (3 arms, pre-period revenue correlated with revenue, orders and items).
Run once; the CSV is committed so the Rust side never needs Python to read it."""
import numpy as np

rng = np.random.default_rng(16)
rows = []
for arm, n, lift in [("control", 3000, 1.0), ("points", 2900, 1.08), ("double", 3100, 0.97)]:
    for _ in range(n):
        spend = rng.gamma(0.6, 40.0)  # visitor's propensity (pre-period revenue)
        p = min(0.9, 0.04 + spend / 600.0) * lift
        conv = rng.random() < p
        orders = int(rng.poisson(1.0 + spend / 80.0)) + 1 if conv else 0
        rev = round(sum(rng.gamma(2.0, 15.0 * lift) for _ in range(orders)), 2) if conv else 0
        items = int(orders * rng.integers(1, 4)) if conv else 0
        pre = round(spend * rng.lognormal(0.0, 0.5), 2)
        rows.append((arm, int(conv), rev, pre, orders, items))
with open("tests/data/ab/cuped_ratio.csv", "w") as f:
    f.write("variant,converted,revenue,pre_revenue,orders,items\n")
    for r in rows:
        f.write(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]}\n")

#!/usr/bin/env python3
"""Writes a large sweep for the memory check of README "Performance": the seed portfolio with its
sweep axes replaced by three generated ones (10 x 10 x 33 values), i.e. 31 funded subsets x 3,300
axis combinations = 102,300 sweep scenarios (+ the 5 explicit ones).

    /usr/bin/python3 bench/big_sweep.py OUT.yaml [--trials N]
    /usr/bin/time -f "%e s %M KB" build/roisim run OUT.yaml --summary-only --quiet -o OUT.h5
"""
import argparse
import yaml

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--seed-file", default="scenarios/seed_portfolio.yaml")
p.add_argument("--trials", type=int, default=10000)
a = p.parse_args()
d = yaml.safe_load(open(a.seed_file))
d["settings"]["trials"] = a.trials
d["sweep"]["axes"] = {
    "sessions": {f"s{i}": {"scale": {"recommendations.sessions_per_month": 0.80 + 0.05 * i,
                                      "search.sessions_per_month": 0.80 + 0.05 * i}} for i in range(10)},
    "fraud": {f"f{i}": {"scale": {"fraud.fraud_rate": 0.70 + 0.07 * i}} for i in range(10)},
    "translation": {f"t{i}": {"set": {"online_ratio": {"dist": "uniform", "min": round(0.10 + 0.01 * i, 2),
                                                        "max": round(0.30 + 0.01 * i, 2)}}} for i in range(33)},
}
yaml.safe_dump(d, open(a.out, "w"), sort_keys=False)

#!/usr/bin/env python3
"""Applies the defaults study's rule (docs/defaults-study.md, "The rule") to merged `dynmoe benchmark` results.

Usage: apply_rule.py [--folds=K] benchmark.json [benchmark.json ...]   (pieces of one protocol: same folds, repeats, seed; K = folds per repeat, default 3)

For each DynMoE configuration (rows of family "dynmoe"): its mean rank over the data sets among {configuration,
TopKGridMean, Dense, LightGbm, Sdca}; wins / ties / losses against TopKGridMean, a win or loss being a paired
difference whose 95 % interval over the folds excludes 0 (Student's t, Nadeau-Bengio corrected for k-fold, as the
benchmark computes its intervals); activated experts per token and training seconds per fit, averaged over the sets.
Then the rule: keep wins >= losses (else the fewest losses), best mean rank, ties within 0.1 of rank to the fewest
activated experts, then the least compute. Every metric the benchmark reports for these tasks is higher-is-better
(AUC, macro accuracy, R squared); the script refuses others.
"""
import json
import math
import sys
from statistics import mean, stdev

HIGHER_IS_BETTER = {"AreaUnderRocCurve", "MacroAccuracy", "MicroAccuracy", "RSquared", "Accuracy", "F1Score"}
BASELINES = ["TopKGridMean", "Dense", "LightGbm", "Sdca"]


def t975(df):
    # Two-sided 95 % Student t quantiles for the fold counts this study uses (df = folds x repeats - 1).
    table = {1: 12.7062, 2: 4.30265, 3: 3.18245, 4: 2.77645, 5: 2.57058, 6: 2.44691, 7: 2.36462, 8: 2.306, 9: 2.26216,
             10: 2.22814, 11: 2.20099, 12: 2.17881, 13: 2.16037, 14: 2.14479, 19: 2.09302, 29: 2.04523}
    if df not in table:
        raise SystemExit(f"no t quantile for {df} degrees of freedom")
    return table[df]


def interval(a, b, folds):
    d = [x - y for x, y in zip(a, b)]
    n = len(d)
    m = mean(d)
    se = stdev(d) * math.sqrt(1.0 / n + 1.0 / (folds - 1))
    h = t975(n - 1) * se
    return m, m - h, m + h


def ranks(values):
    # Rank 1 = best (highest); ties share the average rank.
    order = sorted(range(len(values)), key=lambda i: -values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def main(paths):
    rows = [r for p in paths for r in json.load(open(p))]
    sets = sorted({r["dataset"] for r in rows})
    by = {(r["dataset"], r["name"]): r for r in rows if r.get("status") == "succeeded"}
    configs = sorted({r["name"] for r in rows if r["family"] == "dynmoe"})
    summary = []
    for c in configs:
        present = [s for s in sets if (s, c) in by and all((s, b) in by for b in BASELINES)]
        w = t = l = 0
        rk, act, secs = [], [], []
        for s in present:
            row = by[(s, c)]
            if row["metric"] not in HIGHER_IS_BETTER:
                raise SystemExit(f"{s}: metric {row['metric']} is not known to be higher-is-better")
            grid = by[(s, "TopKGridMean")]
            k = FOLDS
            m, lo, hi = interval(row["folds"], grid["folds"], k)
            w, t, l = (w + 1, t, l) if lo > 0 else ((w, t, l + 1) if hi < 0 else (w, t + 1, l))
            values = [row["mean"]] + [by[(s, b)]["mean"] for b in BASELINES]
            rk.append(ranks(values)[0])
            act.append(row.get("activatedExpertsPerToken") or float("nan"))
            secs.append(row["trainSeconds"])
        summary.append(dict(name=c, sets=len(present), rank=mean(rk), wins=w, ties=t, losses=l,
                            activated=mean(act), seconds=mean(secs)))
    print(f"{'configuration':40s} sets  rank  W/T/L vs grid mean  act/token  s/fit")
    for x in sorted(summary, key=lambda x: x["rank"]):
        print(f"{x['name']:40s} {x['sets']:4d}  {x['rank']:.2f}  {x['wins']}/{x['ties']}/{x['losses']:<14d}  {x['activated']:.2f}       {x['seconds']:.1f}")
    kept = [x for x in summary if x["wins"] >= x["losses"]]
    if not kept:
        fewest = min(x["losses"] for x in summary)
        kept = [x for x in summary if x["losses"] == fewest]
    best = min(x["rank"] for x in kept)
    near = [x for x in kept if x["rank"] <= best + 0.1]
    chosen = sorted(near, key=lambda x: (round(x["activated"], 2), x["seconds"]))[0]
    print(f"\nkept by step 2: {', '.join(x['name'] for x in kept)}")
    print(f"within 0.1 of the best rank {best:.2f}: {', '.join(x['name'] for x in near)}")
    print(f"chosen: {chosen['name']}")


if __name__ == "__main__":
    args = sys.argv[1:]
    FOLDS = 3
    if args and args[0].startswith("--folds="):
        FOLDS = int(args[0].split("=")[1])
        args = args[1:]
    main(args)

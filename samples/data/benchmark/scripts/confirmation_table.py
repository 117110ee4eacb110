#!/usr/bin/env python3
"""The defaults study's confirmation table (docs/defaults-study.md, "Confirmation") from merged `dynmoe benchmark` results.

Usage: confirmation_table.py [--folds=K] [--previous=NAME] benchmark.json [benchmark.json ...]

Per data set: DynMoE's metric, the previous defaults' (the variant NAME, default DynMoE[previous-defaults]), DynMoE's paired
differences to TopKGridMean, Dense and LightGbm with their 95 % intervals (as apply_rule.py computes them), and the
activated experts per token. Then the rule's measures for DynMoE and for the previous defaults: mean rank among
{configuration, TopKGridMean, Dense, LightGbm, Sdca} and wins / ties / losses against TopKGridMean and Dense.
"""
import sys
from statistics import mean

from apply_rule import BASELINES, interval, ranks


def main(paths, folds, previous):
    import json
    rows = [r for p in paths for r in json.load(open(p))]
    by = {(r["dataset"], r["name"]): r for r in rows if r.get("status") == "succeeded"}
    sets = sorted({r["dataset"] for r in rows})
    print("| Set | Metric | DynMoE | Previous defaults | − TopKGridMean | − Dense | − LightGbm | Activated (DynMoE / previous / grid mean) |")
    print("|---|---|---:|---:|---|---|---|---|")
    short = {"AreaUnderRocCurve": "AUC", "MacroAccuracy": "macro acc.", "RSquared": "R²"}
    for s in sets:
        d, p, g = by[(s, "DynMoE")], by[(s, previous)], by[(s, "TopKGridMean")]
        cells = []
        for b in ["TopKGridMean", "Dense", "LightGbm"]:
            m, lo, hi = interval(d["folds"], by[(s, b)]["folds"], folds)
            cells.append(f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        act = " / ".join(f"{x['activatedExpertsPerToken']:.2f}" for x in (d, p, g))
        print(f"| {s} | {short.get(d['metric'], d['metric'])} | {d['mean']:.3f} | {p['mean']:.3f} | " + " | ".join(cells) + f" | {act} |")
    print()
    for name in ["DynMoE", previous]:
        rk, act = [], []
        wtl = {b: [0, 0, 0] for b in ["TopKGridMean", "Dense"]}
        for s in sets:
            row = by[(s, name)]
            rk.append(ranks([row["mean"]] + [by[(s, b)]["mean"] for b in BASELINES])[0])
            act.append(row["activatedExpertsPerToken"])
            for b in wtl:
                _, lo, hi = interval(row["folds"], by[(s, b)]["folds"], folds)
                wtl[b][0 if lo > 0 else (2 if hi < 0 else 1)] += 1
        grid = mean(by[(s, "TopKGridMean")]["activatedExpertsPerToken"] for s in sets)
        print(f"{name}: {len(sets)} sets, mean rank {mean(rk):.2f}; " +
              "; ".join(f"vs {b} {w}/{t}/{l}" for b, (w, t, l) in wtl.items()) +
              f"; activated {mean(act):.2f} per token (grid mean {grid:.2f})")


if __name__ == "__main__":
    args = sys.argv[1:]
    folds, previous = 5, "DynMoE[previous-defaults]"
    while args and args[0].startswith("--"):
        key, value = args[0][2:].split("=", 1)
        folds = int(value) if key == "folds" else folds
        previous = value if key == "previous" else previous
        args = args[1:]
    main(args, folds, previous)

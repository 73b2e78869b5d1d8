#!/usr/bin/env python3
"""The paired comparison of bench/pt_training.sh's TSV: per learning rate, the exact test
log-likelihood of PT and of PCD at equal CPU time, the paired differences PT - PCD over
the seeds, their mean, standard error, Student t and two-sided p-value (n - 1 degrees of
freedom). Standard library only.
    usage: bench/pt_training_table.py results.tsv"""
import csv
import math
import sys
from collections import defaultdict


def betacf(a, b, x):
    """Continued fraction of the regularized incomplete beta (Numerical Recipes 6.4)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / d if abs(d) > 1e-300 else 1e300
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / d if abs(d) > 1e-300 else 1e300
        c = 1 + aa / c if abs(c) > 1e-300 else 1e300
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / d if abs(d) > 1e-300 else 1e300
        c = 1 + aa / c if abs(c) > 1e-300 else 1e300
        de = d * c
        h *= de
        if abs(de - 1) < 1e-14:
            break
    return h


def betai(a, b, x):
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    bt = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    return bt * betacf(a, b, x) / a if x < (a + 1) / (a + b + 2) else 1 - bt * betacf(b, a, 1 - x) / b


def two_sided_p(t, dof):
    return betai(dof / 2, 0.5, dof / (dof + t * t))


rows = defaultdict(dict)
cpu = defaultdict(lambda: defaultdict(list))
swaps = defaultdict(list)
epochs = {}
with open(sys.argv[1]) as f:
    for r in csv.DictReader(f, delimiter="\t"):
        rows[r["lr"]].setdefault(r["seed"], {})[r["method"]] = float(r["test_ll"])
        cpu[r["lr"]][r["method"]].append(float(r["cpu_s"]))
        epochs[(r["lr"], r["method"])] = r["epochs"]
        if r["method"] == "pt":
            swaps[r["lr"]].append([float(x) for x in r["swap_rates"].split(",")])

print("| lr | PT epochs / PCD epochs | CPU s per run, PT / PCD | test LL, PT (mean over seeds) | test LL, PCD | PT − PCD, mean ± SE | t (dof) | two-sided p | PT better in | min swap rate (last epoch) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for lr in sorted(rows, key=float):
    pairs = [(v["pt"], v["pcd"]) for v in rows[lr].values() if "pt" in v and "pcd" in v]
    n = len(pairs)
    d = [a - b for a, b in pairs]
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1)) if n > 1 else float("nan")
    se = sd / math.sqrt(n)
    t = mean / se if se > 0 else float("inf")
    p = two_sided_p(t, n - 1) if n > 1 and se > 0 else float("nan")
    pt_mean = sum(a for a, _ in pairs) / n
    pcd_mean = sum(b for _, b in pairs) / n
    cpu_pt = sum(cpu[lr]["pt"]) / len(cpu[lr]["pt"])
    cpu_pcd = sum(cpu[lr]["pcd"]) / len(cpu[lr]["pcd"])
    min_swap = min(min(s) for s in swaps[lr]) if swaps[lr] else float("nan")
    print(f"| {lr} | {epochs[(lr, 'pt')]} / {epochs[(lr, 'pcd')]} | {cpu_pt:.1f} / {cpu_pcd:.1f} | {pt_mean:.2f} | {pcd_mean:.2f} | "
          f"{mean:+.2f} ± {se:.2f} | {t:.2f} ({n - 1}) | {p:.3g} | {sum(x > 0 for x in d)} of {n} | {min_swap:.2f} |")

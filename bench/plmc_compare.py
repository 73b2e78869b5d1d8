#!/usr/bin/env python3
"""logz against plmc on one family: contact tables and parameter files. Plain Python 3
(no NumPy needed).

  plmc_compare.py contacts PLMC.ec LOGZ.ec L
      Both tables keyed by their (i, j) numbers (they must number their pairs alike):
      whether the focus letters agree, the Pearson correlation of the APC scores (last
      column), and how many of the top-L pairs with |i - j| >= 6 the two share.
  plmc_compare.py raw-scores MODEL.npz
      plmc's -c table recomputed from a Potts model file (e.g. `logz convert` of plmc's
      parameter file): the Frobenius norm of each coupling block as stored (plmc does not
      gauge it), average-product corrected as plmc does, keyed by the file's `positions`
      and `focus_sequence`; prints plmc's layout "i ai j aj 0 score".
  plmc_compare.py max-diff A.ec B.ec
      The largest |score difference| between two tables of the same pairs.
"""
import array
import ast
import math
import sys
import zipfile


def load_table(path):
    table = {}
    for line in open(path):
        if line.startswith("#"):
            continue
        f = line.split()
        table[(int(f[0]), int(f[2]))] = (float(f[-1]), f[1], f[3])
    return table


def contacts(plmc_path, logz_path, top):
    a, b = load_table(plmc_path), load_table(logz_path)
    if set(a) != set(b):
        sys.exit("the two tables number their pairs differently")
    print("pairs", len(a), "; focus letters agree:", all(a[k][1:] == b[k][1:] for k in a))
    keys = sorted(a)
    x, y = [a[k][0] for k in keys], [b[k][0] for k in keys]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    cov = sum((u - mx) * (v - my) for u, v in zip(x, y))
    r = cov / math.sqrt(sum((u - mx) ** 2 for u in x) * sum((v - my) ** 2 for v in y))
    print("Pearson of the APC scores: %.6f" % r)

    def best(t):
        far = sorted((k for k in t if abs(k[1] - k[0]) >= 6), key=lambda k: -t[k][0])
        return set(far[:top])

    print("top-%d pairs with |i - j| >= 6 in common: %d" % (top, len(best(a) & best(b))))


def npy_member(archive, name):
    raw = archive.read(name + ".npy")
    header_len = int.from_bytes(raw[8:10], "little")
    header = ast.literal_eval(raw[10:10 + header_len].decode())
    values = array.array({"<f8": "d", "<f4": "f", "<i8": "q", "|u1": "B"}[header["descr"]])
    values.frombytes(raw[10 + header_len:])
    return values, header["shape"]


def raw_scores(model_path):
    z = zipfile.ZipFile(model_path)
    couplings, (n, _, q, _) = npy_member(z, "couplings")
    positions, _ = npy_member(z, "positions")
    focus, _ = npy_member(z, "focus_sequence")
    norm = {}
    for i in range(n):
        for j in range(i + 1, n):
            base = (i * n + j) * q * q
            norm[(i, j)] = math.sqrt(sum(couplings[base + k] ** 2 for k in range(q * q)))
    row = [0.0] * n
    for (i, j), v in norm.items():
        row[i] += v / (n - 1)
        row[j] += v / (n - 1)
    mean = sum(norm.values()) / (n * (n - 1) / 2)
    for (i, j), v in sorted(norm.items()):
        print(positions[i], chr(focus[i]), positions[j], chr(focus[j]), 0, "%f" % (v - row[i] * row[j] / mean))


def max_diff(a_path, b_path):
    a, b = load_table(a_path), load_table(b_path)
    if set(a) != set(b):
        sys.exit("the two tables number their pairs differently")
    print("focus letters agree:", all(a[k][1:] == b[k][1:] for k in a))
    print("largest |score difference|: %.2e over %d pairs" % (max(abs(a[k][0] - b[k][0]) for k in a), len(a)))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "contacts":
        contacts(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "raw-scores":
        raw_scores(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "max-diff":
        max_diff(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

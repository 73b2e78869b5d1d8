#!/usr/bin/python3
"""Builds the hard-model suite: models on which log Z estimators are known to go wrong,
each with its exact log Z, written under an output folder with a manifest.json that
bench/hard_models/run_suite.py reads.

The cases (docs: bench/results/hard-suite.md):
  - binary RBMs with 20 and 15 hidden units trained on Fashion-MNIST by PCD-1 at a high
    learning rate for many epochs (sharp, multimodal), saved WITHOUT data_marginals, as a
    model trained elsewhere and saved with np.savez would be, so that the estimators start
    from the uniform base; and the same models with every parameter multiplied by 2 and 3.
    Exact log Z: `logz exact` (enumeration of the hidden layer).
  - periodic L x L Ising lattices (L = 24, 32), zero field, couplings K = 0.3 (disordered),
    K_c = ln(1 + sqrt 2) / 2 (critical) and 0.5 (ordered, two modes). Exact log Z:
    Kaufman's (1949) closed form for the torus, computed here (logz exact runs a junction
    tree, which is far too wide for these lattices); checked at start-up against
    `logz exact` on 6 x 6 tori.
  - a q = 10 Potts model, E = -K sum_<ij> delta(x_i, x_j), on the periodic 4 x 4 lattice at
    its first-order transition K_t = ln(1 + sqrt 10) (Baxter 1973) and 5% above it.
    Exact log Z: `logz exact` (junction tree; the 4 x 4 torus has treewidth 6, tables of
    10^7 entries); checked against a row transfer matrix computed here on the 3 x 3 torus.
  - a Gaussian-Bernoulli RBM with well-separated modes: 3 hidden units whose weight
    columns are orthogonal with norm 8 (sigma = 1), hidden biases that give the 2^3 modes
    nearly equal mass; the modes are 8 standard deviations apart. Exact log Z: `logz exact`
    (hidden layer enumerated), checked against the closed form
    d/2 log 2 pi + sum_j log(1 + exp(c_j + |W_j|^2 / 2)) for orthogonal columns and b = 0.
    Its exact samples (h from its marginal, then v | h) are written for RAISE's --data.

Usage: make_models.py --out DIR [--set full|test] [--logz PATH] [--force]
Models are rebuilt only when missing (or with --force); nothing is written outside DIR.
Runs with /usr/bin/python3 and NumPy.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_LOGZ = os.path.join(ROOT, "build", "apps", "logz", "logz")

ISING_KC = math.log(1 + math.sqrt(2)) / 2
POTTS_Q = 10
POTTS_KT = math.log(1 + math.sqrt(POTTS_Q))


def kind_marker(kind):
    return np.frombuffer(kind.encode(), np.uint8)


# ----------------------------------------------------------------------------- exact log Z

def log_2cosh(x):
    a = abs(x)
    return a + math.log1p(math.exp(-2 * a))


def log_abs_2sinh(x):
    a = abs(x)
    return a + math.log(-math.expm1(-2 * a))


def kaufman_log_z(l1, l2, k):
    """log Z of the periodic l1 x l2 Ising lattice, E = -K sum_<ij> s_i s_j, s = +-1.
    Kaufman (1949) as written by Beale (1996): with m = l1 rows and n = l2 columns,
      Z = 1/2 (2 sinh 2K)^{mn/2} (Z1 + Z2 + Z3 + Z4),
      Z1 = prod_{r<n} 2 cosh(m g_{2r+1} / 2),  Z2 = prod_{r<n} 2 sinh(m g_{2r+1} / 2),
      Z3 = prod_{r<n} 2 cosh(m g_{2r} / 2),    Z4 = prod_{r<n} 2 sinh(m g_{2r} / 2),
      cosh g_l = cosh 2K coth 2K - cos(pi l / n) (g_l > 0),  g_0 = 2K + ln tanh K,
    g_0 < 0 above the critical temperature, which makes Z4 negative (0 at K_c)."""
    m, n = float(l1), l2
    c = math.cosh(2 * k) / math.tanh(2 * k)

    def gamma(l):
        if l == 0:
            return 2 * k + math.log(math.tanh(k))
        a = c - math.cos(math.pi * l / n)
        return math.log(a + math.sqrt((a - 1) * (a + 1)))

    lz, sign = [0.0] * 4, [1] * 4
    for r in range(n):
        odd, even = m * gamma(2 * r + 1) / 2, m * gamma(2 * r) / 2
        lz[0] += log_2cosh(odd)
        lz[1] += log_abs_2sinh(odd) if odd != 0 else -math.inf
        lz[2] += log_2cosh(even)
        lz[3] += log_abs_2sinh(even) if even != 0 else -math.inf
        if odd < 0:
            sign[1] = -sign[1]
        if even < 0:
            sign[3] = -sign[3]
    top = max(lz)
    total = sum(s * math.exp(v - top) for s, v in zip(sign, lz))
    return -math.log(2) + m * n / 2 * math.log(2 * math.sinh(2 * k)) + top + math.log(total)


def potts_transfer_log_z(rows, cols, q, k):
    """log Z of the periodic rows x cols Potts model E = -K sum_<ij> delta(x_i, x_j) by the
    row-to-row transfer matrix (q^cols row states; Z = trace T^rows)."""
    states = np.array(np.unravel_index(np.arange(q ** cols), (q,) * cols)).T  # [S, cols]
    within = (states == np.roll(states, -1, axis=1)).sum(axis=1)  # horizontal bonds of a row
    between = (states[:, None, :] == states[None, :, :]).sum(axis=2)  # vertical bonds
    # T[a, b] = exp(K (v(a, b) + w(b))) is similar to the symmetric
    # S[a, b] = exp(K (v(a, b) + w(a) / 2 + w(b) / 2)), so trace T^rows = sum of eig(S)^rows.
    log_s = k * (between + 0.5 * within[:, None] + 0.5 * within[None, :])
    shift = log_s.max()
    eig = np.linalg.eigvalsh(np.exp(log_s - shift))
    top = np.max(np.abs(eig))
    return rows * (shift + math.log(top)) + math.log(np.sum((eig / top) ** rows))


def logz_exact(logz, path):
    out = subprocess.run([logz, "exact", "--model", path, "--json", "--threads", "1", "-q"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    return float(j["log_z"]), j["method"]


# ----------------------------------------------------------------------------- model files

def torus_edges(rows, cols):
    """Bonds of the periodic rows x cols lattice, sites numbered row-major."""
    edges = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            edges.append((i, r * cols + (c + 1) % cols))
            edges.append((i, ((r + 1) % rows) * cols + c))
    return np.array(sorted((min(a, b), max(a, b)) for a, b in edges), dtype=np.int64)


def write_ising_torus(path, size, k):
    n = size * size
    edges = torus_edges(size, size)
    couplings = np.zeros((n, n))
    couplings[edges[:, 0], edges[:, 1]] = k
    couplings[edges[:, 1], edges[:, 0]] = k
    np.savez(path, fields=np.zeros(n), couplings=couplings, edges=edges,
             spins=np.array([-1, 1], dtype=np.int64), logz_kind=kind_marker("ising"))


def write_potts_torus(path, size, q, k):
    n = size * size
    edges = torus_edges(size, size)
    couplings = np.zeros((n, n, q, q))
    for i, j in edges:
        couplings[i, j] = k * np.eye(q)
        couplings[j, i] = k * np.eye(q)
    np.savez(path, fields=np.zeros((n, q)), couplings=couplings, edges=edges,
             logz_kind=kind_marker("potts"))


def write_scaled_rbm(src, dst, factor):
    """The RBM of `src` with every parameter times `factor`, without data_marginals."""
    with np.load(src) as z:
        arrays = {name: z[name] for name in z.files if name != "data_marginals"}
    for name in ("weights", "visible_bias", "hidden_bias"):
        arrays[name] = (arrays[name] * factor).astype(arrays[name].dtype)
    np.savez(dst, **arrays)


def write_grbm(path, samples_path, n_visible, n_hidden, radius, seed, n_samples):
    """A GRBM (sigma = 1, b = 0) whose weight columns are orthogonal with norm `radius`:
    p(v) is a mixture of 2^n_hidden unit Gaussians centred at W h, of weights
    proportional to exp(c.h + |W h|^2 / 2) = prod_j exp(h_j (c_j + radius^2 / 2)).
    Hidden biases c_j = -radius^2 / 2 + small offsets give nearly equal mode masses."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((n_visible, n_hidden)))
    weights = radius * basis
    hidden_bias = -0.5 * radius ** 2 + np.linspace(-0.5, 0.5, n_hidden)
    np.savez(path, weights=weights, visible_bias=np.zeros(n_visible), hidden_bias=hidden_bias,
             visible_sigma=np.ones(n_visible), logz_kind=kind_marker("grbm"))
    # Exact samples: h_j independent Bernoulli(sigmoid(c_j + |W_j|^2 / 2)), v | h ~ N(W h, I).
    p_on = 1 / (1 + np.exp(-(hidden_bias + 0.5 * radius ** 2)))
    h = (rng.random((n_samples, n_hidden)) < p_on).astype(float)
    v = h @ weights.T + rng.standard_normal((n_samples, n_visible))
    np.save(samples_path, v)
    closed_form = 0.5 * n_visible * math.log(2 * math.pi) + float(
        np.sum(np.logaddexp(0, hidden_bias + 0.5 * radius ** 2)))
    return closed_form


def train_rbm(logz, path, hidden, epochs, lr, seed):
    subprocess.run([logz, "train", "rbm", "--data", "fashion-mnist:train", "--hidden", str(hidden),
                    "--method", "pcd", "--lr", str(lr), "--epochs", str(epochs), "--seed", str(seed),
                    "--out", path, "--checkpoint", "none", "--log", "none", "--test-data", "none",
                    "--threads", "1", "-q"], check=True)


# ----------------------------------------------------------------------------- the sets

# (hidden, epochs) of the trained RBMs; scaled copies x2 and x3 of each.
RBM_SETS = {
    "full": [(20, 100), (15, 100)],
    "test": [(15, 30)],
}
ISING_SETS = {
    "full": [(24, 0.3), (24, ISING_KC), (24, 0.5), (32, 0.3), (32, ISING_KC), (32, 0.5)],
    "test": [(24, ISING_KC)],
}
POTTS_SETS = {
    "full": [(4, POTTS_KT), (4, 1.05 * POTTS_KT)],
    "test": [(4, POTTS_KT)],
}
RBM_SCALES = {"full": [1, 2, 3], "test": [1, 3]}
RBM_LR = 0.1


def k_label(k):
    if abs(k - ISING_KC) < 1e-12:
        return "Kc"
    if abs(k - POTTS_KT) < 1e-12:
        return "Kt"
    if abs(k - 1.05 * POTTS_KT) < 1e-12:
        return "1.05Kt"
    return f"{k:g}"


def self_checks(logz, out):
    """The Python exact formulas against logz's junction tree on lattices small enough for it."""
    for k in (0.3, ISING_KC, 0.5):
        path = os.path.join(out, "check_ising6.npz")
        write_ising_torus(path, 6, k)
        jt, _ = logz_exact(logz, path)
        kf = kaufman_log_z(6, 6, k)
        if abs(jt - kf) > 1e-8 * max(1.0, abs(jt)):
            sys.exit(f"make_models: Kaufman {kf!r} != junction tree {jt!r} on the 6x6 torus at K = {k}")
        os.remove(path)
    for k in (POTTS_KT, 1.05 * POTTS_KT):
        path = os.path.join(out, "check_potts3.npz")
        write_potts_torus(path, 3, POTTS_Q, k)
        jt, _ = logz_exact(logz, path)
        tm = potts_transfer_log_z(3, 3, POTTS_Q, k)
        if abs(jt - tm) > 1e-8 * max(1.0, abs(jt)):
            sys.exit(f"make_models: transfer matrix {tm!r} != junction tree {jt!r} on the 3x3 Potts torus at K = {k}")
        os.remove(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the model files and manifest.json (a build folder)")
    ap.add_argument("--set", default="full", choices=["full", "test"],
                    help="full: every case; test: the five small cases of the slow CTest")
    ap.add_argument("--logz", default=DEFAULT_LOGZ, help="the logz CLI (default: build/apps/logz/logz)")
    ap.add_argument("--force", action="store_true", help="rebuild models that exist")
    args = ap.parse_args()
    logz = os.path.abspath(args.logz)
    if not os.access(logz, os.X_OK):
        sys.exit(f"make_models: {logz} is not an executable logz CLI (build the logz_cli target)")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    self_checks(logz, out)
    cases = []

    def fresh(path):
        return args.force or not os.path.exists(path)

    def add(name, path, kind, log_z, how, group, description, raise_data=None):
        cases.append({"name": name, "file": os.path.basename(path), "kind": kind, "exact_log_z": log_z,
                      "exact_method": how, "group": group, "description": description,
                      "raise_data": raise_data})
        print(f"  {name:<22} log Z = {log_z:.6f}  ({how})", file=sys.stderr)

    for hidden, epochs in RBM_SETS[args.set]:
        trained = os.path.join(out, f"trained_rbm{hidden}_e{epochs}.npz")
        if fresh(trained):
            print(f"training the {hidden}-hidden RBM: PCD-1, lr {RBM_LR}, {epochs} epochs", file=sys.stderr)
            train_rbm(logz, trained, hidden, epochs, RBM_LR, seed=hidden)
        for factor in RBM_SCALES[args.set]:
            name = f"rbm{hidden}" + ("" if factor == 1 else f"x{factor}")
            path = os.path.join(out, name + ".npz")
            if fresh(path) or os.path.getmtime(path) < os.path.getmtime(trained):
                write_scaled_rbm(trained, path, factor)
            log_z, how = logz_exact(logz, path)
            add(name, path, "rbm", log_z, "logz exact: " + how, "rbm",
                f"{hidden}-hidden RBM, Fashion-MNIST, PCD-1 lr {RBM_LR} x {epochs} epochs, no data_marginals"
                + ("" if factor == 1 else f", parameters x{factor}"), raise_data="fashion-mnist:test")

    for size, k in ISING_SETS[args.set]:
        name = f"ising{size}_{k_label(k)}"
        path = os.path.join(out, name + ".npz")
        if fresh(path):
            write_ising_torus(path, size, k)
        add(name, path, "ising", kaufman_log_z(size, size, k), "Kaufman closed form (Python)", "ising",
            f"periodic {size}x{size} Ising, zero field, K = {k:.6g}")

    for size, k in POTTS_SETS[args.set]:
        name = f"potts{POTTS_Q}_{size}x{size}_{k_label(k)}"
        path = os.path.join(out, name + ".npz")
        if fresh(path):
            write_potts_torus(path, size, POTTS_Q, k)
        log_z, how = logz_exact(logz, path)
        add(name, path, "potts", log_z, "logz exact: " + how, "potts",
            f"q = {POTTS_Q} Potts, periodic {size}x{size}, K = {k:.6g} (K_t = ln(1 + sqrt 10) = {POTTS_KT:.6g})")

    name = "grbm_modes"
    path, samples = os.path.join(out, name + ".npz"), os.path.join(out, name + "_samples.npy")
    closed = write_grbm(path, samples, n_visible=10, n_hidden=3, radius=8.0, seed=3, n_samples=1000)
    log_z, how = logz_exact(logz, path)
    if abs(log_z - closed) > 1e-8 * max(1.0, abs(closed)):
        sys.exit(f"make_models: GRBM closed form {closed!r} != logz exact {log_z!r}")
    add(name, path, "grbm", log_z, "logz exact: " + how, "grbm",
        "Gaussian-Bernoulli RBM, 10 visible, 3 hidden, orthogonal weight columns of norm 8: 8 modes 8 sigma apart",
        raise_data=os.path.basename(samples))

    manifest = {"set": args.set, "logz": logz, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "cases": cases}
    tmp = os.path.join(out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(out, "manifest.json"))
    print(f"make_models: {len(cases)} cases in {out} ({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where logz's heavy kernels sit against this machine's ceilings: a roofline (Williams,
Waterman & Patterson 2009, "Roofline: an insightful visual performance model for multicore
architectures", CACM 52(4)).

    /usr/bin/python3 bench/roofline.py [--logz build/apps/logz/logz] [--out docs/figures/roofline.png]

Ceilings, measured here at 1 thread: the GEMM rate of OpenBLAS (float32 and float64,
2048^3; Debian's OpenBLAS unpacked privately by shared/peers/setup_openblas.sh, with the
core type named from the CPU flags as bench/compare_peers.sh does) and the memory
bandwidth of a STREAM triad in NumPy (three 256 MB arrays, 3 x 256 MB counted per pass).

Points, logz at 1 thread: achieved FLOP/s = (the work's floating-point operations, from
the model written next to each) / (measured seconds); arithmetic intensity = FLOPs /
(bytes the kernel must move to and from memory, from the model written next to each).
A point near the sloped roof is bound by memory bandwidth, near the flat roof by the
arithmetic rate; the gap to the roof is what a faster kernel could still gain.
Prints a Markdown table; writes the figure when matplotlib is present.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import under_load  # noqa: E402  (the benchmark models: rbm_file)

PEERS = os.path.join(ROOT, "..", "shared", "peers")
DHFR = os.path.join(ROOT, "..", "shared", "data", "DHFR.a2m")


def openblas_env():
    """The environment that gives NumPy OpenBLAS's own kernels, or None."""
    setup = os.path.join(PEERS, "setup_openblas.sh")
    if not os.path.exists(setup):
        return None
    out = subprocess.run(["sh", setup, "/tmp/peers_obl"], capture_output=True, text=True)
    lib = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    if not os.path.isdir(lib):
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["LD_LIBRARY_PATH"] = lib
    flags = open("/proc/cpuinfo").read()
    if " avx512f" in flags:
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif " avx2" in flags:
        env["OPENBLAS_CORETYPE"] = "Haswell"
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


CEILINGS = r"""
import json, time, numpy as np
def best(f, reps=5):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    return min(t)
out = {}
n = 2048
for name, dt in (("gemm_f32", np.float32), ("gemm_f64", np.float64)):
    a = np.random.default_rng(0).random((n, n)).astype(dt); b = a.copy(); c = np.empty_like(a)
    np.matmul(a, b, out=c)
    out[name] = 2 * n**3 / best(lambda: np.matmul(a, b, out=c)) / 1e9
m = 256 * 2**20 // 8
a = np.ones(m); b = np.ones(m); c = np.empty(m)
np.add(a, b, out=c)
out["triad_gbs"] = 3 * m * 8 / best(lambda: np.add(a, b, out=c)) / 1e9
print(json.dumps(out))
"""


def measure_ceilings():
    env = openblas_env()
    res = subprocess.run(["/usr/bin/python3", "-c", CEILINGS], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit("roofline: measuring the ceilings failed: " + res.stderr[-500:])
    c = json.loads(res.stdout)
    c["blas"] = "OpenBLAS " + (env or {}).get("OPENBLAS_CORETYPE", "(detected)") if env else "NumPy's default BLAS"
    # With AVX-512 VNNI logz multiplies 0/1 RBM states in 16-bit integers
    # (kernels/binary_product): vpdpwssd does 32 multiply-adds where an FMA does 16, at
    # the same instruction rate, so that roof is twice the float32 GEMM's.
    c["vnni"] = " avx512_vnni" in open("/proc/cpuinfo").read()
    c["gemm_i16"] = 2 * c["gemm_f32"] if c["vnni"] else c["gemm_f32"]
    return c


def find(obj, key):
    """The last value of `key` anywhere in a JSON document (None when absent)."""
    found = None
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in children:
        f = v if k == key else find(v, key)
        found = f if f is not None else found
    return found


def run_json(logz, args):
    t0 = time.perf_counter()
    res = subprocess.run([logz] + args + ["--threads", "1", "--json", "-q"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"roofline: {' '.join(args[:2])} failed (exit {res.returncode}): {res.stderr[-400:]}")
    return json.loads(res.stdout), wall


def workloads(logz, folder):
    """(name, GFLOP/s achieved, FLOP/byte, the models in words, precision "f32" or "f64")."""
    points = []
    # PCD-1, 500 hidden, batch 100 on Fashion-MNIST: 6 products of 100x784x500 per batch
    # (positive and negative hidden, visible, the chains' hidden again, the gradient).
    # Bytes: W (and its momentum) read 6 + 2 times and written twice per batch.
    j, _ = run_json(logz, ["train", "rbm", "--data", "fashion-mnist:train", "--hidden", "500", "--method", "pcd",
                           "--k", "1", "--epochs", "1", "--batch", "100", "--lr", "0.01", "--momentum", "0.9",
                           "--checkpoint", "none", "--log", "none", "--out", os.path.join(folder, "pcd.npz")])
    eps = find(j, "examples_per_second")
    flops_per_batch = 6 * 2 * 100 * 784 * 500
    bytes_per_batch = 10 * 784 * 500 * 4 + 6 * 100 * 784 * 4
    points.append(("PCD-1 784x500 RBM, batch 100", eps / 100 * flops_per_batch / 1e9, flops_per_batch / bytes_per_batch,
                   "6 products of 100x784x500 per batch; W read 8x, written 2x", "i16"))
    # AIS on the RBM weight path: per beta and chain, the hidden product v W and the
    # visible product h W^T, 2 x 784 x nh multiply-adds each. Bytes: W read twice (float)
    # and the particles (100 x 784 floats) read twice and written once per beta.
    for nh, betas in ((500, 2000), (15, 10000)):
        model = under_load.rbm_file(folder, nh)
        j, _ = run_json(logz, ["estimate", "--model", model, "--method", "ais", "--chains", "100", "--betas",
                               str(betas), "--replicates", "1"])
        sec = find(j, "seconds")
        flops = betas * 100 * 2 * (2 * 784 * nh)
        bytes_ = betas * (2 * 784 * nh * 4 + 3 * 100 * 784 * 4)
        points.append((f"AIS 784x{nh} RBM, 100 chains", flops / sec / 1e9, flops / bytes_,
                       "2 products of 100x784x%d per beta; W twice + particles 3x per beta" % nh, "i16"))
    # Pseudolikelihood on DHFR.a2m (plmc's settings), double: per evaluation each of the
    # N sequences gathers its L x q conditional potentials from the coupling matrix (one
    # add per site, other site and state) and scatters its weighted gradient back (one
    # multiply-add each): 3 N L^2 q.
    # Bytes: the couplings read and the gradient read and written once per block of 512
    # sequences: ceil(N / 512) x 3 x (L q)^2 x 8.
    if os.path.exists(DHFR):
        j, wall = run_json(logz, ["train", "potts", "--data", DHFR, "--focus", "DYR_ECOLI", "--unknown", "skip",
                                  "--ignore-gaps", "--lambda-e", "16", "--lambda-h", "0.01", "--max-iterations", "10",
                                  "--out", os.path.join(folder, "pl.npz")])
        n_seq, L, q = 3616, 159, 20
        per_eval = find(j, "seconds") / max(1, find(j, "evaluations"))
        flops = 3 * n_seq * L * L * q
        bytes_ = math.ceil(n_seq / 512) * 3 * (L * q) ** 2 * 8
        points.append(("pseudolikelihood DHFR (double), one evaluation", flops / per_eval / 1e9, flops / bytes_,
                       "3 N L^2 q; couplings + gradient 3x per 512 sequences", "f64"))
    # Score matching on 50,000 x 64 rows, 64 Student-t experts (build/bench/score_matching_bench):
    # SM and DSM (noise drawn once, as a fit) each take five products of 2 N K d FLOPs by
    # 256-row blocks that stay in cache; bytes: the data read once (and DSM's noise).
    bench = os.path.join(os.path.dirname(os.path.dirname(logz)), "..", "bench", "score_matching_bench")
    if os.path.exists(bench):
        res = subprocess.run([bench, "--benchmark_filter=experts64/(sm|dsm_drawn)/", "--benchmark_format=json"],
                             capture_output=True, text=True, env=dict(os.environ, LOGZ_BENCH_THREADS="1"))
        to_s = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
        n, k, d = 50000, 64, 64
        for b in json.loads(res.stdout)["benchmarks"] if res.returncode == 0 else []:
            name = b["name"].split("/")[2]
            sec = b["cpu_time"] * to_s[b.get("time_unit", "ns")]
            flops, bytes_ = 5 * 2 * n * k * d, (2 if name == "dsm_drawn" else 1) * n * d * 8
            label = "score matching" if name == "sm" else "denoising score matching (noise drawn)"
            points.append((f"{label}, 64 experts, 50,000 x 64", flops / sec / 1e9, flops / bytes_,
                           "5 products of 2 N K d; data read once", "f64"))
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logz", default=os.path.join(ROOT, "build", "apps", "logz", "logz"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "figures", "roofline.png"))
    args = ap.parse_args()
    c = measure_ceilings()
    with tempfile.TemporaryDirectory() as folder:
        points = workloads(args.logz, folder)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = open("/proc/loadavg").read().split()[0]
    print(f"# roofline, {stamp}, 1 thread, load average {load}")
    print(f"Ceilings: GEMM {c['gemm_f32']:.1f} GFLOP/s float32, {c['gemm_f64']:.1f} float64 ({c['blas']}, 2048^3); "
          f"memory {c['triad_gbs']:.1f} GB/s (STREAM triad, NumPy)"
          + (f"; 16-bit integer products (AVX-512 VNNI) {c['gemm_i16']:.1f}, twice float32\n" if c["vnni"] else "\n"))
    print("| work | GFLOP/s | FLOP/byte | roof at that intensity (its precision) | fraction of the roof | models |")
    print("|---|---|---|---|---|---|")
    for name, gf, ai, model, prec in points:
        roof = min(c["gemm_" + prec], ai * c["triad_gbs"])
        print(f"| {name} | {gf:.1f} | {ai:.1f} | {roof:.1f} | {gf / roof:.0%} | {model} |")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib is not installed: no figure)")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.logspace(-1, 3, 200)
    roofs = [(c["gemm_f32"], "-", "float32 GEMM"), (c["gemm_f64"], "--", "float64 GEMM")]
    if c["vnni"]:
        roofs.insert(0, (c["gemm_i16"], ":", "int16 products (2x float32)"))
    for peak, style, label in roofs:
        ax.loglog(x, np.minimum(peak, x * c["triad_gbs"]), style, color="0.3", label=f"{label} {peak:.0f} GFLOP/s")
    for i, (name, gf, ai, _, _) in enumerate(points):
        ax.loglog([ai], [gf], "o")
        above = i % 2 == 0  # alternate above-right and below-left, so close points stay readable
        ax.annotate(name, (ai, gf), textcoords="offset points", xytext=(6, 6) if above else (-6, -13),
                    ha="left" if above else "right", fontsize=8)
    ax.set_xlabel("arithmetic intensity (FLOP / byte of memory traffic)")
    ax.set_ylabel("GFLOP/s (1 thread)")
    ax.set_title(f"logz kernels against this machine's roofs ({c['triad_gbs']:.0f} GB/s), {stamp}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nfigure: {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()

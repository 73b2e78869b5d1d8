#!/usr/bin/python3
"""PyTorch peer for logz's score-matching objectives: what a user writes without logz.

The product of Student-t experts E(x) = sum_k alpha_k log(1 + (w_k.x)^2 / 2), alpha_k =
exp(log_alpha_k), on N rows of d-dimensional data, with the objective and its parameter
gradient computed by autograd, as the papers' reference code does:
  sm   exact score matching (Hyvarinen 2005): the Laplacian by d extra backward passes
       (one per coordinate; autograd has no cheaper exact trace of the Hessian);
  ssm  sliced score matching (Song et al. 2019), one Rademacher projection per row: one
       Hessian-vector product by double backward;
  dsm  denoising score matching (Vincent 2011), one noise draw per row at sigma.
One "epoch" = the objective and its gradient over all N rows, in minibatches of --batch.
Method "gemm" instead times the matrix products of logz's block paths through torch's
BLAS, over all N rows in 256-row blocks: x_wt = X_b W^T (256 x d by d x K) and at_x =
A_b^T X_b (K x 256 by 256 x d); GFLOP/s (2 N K d flops a pass).
Prints one JSON line: seconds per epoch (median of --repeats after one warm-up epoch) and
epochs per second, per method, in wall-clock and in process CPU time (steadier on a
shared machine; one thread, so the two agree on a quiet one). Run with one thread (--threads 1) to compare with logz's
1-thread figures (bench/continuous_training_bench).
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
import torch


def energy(x, w, log_alpha):
    u = x @ w.T
    return (torch.exp(log_alpha) * torch.log1p(0.5 * u * u)).sum(1)


def sm_loss(x, w, la):
    x = x.requires_grad_(True)
    s = torch.autograd.grad(energy(x, w, la).sum(), x, create_graph=True)[0]
    lap = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        lap = lap + torch.autograd.grad(s[:, i].sum(), x, create_graph=True)[0][:, i]
    return (0.5 * (s * s).sum(1) - lap).sum()


def ssm_loss(x, w, la, gen):
    x = x.requires_grad_(True)
    v = torch.randint(0, 2, x.shape, generator=gen, dtype=x.dtype) * 2 - 1
    s = torch.autograd.grad(energy(x, w, la).sum(), x, create_graph=True)[0]
    vs = (v * s).sum(1)
    hv = torch.autograd.grad(vs.sum(), x, create_graph=True)[0]
    return (0.5 * vs * vs - (v * hv).sum(1)).sum()


def dsm_loss(x, w, la, gen, sigma):
    eps = torch.randn(x.shape, generator=gen, dtype=x.dtype)
    xt = (x + sigma * eps).requires_grad_(True)
    s = torch.autograd.grad(energy(xt, w, la).sum(), xt, create_graph=True)[0]
    r = sigma * s - eps
    return 0.5 * (r * r).sum()


def epoch(method, data, w, la, batch, gen, sigma):
    w.grad = None
    la.grad = None
    total = 0.0
    for b in range(0, data.shape[0], batch):
        x = data[b:b + batch].clone()
        if method == "sm":
            loss = sm_loss(x, w, la)
        elif method == "ssm":
            loss = ssm_loss(x, w, la, gen)
        else:
            loss = dsm_loss(x, w, la, gen, sigma)
        loss.backward()
        total += float(loss)
    return total / data.shape[0]


def gemm_rates(data, w, repeats):
    """GFLOP/s of the two product shapes of logz's block paths, median of `repeats`."""
    wt = w.detach().T.contiguous()
    blocks = [data[b:b + 256] for b in range(0, data.shape[0], 256)]
    flops = 2.0 * data.shape[0] * w.shape[0] * data.shape[1]
    out = {}
    for name in ("x_wt", "at_x"):
        times = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            for _ in range(5):
                acc = torch.zeros(w.shape[0], data.shape[1], dtype=data.dtype)
                for xb in blocks:
                    if name == "x_wt":
                        torch.mm(xb, wt)
                    else:
                        acc.addmm_(xb.T, xb)
            times.append((time.perf_counter() - t0) / 5)
        out[name] = flops / statistics.median(times[1:]) * 1e-9
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=50000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--experts", type=int, default=64)
    p.add_argument("--batch", type=int, default=5000)
    p.add_argument("--methods", default="sm,ssm,dsm")
    p.add_argument("--sigma", type=float, default=0.1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    rng = np.random.default_rng(1)
    data = torch.tensor(rng.standard_normal((a.rows, a.dim)), dtype=dtype)
    w = torch.tensor(rng.standard_normal((a.experts, a.dim)) / math.sqrt(a.dim), dtype=dtype, requires_grad=True)
    la = torch.tensor(np.full(a.experts, math.log(1.5)), dtype=dtype, requires_grad=True)
    gen = torch.Generator().manual_seed(1)
    out = {"peer": "torch", "task": "score_matching_experts", "rows": a.rows, "dim": a.dim, "experts": a.experts,
           "batch": a.batch, "threads": a.threads, "dtype": a.dtype, "torch": torch.__version__}
    for method in a.methods.split(","):
        if method == "gemm":
            out["gemm"] = gemm_rates(data, w, max(a.repeats, 3))
            continue
        epoch(method, data, w, la, a.batch, gen, a.sigma)  # warm-up
        times, cpu = [], []
        for _ in range(a.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            value = epoch(method, data, w, la, a.batch, gen, a.sigma)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        sec, cpu_sec = statistics.median(times), statistics.median(cpu)
        out[method] = {"seconds_per_epoch": sec, "epochs_per_second": 1.0 / sec, "cpu_seconds_per_epoch": cpu_sec,
                       "epochs_per_cpu_second": 1.0 / cpu_sec, "objective": value}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

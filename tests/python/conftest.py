"""Shared fixtures of the Python package's tests: the CLI beside the package, small models
whose exact log Z numpy computes independently, and the repository's data."""

import itertools
import json
import os
import subprocess

import numpy as np
import pytest

import logz

SOURCE_DIR = os.environ.get("LOGZ_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("LOGZ_CLI", os.path.join(SOURCE_DIR, "build", "apps", "logz", "logz"))


def run_cli(*args, check=True):
    """Runs the CLI with --json -q and returns its JSON (and the process)."""
    p = subprocess.run([CLI, *map(str, args), "--json", "-q"], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return (json.loads(p.stdout) if p.stdout.strip() else None), p


def rbm_arrays(n_visible=10, n_hidden=5, scale=0.5, seed=0):
    rng = np.random.default_rng(seed)
    return dict(weights=scale * rng.standard_normal((n_visible, n_hidden)),
                visible_bias=0.3 * rng.standard_normal(n_visible),
                hidden_bias=0.3 * rng.standard_normal(n_hidden))


def rbm_log_z_numpy(weights, visible_bias, hidden_bias):
    """log Z of a binary RBM by summing the visible layer out in closed form over every
    hidden state (independent of logz's own enumeration)."""
    n_hidden = weights.shape[1]
    h = np.array(list(itertools.product([0, 1], repeat=n_hidden)), dtype=float)
    terms = h @ hidden_bias + np.logaddexp(0, visible_bias[None, :] + h @ weights.T).sum(axis=1)
    m = terms.max()
    return m + np.log(np.exp(terms - m).sum())


@pytest.fixture
def rbm_file(tmp_path):
    path = tmp_path / "rbm.npz"
    a = rbm_arrays()
    np.savez(path, **a)
    return path, a


def lattice_couplings(side, coupling, periodic):
    """The couplings matrix of a side x side square lattice, open or periodic."""
    n = side * side
    J = np.zeros((n, n))
    for r in range(side):
        for c in range(side):
            i = side * r + c
            for rr, cc in ((r, c + 1), (r + 1, c)):
                if periodic or (rr < side and cc < side):
                    j = side * (rr % side) + cc % side
                    J[i, j] = J[j, i] = coupling
    return J


@pytest.fixture
def ising_model():
    """A 4x4 open-boundary ferromagnet with a small field."""
    return logz.model(couplings=lattice_couplings(4, 0.4, periodic=False), fields=0.05 * np.ones(16))


def ising_log_z_numpy(J, h, spins=(-1, 1)):
    n = len(h)
    x = np.array(list(itertools.product(spins, repeat=n)), dtype=float)
    # E(x) = -sum_{i<j} J_ij x_i x_j - h.x (the couplings matrix holds each pair twice)
    log_p = 0.5 * np.einsum("si,ij,sj->s", x, J, x) + x @ h
    m = log_p.max()
    return m + np.log(np.exp(log_p - m).sum())


def fashion_mnist_available():
    return os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def fashion_mnist_test():
    """The 10,000 test images of Debian's dataset-fashion-mnist, binarized as logz does."""
    import gzip
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return (raw.reshape(-1, 784) / 255.0 > 0.5).astype(np.uint8)

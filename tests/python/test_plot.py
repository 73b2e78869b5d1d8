"""Every picture of logz.plot renders on real data (Fashion-MNIST, DHFR.a2m): the file is
written, non-empty, and not blank (its pixels vary); and the command line draws them too."""

import os
import subprocess
import sys

import numpy as np
import pytest

import logz
from conftest import CLI, SOURCE_DIR, fashion_mnist_available, fashion_mnist_test

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.image import imread  # noqa: E402

from logz import plot  # noqa: E402

pytestmark = pytest.mark.skipif(not fashion_mnist_available(), reason="dataset-fashion-mnist is not installed")
DHFR = os.path.join(SOURCE_DIR, "..", "shared", "data", "DHFR.a2m")


def assert_picture(path):
    assert os.path.getsize(path) > 1000
    img = imread(path)
    gray = img[..., :3].mean(axis=2) if img.ndim == 3 else img
    # Not blank: the pixels vary, and more than 1% of them are not background white.
    assert gray.std() > 0.02 and (gray < 0.95).mean() > 0.01, (path, gray.std(), (gray < 0.95).mean())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    X = fashion_mnist_test()
    model, history = logz.train_rbm(X[:2000], X[2000:2500], hidden=16, epochs=2, batch=100,
                                    seed=1, monitor_ais_every=1, monitor_ais_chains=20, monitor_ais_betas=200,
                                    monitor_rows=200)
    return model, history, X


def test_filters(trained, tmp_path):
    fig = plot.filters(trained[0], path=tmp_path / "filters.png")
    assert fig is not None
    assert_picture(tmp_path / "filters.png")


def test_samples_next_to_data(trained, tmp_path):
    model, _, X = trained
    s = logz.sample(model, chains=32, steps=200, seed=2)
    plot.samples(s, X[:32], path=tmp_path / "samples.png")
    assert_picture(tmp_path / "samples.png")


def test_training_curves_with_the_ais_band(trained, tmp_path):
    history = trained[1]
    assert history[-1]["ais_test_log_likelihood"] is not None or history[-1].get("ais_log_z") is not None
    plot.training_curves(history, path=tmp_path / "training.svg")
    assert os.path.getsize(tmp_path / "training.svg") > 1000
    plot.training_curves(history, path=tmp_path / "training.png")
    assert_picture(tmp_path / "training.png")


def test_diagnostics_of_replicates_overlaid(trained, tmp_path):
    runs = [logz.estimate(trained[0], "ais", chains=40, betas=300, seed=s) for s in (1, 2)]
    plot.diagnostics(runs, path=tmp_path / "diag.png")
    assert_picture(tmp_path / "diag.png")


def test_estimates_by_method_against_exact(trained, tmp_path):
    m = trained[0]
    results = {"ais": logz.estimate(m, "ais", chains=40, betas=200, seed=3),
               "ais, 5 betas": logz.estimate(m, "ais", chains=40, betas=5, seed=3),
               "is": logz.estimate(m, "is", chains=400, seed=3)}
    plot.estimates(results, exact=logz.exact(m).log_z, path=tmp_path / "est.png")
    assert_picture(tmp_path / "est.png")


@pytest.mark.skipif(not os.path.exists(DHFR), reason="shared/data/DHFR.a2m is not beside the checkout")
def test_contact_map_of_a_dhfr_fit(tmp_path):
    # The first 200 sequences of the family (the focus sequence among them), 2 iterations: a
    # fit of a few seconds on real data.
    with open(DHFR) as f:
        records = f.read().split(">")[1:201]
    subset = tmp_path / "dhfr200.a2m"
    subset.write_text("".join(">" + r for r in records))
    out = tmp_path / "dhfr.npz"
    p = subprocess.run([CLI, "train", "potts", "--data", subset, "--focus", "DYR_ECOLI", "--unknown", "skip",
                        "--ignore-gaps", "--max-iterations", "2", "--out", out, "-q"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    S = plot.apc_scores(logz.load(out))
    assert S.shape[0] == S.shape[1] and np.allclose(S, S.T)
    plot.contacts(logz.load(out), path=tmp_path / "contacts.png")
    assert_picture(tmp_path / "contacts.png")


def test_the_command_line(trained, tmp_path):
    model_path = tmp_path / "m.npz"
    trained[0].save(model_path)
    # `logz plot` (the CLI) runs logz.plot with the package it was built with.
    out = tmp_path / "samples.png"
    p = subprocess.run([CLI, "plot", "samples", "--model", str(model_path), "--steps", "50", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert_picture(out)
    p = subprocess.run([sys.executable, "-m", "logz.plot", "filters", "--model", str(tmp_path / "nope.npz"),
                        "--out", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert p.returncode == 66 and "nope.npz" in p.stderr and not (tmp_path / "x.png").exists()

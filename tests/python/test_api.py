"""The Python API by task: models in and out, exact log Z, estimates with their verdict,
evaluation and sampling, each checked against an independent answer (numpy enumeration)
or against the CLI's own output for the same seed and options (the same bits)."""

import numpy as np
import pytest

import logz
from conftest import (CLI, fashion_mnist_available, fashion_mnist_test, ising_log_z_numpy, lattice_couplings, rbm_arrays,
                      rbm_log_z_numpy, run_cli)


def test_load_save_round_trip(rbm_file, tmp_path):
    path, a = rbm_file
    m = logz.load(path)
    assert m.kind == "rbm" and m.dimension == 10
    out = tmp_path / "again.npz"
    m.save(out)
    back = logz.load(out).arrays
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(back[name], a[name])
    assert bytes(back["logz_kind"]) == b"rbm"


def test_model_from_arrays_in_either_memory_order():
    a = rbm_arrays()
    c = logz.model(**a)
    f = logz.model(**{k: np.asfortranarray(v) for k, v in a.items()})
    np.testing.assert_array_equal(c.arrays["weights"], f.arrays["weights"])
    assert logz.exact(c).log_z == logz.exact(f).log_z


def test_exact_matches_numpy_enumeration():
    a = rbm_arrays(n_visible=12, n_hidden=7, scale=1.0, seed=3)
    got = logz.exact(logz.model(**a))
    assert got.log_z == pytest.approx(rbm_log_z_numpy(**a), abs=1e-9)
    assert "exact" in got.how


def test_exact_ising_matches_numpy_enumeration(ising_model):
    a = ising_model.arrays
    assert logz.exact(ising_model).log_z == pytest.approx(ising_log_z_numpy(a["couplings"], a["fields"]), abs=1e-9)


def test_estimate_is_bit_identical_to_the_cli(rbm_file):
    path, _ = rbm_file
    opts = dict(chains=40, betas=300, seed=7)
    e = logz.estimate(logz.load(path), "ais", **opts)
    cli, _ = run_cli("estimate", "--model", path, "--method", "ais", "--chains", 40, "--betas", 300, "--seed", 7)
    assert e.log_z == cli["log_z"] and e.std_error == cli["std_error"]
    assert e.reliable == cli["reliable"]
    assert len(e.runs) == 4  # the replicate default, as the CLI


@pytest.mark.parametrize("method", ["ais", "smc", "bridge", "lis"])
def test_estimate_covers_exact_log_z(method):
    # 4 SE: a false failure for a correct estimator with a normal error has probability
    # 6.3e-5 per method.
    a = rbm_arrays(n_visible=10, n_hidden=6, scale=0.8, seed=5)
    m = logz.model(**a)
    e = logz.estimate(m, method, chains=64, betas=500, seed=11)
    exact = rbm_log_z_numpy(**a)
    assert abs(e.value - exact) <= 4 * e.std_error, (e, exact)
    lo, hi = e.interval(0.95)
    assert lo < e.value < hi
    assert set(e.steps) >= {"beta", "ess", "acceptance", "log_weight_variance", "resampled"}
    assert e.steps["beta"].ndim == 1 and len(e.steps["beta"]) > 1


def test_interval_uses_students_t_for_few_runs():
    e = logz.estimate(logz.model(**rbm_arrays()), "smc", chains=32, betas=100, runs=4, seed=2)
    lo, hi = e.interval(0.95)
    # t with 3 degrees of freedom: 3.18 standard errors each side, not 1.96.
    assert (hi - lo) / 2 == pytest.approx(3.182446 * e.std_error, rel=1e-5)


def test_verdict_flags_a_budget_that_is_too_small():
    # An ordered periodic 6x6 Ising lattice (K = 0.8) by AIS from the uniform base with 5
    # betas: the weights collapse and the verdict says so.
    m = logz.model(couplings=lattice_couplings(6, 0.8, periodic=True), fields=np.zeros(36))
    e = logz.estimate(m, "ais", chains=16, betas=5, seed=1)
    assert not e.reliable and e.warnings
    assert {"name", "message", "advice"} <= set(e.warnings[0])
    with pytest.raises(logz.UnreliableError, match="importance weights"):
        logz.estimate(m, "ais", chains=16, betas=5, seed=1, strict=True)


def test_evaluate_exact_matches_numpy():
    a = rbm_arrays(n_visible=10, n_hidden=5, seed=2)
    rng = np.random.default_rng(0)
    X = (rng.random((30, 10)) < 0.5).astype(np.uint8)
    ev = logz.evaluate(logz.model(**a), X, "exact")
    # log p(v) = v.b + sum softplus(c + v W) - log Z
    ll = X @ a["visible_bias"] + np.logaddexp(0, a["hidden_bias"] + X @ a["weights"]).sum(1) - rbm_log_z_numpy(**a)
    np.testing.assert_allclose(ev.per_row, ll, atol=1e-9)
    assert ev.mean_log_likelihood == pytest.approx(ll.mean(), abs=1e-9)
    # float and Fortran-ordered input give the same numbers
    ev2 = logz.evaluate(logz.model(**a), np.asfortranarray(X.astype(np.float64)), "exact")
    np.testing.assert_array_equal(ev.per_row, ev2.per_row)


def test_evaluate_ising_has_per_site(ising_model):
    X = np.where(np.random.default_rng(1).random((20, 16)) < 0.5, -1, 1)
    ev = logz.evaluate(ising_model, X, "exact")
    assert ev.per_site.shape == (16,) and np.all(ev.per_site < 0)


def test_sample_shapes_and_values(ising_model):
    s = logz.sample(ising_model, chains=8, steps=20, seed=3)
    assert s.shape == (8, 16) and set(np.unique(s)) <= {-1, 1}
    r = logz.sample(logz.model(**rbm_arrays()), chains=5, steps=10, seed=3)
    assert r.shape == (5, 10) and r.dtype == np.uint8
    assert np.array_equal(r, logz.sample(logz.model(**rbm_arrays()), chains=5, steps=10, seed=3))


def test_sample_is_bit_identical_to_the_cli(rbm_file, tmp_path):
    path, _ = rbm_file
    out = tmp_path / "s.npy"
    run_cli("sample", "--model", path, "--chains", 6, "--steps", 30, "--seed", 4, "--out", out)
    np.testing.assert_array_equal(np.load(out), logz.sample(logz.load(path), chains=6, steps=30, seed=4))


@pytest.mark.skipif(not fashion_mnist_available(), reason="dataset-fashion-mnist is not installed")
def test_real_data_by_spec_and_by_array():
    a = rbm_arrays(n_visible=784, n_hidden=8, scale=0.05, seed=4)
    m = logz.model(**a)
    ev = logz.evaluate(m, "fashion-mnist:test", "exact")
    assert ev.rows == 10000 and np.isfinite(ev.mean_log_likelihood)
    # The same rows read here (IDX, binarized as logz does: pixel / 255 > 0.5), Fortran order.
    X = fashion_mnist_test()
    ev2 = logz.evaluate(m, np.asfortranarray(X), "exact")
    np.testing.assert_array_equal(ev.per_row, ev2.per_row)


def test_errors_carry_the_cli_messages(tmp_path, rbm_file):
    missing = tmp_path / "nope.npz"
    with pytest.raises(logz.InputError) as e:
        logz.load(missing)
    assert isinstance(e.value, FileNotFoundError)
    _, p = run_cli("info", "--model", missing, check=False)
    assert p.returncode == 66 and str(e.value) in p.stderr

    m = logz.load(rbm_file[0])
    with pytest.raises(logz.UsageError, match=r"^estimate: chains must be at least 1, got 0$") as e:
        logz.estimate(m, "ais", chains=0)
    assert isinstance(e.value, ValueError) and e.value.code == 64
    _, p = run_cli("estimate", "--model", rbm_file[0], "--chains", 0, check=False)
    assert p.returncode == 64 and str(e.value).replace("chains", "--chains") in p.stderr
    with pytest.raises(logz.UsageError, match=r"unknown option 'chanis'"):
        logz.estimate(m, "ais", chanis=10)
    with pytest.raises(logz.UsageError, match=r"method must be exact or one of is, ais, .*got .nope."):
        logz.estimate(m, "nope")
    with pytest.raises(logz.DataError, match=r"has 3 columns but the model has 10 visible units"):
        logz.evaluate(m, np.zeros((2, 3)), "exact")
    with pytest.raises(logz.DataError, match=r"not 0 or 1"):
        logz.evaluate(m, np.full((2, 10), 0.5), "exact")
    with pytest.raises(logz.UsageError, match=r"chains must be an integer"):
        logz.estimate(m, "ais", chains=2.5)


def test_methods_lists_the_registry():
    info = logz.methods()
    assert {"exact", "is", "ais", "raise", "smc", "bridge", "ti", "lis"} <= set(info["methods"])
    names = {o[0] for o in info["options"]}
    assert {"chains", "betas", "seed", "runs", "burn_in"} <= names

"""logz.BernoulliRBM as a scikit-learn estimator: trained by logz with the CLI's bits, in a
Pipeline with LogisticRegression on Fashion-MNIST, cloned, and scored with an exact log Z."""

import numpy as np
import pytest

import logz
from conftest import fashion_mnist_available, fashion_mnist_test, run_cli

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402


def binary_rows(n=300, d=20, seed=0):
    rng = np.random.default_rng(seed)
    proto = rng.random((3, d)) < 0.5
    rows = proto[rng.integers(0, 3, n)] ^ (rng.random((n, d)) < 0.1)
    return rows.astype(np.uint8)


def test_fit_is_bit_identical_to_the_cli(tmp_path):
    X = binary_rows()
    np.save(tmp_path / "x.npy", X)
    out = tmp_path / "m.npz"
    run_cli("train", "rbm", "--data", tmp_path / "x.npy", "--test-data", "none", "--hidden", 8, "--epochs", 3,
            "--batch", 50, "--seed", 5, "--out", out, "--checkpoint", "none", "--log", "none")
    rbm = logz.BernoulliRBM(n_hidden=8, n_iter=3, batch_size=50, random_state=5).fit(np.asfortranarray(X))
    cli = logz.load(out).arrays
    np.testing.assert_array_equal(rbm.model_.arrays["weights"], cli["weights"])
    np.testing.assert_array_equal(rbm.model_.arrays["hidden_bias"], cli["hidden_bias"])
    assert len(rbm.history_) == 3 and "recon_error" in rbm.history_[-1]


def test_score_samples_with_exact_log_z():
    X = binary_rows(seed=1)
    rbm = logz.BernoulliRBM(n_hidden=6, n_iter=2, batch_size=50, random_state=2).fit(X)
    ll = rbm.score_samples(X[:40])
    ev = logz.evaluate(rbm.model_, X[:40], "exact")
    # The same quantity; numpy sums in another order than logz: 1e-9 nats.
    np.testing.assert_allclose(ll, ev.per_row, atol=1e-9)
    assert isinstance(rbm.log_z_, logz.Exact)
    assert rbm.score(X[:40]) == pytest.approx(ll.mean())


def test_clone_and_params_round_trip():
    est = logz.BernoulliRBM(n_hidden=12, method="pt", replicas=4, learning_rate=0.01, random_state=9)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    copy.set_params(n_hidden=3)
    assert copy.n_hidden == 3 and est.n_hidden == 12
    with pytest.raises(ValueError):
        est.set_params(nonsense=1)


def test_transform_is_the_hidden_probabilities():
    X = binary_rows(seed=3)
    rbm = logz.BernoulliRBM(n_hidden=5, n_iter=1, random_state=1).fit(X)
    H = rbm.transform(X[:10])
    assert H.shape == (10, 5) and np.all((H > 0) & (H < 1))
    W, c = rbm.model_.arrays["weights"].astype(float), rbm.model_.arrays["hidden_bias"].astype(float)
    np.testing.assert_allclose(H, 1 / (1 + np.exp(-(X[:10] @ W + c))), rtol=1e-12)


def test_unfitted_is_a_usage_error():
    with pytest.raises(logz.UsageError, match="not fitted yet"):
        logz.BernoulliRBM().transform(np.zeros((1, 3)))


def labels(name):
    import gzip
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{name}-labels-idx1-ubyte.gz") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=8)


@pytest.mark.skipif(not fashion_mnist_available(), reason="dataset-fashion-mnist is not installed")
def test_pipeline_with_logistic_regression_on_fashion_mnist():
    X = fashion_mnist_test()
    y = labels("t10k")
    train, test = slice(0, 3000), slice(3000, 4000)
    pipe = Pipeline([("rbm", logz.BernoulliRBM(n_hidden=64, n_iter=3, learning_rate=0.05, random_state=1)),
                     ("clf", LogisticRegression(max_iter=1000))])
    pipe.fit(X[train], y[train])
    accuracy = pipe.score(X[test], y[test])
    # Ten balanced classes: chance is 0.1; RBM features with a linear classifier reach
    # about 0.7 here, and 0.5 is far from both.
    assert accuracy > 0.5, accuracy
    assert clone(pipe).get_params()["rbm__n_hidden"] == 64


def test_partial_fit_continues_the_same_model():
    X = binary_rows(seed=4)
    twice = logz.BernoulliRBM(n_hidden=6, batch_size=50, random_state=3)
    twice.partial_fit(X)
    assert len(twice.history_) == 1
    twice.partial_fit(X)
    fitted = logz.BernoulliRBM(n_hidden=6, batch_size=50, random_state=3, n_iter=2).fit(X)
    # Epoch streams depend on (seed, epoch) only: the same bits as two epochs of fit.
    np.testing.assert_array_equal(twice.model_.arrays["weights"], fitted.model_.arrays["weights"])
    assert len(twice.history_) == 2
    # After fit, partial_fit goes on from the fitted model (a third epoch).
    fitted.partial_fit(X)
    assert len(fitted.history_) == 3
    assert not np.array_equal(fitted.model_.arrays["weights"], twice.model_.arrays["weights"])


def test_gaussian_rbm_fits_scores_and_matches_the_cli(tmp_path):
    # Two well-separated clusters in 3 dimensions: a 4-hidden GRBM by score matching.
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(-2, 0.5, (200, 3)), rng.normal(2, 0.5, (200, 3))])
    grbm = logz.GaussianRBM(n_hidden=4, max_iter=100, random_state=2).fit(np.asfortranarray(X))
    np.save(tmp_path / "x.npy", X)
    run_cli("train", "grbm", "--data", tmp_path / "x.npy", "--hidden", 4, "--max-iterations", 100, "--seed", 2,
            "--out", tmp_path / "g.npz")
    np.testing.assert_array_equal(grbm.model_.arrays["weights"], logz.load(tmp_path / "g.npz").arrays["weights"])
    H = grbm.transform(X[:5])
    a = grbm.model_.arrays
    expected = 1 / (1 + np.exp(-((X[:5] / a["visible_sigma"] ** 2) @ a["weights"] + a["hidden_bias"])))
    assert H.shape == (5, 4)
    np.testing.assert_allclose(H, expected, rtol=1e-12)
    ll = grbm.score_samples(X[:50])
    assert isinstance(grbm.log_z_, logz.Exact) and ll.shape == (50,) and np.all(np.isfinite(ll))
    np.testing.assert_array_equal(ll, logz.evaluate(grbm.model_, X[:50], "exact").per_row)
    assert clone(grbm).get_params() == grbm.get_params()
    assert grbm.sample(8, steps=20).shape == (8, 3)

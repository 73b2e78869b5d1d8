"""The Ising, Potts and continuous-model classes on real data (DHFR.a2m, samples of known
models): the same bits as the CLI for the same settings, contact tables numbered as the
CLI (and plmc) number them, log p from the exact log Z, and rows read in place."""

import os

import numpy as np
import pytest

import logz
from logz import _logz
from conftest import SOURCE_DIR, ising_log_z_numpy, lattice_couplings, rbm_arrays, run_cli

try:
    from sklearn.base import clone
except ImportError:  # the classes' own get_params/set_params protocol
    def clone(est):
        return type(est)(**est.get_params())

DHFR = os.path.join(SOURCE_DIR, "..", "shared", "data", "DHFR.a2m")


@pytest.fixture(scope="module")
def dhfr_subset(tmp_path_factory):
    """The first 200 sequences of DHFR.a2m (the focus sequence DYR_ECOLI among them)."""
    if not os.path.exists(DHFR):
        pytest.skip("shared/data/DHFR.a2m is not beside the checkout")
    with open(DHFR) as f:
        records = f.read().split(">")[1:201]
    path = tmp_path_factory.mktemp("dhfr") / "dhfr200.a2m"
    path.write_text("".join(">" + r for r in records))
    return path


def test_potts_on_dhfr_is_the_cli_fit_with_its_contact_table(dhfr_subset, tmp_path):
    est = logz.Potts(focus="DYR_ECOLI", unknown="skip", ignore_gaps=True, lambda_e=16.0, max_iter=3)
    est.fit(dhfr_subset)
    out, contacts_file, weights_file = tmp_path / "m.npz", tmp_path / "c.txt", tmp_path / "w.txt"
    j, _ = run_cli("train", "potts", "--data", dhfr_subset, "--focus", "DYR_ECOLI", "--unknown", "skip",
                   "--ignore-gaps", "--lambda-e", 16, "--max-iterations", 3, "--out", out, "--contacts",
                   contacts_file, "--weights-out", weights_file)
    cli = logz.load(out).arrays
    for name, a in est.model_.arrays.items():
        np.testing.assert_array_equal(a, cli[name], err_msg=name)
    assert est.fit_info_["objective"] == j["objective"] and est.fit_info_["iterations"] == j["iterations"]
    # The table and the weights are the CLI's, numbered by the focus (plmc's residue numbers).
    c = logz.contacts(est.model_)
    assert c["text"] == contacts_file.read_text()
    written = np.loadtxt(weights_file, comments="#")
    np.testing.assert_array_equal(est.weights_, written[written > 0])
    L = est.fields_.shape[0]
    assert len(c["i"]) == L * (L - 1) // 2 and c["j"].max() > L  # residue numbers (inserts skipped), not 1..L
    top = est.contacts(top=10, min_separation=6)
    assert len(top["apc"]) == 10 and np.all(np.diff(top["apc"]) <= 0) and np.all(np.abs(top["i"] - top["j"]) >= 6)
    assert top["ai"].dtype == np.dtype("S1") and set(top["ai"]) <= set(np.frombuffer(est.alphabet_.encode(), "S1"))
    est.save(tmp_path / "again.npz")
    assert logz.contacts(logz.load(tmp_path / "again.npz"))["text"] == c["text"]


def small_potts():
    rng = np.random.default_rng(3)
    L, q = 5, 3
    J = np.zeros((L, L, q, q))
    for i in range(L):
        for k in range(i + 1, L):
            J[i, k] = 0.6 * rng.standard_normal((q, q))
            J[k, i] = J[i, k].T
    return logz.model(fields=0.3 * rng.standard_normal((L, q)), couplings=J)


def test_potts_from_states_matches_the_cli_and_scores_with_exact_log_z(tmp_path):
    X = logz.sample(small_potts(), chains=400, steps=20, seed=2)
    est = logz.Potts(lambda_e=0.01, lambda_h=0.01, alphabet="").fit(X.astype(np.int64))
    np.save(tmp_path / "x.npy", X)
    run_cli("train", "potts", "--data", tmp_path / "x.npy", "--lambda-e", 0.01, "--out", tmp_path / "m.npz")
    np.testing.assert_array_equal(est.couplings_, logz.load(tmp_path / "m.npz").arrays["couplings"])
    np.testing.assert_array_equal(est.weights_, np.ones(400))
    ll = est.score_samples(X[:20])
    assert isinstance(est.log_z_, logz.Exact)
    np.testing.assert_allclose(ll, logz.evaluate(est.model_, X[:20], "exact").per_row, rtol=0, atol=1e-12)
    # log p sums to one over all 3^5 states.
    grid = np.array(np.meshgrid(*[range(3)] * 5, indexing="ij")).reshape(5, -1).T.astype(float)
    assert abs(np.exp(est.score_samples(grid)).sum() - 1) < 1e-10
    assert est.sample(7, steps=5).shape == (7, 5)


def test_ising_fits_match_the_cli_and_log_p_the_enumeration(tmp_path):
    J, h = lattice_couplings(3, 0.5, periodic=False), 0.1 * np.ones(9)
    X = logz.sample(logz.model(couplings=J, fields=h), chains=300, steps=30, seed=4)
    np.save(tmp_path / "x.npy", X)
    for method, extra in (("pl", {}), ("pcd", dict(graph="lattice:3x3", n_updates=60, n_chains=50))):
        est = logz.Ising(method=method, random_state=3, **extra).fit(X)
        cli_args = ["--graph", "lattice:3x3", "--updates", 60, "--chains", 50] if extra else []
        run_cli("train", "ising", "--data", tmp_path / "x.npy", "--method", method, "--seed", 3, *cli_args,
                "--out", tmp_path / f"{method}.npz")
        cli = logz.load(tmp_path / f"{method}.npz").arrays
        np.testing.assert_array_equal(est.couplings_, cli["couplings"])
        np.testing.assert_array_equal(est.fields_, cli["fields"])
    # log p of the fitted model against numpy's enumeration of its 512 states.
    m = est.model_.arrays
    log_z = ising_log_z_numpy(m["couplings"], m["fields"])
    ll = est.score_samples(X[:10])
    energy = -0.5 * np.einsum("si,ij,sj->s", X[:10], m["couplings"], X[:10]) - X[:10] @ m["fields"]
    np.testing.assert_allclose(ll, -energy - log_z, rtol=0, atol=1e-9)
    assert clone(est).get_params() == est.get_params()


def test_bad_input_raises_the_cli_messages(tmp_path):
    with pytest.raises(logz.DataError, match=r"train ising: data \(array\): entry 1 is 2, not a spin"):
        logz.Ising().fit(np.array([[1.0, 2.0], [1.0, -1.0]]))
    with pytest.raises(logz.UsageError, match="train potts: method must be one of pl, pcd, got 'ml'"):
        logz.Potts(method="ml").fit(np.zeros((3, 3)))
    with pytest.raises(logz.UsageError, match="train ising: method pl fits every pair of spins; use rm, exact or pcd "
                                              "with graph ring"):
        logz.Ising(graph="ring").fit(np.ones((4, 4)))
    with pytest.raises(logz.UsageError, match="train potts: chains must be a non-negative integer, got -1"):
        logz.Potts(method="pcd", n_chains=-1).fit(np.zeros((3, 3)))
    with pytest.raises(logz.InputError):
        logz.Potts().fit(str(tmp_path / "missing.a2m"))
    with pytest.raises(logz.UsageError, match="not fitted yet"):
        logz.Potts().contacts()


def test_continuous_classes_match_the_cli(tmp_path):
    rng = np.random.default_rng(8)
    X = rng.standard_t(5, size=(300, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.2], [0.1, 0.0, 1.0]])
    np.save(tmp_path / "x.npy", X)
    for cls, model, args in ((logz.StudentTExperts, "experts", dict(n_experts=4)),
                             (logz.NeuralEnergy, "neural", dict(n_hidden=5))):
        est = cls(max_iter=40, random_state=2, **args).fit(X)
        size = ["--hidden", list(args.values())[0]]
        run_cli("train", model, "--data", tmp_path / "x.npy", *size, "--max-iterations", 40, "--seed", 2,
                "--out", tmp_path / f"{model}.npz")
        cli = logz.load(tmp_path / f"{model}.npz").arrays
        for name, a in est.params_.items():
            np.testing.assert_array_equal(a, cli[name], err_msg=f"{model} {name}")
        assert clone(est).get_params() == est.get_params()
    # log p by AIS (no exact method): log Z computed once, then -E - log Z per row.
    est.set_params(log_z_options=dict(chains=64, betas=200, seed=1))
    ll = est.score_samples(X[:30])
    assert isinstance(est.log_z_, logz.Estimate) and ll.shape == (30,)
    np.testing.assert_allclose(ll, -logz.energies(est.model_, X[:30]) - est.log_z_.value, rtol=0, atol=1e-12)
    assert est.sample(6, steps=30).shape == (6, 3)


def test_rows_are_read_in_place_when_the_layout_allows():
    """No copy for rows already in the layout the model reads (C order; float64, or uint8
    for a binary RBM): the library is handed the array's own buffer. Other layouts are
    converted, with the same energies."""
    rng = np.random.default_rng(1)
    gaussian = logz.model(mean=np.zeros(4), precision=np.eye(4) * 2.0)
    X = rng.standard_normal((50, 4))
    e = logz.energies(gaussian, X)
    assert _logz._last_rows_address() == X.ctypes.data
    np.testing.assert_allclose(e, (X * X).sum(axis=1), rtol=1e-12)  # E(x) = x'Px/2 with P = 2I
    for other in (np.asfortranarray(X), X.astype(np.float32), X[:, ::-1][:, ::-1].copy(order="F")):
        np.testing.assert_allclose(logz.energies(gaussian, other), logz.energies(gaussian, X.astype(other.dtype)))
        assert _logz._last_rows_address() != other.ctypes.data
    rbm = logz.model(**rbm_arrays())
    V = (rng.random((40, 10)) < 0.5).astype(np.uint8)
    f = logz.energies(rbm, V)
    assert _logz._last_rows_address() == V.ctypes.data
    np.testing.assert_array_equal(f, logz.energies(rbm, np.asfortranarray(V.astype(np.float64))))
    assert _logz._last_rows_address() != V.ctypes.data
    # Evaluation reads the same rows in place.
    logz.evaluate(gaussian, X, "exact")
    assert _logz._last_rows_address() == X.ctypes.data

"""A user's own energy in NumPy, normalised by logz: the seed's 2-D ring
E(x) = 0.1 (|x|^2 - 1)^2, whose log Z = log(pi * integral_0^inf exp(-0.1 (u - 1)^2) du)
= 2.4718417... (the integral in closed form with erfc)."""

import math

import numpy as np
import pytest

import logz

RING_LOG_Z = math.log(math.pi * 0.5 * math.sqrt(math.pi / 0.1) * math.erfc(-math.sqrt(0.1)))


def ring(x):
    r2 = (x * x).sum(axis=1)
    return 0.1 * (r2 - 1.0) ** 2


def ring_grad(x):
    r2 = (x * x).sum(axis=1, keepdims=True)
    return 0.4 * (r2 - 1.0) * x


def test_the_reference_value():
    assert RING_LOG_Z == pytest.approx(2.4718417, abs=1e-7)


@pytest.mark.parametrize("method,options", [
    ("ais", dict(chains=200, betas=200)),
    ("smc", dict(chains=200, betas=100, runs=4)),
    ("bridge", dict(chains=8, betas=30, samples=50)),
])
def test_ring_log_z_within_4_se(method, options):
    # 4 SE: a false failure of a correct estimator with normal errors has probability
    # 6.3e-5 per case.
    e = logz.estimate(ring, method, dim=2, grad=ring_grad, seed=3, **options)
    assert abs(e.value - RING_LOG_Z) <= 4 * e.std_error, e
    assert e.details["kind"] == "energy" and e.details["kernel"] == "mala"


def test_without_a_gradient_random_walk_metropolis():
    e = logz.estimate(ring, "ais", dim=2, chains=200, betas=200, seed=5)
    assert e.details["kernel"] == "rwm"
    assert abs(e.value - RING_LOG_Z) <= 4 * e.std_error, e


def test_same_bits_for_any_thread_count():
    a = logz.estimate(ring, "ais", dim=2, grad=ring_grad, chains=50, betas=50, seed=2, threads=1)
    b = logz.estimate(ring, "ais", dim=2, grad=ring_grad, chains=50, betas=50, seed=2, threads=2)
    assert a.value == b.value and a.std_error == b.std_error


def test_bad_energies_are_named():
    with pytest.raises(logz.DataError, match=r"energy\(X\) for X of shape \(25, 2\) returned"):
        logz.estimate(lambda x: x, "ais", dim=2, chains=100, betas=10)
    with pytest.raises(logz.UsageError, match="needs dim="):
        logz.estimate(ring, "ais")
    with pytest.raises(logz.UsageError, match="mala needs the energy's gradient"):
        logz.estimate(ring, "ais", dim=2, kernel="mala", chains=10, betas=10)
    with pytest.raises(ZeroDivisionError):
        logz.estimate(lambda x: 1 / 0, "ais", dim=2, chains=10, betas=10)


def test_sampling_a_python_energy():
    # E[|x|^2] under the ring by quadrature (u = |x|^2 has density ~ exp(-0.1 (u - 1)^2) on
    # u >= 0), against 2000 independent chains' last states: 4.5 SE (false failure 7e-6).
    u = np.linspace(0, 60, 600001)
    w = np.exp(-0.1 * (u - 1) ** 2)
    mean_u = (u * w).sum() / w.sum()
    x, info = logz.sample(ring, chains=2000, steps=300, seed=4, dim=2, grad=ring_grad, return_info=True)
    r2 = (x * x).sum(axis=1)
    assert x.shape == (2000, 2) and 0.2 < info["acceptance_rate"] < 1
    assert abs(r2.mean() - mean_u) <= 4.5 * r2.std() / np.sqrt(len(r2)), (r2.mean(), mean_u)
    again = logz.sample(ring, chains=2000, steps=300, seed=4, dim=2, grad=ring_grad)
    np.testing.assert_array_equal(x, again)

"""scikit-learn-style estimators on logz's trainers (they work in a Pipeline and with
``sklearn.base.clone`` when scikit-learn is installed, and without it too)."""

import inspect
import os
import shutil
import tempfile
import weakref

import numpy as np

from . import _core

try:  # scikit-learn's bases give clone, Pipeline and repr support; logz does not need them
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import TransformerMixin as _Transformer
except ImportError:  # the same parameter protocol, written out
    class _Base:
        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}")
                setattr(self, name, value)
            return self

    class _Transformer:
        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)


def _softplus(x):
    return np.logaddexp(0.0, x)


class _RbmEstimator(_Transformer, _Base):
    """What BernoulliRBM and GaussianRBM share once fitted: the fitted check, log Z by
    ``log_z`` (exact up to ``_exact_hidden`` hidden units, else AIS), score and save."""

    _exact_hidden = 20

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise _core.UsageError(f"logz: this {type(self).__name__} is not fitted yet; call fit first")

    def compute_log_z(self, progress=None):
        """log Z by ``log_z`` (kept in ``log_z_``): a logz.Exact or a logz.Estimate."""
        self._check_fitted()
        method = self.log_z
        if method == "auto":
            method = "exact" if self._enumerated_units() <= self._exact_hidden else "ais"
        if method == "exact":
            self.log_z_ = _core.exact(self.model_, threads=self.threads)
        else:
            self.log_z_ = _core.estimate(self.model_, method, threads=self.threads, progress=progress,
                                         **(self.log_z_options or {}))
        return self.log_z_

    def _enumerated_units(self):
        return self.components_.shape[0]

    def score(self, X, y=None):
        """The mean log-likelihood of the rows of X."""
        return float(np.mean(self.score_samples(X)))

    def save(self, path):
        """Writes the model file (the CLI's format)."""
        self._check_fitted()
        self.model_.save(path)


class BernoulliRBM(_RbmEstimator):
    """A binary RBM trained by logz (CD-k, PCD-k or PCD on parallel-tempering ladders),
    shaped like scikit-learn's BernoulliRBM, with an exact or estimated log Z behind
    ``score_samples``.

    Parameters follow the CLI's ``logz train rbm`` options: ``n_hidden``, ``method`` ("cd",
    "pcd", "pt"), ``k``, ``n_iter`` (epochs), ``batch_size``, ``learning_rate``,
    ``momentum``, ``weight_decay``, ``n_chains`` (persistent chains; 0 = batch_size),
    ``replicas`` (pt), ``init_scale``, ``random_state`` (an int seed: the same bits as the
    CLI with --seed), ``threads``; ``log_z``: "exact", or an estimator name ("ais", ...)
    run with ``log_z_options`` when ``score_samples`` needs log Z ("auto": exact when the
    smaller layer has at most 24 units, else AIS with its defaults).

    Attributes after fit: ``model_`` (a :class:`logz.Model`), ``components_`` [n_hidden,
    n_features], ``intercept_hidden_``, ``intercept_visible_``, ``history_`` (one dict per
    epoch: reconstruction error, pseudo-log-likelihood, ...), ``log_z_`` once computed.
    """

    def __init__(self, n_hidden=256, method="pcd", k=1, n_iter=10, batch_size=100, learning_rate=0.05,
                 momentum=0.5, weight_decay=0.0, n_chains=0, replicas=10, init_scale=0.01, random_state=1,
                 threads=0, log_z="auto", log_z_options=None):
        self.n_hidden = n_hidden
        self.method = method
        self.k = k
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.n_chains = n_chains
        self.replicas = replicas
        self.init_scale = init_scale
        self.random_state = random_state
        self.threads = threads
        self.log_z = log_z
        self.log_z_options = log_z_options

    def fit(self, X, y=None, test_data=None, progress=None):
        """Trains on the rows of X (0/1, any numeric dtype, either memory order) for n_iter
        epochs, from a new model."""
        checkpoint = self._checkpoint_path()
        if os.path.exists(checkpoint):
            os.remove(checkpoint)
        return self._train(X, test_data, progress, self.n_iter, resume=False)

    def partial_fit(self, X, y=None, progress=None):
        """One more epoch on the rows of X: the first call starts a model, later calls (and
        calls after fit) continue it from its checkpoint (weights, momentum, persistent
        chains), so chunks of a stream train one model. Two partial_fit calls on X give
        the bits of fit(X) with n_iter=2."""
        done = len(getattr(self, "history_", []))
        return self._train(X, None, progress, done + 1, resume=done > 0)

    def _checkpoint_path(self):
        if getattr(self, "_checkpoint_dir", None) is None or not os.path.isdir(self._checkpoint_dir):
            self._checkpoint_dir = tempfile.mkdtemp(prefix="logz-rbm-")
            weakref.finalize(self, shutil.rmtree, self._checkpoint_dir, True)
        return os.path.join(self._checkpoint_dir, "checkpoint.npz")

    def _train(self, X, test_data, progress, epochs, resume):
        seed = self.random_state if self.random_state is not None else 1
        if not isinstance(seed, (int, np.integer)):
            raise _core.UsageError("logz: random_state must be an int seed (or None for 1)")
        self.model_, self.history_ = _core.train_rbm(
            X, test_data, threads=self.threads, progress=progress, hidden=self.n_hidden, method=self.method, k=self.k,
            epochs=epochs, batch=self.batch_size, lr=self.learning_rate, momentum=self.momentum,
            weight_decay=self.weight_decay, chains=self.n_chains, replicas=self.replicas, init_scale=self.init_scale,
            seed=int(seed), checkpoint=self._checkpoint_path(), resume=resume)
        a = self.model_.arrays
        self.components_ = a["weights"].T.astype(np.float64)
        self.intercept_hidden_ = a["hidden_bias"].astype(np.float64)
        self.intercept_visible_ = a["visible_bias"].astype(np.float64)
        self.n_features_in_ = self.components_.shape[1]
        self.__dict__.pop("log_z_", None)
        return self

    _exact_hidden = 24  # the smaller layer is enumerated

    def _enumerated_units(self):
        return min(self.components_.shape)

    def transform(self, X):
        """p(h_j = 1 | v) for every row: the hidden features."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-(X @ self.components_.T + self.intercept_hidden_)))

    def free_energy(self, X):
        """F(v) = -v.b - sum_j softplus(c_j + v W_j), so that p(v) = exp(-F(v)) / Z."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return -(X @ self.intercept_visible_) - _softplus(X @ self.components_.T + self.intercept_hidden_).sum(axis=1)

    def score_samples(self, X):
        """log p(v) of every row: -F(v) - log Z (log Z computed once, see compute_log_z)."""
        if not hasattr(self, "log_z_"):
            self.compute_log_z()
        return -self.free_energy(X) - float(self.log_z_.log_z)

    def sample(self, n_samples=64, steps=1000, seed=1):
        """Visible states of ``n_samples`` Gibbs chains after ``steps`` sweeps each."""
        self._check_fitted()
        return _core.sample(self.model_, chains=n_samples, steps=steps, seed=seed, threads=self.threads)


class GaussianRBM(_RbmEstimator):
    """A Gaussian-Bernoulli RBM for real-valued rows, fitted by logz without its partition
    function (``method``: "sm" score matching, "ssm", "dsm", "nce", or "pcd"), shaped like
    BernoulliRBM: fit, transform (p(h | v)), score_samples with an exact log Z (enumeration
    of up to 20 hidden units) or an estimate, sample, get_params/set_params.

    Parameters follow ``logz train grbm``: ``n_hidden``, ``method``, ``optimizer`` ("lbfgs"
    or "adam"), ``learn_sigma``, ``init_scale``, ``max_iter`` (L-BFGS iterations),
    ``n_iter`` (epochs of adam / pcd), ``batch_size``, ``learning_rate``, ``random_state``,
    ``threads``; ``log_z`` and ``log_z_options`` as for BernoulliRBM.

    Attributes after fit: ``model_``, ``components_`` [n_hidden, n_features],
    ``intercept_hidden_``, ``intercept_visible_``, ``sigma_``, ``history_`` (the objective
    per iteration or epoch), ``fit_info_``.
    """

    def __init__(self, n_hidden=16, method="sm", optimizer="lbfgs", learn_sigma=True, init_scale=0.1, max_iter=500,
                 n_iter=20, batch_size=100, learning_rate=1e-3, random_state=1, threads=0, log_z="auto",
                 log_z_options=None):
        self.n_hidden = n_hidden
        self.method = method
        self.optimizer = optimizer
        self.learn_sigma = learn_sigma
        self.init_scale = init_scale
        self.max_iter = max_iter
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.threads = threads
        self.log_z = log_z
        self.log_z_options = log_z_options

    def fit(self, X, y=None, progress=None):
        seed = self.random_state if self.random_state is not None else 1
        self.model_, self.fit_info_ = _core.train_continuous(
            X, threads=self.threads, progress=progress, model="grbm", method=self.method, optimizer=self.optimizer,
            hidden=self.n_hidden, learn_sigma=self.learn_sigma, init_scale=self.init_scale,
            max_iterations=self.max_iter, epochs=self.n_iter, batch=self.batch_size, lr=self.learning_rate,
            seed=int(seed))
        a = self.model_.arrays
        self.components_ = a["weights"].T
        self.intercept_hidden_ = a["hidden_bias"]
        self.intercept_visible_ = a["visible_bias"]
        self.sigma_ = a["visible_sigma"]
        self.history_ = self.fit_info_["trace"]
        self.n_features_in_ = self.components_.shape[1]
        self.__dict__.pop("log_z_", None)
        return self

    def transform(self, X):
        """p(h_j = 1 | v) = sigmoid(c_j + sum_i v_i W_ij / sigma_i^2) for every row."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-((X / self.sigma_ ** 2) @ self.components_.T + self.intercept_hidden_)))

    def score_samples(self, X):
        """log p(v) of every row by logz.evaluate with the method of ``log_z_`` (which
        computes log Z again on each call: the per-row energies are not yet in the API)."""
        if not hasattr(self, "log_z_"):
            self.compute_log_z()
        return _core.evaluate(self.model_, np.asarray(X, dtype=np.float64), "exact" if isinstance(
            self.log_z_, _core.Exact) else self.log_z_.method, threads=self.threads,
            **({} if isinstance(self.log_z_, _core.Exact) else (self.log_z_options or {}))).per_row

    def sample(self, n_samples=64, steps=1000, seed=1):
        """The last state of each of ``n_samples`` chains (logz sample's HMC chains, step
        size adapted during warm-up), ``steps`` steps each."""
        self._check_fitted()
        draws = _core.sample(self.model_, chains=n_samples, steps=steps, seed=seed, threads=self.threads)
        return draws.reshape(n_samples, -1, draws.shape[1])[:, -1]  # draws are chain-major


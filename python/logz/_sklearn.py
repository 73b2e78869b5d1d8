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


def _store(estimator, params):
    """Keeps the constructor's arguments as attributes of the same names (scikit-learn's
    parameter protocol reads them back by the constructor's signature)."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


def _seed(random_state):
    seed = random_state if random_state is not None else 1
    if not isinstance(seed, (int, np.integer)):
        raise _core.UsageError("logz: random_state must be an int seed (or None for 1)")
    return int(seed)


class _Fitted:
    """What every fitted logz estimator shares: the fitted check, log Z by ``log_z``
    (exact where ``_exact_feasible`` says so, else AIS), log p(x) from the model's own
    energies (computed once per call, log Z once per fit), score and save."""

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise _core.UsageError(f"logz: this {type(self).__name__} is not fitted yet; call fit first")

    def _exact_feasible(self):
        return True

    def compute_log_z(self, progress=None):
        """log Z by ``log_z`` (kept in ``log_z_``): a logz.Exact or a logz.Estimate."""
        self._check_fitted()
        method = self.log_z
        if method == "auto":
            method = "exact" if self._exact_feasible() else "ais"
        if method == "exact":
            self.log_z_ = _core.exact(self.model_, threads=self.threads)
        else:
            self.log_z_ = _core.estimate(self.model_, method, threads=self.threads, progress=progress,
                                         **(self.log_z_options or {}))
        return self.log_z_

    def energy(self, X):
        """E(x) of every row (an RBM's free energy F(v)): log p(x) = -E(x) - log Z. Rows in
        the layout the model reads (C order; uint8 for binary RBMs, float64 otherwise) are
        read in place."""
        self._check_fitted()
        return _core.energies(self.model_, X, threads=self.threads)

    def score_samples(self, X):
        """log p(x) of every row: -E(x) - log Z, log Z computed once (see compute_log_z)."""
        if not hasattr(self, "log_z_"):
            self.compute_log_z()
        return -self.energy(X) - float(self.log_z_.log_z)

    def score(self, X, y=None):
        """The mean log-likelihood of the rows of X."""
        return float(np.mean(self.score_samples(X)))

    def save(self, path):
        """Writes the model file (the CLI's format)."""
        self._check_fitted()
        self.model_.save(path)


class _RbmEstimator(_Fitted, _Transformer, _Base):
    """What BernoulliRBM and GaussianRBM share: exact log Z up to ``_exact_hidden``
    enumerated units."""

    _exact_hidden = 20

    def _exact_feasible(self):
        return self._enumerated_units() <= self._exact_hidden

    def _enumerated_units(self):
        return self.components_.shape[0]


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
        _store(self, locals())

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
        self.model_, self.history_ = _core.train_rbm(
            X, test_data, threads=self.threads, progress=progress, hidden=self.n_hidden, method=self.method, k=self.k,
            epochs=epochs, batch=self.batch_size, lr=self.learning_rate, momentum=self.momentum,
            weight_decay=self.weight_decay, chains=self.n_chains, replicas=self.replicas, init_scale=self.init_scale,
            seed=_seed(self.random_state), checkpoint=self._checkpoint_path(), resume=resume)
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
        return self.energy(X)

    def sample(self, n_samples=64, steps=1000, seed=1):
        """Visible states of ``n_samples`` Gibbs chains after ``steps`` sweeps each."""
        self._check_fitted()
        return _core.sample(self.model_, chains=n_samples, steps=steps, seed=seed, threads=self.threads)


class _ContinuousEstimator(_Fitted, _Base):
    """What the continuous models share: fit by ``logz.train_continuous`` (the model kind
    ``_model``; ``_train_keywords`` adds the class's own settings), ``params_`` (the model's
    arrays), ``history_``, ``fit_info_``, and sample by logz's HMC chains."""

    _model = None

    def _train_keywords(self):
        return {}

    def _fitted(self, arrays):
        pass

    def fit(self, X, y=None, progress=None):
        """Fits to the rows of X (reals, either memory order)."""
        self.model_, self.fit_info_ = _core.train_continuous(
            X, threads=self.threads, progress=progress, model=self._model, method=self.method,
            optimizer=self.optimizer, max_iterations=self.max_iter, epochs=self.n_iter, batch=self.batch_size,
            lr=self.learning_rate, seed=_seed(self.random_state), **self._train_keywords())
        self.params_ = self.model_.arrays
        self.history_ = self.fit_info_["trace"]
        self.n_features_in_ = self.model_.dimension
        self._fitted(self.params_)
        self.__dict__.pop("log_z_", None)
        return self

    def sample(self, n_samples=64, steps=1000, seed=1):
        """The last state of each of ``n_samples`` chains (logz sample's HMC chains, step
        size adapted during warm-up), ``steps`` steps each."""
        self._check_fitted()
        draws = _core.sample(self.model_, chains=n_samples, steps=steps, seed=seed, threads=self.threads)
        return draws.reshape(n_samples, -1, draws.shape[1])[:, -1]  # draws are chain-major


class GaussianRBM(_RbmEstimator, _ContinuousEstimator, _Transformer):
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

    _model = "grbm"

    def __init__(self, n_hidden=16, method="sm", optimizer="lbfgs", learn_sigma=True, init_scale=0.1, max_iter=500,
                 n_iter=20, batch_size=100, learning_rate=1e-3, random_state=1, threads=0, log_z="auto",
                 log_z_options=None):
        _store(self, locals())

    def _train_keywords(self):
        return dict(hidden=self.n_hidden, learn_sigma=self.learn_sigma, init_scale=self.init_scale)

    def _fitted(self, a):
        self.components_ = a["weights"].T
        self.intercept_hidden_ = a["hidden_bias"]
        self.intercept_visible_ = a["visible_bias"]
        self.sigma_ = a["visible_sigma"]

    def transform(self, X):
        """p(h_j = 1 | v) = sigmoid(c_j + sum_i v_i W_ij / sigma_i^2) for every row."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-((X / self.sigma_ ** 2) @ self.components_.T + self.intercept_hidden_)))


class StudentTExperts(_ContinuousEstimator):
    """A product of Student-t experts (Welling, Hinton & Osindero 2003),
    E(x) = sum_k alpha_k log(1 + (w_k . x)^2 / 2) + |x|^2 / 2 (docs/continuous-models.md),
    fitted by logz without its partition function: ``method`` "sm", "ssm", "dsm" (noise
    ``sigmas``), "nce" or "pcd". log Z by ``log_z`` ("auto": AIS; no exact method exists).

    Parameters follow ``logz train experts``: ``n_experts`` (0 = the data's dimension),
    ``alpha`` (initial alpha_k), ``method``, ``optimizer``, ``max_iter``, ``n_iter``,
    ``batch_size``, ``learning_rate``, ``sigmas``, ``random_state``, ``threads``,
    ``log_z``, ``log_z_options``. After fit: ``model_``, ``params_``, ``history_``,
    ``fit_info_``.
    """

    _model = "experts"

    def __init__(self, n_experts=0, alpha=1.5, method="sm", optimizer="lbfgs", max_iter=500, n_iter=20,
                 batch_size=100, learning_rate=1e-3, sigmas=(0.1,), random_state=1, threads=0, log_z="auto",
                 log_z_options=None):
        _store(self, locals())

    def _exact_feasible(self):
        return False

    def _train_keywords(self):
        return dict(hidden=self.n_experts, alpha=self.alpha, sigmas=list(self.sigmas))


class NeuralEnergy(_ContinuousEstimator):
    """A one-hidden-layer neural energy (docs/continuous-models.md) fitted by logz without
    its partition function: ``method`` "sm", "ssm", "dsm" (noise ``sigmas``), "nce" or
    "pcd". log Z by ``log_z`` ("auto": AIS; no exact method exists).

    Parameters follow ``logz train neural``: ``n_hidden`` (0 = the data's dimension),
    ``method``, ``optimizer``, ``max_iter``, ``n_iter``, ``batch_size``,
    ``learning_rate``, ``sigmas``, ``random_state``, ``threads``, ``log_z``,
    ``log_z_options``. After fit: ``model_``, ``params_``, ``history_``, ``fit_info_``.
    """

    _model = "neural"

    def __init__(self, n_hidden=0, method="sm", optimizer="lbfgs", max_iter=500, n_iter=20, batch_size=100,
                 learning_rate=1e-3, sigmas=(0.1,), random_state=1, threads=0, log_z="auto", log_z_options=None):
        _store(self, locals())

    def _exact_feasible(self):
        return False

    def _train_keywords(self):
        return dict(hidden=self.n_hidden, sigmas=list(self.sigmas))


class _MrfEstimator(_Fitted, _Base):
    """What Ising and Potts share: log Z "auto" is exact by the junction tree when the
    graph's treewidth allows it, else AIS; sample by Gibbs chains."""

    def compute_log_z(self, progress=None):
        if self.log_z != "auto":
            return super().compute_log_z(progress)
        self._check_fitted()
        try:
            self.log_z_ = _core.exact(self.model_, threads=self.threads)
        except _core.UsageError:  # treewidth beyond the junction tree's limit
            self.log_z_ = _core.estimate(self.model_, "ais", threads=self.threads, progress=progress,
                                         **(self.log_z_options or {}))
        return self.log_z_

    def sample(self, n_samples=64, steps=1000, seed=1):
        """The states of ``n_samples`` Gibbs chains after ``steps`` sweeps each, one per row."""
        self._check_fitted()
        return _core.sample(self.model_, chains=n_samples, steps=steps, seed=seed, threads=self.threads)


class Ising(_MrfEstimator):
    """An Ising model fitted by logz to spin configurations (rows all -1/1 or all 0/1; the
    model takes that convention), as ``logz train ising`` fits it: ``method`` "pl"
    (pseudolikelihood), "rm" (ratio matching), "exact" (maximum likelihood by enumeration,
    up to 30 spins), "pcd" or "pt" (PCD on parallel-tempering ladders of ``replicas``), on
    ``graph`` "complete", "chain", "ring", "lattice:RxC" or "torus:RxC".

    Other parameters: ``l2_fields``, ``l2_couplings``, ``max_iter`` and ``tol`` (L-BFGS),
    ``n_chains``, ``sweeps``, ``n_updates``, ``learning_rate``, ``momentum``,
    ``average_last`` (pcd, pt), ``random_state``, ``threads``, ``log_z``,
    ``log_z_options``. After fit: ``model_``, ``fields_`` [n], ``couplings_`` [n, n],
    ``history_`` (``fit_info_["trace_name"]`` says what it holds), ``fit_info_``.
    """

    def __init__(self, method="pl", graph="complete", l2_fields=0.0, l2_couplings=0.0, max_iter=1000, tol=1e-6,
                 n_chains=100, sweeps=1, n_updates=1000, learning_rate=0.05, momentum=0.9, average_last=0,
                 replicas=10, random_state=1, threads=0, log_z="auto", log_z_options=None):
        _store(self, locals())

    def fit(self, X, y=None):
        """Fits to the spin configurations in the rows of X (an array or a .npy path)."""
        self.model_, self.fit_info_ = _core.train_ising(
            X, threads=self.threads, method=self.method, graph=self.graph, l2_fields=self.l2_fields,
            l2_couplings=self.l2_couplings, max_iterations=self.max_iter, tolerance=self.tol, chains=self.n_chains,
            sweeps=self.sweeps, updates=self.n_updates, lr=self.learning_rate, momentum=self.momentum,
            average_last=self.average_last, replicas=self.replicas, seed=_seed(self.random_state))
        a = self.model_.arrays
        self.fields_ = a["fields"]
        self.couplings_ = a["couplings"]
        self.history_ = self.fit_info_["trace"]
        self.n_features_in_ = self.model_.dimension
        self.__dict__.pop("log_z_", None)
        return self


class Potts(_MrfEstimator):
    """A Potts model fitted by logz to a protein or RNA family, as ``logz train potts``
    fits it (plmc's weighted pseudolikelihood by L-BFGS, ``method="pl"``, or ``"pcd"``),
    with ``contacts()`` numbered as plmc numbers them.

    ``fit(X)`` takes a FASTA/A2M alignment's path (read with ``alphabet``, ``focus``,
    ``unknown``, ``ignore_gaps``; weighted by identity ``theta`` or by a ``weights`` file)
    or an array of integer states (``q`` states; every row weighted 1). Fit parameters:
    ``lambda_h``, ``lambda_e``, ``variant``, ``precision``, ``max_iter``, ``tol``,
    ``relative_decrease`` (pl); ``n_chains``, ``sweeps``, ``n_updates``,
    ``learning_rate``, ``momentum``, ``average_last``, ``betas`` (pcd); ``random_state``,
    ``threads``, ``log_z``, ``log_z_options``.

    After fit: ``model_``, ``fields_`` [L, q], ``couplings_`` [L, L, q, q], ``alphabet_``,
    ``weights_`` (one per sequence used), ``history_``, ``fit_info_``.
    """

    def __init__(self, method="pl", lambda_h=0.01, lambda_e=100.0, variant="symmetric", precision="double",
                 max_iter=0, tol=1e-3, relative_decrease=1e-5, alphabet="-ACDEFGHIKLMNPQRSTVWY", focus=None,
                 unknown="error", ignore_gaps=False, theta=0.8, weights=None, q=0, n_chains=100, sweeps=1,
                 n_updates=1000, learning_rate=0.05, momentum=0.9, average_last=0, betas=None, random_state=1,
                 threads=0, log_z="auto", log_z_options=None):
        _store(self, locals())

    def fit(self, X, y=None, progress=None):
        """Fits to an alignment (a path) or to integer states (an array, one row per sequence)."""
        self.model_, self.fit_info_ = _core.train_potts(
            X, threads=self.threads, progress=progress, method=self.method, lambda_h=self.lambda_h,
            lambda_e=self.lambda_e, variant=self.variant, precision=self.precision, max_iterations=self.max_iter,
            tolerance=self.tol, relative_decrease=self.relative_decrease, alphabet=self.alphabet,
            focus=self.focus or "", unknown=self.unknown, ignore_gaps=self.ignore_gaps, theta=self.theta,
            weights=os.fspath(self.weights) if self.weights is not None else "", q=self.q, chains=self.n_chains,
            sweeps=self.sweeps, updates=self.n_updates, lr=self.learning_rate, momentum=self.momentum,
            average_last=self.average_last, betas=list(self.betas or []), seed=_seed(self.random_state))
        a = self.model_.arrays
        self.fields_ = a["fields"]
        self.couplings_ = a["couplings"]
        self.alphabet_ = bytes(a["alphabet"]).decode() if "alphabet" in a else None
        self.weights_ = self.fit_info_["weights"]
        self.history_ = self.fit_info_["trace"]
        self.n_features_in_ = self.model_.dimension
        self.__dict__.pop("log_z_", None)
        return self

    def contacts(self, top=None, min_separation=0):
        """The contact scores (logz.contacts): a dict of arrays i, ai, j, aj, frobenius, apc,
        pairs with |i - j| >= ``min_separation``, sorted by APC score, highest first, the
        ``top`` first only when given (e.g. top=L for the top-L pairs)."""
        self._check_fitted()
        c = _core.contacts(self.model_)
        c.pop("text")
        keep = np.abs(c["i"] - c["j"]) >= min_separation
        order = np.argsort(-c["apc"][keep], kind="stable")
        if top is not None:
            order = order[:top]
        return {k: v[keep][order] for k, v in c.items()}

"""Models, log Z and evaluation: the Python face of logz's API by task.

The work is done by the compiled module (logz._logz) on the same model files, configs and
estimators as the CLI, so the same seed and options give the same bits from both. Long
calls release the GIL, show progress (a callable, or tqdm when it is installed and stderr
is a terminal) and end with KeyboardInterrupt on Ctrl-C.
"""

import math
import os
import sys

import numpy as np

from . import _logz
from .errors import UnreliableError, UsageError  # noqa: F401 (UsageError: also for _sklearn)

__all__ = ["Model", "Estimate", "Exact", "Evaluation", "load", "model", "exact", "estimate", "evaluate", "sample",
           "methods", "train_rbm", "train_continuous", "train_ising", "train_potts", "contacts", "energies"]


class Model:
    """A model logz can use: a binary RBM ("rbm"), Gaussian-Bernoulli RBM ("grbm"), Ising,
    Potts, Gaussian, product of Student-t experts ("experts") or neural energy ("neural").

    Make one with :func:`load` (any .npz file the CLI reads) or :func:`model` (arrays named
    as in such a file, e.g. ``weights``, ``visible_bias``, ``hidden_bias`` for an RBM).
    """

    def __init__(self, handle, source=None):
        self._handle = handle
        self.source = source

    @property
    def kind(self):
        """The kind's name: rbm, grbm, ising, potts, gaussian, experts or neural."""
        return _logz.kind(self._handle)

    @property
    def dimension(self):
        """Visible units (RBMs), sites (Ising, Potts) or the dimension (continuous models)."""
        return _logz.dimension(self._handle)

    @property
    def arrays(self):
        """The model's arrays as written to its file (copies), the ``logz_kind`` marker included."""
        return _logz.arrays(self._handle)

    def save(self, path):
        """Writes the model to ``path`` (.npz, atomically), in the format :func:`load` and the CLI read."""
        _logz.save(self._handle, os.fspath(path))

    def describe(self, threads=0):
        """What the model holds, in words (the text of ``logz info``)."""
        return _logz.describe(self._handle, threads)[0]

    def info(self, threads=0):
        """What the model holds, as numbers (the JSON of ``logz info --json``)."""
        return _logz.describe(self._handle, threads)[1]

    def __repr__(self):
        where = f" from {self.source!r}" if self.source else ""
        return f"<logz.Model {self.kind}, dimension {self.dimension}{where}>"


def load(path):
    """Reads a model file of any kind logz reads (.npz; docs/file-formats.md)."""
    path = os.fspath(path)
    return Model(_logz.load(path), path)


def model(**arrays):
    """A model from NumPy arrays named as in a model file; the kind is told by the same rule
    as for files (a ``logz_kind`` array, else the arrays present), e.g.
    ``logz.model(weights=W, visible_bias=b, hidden_bias=c)`` for an RBM."""
    return Model(_logz.from_arrays(arrays, "(arrays)"))


def _handle(m):
    if isinstance(m, Model):
        return m._handle
    if isinstance(m, (str, os.PathLike)):
        return load(m)._handle
    raise TypeError(f"logz: expected a logz.Model or a path, got {type(m).__name__}")


class _Progress:
    """A tqdm bar per phase (when tqdm is installed), or a user callable(phase, done, total)."""

    def __init__(self, progress):
        self.callback = progress if callable(progress) else None
        self.bars = {}
        self.tqdm = None
        if progress is True or (progress is None and sys.stderr is not None and sys.stderr.isatty()):
            try:
                from tqdm.auto import tqdm
                self.tqdm = tqdm
            except ImportError:
                pass

    def __call__(self, phase, done, total):
        if self.callback is not None:
            self.callback(phase, done, total)
        elif self.tqdm is not None:
            bar = self.bars.get(phase)
            if bar is None:
                bar = self.bars[phase] = self.tqdm(total=total, desc=phase, leave=False)
            bar.update(done - bar.n)

    def close(self):
        for bar in self.bars.values():
            bar.close()

    def active(self):
        return self.callback is not None or self.tqdm is not None


def _run(progress, call):
    p = _Progress(progress)
    try:
        return call(p if p.active() else None)
    finally:
        p.close()


class Exact:
    """An exact log Z: ``log_z``, ``how`` it was computed, ``seconds``, ``details``."""

    def __init__(self, d):
        self.log_z = d.pop("log_z")
        self.how = d.pop("how")
        self.seconds = d.pop("seconds")
        self.details = d

    value = property(lambda self: self.log_z)

    def __float__(self):
        return float(self.log_z)

    def __repr__(self):
        return f"<logz.Exact log Z = {self.log_z:.10g} ({self.how})>"


class Estimate:
    """log Z by an estimator, with its error bar and its verdict.

    ``value`` (also ``log_z``), ``std_error``, ``interval(level)``, ``ess``; ``reliable`` and
    ``warnings`` (each a dict with name, message, advice; docs/error-bars.md says what each
    means); ``steps``, the per-beta table of the first run as a dict of arrays (beta, ess,
    acceptance, log_weight_variance, resampled, rhat, swap_rate, unique_ancestors);
    ``log_weights``; ``runs`` (each replicate's log_z and std_error); ``details``, every
    number of ``logz estimate --json``.
    """

    def __init__(self, d):
        self.steps = d.pop("steps")
        self.log_weights = d.pop("log_weights")
        self.details = d
        self.method = d["method"]
        self.log_z = d["log_z"]
        self.std_error = d["std_error"] if d["std_error"] is not None else math.nan
        self.ess = d.get("ess")
        self.dof = d.get("dof", math.inf)
        self.reliable = bool(d.get("reliable", True))
        self.warnings = list(d.get("warnings", []))

    value = property(lambda self: self.log_z)

    @property
    def runs(self):
        return list(self.details.get("runs", []))

    def interval(self, level=0.95):
        """The interval log_z ± q·std_error at the two-sided ``level`` (Student's t when the
        error bar comes from a few independent runs)."""
        return _logz.interval(self.log_z, self.std_error, self.dof, level)

    def __float__(self):
        return float(self.log_z)

    def __repr__(self):
        verdict = "reliable" if self.reliable else "NOT RELIABLE: " + ", ".join(w["name"] for w in self.warnings)
        return f"<logz.Estimate log Z = {self.log_z:.6f} ± {self.std_error:.2g} ({self.method}); {verdict}>"


class Evaluation:
    """Held-out log-likelihood: ``mean_log_likelihood`` ± ``std_error`` (the spread of the
    rows and log Z's error bar together), ``per_row`` log p(x), ``per_site`` conditional
    log-likelihoods (Ising, Potts), ``log_z`` (an :class:`Estimate`-like dict), ``details``."""

    def __init__(self, d):
        self.per_row = d.pop("per_row")
        self.per_site = d.pop("per_site", None)
        self.mean_log_likelihood = d["mean_log_likelihood"]
        self.std_error = d["std_error"]
        self.rows = d["rows"]
        self.log_z = d["log_z"]
        self.reliable = bool(self.log_z.get("reliable", True))
        self.details = d

    value = property(lambda self: self.mean_log_likelihood)

    def __repr__(self):
        return (f"<logz.Evaluation mean log-likelihood {self.mean_log_likelihood:.6f} ± {self.std_error:.2g} "
                f"over {self.rows} rows>")


def exact(m, threads=0):
    """Exact log Z where a method exists (enumeration of the smaller RBM layer, junction
    tree or transfer matrix for Ising/Potts, closed forms); UsageError saying why not."""
    return Exact(_logz.exact(_handle(m), threads))


def estimate(m, method="ais", *, threads=0, progress=None, strict=False, dim=None, grad=None, **options):
    """log Z of a model by ``method`` (see :func:`methods`), returned as an :class:`Estimate`.

    ``m`` is a :class:`Model`, a model file's path, or a Python energy: a callable taking an
    [n, dim] float64 array and returning n energies (vectorised with NumPy), with ``dim``
    given and optionally ``grad``, a callable returning the [n, dim] gradients. A Python
    energy is annealed from N(0, base_sigma² I) (``base_sigma``, default 2) or from a
    Gaussian fitted to ``base_data`` rows, moved by MALA (with ``grad``) or random-walk
    Metropolis (``kernel="rwm"``), ``step_size`` in units of the base's standard deviation.

    Options are the CLI's, spelled as keywords: ``chains``, ``betas``, ``schedule``,
    ``sweeps``, ``replicates``, ``seed`` and each method's own (``runs``, ``burn_in``,
    ``samples``, ``cess``, ...); ``data`` (an array or a spec such as "fashion-mnist:test":
    RAISE's start rows and an RBM's base rate), ``base_data``, ``base``, ``kernel``,
    ``step_size``, ``leapfrog``. ``strict=True`` raises UnreliableError when the verdict
    does not trust the estimate. ``threads=0`` uses every core; the result does not
    depend on it.
    """
    options = dict(method=method, **options)
    if callable(m) and not isinstance(m, Model):
        if dim is None:
            raise UsageError("logz: a Python energy needs dim=, its dimension")
        call = lambda p: _logz.estimate_energy(m, grad, int(dim), threads, p, options)  # noqa: E731
    else:
        if dim is not None or grad is not None:
            raise UsageError("logz: dim= and grad= are for a Python energy, not a model")
        call = lambda p: _logz.estimate(_handle(m), threads, p, options)  # noqa: E731
    e = Estimate(_run(progress, call))
    if strict and not e.reliable:
        raise UnreliableError("; ".join(w["message"] for w in e.warnings))
    return e


def evaluate(m, data, method="ais", *, threads=0, progress=None, **options):
    """The log-likelihood of ``data`` (rows; an array in either memory order or a spec)
    under the model, log Z by ``method`` ("exact" where feasible) with its error bar
    carried through. Options as for :func:`estimate`."""
    return Evaluation(_run(progress, lambda p: _logz.evaluate(_handle(m), data, threads, p,
                                                              dict(method=method, **options))))


def sample(m, chains=64, steps=1000, *, seed=1, exact=False, threads=0, progress=None, return_info=False,
           **options):
    """States from the model: ``chains`` Gibbs chains of ``steps`` sweeps (discrete models;
    ``exact=True`` for exact draws where possible) or HMC/MALA chains (continuous models:
    ``kernel``, ``step_size``, ``leapfrog``, ``warmup``, ``thin``, ``target_acceptance``).
    A Python energy (a callable, with ``dim=`` and optionally ``grad=``, as for
    :func:`estimate`) is sampled by ``chains`` chains of random-walk Metropolis (or
    ``kernel="mala"``) started from the base, ``steps`` moves each; the last state of each
    chain is returned.
    Returns the states, one per row (and a dict of chain diagnostics with return_info)."""
    if callable(m) and not isinstance(m, Model):  # a Python energy: its path's moves at beta = 1
        dim, grad = options.pop("dim", None), options.pop("grad", None)
        if dim is None:
            raise UsageError("logz: a Python energy needs dim=, its dimension")
        states, info = _run(progress, lambda p: _logz.sample_energy(m, grad, int(dim), p,
                                                                    dict(chains=chains, steps=steps, seed=seed,
                                                                         **options)))
        return (states, info) if return_info else states
    states, info = _run(progress, lambda p: _logz.sample(_handle(m), threads, p,
                                                         dict(chains=chains, steps=steps, seed=seed, exact=exact,
                                                              **options)))
    return (states, info) if return_info else states


def methods():
    """The estimator names, and the options of :func:`estimate` as (name, type, default, help, range)."""
    return {"methods": ["exact"] + _logz.estimator_names().split(", "), "options": _logz.option_fields()}


def train_rbm(data, test_data=None, *, threads=0, progress=None, **config):
    """Trains a binary RBM as ``logz train rbm`` does (the same options as keywords:
    ``hidden``, ``method``, ``k``, ``epochs``, ``batch``, ``chains``, ``replicas``, ``lr``,
    ``lr_schedule``, ``lr_final``, ``momentum``, ``weight_decay``, ``init_scale``, ``seed``,
    ``monitor_*``; ``checkpoint``, ``log`` and ``resume`` for files). ``data`` and
    ``test_data`` are 0/1 arrays or specs ("fashion-mnist:train", a .npy). Returns the
    model and the training history (one dict per epoch)."""
    handle, history = _run(progress, lambda p: _logz.train_rbm(data, test_data, threads, p, config))
    return Model(handle), history


def train_continuous(data, *, threads=0, progress=None, **config):
    """Fits a continuous model as ``logz train gaussian|grbm|experts|neural`` does: ``model``,
    ``method`` (sm, ssm, dsm, nce, pcd), ``optimizer``, ``hidden``, ... as keywords (the
    fields of api::ContinuousTrainConfig). ``data`` is an [n, d] array of reals. Returns the
    model and a dict: objective, trace, iterations, converged, stopped_by, nce_log_z, ..."""
    handle, info = _run(progress, lambda p: _logz.train_continuous(data, threads, p, config))
    return Model(handle), info


def train_ising(data, *, threads=0, **config):
    """Fits an Ising model as ``logz train ising`` does: ``method`` (pl, rm, exact, pcd, pt),
    ``graph`` (complete, chain, ring, lattice:RxC, torus:RxC), ``l2_fields``,
    ``l2_couplings``, ``max_iterations``, ``tolerance``, ``chains``, ``sweeps``, ``updates``,
    ``lr``, ``momentum``, ``average_last``, ``replicas``, ``seed``. ``data``: spins, one
    configuration per row (all -1/1 or all 0/1), as an array or a .npy path. Returns the
    model and a dict: method, iterations, converged, trace_name, trace, swap_rates, ..."""
    data = os.fspath(data) if isinstance(data, os.PathLike) else data
    handle, info = _logz.train_ising(data, threads, config)
    return Model(handle), info


def train_potts(data, *, threads=0, progress=None, **config):
    """Fits a Potts model as ``logz train potts`` does. ``data``: a FASTA/A2M alignment's
    path (or a .npy of integer states), or an array of integer states. Keywords: the fit's
    (``method`` pl or pcd, ``lambda_h``, ``lambda_e``, ``variant``, ``precision``,
    ``max_iterations``, ``tolerance``, ``relative_decrease``; pcd's ``chains``, ``sweeps``,
    ``updates``, ``lr``, ``momentum``, ``average_last``, ``betas``, ``seed``) and the
    data's (``alphabet``, ``focus``, ``unknown``, ``ignore_gaps``, ``theta``, ``weights``
    (a file), ``q``). Returns the model (with its alphabet, and the focus's numbering when
    ``focus`` is given) and a dict of the fit's figures with the sequence ``weights`` used."""
    data = os.fspath(data) if isinstance(data, os.PathLike) else data
    handle, info = _run(progress, lambda p: _logz.train_potts(data, threads, p, config))
    return Model(handle), info


def contacts(m):
    """The contact scores of a Potts model: for every pair i < j, its positions ``i``, ``j``
    (plmc's numbering when the model was fitted with a focus sequence, else 1..L), the
    focus's letters ``ai``, ``aj`` (b"-" without one), the Frobenius norm of J_ij in the
    zero-sum gauge and its average-product-corrected score ``apc``: a dict of arrays, in
    pair order, and ``text``, the table ``logz train potts --contacts`` writes."""
    return _logz.contacts(_handle(m))


def energies(m, data, *, threads=0):
    """E(x) of each row of ``data`` (the free energy F(v) for an RBM), so that
    log p(x) = -E(x) - log Z. A C-ordered array of the dtype the model reads (uint8 for a
    binary RBM, float64 otherwise) is read in place, without a copy; any other numeric
    array (Fortran order, other dtypes) is converted first."""
    return _logz.energies(_handle(m), data, threads)

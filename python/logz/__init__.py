"""logz: energy-based models and their partition function Z.

    import logz
    m = logz.load("model.npz")                 # any model file the CLI reads
    e = logz.estimate(m, "ais", chains=100, betas=10000, seed=1)
    e.value, e.std_error, e.interval(0.95), e.reliable, e.warnings
    logz.exact(m).log_z                         # where an exact method exists
    logz.evaluate(m, X_test).mean_log_likelihood
    logz.sample(m, chains=64, steps=1000)

The same model files, options, messages and bits as the ``logz`` command line
(docs/python.md). Errors are the classes of :mod:`logz.errors` (ValueError, OSError and
MemoryError subclasses).
"""

from ._core import (Estimate, Evaluation, Exact, Model, contacts, energies, estimate, evaluate, exact,  # noqa: F401
                    load, methods, model, sample, train_continuous, train_ising, train_potts, train_rbm)
from ._sklearn import BernoulliRBM, GaussianRBM, Ising, NeuralEnergy, Potts, StudentTExperts  # noqa: F401
from .errors import (DataError, InputError, InternalError, LogzError, OutputError, UnavailableError,  # noqa: F401
                     UnreliableError, UsageError)

__version__ = "0.1.0"

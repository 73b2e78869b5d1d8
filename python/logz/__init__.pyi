# Type stubs of the logz package (docs/python.md).
from os import PathLike
from typing import Any, Callable, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from .errors import (DataError as DataError, InputError as InputError, InternalError as InternalError,
                     LogzError as LogzError, OutputError as OutputError, UnavailableError as UnavailableError,
                     UnreliableError as UnreliableError, UsageError as UsageError)

__version__: str
Path = Union[str, PathLike[str]]
Rows = Union[npt.ArrayLike, str]
Progress = Union[None, bool, Callable[[str, int, int], Any]]

class Model:
    source: Optional[str]
    @property
    def kind(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    @property
    def arrays(self) -> dict[str, np.ndarray]: ...
    def save(self, path: Path) -> None: ...
    def describe(self, threads: int = 0) -> str: ...
    def info(self, threads: int = 0) -> dict[str, Any]: ...

class Exact:
    log_z: float
    value: float
    how: str
    seconds: float
    details: dict[str, Any]

class Estimate:
    method: str
    log_z: float
    value: float
    std_error: float
    ess: Optional[float]
    dof: float
    reliable: bool
    warnings: list[dict[str, str]]
    steps: dict[str, np.ndarray]
    log_weights: np.ndarray
    details: dict[str, Any]
    @property
    def runs(self) -> list[dict[str, Any]]: ...
    def interval(self, level: float = 0.95) -> tuple[float, float]: ...

class Evaluation:
    mean_log_likelihood: float
    value: float
    std_error: float
    rows: int
    per_row: np.ndarray
    per_site: Optional[np.ndarray]
    log_z: dict[str, Any]
    reliable: bool
    details: dict[str, Any]

def load(path: Path) -> Model: ...
def model(**arrays: npt.ArrayLike) -> Model: ...
def exact(m: Union[Model, Path], threads: int = 0) -> Exact: ...
def estimate(m: Union[Model, Path, Callable[[np.ndarray], npt.ArrayLike]], method: str = "ais", *, threads: int = 0,
             progress: Progress = None, strict: bool = False, dim: Optional[int] = None,
             grad: Optional[Callable[[np.ndarray], npt.ArrayLike]] = None, **options: Any) -> Estimate: ...
def evaluate(m: Union[Model, Path], data: Rows, method: str = "ais", *, threads: int = 0, progress: Progress = None,
             **options: Any) -> Evaluation: ...
def sample(m: Union[Model, Path], chains: int = 64, steps: int = 1000, *, seed: int = 1, exact: bool = False,
           threads: int = 0, progress: Progress = None, return_info: bool = False, **options: Any) -> Any: ...
def methods() -> dict[str, Any]: ...
def train_rbm(data: Rows, test_data: Optional[Rows] = None, *, threads: int = 0, progress: Progress = None,
              **config: Any) -> tuple[Model, list[dict[str, Any]]]: ...

class BernoulliRBM:
    model_: Model
    components_: np.ndarray
    intercept_hidden_: np.ndarray
    intercept_visible_: np.ndarray
    history_: list[dict[str, Any]]
    log_z_: Union[Exact, Estimate]
    def __init__(self, n_hidden: int = 256, method: Literal["cd", "pcd", "pt"] = "pcd", k: int = 1, n_iter: int = 10,
                 batch_size: int = 100, learning_rate: float = 0.05, momentum: float = 0.5, weight_decay: float = 0.0,
                 n_chains: int = 0, replicas: int = 10, init_scale: float = 0.01, random_state: Optional[int] = 1,
                 threads: int = 0, log_z: str = "auto", log_z_options: Optional[dict[str, Any]] = None) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Any = None, test_data: Optional[Rows] = None,
            progress: Progress = None) -> "BernoulliRBM": ...
    def partial_fit(self, X: npt.ArrayLike, y: Any = None, progress: Progress = None) -> "BernoulliRBM": ...
    def fit_transform(self, X: npt.ArrayLike, y: Any = None) -> np.ndarray: ...
    def transform(self, X: npt.ArrayLike) -> np.ndarray: ...
    def free_energy(self, X: npt.ArrayLike) -> np.ndarray: ...
    def compute_log_z(self, progress: Progress = None) -> Union[Exact, Estimate]: ...
    def score_samples(self, X: npt.ArrayLike) -> np.ndarray: ...
    def score(self, X: npt.ArrayLike, y: Any = None) -> float: ...
    def sample(self, n_samples: int = 64, steps: int = 1000, seed: int = 1) -> np.ndarray: ...
    def save(self, path: Path) -> None: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> "BernoulliRBM": ...

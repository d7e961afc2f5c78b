"""What the backends share: the prepared data, the objective's description,
the solver's settings, and the choice of solver from the penalty."""

import math
from typing import NamedTuple

import numpy as np

from .._heuristics import choose_newton_cholesky, choose_proximal_solver
from .._loss import MultinomialLoss
from .._penalties import GroupNorm, L1Norm
from .._solvers import SOLVERS, minimize_agd


class FitData(NamedTuple):
    """Data ready to be fitted, as a backend prepared it.

    Attributes
    ----------
    X : array, sparse matrix or dask array
        The validated data.
    y : array or None
        The class index of each sample; None where the blocks hold them.
    sample_weight : array or None
        The sample weights times the class weights; None for equal weights.
    classes : ndarray
        The classes, sorted, on the host.
    total_weight : float
        ``S``, the sum of the weights.
    dtype : numpy dtype
        The dtype of the data, and of the fitted attributes.
    blocks : object, default=None
        What else the backend keeps: the persisted blocks of a dask
        collection, the namespace and device of Array API data.
    rows : ndarray or None, default=None
        The samples a stochastic fit draws its minibatches from, in the
        order it numbers them; None for all. The others (held out by early
        stopping) weigh nothing in ``sample_weight``.
    """

    X: object
    y: object
    sample_weight: object
    classes: np.ndarray
    total_weight: float
    dtype: np.dtype
    blocks: object = None
    rows: object = None

    @property
    def n_classes(self):
        return self.classes.size

    @property
    def n_features(self):
        return self.X.shape[1]


def unread_in_memory(dtype):
    """The settings that fits in memory (NumPy, SciPy and the blocks of dask
    arrays) of data of ``dtype`` do not read, each with why (see
    :func:`~sklearn_softmax._unused_settings.unused_settings`)."""
    if dtype == np.float32:
        return {
            "precision": "it chooses whether newton-cg's Hessian-vector "
            "products of float64 data run in float32, and the data is float32"
        }
    return {}


def check_magnitude(largest, n_samples):
    """Raise unless the sum of ``n_samples`` squares of entries of ``X`` up
    to ``largest`` in magnitude is finite in float64: a fit forms such sums
    (the Hessian's diagonal), in float64 for every dtype, and where they
    overflow, its steps are not numbers. (The entries of float32 data are
    too small for that; the products that run in float32, such as those of
    the bound on the curvature, scale their vectors into its range.)"""
    limit = math.sqrt(float(np.finfo(np.float64).max) / max(n_samples, 1))
    if largest > limit:
        raise ValueError(
            f"X has entries of magnitude up to {largest:.3g}: the sum of "
            f"their squares over its {n_samples} samples, which a fit forms, "
            "overflows float64. Scale the features, for instance with "
            "sklearn.preprocessing.StandardScaler."
        )


class ObjectiveSpec(NamedTuple):
    """The objective to minimise: the multinomial loss of ``n_classes``
    classes on ``n_features`` features, with the L2 strength and the
    non-smooth ``norm`` (None, :class:`L1Norm` or :class:`GroupNorm`) of
    the penalty."""

    n_classes: int
    n_features: int
    fit_intercept: bool
    label_smoothing: float
    l2_reg_strength: float
    norm: object

    @property
    def shape(self):
        """The layout of the parameters: ``(n_features + fit_intercept, K)``."""
        return (self.n_features + int(self.fit_intercept), self.n_classes)

    def loss(self):
        return MultinomialLoss(self.n_classes, self.fit_intercept, self.label_smoothing)

    @property
    def centred(self):
        """Whether the optimum's weights sum to zero over the classes: the
        probabilities do not change when one vector is added to every
        class's weights, which only adds to the L2 and group penalties (the
        norm of a row is least when the row sums to zero). An L1 optimum is
        not centred."""
        return not isinstance(self.norm, L1Norm)


class SolveSettings(NamedTuple):
    """How to run a deterministic solver: the estimator's ``max_iter``,
    ``tol``, progress ``callback``, ``n_threads`` and ``precision``."""

    max_iter: int
    tol: float
    callback: object
    n_threads: object = None
    precision: str = "auto"

    def solver_kwargs(self):
        return {"max_iter": self.max_iter, "tol": self.tol, "callback": self.callback}


def resolve_solver(solver, spec, X, penalty_spelling, two_classes_as_one=False):
    """The solver to run for ``solver``: itself, or the one 'auto' stands
    for; a ValueError where it cannot minimise the objective. The message
    names the parameters that chose the penalty, ``penalty_spelling``.
    ``two_classes_as_one``: whether the backend takes exact Newton steps for
    two classes in the difference of their parameters."""
    norm = spec.norm
    if norm is None:
        if solver != "auto":
            return solver
        if choose_newton_cholesky(
            X, spec.n_classes, spec.fit_intercept, two_classes_as_one
        ):
            return "newton-cholesky"
        return "newton-cg"
    group = isinstance(norm, GroupNorm)
    if solver == "auto":
        return choose_proximal_solver(X, spec.n_classes, group)
    if solver in ("gd", "sgd") or (solver == "newton-cg" and group):
        return solver
    part = "a group-norm" if group else "an L1"
    newton = ", 'newton-cg' (with Newton steps on the support)" if group else ""
    raise ValueError(
        f"The penalty of {penalty_spelling} has {part} part, which solver="
        f"{solver!r} cannot handle: it needs a smooth objective. Use "
        f"solver='gd' (accelerated proximal gradient){newton}, 'auto', or "
        "'sgd' (proximal stochastic steps)."
    )


def minimizer(solver, norm, solvers=SOLVERS):
    """The function minimising the objective: the solver, or accelerated
    proximal gradient (with Newton steps for 'newton-cg') when the penalty
    has a non-smooth ``norm``."""
    if norm is None:
        return solvers[solver]

    def minimize(objective, x0, **settings):
        return minimize_agd(
            objective,
            x0,
            penalty=norm,
            newton_steps=solver == "newton-cg",
            **settings,
        )

    return minimize

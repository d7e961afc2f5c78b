"""Solvers: pure functions that minimise an objective given its derivatives.

A solver knows nothing of classes, labels or scikit-learn. It takes an
:class:`~sklearn_softmax._loss.Objective`, a flat float64 starting point,
``max_iter``, ``tol`` and an optional progress callback, and returns a
:class:`SolverResult`. It never warns: the estimator decides what users see.
"""

from ._agd import minimize_agd
from ._lbfgs import minimize_lbfgs as minimize_lbfgs_in_namespace
from ._newton import minimize_newton_cg
from ._result import Progress, SolverResult
from ._scipy import minimize_lbfgs

SOLVERS = {
    "newton-cg": minimize_newton_cg,
    "lbfgs": minimize_lbfgs,
    "gd": minimize_agd,
}
# Solvers that iterate in the namespace of their arrays, for Array API
# inputs: on a GPU, they read back only a few scalars per iteration.
ARRAY_API_SOLVERS = {
    "newton-cg": minimize_newton_cg,
    "lbfgs": minimize_lbfgs_in_namespace,
    "gd": minimize_agd,
}
# Solvers that take minibatches, in fit and partial_fit (see _stochastic).
STOCHASTIC_SOLVERS = ("sgd", "adam")

__all__ = [
    "ARRAY_API_SOLVERS",
    "SOLVERS",
    "STOCHASTIC_SOLVERS",
    "Progress",
    "SolverResult",
    "minimize_agd",
    "minimize_lbfgs",
    "minimize_lbfgs_in_namespace",
    "minimize_newton_cg",
]

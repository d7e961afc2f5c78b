"""Solvers: pure functions that minimise an objective given its derivatives.

A solver knows nothing of classes, labels, penalties' definitions or
scikit-learn. It takes an :class:`~sklearn_softmax._loss.Objective`, a flat
starting point (float64, or an array of any Array API namespace for those in
:data:`ARRAY_API_SOLVERS`), ``max_iter``, ``tol`` and an optional progress
callback, and returns a :class:`SolverResult`. It never warns: the estimator
decides what users see.

- ``_newton``: truncated Newton with conjugate gradients.
- ``_newton_steps``: its Newton directions, and the preconditioner of each.
- ``_newton_cholesky``: Newton with exact steps, for small Hessians.
- ``_scipy``: scipy's L-BFGS-B, on the host (:func:`minimize_scipy_lbfgsb`).
- ``_lbfgs``: the package's own L-BFGS, which iterates in the namespace and
  on the device of its arrays (:func:`minimize_lbfgs_in_namespace`).
- ``_agd``: accelerated proximal gradient, with or without a penalty.
- ``_proximal_newton``: Newton steps on the support of a penalty.
- ``_stochastic``: minibatch SGD and Adam.
- ``_line_search``: the step-size machinery the solvers share.
- ``_conjugate_gradients``: the truncated solve of the Newton system that
  the Newton solvers share.
"""

from ._agd import minimize_agd
from ._lbfgs import minimize_lbfgs_in_namespace
from ._newton import minimize_newton_cg
from ._newton_cholesky import minimize_newton_cholesky
from ._result import AT_PRECISION, NO_DECREASE, Progress, SolverResult
from ._scipy import minimize_scipy_lbfgsb
from ._stochastic import (
    ADAPTIVE_FACTOR,
    ADAPTIVE_MIN_SHARE,
    StochasticSettings,
    StochasticState,
    default_sgd_step,
    minimize_stochastic,
    run_epoch,
)

SOLVERS = {
    "newton-cg": minimize_newton_cg,
    "newton-cholesky": minimize_newton_cholesky,
    "lbfgs": minimize_scipy_lbfgsb,
    "gd": minimize_agd,
}
# Solvers that iterate in the namespace of their arrays, for Array API
# inputs: on a GPU, they read back only a few scalars per iteration.
ARRAY_API_SOLVERS = {
    "newton-cg": minimize_newton_cg,
    "newton-cholesky": minimize_newton_cholesky,
    "lbfgs": minimize_lbfgs_in_namespace,
    "gd": minimize_agd,
}
# Solvers that take minibatches, in fit and partial_fit (see _stochastic).
STOCHASTIC_SOLVERS = ("sgd", "adam")

__all__ = [
    "ADAPTIVE_FACTOR",
    "ADAPTIVE_MIN_SHARE",
    "ARRAY_API_SOLVERS",
    "AT_PRECISION",
    "NO_DECREASE",
    "SOLVERS",
    "STOCHASTIC_SOLVERS",
    "Progress",
    "SolverResult",
    "StochasticSettings",
    "StochasticState",
    "default_sgd_step",
    "minimize_agd",
    "minimize_lbfgs_in_namespace",
    "minimize_newton_cg",
    "minimize_newton_cholesky",
    "minimize_scipy_lbfgsb",
    "minimize_stochastic",
    "run_epoch",
]

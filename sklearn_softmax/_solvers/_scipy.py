"""Solvers that delegate the iteration to ``scipy.optimize``."""

import numpy as np
from scipy.optimize import minimize

from .._vectors import max_abs
from ._result import NO_DECREASE, Trace


def minimize_scipy_lbfgsb(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth objective with scipy's L-BFGS-B.

    Parameters
    ----------
    objective : Objective
        Provides ``value_and_gradient(x)``.
    x0 : ndarray of shape (n_params,)
        Starting point, float64.
    max_iter : int
        Most iterations.
    tol : float
        Stop once the largest absolute gradient entry is at most ``tol``
        (L-BFGS-B's ``gtol``). The run also ends, unconverged, when the line
        search finds no decrease: the objective is then at the limit of its
        floating-point precision.
    callback : callable, optional
        Called with a :class:`Progress` after each iteration.

    Returns
    -------
    result : SolverResult
    """
    # L-BFGS-B evaluates the accepted iterate last before it calls back, so
    # the gradient norm it reports comes from this cache, not a new evaluation.
    last = {}

    def value_and_gradient(x):
        f, g = objective.value_and_gradient(x)
        last.update(x=x.copy(), f=f, g=g)
        return f, g

    trace = Trace(callback)
    previous = [np.asarray(x0, dtype=np.float64)]
    if max_iter == 0:
        # L-BFGS-B takes a step even with maxiter=0.
        f, g = value_and_gradient(previous[0])
        grad_norm = max_abs(g)
        converged = grad_norm <= tol
        message = "converged" if converged else f"reached max_iter={max_iter}"
        return trace.result(previous[0].copy(), f, grad_norm, converged, message, 0)

    def record(intermediate_result):
        x = intermediate_result.x
        if not np.array_equal(x, last["x"]):
            value_and_gradient(x)
        trace.record(last["f"], max_abs(last["g"]), x - previous[0])
        previous[0] = x.copy()

    result = minimize(
        value_and_gradient,
        np.asarray(x0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=record,
        options={
            "maxiter": max_iter,
            "maxls": 50,
            "gtol": tol,
            # Stop on the gradient alone: a relative-decrease test can stop
            # an ill-conditioned problem far from its tolerance.
            "ftol": 0.0,
        },
    )
    if not np.array_equal(result.x, last.get("x")):
        value_and_gradient(result.x)
    if result.status == 1:
        message = f"reached max_iter={max_iter}"
    elif max_abs(last["g"]) <= tol:
        message = "converged"
    else:
        message = NO_DECREASE
    grad_norm = max_abs(last["g"])
    return trace.result(
        result.x, last["f"], grad_norm, grad_norm <= tol, message, int(result.nit)
    )

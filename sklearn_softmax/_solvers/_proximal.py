"""Accelerated proximal gradient (FISTA) for a smooth objective plus a norm.

The non-smooth part is a penalty object with ``value(x)`` and
``prox(v, step)``, the proximal map ``argmin_x penalty(x) + |x - v|^2 /
(2 step)``: :class:`L1Norm` (lasso, elastic net) or :class:`GroupNorm`
(one group of parameters in or out at once).
"""

import math

import numpy as np

# The step-size search is the smooth solver's: the same limit on halvings
# and the same growth after a step accepted at its first trial.
from ._agd import _MAX_HALVINGS, _SHRINK, _curvature_estimate
from ._result import ROUNDING_SLACK, Progress, SolverResult, max_abs


class L1Norm:
    """``sum_j weights_j |x_j|``, with non-negative ``weights``.

    Its proximal map is soft-thresholding,
    ``sign(v) max(|v| - step weights, 0)``.
    """

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)

    def value(self, x):
        return float(np.dot(self.weights, np.abs(x)))

    def prox(self, v, step):
        return np.sign(v) * np.maximum(np.abs(v) - step * self.weights, 0.0)


class GroupNorm:
    """``sum_j weights_j |x_j|_2`` over the rows ``x_j`` of ``x`` seen as
    ``shape``, with non-negative ``weights`` (one per row).

    Its proximal map is block soft-thresholding, which scales each row by
    ``max(1 - step weights_j / |v_j|_2, 0)``: a row is zero as a whole or
    not at all.
    """

    def __init__(self, weights, shape):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.shape = shape

    def value(self, x):
        return float(
            np.dot(self.weights, np.linalg.norm(x.reshape(self.shape), axis=1))
        )

    def prox(self, v, step):
        rows = v.reshape(self.shape)
        norms = np.linalg.norm(rows, axis=1)
        threshold = step * self.weights
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
        return (rows * scale[:, np.newaxis]).ravel()


def minimize_proximal_agd(objective, x0, *, penalty, max_iter, tol, callback=None):
    """Minimise ``f(x) + penalty(x)`` by accelerated proximal gradient.

    FISTA (Beck & Teboulle, 2009): from the extrapolated point ``y``, the step
    is ``x = prox(y - g(y) / L, 1 / L)`` with the penalty's proximal map.
    ``L`` is found by backtracking on the upper bound of the smooth part,
    ``f(x) <= f(y) + g(y).(x - y) + L |x - y|^2 / 2``, and allowed to shrink
    again after a step accepted at its first trial. The momentum restarts
    when ``(y - x_new).(x_new - x) > 0`` (O'Donoghue & Candes, 2015).

    The stopping rule is the composite form of the solvers' rule: the
    largest entry of the gradient mapping ``L (y - x_new)``, which is the
    gradient where the penalty is zero, is at most ``tol``; ``x_new`` is
    returned.

    Parameters
    ----------
    objective : Objective
        The smooth part; provides ``value(x)`` and ``value_and_gradient(x)``.
    x0 : ndarray of shape (n_params,)
        Starting point, float64.
    penalty : L1Norm or GroupNorm
        The non-smooth part: ``value(x)`` and ``prox(v, step)``.
    max_iter, tol, callback
        As for the other solvers.

    Returns
    -------
    result : SolverResult
        ``objective`` and ``objective_history`` include the penalty;
        ``grad_norm`` is the gradient mapping's largest entry.
    """
    x = np.array(x0, dtype=np.float64)
    f_y, g_y = objective.value_and_gradient(x)
    L = _curvature_estimate(objective, x, f_y, g_y) if np.any(g_y) else 1.0
    y, t = x, 1.0
    history = []
    message = f"reached max_iter={max_iter}"
    converged = False
    mapping_norm = math.inf
    f_x = f_y
    iteration = 0
    for iteration in range(1, max_iter + 1):
        first_trial = True
        for _ in range(_MAX_HALVINGS):
            x_new = penalty.prox(y - g_y / L, 1.0 / L)
            d = x_new - y
            f_new = objective.value(x_new)
            bound = f_y + float(np.dot(g_y, d)) + 0.5 * L * float(np.dot(d, d))
            if f_new <= bound + ROUNDING_SLACK * abs(f_y):
                break
            L *= 2.0
            first_trial = False
        else:
            message = "no decrease at the working precision"
            iteration -= 1
            break
        mapping_norm = L * max_abs(d)
        if float(np.dot(y - x_new, x_new - x)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        step = x_new - x
        x, f_x = x_new, f_new
        history.append(f_x + penalty.value(x))
        if callback is not None:
            callback(
                Progress(
                    iteration, history[-1], mapping_norm, float(np.linalg.norm(step))
                )
            )
        if mapping_norm <= tol:
            converged = True
            message = "converged"
            break
        y = x + ((t - 1.0) / t_next) * step
        t = t_next
        if first_trial:
            L *= _SHRINK
        f_y, g_y = objective.value_and_gradient(y)
    return SolverResult(
        x=x,
        objective=f_x + penalty.value(x),
        grad_norm=mapping_norm,
        n_iter=iteration,
        converged=converged,
        objective_history=np.asarray(history, dtype=np.float64),
        message=message,
    )

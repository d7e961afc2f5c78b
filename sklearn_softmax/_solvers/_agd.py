"""The project's own first-order solver: accelerated gradient descent."""

import math

import numpy as np

from .._vectors import copy, dot, max_abs, norm
from ._line_search import CURVATURE_DECAY, MAX_HALVINGS, curvature_estimate
from ._result import Progress, SolverResult

# Below this relative size, a predicted decrease is lost in the rounding of
# the objective's value; the step is then checked on the gradient instead.
_UNMEASURABLE = 1e-10


def _lipschitz_holds(objective, x_new, y, g_y, L):
    """Whether ``|g(x_new) - g(y)| <= L |x_new - y|``: the gradient form of the
    step-size condition, for when values are too close to compare."""
    _, g_new = objective.value_and_gradient(x_new)
    return norm(g_new - g_y) <= L * norm(x_new - y)


def minimize_agd(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by accelerated gradient descent.

    Nesterov's method in the form of FISTA (Beck & Teboulle, 2009) without a
    proximal term. The step ``1 / L`` comes from backtracking on the Armijo
    condition ``f(y - g/L) <= f(y) - |g|^2 / (2L)`` and is allowed to grow
    again after every accepted step (Scheinberg, Goldfarb & Bai, 2014). The
    momentum is restarted whenever it points uphill, i.e. when
    ``g(y) . (x_{k+1} - x_k) > 0`` (the gradient scheme of O'Donoghue &
    Candes, 2015), which recovers linear convergence on strongly convex
    objectives without knowing the strong convexity constant. Near the
    optimum, where the decrease a step promises is lost in the rounding of
    the objective, the step is accepted on the gradient form of the same
    condition, ``|g(x) - g(y)| <= L |x - y|``.

    Parameters
    ----------
    objective : Objective
        Provides ``value(x)`` and ``value_and_gradient(x)``.
    x0 : array of shape (n_params,)
        Starting point: a NumPy array (iterated in float64), or an array of
        any Array API namespace, iterated in its namespace, device and
        dtype.
    max_iter : int
        Most iterations; each costs one gradient and usually one extra value.
    tol : float
        Stop once the largest absolute gradient entry at the extrapolated
        point ``y`` is at most ``tol``; that point is returned.
    callback : callable, optional
        Called with a :class:`Progress` after each iteration.

    Returns
    -------
    result : SolverResult
    """
    x = copy(x0)
    f_y, g_y = objective.value_and_gradient(x)
    grad_norm = max_abs(g_y)
    if grad_norm <= tol:
        return SolverResult(x, f_y, grad_norm, 0, True, np.empty(0), "converged")

    L = curvature_estimate(objective, x, g_y)
    y = x
    t = 1.0
    history = []
    message = f"reached max_iter={max_iter}"
    converged = False
    for iteration in range(1, max_iter + 1):
        g_sq = dot(g_y, g_y)
        first_trial = True
        for _ in range(MAX_HALVINGS):
            x_new = y - g_y / L
            f_new = objective.value(x_new)
            decrease = 0.5 * g_sq / L
            if f_new <= f_y - decrease + objective.rounding * abs(f_y):
                break
            if decrease <= _UNMEASURABLE * abs(f_y) and _lipschitz_holds(
                objective, x_new, y, g_y, L
            ):
                break
            L *= 2.0
            first_trial = False
        else:
            message = "no decrease along the gradient at the working precision"
            break
        if dot(g_y, x_new - x) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        step = x_new - x
        y = x_new + ((t - 1.0) / t_next) * step
        x, t = x_new, t_next
        if first_trial:
            L *= CURVATURE_DECAY

        f_y, g_y = objective.value_and_gradient(y)
        grad_norm = max_abs(g_y)
        history.append(f_y)
        if callback is not None:
            callback(Progress(iteration, f_y, grad_norm, norm(step)))
        if grad_norm <= tol:
            converged = True
            message = "converged"
            break
    return SolverResult(
        x=y,
        objective=float(f_y),
        grad_norm=grad_norm,
        n_iter=iteration,
        converged=converged,
        objective_history=np.asarray(history, dtype=np.float64),
        message=message,
    )

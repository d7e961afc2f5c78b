"""The project's own second-order solver: truncated Newton with conjugate gradients."""

import math

import numpy as np

from ._result import NO_DECREASE, Progress, SolverResult, after_accepted_step
from ._vectors import copy, dot, max_abs, namespace, norm

# Armijo's sufficient-decrease constant.
_ARMIJO = 1e-4
# Once this many reductions of one step have failed, the objective cannot be
# decreased along the Newton direction at the precision it is computed in.
_MAX_BACKTRACKS = 40
# Most conjugate-gradient iterations per Newton step.
_MAX_CG_ITER = 250


def _truncated_cg(hessp, g, max_cg_iter):
    """Approximately solve ``H p = -g`` by conjugate gradients.

    CG stops once the residual ``|H p + g|`` is at most ``eta |g|`` with the
    forcing term ``eta = min(0.5, sqrt(|g|))``, which makes the outer
    iteration converge superlinearly (Nocedal & Wright, *Numerical
    Optimization*, 2nd ed., 2006, Algorithm 7.1), or on a direction of
    non-positive curvature, where the last iterate (or ``-g`` on the first
    iteration) is returned.

    Returns
    -------
    p : ndarray
        The Newton direction.
    n_products : int
        Hessian-vector products used.
    """
    g_norm = norm(g)
    threshold = min(0.5, math.sqrt(g_norm)) * g_norm
    p = namespace(g).zeros_like(g)
    r = copy(g)
    d = -r
    rr = g_norm * g_norm
    for iteration in range(1, max_cg_iter + 1):
        Hd = hessp(d)
        curvature = dot(d, Hd)
        if curvature <= 0:
            return (-g if iteration == 1 else p), iteration
        alpha = rr / curvature
        p += alpha * d
        r += alpha * Hd
        rr_next = dot(r, r)
        if math.sqrt(rr_next) <= threshold:
            break
        d *= rr_next / rr
        d -= r
        rr = rr_next
    return p, iteration


def _next_step(step, slope, f, f_trial):
    """Minimiser of the quadratic through ``f``, ``slope`` and ``f_trial``,
    kept within ``[0.1, 0.5]`` of the failed step."""
    curvature = 2.0 * (f_trial - f - step * slope)
    candidate = -slope * step * step / curvature if curvature > 0 else 0.5 * step
    return min(0.5 * step, max(0.1 * step, candidate))


def minimize_newton_cg(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by truncated Newton-CG.

    Each iteration computes a Newton direction by conjugate gradients on
    Hessian-vector products (see :func:`_truncated_cg`) and takes the unit
    step, or a shorter one found by backtracking with quadratic
    interpolation until Armijo's condition holds. Every trial point is
    evaluated with its gradient and Hessian data at once: the unit step is
    almost always accepted, so this saves a pass over the data per
    iteration.

    Parameters
    ----------
    objective : Objective
        Provides ``value_gradient_hessp(x)``.
    x0 : array of shape (n_params,)
        Starting point: a NumPy array (iterated in float64), or an array of
        any Array API namespace, iterated in its namespace, device and
        dtype.
    max_iter : int
        Most Newton iterations.
    tol : float
        Stop once the largest absolute gradient entry is at most ``tol``.
    callback : callable, optional
        Called with a :class:`Progress` after each iteration.

    Returns
    -------
    result : SolverResult
    """
    x = copy(x0)
    f, g, hessp = objective.value_gradient_hessp(x)
    grad_norm = max_abs(g)
    history = []
    iteration = 0
    converged = grad_norm <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    while not converged and iteration < max_iter:
        direction, _ = _truncated_cg(hessp, g, _MAX_CG_ITER)
        slope = dot(g, direction)
        if not slope < 0:
            direction, slope = -g, -dot(g, g)
        step = 1.0
        for _ in range(_MAX_BACKTRACKS):
            x_trial = x + step * direction
            f_trial, g_trial, hessp_trial = objective.value_gradient_hessp(x_trial)
            if f_trial <= f + _ARMIJO * step * slope + objective.rounding * abs(f):
                break
            step = _next_step(step, slope, f, f_trial)
        else:
            message = NO_DECREASE
            break
        iteration += 1
        gained = f_trial < f or max_abs(g_trial) < grad_norm
        x, f, g, hessp = x_trial, f_trial, g_trial, hessp_trial
        grad_norm = max_abs(g)
        history.append(f)
        if callback is not None:
            length = step * norm(direction)
            callback(Progress(iteration, f, grad_norm, length))
        converged, reason = after_accepted_step(grad_norm, tol, gained)
        if reason is not None:
            message = reason
            break
    return SolverResult(
        x=x,
        objective=float(f),
        grad_norm=grad_norm,
        n_iter=iteration,
        converged=converged,
        objective_history=np.asarray(history, dtype=np.float64),
        message=message,
    )

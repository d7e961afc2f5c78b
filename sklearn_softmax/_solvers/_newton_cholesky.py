"""Newton's method with exact steps, from a Cholesky factorisation of the
Hessian, for problems whose Hessian is small enough to form."""

import numpy as np
import scipy.linalg

from .._vectors import copy, max_abs, norm
from ._line_search import ARMIJO, MAX_BACKTRACKS, next_step
from ._result import NO_DECREASE, Progress, SolverResult, after_accepted_step


def newton_step(hessian, gradient):
    """``-H^{-1} g`` by a Cholesky factorisation of ``H``; by a least-squares
    solve where rounding leaves ``H`` short of definite."""
    try:
        factor = scipy.linalg.cho_factor(hessian, check_finite=False)
    except np.linalg.LinAlgError:
        return -scipy.linalg.lstsq(hessian, gradient, check_finite=False)[0]
    return -scipy.linalg.cho_solve(factor, gradient, check_finite=False)


def minimize_newton_cholesky(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by Newton's method with exact steps.

    Each iteration forms the Hessian, solves the Newton system by a
    Cholesky factorisation, and takes the unit step, or a shorter one found
    by backtracking with quadratic interpolation until Armijo's condition
    holds (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006,
    Algorithm 3.1 with the Newton direction). Near the optimum the unit
    step is taken and the convergence is quadratic, however ill-conditioned
    the Hessian; each iteration costs ``n p^2`` multiply-adds to form it and
    ``p^3 / 3`` to factorise it, for ``p`` parameters.

    Parameters
    ----------
    objective : Objective
        Provides ``value_gradient_hessian(x)``.
    x0 : ndarray of shape (n_params,)
        Starting point, iterated in float64.
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
    f, g, hessian = objective.value_gradient_hessian(x)
    grad_norm = max_abs(g)
    history = []
    iteration = 0
    converged = grad_norm <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    while not converged and iteration < max_iter:
        direction = newton_step(hessian, g)
        slope = float(g @ direction)
        if not slope < 0:
            direction, slope = -g, -float(g @ g)
        step = 1.0
        for _ in range(MAX_BACKTRACKS):
            x_trial = x + step * direction
            f_trial, g_trial, hessian_trial = objective.value_gradient_hessian(x_trial)
            if f_trial <= f + ARMIJO * step * slope + objective.rounding * abs(f):
                break
            step = next_step(step, slope, f, f_trial)
        else:
            message = NO_DECREASE
            break
        iteration += 1
        gained = f_trial < f or max_abs(g_trial) < grad_norm
        x, f, g, hessian = x_trial, f_trial, g_trial, hessian_trial
        grad_norm = max_abs(g)
        history.append(f)
        if callback is not None:
            callback(Progress(iteration, f, grad_norm, step * norm(direction)))
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

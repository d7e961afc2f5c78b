"""Newton's method with exact steps, from a Cholesky factorisation of the
Hessian, for problems whose Hessian is small enough to form."""

import numpy as np

from .._linalg import psd_solver
from .._vectors import copy, max_abs
from ._conjugate_gradients import MAX_CG_ITER, truncated_cg
from ._line_search import backtrack, descent_direction
from ._result import NO_DECREASE, Trace, gains


def newton_step(hessian, gradient):
    """``-H^{-1} g``, or, where ``H`` is singular, the least-norm solution
    ``-H^+ g``, which keeps iterates that start in the span of the data in
    it, so that the minimiser found is the one of least norm, as conjugate
    gradients from zero find it.

    By :func:`~sklearn_softmax._linalg.psd_solver`, on the device of arrays
    of any namespace.
    """
    return -psd_solver(hessian)(gradient)


def _with_hessian(objective):
    """``value_gradient_hessian`` of the objective; where it offers none,
    one whose function forms the Hessian from the Hessian-vector products,
    one per parameter."""
    if objective.value_gradient_hessian is not None:
        return objective.value_gradient_hessian

    def value_gradient_hessian(x):
        f, g, hessp = objective.value_gradient_hessp(x)

        def hessian():
            identity = np.eye(g.shape[0])
            return np.stack([hessp(column) for column in identity], axis=1)

        return f, g, hessian

    return value_gradient_hessian


def _truncated_newton_step(hessian, gradient):
    """The Newton step by truncated conjugate gradients on the Hessian
    matrix (see :func:`~sklearn_softmax._solvers._conjugate_gradients.truncated_cg`)."""

    def product(v):
        # Where the Hessian's entries approach float64's range (features
        # about 1e150), a product can pass it: CG stops on its curvature,
        # inf or nan, without NumPy's warning.
        with np.errstate(over="ignore", invalid="ignore"):
            return hessian @ v

    return truncated_cg(product, gradient, MAX_CG_ITER)[0]


def minimize_newton_cholesky(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by Newton's method with exact steps.

    Each iteration forms the Hessian, solves the Newton system by a
    Cholesky factorisation, and takes the unit step, or a shorter one found
    by backtracking with quadratic interpolation until Armijo's condition
    holds (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006,
    Algorithm 3.1 with the Newton direction). Where no step along the exact
    direction decreases the objective, as happens in float32 when the
    Hessian's least curvature is below the gradient's rounding, the
    direction of truncated conjugate gradients on the same Hessian is tried
    before the run stops. Near the optimum the unit
    step is taken and the convergence is quadratic, however ill-conditioned
    the Hessian; each iteration costs ``n p^2`` multiply-adds to form it and
    ``p^3 / 3`` to factorise it, for ``p`` parameters. The Hessian is formed
    at the points a step is taken from only: not at the line search's
    rejected trials, nor at the last point.

    Parameters
    ----------
    objective : Objective
        Provides ``value_gradient_hessian(x)``, or else
        ``value_gradient_hessp(x)``, from which the Hessian is formed one
        product per parameter (NumPy arrays only). The function that forms
        the Hessian is called only while its point is the last evaluated.
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
    value_gradient_hessian = _with_hessian(objective)
    x = copy(x0)
    f, g, hessian_at_x = value_gradient_hessian(x)
    grad_norm = max_abs(g)
    trace = Trace(callback)
    converged = grad_norm <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    while not converged and trace.n_iter < max_iter:
        hessian = hessian_at_x()
        # The exact step; where the line search finds no decrease along it,
        # or the step gains nothing (neither the value nor the gradient
        # shrinks: rounding decides), conjugate gradients on the same
        # Hessian, whose truncated solve leaves alone the directions of
        # least curvature, where the gradient's rounding may dominate the
        # exact step.
        accepted = None
        for direction_of in (newton_step, _truncated_newton_step):
            direction, slope = descent_direction(g, direction_of(hessian, g))
            trial = backtrack(
                value_gradient_hessian, x, f, direction, slope, objective.rounding
            )
            if trial is not None and gains(trial[2], max_abs(trial[3]), f, grad_norm):
                accepted = trial
                break
        if accepted is None:
            # The objective is at its precision: the run stops where it is.
            message = NO_DECREASE
            break
        step, x_trial, f_trial, g_trial, hessian_at_x = accepted
        x, f, g = x_trial, f_trial, g_trial
        grad_norm = max_abs(g)
        trace.record(f, grad_norm, direction, float(step))
        converged = grad_norm <= tol
        if converged:
            message = "converged"
    return trace.result(x, f, grad_norm, converged, message)

"""The project's own second-order solver: truncated Newton with conjugate
gradients (:mod:`._conjugate_gradients`)."""

from .._vectors import copy, max_abs
from ._line_search import backtrack, descent_direction
from ._newton_steps import NewtonDirections
from ._result import NO_DECREASE, Trace, gains


def minimize_newton_cg(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by truncated Newton-CG.

    Each iteration computes a Newton direction by conjugate gradients on
    Hessian-vector products (see :func:`~._conjugate_gradients.truncated_cg`)
    and takes the unit step, or a shorter one found by backtracking with
    quadratic interpolation until Armijo's condition holds. Every trial
    point is evaluated with its gradient and Hessian data at once: the unit
    step is almost always accepted, so this saves a pass over the data per
    iteration.

    The conjugate gradients are preconditioned with what the objective
    offers, an estimate of the Hessian's diagonal, a Kronecker-factored
    approximation of the Hessian, or the Hessian itself, each where it
    pays (see :class:`~._newton_steps.NewtonDirections`).

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
    trace = Trace(callback)
    converged = grad_norm <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    best = (grad_norm, x, f)
    directions = NewtonDirections(objective, x)
    while not converged and trace.n_iter < max_iter:
        direction = directions(hessp, g)
        direction, slope = descent_direction(g, direction)
        trial = backtrack(
            objective.value_gradient_hessp, x, f, direction, slope, objective.rounding
        )
        if trial is None:
            message = NO_DECREASE
            break
        step, x_trial, f_trial, g_trial, hessp_trial = trial
        if not gains(f_trial, max_abs(g_trial), f, grad_norm):
            message = NO_DECREASE
            break
        x, f, g, hessp = x_trial, f_trial, g_trial, hessp_trial
        grad_norm = max_abs(g)
        trace.record(f, grad_norm, direction, float(step))
        converged = grad_norm <= tol
        if converged:
            message = "converged"
        elif grad_norm < best[0]:
            best = (grad_norm, x, f)
    if (
        not converged
        and best[0] < grad_norm
        and best[2] - f <= objective.rounding * abs(f)
    ):
        # Where the products' rounding limits the steps (float32 data), a
        # step can lower the value by its rounding and raise the gradient
        # by orders: where the value fell by no more than its rounding
        # since the iterate of the least gradient, the run returns that
        # iterate; otherwise the last, as any run stopped by max_iter.
        grad_norm, x, f = best
    return trace.result(x, f, grad_norm, converged, message)

"""The project's own first-order solver: accelerated (proximal) gradient.

One loop serves the smooth objective ('gd') and the smooth objective plus a
non-smooth penalty (the L1 and group penalties): plain accelerated gradient
descent is FISTA with the identity for the proximal map.
"""

import math

import numpy as np

from .._vectors import copy, dot, max_abs, norm
from ._line_search import CURVATURE_DECAY, MAX_HALVINGS, curvature_estimate
from ._proximal_newton import newton_step_on_support
from ._result import NO_DECREASE_ALONG_GRADIENT, NO_STEP, Trace

# Below this relative size, a predicted decrease is lost in the rounding of
# the objective's value; the step is then checked on the gradient instead.
_UNMEASURABLE = 1e-10
# With newton_steps, a Newton step is taken once the proximal steps have kept
# the support for this many iterations in a row.
_STABLE_ITERATIONS = 3


def _identity(v, step):
    """The proximal map of the zero penalty."""
    return v


def _lipschitz_holds(objective, x_new, y, g_y, L):
    """Whether ``|g(x_new) - g(y)| <= L |x_new - y|``: the gradient form of the
    step-size condition, for when values are too close to compare."""
    _, g_new = objective.value_and_gradient(x_new)
    return norm(g_new - g_y) <= L * norm(x_new - y)


def _proximal_step(objective, prox, y, f_y, g_y, L):
    """The step from ``y`` with the smallest curvature ``L``, doubled from the
    given one, under which the smooth part's upper bound holds.

    Returns ``(x_new, f_new, L, first_trial)``, or None when
    :data:`~._line_search.MAX_HALVINGS` doublings all fail.
    """
    for trial in range(MAX_HALVINGS):
        x_new = prox(y - g_y / L, 1.0 / L)
        d = x_new - y
        f_new = objective.value(x_new)
        # The decrease that the bound f(y) + g.d + L |d|^2 / 2 promises:
        # |g|^2 / (2 L) without a penalty.
        decrease = -(dot(g_y, d) + 0.5 * L * dot(d, d))
        if decrease <= _UNMEASURABLE * abs(f_y):
            # The values cannot tell a good step from a bad one: within
            # their rounding, too long a step would pass and the iterates
            # would wander about the optimum.
            if _lipschitz_holds(objective, x_new, y, g_y, L):
                return x_new, f_new, L, trial == 0
        elif f_new <= f_y - decrease + objective.rounding * abs(f_y):
            return x_new, f_new, L, trial == 0
        L *= 2.0
    return None


def minimize_agd(
    objective,
    x0,
    *,
    max_iter,
    tol,
    callback=None,
    penalty=None,
    newton_steps=False,
):
    """Minimise ``f(x) + penalty(x)``, ``f`` smooth and convex, by accelerated
    proximal gradient.

    FISTA (Beck & Teboulle, 2009): from the extrapolated point ``y``, the
    step is ``x = prox(y - g(y) / L, 1 / L)`` with the penalty's proximal
    map, the identity without a penalty, where it is Nesterov's accelerated
    gradient descent. ``L`` comes from backtracking on the upper bound of
    the smooth part, ``f(x) <= f(y) + g(y).(x - y) + L |x - y|^2 / 2``
    (without a penalty, Armijo's ``f(y - g/L) <= f(y) - |g|^2 / (2L)``),
    and is multiplied by :data:`~._line_search.CURVATURE_DECAY` after a step
    accepted at its first trial, so that the step can grow again
    (Scheinberg, Goldfarb & Bai, 2014). Near the optimum, where the decrease
    the bound promises is lost in the rounding of the objective, a step is
    also accepted on the gradient form of the condition,
    ``|g(x) - g(y)| <= L |x - y|``. The momentum restarts whenever it
    points uphill, ``(y - x_new).(x_new - x) > 0`` (the gradient scheme of
    O'Donoghue & Candes, 2015; without a penalty ``y - x_new`` is ``g(y) /
    L``), which recovers linear convergence on strongly convex objectives
    without knowing the strong convexity constant.

    With ``newton_steps``, once the support (the rows that are not zero)
    has stayed the same for ``_STABLE_ITERATIONS`` iterations, each
    iteration adds a Newton step on it, where the penalty is smooth (see
    :mod:`._proximal_newton`), and the momentum restarts from there.

    The stopping rule is the largest entry of the gradient mapping
    ``L (y - x_new)`` at most ``tol``. Without a penalty that mapping is
    the gradient at ``y``, known before the step: the solver stops once the
    gradient at the extrapolated point is small enough and returns that
    point. With a penalty the mapping is the gradient where the penalty is
    zero, and ``x_new`` is returned.

    Parameters
    ----------
    objective : Objective
        The smooth part; provides ``value(x)`` and ``value_and_gradient(x)``,
        and ``value_gradient_hessp(x)`` for ``newton_steps``.
    x0 : array of shape (n_params,)
        Starting point: a NumPy array (iterated in float64), or, without a
        penalty, an array of any Array API namespace, iterated in its
        namespace, device and dtype.
    max_iter : int
        Most iterations; each costs one gradient and usually one extra value.
    tol : float
        The stopping rule's bound, above.
    callback : callable, optional
        Called with a :class:`Progress` after each iteration.
    penalty : object, optional
        The non-smooth part, on NumPy arrays; none when None. Its protocol:
        ``value(x)``, the penalty as a float, and ``prox(v, step)``, its
        proximal map ``argmin_x penalty(x) + |x - v|^2 / (2 step)``; for
        ``newton_steps`` also ``support(x)``, a boolean mask of the entries
        where the penalty is smooth at ``x``, and there its gradient
        ``smooth_gradient(x)`` and Hessian-vector product
        ``smooth_hessp(x, v)``. The norms of :mod:`sklearn_softmax._penalties`
        follow it.
    newton_steps : bool, default=False
        Whether to add Newton steps on the support.

    Returns
    -------
    result : SolverResult
        ``objective`` and ``objective_history`` include the penalty. Without
        a penalty, ``grad_norm`` is the largest absolute gradient entry at
        the returned point; with one, that of the gradient mapping, and so
        are the entries of ``grad_norm_history``.
    """
    prox = _identity if penalty is None else penalty.prox
    x = copy(x0)
    f_y, g_y = objective.value_and_gradient(x)
    grad_norm = max_abs(g_y) if penalty is None else math.inf
    trace = Trace(callback)
    if grad_norm <= tol:
        return trace.result(x, f_y, grad_norm, True, "converged")

    L = curvature_estimate(objective, x, g_y)
    y, t = x, 1.0
    f_x = f_y
    message = f"reached max_iter={max_iter}"
    converged = False
    if penalty is not None and max_iter == 0:
        # No step is taken: the gradient mapping at the start, with the
        # first curvature estimate, says how far from optimal it is.
        grad_norm = L * max_abs(x - prox(x - g_y / L, 1.0 / L))
        converged = grad_norm <= tol
        if converged:
            message = "converged"
    support, n_stable = None, 0
    for _ in range(max_iter):
        found = _proximal_step(objective, prox, y, f_y, g_y, L)
        if found is None:
            message = NO_DECREASE_ALONG_GRADIENT
            break
        x_new, f_new, L, first_trial = found
        if penalty is not None:
            grad_norm = L * max_abs(x_new - y)
            converged = grad_norm <= tol
        if not converged and not max_abs(x_new - y):
            # The step is lost in the rounding of the parameters: no
            # iteration can move them again.
            message = NO_STEP
            break
        if dot(y - x_new, x_new - x) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        step = x_new - x
        x, f_x = x_new, f_new
        if first_trial:
            L *= CURVATURE_DECAY
        if not converged:
            newton = None
            if newton_steps:
                previous, support = support, penalty.support(x)
                n_stable = n_stable + 1 if np.array_equal(support, previous) else 0
                if n_stable >= _STABLE_ITERATIONS:
                    newton = newton_step_on_support(objective, penalty, x)
            if newton is None:
                y = x + ((t - 1.0) / t_next) * step
                t = t_next
                f_y, g_y = objective.value_and_gradient(y)
            else:
                step = newton[0] - x + step
                x, f_x, g_x = newton
                y, f_y, g_y, t = x, f_x, g_x, 1.0
            if penalty is None:
                grad_norm = max_abs(g_y)
                converged = grad_norm <= tol
        trace.record(
            f_y if penalty is None else f_x + penalty.value(x),
            grad_norm,
            step,
        )
        if converged:
            message = "converged"
            break
    if penalty is None:
        x, objective_value = y, f_y
    else:
        objective_value = f_x + penalty.value(x)
    return trace.result(x, objective_value, grad_norm, converged, message)

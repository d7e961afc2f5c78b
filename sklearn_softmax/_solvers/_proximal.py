"""Accelerated proximal gradient (FISTA) for a smooth objective plus a norm.

The non-smooth part is a penalty object with ``value(x)`` and
``prox(v, step)``, the proximal map ``argmin_x penalty(x) + |x - v|^2 /
(2 step)``, such as the norms of :mod:`sklearn_softmax._penalties`.
"""

import math

import numpy as np

from .._vectors import max_abs

# The step-size search is the smooth solver's: the same limit on halvings
# and the same growth after a step accepted at its first trial.
from ._line_search import CURVATURE_DECAY, MAX_HALVINGS, curvature_estimate
from ._proximal_newton import newton_step_on_support
from ._result import Progress, SolverResult

# With newton_steps, a Newton step is taken once the proximal steps have kept
# the support for this many iterations in a row.
_STABLE_ITERATIONS = 3


def minimize_proximal_agd(
    objective, x0, *, penalty, max_iter, tol, callback=None, newton_steps=False
):
    """Minimise ``f(x) + penalty(x)`` by accelerated proximal gradient.

    FISTA (Beck & Teboulle, 2009): from the extrapolated point ``y``, the step
    is ``x = prox(y - g(y) / L, 1 / L)`` with the penalty's proximal map.
    ``L`` is found by backtracking on the upper bound of the smooth part,
    ``f(x) <= f(y) + g(y).(x - y) + L |x - y|^2 / 2``, and allowed to shrink
    again after a step accepted at its first trial. The momentum restarts
    when ``(y - x_new).(x_new - x) > 0`` (O'Donoghue & Candes, 2015).

    With ``newton_steps``, once the support (the rows that are not zero) has
    stayed the same for ``_STABLE_ITERATIONS`` iterations, each iteration
    adds a Newton step on it, where the penalty is smooth (see
    :mod:`._proximal_newton`), and the momentum restarts from there.

    The stopping rule is the composite form of the solvers' rule: the
    largest entry of the gradient mapping ``L (y - x_new)``, which is the
    gradient where the penalty is zero, is at most ``tol``; ``x_new`` is
    returned.

    Parameters
    ----------
    objective : Objective
        The smooth part; provides ``value(x)`` and ``value_and_gradient(x)``,
        and ``value_gradient_hessp(x)`` for ``newton_steps``.
    x0 : ndarray of shape (n_params,)
        Starting point, float64.
    penalty : L1Norm or GroupNorm
        The non-smooth part: ``value(x)`` and ``prox(v, step)``; for
        ``newton_steps``, a GroupNorm, which also gives ``support``,
        ``smooth_gradient`` and ``smooth_hessp``.
    max_iter, tol, callback
        As for the other solvers.
    newton_steps : bool, default=False
        Whether to add Newton steps on the support.

    Returns
    -------
    result : SolverResult
        ``objective`` and ``objective_history`` include the penalty;
        ``grad_norm`` is the gradient mapping's largest entry.
    """
    x = np.array(x0, dtype=np.float64)
    f_y, g_y = objective.value_and_gradient(x)
    L = curvature_estimate(objective, x, g_y)
    y, t = x, 1.0
    history = []
    message = f"reached max_iter={max_iter}"
    converged = False
    mapping_norm = math.inf
    f_x = f_y
    support, n_stable = None, 0
    iteration = 0
    for iteration in range(1, max_iter + 1):
        first_trial = True
        for _ in range(MAX_HALVINGS):
            x_new = penalty.prox(y - g_y / L, 1.0 / L)
            d = x_new - y
            f_new = objective.value(x_new)
            bound = f_y + float(np.dot(g_y, d)) + 0.5 * L * float(np.dot(d, d))
            if f_new <= bound + objective.rounding * abs(f_y):
                break
            L *= 2.0
            first_trial = False
        else:
            message = "no decrease at the working precision"
            iteration -= 1
            break
        mapping_norm = L * max_abs(d)
        converged = mapping_norm <= tol
        if float(np.dot(y - x_new, x_new - x)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        step = x_new - x
        x, f_x = x_new, f_new
        newton = None
        if newton_steps and not converged:
            previous, support = support, penalty.support(x)
            n_stable = n_stable + 1 if np.array_equal(support, previous) else 0
            if n_stable >= _STABLE_ITERATIONS:
                newton = newton_step_on_support(objective, penalty, x)
        if newton is not None:
            step = newton[0] - x + step
            x, f_x, g_x = newton
        history.append(f_x + penalty.value(x))
        if callback is not None:
            callback(
                Progress(
                    iteration, history[-1], mapping_norm, float(np.linalg.norm(step))
                )
            )
        if converged:
            message = "converged"
            break
        if first_trial:
            L *= CURVATURE_DECAY
        if newton is not None:
            y, f_y, g_y, t = x, f_x, g_x, 1.0
            continue
        y = x + ((t - 1.0) / t_next) * step
        t = t_next
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

"""Newton steps on the support that proximal gradient steps have found.

The group norm is smooth away from its kinks: once proximal gradient steps
have found which rows of weights are zero, the objective restricted to the
others is smooth, and Newton's method converges on it superlinearly where
proximal gradient converges linearly at best. Bareilles, Iutzeler & Malick
(2022, "Newton acceleration on manifolds identified by proximal gradient
methods", Mathematical Programming) alternate the two kinds of step; this
solver does so with accelerated proximal gradient steps and the truncated
conjugate gradients of :mod:`._conjugate_gradients`; :func:`~._agd.minimize_agd`
calls :func:`newton_step_on_support` with ``newton_steps=True``.

The L1 norm is not offered: its support is identified one weight at a time
and kept changing over hundreds of iterations on the problems measured, so
the Newton steps cost more than they saved (the solvers page has the
figures).
"""

import numpy as np

from ._conjugate_gradients import MAX_CG_ITER, truncated_cg
from ._line_search import backtrack


def newton_step_on_support(objective, penalty, x):
    """A Newton step on the support of ``x``, where the penalty is smooth.

    The direction solves, by truncated conjugate gradients, the Newton
    system of the objective restricted to the support, with the Hessian
    damped by the gradient's norm (the regularised Newton method of Ueda &
    Yamashita, 2010), which keeps superlinear convergence and bounds the
    step where the objective is flat. A backtracking line search on the
    whole objective follows. Returns the new point, its smooth value and
    gradient, or None when no step decreases the objective.
    """
    f, g, hessp = objective.value_gradient_hessp(x)
    free = penalty.support(x)
    gradient = np.where(free, g + penalty.smooth_gradient(x), 0.0)
    damping = float(np.linalg.norm(gradient))
    if damping == 0.0:
        return None

    def reduced_hessp(v):
        v = np.where(free, v, 0.0)
        Hv = hessp(v) + penalty.smooth_hessp(x, v) + damping * v
        return np.where(free, Hv, 0.0)

    direction, _ = truncated_cg(reduced_hessp, gradient, MAX_CG_ITER)
    slope = float(np.dot(gradient, direction))
    if not slope < 0:
        return None

    def evaluate(x_trial):
        f_trial, g_trial = objective.value_and_gradient(x_trial)
        return f_trial + penalty.value(x_trial), f_trial, g_trial

    trial = backtrack(
        evaluate, x, f + penalty.value(x), direction, slope, objective.rounding
    )
    if trial is None:
        return None
    _, x_trial, _, f_trial, g_trial = trial
    return x_trial, f_trial, g_trial

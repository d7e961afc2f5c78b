"""What the solvers' step-size searches share.

The sufficient-decrease constant, the limits on backtracking, the step that
quadratic interpolation proposes after a failed trial, the curvature
estimate that sets a first step, and the factor by which an accelerated
gradient step may grow again. The solvers import these by name; none of
them imports another solver's internals.
"""

import math

from .._vectors import dot, norm

# Armijo's sufficient-decrease constant: a step must achieve this share of
# the decrease that the slope predicts (Nocedal & Wright, *Numerical
# Optimization*, 2nd ed., 2006, eq. 3.4).
ARMIJO = 1e-4
# Once this many interpolated reductions of one step have failed (each
# divides it by 2 to 10), the objective cannot be decreased along the
# search direction at the precision it is computed in.
MAX_BACKTRACKS = 40
# The same limit for the accelerated gradient's halvings of its step.
MAX_HALVINGS = 60
# After a step accepted at its first trial, the accelerated gradient's
# curvature estimate is multiplied by this, so that the next trial step is
# 1 / 0.9 longer (Scheinberg, Goldfarb & Bai, 2014).
CURVATURE_DECAY = 0.9


def next_step(step, slope, f, f_trial):
    """The step to try after ``step`` failed: the minimiser of the quadratic
    through ``f``, ``slope`` (at step 0) and ``f_trial`` (at ``step``), kept
    within ``[0.1, 0.5]`` of the failed step.

    Parameters
    ----------
    step : float
        The failed step.
    slope : float
        The directional derivative at step 0, negative.
    f, f_trial : float
        The objective at step 0 and at ``step``.

    Returns
    -------
    step : float
    """
    return _within_bounds(step, slope, 2.0 * (f_trial - f - step * slope))


def secant_step(step, slope, sy):
    """The step to try after ``step`` failed, where the values are too close
    to compare: the zero of the directional derivative interpolated between
    ``slope`` (at step 0) and ``slope + sy / step`` (at ``step``), kept within
    ``[0.1, 0.5]`` of the failed step.

    It is the minimiser of the quadratic of :func:`next_step` with the
    curvature taken from the gradients, which resolve it where the values
    are lost in their rounding.

    Parameters
    ----------
    step : float
        The failed step.
    slope : float
        The directional derivative at step 0, negative.
    sy : float
        ``s . (g_trial - g)`` for the failed step ``s``: the change of the
        directional derivative over the step, times the step.

    Returns
    -------
    step : float
    """
    return _within_bounds(step, slope, sy)


def _within_bounds(step, slope, curvature):
    """``-slope step^2 / curvature``, the minimiser along the direction of a
    quadratic with that curvature (times ``step^2``), within ``[0.1, 0.5]``
    of ``step``; half of it when the curvature is not positive."""
    candidate = -slope * step * step / curvature if curvature > 0 else 0.5 * step
    return min(0.5 * step, max(0.1 * step, candidate))


def curvature_estimate(objective, x, g):
    """Estimate the gradient's Lipschitz constant along ``-g`` from one probe.

    The change of the gradient over a short move along ``-g`` (of length
    ``1e-4 max(1, |x|)``) divided by the move's length; ``|g|`` when that is
    not a positive finite number, and 1 when ``g`` is zero.

    Parameters
    ----------
    objective : Objective
        Provides ``value_and_gradient(x)``.
    x : array of shape (n_params,)
        Where to estimate it.
    g : array of shape (n_params,)
        The gradient at ``x``.

    Returns
    -------
    curvature : float
    """
    g_norm = norm(g)
    if g_norm == 0:
        return 1.0
    delta = g * (1e-4 * max(1.0, norm(x)) / g_norm)
    _, g_probe = objective.value_and_gradient(x - delta)
    curvature = norm(g_probe - g) / norm(delta)
    return curvature if curvature > 0 and math.isfinite(curvature) else g_norm


def backtrack(evaluate, x, f, direction, slope, rounding):
    """The first step along ``direction``, from 1 down by :func:`next_step`,
    that meets Armijo's condition, relaxed by ``rounding`` times ``|f|``
    (see :class:`~sklearn_softmax._loss.Objective`).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x)`` returns a tuple whose first entry is the objective.
    x : array of shape (n_params,)
        The current point.
    f : float
        The objective at ``x``.
    direction : array of shape (n_params,)
        A descent direction.
    slope : float
        The directional derivative along ``direction``, negative.
    rounding : float
        The relative rounding of the objective's values.

    Returns
    -------
    trial : tuple or None
        ``(step, x_trial, *evaluate(x_trial))`` for the accepted step and
        its point ``x_trial = x + step * direction``; None when
        :data:`MAX_BACKTRACKS` reductions fail.
    """
    step = 1.0
    for _ in range(MAX_BACKTRACKS):
        x_trial = x + step * direction
        evaluation = evaluate(x_trial)
        if evaluation[0] <= f + ARMIJO * step * slope + rounding * abs(f):
            return (step, x_trial, *evaluation)
        step = next_step(step, slope, f, evaluation[0])
    return None


def descent_direction(g, direction):
    """``direction`` and its slope ``g . direction`` where it descends; the
    steepest descent ``-g`` and its slope otherwise (a direction that
    rounding, or a Hessian that is not positive definite, turned uphill)."""
    slope = dot(g, direction)
    if not slope < 0:
        return -g, -dot(g, g)
    return direction, slope

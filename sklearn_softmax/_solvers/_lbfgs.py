"""The project's own L-BFGS, which iterates in the namespace of its arrays.

scipy's L-BFGS-B runs on the host, so an objective evaluated on a GPU would
send its gradient across at every evaluation. This one keeps the iterate,
the gradient and the correction pairs where they are, and reads back a
short vector of scalars per trial point.
"""

from collections import deque
from typing import NamedTuple

import numpy as np

from .._vectors import copy, inner, max_abs, namespace, norm
from ._line_search import ARMIJO, MAX_BACKTRACKS, next_step, secant_step
from ._result import NO_DECREASE, Trace, gains

# A correction pair is kept only if its curvature ``s . y`` exceeds this
# share of ``y . y`` (as L-BFGS-B does, with machine epsilon): else the
# inverse Hessian estimate would lose its positive definiteness.
_CURVATURE_FLOOR = float(np.finfo(np.float64).eps)


def _to_floats(xp, *scalars):
    """Read several zero-dimensional arrays back to the host at once."""
    stacked = xp.stack([xp.reshape(s, ()) for s in scalars])
    if hasattr(stacked, "tolist"):
        return [float(v) for v in stacked.tolist()]
    return [float(stacked[i]) for i in range(stacked.shape[0])]


def _direction(g, pairs, gamma):
    """``-H g`` for the L-BFGS estimate ``H`` of the inverse Hessian: the
    two-loop recursion (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
    2006, Algorithm 7.4) with ``H_0 = gamma I``. The coefficients stay
    zero-dimensional arrays on the device; nothing is read back."""
    q = copy(g)
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * inner(s, q)
        q -= alpha * y
        alphas.append(alpha)
    q *= gamma
    for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = rho * inner(y, q)
        q += (alpha - beta) * s
    return -q


class _Step(NamedTuple):
    """An accepted step ``s``, the gradient's change ``y`` along it, and the
    new point's value, gradient, largest gradient entry and the pair's
    curvatures ``s . y``, ``y . y``."""

    s: object
    y: object
    f: float
    g: object
    grad_norm: float
    sy: float
    yy: float


class _Search(NamedTuple):
    """What a line search found: the step, or None when it found none that
    lowers the objective or the gradient, with the direction's slope and
    the curvature ``d . (g(x + d) - g(x))`` of its unit step."""

    step: _Step | None
    slope: float
    curvature: float


def _line_search(objective, xp, x, f, g, grad_norm, direction):
    """Backtracking along ``direction`` from the unit step.

    A step is taken when it lowers the value or the largest gradient entry,
    and either meets Armijo's condition or, where the decrease that the
    slope predicts for it is below the rounding of the objective's value,
    leaves the value within that rounding. Where the predicted decrease can
    be measured, the rounding does not excuse an increase, which would hide
    a poor direction, and the next trial step comes from the values
    (:func:`~._line_search.next_step`); where it cannot, it comes from the
    slopes at both ends (:func:`~._line_search.secant_step`), and a step at
    whose end the objective still descends, yet gains nothing, ends the
    search: a shorter one would gain no more.
    """
    rounding = objective.rounding * abs(f)
    step, slope, curvature = 1.0, 0.0, float("nan")
    for backtrack in range(MAX_BACKTRACKS):
        s = step * direction
        f_trial, g_trial = objective.value_and_gradient(x + s)
        y = g_trial - g
        slope, grad_norm_trial, sy, yy = _to_floats(
            xp,
            inner(g, direction),
            xp.max(xp.abs(g_trial)),
            inner(s, y),
            inner(y, y),
        )
        if backtrack == 0:
            curvature = sy
        if not slope < 0:
            break
        predicted = -step * slope
        measurable = predicted > rounding
        # With a predicted decrease below half a unit in the last place of
        # f, Armijo's condition holds for an unchanged value.
        gained = gains(f_trial, grad_norm_trial, f, grad_norm)
        if gained and (
            f_trial <= f - ARMIJO * predicted
            or (not measurable and f_trial <= f + rounding)
        ):
            found = _Step(s, y, f_trial, g_trial, grad_norm_trial, sy, yy)
            return _Search(found, slope, curvature)
        if measurable:
            step = next_step(step, slope, f, f_trial)
        elif slope + sy / step > 0:
            step = secant_step(step, slope, sy)
        else:
            break
    return _Search(None, slope, curvature)


def _verdict(search, f, rounding):
    """Why the run stops when no step was found along the gradient.

    :data:`NO_DECREASE`, the objective's precision limit, only when the
    decrease predicted along the direction is below the rounding of its
    value: that of a quadratic model at its minimiser, ``slope^2 / (2
    curvature)``, where the gradients resolve the curvature of the unit
    step; else that of the unit step to first order, ``-slope``, which
    bounds the unit step's decrease on a convex objective (the unit step is
    ``-gamma g``, the length the newest pair's curvature suggests). Any other
    failure is reported as what it is.
    """
    if search.curvature > 0:
        predicted = search.slope**2 / (2.0 * search.curvature)
    else:
        predicted = -search.slope
    if predicted <= rounding * abs(f):
        return NO_DECREASE
    return (
        "the line search found no decrease along the gradient, where the "
        f"gradient predicts one of {predicted:.3g}, above the rounding of the "
        f"objective's value ({rounding * abs(f):.3g})"
    )


def minimize_lbfgs_in_namespace(
    objective, x0, *, max_iter, tol, callback=None, memory=10
):
    """Minimise a smooth objective by L-BFGS with a backtracking line search.

    The search direction comes from the two-loop recursion on the last
    ``memory`` correction pairs, scaled by ``gamma = s . y / y . y`` of the
    newest (Nocedal & Wright, 2006, eq. 7.20); the unit step is tried first
    and shortened by quadratic interpolation until Armijo's condition
    holds, with the rounding of the objective excusing only steps whose
    predicted decrease it hides (see :func:`_line_search`). On a convex
    objective every accepted step has ``s . y >= 0``; a pair whose
    curvature is lost in rounding is not kept. The first step is along the
    gradient, of length at most one.

    When the line search finds no step that lowers the objective (or, at
    its precision limit, the gradient), the pairs may describe the
    curvature of another region, or rounding: they are forgotten, and the
    search is repeated along the gradient scaled by ``gamma``, a step the
    newest pair's curvature suggests. Only when that fails too does the run
    stop, with :data:`NO_DECREASE` if the decrease predicted along the
    gradient is below the rounding of the objective's value, so that the
    objective cannot be decreased at its precision (see :func:`_verdict`),
    and with a message that says what happened if not.

    Each trial point costs one evaluation of the objective and its gradient,
    and one read of four scalars from the arrays' device: the slope, the
    gradient's largest entry and the new pair's curvatures.

    Parameters
    ----------
    objective : Objective
        Provides ``value_and_gradient(x)`` and ``rounding``.
    x0 : array of shape (n_params,)
        Starting point: a NumPy array (iterated in float64), or an array of
        any Array API namespace, iterated in its namespace, device and
        dtype.
    max_iter : int
        Most iterations.
    tol : float
        Stop once the largest absolute gradient entry is at most ``tol``.
    callback : callable, optional
        Called with a :class:`Progress` after each iteration.
    memory : int, default=10
        Correction pairs kept, as L-BFGS-B's default ``maxcor``.

    Returns
    -------
    result : SolverResult
    """
    x = copy(x0)
    xp = namespace(x)
    f, g = objective.value_and_gradient(x)
    grad_norm = max_abs(g)
    pairs = deque(maxlen=memory)
    gamma = 1.0 / max(1.0, norm(g))
    trace = Trace(callback)
    converged = grad_norm <= tol
    message = f"reached max_iter={max_iter}"
    while not converged and trace.n_iter < max_iter:
        search = _line_search(
            objective, xp, x, f, g, grad_norm, _direction(g, pairs, gamma)
        )
        if search.step is None and pairs:
            pairs.clear()
            search = _line_search(objective, xp, x, f, g, grad_norm, -gamma * g)
        if search.step is None:
            message = _verdict(search, f, objective.rounding)
            break
        step = search.step
        if step.sy > _CURVATURE_FLOOR * step.yy:
            pairs.append((step.s, step.y, 1.0 / step.sy))
            gamma = step.sy / step.yy
        x, f, g, grad_norm = x + step.s, step.f, step.g, step.grad_norm
        trace.record(f, grad_norm, step.s)
        converged = grad_norm <= tol
    if converged:
        message = "converged"
    return trace.result(x, f, grad_norm, converged, message)

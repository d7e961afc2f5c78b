"""The project's own L-BFGS, which iterates in the namespace of its arrays.

scipy's L-BFGS-B runs on the host, so an objective evaluated on a GPU would
send its gradient across at every evaluation. This one keeps the iterate,
the gradient and the correction pairs where they are, and reads back a
short vector of scalars per trial point.
"""

from collections import deque

import numpy as np

from .._vectors import copy, inner, max_abs, namespace, norm
from ._line_search import ARMIJO, MAX_BACKTRACKS, next_step
from ._result import NO_DECREASE, Progress, SolverResult, after_accepted_step

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


def minimize_lbfgs_in_namespace(
    objective, x0, *, max_iter, tol, callback=None, memory=10
):
    """Minimise a smooth objective by L-BFGS with a backtracking line search.

    The search direction comes from the two-loop recursion on the last
    ``memory`` correction pairs, scaled by ``s . y / y . y`` of the newest
    (Nocedal & Wright, 2006, eq. 7.20); the unit step is tried first and
    shortened by quadratic interpolation until Armijo's condition holds. On
    a convex objective every accepted step has ``s . y >= 0``; a pair whose
    curvature is lost in rounding is not kept. The first step is along the
    gradient, of length at most one.

    Each trial point costs one evaluation of the objective and its gradient,
    and one read of four scalars from the arrays' device: the value, the
    slope, the gradient's largest entry and the new pair's curvatures.

    Parameters
    ----------
    objective : Objective
        Provides ``value_and_gradient(x)``.
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
    history = []
    iteration = 0
    converged = grad_norm <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    while not converged and iteration < max_iter:
        direction = _direction(g, pairs, gamma)
        step = 1.0
        for _ in range(MAX_BACKTRACKS):
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
            if slope >= 0:
                # Not a descent direction: forget the pairs, follow -g.
                pairs.clear()
                direction, step = -g * gamma, 1.0
                continue
            if f_trial <= f + ARMIJO * step * slope + objective.rounding * abs(f):
                break
            step = next_step(step, slope, f, f_trial)
        else:
            message = NO_DECREASE
            break
        iteration += 1
        gained = f_trial < f or grad_norm_trial < grad_norm
        if sy > _CURVATURE_FLOOR * yy:
            pairs.append((s, y, 1.0 / sy))
            gamma = sy / yy
        x, f, g, grad_norm = x + s, f_trial, g_trial, grad_norm_trial
        history.append(f)
        if callback is not None:
            callback(Progress(iteration, f, grad_norm, norm(s)))
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

"""The project's own second-order solver: truncated Newton with conjugate
gradients (:mod:`._conjugate_gradients`)."""

import math

import numpy as np

from .._vectors import copy, max_abs
from ._conjugate_gradients import MAX_CG_ITER, truncated_cg
from ._line_search import backtrack, descent_direction
from ._result import NO_DECREASE, Trace, gains

# The share of the Hessian's diagonal, scaled to a mean of one, in the
# preconditioner; the rest is the identity.
_DIAGONAL_SHARE = 0.1
# A Newton step of at most this many Hessian-vector products leaves too
# little to save for the factored approximation of the Hessian to pay,
# however cheap it is.
_MIN_PRODUCTS_TO_FACTOR = 10


def _diagonal_preconditioner(objective, x):
    """Multiplication by ``1 / ((1 - a) + a D / mean(D))`` for the estimate
    ``D`` of the Hessian's diagonal that ``objective`` offers, with ``a`` =
    :data:`_DIAGONAL_SHARE`; None when it offers none, or for arrays other
    than NumPy's.

    The identity in the mix keeps conjugate gradients as they were where
    the diagonal carries little (Hsia, Chiang & Lin, *Preconditioned
    conjugate gradient methods in truncated Newton frameworks for
    large-scale linear classification*, ACML 2018, mix the diagonal with the
    identity for the same reason); where features differ in scale by orders
    of magnitude, as in sparse text data, the diagonal part cuts the
    conjugate-gradient iterations.
    """
    if objective.hessian_diagonal is None or not isinstance(x, np.ndarray):
        return None
    diagonal = objective.hessian_diagonal()
    inverse = 1.0 / (
        (1.0 - _DIAGONAL_SHARE) + _DIAGONAL_SHARE * diagonal / diagonal.mean()
    )
    return lambda r: inverse * r


def minimize_newton_cg(objective, x0, *, max_iter, tol, callback=None):
    """Minimise a smooth convex objective by truncated Newton-CG.

    Each iteration computes a Newton direction by conjugate gradients on
    Hessian-vector products (see :func:`truncated_cg`) and takes the unit
    step, or a shorter one found by backtracking with quadratic
    interpolation until Armijo's condition holds. Every trial point is
    evaluated with its gradient and Hessian data at once: the unit step is
    almost always accepted, so this saves a pass over the data per
    iteration.

    The conjugate gradients are preconditioned with what the objective
    offers. Where the objective offers a Kronecker-factored approximation
    of its Hessian (see :mod:`~sklearn_softmax._curvature`) that costs less
    than a Hessian-vector product to form, as for sparse data, every step
    is preconditioned with it, refreshed at each iterate. Otherwise the
    first steps are preconditioned with the estimate of the Hessian's
    diagonal (see :func:`_diagonal_preconditioner`), at its cost, once;
    and where the objective offers the approximation, once a Newton step
    has taken more Hessian-vector products than the approximation costs to
    form, and more than :data:`_MIN_PRODUCTS_TO_FACTOR`, every later step
    is preconditioned with it: on data whose features are strongly
    correlated, as neighbouring pixels are, it cuts the products of the last
    steps several times over, and where the steps take few products it is
    never formed.

    Where the objective offers its Hessian itself as a dense matrix (its
    ``exact_curvature``, with what forming and factoring it costs in
    products, at most :data:`MAX_CG_ITER`), a step whose conjugate
    gradients reach that many products stops them, forms the Hessian at
    its iterate and takes the exact Newton step; that Hessian then
    preconditions the later steps, in place of the others, until they have
    taken that many products together, when the step that reaches them
    forms it anew at its iterate (a Hessian formed far from the iterate
    preconditions poorly). The products spent before each formation are
    thus at most its cost, so a step that forms it costs at most twice the
    exact step alone (the rule of renting until the rent paid equals the
    price of buying); steps that take few products take them as before;
    and on ill-conditioned problems the iteration becomes Newton's method
    with exact steps, or steps of a product or two preconditioned by the
    Hessian of a nearby point.

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
    curvature = objective.curvature if isinstance(x, np.ndarray) else None
    # A Hessian that costs more products than a step may take is never
    # formed.
    exact = objective.exact_curvature
    if exact is not None and exact.cost > MAX_CG_ITER:
        exact = None
    # An approximation that costs less than a product to form is used from
    # the first step.
    factored = curvature is not None and curvature.cost < 1
    precondition = (
        None if converged or factored else _diagonal_preconditioner(objective, x)
    )
    # Conjugate gradients stop once a step has taken as many products as the
    # Hessian costs (none where it costs less than one), and once the steps
    # preconditioned with a Hessian formed earlier have taken that many
    # together; the Hessian is then formed at the iterate, gives the step,
    # and preconditions the later steps.
    budget = MAX_CG_ITER
    if exact is not None:
        budget = 0 if exact.cost < 1 else math.ceil(exact.cost)
    hessian_formed = False
    spent = 0
    while not converged and trace.n_iter < max_iter:
        if factored and not hessian_formed:
            precondition = curvature.inverse()
        n_products, allowed = 0, budget - spent
        if allowed > 0:
            direction, n_products = truncated_cg(hessp, g, allowed, precondition)
        if exact is not None and n_products >= allowed:
            precondition = exact.inverse()
            direction = -precondition(g)
            hessian_formed, spent = True, 0
        elif hessian_formed:
            spent += n_products
        factored = factored or (
            curvature is not None
            and n_products > max(curvature.cost, _MIN_PRODUCTS_TO_FACTOR)
        )
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

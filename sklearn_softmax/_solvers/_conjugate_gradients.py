"""Truncated conjugate gradients for the Newton system, which the Newton
solvers share: Newton-CG's steps, the fallback of exact steps, and the
Newton steps of the proximal solver on a penalty's support."""

import math

from .._vectors import copy, dot, namespace, norm, scaling_exponent

# Most conjugate-gradient iterations per Newton step.
MAX_CG_ITER = 250


def truncated_cg(hessp, g, max_cg_iter, precondition=None):
    """Approximately solve ``H p = -g`` by conjugate gradients.

    CG stops once the residual ``|H p + g|`` is at most ``eta |g|`` with the
    forcing term ``eta = min(0.5, sqrt(|g|))``, which makes the outer
    iteration converge superlinearly (Nocedal & Wright, *Numerical
    Optimization*, 2nd ed., 2006, Algorithm 7.1), or on a direction of
    non-positive curvature, where the last iterate (or ``-g`` on the first
    iteration) is returned. With ``precondition``, the product of the
    inverse of a positive definite preconditioner ``M`` with a vector, it
    runs preconditioned conjugate gradients (Algorithm 5.3 there), which
    solve the same system in fewer iterations when ``M`` is close to ``H``
    up to a scale.

    Parameters
    ----------
    hessp : callable
        ``hessp(v)``, the product of the Hessian ``H`` with a vector.
    g : array of shape (n_params,)
        The gradient, of any Array API namespace.
    max_cg_iter : int
        Most conjugate-gradient iterations (Hessian-vector products).
    precondition : callable, optional
        ``precondition(r)``, ``M^-1 r``.

    Returns
    -------
    p : array of shape (n_params,)
        The Newton direction.
    n_products : int
        Hessian-vector products used.
    """
    g_norm = norm(g)
    # The iterations are linear in g: they run on g scaled by a power of two
    # to a norm about one, and the direction is scaled back, both exactly
    # (the same numbers on any data whose gradient is not at the ends of
    # float64's range), so that the curvature along a direction, which
    # grows as the fourth power of the features' scale, and the Hessian's
    # products stay in range for features up to the bound that fit checks.
    exponent = scaling_exponent(g_norm)
    unit = 2.0**-exponent
    threshold = min(0.5, math.sqrt(g_norm)) * (g_norm * unit)
    p = namespace(g).zeros_like(g)
    r = copy(g)
    r *= unit
    g_norm *= unit
    if precondition is None:
        z, rz = r, g_norm * g_norm
    else:
        z = precondition(r)
        rz = dot(r, z)
    d = -z
    for iteration in range(1, max_cg_iter + 1):
        Hd = hessp(d)
        # Where the curvatures of the parameters differ by hundreds of
        # orders of magnitude (features about 1e150 beside an intercept),
        # the direction's can pass float64's range: CG stops there.
        curvature = dot(d, Hd, may_overflow=True)
        if not 0 < curvature < math.inf:
            return (-g if iteration == 1 else p / unit), iteration
        alpha = rz / curvature
        p += alpha * d
        r += alpha * Hd
        rr = dot(r, r)
        if math.sqrt(rr) <= threshold:
            break
        if precondition is None:
            z, rz_next = r, rr
        else:
            z = precondition(r)
            rz_next = dot(r, z)
        d *= rz_next / rz
        d -= z
        rz = rz_next
    return p / unit, iteration

"""Solving with a dense symmetric positive semi-definite matrix: the Hessian
of exact Newton steps, and of the preconditioner that takes their place in
conjugate gradients."""

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from ._vectors import namespace

# A Cholesky factor whose smallest pivot is below this share of its largest
# (in squares) leaves the matrix numerically singular: collinear features
# without a penalty. The solution is then the least-squares one of least
# norm.
_SINGULAR_PIVOTS = 1e-10


def psd_solver(matrix):
    """The function ``r -> M^{-1} r`` of a float64 matrix ``M``, or, where
    ``M`` is singular, ``r -> M^+ r``, whose solutions of least norm keep
    vectors in the span of ``M`` in it.

    A NumPy ``M`` is factored once, by a Cholesky factorisation, or a
    symmetric pseudo-inverse where the factorisation fails or its pivots
    show ``M`` singular (below :data:`_SINGULAR_PIVOTS`). LAPACK's own
    routines are called: the matrices are small, and scipy.linalg's
    wrappers around them cost as much as the factorisation here. For arrays
    of other namespaces, the namespace's ``linalg.pinv``, on their device.
    """
    if not isinstance(matrix, np.ndarray):
        inverse = namespace(matrix).linalg.pinv(matrix)
        return lambda r: inverse @ r
    potrf, potrs = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potrs"), (matrix,))
    factor, info = potrf(matrix, lower=True, clean=False)
    if info == 0:
        pivots = np.abs(np.diag(factor)) ** 2
        if pivots.min() > _SINGULAR_PIVOTS * pivots.max():
            return lambda r: potrs(factor, r, lower=True)[0]
    inverse = scipy.linalg.pinvh(matrix)
    return lambda r: inverse @ r

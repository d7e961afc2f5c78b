"""Solving with a dense symmetric positive semi-definite matrix: the Hessian
of exact Newton steps, and of the preconditioner that takes their place in
conjugate gradients."""

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from ._vectors import namespace

# A Cholesky factor of the equilibrated matrix (unit diagonal) whose
# smallest pivot is below this share of its largest (in squares) leaves the
# matrix numerically singular: collinear features without a penalty. The
# solution is then the least-squares one of least norm.
SINGULAR_PIVOTS = 1e-10

# LAPACK's float64 Cholesky factorisation and solve, looked up once.
_POTRF, _POTRS = scipy.linalg.lapack.get_lapack_funcs(
    ("potrf", "potrs"), dtype=np.float64
)


def spans_too_wide(diagonal):
    """Whether the positive ``diagonal`` of a symmetric positive
    semi-definite matrix spans more than ``1 / SINGULAR_PIVOTS``: the
    directions of its small entries then lie in the rounding of its
    largest eigenvalues, and a decomposition of the matrix itself takes
    them for null ones, where one of the equilibrated matrix (unit
    diagonal) resolves them."""
    return diagonal.min() < SINGULAR_PIVOTS * diagonal.max()


def positive_diagonal(matrix):
    """The diagonal of a symmetric positive semi-definite ``M``, with one in
    place of entries that are not positive: their rows are zero (``M`` is
    semi-definite), and keep a scale of one."""
    diagonal = matrix.diagonal()
    return np.where(diagonal > 0, diagonal, 1.0)


def equilibrate(matrix, diagonal):
    """``(S, root)``: ``S = D^{-1/2} M D^{-1/2}``, a new array, for a NumPy
    ``M`` and its :func:`positive_diagonal` ``D``, whose roots are
    ``root``. ``S``'s diagonal is one, to rounding, where ``M``'s is
    positive."""
    root = np.sqrt(diagonal)
    return matrix / np.multiply.outer(root, root), root


def psd_solver(matrix):
    """The function ``r -> M^{-1} r`` of a float64 matrix ``M``, for flat
    vectors ``r``, or, where ``M`` is singular, ``r -> M^+ r``, whose
    solutions of least norm keep vectors in the span of ``M`` in it.

    A NumPy ``M`` is equilibrated, ``S = D^{-1/2} M D^{-1/2}`` with ``D``
    its diagonal, and ``S`` factored once by a Cholesky factorisation:
    ``M^{-1} r = D^{-1/2} S^{-1} D^{-1/2} r``. The scaling makes the test of
    singularity blind to the scales of the features (columns four orders
    of magnitude apart put ``M``'s pivots sixteen apart, and ``S``'s
    where they would be on standardised data); ``S``'s condition number is
    within a factor ``p`` of the least any diagonal scaling gives (van der
    Sluis, *Condition numbers and equilibration of matrices*, Numerische
    Mathematik 14, 1969). Where the diagonal is not positive, the
    factorisation fails, or ``S``'s pivots show it singular (below
    :data:`SINGULAR_PIVOTS`), the solution of least norm, ``M^+ r``, is
    found through ``S`` too (see :func:`_scaled_least_norm_solver`): a
    pseudo-inverse of ``M`` itself would take the directions of its small
    diagonal entries (the intercepts beside features of 1e5 and more) for
    null ones, lost in the rounding of its largest eigenvalues, and no step
    would move them.
    LAPACK's own routines are called: the matrices are small, and
    scipy.linalg's wrappers around them cost as much as the factorisation
    here. For arrays of other namespaces, the namespace's ``linalg.pinv``,
    on their device.
    """
    if not isinstance(matrix, np.ndarray):
        inverse = namespace(matrix).linalg.pinv(matrix)
        return lambda r: inverse @ r
    diagonal = positive_diagonal(matrix)
    equilibrated, root = equilibrate(matrix, diagonal)
    if (matrix.diagonal() > 0).all():
        factor, info = _POTRF(equilibrated, lower=True, overwrite_a=True, clean=False)
        # The factor's diagonal is positive where the factorisation succeeds;
        # its squares are the pivots.
        roots = factor.diagonal()
        if info == 0 and roots.min() ** 2 > SINGULAR_PIVOTS * roots.max() ** 2:
            return lambda r: _POTRS(factor, r / root, lower=True)[0] / root
        # The factorisation wrote over the equilibrated matrix.
        equilibrated, _ = equilibrate(matrix, diagonal)
    return _scaled_least_norm_solver(equilibrated, root)


def _scaled_least_norm_solver(equilibrated, root):
    """``r -> M^+ r`` for ``M = D^{1/2} S D^{1/2}``, ``S`` the
    ``equilibrated`` matrix and ``root`` the diagonal of ``D^{1/2}`` (see
    :func:`equilibrate`), from the eigendecomposition of ``S``, whose
    eigenvalues the scaling leaves resolved: ``D^{-1/2} S^+ D^{-1/2} r``
    solves ``M x = r`` for ``r`` in ``M``'s range, and its part along
    ``M``'s null space, ``D^{-1/2}`` times ``S``'s, is then taken away,
    which leaves the solution of least norm, as ``M^+`` gives it."""
    eigenvalues, Q = scipy.linalg.eigh(equilibrated)
    # scipy.linalg.pinvh's default cutoff.
    null = eigenvalues <= eigenvalues.max() * len(eigenvalues) * np.finfo(float).eps
    inverse = (Q[:, ~null] / eigenvalues[~null]) @ Q[:, ~null].T
    basis = None
    if null.any():
        # Entries of the null vectors within their rounding are zero: the
        # scaling back would raise them by up to the diagonal's spread, and
        # the projection would then take away part of the solution along
        # the small entries' directions (the intercepts).
        vectors = Q[:, null]
        vectors[np.abs(vectors) <= len(eigenvalues) * np.finfo(float).eps] = 0.0
        basis, _ = np.linalg.qr(vectors / root[:, np.newaxis])

    def solve(r):
        x = (inverse @ (r / root)) / root
        if basis is not None:
            x -= basis @ (basis.T @ x)
        return x

    return solve

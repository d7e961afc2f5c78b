r"""The observed information of the multinomial likelihood, the outer product
of its scores, and the sandwich covariance built from them.

Parameters are laid out class-major: for ``K`` classes and design rows
``x~_i`` of length ``r`` (the features, after a leading 1 when there is an
intercept), the parameter vector stacks the ``K`` columns ``theta_k`` of
length ``r``. The score of sample ``i`` is then ``(y_i - p_i) (x) x~_i`` and
its contribution to the observed information is
``(diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T``, with ``(x)`` the Kronecker
product. Both vanish along the directions that add one vector to every
class's parameters, along which the likelihood is constant.

This module knows matrices only: nothing about estimators or scikit-learn's
API.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.linalg.blas import dsyrk
from sklearn import get_config

from ._grams import weighted_grams
from ._jacobian import class_pairs, hessian_matrix, pair_weights

# The most matrices of the information's size held at once while the
# covariance is computed (measured with tracemalloc, every cov_type, with
# and without a penalty, and on the path that proves overlap nearer the
# optimum): the meat, the bread's eigenvectors, and the inverse, its product
# with the meat and the covariance; or the two information matrices and
# their eigenvectors.
MATRICES_HELD = 5

_EPS = np.finfo(np.float64).eps

# The rows of a p x p matrix made symmetric at a time, in place.
_BLOCK_ROWS = 256


def matrix_bytes(n_parameters):
    """Bytes of one ``n_parameters`` x ``n_parameters`` float64 matrix."""
    return 8 * n_parameters**2


def design_blocks(X, fit_intercept, row_floats):
    """Yield ``(rows, X~)``: blocks of rows of ``X`` as dense float64, with a
    leading column of ones when ``fit_intercept``, each small enough that
    ``row_floats`` float64 numbers per row (what the caller builds from a
    row) fit scikit-learn's ``working_memory``."""
    n_samples = X.shape[0]
    block_rows = max(1, int(get_config()["working_memory"] * 2**20 // (8 * row_floats)))
    for start in range(0, n_samples, block_rows):
        rows = slice(start, min(start + block_rows, n_samples))
        block = X[rows]
        block = (block.toarray() if sp.issparse(block) else np.asarray(block)).astype(
            np.float64, copy=False
        )
        if fit_intercept:
            block = np.hstack([np.ones((block.shape[0], 1)), block])
        yield rows, block


def design_products(X, F, fit_intercept):
    """``X~^T F``, of shape (r, K), for ``F`` of shape (n_samples, K): a
    pass over ``X`` in blocks of rows."""
    n_rows = X.shape[1] + int(fit_intercept)
    products = np.zeros((n_rows, F.shape[1]))
    for rows, X_design in design_blocks(X, fit_intercept, n_rows + F.shape[1]):
        products += X_design.T @ F[rows]
    return products


def _kronecker_rows(F, X_design):
    """The rows ``f_i (x) x~_i``, class-major."""
    return (F[:, :, np.newaxis] * X_design[:, np.newaxis, :]).reshape(len(F), -1)


def _add_gram(gram, rows, sign):
    """``gram + sign * rows^T rows`` on the upper triangle: one rank-k update,
    in place."""
    # rows.T is Fortran-ordered, so BLAS reads it without a copy, and so is
    # gram, which it updates where it lies.
    return dsyrk(sign, rows.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)


def _add_kronecker_gram(gram, F, X_design, sign):
    """``gram + sign * sum_i (f_i (x) x~_i)(f_i (x) x~_i)^T`` on the upper
    triangle: one rank-k update over the block's rows, in place."""
    return _add_gram(gram, _kronecker_rows(F, X_design), sign)


def _symmetric_from_upper(gram, block_rows=_BLOCK_ROWS):
    """``gram`` with its upper triangle copied onto its lower one, in place,
    a block of rows at a time: no matrix of its size beside it."""
    n = gram.shape[0]
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        rows = slice(start, stop)
        gram[stop:, rows] = gram[rows, stop:].T
        diagonal = gram[rows, rows]
        lower = np.tril_indices(stop - start, -1)
        diagonal[lower] = diagonal.T[lower]
    return gram


def observed_information(X, P, sample_weight, fit_intercept):
    """The observed information ``sum_i s_i (diag(p_i) - p_i p_i^T) (x)
    x~_i x~_i^T`` of the likelihood with frequency weights ``s``.

    Its blocks are summed as :mod:`~sklearn_softmax._jacobian` sets out,
    ``K (K - 1) / 2`` Gram matrices of the design rows, over blocks of rows
    within scikit-learn's working memory; each keeps the relative accuracy
    of the probabilities where some round to one.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The data.
    P : ndarray of shape (n_samples, n_classes)
        The fitted probabilities.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative frequency weights.
    fit_intercept : bool
        Whether the design rows start with a 1.

    Returns
    -------
    information : ndarray of shape (r K, r K)
        Class-major, with ``r = n_features + fit_intercept``.
    """
    n_classes = P.shape[1]
    n_rows = X.shape[1] + int(fit_intercept)
    pairs = class_pairs(n_classes)
    grams = np.zeros((len(pairs), n_rows, n_rows))
    # A row of the block: its design row and its weighted copy, its
    # probabilities and their complements, and its weights (twice, with
    # the sample weights).
    row_floats = 2 * n_rows + 2 * n_classes + 2 * len(pairs)
    for rows, X_design in design_blocks(X, fit_intercept, row_floats):
        P_rows = np.ascontiguousarray(P[rows].T)
        weights = pair_weights(P_rows, pairs, np, sample_weight[rows])
        grams += weighted_grams(X_design, weights)
    return hessian_matrix(grams, n_classes, np, class_major=True)


def score_outer_product(X, residual, sample_weight, fit_intercept):
    """``sum_i s_i g_i g_i^T`` for the scores ``g_i = r_i (x) x~_i``, with
    ``residual`` the rows ``r_i = p_i - y_i``: the middle of the HC0
    sandwich, where a sample of weight ``s`` counts as ``s`` copies."""
    n_classes = residual.shape[1]
    n_rows = X.shape[1] + int(fit_intercept)
    outer = np.zeros((n_rows * n_classes,) * 2, order="F")
    for rows, X_design in design_blocks(X, fit_intercept, n_rows * n_classes):
        root_weighted = np.sqrt(sample_weight[rows, np.newaxis]) * residual[rows]
        outer = _add_kronecker_gram(outer, root_weighted, X_design, 1.0)
    return _symmetric_from_upper(outer)


def cluster_score_outer_product(X, residual, sample_weight, groups, fit_intercept):
    """``sum_g S_g S_g^T`` for the clusters' score sums ``S_g = sum_{i in g}
    s_i g_i``, with ``residual`` the rows ``p_i - y_i`` and ``groups`` each
    sample's cluster: the middle of the one-way cluster-robust sandwich.

    The rows are visited in the order of their clusters (a sorted copy of
    ``X``), so that each block adds the sums of the clusters it completes and
    carries the last, which may go on in the next block.
    """
    order = np.argsort(groups, kind="stable")
    groups = groups[order]
    weighted_residual = sample_weight[order, np.newaxis] * residual[order]
    n_classes = residual.shape[1]
    n_rows = X.shape[1] + int(fit_intercept)
    outer = np.zeros((n_rows * n_classes,) * 2, order="F")
    carried, carried_group = None, None
    for rows, X_design in design_blocks(X[order], fit_intercept, n_rows * n_classes):
        block_groups = groups[rows]
        starts = np.flatnonzero(np.r_[True, block_groups[1:] != block_groups[:-1]])
        sums = np.add.reduceat(
            _kronecker_rows(weighted_residual[rows], X_design), starts, axis=0
        )
        if carried is not None:
            if block_groups[0] == carried_group:
                sums[0] += carried
            else:
                sums = np.vstack([carried, sums])
        carried, carried_group = sums[-1].copy(), block_groups[-1]
        if len(sums) > 1:
            outer = _add_gram(outer, np.ascontiguousarray(sums[:-1]), 1.0)
    if carried is not None:
        outer = _add_gram(outer, carried[np.newaxis], 1.0)
    return _symmetric_from_upper(outer)


def add_class_constant_projection(matrix, n_classes, weight):
    """Add ``weight`` times the orthogonal projection onto the directions
    that add one vector to every class's parameters, ``(1/K) 1 1^T (x) I``,
    to the class-major ``matrix``, in place: ``weight / K`` on the diagonal
    of each of its ``K x K`` blocks of design rows, without a matrix of its
    size."""
    n_rows = matrix.shape[0] // n_classes
    blocks = matrix.reshape(n_classes, n_rows, n_classes, n_rows)
    for row in range(n_rows):
        blocks[:, row, :, row] += weight * (1.0 / n_classes)


class ShiftedEigh(NamedTuple):
    """The eigendecomposition ``V diag(values) V^T`` of ``D^-1 A D^-1 + c Q``,
    made by :func:`shifted_eigh` for a class-major matrix ``A``.

    ``D`` is diagonal with ``scale`` on its diagonal: for each design row, the
    root of the mean over the classes of ``A``'s diagonal entries on it, so
    that a feature's units do not enter the eigenvalues (in the unscaled
    matrix a feature measured in units 10^3 times smaller moves its
    eigenvalues by 10^6, and rounding loses what it moved them from). The
    scale is the same for every class, so ``D`` maps the class-constant
    directions, the range of the projection ``Q``, to themselves.
    """

    values: np.ndarray
    vectors: np.ndarray
    scale: np.ndarray

    def kept(self):
        """Which eigenvalues stand above the level of rounding: about eps
        times the largest, for an exactly singular matrix."""
        return self.values > self.values.size * _EPS * self.values[-1]

    def is_singular(self):
        """Whether the smallest eigenvalue is at the level of rounding."""
        return not self.kept()[0]

    def inverse(self):
        """``D^-1 (D^-1 A D^-1 + c Q)^-1 D^-1``: on the directions whose
        classes sum to zero, the inverse of ``A`` there."""
        inverse = (self.vectors / self.values) @ self.vectors.T
        inverse /= self.scale[:, np.newaxis]
        inverse /= self.scale
        return inverse

    def solve(self, rhs):
        """``x = D^-1 V_+ diag(values_+)^-1 V_+^T D^-1 rhs`` over the kept
        eigenvalues: ``A x = rhs`` whenever ``rhs`` lies in ``A``'s range
        and has no class-constant part, also when ``A`` is singular
        (collinear features)."""
        kept = self.kept()
        vectors = self.vectors[:, kept]
        return (vectors @ ((vectors.T @ (rhs / self.scale)) / self.values[kept])) / (
            self.scale
        )


def shifted_eigh(matrix, n_classes, overwrite=False):
    """The :class:`ShiftedEigh` of ``matrix``: its eigendecomposition after
    each design row is scaled to a unit mean diagonal over the classes, and
    the class-constant directions are shifted by ``c``, the mean of the
    scaled diagonal. With ``overwrite``, ``matrix`` (C-contiguous) is
    scaled and decomposed where it lies, and left overwritten: one matrix
    of its size fewer.

    For a class-major matrix that vanishes along those directions, or maps
    them to themselves, the shift leaves its action on the other directions
    as it was and makes it invertible on the class-constant ones.
    """
    n_parameters = matrix.shape[0]
    n_rows = n_parameters // n_classes
    row_diagonal = np.diag(matrix).reshape(n_classes, n_rows).mean(axis=0)
    row_scale = np.sqrt(np.where(row_diagonal > 0, row_diagonal, 1.0))
    scale = np.tile(row_scale, n_classes)
    if overwrite:
        scaled = matrix
        scaled /= scale[:, np.newaxis]
    else:
        scaled = matrix / scale[:, np.newaxis]
    scaled /= scale
    trace = np.trace(scaled)
    shift = trace / n_parameters if trace > 0 else 1.0
    add_class_constant_projection(scaled, n_classes, shift)
    # LAPACK takes the transpose, Fortran-ordered, where it lies (a
    # C-ordered matrix would be copied); its upper triangle is the lower
    # one of the matrix.
    values, vectors = eigh(scaled.T, lower=False, overwrite_a=True)
    return ShiftedEigh(values, vectors, scale)


def sandwich_covariance(bread_eigh, meat):
    r"""``B^+ M B^+`` on the parameters whose classes sum to zero.

    ``bread_eigh`` is :func:`shifted_eigh` of ``B``, the penalised
    information, and ``meat`` (``M``) is class-major. ``M`` vanishes along
    the class-constant directions and ``B`` maps them to themselves, so
    :meth:`ShiftedEigh.inverse` is ``B``'s inverse on the subspace where the
    classes sum to zero, and the product lies in that subspace.

    Raises
    ------
    ValueError
        When ``B`` is singular on that subspace: collinear features, or a
        constant feature beside the intercept, without a penalty.
    """
    if bread_eigh.is_singular():
        values = bread_eigh.values
        raise ValueError(
            "The observed information is singular: with each feature scaled "
            "to a unit mean diagonal over the classes, its smallest eigenvalue "
            f"is {values[0]:.3g}, "
            f"against {values[-1]:.3g} for its largest. Some features are "
            "collinear, or constant beside the intercept; drop them, or fit "
            "with an L2 penalty (a finite C)."
        )
    inverse = bread_eigh.inverse()
    covariance = inverse @ meat
    covariance = covariance @ inverse
    del inverse
    _symmetrise(covariance)
    return covariance


def _symmetrise(matrix, block_rows=_BLOCK_ROWS):
    """Replace each pair of entries ``(i, j)``, ``(j, i)`` of a square
    ``matrix`` by their mean, in place, a block of rows at a time: exactly
    ``0.5 (A + A^T)``, without matrices of its size."""
    for start in range(0, matrix.shape[0], block_rows):
        rows = slice(start, start + block_rows)
        mean = 0.5 * (matrix[rows, start:] + matrix[start:, rows].T)
        matrix[rows, start:] = mean
        matrix[start:, rows] = mean.T


def difference_map(n_classes, reference, n_rows):
    """The linear map from the class-major parameters of all classes to
    their differences ``theta_k - theta_reference`` for ``k != reference``."""
    differences = np.delete(np.eye(n_classes), reference, axis=0)
    differences[:, reference] = -1.0
    return np.kron(differences, np.eye(n_rows))

"""Weighted Gram matrices of a block of rows, several sets of weights at a
time: the sums the Hessian and the observed information are made of (see
:mod:`~sklearn_softmax._jacobian`), for NumPy data."""

import functools

import numpy as np

# The products of the columns are formed this many numbers at a time: a few
# MiB, which keeps them in cache for the product with the weights.
_CHUNK_FLOATS = 2**19


def stacks_grams(n_sets, n_columns):
    """Whether :func:`weighted_grams` forms the products of the columns once
    for ``n_sets`` sets of weights on ``r = n_columns`` columns: for at least
    ``min(r, 4 sqrt(r))`` sets, where one product of the weights with them
    ran faster than a product a set, single-threaded, on 4096 rows (``r``
    from 3 to 101, 1 to 190 sets). The choice depends on these two numbers
    alone, and so does every sum's rounding."""
    return n_sets > 1 and (n_sets >= n_columns or n_sets**2 >= 16 * n_columns)


@functools.cache
def _upper_triangle(n_columns):
    return np.triu_indices(n_columns)


def weighted_grams(A, C):
    """``sum_i C[j, i] a_i a_i^T`` for each set of weights ``C[j]``, over the
    rows ``a_i`` of ``A``.

    Parameters
    ----------
    A : ndarray of shape (m, r)
        The rows, float64.
    C : ndarray of shape (n_sets, m)
        The sets of weights, float64.

    Returns
    -------
    grams : ndarray of shape (n_sets, r, r)
        Each exactly symmetric.

    Notes
    -----
    Each set's matrix is one product of the weighted rows with the rows,
    ``m r^2`` multiply-adds, which BLAS runs efficiently where ``r`` is not
    small, and its upper triangle mirrored. Many sets on few columns (many
    classes, few features) would each be a small product, dominated by its
    call: there (:func:`stacks_grams`) the upper triangles of
    ``a_i a_i^T`` are formed, a few MiB of rows at a time, and all the
    sets' sums are products of ``C`` with them, added in the order of the
    rows: ``m r (r + 1) / 2`` multiply-adds a set.
    """
    n_sets, (n_rows, r) = len(C), A.shape
    upper_rows, upper_columns = _upper_triangle(r)
    if not stacks_grams(n_sets, r):
        grams = np.empty((n_sets, r, r))
        for gram, c in zip(grams, C, strict=True):
            np.matmul((A * c[:, np.newaxis]).T, A, out=gram)
        # The upper triangle, mirrored.
        grams[:, upper_columns, upper_rows] = grams[:, upper_rows, upper_columns]
        return grams
    step = max(1, _CHUNK_FLOATS // upper_rows.size)
    upper = np.zeros((n_sets, upper_rows.size))
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        upper += C[:, rows] @ (A[rows, upper_rows] * A[rows, upper_columns])
    grams = np.empty((n_sets, r, r))
    grams[:, upper_rows, upper_columns] = upper
    grams[:, upper_columns, upper_rows] = upper
    return grams

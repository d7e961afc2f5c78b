"""Weighted Gram matrices of a block of rows, several sets of weights at a
time: the sums the Hessian and the observed information are made of (see
:mod:`~sklearn_softmax._jacobian`), for NumPy data."""

import functools

import numpy as np

# The products of the columns are formed this many numbers at a time: a few
# MiB, which keeps them in cache for the product with the weights.
_CHUNK_FLOATS = 2**19


# The most columns whose products are formed together: the r (r + 1) / 2
# products of 64 rows fit in a chunk of _CHUNK_FLOATS. With fewer rows a
# chunk, the product with the weights is a thin one, which BLAS runs slowly.
_MAX_STACKED_COLUMNS = 127


def stacks_grams(n_sets, n_columns):
    """Whether :func:`weighted_grams` forms the products of the columns once
    for ``n_sets`` sets of weights on ``r = n_columns`` columns: for at least
    ``min(r, 4 sqrt(r))`` sets, where one product of the weights with them
    ran faster than a product a set, single-threaded, on 4096 rows (``r``
    from 3 to 101, 1 to 190 sets), and only while a chunk of
    ``_CHUNK_FLOATS`` products holds at least 64 rows (``r`` up to
    127). Beyond, the stacked products ran slower, the more so the more
    columns: 1.03 to 2.2 times the time of a product a set at ``r = 160``
    and 200 (190 and 1225 sets), 10 times at ``r = 401``. The choice
    depends on these two numbers alone, and so does every sum's
    rounding."""
    if n_columns > _MAX_STACKED_COLUMNS:
        return False
    return n_sets > 1 and (n_sets >= n_columns or n_sets**2 >= 16 * n_columns)


def takes_rank_k(n_rows, n_columns):
    """Whether a set of weights of one sign on ``n_rows`` rows of
    ``n_columns`` columns (of X, without the intercept's) takes BLAS's
    symmetric rank-k update, which forms one triangle: from 16 columns, on
    at least 2^16 entries or from 64 columns. Below that OpenBLAS's small
    general products ran faster (the whole of a set's work, single-threaded,
    300 to 20000 rows, 16 to 200 columns: the update took 0.63 to 0.98 of
    the time where this rule takes it, 0.94 to 1.44 where it does not,
    but for 0.82 and 0.86 on 569 and 1000 rows of 50 columns). The choice
    depends on the shape alone, and so does every sum's rounding."""
    return n_columns >= 16 and (n_rows * n_columns >= 2**16 or n_columns >= 64)


def gram_multiply_adds(n_sets, n_rows, n_features, intercept, general=False):
    """The multiply-adds of :func:`weighted_grams` for ``n_sets`` sets of
    weights of one sign (a pair of classes' are) on ``n_rows`` rows of
    ``n_features`` columns of ``X``, and the intercept's with ``intercept``,
    ``r`` columns in all: ``m r (r + 1) / 2`` a set where one triangle is
    formed (the sets formed together, or the rank-k updates), ``m r^2``
    otherwise, and always with ``general``, for Gram matrices formed by
    general products (as the Array API objective forms them on every
    device)."""
    n_columns = n_features + int(intercept)
    one_triangle = not general and (
        stacks_grams(n_sets, n_columns) or takes_rank_k(n_rows, n_features)
    )
    per_set = n_columns * (n_columns + 1) / 2 if one_triangle else n_columns**2
    return n_sets * n_rows * per_set


@functools.cache
def _upper_triangle(n_columns):
    return np.triu_indices(n_columns)


def weighted_grams(X, C, intercept=False, workspace=None):
    """``sum_i C[j, i] a_i a_i^T`` for each set of weights ``C[j]``, over the
    rows ``a_i = [x_i, 1]`` of ``[X, 1]`` (with ``intercept``) or
    ``a_i = x_i``.

    Parameters
    ----------
    X : ndarray of shape (m, d)
        The rows, float64.
    C : ndarray of shape (n_sets, m)
        The sets of weights, float64.
    intercept : bool, default=False
        Whether the rows end with a 1 that ``X`` leaves out: its row and
        column of each matrix are the weighted sums of ``X``'s columns.
    workspace : ndarray of shape (at least m, d), default=None
        Float64 memory for the weighted rows, which one product a set
        writes there: a fresh array of a block's size costs as much as the
        product again, in page faults, where a buffer is reused.

    Returns
    -------
    grams : ndarray of shape (n_sets, r, r)
        Each exactly symmetric, with ``r = d + intercept``.

    Notes
    -----
    Each set's matrix is one product of the weighted rows with the rows,
    ``m d^2`` multiply-adds, which BLAS runs efficiently where ``d`` is not
    small, and its upper triangle mirrored; for weights of one sign (those
    of a pair of classes are, and the sample weights) on blocks large
    enough (:func:`takes_rank_k`), the upper triangle alone,
    ``m d (d + 1) / 2``, by a symmetric rank-k update of the rows scaled by
    the square roots of the weights' magnitudes. Many sets on few
    columns (many classes, few features) would each be a small product,
    dominated by its call: there (:func:`stacks_grams`) the upper triangles
    of ``a_i a_i^T`` are formed, a few MiB of rows at a time, and all the
    sets' sums are products of ``C`` with them, added in the order of the
    rows: ``m r (r + 1) / 2`` multiply-adds a set.
    """
    n_sets, (n_rows, d) = len(C), X.shape
    r = d + int(intercept)
    upper_rows, upper_columns = _upper_triangle(r)
    if stacks_grams(n_sets, r):
        A = X
        if intercept:
            A = np.empty((n_rows, r))
            A[:, :d] = X
            A[:, d] = 1.0
        grams = _stacked_grams(A, C, upper_rows, upper_columns)
    else:
        grams = np.empty((n_sets, r, r))
        weighted = np.empty((n_rows, d)) if workspace is None else workspace[:n_rows]
        for gram, c in zip(grams, C, strict=True):
            _add_one_gram(gram, X, c, weighted, intercept)
    # The upper triangle, mirrored.
    grams[:, upper_columns, upper_rows] = grams[:, upper_rows, upper_columns]
    return grams


def _add_one_gram(gram, X, c, weighted, intercept):
    """The upper triangle of ``[X, 1]^T diag(c) [X, 1]`` (or of ``X^T
    diag(c) X``) into ``gram``, with ``weighted`` the memory of the weighted
    rows."""
    d = X.shape[1]
    sign = 0.0
    if c.size and takes_rank_k(*X.shape):
        sign = 1.0 if c.min() >= 0 else -1.0 if c.max() <= 0 else 0.0
    if sign:
        # sign B^T B for B = diag(sqrt(sign c)) X: numpy's product of an
        # array's transpose with itself is BLAS's symmetric rank-k update,
        # which forms one triangle (and releases the GIL, for the threads of
        # the passes, where scipy's wrapper of it holds it).
        root = np.sqrt(sign * c)
        np.multiply(X, root[:, np.newaxis], out=weighted)
        np.matmul(weighted.T, weighted, out=gram[:d, :d])
        if sign < 0:
            np.negative(gram[:d, :d], out=gram[:d, :d])
        column = sign * (weighted.T @ root) if intercept else None
    else:
        np.multiply(X, c[:, np.newaxis], out=weighted)
        np.matmul(weighted.T, X, out=gram[:d, :d])
        # A product with the weights: a sum over the rows of few columns
        # runs several times slower.
        column = c @ X if intercept else None
    if intercept:
        gram[:d, d] = column
        gram[d, d] = c.sum()


def _stacked_grams(A, C, upper_rows, upper_columns):
    """The upper triangles of all the sets' matrices, formed together."""
    n_sets, (n_rows, r) = len(C), A.shape
    step = max(1, _CHUNK_FLOATS // upper_rows.size)
    upper = np.zeros((n_sets, upper_rows.size))
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        upper += C[:, rows] @ (A[rows, upper_rows] * A[rows, upper_columns])
    grams = np.empty((n_sets, r, r))
    grams[:, upper_rows, upper_columns] = upper
    return grams

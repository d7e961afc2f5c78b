"""Passes over the data: scores, softmax and residuals, block by block.

The data term of the objective, its gradient and its Hessian-vector product
each need one product with ``X`` on the way in (the scores) and one with
``X^T`` on the way out. A pass takes ``X`` a block of rows at a time and runs
both products on the block while it is still in cache, with the softmax in
between, so that the work between the products costs no extra trip through
``X``. With several threads, each takes its own share of the blocks, with
its own buffers, and the partial sums are added at the end: the softmax runs
in parallel too, and each product stays on one core, where a single-threaded
BLAS call on a cached block is efficient. Sparse rows are shared out the
same way, one run of rows with about the same number of stored values per
thread: scipy multiplies on one thread and releases the GIL.

Scores are held transposed, as ``K x m`` blocks (one column per sample):
the reductions over classes (row maximum, log-sum-exp, the softmax's
normaliser) then run over the leading axis, which numpy vectorises across
samples; with the classes on the contiguous axis, a reduction over a handful
of classes is several times slower. Every buffer is allocated once, when the
passes are set up, and reused by each evaluation.
"""

import itertools
import math
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

# Rows of a dense block: about this many bytes of X, so that the block stays
# in cache between the two products while the Python overhead per block
# stays small.
_BLOCK_BYTES = 4 * 2**20
_MIN_BLOCK_ROWS = 256
# The temporaries of column_second_moments: about this many bytes.
_MOMENT_BYTES = 2**20


def _block_rows(n_samples, n_features, itemsize, n_threads):
    rows = _BLOCK_BYTES // max(1, n_features * itemsize)
    # At least one block per thread.
    rows = min(rows, math.ceil(n_samples / n_threads))
    return int(max(1, min(n_samples, max(_MIN_BLOCK_ROWS, rows))))


def _on_arrays(container, data, indices, indptr, shape):
    """A compressed sparse matrix of the class ``container`` on these very
    arrays.

    scipy's constructors copy an array that is a view of less than half of
    another, as the arrays of a run of rows are, and may narrow 64-bit
    indices into new arrays; the arrays are set here after construction.
    """
    matrix = container(shape, dtype=data.dtype)
    matrix.data, matrix.indices, matrix.indptr = data, indices, indptr
    return matrix


def _as_dtype(X, dtype):
    """A copy of CSR ``X`` in ``dtype``: the values copied, the indices shared."""
    return _on_arrays(sp.csr_matrix, X.data.astype(dtype), X.indices, X.indptr, X.shape)


class _SparseRows(NamedTuple):
    """A run of rows of CSR ``X`` and its transpose, on the arrays of ``X``.

    The transpose is made once: ``X.T`` would call scipy's constructor on
    every pass, which copies the arrays of a run (see :func:`_on_arrays`).
    """

    matrix: sp.csr_matrix
    transpose: sp.csc_matrix


def _sparse_rows(X, rows):
    """The rows ``rows`` of CSR ``X``, sharing its values and indices."""
    if rows.start == 0 and rows.stop == X.shape[0]:
        # X itself (stochastic solvers bind every minibatch anew).
        data, indices, indptr, matrix = X.data, X.indices, X.indptr, X
    else:
        start, stop = X.indptr[rows.start], X.indptr[rows.stop]
        data, indices = X.data[start:stop], X.indices[start:stop]
        indptr = X.indptr[rows.start : rows.stop + 1] - start
        shape = (rows.stop - rows.start, X.shape[1])
        matrix = _on_arrays(sp.csr_matrix, data, indices, indptr, shape)
    transpose = _on_arrays(sp.csc_matrix, data, indices, indptr, matrix.shape[::-1])
    return _SparseRows(matrix, transpose)


def _runs_of_rows(indptr, n_values):
    """Slices of the rows of a CSR matrix, each holding about ``n_values``
    stored values, and at least one row."""
    n_rows = len(indptr) - 1
    runs, start = [], 0
    while start < n_rows:
        last = np.searchsorted(indptr, indptr[start] + n_values, side="right") - 1
        stop = min(n_rows, max(start + 1, int(last)))
        runs.append(slice(start, stop))
        start = stop
    return runs


def _even_runs(indptr, n_runs):
    """At most ``n_runs`` slices of the rows of a CSR matrix, holding about
    the same number of stored values each, and at least one row."""
    n_rows = len(indptr) - 1
    targets = indptr[0] + (indptr[-1] - indptr[0]) * np.arange(1, n_runs) / n_runs
    cuts = np.clip(np.searchsorted(indptr, targets), 0, n_rows)
    bounds = np.unique(np.concatenate([[0], cuts, [n_rows]]))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _run(pool, function, arguments):
    if pool is None or len(arguments) == 1:
        for argument in arguments:
            function(argument)
        return
    # list() re-raises an exception from any of the threads.
    list(pool.map(function, arguments))


class _Workspace:
    """One thread's buffers and partial sums, in the dtype of its products."""

    def __init__(
        self, n_classes, n_features, rows, dtype, fit_intercept, dense, convert
    ):
        self.work = np.empty((n_classes, rows), dtype=dtype)
        # A block of X converted to the products' dtype, when X has another,
        # and the first row of the block it holds.
        self.X_block = np.empty((rows, n_features), dtype=dtype) if convert else None
        self.X_block_start = None
        self.column = np.empty(rows, dtype=dtype)
        self.column_sums = np.empty(rows, dtype=dtype)
        # The product of a dense block, d x K: BLAS writes X^T R^T up to
        # twice as fast as R X (K x d).
        self.product = np.empty((n_features, n_classes), dtype=dtype) if dense else None
        self.W_gradient = np.empty((n_features, n_classes), dtype=dtype)
        self.b_gradient = np.empty(n_classes, dtype=dtype) if fit_intercept else None
        self.data_term = 0.0

    def reset(self):
        self.W_gradient.fill(0)
        if self.b_gradient is not None:
            self.b_gradient.fill(0)
        self.data_term = 0.0

    def buffer(self, rows):
        return self.work[:, : rows.stop - rows.start]


class _Products:
    """The two products of a pass with ``X``, in ``dtype`` (``X``'s by default),
    on the blocks of rows ``slices``.

    Holds a workspace per thread. Dense ``X`` of another dtype is converted
    a block at a time, into its workspace's buffer, as each pass reaches the
    block: no copy of ``X`` is made. Sparse ``X`` must already be in
    ``dtype``; its blocks share its arrays.
    """

    def __init__(
        self, X, weights64, n_classes, fit_intercept, slices, n_threads, dtype=None
    ):
        self.X = X
        self.dtype = X.dtype if dtype is None else np.dtype(dtype)
        self.sparse = sp.issparse(X)
        convert = not self.sparse and self.dtype != X.dtype
        self.n_features = X.shape[1]
        self.fit_intercept = fit_intercept
        self.slices = slices
        # Slicing rows of a CSR matrix copies them: its blocks are made once.
        self.sparse_blocks = (
            [_sparse_rows(X, rows) for rows in slices] if self.sparse else None
        )
        rows = max(block.stop - block.start for block in slices)
        # The normalised weights s / S, in X's dtype.
        self.weights = weights64.astype(self.dtype)
        self.ones = np.ones(rows, dtype=self.dtype)
        self.workspaces = [
            _Workspace(
                n_classes,
                self.n_features,
                rows,
                self.dtype,
                fit_intercept,
                dense=not self.sparse,
                convert=convert,
            )
            for _ in range(n_threads)
        ]
        self.pool = None

    def transposed(self, coef):
        """``W^T`` (K x d) and ``b`` in X's dtype.

        ``W^T`` is contiguous for dense ``X``, whose products BLAS runs on
        it; for sparse ``X`` it is the transpose of a contiguous ``W``,
        which scipy multiplies without a copy.
        """
        coef = np.asarray(coef)
        W = coef[: self.n_features]
        if self.sparse:
            Wt = np.ascontiguousarray(W, dtype=self.dtype).T
        else:
            Wt = np.ascontiguousarray(W.T, dtype=self.dtype)
        b = coef[self.n_features].astype(self.dtype) if self.fit_intercept else None
        return Wt, b

    def block(self, index, space):
        """The block ``index`` of the rows of ``X``, in the products' dtype
        (a :class:`_SparseRows` for sparse ``X``)."""
        if self.sparse:
            return self.sparse_blocks[index]
        rows = self.slices[index]
        if space.X_block is None:
            return self.X[rows]
        X_block = space.X_block[: rows.stop - rows.start]
        # A thread with a single block converts it once per fit.
        if space.X_block_start != rows.start:
            np.copyto(X_block, self.X[rows], casting="same_kind")
            space.X_block_start = rows.start
        return X_block

    def scores(self, Wt, b, X_block, out):
        """``out = W^T X_block^T + b``: the K x m scores of a block."""
        if self.sparse:
            out[...] = (X_block.matrix @ Wt.T).T
        else:
            np.matmul(Wt, X_block.T, out=out)
        if b is not None:
            out += b[:, np.newaxis]
        return out

    def accumulate(self, R, X_block, space):
        """Add ``X_block^T R^T`` (d x K) and ``R 1`` to ``space``'s sums (R: K x m)."""
        if self.sparse:
            space.W_gradient += X_block.transpose @ R.T
        else:
            np.matmul(X_block.T, R.T, out=space.product)
            space.W_gradient += space.product
        if space.b_gradient is not None:
            space.b_gradient += R @ self.ones[: R.shape[1]]


class DataPasses:
    """Data term of the objective and its derivatives, on fixed data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64 data, dense or CSR. It is read, never modified,
        and must not change while the passes are in use.
        Sparse data is taken in one run of rows per thread, each a CSR
        matrix on the arrays of ``X``.
    y : ndarray of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights; ``None`` weighs every sample equally.
    n_classes : int
        Number of classes ``K``.
    fit_intercept : bool
        Whether ``coef`` carries an intercept row.
    n_threads : int, default=1
        Threads for the passes. The blocks of rows are shared out between
        them, each thread with its own buffers. Each BLAS call works on one
        block, so a single-threaded BLAS is what these threads expect: the
        caller sets the BLAS library's limit.
    label_smoothing : float in [0, 1), default=0.0
        The share ``eps`` of each sample's target spread evenly over the
        classes: the targets are ``(1 - eps) Y + eps / K`` instead of the
        one-hot ``Y``, in the data term and the residual. The Hessian does
        not depend on the targets.
    hessian_dtype : dtype or None, default=None
        The dtype of the Hessian-vector products. ``None`` or ``X``'s dtype
        runs them on ``X`` itself. float32 for float64 ``X`` runs them in
        float32, while the value and the gradient stay in float64: dense
        ``X`` is converted a block of rows at a time into each thread's
        buffer, with no copy of ``X`` (a thread with a single block keeps it
        converted between passes); for CSR data, a float32 copy of the
        stored values is made on the first call of
        :meth:`value_gradient_hessp` (the indices are shared).

    Notes
    -----
    All methods take ``coef`` of shape ``(n_features + fit_intercept, K)`` in
    any float dtype and return float64 results; the work on ``X``-sized data
    runs in ``X``'s dtype, or ``hessian_dtype`` for the Hessian products.
    The partial sums of the threads are added in a fixed order, so a pass
    gives the same result every time for a given number of threads.
    """

    def __init__(
        self,
        X,
        y,
        sample_weight,
        n_classes,
        fit_intercept,
        n_threads=1,
        hessian_dtype=None,
        label_smoothing=0.0,
    ):
        n_samples, n_features = X.shape
        self.label_smoothing = float(label_smoothing)
        self.n_features = n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        if sp.issparse(X):
            # One block per thread: more blocks, each with its own d x K
            # product to add, were slower (see the solvers page).
            self.slices = _even_runs(X.indptr, n_threads)
        else:
            rows = _block_rows(n_samples, n_features, X.dtype.itemsize, n_threads)
            self.slices = [
                slice(start, min(start + rows, n_samples))
                for start in range(0, n_samples, rows)
            ]
        rows = max(block.stop - block.start for block in self.slices)
        self.y = np.asarray(y, dtype=np.intp)
        # The normalised weights s / S, in float64 for the sum that gives the
        # data term.
        if sample_weight is None:
            self.weights64 = np.full(n_samples, 1.0 / n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.weights64 = sample_weight / sample_weight.sum()

        # Threads beyond the blocks would idle.
        n_threads = min(n_threads, len(self.slices))

        self.n_threads = n_threads
        self._data = _Products(
            X, self.weights64, n_classes, fit_intercept, self.slices, n_threads
        )
        # The worker threads, shared by both copies of X; their threads are
        # started on first use and shut down with this object.
        if n_threads > 1:
            self._data.pool = ThreadPoolExecutor(n_threads)
            weakref.finalize(self, self._data.pool.shutdown, wait=False)
        self._hessian_dtype = None if hessian_dtype is None else np.dtype(hessian_dtype)
        # Each workspace's blocks: every n-th block, from its own first.
        n_workspaces = len(self._data.workspaces)
        self._shares = [
            range(first, len(self.slices), n_workspaces)
            for first in range(n_workspaces)
        ]
        # Where each sample's true-class score sits in the flattened K x rows
        # buffer of its block: one-dimensional indices, which numpy gathers
        # and scatters several times faster than pairs of indices.
        self._true_class = [
            self.y[block] * rows + np.arange(block.stop - block.start)
            for block in self.slices
        ]
        # The probabilities at the last point of value_gradient_hessp, one
        # K x rows block per block of X, in the Hessian products' dtype;
        # allocated on first use.
        self._probabilities = None
        self._curvature = None
        self._generation = 0

    def _products_in(self, dtype):
        """The products in ``dtype``: on ``X`` itself, or on a copy of it."""
        data = self._data
        if dtype is None or dtype == data.dtype:
            return data
        products = _Products(
            _as_dtype(data.X, dtype) if data.sparse else data.X,
            self.weights64,
            self.n_classes,
            self.fit_intercept,
            self.slices,
            self.n_threads,
            dtype=dtype,
        )
        products.pool = data.pool
        return products

    def _over_blocks(self, products, block_pass):
        """Run ``block_pass(space, block)`` on every block; return the totals.

        Each workspace takes its share of the blocks in its own thread. The
        totals are the data term and the sums in ``coef``'s layout, in
        float64.
        """
        spaces = products.workspaces

        def run_share(index):
            space = spaces[index]
            space.reset()
            for block in self._shares[index]:
                block_pass(space, block)

        _run(products.pool, run_share, range(len(spaces)))
        data_term = 0.0
        gradient = np.zeros((self.n_features + int(self.fit_intercept), self.n_classes))
        for space in spaces:
            data_term += space.data_term
            gradient[: self.n_features] += space.W_gradient
            if self.fit_intercept:
                gradient[self.n_features] += space.b_gradient
        return data_term, gradient

    def column_second_moments(self):
        """``sum_i s_i / S * x_ij^2`` for each feature ``j``, in float64.

        One pass over ``X``, in runs of rows small enough that the float64
        squares of a run take about :data:`_MOMENT_BYTES`. Sparse entries
        repeated within a row are squared separately.
        """
        X = self._data.X
        moments = np.zeros(self.n_features)
        if not sp.issparse(X):
            step = max(1, _MOMENT_BYTES // (8 * max(1, self.n_features)))
            for start in range(0, X.shape[0], step):
                rows = slice(start, start + step)
                moments += self.weights64[rows] @ np.square(X[rows], dtype=np.float64)
            return moments
        for rows in _runs_of_rows(X.indptr, _MOMENT_BYTES // 8):
            start, stop = X.indptr[rows.start], X.indptr[rows.stop]
            squares = np.repeat(
                self.weights64[rows], np.diff(X.indptr[rows.start : rows.stop + 1])
            )
            squares *= np.square(X.data[start:stop], dtype=np.float64)
            moments += np.bincount(
                X.indices[start:stop], weights=squares, minlength=self.n_features
            )
        return moments

    # -- the softmax of a block ---------------------------------------------

    def _softmax(self, Z, block, space):
        """Turn the scores ``Z``, the block's view of ``space.work``, into
        ``exp(Z - max)`` in place.

        Returns the normalisers ``sum_k exp(Z_k - max)`` and the weighted sum
        of the block's log-losses ``log sum_k exp(Z_k - max) - (Z_y - max)``,
        in float64. With label smoothing ``eps``, the log-loss of the
        smoothed targets: ``(1 - eps) (Z_y - max) + eps mean_k (Z_k - max)``
        is taken from the log-sum-exp instead.
        """
        m = Z.shape[1]
        Z -= np.max(Z, axis=0, out=space.column[:m])
        # The shifted true-class scores, read before exp overwrites them.
        z_true = space.work.reshape(-1)[self._true_class[block]]
        eps = self.label_smoothing
        if eps:
            z_true = (1.0 - eps) * z_true + eps * Z.mean(axis=0)
        np.exp(Z, out=Z)
        sums = np.sum(Z, axis=0, out=space.column_sums[:m])
        log_loss = np.log(sums) - z_true
        data_term = float(np.dot(self.weights64[self.slices[block]], log_loss))
        return sums, data_term

    def _residual(self, P_unnormalised, sums, block, space):
        """``s / S * (P - Y)`` in place of ``exp(Z - max)``, from its normalisers.

        With label smoothing ``eps``, ``Y`` is ``(1 - eps) Y + eps / K``.
        ``P_unnormalised`` is the block's view of ``space.work``.
        """
        weights = self._data.weights[self.slices[block]]
        scale = np.divide(weights, sums, out=space.column[: sums.size])
        P_unnormalised *= scale
        eps = self.label_smoothing
        if eps:
            P_unnormalised -= (eps / self.n_classes) * weights
            weights = (1.0 - eps) * weights
        space.work.reshape(-1)[self._true_class[block]] -= weights
        return P_unnormalised

    # -- evaluations --------------------------------------------------------

    def value(self, coef):
        """The data term ``(1/S) sum_i s_i (-log p_{i, y_i})``."""
        data = self._data
        Wt, b = data.transposed(coef)

        def block_pass(space, block):
            rows = self.slices[block]
            X_block = data.block(block, space)
            Z = data.scores(Wt, b, X_block, space.buffer(rows))
            space.data_term += self._softmax(Z, block, space)[1]

        return self._over_blocks(data, block_pass)[0]

    def value_and_gradient(self, coef):
        """The data term and its gradient (float64, ``coef``'s layout)."""
        return self._value_and_gradient(coef, keep_probabilities=False)

    def _value_and_gradient(self, coef, keep_probabilities):
        data = self._data
        Wt, b = data.transposed(coef)

        def block_pass(space, block):
            rows = self.slices[block]
            X_block = data.block(block, space)
            Z = data.scores(Wt, b, X_block, space.buffer(rows))
            sums, block_term = self._softmax(Z, block, space)
            space.data_term += block_term
            if keep_probabilities:
                np.divide(Z, sums, out=self._probabilities[block, :, : sums.size])
            G = self._residual(Z, sums, block, space)
            data.accumulate(G, X_block, space)

        return self._over_blocks(data, block_pass)

    def value_gradient_hessp(self, coef):
        """The data term, its gradient and its Hessian-vector product.

        The probabilities at ``coef`` are kept, O(n K) memory, so that each
        product costs one pass; the returned function is valid until the
        next call.
        """
        if self._probabilities is None:
            self._curvature = self._products_in(self._hessian_dtype)
            self._probabilities = np.empty(
                (len(self.slices), *self._curvature.workspaces[0].work.shape),
                dtype=self._curvature.dtype,
            )
        self._generation += 1
        generation = self._generation
        data_term, gradient = self._value_and_gradient(coef, keep_probabilities=True)

        def hessp(V):
            if generation != self._generation:
                raise RuntimeError(
                    "this Hessian-vector product belongs to an earlier point; "
                    "the probabilities it needs have been overwritten."
                )
            return self._hessian_product(V)

        return data_term, gradient, hessp

    def _hessian_product(self, V):
        """``H V`` for the data term, from the kept probabilities.

        For each sample, the softmax Jacobian gives
        ``r = s / S * (p * z - p (p . z))`` for the direction's scores ``z``.
        """
        curvature = self._curvature
        Vt, v_b = curvature.transposed(V)

        def block_pass(space, block):
            rows = self.slices[block]
            m = rows.stop - rows.start
            P = self._probabilities[block, :, :m]
            X_block = curvature.block(block, space)
            R = curvature.scores(Vt, v_b, X_block, space.buffer(rows))
            p_dot_z = np.einsum("km,km->m", P, R, out=space.column[:m])
            R -= p_dot_z
            R *= P
            R *= curvature.weights[rows]
            curvature.accumulate(R, X_block, space)

        return self._over_blocks(curvature, block_pass)[1]

"""Passes over the data: scores, softmax and residuals, block by block.

The data term of the objective, its gradient and its Hessian-vector product
each need one product with ``X`` on the way in (the scores) and one with
``X^T`` on the way out. A pass takes ``X`` a block of rows at a time (see
:mod:`sklearn_softmax._blocks`) and runs both products on the block while it
is still in cache, with the softmax in between, so that the work between the
products costs no extra trip through ``X``. With several threads, each takes
its own share of the blocks: the softmax runs in parallel too, and each
product stays on one core, where a single-threaded BLAS call on a cached
block is efficient. The blocks and the order in which their shares are added
depend on the data alone, so a pass gives the same result, to the last bit,
on any number of threads.

Every buffer is allocated once, when the passes are set up (the dense
Hessian's, when it is first formed), and reused by each evaluation.
"""

import functools
import itertools
import math
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._blocks import (
    BlockProducts,
    aligned,
    as_dtype,
    dense_blocks,
    runs_of_rows,
    sparse_runs,
)
from ._grams import stacks_grams, weighted_grams
from ._jacobian import class_pairs, hessian_matrix, jacobian_product, pair_weights
from ._vectors import max_abs, scaling_exponent

# The weights of the sets whose Gram matrices a task forms take at most this
# many numbers (16 MiB): many classes have many pairs of classes.
_TASK_WEIGHTS = 2**21
# The temporaries of column_second_moments: about this many bytes.
_MOMENT_BYTES = 2**20
# The largest entries of float64 data whose Hessian-vector products may run
# on a float32 copy: the copy's entries down to 2^-62 below the largest stay
# normal numbers, far past float32's 24 bits, and the scaled products stay
# far inside its range (see DataPasses.hessian_product).
_FLOAT32_SAFE = (2.0**-64, 2.0**64)


def _column_largest(X):
    """The largest absolute entry of each column of ``X``, dense or CSR, in
    float64, without a copy of ``X``."""
    if sp.issparse(X):
        largest, smallest = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        np.maximum.at(largest, X.indices, X.data)
        np.minimum.at(smallest, X.indices, X.data)
        return np.maximum(largest, -smallest)
    if not X.size:
        return np.zeros(X.shape[1])
    return np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)


@functools.cache
def _sets_of_tasks(n_sets, n_columns, block_rows, n_threads):
    """The ranges of the sets of weights whose Gram matrices a task of
    :meth:`DataPasses._add_weighted_grams` forms on a block of rows.

    A task's weights take at most :data:`_TASK_WEIGHTS` numbers. Matrices
    formed together (see :func:`~sklearn_softmax._grams.stacks_grams`) are
    not shared out between the threads beyond that: each one's rounding
    would depend on the others formed with it, and so on the number of
    threads.
    """
    size = max(1, _TASK_WEIGHTS // max(1, block_rows))
    if not stacks_grams(n_sets, n_columns):
        size = min(size, math.ceil(n_sets / n_threads))
    return [range(start, min(start + size, n_sets)) for start in range(0, n_sets, size)]


class DataPasses:
    """Data term of the objective and its derivatives, on fixed data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64 data, dense or CSR. It is read, never modified,
        and must not change while the passes are in use; dense data whose
        memory is not aligned to its dtype is copied once, aligned (see
        :func:`~sklearn_softmax._blocks.aligned`), here and when the passes
        are unpickled. Dense data is taken in blocks of rows (see
        :func:`~sklearn_softmax._blocks.dense_blocks`), sparse data in runs
        of rows (:func:`~sklearn_softmax._blocks.sparse_runs`), each a CSR
        matrix on the arrays of ``X``; both depend on the data alone.
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
        caller sets the BLAS library's limit. The results do not depend on
        it.
    hessian_dtype : dtype or None, default=None
        The dtype of the Hessian-vector products. ``None`` or ``X``'s dtype
        runs them on ``X`` itself. float32 for float64 ``X`` runs them in
        float32, while the value and the gradient stay in float64: dense
        ``X`` is converted a block of rows at a time into each thread's
        buffer, with no copy of ``X`` (a thread with a single block keeps it
        converted between passes, and data of a single block is also kept
        as a float32 ``X^T``, for the scores); for CSR data, a float32 copy
        of the stored values is made on the first call of
        :meth:`value_gradient_hessp` (the indices are shared).
    label_smoothing : float in [0, 1), default=0.0
        The share ``eps`` of each sample's target spread evenly over the
        classes: the targets are ``(1 - eps) Y + eps / K`` instead of the
        one-hot ``Y``, in the data term and the residual. The Hessian does
        not depend on the targets.
    total_weight : float or None, default=None
        ``S``, the total by which the weights are normalised: the sum of
        ``sample_weight`` (or ``n_samples``) when None. A part of a larger
        data set, such as a block of a dask array, takes the total of the
        whole, so that its sums add up to those of the whole.

    Notes
    -----
    All methods take ``coef`` of shape ``(n_features + fit_intercept, K)`` in
    any float dtype and return float64 results; the work on ``X``-sized data
    runs in ``X``'s dtype, or ``hessian_dtype`` for the Hessian products.
    Data with no weight at all (``S = 0``) has a data term of zero.
    """

    # The Hessian's blocks are formed one triangle at a time (symmetric
    # rank-k updates), not as general products.
    general_products = False

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
        total_weight=None,
    ):
        X = aligned(X)
        n_samples, n_features = X.shape
        self.label_smoothing = float(label_smoothing)
        self.n_samples = n_samples
        self.n_features = n_features
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        # The stored values, or entries of dense X.
        self.n_values = X.nnz if self.sparse else n_samples * n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        if sp.issparse(X):
            self.slices = sparse_runs(X.indptr, n_features, n_classes)
        else:
            self.slices = dense_blocks(
                n_samples, n_features, X.dtype.itemsize, n_classes
            )
        # The rows of the largest block.
        self._largest_block = max(block.stop - block.start for block in self.slices)
        self.y = np.asarray(y, dtype=np.intp)
        # The normalised weights s / S, in float64 for the sum that gives the
        # data term; all zero where the data has no weight.
        weights = (
            np.ones(n_samples)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        if total_weight is None:
            total_weight = weights.sum()
        self.weights64 = weights / total_weight if total_weight > 0 else weights * 0.0

        # Threads beyond the blocks would idle.
        self.n_threads = min(n_threads, len(self.slices))
        self._products = BlockProducts(
            X, self.weights64, n_classes, fit_intercept, self.slices, self.n_threads
        )
        # The worker threads, shared by both copies of X; their threads are
        # started on first use and shut down with this object.
        self._pool = None
        if self.n_threads > 1:
            self._pool = ThreadPoolExecutor(self.n_threads)
            weakref.finalize(self, self._pool.shutdown, wait=False)
        self._hessian_dtype = None if hessian_dtype is None else np.dtype(hessian_dtype)
        # Each thread's blocks: every n-th block, from its own first.
        self._blocks_of_thread = [
            range(first, len(self.slices), self.n_threads)
            for first in range(self.n_threads)
        ]
        # Where each sample's true-class score sits in the flattened K x rows
        # buffer of its block: one-dimensional indices, which numpy gathers
        # and scatters several times faster than pairs of indices.
        self._true_class = [
            self.y[block] * self._largest_block + np.arange(block.stop - block.start)
            for block in self.slices
        ]
        # The products of the Hessian-vector products, on X or on a copy in
        # hessian_dtype, and the probabilities at the last point of
        # value_gradient_hessp, one K x rows block per block of X in their
        # dtype: both made on first use.
        self._hessian_products = None
        self._column_largest = None
        self._probabilities = None
        self._generation = 0
        # Each thread's buffers for the Gram matrices of the dense Hessian
        # and the features' second moments, made on first use (see
        # _gram_rows).
        self._gram_buffers = None

    def __getstate__(self):
        # The probabilities of the last point stay behind: a copy of the
        # passes starts without them, as new passes do, and the processes
        # of a dask cluster send (or spill) the data and not them.
        return {**vars(self), "_probabilities": None, "_gram_buffers": None}

    def __setstate__(self, state):
        # Passes that travel between the processes of a dask cluster, or
        # are spilled to disk and read back, arrive with their arrays
        # wherever the message put them: the data is aligned again, once,
        # rather than copied by every product.
        vars(self).update(state)
        realigned = {}
        for products in (self._products, self._hessian_products):
            if products is None or products.sparse:
                continue
            for name in ("X", "columns"):
                array = getattr(products, name)
                if array is not None:
                    if id(array) not in realigned:
                        realigned[id(array)] = aligned(array)
                    setattr(products, name, realigned[id(array)])

    def __sizeof__(self):
        """The bytes of the data and the buffers these passes hold, as
        ``sys.getsizeof`` reports them: a scheduler that weighs the cost of
        moving an object between processes by its size, as Dask's does,
        then sees what moving the passes would take."""
        arrays = {id(a): a for a in [self.y, self.weights64, *self._true_class]}
        for products in (self._products, self._hessian_products):
            if products is None:
                continue
            X = products.X
            data = [X.data, X.indices, X.indptr] if products.sparse else [X]
            spaces = [vars(space).values() for space in products.workspaces]
            for array in [
                *data,
                products.weights,
                products.columns,
                *itertools.chain(*spaces),
            ]:
                if isinstance(array, np.ndarray):
                    arrays[id(array)] = array
        if self._probabilities is not None:
            arrays[id(self._probabilities)] = self._probabilities
        for buffers in self._gram_buffers or []:
            for array in buffers:
                if array is not None:
                    arrays[id(array)] = array
        return object.__sizeof__(self) + sum(a.nbytes for a in arrays.values())

    def _hessian_products_made(self):
        """The products of the Hessian-vector products, made on first use,
        and the largest absolute entry of each column of ``X``, which scale
        their directions (see :meth:`hessian_product`). A float32 copy of float64
        data is made only where its entries lie in ``_FLOAT32_SAFE``: beyond
        it, a copy would leave float32's range or its normal numbers, and
        the products stay in float64."""
        if self._hessian_products is None:
            self._column_largest = _column_largest(self._products.X)
            largest = float(self._column_largest.max(initial=0.0))
            dtype = self._hessian_dtype
            low, high = _FLOAT32_SAFE
            if dtype == np.float32 and largest and not low <= largest <= high:
                dtype = None
            self._hessian_products = self._products_in(dtype)
        return self._hessian_products

    def _products_in(self, dtype):
        """The products in ``dtype``: on ``X`` itself, or on a copy of it."""
        products = self._products
        if dtype is None or dtype == products.dtype:
            return products
        return BlockProducts(
            as_dtype(products.X, dtype) if products.sparse else products.X,
            self.weights64,
            self.n_classes,
            self.fit_intercept,
            self.slices,
            self.n_threads,
            dtype=dtype,
        )

    def _over_blocks(self, products, block_pass):
        """Run ``block_pass(space, block)`` on every block, each thread on
        its own blocks with its own workspace."""

        def run_blocks(thread):
            space = products.workspaces[thread]
            for block in self._blocks_of_thread[thread]:
                block_pass(space, block)

        products.sums.start()
        if self._pool is None:
            run_blocks(0)
            return
        # The calling thread takes the first share, the pool the others.
        others = [self._pool.submit(run_blocks, t) for t in range(1, self.n_threads)]
        try:
            run_blocks(0)
        finally:
            # result() re-raises an exception from any of the threads.
            for future in others:
                future.result()

    def column_second_moments(self):
        """``sum_i s_i / S * x_ij^2`` for each feature ``j``, in float64.

        One pass over ``X``, in runs of rows small enough that the float64
        squares of a run take about :data:`_MOMENT_BYTES`, in one buffer.
        Sparse entries repeated within a row are squared separately.
        """
        X = self._products.X
        moments = np.zeros(self.n_features)
        if not sp.issparse(X):
            step = max(1, _MOMENT_BYTES // (8 * max(1, self.n_features)))
            squares = np.empty((min(step, X.shape[0]), self.n_features))
            for start in range(0, X.shape[0], step):
                rows = slice(start, start + step)
                run = squares[: min(step, X.shape[0] - start)]
                np.square(X[rows], out=run, dtype=np.float64)
                moments += self.weights64[rows] @ run
            return moments
        for rows in runs_of_rows(X.indptr, _MOMENT_BYTES // 8):
            start, stop = X.indptr[rows.start], X.indptr[rows.stop]
            squares = np.repeat(
                self.weights64[rows], np.diff(X.indptr[rows.start : rows.stop + 1])
            )
            squares *= np.square(X.data[start:stop], dtype=np.float64)
            moments += np.bincount(
                X.indices[start:stop], weights=squares, minlength=self.n_features
            )
        return moments

    def column_means(self):
        """``sum_i s_i / S * x_ij`` for each feature ``j``, in float64: one
        product of ``X^T`` with the weights, in the order of the rows
        whatever the number of threads."""
        X = self._products.X
        return np.asarray(X.T @ self.weights64, dtype=np.float64).ravel()

    def feature_moments(self):
        """``sum_i s_i / S x~_i x~_i^T`` for ``x~ = [x, 1]`` (``x`` without
        an intercept): the ``p x p`` matrix of the features' weighted second
        moments, in float64, for dense ``X``.

        Summed as :meth:`_add_weighted_grams` sums: the same to the last bit on
        any number of threads. It costs ``n p^2`` multiply-adds,
        ``p / (2 K)`` Hessian-vector products.
        """
        if sp.issparse(self._products.X):
            raise TypeError("feature_moments takes dense data only.")
        n_rows = self.n_features + int(self.fit_intercept)
        (moments,) = self._add_weighted_grams(
            [np.zeros((n_rows, n_rows))],
            lambda block, rows, sets: [self.weights64[rows]],
        )
        return moments

    def _add_weighted_grams(self, sums, set_weights):
        """Add ``sum_i c_ji x~_i x~_i^T`` for ``x~ = [x, 1]`` and each set
        of weights ``c_j`` to ``sums[j]``, a float64 ``p x p`` array (or
        view), for each of the sets.

        ``set_weights(block, rows, sets)`` returns the weights of the sets
        ``sets`` (a range) for the samples ``rows`` of the block ``block``,
        of shape ``(len(sets), m)``. A task computes the matrices of a share
        of the sets on one block (:func:`~sklearn_softmax._grams.weighted_grams`),
        ``m p^2`` multiply-adds a set (half that for weights of one sign),
        which BLAS runs efficiently on the block's rows, with the weighted
        rows in a buffer of the thread's. The sets are shared out between the
        threads (unless their matrices are formed together, where the sets
        are many and the columns few), and the threads take the tasks as they
        come, at most one each at a time: beyond the sums, the matrices of
        about one block (or one a thread, for a single set) are held at a
        time. Each matrix is computed from weights computed row by row, by
        products whose shapes depend on the data alone, and each set's
        matrices are added in the order of the blocks: the sums are the
        same, to the last bit, on any number of threads.
        """
        n_sets = len(sums)
        n_rows = self.n_features + int(self.fit_intercept)
        parts = _sets_of_tasks(n_sets, n_rows, self._largest_block, self.n_threads)
        tasks = [(block, sets) for block in range(len(self.slices)) for sets in parts]

        def task_grams(task, slot):
            block, sets = task
            weights = set_weights(block, self.slices[block], sets)
            X, workspace = self._gram_rows(block, slot)
            return sets, weighted_grams(X, weights, self.fit_intercept, workspace)

        if self._pool is None:
            results = (task_grams(task, 0) for task in tasks)
        else:
            # The tasks of a group run at once, each on its own buffers.
            groups = (
                tasks[start : start + self.n_threads]
                for start in range(0, len(tasks), self.n_threads)
            )
            results = itertools.chain.from_iterable(
                self._pool.map(task_grams, group, range(len(group))) for group in groups
            )
        for sets, grams in results:
            for j, gram in zip(sets, grams, strict=True):
                sums[j] += gram
        return sums

    def _gram_rows(self, block, slot):
        """The rows of the block ``block`` as float64 dense (a view of dense
        float64 ``X``, or converted into the buffer of ``slot``), and the
        buffer of ``slot`` for their weighted copy: buffers of a block's
        size, made on first use and reused by every task of that slot."""
        rows, X = self.slices[block], self._products.X
        if self._gram_buffers is None:
            shape = (self._largest_block, self.n_features)
            converts = sp.issparse(X) or X.dtype != np.float64
            self._gram_buffers = [
                (np.empty(shape) if converts else None, np.empty(shape))
                for _ in range(self.n_threads)
            ]
        converted, weighted = self._gram_buffers[slot]
        m = rows.stop - rows.start
        if not sp.issparse(X) and X.dtype == np.float64:
            return X[rows], weighted
        converted = converted[:m]
        if sp.issparse(X) and X.dtype == np.float64:
            X[rows].toarray(out=converted)
        else:
            converted[...] = X[rows].toarray() if sp.issparse(X) else X[rows]
        return converted, weighted

    def class_curvature(self):
        """``sum_i s_i / S (diag(p_i) - p_i p_i^T)``, the ``K x K`` mean of
        the softmax Jacobians, in float64, at the point of the last call of
        :meth:`value_gradient_hessp`; ``n K^2`` multiply-adds."""
        if self._probabilities is None:
            raise RuntimeError("class_curvature follows value_gradient_hessp.")
        n_classes = self.n_classes
        mean_p = np.zeros(n_classes)
        outer = np.zeros((n_classes, n_classes))
        for block, rows in enumerate(self.slices):
            P = self._block_probabilities(self._probabilities, block)
            weighted = P * self.weights64[rows]
            mean_p += weighted.sum(axis=1)
            outer += weighted @ P.T
        return np.diag(mean_p) - outer

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
        weights = self._products.weights[self.slices[block]]
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
        products = self._products
        Wt, b = products.transposed(coef)
        terms = products.sums.terms

        def block_pass(space, block):
            rows = self.slices[block]
            X_block = products.block(block, space)
            Z = products.scores(Wt, b, X_block, space, space.buffer(rows))
            terms[block] = self._softmax(Z, block, space)[1]

        self._over_blocks(products, block_pass)
        return float(terms.sum())

    def value_and_gradient(self, coef):
        """The data term and its gradient (float64, ``coef``'s layout)."""
        return self._value_and_gradient(coef, probabilities=None)

    def _value_and_gradient(self, coef, probabilities):
        products = self._products
        Wt, b = products.transposed(coef)
        terms = products.sums.terms

        def block_pass(space, block):
            rows = self.slices[block]
            X_block = products.block(block, space)
            Z = products.scores(Wt, b, X_block, space, space.buffer(rows))
            sums, terms[block] = self._softmax(Z, block, space)
            if probabilities is not None:
                np.divide(Z, sums, out=probabilities[block, :, : sums.size])
            G = self._residual(Z, sums, block, space)
            products.back(G, X_block, block, space)

        self._over_blocks(products, block_pass)
        return products.sums.total()

    def value_gradient_probabilities(self, coef):
        """The data term, its gradient, and the probabilities at ``coef``
        that :meth:`hessian_product` takes: one ``K x rows`` array per
        block, in the Hessian products' dtype.

        The probabilities are written into the passes' own array, O(n K)
        memory allocated on the first call: each call, and each of the
        other methods that compute them, writes over what the calls before
        returned, and the Hessian-vector products of earlier points refuse
        to run.
        """
        products = self._hessian_products_made()
        if self._probabilities is None:
            self._probabilities = np.empty(
                (len(self.slices), *products.workspaces[0].work.shape),
                dtype=products.dtype,
            )
        self._generation += 1
        probabilities = self._probabilities
        return (
            *self._value_and_gradient(coef, probabilities=probabilities),
            probabilities,
        )

    def value_gradient_hessp(self, coef):
        """The data term, its gradient and its Hessian-vector product.

        The probabilities at ``coef`` are kept, O(n K) memory, so that each
        product costs one pass; the returned function is valid until the
        next call.
        """
        data_term, gradient, probabilities = self.value_gradient_probabilities(coef)
        hessp = self._at_this_point(
            "Hessian-vector product",
            lambda V: self.hessian_product(probabilities, V),
        )
        return data_term, gradient, hessp

    def _at_this_point(self, what, function):
        """``function``, which reads the probabilities of the last call of
        :meth:`value_gradient_probabilities`, refusing to run once another
        call has written over them."""
        generation = self._generation

        def at_this_point(*args):
            if generation != self._generation:
                raise RuntimeError(
                    f"this {what} belongs to an earlier point; the "
                    "probabilities it needs have been overwritten."
                )
            return function(*args)

        return at_this_point

    def value_gradient_hessian(self, coef):
        """The data term, its gradient and a function that forms its Hessian
        as a dense matrix.

        The probabilities at ``coef`` are kept, as for
        :meth:`value_gradient_hessp`, and the function forms the Hessian
        from them when called, until the next evaluation: a solver that
        needs the value and gradient alone at most points (a line search's
        trials, the last point) pays for the Hessian only where it takes a
        step from.

        The Hessian is float64, of shape ``(p, p)`` with
        ``p = (n_features + fit_intercept) K``, indexed as ``coef`` is
        flattened (feature-major, class-minor). For ``x~ = [x, 1]``, its
        ``(k, k')`` block of features is

        ``H_kk' = sum_i s_i / S (p_ik delta_kk' - p_ik p_ik') x~_i x~_i^T``.

        Only the blocks with ``k <= k' < K - 1`` are summed over the data
        (see :mod:`~sklearn_softmax._jacobian`), block of rows by block of
        rows in the order of the blocks, ``K (K - 1) / 2`` products of
        ``n d^2`` multiply-adds (one for two classes, as for the logistic
        model); the others follow from them. For two classes that one block
        is :meth:`value_gradient_two_class_hessian`'s.
        """
        data_term, gradient, probabilities = self.value_gradient_probabilities(coef)
        hessian = self._at_this_point("Hessian", lambda: self._hessian(probabilities))
        return data_term, gradient, hessian

    def hessian(self):
        """The data term's Hessian, as :meth:`value_gradient_hessian` gives
        it, at the point of the last call of :meth:`value_gradient_hessp`,
        from the probabilities kept there (in the Hessian products' dtype)."""
        if self._probabilities is None:
            raise RuntimeError("hessian follows value_gradient_hessp.")
        return self._hessian(self._probabilities)

    def _hessian(self, probabilities):
        """The Hessian of :meth:`value_gradient_hessian` at the point of
        ``probabilities``."""
        return hessian_matrix(self._pair_grams(probabilities), self.n_classes, np)

    def _pair_grams(self, probabilities):
        """The Hessian's blocks of the pairs of classes of
        :func:`~sklearn_softmax._jacobian.class_pairs` at the point of
        ``probabilities``, of shape ``(n_pairs, r, r)``."""
        pairs = class_pairs(self.n_classes)

        def weights(block, rows, sets):
            P = self._block_probabilities(probabilities, block)
            return pair_weights(
                P, pairs[sets.start : sets.stop], np, self.weights64[rows]
            )

        n_rows = self.n_features + int(self.fit_intercept)
        return self._add_weighted_grams(np.zeros((len(pairs), n_rows, n_rows)), weights)

    def value_gradient_two_class_hessian(self, coef):
        """For two classes: the data term, its gradient, and a function that
        forms ``sum_i s_i / S p_i0 p_i1 x~_i x~_i^T`` for ``x~ = [x, 1]``, a
        float64 ``(n_features + fit_intercept)``-square matrix, as
        :meth:`value_gradient_hessian`'s does.

        That matrix is the Hessian of the data term in the difference of the
        two classes' parameters, on which the probabilities depend alone
        (see :mod:`~sklearn_softmax._two_classes`), and the block
        ``H_00 = H_11 = -H_01`` of the Hessian in ``coef`` (see
        :meth:`value_gradient_hessian`). It is summed block of rows by block
        of rows, in their order: ``n d^2`` multiply-adds. With one class'
        probability the other's complement, ``p_0 p_1`` keeps its relative
        accuracy where either rounds to one.
        """
        if self.n_classes != 2:
            raise ValueError(
                f"the two-class Hessian needs two classes, not {self.n_classes}."
            )
        data_term, gradient, probabilities = self.value_gradient_probabilities(coef)
        gram = self._at_this_point(
            "Hessian", lambda: self._two_class_gram(probabilities)
        )
        return data_term, gradient, gram

    def _two_class_gram(self, probabilities):
        """The matrix of :meth:`value_gradient_two_class_hessian` at the
        point of ``probabilities``."""
        return self._pair_grams(probabilities)[0]

    def _block_probabilities(self, probabilities, block):
        """The ``K x m`` probabilities of the block ``block``'s samples, of
        those :meth:`value_gradient_probabilities` returned, in float64."""
        rows = self.slices[block]
        return np.asarray(
            probabilities[block, :, : rows.stop - rows.start], dtype=np.float64
        )

    def _direction_exponent(self, V):
        """The exponent of the scores' size along the direction ``V``, in
        ``coef``'s layout: a bound on ``|x_ij W_jk|``, each weight times its
        column's largest entry, or the largest intercept, whichever is
        larger; no less than ``V``'s largest entry over 2^100, so that the
        scaled direction stays in float32's range; 0 for a zero
        direction."""
        n_features = self._products.n_features
        magnitude = max_abs(V[n_features:])
        if n_features:
            rows = np.max(np.abs(V[:n_features]), axis=1)
            magnitude = max(magnitude, float(np.max(rows * self._column_largest)))
        if not magnitude > 0:
            return 0
        return max(scaling_exponent(magnitude), scaling_exponent(max_abs(V)) - 100)

    def hessian_product(self, probabilities, V):
        """``H V`` for the data term, at the point whose ``probabilities``
        :meth:`value_gradient_probabilities` returned, of these passes or of
        others on the same data (the blocks depend on the data alone).

        For each sample, the softmax Jacobian gives
        ``r = s / S * (p * z - p (p . z))`` for the direction's scores ``z``
        (:func:`~sklearn_softmax._jacobian.jacobian_product`, which keeps
        the entry of a probability near one accurate).
        The product is linear in ``V``: ``V`` is scaled by a power of two,
        and the product back, both exactly, so that the scores ``X W_V +
        b_V`` are at most about ``d``: each term ``x_ij W_jk`` and each
        intercept at most about one (see :meth:`_direction_exponent`). The
        product, which sums ``n`` entries of ``X`` weighted by at most
        ``2 d s / S``, is then about ``2 d`` times ``X``'s largest: float32
        products stay in range for features up to about ``1e38 / d``,
        whatever the size of the direction, and the weights of columns of
        other scales (a preconditioned direction's, about the inverse of
        their column's) are not scaled below float32's normal numbers.
        """
        products = self._hessian_products_made()
        V = np.asarray(V, dtype=np.float64)
        exponent = self._direction_exponent(V)
        Vt, v_b = products.transposed(np.ldexp(V, -exponent))

        def block_pass(space, block):
            rows = self.slices[block]
            m = rows.stop - rows.start
            P = probabilities[block, :, :m]
            X_block = products.block(block, space)
            R = products.scores(Vt, v_b, X_block, space, space.buffer(rows))
            if products.one_column:
                # Two classes: r_1 = s / S p_0 p_1 (z_1 - z_0), with the
                # weight of pair_weights' one pair, which keeps its relative
                # accuracy where either probability rounds to one, formed in
                # place; r_0 = -r_1 is not formed (see _blocks).
                r = R[1]
                r *= P[0]
                r *= P[1]
                r *= products.weights[rows]
            else:
                jacobian_product(P, R, np, class_axis=0, sums=space.column[:m])
                R *= products.weights[rows]
            products.back(R, X_block, block, space)

        self._over_blocks(products, block_pass)
        return np.ldexp(products.sums.total()[1], exponent)

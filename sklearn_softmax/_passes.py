"""Passes over the data: scores, softmax and residuals, block by block.

The data term of the objective, its gradient and its Hessian-vector product
each need one product with ``X`` on the way in (the scores) and one with
``X^T`` on the way out. A pass takes ``X`` a block of rows at a time and runs
both products on the block while it is still in cache, with the softmax in
between, so that the work between the products costs no extra trip through
``X``. With several threads, each takes its own share of the blocks, with
its own buffers: the softmax runs in parallel too, and each product stays on
one core, where a single-threaded BLAS call on a cached block is efficient.
Sparse rows are cut into runs of about the same number of stored values:
scipy multiplies on one thread and releases the GIL.

The blocks depend on the data alone, never on the number of threads, and
each block's share of the sums is kept apart and added to the others in the
order of the blocks. A pass therefore gives the same result, to the last
bit, on any number of threads.

Scores are held transposed, as ``K x m`` blocks (one column per sample):
the reductions over classes (row maximum, log-sum-exp, the softmax's
normaliser) then run over the leading axis, which numpy vectorises across
samples; with the classes on the contiguous axis, a reduction over a handful
of classes is several times slower. Every buffer is allocated once, when the
passes are set up (the dense Hessian's, when it is first formed), and reused
by each evaluation.
"""

import functools
import itertools
import math
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._grams import stacks_grams, weighted_grams
from ._jacobian import class_pairs, hessian_matrix, pair_weights
from ._threads import blas_architectures

# Rows of a dense block: about this many bytes of X, so that the block stays
# in cache between the two products while the Python overhead per block
# stays small.
_BLOCK_BYTES = 4 * 2**20
_MIN_BLOCK_ROWS = 256
# The weights of the sets whose Gram matrices a task forms take at most this
# many numbers (16 MiB): many classes have many pairs of classes.
_TASK_WEIGHTS = 2**21
# Below this many multiply-adds per product with X (entries of X times
# classes), a share of a pass costs less than a thread takes to start: data
# is cut into at most one block (run of rows, for sparse data) per this much
# work beyond what cache sizes ask for.
MIN_WORK_PER_THREAD = 2_000_000
# Dense data with the work for it is cut into at least this many blocks, so
# that up to this many threads share its passes.
_SHARED_BLOCKS = 8
# Sparse data is cut into at most this many runs of rows, a power of two so
# that 1, 2, 4, ... threads share them evenly.
_MAX_RUNS = 16
# The temporaries of column_second_moments: about this many bytes.
_MOMENT_BYTES = 2**20
# OpenBLAS's kernels for AVX-512 cores compute the float32 scores W^T X^T
# (K x m) of a dense block with few classes and enough features up to three
# times as slowly as X W (m x K), their transpose; the numbers that bound
# "few" and "enough" come from the grid on the solvers page.
_ROWS_FIRST_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
_ROWS_FIRST_MAX_CLASSES = 20
_ROWS_FIRST_MIN_FEATURES = 32


def scores_rows_first(dtype, n_features, n_classes, architectures=None):
    """Whether the scores of a dense block in ``dtype`` are computed as
    ``X W`` (m x K), then written transposed into the ``K x m`` buffer as
    the intercepts are added: for float32 with at most
    ``_ROWS_FIRST_MAX_CLASSES`` classes and at least
    ``_ROWS_FIRST_MIN_FEATURES`` features, where BLAS runs OpenBLAS's
    AVX-512 kernels (``architectures``: those of the loaded BLAS libraries
    by default). The choice depends on the machine alone, never on the
    number of threads."""
    if architectures is None:
        architectures = blas_architectures()
    return (
        np.dtype(dtype) == np.float32
        and n_classes <= _ROWS_FIRST_MAX_CLASSES
        and n_features >= _ROWS_FIRST_MIN_FEATURES
        and bool(architectures & _ROWS_FIRST_KERNELS)
    )


def _shares_of_work(n_entries, n_classes):
    """The most shares worth a thread each in a pass over data of
    ``n_entries`` stored entries."""
    return max(1, n_entries * n_classes // MIN_WORK_PER_THREAD)


def _block_rows(n_samples, n_features, itemsize, n_classes):
    """Rows of a dense block: about ``_BLOCK_BYTES`` of X; for data with
    the work for several threads, at most ``1 / _SHARED_BLOCKS`` of the
    rows; and at least ``n_classes`` rows, so that adding a block's
    ``d x K`` share of a gradient costs less than its products."""
    rows = _BLOCK_BYTES // max(1, n_features * itemsize)
    shares = _shares_of_work(n_samples * n_features, n_classes)
    rows = min(rows, math.ceil(n_samples / min(_SHARED_BLOCKS, shares)))
    rows = max(rows, _MIN_BLOCK_ROWS, n_classes)
    return int(max(1, min(n_samples, rows)))


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


def dense_blocks(n_samples, n_features, itemsize, n_classes):
    """The blocks of rows of dense data, as slices; one, empty, without
    rows."""
    rows = _block_rows(n_samples, n_features, itemsize, n_classes)
    starts = range(0, n_samples, rows) if n_samples else [0]
    return [slice(start, min(start + rows, n_samples)) for start in starts]


def sparse_runs(indptr, n_features, n_classes):
    """The runs of rows of CSR data, as slices: a power of two of them, at
    most ``_MAX_RUNS`` and one per share of work worth a thread, each
    holding at least ``d K`` stored values, so that adding a run's
    ``d x K`` share of a gradient costs less than its products."""
    n_values = int(indptr[-1] - indptr[0])
    most = min(
        _MAX_RUNS,
        _shares_of_work(n_values, n_classes),
        n_values // max(1, n_features * n_classes),
    )
    n_runs = 2 ** int(math.log2(most)) if most >= 1 else 1
    return _even_runs(indptr, n_runs)


def aligned(X):
    """Dense ``X`` itself when its memory is aligned to its dtype, as BLAS
    needs it; otherwise an aligned copy, in the same order. Sparse ``X`` as
    it is: scipy multiplies unaligned values in place.

    numpy hands an unaligned array to BLAS by copying it for each product:
    a pass on such data would copy each block of rows twice, several times
    the products' own time. Data received from another process, as the
    blocks of a dask array that a worker receives, can start at any byte
    of the message that carried it.
    """
    if sp.issparse(X) or X.flags.aligned:
        return X
    return np.array(X, order="K")


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
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)] or [
        slice(0, 0)
    ]


class _Workspace:
    """One thread's buffers, in the dtype of its products."""

    def __init__(self, n_classes, n_features, rows, dtype, convert, rows_first):
        self.work = np.empty((n_classes, rows), dtype=dtype)
        # The m x K scores, before they are transposed into work.
        self.rows_first = (
            np.empty((rows, n_classes), dtype=dtype) if rows_first else None
        )
        # A block of X converted to the products' dtype, when X has another,
        # and the first row of the block it holds.
        self.X_block = np.empty((rows, n_features), dtype=dtype) if convert else None
        self.X_block_start = None
        self.column = np.empty(rows, dtype=dtype)
        self.column_sums = np.empty(rows, dtype=dtype)

    def buffer(self, rows):
        return self.work[:, : rows.stop - rows.start]


class _BlockSums:
    """The sums of a pass, folded block by block in the order of the blocks,
    whichever thread computed each block's share and whenever it finished.

    A share that is ready before those of the blocks before it waits, in
    its own buffer, until they have been added: a fold holds a few shares
    of ``d K`` numbers at most, about one per thread, and adds every share
    in the same order on any number of threads. The intercepts' shares
    (``K`` numbers a block) and the data term's are kept per block and
    added at the end.
    """

    def __init__(
        self, n_blocks, n_classes, n_features, dtype, fit_intercept, by_class=True
    ):
        # K x d (``by_class``) for dense data: BLAS writes R X faster than
        # X^T R^T (d x K), by a quarter on dense blocks of ten classes. d x K
        # for sparse data, the layout scipy writes X^T R^T in: the shares
        # are then added, and the total copied, without a transpose.
        self.shape = (n_classes, n_features) if by_class else (n_features, n_classes)
        self.by_class = by_class
        self.dtype = dtype
        self.b = np.empty((n_blocks, n_classes), dtype=dtype) if fit_intercept else None
        self.terms = np.zeros(n_blocks)
        self._lock = threading.Lock()
        self._spare = []
        self.W = np.zeros(self.shape)
        self._waiting = {}
        self._next = 0

    def __getstate__(self):
        # Passes travel between the workers of a dask cluster; a lock does
        # not, and a new one does as well.
        return {**vars(self), "_lock": None}

    def __setstate__(self, state):
        vars(self).update(state, _lock=threading.Lock())

    def start(self):
        """Begin a pass: forget the shares that a pass which failed
        part-way left waiting, and the blocks it had added."""
        with self._lock:
            self._waiting.clear()
            self._next = 0

    def buffer(self):
        """A buffer for a share, in the layout of the sums and the
        products' dtype."""
        with self._lock:
            if self._spare:
                return self._spare.pop()
        return np.empty(self.shape, dtype=self.dtype)

    def add(self, index, share, spare=False):
        """Fold ``share``, the share of block ``index`` in the layout of
        the sums, into the sums once the blocks before it are in; with
        ``spare``, its buffer is reused afterwards (see :meth:`buffer`)."""
        with self._lock:
            self._waiting[index] = (share, spare)
            while self._next in self._waiting:
                share, spare = self._waiting.pop(self._next)
                if self._next:
                    self.W += share
                else:
                    np.copyto(self.W, share)
                if spare:
                    self._spare.append(share)
                self._next += 1

    def total(self):
        """The data term and the sums in ``coef``'s layout, in float64; the
        next pass starts afresh (see :meth:`start`)."""
        W = self.W.T if self.by_class else self.W
        n_features, n_classes = W.shape
        gradient = np.empty((n_features + int(self.b is not None), n_classes))
        if self._next:
            gradient[:n_features] = W
        else:
            gradient[:n_features] = 0.0
        if self.b is not None:
            self.b.sum(axis=0, dtype=np.float64, out=gradient[n_features])
        return float(self.terms.sum()), gradient


class _BlockProducts:
    """The two products of a pass with ``X``, in ``dtype`` (``X``'s by
    default), on the blocks of rows ``slices``.

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
        # The normalised weights s / S, in the products' dtype.
        self.weights = weights64.astype(self.dtype)
        self.ones = np.ones(rows, dtype=self.dtype)
        # Data of a single block converted to another dtype is converted
        # once per fit: into rows for the products R X and, transposed, into
        # columns for the scores W^T X^T, which BLAS computes fastest from a
        # contiguous X^T on every kernel measured (see the solvers page).
        self.columns = (
            np.ascontiguousarray(X.T, dtype=self.dtype)
            if convert and len(slices) == 1
            else None
        )
        self.rows_first = (
            not self.sparse
            and self.columns is None
            and scores_rows_first(self.dtype, self.n_features, n_classes)
        )
        self.workspaces = [
            _Workspace(
                n_classes, self.n_features, rows, self.dtype, convert, self.rows_first
            )
            for _ in range(n_threads)
        ]
        self.sums = _BlockSums(
            len(slices),
            n_classes,
            self.n_features,
            self.dtype,
            fit_intercept,
            by_class=not self.sparse,
        )

    def transposed(self, coef):
        """``W^T`` (K x d) and ``b`` in the products' dtype.

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

    def scores(self, Wt, b, X_block, space, out):
        """``out = W^T X_block^T + b``: the K x m scores of a block."""
        if self.sparse:
            out[...] = (X_block.matrix @ Wt.T).T
        elif self.columns is not None:
            np.matmul(Wt, self.columns, out=out)
        elif self.rows_first:
            by_rows = space.rows_first[: X_block.shape[0]]
            np.matmul(X_block, Wt.T, out=by_rows)
            if b is None:
                np.copyto(out, by_rows.T)
            else:
                np.add(by_rows.T, b[:, np.newaxis], out=out)
            return out
        else:
            np.matmul(Wt, X_block.T, out=out)
        if b is not None:
            out += b[:, np.newaxis]
        return out

    def back(self, R, X_block, index):
        """Keep ``R X_block`` (K x d) and ``R 1`` as the block's share of
        the sums (R: K x m)."""
        sums = self.sums
        if self.sparse:
            sums.add(index, X_block.transpose @ R.T)
        else:
            sums.add(index, np.matmul(R, X_block, out=sums.buffer()), spare=True)
        if sums.b is not None:
            np.matmul(R, self.ones[: R.shape[1]], out=sums.b[index])


class DataPasses:
    """Data term of the objective and its derivatives, on fixed data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64 data, dense or CSR. It is read, never modified,
        and must not change while the passes are in use; dense data whose
        memory is not aligned to its dtype is copied once, aligned (see
        :func:`aligned`), here and when the passes are unpickled. Dense
        data is taken in blocks of rows of about ``_BLOCK_BYTES``, sparse
        data in runs of rows (see :func:`sparse_runs`), each a CSR matrix
        on the arrays of ``X``; both depend on the data alone.
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
        self._products = _BlockProducts(
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
        """The products of the Hessian-vector products, made on first use."""
        if self._hessian_products is None:
            self._hessian_products = self._products_in(self._hessian_dtype)
        return self._hessian_products

    def _products_in(self, dtype):
        """The products in ``dtype``: on ``X`` itself, or on a copy of it."""
        products = self._products
        if dtype is None or dtype == products.dtype:
            return products
        return _BlockProducts(
            _as_dtype(products.X, dtype) if products.sparse else products.X,
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
            products.back(G, X_block, block)

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

    def hessian_product(self, probabilities, V):
        """``H V`` for the data term, at the point whose ``probabilities``
        :meth:`value_gradient_probabilities` returned, of these passes or of
        others on the same data (the blocks depend on the data alone).

        For each sample, the softmax Jacobian gives
        ``r = s / S * (p * z - p (p . z))`` for the direction's scores ``z``.
        """
        products = self._hessian_products_made()
        Vt, v_b = products.transposed(V)

        def block_pass(space, block):
            rows = self.slices[block]
            m = rows.stop - rows.start
            P = probabilities[block, :, :m]
            X_block = products.block(block, space)
            R = products.scores(Vt, v_b, X_block, space, space.buffer(rows))
            p_dot_z = np.einsum("km,km->m", P, R, out=space.column[:m])
            R -= p_dot_z
            R *= P
            R *= products.weights[rows]
            products.back(R, X_block, block)

        self._over_blocks(products, block_pass)
        return products.sums.total()[1]

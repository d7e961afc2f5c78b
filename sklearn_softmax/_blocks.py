"""Blocks of rows: how a pass over the data cuts it, and how it adds up.

A pass over the data (see :mod:`sklearn_softmax._passes`) takes ``X`` a
block of rows at a time and runs both of its products on the block while it
is still in cache. With several threads, each takes its own share of the
blocks, with its own buffers (:class:`BlockProducts`). Sparse rows are cut
into runs of about the same number of stored values: scipy multiplies on one
thread and releases the GIL.

The blocks depend on the data alone, never on the number of threads, and
each block's share of the sums is kept apart and added to the others in the
order of the blocks (:class:`_BlockSums`). A pass therefore gives the same
result, to the last bit, on any number of threads.

Two classes take one column in both products. The softmax of a sample
reads only the difference ``z_1 - z_0`` of its scores, and each sample's
residuals of the two classes are opposite (they sum to zero over the
classes), so a block's scores are ``[0, x (w_1 - w_0) + b_1 - b_0]`` and
its share of a gradient ``[-X^T r_1, X^T r_1]``: one matrix-vector product
each way, which BLAS runs several times as fast as a product with two
columns (the solvers page, "How a pass over the data is computed", gives
the times). The work of a pass, which sizes its blocks and its shares, is
counted in those columns (:func:`product_columns`).

Scores are held transposed, as ``K x m`` blocks (one column per sample):
the reductions over classes (row maximum, log-sum-exp, the softmax's
normaliser) then run over the leading axis, which numpy vectorises across
samples; with the classes on the contiguous axis, a reduction over a handful
of classes is several times slower.
"""

import itertools
import math
import threading
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._threads import blas_architectures

# Rows of a dense block: about this many bytes of X, so that the block stays
# in cache between the two products while the Python overhead per block
# stays small.
_BLOCK_BYTES = 4 * 2**20
_MIN_BLOCK_ROWS = 256
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
# OpenBLAS's kernels for AVX-512 cores compute the float32 scores W^T X^T
# (K x m) of a dense block with few classes and enough features up to three
# times as slowly as X W (m x K), their transpose; the numbers that bound
# "few" and "enough" come from the grid on the solvers page.
_ROWS_FIRST_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
_ROWS_FIRST_MAX_CLASSES = 20
_ROWS_FIRST_MIN_FEATURES = 32
# OpenBLAS's float32 kernels for AVX2 and earlier cores multiply a dense
# block by three columns more slowly than by four: such products get a
# fourth column of zeros (see padded_columns), where BLAS runs one of the
# kernels measured so (its Zen target runs the Haswell kernels).
_PADDED_COLUMNS = {3: 4}
_PADDED_KERNELS = frozenset({"haswell", "zen", "sandybridge", "nehalem"})


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


def product_columns(n_classes):
    """The columns of the products of a pass with ``X``: one for two
    classes (see the module's docstring), ``n_classes`` otherwise."""
    return 1 if n_classes == 2 else n_classes


def padded_columns(dtype, n_columns, sparse, architectures=None):
    """The columns a dense block's products in ``dtype`` run with, for
    products of ``n_columns``: four for three float32 columns, the last of
    zeros, where BLAS is an OpenBLAS that runs its kernels for AVX2 or
    earlier cores (``architectures``: those of the loaded BLAS libraries by
    default, all of them among ``_PADDED_KERNELS``); ``n_columns``
    otherwise. There both float32 products of a block took less time with
    the fourth column, the copies into and out of the padded buffer
    included, or about as much; float64 products gained on some of those
    kernels and lost on others (the solvers page, "How a pass over the data
    is computed", gives the times). Sparse products, which scipy runs, and
    other BLAS libraries and kernels, which were not measured so, are not
    padded. The choice depends on the machine alone, never on the number of
    threads."""
    if sparse or np.dtype(dtype) != np.float32:
        return n_columns
    if architectures is None:
        architectures = blas_architectures()
    if not architectures or not architectures <= _PADDED_KERNELS:
        return n_columns
    return _PADDED_COLUMNS.get(n_columns, n_columns)


def _shares_of_work(n_entries, n_classes):
    """The most shares worth a thread each in a pass over data of
    ``n_entries`` stored entries."""
    return max(1, n_entries * product_columns(n_classes) // MIN_WORK_PER_THREAD)


def _block_rows(n_samples, n_features, itemsize, n_classes):
    """Rows of a dense block: about ``_BLOCK_BYTES`` of X; for data with
    the work for several threads, at most ``1 / _SHARED_BLOCKS`` of the
    rows; and at least as many rows as the products have columns, so that
    adding a block's ``d x K`` share of a gradient costs less than its
    products."""
    rows = _BLOCK_BYTES // max(1, n_features * itemsize)
    shares = _shares_of_work(n_samples * n_features, n_classes)
    rows = min(rows, math.ceil(n_samples / min(_SHARED_BLOCKS, shares)))
    rows = max(rows, _MIN_BLOCK_ROWS, product_columns(n_classes))
    return int(max(1, min(n_samples, rows)))


def dense_blocks(n_samples, n_features, itemsize, n_classes):
    """The blocks of rows of dense data, as slices; one, empty, without
    rows."""
    rows = _block_rows(n_samples, n_features, itemsize, n_classes)
    starts = range(0, n_samples, rows) if n_samples else [0]
    return [slice(start, min(start + rows, n_samples)) for start in starts]


def sparse_runs(indptr, n_features, n_classes):
    """The runs of rows of CSR data, as slices: a power of two of them, at
    most ``_MAX_RUNS`` and one per share of work worth a thread, each
    holding at least ``d K`` stored values (``d`` for two classes), so
    that adding a run's ``d x K`` share of a gradient costs less than its
    products."""
    n_values = int(indptr[-1] - indptr[0])
    most = min(
        _MAX_RUNS,
        _shares_of_work(n_values, n_classes),
        n_values // max(1, n_features * product_columns(n_classes)),
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


def as_dtype(X, dtype):
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


def runs_of_rows(indptr, n_values):
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

    def __init__(
        self,
        n_classes,
        n_columns,
        n_features,
        rows,
        dtype,
        convert,
        rows_first,
        padded=None,
    ):
        self.work = np.empty((n_classes, rows), dtype=dtype)
        # The scores and residuals of a block, where the products are
        # padded (see padded_columns), with the rows of the padding below
        # them: the products' rows do not mix, and those rows are dropped;
        # they are kept zero, as the scores leave them, so that nothing
        # overflows there.
        self.padded = None if padded is None else np.zeros((padded, rows), dtype=dtype)
        # The m x K scores (m x 1 for two classes), before they are
        # transposed into work.
        self.rows_first = (
            np.empty((rows, n_columns), dtype=dtype) if rows_first else None
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
    added at the end. For two classes, the sums hold the second class'
    column alone (:func:`product_columns`), and the total gives the first
    class its opposite.
    """

    def __init__(
        self,
        n_blocks,
        n_classes,
        n_features,
        dtype,
        fit_intercept,
        by_class=True,
        padded=None,
    ):
        self.n_classes = n_classes
        n_columns = product_columns(n_classes)
        self.n_columns = n_columns
        # Dense shares of padded products hold the padding's rows too, which
        # the total drops.
        rows = n_columns if padded is None else padded
        # K x d (``by_class``) for dense data: BLAS writes R X faster than
        # X^T R^T (d x K), by a quarter on dense blocks of ten classes. d x K
        # for sparse data, the layout scipy writes X^T R^T in: the shares
        # are then added, and the total copied, without a transpose.
        self.shape = (rows, n_features) if by_class else (n_features, n_columns)
        self.by_class = by_class
        self.dtype = dtype
        self.b = np.empty((n_blocks, n_columns), dtype=dtype) if fit_intercept else None
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
        W = self.W[: self.n_columns].T if self.by_class else self.W
        n_features, n_columns = W.shape
        gradient = np.empty((n_features + int(self.b is not None), self.n_classes))
        summed = gradient[:, -n_columns:]
        if self._next:
            summed[:n_features] = W
        else:
            summed[:n_features] = 0.0
        if self.b is not None:
            self.b.sum(axis=0, dtype=np.float64, out=summed[n_features])
        if n_columns < self.n_classes:
            np.negative(gradient[:, 1], out=gradient[:, 0])
        return float(self.terms.sum()), gradient


class BlockProducts:
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
        # Two classes: one column of weights, their difference (see the
        # module's docstring).
        n_columns = product_columns(n_classes)
        self.one_column = n_columns < n_classes
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
            and scores_rows_first(self.dtype, self.n_features, n_columns)
        )
        padded = padded_columns(self.dtype, n_columns, self.sparse)
        self.padded = padded if padded > n_columns else None
        self.workspaces = [
            _Workspace(
                n_classes,
                n_columns,
                self.n_features,
                rows,
                self.dtype,
                convert,
                self.rows_first,
                self.padded,
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
            padded=self.padded,
        )

    def transposed(self, coef):
        """``W^T`` (K x d) and ``b`` in the products' dtype; for two
        classes, the differences ``(w_1 - w_0)^T`` (1 x d) and ``b_1 - b_0``,
        taken in float64 (a ``coef`` of lower precision is exact there).

        ``W^T`` is contiguous for dense ``X``, whose products BLAS runs on
        it; for sparse ``X`` it is the transpose of a contiguous ``W``,
        which scipy multiplies without a copy.
        """
        coef = np.asarray(coef)
        if self.one_column:
            coef = coef.astype(np.float64, copy=False)
            coef = coef[:, 1:] - coef[:, :1]
        W = coef[: self.n_features]
        if self.sparse:
            Wt = np.ascontiguousarray(W, dtype=self.dtype).T
        elif self.padded is not None:
            Wt = np.zeros((self.padded, self.n_features), dtype=self.dtype)
            Wt[: W.shape[1]] = W.T
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
        """``out = W^T X_block^T + b``: the K x m scores of a block, from
        :meth:`transposed`'s ``W^T`` and ``b``; for two classes, their
        difference ``z_1 - z_0`` as the second row, and zero as the
        first."""
        scores = out
        if self.one_column:
            out[0] = 0.0
            out = out[1:]
        if self.sparse:
            # scipy multiplies by a vector faster than by one column.
            if self.one_column:
                out[0] = X_block.matrix @ Wt[0]
            else:
                out[...] = (X_block.matrix @ Wt.T).T
        elif self.padded is not None:
            padded = space.padded[:, : out.shape[1]]
            np.matmul(
                Wt, X_block.T if self.columns is None else self.columns, out=padded
            )
            np.copyto(out, padded[: out.shape[0]])
        elif self.columns is not None:
            np.matmul(Wt, self.columns, out=out)
        elif self.rows_first:
            by_rows = space.rows_first[: X_block.shape[0]]
            np.matmul(X_block, Wt.T, out=by_rows)
            if b is None:
                np.copyto(out, by_rows.T)
            else:
                np.add(by_rows.T, b[:, np.newaxis], out=out)
            return scores
        else:
            np.matmul(Wt, X_block.T, out=out)
        if b is not None:
            out += b[:, np.newaxis]
        return scores

    def back(self, R, X_block, index, space):
        """Keep ``R X_block`` (K x d) and ``R 1`` as the block's share of
        the sums (R: K x m); for two classes, whose rows of ``R`` must be
        opposite, those of the second row. Padded products multiply ``R``
        in ``space``'s padded buffer, whose other rows the sums drop."""
        sums = self.sums
        if self.one_column:
            R = R[1:]
        if self.sparse:
            if self.one_column:
                sums.add(index, (X_block.transpose @ R[0])[:, np.newaxis])
            else:
                sums.add(index, X_block.transpose @ R.T)
        elif self.padded is not None:
            padded = space.padded[:, : R.shape[1]]
            padded[: R.shape[0]] = R
            sums.add(index, np.matmul(padded, X_block, out=sums.buffer()), spare=True)
        else:
            sums.add(index, np.matmul(R, X_block, out=sums.buffer()), spare=True)
        if sums.b is not None:
            np.matmul(R, self.ones[: R.shape[1]], out=sums.b[index])

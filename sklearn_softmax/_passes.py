"""Passes over the data: scores, softmax and residuals, block by block.

The data term of the objective, its gradient and its Hessian-vector product
each need one product with ``X`` on the way in (the scores) and one with
``X^T`` on the way out. A pass takes ``X`` a block of rows at a time and runs
both products on the block while it is still in cache, with the softmax in
between, so that the work between the products costs no extra trip through
``X``.

Scores are held transposed, as ``K x m`` blocks (one column per sample):
the reductions over classes (row maximum, log-sum-exp, the softmax's
normaliser) then run over the leading axis, which numpy vectorises across
samples; with the classes on the contiguous axis, a reduction over a handful
of classes is several times slower. Every buffer is allocated once, when the
passes are set up, and reused by each evaluation.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

# Rows of a dense block: about this many bytes of X, so that the block stays
# in cache between the two products while the Python overhead per block
# stays small.
_BLOCK_BYTES = 4 * 2**20
_MIN_BLOCK_ROWS = 256


def _block_rows(n_samples, n_features, itemsize):
    rows = _BLOCK_BYTES // max(1, n_features * itemsize)
    return int(max(1, min(n_samples, max(_MIN_BLOCK_ROWS, rows))))


def _as_dtype(X, dtype):
    """``X`` in ``dtype``; a CSR copy shares the indices and copies the values."""
    if sp.issparse(X):
        return sp.csr_matrix((X.data.astype(dtype), X.indices, X.indptr), shape=X.shape)
    return X.astype(dtype)


class _Products:
    """The two products of a pass with one copy of ``X``, in its dtype.

    Holds the buffers they write into, allocated once: a ``K x rows`` block of
    scores, a column per sample and the ``K x d`` product of a block.
    """

    def __init__(self, X, weights64, n_classes, fit_intercept, rows, class_groups):
        self.X = X
        self.dtype = X.dtype
        self.sparse = sp.issparse(X)
        self.n_features = X.shape[1]
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.class_groups = class_groups
        # The normalised weights s / S, in X's dtype.
        self.weights = weights64.astype(self.dtype)
        self.work = np.empty((n_classes, rows), dtype=self.dtype)
        self.column = np.empty(rows, dtype=self.dtype)
        self.ones = np.ones(rows, dtype=self.dtype)
        self.product = np.empty((n_classes, self.n_features), dtype=self.dtype)

    def transposed(self, coef):
        """``W^T`` (K x d, contiguous) and ``b`` in X's dtype."""
        coef = np.asarray(coef)
        Wt = np.ascontiguousarray(coef[: self.n_features].T, dtype=self.dtype)
        b = coef[self.n_features].astype(self.dtype) if self.fit_intercept else None
        return Wt, b

    def zeros(self):
        """Zeroed accumulators for the K x d and K parts of a gradient."""
        Wt_gradient = np.zeros((self.n_classes, self.n_features), dtype=self.dtype)
        b_gradient = (
            np.zeros(self.n_classes, dtype=self.dtype) if self.fit_intercept else None
        )
        return Wt_gradient, b_gradient

    def buffer(self, rows):
        return self.work[:, : rows.stop - rows.start]

    def _block(self, rows):
        # Sparse data is one block; slicing rows of a CSR matrix would copy it.
        return self.X if self.sparse else self.X[rows]

    def _for_class_groups(self, function):
        if len(self.class_groups) == 1:
            function(self.class_groups[0])
            return
        with ThreadPoolExecutor(len(self.class_groups)) as pool:
            # list() re-raises an exception from any of the threads.
            list(pool.map(function, self.class_groups))

    def scores(self, Wt, b, rows, out):
        """``out = W^T X_rows^T + b``: the K x m scores of a block."""
        X_block = self._block(rows)
        if self.sparse:

            def fill(classes):
                out[classes] = (X_block @ Wt[classes].T).T

            self._for_class_groups(fill)
        else:
            np.matmul(Wt, X_block.T, out=out)
        if b is not None:
            out += b[:, np.newaxis]
        return out

    def accumulate(self, R, rows, Wt_gradient, b_gradient):
        """Add ``R X_rows`` and ``R 1`` for a K x m residual ``R``."""
        X_block = self._block(rows)
        if self.sparse:

            def add(classes):
                Wt_gradient[classes] += (X_block.T @ R[classes].T).T

            self._for_class_groups(add)
        else:
            np.matmul(R, X_block, out=self.product)
            Wt_gradient += self.product
        if b_gradient is not None:
            b_gradient += R @ self.ones[: R.shape[1]]


class DataPasses:
    """Data term of the objective and its derivatives, on fixed data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64 data, dense or CSR. It is read, never modified.
        Sparse data is taken as one block: slicing rows of a CSR matrix
        copies them.
    y : ndarray of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights; ``None`` weighs every sample equally.
    n_classes : int
        Number of classes ``K``.
    fit_intercept : bool
        Whether ``coef`` carries an intercept row.
    n_threads : int, default=1
        Threads for the products with sparse ``X``, which scipy runs on one
        thread: the classes are split into this many groups, each multiplied
        in its own thread (scipy releases the GIL in these products). Dense
        products are left to the BLAS library's own threads.
    hessian_dtype : dtype or None, default=None
        The dtype of the Hessian-vector products. ``None`` or ``X``'s dtype
        runs them on ``X`` itself; float32 for float64 ``X`` runs them on a
        float32 copy of ``X`` (half its size; for CSR data, a copy of the
        stored values only), made here, while the value and the gradient stay
        in float64.

    Notes
    -----
    All methods take ``coef`` of shape ``(n_features + fit_intercept, K)`` in
    any float dtype and return float64 results; the work on ``X``-sized data
    runs in ``X``'s dtype, or ``hessian_dtype`` for the Hessian products.
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
    ):
        n_samples, n_features = X.shape
        self.n_features = n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        class_groups = [
            slice(group[0], group[-1] + 1)
            for group in np.array_split(np.arange(n_classes), n_threads)
            if group.size
        ]
        rows = (
            n_samples
            if sp.issparse(X)
            else _block_rows(n_samples, n_features, X.dtype.itemsize)
        )
        self.slices = [
            slice(start, min(start + rows, n_samples))
            for start in range(0, n_samples, rows)
        ]
        self.y = np.asarray(y, dtype=np.intp)
        # The normalised weights s / S, in float64 for the sum that gives the
        # data term.
        if sample_weight is None:
            self.weights64 = np.full(n_samples, 1.0 / n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.weights64 = sample_weight / sample_weight.sum()

        def products(data):
            return _Products(
                data, self.weights64, n_classes, fit_intercept, rows, class_groups
            )

        self._data = products(X)
        self.dtype = self._data.dtype
        if hessian_dtype is None or np.dtype(hessian_dtype) == X.dtype:
            self._curvature = self._data
        else:
            self._curvature = products(_as_dtype(X, hessian_dtype))
        self._column_sums = np.empty(rows, dtype=self.dtype)
        self._columns = np.arange(rows)
        # The probabilities at the last point of value_gradient_hessp, one
        # K x rows block per block of X, in the Hessian products' dtype;
        # allocated on first use.
        self._probabilities = None
        self._generation = 0

    def _gradient_like(self, Wt_gradient, b_gradient):
        """Stack the K x d and K parts into float64 ``coef``'s layout."""
        gradient = np.empty((self.n_features + int(self.fit_intercept), self.n_classes))
        gradient[: self.n_features] = Wt_gradient.T
        if self.fit_intercept:
            gradient[self.n_features] = b_gradient
        return gradient

    # -- the softmax of a block ---------------------------------------------

    def _softmax(self, Z, rows):
        """Turn the scores ``Z`` into ``exp(Z - max)`` in place.

        Returns the normalisers ``sum_k exp(Z_k - max)`` and the weighted sum
        of the block's log-losses ``log sum_k exp(Z_k - max) - (Z_y - max)``,
        in float64.
        """
        m = Z.shape[1]
        Z -= np.max(Z, axis=0, out=self._data.column[:m])
        # The shifted true-class scores, read before exp overwrites them.
        y_block = self.y[rows]
        z_true = Z[y_block, self._columns[:m]]
        np.exp(Z, out=Z)
        sums = np.sum(Z, axis=0, out=self._column_sums[:m])
        log_loss = np.log(sums) - z_true
        data_term = float(np.dot(self.weights64[rows], log_loss))
        return sums, data_term

    def _residual(self, P_unnormalised, sums, rows):
        """``s / S * (P - Y)`` in place of ``exp(Z - max)``, from its normalisers."""
        weights = self._data.weights[rows]
        scale = np.divide(weights, sums, out=self._data.column[: sums.size])
        P_unnormalised *= scale
        P_unnormalised[self.y[rows], self._columns[: sums.size]] -= weights
        return P_unnormalised

    # -- evaluations --------------------------------------------------------

    def value(self, coef):
        """The data term ``(1/S) sum_i s_i (-log p_{i, y_i})``."""
        data = self._data
        Wt, b = data.transposed(coef)
        data_term = 0.0
        for rows in self.slices:
            Z = data.scores(Wt, b, rows, data.buffer(rows))
            data_term += self._softmax(Z, rows)[1]
        return data_term

    def value_and_gradient(self, coef):
        """The data term and its gradient (float64, ``coef``'s layout)."""
        return self._value_and_gradient(coef, keep_probabilities=False)

    def _value_and_gradient(self, coef, keep_probabilities):
        data = self._data
        Wt, b = data.transposed(coef)
        Wt_gradient, b_gradient = data.zeros()
        data_term = 0.0
        for index, rows in enumerate(self.slices):
            Z = data.scores(Wt, b, rows, data.buffer(rows))
            sums, block_term = self._softmax(Z, rows)
            data_term += block_term
            if keep_probabilities:
                P = self._probabilities[index, :, : sums.size]
                np.divide(Z, sums, out=P)
            G = self._residual(Z, sums, rows)
            data.accumulate(G, rows, Wt_gradient, b_gradient)
        return data_term, self._gradient_like(Wt_gradient, b_gradient)

    def value_gradient_hessp(self, coef):
        """The data term, its gradient and its Hessian-vector product.

        The probabilities at ``coef`` are kept, O(n K) memory, so that each
        product costs one pass; the returned function is valid until the
        next call.
        """
        if self._probabilities is None:
            self._probabilities = np.empty(
                (len(self.slices), *self._curvature.work.shape),
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
        Wt_product, b_product = curvature.zeros()
        for block, rows in zip(self._probabilities, self.slices, strict=True):
            m = rows.stop - rows.start
            P = block[:, :m]
            R = curvature.scores(Vt, v_b, rows, curvature.buffer(rows))
            p_dot_z = np.einsum("km,km->m", P, R, out=curvature.column[:m])
            R -= p_dot_z
            R *= P
            R *= curvature.weights[rows]
            curvature.accumulate(R, rows, Wt_product, b_product)
        return self._gradient_like(Wt_product, b_product)

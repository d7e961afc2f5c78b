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


class DataPasses:
    """Data term of the objective and its derivatives, on fixed data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64 data, dense or CSR. It is read, never copied or
        modified. Sparse data is taken as one block: slicing rows of a CSR
        matrix copies them.
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

    Notes
    -----
    All methods take ``coef`` of shape ``(n_features + fit_intercept, K)`` in
    any float dtype and return float64 results; the work on ``X``-sized data
    runs in ``X``'s dtype.
    """

    def __init__(self, X, y, sample_weight, n_classes, fit_intercept, n_threads=1):
        n_samples, n_features = X.shape
        self.X = X
        self.dtype = X.dtype
        self.n_features = n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.sparse = sp.issparse(X)
        self._class_groups = [
            slice(group[0], group[-1] + 1)
            for group in np.array_split(np.arange(n_classes), n_threads)
            if group.size
        ]
        rows = (
            n_samples
            if self.sparse
            else _block_rows(n_samples, n_features, X.dtype.itemsize)
        )
        self.slices = [
            slice(start, min(start + rows, n_samples))
            for start in range(0, n_samples, rows)
        ]
        self.y = np.asarray(y, dtype=np.intp)
        # The normalised weights s / S, in X's dtype for the passes and in
        # float64 for the sum that gives the data term.
        if sample_weight is None:
            self.weights64 = np.full(n_samples, 1.0 / n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.weights64 = sample_weight / sample_weight.sum()
        self.weights = self.weights64.astype(self.dtype)

        self._work = np.empty((n_classes, rows), dtype=self.dtype)
        self._column = np.empty(rows, dtype=self.dtype)
        self._column_sums = np.empty(rows, dtype=self.dtype)
        self._columns = np.arange(rows)
        self._ones = np.ones(rows, dtype=self.dtype)
        self._product = np.empty((n_classes, n_features), dtype=self.dtype)
        # The probabilities at the last point of value_gradient_hessp, one
        # K x rows block per block of X; allocated on first use.
        self._probabilities = None
        self._generation = 0

    # -- parameters ---------------------------------------------------------

    def _transposed(self, coef):
        """``W^T`` (K x d, contiguous) and ``b`` in X's dtype."""
        coef = np.asarray(coef)
        Wt = np.ascontiguousarray(coef[: self.n_features].T, dtype=self.dtype)
        b = coef[self.n_features].astype(self.dtype) if self.fit_intercept else None
        return Wt, b

    def _gradient_like(self, Wt_gradient, b_gradient):
        """Stack the K x d and K parts into float64 ``coef``'s layout."""
        gradient = np.empty((self.n_features + int(self.fit_intercept), self.n_classes))
        gradient[: self.n_features] = Wt_gradient.T
        if self.fit_intercept:
            gradient[self.n_features] = b_gradient
        return gradient

    # -- the two products ---------------------------------------------------

    def _block(self, rows):
        # Sparse data is one block; slicing rows of a CSR matrix would copy it.
        return self.X if self.sparse else self.X[rows]

    def _for_class_groups(self, function):
        if len(self._class_groups) == 1:
            function(self._class_groups[0])
            return
        with ThreadPoolExecutor(len(self._class_groups)) as pool:
            # list() re-raises an exception from any of the threads.
            list(pool.map(function, self._class_groups))

    def _scores(self, Wt, b, rows, out):
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

    def _accumulate(self, R, rows, Wt_gradient, b_gradient):
        """Add ``R X_rows`` and ``R 1`` for a K x m residual ``R``."""
        X_block = self._block(rows)
        if self.sparse:

            def add(classes):
                Wt_gradient[classes] += (X_block.T @ R[classes].T).T

            self._for_class_groups(add)
        else:
            np.matmul(R, X_block, out=self._product)
            Wt_gradient += self._product
        if b_gradient is not None:
            b_gradient += R @ self._ones[: R.shape[1]]

    # -- the softmax of a block ---------------------------------------------

    def _softmax(self, Z, rows):
        """Turn the scores ``Z`` into ``exp(Z - max)`` in place.

        Returns the normalisers ``sum_k exp(Z_k - max)`` and the weighted sum
        of the block's log-losses ``log sum_k exp(Z_k - max) - (Z_y - max)``,
        in float64.
        """
        m = Z.shape[1]
        Z -= np.max(Z, axis=0, out=self._column[:m])
        # The shifted true-class scores, read before exp overwrites them.
        y_block = self.y[rows]
        z_true = Z[y_block, self._columns[:m]]
        np.exp(Z, out=Z)
        sums = np.sum(Z, axis=0, out=self._column_sums[:m])
        log_loss = np.log(sums) - z_true
        data_term = float(np.dot(self.weights64[rows], log_loss))
        return sums, data_term

    def _residual(self, P_unnormalised, sums, rows, out):
        """``out = s / S * (P - Y)`` from ``exp(Z - max)`` and its normalisers."""
        weights = self.weights[rows]
        scale = np.divide(weights, sums, out=self._column[: sums.size])
        np.multiply(P_unnormalised, scale, out=out)
        out[self.y[rows], self._columns[: sums.size]] -= weights
        return out

    def _buffer(self, rows):
        return self._work[:, : rows.stop - rows.start]

    def _gradient_parts(self):
        Wt_gradient = np.zeros((self.n_classes, self.n_features), dtype=self.dtype)
        b_gradient = (
            np.zeros(self.n_classes, dtype=self.dtype) if self.fit_intercept else None
        )
        return Wt_gradient, b_gradient

    # -- evaluations --------------------------------------------------------

    def value(self, coef):
        """The data term ``(1/S) sum_i s_i (-log p_{i, y_i})``."""
        Wt, b = self._transposed(coef)
        data_term = 0.0
        for rows in self.slices:
            Z = self._scores(Wt, b, rows, self._buffer(rows))
            data_term += self._softmax(Z, rows)[1]
        return data_term

    def value_and_gradient(self, coef):
        """The data term and its gradient (float64, ``coef``'s layout)."""
        Wt, b = self._transposed(coef)
        Wt_gradient, b_gradient = self._gradient_parts()
        data_term = 0.0
        for rows in self.slices:
            Z = self._scores(Wt, b, rows, self._buffer(rows))
            sums, block_term = self._softmax(Z, rows)
            data_term += block_term
            G = self._residual(Z, sums, rows, out=Z)
            self._accumulate(G, rows, Wt_gradient, b_gradient)
        return data_term, self._gradient_like(Wt_gradient, b_gradient)

    def value_gradient_hessp(self, coef):
        """The data term, its gradient and its Hessian-vector product.

        The probabilities at ``coef`` are kept, O(n K) memory, so that each
        product costs one pass; the returned function is valid until the
        next call.
        """
        if self._probabilities is None:
            self._probabilities = np.empty(
                (len(self.slices), *self._work.shape), dtype=self.dtype
            )
        self._generation += 1
        generation = self._generation
        Wt, b = self._transposed(coef)
        Wt_gradient, b_gradient = self._gradient_parts()
        data_term = 0.0
        for block, rows in zip(self._probabilities, self.slices, strict=True):
            m = rows.stop - rows.start
            P = self._scores(Wt, b, rows, block[:, :m])
            sums, block_term = self._softmax(P, rows)
            data_term += block_term
            G = self._residual(P, sums, rows, out=self._buffer(rows))
            P /= sums
            self._accumulate(G, rows, Wt_gradient, b_gradient)

        def hessp(V):
            if generation != self._generation:
                raise RuntimeError(
                    "this Hessian-vector product belongs to an earlier point; "
                    "the probabilities it needs have been overwritten."
                )
            return self._hessian_product(V)

        return data_term, self._gradient_like(Wt_gradient, b_gradient), hessp

    def _hessian_product(self, V):
        """``H V`` for the data term, from the kept probabilities.

        For each sample, the softmax Jacobian gives
        ``r = s / S * (p * z - p (p . z))`` for the direction's scores ``z``.
        """
        Vt, v_b = self._transposed(V)
        Wt_product, b_product = self._gradient_parts()
        for block, rows in zip(self._probabilities, self.slices, strict=True):
            m = rows.stop - rows.start
            P = block[:, :m]
            R = self._scores(Vt, v_b, rows, self._buffer(rows))
            p_dot_z = np.einsum("km,km->m", P, R, out=self._column[:m])
            R -= p_dot_z
            R *= P
            R *= self.weights[rows]
            self._accumulate(R, rows, Wt_product, b_product)
        return self._gradient_like(Wt_product, b_product)

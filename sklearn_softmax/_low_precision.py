"""The data in a lower precision, for Hessian-vector products on a device.

Newton-CG spends most of a fit in Hessian-vector products, and those only
steer the conjugate-gradient iterations: the objective, the gradient, the
line search and the stopping test stay in the data's precision, so the
optimum does not move when the products are rounded more coarsely. On a
GPU the products in a 16-bit dtype run on the tensor cores, many times
faster than in float32, and read half the bytes.

:class:`LowPrecisionData` holds one copy of ``X`` in the lower dtype and
computes ``X @ V`` and ``X^T @ R`` with it:

- float64 data: float32, which holds the data's range;
- float32 data: bfloat16 where the namespace has it (PyTorch), whose range
  is float32's; else float16 (CuPy), whose range ends at 65504, so the
  copy is scaled column by column to at most one in magnitude, each
  product's operand to at most one, and ``X^T @ R`` is summed over blocks
  of at most :data:`FLOAT16_BLOCK` rows, so that no partial sum can
  overflow.

Each product returns its result in the data's dtype.
"""

import math

from ._vectors import namespace

# Rows per block of X^T @ R in float16, and the most features X @ V takes
# in it: with every entry of both operands at most one in magnitude, the
# sums are at most this, under float16's largest value (65504).
FLOAT16_BLOCK = 32_768


def lower_dtype(xp, dtype, n_features):
    """The dtype of the products for data of ``dtype`` with ``n_features``
    columns; None where the namespace has no lower floating dtype to offer
    (or only float16, and the rows are too long for its range)."""
    if dtype == xp.float64:
        return xp.float32
    if getattr(xp, "bfloat16", None) is not None:
        return xp.bfloat16
    if getattr(xp, "float16", None) is not None and n_features <= FLOAT16_BLOCK:
        return xp.float16
    return None


class LowPrecisionData:
    """``X`` in ``dtype``, and the two products of a Hessian-vector
    product with it.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        The data, float32 or float64, of any Array API namespace. It is
        read once, to make the copy.
    dtype : dtype
        The namespace's dtype of the copy, from :func:`lower_dtype`.
    """

    def __init__(self, X, dtype):
        xp = namespace(X)
        self._xp = xp
        self._dtype = X.dtype
        self._lower = dtype
        self._scaled = dtype == getattr(xp, "float16", None)
        if self._scaled:
            # 1 / max |X_j| per column (1 for a column of zeros).
            largest = xp.max(xp.abs(X), axis=0)
            self._column_scale = 1 / xp.where(largest > 0, largest, 1)
            self._X = xp.astype(X * self._column_scale, dtype)
        else:
            self._X = xp.astype(X, dtype)

    @property
    def nbytes(self):
        """Memory taken by the copy, in bytes."""
        return math.prod(self._X.shape) * (2 if self._lower != self._xp.float32 else 4)

    def _operand(self, A):
        """``A`` in the lower dtype, and the factor that undoes its
        scaling (1 unless the copy is float16)."""
        xp = self._xp
        if not self._scaled:
            return xp.astype(A, self._lower), 1.0
        largest = float(xp.max(xp.abs(A)))
        if largest == 0:
            return xp.astype(A, self._lower), 1.0
        return xp.astype(A / largest, self._lower), largest

    def times(self, V):
        """``X @ V`` for ``V`` of shape (n_features, k)."""
        xp = self._xp
        if self._scaled:
            # X = X_copy / s column-wise, so X @ V = X_copy @ (V / s).
            V = V / self._column_scale[:, None]
        V, factor = self._operand(V)
        product = xp.astype(self._X @ V, self._dtype)
        return product if factor == 1.0 else product * factor

    def transpose_times(self, R):
        """``X^T @ R`` for ``R`` of shape (n_samples, k)."""
        xp = self._xp
        if not self._scaled:
            return xp.astype(self._X.T @ xp.astype(R, self._lower), self._dtype)
        total = None
        for start in range(0, R.shape[0], FLOAT16_BLOCK):
            block, factor = self._operand(R[start : start + FLOAT16_BLOCK, :])
            part = xp.astype(
                self._X[start : start + FLOAT16_BLOCK, :].T @ block, self._dtype
            )
            part *= factor
            total = part if total is None else total + part
        # X = X_copy / s column-wise, so X^T @ R = (X_copy^T @ R) / s.
        return total / self._column_scale[:, None]

"""Columns far from zero beside their spread, centred before a fit.

With an intercept, shifting a column by its mean changes no model: the
scores ``X W + 1 b^T`` equal ``(X - 1 mu^T) W + 1 (b + W^T mu)^T``, and the
penalty, on ``W`` alone, is the same. So the fit of ``(W, b)`` on ``X`` is
that of ``(W, b_c)`` on the centred ``X - 1 mu^T``, with ``b = b_c - W^T
mu``.

The two problems differ in how a solver sees them. A column whose mean is
far larger than its spread (a measurement of ``10^8`` plus noise of one, a
year) makes its weight and the intercepts move together: the Hessian is
flat to float64's precision along the direction that moves the weight and
takes the shift back through the intercepts, the Newton steps leave it
alone, and the gradient's entries, whose size the mean scales, all fall
below ``tol`` with the column unfitted (the default fit of three classes on
a column of ``10^8`` plus noise ended at a log-loss of 0.99 against 0.82,
without a warning). Centred, the column is as well conditioned as its
spread. Such columns are rare, and centring copies ``X``: the columns of
dense data whose mean exceeds :data:`MIN_OFFSET` times their range are
centred, on a copy, and data without such a column is left as it is.
"""

import numpy as np

# A column is far from zero where its mean exceeds this many times its range
# (its largest value less its smallest).
MIN_OFFSET = 10.0
# Rows centred at a time, to bound the temporaries in float64.
_BLOCK_ROWS = 4096


def offsets_to_remove(X, fit_intercept):
    """The offsets to remove from the columns of dense ``X`` before a fit
    with an intercept: the mean of each column whose mean exceeds
    :data:`MIN_OFFSET` times its range, zero for the others; None where no
    column's does. A constant column, of range zero, is left as it is: it
    adds nothing the intercepts cannot (see ``_idle_columns``), and without
    a penalty the least-norm minimiser shares its weight with them."""
    if not fit_intercept or X.shape[0] == 0 or X.shape[1] == 0:
        return None
    means = X.mean(axis=0, dtype=np.float64)
    spread = X.max(axis=0).astype(np.float64) - X.min(axis=0)
    far = (spread > 0) & (np.abs(means) > MIN_OFFSET * spread)
    if not far.any():
        return None
    return np.where(far, means, 0.0)


def centred(X, means):
    """A copy of ``X`` less ``means``, in ``X``'s dtype, the differences
    taken in float64."""
    out = np.empty_like(X)
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        np.subtract(X[rows], means, out=out[rows], casting="unsafe")
    return out


def shift_intercepts(coef, means, sign):
    """``coef`` (a weights' row per feature, the intercepts' last) with the
    intercepts moved by ``sign W^T means``: ``+1`` takes a model on ``X`` to
    the one on the centred data, ``-1`` back."""
    coef = np.array(coef, dtype=np.float64)
    n_features = len(means)
    coef[n_features] += sign * (means @ coef[:n_features])
    return coef


def solve_centred(run, means, X, coef0):
    """``run(data, start)``, a solve, on ``X`` less ``means`` from ``coef0``
    moved to the centred data, its solution moved back to ``X``."""
    start = shift_intercepts(coef0, means, +1)
    result = run(centred(X, means), start)
    x = shift_intercepts(result.x.reshape(coef0.shape), means, -1)
    return result._replace(x=x.ravel())

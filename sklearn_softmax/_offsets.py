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
spread. Centring copies ``X``, so only where it is called for: the columns
of dense data whose mean exceeds :data:`MIN_OFFSET` times their standard
deviation are centred, on a copy, and data without such a column is left
as it is.
"""

import numpy as np

# A column is far from zero where its mean exceeds this many times its
# standard deviation.
MIN_OFFSET = 10.0
# The float64 temporaries of a block of rows: about this many bytes.
_BLOCK_BYTES = 2**20


def _blocks(X):
    """Slices of rows of ``X`` whose float64 copies take about
    :data:`_BLOCK_BYTES`."""
    step = max(1, _BLOCK_BYTES // (8 * max(1, X.shape[1])))
    return (slice(start, start + step) for start in range(0, X.shape[0], step))


def offsets_to_remove(X, fit_intercept):
    """The offsets to remove from the columns of dense ``X`` before a fit
    with an intercept: the mean of each column whose mean exceeds
    :data:`MIN_OFFSET` times its standard deviation, zero for the others;
    None where no column's does. A constant column is left as it is: it
    adds nothing the intercepts cannot (see ``_idle_columns``), and without
    a penalty the least-norm minimiser shares its weight with them."""
    n_samples = X.shape[0]
    if not fit_intercept or n_samples == 0 or X.shape[1] == 0:
        return None
    means = X.mean(axis=0, dtype=np.float64)
    # The squares of the deviations, summed a block of rows at a time: the
    # difference of the mean square and the squared mean would cancel
    # where the mean is far above the spread.
    squares = np.zeros(X.shape[1])
    for rows in _blocks(X):
        deviations = X[rows] - means
        squares += np.einsum("ij,ij->j", deviations, deviations)
    spread = np.sqrt(squares / n_samples)
    far = (spread > 0) & (np.abs(means) > MIN_OFFSET * spread)
    if not far.any():
        return None
    return np.where(far, means, 0.0)


def centred(X, means, copy=True):
    """``X`` less ``means``, in ``X``'s dtype, the differences taken in
    float64: a copy, or ``X`` itself where ``copy`` is False (an array the
    fit made)."""
    out = np.empty_like(X) if copy else X
    for rows in _blocks(X):
        np.subtract(X[rows], means, out=out[rows], casting="unsafe")
    return out


def _shift_intercepts(coef, means, sign):
    """``coef`` (a weights' row per feature, the intercepts' last) with the
    intercepts moved by ``sign W^T means``: ``+1`` takes a model on ``X`` to
    the one on the centred data."""
    coef = np.array(coef, dtype=np.float64)
    n_features = len(means)
    coef[n_features] += sign * (means @ coef[:n_features])
    return coef


def centred_weights_gradient(weights_gradient, intercepts_gradient, means):
    """The gradient in the weights of the centred problem, from the
    gradient on ``X`` in the weights (a row per feature) and in the
    intercepts, at the same model. With ``b_c = b + W^T means`` the scores
    are the same, so the derivative in ``W`` at fixed ``b_c`` is ``dL/dW -
    means (dL/db)^T``; the one in ``b_c`` is ``dL/db``."""
    return weights_gradient - means[:, np.newaxis] * intercepts_gradient


def solve_centred(run, means, X, coef0, copy=True):
    """``run(data, start)``, a solve, on ``X`` less ``means`` (see
    :func:`centred`) from ``coef0`` moved to the centred data, its solution
    moved back to ``X``: by what the solve moved the weights and the
    intercepts, so that a start the solve keeps is returned to the last
    bit."""
    start = _shift_intercepts(coef0, means, +1)
    result = run(centred(X, means, copy), start)
    coef = result.x.reshape(coef0.shape)
    n_features = len(means)
    moved = coef - start
    back = np.array(coef0, dtype=np.float64) + moved
    back[n_features] -= means @ moved[:n_features]
    return result._replace(x=back.ravel())

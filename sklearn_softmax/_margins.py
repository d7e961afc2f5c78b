r"""Marginal effects of the features on the probabilities, and their
Jacobian with respect to the parameters.

For design rows ``x~ = (1, x)`` and parameters ``theta`` of shape (r, K),
with ``W`` the rows of the features, the derivative of class ``k``'s
probability with respect to feature ``j`` is

.. math::

    \frac{\partial p_k}{\partial x_j} = p_k A_{jk}, \qquad
    A_{jk} = W_{jk} - \sum_l p_l W_{jl},

and the methods scale it: ``dydx`` is ``p_k A_jk``, ``eydx`` (the
derivative of ``log p_k``) is ``A_jk``, ``dyex`` multiplies ``dydx`` by
``x_j`` and ``eyex`` multiplies ``eydx`` by ``x_j``. With
``partial p_k / partial theta_ac = p_k (delta_kc - p_c) x~_a``, the
derivative of ``A`` is

.. math::

    \frac{\partial A_{jk}}{\partial \theta_{ac}}
    = [a = j'] (\delta_{kc} - p_c) - \tilde x_a p_c A_{jc},

with ``j'`` the row of feature ``j`` in ``theta``; the Jacobian of each
method follows by the product rule. A discrete change replaces the
derivative by the difference of ``p_k`` (or ``log p_k``) between two
values of the feature. Effects are averaged over rows with weights that sum
to one: the data's for the average marginal effect, a single row's
otherwise.

This module knows arrays and the fitted model's parameters only: nothing
about estimators or scikit-learn's API.
"""

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn import get_config

METHODS = ("dydx", "eyex", "dyex", "eydx")
AT = ("overall", "mean", "median", "zero", "all")


def _log_method(method):
    """Whether the method differentiates ``log p`` rather than ``p``."""
    return method.startswith("ey")


def _continuous_block(
    X_design, P, weights, theta, fit_intercept, method, effects, jacobian
):
    """Add a block's weighted derivatives and their Jacobian, in place.

    ``jacobian`` has shape (d, K, K, r): effect (j, k) by parameter (c, a).
    """
    n_rows_block, n_rows = X_design.shape
    n_classes = P.shape[1]
    offset = int(fit_intercept)
    features = np.arange(theta.shape[0] - offset)
    W = theta[offset:]
    A = W[np.newaxis] - (P @ W.T)[:, :, np.newaxis]
    # U holds everything of an effect but A: its weight, x_j for the methods
    # on log x, and p_k for those on p.
    U = np.broadcast_to(weights[:, np.newaxis, np.newaxis], A.shape).copy()
    if method.endswith("ex"):
        U *= X_design[:, offset:, np.newaxis]
    if not _log_method(method):
        U *= P[:, np.newaxis, :]
    E = U * A
    effects += E.sum(axis=0)
    diagonal = np.arange(n_classes)

    # [a = j'] (delta_kc - p_c), times U.
    on_own_row = -np.einsum("ijk,ic->jkc", U, P)
    on_own_row[:, diagonal, diagonal] += U.sum(axis=0)
    jacobian[features, :, :, features + offset] += on_own_row

    # -x~_a p_c A_jc, times U: for each feature j, the products
    # U_ijk p_ic A_ijc of the rows, by (k, c), times the rows x~_i.
    PA = P[:, np.newaxis, :] * A
    for j in features:
        products = U[:, j, :, np.newaxis] * PA[:, j, np.newaxis, :]
        jacobian[j] -= (products.reshape(n_rows_block, -1).T @ X_design).reshape(
            n_classes, n_classes, n_rows
        )

    if not _log_method(method):
        # The derivative of p_k itself: E_jk (delta_kc - p_c) x~_a.
        E_flat = E.reshape(n_rows_block, -1).T
        jacobian[:, diagonal, diagonal, :] += (E_flat @ X_design).reshape(
            features.size, n_classes, n_rows
        )
        P_design = (P[:, :, np.newaxis] * X_design[:, np.newaxis, :]).reshape(
            n_rows_block, -1
        )
        jacobian -= (E_flat @ P_design).reshape(jacobian.shape)


def _level_block(X_design, weights, theta, method):
    """The weighted sum of ``p`` (or ``log p``) over a block's rows, and its
    Jacobian of shape (K, K, r): class k by parameter (c, a)."""
    log_P = log_softmax(X_design @ theta, axis=1)
    P = np.exp(log_P)
    level = weights @ (log_P if _log_method(method) else P)
    weighted = weights[:, np.newaxis] * (np.ones_like(P) if _log_method(method) else P)
    n_classes = P.shape[1]
    P_design = (P[:, :, np.newaxis] * X_design[:, np.newaxis, :]).reshape(len(P), -1)
    jacobian = -(weighted.T @ P_design).reshape(n_classes, n_classes, -1)
    diagonal = np.arange(n_classes)
    jacobian[diagonal, diagonal, :] += weighted.T @ X_design
    return level, jacobian


def marginal_effects_and_jacobian(
    model, X, weights, fixed, method, dummy_features, count_features
):
    """The weighted average of the rows' marginal effects, and its Jacobian.

    Parameters
    ----------
    model : FittedModel
        Gives ``theta``, the intercept and the blocks of rows.
    X : {ndarray, CSR matrix} of shape (m, n_features)
        The rows at which the effects are evaluated.
    weights : ndarray of shape (m,)
        Their weights, summing to one.
    fixed : dict
        Feature index to a value, or an array of ``m`` values, that replaces
        that feature's column.
    method : {'dydx', 'eyex', 'dyex', 'eydx'}
        The scale of the effect.
    dummy_features, count_features : sequence of int
        Features whose effect is the change from 0 to 1, or half the change
        from ``x - 1`` to ``x + 1``.

    Returns
    -------
    effects : ndarray of shape (n_features, K)
    jacobian : ndarray of shape (K n_features, K r)
        Rows class-major (``effects.ravel(order='F')``), columns in the
        class-major order of ``theta.ravel(order='F')``.
    """
    theta = model.theta
    n_rows, n_classes = theta.shape
    n_features = n_rows - int(model.fit_intercept)
    offset = int(model.fit_intercept)
    effects = np.zeros((n_features, n_classes))
    jacobian = np.zeros((n_features, n_classes, n_classes, n_rows))
    discrete = [(j, "dummy") for j in dummy_features] + [
        (j, "count") for j in count_features
    ]
    # A discrete feature's change replaces its derivative once the blocks
    # are summed.
    changes = {j: np.zeros(n_classes) for j, _ in discrete}
    change_jacobians = {
        j: np.zeros((n_classes, n_classes, n_rows)) for j, _ in discrete
    }
    # A block's arrays per row: P W^T, A, U, E and p A, of n_features x K
    # each, one feature's products, K x K, and p x~, K x r.
    row_floats = 5 * n_features * n_classes + n_classes**2 + n_classes * n_rows
    for rows, X_design in model.blocks(X, row_floats):
        if fixed or discrete:
            # Without an intercept a block may be a view of the user's X.
            X_design = X_design.copy()
        for j, value in fixed.items():
            X_design[:, offset + j] = value if np.ndim(value) == 0 else value[rows]
        block_weights = weights[rows]
        P = np.exp(model.log_proba(X_design))
        _continuous_block(
            X_design,
            P,
            block_weights,
            theta,
            model.fit_intercept,
            method,
            effects,
            jacobian,
        )
        for j, kind in discrete:
            column = X_design[:, offset + j].copy()
            if kind == "dummy":
                low, high, scale = np.zeros_like(column), np.ones_like(column), 1.0
            else:
                low, high, scale = column - 1, column + 1, 0.5
            X_design[:, offset + j] = high
            level_high, jacobian_high = _level_block(
                X_design, block_weights, theta, method
            )
            X_design[:, offset + j] = low
            level_low, jacobian_low = _level_block(
                X_design, block_weights, theta, method
            )
            X_design[:, offset + j] = column
            changes[j] += scale * (level_high - level_low)
            change_jacobians[j] += scale * (jacobian_high - jacobian_low)
    for j in changes:
        effects[j] = changes[j]
        jacobian[j] = change_jacobians[j]
    return effects, jacobian.transpose(1, 0, 2, 3).reshape(
        n_classes * n_features, n_classes * n_rows
    )


def marginal_effects_by_row(model, X, fixed, method, dummy_features, count_features):
    """Each row's marginal effects, and their delta-method standard errors.

    Every row is :func:`marginal_effects_and_jacobian` of that row alone
    (weight one), so the effects and their Jacobians are those of
    ``at='mean'`` at each row. The Jacobians of a chunk of rows, of shape
    (rows, K n_features, K r), are held together only while their variances
    ``diag(J Sigma J^T)`` are taken; chunks are sized so that twice that
    array fits scikit-learn's ``working_memory``. The work grows as
    ``m n_features K^2 r^2`` and one Python call per row; the memory beyond
    the results does not grow with ``m``.

    Parameters
    ----------
    model : FittedModel
        Gives ``theta`` and the covariance of its class-major flattening.
    X : {ndarray, CSR matrix} of shape (m, n_features)
        The rows.
    fixed : dict
        Feature index to a value, or an array of ``m`` values, that replaces
        that feature's column.
    method, dummy_features, count_features
        As for :func:`marginal_effects_and_jacobian`.

    Returns
    -------
    effects, bse : ndarray of shape (m, n_features, K)
    """
    n_samples = X.shape[0]
    n_rows, n_classes = model.theta.shape
    n_features = n_rows - int(model.fit_intercept)
    effects = np.empty((n_samples, n_features, n_classes))
    variances = np.empty((n_samples, n_features * n_classes))
    row_floats = 2 * n_features * n_classes**2 * n_rows
    chunk_rows = max(1, int(get_config()["working_memory"] * 2**20 // (8 * row_floats)))
    one = np.ones(1)
    for start in range(0, n_samples, chunk_rows):
        chunk = range(start, min(start + chunk_rows, n_samples))
        jacobians = np.empty((len(chunk), n_features * n_classes, n_classes * n_rows))
        for position, i in enumerate(chunk):
            row_fixed = {
                j: value if np.ndim(value) == 0 else value[i : i + 1]
                for j, value in fixed.items()
            }
            effects[i], jacobians[position] = marginal_effects_and_jacobian(
                model,
                X[i : i + 1],
                one,
                row_fixed,
                method,
                dummy_features,
                count_features,
            )
        variances[chunk.start : chunk.stop] = np.einsum(
            "iab,iab->ia", jacobians @ model.covariance, jacobians
        )
    # The variances are ordered as each row's effects.ravel(order='F').
    bse = np.sqrt(np.clip(variances, 0, None)).reshape(n_samples, n_classes, n_features)
    return effects, bse.transpose(0, 2, 1)


def weighted_median(values, weights):
    """The median of the values, each repeated as often as its weight says.

    For integer weights this is ``np.median`` of the repeated values: the
    middle value, or the mean of the two middle ones when the total weight
    is even and falls between them; the same for the weights times any
    positive number. The running sums of the weights near the middle are
    taken correctly rounded (``math.fsum``), and one within two units of the
    total's last place of half the total counts as falling on it: weights
    of 0.1, scaled from ones, sum to 0.30000000000000004 at the third of
    six, and their total to 0.6000000000000001. Integer weights, whose sums
    are exact, are told apart down to a half while the total is below
    ``2**50``.
    """
    keep = weights > 0
    order = np.argsort(values[keep], kind="stable")
    sorted_values = values[keep][order]
    sorted_weights = weights[keep][order]
    total = math.fsum(sorted_weights)
    half = total / 2
    tolerance = 2 * np.finfo(np.float64).eps * total
    # The first running sum that may reach half, from NumPy's sums, whose
    # rounding is at most n units of the total's last place; then the
    # correctly rounded sums from there.
    rounding = sorted_values.size * np.finfo(np.float64).eps * total
    cumulative = np.cumsum(sorted_weights)
    middle = int(np.searchsorted(cumulative, half - rounding - tolerance))
    running = math.fsum(sorted_weights[: middle + 1])
    while running < half - tolerance and middle + 1 < sorted_values.size:
        middle += 1
        running = math.fsum((running, sorted_weights[middle]))
    if abs(running - half) <= tolerance and middle + 1 < sorted_values.size:
        return 0.5 * (sorted_values[middle] + sorted_values[middle + 1])
    return sorted_values[middle]


def discrete_features(X, sample_weight):
    """The binary and the count features, over the rows of positive weight.

    Binary features take the values 0 and 1 only, both of them; count
    features take non-negative integer values, more than one of them, and
    are not binary.

    Returns
    -------
    binary, count : ndarray of int
        The indices of the features of each kind.
    """
    X = X[sample_weight > 0]
    if sp.issparse(X):
        minimum = X.min(axis=0).toarray().ravel()
        maximum = X.max(axis=0).toarray().ravel()
        fractional = X.copy()
        fractional.data = (fractional.data % 1 != 0).astype(np.float64)
        integral = np.asarray(fractional.sum(axis=0)).ravel() == 0
    else:
        minimum, maximum = X.min(axis=0), X.max(axis=0)
        integral = np.all(X % 1 == 0, axis=0)
    binary = integral & (minimum == 0) & (maximum == 1)
    count = integral & (minimum >= 0) & (maximum > minimum) & ~binary
    return np.flatnonzero(binary), np.flatnonzero(count)


def _column(X, j):
    column = X[:, j]
    return column.toarray().ravel() if sp.issparse(column) else column


def evaluation_rows(X, sample_weight, at, fixed, rows):
    """Where the effects are evaluated: ``(X, weights, fixed)`` for
    :func:`marginal_effects_and_jacobian`.

    ``rows`` (an array of shape (m, n_features)), when given, replaces the
    data with equal weights; otherwise the data's rows count with their
    sample weights and ``fixed`` sets features to values. 'all' keeps each
    row on its own, with weight one. For ``at`` other than 'overall' and
    'all', the rows are reduced to one: their mean, their median,
    or zero, each feature in ``fixed`` keeping its value (or, for an array
    of values, their mean or median).
    """
    if rows is not None:
        X, sample_weight, fixed = rows, np.ones(len(rows)), {}
    weights = sample_weight / sample_weight.sum()
    if at == "overall":
        return X, weights, fixed
    if at == "all":
        # Each row stands alone: its effects are not weighted.
        return X, np.ones(X.shape[0]), fixed
    n_features = X.shape[1]
    if at == "mean":
        point = np.asarray(X.T @ weights).ravel()
    elif at == "median":
        point = np.array(
            [weighted_median(_column(X, j), sample_weight) for j in range(n_features)]
        )
    else:
        point = np.zeros(n_features)
    for j, value in fixed.items():
        if np.ndim(value) == 0:
            point[j] = value
        elif at == "mean":
            point[j] = weights @ value
        else:
            point[j] = weighted_median(value, sample_weight)
    return point[np.newaxis], np.ones(1), {}

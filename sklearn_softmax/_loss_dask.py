r"""The multinomial objective on data that Dask holds in blocks of rows.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, for
data spread over the workers of a cluster. Each evaluation sends the
parameters, ``(d + 1) K`` numbers, to the blocks; each block computes its
share of the sums where its rows are held; the shares, one vector of
``(d + 1) K + 1`` numbers per block, are added as a tree, ``split_every`` at
a time, and one sum comes back. The rows never move.

Newton-CG's Hessian-vector products need the probabilities at the current
point: :meth:`value_gradient_hessp` leaves them with their blocks, ``n K``
numbers held on the workers until the next point, so that each product
costs the two products with the block that it needs, and no more.
"""

import dask
import numpy as np
import scipy.sparse as sp

from ._loss import Objective, hessian_diagonal_at_zero

# Partial sums added per task of the tree: no worker receives more than this
# many vectors of (d + 1) K numbers per evaluation.
SPLIT_EVERY = 8


def _scores(X, coef, fit_intercept):
    """``Z = X W + 1 b^T`` for a block, in ``X``'s dtype."""
    n_features = X.shape[1]
    Z = np.asarray(X @ coef[:n_features].astype(X.dtype, copy=False))
    if fit_intercept:
        Z += coef[n_features].astype(X.dtype, copy=False)
    return Z


def _weights(weights, n_rows, scale):
    """The normalised weights ``s / S`` of a block, in float64."""
    if weights is None:
        return np.full(n_rows, scale)
    return scale * np.asarray(weights, dtype=np.float64)


def _forward(rows, coef, scale, fit_intercept, label_smoothing):
    """The probabilities of a block and its share of the data term.

    Each sample's loss is ``log sum_k exp(Z_k - max) - (T . (Z - max))``,
    taken before the exponentials: the shift cancels, and nothing
    underflows.
    """
    X, y, weights = rows
    Z = _scores(X, coef, fit_intercept)
    Z -= Z.max(axis=1, keepdims=True)
    target = Z[np.arange(Z.shape[0]), y]
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing * Z.mean(axis=1)
    np.exp(Z, out=Z)
    normalisers = Z.sum(axis=1)
    losses = np.log(normalisers) - target
    Z /= normalisers[:, None]
    value = float(np.dot(_weights(weights, Z.shape[0], scale), losses))
    return Z, value


def _back(X, R, fit_intercept):
    """``[X^T R ; R^T 1]``, flat, in float64."""
    parts = [np.asarray(X.T @ R, dtype=np.float64).ravel()]
    if fit_intercept:
        parts.append(R.sum(axis=0, dtype=np.float64))
    return np.concatenate(parts)


def _gradient_share(rows, forward, scale, fit_intercept, label_smoothing):
    """A block's share ``[value, gradient]`` of the data term, from its
    probabilities: the gradient is ``X^T G`` with ``G = w (P - T)``."""
    X, y, weights = rows
    P, value = forward
    w = _weights(weights, P.shape[0], scale).astype(P.dtype)
    G = P * w[:, None]
    G[np.arange(G.shape[0]), y] -= (1 - label_smoothing) * w
    if label_smoothing:
        G -= (label_smoothing / G.shape[1]) * w[:, None]
    return np.concatenate([[value], _back(X, G, fit_intercept)])


def _value_share(rows, coef, scale, fit_intercept, label_smoothing):
    _, value = _forward(rows, coef, scale, fit_intercept, label_smoothing)
    return np.array([value])


def _value_gradient_share(rows, coef, scale, fit_intercept, label_smoothing):
    forward = _forward(rows, coef, scale, fit_intercept, label_smoothing)
    return _gradient_share(rows, forward, scale, fit_intercept, label_smoothing)


def _hessian_share(rows, forward, V, scale, fit_intercept):
    """A block's share of ``H V``: ``X^T R`` with, row by row, the softmax
    Jacobian ``diag(p) - p p^T`` applied to the direction's scores ``z``,
    ``r = w (p * z - p (p . z))``."""
    X, _, weights = rows
    P, _ = forward
    R = _scores(X, V, fit_intercept)
    R -= np.einsum("ik,ik->i", P, R)[:, None]
    R *= P
    R *= _weights(weights, P.shape[0], scale).astype(P.dtype)[:, None]
    return _back(X, R, fit_intercept)


def _moment_share(rows, scale):
    """A block's share of the features' weighted second moments
    ``sum_i s_i / S * x_ij^2``, in float64."""
    X, _, weights = rows
    w = _weights(weights, X.shape[0], scale)
    if sp.issparse(X):
        return np.asarray(X.multiply(X).T @ w, dtype=np.float64).ravel()
    return np.einsum("i,ij,ij->j", w, X, X)


def _add(*parts):
    return np.sum(parts, axis=0)


def _tree_sum(parts):
    """The sum of delayed vectors, added ``SPLIT_EVERY`` at a time."""
    while len(parts) > 1:
        parts = [
            dask.delayed(_add)(*parts[start : start + SPLIT_EVERY])
            for start in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


def bind_objective(
    row_blocks,
    total_weight,
    n_features,
    n_classes,
    fit_intercept,
    l2_reg_strength,
    rounding,
    label_smoothing=0.0,
):
    r"""The penalised objective on data held in blocks, as functions of a
    flat float64 vector.

    With scores ``Z = X W + 1 b^T``, probabilities ``P = softmax(Z)`` and
    targets ``T = (1 - eps) onehot(y) + eps / K``, the objective is

    .. math::

        \frac{1}{S} \sum_i s_i \Big(\log \sum_k e^{Z_{ik}}
        - \sum_k T_{ik} Z_{ik}\Big) + \frac{\lambda}{2} \lVert W \rVert_F^2,

    a sum over the blocks of rows plus the penalty, which is added here.

    Parameters
    ----------
    row_blocks : list of Delayed
        The blocks of rows, each a tuple ``(X, y, weights)``, ideally
        persisted: ``X`` with all the features, float32 or float64; ``y``
        the class indices of its rows; ``weights`` their sample weights
        ``s``, or None to weigh them equally.
    total_weight : float
        ``S``, the sum of the weights (the number of rows without weights).
    n_features, n_classes : int
        ``d`` and ``K``.
    fit_intercept : bool
        Whether the parameters end with an intercept row.
    l2_reg_strength : float
        Penalty strength ``lambda``.
    rounding : float
        The relative rounding of the values, for the solvers' line searches
        (see :class:`~sklearn_softmax._loss.Objective`).
    label_smoothing : float, default=0.0
        The share ``eps`` of each target spread evenly over the classes.

    Returns
    -------
    objective : Objective
        ``value``, ``value_and_gradient`` and ``value_gradient_hessp`` of a
        flat float64 vector, each one round trip to the blocks, as is each
        Hessian-vector product, and ``hessian_diagonal``, one more.
    """
    shape = (n_features + int(fit_intercept), n_classes)
    scale = 1.0 / float(total_weight)

    def penalty(coef):
        W = coef[:n_features]
        return 0.5 * l2_reg_strength * float(np.vdot(W, W))

    def add_penalty_gradient(gradient, coef):
        gradient = gradient.reshape(shape)
        gradient[:n_features] += l2_reg_strength * coef[:n_features]
        return gradient.ravel()

    def shares(share, blocks, *args):
        # One task holds the parameters (or the direction): each worker
        # fetches them once.
        args = [
            dask.delayed(arg) if isinstance(arg, np.ndarray) else arg for arg in args
        ]
        return [dask.delayed(share)(*block, *args) for block in blocks]

    def total(parts):
        (result,) = dask.compute(_tree_sum(parts))
        return result

    def value(x):
        coef = x.reshape(shape)
        parts = shares(
            _value_share, zip(row_blocks), coef, scale, fit_intercept, label_smoothing
        )
        return float(total(parts)[0]) + penalty(coef)

    def value_and_gradient(x):
        coef = x.reshape(shape)
        result = total(
            shares(
                _value_gradient_share,
                zip(row_blocks),
                coef,
                scale,
                fit_intercept,
                label_smoothing,
            )
        )
        return float(result[0]) + penalty(coef), add_penalty_gradient(result[1:], coef)

    def value_gradient_hessp(x):
        coef = x.reshape(shape)
        # The probabilities stay with their blocks until this point is left.
        forwards = dask.persist(
            *shares(
                _forward, zip(row_blocks), coef, scale, fit_intercept, label_smoothing
            )
        )
        blocks = list(zip(row_blocks, forwards, strict=True))
        result = total(
            shares(_gradient_share, blocks, scale, fit_intercept, label_smoothing)
        )

        def hessp(v):
            V = v.reshape(shape)
            product = total(shares(_hessian_share, blocks, V, scale, fit_intercept))
            return add_penalty_gradient(product, V)

        return (
            float(result[0]) + penalty(coef),
            add_penalty_gradient(result[1:], coef),
            hessp,
        )

    def column_moments():
        return total(shares(_moment_share, zip(row_blocks), scale))

    # As for the data in memory, which this path follows step for step.
    return Objective(
        value,
        value_and_gradient,
        value_gradient_hessp,
        rounding,
        hessian_diagonal_at_zero(column_moments, shape, l2_reg_strength),
    )

"""The multinomial objective on arrays of any Array API namespace.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, written
with the operations of the Array API standard only, so that it runs where
the data lives: on a GPU with PyTorch or CuPy, the data never leaves it. Each
evaluation reads ``X`` twice, once for the scores and once for the gradient
(or the Hessian-vector product), as the NumPy passes do, and returns one
scalar to the host, the objective's value.
"""

import numpy as np

from ._curvature import exact_curvature
from ._jacobian import (
    class_pairs,
    complements,
    hessian_matrix,
    jacobian_product,
    pair_weights,
)
from ._loss import Objective, fix_null_directions
from ._low_precision import LowPrecisionData
from ._vectors import namespace


def bind_objective(
    X,
    labels,
    weights,
    n_classes,
    fit_intercept,
    l2_reg_strength,
    dtype,
    label_smoothing=0.0,
    hessian_dtype=None,
):
    r"""The penalised objective on fixed data, as functions of a flat vector.

    With scores ``Z = X W + 1 b^T`` and targets
    ``T = (1 - eps) onehot(y) + eps / K`` (one-hot labels when the label
    smoothing ``eps`` is 0), the objective is

    .. math::

        \sum_i w_i \Big(\log \sum_k e^{Z_{ik}} - \sum_k T_{ik} Z_{ik}\Big)
        + \frac{\lambda}{2} \lVert W \rVert_F^2,

    with ``w_i = s_i / S``; its gradient is ``X^T G + lambda W`` for ``W`` and
    ``G^T 1`` for ``b``, where ``G = w * (P - T)``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        The data, float32 or float64; scores and residuals are computed in
        its dtype.
    labels : array of shape (n_samples,)
        Class indices in ``[0, n_classes)``, an integer array on ``X``'s
        device.
    weights : array of shape (n_samples,)
        The normalised sample weights ``w``, summing to one, in ``X``'s
        dtype.
    n_classes : int
        Number of classes ``K``.
    fit_intercept : bool
        Whether the parameters end with an intercept row.
    l2_reg_strength : float
        Penalty strength ``lambda``.
    dtype : dtype
        The dtype of the flat parameter vector, its gradient and the sums
        over samples: float64 where the device has it.
    label_smoothing : float, default=0.0
        The share ``eps`` of each target spread evenly over the classes.
    hessian_dtype : dtype, optional
        A lower dtype of the namespace (see
        :func:`~sklearn_softmax._low_precision.lower_dtype`) for the
        products with ``X`` in Hessian-vector products, through a copy of
        ``X`` made once here; the value and the gradient keep ``X``'s
        dtype. None: every product in ``X``'s dtype.

    Returns
    -------
    objective : Objective
        ``value(x)``, ``value_and_gradient(x)`` and
        ``value_gradient_hessp(x)`` on flat vectors of the namespace, in
        ``dtype``, on ``X``'s device. Values are Python floats.
    """
    xp = namespace(X)
    n_features = X.shape[1]
    shape = (n_features + int(fit_intercept), n_classes)
    column_weights = weights[:, None]
    # w * T, the constant part of the residual G = w * P - w * T, the one
    # n x K array held for the whole fit.
    classes = xp.arange(n_classes, dtype=labels.dtype, device=labels.device)
    weighted_targets = column_weights * xp.astype(
        labels[:, None] == classes[None, :], X.dtype
    )
    if label_smoothing:
        weighted_targets *= 1 - label_smoothing
        weighted_targets += column_weights * (label_smoothing / n_classes)

    def times(A):
        return X @ A

    def transpose_times(R):
        return X.T @ R

    # The products of the Hessian-vector products: with X itself, or with
    # its copy in the lower dtype.
    hessian_products = times, transpose_times
    if hessian_dtype is not None:
        lower = LowPrecisionData(X, hessian_dtype)
        hessian_products = lower.times, lower.transpose_times

    def scores(x, times=times):
        coef = xp.reshape(x, shape)
        Z = times(xp.astype(coef[:n_features, :], X.dtype))
        if fit_intercept:
            Z += xp.astype(coef[n_features, :], X.dtype)
        return coef, Z

    def data_term(Z):
        """The data term, and the exponentials of the shifted scores with
        their row sums. ``Z`` is shifted in place: updates in place spare an
        n x K array each, and on a GPU the reads and writes of the n x K
        arrays, not the arithmetic, set the cost of this part."""
        Z -= xp.max(Z, axis=1, keepdims=True)
        exponentials = xp.exp(Z)
        normalisers = xp.sum(exponentials, axis=1, keepdims=True)
        # The weighted log-sum-exp minus the targets' scores, both taken
        # after the shift, which cancels between them.
        value = xp.sum(xp.astype(weights * xp.log(normalisers[:, 0]), dtype))
        value -= xp.astype(xp.sum(weighted_targets * Z), dtype)
        return value, exponentials, normalisers

    def penalty(coef):
        W = coef[:n_features, :]
        return 0.5 * l2_reg_strength * xp.sum(W * W)

    def back(R, coef, scale, transpose_times=transpose_times):
        """``[X^T R + scale * coef_W ; R^T 1]``, flat, in ``dtype``."""
        W_part = xp.astype(transpose_times(R), dtype) + scale * coef[:n_features, :]
        if fit_intercept:
            b_part = xp.astype(xp.sum(R, axis=0), dtype)[None, :]
            W_part = xp.concat([W_part, b_part], axis=0)
        return xp.reshape(W_part, (-1,))

    def value(x):
        coef, Z = scores(x)
        return float(data_term(Z)[0] + penalty(coef))

    def value_and_gradient(x):
        coef, Z = scores(x)
        data_value, exponentials, normalisers = data_term(Z)
        # G = w * P - w * T, formed in place of the exponentials.
        exponentials *= column_weights / normalisers
        exponentials -= weighted_targets
        gradient = back(exponentials, coef, l2_reg_strength)
        return float(data_value + penalty(coef)), gradient

    # The probabilities at the point of the last value_gradient_hessp, for
    # the Hessian of the exact curvature.
    last_probabilities = []

    def value_gradient_hessp(x):
        coef, Z = scores(x)
        data_value, exponentials, normalisers = data_term(Z)
        P = exponentials / normalisers
        last_probabilities[:] = [P]
        gradient = back(column_weights * P - weighted_targets, coef, l2_reg_strength)

        def hessp(v):
            # The softmax Jacobian applied to the scores of the direction,
            # row by row, then weighted.
            V, ZV = scores(v, hessian_products[0])
            R = jacobian_product(P, ZV, xp)
            R *= column_weights
            return back(R, V, l2_reg_strength, hessian_products[1])

        return float(data_value + penalty(coef)), gradient, hessp

    def design_gram(c):
        # The Gram matrix of [X, 1] with the weights c: that of X, bordered
        # by the weighted column sums. A general product: the namespaces
        # offer no symmetric rank-k update (the price of the exact curvature
        # counts it so).
        weighted = X * c[:, None]
        gram = xp.astype(weighted.T @ X, dtype)
        if not fit_intercept:
            return gram
        column = xp.astype(xp.sum(weighted, axis=0), dtype)[:, None]
        corner = xp.reshape(xp.astype(xp.sum(c), dtype), (1, 1))
        return xp.concat(
            [xp.concat([gram, column], axis=1), xp.concat([column.T, corner], axis=1)],
            axis=0,
        )

    def hessian(P):
        # The Hessian's blocks as the NumPy passes form them (see
        # sklearn_softmax._jacobian).
        n_rows = shape[0]
        P_t = P.T
        others = complements(P_t, xp)
        pairs = class_pairs(n_classes)
        grams = []
        # The weights of K pairs at a time, as many numbers as P.
        for start in range(0, len(pairs), n_classes):
            chunk = pair_weights(
                P_t, pairs[start : start + n_classes], xp, weights, others
            )
            grams += [design_gram(chunk[j, ...]) for j in range(chunk.shape[0])]
        matrix = hessian_matrix(xp.stack(grams), n_classes, xp)
        penalty_diagonal = xp.concat(
            [
                xp.full(
                    n_features * n_classes,
                    l2_reg_strength,
                    dtype=dtype,
                    device=X.device,
                ),
                xp.zeros(
                    (n_rows - n_features) * n_classes, dtype=dtype, device=X.device
                ),
            ]
        )
        matrix = (
            matrix
            + xp.eye(n_rows * n_classes, dtype=dtype, device=X.device)
            * penalty_diagonal
        )
        return fix_null_directions(
            matrix, shape, n_features if l2_reg_strength > 0 else 0
        )

    def value_gradient_hessian(x):
        coef, Z = scores(x)
        data_value, exponentials, normalisers = data_term(Z)
        P = exponentials / normalisers
        gradient = back(column_weights * P - weighted_targets, coef, l2_reg_strength)
        return float(data_value + penalty(coef)), gradient, lambda: hessian(P)

    # As for the NumPy passes: 16 epsilons of the dtype the scores are in.
    rounding = 16 * float(
        np.finfo(np.float32 if X.dtype == xp.float32 else np.float64).eps
    )
    return Objective(
        value,
        value_and_gradient,
        value_gradient_hessp,
        rounding,
        value_gradient_hessian=value_gradient_hessian,
        exact_curvature=exact_curvature(
            lambda: hessian(last_probabilities[0]),
            X.shape[0],
            n_features,
            n_classes,
            fit_intercept,
            l2_reg_strength,
            X.dtype,
            general_products=True,
        ),
    )

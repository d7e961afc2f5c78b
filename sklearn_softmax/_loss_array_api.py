"""The multinomial data term on arrays of any Array API namespace.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, its
data term written with the operations of the Array API standard only, so
that it runs where the data lives: on a GPU with PyTorch or CuPy, the data
never leaves it. Each evaluation reads ``X`` twice, once for the scores and
once for the gradient (or the Hessian-vector product), as the NumPy passes
do, and returns one scalar to the host, the objective's value. The penalty
is :func:`~sklearn_softmax._loss.penalised_objective`'s, as for the other
data terms.
"""

from ._jacobian import (
    class_pairs,
    complements,
    hessian_matrix,
    jacobian_product,
    pair_weights,
)
from ._loss import penalised_objective, rounding_of
from ._low_precision import LowPrecisionData
from ._vectors import namespace


class ArrayAPIDataTerm:
    r"""The data term on arrays of an Array API namespace, as
    :func:`~sklearn_softmax._loss.penalised_objective` takes it.

    With scores ``Z = X W + 1 b^T`` and targets
    ``T = (1 - eps) onehot(y) + eps / K`` (one-hot labels when the label
    smoothing ``eps`` is 0), the data term is

    .. math::

        \sum_i w_i \Big(\log \sum_k e^{Z_{ik}} - \sum_k T_{ik} Z_{ik}\Big),

    with ``w_i = s_i / S``; its gradient is ``X^T G`` for ``W`` and
    ``G^T 1`` for ``b``, where ``G = w * (P - T)``.

    Its values are zero-dimensional arrays in ``dtype`` on ``X``'s device,
    which the objective reads back once, with the penalty's; its gradients
    and products arrays of ``coef``'s shape in ``dtype``.

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
    dtype : dtype
        The dtype of the parameters, the gradient and the sums over
        samples: float64 where the device has it.
    label_smoothing : float, default=0.0
        The share ``eps`` of each target spread evenly over the classes.
    hessian_dtype : dtype, optional
        A lower dtype of the namespace (see
        :func:`~sklearn_softmax._low_precision.lower_dtype`) for the
        products with ``X`` in Hessian-vector products, through a copy of
        ``X`` made once here; the value and the gradient keep ``X``'s
        dtype. None: every product in ``X``'s dtype.

    Attributes
    ----------
    dtype : dtype
        ``X``'s dtype.
    """

    sparse = False
    # The namespaces offer no symmetric rank-k update: the Hessian's blocks
    # are general products (the price of the exact curvature counts them so).
    general_products = True

    def __init__(
        self,
        X,
        labels,
        weights,
        n_classes,
        fit_intercept,
        dtype,
        label_smoothing=0.0,
        hessian_dtype=None,
    ):
        xp = namespace(X)
        self._xp = xp
        self._X = X
        self.n_samples, self.n_features = X.shape
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.dtype = X.dtype
        self._sum_dtype = dtype
        self._weights = weights
        self._column_weights = weights[:, None]
        # w * T, the constant part of the residual G = w * P - w * T, the one
        # n x K array held for the whole fit.
        classes = xp.arange(n_classes, dtype=labels.dtype, device=labels.device)
        self._weighted_targets = self._column_weights * xp.astype(
            labels[:, None] == classes[None, :], X.dtype
        )
        if label_smoothing:
            self._weighted_targets *= 1 - label_smoothing
            self._weighted_targets += self._column_weights * (
                label_smoothing / n_classes
            )
        # The products of the Hessian-vector products: with X itself, or
        # with its copy in the lower dtype.
        self._hessian_products = self._times, self._transpose_times
        if hessian_dtype is not None:
            lower = LowPrecisionData(X, hessian_dtype)
            self._hessian_products = lower.times, lower.transpose_times
        # The probabilities at the point of the last value_gradient_hessp,
        # for the Hessian of the exact curvature.
        self._probabilities = None

    def _times(self, A):
        return self._X @ A

    def _transpose_times(self, R):
        return self._X.T @ R

    def _scores(self, coef, times):
        xp, n_features = self._xp, self.n_features
        Z = times(xp.astype(coef[:n_features, :], self._X.dtype))
        if self.fit_intercept:
            Z += xp.astype(coef[n_features, :], self._X.dtype)
        return Z

    def _back(self, R, transpose_times):
        """``[X^T R ; R^T 1]`` in the sums' dtype."""
        xp = self._xp
        gradient = xp.astype(transpose_times(R), self._sum_dtype)
        if self.fit_intercept:
            intercept = xp.astype(xp.sum(R, axis=0), self._sum_dtype)[None, :]
            gradient = xp.concat([gradient, intercept], axis=0)
        return gradient

    def _forward(self, coef):
        """The data term, and the exponentials of the shifted scores with
        their row sums. The scores are shifted in place: updates in place
        spare an n x K array each, and on a GPU the reads and writes of the
        n x K arrays, not the arithmetic, set the cost of this part."""
        xp, dtype = self._xp, self._sum_dtype
        Z = self._scores(coef, self._times)
        Z -= xp.max(Z, axis=1, keepdims=True)
        exponentials = xp.exp(Z)
        normalisers = xp.sum(exponentials, axis=1, keepdims=True)
        # The weighted log-sum-exp minus the targets' scores, both taken
        # after the shift, which cancels between them.
        value = xp.sum(xp.astype(self._weights * xp.log(normalisers[:, 0]), dtype))
        value -= xp.astype(xp.sum(self._weighted_targets * Z), dtype)
        return value, exponentials, normalisers

    def _value_gradient_probabilities(self, coef, keep_probabilities):
        """The data term, its gradient and, if kept, the probabilities
        ``P`` (else None)."""
        value, exponentials, normalisers = self._forward(coef)
        if not keep_probabilities:
            # G = w * P - w * T, formed in place of the exponentials.
            exponentials *= self._column_weights / normalisers
            exponentials -= self._weighted_targets
            return value, self._back(exponentials, self._transpose_times), None
        P = exponentials / normalisers
        G = self._column_weights * P - self._weighted_targets
        return value, self._back(G, self._transpose_times), P

    def value(self, coef):
        return self._forward(coef)[0]

    def value_and_gradient(self, coef):
        return self._value_gradient_probabilities(coef, False)[:2]

    def value_gradient_hessp(self, coef):
        value, gradient, P = self._value_gradient_probabilities(coef, True)
        self._probabilities = P
        times, transpose_times = self._hessian_products

        def hessp(V):
            # The softmax Jacobian applied to the scores of the direction,
            # row by row, then weighted.
            R = jacobian_product(P, self._scores(V, times), self._xp)
            R *= self._column_weights
            return self._back(R, transpose_times)

        return value, gradient, hessp

    def value_gradient_hessian(self, coef):
        value, gradient, P = self._value_gradient_probabilities(coef, True)
        return value, gradient, lambda: self._hessian(P)

    def hessian(self):
        """The data term's Hessian at the point of the last
        :meth:`value_gradient_hessp`."""
        return self._hessian(self._probabilities)

    def _design_gram(self, c):
        # The Gram matrix of [X, 1] with the weights c: that of X, bordered
        # by the weighted column sums. A general product (see
        # general_products).
        xp, X, dtype = self._xp, self._X, self._sum_dtype
        weighted = X * c[:, None]
        gram = xp.astype(weighted.T @ X, dtype)
        if not self.fit_intercept:
            return gram
        column = xp.astype(xp.sum(weighted, axis=0), dtype)[:, None]
        corner = xp.reshape(xp.astype(xp.sum(c), dtype), (1, 1))
        return xp.concat(
            [xp.concat([gram, column], axis=1), xp.concat([column.T, corner], axis=1)],
            axis=0,
        )

    def _hessian(self, P):
        # The Hessian's blocks as the NumPy passes form them (see
        # sklearn_softmax._jacobian).
        xp, n_classes = self._xp, self.n_classes
        P_t = P.T
        others = complements(P_t, xp)
        pairs = class_pairs(n_classes)
        grams = []
        # The weights of K pairs at a time, as many numbers as P.
        for start in range(0, len(pairs), n_classes):
            chunk = pair_weights(
                P_t, pairs[start : start + n_classes], xp, self._weights, others
            )
            grams += [self._design_gram(chunk[j, ...]) for j in range(chunk.shape[0])]
        return hessian_matrix(xp.stack(grams), n_classes, xp)


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
    r"""The penalised objective on fixed data, as functions of a flat vector:
    the :class:`ArrayAPIDataTerm` on the data (whose parameters this
    function takes) plus the penalty
    ``lambda / 2 ||W||_F^2``, ``lambda = l2_reg_strength``, by
    :func:`~sklearn_softmax._loss.penalised_objective`.

    Returns
    -------
    objective : Objective
        ``value(x)``, ``value_and_gradient(x)``, ``value_gradient_hessp(x)``
        and ``value_gradient_hessian(x)`` on flat vectors of the namespace,
        in ``dtype``, on ``X``'s device, and the exact curvature. Values
        are Python floats.
    """
    data_term = ArrayAPIDataTerm(
        X,
        labels,
        weights,
        n_classes,
        fit_intercept,
        dtype,
        label_smoothing,
        hessian_dtype,
    )
    # As for the NumPy passes: the rounding of the dtype the scores are in.
    return penalised_objective(data_term, l2_reg_strength, rounding_of(X.dtype))

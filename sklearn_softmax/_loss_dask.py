r"""The multinomial objective on data that Dask holds in blocks of rows.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, for
data spread over the workers of a cluster, computed by the same passes: each
block of rows gets its own :class:`~sklearn_softmax._passes.DataPasses`,
made once, where the block is held, with the weights normalised by the total
of all the blocks. Each evaluation sends the parameters, ``(d + 1) K``
numbers, to the blocks; each block computes its share of the sums; the
shares, one vector of ``(d + 1) K + 1`` numbers per block, are added as a
tree, ``split_every`` at a time, and one sum comes back. The rows never
move.

Newton-CG's Hessian-vector products need the probabilities at the current
point: :meth:`BlockwiseDataTerm.value_gradient_hessp` leaves them with their
blocks, ``n K`` numbers held on the workers until the next point, so that
each product costs the two products with the block that it needs, and no
more.
"""

import dask
import numpy as np

from ._loss import penalised_objective
from ._passes import DataPasses

# Partial sums added per task of the tree: no worker receives more than this
# many vectors of (d + 1) K numbers per evaluation.
SPLIT_EVERY = 8


def _block_passes(rows, n_classes, fit_intercept, label_smoothing, total_weight):
    X, y, weights = rows
    return DataPasses(
        X,
        y,
        weights,
        n_classes,
        fit_intercept,
        label_smoothing=label_smoothing,
        total_weight=total_weight,
    )


def _flat(value, gradient):
    return np.concatenate([[value], gradient.ravel()])


def _value(passes, coef):
    return np.array([passes.value(coef)])


def _value_and_gradient(passes, coef):
    return _flat(*passes.value_and_gradient(coef))


def _forward(passes, coef):
    return passes.value_gradient_probabilities(coef)


def _gradient_of(forward):
    return _flat(*forward[:2])


def _hessian_product(passes, forward, V):
    return passes.hessian_product(forward[2], V).ravel()


def _value_gradient_hessian(passes, coef):
    value, gradient, hessian = passes.value_gradient_hessian(coef)
    return np.concatenate([[value], gradient.ravel(), hessian.ravel()])


def _moments(passes):
    return passes.column_second_moments()


def _add(*parts):
    return np.sum(parts, axis=0)


def _tree_sum(parts):
    """The sum of delayed vectors, added ``SPLIT_EVERY`` at a time, in a
    fixed order."""
    while len(parts) > 1:
        parts = [
            dask.delayed(_add)(*parts[start : start + SPLIT_EVERY])
            for start in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


class BlockwiseDataTerm:
    """The data term on blocks of rows held by Dask, as
    :func:`~sklearn_softmax._loss.penalised_objective` takes it.

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
    label_smoothing : float, default=0.0
        The share ``eps`` of each target spread evenly over the classes.
    """

    def __init__(
        self,
        row_blocks,
        total_weight,
        n_features,
        n_classes,
        fit_intercept,
        label_smoothing=0.0,
    ):
        self.n_features = n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.shape = (n_features + int(fit_intercept), n_classes)
        # The passes of each block, made once where the block is held.
        self.blocks = dask.persist(
            *[
                dask.delayed(_block_passes)(
                    rows, n_classes, fit_intercept, label_smoothing, total_weight
                )
                for rows in row_blocks
            ]
        )

    @staticmethod
    def _total(function, blocks, *args):
        # One task holds the parameters (or the direction): each worker
        # fetches them once.
        args = [dask.delayed(arg) for arg in args]
        parts = [dask.delayed(function)(*block, *args) for block in blocks]
        (result,) = dask.compute(_tree_sum(parts))
        return result

    def value(self, coef):
        return float(self._total(_value, zip(self.blocks), coef)[0])

    def value_and_gradient(self, coef):
        result = self._total(_value_and_gradient, zip(self.blocks), coef)
        return float(result[0]), result[1:].reshape(self.shape)

    def value_gradient_hessp(self, coef):
        # The probabilities stay with their blocks until this point is left.
        forwards = dask.persist(
            *[dask.delayed(_forward)(passes, coef) for passes in self.blocks]
        )
        result = self._total(_gradient_of, zip(forwards))
        blocks = list(zip(self.blocks, forwards, strict=True))

        def hessp(V):
            return self._total(_hessian_product, blocks, V).reshape(self.shape)

        return float(result[0]), result[1:].reshape(self.shape), hessp

    def value_gradient_hessian(self, coef):
        # Each block's Hessian, (d + 1) K squared numbers, is summed in the
        # tree with its value and gradient: for the small problems exact
        # Newton steps are taken on.
        result = self._total(_value_gradient_hessian, zip(self.blocks), coef)
        size = int(np.prod(self.shape))
        return (
            float(result[0]),
            result[1 : size + 1].reshape(self.shape),
            result[size + 1 :].reshape(size, size),
        )

    def column_second_moments(self):
        return self._total(_moments, zip(self.blocks))


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

    a sum over the blocks of rows (see :class:`BlockwiseDataTerm`, whose
    parameters this function takes) plus the penalty, with its strength
    ``l2_reg_strength`` and the relative ``rounding`` of the values, for the
    solvers' line searches (see :class:`~sklearn_softmax._loss.Objective`).

    Returns
    -------
    objective : Objective
        ``value``, ``value_and_gradient`` and ``value_gradient_hessp`` of a
        flat float64 vector, each one round trip to the blocks, as is each
        Hessian-vector product, and ``hessian_diagonal``, one more.
    """
    data_term = BlockwiseDataTerm(
        row_blocks, total_weight, n_features, n_classes, fit_intercept, label_smoothing
    )
    return penalised_objective(data_term, l2_reg_strength, rounding)

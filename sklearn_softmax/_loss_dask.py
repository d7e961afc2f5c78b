r"""The multinomial objective on data that Dask holds in blocks of rows.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, for
data spread over the workers of a cluster, computed by the same passes: each
block of rows gets its own :class:`~sklearn_softmax._passes.DataPasses`,
with the weights normalised by the total of all the blocks. Each evaluation
sends the parameters, ``(d + 1) K`` numbers, to the blocks; each block
computes its share of the sums; the shares are added in the order of the
blocks, and one sum comes back. The rows never move. The evaluations run on
one of the engines of :mod:`~sklearn_softmax._dask_engines`, which the
scheduler and the workers' memory choose; all of them add the same shares
in the same order, so the results do not depend on the engine, the number
of workers, or where the blocks are.

Blocks that are not persisted (see :func:`bind_objective`) are read again by
each evaluation, and their passes set up again, where they are read.

Newton-CG's Hessian-vector products need the probabilities at the current
point: :meth:`BlockwiseDataTerm.value_gradient_hessp` leaves them with their
blocks, ``n K`` numbers held on the workers, in each block's passes, and
written over by the next point's, so that each product costs the two
products with the block that it needs, and no more, and a new point
allocates nothing.

The workers of a ``dask.distributed`` cluster return freed memory to the
system at once (their nannies set glibc's trim threshold to 64 kiB, which
also has it map every allocation of 128 kiB or more afresh), so each
temporary that large is faulted in again, page by page, each time: the
passes keep their buffers, and the blocks' rows, which arrive from other
workers wherever the message put them, are aligned once when the passes are
set up (see :func:`~sklearn_softmax._passes.aligned`), rather than copied
by each product.
"""

import contextlib

import numpy as np

from ._dask_engines import engine_for
from ._loss import penalised_objective
from ._passes import DataPasses


def _block_passes(
    rows, n_classes, fit_intercept, label_smoothing, total_weight, hessian_dtype
):
    X, y, weights = rows
    return DataPasses(
        X,
        y,
        weights,
        n_classes,
        fit_intercept,
        hessian_dtype=hessian_dtype,
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
    return np.concatenate([[value], gradient.ravel(), hessian().ravel()])


def _moments(passes):
    return passes.column_second_moments()


class BlockwiseDataTerm:
    """The data term on blocks of rows held by Dask, as
    :func:`~sklearn_softmax._loss.penalised_objective` takes it.

    Parameters
    ----------
    row_blocks : list of Delayed
        The blocks of rows, each a tuple ``(X, y, weights)``: ``X`` with all
        the features, float32 or float64; ``y`` the class indices of its
        rows; ``weights`` their sample weights ``s``, or None to weigh them
        equally.
    total_weight : float
        ``S``, the sum of the weights (the number of rows without weights).
    n_features, n_classes : int
        ``d`` and ``K``.
    fit_intercept : bool
        Whether the parameters end with an intercept row.
    label_smoothing : float, default=0.0
        The share ``eps`` of each target spread evenly over the classes.
    persisted : bool, default=True
        Whether the blocks are persisted: their passes are then set up once,
        where each block is held, and kept there. Otherwise each evaluation
        computes the blocks again (reads them from their source) and sets up
        their passes where it does.
    hessian_dtype : dtype or None, default=None
        The dtype of the Hessian-vector products on each block, as
        :class:`~sklearn_softmax._passes.DataPasses` takes it: float32 for
        float64 blocks converts them a block of rows at a time, on the
        worker, with no copy of the block.
    """

    def __init__(
        self,
        row_blocks,
        total_weight,
        n_features,
        n_classes,
        fit_intercept,
        label_smoothing=0.0,
        persisted=True,
        hessian_dtype=None,
    ):
        self.n_features = n_features
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.shape = (n_features + int(fit_intercept), n_classes)
        self._engine = engine_for(row_blocks, persisted)
        self._generation = 0
        self.blocks = self._engine.map(
            _block_passes,
            [self._engine.row_blocks],
            n_classes,
            fit_intercept,
            label_smoothing,
            total_weight,
            hessian_dtype,
            persist=persisted,
            name="passes",
        )
        if persisted:
            # The passes hold their block's rows from here on; without
            # these references, the workers release the blocks' own keys
            # and count the rows once, in the passes, rather than twice
            # against their memory limits.
            self._engine.release_rows()

    def _total(self, function, columns, *args):
        return self._engine.total(function, columns, *args)

    def value(self, coef):
        return float(self._total(_value, [self.blocks], coef)[0])

    def value_and_gradient(self, coef):
        result = self._total(_value_and_gradient, [self.blocks], coef)
        return float(result[0]), result[1:].reshape(self.shape)

    def value_gradient_hessp(self, coef):
        # The probabilities stay with their blocks until this point is left
        # (the actors keep those of the last point only); with futures, they
        # and the gradient take one round trip.
        forwards = self._engine.map(_forward, [self.blocks], coef, name="forward")
        result = self._total(_gradient_of, [forwards])
        columns = [self.blocks, forwards]
        self._generation += 1
        generation = self._generation

        def hessp(V):
            if generation != self._generation:
                raise RuntimeError(
                    "this Hessian-vector product belongs to an earlier point; "
                    "the probabilities it needs have been overwritten."
                )
            return self._total(_hessian_product, columns, V).reshape(self.shape)

        return float(result[0]), result[1:].reshape(self.shape), hessp

    def value_gradient_hessian(self, coef):
        # Each block's Hessian, (d + 1) K squared numbers, is summed in the
        # tree with its value and gradient: for the small problems exact
        # Newton steps are taken on, one round trip where forming it on
        # demand would take two.
        result = self._total(_value_gradient_hessian, [self.blocks], coef)
        size = int(np.prod(self.shape))
        hessian = result[size + 1 :].reshape(size, size)
        return (
            float(result[0]),
            result[1 : size + 1].reshape(self.shape),
            lambda: hessian,
        )

    def column_second_moments(self):
        return self._total(_moments, [self.blocks])

    def close(self):
        """Release what the workers hold for these evaluations, at once
        rather than when the last reference goes, which a reference cycle
        can delay to the next garbage collection."""
        if self.blocks is not None:
            self._engine.close(self.blocks)
            self.blocks = None


@contextlib.contextmanager
def bound_objective(*args, **kwargs):
    """:func:`bind_objective` as a context: what the workers hold for the
    evaluations is released on exit."""
    objective, data_term = _bind(*args, **kwargs)
    try:
        yield objective
    finally:
        data_term.close()


def bind_objective(*args, **kwargs):
    r"""The penalised objective on data held in blocks, as functions of a
    flat float64 vector (see :func:`_bind`, whose parameters it takes).

    Returns
    -------
    objective : Objective
        ``value``, ``value_and_gradient`` and ``value_gradient_hessp`` of a
        flat float64 vector, each one round trip to the blocks, as is each
        Hessian-vector product, and ``hessian_diagonal``, one more.
    """
    return _bind(*args, **kwargs)[0]


def _bind(
    row_blocks,
    total_weight,
    n_features,
    n_classes,
    fit_intercept,
    l2_reg_strength,
    rounding,
    label_smoothing=0.0,
    persisted=True,
    hessian_dtype=None,
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
        The objective of a flat float64 vector.
    data_term : BlockwiseDataTerm
        Its data term, to close when the evaluations are done.
    """
    data_term = BlockwiseDataTerm(
        row_blocks,
        total_weight,
        n_features,
        n_classes,
        fit_intercept,
        label_smoothing,
        persisted,
        hessian_dtype,
    )
    return penalised_objective(data_term, l2_reg_strength, rounding), data_term

r"""The multinomial objective on data that Dask holds in blocks of rows.

The same objective as :class:`~sklearn_softmax._loss.MultinomialLoss`, for
data spread over the workers of a cluster, computed by the same passes: each
block of rows gets its own :class:`~sklearn_softmax._passes.DataPasses`,
with the weights normalised by the total of all the blocks. Each evaluation
sends the parameters, ``(d + 1) K`` numbers, to the blocks; each block
computes its share of the sums; the shares, one vector of
``(d + 1) K + 1`` numbers per block, are added as a tree, ``SPLIT_EVERY``
at a time, in the order of the blocks, and one sum comes back (with
futures, the last ``SPLIT_EVERY`` or fewer partial sums come back and are
added by the caller, in the same order). The rows never move.

Three engines run the evaluations. With a ``dask.distributed`` client as
the scheduler and persisted blocks that take at most half of each worker's
memory, :class:`_Actors` keeps one actor on each worker, which holds the
passes of the blocks that worker holds: an evaluation is one call to each
actor, sent to its worker directly, with no task for the scheduler to place
(a round trip of a few milliseconds, against tens for tasks). Where the
blocks take more of the workers' memory, :class:`_Futures` submits tasks on
the futures of the persisted blocks, each asked of the worker that holds its
block, so that the workers may spill them; with any other scheduler,
:class:`_Graphs` builds a small graph per evaluation. All three add the same
shares in the same order: the results do not depend on the engine, the
number of workers, or where the blocks are.

Blocks that are not persisted (see :func:`bind_objective`) are read again by
each evaluation, and their passes set up again, where they are read.

Newton-CG's Hessian-vector products need the probabilities at the current
point: :meth:`BlockwiseDataTerm.value_gradient_hessp` leaves them with their
blocks, ``n K`` numbers held on the workers until the next point, so that
each product costs the two products with the block that it needs, and no
more.
"""

import contextlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dask
import numpy as np

from ._loss import penalised_objective
from ._passes import DataPasses

# Partial sums added per task of the tree: no worker receives more than this
# many vectors of (d + 1) K numbers per evaluation.
SPLIT_EVERY = 8
# Parameters (or a direction) of at most this many bytes travel inside each
# block's task; larger ones are sent to each worker once.
_MAX_INLINE_BYTES = 2**16
# Actors hold their passes outside the workers' managed memory, which
# cannot spill them: they are used where the persisted blocks take at most
# this share of each worker's memory limit.
_ACTOR_MEMORY_SHARE = 0.5


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
    return np.concatenate([[value], gradient.ravel(), hessian.ravel()])


def _moments(passes):
    return passes.column_second_moments()


def _add(*parts):
    return np.sum(parts, axis=0)


def _groups(parts):
    return [
        parts[start : start + SPLIT_EVERY]
        for start in range(0, len(parts), SPLIT_EVERY)
    ]


def _tree_sum(parts):
    """The sum of the blocks' ``parts``, in the tree of the other engines:
    ``SPLIT_EVERY`` at a time, level by level, in the order of the blocks."""
    while len(parts) > SPLIT_EVERY:
        parts = [_add(*group) for group in _groups(parts)]
    return _add(*parts)


def distributed_client():
    """The ``dask.distributed`` client that ``dask.compute`` would use now,
    or None when the scheduler is another one."""
    if "distributed" not in sys.modules:
        return None
    from distributed import Client

    scheduler = dask.base.get_scheduler()
    client = getattr(scheduler, "__self__", None)
    return client if isinstance(client, Client) else None


class _Graphs:
    """Evaluations as a small dask graph each, for any scheduler, on blocks
    that are Delayed objects, persisted or not."""

    def __init__(self, row_blocks):
        self.row_blocks = row_blocks

    def map(self, function, columns, *args, persist=True, name=None):
        """``function(*blocks, *args)`` for each block, persisted where the
        blocks are, or lazy."""
        parts = [
            dask.delayed(function)(*blocks, *args)
            for blocks in zip(*columns, strict=True)
        ]
        return list(dask.persist(*parts)) if persist else parts

    def release_rows(self):
        self.row_blocks = None

    def close(self, blocks):
        """Nothing to release: the blocks go with the last reference."""

    def total(self, function, columns, *args):
        # One task holds the parameters (or the direction): each worker
        # fetches them once.
        args = [dask.delayed(arg) for arg in args]
        parts = [
            dask.delayed(function)(*blocks, *args)
            for blocks in zip(*columns, strict=True)
        ]
        while len(parts) > 1:
            parts = [dask.delayed(_add)(*group) for group in _groups(parts)]
        (result,) = dask.compute(parts[0])
        return result


class _Futures:
    """Evaluations as tasks submitted to a distributed ``client`` on the
    futures of the persisted blocks, with no dask graph to build, optimise
    and send.

    Each block's task is asked of the worker that held the block when the
    fit began (the scheduler runs it elsewhere only should that worker
    leave). The parameters travel inside each task when they are small,
    and are sent to each worker once otherwise.
    """

    def __init__(self, client, futures, workers):
        self.client = client
        self.row_blocks = futures
        self.workers = workers

    def map(self, function, columns, *args, persist=True, name=None):
        """``function(*blocks, *args)`` for each block, where it is held, as
        futures."""
        return [
            self.client.submit(
                function,
                *blocks,
                *args,
                workers=workers,
                allow_other_workers=True,
                pure=False,
            )
            for *blocks, workers in zip(*columns, self.workers, strict=True)
        ]

    def release_rows(self):
        self.row_blocks = None

    def close(self, blocks):
        """Release the passes on the workers."""
        self.client.cancel(blocks)

    def total(self, function, columns, *args):
        args = [
            self.client.scatter(arg, broadcast=True, hash=False)
            if isinstance(arg, np.ndarray) and arg.nbytes > _MAX_INLINE_BYTES
            else arg
            for arg in args
        ]
        parts = self.map(function, columns, *args)
        while len(parts) > SPLIT_EVERY:
            parts = [
                self.client.submit(_add, *group, pure=False) for group in _groups(parts)
            ]
        # The last sum of the tree, on the client: it receives what a task
        # adding them would, without the hop through one more worker.
        return _add(*self.client.gather(parts))


class _BlockServer:
    """The actor of one worker: it keeps what the evaluations compute on the
    blocks that worker holds, by name and block, and runs each evaluation's
    function on them, in the order of the blocks.

    ``indices`` are the blocks' places among all the blocks, and ``rows``
    their rows, kept as ``'rows'``. The blocks are shared out between
    ``n_threads`` threads, the worker's, each block on one thread, so that
    the results do not depend on their number. ``busy_seconds`` is the time
    spent in the functions so far: the worker's arithmetic, without the
    calls' round trips.
    """

    def __init__(self, indices, n_threads, *rows):
        self.indices = list(indices)
        self.kept = {"rows": dict(zip(self.indices, rows, strict=True))}
        self.busy_seconds = 0.0
        self._pool = (
            ThreadPoolExecutor(min(n_threads, len(self.indices)))
            if n_threads > 1 and len(self.indices) > 1
            else None
        )

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=False)

    def _results(self, function, names, args):
        start = time.perf_counter()
        kept = [self.kept[name] for name in names]

        def result(index):
            return function(*[column[index] for column in kept], *args)

        if self._pool is None:
            results = {index: result(index) for index in self.indices}
        else:
            values = self._pool.map(result, self.indices)
            results = dict(zip(self.indices, values, strict=True))
        self.busy_seconds += time.perf_counter() - start
        return results

    def keep(self, name, function, names, args):
        """Keep ``function(*columns, *args)`` of each block as ``name``,
        in place of what was kept under it."""
        self.kept[name] = self._results(function, names, args)

    def parts(self, function, names, args):
        """``function(*columns, *args)`` of each block, by block."""
        return self._results(function, names, args)

    def drop(self, name):
        self.kept.pop(name, None)

    def busy(self):
        """``busy_seconds``."""
        return self.busy_seconds


class _Actors:
    """Evaluations as calls to one actor per worker (see
    :class:`_BlockServer`), which holds the passes of the blocks that worker
    held when the fit began.

    A call goes from the client to the actor's worker and back, with no
    task for the scheduler to place or track; the actors return each
    block's share, and the client adds them in the order of the blocks, in
    the tree the other engines use. The actors hold their blocks in their
    workers' memory, outside what the workers may spill, until the fit
    ends; a worker lost during the fit ends it with an error.
    """

    def __init__(self, client, futures, workers):
        self.client = client
        threads = client.nthreads()
        by_worker = {}
        for index, (future, held_by) in enumerate(zip(futures, workers, strict=True)):
            by_worker.setdefault(held_by[0], []).append((index, future))
        self.actor_futures = [
            client.submit(
                _BlockServer,
                [index for index, _ in blocks],
                threads.get(worker, 1),
                *[future for _, future in blocks],
                workers=[worker],
                allow_other_workers=False,
                actor=True,
                pure=False,
            )
            for worker, blocks in by_worker.items()
        ]
        self.actors = [future.result() for future in self.actor_futures]
        self.blocks_per_worker = {
            worker: len(blocks) for worker, blocks in by_worker.items()
        }
        self.n_blocks = len(futures)
        # The actors' columns are the names they keep them under.
        self.row_blocks = "rows"

    def _call_all(self, method, *args):
        calls = [getattr(actor, method)(*args) for actor in self.actors]
        return [call.result() for call in calls]

    def map(self, function, columns, *args, persist=True, name=None):
        """Keep ``function(*blocks, *args)`` of each block on its actor, as
        ``name``: a column for later evaluations."""
        self._call_all("keep", name, function, list(columns), args)
        return name

    def total(self, function, columns, *args):
        shares = {}
        for parts in self._call_all("parts", function, list(columns), args):
            shares.update(parts)
        return _tree_sum([shares[index] for index in range(self.n_blocks)])

    def release_rows(self):
        self._call_all("drop", self.row_blocks)

    def close(self, blocks):
        """Release the actors, and with them the passes."""
        self.actors = []
        self.client.cancel(self.actor_futures)
        self.actor_futures = []


def _engine(row_blocks, persisted):
    client = distributed_client() if persisted else None
    if client is None:
        return _Graphs(row_blocks)
    from distributed import futures_of, wait

    futures = [futures_of(block)[0] for block in row_blocks]
    wait(futures)
    who_has = client.who_has(futures)
    workers = [list(who_has.get(future.key, ())) for future in futures]
    futures, workers = _spread(client, futures, workers)
    if _fit_in_memory(client, futures, workers):
        return _Actors(client, futures, workers)
    return _Futures(client, futures, workers)


def _same(rows):
    return rows


def _spread(client, futures, workers):
    """The blocks, with those beyond a worker's even share moved to the
    workers with the fewest, and the workers that hold each.

    Each evaluation waits for the busiest worker, and the blocks stay where
    they are for the whole fit: a persist that left most blocks on one
    worker would make every evaluation as slow as that worker's share.
    Each worker keeps up to ``ceil(n_blocks / n_workers)`` of the blocks it
    holds, in their order; only the others move, once.
    """
    from distributed import wait

    names = list(client.scheduler_info()["workers"])
    quota = -(-len(futures) // max(1, len(names)))
    load = dict.fromkeys(names, 0)
    moving = []
    for index, held_by in enumerate(workers):
        holder = held_by[0] if held_by else None
        if holder in load and load[holder] < quota:
            load[holder] += 1
        else:
            moving.append(index)
    futures, workers = list(futures), [list(held_by) for held_by in workers]
    for index in moving:
        target = min(names, key=load.__getitem__)
        load[target] += 1
        futures[index] = client.submit(
            _same,
            futures[index],
            workers=[target],
            allow_other_workers=False,
            pure=False,
        )
        workers[index] = [target]
    wait(futures)
    return futures, workers


def _fit_in_memory(client, futures, workers):
    """Whether the blocks each worker holds take at most
    :data:`_ACTOR_MEMORY_SHARE` of its memory limit (or it has none)."""
    nbytes = client.nbytes([future.key for future in futures], summary=False)
    held = {}
    for future, held_by in zip(futures, workers, strict=True):
        held[held_by[0]] = held.get(held_by[0], 0) + nbytes.get(future.key, 0)
    limits = client.scheduler_info()["workers"]
    return all(
        not limits.get(worker, {}).get("memory_limit")
        or size <= _ACTOR_MEMORY_SHARE * limits[worker]["memory_limit"]
        for worker, size in held.items()
    )


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
        self._engine = _engine(row_blocks, persisted)
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
        # Newton steps are taken on.
        result = self._total(_value_gradient_hessian, [self.blocks], coef)
        size = int(np.prod(self.shape))
        return (
            float(result[0]),
            result[1 : size + 1].reshape(self.shape),
            result[size + 1 :].reshape(size, size),
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

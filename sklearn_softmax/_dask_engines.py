"""How the evaluations of a fit on Dask blocks run: the engines.

An engine runs a function of each block's passes where the block is held,
keeps the results there (``map``), or adds them up and brings back the sum
(``total``): the shares, one vector of ``(d + 1) K + 1`` numbers per block,
are added as a tree, ``SPLIT_EVERY`` at a time, in the order of the blocks.

With a ``dask.distributed`` client as the scheduler and persisted blocks
that take at most half of each worker's memory, :class:`_Actors` keeps one
actor on each worker, which holds the passes of the blocks that worker
holds: an evaluation is one call to each actor, sent to its worker
directly, with no task for the scheduler to place (a round trip of a few
milliseconds, against tens for tasks). Where the blocks take more of the
workers' memory, :class:`_Futures` submits tasks on the futures of the
persisted blocks, each asked of the worker that holds its block, so that
the workers may spill them; with any other scheduler, :class:`_Graphs`
builds a small graph per evaluation. All three add the same shares in the
same order: the results do not depend on the engine, the number of
workers, or where the blocks are.
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.base
import dask.multiprocessing
import numpy as np

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
    that are Delayed objects, persisted or not.

    Dask's local scheduler of processes brings persisted blocks back to
    the calling process, and would send them to its processes again for
    every evaluation, a copy of the data each time (a fit of 12 iterations
    on 20000 x 30 in four blocks took 32 s, where dask's threads take
    0.3 s): the graphs on such blocks run on the calling process's threads
    instead, which add the same shares in the same order.
    """

    def __init__(self, row_blocks, persisted=False):
        self.row_blocks = row_blocks
        local_processes = dask.base.get_scheduler() is dask.multiprocessing.get
        self.scheduler = "threads" if persisted and local_processes else None

    def map(self, function, columns, *args, persist=True, name=None):
        """``function(*blocks, *args)`` for each block, persisted where the
        blocks are, or lazy."""
        parts = [
            dask.delayed(function)(*blocks, *args)
            for blocks in zip(*columns, strict=True)
        ]
        if not persist:
            return parts
        return list(dask.persist(*parts, scheduler=self.scheduler))

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
        (result,) = dask.compute(parts[0], scheduler=self.scheduler)
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


def engine_for(row_blocks, persisted):
    """The engine for ``row_blocks``: the actors or the tasks on a
    ``dask.distributed`` cluster (for persisted blocks, spread first),
    graphs with any other scheduler or for blocks that are not persisted."""
    client = distributed_client() if persisted else None
    if client is None:
        return _Graphs(row_blocks, persisted)
    from distributed import futures_of, wait

    futures = [futures_of(block)[0] for block in row_blocks]
    wait(futures)
    who_has = client.who_has(futures)
    workers = [list(who_has.get(future.key, ())) for future in futures]
    # Each worker's address, with its memory limit among its details.
    details = client.scheduler_info()["workers"]
    futures, workers = _spread(client, details, futures, workers)
    if _fit_in_memory(client, details, futures, workers):
        return _Actors(client, futures, workers)
    return _Futures(client, futures, workers)


def _same(rows):
    return rows


def _spread(client, details, futures, workers):
    """The blocks, with those beyond a worker's even share moved to the
    workers with the fewest, and the workers that hold each.

    Each evaluation waits for the busiest worker, and the blocks stay where
    they are for the whole fit: a persist that left most blocks on one
    worker would make every evaluation as slow as that worker's share.
    Each worker keeps up to ``ceil(n_blocks / n_workers)`` of the blocks it
    holds, in their order; only the others move, once.
    """
    from distributed import wait

    names = list(details)
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


def _fit_in_memory(client, details, futures, workers):
    """Whether the blocks each worker holds take at most
    :data:`_ACTOR_MEMORY_SHARE` of its memory limit (or it has none)."""
    nbytes = client.nbytes([future.key for future in futures], summary=False)
    held = {}
    for future, held_by in zip(futures, workers, strict=True):
        held[held_by[0]] = held.get(held_by[0], 0) + nbytes.get(future.key, 0)
    return all(
        not details.get(worker, {}).get("memory_limit")
        or size <= _ACTOR_MEMORY_SHARE * details[worker]["memory_limit"]
        for worker, size in held.items()
    )

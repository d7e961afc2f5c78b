"""How a fit on dask collections evaluates its objective: with a distributed
client, calls to an actor on each worker that holds the passes of its
blocks, or, where the blocks take much of the workers' memory, tasks on the
futures of the persisted blocks; with dask's threads, a graph per
evaluation; with the blocks not persisted, a read of each block at each
evaluation (Parquet files among them).

The clusters here run their workers as threads of this process, which keeps
them cheap; ``test_dask.py`` runs worker processes.
"""

import time

import dask
import dask.array as da
import dask.multiprocessing
import dask.threaded
import distributed
import numpy as np
import pytest
from _problems import make_problem
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_softmax import SoftmaxRegression, _dask_engines, _loss_dask
from sklearn_softmax._dask import persist_row_blocks
from sklearn_softmax._dask_engines import distributed_client
from sklearn_softmax._heuristics import choose_dask_lbfgs
from sklearn_softmax._loss_dask import BlockwiseDataTerm, bind_objective

futures_of = distributed.futures_of

# Tight enough that the solvers' own tolerance is far below the comparison.
TOL = 1e-8
# Coefficients at two optima reached to a gradient of TOL agree to about
# TOL over the least curvature; these problems' is above 1e-2.
ATOL = 1e-5


def cluster_client(n_workers, threads=1):
    """A client of a cluster of ``n_workers`` workers of ``threads``
    threads each, in this process."""
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads,
        processes=False,
        dashboard_address=None,
    )
    return cluster, distributed.Client(cluster)


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}-workers")
def client(request):
    cluster, client = cluster_client(request.param)
    with cluster, client:
        yield client


@pytest.fixture(params=["actors", "futures"])
def engine(request, monkeypatch):
    """Either engine of a distributed client: the actors where the blocks
    take little of the workers' memory (as here), or, with no share of it
    allowed to them, tasks on the futures."""
    if request.param == "futures":
        monkeypatch.setattr(_dask_engines, "_ACTOR_MEMORY_SHARE", 0.0)
    return {"actors": _dask_engines._Actors, "futures": _dask_engines._Futures}[
        request.param
    ]


def problem(n_samples=1200, n_features=8, n_classes=4, seed=0):
    return make_problem(n_samples, n_features, n_classes, seed=seed)


def as_dask(*arrays, chunks=150):
    return [da.from_array(array, chunks=chunks) for array in arrays]


def fitted_on_workers(n_workers, params, data, threads=1):
    cluster, client = cluster_client(n_workers, threads)
    with cluster, client:
        assert distributed_client() is client
        return SoftmaxRegression(**params).fit(*as_dask(*data))


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs", "newton-cholesky"])
def test_fit_on_futures_equals_in_memory_fit(client, solver):
    X, y, sample_weight = problem()
    params = {"solver": solver, "tol": TOL, "class_weight": "balanced"}
    reference = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    model = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    assert model.converged_
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)


def test_inputs_persisted_by_the_user_fit_as_lazy_ones(client):
    """Arrays the user persisted before the fit are blocks already in the
    workers' memory; the fit takes them as it takes lazy ones."""
    X, y, sample_weight = problem()
    params = {"solver": "newton-cg", "tol": TOL}
    lazy = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    persisted = [array.persist() for array in as_dask(X, y, sample_weight)]
    model = SoftmaxRegression(**params).fit(*persisted)
    assert_array_equal(model.coef_, lazy.coef_)
    assert_array_equal(model.intercept_, lazy.intercept_)


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
def test_fit_is_bitwise_the_same_on_any_number_of_workers(solver, engine):
    X, y, sample_weight = problem()
    params = {"solver": solver, "tol": TOL, "label_smoothing": 0.1}
    models = [
        fitted_on_workers(n_workers, params, (X, y, sample_weight), threads)
        for n_workers, threads in [(1, 1), (2, 1), (4, 1), (1, 3)]
    ]
    # The same shares are added in the same order whatever worker computed
    # them; dask's threads run the same tasks without a cluster.
    with dask.config.set(scheduler="threads"):
        assert distributed_client() is None
        models.append(SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight)))
    for model in models[1:]:
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)
        assert model.n_iter_[0] == models[0].n_iter_[0]


def test_evaluations_of_each_engine_equal_those_of_graphs(client, engine):
    X, y, sample_weight = problem(n_samples=700)
    data = as_dask(X, y, sample_weight, chunks=60)
    args = (float(sample_weight.sum()), X.shape[1], 4, True, 0.2)
    data_term = BlockwiseDataTerm(persist_row_blocks(*data), *args[:4], 0.2)
    assert type(data_term._engine) is engine
    del data_term
    on_futures = bind_objective(persist_row_blocks(*data), *args, rounding=0.0)
    with dask.config.set(scheduler="threads"):
        on_graphs = bind_objective(persist_row_blocks(*data), *args, rounding=0.0)
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal((2, (X.shape[1] + 1) * 4))
    value, gradient, hessp = on_futures.value_gradient_hessp(x)
    with dask.config.set(scheduler="threads"):
        expected_value, expected_gradient, expected_hessp = (
            on_graphs.value_gradient_hessp(x)
        )
        expected_product = expected_hessp(v)
        expected_diagonal = on_graphs.hessian_diagonal()
    assert value == expected_value
    assert_array_equal(gradient, expected_gradient)
    assert_array_equal(hessp(v), expected_product)
    assert_array_equal(on_futures.hessian_diagonal(), expected_diagonal)


def test_evaluations_leave_the_blocks_on_their_workers():
    """Each evaluation sends the parameters and the partial sums, never a
    block: what the workers send over many evaluations, to each other and
    to this process, is less than one block's bytes."""
    n_features, block_rows, n_blocks = 40, 2000, 9
    block_bytes = block_rows * n_features * 8
    X, y, _ = problem(n_blocks * block_rows, n_features)
    cluster, client = cluster_client(2)
    with cluster, client:
        blocks = persist_row_blocks(*as_dask(X, y, chunks=block_rows), None)
        objective = bind_objective(blocks, len(y), n_features, 4, True, 0.1, 0.0)

        def sent():
            counts = client.run(
                lambda dask_worker: dask_worker.transfer_outgoing_bytes_total
            )
            return sum(counts.values())

        before = sent()
        x = np.zeros((n_features + 1) * 4)
        for _ in range(20):
            _, gradient = objective.value_and_gradient(x)
            x -= gradient
        _, _, hessp = objective.value_gradient_hessp(x)
        for _ in range(10):
            hessp(x)
        assert sent() - before < block_bytes


def test_actors_only_where_the_blocks_leave_room_to_spare(monkeypatch):
    """The actors hold their passes where the workers cannot spill them:
    they are used where each worker's blocks take at most
    ``_ACTOR_MEMORY_SHARE`` of its memory limit."""
    X, y, _ = problem(n_samples=800)
    cluster, client = cluster_client(2)
    with cluster, client:
        data = as_dask(X, y, chunks=200)
        block_bytes = 200 * (X.shape[1] * 8 + 8)
        limit = min(
            worker["memory_limit"]
            for worker in client.scheduler_info()["workers"].values()
        )
        args = (len(y), X.shape[1], 4, True)
        # Some worker holds at least two of the four blocks: more than room
        # for one and a half.
        share = 1.5 * block_bytes / limit
        monkeypatch.setattr(_dask_engines, "_ACTOR_MEMORY_SHARE", share)
        engine = BlockwiseDataTerm(persist_row_blocks(*data, None), *args)._engine
        assert type(engine) is _dask_engines._Futures
        # Room for twice the four blocks.
        share = 8 * block_bytes / limit
        monkeypatch.setattr(_dask_engines, "_ACTOR_MEMORY_SHARE", share)
        engine = BlockwiseDataTerm(persist_row_blocks(*data, None), *args)._engine
        assert type(engine) is _dask_engines._Actors
        assert len(engine.actors) <= 2


def test_hessian_products_in_float32_on_the_blocks(client):
    """With float32 Hessian products the workers convert their blocks:
    the products agree with float64's to float32's rounding, and the fit
    with precision='mixed' reaches the in-memory optimum."""
    X, y, sample_weight = problem(n_samples=700)
    data = as_dask(X, y, sample_weight, chunks=100)
    args = (float(sample_weight.sum()), X.shape[1], 4, True, 0.2)
    mixed = bind_objective(
        persist_row_blocks(*data), *args, rounding=0.0, hessian_dtype=np.float32
    )
    full = bind_objective(persist_row_blocks(*data), *args, rounding=0.0)
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal((2, (X.shape[1] + 1) * 4))
    product_mixed = mixed.value_gradient_hessp(x)[2](v)
    product_full = full.value_gradient_hessp(x)[2](v)
    scale = np.abs(product_full).max()
    assert_allclose(product_mixed, product_full, rtol=0, atol=1e-5 * scale)
    assert not np.array_equal(product_mixed, product_full)

    params = dict(solver="newton-cg", precision="mixed", tol=TOL)
    on_dask = SoftmaxRegression(**params).fit(*data[:2], sample_weight=data[2])
    in_memory = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    assert_allclose(on_dask.coef_, in_memory.coef_, rtol=0, atol=ATOL)


def test_passes_take_over_the_persisted_blocks():
    """Once the passes are set up, the workers keep each block's rows in its
    passes alone: the blocks' own keys are released, so that the rows count
    once against the workers' memory limits, not twice."""
    X, y, _ = problem(n_samples=800)
    cluster, client = cluster_client(2)
    with cluster, client:
        blocks = persist_row_blocks(*as_dask(X, y, chunks=200), None)
        futures = [future for block in blocks for future in futures_of(block)]
        distributed.wait(futures)
        keys = {future.key for future in futures}
        del futures

        def held():
            return set().union(*client.has_what().values())

        assert keys <= held()
        objective = bind_objective(blocks, len(y), X.shape[1], 4, True, 0.1, 0.0)
        del blocks
        value = objective.value(np.zeros((X.shape[1] + 1) * 4))
        assert_allclose(value, np.log(4))
        deadline = time.monotonic() + 10
        while keys & held() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not keys & held()
        # The passes still evaluate, on the rows they hold.
        assert objective.value(np.zeros((X.shape[1] + 1) * 4)) == value


# The rows of each block read, in order; a module's global, which the
# workers of a cluster in this process share (a closure would be copied).
READS = []


def read(block):
    READS.append(block.shape[0])
    return block


@pytest.mark.parametrize("scheduler", ["threads", "cluster"])
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_without_persisting_each_evaluation_reads_the_blocks(scheduler, solver):
    X, y, sample_weight = problem(n_samples=600)
    READS.clear()
    X_dask = da.from_array(X, chunks=100).map_blocks(read, dtype=X.dtype)
    y_dask, weights = as_dask(y, sample_weight, chunks=100)
    params = {"solver": solver, "tol": TOL, "class_weight": "balanced"}
    reference = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    model = SoftmaxRegression(**params)
    with dask.config.set({"sklearn_softmax.persist": False}):
        if scheduler == "cluster":
            cluster, client = cluster_client(2)
            with cluster, client:
                model.fit(X_dask, y_dask, sample_weight=weights)
        else:
            with dask.config.set(scheduler="threads"):
                model.fit(X_dask, y_dask, sample_weight=weights)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)
    # Every block is read by the checks and by each evaluation, at least one
    # per iteration.
    # (Dask may call the function once more on an empty stand-in.)
    n_blocks = len(X_dask.chunks[0])
    assert READS.count(100) >= n_blocks * (1 + model.n_iter_[0])


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_parquet_files_fitted_without_persisting(tmp_path, solver):
    pytest.importorskip("pyarrow")
    import dask.dataframe as dd
    import pandas as pd

    X, y, _ = problem(n_samples=900, n_features=5, n_classes=3)
    columns = [f"x{j}" for j in range(X.shape[1])]
    for part, rows in enumerate(np.array_split(np.arange(len(y)), 4)):
        frame = pd.DataFrame(X[rows], columns=columns)
        frame["label"] = y[rows]
        frame.to_parquet(tmp_path / f"part-{part}.parquet")
    data = dd.read_parquet(tmp_path)
    params = {"solver": solver, "tol": TOL}
    reference = SoftmaxRegression(**params).fit(pd.DataFrame(X, columns=columns), y)
    with dask.config.set({"sklearn_softmax.persist": False}):
        model = SoftmaxRegression(**params).fit(
            data.drop(columns="label"), data["label"]
        )
    assert_array_equal(model.feature_names_in_, columns)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)


def test_persist_setting_must_be_a_boolean():
    X, y, _ = problem(n_samples=100)
    model = SoftmaxRegression()
    with (
        dask.config.set({"sklearn_softmax.persist": "no"}),
        pytest.raises(ValueError, match=r"'sklearn_softmax.persist' must be True"),
    ):
        model.fit(*as_dask(X, y))
    assert not hasattr(model, "coef_")


def test_auto_takes_lbfgs_on_dask_when_round_trips_dominate():
    # 31 x 4 parameters: too many for exact Newton steps; small blocks.
    X, y, _ = problem(n_samples=600, n_features=30)
    model = SoftmaxRegression(tol=TOL).fit(*as_dask(X, y))
    assert model.solver_ == "lbfgs"
    reference = SoftmaxRegression(solver="lbfgs", tol=TOL).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    # In memory, 'auto' keeps Newton-CG.
    assert SoftmaxRegression(tol=TOL).fit(X, y).solver_ == "newton-cg"


def test_auto_rule_reads_the_work_of_a_block():
    # A block of 10^6 rows of 100 features and 10 classes is 10^9
    # multiply-adds a product: seconds of a core, far above a round trip.
    assert not choose_dask_lbfgs(1_000_000, 100, 10)
    assert choose_dask_lbfgs(10_000, 100, 10)


def test_a_hessian_product_of_an_earlier_point_is_refused(client, engine):
    """Products are valid until the next point's, as in memory: the
    actors keep the probabilities of the last point only."""
    X, y, _ = problem(n_samples=300)
    blocks = persist_row_blocks(*as_dask(X, y, chunks=100), None)
    objective = bind_objective(blocks, len(y), X.shape[1], 4, True, 0.1, 0.0)
    x = np.zeros((X.shape[1] + 1) * 4)
    _, _, hessp = objective.value_gradient_hessp(x)
    hessp(x + 1.0)
    objective.value_gradient_hessp(x + 1.0)
    with pytest.raises(RuntimeError, match="earlier point"):
        hessp(x + 1.0)


def test_a_fit_leaves_nothing_on_the_workers(client, engine):
    """The actors, or the passes' futures, are released as the fit ends:
    the workers hold the user's persisted blocks alone."""
    X, y, _ = problem(n_samples=400)
    data = [array.persist() for array in as_dask(X, y, chunks=100)]
    distributed.wait(data)

    def held():
        return set().union(*client.has_what().values())

    def actors():
        return sum(
            client.run(lambda dask_worker: len(dask_worker.state.actors)).values()
        )

    before = held()
    SoftmaxRegression(solver="newton-cg", tol=TOL).fit(*data)
    deadline = time.monotonic() + 10
    while (held() != before or actors()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held() == before
    assert actors() == 0


def test_blocks_held_by_one_worker_are_spread_over_all(engine):
    """Blocks that a persist left on one worker are spread evenly before
    the evaluations, each a worker's work; the values do not change."""
    X, y, _ = problem(n_samples=900)
    cluster, client = cluster_client(3)
    with cluster, client:
        first = next(iter(client.scheduler_info()["workers"]))
        data = as_dask(X, y, chunks=100)
        with dask.annotate(workers=[first], allow_other_workers=False):
            blocks = persist_row_blocks(*data, None)
        distributed.wait([futures_of(block)[0] for block in blocks])
        held = client.who_has([futures_of(block)[0] for block in blocks])
        assert {worker for workers in held.values() for worker in workers} == {first}
        data_term = BlockwiseDataTerm(blocks, len(y), X.shape[1], 4, True)
        if engine is _dask_engines._Actors:
            counts = sorted(data_term._engine.blocks_per_worker.values())
        else:
            workers = [held_by[0] for held_by in data_term._engine.workers]
            counts = sorted(workers.count(worker) for worker in set(workers))
        assert counts == [3, 3, 3]
        coef = np.random.default_rng(0).standard_normal((X.shape[1] + 1, 4))
        with dask.config.set(scheduler="threads"):
            on_graphs = BlockwiseDataTerm(
                persist_row_blocks(*data, None), len(y), X.shape[1], 4, True
            )
            expected = on_graphs.value_and_gradient(coef)
        value, gradient = data_term.value_and_gradient(coef)
        assert value == expected[0]
        assert_array_equal(gradient, expected[1])


def test_an_actor_shares_its_blocks_between_the_workers_threads():
    """Each block's share is its own, on whichever thread of the worker:
    the same bits on one thread as on three."""
    X, y, sample_weight = problem(n_samples=500)
    rows = [
        (X[start : start + 100], y[start : start + 100], sample_weight[start:][:100])
        for start in range(0, 500, 100)
    ]
    setup = (4, True, 0.1, float(sample_weight.sum()), None)
    coef = np.random.default_rng(3).standard_normal((X.shape[1] + 1, 4))
    shares = []
    for n_threads in (1, 3):
        server = _dask_engines._BlockServer(range(5), n_threads, *rows)
        assert (server._pool is None) == (n_threads == 1)
        server.keep("passes", _loss_dask._block_passes, ["rows"], setup)
        shares.append(server.parts(_loss_dask._value_and_gradient, ["passes"], (coef,)))
    assert list(shares[1]) == list(range(5))
    for index in range(5):
        assert_array_equal(shares[1][index], shares[0][index])


def test_persisted_blocks_are_evaluated_here_under_local_processes(monkeypatch):
    """Dask's local scheduler of processes brings persisted blocks back to
    the calling process: the evaluations run on its threads, rather than
    send the blocks to the processes each time, and add the same shares in
    the same order."""
    X, y, sample_weight = problem()
    params = {"solver": "lbfgs", "tol": TOL}
    with dask.config.set(scheduler="threads"):
        expected = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    calls = []

    def local_processes(graph, keys, **kwargs):
        # Stands for dask.multiprocessing.get, on threads, counting its calls.
        calls.append(keys)
        return dask.threaded.get(graph, keys, **kwargs)

    monkeypatch.setattr(dask.multiprocessing, "get", local_processes)
    with dask.config.set(scheduler=local_processes):
        model = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    assert_array_equal(model.coef_, expected.coef_)
    assert_array_equal(model.intercept_, expected.intercept_)
    # The data's preparation ran on the scheduler, and no evaluation of the
    # fit's iterations (the sums of the blocks' shares, _add).
    assert model.n_iter_[0] > 5
    assert calls
    assert not any("_add" in str(keys) for keys in calls)

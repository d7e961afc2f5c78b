"""Fits and predictions on dask collections, against LogisticRegression and
the in-memory fit.

The model fitted on a dask collection is compared with LogisticRegression
fitted to the same data, and with the one fitted on the same data in memory;
the blockwise objective is compared with the in-memory one and with finite
differences. The tests marked for the cluster run on a
``LocalCluster`` of two worker processes; the others on dask's local
threads, which run the same code without the cost of a cluster.
"""

import subprocess
import sys
import warnings
from copy import deepcopy
from types import SimpleNamespace

import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _problems import central_difference, make_problem
from _references import coefficient_tolerance, logistic_regression
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV, _base
from sklearn_softmax._dask import persist_row_blocks
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._loss_dask import bind_objective

# Tight enough that the solvers' own tolerance is far below the comparison.
TOL = 1e-8
CHUNKS = 70


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of two worker processes, one thread each."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    """A client of the cluster, the default scheduler for one test only."""
    with distributed.Client(cluster) as client:
        yield client


def problem(n_samples=300, n_features=6, n_classes=4, dtype=np.float64, seed=0):
    X, y, sample_weight = make_problem(
        n_samples, n_features, n_classes, dtype=dtype, seed=seed
    )
    return X, y, sample_weight


def as_dask(*arrays, chunks=CHUNKS):
    return [da.from_array(array, chunks=chunks) for array in arrays]


def assert_same_model(model, reference, atol=1e-6):
    assert_array_equal(model.classes_, reference.classes_)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=atol)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=atol)


SETTINGS = [
    pytest.param({}, id="default"),
    pytest.param({"fit_intercept": False}, id="no-intercept"),
    pytest.param({"class_weight": "balanced"}, id="balanced"),
    pytest.param({"class_weight": {0: 2.0, 3: 0.5}}, id="class-weight-dict"),
    pytest.param({"label_smoothing": 0.1}, id="label-smoothing"),
    pytest.param({"C": 0.05}, id="strong-penalty"),
]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs", "gd"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fit_equals_in_memory_fit(solver, settings, weighted):
    X, y, sample_weight = problem()
    sample_weight = sample_weight if weighted else None
    params = {"solver": solver, "tol": TOL, "max_iter": 10_000, **settings}
    reference = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    X_dask, y_dask = as_dask(X, y)
    weights = None if sample_weight is None else da.from_array(sample_weight, 70)
    model = SoftmaxRegression(**params).fit(X_dask, y_dask, sample_weight=weights)
    assert_same_model(model, reference)
    assert model.solver_ == solver
    assert model.converged_
    # The solver runs on the client: the same NumPy curve as in memory.
    assert isinstance(model.grad_norm_curve_, np.ndarray)
    assert model.grad_norm_curve_.shape == model.loss_curve_.shape
    assert model.grad_norm_curve_[-1] == model.grad_norm_


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="weighted"),
        pytest.param({"class_weight": "balanced"}, id="balanced"),
        pytest.param({"class_weight": {0: 2.0, 3: 0.5}}, id="class-weight-dict"),
        pytest.param({"fit_intercept": False}, id="no-intercept"),
        pytest.param(
            {"fit_intercept": False, "class_weight": "balanced"},
            id="no-intercept-balanced",
        ),
    ],
)
@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs", "gd"])
def test_fit_equals_logistic_regression(solver, settings):
    """With sample weights, and class weights on top of them: the blockwise
    fit is LogisticRegression's, given the weights the class weights stand
    for."""
    X, y, sample_weight = problem()
    reference, weights = logistic_regression(
        X,
        y,
        sample_weight,
        settings.get("class_weight"),
        fit_intercept=settings.get("fit_intercept", True),
    )
    params = {"solver": solver, "tol": TOL, "max_iter": 10_000, **settings}
    model = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    assert model.converged_
    # The least curvature of this problem, away from the intercepts' shift,
    # is the penalty's 1 / (C S) (measured when the test was written).
    n_params = (X.shape[1] + 1) * 4
    atol = coefficient_tolerance(n_params, model.grad_norm_, 1 / weights.sum())
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=atol)
    # The intercepts are centred; LogisticRegression's only up to its tol.
    expected_intercept = reference.intercept_ - np.mean(reference.intercept_)
    assert_allclose(model.intercept_, expected_intercept, rtol=0, atol=atol)
    proba = model.predict_proba(da.from_array(X, chunks=CHUNKS)).compute()
    assert_allclose(proba, reference.predict_proba(X), rtol=0, atol=atol)


@pytest.mark.parametrize(
    "penalty",
    [{"l1_ratio": 1.0}, {"l1_ratio": 0.5}, {"l1_ratio": 0.5, "l1_groups": "features"}],
    ids=["l1", "elasticnet", "group"],
)
def test_non_smooth_penalties_equal_in_memory_fit(penalty):
    X, y, sample_weight = problem()
    params = {**penalty, "C": 0.2, "tol": TOL}
    reference = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    model = SoftmaxRegression(**params).fit(*as_dask(X, y, sample_weight))
    assert_same_model(model, reference)
    assert model.solver_ == reference.solver_


def test_float32_stays_float32():
    X, y, _ = problem(dtype=np.float32)
    model = SoftmaxRegression(tol=1e-5).fit(*as_dask(X, y))
    # 'auto' may choose another solver on dask: the reference runs the same.
    reference = SoftmaxRegression(tol=1e-5, solver=model.solver_).fit(X, y)
    assert model.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    assert_same_model(model, reference, atol=1e-5)
    assert model.predict_proba(da.from_array(X, chunks=CHUNKS)).dtype == np.float32


def test_integer_features_are_fitted_as_float64():
    X, y, _ = problem()
    X = np.round(3 * X).astype(np.int64)
    reference = SoftmaxRegression(tol=TOL).fit(X, y)
    model = SoftmaxRegression(tol=TOL).fit(*as_dask(X, y))
    assert model.coef_.dtype == np.float64
    assert_same_model(model, reference)


def test_blocks_of_columns_labels_in_memory_and_string_labels():
    X, y, sample_weight = problem()
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    reference = SoftmaxRegression(tol=TOL).fit(X, labels, sample_weight=sample_weight)
    # X split by columns too; the labels and weights as NumPy arrays.
    X_dask = da.from_array(X, chunks=(CHUNKS, 4))
    model = SoftmaxRegression(tol=TOL).fit(X_dask, labels, sample_weight=sample_weight)
    assert_same_model(model, reference)
    assert_array_equal(model.predict(X_dask).compute(), reference.predict(X))


def test_labels_chunked_differently_from_x():
    X, y, _ = problem()
    reference = SoftmaxRegression(tol=TOL).fit(X, y)
    model = SoftmaxRegression(tol=TOL).fit(
        da.from_array(X, chunks=70), da.from_array(y, chunks=110)
    )
    assert_same_model(model, reference)


def test_an_empty_block_changes_nothing():
    X, y, sample_weight = problem()
    reference = SoftmaxRegression(tol=TOL).fit(X, y, sample_weight=sample_weight)
    chunks = ((100, 0, 200),)
    model = SoftmaxRegression(tol=TOL).fit(
        da.from_array(X, chunks=(chunks[0], -1)),
        da.from_array(y, chunks=chunks),
        sample_weight=da.from_array(sample_weight, chunks=chunks),
    )
    assert_same_model(model, reference)


def test_two_classes():
    X, y, _ = problem(n_classes=2)
    reference = SoftmaxRegression(tol=TOL).fit(X, y)
    X_dask, y_dask = as_dask(X, y)
    model = SoftmaxRegression(tol=TOL).fit(X_dask, y_dask)
    assert model.coef_.shape == (1, X.shape[1])
    assert_same_model(model, reference)
    scores = model.decision_function(X_dask)
    assert scores.shape == (X.shape[0],)
    assert_allclose(scores.compute(), reference.decision_function(X), rtol=1e-9)


def test_warm_start_continues_from_the_previous_fit():
    X, y, _ = problem()
    X_dask, y_dask = as_dask(X, y)
    model = SoftmaxRegression(tol=TOL, warm_start=True).fit(X, y)
    model.fit(X_dask, y_dask)
    # Started at the optimum, the solver stops at once.
    assert model.n_iter_[0] <= 1
    assert_same_model(model, SoftmaxRegression(tol=TOL).fit(X, y))


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "decision_function"]
)
def test_predictions_are_lazy_dask_arrays(method):
    X, y, _ = problem()
    model = SoftmaxRegression().fit(X, y)
    X_dask = da.from_array(X, chunks=CHUNKS)
    result = getattr(model, method)(X_dask)
    assert isinstance(result, da.Array)
    assert result.chunks[0] == X_dask.chunks[0]
    expected = getattr(model, method)(X)
    computed = result.compute()
    assert computed.dtype == expected.dtype
    assert_allclose(computed, expected, rtol=1e-12, atol=1e-14)


def test_score_on_dask_collections():
    X, y, sample_weight = problem()
    model = SoftmaxRegression().fit(X, y)
    X_dask, y_dask, weights = as_dask(X, y, sample_weight)
    assert model.score(X_dask, y_dask) == pytest.approx(model.score(X, y), abs=1e-15)
    assert model.score(X_dask, y_dask, weights) == pytest.approx(
        model.score(X, y, sample_weight), abs=1e-15
    )
    # Blocks of sizes unknown until computed, and DataFrames.
    kept = X_dask[:, 0] > -np.inf
    expected = model.score(X, y, sample_weight)
    assert model.score(X_dask[kept], y_dask[kept], weights) == expected
    frame, labels = dd.from_array(X, chunksize=CHUNKS), dd.from_array(y, CHUNKS)
    assert model.score(frame, labels, sample_weight) == expected


def test_dataframes_keep_feature_names(monkeypatch):
    X, y, sample_weight = problem()
    columns = [f"feature_{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    reference = SoftmaxRegression(tol=TOL).fit(frame, y, sample_weight=sample_weight)
    X_frame = dd.from_pandas(frame, npartitions=4)
    y_series = dd.from_pandas(pd.Series(y), npartitions=4)
    weights = dd.from_pandas(pd.Series(sample_weight), npartitions=4)
    model = SoftmaxRegression(tol=TOL).fit(X_frame, y_series, sample_weight=weights)
    assert_same_model(model, reference)
    assert_array_equal(model.feature_names_in_, columns)
    with warnings.catch_warnings():
        # The graph is made without a warning, and without changing the
        # filters of the warnings, which every thread shares.
        warnings.simplefilter("error")
        with monkeypatch.context() as patch:
            patch.setattr(_base, "warnings", SimpleNamespace(warn=warnings.warn))
            proba = model.predict_proba(X_frame)
            methods = ("predict", "predict_log_proba", "decision_function")
            for method in methods:
                getattr(model, method)(X_frame)
                getattr(model, method)(X_frame.to_dask_array(lengths=True))
    assert isinstance(proba, da.Array)
    with warnings.catch_warnings():
        # Each partition is checked for the names the model was fitted with.
        warnings.simplefilter("error")
        assert_allclose(proba.compute(), reference.predict_proba(frame), rtol=1e-12)
    renamed = dd.from_pandas(frame.rename(columns={"feature_0": "other"}), 4)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed).compute()


def test_fit_on_the_cluster_equals_in_memory_fit(client):
    X, y, sample_weight = problem(n_samples=2000, n_features=8, n_classes=5)
    X_dask, y_dask, weights = as_dask(X, y, sample_weight, chunks=250)
    for solver in ["newton-cg", "lbfgs"]:
        params = {"solver": solver, "tol": TOL, "class_weight": "balanced"}
        reference = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
        model = SoftmaxRegression(**params).fit(X_dask, y_dask, sample_weight=weights)
        assert_same_model(model, reference)
    # Both workers held blocks of the persisted data.
    assert len(client.scheduler_info()["workers"]) == 2
    proba = model.predict_proba(X_dask)
    assert isinstance(proba, da.Array)
    assert_allclose(proba.compute(), reference.predict_proba(X), rtol=1e-5)


def test_dataframe_fit_on_the_cluster(client):
    X, y, _ = problem(n_samples=1000)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    frame["label"] = y
    data = dd.from_pandas(frame, npartitions=5)
    features = data.drop(columns="label")
    model = SoftmaxRegression(tol=TOL).fit(features, data["label"])
    reference = SoftmaxRegression(tol=TOL).fit(frame.drop(columns="label"), y)
    assert_same_model(model, reference)
    assert_array_equal(
        model.predict(features).compute(),
        reference.predict(frame.drop(columns="label")),
    )


def test_incremental_wrapper_runs_partial_fit_on_each_block(client):
    import dask_ml.wrappers as wrappers

    X, y, _ = problem(n_samples=600)
    X_dask, y_dask = as_dask(X, y, chunks=100)
    classes = np.unique(y)
    params = {"solver": "sgd", "random_state": 0, "batch_size": 32}
    incremental = wrappers.Incremental(
        SoftmaxRegression(**params), scoring="accuracy", shuffle_blocks=False
    )
    incremental.fit(X_dask, y_dask, classes=classes)
    expected = SoftmaxRegression(**params)
    for start in range(0, 600, 100):
        rows = slice(start, start + 100)
        expected.partial_fit(X[rows], y[rows], classes=classes)
    assert_allclose(incremental.estimator_.coef_, expected.coef_, rtol=1e-12)
    assert incremental.estimator_.n_iter_[0] == 6
    assert incremental.score(X_dask, y_dask) == pytest.approx(expected.score(X, y))


@pytest.mark.parametrize("fitted", [False, True])
def test_partial_fit_failing_in_a_later_block_leaves_the_model_as_it_was(fitted):
    """The blocks of a dask collection are one call of partial_fit: where
    a later block fails, the blocks before it leave no trace."""
    X, y, _ = problem(n_samples=600)
    X[500, 2] = np.nan
    model = SoftmaxRegression(random_state=0)
    if fitted:
        model.partial_fit(X[:100], y[:100], classes=np.unique(y))
    before = {name: deepcopy(value) for name, value in vars(model).items()}
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.partial_fit(*as_dask(X, y, chunks=150), classes=np.unique(y))
    assert set(vars(model)) == set(before)
    for name in ("coef_", "intercept_", "n_iter_", "classes_"):
        if fitted:
            assert_array_equal(getattr(model, name), before[name])
        else:
            assert not hasattr(model, name)
    if fitted:
        # The stream goes on from the state before the failed call.
        stream, kept = model._partial_fit_state, before["_partial_fit_state"]
        assert stream.n_calls == kept.n_calls
        assert_array_equal(stream.state.x, kept.state.x)


def test_partial_fit_streams_the_blocks_in_order():
    X, y, sample_weight = problem(n_samples=600)
    X_dask, y_dask, weights = as_dask(X, y, sample_weight, chunks=150)
    classes = np.unique(y)
    params = {"solver": "adam", "random_state": 0}
    model = SoftmaxRegression(**params).partial_fit(
        X_dask, y_dask, classes=classes, sample_weight=weights
    )
    expected = SoftmaxRegression(**params)
    for start in range(0, 600, 150):
        rows = slice(start, start + 150)
        expected.partial_fit(
            X[rows], y[rows], classes=classes, sample_weight=sample_weight[rows]
        )
    assert_allclose(model.coef_, expected.coef_, rtol=1e-12)
    assert model.n_iter_[0] == 4


def _stream(X_blocks, y_blocks, classes, **params):
    """partial_fit over NumPy blocks in turn."""
    model = SoftmaxRegression(**params)
    for X_block, y_block in zip(X_blocks, y_blocks, strict=True):
        model.partial_fit(X_block, y_block, classes=classes)
    return model


def test_partial_fit_takes_the_partitions_a_reader_joins(tmp_path):
    # A reader of nine small files with a column projection joins them into
    # fewer partitions once optimised; y follows those.
    rng = np.random.RandomState(0)
    for index in range(9):
        frame = pd.DataFrame(rng.randn(10, 6), columns=[f"c{j}" for j in range(6)])
        frame["y"] = rng.randint(0, 3, 10)
        frame.to_parquet(tmp_path / f"part{index}.parquet")
    frame = dd.read_parquet(tmp_path)
    X, y = frame[["c0", "c1"]] * 1.0, frame["y"]
    joined = X.optimize()
    assert joined.npartitions < X.npartitions
    params = {"solver": "sgd", "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(**params).partial_fit(X, y, classes=[0, 1, 2])
    lengths = np.cumsum(joined.map_partitions(len).compute())[:-1]
    X_all, y_all = X.compute().to_numpy(), y.compute().to_numpy()
    expected = _stream(
        np.split(X_all, lengths), np.split(y_all, lengths), [0, 1, 2], **params
    )
    assert model._partial_fit_state.n_calls == joined.npartitions
    assert_allclose(model.coef_, expected.coef_, rtol=1e-12)


def test_blocks_without_rows_are_passed_over():
    # Filtering a frame leaves partitions without rows.
    rng = np.random.RandomState(0)
    data = pd.DataFrame(rng.randn(90, 2), columns=["a", "b"])
    data["y"] = rng.randint(0, 3, 90)
    data.loc[30:59, "a"] = -10.0
    frame = dd.from_pandas(data, npartitions=3, sort=False)
    frame = frame[frame.a > -5]
    assert frame.map_partitions(len).compute().tolist() == [30, 0, 30]
    X_frame, y_frame = frame[["a", "b"]], frame["y"]
    kept = data[data.a > -5]
    X, y = kept[["a", "b"]].to_numpy(), kept["y"].to_numpy()
    X_array = da.from_array(
        np.concatenate([X[:30], np.empty((0, 2)), X[30:]]), chunks=((30, 0, 30), 2)
    )
    y_array = da.from_array(y, chunks=((30, 0, 30),))
    params = {"solver": "sgd", "random_state": 0}
    expected = _stream([X[:30], X[30:]], [y[:30], y[30:]], [0, 1, 2], **params)
    cases = ((X_frame, y_frame, kept[["a", "b"]]), (X_array, y_array, X))
    for X_dask, y_dask, X_in_memory in cases:
        model = SoftmaxRegression(**params).partial_fit(
            X_dask, y_dask, classes=[0, 1, 2]
        )
        assert model._partial_fit_state.n_calls == 2
        assert_array_equal(model.coef_, expected.coef_)
        for method in ("predict", "predict_proba", "decision_function"):
            assert_array_equal(
                getattr(model, method)(X_dask).compute(),
                getattr(model, method)(X_in_memory),
            )
    nothing = frame[frame.a > 100]
    model = SoftmaxRegression(**params)
    with pytest.raises(ValueError, match=r"every block of rows .* is empty"):
        model.partial_fit(nothing[["a", "b"]], nothing["y"], classes=[0, 1, 2])
    assert not hasattr(model, "coef_")


def test_grid_search_under_the_dask_joblib_backend(client):
    import joblib

    X, y, _ = problem(n_samples=400)
    search = GridSearchCV(
        SoftmaxRegression(tol=1e-8), {"C": [0.01, 0.1, 1.0]}, cv=3, n_jobs=-1
    )
    with joblib.parallel_backend("dask"):
        on_cluster = clone(search).fit(X, y)
    in_process = clone(search).set_params(n_jobs=1).fit(X, y)
    assert_allclose(
        on_cluster.cv_results_["mean_test_score"],
        in_process.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert_same_model(on_cluster.best_estimator_, in_process.best_estimator_, 1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blockwise_objective_equals_in_memory_objective(
    fit_intercept, label_smoothing, dtype
):
    X, y, sample_weight = problem(n_samples=230, dtype=dtype)
    n_features, n_classes = X.shape[1], 4
    loss = MultinomialLoss(n_classes, fit_intercept, label_smoothing)
    l2_reg_strength = 0.3
    in_memory = loss.bind(X, y, sample_weight, l2_reg_strength)
    X_dask, y_dask, weights = as_dask(X, y, sample_weight, chunks=60)
    blockwise = bind_objective(
        persist_row_blocks(X_dask, y_dask, weights),
        float(sample_weight.sum(dtype=np.float64)),
        n_features,
        n_classes,
        fit_intercept,
        l2_reg_strength,
        rounding=0.0,
        label_smoothing=label_smoothing,
    )
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n_features + fit_intercept) * n_classes)
    v = rng.standard_normal(x.size)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    value, gradient, hessp = blockwise.value_gradient_hessp(x)
    expected_value, expected_gradient, expected_hessp = in_memory.value_gradient_hessp(
        x
    )
    assert value == pytest.approx(expected_value, rel=rtol)
    assert blockwise.value(x) == pytest.approx(expected_value, rel=rtol)
    assert_allclose(gradient, expected_gradient, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(
        blockwise.value_and_gradient(x)[1], expected_gradient, rtol=rtol, atol=1e-7
    )
    assert_allclose(hessp(v), expected_hessp(v), rtol=rtol, atol=rtol * 1e-2)


def test_blockwise_derivatives_match_finite_differences():
    X, y, sample_weight = problem(n_samples=150, n_features=3, n_classes=3)
    X_dask, y_dask, weights = as_dask(X, y, sample_weight, chunks=40)
    objective = bind_objective(
        persist_row_blocks(X_dask, y_dask, weights),
        float(sample_weight.sum()),
        3,
        3,
        True,
        0.1,
        rounding=0.0,
    )
    x = np.random.default_rng(2).standard_normal(12)
    _, gradient, hessp = objective.value_gradient_hessp(x)
    assert_allclose(
        gradient, central_difference(objective.value, x, 1e-6), rtol=1e-6, atol=1e-9
    )
    hessian = central_difference(
        lambda point: objective.value_and_gradient(point)[1], x, 1e-6
    )
    v = np.random.default_rng(3).standard_normal(12)
    assert_allclose(hessp(v), hessian @ v, rtol=1e-6, atol=1e-8)


def test_each_block_of_the_input_is_computed_once():
    X, y, sample_weight = problem()
    computed = []

    def load(block):
        computed.append(block.shape[0])
        return block

    X_dask = da.from_array(X, chunks=CHUNKS).map_blocks(
        load, dtype=X.dtype, meta=np.empty((0, 0))
    )
    model = SoftmaxRegression(tol=TOL, class_weight="balanced")
    model.fit(X_dask, *as_dask(y, sample_weight))
    assert model.n_iter_[0] > 1
    # The fit persisted the blocks, then every evaluation read them there.
    assert sorted(computed) == sorted(X_dask.chunks[0])


def test_the_users_arrays_are_not_modified():
    X, y, sample_weight = problem()
    copies = [X.copy(), y.copy(), sample_weight.copy()]
    model = SoftmaxRegression(class_weight="balanced")
    model.fit(*as_dask(X, y, sample_weight))
    model.predict_proba(da.from_array(X, chunks=CHUNKS)).compute()
    for array, copy in zip([X, y, sample_weight], copies, strict=True):
        assert_array_equal(array, copy)
    # Nor the dask arrays: their block sizes stay unknown.
    X_dask, y_dask = as_dask(X, y)
    kept = X_dask[:, 0] > -np.inf
    X_kept, y_kept = X_dask[kept], y_dask[kept]
    model.fit(X_kept, y_kept)
    assert np.isnan(X_kept.chunks[0]).all() and np.isnan(y_kept.chunks[0]).all()


def test_convergence_warning_points_at_the_caller():
    X, y, _ = problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=2") as record:
        SoftmaxRegression(max_iter=2, solver="lbfgs").fit(*as_dask(X, y))
    assert len(record) == 1
    assert record[0].filename == __file__


def test_settings_a_dask_fit_does_not_use_warn_once():
    X, y, _ = problem()
    X32 = X.astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SoftmaxRegression(
            solver="newton-cg", n_threads=2, precision="mixed"
        ).fit(*as_dask(X32, y))
    assert [str(w.message) for w in caught] == [
        "precision='mixed' is not used: it chooses whether newton-cg's "
        "Hessian-vector products of float64 data run in float32, and the data "
        "is float32.",
        "n_threads=2 is not used: the blocks of a dask array are fitted on its "
        "scheduler's workers, in their threads.",
    ]
    assert all(w.filename == __file__ for w in caught)
    reference = SoftmaxRegression(solver="newton-cg").fit(*as_dask(X32, y))
    assert_array_equal(model.coef_, reference.coef_)
    # partial_fit on the blocks of a dask array is one call: one warning for
    # the five blocks, not one per block.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegression(tol=0.5, random_state=0).partial_fit(
            *as_dask(X, y), classes=np.unique(y)
        )
    assert [str(w.message) for w in caught] == [
        "tol=0.5 is not used: partial_fit takes one epoch on each chunk, and its "
        "caller decides when the stream stops."
    ]


def bad_inputs():
    X, y, sample_weight = problem()
    X_nan = X.copy()
    X_nan[5, 2] = np.nan
    X_inf = X.copy()
    X_inf[7, 0] = np.inf
    negative = sample_weight.copy()
    negative[3] = -1.0
    yield "nan", (X_nan, y, None), ValueError, "NaN or infinity"
    yield "inf", (X_inf, y, None), ValueError, "NaN or infinity"
    yield "one-class", (X, np.zeros_like(y), None), ValueError, "only one class"
    yield "negative-weight", (X, y, negative), ValueError, "Negative values"
    yield "nan-weight", (X, y, np.full(len(y), np.nan)), ValueError, "sample_weight"
    yield "zero-weights", (X, y, np.zeros(len(y))), ValueError, "sums to zero"
    yield "continuous-y", (X, y + 0.5, None), ValueError, "Unknown label type"
    yield "short-y", (X, y[:-1], None), ValueError, "inconsistent numbers"
    yield "y-2d", (X, np.column_stack([y, y]), None), ValueError, "1-dimensional"
    yield "x-1d", (X[:, 0], y, None), ValueError, "2-dimensional"
    yield "x-strings", (X.astype(str), y, None), ValueError, "real numbers"
    yield "no-rows", (X[:0], y[:0], None), ValueError, "0 sample\\(s\\)"
    yield "huge-x", (X * 1e160, y, None), ValueError, "sum of their squares"
    huge = np.full(len(y), 1e307)
    yield "weights-sum-overflows", (X, y, huge), ValueError, "more than a float64"


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [pytest.param(*case[1:], id=case[0]) for case in bad_inputs()],
)
def test_bad_input_raises_a_clear_error_and_keeps_the_fit(data, error, match):
    X, y, sample_weight = data
    chunks = (CHUNKS,) * np.ndim(X)
    model = SoftmaxRegression().fit(*problem(seed=3)[:2])
    before = {name: np.copy(value) for name, value in vars(model).items()}
    weights = None if sample_weight is None else da.from_array(sample_weight, CHUNKS)
    with pytest.raises(error, match=match):
        model.fit(da.from_array(X, chunks=chunks), da.from_array(y), weights)
    assert set(vars(model)) == set(before)
    for name, value in before.items():
        assert_array_equal(getattr(model, name), value)


def test_fit_refuses_blocks_of_sparse_matrices_that_partial_fit_takes():
    X, y, _ = problem()
    X_dask = da.from_array(X, chunks=(CHUNKS, X.shape[1])).map_blocks(sp.csr_matrix)
    y_dask = da.from_array(y, chunks=CHUNKS)
    with pytest.raises(TypeError, match=r"blocks are scipy\.sparse"):
        SoftmaxRegression().fit(X_dask, y_dask)
    streamed = SoftmaxRegression(random_state=0)
    streamed.partial_fit(X_dask, y_dask, classes=np.unique(y))
    expected = SoftmaxRegression(random_state=0)
    for start in range(0, len(y), CHUNKS):
        rows = slice(start, start + CHUNKS)
        expected.partial_fit(sp.csr_matrix(X[rows]), y[rows], classes=np.unique(y))
    assert_array_equal(streamed.coef_, expected.coef_)


def test_stochastic_solvers_refuse_fit_on_dask():
    X, y, _ = problem()
    with pytest.raises(ValueError, match=r"partial_fit.*Incremental"):
        SoftmaxRegression(solver="sgd").fit(*as_dask(X, y))


def test_prediction_checks_the_number_of_features():
    X, y, _ = problem()
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 5 features.*expecting 6"):
        model.predict(da.from_array(X[:, :5], chunks=CHUNKS))


def test_the_package_works_without_dask():
    # A fresh interpreter in which dask cannot be imported.
    code = (
        "import sys; sys.modules['dask'] = None; "
        "from sklearn.datasets import load_iris; "
        "from sklearn_softmax import SoftmaxRegression; "
        "X, y = load_iris(return_X_y=True); "
        "print(SoftmaxRegression(max_iter=500).fit(X, y).score(X, y))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) > 0.9


def test_softmax_regression_cv_refuses_dask_collections():
    X, y, _ = problem()
    with pytest.raises(ValueError, match="SoftmaxRegressionCV takes data in memory"):
        SoftmaxRegressionCV(Cs=2).fit(*as_dask(X, y))

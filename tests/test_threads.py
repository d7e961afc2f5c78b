"""Threads: the fitted model does not depend on them, and fits leave the
process's BLAS limit as they found it."""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_softmax import SoftmaxRegression, _blocks, _estimator
from sklearn_softmax._threads import blas_thread_limit, single_threaded_blas

# Every solver, and the proximal ones with the penalties they take.
CONFIGS = [
    {"solver": "newton-cg"},
    {"solver": "newton-cholesky"},
    {"solver": "lbfgs"},
    {"solver": "gd"},
    {"solver": "sgd", "random_state": 0, "max_iter": 5},
    {"solver": "adam", "random_state": 0, "max_iter": 5},
    {"solver": "gd", "l1_ratio": 1.0, "C": 0.1},
    {"solver": "newton-cg", "l1_ratio": 1.0, "l1_groups": "features", "C": 0.1},
]


def _blas_limits():
    return [
        pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"
    ]


def _scaled_problem(n_samples, n_features, n_classes, seed=0):
    """Features scaled from 1 to 100, which leaves the objective
    ill-conditioned: a fit stops at tol wherever rounding leads it, so that
    any change in the rounding shows in the model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * np.linspace(1, 100, n_features)
    W = (
        rng.standard_normal((n_features, n_classes))
        / np.linspace(1, 100, n_features)[:, None]
    )
    scores = X @ W + rng.gumbel(size=(n_samples, n_classes))
    return X, np.argmax(scores, axis=1)


def _fitted(X, y, **params):
    return SoftmaxRegression(**{"tol": 1e-6, "max_iter": 5, **params}).fit(X, y)


def _assert_same_model(model, reference):
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(model.intercept_, reference.intercept_)
    assert_array_equal(model.loss_curve_, reference.loss_curve_)
    assert model.n_iter_ == reference.n_iter_


pytestmark = [
    # The fits are cut short on purpose: whether they converge is beside the
    # point.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # 'sgd' and 'adam' run on one thread whatever n_threads, and say it is not
    # used: the tests hold them to that.
    pytest.mark.filterwarnings("ignore:n_threads=.* is not used:UserWarning"),
]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(map(str, c.values()))
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_model_does_not_depend_on_the_thread_count(
    config, sparse, dtype, monkeypatch
):
    """1, 2, 3 and 4 threads give the same model to the last bit, for every
    solver, dense and sparse, float32 and float64."""
    # A small problem, cut as one with the work for many threads would be.
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 1000)
    X, y = _scaled_problem(2048, 50, 5)
    if sparse:
        X[np.abs(X) < 40] = 0.0
        X = sp.csr_matrix(X)
    X = X.astype(dtype)
    # Several blocks (runs, for sparse data) to share out: each thread has
    # its own, and the sums come from all of them.
    blocks = (
        _blocks.sparse_runs(X.indptr, X.shape[1], 5)
        if sparse
        else _blocks.dense_blocks(*X.shape, X.itemsize, 5)
    )
    assert len(blocks) >= 8
    reference = _fitted(X, y, n_threads=1, **config)
    for n_threads in (2, 3, 4):
        _assert_same_model(_fitted(X, y, n_threads=n_threads, **config), reference)


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs", "sgd"])
def test_the_model_does_not_depend_on_the_blas_limit(solver):
    """A fit with n_threads=None picks its threads from the BLAS limit it
    finds, as under the limit of one thread that joblib's workers run in
    (GridSearchCV(n_jobs=2)), and gets the same model whatever it is."""
    X, y = _scaled_problem(20_000, 50, 5)
    params = {"solver": solver, "random_state": 0}
    with threadpool_limits(limits=2, user_api="blas"):
        reference = _fitted(X, y, **params)
    for limit in (1, 3):
        with threadpool_limits(limits=limit, user_api="blas"):
            _assert_same_model(_fitted(X, y, **params), reference)


def test_a_stream_does_not_depend_on_the_blas_limit():
    """partial_fit's default step comes from a curvature bound, products
    with the chunk taken under the fit's own hold on BLAS: under the
    caller's limit of two threads OpenBLAS rounded them otherwise, and the
    stream's steps changed in the last bits."""
    X, y = _scaled_problem(100_000, 20, 3)
    streams = {}
    for limit in (1, 2):
        with threadpool_limits(limits=limit, user_api="blas"):
            model = SoftmaxRegression(random_state=0)
            for chunk in np.array_split(np.arange(len(y)), 2):
                model.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        streams[limit] = model
    _assert_same_model(streams[2], streams[1])
    assert streams[2].grad_norm_ == streams[1].grad_norm_


def _unaligned(X):
    """A C-ordered copy of ``X`` whose data starts one byte into a buffer."""
    buffer = np.empty(X.nbytes + 1, dtype=np.uint8)
    copy = buffer[1:].view(X.dtype).reshape(X.shape)
    copy[...] = X
    assert not copy.flags.aligned
    return copy


@pytest.mark.parametrize(
    "config",
    [{"solver": "newton-cg"}, {"solver": "auto"}, {"solver": "sgd", "max_iter": 2}],
    ids=lambda c: c["solver"],
)
@pytest.mark.parametrize("shape", [(3000, 40), (300, 2000)], ids=["tall", "wide"])
def test_the_model_does_not_depend_on_the_layout(config, shape):
    """The same values in another memory layout: Fortran order (as a pandas
    DataFrame holds them), a strided view, an unaligned buffer. Wide data is
    solved in its row space, whose Gram matrix numpy forms by another BLAS
    routine for data that is not C-ordered and aligned."""
    X, y = _scaled_problem(*shape, 4)
    params = {"random_state": 0, **config}
    reference = _fitted(X, y, **params)
    strided = np.zeros((X.shape[0], 2 * X.shape[1]))
    strided[:, ::2] = X
    for layout in (np.asfortranarray(X), strided[:, ::2], _unaligned(X)):
        _assert_same_model(_fitted(layout, y, **params), reference)


def test_the_model_does_not_depend_on_a_csr_matrixs_form(monkeypatch):
    """Unsorted indices, duplicate entries (which add up) and stored zeros
    hold the same matrix as its canonical form."""
    # Runs of rows, cut by stored values, as for data with the work for
    # many threads.
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 1000)
    X, y = _scaled_problem(2000, 30, 3)
    X[np.abs(X) < 40] = 0.0
    canonical = sp.csr_matrix(X)
    reference = _fitted(canonical, y)
    # Each row's entries reversed, and each value split in two halves.
    rows = np.repeat(np.arange(X.shape[0]), np.diff(canonical.indptr))
    order = np.lexsort((-canonical.indices, rows))
    reversed_rows = sp.csr_matrix(
        (canonical.data[order], canonical.indices[order], canonical.indptr),
        shape=X.shape,
    )
    assert not reversed_rows.has_sorted_indices
    halves = sp.csr_matrix(
        (
            np.repeat(canonical.data / 2, 2),
            np.repeat(canonical.indices, 2),
            2 * canonical.indptr,
        ),
        shape=X.shape,
    )
    assert_array_equal(halves.toarray(), X)
    # Every third row stores its zeros too.
    stored = np.abs(X) > 0
    stored[::3] = True
    rows, columns = np.nonzero(stored)
    with_zeros = sp.coo_matrix((X[rows, columns], (rows, columns)), shape=X.shape)
    with_zeros = with_zeros.tocsr()
    assert with_zeros.nnz > canonical.nnz
    assert_array_equal(with_zeros.toarray(), X)
    for form in (reversed_rows, halves, with_zeros):
        _assert_same_model(_fitted(form, y), reference)
    assert not reversed_rows.has_sorted_indices


def test_blas_is_held_to_one_thread_during_a_fit_and_restored(monkeypatch):
    inside = []
    solve = _estimator.NumpyBackend.minimize

    def spy(*args, **kwargs):
        inside.append((_blas_limits(), blas_thread_limit()))
        return solve(*args, **kwargs)

    monkeypatch.setattr(_estimator.NumpyBackend, "minimize", spy)
    X, y = _scaled_problem(300, 5, 3)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_limits()
        SoftmaxRegression().fit(X, y)
        assert _blas_limits() == before
    # BLAS on one thread, while the fit still sees the limit it found.
    assert inside == [([1] * len(before), 2)]


@pytest.mark.parametrize("solver", ["sgd", "newton-cg"])
def test_overlapping_fits_in_threads_leave_the_blas_limit_as_found(solver, monkeypatch):
    """Two fits inside each other's span, in two Python threads, share one
    hold on BLAS: the limit is one while either runs and is put back as it
    was when both are done, whichever ends first."""
    both_inside = threading.Barrier(2, timeout=30)
    inside = []
    enter = single_threaded_blas

    def entering_together():
        hold = enter()

        class Together:
            def __enter__(self):
                hold.__enter__()
                both_inside.wait()
                inside.append(_blas_limits())

            def __exit__(self, *exc):
                return hold.__exit__(*exc)

        return Together()

    monkeypatch.setattr(_estimator, "single_threaded_blas", entering_together)
    X, y = _scaled_problem(2000, 10, 3)
    errors = []

    def fit(seed):
        try:
            SoftmaxRegression(solver=solver, random_state=seed, max_iter=3).fit(X, y)
        except BaseException as error:
            errors.append(error)

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_limits()
        threads = [threading.Thread(target=fit, args=(seed,)) for seed in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = _blas_limits()
    assert not errors
    assert inside == [[1] * len(before)] * 2
    assert after == before


def test_a_limit_set_by_another_thread_during_a_fit_stands(monkeypatch):
    """A ``threadpool_limits`` block that ends in another thread while a fit
    runs puts back its own limit then: the fit's hold, at its end, leaves
    that limit as it is, rather than the one it found, which no one holds
    any longer."""
    X, y = _scaled_problem(300, 5, 3)
    solve = _estimator.NumpyBackend.minimize

    def block_ends_meanwhile(*args, **kwargs):
        for lib in threadpool_info():
            if lib["user_api"] == "blas":
                assert lib["num_threads"] == 1
        threadpool_limits(limits=2, user_api="blas")
        return solve(*args, **kwargs)

    monkeypatch.setattr(_estimator.NumpyBackend, "minimize", block_ends_meanwhile)
    with (
        threadpool_limits(limits=2, user_api="blas"),
        threadpool_limits(limits=1, user_api="blas"),
    ):
        SoftmaxRegression().fit(X, y)
        assert set(_blas_limits()) == {2}
    assert set(_blas_limits()) == {2}


def test_a_failed_fit_releases_its_hold_on_blas():
    X, y = _scaled_problem(300, 5, 3)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_limits()
        with pytest.raises(ValueError, match="cannot handle"):
            SoftmaxRegression(l1_ratio=1.0, solver="lbfgs").fit(X, y)
        assert _blas_limits() == before
        with pytest.raises(KeyboardInterrupt), single_threaded_blas():
            assert set(_blas_limits()) == {1}
            raise KeyboardInterrupt
        assert _blas_limits() == before

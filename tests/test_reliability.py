"""A fit that fails leaves the estimator as it was; fitted estimators survive
pickle and skops round trips, warn when unpickled by another version, and
predict the same from several threads at once."""

import copy
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
import skops.io
from numpy.testing import assert_array_equal
from sklearn.datasets import load_wine
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.preprocessing import StandardScaler

import sklearn_softmax
from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV
from sklearn_softmax._solvers._stochastic import StochasticState

SOLVERS = ["newton-cg", "lbfgs", "gd", "sgd", "adam"]


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _state(model):
    """Every attribute, pickled: equal states hold equal values, arrays and
    solver state included, down to the bit."""
    return {name: pickle.dumps(value) for name, value in vars(model).items()}


def _interrupting_printer(at_iteration):
    """A stand-in for the verbose hook that stops the fit as a user's
    Ctrl-C would, at the given iteration."""

    def make(self, solver):
        def show(progress):
            if progress.iteration >= at_iteration:
                raise KeyboardInterrupt

        return show

    return make


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_interrupted_fit_leaves_previous_fit_intact(
    wine, monkeypatch, solver, warm_start
):
    X, y = wine
    model = SoftmaxRegression(
        solver=solver, warm_start=warm_start, verbose=1, random_state=0, max_iter=500
    ).fit(X, y)
    state = _state(model)
    monkeypatch.setattr(
        SoftmaxRegression, "_progress_printer", _interrupting_printer(2)
    )
    # Other data, so that the interrupted fit would change every attribute.
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[::2], y[::2])
    assert _state(model) == state


def test_interrupted_first_fit_leaves_estimator_unfitted(wine, monkeypatch):
    X, y = wine
    model = SoftmaxRegression(verbose=1)
    state = _state(model)
    monkeypatch.setattr(
        SoftmaxRegression, "_progress_printer", _interrupting_printer(1)
    )
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert _state(model) == state
    assert not hasattr(model, "n_features_in_")


def _interrupt_after_steps(monkeypatch, n_steps):
    """Make the stochastic solvers stop, as a user's Ctrl-C would, once
    ``n_steps`` steps have changed the iterate and its momentum."""
    real_step = StochasticState.step
    steps = []

    def step_then_interrupt(self, gradient, settings):
        real_step(self, gradient, settings)
        steps.append(None)
        if len(steps) == n_steps:
            raise KeyboardInterrupt

    monkeypatch.setattr(StochasticState, "step", step_then_interrupt)


@pytest.mark.parametrize(
    ("params", "n_features"),
    [
        ({"solver": "sgd", "average": True}, None),
        ({"solver": "adam"}, None),
        # With L1 and one feature, coef_ is a view of the stream's iterate.
        ({"solver": "sgd", "l1_ratio": 1.0}, 1),
    ],
)
def test_partial_fit_failing_midway_leaves_the_stream_as_it_was(
    wine, monkeypatch, params, n_features
):
    X, y = wine
    X = X[:, :n_features]
    classes = np.unique(y)
    model, untouched = (
        SoftmaxRegression(random_state=0, batch_size=20, **params) for _ in range(2)
    )
    for chunk in np.array_split(np.arange(len(y)), 3):
        model.partial_fit(X[chunk], y[chunk], classes=classes)
        untouched.partial_fit(X[chunk], y[chunk], classes=classes)
    previous = dict(vars(model))
    state = _state(model)
    with monkeypatch.context() as patch:
        # Midway: the chunk has three minibatches.
        _interrupt_after_steps(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            model.partial_fit(X[::3], y[::3])
    assert vars(model).keys() == previous.keys()
    for name, value in previous.items():
        assert vars(model)[name] is value, name
    assert _state(model) == state
    # The stream goes on as if the failed call had not been made.
    model.partial_fit(X[1::3], y[1::3])
    untouched.partial_fit(X[1::3], y[1::3])
    for name in ("coef_", "intercept_", "n_iter_", "loss_curve_", "grad_norm_"):
        assert_array_equal(getattr(model, name), getattr(untouched, name))


@pytest.mark.parametrize(
    "model",
    [SoftmaxRegression(), SoftmaxRegressionCV(Cs=3, cv=3)],
    ids=["SoftmaxRegression", "SoftmaxRegressionCV"],
)
def test_failed_refit_keeps_the_very_same_attributes(wine, model):
    X, y = wine
    model.fit(X, y)
    previous = dict(vars(model))
    # Validation takes X, setting n_features_in_ to 5, before it refuses the
    # weights.
    with pytest.raises(ValueError, match="Negative values"):
        model.fit(X[:, :5], y, sample_weight=-np.ones(len(y)))
    assert vars(model).keys() == previous.keys()
    for name, value in previous.items():
        assert vars(model)[name] is value, name


def test_interrupted_cv_fit_copies_no_fitted_attribute(wine, monkeypatch):
    X, y = wine
    model = SoftmaxRegressionCV(Cs=3, cv=3).fit(X, y)
    previous = dict(vars(model))
    # Held in ``previous``, no fitted attribute's id can be reused.
    fitted = {id(value) for name, value in previous.items() if name.endswith("_")}
    copied = []
    real_deepcopy = copy.deepcopy

    def recording_deepcopy(x, memo=None):
        copied.append(id(x))
        return real_deepcopy(x, memo)

    # Deep copies recurse through the module's deepcopy: every object copied
    # is recorded.
    monkeypatch.setattr(copy, "deepcopy", recording_deepcopy)
    scored = []

    def interrupting_scorer(estimator, X, y, **kwargs):
        scored.append(None)
        if len(scored) == 2:
            raise KeyboardInterrupt
        return 0.0

    model.set_params(scoring=interrupting_scorer)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:, :5], y)
    assert len(scored) == 2
    assert fitted.isdisjoint(copied)
    assert model.coefs_paths_ is previous["coefs_paths_"]
    assert model.n_features_in_ == X.shape[1]


def test_interrupted_cv_fit_leaves_previous_fit_intact(wine, monkeypatch):
    X, y = wine
    model = SoftmaxRegressionCV(Cs=3, cv=3, verbose=1).fit(X, y)
    state = _state(model)
    monkeypatch.setattr(
        SoftmaxRegression, "_progress_printer", _interrupting_printer(2)
    )
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:, :5], y)
    assert _state(model) == state


def _fitted_models(wine):
    X, y = wine
    binary = y < 2
    return {
        "dense": (SoftmaxRegression().fit(X, y), X),
        "sparse": (SoftmaxRegression().fit(sp.csr_array(X), y), sp.csr_array(X)),
        "float32": (SoftmaxRegression().fit(X.astype(np.float32), y), X),
        "binary": (SoftmaxRegression().fit(X[binary], y[binary]), X),
        "stream": (
            SoftmaxRegression(random_state=0).partial_fit(X, y, classes=[0, 1, 2]),
            X,
        ),
        "cv": (SoftmaxRegressionCV(Cs=3, cv=3).fit(X, y), X),
    }


@pytest.mark.parametrize(
    "case", ["dense", "sparse", "float32", "binary", "stream", "cv"]
)
def test_pickle_round_trip_predicts_the_same(wine, case):
    model, X = _fitted_models(wine)[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(model))
    for method in ("decision_function", "predict_proba", "predict"):
        assert_array_equal(getattr(restored, method)(X), getattr(model, method)(X))
    assert _state(restored) == _state(model)


@pytest.mark.parametrize(
    "case", ["dense", "sparse", "float32", "binary", "stream", "cv"]
)
def test_skops_round_trip_predicts_the_same(wine, case):
    model, X = _fitted_models(wine)[case]
    data = skops.io.dumps(model)
    # skops loads only the types it is told to trust; beyond its own list of
    # safe types, these estimators need their own class and, for a stream,
    # the private classes of its solver state, all of this package.
    untrusted = skops.io.get_untrusted_types(data=data)
    assert f"{type(model).__module__}.{type(model).__name__}" in untrusted
    assert all(name.startswith("sklearn_softmax.") for name in untrusted)
    assert (len(untrusted) > 1) == (case == "stream")
    restored = skops.io.loads(data, trusted=untrusted)
    for method in ("decision_function", "predict_proba", "predict"):
        assert_array_equal(getattr(restored, method)(X), getattr(model, method)(X))


@pytest.mark.parametrize("pickled_version", ["0.0.1", None])
def test_unpickling_from_another_version_warns(wine, pickled_version):
    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    state = model.__getstate__()
    assert state["_sklearn_softmax_version"] == sklearn_softmax.__version__
    if pickled_version is None:  # a pickle that records no version
        del state["_sklearn_softmax_version"]
    else:
        state["_sklearn_softmax_version"] = pickled_version
    restored = SoftmaxRegression.__new__(SoftmaxRegression)
    # A subclass of scikit-learn's warning, so that one filter covers both.
    with pytest.warns(InconsistentVersionWarning) as record:
        restored.__setstate__(state)
    [warning] = record
    message = str(warning.message)
    assert f"sklearn-softmax {pickled_version or 'unknown'}" in message
    assert f"sklearn-softmax {sklearn_softmax.__version__}" in message
    assert "SoftmaxRegression" in message
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("sparse", [False, True])
def test_predicting_from_threads_matches_predicting_alone(wine, sparse):
    X, y = wine
    X = np.tile(X, (20, 1))
    y = np.tile(y, 20)
    if sparse:
        X = sp.csr_array(X)
    model = SoftmaxRegression().fit(X, y)
    expected = {
        method: getattr(model, method)(X)
        for method in ("decision_function", "predict_proba", "predict")
    }
    calls = [method for method in expected for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda method: getattr(model, method)(X), calls))
    for method, result in zip(calls, results, strict=True):
        assert_array_equal(result, expected[method])


@pytest.mark.parametrize(
    "solver", ["lbfgs", "newton-cg", "newton-cholesky", "gd", "sgd"]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_callers_underflow_setting_does_not_reach_the_fit(wine, solver, dtype):
    """Probabilities that round to zero, and the penalty's own bounds, are
    part of the fit's arithmetic: it runs as under NumPy's defaults, and
    leaves the caller's setting as it was."""
    X, y = wine
    X = X.astype(dtype)
    params = {"solver": solver, "random_state": 0, "max_iter": 20}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SoftmaxRegression(**params).fit(X, y)
        streamed = SoftmaxRegression(solver="sgd", random_state=0)
        streamed.partial_fit(X, y, classes=np.unique(y))
        with np.errstate(under="raise"):
            model = SoftmaxRegression(**params).fit(X, y)
            stream = SoftmaxRegression(solver="sgd", random_state=0)
            stream.partial_fit(X, y, classes=np.unique(y))
            assert np.geterr()["under"] == "raise"
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(stream.coef_, streamed.coef_)

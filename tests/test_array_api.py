"""Fits and predictions on Array API inputs, against the NumPy code paths.

array-api-strict (a strict NumPy-backed namespace, with two virtual devices)
runs wherever its package is installed, PyTorch on its CPU device wherever
PyTorch is; PyTorch on CUDA and CuPy run where a CUDA device exists. A fit
is compared with LogisticRegression fitted to the same data, and with the
NumPy fit of the same data.
"""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from _namespaces import (
    every_namespace,
    needs_dispatch,
)
from _problems import (
    central_difference,
    distance_and_bound,
    make_problem,
    penalised_objective,
)
from _references import coefficient_tolerance, logistic_regression
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._testing import _array_api_for_tests

from sklearn_softmax import (
    ConvergenceDisplay,
    SoftmaxRegression,
    SoftmaxRegressionCV,
    softmax_regression_path,
)
from sklearn_softmax._array_api import to_numpy
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._loss_array_api import bind_objective
from sklearn_softmax._solvers import minimize_lbfgs_in_namespace, minimize_scipy_lbfgsb

pytestmark = needs_dispatch

NAMESPACES = every_namespace()
DEVICE_SOLVERS = ["newton-cg", "lbfgs", "gd"]


def on(namespace, device, *arrays):
    """The arrays moved into ``namespace`` on ``device``."""
    xp, device = _array_api_for_tests(namespace, device)
    moved = [None if a is None else xp.asarray(a, device=device) for a in arrays]
    return xp, device, moved


def fit(model, *arrays, **fit_params):
    with sklearn.config_context(array_api_dispatch=True):
        return model.fit(*arrays, **fit_params)


def on_the_host(model):
    """A float64 NumPy copy of a fitted model."""
    host = clone(model)
    for name in ("classes_", "coef_", "intercept_"):
        setattr(host, name, to_numpy(getattr(model, name)))
    host.coef_ = host.coef_.astype(np.float64)
    host.intercept_ = host.intercept_.astype(np.float64)
    host.n_features_in_ = model.n_features_in_
    return host


def call(model, method, X):
    with sklearn.config_context(array_api_dispatch=True):
        return getattr(model, method)(X)


@pytest.mark.parametrize("namespace, device", NAMESPACES)
@pytest.mark.parametrize("solver", DEVICE_SOLVERS)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"fit_intercept": False},
        {"C": 0.05, "class_weight": "balanced"},
        {"label_smoothing": 0.1},
        {"C": np.inf},
    ],
    ids=["default", "no-intercept", "class-weight", "smoothing", "no-penalty"],
)
def test_float64_fit_equals_the_numpy_fit(namespace, device, solver, params):
    X, y, sample_weight = make_problem(60, 5, 3)
    params = {"solver": solver, "tol": 1e-8, "max_iter": 2000, **params}
    expected = SoftmaxRegression(**params).fit(X, y, sample_weight=sample_weight)
    _xp, device, (X_xp, y_xp, w_xp) = on(namespace, device, X, y, sample_weight)
    model = fit(SoftmaxRegression(**params), X_xp, y_xp, sample_weight=w_xp)
    assert model.converged_
    # Both fits stop with a gradient below 1e-8; the least curvature of
    # these problems (orthogonal to the intercepts' shift, which centring
    # removes) is above 1e-2, so the solutions agree to about 1e-6.
    assert_allclose(to_numpy(model.coef_), expected.coef_, rtol=0, atol=1e-6)
    assert_allclose(to_numpy(model.intercept_), expected.intercept_, rtol=0, atol=1e-6)
    assert_allclose(
        to_numpy(call(model, "predict_proba", X_xp)),
        expected.predict_proba(X),
        rtol=0,
        atol=1e-7,
    )
    assert_array_equal(to_numpy(call(model, "predict", X_xp)), expected.predict(X))


WEIGHTED_SETTINGS = [
    pytest.param({}, id="weighted"),
    pytest.param({"class_weight": "balanced"}, id="balanced"),
    pytest.param({"class_weight": {0: 2.0, 2: 0.5}}, id="class-weight-dict"),
    pytest.param({"fit_intercept": False}, id="no-intercept"),
    pytest.param(
        {"fit_intercept": False, "class_weight": "balanced"},
        id="no-intercept-balanced",
    ),
]


@pytest.mark.parametrize("namespace, device", NAMESPACES)
@pytest.mark.parametrize("solver", DEVICE_SOLVERS)
@pytest.mark.parametrize("settings", WEIGHTED_SETTINGS)
def test_float64_fit_equals_logistic_regression(namespace, device, solver, settings):
    """With sample weights, and class weights on top of them: the fit on the
    device is LogisticRegression's, given the weights the class weights
    stand for."""
    X, y, sample_weight = make_problem(60, 5, 3)
    reference, weights = logistic_regression(
        X,
        y,
        sample_weight,
        settings.get("class_weight"),
        fit_intercept=settings.get("fit_intercept", True),
    )
    params = {"solver": solver, "tol": 1e-10, "max_iter": 10_000, **settings}
    _xp, device, (X_xp, y_xp, w_xp) = on(namespace, device, X, y, sample_weight)
    model = fit(SoftmaxRegression(**params), X_xp, y_xp, sample_weight=w_xp)
    assert model.converged_
    # The least curvature of this problem, away from the intercepts' shift,
    # is the penalty's 1 / (C S) (measured when the test was written).
    n_params = (X.shape[1] + 1) * 3
    atol = coefficient_tolerance(n_params, model.grad_norm_, 1 / weights.sum())
    assert_allclose(to_numpy(model.coef_), reference.coef_, rtol=0, atol=atol)
    # The intercepts are centred; LogisticRegression's only up to its tol.
    expected_intercept = reference.intercept_ - np.mean(reference.intercept_)
    assert_allclose(to_numpy(model.intercept_), expected_intercept, rtol=0, atol=atol)
    assert_allclose(
        to_numpy(call(model, "predict_proba", X_xp)),
        reference.predict_proba(X),
        rtol=0,
        atol=atol,
    )


@pytest.mark.parametrize("namespace, device", NAMESPACES)
@pytest.mark.parametrize("solver", DEVICE_SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_float32_fit_reaches_the_float64_optimum(namespace, device, solver, n_classes):
    X, y, _ = make_problem(200, 6, n_classes, seed=1)
    optimum = SoftmaxRegression(tol=1e-10).fit(X, y)
    xp, device, (X_xp, y_xp) = on(namespace, device, X.astype(np.float32), y)
    model = fit(SoftmaxRegression(solver=solver, tol=1e-4), X_xp, y_xp)
    assert model.converged_
    assert model.coef_.dtype == xp.float32
    proba = call(model, "predict_proba", X_xp)
    assert proba.dtype == xp.float32
    # A gradient below 1e-4 leaves the objective within |g|^2 / (2 mu) of
    # its optimum, far below float32's rounding of it here; the weights
    # themselves are within |g| / mu, about 1e-3.
    f_optimum = penalised_objective(optimum, X, y, C=1.0)
    f = penalised_objective(on_the_host(model), X, y, C=1.0)
    assert f == pytest.approx(f_optimum, rel=1e-6)
    assert_allclose(to_numpy(model.coef_), optimum.coef_, rtol=0, atol=2e-3)
    assert_allclose(to_numpy(proba), optimum.predict_proba(X), rtol=0, atol=1e-3)


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_convergence_display_draws_curves_left_on_the_device(namespace, device):
    """The curves of a fit on the device are drawn from host copies."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, _ = make_problem(50, 4, 3)
    _, _, (X_xp, y_xp) = on(namespace, device, X, y)
    model = fit(SoftmaxRegression(solver="lbfgs"), X_xp, y_xp)
    try:
        display = ConvergenceDisplay.from_estimator(model, curve="both")
        assert_array_equal(display.lines_[0].get_ydata(), to_numpy(model.loss_curve_))
        assert_array_equal(
            display.lines_[1].get_ydata(), to_numpy(model.grad_norm_curve_)
        )
    finally:
        plt.close("all")


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_everything_stays_in_the_namespace_and_on_the_device(namespace, device):
    X, y, _ = make_problem(50, 4, 3)
    xp, device, (X_xp, y_xp) = on(namespace, device, X.astype(np.float32), y)
    model = fit(SoftmaxRegression(), X_xp, y_xp)
    names = ("coef_", "intercept_", "classes_", "n_iter_", "loss_curve_")
    for name in (*names, "grad_norm_curve_"):
        attribute = getattr(model, name)
        assert type(attribute) is type(X_xp), name
        assert attribute.device == X_xp.device, name
    assert model.coef_.dtype == model.intercept_.dtype == xp.float32
    assert model.grad_norm_curve_.shape == model.loss_curve_.shape
    assert float(model.grad_norm_curve_[-1]) == pytest.approx(model.grad_norm_)
    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        result = call(model, method, X_xp)
        assert type(result) is type(X_xp) and result.device == X_xp.device
        assert result.dtype == xp.float32, method
    labels = call(model, "predict", X_xp)
    assert type(labels) is type(X_xp) and labels.device == X_xp.device


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_labels_and_weights_from_another_namespace(namespace, device):
    """Labels the namespace cannot hold stay NumPy arrays, as in
    LogisticRegression; weights given as NumPy arrays are moved."""
    X, y, sample_weight = make_problem(60, 4, 3)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    expected = SoftmaxRegression().fit(X, names, sample_weight=sample_weight)
    _xp, device, (X_xp,) = on(namespace, device, X)
    model = fit(SoftmaxRegression(), X_xp, names, sample_weight=sample_weight)
    assert isinstance(model.classes_, np.ndarray)
    assert_array_equal(model.classes_, expected.classes_)
    assert_array_equal(call(model, "predict", X_xp), expected.predict(X))
    assert_allclose(to_numpy(model.coef_), expected.coef_, atol=1e-4)


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_labels_of_the_namespace_are_encoded_on_the_device(
    namespace, device, monkeypatch
):
    """Without weights, only the classes come to the host: nothing of the
    samples' length passes through ``to_numpy`` during the fit."""
    from sklearn_softmax import _estimator

    X, y, _ = make_problem(60, 4, 3)
    labels = np.array([10, -5, 7])[y]
    expected = SoftmaxRegression(tol=1e-8).fit(X, labels)
    _xp, device, (X_xp, y_xp) = on(namespace, device, X, labels)
    sizes = []

    def recording(array):
        sizes.append(getattr(array, "shape", None))
        return to_numpy(array)

    monkeypatch.setattr(_estimator, "to_numpy", recording)
    model = fit(SoftmaxRegression(tol=1e-8), X_xp, y_xp)
    assert (60,) not in sizes and sizes
    assert_array_equal(to_numpy(model.classes_), [-5, 7, 10])
    assert_allclose(to_numpy(model.coef_), expected.coef_, rtol=0, atol=1e-6)
    assert_array_equal(to_numpy(call(model, "predict", X_xp)), expected.predict(X))


def test_classes_are_sorted_whatever_order_the_namespace_gives(monkeypatch):
    """The standard leaves the order of ``unique_inverse``'s values open; a
    namespace that returns them reversed gives the same model."""
    X, y, sample_weight = make_problem(60, 4, 3)
    expected = SoftmaxRegression(class_weight="balanced", tol=1e-8).fit(
        X, y, sample_weight=sample_weight
    )
    xp, _, (X_xp, y_xp, w_xp) = on("array_api_strict", None, X, y, sample_weight)
    unique_inverse = xp.unique_inverse

    def reversed_unique_inverse(x):
        values, inverse = unique_inverse(x)
        last = values.shape[0] - 1
        return xp.flip(values), last - inverse

    monkeypatch.setattr(xp, "unique_inverse", reversed_unique_inverse)
    assert_array_equal(xp.unique_inverse(y_xp)[0], xp.asarray([2, 1, 0]))
    model = fit(
        SoftmaxRegression(class_weight="balanced", tol=1e-8),
        X_xp,
        y_xp,
        sample_weight=w_xp,
    )
    assert_array_equal(to_numpy(model.classes_), [0, 1, 2])
    assert_allclose(to_numpy(model.coef_), expected.coef_, rtol=0, atol=1e-6)


def test_labels_on_another_device_are_moved():
    X, y, _ = make_problem(60, 4, 3)
    expected = SoftmaxRegression(tol=1e-8).fit(X, y)
    _, _, (X_xp,) = on("array_api_strict", "device1", X)
    _, _, (y_xp,) = on("array_api_strict", None, y)
    model = fit(SoftmaxRegression(tol=1e-8), X_xp, y_xp)
    assert model.coef_.device == X_xp.device
    assert_allclose(to_numpy(model.coef_), expected.coef_, rtol=0, atol=1e-6)


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_warm_start_and_pickling_on_the_device(namespace, device):
    X, y, _ = make_problem(60, 4, 3)
    _xp, device, (X_xp, y_xp) = on(namespace, device, X, y)
    model = fit(SoftmaxRegression(warm_start=True, tol=1e-8), X_xp, y_xp)
    refit = fit(model, X_xp, y_xp)
    # Started at the optimum, the solver stops at once.
    assert to_numpy(refit.n_iter_)[0] == 0
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(
        to_numpy(call(restored, "predict_proba", X_xp)),
        to_numpy(call(model, "predict_proba", X_xp)),
    )


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_the_users_arrays_are_not_modified(namespace, device):
    X, y, sample_weight = make_problem(40, 4, 3)
    _xp, device, (X_xp, y_xp, w_xp) = on(namespace, device, X, y, sample_weight)
    fit(SoftmaxRegression(), X_xp, y_xp, sample_weight=w_xp)
    assert_array_equal(to_numpy(X_xp), X)
    assert_array_equal(to_numpy(y_xp), y)
    assert_array_equal(to_numpy(w_xp), sample_weight)


@pytest.mark.parametrize("solver", DEVICE_SOLVERS)
def test_max_iter_warns_once_at_the_callers_line(solver):
    X, y, _ = make_problem(60, 4, 3)
    _, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    with (
        pytest.warns(ConvergenceWarning) as record,
        sklearn.config_context(array_api_dispatch=True),
    ):
        model = SoftmaxRegression(solver=solver, max_iter=1, tol=1e-12).fit(X_xp, y_xp)
    assert len(record) == 1
    assert f"solver='{solver}'" in str(record[0].message)
    assert "after max_iter=1 iterations" in str(record[0].message)
    assert record[0].filename == __file__
    assert model.converged_ is False


def test_settings_an_array_api_fit_does_not_use_warn():
    # array-api-strict has no dtype below float32 for the products.
    X, y, _ = make_problem(60, 4, 3, dtype=np.float32)
    _, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    with (
        warnings.catch_warnings(record=True) as caught,
        sklearn.config_context(array_api_dispatch=True),
    ):
        warnings.simplefilter("always")
        model = SoftmaxRegression(
            solver="newton-cg", n_threads=2, precision="mixed"
        ).fit(X_xp, y_xp)
        reference = SoftmaxRegression(solver="newton-cg").fit(X_xp, y_xp)
    assert [str(w.message) for w in caught] == [
        "precision='mixed' is not used: it chooses whether newton-cg's "
        "Hessian-vector products run in a dtype narrower than the data's, and "
        "array_api_strict has none below float32 for 4 features.",
        "n_threads=2 is not used: array_api_strict arrays are fitted by their "
        "own library, in its threads.",
    ]
    assert all(w.filename == __file__ for w in caught)
    assert_array_equal(to_numpy(model.coef_), to_numpy(reference.coef_))


def test_objective_gradient_and_hessp_match_finite_differences_and_numpy():
    xp, _, _ = on("array_api_strict", None)
    X, y, sample_weight = make_problem(30, 4, 3)
    loss = MultinomialLoss(3, True, label_smoothing=0.1)
    l2 = 0.3
    objective = bind_objective(
        xp.asarray(X),
        xp.asarray(y),
        xp.asarray(sample_weight / sample_weight.sum()),
        3,
        True,
        l2,
        xp.float64,
        label_smoothing=0.1,
    )
    reference = loss.bind(X, y, sample_weight, l2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5 * 3)
    v = rng.standard_normal(5 * 3)
    value, gradient, hessp = objective.value_gradient_hessp(xp.asarray(x))
    expected_value, expected_gradient, expected_hessp = reference.value_gradient_hessp(
        x
    )
    # The two kernels, the NumPy passes and the Array API one, agree on the
    # Hessian-vector product too, to rounding.
    assert_allclose(
        to_numpy(hessp(xp.asarray(v))), expected_hessp(v), rtol=1e-12, atol=1e-15
    )
    assert value == pytest.approx(expected_value, rel=1e-12)
    assert value == pytest.approx(objective.value(xp.asarray(x)), rel=1e-14)
    assert_allclose(to_numpy(gradient), expected_gradient, rtol=1e-12, atol=1e-15)
    numeric_gradient = central_difference(
        lambda t: objective.value(xp.asarray(t)), x, 1e-6
    )
    assert_allclose(to_numpy(gradient), numeric_gradient, rtol=1e-7, atol=1e-9)
    numeric_hessp = central_difference(
        lambda t: to_numpy(objective.value_and_gradient(xp.asarray(x + t * v))[1]),
        np.zeros(1),
        1e-6,
    )[:, 0]
    assert_allclose(to_numpy(hessp(xp.asarray(v))), numeric_hessp, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_exact_curvature_matches_numpys_and_is_float64_only(n_classes):
    """Newton-CG's exact curvature on the namespace's arrays: the inverse of
    the same Hessian as the NumPy passes form, at the point of the last
    products; none on float32 data, as with NumPy."""
    xp, _, _ = on("array_api_strict", None)
    X, y, sample_weight = make_problem(40, 4, n_classes)
    weights = sample_weight / sample_weight.sum()

    def bound(dtype):
        return bind_objective(
            xp.asarray(X, dtype=dtype),
            xp.asarray(y),
            xp.asarray(weights, dtype=dtype),
            n_classes,
            True,
            0.3,
            xp.float64,
        )

    assert bound(xp.float32).exact_curvature is None
    objective = bound(xp.float64)
    reference = MultinomialLoss(n_classes, True).bind(X, y, sample_weight, 0.3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5 * n_classes)
    r = rng.standard_normal(5 * n_classes)
    objective.value_gradient_hessp(xp.asarray(rng.standard_normal(x.size)))
    objective.value_gradient_hessp(xp.asarray(x))
    reference.value_gradient_hessp(x)
    assert objective.exact_curvature.cost == reference.exact_curvature.cost
    assert_allclose(
        to_numpy(objective.exact_curvature.inverse()(xp.asarray(r))),
        reference.exact_curvature.inverse()(r),
        rtol=1e-10,
    )


@pytest.mark.parametrize(
    ("n_samples", "n_features", "n_classes"),
    # The NumPy passes form one triangle of each block by the rank-k update,
    # and of stacked blocks for many classes on few columns.
    [(70, 64, 2), (40, 4, 6)],
)
def test_the_exact_curvature_costs_whole_products_in_a_namespace(
    n_samples, n_features, n_classes
):
    """The namespace's Hessian forms each block of Gram matrices whole, by a
    general product, where the NumPy passes form one triangle: its price,
    in Hessian-vector products, counts ``n (d + 1)^2`` multiply-adds a
    block, and the factorisation's ``p^3 / 3``."""
    xp, _, _ = on("array_api_strict", None)
    X, y, _ = make_problem(n_samples, n_features, n_classes)
    objective = bind_objective(
        xp.asarray(X),
        xp.asarray(y),
        xp.full(n_samples, 1.0 / n_samples, dtype=xp.float64),
        n_classes,
        True,
        0.3,
        xp.float64,
    )
    reference = MultinomialLoss(n_classes, True).bind(X, y, None, 0.3)
    n_blocks = 1 if n_classes == 2 else n_classes * (n_classes - 1) // 2
    n_params = (n_features + 1) * n_classes
    work = n_blocks * n_samples * (n_features + 1) ** 2 + n_params**3 / 3
    product = 2 * n_samples * n_features * max(n_classes, 8)
    assert objective.exact_curvature.cost == pytest.approx(work / product, rel=1e-12)
    assert reference.exact_curvature.cost < objective.exact_curvature.cost


def test_own_lbfgs_reaches_the_optimum_of_scipys():
    X, y, sample_weight = make_problem(100, 6, 4)
    objective = MultinomialLoss(4, True).bind(X, y, sample_weight, 1e-2)
    x0 = np.zeros(7 * 4)
    ours = minimize_lbfgs_in_namespace(objective, x0, max_iter=500, tol=1e-8)
    scipys = minimize_scipy_lbfgsb(objective, x0, max_iter=500, tol=1e-8)
    assert ours.converged and scipys.converged
    # Each is above the optimum by at most |g|^2 / (2 mu) <= p tol^2 / (2 mu),
    # for the least curvature mu (halved as a margin for its change between
    # the points), and each value rounds by a few eps of its terms.
    mu = np.linalg.eigvalsh(objective.value_gradient_hessian(scipys.x)[2]())[0] / 2
    excess = x0.size * 1e-8**2 / (2 * mu)
    rounding = 16 * np.finfo(np.float64).eps * scipys.objective
    assert abs(ours.objective - scipys.objective) <= excess + rounding
    # Centred solutions: the intercept row is defined up to a shift.
    centred = [
        r.x.reshape(7, 4) - r.x.reshape(7, 4).mean(axis=1, keepdims=True)
        for r in (ours, scipys)
    ]
    assert_allclose(*centred, atol=1e-6)


def test_the_path_stays_in_the_namespace_of_its_fits():
    """``softmax_regression_path`` on the namespace's arrays: the warm-started
    fits of ``SoftmaxRegression`` on them, stacked in their namespace, equal
    to NumPy's to the solver's tolerance."""
    X, y, _ = make_problem(60, 4, 3)
    xp, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    params = {"Cs": [0.1, 1.0], "tol": 1e-10}
    expected = softmax_regression_path(X, y, **params)
    with sklearn.config_context(array_api_dispatch=True):
        Cs, coefs, intercepts, n_iter = softmax_regression_path(X_xp, y_xp, **params)
        # A column y is said once, and taken for the 1-d labels.
        with pytest.warns(DataConversionWarning) as said:
            column = softmax_regression_path(X_xp, xp.reshape(y_xp, (-1, 1)), **params)
    assert len(said) == 1
    assert_array_equal(to_numpy(column[1]), to_numpy(coefs))
    assert_array_equal(Cs, expected[0])
    assert isinstance(n_iter, np.ndarray) and n_iter.shape == (2,)
    assert type(coefs) is type(intercepts) is type(X_xp)
    assert coefs.shape == expected[1].shape
    assert intercepts.shape == expected[2].shape
    for i, C in enumerate(Cs):
        # Each pair of fits within the bound their gradients give.
        objective = MultinomialLoss(3, True).bind(X, y, None, 1.0 / (C * len(y)))
        first, second = (
            np.vstack([to_numpy(W)[i].T, to_numpy(b)[i]]).ravel()
            for W, b in ((coefs, intercepts), (expected[1], expected[2]))
        )
        distance, bound = distance_and_bound(objective, first, second)
        assert distance <= bound


def test_labels_of_the_namespace_follow_numpy_data_to_the_host():
    """NumPy X and the namespace's y: X chooses the NumPy path, and y is
    taken to the host, for fit, partial_fit and the CV estimator alike."""
    X, y, _ = make_problem(60, 4, 3)
    _, _, (y_xp,) = on("array_api_strict", None, y)
    fits = (
        lambda model, y: model.fit(X, y),
        lambda model, y: model.partial_fit(X, y, classes=[0, 1, 2]),
    )
    for make, fit_on in (
        (lambda: SoftmaxRegression(), fits[0]),
        (lambda: SoftmaxRegression(solver="sgd", random_state=0), fits[1]),
        (lambda: SoftmaxRegressionCV(Cs=2, cv=3), fits[0]),
    ):
        expected = fit_on(make(), y)
        with sklearn.config_context(array_api_dispatch=True):
            model = fit_on(make(), y_xp)
        assert isinstance(model.coef_, np.ndarray)
        assert_array_equal(model.coef_, expected.coef_)


def test_partial_fit_goes_on_from_a_fit_on_the_device():
    """A stream on NumPy chunks starts from a model fitted on Array API
    inputs, whose attributes are on their device, as from its host copy."""
    X, y, _ = make_problem(60, 4, 3)
    _, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    model = fit(SoftmaxRegression(random_state=0), X_xp, y_xp)
    expected = on_the_host(model).partial_fit(X, y)
    assert_array_equal(model.partial_fit(X, y).coef_, expected.coef_)
    assert_array_equal(model.classes_, [0, 1, 2])


def test_refused_options_and_inputs_name_the_problem():
    X, y, _ = make_problem(30, 3, 3)
    _, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    for params in (
        {"l1_ratio": 1.0},
        {"solver": "sgd"},
        {"l1_ratio": 1.0, "l1_groups": "features"},
    ):
        with pytest.raises(ValueError, match="Array API inputs"):
            fit(SoftmaxRegression(**params), X_xp, y_xp)
    with (
        pytest.raises(ValueError, match="partial_fit takes NumPy"),
        sklearn.config_context(array_api_dispatch=True),
    ):
        SoftmaxRegression().partial_fit(X_xp, y_xp, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="SoftmaxRegressionCV takes NumPy"):
        fit(SoftmaxRegressionCV(cv=3), X_xp, y_xp)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit(SoftmaxRegression(), on("array_api_strict", None, X_nan)[2][0], y_xp)
    with pytest.raises(ValueError, match="the sum of their squares"):
        fit(SoftmaxRegression(), on("array_api_strict", None, X * 1e160)[2][0], y_xp)
    for labels in (np.zeros(30, dtype=int), np.zeros(30)):
        with pytest.raises(ValueError, match="only one class"):
            fit(SoftmaxRegression(), X_xp, labels)
        with pytest.raises(ValueError, match="only one class"):
            fit(SoftmaxRegression(), X_xp, on("array_api_strict", None, labels)[2][0])
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    y_continuous = y + 0.5
    for labels, message in ((y_nan, "y contains NaN"), (y_continuous, "label type")):
        with pytest.raises(ValueError, match=message):
            fit(SoftmaxRegression(), X_xp, on("array_api_strict", None, labels)[2][0])
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        fit(SoftmaxRegression(), X_xp, y_xp, sample_weight=-np.ones(30))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fit(SoftmaxRegression(), X_xp, y[:20])


def test_predicting_across_namespaces_is_refused():
    X, y, _ = make_problem(30, 3, 3)
    _, _, (X_xp, y_xp) = on("array_api_strict", None, X, y)
    on_device = fit(SoftmaxRegression(), X_xp, y_xp)
    with pytest.raises(ValueError, match=r"SoftmaxRegression.predict\(\) must use"):
        call(on_device, "predict", X)
    with pytest.raises(ValueError, match="config_context"):
        on_device.predict_proba(X)
    on_host = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="same namespace"):
        call(on_host, "decision_function", X_xp)
    _, _, (X_other,) = on("array_api_strict", "device1", X)
    with pytest.raises(ValueError, match="device"):
        call(on_device, "predict_log_proba", X_other)


@pytest.mark.parametrize(
    "namespace, device",
    [p for p in NAMESPACES if p.values[0] == "torch"],
)
def test_pipeline_and_grid_search_on_the_device(namespace, device):
    """StandardScaler and the search's splits keep the tensors on the
    device; the search picks the C the NumPy search picks. 'auto' picks
    different solvers for the two (exact Newton steps on NumPy data this
    small), so both fit to a tol at which their probabilities agree."""
    X, y, _ = make_problem(90, 4, 3)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SoftmaxRegression(tol=1e-9)),
        {"softmaxregression__C": [0.01, 1.0, 100.0]},
        cv=3,
    )
    expected = clone(search).fit(X, y)
    _, _, (X_xp, y_xp) = on(namespace, device, X, y)
    fitted = fit(search, X_xp, y_xp)
    assert fitted.best_params_ == expected.best_params_
    proba = call(fitted, "predict_proba", X_xp)
    assert type(proba) is type(X_xp) and proba.device == X_xp.device
    assert_allclose(to_numpy(proba), expected.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l2", [0.3, 0.0])
def test_the_penalised_hessian_matches_numpys(n_classes, fit_intercept, l2):
    """The namespace's data term takes the NumPy passes' penalty: the same
    value, gradient and definite Hessian (the penalty on the weights' diagonal,
    the null directions fixed) to rounding, and the same offers: no
    diagonal preconditioner and no Kronecker curvature, which need moments
    of the columns the namespace's data term does not compute."""
    xp, _, _ = on("array_api_strict", None)
    X, y, sample_weight = make_problem(30, 4, n_classes)
    objective = bind_objective(
        xp.asarray(X),
        xp.asarray(y),
        xp.asarray(sample_weight / sample_weight.sum()),
        n_classes,
        fit_intercept,
        l2,
        xp.float64,
    )
    reference = MultinomialLoss(n_classes, fit_intercept).bind(X, y, sample_weight, l2)
    x = np.random.default_rng(0).standard_normal((4 + fit_intercept) * n_classes)
    value, gradient, hessian = objective.value_gradient_hessian(xp.asarray(x))
    expected_value, expected_gradient, expected_hessian = (
        reference.value_gradient_hessian(x)
    )
    assert type(value) is float
    assert value == pytest.approx(expected_value, rel=1e-13)
    assert_allclose(to_numpy(gradient), expected_gradient, rtol=1e-12, atol=1e-15)
    assert_allclose(to_numpy(hessian()), expected_hessian(), rtol=1e-12, atol=1e-15)
    assert objective.hessian_diagonal is None
    assert objective.curvature is None
    assert (objective.exact_curvature is None) == (l2 == 0)
    assert objective.rounding == reference.rounding

"""SoftmaxRegression's behaviour: shapes, dtypes, warnings, errors, state."""

import pickle
import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _problems import distance_and_bound, make_problem, penalised_objective
from _references import coefficient_tolerance
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_softmax import SoftmaxRegression, _blocks, _passes
from sklearn_softmax._heuristics import (
    choose_hessian_dtype,
    choose_n_threads,
)
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import SOLVERS
from sklearn_softmax._threads import blas_thread_limit

SOLVER_NAMES = sorted(SOLVERS)
TIGHT = {"tol": 1e-8, "max_iter": 100_000}


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_two_classes_equal_logistic_regression_with_twice_c(solver, C):
    X, y = load_iris(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[y > 0]), y[y > 0]
    model = SoftmaxRegression(C=C, solver=solver, **TIGHT).fit(X, y)
    reference = LogisticRegression(C=2 * C, tol=1e-12, max_iter=10_000).fit(X, y)

    assert model.coef_.shape == (1, X.shape[1])
    assert model.intercept_.shape == (1,)
    assert model.decision_function(X).shape == (len(y),)
    # A gradient of 1e-8 leaves errors of about 1e-7 in the coefficients.
    assert_allclose(model.coef_, reference.coef_, rtol=1e-5)
    assert_allclose(model.intercept_, reference.intercept_, atol=1e-6)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    assert_array_equal(model.predict(X), reference.predict(X))


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_multiclass_shapes_and_centred_parameters(solver, wine):
    X, y = wine
    model = SoftmaxRegression(solver=solver).fit(X, y)
    assert_array_equal(model.classes_, [0, 1, 2])
    assert model.coef_.shape == (3, X.shape[1])
    assert model.intercept_.shape == (3,)
    assert model.decision_function(X).shape == (len(y), 3)
    assert model.n_iter_.shape == (1,)
    assert model.n_features_in_ == X.shape[1]
    assert_allclose(model.intercept_.sum(), 0, atol=1e-12)
    assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_probabilities(solver, wine):
    X, y = wine
    model = SoftmaxRegression(solver=solver).fit(X, y)
    proba = model.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-10)
    assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    # Softmax of the scores, computed here without the estimator's helpers.
    scores = X @ model.coef_.T + model.intercept_
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert_allclose(proba, expected, rtol=1e-12)


def test_log_proba_stays_finite_where_proba_underflows(wine):
    X, y = wine
    model = SoftmaxRegression(C=1e4, **TIGHT).fit(X, y)
    far = 1e3 * X[:5]
    assert np.any(model.predict_proba(far) == 0)
    assert np.all(np.isfinite(model.predict_log_proba(far)))


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_float32_in_float32_out(solver, wine):
    X, y = wine
    X32 = X.astype(np.float32)
    # float32 gradients carry about 7 significant digits.
    model32 = SoftmaxRegression(solver=solver, tol=1e-5, max_iter=10_000).fit(X32, y)
    model64 = SoftmaxRegression(solver=solver, **TIGHT).fit(X, y)
    for attribute in ("coef_", "intercept_"):
        assert getattr(model32, attribute).dtype == np.float32
    assert model32.decision_function(X32).dtype == np.float32
    assert model32.predict_proba(X32).dtype == np.float32
    assert model32.predict_log_proba(X32).dtype == np.float32
    optimum = penalised_objective(model64, X, y, C=1.0)
    assert penalised_objective(model32, X, y, C=1.0) <= optimum * (1 + 1e-6)
    # A gradient of 1e-5 against a curvature of 1 / (C n) = 1 / 178 in the
    # flattest direction leaves coefficient errors of up to 2e-3.
    assert_allclose(model32.predict_proba(X32), model64.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix])
def test_sparse_equals_dense(solver, container):
    """The same model. Every solver but Newton-CG takes the same path on
    both, to rounding. Newton-CG preconditions sparse and dense data
    differently, so its two fits end at different points within their
    tolerance of the optimum, within the bound their gradients give (see
    ``distance_and_bound``)."""
    X, y, sw = make_problem(n_samples=80, n_features=6, sparse=True)
    sparse = SoftmaxRegression(solver=solver, **TIGHT).fit(container(X), y, sw)
    dense = SoftmaxRegression(solver=solver, **TIGHT).fit(X.toarray(), y, sw)
    if solver != "newton-cg":
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
        assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7, atol=1e-9)
        assert_allclose(
            sparse.predict_proba(container(X)), dense.predict_proba(X.toarray())
        )
        return
    objective = MultinomialLoss(4, fit_intercept=True).bind(
        X.toarray(), y, sw, 1.0 / sw.sum()
    )
    points = [
        np.vstack([model.coef_.T, model.intercept_]).ravel()
        for model in (sparse, dense)
    ]
    distance, bound = distance_and_bound(objective, *points)
    # Gradients of 1e-8 per entry against a least curvature near 1e-2:
    # a bound far below the coefficients, of order 0.1 to 1.
    assert distance <= bound < 1e-4 * np.abs(points[1]).max()
    assert_allclose(
        sparse.predict_proba(container(X)),
        dense.predict_proba(X.toarray()),
        atol=bound,
    )


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_integer_weights_equal_repeated_rows(solver, wine):
    X, y = wine
    counts = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = SoftmaxRegression(solver=solver, **TIGHT).fit(X, y, counts)
    repeated = SoftmaxRegression(solver=solver, **TIGHT).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_string_labels_and_feature_names(solver, wine):
    X, y = wine
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    model = SoftmaxRegression(solver=solver).fit(frame, names)
    assert_array_equal(model.classes_, ["barbera", "barolo", "grignolino"])
    assert_array_equal(model.feature_names_in_, frame.columns)
    assert set(model.predict(frame)) <= set(names)
    assert model.score(frame, names) > 0.95


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_loss_curve_ends_at_the_fitted_objective(solver, wine):
    X, y = wine
    C = 0.5
    model = SoftmaxRegression(C=C, solver=solver, tol=1e-8, max_iter=10_000).fit(X, y)
    assert model.loss_curve_.shape == (model.n_iter_[0],)
    assert_allclose(
        model.loss_curve_[-1], penalised_objective(model, X, y, C), rtol=1e-10
    )
    # The objective at the starting point (all zeros) is log(K).
    assert np.all(model.loss_curve_ < np.log(3))


@pytest.mark.parametrize(
    "solver, penalty",
    [(solver, {}) for solver in SOLVER_NAMES]
    + [
        ("gd", {"l1_ratio": 1.0}),
        ("gd", {"l1_ratio": 1.0, "l1_groups": "features"}),
        ("newton-cg", {"l1_ratio": 1.0, "l1_groups": "features"}),
    ],
)
def test_grad_norm_curve_ends_at_grad_norm(solver, penalty, wine):
    X, y = wine
    tol = 1e-6
    model = SoftmaxRegression(
        solver=solver, C=0.5, tol=tol, max_iter=10_000, **penalty
    ).fit(X, y)
    curve = model.grad_norm_curve_
    assert curve.dtype == np.float64
    assert curve.shape == model.loss_curve_.shape == (model.n_iter_[0],)
    assert model.n_iter_[0] > 0
    assert curve[-1] == model.grad_norm_
    # The curve is the stopping rule's: only its last entry meets tol.
    assert model.converged_ and curve[-1] <= tol
    assert np.all(curve[:-1] > tol)


def test_grad_norm_curve_of_a_fit_stopped_by_max_iter(wine):
    X, y = wine
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxRegression(solver="lbfgs", max_iter=3, tol=1e-12).fit(X, y)
    assert model.grad_norm_curve_.shape == (3,)
    assert model.grad_norm_curve_[-1] == model.grad_norm_ > 1e-12


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_max_iter_warns_once_with_advice(solver, wine):
    X, y = wine
    with pytest.warns(ConvergenceWarning) as record:
        model = SoftmaxRegression(solver=solver, max_iter=2, tol=1e-12).fit(X, y)
    assert len(record) == 1
    message = str(record[0].message)
    assert f"solver='{solver}'" in message
    number = r"[0-9.e+-]+"
    assert re.search(rf"gradient entry at {number}, {number} times tol=1e-12", message)
    assert "after max_iter=2 iterations" in message
    assert "StandardScaler" in message
    assert record[0].filename == __file__
    assert model.n_iter_[0] == 2
    assert model.converged_ is False
    assert model.grad_norm_ > 1e-12


def test_tol_zero_runs_max_iter_and_says_so(wine):
    X, y = wine
    with pytest.warns(ConvergenceWarning, match="above tol=0, after max_iter=3"):
        model = SoftmaxRegression(solver="lbfgs", max_iter=3, tol=0).fit(X, y)
    assert model.n_iter_[0] == 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", ["dense", "sparse", "classification"])
def test_a_tighter_tol_never_ends_at_a_larger_gradient(case):
    # float32 data, where newton-cg's steps near the optimum are limited by
    # the rounding of its float32 products: a step may change the value by
    # its rounding only and raise the gradient by orders. Such a step is not
    # kept (the run stops before it, or returns its iterate of least
    # gradient), so that a tighter tol never ends at a larger gradient.
    if case == "classification":
        X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
        X, C = X.astype(np.float32), 21.54434690031882
    else:
        rng = np.random.RandomState(0)
        X = (rng.randn(600, 12) * (rng.rand(600, 12) < 0.3)).astype(np.float32)
        y, C = rng.randint(0, 3, 600), 1.0
        if case == "sparse":
            X = sp.csr_matrix(X)
    grad_norms = [
        SoftmaxRegression(solver="newton-cg", C=C, tol=tol, max_iter=1000)
        .fit(X, y)
        .grad_norm_
        for tol in (1e-6, 1e-7, 1e-8, 1e-10)
    ]
    assert grad_norms == sorted(grad_norms, reverse=True)


def test_newton_cg_stopped_by_max_iter_returns_its_last_iterate():
    """Unscaled breast cancer data: after ten Newton steps the gradient is
    larger than one step before, while the objective fell by 44% since.
    The model is the last iterate, which the curves end at: the iterate of
    least gradient is returned only where the value fell by no more than
    its rounding since it (a float32 run at its precision)."""
    X, y = load_breast_cancer(return_X_y=True)
    model = SoftmaxRegression(solver="newton-cg", max_iter=10)
    with pytest.warns(ConvergenceWarning, match="after max_iter=10"):
        model.fit(X, y)
    assert model.grad_norm_curve_.min() < model.grad_norm_curve_[-1]
    # Two classes: LogisticRegression's objective with twice the C.
    assert_allclose(
        model.loss_curve_[-1], penalised_objective(model, X, y, 2.0), rtol=1e-10
    )
    assert model.grad_norm_ == model.grad_norm_curve_[-1]


def test_a_float32_fit_at_its_precision_says_what_reaches_further():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    model = SoftmaxRegression(solver="newton-cg", tol=1e-10, max_iter=1000)
    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X.astype(np.float32), y)
    message = str(record[0].message)
    assert "precision of the solver's float32 arithmetic" in message
    assert message.endswith("or fit a float64 copy of X.")
    # A float64 copy reaches a gradient float32's products do not.
    assert (
        SoftmaxRegression(solver="newton-cg", tol=1e-10, max_iter=1000)
        .fit(X, y)
        .grad_norm_
        <= 1e-10
        < model.grad_norm_
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_float32_features_far_from_one_keep_the_products_in_range():
    # Features about 1e13: the gradient's entries are about that large, and
    # a Hessian product along it, x x^T v, would pass float32's 3.4e38.
    X, y = make_classification(
        300, 5, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    X = (X * 1e13).astype(np.float32)
    model = SoftmaxRegression(solver="newton-cg").fit(X, y)
    reference = SoftmaxRegression(solver="newton-cg").fit(X.astype(np.float64), y)
    # The float32 fit stops at float32's precision, where its gradient,
    # of entries about |x| eps_32 = 1e6, is far above tol. Dense float32
    # features of about 1e8 and more may leave its intercepts unfitted
    # there (see test_float32_hessian_products_of_huge_features_stay_in_range:
    # 0.3% of log-loss on that data, 0.2% on this data with SandyBridge's
    # kernels, none with Haswell's), where the float64 fit, whose exact
    # steps are equilibrated, fits them: within 1% of its log-loss, far
    # from the zero model's log 3 that overflowing products gave.
    assert log_loss(y, model.predict_proba(X)) == pytest.approx(
        log_loss(y, reference.predict_proba(X)), rel=1e-2
    )


@pytest.fixture(scope="module")
def unscaled_optimum():
    """Three classes, two redundant features, and the optimal log-loss of
    their unpenalised fit: that of the same features scaled by ``s`` with
    any ``C`` of 1 and more, whose penalty on weights of ``1 / s`` is then
    below float64's rounding of the log-loss for ``s`` of 1e10 and more."""
    X, y = make_classification(2000, 20, n_informative=10, n_classes=3, random_state=0)
    model = SoftmaxRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    return X, y, log_loss(y, model.predict_proba(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("scale", [1e10, 1e20, 1e36])
@pytest.mark.parametrize("precision", ["auto", "mixed", "full"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_newton_cg_fits_the_intercepts_beside_huge_features(
    unscaled_optimum, scale, precision, sparse
):
    """Features of 1e10 to 1e36 beside the intercepts' column of ones. The
    Hessian-vector products of 'mixed' (and of 'auto' above 1e5
    multiply-adds) passed float32's range even with the direction scaled to
    entries of one (``x x^T v`` of 1e40 and more), or the float32 copy of
    1e36 did, and the fit returned the zero model; and the exact Hessian,
    whose factorisation took it for singular, gave a pseudo-inverse that
    left the intercepts out of every step (they ended at 1e-20, 0.3% of
    log-loss above the optimum). The model is the optimum now, within
    float64's rounding of the log-loss. (The sparse fits, whose products
    run on float32 values of the same scale and whose preconditioner is
    not factored, were right before; they are checked alike.)"""
    X, y, optimum = unscaled_optimum
    X = X * scale
    if sparse:
        X = sp.csr_matrix(X)
    model = SoftmaxRegression(solver="newton-cg", precision=precision)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.fit(X, y)
    assert log_loss(y, model.predict_proba(X)) == pytest.approx(optimum, rel=1e-9)


def test_exact_steps_on_collinear_features_of_wide_scales_find_the_least_norm():
    """Without a penalty, a feature and its copy scaled by 1e6 leave a line
    of minimisers; exact steps take the one of least norm, as conjugate
    gradients from zero do, all of the weight on the larger copy. (The
    Hessian's diagonal spans 1e12 here: its pseudo-inverse is found through
    the equilibrated matrix, whose own pseudo-inverse split the weight
    between the two copies.)"""
    rng = np.random.RandomState(0)
    x1, x2 = rng.randn(400), rng.randn(400)
    X = np.column_stack([x1, x2, 1e6 * x1])
    y = (x1 + 0.5 * x2 + rng.randn(400) > 0).astype(int) + (x2 > 1)
    params = dict(C=np.inf, tol=1e-10, max_iter=500)
    exact = SoftmaxRegression(solver="newton-cholesky", **params).fit(X, y)
    reference = SoftmaxRegression(solver="newton-cg", **params).fit(X, y)
    assert exact.converged_ and reference.converged_
    assert np.abs(exact.coef_[:, 0]).max() < 1e-3 * np.abs(exact.coef_[:, 2]).max()
    assert_allclose(exact.coef_[:, 2], reference.coef_[:, 2], rtol=1e-6)


def float32_at_scale(scale, sparse=False):
    """Three classes on 20 independent features scaled by ``scale`` and
    rounded to float32, and the optimal log-loss of that data: that of the
    rounded data scaled back to one, in float64, with ``C scale^2``, the
    same problem."""
    X, y = make_classification(
        2000, 20, n_informative=10, n_redundant=0, n_classes=3, random_state=0
    )
    X = (X * scale).astype(np.float32)
    unit = X.astype(np.float64) / scale
    reference = SoftmaxRegression(C=scale**2, tol=1e-10, max_iter=1000).fit(unit, y)
    return (
        (sp.csr_matrix(X) if sparse else X),
        y,
        log_loss(y, reference.predict_proba(unit)),
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("scale", [1e5, 1e6])
def test_float32_newton_cg_fits_the_intercepts_beside_large_features(scale):
    """float32 features of 1e5 and 1e6, as unscaled amounts often are: the
    Kronecker preconditioner, whose eigendecomposition lost the intercepts'
    direction in the rounding of the features' moments, left them out of
    its steps (0.3% above the optimal log-loss). Within float32's rounding
    of the objective now, 16 of its epsilons (2e-6), with room."""
    X, y, optimum = float32_at_scale(scale)
    model = SoftmaxRegression(solver="newton-cg").fit(X, y)
    assert log_loss(y, model.predict_proba(X)) == pytest.approx(optimum, rel=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("scale", [1e20, 1e36])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_float32_hessian_products_of_huge_features_stay_in_range(scale, sparse):
    """float32 features of 1e20 and 1e36: the products scale their
    directions by X's largest entry too and stay in range, where dense ones
    overflowed and the fit returned the zero model (log-loss log 3); the
    sparse ones were right before and are checked alike."""
    X, y, optimum = float32_at_scale(scale, sparse)
    model = SoftmaxRegression(solver="newton-cg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.fit(X, y)
    # From features of about 1e8, the dense fit stops at float32's precision
    # with its intercepts unfitted, 0.3% above the optimal log-loss (a
    # Newton direction's weights are then 1e-8 of its intercepts and
    # smaller, lost in float32's rounding of the scores); the sparse fit
    # reaches it.
    assert log_loss(y, model.predict_proba(X)) == pytest.approx(optimum, rel=1e-2)


def test_gd_reaches_a_gradient_near_its_rounding(wine):
    # Near the optimum the objective's values, rounded to about eps times
    # the objective, cannot tell steps apart: 'gd' then checks its steps on
    # the gradient, whose rounding is about eps times its terms (|x_ij| of
    # the scaled data below 5, |p - y| <= 1).
    X, y = wine
    model = SoftmaxRegression(solver="gd", tol=1e-12, max_iter=10**4).fit(X, y)
    assert model.converged_
    assert model.grad_norm_ <= 1e-12
    # At its precision, 'gd' says so and what reaches further, as the other
    # solvers do.
    with pytest.warns(
        ConvergenceWarning, match="lost in the rounding.*tol is tighter than it"
    ):
        model = SoftmaxRegression(solver="gd", tol=0, max_iter=10**5).fit(X, y)
    assert model.n_iter_[0] < 10**4


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_warm_start_resumes_from_the_solution(solver, wine):
    X, y = wine
    model = SoftmaxRegression(solver=solver, warm_start=True, tol=1e-6).fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)
    assert model.n_iter_[0] <= 1
    assert_allclose(model.coef_, first, rtol=1e-5, atol=1e-7)


def test_warm_start_two_classes_resumes_from_the_solution(wine):
    X, y = wine
    X, y = X[y > 0], y[y > 0]
    model = SoftmaxRegression(warm_start=True, tol=1e-6).fit(X, y)
    model.fit(X, y)
    assert model.n_iter_[0] <= 1


def test_warm_start_with_other_classes_raises(wine):
    X, y = wine
    model = SoftmaxRegression(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start needs the same classes"):
        model.fit(X[y > 0], y[y > 0])


@pytest.mark.parametrize("n_features", [5, 13 + 3])
def test_warm_start_with_other_features_raises(wine, n_features):
    X, y = wine
    model = SoftmaxRegression(warm_start=True).fit(X, y)
    coef = model.coef_.copy()
    other = np.resize(X, (X.shape[0], n_features))
    with pytest.raises(ValueError, match="same number of features"):
        model.fit(other, y)
    assert_allclose(model.coef_, coef, rtol=0, atol=0)
    assert model.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("attribute", ["coef_", "intercept_"])
def test_warm_start_from_non_finite_parameters_raises(wine, attribute):
    X, y = wine
    model = SoftmaxRegression(warm_start=True).fit(X, y)
    getattr(model, attribute)[0] = np.nan
    with pytest.raises(ValueError, match="hold NaN or infinity"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "attribute, shape",
    [("coef_", (2, 13)), ("coef_", (4, 13)), ("coef_", (39,)), ("intercept_", (2,))],
)
def test_warm_start_from_parameters_of_another_shape_raises(wine, attribute, shape):
    X, y = wine
    model = SoftmaxRegression(warm_start=True).fit(X, y)
    setattr(model, attribute, np.zeros(shape))
    with pytest.raises(ValueError, match=rf"{attribute} .* of shape \({shape[0]},"):
        model.fit(X, y)


def test_fit_does_not_change_parameters(wine):
    X, y = wine
    model = SoftmaxRegression(C=3.0, solver="gd", max_iter=500)
    params = model.get_params()
    model.fit(X, y)
    assert model.get_params() == params


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inputs_are_not_modified(sparse, dtype):
    X, y, sw = make_problem(sparse=sparse, dtype=dtype)
    copies = [X.copy(), y.copy(), sw.copy()]
    model = SoftmaxRegression().fit(X, y, sample_weight=sw)
    model.predict_proba(X)
    model.decision_function(X)
    for original, kept in zip((X, y, sw), copies, strict=True):
        if sp.issparse(original):
            original, kept = original.toarray(), kept.toarray()
        assert_array_equal(original, kept)


def test_failed_fit_leaves_previous_fit_intact(wine):
    X, y = wine
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    model = SoftmaxRegression().fit(frame, y)
    state = {name: pickle.dumps(value) for name, value in vars(model).items()}
    bad = X[:, :5].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, y)
    with pytest.raises(ValueError, match="only one class"):
        model.fit(X[:, :4], np.zeros_like(y))
    assert {name: pickle.dumps(value) for name, value in vars(model).items()} == state
    assert_array_equal(model.feature_names_in_, frame.columns)


def test_unfitted_model_raises():
    with pytest.raises(NotFittedError):
        SoftmaxRegression().predict(np.ones((2, 3)))


def _bad_input_cases():
    X, y, sw = make_problem()
    nan, inf = X.copy(), X.copy()
    nan[3, 1], inf[2, 0] = np.nan, np.inf
    negative = sw.copy()
    negative[0] = -1.0
    return [
        pytest.param({"X": nan}, {}, "Input X contains NaN", id="nan"),
        pytest.param({"X": inf}, {}, "Input X contains infinity", id="inf"),
        pytest.param(
            {"X": X * 1e160},
            {},
            "magnitude up to .* the sum of their squares over its 40 samples",
            id="huge",
        ),
        pytest.param(
            {"y": np.zeros_like(y)},
            {},
            "only one class: 0",
            id="one-class",
        ),
        pytest.param(
            {"y": y[:-1]}, {}, "inconsistent numbers of samples", id="lengths"
        ),
        pytest.param(
            {"sample_weight": negative},
            {},
            "Negative values in data passed to `sample_weight`",
            id="negative-weights",
        ),
        pytest.param(
            {"sample_weight": np.zeros_like(sw)},
            {},
            "sample_weight sums to zero|Sample weights must contain at least one",
            id="zero-weights",
        ),
        pytest.param(
            {"sample_weight": np.where(y == 1, 1.0, 0.0)},
            {},
            "only one class has any",
            id="one-weighted-class",
        ),
        pytest.param(
            {"sample_weight": sw[:-1]}, {}, "sample_weight.shape", id="weight-length"
        ),
        # scikit-learn checks an array's values, not a scalar's.
        pytest.param(
            {"sample_weight": np.nan},
            {},
            "Input sample_weight contains NaN or infinity",
            id="nan-scalar-weight",
        ),
        pytest.param(
            {"sample_weight": np.inf},
            {},
            "Input sample_weight contains NaN or infinity",
            id="inf-scalar-weight",
        ),
        pytest.param(
            {"sample_weight": np.full_like(sw, 1e307)},
            {},
            "sample_weight sums to more than a float64 holds",
            id="weights-sum-overflows",
        ),
        pytest.param(
            {"sample_weight": None},
            {"class_weight": {0: 1e308}},
            "sample_weight times class_weight sums to more than a float64",
            id="class-weights-sum-overflows",
        ),
        pytest.param(
            {"sample_weight": None},
            {"C": 1e-320},
            "the penalty's strength 1 / \\(C S\\) overflows",
            id="C-too-small",
        ),
        pytest.param(
            {"sample_weight": np.full_like(sw, 1e-320)},
            {},
            "total sample weight S=.* is too small",
            id="weights-too-small",
        ),
        pytest.param({}, {"solver": "newton"}, "'solver' parameter", id="solver"),
        pytest.param({}, {"C": 0.0}, "'C' parameter", id="C-zero"),
        pytest.param({}, {"C": -1.0}, "'C' parameter", id="C-negative"),
        pytest.param({}, {"penalty": "l3"}, "'penalty' parameter", id="penalty"),
        pytest.param(
            {}, {"l1_groups": "rows"}, "'l1_groups' parameter", id="l1-groups"
        ),
        pytest.param(
            {},
            {"l1_ratio": 1.0, "solver": "newton-cg"},
            "l1_ratio=1 has an L1 part, which solver='newton-cg' cannot",
            id="l1-newton-cg",
        ),
        pytest.param(
            {},
            {"l1_ratio": 0.5, "solver": "lbfgs"},
            "Use solver='gd'",
            id="elasticnet-lbfgs",
        ),
        pytest.param(
            {},
            {"l1_ratio": 1.0, "l1_groups": "features", "solver": "lbfgs"},
            "l1_groups='features' has a group-norm part, which solver='lbfgs'.*"
            "'newton-cg' \\(with Newton steps on the support\\)",
            id="group-lbfgs",
        ),
        pytest.param({}, {"l1_ratio": 1.5}, "'l1_ratio' parameter", id="l1-ratio"),
        pytest.param({}, {"max_iter": -1}, "'max_iter' parameter", id="max_iter"),
        pytest.param({}, {"n_jobs": 1.5}, "'n_jobs' parameter", id="n_jobs"),
        pytest.param({}, {"tol": -1.0}, "'tol' parameter", id="tol"),
    ]


@pytest.mark.parametrize("data, params, message", _bad_input_cases())
def test_bad_input_raises_value_error(data, params, message):
    X, y, sw = make_problem()
    arguments = {"X": X, "y": y, "sample_weight": sw} | data
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(**params).fit(**arguments)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "decision_function"]
)
def test_predict_with_wrong_number_of_features_raises(method):
    X, y, _ = make_problem()
    model = SoftmaxRegression().fit(X, y)
    message = "has 3 features, but SoftmaxRegression is expecting 5 features"
    with pytest.raises(ValueError, match=message):
        getattr(model, method)(X[:, :3])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_exact_steps_that_memory_cannot_hold_say_so(n_classes, monkeypatch):
    # A model of 50000 sparse features and 20 classes asked NumPy for 3.5
    # TiB; the allocation is made to fail here, whatever the machine.
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(_passes.DataPasses, "_pair_grams", no_memory)
    X, y, _ = make_problem(n_classes=n_classes)
    model = SoftmaxRegression(solver="newton-cholesky")
    n_parameters = (X.shape[1] + 1) * (1 if n_classes == 2 else n_classes)
    message = (
        f"solver='newton-cholesky' forms the Hessian of the model's {n_parameters} "
        "parameters.*Use solver='newton-cg'"
    )
    with pytest.raises(MemoryError, match=message):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
    # Other solvers' memory errors are left as they are.
    monkeypatch.setattr(_passes.DataPasses, "value_and_gradient", no_memory)
    with pytest.raises(MemoryError, match=r"^Unable to allocate$"):
        SoftmaxRegression(solver="lbfgs").fit(X, y)


def test_clone_of_fitted_model_is_unfitted(wine):
    X, y = wine
    model = clone(SoftmaxRegression().fit(X, y))
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("C", [np.float32(0.5), np.float16(0.5), np.longdouble(0.5)])
@pytest.mark.parametrize(
    ("solver", "l1_ratio"),
    [("newton-cholesky", 0.0), ("newton-cg", 0.0), ("lbfgs", 0.0), ("gd", 0.5)],
)
def test_c_of_any_real_type_gives_the_model_of_its_float(wine, C, solver, l1_ratio):
    # A NumPy float32 C (as a grid of float32 values hands a search) made
    # the penalty a float32 number: the solvers stopped at its rounding,
    # with a ConvergenceWarning, 3e-4 from the model.
    X, y = wine
    params = {"solver": solver, "l1_ratio": l1_ratio, "tol": 1e-8}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(C=C, **params).fit(X, y)
    reference = SoftmaxRegression(C=0.5, **params).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(model.intercept_, reference.intercept_)


def test_a_fit_reads_the_parameter_names_no_more_than_scikit_learn_does(wine):
    # Reading the signature for the names takes about a twentieth of a
    # millisecond, a tenth of a small fit: the estimator reads them once
    # per class.
    calls = []

    class Counted(SoftmaxRegression):
        @classmethod
        def _get_param_names(cls):
            calls.append(cls)
            return super()._get_param_names()

    X, y = wine
    model = Counted(C=2.0, class_weight="balanced")
    model.fit(X, y)
    calls.clear()
    model.fit(X, y)
    # scikit-learn's validation of the parameters reads them once a fit.
    assert len(calls) <= 1
    assert model._parameters() == model.get_params(deep=False)
    assert model._fitted_objective["class_weight"] == "balanced"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_solver_is_recorded_and_leaves_the_parameter_alone():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = SoftmaxRegression().fit(X, y)
    assert model.solver == "auto"
    # 15 parameters: exact Newton steps; digits' 650: conjugate gradients.
    assert model.solver_ == "newton-cholesky"
    X_digits, y_digits = load_digits(return_X_y=True)
    assert SoftmaxRegression(max_iter=1).fit(X_digits, y_digits).solver_ == "newton-cg"
    assert SoftmaxRegression(solver="lbfgs").fit(X, y).solver_ == "lbfgs"


@pytest.mark.parametrize(
    ("solver", "n_samples", "n_threads", "expected_passes", "expected_blas"),
    [
        ("newton-cg", 150, None, 1, 1),
        ("lbfgs", 150, None, 1, 1),
        ("newton-cg", 20_000, None, 3, 1),
        ("newton-cg", 150, 1, 1, 1),
        ("newton-cg", 150, 3, 3, 1),
    ],
    ids=[
        "heuristic-small-problem",
        "heuristic-small-problem-lbfgs",
        "heuristic-large-problem",
        "one",
        "three",
    ],
)
def test_n_threads_reach_the_passes_and_blas_during_the_solver_only(
    solver, n_samples, n_threads, expected_passes, expected_blas, monkeypatch
):
    """The passes get the threads n_threads sets, or the heuristic's count
    within the enclosing limit; BLAS is held to one thread while the solver
    runs, and its limit is restored after."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 100))
    y = rng.integers(3, size=n_samples)
    blas_threads, pass_threads = [], []
    solve, bind = SOLVERS[solver], MultinomialLoss.bind

    def spy_solve(*args, **kwargs):
        blas_threads.extend(
            pool["num_threads"]
            for pool in threadpool_info()
            if pool["user_api"] == "blas"
        )
        return solve(*args, **kwargs)

    def spy_bind(*args, **kwargs):
        pass_threads.append(kwargs["n_threads"])
        return bind(*args, **kwargs)

    monkeypatch.setitem(SOLVERS, solver, spy_solve)
    monkeypatch.setattr(MultinomialLoss, "bind", spy_bind)
    with threadpool_limits(limits=3, user_api="blas"):
        before = [pool["num_threads"] for pool in threadpool_info()]
        SoftmaxRegression(solver=solver, n_threads=n_threads, tol=1e-3).fit(X, y)
        after = [pool["num_threads"] for pool in threadpool_info()]
    assert blas_threads and set(blas_threads) == {expected_blas}
    assert pass_threads == [expected_passes]
    assert after == before


def test_thread_heuristic_scales_with_the_work():
    small = np.zeros((100, 10))
    large = np.zeros((100_000, 100))
    assert choose_n_threads(small, n_classes=3, available=8) == 1
    assert choose_n_threads(large, n_classes=10, available=8) == 8
    assert choose_n_threads(large, n_classes=10, available=2) == 2
    # A sparse matrix counts its stored entries, not its shape.
    sparse_large = sp.random(100_000, 100, density=0.001, format="csr", random_state=0)
    assert choose_n_threads(sparse_large, n_classes=10, available=8) == 1

    # And at most one thread per d K of them, whose d x K partial sums
    # then take no more memory than X.
    def stored(n_samples, n_features, n_stored):
        indptr = np.linspace(0, n_stored, n_samples + 1).astype(np.int64)
        indices = np.arange(n_stored) % n_features
        return sp.csr_matrix(
            (np.ones(n_stored), indices, indptr), (n_samples, n_features)
        )

    sparse_many = stored(100_000, 1_000, 4_000_000)
    assert choose_n_threads(sparse_many, n_classes=10, available=8) == 8
    assert choose_n_threads(sparse_many, n_classes=1_000, available=8) == 4
    sparse_wide = stored(10_000, 100_000, 1_000_000)
    assert choose_n_threads(sparse_wide, n_classes=20, available=8) == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_memory_of_a_fit_beyond_X(order, solver):
    """The memory a fit takes beyond X is O(n K + d K), far below X's size,
    and a copy of Fortran-ordered X in C order, as LogisticRegression makes
    one."""
    rng = np.random.default_rng(0)
    n_samples, n_features, n_classes = 20_000, 500, 3
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    X = np.asarray(X, order=order)
    y = rng.integers(n_classes, size=n_samples)
    tracemalloc.start()
    try:
        SoftmaxRegression(solver=solver, max_iter=5).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A handful of n x K arrays, with room for Python's own bookkeeping.
    allowed = 16 * n_samples * n_classes * X.itemsize + 2**20
    assert allowed < X.nbytes / 4
    if order == "F":
        allowed += X.nbytes
    if solver == "newton-cholesky":
        # Exact Newton steps hold the Hessian, p x p for p = (d + 1) K
        # parameters, and its factor: O(p^2), here as large as X; and they
        # run on a float64 copy of float32 X. Forming the Hessian, each
        # thread holds a block of rows of [X, 1] in float64 and its weighted
        # copy, and the threads one block's K (K - 1) / 2 matrices of
        # (d + 1)^2 entries.
        n_params = (n_features + 1) * n_classes
        allowed += 3 * n_params**2 * 8 + 2 * X.nbytes
        n_threads = choose_n_threads(X, n_classes, blas_thread_limit())
        rows = _blocks.dense_blocks(n_samples, n_features, 8, n_classes)[0]
        allowed += n_threads * 2 * (rows.stop - rows.start) * (n_features + 1) * 8
        allowed += n_classes * (n_classes - 1) // 2 * (n_features + 1) ** 2 * 8
    assert peak < allowed, (peak, X.nbytes)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_memory_of_stochastic_steps_beyond_X(solver, method, dtype):
    """The stochastic solvers copy minibatches, not X: the objective on all
    the data (at the start and end of a fit, after each partial_fit call)
    reads X where it lies, and the curvature bound behind the default step
    multiplies X in its own dtype (float64 vectors had NumPy convert
    float32 X to float64 for each product)."""
    rng = np.random.default_rng(0)
    n_samples, n_features, n_classes = 20_000, 1000, 3
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.integers(n_classes, size=n_samples)
    model = SoftmaxRegression(solver=solver, random_state=0)
    tracemalloc.start()
    try:
        if method == "fit":
            model.set_params(max_iter=2).fit(X, y)
        else:
            model.partial_fit(X, y, classes=np.arange(n_classes))
            model.partial_fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A handful of n x K arrays and of n-vectors, with room for Python's
    # own bookkeeping.
    allowed = 16 * n_samples * (n_classes + 1) * 8 + 2**20
    assert allowed < X.nbytes / 4
    assert peak < allowed, (peak, X.nbytes)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memory_of_early_stopping_beyond_X(dtype):
    """Early stopping copies the samples it holds out, not those it trains
    on: they are read where they lie, the others of weight zero."""
    rng = np.random.default_rng(0)
    n_samples, n_features, n_classes = 20_000, 1000, 3
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.integers(n_classes, size=n_samples)
    model = SoftmaxRegression(
        solver="sgd", early_stopping=True, validation_fraction=0.1, max_iter=2
    )
    tracemalloc.start()
    try:
        model.set_params(random_state=0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    allowed = 0.1 * X.nbytes + 16 * n_samples * (n_classes + 1) * 8 + 2**20
    assert allowed < X.nbytes / 2
    assert peak < allowed, (peak, X.nbytes)


def test_scores_take_the_dtype_of_the_sum_of_their_terms(wine):
    # The intercepts are added in place: a wider intercept_ set by hand
    # widens the scores first, as the sum did.
    X, y = wine
    model = SoftmaxRegression().fit(X.astype(np.float32), y)
    model.intercept_ = model.intercept_.astype(np.float64)
    scores = model.decision_function(X.astype(np.float32))
    assert scores.dtype == np.float64
    expected = X.astype(np.float32) @ model.coef_.T + model.intercept_
    assert_array_equal(scores, expected)


@pytest.mark.parametrize("n_classes", [2, 20])
@pytest.mark.parametrize("method", ["predict_proba", "predict_log_proba"])
def test_probabilities_are_made_in_the_memory_of_the_scores(method, n_classes):
    """SciPy's softmax and log-softmax, to the last bit, with one n x K
    array beside the scores for the log-probabilities and none for the
    probabilities (SciPy's took three and four in all)."""
    rng = np.random.default_rng(0)
    n_samples, n_features = 100_000, 5
    X = rng.standard_normal((n_samples, n_features))
    y = rng.integers(n_classes, size=n_samples)
    model = SoftmaxRegression(max_iter=3).fit(X[:2000], y[:2000])
    scores = model.decision_function(X)
    if n_classes == 2:
        scores = np.stack([-0.5 * scores, 0.5 * scores], axis=1)
    expected = (softmax if method == "predict_proba" else log_softmax)(scores, axis=1)
    del scores
    tracemalloc.start()
    try:
        result = getattr(model, method)(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_array_equal(result, expected)
    n_by_k = 8 * n_samples * n_classes
    others = 1 if method == "predict_log_proba" else 0
    # The two-class scores come as one column first, then its two.
    slack = 2**20 + 4 * 8 * n_samples
    assert peak <= (1 + others) * n_by_k + slack, peak / n_by_k


@pytest.mark.parametrize("sparse", [False, True])
def test_mixed_precision_reaches_the_full_precision_optimum(sparse):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    tol = 1e-8
    full = SoftmaxRegression(precision="full", tol=tol).fit(X, y)
    mixed = SoftmaxRegression(precision="mixed", tol=tol).fit(X, y)
    assert mixed.coef_.dtype == np.float64
    # Within the tol-ball of the optimum (see the thread-count test), and
    # the same number of Newton steps: the float32 products only perturb
    # each step's conjugate-gradient solve.
    assert_allclose(mixed.coef_, full.coef_, rtol=0, atol=tol * X.shape[0])
    assert_allclose(mixed.intercept_, full.intercept_, rtol=0, atol=tol * X.shape[0])
    assert abs(int(mixed.n_iter_[0]) - int(full.n_iter_[0])) <= 1


def test_precision_heuristic():
    small, large = np.zeros((100, 10)), np.zeros((2_000, 50))
    sparse_small = sp.csr_matrix((2_000, 50))
    assert choose_hessian_dtype(large, 3, "newton-cg", "auto") == np.float32
    assert choose_hessian_dtype(small, 3, "newton-cg", "auto") is None
    # For sparse data, 'auto' copies the stored values to float32 only while
    # they number at most 2 (n + d) K; 'mixed' copies them whatever their count.
    n_samples, n_features, n_classes = 2_000, 50, 3
    bound = 2 * (n_samples + n_features) * n_classes
    for n_stored, expected in [(bound, np.float32), (bound + 1, None)]:
        X = sp.random(n_samples, n_features, density=n_stored / 100_000, random_state=0)
        assert X.nnz == n_stored
        assert choose_hessian_dtype(X, n_classes, "newton-cg", "auto") == expected
    sparse_large = sp.csr_matrix(np.ones((2_000, 50)))
    assert choose_hessian_dtype(sparse_large, 3, "newton-cg", "auto") is None
    assert choose_hessian_dtype(sparse_large, 3, "newton-cg", "mixed") == np.float32
    assert choose_hessian_dtype(sparse_small, 3, "newton-cg", "mixed") == np.float32
    assert choose_hessian_dtype(small, 3, "newton-cg", "mixed") == np.float32
    assert choose_hessian_dtype(large, 3, "newton-cg", "full") is None
    # float32 data has no lower precision to go to; other solvers use no
    # Hessian products.
    assert (
        choose_hessian_dtype(large.astype(np.float32), 3, "newton-cg", "mixed") is None
    )
    assert choose_hessian_dtype(large, 3, "lbfgs", "mixed") is None


@pytest.mark.parametrize("precision", ["auto", "mixed", "full"])
def test_memory_beyond_dense_X_by_precision(precision):
    """No precision copies dense X: mixed precision converts it a block of
    rows at a time, into one buffer per thread."""
    rng = np.random.default_rng(0)
    n_samples, n_features, n_classes, n_threads = 10_000, 500, 3, 2
    X = rng.standard_normal((n_samples, n_features))
    y = rng.integers(n_classes, size=n_samples)
    assert choose_hessian_dtype(X, n_classes, "newton-cg", "auto") == np.float32
    tracemalloc.start()
    try:
        SoftmaxRegression(precision=precision, tol=1e-3, n_threads=n_threads).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    work = 16 * n_samples * n_classes * X.itemsize + 2**20
    # Each thread's float32 buffer holds a block of about _BLOCK_BYTES of X.
    buffers = n_threads * _blocks._BLOCK_BYTES // 2 if precision != "full" else 0
    # A float32 copy of X would be X.nbytes / 2.
    assert work + buffers < X.nbytes / 4
    assert peak < work + buffers, (peak, X.nbytes)


def _peak_of_a_sparse_fit(n_samples, n_features, n_classes, per_row, **params):
    """A CSR problem with ``per_row`` stored values a row; the tracemalloc
    peak of a fit on it; and the bound O(nK + dK) that the peak must keep
    beyond any copy of the stored values: a handful of n x K and d x K
    float64 arrays."""
    rng = np.random.default_rng(0)
    indices = rng.integers(n_features, size=(n_samples, per_row)).ravel()
    indptr = np.arange(0, n_samples * per_row + 1, per_row)
    values = rng.standard_normal(indices.size)
    X = sp.csr_matrix((values, indices, indptr), shape=(n_samples, n_features))
    # In canonical form, which a fit takes without a copy: sorted indices,
    # the values of repeated ones added.
    X.sum_duplicates()
    y = rng.integers(n_classes, size=n_samples)
    tracemalloc.start()
    try:
        SoftmaxRegression(tol=1e-3, **params).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    work = 16 * (n_samples + n_features) * n_classes * X.dtype.itemsize + 2**20
    return X, peak, work


@pytest.mark.parametrize("precision", ["auto", "mixed", "full"])
def test_memory_beyond_sparse_X_by_precision(precision):
    """For CSR X, 'mixed' copies the stored values in float32 (the indices
    are shared); 'auto', with more stored values than 2 (n + d) K, keeps
    float64 and copies nothing."""
    X, peak, work = _peak_of_a_sparse_fit(5_000, 20_000, 3, 800, precision=precision)
    values32 = X.data.nbytes // 2
    assert work < values32
    copy = values32 if precision == "mixed" else 0
    assert copy <= peak < copy + work, (peak, X.data.nbytes)


def test_auto_copies_sparse_values_within_the_memory_of_the_fit():
    """With at most 2 (n + d) K stored values, 'auto' copies them in
    float32, a copy no larger than a float64 n x K and a d x K array: the
    peak stays within the bound of the test above, copy included."""
    n_samples, n_features, n_classes = 5_000, 2_000, 20
    X, peak, work = _peak_of_a_sparse_fit(n_samples, n_features, n_classes, 40)
    assert choose_hessian_dtype(X, n_classes, "newton-cg", "auto") == np.float32
    assert X.data.nbytes // 2 <= 8 * (n_samples + n_features) * n_classes
    assert peak < work, (peak, work)


def test_an_enclosing_blas_limit_caps_the_threads(monkeypatch):
    """With n_threads=None, the BLAS limit at fit time caps the passes."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 100))
    y = rng.integers(3, size=X.shape[0])
    assert choose_n_threads(X, 3, available=8) > 1
    pass_threads, bind = [], MultinomialLoss.bind

    def spy_bind(*args, **kwargs):
        pass_threads.append(kwargs["n_threads"])
        return bind(*args, **kwargs)

    monkeypatch.setattr(MultinomialLoss, "bind", spy_bind)
    with threadpool_limits(limits=1, user_api="blas"):
        assert blas_thread_limit() == 1
        SoftmaxRegression(max_iter=2, tol=1e-2).fit(X, y)
    assert pass_threads == [1]


@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 2: 0.5}])
def test_class_weight_equals_the_sample_weights_it_stands_for(wine, class_weight):
    X, y = wine
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    if class_weight == "balanced":
        totals = np.bincount(y, weights=sw)
        per_class = totals.sum() / (3 * totals)
    else:
        per_class = np.array([2.0, 1.0, 0.5])
    tol = 1e-10
    model = SoftmaxRegression(class_weight=class_weight, tol=tol)
    model.fit(X, y, sample_weight=sw)
    effective = sw * per_class[y]
    reference = SoftmaxRegression(tol=tol).fit(X, y, sample_weight=effective)
    # Within the tol-ball of the one optimum (radius tol C S in the weights);
    # the same weights take the solver along the same path, intercepts too.
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=tol * effective.sum())
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=1e-8)


def test_class_weight_labels_outside_y_follow_logistic_regression(wine):
    """As scikit-learn's compute_class_weight: a dict that weighs every
    class of y may name other labels too (a fold, or one of
    OneVsOneClassifier's pairs, fits some of the classes); the model is
    that of the dict without them, as LogisticRegression's is."""
    X, y = wine
    extra = SoftmaxRegression(class_weight={0: 1.0, 1: 2.0, 2: 0.5, 7: 3.0})
    plain = SoftmaxRegression(class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert_array_equal(extra.fit(X, y).coef_, plain.fit(X, y).coef_)
    pair = y < 2
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    ours = SoftmaxRegression(class_weight=weights, C=0.5, tol=1e-10)
    theirs = LogisticRegression(
        class_weight=weights, solver="newton-cholesky", tol=1e-12, max_iter=1000
    )
    ours.fit(X[pair], y[pair])
    theirs.fit(X[pair], y[pair])
    # Two classes: LogisticRegression's C is twice ours, and the least
    # curvature of the binomial objective at least its penalty, 1 / S.
    total = np.sum(np.where(y[pair] == 1, 2.0, 1.0))
    atol = coefficient_tolerance(X.shape[1] + 1, 1e-10, 1 / total)
    assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=atol)


def test_class_weight_leaves_sample_weight_alone(wine):
    X, y = wine
    sw = np.ones(len(y))
    SoftmaxRegression(class_weight="balanced").fit(X, y, sample_weight=sw)
    assert_allclose(sw, 1.0, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ({0: 1.0, 7: 2.0}, "labels that are not classes of y: \\[7\\]"),
        # A string key among integer classes shows as the string it is.
        ({"1": 2.0, 7: 1.0}, "not classes of y: \\['1', 7\\]"),
        ({0: -1.0}, "non-negative"),
        ({0: np.nan}, "finite"),
        ({0: 0.0, 1: 0.0}, "at least 2 classes"),
        ({0: "a"}, "must map classes to numbers"),
        ({0: None}, "must map classes to numbers"),
    ],
)
def test_bad_class_weight_raises(wine, class_weight, message):
    X, y = wine
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(class_weight=class_weight).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"solver": "lbfgs", "batch_size": 50, "momentum": 0.5},
            "batch_size=50 and momentum=0.5 are not used: only the stochastic "
            "solvers 'sgd' and 'adam' read them, and this fit runs 'lbfgs'",
        ),
        (
            {"learning_rate_init": 0.1},
            "learning_rate_init=0.1 is not used: only the stochastic solvers "
            "'sgd' and 'adam' read it, and this fit runs 'newton-cholesky' "
            "('auto' stands for 'sgd' in partial_fit only)",
        ),
        (
            {"solver": "adam", "nesterovs_momentum": False},
            "nesterovs_momentum=False is not used: 'adam' takes no momentum",
        ),
        (
            {"solver": "sgd", "power_t": 0.25},
            "power_t=0.25 is not used: it sets the schedule "
            "learning_rate='invscaling', and learning_rate is 'adaptive'",
        ),
        (
            {"solver": "sgd", "validation_fraction": 0.2},
            "validation_fraction=0.2 is not used: it sets the share "
            "early_stopping holds out, and early_stopping is False",
        ),
        (
            {"solver": "gd", "precision": "mixed"},
            "precision='mixed' is not used: it sets the Hessian-vector "
            "products of 'newton-cg', and this fit runs 'gd'",
        ),
    ],
)
def test_a_setting_that_is_not_used_warns_and_changes_nothing(wine, params, message):
    X, y = wine
    X = StandardScaler().fit_transform(X)
    base = {"random_state": 0, "max_iter": 20}
    with pytest.warns(UserWarning, match=re.escape(message)) as caught:
        model = SoftmaxRegression(**base, **params).fit(X, y)
    assert sum(w.category is UserWarning for w in caught) == 1
    solver = params.get("solver", "auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SoftmaxRegression(**base, solver=solver).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(model.intercept_, reference.intercept_)


@pytest.mark.parametrize(
    ("dtype", "params", "read", "message"),
    [
        (
            np.float32,
            {"solver": "newton-cg", "precision": "mixed"},
            {"solver": "newton-cg"},
            "precision='mixed' is not used: it chooses whether newton-cg's "
            "Hessian-vector products of float64 data run in float32, and the "
            "data is float32",
        ),
        (
            np.float64,
            {"solver": "sgd", "n_threads": 2},
            {"solver": "sgd"},
            "n_threads=2 is not used: it sets the threads of the full-batch "
            "solvers' passes over the data, and 'sgd' runs on one thread",
        ),
        (
            np.float64,
            {"solver": "sgd", "momentum": 0.0, "nesterovs_momentum": False},
            {"solver": "sgd", "momentum": 0.0},
            "nesterovs_momentum=False is not used: it sets how 'sgd' applies "
            "its momentum, and momentum is 0",
        ),
    ],
)
def test_a_setting_these_data_or_settings_do_not_use_warns(
    wine, dtype, params, read, message
):
    X, y = wine
    X = X.astype(dtype)
    base = {"random_state": 0, "max_iter": 20}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SoftmaxRegression(**base, **params).fit(X, y)
    said = [str(w.message) for w in caught if w.category is UserWarning]
    assert said == [message + "."]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SoftmaxRegression(**base, **read).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(model.intercept_, reference.intercept_)


def test_used_settings_and_seeds_do_not_warn(wine):
    """Settings the fit reads, and a seed, which every estimator may be
    given, say nothing."""
    X, y = wine
    X = StandardScaler().fit_transform(X)
    settings = [
        {"solver": "lbfgs", "random_state": 0},
        {"solver": "sgd", "momentum": 0.5, "batch_size": 50, "max_iter": 5},
        {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.25},
        {"solver": "adam", "early_stopping": True, "validation_fraction": 0.2},
        {"solver": "newton-cg", "precision": "full"},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        for params in settings:
            SoftmaxRegression(**params).fit(X, y)
    # partial_fit runs 'sgd' for 'auto': the stochastic settings are read.
    stream = SoftmaxRegression(momentum=0.5, batch_size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        stream.partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_converged_fit_reports_its_gradient(solver, wine):
    X, y = wine
    tol = 1e-7
    model = SoftmaxRegression(solver=solver, tol=tol, max_iter=10_000).fit(X, y)
    assert model.converged_ is True
    assert 0 <= model.grad_norm_ <= tol
    # The gradient from the formulas, at the centred solution: centring
    # moves the penalty's gradient by at most tol (see test_row_space).
    n = len(y)
    P = softmax(X @ model.coef_.T + model.intercept_, axis=1)
    G = (P - np.eye(3)[y]) / n
    gradient = np.vstack([X.T @ G + model.coef_.T / (model.C * n), G.sum(axis=0)])
    assert np.abs(gradient).max() <= 2 * tol


@pytest.mark.parametrize("solver", ["newton-cg", "gd"])
def test_float32_line_search_allows_for_float32_rounding(solver):
    # Near this optimum a full step lowers the objective by about 4e-8, less
    # than the float32 rounding of its value, about 1.2e-7 of it: a line
    # search that allowed for float64 rounding only rejected every step and
    # stopped short of tol.
    X = np.full((6, 6), 0.28125, dtype=np.float32)
    y = np.array([0, 1, 0, 0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(C=10**-0.28125, solver=solver).fit(X, y)
    assert model.converged_
    # X is constant, so the intercept absorbs it and the penalised weights
    # vanish: the intercept is the log-odds of the frequencies, log(1/5). A
    # gradient of at most tol leaves it within tol / (p (1 - p)) per class.
    assert_allclose(model.coef_, 0, atol=model.tol)
    assert_allclose(
        model.intercept_, -np.log(5.0), rtol=0, atol=2 * model.tol / (5 / 36)
    )

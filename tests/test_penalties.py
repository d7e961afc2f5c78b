"""The L1, elastic-net and group penalties: proximal maps, optimality
conditions from the formulas, and the two-class relation to binary L1
logistic regression."""

import numpy as np
import pytest
from _problems import l1_logistic_regression
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._penalties import GroupNorm, L1Norm


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _data_gradient(model, X, y):
    """The gradient of the mean log-loss in ``coef_``'s layout (K x d), and
    that of the intercepts, from the formulas."""
    n = len(y)
    P = softmax(X @ model.coef_.T + model.intercept_, axis=1)
    G = (P - np.eye(len(model.classes_))[y]) / n
    return (X.T @ G).T, G.sum(axis=0)


@pytest.mark.parametrize("step", [0.3, 2.0])
def test_proximal_maps_meet_their_optimality_conditions(rng, step):
    """``x = prox(v, t)`` exactly when ``(v - x) / t`` is a subgradient of
    the norm at ``x``."""
    v = rng.standard_normal(24)
    # Thresholds above |v| for some entries and below for others.
    weights = np.abs(v) / step * rng.uniform(0.5, 1.5, size=24)
    weights[-4:] = 0.0  # unpenalised entries, as the intercepts
    x = L1Norm(weights).prox(v, step)
    sub = (v - x) / step
    zero = x == 0
    assert zero.any() and (~zero).any()
    assert np.all(np.abs(sub[zero]) <= weights[zero])
    assert_allclose(sub[~zero], weights[~zero] * np.sign(x[~zero]), atol=1e-12)

    row_norms = np.linalg.norm(v.reshape(6, 4), axis=1)
    row_weights = row_norms / step * np.array([1.5, 0.5, 1.2, 0.3, 0.8, 0.0])
    x = GroupNorm(row_weights, (6, 4)).prox(v, step).reshape(6, 4)
    sub = ((v.reshape(6, 4) - x) / step).reshape(6, 4)
    norms = np.linalg.norm(x, axis=1)
    zero = norms == 0
    assert zero.any() and (~zero).any()
    assert np.all(np.linalg.norm(sub[zero], axis=1) <= row_weights[zero])
    expected = row_weights[~zero, None] * x[~zero] / norms[~zero, None]
    assert_allclose(sub[~zero], expected, atol=1e-12)


@pytest.mark.parametrize("C", [0.05, 0.5])
def test_l1_solution_meets_its_optimality_conditions(wine, C):
    """The subgradient conditions of the L1-penalised objective, from the
    formulas: a zero weight's gradient is at most the penalty's slope, a
    non-zero weight's gradient balances it."""
    X, y = wine
    tol = 1e-9
    model = SoftmaxRegression(l1_ratio=1.0, C=C, tol=tol, max_iter=100_000).fit(X, y)
    slope = 1.0 / (C * len(y))
    gradient, intercept_gradient = _data_gradient(model, X, y)
    zero = model.coef_ == 0
    assert zero.any() and (~zero).any()
    assert np.all(np.abs(gradient[zero]) <= slope + 10 * tol)
    balanced = gradient[~zero] + slope * np.sign(model.coef_[~zero])
    assert np.abs(balanced).max() <= 10 * tol
    assert np.abs(intercept_gradient).max() <= 10 * tol


@pytest.mark.parametrize("solver", ["gd", "newton-cg"])
@pytest.mark.parametrize("C, l1_ratio", [(0.02, 1.0), (0.1, 1.0), (0.05, 0.5)])
def test_group_solution_meets_its_optimality_conditions(wine, C, l1_ratio, solver):
    """The subgradient conditions of the group penalty, row by row of W (a
    feature across all classes): a zero row's gradient has norm at most the
    penalty's weight; a non-zero row's gradient balances ``weight w / |w|``.
    Rows are zero as a whole, and some are."""
    X, y = wine
    tol = 1e-9
    model = SoftmaxRegression(
        l1_ratio=l1_ratio,
        l1_groups="features",
        C=C,
        solver=solver,
        tol=tol,
        max_iter=100_000,
    ).fit(X, y)
    share = l1_ratio
    strength = 1.0 / (C * len(y))
    gradient, intercept_gradient = _data_gradient(model, X, y)
    W = model.coef_.T  # one row per feature
    gradient = gradient.T + (1 - share) * strength * W
    norms = np.linalg.norm(W, axis=1)
    zero = norms == 0
    assert zero.any() and (~zero).any()
    assert_array_equal(W[zero], 0.0)
    assert np.all(np.abs(W[~zero]) > 0)
    assert np.all(np.linalg.norm(gradient[zero], axis=1) <= share * strength + 10 * tol)
    balanced = gradient[~zero] + share * strength * W[~zero] / norms[~zero, None]
    assert np.abs(balanced).max() <= 10 * tol
    assert np.abs(intercept_gradient).max() <= 10 * tol


@pytest.mark.parametrize(
    "l1_groups, solver, c_factor",
    [
        # |w_0|_1 + |w_1|_1 is least, |w_1 - w_0|_1, at w_1 = -w_0.
        (None, "gd", 1.0),
        # The row (-w_j / 2, w_j / 2) has norm |w_j| / sqrt(2).
        ("features", "gd", np.sqrt(2.0)),
        ("features", "newton-cg", np.sqrt(2.0)),
    ],
)
def test_two_classes_equal_binary_l1_logistic_regression(
    wine, l1_groups, solver, c_factor
):
    X, y = wine
    X, y = X[y < 2], y[y < 2]
    C = 0.1
    model = SoftmaxRegression(
        l1_ratio=1.0,
        l1_groups=l1_groups,
        solver=solver,
        C=C,
        tol=1e-10,
        max_iter=100_000,
    )
    model.fit(X, y)
    reference = l1_logistic_regression(
        1.0,
        C * c_factor,
        solver="liblinear",
        tol=1e-10,
        max_iter=100_000,
        intercept_scaling=1e4,
    ).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, atol=1e-4)
    assert_array_equal(model.coef_ == 0, np.abs(reference.coef_) < 1e-8)


def test_group_norm_smooth_derivatives_match_finite_differences(rng):
    """On its support, the group norm's gradient and Hessian-vector product,
    which the Newton steps use, against central differences."""
    shape = (5, 3)
    weights = np.array([0.7, 1.3, 0.0, 2.0, 0.5])
    x = rng.standard_normal(15)
    x[3:6] = 0.0  # a zero row, held at zero
    norm = GroupNorm(weights, shape)
    support = norm.support(x).reshape(shape)
    assert_array_equal(support.all(axis=1), [True, False, True, True, True])
    free = norm.support(x)
    v = np.where(free, rng.standard_normal(15), 0.0)
    h = 1e-6
    gradient = (norm.value(x + h * v) - norm.value(x - h * v)) / (2 * h)
    assert_allclose(np.dot(norm.smooth_gradient(x), v), gradient, rtol=1e-7)
    product = (norm.smooth_gradient(x + h * v) - norm.smooth_gradient(x - h * v)) / (
        2 * h
    )
    assert_allclose(norm.smooth_hessp(x, v), product, rtol=1e-6, atol=1e-9)


def test_auto_adds_newton_steps_for_group_penalty_on_larger_problems(rng):
    """'auto' picks 'newton-cg' for the group penalty from 2e6 multiply-adds
    per product, 'gd' below and for L1."""
    X = rng.standard_normal((2000, 100))
    y = np.arange(2000) % 10
    group = {"l1_ratio": 1.0, "l1_groups": "features", "C": 0.01}
    small = SoftmaxRegression(**group).fit(X[:1000], y[:1000])
    large = SoftmaxRegression(**group, tol=1e-6).fit(X, y)
    lasso = SoftmaxRegression(l1_ratio=1.0, C=0.01).fit(X, y)
    assert (small.solver_, large.solver_, lasso.solver_) == ("gd", "newton-cg", "gd")
    assert large.converged_


@pytest.mark.parametrize(
    "params",
    [
        {"l1_groups": "features"},
        {"l1_groups": "features", "l1_ratio": 1.0, "C": np.inf},
    ],
    ids=["l2", "no-penalty"],
)
def test_grouping_without_an_l1_part_warns_and_fits_without_it(wine, params):
    """``l1_groups`` groups the L1 part; with none (``l1_ratio=0`` or
    ``C=np.inf``) it is not used, says so, and the model is the one without
    it."""
    X, y = wine
    model = SoftmaxRegression(**params)
    with pytest.warns(UserWarning, match="is not used"):
        model.fit(X, y)
    without = {**params, "l1_groups": None, "l1_ratio": 0.0}
    assert_array_equal(model.coef_, SoftmaxRegression(**without).fit(X, y).coef_)


def test_deprecated_penalty_and_l1_groups_conflict(wine):
    X, y = wine
    with pytest.raises(ValueError, match="cannot be combined with l1_groups"):
        SoftmaxRegression(penalty="l1", l1_groups="features").fit(X, y)


def test_array_api_support_follows_the_chosen_penalty():
    """The estimator declares Array API support for the penalties the
    Array API backend fits, whatever their spelling."""
    smooth = [{}, {"C": np.inf}, {"l1_ratio": 1.0, "C": np.inf}]
    non_smooth = [
        {"l1_ratio": 0.5},
        {"l1_ratio": 1.0, "l1_groups": "features"},
        # Refused when fitted, with a ValueError: supported by no backend.
        {"penalty": "elasticnet", "l1_ratio": None},
    ]
    for params in smooth:
        assert SoftmaxRegression(**params).__sklearn_tags__().array_api_support
    for params in non_smooth:
        assert not SoftmaxRegression(**params).__sklearn_tags__().array_api_support

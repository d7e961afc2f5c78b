"""Columns whose weights are known before a fit: found, left out of the
passes, and put back with the weights a fit on every column reaches."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from sklearn_softmax import SoftmaxRegression, _idle_columns
from sklearn_softmax._idle_columns import idle_columns


def with_idle_columns(rng, n_samples=600, n_features=8, n_classes=3):
    """Gaussian features and labels from a softmax model, then two zero
    columns and two columns of one value each, among the others."""
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_features, n_classes))
    y = np.argmax(X @ W + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    X = np.insert(X, [1, 3, 3, 6], [0.0, 2.5, 0.0, -1.0], axis=1)
    return X, y


def test_idle_columns_are_the_zero_and_with_intercept_and_penalty_the_constant_ones(
    rng,
):
    X, _ = with_idle_columns(rng)
    zero = np.zeros(X.shape[1], dtype=bool)
    zero[[1, 5]] = True
    constant = zero.copy()
    constant[[4, 9]] = True
    assert_array_equal(idle_columns(X, True, True), constant)
    for fit_intercept, penalised in [(True, False), (False, True), (False, False)]:
        assert_array_equal(idle_columns(X, fit_intercept, penalised), zero)


def test_a_column_that_differs_in_one_row_only_is_not_idle(rng):
    """Rows between the ones compared first are checked as well."""
    X, _ = with_idle_columns(rng, n_samples=10_000)
    X[5001, 1] = 1e-300
    X[7777, 4] = 2.5 + 1e-12
    idle = idle_columns(X, True, True)
    assert not idle[1] and not idle[4]
    assert idle[5] and idle[9]


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
def test_idle_columns_get_the_weights_logistic_regression_reaches(solver, rng):
    """Zero weights for the idle columns, the others as LogisticRegression's
    at a tight tolerance. Its optimum has zero weights there too: the
    gradient bound below holds for them as for every other weight."""
    X, y = with_idle_columns(rng)
    model = SoftmaxRegression(solver=solver, tol=1e-10).fit(X, y)
    reference = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    assert_array_equal(model.coef_[:, [1, 4, 5, 9]], 0.0)
    # The objective's curvature is at least 1 / (C n): two points whose
    # gradients are below 1e-10 in each of their 30 entries lie within
    # 2 sqrt(30) 1e-10 n of each other, with room for LogisticRegression's
    # own stopping rule.
    assert_allclose(model.coef_, reference.coef_, atol=1e-5)
    assert_allclose(model.intercept_, reference.intercept_, atol=1e-5)
    # The solver's history, on the other columns, is the whole fit's.
    assert model.grad_norm_curve_.shape == (model.n_iter_[0],)
    assert model.grad_norm_curve_[-1] == model.grad_norm_


def test_without_a_penalty_zero_columns_keep_their_starting_weights(rng, monkeypatch):
    """Without a penalty the objective does not depend on a zero column's
    weights: a warm start keeps them, as a fit on every column does."""
    X, y = with_idle_columns(rng)
    X_other = X.copy()
    X_other[:, [1, 5]] = rng.standard_normal((len(X), 2))
    models = []
    for share in (_idle_columns.MIN_IDLE_SHARE, 2.0):
        # A share above one leaves every column in the fit.
        monkeypatch.setattr(_idle_columns, "MIN_IDLE_SHARE", share)
        model = SoftmaxRegression(C=np.inf, warm_start=True, tol=1e-10)
        model.fit(X_other, y)
        start = model.coef_[:, [1, 5]].copy()
        model.fit(X, y)
        # Up to the rounding of centring the fitted weights over classes.
        assert_allclose(model.coef_[:, [1, 5]], start, rtol=1e-13)
        models.append(model)
    assert_allclose(models[0].coef_, models[1].coef_, atol=1e-6)


def test_the_fit_does_not_modify_x(rng):
    X, y = with_idle_columns(rng)
    kept = X.copy()
    SoftmaxRegression().fit(X, y)
    assert_array_equal(X, kept)

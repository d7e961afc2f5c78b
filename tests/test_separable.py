"""Separable classes without a penalty: what a fit does, as the docs of
``C`` and SeparationWarning say."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_blobs

from sklearn_softmax import SeparationWarning, SoftmaxRegression

DETERMINISTIC = ["newton-cg", "newton-cholesky", "lbfgs", "gd"]


@pytest.fixture(scope="module")
def blobs():
    """Three blobs ten standard deviations apart: linearly separable."""
    centres = [[-5.0, 0.0], [5.0, 0.0], [0.0, 8.0]]
    return make_blobs(300, centers=centres, cluster_std=1.0, random_state=0)


def _own_class_probability(model, X, y):
    return model.predict_proba(X)[np.arange(len(y)), np.searchsorted(model.classes_, y)]


@pytest.mark.parametrize("solver", DETERMINISTIC)
def test_unpenalised_fit_on_separable_classes_converges_and_warns(solver, blobs):
    X, y = blobs
    fits = {}
    for tol in (1e-4, 1e-7):
        model = SoftmaxRegression(C=np.inf, solver=solver, tol=tol, max_iter=1000)
        with pytest.warns(SeparationWarning, match="linearly separable") as record:
            model.fit(X, y)
        assert len(record) == 1
        # The stopping rule is met at finite weights: the gradient falls with
        # the objective as the weights grow along a separating direction.
        assert model.converged_
        assert model.grad_norm_ <= tol
        assert np.all(np.isfinite(model.coef_))
        # What the warning says: every sample's probability of its class
        # is above 1/sqrt(2).
        assert np.all(_own_class_probability(model, X, y) > 2**-0.5)
        fits[tol] = model
    # No minimum: a tighter tol stops at larger weights.
    assert np.linalg.norm(fits[1e-7].coef_) > np.linalg.norm(fits[1e-4].coef_)


def test_a_sample_of_no_weight_does_not_hide_the_separation(blobs):
    X, y = blobs
    # A sample of the first class placed among the second, of weight 0.
    X = np.vstack([X, X[y == 1][:1]])
    y = np.append(y, 0)
    weights = np.append(np.ones(len(y) - 1), 0.0)
    with pytest.warns(SeparationWarning):
        SoftmaxRegression(C=np.inf, tol=1e-6).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize(
    "params",
    [{"C": 1.0}, {"C": np.inf, "label_smoothing": 0.05}],
    ids=["penalised", "label_smoothing"],
)
def test_no_warning_where_the_optimum_exists(params, blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(tol=1e-8, **params).fit(X, y)
    assert model.converged_


def test_no_warning_on_overlapping_classes():
    # Versicolor and virginica overlap in iris's four features: the
    # unpenalised optimum exists, and some sample stays below 1/2.
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(C=np.inf, tol=1e-8, max_iter=1000).fit(X, y)
    assert model.converged_
    assert np.min(_own_class_probability(model, X, y)) < 0.5


def test_label_smoothing_has_an_optimum_on_separable_classes(blobs):
    # As the math page says: with smoothing the loss grows along any
    # direction that moves the probabilities, so the unpenalised optimum
    # exists and does not depend on tol, unlike the fits above.
    X, y = blobs
    params = {"C": np.inf, "label_smoothing": 0.05, "max_iter": 1000}
    loose = SoftmaxRegression(tol=1e-6, **params).fit(X, y)
    tight = SoftmaxRegression(tol=1e-10, **params).fit(X, y)
    # At tol=1e-6 the weights are within about tol / (least curvature) of
    # the optimum; the curvature of the smoothed loss here is above 1e-3.
    np.testing.assert_allclose(loose.coef_, tight.coef_, atol=1e-2)
    assert np.linalg.norm(tight.coef_) < 10

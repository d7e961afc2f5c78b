"""Predicted probabilities with intervals against a finite-difference delta
method."""

import numpy as np
import pytest
from _statsmodels import fit_exactly, mixed_problem
from numpy.testing import assert_allclose
from scipy.special import expit, logit, softmax
from scipy.stats import norm

from sklearn_softmax import SoftmaxRegression, softmax_inference


def _finite_difference_delta(result, X_new):
    """The standard errors of p and of logit(p) from central differences of
    the probabilities with respect to the parameters of the result's own
    layout and its covariance: ``sqrt(diag(J V J^T))``."""
    params = result.params
    reference = result.column_names != result.model.classes.tolist()

    def probabilities(flat):
        columns = flat.reshape(params.shape, order="F")
        if reference:
            # MNLogit's layout: the reference class's scores are zero.
            columns = np.hstack([np.zeros((params.shape[0], 1)), columns])
        return softmax(np.hstack([np.ones((len(X_new), 1)), X_new]) @ columns, axis=1)

    flat = params.ravel(order="F")
    step = 1e-6
    jacobian = []
    for index in range(flat.size):
        shift = np.zeros(flat.size)
        shift[index] = step
        jacobian.append(
            (probabilities(flat + shift) - probabilities(flat - shift)) / (2 * step)
        )
    jacobian = np.stack(jacobian, axis=-1)
    covariance = result.cov_params()
    variance = np.einsum("ikp,pq,ikq->ik", jacobian, covariance, jacobian)
    P = probabilities(flat)
    se = np.sqrt(variance)
    return P, se, se / (P * (1 - P))


@pytest.mark.parametrize("reference_class", [0, None])
@pytest.mark.parametrize("C", [None, 0.2])
def test_equals_finite_difference_delta_method(reference_class, C):
    X, y = mixed_problem()
    clf = fit_exactly(X, y, **({} if C is None else {"C": C}))
    result = softmax_inference(clf, X, y, reference_class=reference_class)
    X_new = np.random.default_rng(3).normal(size=(25, 3)) * [1, 2, 3]
    prediction = result.predict_proba_interval(X_new, alpha=0.1)
    P, se, logit_se = _finite_difference_delta(result, X_new)
    assert_allclose(prediction.proba, clf.predict_proba(X_new), rtol=1e-12)
    assert_allclose(prediction.proba, P, rtol=1e-9)
    # Central differences err by step^2, far below these tolerances.
    assert_allclose(prediction.std_error, se, rtol=1e-6)
    half = norm.ppf(0.95) * logit_se
    assert_allclose(prediction.lower, expit(logit(P) - half), rtol=1e-6)
    assert_allclose(prediction.upper, expit(logit(P) + half), rtol=1e-6)
    assert np.all((prediction.lower > 0) & (prediction.lower < prediction.proba))
    assert np.all((prediction.proba < prediction.upper) & (prediction.upper < 1))


def test_extreme_probabilities_stay_inside_the_unit_interval():
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    result = softmax_inference(clf, X, y)
    # The last row's odds of its likeliest class pass float64's range.
    far = np.array([[60.0, 1.0, 40.0], [6e4, 1.0, 4e4]])
    prediction = result.predict_proba_interval(far)
    for key in ("proba", "std_error", "lower", "upper"):
        assert np.all(np.isfinite(prediction[key]))
    assert np.all((prediction.lower >= 0) & (prediction.upper <= 1))
    assert np.all(prediction.lower <= prediction.proba)
    assert np.all(prediction.proba <= prediction.upper)


def test_bad_input_is_refused():
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    result = softmax_inference(clf, X, y)
    with pytest.raises(ValueError, match="3 features"):
        result.predict_proba_interval(X[:, :2])
    with pytest.raises(ValueError, match="alpha"):
        result.predict_proba_interval(X, alpha=0.0)
    # A refit of the estimator does not change the result.
    before = result.predict_proba_interval(X[:5]).proba
    clf.set_params(C=0.01).fit(X, y)
    assert_allclose(result.predict_proba_interval(X[:5]).proba, before, rtol=0)
    assert isinstance(clf, SoftmaxRegression)


def _coverage(C, n_samples=400, replications=1000, seed=1):
    """The share of 95% intervals holding the true probability, over
    ``replications`` draws of the labels of a known three-class model with
    two Gaussian features, at three new rows: an array of shape (3, 3)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 2))
    W = np.array([[0.0, 1.0, -1.0], [0.0, -0.5, 1.0]])
    b = np.array([0.0, 0.3, -0.2])
    P = softmax(X @ W + b, axis=1)
    X_new = np.array([[0.0, 0.0], [1.0, -1.0], [-1.5, 0.5]])
    truth = softmax(X_new @ W + b, axis=1)
    rng = np.random.default_rng(seed)
    hits = np.zeros_like(truth)
    for _ in range(replications):
        y = (P.cumsum(axis=1) > rng.random((n_samples, 1))).argmax(axis=1)
        clf = SoftmaxRegression(C=C, tol=1e-8).fit(X, y)
        intervals = softmax_inference(clf, X, y).predict_proba_interval(X_new)
        hits += (intervals.lower <= truth) & (truth <= intervals.upper)
    return hits / replications


@pytest.mark.parametrize("C", [np.inf, 1.0])
def test_intervals_cover_the_true_probabilities_at_the_nominal_rate(C):
    """Over 1000 replications each of the nine coverages is within four
    binomial standard errors (4 sqrt(0.95 * 0.05 / 1000) = 0.028) of 0.95:
    unpenalised, and with a penalty small next to the standard errors."""
    coverage = _coverage(C)
    assert np.all(np.abs(coverage - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / 1000))


def test_intervals_of_a_strongly_penalised_fit_miss_the_truth():
    """With a strong penalty the intervals describe the shrunken model: the
    documented warning that they then cannot be trusted holds."""
    coverage = _coverage(0.01, replications=200)
    assert coverage.min() < 0.5

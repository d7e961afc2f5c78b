"""The sandwich covariances of a model fitted with class weights."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import null_space
from scipy.special import logsumexp

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV, softmax_inference

TIGHT = {"tol": 1e-10, "max_iter": 10_000}
CLASS_WEIGHT = {0: 1.0, 1: 3.0, 2: 0.4}


def _overlapping(n_samples=300, seed=0):
    """Two normal features and three classes drawn from a softmax model on
    them, with positive, non-integer sample weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2))
    W = rng.normal(scale=0.7, size=(2, 3))
    P = np.exp(X @ W)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y, rng.uniform(0.5, 2.0, size=n_samples)


def _log_likelihoods(theta, X_design, y):
    """Each sample's ``log p_{i y_i}`` for parameters ``theta`` of shape
    (r, K), the intercept first."""
    Z = X_design @ theta
    return Z[np.arange(len(y)), y] - logsumexp(Z, axis=1)


def _sandwich_by_differences(clf, X, y, sample_weight, cov_type, groups=None):
    """The covariance from its definition as an M-estimator's, computed
    without the package: the objective ``-sum_i s_i c_{y_i} log p_{i y_i} +
    |W|^2 / (2C)`` and each sample's score by central differences, in the
    coordinates ``phi`` of an orthonormal basis of the parameters that sum
    to zero over the classes (where the Hessian is invertible). A sample of
    weight ``s_i`` counts as ``s_i`` copies, each with the score
    ``c_{y_i} g_i``."""
    n_samples = len(y)
    X_design = np.hstack([np.ones((n_samples, 1)), X])
    theta0 = np.vstack([clf.intercept_, clf.coef_.T])
    n_rows, n_classes = theta0.shape
    basis = np.kron(null_space(np.ones((1, n_classes))), np.eye(n_rows))
    n_free = basis.shape[1]
    factor = np.array([CLASS_WEIGHT[k] for k in range(n_classes)])[y]
    strength = 0.0 if np.isinf(clf.C) else 1.0 / clf.C

    def theta(phi):
        return theta0 + (basis @ phi).reshape(n_rows, n_classes, order="F")

    def objective(phi):
        t = theta(phi)
        fit = -np.sum(sample_weight * factor * _log_likelihoods(t, X_design, y))
        return fit + 0.5 * strength * np.sum(t[1:] ** 2)

    # Truncation error h^2 times the fourth derivative (about n), rounding
    # about eps |F| / h^2: both near 1e-7 of the Hessian's entries (about n).
    h = 1e-4
    hessian = np.empty((n_free, n_free))
    for j, e_j in enumerate(h * np.eye(n_free)):
        for k, e_k in enumerate(h * np.eye(n_free)):
            hessian[j, k] = (
                objective(e_j + e_k)
                - objective(e_j - e_k)
                - objective(-e_j + e_k)
                + objective(-e_j - e_k)
            ) / (4 * h * h)
    # Rounding eps / h and truncation h^2 of each log-likelihood: 1e-10.
    h = 1e-6
    scores = np.column_stack(
        [
            (
                _log_likelihoods(theta(e), X_design, y)
                - _log_likelihoods(theta(-e), X_design, y)
            )
            / (2 * h)
            for e in h * np.eye(n_free)
        ]
    )
    weighted = (factor * sample_weight)[:, np.newaxis] * scores
    nobs = sample_weight.sum()
    n_mnlogit = n_rows * (n_classes - 1)
    if cov_type == "cluster":
        sums = np.array([weighted[groups == g].sum(axis=0) for g in np.unique(groups)])
        meat = sums.T @ sums
        n_groups = len(sums)
        meat *= n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_mnlogit)
    else:
        meat = (factor**2 * sample_weight * scores.T) @ scores
        if cov_type == "HC1":
            meat *= nobs / (nobs - n_mnlogit)
    bread = np.linalg.inv(hessian)
    return basis @ bread @ meat @ bread @ basis.T


@pytest.mark.parametrize("C", [np.inf, 0.5], ids=["no-penalty", "l2"])
@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "cluster"])
def test_sandwich_equals_finite_differences(cov_type, C):
    X, y, sample_weight = _overlapping()
    groups = np.random.default_rng(1).integers(0, 20, size=len(y))
    clf = SoftmaxRegression(C=C, class_weight=CLASS_WEIGHT, **TIGHT).fit(
        X, y, sample_weight
    )
    options = {"groups": groups} if cov_type == "cluster" else {}
    result = softmax_inference(clf, X, y, sample_weight, cov_type=cov_type, **options)
    expected = _sandwich_by_differences(clf, X, y, sample_weight, cov_type, groups)
    # The differences hold about 1e-7 of each matrix, and the inverse of a
    # Hessian with a condition number near 10 passes that on: 1e-7 of the
    # largest entry, which the smallest entries, 1e-3 of it, cannot meet
    # relatively.
    assert_allclose(
        result.cov_params(), expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max()
    )


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "cluster"])
@pytest.mark.parametrize("C", [np.inf, 0.5], ids=["no-penalty", "l2"])
def test_equal_class_weights_are_a_larger_c(cov_type, C):
    """Class weights all equal to ``c`` scale the objective's data term by
    ``c``: the estimate is that of ``C c`` without them (the same, without a
    penalty), the Hessian is ``c`` times that fit's and the middle ``c^2``
    times, so the sandwich is the same."""
    X, y, sample_weight = _overlapping(n_samples=200)
    groups = np.random.default_rng(2).integers(0, 15, size=len(y))
    options = {"groups": groups} if cov_type == "cluster" else {}
    weighted = SoftmaxRegression(
        C=C, class_weight=dict.fromkeys(range(3), 2.5), **TIGHT
    )
    plain = SoftmaxRegression(C=2.5 * C, **TIGHT)
    results = [
        softmax_inference(
            model.fit(X, y, sample_weight),
            X,
            y,
            sample_weight,
            cov_type=cov_type,
            **options,
        )
        for model in (weighted, plain)
    ]
    # Both estimates are within a gradient of 1e-10 of one optimum.
    assert_allclose(results[0].params, results[1].params, rtol=0, atol=1e-8)
    assert_allclose(results[0].bse, results[1].bse, rtol=1e-7)
    assert results[0].nobs == results[1].nobs
    assert "Class weights: yes" in results[0].summary()
    assert "Class weights" not in results[1].summary()


@pytest.mark.parametrize("cov_type", ["HC1", "cluster"])
def test_integer_sample_weights_equal_repeated_rows(cov_type):
    """Sample weights stay frequencies beside the class weights: 'balanced'
    weights the classes by their totals, which repeating rows keeps."""
    X, y, _ = _overlapping(n_samples=200, seed=3)
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 4, size=len(y))
    groups = rng.integers(0, 25, size=len(y))
    results = []
    for repeat in (False, True):
        data, labels, in_groups = (
            tuple(np.repeat(a, counts, axis=0) for a in (X, y, groups))
            if repeat
            else (X, y, groups)
        )
        weights = None if repeat else counts
        clf = SoftmaxRegression(C=0.5, class_weight="balanced", **TIGHT).fit(
            data, labels, weights
        )
        options = {"groups": in_groups} if cov_type == "cluster" else {}
        results.append(
            softmax_inference(clf, data, labels, weights, cov_type=cov_type, **options)
        )
    assert_allclose(results[0].params, results[1].params, rtol=0, atol=1e-8)
    assert_allclose(results[0].bse, results[1].bse, rtol=1e-7)
    assert results[0].nobs == results[1].nobs == counts.sum()


def test_cv_estimator_keeps_its_balanced_class_weights():
    X, y, sample_weight = _overlapping(n_samples=200)
    search = SoftmaxRegressionCV(Cs=[0.1, 1.0], class_weight="balanced", **TIGHT).fit(
        X, y, sample_weight
    )
    result = softmax_inference(search, X, y, sample_weight, cov_type="HC0")
    refit = SoftmaxRegression(C=search.C_, class_weight="balanced", **TIGHT).fit(
        X, y, sample_weight
    )
    expected = softmax_inference(refit, X, y, sample_weight, cov_type="HC0")
    assert_allclose(result.params, expected.params, rtol=0, atol=1e-8)
    assert_allclose(result.bse, expected.bse, rtol=1e-7)


def test_nonrobust_covariance_is_refused():
    X, y, _ = _overlapping(n_samples=100)
    clf = SoftmaxRegression(class_weight="balanced").fit(X, y)
    with pytest.raises(
        ValueError, match=r"class_weight needs a robust.*cov_type='HC0'"
    ):
        softmax_inference(clf, X, y)

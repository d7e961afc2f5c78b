"""softmax_inference on models fitted on Array API arrays: the covariance is
computed on the host from the fitted parameters, so the results are those
of the NumPy code on the same parameters, and those of a NumPy fit within
what the two fits' tolerances allow."""

import numpy as np
import pytest
import sklearn
from _namespaces import (
    every_namespace,
    needs_dispatch,
)
from numpy.testing import assert_allclose
from sklearn.utils._testing import _array_api_for_tests

from sklearn_softmax import SoftmaxRegression, softmax_inference
from sklearn_softmax._array_api import to_numpy

pytestmark = needs_dispatch

NAMESPACES = every_namespace()


def _overlapping(n_samples=300, seed=0):
    """Three normal features, four classes drawn from a softmax model on
    them, and positive sample weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3))
    W = rng.normal(scale=0.7, size=(3, 4))
    P = np.exp(X @ W)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y, rng.uniform(0.5, 2.0, size=n_samples)


def _on(namespace, device, *arrays):
    xp, device = _array_api_for_tests(namespace, device)
    return [xp.asarray(a, device=device) for a in arrays]


def _fit(model, *arrays):
    with sklearn.config_context(array_api_dispatch=True):
        return model.fit(*arrays)


@pytest.mark.parametrize("namespace, device", NAMESPACES)
@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
@pytest.mark.parametrize("C", [np.inf, 1.0], ids=["no-penalty", "l2"])
def test_equals_the_numpy_fit_within_the_fit_tolerance(namespace, device, solver, C):
    X, y, sample_weight = _overlapping()
    on_device = _on(namespace, device, X, y, sample_weight)
    clf = _fit(SoftmaxRegression(C=C, solver=solver, tol=1e-8), *on_device)
    with sklearn.config_context(array_api_dispatch=True):
        result = softmax_inference(clf, *on_device, cov_type="HC0")
    reference = SoftmaxRegression(C=C, tol=1e-10).fit(X, y, sample_weight)
    expected = softmax_inference(reference, X, y, sample_weight, cov_type="HC0")

    # Each fit's largest gradient entry g (of the mean objective) puts it
    # within |H^-1|_2 sqrt(p) g of the optimum, H the Hessian of the mean
    # objective. Without a penalty H^-1 = S V, V the nonrobust covariance;
    # the penalty only raises H, so that bound holds at C=1 too.
    unpenalised = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, y, sample_weight)
    V = softmax_inference(unpenalised, X, y, sample_weight).cov_params()
    S = sample_weight.sum()
    gradients = float(clf.grad_norm_) + float(reference.grad_norm_)
    distance = S * np.linalg.eigvalsh(V)[-1] * np.sqrt(V.shape[0]) * gradients
    assert_allclose(result.params, expected.params, rtol=0, atol=distance)
    # Each score x~_i theta_k moves by at most |x~_i| times that, and the
    # probabilities, and with them the covariance, relatively by a few times
    # the largest such move.
    largest_row = np.sqrt(1.0 + np.max(np.sum(X**2, axis=1)))
    assert_allclose(result.bse, expected.bse, rtol=10 * largest_row * distance)
    assert result.separation == expected.separation == "not separated"


@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_same_parameters_give_the_numpy_result(namespace, device):
    """A host copy of the fitted parameters on the NumPy data gives the same
    result, with class weights and clusters, as do the result's methods on
    rows of either kind."""
    X, y, sample_weight = _overlapping(n_samples=200)
    groups = np.random.default_rng(1).integers(0, 20, size=len(y))
    X_device, y_device, w_device, g_device = _on(
        namespace, device, X, y, sample_weight, groups
    )
    clf = _fit(
        SoftmaxRegression(C=2.0, class_weight={0: 2.0, 3: 0.5}, tol=1e-10),
        X_device,
        y_device,
        w_device,
    )
    with sklearn.config_context(array_api_dispatch=True):
        result = softmax_inference(
            clf, X_device, y_device, w_device, cov_type="cluster", groups=g_device
        )
        intervals = result.predict_proba_interval(X_device[:5, ...])
    host = SoftmaxRegression(C=2.0, class_weight={0: 2.0, 3: 0.5}, tol=1e-10)
    host.classes_ = np.arange(4)
    host.coef_ = to_numpy(clf.coef_).astype(np.float64)
    host.intercept_ = to_numpy(clf.intercept_).astype(np.float64)
    host.n_features_in_ = clf.n_features_in_
    expected = softmax_inference(
        host, X, y, sample_weight, cov_type="cluster", groups=groups
    )
    # The same float64 arithmetic on the same numbers, but for the order of
    # sums that a device may choose: rounding only.
    assert_allclose(result.params, expected.params, rtol=1e-13, atol=1e-15)
    assert_allclose(result.cov_params(), expected.cov_params(), rtol=1e-10)
    assert_allclose(result.llf, expected.llf, rtol=1e-13)
    assert isinstance(intervals.proba, np.ndarray)
    assert_allclose(
        intervals.std_error,
        expected.predict_proba_interval(X[:5]).std_error,
        rtol=1e-10,
    )

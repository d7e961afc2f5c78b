"""The Kronecker-factored approximation of the Hessian that preconditions
Newton-CG: its factors, its exactness at the zero model, and what it saves."""

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage
from scipy.special import softmax

from sklearn_softmax import SoftmaxRegression, _curvature, _passes
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers._newton import minimize_newton_cg

N_CLASSES = 4
L2 = 0.3


def image_like(n_samples, side, n_classes, seed=0):
    """Pixels in [0, 1] of ``side x side`` images: a smoothed template per
    class plus smoothed noise, so that neighbouring pixels are strongly
    correlated, as in scanned images."""
    rng = np.random.default_rng(seed)
    templates = ndimage.gaussian_filter(
        rng.standard_normal((n_classes, side, side)), sigma=(0, 2, 2)
    )
    templates /= templates.std()
    y = rng.integers(n_classes, size=n_samples)
    noise = ndimage.gaussian_filter(
        rng.standard_normal((n_samples, side, side)), sigma=(0, 1.5, 1.5)
    )
    noise /= noise.std()
    X = 1.0 / (1.0 + np.exp(-3.0 * (0.6 * templates[y] + noise)))
    return X.reshape(n_samples, -1), y


def with_ones(X, fit_intercept):
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((len(X), 1))]) if fit_intercept else X


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_feature_moments_are_the_weighted_second_moments(
    fit_intercept, weighted, dtype, monkeypatch
):
    """``sum_i s_i / S x~_i x~_i^T``, the same to the last bit on 1, 2 and 3
    threads, with tiles and blocks small enough that there are several of
    each."""
    monkeypatch.setattr(_passes, "_MOMENT_TILE", 2)
    monkeypatch.setattr(_passes, "MIN_WORK_PER_THREAD", 10)
    monkeypatch.setattr(_passes, "_MIN_BLOCK_ROWS", 8)
    X, y, sw = make_problem(n_samples=64, n_features=5, dtype=dtype)
    sw = sw if weighted else None
    A = with_ones(X, fit_intercept)
    weights = np.ones(len(y)) if sw is None else sw.astype(np.float64)
    expected = (A * (weights / weights.sum())[:, None]).T @ A
    loss = MultinomialLoss(N_CLASSES, fit_intercept)
    moments = [
        loss.passes(X, y, sw, n_threads=n_threads).feature_moments()
        for n_threads in (1, 2, 3)
    ]
    assert len(loss.passes(X, y, sw).slices) >= 4
    assert_allclose(moments[0], expected, rtol=1e-12, atol=1e-14)
    for other in moments[1:]:
        assert_array_equal(other, moments[0])


def test_feature_moments_refuse_sparse_data():
    X, y, _ = make_problem(sparse=True)
    with pytest.raises(TypeError, match="dense"):
        MultinomialLoss(N_CLASSES, True).passes(X, y, None).feature_moments()


@pytest.mark.parametrize("weighted", [False, True])
def test_class_curvature_is_the_mean_softmax_jacobian(weighted, rng):
    X, y, sw = make_problem(n_samples=50)
    sw = sw if weighted else None
    loss = MultinomialLoss(N_CLASSES, True)
    passes = loss.passes(X, y, sw)
    coef = rng.standard_normal((X.shape[1] + 1, N_CLASSES))
    passes.value_gradient_hessp(coef)
    P = softmax(with_ones(X, True) @ coef, axis=1)
    weights = np.ones(len(y)) if sw is None else sw
    weights = weights / weights.sum()
    expected = sum(
        w * (np.diag(p) - np.outer(p, p)) for w, p in zip(weights, P, strict=True)
    )
    assert_allclose(passes.class_curvature(), expected, rtol=1e-12, atol=1e-15)


def test_class_curvature_needs_the_hessian_products_first():
    X, y, _ = make_problem()
    with pytest.raises(RuntimeError, match="value_gradient_hessp"):
        MultinomialLoss(N_CLASSES, True).passes(X, y, None).class_curvature()


@pytest.mark.parametrize("weighted", [False, True])
def test_the_approximation_is_the_hessian_at_the_zero_model(weighted, rng):
    """At the zero model every softmax Jacobian is ``(I - 1 1^T / K) / K``:
    without an intercept, the approximation is the Hessian itself on every
    direction whose rows sum to zero over the classes (on the others, the
    Hessian has the penalty alone, and the approximation a part that keeps
    it definite for the intercepts)."""
    X, y, sw = make_problem(n_samples=60, n_features=6)
    sw = sw if weighted else None
    objective = MultinomialLoss(N_CLASSES, False).bind(X, y, sw, L2)
    _, _, hessp = objective.value_gradient_hessp(np.zeros(6 * N_CLASSES))
    inverse = objective.curvature.inverse()
    for _ in range(5):
        V = rng.standard_normal((6, N_CLASSES))
        V -= V.mean(axis=1, keepdims=True)
        assert_allclose(inverse(hessp(V.ravel())), V.ravel(), rtol=1e-10)


def test_the_approximation_is_symmetric_positive_definite(rng):
    """Preconditioned conjugate gradients need ``M^-1`` symmetric and
    positive definite, intercepts included, away from the zero model too."""
    X, y, sw = make_problem(n_samples=60, n_features=6)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, sw, L2)
    objective.value_gradient_hessp(rng.standard_normal(7 * N_CLASSES))
    inverse = objective.curvature.inverse()
    M_inv = np.column_stack([inverse(e) for e in np.eye(7 * N_CLASSES)])
    assert_allclose(M_inv, M_inv.T, rtol=1e-10, atol=1e-12)
    assert np.linalg.eigvalsh(M_inv).min() > 0


def test_it_is_offered_for_dense_penalised_data_only():
    X, y, _ = make_problem()
    loss = MultinomialLoss(N_CLASSES, True)
    assert loss.bind(X, y, None, L2).curvature is not None
    # Without a penalty, conjugate gradients find the least-norm minimiser
    # only unpreconditioned.
    assert loss.bind(X, y, None, 0.0).curvature is None
    assert loss.bind(sp.csr_matrix(X), y, None, L2).curvature is None


def count_products(objective):
    """``objective`` with its Hessian-vector products counted."""
    counted = []

    def value_gradient_hessp(x):
        value, gradient, hessp = objective.value_gradient_hessp(x)

        def counted_hessp(v):
            counted.append(1)
            return hessp(v)

        return value, gradient, counted_hessp

    return objective._replace(value_gradient_hessp=value_gradient_hessp), counted


def test_newton_cg_on_correlated_features_needs_fewer_products():
    """On image-like data the diagonal preconditioner leaves the
    correlations between pixels to conjugate gradients; the factored one
    takes them out, and reaches the same optimum in fewer products, its own
    cost included."""
    X, y = image_like(1000, 12, N_CLASSES)
    # A weak penalty, C = 10, as image data is often fitted with: the
    # Hessian's least curvature is the penalty, 1e-4.
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, None, 0.1 / len(y))
    results, products = [], []
    for offered in (objective._replace(curvature=None), objective):
        counted_objective, counted = count_products(offered)
        results.append(
            minimize_newton_cg(
                counted_objective, np.zeros(145 * N_CLASSES), max_iter=100, tol=1e-9
            )
        )
        products.append(len(counted))
    assert all(result.converged for result in results)
    # The objective's curvature is at least the penalty, 1e-4: the iterates
    # lie within the sum of their gradients' norms times 1e4 of each other.
    gradients = [objective.value_and_gradient(r.x)[1] for r in results]
    bound = sum(np.linalg.norm(g) for g in gradients) * 1e4
    assert np.linalg.norm(results[0].x - results[1].x) <= bound
    assert bound < 1e-3
    # About 360 products with the diagonal alone, 150 with the factored
    # approximation, which costs about 30 to form.
    assert products[1] + objective.curvature.cost < 0.75 * products[0]


@pytest.fixture
def formed(monkeypatch):
    """A list that gets an entry each time an approximation is formed."""
    calls = []
    original = _curvature.KroneckerCurvature.inverse

    def recorded(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(_curvature.KroneckerCurvature, "inverse", recorded)
    return calls


def test_few_products_never_form_the_approximation(formed):
    """Where every Newton step takes fewer products than the approximation
    costs, Newton-CG never forms it."""
    # A strong penalty: the Hessian is near a multiple of the identity, and
    # each Newton step takes a product or two.
    X, y, _ = make_problem(n_samples=2000, n_features=100)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, None, L2)
    counted_objective, counted = count_products(objective)
    result = minimize_newton_cg(
        counted_objective, np.zeros(101 * N_CLASSES), max_iter=100, tol=1e-8
    )
    assert result.converged
    # No step took more products than all of them together.
    assert len(counted) < objective.curvature.cost
    assert not formed


def test_image_like_fits_do_not_depend_on_the_thread_count(formed, monkeypatch):
    """The factors are summed in an order of their own, whatever the
    threads: a fit that forms them gives the same model on 1, 2 and 3
    threads."""
    monkeypatch.setattr(_passes, "MIN_WORK_PER_THREAD", 1000)
    monkeypatch.setattr(_passes, "_MOMENT_TILE", 32)
    X, y = image_like(1000, 12, N_CLASSES)
    models = [
        SoftmaxRegression(solver="newton-cg", tol=1e-6, n_threads=n).fit(X, y)
        for n in (1, 2, 3)
    ]
    assert formed
    for model in models[1:]:
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)

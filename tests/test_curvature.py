"""The curvatures that precondition Newton-CG, the Kronecker-factored
approximations of the Hessian and the Hessian itself: their factors, their
exactness where they are exact, and what they save."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from _problems import distance_and_bound, make_problem, text_like
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage
from scipy.special import softmax

from sklearn_softmax import SoftmaxRegression, _blocks, _curvature
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import _newton_steps
from sklearn_softmax._solvers._conjugate_gradients import truncated_cg
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


def feature_factor(curvature, fit_intercept):
    """``diag(v) + m~ m~^T`` of a sparse approximation, with the
    intercept's entries of ``v`` and ``m~``, zero and one."""
    v, m = curvature.features()
    if fit_intercept:
        v, m = np.append(v, 0.0), np.append(m, 1.0)
    return np.diag(v) + np.outer(m, m), m


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
    threads, with blocks small enough that there are several for each."""
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 10)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 8)
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


@pytest.mark.parametrize("sparse", [False, True])
def test_the_approximation_is_symmetric_positive_definite(sparse, rng):
    """Preconditioned conjugate gradients need ``M^-1`` symmetric and
    positive definite, intercepts included, away from the zero model too."""
    X, y, sw = make_problem(n_samples=60, n_features=6, sparse=sparse)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, sw, L2)
    objective.value_gradient_hessp(rng.standard_normal(7 * N_CLASSES))
    inverse = objective.curvature.inverse()
    M_inv = np.column_stack([inverse(e) for e in np.eye(7 * N_CLASSES)])
    assert_allclose(M_inv, M_inv.T, rtol=1e-10, atol=1e-12)
    assert np.linalg.eigvalsh(M_inv).min() > 0


def test_it_is_offered_for_penalised_data_only():
    X, y, _ = make_problem()
    loss = MultinomialLoss(N_CLASSES, True)
    assert isinstance(
        loss.bind(X, y, None, L2).curvature, _curvature.KroneckerCurvature
    )
    assert isinstance(
        loss.bind(sp.csr_matrix(X), y, None, L2).curvature,
        _curvature.DiagonalCovarianceCurvature,
    )
    # Without a penalty, conjugate gradients find the least-norm minimiser
    # only unpreconditioned.
    assert loss.bind(X, y, None, 0.0).curvature is None
    assert loss.bind(sp.csr_matrix(X), y, None, 0.0).curvature is None


def test_the_sparse_approximation_only_where_it_costs_at_most_a_product():
    """Applying it costs ``2 p K^2`` multiply-adds, a Hessian-vector product
    ``2 nnz K``: sparse data with fewer stored values than ``p K`` gets
    none."""
    X, y, _ = make_problem(n_samples=40, n_features=30, sparse=True)
    n_values = X.nnz
    loss = MultinomialLoss(N_CLASSES, True)
    assert loss.bind(X, y, None, L2).curvature is not None
    thin = X.copy()
    thin.data[(31 * N_CLASSES) // 2 :] = 0.0
    thin.eliminate_zeros()
    assert thin.nnz < 31 * N_CLASSES <= n_values
    assert loss.bind(thin, y, None, L2).curvature is None


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_sparse_approximation_keeps_the_diagonal_and_the_intercept(
    fit_intercept, weighted
):
    """``diag(v) + m~ m~^T`` has the diagonal of the features' weighted
    second moments ``F``, and, with an intercept, its last row and column:
    the weighted means and one."""
    X, y, sw = make_problem(n_samples=80, n_features=7, sparse=True)
    sw = sw if weighted else None
    A = with_ones(X.toarray(), fit_intercept)
    weights = np.ones(len(y)) if sw is None else sw.astype(np.float64)
    F = (A * (weights / weights.sum())[:, None]).T @ A
    curvature = MultinomialLoss(N_CLASSES, fit_intercept).bind(X, y, sw, L2).curvature
    approximation, m = feature_factor(curvature, fit_intercept)
    means = (weights / weights.sum()) @ X.toarray()
    assert_allclose(m[:7], means, rtol=1e-12)
    assert_allclose(np.diag(approximation), np.diag(F), rtol=1e-12)
    if fit_intercept:
        assert_allclose(approximation[-1], F[-1], rtol=1e-12)
        assert_allclose(approximation[:, -1], F[:, -1], rtol=1e-12)
    # The rest is the diagonal alone: F's covariances are left out.
    off_diagonal = ~np.eye(len(m), dtype=bool)
    if fit_intercept:
        off_diagonal[-1] = off_diagonal[:, -1] = False
    covariances = F - np.outer(m, m)
    assert_allclose(approximation[off_diagonal], np.outer(m, m)[off_diagonal])
    assert np.abs(covariances[off_diagonal]).max() > 1e-3


@pytest.mark.parametrize("l2_reg_strength", [L2, 1e-10, 1e-14])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_sparse_approximation_inverts_its_matrix(
    fit_intercept, l2_reg_strength, rng
):
    """``inverse()`` applies the inverse of ``(diag(v) + m~ m~^T) (x) A' +
    lambda I``, formed here as a dense matrix, with ``A'`` the class
    curvature whose null direction has the mean of its diagonal: to the
    rounding of a backward-stable solve (the residual against the norms of
    the matrix and of the solution) and symmetric, also where a weak
    penalty leaves the matrix nearly singular along the intercepts."""
    X, y, sw = make_problem(n_samples=60, n_features=6, sparse=True)
    n_rows = 6 + int(fit_intercept)
    loss = MultinomialLoss(N_CLASSES, fit_intercept)
    passes = loss.passes(X, y, sw)
    objective = loss.bind(X, y, sw, l2_reg_strength)
    x = rng.standard_normal(n_rows * N_CLASSES)
    objective.value_gradient_hessp(x)
    passes.value_gradient_hessp(x.reshape(n_rows, N_CLASSES))
    A = passes.class_curvature()
    A += np.trace(A) / N_CLASSES**2
    M = np.kron(feature_factor(objective.curvature, fit_intercept)[0], A)
    M += l2_reg_strength * np.eye(n_rows * N_CLASSES)
    inverse = objective.curvature.inverse()
    M_inv = np.column_stack([inverse(e) for e in np.eye(n_rows * N_CLASSES)])
    assert_allclose(M_inv, M_inv.T, rtol=0, atol=1e-13 * np.abs(M_inv).max())
    for _ in range(3):
        r = rng.standard_normal(n_rows * N_CLASSES)
        z = inverse(r)
        residual = np.linalg.norm(M @ z - r)
        assert residual <= 1e-13 * np.linalg.norm(M, 2) * np.linalg.norm(z)


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


def fits_without_and_with_curvature(objective, n_params, field="curvature"):
    """Newton-CG to ``tol=1e-9`` from zero on ``objective`` without its
    curvature ``field`` (the approximation of the Hessian, by default, or
    the Hessian itself), then with it: the distance between the two
    solutions, the bound their gradients give on it (see
    ``distance_and_bound``), and the products each fit took. For the
    approximation, the Hessian itself, which a long step would form in its
    place, is left out of both."""
    if field == "curvature":
        objective = objective._replace(exact_curvature=None)
    results, products = [], []
    for offered in (objective._replace(**{field: None}), objective):
        counted_objective, counted = count_products(offered)
        results.append(
            minimize_newton_cg(
                counted_objective, np.zeros(n_params), max_iter=100, tol=1e-9
            )
        )
        products.append(len(counted))
    assert all(result.converged for result in results)
    return (*distance_and_bound(objective, results[0].x, results[1].x), products)


def test_newton_cg_on_correlated_features_needs_fewer_products():
    """On image-like data the diagonal preconditioner leaves the
    correlations between pixels to conjugate gradients; the factored one
    takes them out, and reaches the same optimum in fewer products, its own
    cost included."""
    X, y = image_like(1000, 12, N_CLASSES)
    # A weak penalty, C = 10, as image data is often fitted with: the
    # Hessian's least curvature is the penalty, 1e-4.
    l2_reg_strength = 0.1 / len(y)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, None, l2_reg_strength)
    distance, bound, products = fits_without_and_with_curvature(
        objective, 145 * N_CLASSES
    )
    assert distance <= bound < 1e-3
    # About 360 products with the diagonal alone, 150 with the factored
    # approximation, which costs about 30 to form.
    assert products[1] + objective.curvature.cost < 0.75 * products[0]


def test_newton_cg_on_text_like_data_needs_fewer_products():
    """On text-like data the frequent columns and the intercept move
    together, along the Hessian's largest eigenvalues; the sparse
    approximation takes that direction out, from the first step, and
    reaches the same optimum in fewer products."""
    X, y = text_like(2000, 500, N_CLASSES)
    l2_reg_strength = 1.0 / len(y)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, None, l2_reg_strength)
    distance, bound, products = fits_without_and_with_curvature(
        objective, 501 * N_CLASSES
    )
    assert distance <= bound < 1e-4
    # 84 products with the diagonal preconditioner, 26 with this one.
    assert products[1] < 0.5 * products[0]


@pytest.fixture
def formed(monkeypatch):
    """A list that gets the class's name each time a curvature is formed."""
    calls = []
    for approximation in (
        _curvature.KroneckerCurvature,
        _curvature.DiagonalCovarianceCurvature,
        _curvature.ExactCurvature,
    ):

        def recorded(self, original=approximation.inverse):
            calls.append(type(self).__name__)
            return original(self)

        monkeypatch.setattr(approximation, "inverse", recorded)
    return calls


def test_text_like_fits_do_not_depend_on_the_thread_count(formed, monkeypatch):
    """The moments and the class curvature are summed in an order of their
    own: a sparse fit, preconditioned by the sparse approximation, gives
    the same model on 1, 2 and 3 threads."""
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 1000)
    X, y = text_like(2000, 500, N_CLASSES)
    assert len(MultinomialLoss(N_CLASSES, True).passes(X, y, None).slices) >= 4
    models = [
        SoftmaxRegression(solver="newton-cg", tol=1e-6, n_threads=n).fit(X, y)
        for n in (1, 2, 3)
    ]
    assert set(formed) == {"DiagonalCovarianceCurvature"}
    for model in models[1:]:
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)


def test_an_approximation_cheaper_than_a_product_is_used_from_the_first_step(
    formed,
):
    """With many classes and few features, forming ``F`` costs less than a
    Hessian-vector product: Newton-CG preconditions every step with it,
    although no step is long."""
    X, y, _ = make_problem(n_samples=500, n_features=3, n_classes=10)
    objective = MultinomialLoss(10, True).bind(X, y, None, L2)
    assert objective.curvature.cost < 1
    result = minimize_newton_cg(objective, np.zeros(40), max_iter=100, tol=1e-8)
    assert result.converged
    assert formed == ["KroneckerCurvature"] * result.n_iter


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
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 1000)
    X, y = image_like(1000, 12, N_CLASSES)
    models = [
        SoftmaxRegression(solver="newton-cg", tol=1e-6, n_threads=n).fit(X, y)
        for n in (1, 2, 3)
    ]
    assert formed
    for model in models[1:]:
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)


@pytest.mark.parametrize("n_classes", [2, N_CLASSES])
def test_the_exact_curvature_inverts_the_hessian_of_the_last_products(n_classes, rng):
    """The Hessian formed at the point of the last products, penalised and
    with its null directions fixed as exact Newton steps have it."""
    X, y, sw = make_problem(n_classes=n_classes)
    objective = MultinomialLoss(n_classes, True).bind(X, y, sw, L2)
    n_params = (X.shape[1] + 1) * n_classes
    x = rng.standard_normal(n_params)
    H = objective.value_gradient_hessian(x)[2]()
    objective.value_gradient_hessp(rng.standard_normal(n_params))
    objective.value_gradient_hessp(x)
    inverse = objective.exact_curvature.inverse()
    r = rng.standard_normal(n_params)
    # Solving rounds to about cond(H) float64 roundings.
    solving = 10 * np.linalg.cond(H) * np.finfo(np.float64).eps
    assert solving < 1e-11
    assert_allclose(H @ inverse(r), r, rtol=0, atol=solving * np.abs(r).max())


@pytest.mark.parametrize("n_classes", [2, N_CLASSES])
def test_a_hessian_from_float32_probabilities_is_within_their_rounding(n_classes, rng):
    """With float32 Hessian products, the Hessian that preconditions
    Newton-CG is formed from the float32 probabilities they keep. Each
    sample's weight in it is then off by a few float32 roundings, relative,
    so the whole is within that share of the exact Hessian in every
    direction, however ill-conditioned: the generalised eigenvalues of the
    difference against the exact one are at most a few float32 roundings
    (scipy's eigh solves that pencil to float64 precision relative to the
    small difference)."""
    X, y, sw = make_problem(n_classes=n_classes)
    scales = np.logspace(-2, 2, X.shape[1])
    coef = rng.standard_normal((X.shape[1] + 1, n_classes))
    # Scores of order one.
    coef[:-1] /= scales[:, np.newaxis]
    hessians = [
        MultinomialLoss(n_classes, True)
        .bind(X * scales, y, sw, 1e-6, hessian_dtype=dtype)
        .value_gradient_hessian(coef.ravel())[2]()
        for dtype in (None, np.float32)
    ]
    exact, from_float32 = hessians
    assert np.linalg.cond(exact) > 1e8
    shares = scipy.linalg.eigh(from_float32 - exact, exact, eigvals_only=True)
    rounding = np.finfo(np.float32).eps
    assert np.abs(shares).max() <= 4 * rounding
    assert np.abs(shares).max() > 0.01 * rounding


def test_the_exact_curvature_is_offered_for_dense_penalised_float64_data_only(
    monkeypatch,
):
    """float32 data keep their truncated steps (see the solvers page), and
    sparse data its approximation; without a penalty conjugate gradients
    find the minimiser of least norm only unpreconditioned; and a Hessian
    of more than ``_MAX_ROWS`` rows is never formed."""
    X, y, _ = make_problem()
    loss = MultinomialLoss(N_CLASSES, True)
    assert loss.bind(X, y, None, L2).exact_curvature is not None
    assert loss.bind(X.astype(np.float32), y, None, L2).exact_curvature is None
    assert loss.bind(sp.csr_matrix(X), y, None, L2).exact_curvature is None
    assert loss.bind(X, y, None, 0.0).exact_curvature is None
    monkeypatch.setattr(_curvature, "_MAX_ROWS", (X.shape[1] + 1) * N_CLASSES - 1)
    assert loss.bind(X, y, None, L2).exact_curvature is None


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_cg_takes_exact_steps_where_conjugate_gradients_struggle(
    n_classes, formed
):
    """Features on scales from 1e-2 to 1e2: conjugate gradients reach the
    products the Hessian costs, which is then formed, gives the step and
    preconditions the next ones. The fit reaches the optimum of the fit
    without it (within the distance their gradients bound) for fewer
    products, the Hessians' cost included."""
    X, y, _ = make_problem(n_samples=3000, n_features=30, n_classes=n_classes)
    X = X * np.logspace(-2, 2, X.shape[1])
    objective = MultinomialLoss(n_classes, True).bind(X, y, None, 1e-4)
    distance, bound, products = fits_without_and_with_curvature(
        objective, 31 * n_classes, field="exact_curvature"
    )
    assert distance <= bound < 1e-4
    n_formed = formed.count("ExactCurvature")
    assert n_formed >= 1
    cost = objective.exact_curvature.cost
    # Two classes: 27 products without it, 7 and two Hessians of 2.1 with
    # it; three: 41, and 22 and one of 6.2.
    assert products[1] + n_formed * cost < 0.8 * products[0]


def test_a_hessian_costing_more_than_a_step_may_take_is_never_formed(
    formed, monkeypatch
):
    """Conjugate gradients stop a step at MAX_CG_ITER products anyway: a
    Hessian that costs more is never formed, however many steps reach that
    limit."""
    monkeypatch.setattr(_newton_steps, "MAX_CG_ITER", 2)
    X, y, _ = make_problem(n_samples=3000, n_features=30, n_classes=3)
    X = X * np.logspace(-2, 2, X.shape[1])
    objective = MultinomialLoss(3, True).bind(X, y, None, 1e-4)
    assert objective.exact_curvature.cost > 2
    counted_objective, counted = count_products(objective)
    result = minimize_newton_cg(counted_objective, np.zeros(93), max_iter=20, tol=1e-9)
    # Every step reached the limit.
    assert len(counted) == 2 * result.n_iter
    assert "ExactCurvature" not in formed


class ScatteringCurvature:
    """A curvature cheaper than a product, so used from the first step,
    whose inverse scales each parameter by a factor of its own, from 1e-3
    to 1e3: a preconditioner far from the Hessian; its formations counted
    in ``formed``."""

    cost = 0.5

    def __init__(self, n_params, rng):
        self._scales = 10.0 ** rng.uniform(-3.0, 3.0, n_params)
        self.formed = 0

    def inverse(self):
        self.formed += 1
        return lambda r: self._scales * r


def scattered_objective(rng):
    """An objective of 200 x 10 data, with a strong penalty (the Hessian
    near a multiple of the identity, which the diagonal, mostly the
    identity, solves in a few products), and the same objective offering a
    :class:`ScatteringCurvature` and no Hessian: the objective, the
    curvature and the objective offering it."""
    X, y, _ = make_problem(n_samples=200, n_features=10)
    objective = MultinomialLoss(N_CLASSES, True).bind(X, y, None, L2)
    scattering = ScatteringCurvature(11 * N_CLASSES, rng)
    offered = objective._replace(curvature=scattering, exact_curvature=None)
    return objective, scattering, offered


@pytest.fixture
def systems(monkeypatch):
    """A list that gets, for each system conjugate gradients solve in
    Newton-CG, whether the diagonal preconditioned it and the products it
    took."""
    calls = []

    def recorded(hessp, g, max_cg_iter, precondition=None):
        direction, n_products = truncated_cg(hessp, g, max_cg_iter, precondition)
        diagonal = getattr(precondition, "__qualname__", "").startswith(
            "_diagonal_preconditioner"
        )
        calls.append((diagonal, n_products))
        return direction, n_products

    monkeypatch.setattr(_newton_steps, "truncated_cg", recorded)
    return calls


def test_an_approximation_that_leaves_a_system_unsolved_gives_way_to_the_diagonal(
    systems, monkeypatch, rng
):
    """A step the approximation preconditions reaches MAX_CG_ITER products
    without solving its system; the diagonal solves the same system in
    fewer, gives the step, and preconditions every later one: the
    approximation is formed once, and the fit reaches the optimum of the
    fit without it."""
    monkeypatch.setattr(_newton_steps, "MAX_CG_ITER", 10)
    objective, scattering, offered = scattered_objective(rng)
    n_params = 11 * N_CLASSES
    result = minimize_newton_cg(offered, np.zeros(n_params), max_iter=50, tol=1e-10)
    assert result.converged
    assert scattering.formed == 1
    # The approximation's step, the diagonal's trial on the same system,
    # then the diagonal alone.
    assert systems[0] == (False, 10)
    assert systems[1][0] and systems[1][1] < 10
    assert all(diagonal for diagonal, _ in systems[1:])
    assert len(systems) == result.n_iter + 1
    reference = minimize_newton_cg(
        objective._replace(curvature=None, exact_curvature=None),
        np.zeros(n_params),
        max_iter=50,
        tol=1e-10,
    )
    distance, bound = distance_and_bound(objective, reference.x, result.x)
    assert distance <= bound < 1e-8


def test_failed_trials_of_the_diagonal_are_spaced_by_doubling_waits(
    systems, monkeypatch, rng
):
    """With one product a step, every system is left unsolved, by the
    approximation and by the diagonal alike: the approximation keeps every
    step, and the diagonal is tried on the first, then once the
    approximation's steps have taken 2, 4, 8 and 16 products since the
    last trial, on steps 1, 3, 7, 15 and 31."""
    monkeypatch.setattr(_newton_steps, "MAX_CG_ITER", 1)
    _, scattering, offered = scattered_objective(rng)
    n_params = 11 * N_CLASSES
    result = minimize_newton_cg(offered, np.zeros(n_params), max_iter=40, tol=0.0)
    assert result.n_iter == 40
    assert scattering.formed == 40
    steps, trials = 0, []
    for diagonal, _ in systems:
        if diagonal:
            trials.append(steps)
        else:
            steps += 1
    assert trials == [1, 3, 7, 15, 31]

"""The solvers, on objectives with a known minimiser and no labels at all;
Newton-CG's preconditioner on text-like data."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit

from sklearn_softmax._loss import MultinomialLoss, Objective
from sklearn_softmax._penalties import GroupNorm, L1Norm
from sklearn_softmax._solvers import ARRAY_API_SOLVERS, SOLVERS, Progress, minimize_agd
from sklearn_softmax._solvers._conjugate_gradients import truncated_cg
from sklearn_softmax._solvers._newton import minimize_newton_cg
from sklearn_softmax._solvers._result import Trace

# The solvers of NumPy data, and the L-BFGS that fits Array API inputs.
MINIMIZERS = {**SOLVERS, "lbfgs-in-namespace": ARRAY_API_SOLVERS["lbfgs"]}


def quadratic(A, x_star):
    """f(x) = (x - x*)'A(x - x*)/2, minimised at x*.

    Written around x* so that its value is accurate near the minimiser.
    """

    def value(x):
        return 0.5 * (x - x_star) @ A @ (x - x_star)

    def value_and_gradient(x):
        return value(x), A @ (x - x_star)

    def value_gradient_hessp(x):
        return (*value_and_gradient(x), lambda v: A @ v)

    return Objective(value, value_and_gradient, value_gradient_hessp)


def ill_conditioned_quadratic(rng, n=20, condition=1e4):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T
    return A, rng.standard_normal(n)  # the Hessian and the minimiser x*


@pytest.mark.parametrize("solver", sorted(MINIMIZERS))
def test_quadratic_reaches_closed_form_minimiser(solver, rng):
    A, b = ill_conditioned_quadratic(rng)
    result = MINIMIZERS[solver](
        quadratic(A, b), np.zeros(b.size), max_iter=5000, tol=1e-10
    )
    assert result.converged
    assert result.grad_norm <= 1e-10
    # |x - x*|_2 <= |g|_2 / lambda_min, with lambda_min = 1 and |g|_2 at
    # most sqrt(n) times its largest entry; rounding adds a few eps.
    assert_allclose(result.x, b, rtol=0, atol=np.sqrt(b.size) * 1e-10 + 1e-14)
    assert result.objective_history.shape == (result.n_iter,)
    assert_allclose(result.objective_history[-1], result.objective)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_logistic_objective_reaches_first_order_point(solver, rng):
    # Penalised binary logistic regression, written out independently here.
    X = rng.standard_normal((200, 6))
    t = (X @ rng.standard_normal(6) + 0.5 * rng.standard_normal(200) > 0) * 2.0 - 1
    lam = 1e-3

    def value_and_gradient(w):
        margin = t * (X @ w)
        value = np.mean(np.logaddexp(0, -margin)) + 0.5 * lam * w @ w
        return value, X.T @ (-t * expit(-margin)) / len(t) + lam * w

    def value_gradient_hessp(w):
        curvature = expit(X @ w) * expit(-(X @ w)) / len(t)
        return (
            *value_and_gradient(w),
            lambda v: X.T @ (curvature * (X @ v)) + lam * v,
        )

    objective = Objective(
        lambda w: value_and_gradient(w)[0], value_and_gradient, value_gradient_hessp
    )
    # A gradient that a line search reaches on any BLAS kernel: a step
    # from gradient g lowers f by about g'H^-1 g / 2 >= |g|^2 / (2 L), with L
    # bounding the Hessian (p(1 - p) <= 1/4), and f is rounded to about eps f,
    # f <= f(0) = log 2. Below sqrt(2 L eps f), about 1e-8 here, the kernel's
    # rounding decides whether a step is seen to decrease f; tol is where the
    # decrease is a hundred times the rounding.
    L = np.linalg.eigvalsh(X.T @ X)[-1] / (4 * len(t)) + lam
    tol = np.sqrt(2 * L * 100 * np.finfo(float).eps * np.log(2))
    result = SOLVERS[solver](objective, np.zeros(6), max_iter=10000, tol=tol)
    assert result.converged
    assert np.abs(value_and_gradient(result.x)[1]).max() <= tol
    assert_allclose(result.objective, value_and_gradient(result.x)[0], rtol=1e-15)


def pseudo_huber_plus_quadratic(A, x_star, scale=1e3):
    """f(x) = (x - x*)'A(x - x*)/2 + scale sum_i (sqrt(1 + (x_i - x*_i)^2) - 1):
    smooth and convex, minimised at x*, and far from quadratic where
    |x - x*| is of order one, so that Newton's method needs many steps."""

    def value_and_gradient(x):
        u = x - x_star
        root = np.sqrt(1 + u * u)
        value = 0.5 * u @ A @ u + scale * np.sum(root - 1)
        return value, A @ u + scale * u / root

    def value_gradient_hessp(x):
        u = x - x_star
        curvature = scale / (1 + u * u) ** 1.5
        return (*value_and_gradient(x), lambda v: A @ v + curvature * v)

    return Objective(
        lambda x: value_and_gradient(x)[0], value_and_gradient, value_gradient_hessp
    )


@pytest.mark.parametrize("solver", sorted(MINIMIZERS))
def test_max_iter_stops_without_convergence(solver, rng):
    A, b = ill_conditioned_quadratic(rng)
    # Exact Newton steps solve a quadratic in one step.
    objective = (
        pseudo_huber_plus_quadratic(A, 10 * b)
        if solver == "newton-cholesky"
        else quadratic(A, b)
    )
    result = MINIMIZERS[solver](objective, np.zeros(b.size), max_iter=3, tol=1e-12)
    assert not result.converged
    assert result.n_iter == 3
    assert result.grad_norm > 1e-12
    assert result.message


@pytest.mark.parametrize("solver", sorted(MINIMIZERS))
def test_callback_sees_every_iteration(solver, rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    seen = []
    result = MINIMIZERS[solver](
        quadratic(A, b), np.zeros(b.size), max_iter=500, tol=1e-8, callback=seen.append
    )
    assert [p.iteration for p in seen] == list(range(1, result.n_iter + 1))
    assert all(isinstance(p, Progress) for p in seen)
    assert_allclose([p.objective for p in seen], result.objective_history)
    assert seen[-1].grad_norm == pytest.approx(result.grad_norm)


@pytest.mark.parametrize("solver", sorted(MINIMIZERS))
def test_grad_norm_history_is_the_stopping_rules_value(solver, rng):
    A, b = ill_conditioned_quadratic(rng, condition=100.0)
    tol = 1e-8
    seen = []
    result = MINIMIZERS[solver](
        quadratic(A, b), np.zeros(b.size), max_iter=500, tol=tol, callback=seen.append
    )
    history = result.grad_norm_history
    assert history.dtype == np.float64
    assert history.shape == result.objective_history.shape == (result.n_iter,)
    assert result.n_iter > 0
    assert_allclose(history, [p.grad_norm for p in seen], rtol=1e-12)
    # The last entry is the gradient at the returned point, written out here.
    assert_allclose(history[-1], np.abs(A @ (result.x - b)).max(), rtol=1e-10)
    assert history[-1] == result.grad_norm
    # The run stops at the first iterate that meets tol.
    assert history[-1] <= tol
    assert np.all(history[:-1] > tol)


@pytest.mark.parametrize("newton_steps", [False, True])
def test_proximal_grad_norm_history_is_the_gradient_mappings(newton_steps, rng):
    A, b = ill_conditioned_quadratic(rng, condition=100.0)
    penalty = (
        GroupNorm(np.full(5, 0.3), (5, 4)) if newton_steps else L1Norm(np.full(20, 0.3))
    )
    tol = 1e-8
    seen = []
    result = minimize_agd(
        quadratic(A, b),
        np.zeros(b.size),
        max_iter=5000,
        tol=tol,
        callback=seen.append,
        penalty=penalty,
        newton_steps=newton_steps,
    )
    history = result.grad_norm_history
    assert result.converged
    assert history.shape == (result.n_iter,)
    assert_allclose(history, [p.grad_norm for p in seen], rtol=1e-12)
    assert history[-1] == result.grad_norm <= tol
    assert np.all(history[:-1] > tol)


@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky"])
def test_newton_solvers_stop_before_a_step_that_gains_nothing(solver, rng):
    """A step the line search takes on its rounding slack alone, with a
    value no lower and a gradient larger, is not taken: the run stops where
    it stood, as at the limit of an objective's precision (in float32, such
    steps raise the gradient by orders)."""
    u = 1e-9 * rng.standard_normal(20)

    def value_and_gradient(x):
        # A value flat to its rounding, a gradient that grows along the
        # Newton step -u of the unit Hessian.
        return 1.0, u + 1e4 * x

    def value_gradient_hessp(x):
        return (*value_and_gradient(x), lambda v: v)

    objective = Objective(
        lambda x: value_and_gradient(x)[0], value_and_gradient, value_gradient_hessp
    )
    result = SOLVERS[solver](objective, np.zeros(20), max_iter=10, tol=1e-12)
    assert not result.converged
    assert result.message == "the line search found no decrease"
    assert result.n_iter == 0
    assert_array_equal(result.x, np.zeros(20))
    assert result.grad_norm == np.abs(u).max()


@pytest.mark.parametrize("penalty", [None, L1Norm(np.full(20, 0.3))])
def test_agd_stops_where_its_step_is_lost_in_rounding(penalty, rng):
    A, b = ill_conditioned_quadratic(rng, condition=100.0)
    lambda_max = np.linalg.eigvalsh(A)[-1]
    result = minimize_agd(
        quadratic(A, b), np.zeros(b.size), max_iter=10**5, tol=0.0, penalty=penalty
    )
    # FISTA with restarts needs about sqrt(condition) log(1 / eps) iterations.
    assert result.n_iter < 10**4
    if penalty is None:
        assert not result.converged
        assert result.message == (
            "the gradient step is lost in the rounding of the parameters"
        )
        # Every entry of the step g / L rounds away: |g_j| <= L eps |x_j| / 2,
        # with L below twice the largest curvature once the step is checked
        # on the gradient; the rounding of g itself is far below.
        gradient = A @ (result.x - b)
        eps = np.finfo(np.float64).eps
        assert np.abs(gradient).max() <= lambda_max * eps * np.abs(result.x).max()
    else:
        # A step lost in rounding is a fixed point of the proximal step: its
        # gradient mapping is zero.
        assert result.converged
        assert result.grad_norm == 0.0


@pytest.mark.parametrize("solver", sorted(MINIMIZERS))
def test_start_at_minimiser(solver, rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    result = MINIMIZERS[solver](quadratic(A, b), b.copy(), max_iter=100, tol=1e-6)
    assert result.converged
    assert result.n_iter == 0
    assert_allclose(result.x, b, rtol=0)
    assert result.grad_norm_history.shape == (0,)


def test_solver_does_not_modify_starting_point(rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    for minimize in MINIMIZERS.values():
        x0 = rng.standard_normal(b.size)
        kept = x0.copy()
        minimize(quadratic(A, b), x0, max_iter=50, tol=1e-8)
        assert_allclose(x0, kept, rtol=0)


def badly_scaled_quadratic(rng, n=30):
    """A well-conditioned Hessian seen through features whose scales span
    four orders of magnitude: ``A = S B S`` with ``B`` near the identity."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    B = Q @ np.diag(np.linspace(1.0, 3.0, n)) @ Q.T
    scales = np.geomspace(1e-2, 1e2, n)
    return scales[:, None] * B * scales[None, :], rng.standard_normal(n)


@pytest.mark.parametrize("curvature", [np.inf, np.nan, 0.0, -1.0])
def test_cg_stops_on_a_product_that_is_not_a_positive_number(curvature):
    """A Hessian product that overflowed (float32 products of data on huge
    scales) stops conjugate gradients as a direction of non-positive
    curvature does: the first iteration hands back the steepest descent."""
    g = np.array([1.0, -2.0, 0.5])
    direction, n_products = truncated_cg(lambda v: curvature * v, g, 10)
    assert_array_equal(direction, -g)
    assert n_products == 1


@pytest.mark.parametrize("exponent", [-1070, -1000, -300, 0, 300, 1000])
def test_cg_scales_the_gradient_exactly_at_any_magnitude(exponent):
    """CG runs on the gradient scaled by a power of two to a norm about one,
    from subnormal gradients (left as they are) to gradients near float64's
    largest, whose curvature would overflow: the direction of 2^k g is 2^k
    times that of g, to the last bit, where the forcing term
    min(0.5, sqrt(|g|)) is 0.5 for both, and otherwise meets its own."""
    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    g = np.array([1.0, -2.0, 0.5])
    direction, n_products = truncated_cg(lambda v: A @ v, g, 10)
    scaled, scaled_products = truncated_cg(lambda v: A @ v, np.ldexp(g, exponent), 10)
    assert np.all(np.isfinite(scaled))
    if exponent >= 0:
        assert_array_equal(scaled, np.ldexp(direction, exponent))
        assert scaled_products == n_products
    elif exponent > -1000:
        # The forcing term of so small a gradient asks for the solution
        # itself: the residual is that of rounding, a few units in the last
        # place of the products of a well-conditioned system.
        scaled_g = np.ldexp(g, exponent)
        g_norm = np.linalg.norm(scaled_g)
        residual = np.linalg.norm(A @ scaled + scaled_g)
        rounding = (
            30
            * np.finfo(np.float64).eps
            * (np.linalg.norm(A, 2) * np.linalg.norm(scaled) + g_norm)
        )
        assert residual <= max(min(0.5, np.sqrt(g_norm)) * g_norm, rounding)


def test_preconditioned_cg_solves_the_system_in_fewer_products(rng):
    A, _ = badly_scaled_quadratic(rng)
    g = rng.standard_normal(A.shape[0]) * 1e-6
    # eta = min(0.5, sqrt(|g|)): CG stops once |A p + g| <= eta |g|.
    threshold = min(0.5, np.sqrt(np.linalg.norm(g))) * np.linalg.norm(g)
    plain, plain_products = truncated_cg(lambda v: A @ v, g, 1000)
    preconditioned, products = truncated_cg(
        lambda v: A @ v, g, 1000, precondition=lambda r: r / np.diag(A)
    )
    for p in (plain, preconditioned):
        assert np.linalg.norm(A @ p + g) <= threshold
    assert products < plain_products / 3


def text_like(n_samples, n_features, n_stored, n_classes, seed=0):
    """Sparse rows of unit norm whose columns are used with a power-law skew,
    as words are, and labels from a random softmax model."""
    rng = np.random.default_rng(seed)
    columns = (n_features * rng.random((n_samples, n_stored)) ** 3).astype(np.int32)
    columns.sort(axis=1)
    values = np.log1p(1.0 + rng.poisson(1.0, size=(n_samples, n_stored)))
    rows = np.arange(0, n_samples * n_stored + 1, n_stored)
    X = sp.csr_matrix(
        (values.ravel(), columns.ravel(), rows), shape=(n_samples, n_features)
    )
    X.sum_duplicates()
    X = sp.csr_matrix(sp.diags(1.0 / sp.linalg.norm(X, axis=1)) @ X)
    scores = X @ (3.0 * rng.standard_normal((n_features, n_classes)))
    return X, np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)


def test_newton_cg_preconditions_text_like_data_in_fewer_products():
    X, y = text_like(3000, 2000, 20, 4)
    # The diagonal alone: without the Kronecker-factored approximation of
    # sparse data, which would take its place.
    objective = (
        MultinomialLoss(4, fit_intercept=True)
        .bind(X, y, None, 1 / 3000)
        ._replace(curvature=None)
    )
    results, products = [], []
    for offered in (objective._replace(hessian_diagonal=None), objective):
        counted = []

        def value_gradient_hessp(x, offered=offered, counted=counted):
            value, gradient, hessp = offered.value_gradient_hessp(x)

            def counted_hessp(v):
                counted.append(1)
                return hessp(v)

            return value, gradient, counted_hessp

        results.append(
            minimize_newton_cg(
                offered._replace(value_gradient_hessp=value_gradient_hessp),
                np.zeros(2001 * 4),
                max_iter=100,
                tol=1e-8,
            )
        )
        products.append(len(counted))
    assert all(result.converged for result in results)
    # Both iterates keep the weights of each feature and the intercepts
    # summing to zero over the classes, where the objective's curvature is
    # at least the penalty's, 1 / 3000: they lie within the sum of their
    # gradients' norms divided by it.
    gradients = [objective.value_and_gradient(r.x)[1] for r in results]
    bound = sum(np.linalg.norm(g) for g in gradients) * 3000
    assert np.linalg.norm(results[0].x - results[1].x) <= bound
    assert bound < 1e-4
    # 67 products without the preconditioner, 40 with it.
    assert products[1] < 0.75 * products[0]


@pytest.mark.parametrize("with_callback", [False, True])
def test_the_trace_records_each_iteration_and_calls_back(with_callback):
    """Each iteration's objective and gradient norm, numbered from one; the
    step's length is its direction's times the step size, and is computed
    only for a callback."""
    progress = []
    trace = Trace(progress.append if with_callback else None)
    direction = np.array([3.0, 4.0])
    trace.record(2.0, 0.5, direction, 0.5)
    trace.record(1.0, 0.25, np.array([0.0, 1.0]))
    result = trace.result(direction, 1.0, 0.25, False, "stopped")
    assert result.n_iter == trace.n_iter == 2
    assert_allclose(result.objective_history, [2.0, 1.0], rtol=0)
    assert_allclose(result.grad_norm_history, [0.5, 0.25], rtol=0)
    assert (result.objective, result.converged, result.message) == (
        1.0,
        False,
        "stopped",
    )
    assert trace.result(direction, 1.0, 0.25, True, "converged", 7).n_iter == 7
    expected = [Progress(1, 2.0, 0.5, 2.5, 0.5), Progress(2, 1.0, 0.25, 1.0, None)]
    assert progress == (expected if with_callback else [])


def counting_hessians(objective, eager=False):
    """``objective`` whose ``value_gradient_hessian`` counts its calls and
    the Hessians formed; ``eager`` forms each one with its evaluation."""
    counts = {"evaluations": 0, "hessians": 0}

    def value_gradient_hessian(x):
        counts["evaluations"] += 1
        f, g, hessian = objective.value_gradient_hessian(x)

        def counted():
            counts["hessians"] += 1
            return hessian()

        if eager:
            H = counted()
            return f, g, lambda: H
        return f, g, counted

    return objective._replace(value_gradient_hessian=value_gradient_hessian), counts


@pytest.mark.parametrize("n_classes", [2, 4])
def test_newton_cholesky_forms_the_hessian_where_it_steps_from(n_classes, rng):
    """One Hessian per iteration, at the point the step is taken from: none
    at the line search's rejected trials or at the last point; and the
    iterates are those of Hessians formed at every evaluation, to the last
    bit."""
    X = rng.standard_normal((300, 4)) * [1.0, 10.0, 0.1, 3.0]
    y = rng.integers(n_classes, size=300)
    loss = MultinomialLoss(n_classes, fit_intercept=True)
    x0 = np.zeros(loss.n_coef_rows(X.shape[1]) * n_classes)
    results = {}
    for eager in (False, True):
        objective, counts = counting_hessians(loss.bind(X, y, None, 1e-3), eager)
        result = SOLVERS["newton-cholesky"](objective, x0, max_iter=100, tol=1e-10)
        results[eager] = result, counts
    (lazy, lazy_counts), (eager, eager_counts) = results[False], results[True]
    assert lazy.converged and lazy.n_iter >= 3
    assert lazy_counts["hessians"] == lazy.n_iter
    assert eager_counts["hessians"] == eager_counts["evaluations"] > lazy.n_iter
    assert np.array_equal(lazy.x, eager.x)
    assert np.array_equal(lazy.grad_norm_history, eager.grad_norm_history)


def test_a_hessian_of_an_earlier_point_refuses_to_form(rng):
    """The data term's Hessian is formed from the probabilities it keeps,
    which the next evaluation writes over."""
    X = rng.standard_normal((50, 3))
    y = rng.integers(3, size=50)
    objective = MultinomialLoss(3, fit_intercept=True).bind(X, y, None, 1e-3)
    x = rng.standard_normal(12)
    _, _, hessian = objective.value_gradient_hessian(x)
    expected = hessian()
    objective.value_gradient_hessian(2 * x)
    with pytest.raises(RuntimeError, match="earlier point"):
        hessian()
    assert np.array_equal(objective.value_gradient_hessian(x)[2](), expected)

"""The solvers, on objectives with a known minimiser and no labels at all."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from sklearn_softmax._loss import Objective
from sklearn_softmax._solvers import SOLVERS, Progress


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


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_quadratic_reaches_closed_form_minimiser(solver, rng):
    A, b = ill_conditioned_quadratic(rng)
    result = SOLVERS[solver](
        quadratic(A, b), np.zeros(b.size), max_iter=5000, tol=1e-10
    )
    assert result.converged
    assert result.grad_norm <= 1e-10
    assert_allclose(result.x, b, rtol=0, atol=1e-10)
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
    result = SOLVERS[solver](objective, np.zeros(6), max_iter=10000, tol=1e-9)
    assert result.converged
    assert np.abs(value_and_gradient(result.x)[1]).max() <= 1e-9
    assert_allclose(result.objective, value_and_gradient(result.x)[0], rtol=1e-15)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_max_iter_stops_without_convergence(solver, rng):
    A, b = ill_conditioned_quadratic(rng)
    result = SOLVERS[solver](quadratic(A, b), np.zeros(b.size), max_iter=3, tol=1e-12)
    assert not result.converged
    assert result.n_iter == 3
    assert result.grad_norm > 1e-12
    assert result.message


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_callback_sees_every_iteration(solver, rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    seen = []
    result = SOLVERS[solver](
        quadratic(A, b), np.zeros(b.size), max_iter=500, tol=1e-8, callback=seen.append
    )
    assert [p.iteration for p in seen] == list(range(1, result.n_iter + 1))
    assert all(isinstance(p, Progress) for p in seen)
    assert_allclose([p.objective for p in seen], result.objective_history)
    assert seen[-1].grad_norm == pytest.approx(result.grad_norm)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_start_at_minimiser(solver, rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    result = SOLVERS[solver](quadratic(A, b), b.copy(), max_iter=100, tol=1e-6)
    assert result.converged
    assert result.n_iter == 0
    assert_allclose(result.x, b, rtol=0)


def test_solver_does_not_modify_starting_point(rng):
    A, b = ill_conditioned_quadratic(rng, condition=10.0)
    for minimize in SOLVERS.values():
        x0 = rng.standard_normal(b.size)
        kept = x0.copy()
        minimize(quadratic(A, b), x0, max_iter=50, tol=1e-8)
        assert_allclose(x0, kept, rtol=0)

"""Wide data solved in the row space of X: the reduction and the fits."""

import numpy as np
import pytest
from _problems import distance_and_bound, make_problem
from numpy.testing import assert_allclose
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning

import sklearn_softmax._backends._numpy as numpy_backend
from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._heuristics import choose_row_space
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._row_space import RowSpace, solve_in_row_space
from sklearn_softmax._solvers import SOLVERS, SolverResult

N_CLASSES = 4
L2 = 0.05


def wide_problem(n_samples=30, n_features=200, seed=0):
    return make_problem(n_samples, n_features, N_CLASSES, seed=seed)


def test_factor_and_maps(rng):
    X, _, _ = wide_problem()
    space = RowSpace.of(X)
    L = space.L
    assert_allclose(np.triu(L, 1), 0.0)
    assert_allclose(L @ L.T, X @ X.T, rtol=1e-12, atol=1e-10)
    V = rng.standard_normal((X.shape[0] + 1, N_CLASSES))
    coef = space.lift(V)
    W = coef[:-1]
    # Scores and lengths are kept; the intercepts pass through.
    assert_allclose(X @ W, L @ V[:-1], rtol=1e-10, atol=1e-10)
    assert_allclose(W.T @ W, V[:-1].T @ V[:-1], rtol=1e-10, atol=1e-10)
    assert_allclose(coef[-1], V[-1])
    assert_allclose(space.reduce(coef), V, rtol=1e-9, atol=1e-10)


def test_reduce_drops_the_part_outside_the_row_space(rng):
    X, _, _ = wide_problem()
    space = RowSpace.of(X)
    W = rng.standard_normal((X.shape[1], N_CLASSES))
    projected = space.lift(space.reduce(W))
    # The orthogonal projection onto the row space, written independently.
    Q, _ = np.linalg.qr(X.T)
    assert_allclose(projected, Q @ (Q.T @ W), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_objective_and_gradient_are_those_on_X(weighted, rng):
    X, y, sw = wide_problem()
    sw = sw if weighted else None
    space = RowSpace.of(X)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    V = rng.standard_normal((X.shape[0] + 1, N_CLASSES))
    coef = space.lift(V)
    value_X, gradient_X = loss.bind(X, y, sw, L2).value_and_gradient(coef.ravel())
    value_L, gradient_L = loss.bind(space.L, y, sw, L2).value_and_gradient(V.ravel())
    assert_allclose(value_L, value_X, rtol=1e-12)
    # The gradient on X is the lifted gradient on L.
    lifted = space.lift(gradient_L.reshape(V.shape))
    assert_allclose(lifted.ravel(), gradient_X, rtol=1e-8, atol=1e-12)


def test_near_collinear_samples_are_declined():
    X, _, _ = wide_problem()
    X[1] = X[0] * (1 + 1e-14)
    assert RowSpace.of(X) is None


def test_heuristic():
    assert choose_row_space(np.zeros((100, 400)), 3)
    assert not choose_row_space(np.zeros((100, 399)), 3)
    # Many samples for few classes: forming X X^T would cost too much.
    assert not choose_row_space(np.zeros((1000, 10_000)), 3)
    assert not choose_row_space(np.zeros((100, 400), dtype=np.float32), 3)


def test_a_lifted_point_that_misses_tol_goes_on_on_X(rng):
    """Where the lifted gradient misses tol twice, the solver resumes on X."""
    X, y, sw = wide_problem()
    space = RowSpace.of(X)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    calls, progress = [], []
    reduced_size = (X.shape[0] + 1) * N_CLASSES

    def solve(objective, x0, *, max_iter, tol, callback):
        calls.append((x0.size, tol))
        if x0.size == reduced_size:
            # The reduced solves stop at their start, as if converged.
            value = objective.value(x0)
            return SolverResult(
                x=x0,
                objective=value,
                grad_norm=0.0,
                n_iter=1,
                converged=True,
                objective_history=np.array([value]),
                grad_norm_history=np.array([0.0]),
                message="stub",
            )
        return SOLVERS["newton-cg"](
            objective, x0, max_iter=max_iter, tol=tol, callback=callback
        )

    coef0 = np.zeros((X.shape[1] + 1, N_CLASSES))
    result = solve_in_row_space(
        solve,
        space,
        lambda data: loss.bind(data, y, sw, L2),
        coef0,
        max_iter=50,
        tol=1e-8,
        callback=progress.append,
    )
    # To tol, then to tol / sqrt(m) for m reduced parameters, then on X.
    assert calls == [
        (reduced_size, 1e-8),
        (reduced_size, 1e-8 / np.sqrt(reduced_size)),
        (coef0.size, 1e-8),
    ]
    assert result.converged and result.grad_norm <= 1e-8
    assert result.n_iter == 2 + len(progress)
    assert [p.iteration for p in progress] == list(range(3, result.n_iter + 1))
    assert result.objective_history.shape == (result.n_iter,)
    # The stages' histories in turn: the stubs' entries, then the solve
    # on X, whose last entry is the gradient at the returned point.
    assert_allclose(result.grad_norm_history[:2], 0.0)
    assert_allclose(result.grad_norm_history[2:], [p.grad_norm for p in progress])
    assert result.grad_norm_history[-1] == result.grad_norm
    # The same optimum as a solve on X from the start.
    direct = SOLVERS["newton-cg"](
        loss.bind(X, y, sw, L2), coef0.ravel(), max_iter=50, tol=1e-8
    )
    assert_allclose(result.objective, direct.objective, rtol=1e-12)


def gradient_on_X(model, X, y, sample_weight):
    """The objective's gradient at a fitted model, from the formulas; with
    two classes, at the centred weights ``[-coef_ / 2, coef_ / 2]``."""
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([-coef / 2, coef / 2]), intercept * [-0.5, 0.5]
    S = sample_weight.sum()
    P = softmax(X @ coef.T + intercept, axis=1)
    G = sample_weight[:, None] * (P - np.eye(len(coef))[y]) / S
    gradient_W = X.T @ G + coef.T / (model.C * S)
    return np.vstack([gradient_W, G.sum(axis=0)])


def _centred_coef(model):
    """The flat coefficients of a fitted model in the loss's layout (the
    intercepts in the last row, if any); with two classes, the centred
    ``[-coef_ / 2, coef_ / 2]``."""
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([-coef / 2, coef / 2]), intercept * [-0.5, 0.5]
    rows = [coef.T, intercept] if model.fit_intercept else [coef.T]
    return np.vstack(rows).ravel()


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, N_CLASSES])
def test_fit_equals_the_fit_on_X(
    solver, fit_intercept, n_classes, monkeypatch, row_space_fits
):
    """Every solver, on two classes too: exact Newton steps then run on the
    difference of the classes' parameters, in the row space as well."""
    X, y, sw = make_problem(30, 200, n_classes, seed=0)
    tol = 1e-8
    params = dict(solver=solver, fit_intercept=fit_intercept, tol=tol, max_iter=5000)
    reduced = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
    assert row_space_fits == [1]
    monkeypatch.setattr(numpy_backend, "choose_row_space", lambda X, k: False)
    direct = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
    # The stopping rule holds on X. Centring the weights after the solve
    # moves the penalty's gradient by at most tol (the class sums of the
    # gradient are the penalty's alone), hence 2 tol.
    gradient = gradient_on_X(reduced, X, y, sw)
    if not fit_intercept:
        gradient = gradient[:-1]
    assert np.abs(gradient).max() <= 2 * tol
    # Both models within the distance of the optimum that their gradients
    # bound (see distance_and_bound), on the full, centred coefficients.
    objective = MultinomialLoss(n_classes, fit_intercept).bind(X, y, sw, 1.0 / sw.sum())
    distance, bound = distance_and_bound(
        objective, *(_centred_coef(model) for model in (reduced, direct))
    )
    assert distance <= bound
    assert reduced.loss_curve_.shape == (reduced.n_iter_[0],)
    assert reduced.grad_norm_curve_.shape == (reduced.n_iter_[0],)
    if reduced.n_iter_[0]:
        assert reduced.grad_norm_curve_[-1] == reduced.grad_norm_


@pytest.fixture
def row_space_fits(monkeypatch):
    """Counts the fits that went through the row space."""
    calls = []

    def spy(*args, **kwargs):
        calls.append(1)
        return solve_in_row_space(*args, **kwargs)

    monkeypatch.setattr(numpy_backend, "solve_in_row_space", spy)
    return calls


def test_warm_start_resumes_in_the_row_space(row_space_fits):
    X, y, _ = wide_problem()
    model = SoftmaxRegression(warm_start=True, tol=1e-8).fit(X, y)
    coef = model.coef_.copy()
    model.fit(X, y)
    assert len(row_space_fits) == 2
    assert model.n_iter_[0] <= 1
    assert_allclose(model.coef_, coef, rtol=0, atol=1e-8 * X.shape[0])


def test_max_iter_in_the_row_space_warns(row_space_fits):
    X, y, _ = wide_problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        model = SoftmaxRegression(max_iter=1, tol=1e-10).fit(X, y)
    assert row_space_fits == [1]
    assert model.n_iter_[0] == 1

"""The package's own L-BFGS, which fits Array API inputs, against scipy's
L-BFGS-B on the same objective: iris, whose unscaled features leave the
objective ill-conditioned, in float32 and float64."""

import warnings

import array_api_strict as xp
import numpy as np
import pytest
import sklearn
from _namespaces import needs_dispatch
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._array_api import to_numpy
from sklearn_softmax._loss import MultinomialLoss, Objective
from sklearn_softmax._loss_array_api import bind_objective
from sklearn_softmax._solvers import (
    minimize_lbfgs_in_namespace,
    minimize_newton_cg,
    minimize_scipy_lbfgsb,
)
from sklearn_softmax._solvers._result import NO_DECREASE

N_PARAMS = 5 * 3  # four features and the intercept, three classes


def iris_objectives(dtype, C):
    """The penalised objective on iris in ``dtype``: on array-api-strict
    arrays (sums in float64, scores in ``dtype``), and the same function
    computed in float64 with NumPy, the reference. ``l2 = 1 / (C n)``."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(dtype)
    n = len(y)
    l2 = 1.0 / (C * n)
    ours = bind_objective(
        xp.asarray(X),
        xp.asarray(y),
        xp.full(n, 1.0 / n, dtype=xp.asarray(X).dtype),
        3,
        True,
        l2,
        xp.float64,
    )
    exact = MultinomialLoss(3, fit_intercept=True).bind(
        X.astype(np.float64), y, None, l2
    )
    return ours, exact


def on_host(objective):
    """The same objective on NumPy arrays, for scipy's L-BFGS-B."""

    def value_and_gradient(x):
        value, gradient = objective.value_and_gradient(xp.asarray(x))
        return value, to_numpy(gradient)

    return Objective(
        lambda x: objective.value(xp.asarray(x)),
        value_and_gradient,
        None,
        objective.rounding,
    )


def optimum(exact):
    """The minimiser by Newton-CG in float64, its value, and the smallest
    curvature of the objective there, ``mu``, other than that of shifting
    every intercept by the same amount, which changes nothing and along
    which no gradient points."""
    result = minimize_newton_cg(exact, np.zeros(N_PARAMS), max_iter=100, tol=1e-12)
    assert result.converged
    _, _, hessp = exact.value_gradient_hessp(result.x)
    H = np.column_stack([hessp(e) for e in np.eye(N_PARAMS)])
    eigenvalues = np.linalg.eigvalsh(0.5 * (H + H.T))
    assert abs(eigenvalues[0]) < 1e-12 * eigenvalues[-1]
    return result.x, result.objective, eigenvalues[1]


def solve_both(objective, tol):
    x0 = np.zeros(N_PARAMS)
    ours = minimize_lbfgs_in_namespace(
        objective, xp.asarray(x0), max_iter=1000, tol=tol
    )
    scipys = minimize_scipy_lbfgsb(on_host(objective), x0, max_iter=1000, tol=tol)
    return ours, scipys


def centred(x):
    """Without the shift of all intercepts, which leaves the model as it is."""
    x = np.array(to_numpy(x), dtype=np.float64)
    x[-3:] -= x[-3:].mean()
    return x


@pytest.mark.parametrize(
    "dtype, C, tol",
    [
        # Stopped after 20 iterations with a gradient 57 times tol, on a step
        # accepted on the rounding slack that raised the objective.
        (np.float32, 1e-2, 1e-4),
        # Stopped at a gradient of 4e-8, where scipy's L-BFGS-B reaches 3e-9.
        (np.float64, 1.0, 1e-8),
    ],
)
def test_reaches_tol_where_scipys_lbfgsb_does(dtype, C, tol):
    objective, exact = iris_objectives(dtype, C)
    x_star, f_star, mu = optimum(exact)
    for result in solve_both(objective, tol):
        assert result.converged, result.message
        assert result.grad_norm <= tol
        # Near the optimum, with every gradient entry at most tol, the
        # objective is within |g|^2 / (2 mu) <= n tol^2 / (2 mu) of its
        # minimum, and the point within |g| / mu of the minimiser; float32
        # data add the rounding of the gradient they were computed with.
        slack = 16 * np.finfo(dtype).eps * abs(f_star)
        gap = exact.value(to_numpy(result.x)) - f_star
        assert -16 * np.finfo(float).eps * f_star <= gap
        assert gap <= N_PARAMS * tol**2 / (2 * mu) + slack
        distance = np.linalg.norm(centred(result.x) - centred(x_star))
        assert distance <= np.sqrt(N_PARAMS) * tol / mu + np.sqrt(2 * slack / mu)


def test_float32_stops_only_at_the_precision_limit():
    """Asked for a gradient that float32 cannot resolve, the solver stops on
    the line search; its verdict, that the objective no longer decreases at
    float32's precision, holds: the best decrease a quadratic model on the
    exact Hessian predicts along the gradient is below the rounding of the
    objective, and so is the gap to the optimum, as for scipy's L-BFGS-B."""
    objective, exact = iris_objectives(np.float32, 1e-2)
    _, f_star, _ = optimum(exact)
    rounding = objective.rounding * abs(f_star)
    ours, scipys = solve_both(objective, tol=1e-10)
    assert not ours.converged
    assert ours.message == NO_DECREASE
    x = to_numpy(ours.x)
    _, g, hessp = exact.value_gradient_hessp(x)
    assert (g @ g) ** 2 / (2 * (g @ hessp(g))) <= rounding
    for result in (ours, scipys):
        assert exact.value(to_numpy(result.x)) - f_star <= rounding


def test_no_decrease_against_the_gradient_is_not_called_a_precision_limit():
    """A gradient that points the wrong way (here that of -f) gives a
    direction along which the objective rises, although the gradient
    predicts a large decrease: the run stops, and says so, rather than
    claiming the objective's precision is exhausted."""
    x_star = np.linspace(-1.0, 1.0, 6)

    def value_and_gradient(x):
        return 0.5 * float((x - x_star) @ (x - x_star)), -(x - x_star)

    objective = Objective(
        lambda x: value_and_gradient(x)[0], value_and_gradient, None, 1e-15
    )
    result = minimize_lbfgs_in_namespace(objective, np.zeros(6), max_iter=100, tol=1e-8)
    assert result.n_iter == 0
    assert not result.converged
    assert result.message != NO_DECREASE
    assert "predicts" in result.message


@needs_dispatch
def test_float32_iris_fit_converges_without_warning():
    """The fit that used to warn: solver='lbfgs' on float32 iris with C=1e-2,
    fitted as array-api-strict arrays, converges like the NumPy fit (scipy's
    L-BFGS-B) and reaches its coefficients to within what tol allows."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    params = {"solver": "lbfgs", "C": 1e-2}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=True):
            model = SoftmaxRegression(**params).fit(xp.asarray(X), xp.asarray(y))
        reference = SoftmaxRegression(**params).fit(X, y)
    assert model.converged_ and reference.converged_
    _, exact = iris_objectives(np.float32, 1e-2)
    _, _, mu = optimum(exact)
    # Each solution is within sqrt(n) tol / mu of the minimiser, and the
    # coefficients are float32.
    bound = 2 * np.sqrt(N_PARAMS) * 1e-4 / mu
    assert_allclose(to_numpy(model.coef_), reference.coef_, rtol=0, atol=bound)

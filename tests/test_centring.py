"""The fitted intercepts and weights are centred where the optimum is.

Adding one number to every class's intercept, or one vector to every class's
weights, adds the same amount to all the scores of a sample and leaves its
probabilities unchanged. The intercepts are not penalised, so the data alone
fixes them up to such a shift: the fit returns the ones that sum to zero.
The L2 and group penalties of a feature's row of weights are least when the
row sums to zero, so their optimum is centred; without a penalty (with label
smoothing, so that an optimum exists) the centred one is the one of least
norm. An L1 part prefers rows whose median is zero instead, and those
weights are left as the penalty has them.

Every fit is checked twice: from zero, where the deterministic solvers'
iterates stay centred up to rounding (every gradient's rows sum to zero) but
Adam's per-coordinate steps do not; and warm-started from a solution shifted
away from the centre, which no solver's steps undo.
"""

import numpy as np
import pytest
from _problems import make_problem

from sklearn_softmax import SoftmaxRegression

# The penalties whose optimum is centred, with the solvers that take them.
SMOOTH = ["newton-cg", "lbfgs", "gd", "sgd", "adam"]
CENTRED = [
    pytest.param(solver, params, id=f"{name}-{solver}")
    for name, params, solvers in [
        ("l2", {}, SMOOTH),
        ("none-smoothed", {"C": np.inf, "label_smoothing": 0.1}, SMOOTH),
        (
            "group",
            {"l1_ratio": 1.0, "l1_groups": "features", "C": 0.1},
            ["newton-cg", "gd", "sgd"],
        ),
        (
            "group-l2",
            {"l1_groups": "features", "l1_ratio": 0.5, "C": 0.1},
            ["newton-cg", "gd", "sgd"],
        ),
    ]
    for solver in solvers
]


def shifted_warm_start(model, X, y, sample_weight, rng):
    """Refit ``model`` with ``warm_start`` from its solution with a random
    vector added to every class's weights and a number to every intercept;
    return the largest absolute entry of that start."""
    model.coef_ = model.coef_ + rng.uniform(-1, 1, size=model.coef_.shape[1])
    model.intercept_ = model.intercept_ + 1.5
    largest = max(np.abs(model.coef_).max(), np.abs(model.intercept_).max())
    model.set_params(warm_start=True).fit(X, y, sample_weight=sample_weight)
    return largest


def centring_tolerance(model, largest):
    """The rounding of centring ``K`` entries of at most ``largest`` (the
    mean, the K subtractions, the sum taken here) and of casting them to the
    fitted dtype: a few ulps of ``largest`` per class."""
    n_classes = model.coef_.shape[0]
    eps = np.finfo(model.coef_.dtype).eps
    return 4 * n_classes * eps * largest


def assert_centred(model, largest):
    tolerance = centring_tolerance(model, largest)
    intercept_sum = model.intercept_.sum(dtype=np.float64)
    assert abs(intercept_sum) <= tolerance, intercept_sum
    coef_sums = model.coef_.sum(axis=0, dtype=np.float64)
    assert np.max(np.abs(coef_sums)) <= tolerance, coef_sums


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [3, 5])
@pytest.mark.parametrize("solver, params", CENTRED)
def test_intercepts_and_weights_are_centred(solver, params, n_classes, dtype):
    X, y, sample_weight = make_problem(150, 6, n_classes, dtype=dtype, seed=1)
    model = SoftmaxRegression(solver=solver, random_state=0, **params)
    model.fit(X, y, sample_weight=sample_weight)
    assert model.coef_.dtype == dtype
    # Nothing but the fitted entries to round: the solvers start from zero.
    largest = max(np.abs(model.coef_).max(), np.abs(model.intercept_).max())
    assert_centred(model, 2 * largest)
    largest = shifted_warm_start(
        model, X, y, sample_weight, np.random.default_rng(n_classes)
    )
    assert_centred(model, 2 * largest)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_weights_are_not_centred_but_optimal_along_the_shift(
    l1_ratio, fit_intercept
):
    """An L1 part's optimum is not centred: adding ``c`` to every weight of
    feature ``j`` changes the penalty ``a sum_k |w_jk + c| + (b / 2)
    sum_k (w_jk + c)^2`` only (``a``, ``b`` the L1 and L2 strengths), and
    ``c = 0`` minimises it exactly when ``|a (n_pos - n_neg) + b sum_k w_jk|
    <= a n_zero`` for the row's counts of positive, negative and zero
    weights; with three classes and no L2 part, one weight of every row is
    zero. The intercepts are centred all the same."""
    n_classes = 3
    X, y, sample_weight = make_problem(150, 6, n_classes, seed=1)
    C, tol = 0.1, 1e-10
    model = SoftmaxRegression(
        l1_ratio=l1_ratio,
        C=C,
        solver="gd",
        tol=tol,
        max_iter=100_000,
        fit_intercept=fit_intercept,
    )
    strength = 1 / (C * sample_weight.sum())
    a, b = l1_ratio * strength, (1 - l1_ratio) * strength
    # The gradient mapping is at most tol in each of the K entries of a row.
    slack = 2 * n_classes * tol

    def assert_optimal_along_the_shift(largest):
        assert model.converged_
        if fit_intercept:
            tolerance = centring_tolerance(model, largest)
            assert abs(model.intercept_.sum()) <= tolerance
        else:
            assert np.all(model.intercept_ == 0)
        W = model.coef_.T
        n_pos, n_neg, n_zero = (W > 0).sum(1), (W < 0).sum(1), (W == 0).sum(1)
        excess = np.abs(a * (n_pos - n_neg) + b * W.sum(1)) - a * n_zero
        assert np.all(excess <= slack), excess
        # And that optimum is not the centred one here: rows sum far from zero.
        assert np.max(np.abs(W.sum(axis=1))) > 0.1

    model.fit(X, y, sample_weight=sample_weight)
    assert_optimal_along_the_shift(2 * np.abs(model.intercept_).max())
    largest = shifted_warm_start(
        model, X, y, sample_weight, np.random.default_rng(int(10 * l1_ratio))
    )
    assert_optimal_along_the_shift(2 * largest)

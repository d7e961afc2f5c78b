"""Properties that hold on every small problem, checked on generated ones.

Each test draws small multinomial problems (up to 40 samples, 6 features and
5 classes, every class present) and checks one property against an
independent truth. The settings are derandomised: the examples are a fixed
function of each test (for a given version of hypothesis), so every run,
local or in CI, checks the same problems, and a failure seen once reproduces
by running the test again.
"""

import string
from typing import NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import (
    central_difference,
    gradient_hessian_product,
    gradient_norm,
    loss_gradient,
    loss_value,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import SOLVERS, STOCHASTIC_SOLVERS

# No example database: derandomised runs need none, and none is left behind.
PROPERTY = settings(derandomize=True, database=None, deadline=None)
# The fits that stand for the optimum: a gradient within 1e-10 of zero.
TIGHT = {"tol": 1e-10, "max_iter": 10_000}
MAX_SAMPLES = 40
# Bounded features and C keep every optimum finite and the problems far
# from the limits of float64: the penalty's curvature on the weights is
# 1 / (C S), with C at most 10 and S a few hundred at most.
FEATURE_BOUND = 3.0
positive_weights = st.floats(0.1, 3.0)
# C from 0.1 to 10, log-uniform; shrinks towards C = 1.
penalties = st.floats(-1.0, 1.0).map(lambda exponent: 10.0**exponent)


class Problem(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None

    @property
    def n_classes(self):
        return int(self.y.max()) + 1


def matrices(shape, bound):
    """Arrays of ``shape`` with entries in ``[-bound, bound]``: either
    hypothesis' arrays, which favour repeated values, zeros and the bounds
    (constant and duplicate columns), or a seeded standard normal draw scaled
    by up to ``bound`` and clipped (typical dense data)."""
    drawn = arrays(
        np.float64, shape, elements=st.floats(-bound, bound, allow_subnormal=False)
    )
    seeded = st.builds(
        lambda seed, scale: np.clip(
            scale * np.random.default_rng(seed).standard_normal(shape), -bound, bound
        ),
        st.integers(0, 2**32 - 1),
        st.floats(0.1, bound),
    )
    return st.one_of(drawn, seeded)


@st.composite
def problems(draw, weighted=None):
    """Features, labels ``0 .. K-1`` with every class present, and positive
    sample weights or None (either, when ``weighted`` is None)."""
    n_classes = draw(st.integers(2, 5))
    n_samples = draw(st.integers(n_classes, MAX_SAMPLES))
    n_features = draw(st.integers(1, 6))
    X = draw(matrices((n_samples, n_features), FEATURE_BOUND))
    # The first K samples hold one class each, the others any class.
    others = draw(
        arrays(np.int64, n_samples - n_classes, elements=st.integers(0, n_classes - 1))
    )
    y = np.concatenate([np.arange(n_classes), others])
    if weighted is None:
        weighted = draw(st.booleans())
    sample_weight = None
    if weighted:
        sample_weight = draw(arrays(np.float64, n_samples, elements=positive_weights))
    return Problem(X, y, sample_weight)


def relabellings(n_classes):
    """New labels for the classes ``0 .. K-1``: distinct strings, distinct
    ints, a permutation of ``0 .. K-1``, or (two classes) bools."""
    # No NUL, which numpy's string arrays drop from the end of a string.
    text = st.text(string.ascii_letters + string.digits + " -_", min_size=1, max_size=5)
    size = {"min_size": n_classes, "max_size": n_classes}
    kinds = [
        st.lists(text, unique=True, **size),
        st.lists(st.integers(-1000, 1000), unique=True, **size),
        st.permutations(range(n_classes)),
    ]
    if n_classes == 2:
        kinds.append(st.permutations([False, True]))
    return st.one_of(kinds).map(np.asarray)


def penalised_objective(coef, intercept, X, y, sample_weight, C):
    """SoftmaxRegression's objective with ``C`` at ``coef`` and ``intercept``,
    from the formula, in float64.

    With one row ``w`` (two classes) the softmax weights are ``(-w/2, w/2)``
    and the penalty ``|w|^2 / (4 C S)``: the objective of
    ``LogisticRegression(C=2 * C)``.
    """
    Z = X @ coef.T + intercept
    squared_norm = np.sum(coef**2)
    if Z.shape[1] == 1:
        Z = np.hstack([-Z / 2, Z / 2])
        squared_norm /= 2
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    log_proba = log_softmax(Z, axis=1)[np.arange(len(y)), y]
    total = weights.sum()
    return -(weights @ log_proba) / total + squared_norm / (2 * C * total)


def least_curvature(model, X, y, sample_weight):
    """The least curvature of a fitted model's objective at its parameters;
    ``y`` holds class indices.

    The smallest eigenvalue of the Hessian once the one direction that
    changes nothing is set aside (the same shift of every intercept). The
    penalty makes it at least ``1 / (C S)`` on the weights, not on the
    intercepts, whose curvature comes from the data alone.
    """
    n_classes = len(model.classes_)
    W, b = model.coef_.T, model.intercept_
    if n_classes == 2:
        W, b = np.hstack([-W / 2, W / 2]), np.array([-b[0] / 2, b[0] / 2])
    coef = np.vstack([W, b])
    total = len(y) if sample_weight is None else np.sum(sample_weight)
    _, hessp = gradient_hessian_product(
        MultinomialLoss(n_classes, True),
        coef,
        X,
        y,
        sample_weight,
        1 / (model.C * total),
    )
    basis = np.eye(coef.size).reshape(-1, *coef.shape)
    hessian = np.stack([hessp(direction).ravel() for direction in basis])
    return np.linalg.eigvalsh(hessian)[1]


def distance_to_optimum(fit, curvature):
    """A bound on the distance from a fit's parameters to the optimum of an
    objective ``curvature``-strongly convex about it.

    Where the gradient is ``g`` the distance is at most ``|g|_2 / mu``, and
    centring the parameters only brings them closer. ``grad_norm_``, the
    largest entry of ``g``, is the one the fit reports for the objective it
    minimised: a fit of the wrong objective is not excused by its distance
    from the right one.
    """
    n_params = (fit.n_features_in_ + 1) * len(fit.classes_)
    # 1e-14 for the rounding of the gradient, whose terms are at most 3.
    return np.sqrt(n_params) * (fit.grad_norm_ + 1e-14) / curvature


def assert_same_optimum(model, expected_coef, expected_intercept, distance):
    """``coef_`` and ``intercept_`` within ``distance`` of the expected ones,
    twice that for two classes, whose ``w_1 - w_0`` moves up to twice as far
    as the parameters."""
    assert_allclose(model.coef_, expected_coef, rtol=0, atol=2 * distance)
    assert_allclose(model.intercept_, expected_intercept, rtol=0, atol=2 * distance)


@settings(PROPERTY, max_examples=200)
@given(
    problem=problems(),
    fit_intercept=st.booleans(),
    sparse=st.booleans(),
    label_smoothing=st.sampled_from([0.0, 0.3]),
    l2_reg_strength=st.floats(0.0, 1.0),
    data=st.data(),
)
def test_gradient_matches_central_differences(
    problem, fit_intercept, sparse, label_smoothing, l2_reg_strength, data
):
    X, y, sw = problem
    loss = MultinomialLoss(problem.n_classes, fit_intercept, label_smoothing)
    coef = data.draw(matrices((loss.n_coef_rows(X.shape[1]), problem.n_classes), 2.0))

    value, gradient = loss_gradient(
        loss, coef, sp.csr_matrix(X) if sparse else X, y, sw, l2_reg_strength
    )

    numeric = central_difference(
        lambda c: loss_value(loss, c, X, y, sw, l2_reg_strength), coef, eps=1e-6
    ).reshape(coef.shape)
    # The quotient errs by the truncation h^2 |f'''| / 6, under 1e-12 |x|^3
    # <= 3e-11 here, and by the rounding of the two values over 2h: a few eps
    # times the size of their terms (the scores Z and the penalty, both under
    # |Z| + f) each, so about 1e-9 (1 + |Z| + f); 1e-8 leaves a margin of ten.
    Z = X @ coef[: X.shape[1]] + (coef[-1] if fit_intercept else 0.0)
    atol = 1e-8 * (1 + np.abs(Z).max() + value)
    assert_allclose(gradient, numeric, rtol=1e-6, atol=atol)


@settings(PROPERTY, max_examples=200)
@given(problem=problems(), C=penalties, fit_intercept=st.booleans())
def test_objective_no_worse_than_logistic_regression(problem, C, fit_intercept):
    X, y, sw = problem
    model = SoftmaxRegression(C=C, fit_intercept=fit_intercept, **TIGHT)
    model.fit(X, y, sample_weight=sw)
    # The same objective: twice C for two classes (see penalised_objective).
    # Exact Newton steps: newton-cg's line search, at this tol, can find
    # nothing left to gain in float64 and says so with a RuntimeWarning.
    reference = LogisticRegression(
        C=2 * C if problem.n_classes == 2 else C,
        fit_intercept=fit_intercept,
        solver="newton-cholesky",
        tol=1e-10,
        max_iter=10_000,
    ).fit(X, y, sample_weight=sw)

    ours = penalised_objective(model.coef_, model.intercept_, X, y, sw, C)
    theirs = penalised_objective(reference.coef_, reference.intercept_, X, y, sw, C)
    # Strong convexity: ours exceeds the optimum, and so theirs, by at most
    # |g|^2 / (2 mu), with |g|_2 <= sqrt(p) grad_norm_ and the least
    # curvature mu halved as a margin for its change towards the optimum;
    # each value is a sum of n terms, rounded within n eps of it.
    mu = 0.5 * least_curvature(model, X, y, sw)
    n_params = (X.shape[1] + 1) * problem.n_classes
    grad_norm = gradient_norm(model, X, y, C, sw)
    excess = n_params * (grad_norm + 1e-14) ** 2 / (2 * mu)
    rounding = 2 * len(y) * np.finfo(np.float64).eps * abs(theirs)
    assert ours <= theirs + excess + rounding


@settings(PROPERTY, max_examples=200)
@given(
    problem=problems(),
    C=penalties,
    dtype=st.sampled_from([np.float64, np.float32]),
    distance=st.floats(1.0, 1e4),
)
def test_probabilities_are_a_distribution(problem, C, dtype, distance):
    X, y, sw = problem
    model = SoftmaxRegression(C=C).fit(X.astype(dtype), y, sample_weight=sw)
    # Also far from the data, where the softmax saturates.
    proba = model.predict_proba(np.vstack([X, distance * X]).astype(dtype))

    assert proba.dtype == dtype
    assert np.all((proba >= 0) & (proba <= 1))
    # Each probability is exp(z_k - max z) over the row's sum of K terms,
    # which rounds K - 1 times by at most eps / 2; with the divisions, 2 K eps
    # bounds the error of the float64 sum of the row.
    atol = 2 * problem.n_classes * np.finfo(dtype).eps
    assert_allclose(proba.sum(axis=1, dtype=np.float64), 1, rtol=0, atol=atol)


@settings(PROPERTY, max_examples=200)
@given(problem=problems(), C=penalties, data=st.data())
def test_relabelling_permutes_the_model(problem, C, data):
    X, y, sw = problem
    labels = data.draw(relabellings(problem.n_classes))
    model = SoftmaxRegression(C=C, **TIGHT).fit(X, y, sample_weight=sw)
    relabelled = SoftmaxRegression(C=C, **TIGHT).fit(X, labels[y], sample_weight=sw)

    # classes_ is sorted: its j-th class is the original class order[j].
    order = np.argsort(labels, kind="stable")
    assert_array_equal(relabelled.classes_, labels[order])
    if problem.n_classes == 2:
        sign = 1.0 if order[0] == 0 else -1.0
        expected_coef, expected_intercept = sign * model.coef_, sign * model.intercept_
    else:
        expected_coef, expected_intercept = model.coef_[order], model.intercept_[order]
    curvature = least_curvature(model, X, y, sw)
    distance = distance_to_optimum(model, curvature) + distance_to_optimum(
        relabelled, curvature
    )
    assert_same_optimum(relabelled, expected_coef, expected_intercept, distance)

    # A sample's scores differ by at most 2 distance (1 + |x|_1) between the
    # two models: where the best class leads by more than twice that, both
    # predict it; ties, between classes the data cannot tell apart, may go
    # either way.
    log_proba = np.sort(model.predict_log_proba(X), axis=1)
    decided = log_proba[:, -1] - log_proba[:, -2] > 4 * distance * (
        1 + np.abs(X).sum(axis=1)
    )
    predicted = relabelled.predict(X)
    assert_array_equal(predicted[decided], labels[model.predict(X)][decided])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(PROPERTY, max_examples=200)
@given(
    problem=problems(weighted=False),
    C=penalties,
    solver=st.sampled_from(sorted(SOLVERS)),
    data=st.data(),
)
def test_integer_weights_equal_repeated_rows(problem, C, solver, data):
    """The same objective, so the same optimum, to within the distances the
    gradients the fits reached allow: L-BFGS-B's line search stops short of
    1e-10 on some problems (with a warning), at the precision of the
    objective's values."""
    X, y, _ = problem
    # Some rows dropped (weight 0), but never the first sample of a class.
    counts = data.draw(arrays(np.int64, len(y), elements=st.integers(0, 3)))
    counts[: problem.n_classes] += 1
    X_repeated, y_repeated = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    params = {"C": C, "solver": solver} | TIGHT
    weighted = SoftmaxRegression(**params).fit(X, y, sample_weight=counts)
    repeated = SoftmaxRegression(**params).fit(X_repeated, y_repeated)

    curvature = least_curvature(repeated, X_repeated, y_repeated, None)
    distance = distance_to_optimum(weighted, curvature) + distance_to_optimum(
        repeated, curvature
    )
    assert_same_optimum(weighted, repeated.coef_, repeated.intercept_, distance)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(PROPERTY, max_examples=200)
@given(
    problem=problems(),
    solver=st.sampled_from([*sorted(SOLVERS), *STOCHASTIC_SOLVERS]),
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.integers(1, 16),
    average=st.booleans(),
    early_stopping=st.booleans(),
    as_instance=st.booleans(),
)
def test_same_random_state_same_model(
    problem, solver, seed, batch_size, average, early_stopping, as_instance
):
    X, y, sw = problem
    # The random split of early stopping, where it can hold out a sample of
    # each class and keep one for training.
    early_stopping &= solver in STOCHASTIC_SOLVERS and len(y) >= 2 * problem.n_classes

    # The stochastic solvers' settings, which the others do not read (and
    # would warn of).
    steps = (
        {"batch_size": batch_size, "average": average}
        if solver in STOCHASTIC_SOLVERS
        else {}
    )

    def fit():
        # A fresh RandomState seeded alike stands for the same seed.
        random_state = np.random.RandomState(seed) if as_instance else seed
        return SoftmaxRegression(
            solver=solver,
            early_stopping=early_stopping,
            max_iter=5,
            random_state=random_state,
            **steps,
        ).fit(X, y, sample_weight=sw)

    first, second = fit(), fit()
    for attribute in ("coef_", "intercept_", "n_iter_", "loss_curve_", "grad_norm_"):
        assert_array_equal(getattr(first, attribute), getattr(second, attribute))
    assert first.converged_ == second.converged_

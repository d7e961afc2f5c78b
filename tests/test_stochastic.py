"""The stochastic solvers, partial_fit and early stopping."""

import re
import warnings

import numpy as np
import pytest
from _problems import l1_logistic_regression, make_problem, penalised_objective
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss import MultinomialLoss


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    sw = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    return StandardScaler().fit_transform(X), y, sw


@pytest.fixture(scope="module")
def wine_optimum(wine):
    """LogisticRegression at C=1 on the weighted wine data, and its
    objective."""
    X, y, sw = wine
    reference = LogisticRegression(tol=1e-12, max_iter=10_000)
    reference.fit(X, y, sample_weight=sw)
    return reference, penalised_objective(reference, X, y, 1.0, sw)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_minibatch_estimates_average_to_the_objective(rng):
    """Over a partition into equal minibatches, the estimates average to the
    objective and its gradient on all the rows."""
    X, y, sw = make_problem(n_samples=60)
    loss = MultinomialLoss(4, True)
    coef = rng.standard_normal((X.shape[1] + 1, 4)).ravel()
    rows_objective = loss.bind_rows(X, y, sw, 0.3)
    batches = np.array_split(rng.permutation(60), 6)
    estimates = [rows_objective.value_and_gradient(coef, rows) for rows in batches]
    value, gradient = loss.bind(X, y, sw, 0.3).value_and_gradient(coef)
    assert_allclose(np.mean([v for v, _ in estimates]), value, rtol=1e-12)
    assert_allclose(np.mean([g for _, g in estimates], axis=0), gradient, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_curvature_bound_bounds_the_hessian(fit_intercept, rng):
    """The bound is at least the Hessian's largest eigenvalue (from the dense
    Hessian built by Hessian-vector products) and within 10% of Böhning's
    bound computed by numpy."""
    X, y, sw = make_problem(n_samples=80)
    loss = MultinomialLoss(4, fit_intercept)
    n_params = loss.n_coef_rows(X.shape[1]) * 4
    _, _, hessp = loss.bind(X, y, sw, 0.0).value_gradient_hessp(
        rng.standard_normal(n_params)
    )
    hessian = np.column_stack([hessp(e) for e in np.eye(n_params)])
    largest = np.linalg.eigvalsh(0.5 * (hessian + hessian.T))[-1]
    bound = loss.curvature_bound(X, sw)
    X_tilde = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    second_moment = X_tilde.T @ (sw[:, None] * X_tilde) / sw.sum()
    bohning = 0.5 * np.linalg.eigvalsh(second_moment)[-1]
    assert largest <= bound <= 1.1 * bohning


@pytest.mark.parametrize("exponent", [0, 65, 100])
def test_curvature_bound_of_float32_data_scales_with_it(exponent):
    """The power iterations multiply float32 X in float32, with vectors
    scaled into its range by powers of two: for X 2^k, the bound is 2^2k
    times X's, to the last bit, where 2^65 (3.7e19) overflowed the products
    (the stochastic solvers then returned their starting point)."""
    X, _, sw = make_problem(n_samples=80)
    X = X.astype(np.float32)
    loss = MultinomialLoss(4, False)
    bound = loss.curvature_bound(X, sw)
    scaled = loss.curvature_bound(X * np.float32(2.0**exponent), sw)
    assert scaled == bound * 2.0 ** (2 * exponent)
    # As much as the same products on a float64 copy, to float32's rounding
    # of the sums of the 80 samples.
    assert bound == pytest.approx(
        loss.curvature_bound(X.astype(np.float64), sw), rel=80 * 2.0**-23
    )


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd"},
        {"solver": "sgd", "nesterovs_momentum": False},
        {"solver": "adam"},
    ],
    ids=["sgd-nesterov", "sgd-heavy-ball", "adam"],
)
def test_full_batch_steps_reach_logistic_regression_optimum(wine, wine_optimum, params):
    """With one minibatch holding all the samples, the steps are
    deterministic and reach LogisticRegression's optimum."""
    X, y, sw = wine
    model = SoftmaxRegression(
        batch_size=len(y), tol=0.0, max_iter=3000, n_iter_no_change=3000, **params
    )
    with pytest.warns(ConvergenceWarning, match="ran max_iter=3000 epochs"):
        model.fit(X, y, sample_weight=sw)
    reference, theirs = wine_optimum
    ours = penalised_objective(model, X, y, 1.0, sw)
    assert ours <= theirs * (1 + 1e-7)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_minibatch_steps_approach_the_optimum(wine, wine_optimum, solver):
    """Averaged minibatch steps get within 1e-3 of the optimal objective."""
    X, y, sw = wine
    model = SoftmaxRegression(
        solver=solver,
        batch_size=32,
        average=True,
        max_iter=500,
        tol=0.0,
        n_iter_no_change=500,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="ran max_iter=500 epochs"):
        model.fit(X, y, sample_weight=sw)
    _, theirs = wine_optimum
    ours = penalised_objective(model, X, y, 1.0, sw)
    assert theirs <= ours <= theirs * (1 + 1e-3)


def test_proximal_sgd_reaches_the_l1_optimum(wine):
    """Full-batch proximal steps reach the optimum of the proximal gradient
    solver, with the same zeros."""
    X, y, _ = wine
    params = dict(l1_ratio=1.0, C=0.1, tol=0.0, max_iter=5000)
    model = SoftmaxRegression(
        solver="sgd", batch_size=len(y), n_iter_no_change=5000, **params
    )
    with pytest.warns(ConvergenceWarning, match="epochs"):
        model.fit(X, y)
    reference = SoftmaxRegression(solver="gd", **params | {"tol": 1e-10}).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    assert_array_equal(model.coef_ == 0, reference.coef_ == 0)


def test_same_random_state_same_fit(wine):
    X, y, _ = wine
    fits = [
        SoftmaxRegression(solver="sgd", batch_size=16, random_state=3, max_iter=5)
        .fit(X, y)
        .coef_
        for _ in range(2)
    ]
    assert_array_equal(*fits)


def _digits_objective(model, X, y):
    return penalised_objective(model, X, y, 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_streaming_digits_approaches_fit(digits, seed):
    """Digits in 20 chunks for 50 epochs: within 1e-2 relative objective of
    fit's optimum with C=1. Each chunk's objective is fit's on the chunk,
    so 20 chunks of equal weight take C = 20 * 1 (see partial_fit)."""
    X, y = digits
    chunks = np.array_split(np.random.default_rng(seed).permutation(len(y)), 20)
    model = SoftmaxRegression(C=20.0, average=True, random_state=seed)
    classes = np.unique(y)
    for _ in range(50):
        for rows in chunks:
            model.partial_fit(X[rows], y[rows], classes=classes)
    optimum = SoftmaxRegression(C=1.0, tol=1e-10).fit(X, y)
    ours, best = _digits_objective(model, X, y), _digits_objective(optimum, X, y)
    assert best <= ours <= best * (1 + 1e-2)
    assert model.n_iter_[0] == 50 * 20
    assert model.loss_curve_.shape == (50 * 20,)
    assert model.coef_.shape == (10, 64)


def test_partial_fit_on_all_the_data_approaches_fit(wine):
    """One chunk holding all the data: partial_fit steps on fit's objective
    with the same C."""
    X, y, sw = wine
    model = SoftmaxRegression(batch_size=len(y), random_state=0)
    for _ in range(2000):
        model.partial_fit(X, y, classes=[0, 1, 2], sample_weight=sw)
    reference = SoftmaxRegression(tol=1e-10).fit(X, y, sample_weight=sw)
    assert_allclose(model.coef_, reference.coef_, atol=1e-6)


def test_partial_fit_continues_from_fit(wine):
    X, y, _ = wine
    fitted = SoftmaxRegression(solver="sgd", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        fitted.fit(X, y)
    start = fitted.coef_.copy()
    # classes_ is known: no classes needed.
    fitted.partial_fit(X[:10], y[:10])
    assert fitted.n_iter_[0] == 1
    assert not np.array_equal(fitted.coef_, start)
    assert np.abs(fitted.coef_ - start).max() < 0.5 * np.abs(start).max()


@pytest.mark.parametrize(
    "first, second, message",
    [
        ({}, None, "classes must be passed to the first call of partial_fit"),
        ({"classes": [0, 1]}, None, r"y has labels that are not in classes: \[2\]"),
        ({"classes": [0, 1, 2]}, {"classes": [0, 1, 3]}, "differs from the classes"),
        ({"classes": [0]}, None, "at least 2 classes"),
        ({"classes": [0, 1, 2, np.nan]}, None, "not NaN or infinity"),
        ({"classes": [0.0, 1.0, 2.0, np.inf]}, None, "not NaN or infinity"),
        ({"classes": [[0, 1, 2]]}, None, "1-D array of the stream's labels"),
        ({"classes": [0, 1, 2], "sample_weight": np.nan}, None, "NaN or infinity"),
    ],
)
def test_partial_fit_class_errors(wine, first, second, message):
    X, y, _ = wine
    model = SoftmaxRegression()
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X, y, **first)
        model.partial_fit(X, y, **second)


def test_partial_fit_is_not_offered_with_balanced_class_weight(wine):
    """'balanced' needs the class totals of all the data: partial_fit is not
    there, also after a fit, as it is not for a full-batch solver."""
    X, y, _ = wine
    model = SoftmaxRegression(class_weight="balanced")
    assert not hasattr(model, "partial_fit")
    model.fit(X, y)
    with pytest.raises(AttributeError, match="partial_fit") as error:
        model.partial_fit(X, y)
    cause = error.value.__cause__ or error.value
    assert "does not take class_weight='balanced'" in str(cause)
    assert hasattr(model.set_params(class_weight={0: 2.0}), "partial_fit")


def test_partial_fit_only_with_stochastic_solvers():
    assert hasattr(SoftmaxRegression(), "partial_fit")
    assert hasattr(SoftmaxRegression(solver="adam"), "partial_fit")
    model = SoftmaxRegression(solver="newton-cg")
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit") as error:
        getattr(model, "partial_fit")  # noqa: B009
    cause = error.value.__cause__ or error.value
    assert "partial_fit needs a stochastic solver" in str(cause)


def test_partial_fit_one_class_chunk(wine):
    """A chunk may hold one class of the stream."""
    X, y, _ = wine
    model = SoftmaxRegression().partial_fit(X[y == 1], y[y == 1], classes=[0, 1, 2])
    assert model.predict_proba(X[y == 1]).argmax(axis=1).tolist() == [1] * 71


@pytest.mark.parametrize(
    "params, message",
    [
        ({"solver": "lbfgs"}, "early_stopping=True needs a stochastic solver"),
        ({"solver": "adam", "l1_ratio": 1.0}, "solver='adam' cannot handle"),
    ],
)
def test_refused_combinations(wine, params, message):
    X, y, _ = wine
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(early_stopping=params["solver"] != "adam", **params).fit(X, y)


def test_early_stopping_keeps_the_best_validation_score(digits):
    """With early stopping and a constant step the run ends once the
    held-out accuracy stops improving, and returns the coefficients of the
    best epoch."""
    X, y = digits
    X_copy = X.copy()
    scores = []
    model = SoftmaxRegression(
        solver="sgd",
        learning_rate="constant",
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.0,
        max_iter=200,
        random_state=0,
        batch_size=64,
    )
    model.fit(X, y)
    assert_array_equal(X, X_copy)
    assert model.converged_
    assert model.n_iter_[0] < 200
    assert len(model.loss_curve_) == model.n_iter_[0]
    # The same split and epochs, scored by hand.
    _, held_out = train_test_split(
        np.arange(len(y)),
        test_size=int(np.ceil(0.1 * len(y))),
        stratify=y,
        random_state=np.random.RandomState(0),
    )
    for epochs in range(1, model.n_iter_[0] + 1):
        partial = SoftmaxRegression(
            solver="sgd",
            learning_rate="constant",
            early_stopping=True,
            n_iter_no_change=10_000,
            max_iter=epochs,
            random_state=0,
            batch_size=64,
        )
        with pytest.warns(ConvergenceWarning):
            partial.fit(X, y)
        scores.append(partial.score(X[held_out], y[held_out]))
    best = int(np.argmax(scores))
    assert model.n_iter_[0] == best + 1 + 3
    assert model.score(X[held_out], y[held_out]) == scores[best]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_run_ending_above_its_start_warns(wine, solver):
    # Features a million times their standard scale: Adam's default steps of
    # 1e-2 per coordinate move the scores by about 1e4, and 'sgd' with a step
    # of 1, where the curvature of these features asks for about 1e-12,
    # overshoots further. Both stop improving, by SGDClassifier's rule, at an
    # objective far above log(3), the objective at zero where they start;
    # that is no convergence.
    X, y, _ = wine
    params = {"solver": solver, "random_state": 0}
    if solver == "sgd":
        params["learning_rate_init"] = 1.0
    with pytest.warns(
        ConvergenceWarning,
        match="above 1.099 at the starting point: its steps are too large",
    ):
        model = SoftmaxRegression(**params).fit(X * 1e6, y)
    assert not model.converged_
    # Each epoch is one minibatch of all 178 samples, and the first is
    # evaluated at the starting point; every later one lies above it.
    assert_allclose(model.loss_curve_[0], np.log(3), rtol=1e-12)
    assert model.loss_curve_[1:].min() > np.log(3)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_run_whose_iterates_overflow_returns_its_start(wine, solver):
    """Steps of 1e300 take the iterates past the largest float64: the fit
    says so, returns the starting point (finite), and numpy's overflow
    warnings (errors in this suite) are not raised."""
    X, y, _ = wine
    model = SoftmaxRegression(solver=solver, learning_rate_init=1e300, random_state=0)
    with pytest.warns(
        ConvergenceWarning,
        match="left the finite numbers, and the model is its starting point",
    ):
        model.fit(X, y)
    assert not model.converged_
    assert_array_equal(model.coef_, 0.0)
    assert_array_equal(model.intercept_, 0.0)
    # One epoch reaches weights near 1e300, finite, where the objective is
    # not: the start is returned.
    with pytest.warns(ConvergenceWarning, match="its objective left the finite"):
        model.set_params(max_iter=1).fit(X, y)
    assert_array_equal(model.coef_, 0.0)
    # A chunk of a stream that does so is refused, the model kept.
    stream = SoftmaxRegression(solver=solver, random_state=0)
    stream.partial_fit(X, y, classes=[0, 1, 2])
    coef = stream.coef_.copy()
    stream.set_params(learning_rate_init=1e300)
    with pytest.raises(ValueError, match="left the finite numbers"):
        stream.partial_fit(X, y)
    assert_array_equal(stream.coef_, coef)
    assert stream.n_iter_[0] == 1
    # With a penalty, whose value would overflow too.
    penalised = SoftmaxRegression(
        solver="sgd", l1_ratio=1.0, l1_groups="features", learning_rate_init=1e300
    )
    with pytest.warns(ConvergenceWarning, match="left the finite numbers"):
        penalised.fit(X, y)
    assert_array_equal(penalised.coef_, 0.0)


def test_adam_under_a_penalty_whose_gradient_squares_overflow(wine):
    """At C=1e-200 the penalty's gradient on a weight Adam moved is near
    1e200, whose square overflows: the second moment is then infinite (that
    weight's step zero) where it was NaN, and NaN coefficients were stored.
    Adam's steps of 1e-2 a coordinate cannot reach weights of 1e-200; the
    fit warns that it did not converge, with finite coefficients."""
    X, y, _ = wine
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SoftmaxRegression(solver="adam", C=1e-200, random_state=0).fit(X, y)
    assert [w.category for w in caught] == [ConvergenceWarning]
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert not model.converged_


def test_sgd_fits_the_intercepts_under_a_strong_penalty(wine):
    """At C=1e-6 the penalty's strength 1 / (C S), about 5600, dwarfs the
    data's curvature bound (about 2): one step 1 / (bound + strength) for
    every parameter moved the unpenalised intercepts by 1e-4 of their
    gradient an epoch, 0.2 from their optimum after 300 epochs. The
    intercepts step by the inverse of the bound alone: plain gradient
    steps on one minibatch of all the samples, stopped once five epochs
    improve the objective by less than tol, reach Newton's objective."""
    X, y, _ = wine
    params = {"C": 1e-6, "tol": 1e-12}
    model = SoftmaxRegression(
        solver="sgd",
        batch_size=len(y),
        momentum=0.0,
        learning_rate="constant",
        max_iter=300,
        random_state=0,
        **params,
    ).fit(X, y)
    assert model.converged_
    reference = SoftmaxRegression(solver="newton-cg", **params).fit(X, y)
    gap = penalised_objective(model, X, y, 1e-6) - penalised_objective(
        reference, X, y, 1e-6
    )
    assert 0 <= gap <= 1e-9
    # An error e in the intercepts costs about 0.1 e^2 of objective (their
    # curvature, diag(p) - p p^T, is near 0.2): the gap allows 1e-4.
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=1e-4)


@pytest.fixture(scope="module")
def noisy_gaussian():
    """Gaussian features with overlapping classes, and as many features as
    a minibatch has samples: the minibatch gradients are noisy, and each
    minibatch's curvature is about four times the data's, so the default
    step, the inverse of the data's curvature bound, is far too long for a
    constant schedule."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 100))
    scores = X @ rng.standard_normal((100, 5)) / 10
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(5, p=p) for p in probabilities])
    reference = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    return X, y, penalised_objective(reference, X, y, 1.0)


def test_adaptive_steps_reach_near_the_optimum_where_a_constant_step_stalls(
    noisy_gaussian,
):
    X, y, optimum = noisy_gaussian
    params = dict(solver="sgd", batch_size=100, max_iter=200, random_state=0)
    with pytest.warns(ConvergenceWarning, match="above 1.609 at the starting point"):
        constant = SoftmaxRegression(learning_rate="constant", **params).fit(X, y)
    adaptive = SoftmaxRegression(**params).fit(X, y)
    assert adaptive.converged_
    assert penalised_objective(constant, X, y, 1.0) > optimum * 1.2
    assert optimum <= penalised_objective(adaptive, X, y, 1.0) <= optimum * (1 + 1e-3)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_adaptive_schedule_divides_the_step_at_each_stall(wine, solver):
    """With a tol no epoch can meet, every epoch after the first stalls:
    'adaptive' divides the step by 5 at each, down to 5^-5 of the initial
    step, and stops at the stall that would take it below 1e-4 of it;
    'constant' stops at the first stall. (Minibatches of 64: with one for
    all the samples, an epoch whose objective rose restarts 'sgd''s momentum
    and does not count as a stall.)"""
    X, y, _ = wine
    params = dict(
        solver=solver, tol=1e9, n_iter_no_change=1, batch_size=64, random_state=0
    )
    epochs = {
        schedule: int(
            SoftmaxRegression(learning_rate=schedule, **params).fit(X, y).n_iter_[0]
        )
        for schedule in ("adaptive", "constant")
    }
    assert epochs == {"adaptive": 7, "constant": 2}


def test_adaptive_and_constant_steps_agree_in_partial_fit(wine):
    """partial_fit watches no stalls: 'adaptive' keeps the step constant."""
    X, y, _ = wine
    models = [
        SoftmaxRegression(learning_rate=schedule, random_state=0)
        for schedule in ("adaptive", "constant")
    ]
    for _ in range(20):
        for model in models:
            model.partial_fit(X, y, classes=[0, 1, 2])
    assert_array_equal(models[0].coef_, models[1].coef_)


def test_a_minibatch_of_no_weight_steps_on_the_penalty_alone(rng):
    """A minibatch whose weights sum to zero has a data term of zero: its
    estimate is the penalty and its gradient, as SGDClassifier takes no
    loss step on samples of weight zero."""
    X, y, sw = make_problem(n_samples=60)
    sw[:10] = 0.0
    loss = MultinomialLoss(4, True)
    coef = rng.standard_normal((X.shape[1] + 1, 4))
    value, gradient = loss.bind_rows(X, y, sw, 0.3).value_and_gradient(
        coef.ravel(), np.arange(10)
    )
    W = coef[:-1]
    # A sum of W's entries in any order: within their count of epsilons.
    assert_allclose(value, 0.5 * 0.3 * np.sum(W**2), rtol=W.size * np.finfo(float).eps)
    expected = np.zeros_like(coef)
    expected[:-1] = 0.3 * W
    assert_array_equal(gradient, expected.ravel())


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size, zero_share", [(1, "one"), (100, "half")])
def test_samples_of_no_weight_leave_the_fit_finite(solver, batch_size, zero_share):
    """One sample of weight zero among 400 at batch size 1, or half the
    samples at batch size 100, used to give NaN coefficients and a NaN loss
    curve. The fit stays finite and close to LogisticRegression's optimum
    on the same weights."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((400, 3)), axis=1)
    sw = np.ones(400)
    if zero_share == "one":
        sw[17] = 0.0
    else:
        sw[rng.permutation(400)[:200]] = 0.0
    model = SoftmaxRegression(
        solver=solver, batch_size=batch_size, random_state=0, max_iter=200
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(model.coef_))
    assert np.all(np.isfinite(model.loss_curve_))
    assert np.all(np.isfinite(model.predict_proba(X)))
    reference = LogisticRegression(tol=1e-12, max_iter=10_000).fit(
        X, y, sample_weight=sw
    )
    optimum = penalised_objective(reference, X, y, 1.0, sw)
    # The stochastic solvers stop near the optimum, not at it: within a few
    # percent of the objective here, where the fit at zero is log(3) above.
    gap = penalised_objective(model, X, y, 1.0, sw) - optimum
    assert 0 <= gap < 0.02 * optimum


def test_a_chunk_of_no_weight_takes_no_step(wine):
    X, y, sw = wine
    model = SoftmaxRegression(random_state=0).partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=sw
    )
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    model.partial_fit(X[:20], y[:20], sample_weight=np.zeros(20))
    assert_array_equal(model.coef_, coef)
    assert_array_equal(model.intercept_, intercept)
    assert model.n_iter_[0] == 1
    # The stream goes on as before.
    model.partial_fit(X, y, sample_weight=sw)
    assert model.n_iter_[0] == 2
    assert not np.array_equal(model.coef_, coef)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fit_intercept": False}, "fit_intercept from True to False"),
        ({"solver": "adam"}, "solver from 'sgd' to 'adam'"),
        # The running average holds the iterates from before it was asked for.
        ({"average": True}, "average from False to True"),
    ],
)
def test_partial_fit_refuses_a_stream_its_parameters_no_longer_fit(
    wine, change, message
):
    """The layout of the coefficients and the solver's state (momentum or
    Adam's moments) belong to the stream: a change of either is refused
    with a clear message, and leaves the model as it was; fit, or a clone,
    starts a new stream."""
    X, y, _ = wine
    model = SoftmaxRegression(solver="sgd", random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2])
    coef = model.coef_.copy()
    model.set_params(**change)
    with pytest.raises(ValueError, match=re.escape(message)):
        model.partial_fit(X, y)
    assert_array_equal(model.coef_, coef)
    clone(model).partial_fit(X, y, classes=[0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(max_iter=2).fit(X, y)
    model.partial_fit(X, y)
    assert model.n_iter_[0] == 1


@pytest.mark.parametrize("verbose", [0, 1])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fit_records_no_gradient_per_epoch(solver, verbose, wine):
    """The epochs compute no gradient on all the samples: the curve is NaN,
    whatever verbose prints, and grad_norm_ is still the solution's."""
    X, y, _ = wine
    model = SoftmaxRegression(
        solver=solver, max_iter=5, random_state=0, verbose=verbose
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.grad_norm_curve_.shape == (model.n_iter_[0],)
    assert np.all(np.isnan(model.grad_norm_curve_))
    assert np.isfinite(model.grad_norm_)


def test_partial_fit_records_each_calls_gradient(wine):
    X, y, _ = wine
    model = SoftmaxRegression(random_state=0)
    seen = []
    for rows in np.array_split(np.arange(len(y)), 4):
        model.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        seen.append(model.grad_norm_)
        assert model.grad_norm_curve_.shape == model.loss_curve_.shape
    # A chunk of no weight takes no step and adds no entry.
    model.partial_fit(X[:5], y[:5], sample_weight=np.zeros(5))
    assert_array_equal(model.grad_norm_curve_, seen)
    assert model.grad_norm_curve_.shape == (model.n_iter_[0],)
    assert model.grad_norm_curve_.dtype == np.float64


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_the_loss_curve_holds_the_l1_part_of_the_objective(wine, l1_ratio):
    """Wine's 178 samples are one minibatch: each entry of ``loss_curve_`` is
    the objective, its L1 part with it, at an iterate, at least the
    optimum's; the run does not take its own curve for a rise."""
    X, y, _ = wine
    reference = l1_logistic_regression(
        l1_ratio, 1.0, solver="saga", tol=1e-12, max_iter=100_000
    ).fit(X, y)
    W = reference.coef_
    l1 = l1_ratio * np.abs(W).sum() + (1 - l1_ratio) * 0.5 * (W**2).sum()
    optimum = log_loss(y, reference.predict_proba(X)) + l1 / len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(solver="sgd", l1_ratio=l1_ratio, random_state=0)
        model.fit(X, y)
    # saga's optimum to within its tolerance's share.
    assert model.loss_curve_.min() >= optimum * (1 - 1e-9)
    stream = SoftmaxRegression(solver="sgd", l1_ratio=l1_ratio, random_state=0)
    for _ in range(20):
        stream.partial_fit(X, y, classes=[0, 1, 2])
    assert stream.loss_curve_.min() >= optimum * (1 - 1e-9)


def test_momentum_restarts_where_one_minibatch_objective_rises(wine):
    """Wine's 178 samples are one minibatch of the default 200: momentum
    gradient descent, whose overshoots the adaptive schedule took for
    stalls, stopping 51% above the optimum. Restarted where the objective
    rises, the default fit ends within 1% of it."""
    X, y, _ = wine
    reference = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    optimum = penalised_objective(reference, X, y, 1.0)
    model = SoftmaxRegression(solver="sgd", random_state=0).fit(X, y)
    gap = (penalised_objective(model, X, y, 1.0) - optimum) / optimum
    assert 0 <= gap < 1e-2


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_proximal_momentum_restarts_where_one_minibatch_objective_rises(wine, l1_ratio):
    """With an L1 part too, the momentum is a displacement whose restart
    keeps the proximal step's fixed point the optimum: the default fit on
    wine's one minibatch ends within 3% of the proximal gradient solver's
    optimum (the proximal step scaled for a settled velocity, which a
    restart would break, ended 30% and 35% above it, stopped by the
    overshoots' stalls)."""
    X, y, _ = wine
    params = dict(l1_ratio=l1_ratio, C=1.0)
    reference = SoftmaxRegression(solver="gd", tol=1e-10, max_iter=100_000, **params)
    optimum = penalised_objective(reference.fit(X, y), X, y, **params)
    model = SoftmaxRegression(solver="sgd", random_state=0, **params).fit(X, y)
    assert model.converged_
    gap = (penalised_objective(model, X, y, **params) - optimum) / optimum
    assert 0 <= gap < 3e-2


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "max_iter, said", [(2, "stalled once"), (4, "stalled 3 times")]
)
def test_a_run_that_stalled_before_max_iter_says_so(wine, solver, max_iter, said):
    """With a tol no epoch can meet, every epoch after the first stalls, and
    the 'adaptive' schedule divides the step and goes on (see above): a run
    that reaches max_iter so says how often it stalled, not that its
    objective was still improving."""
    X, y, _ = wine
    model = SoftmaxRegression(
        solver=solver,
        tol=1e9,
        n_iter_no_change=1,
        batch_size=64,
        max_iter=max_iter,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X, y)
    message = str(record[0].message)
    expected = f"ran max_iter={max_iter} epochs, in which its training objective"
    assert f"{expected} {said}" in message
    assert "still improving" not in message

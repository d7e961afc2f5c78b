"""Claims of the public docstrings that no other test file checks: each test
names the parameter or attribute whose description it holds to account."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import gammaln, softmax
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV
from sklearn_softmax._loss import MultinomialLoss


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def _full_batch(X, y, C, n_epochs, **params):
    """A stochastic solver fitted on one minibatch of all the samples, in
    order, for ``n_epochs`` epochs, with no stopping rule."""
    model = SoftmaxRegression(
        batch_size=len(y),
        shuffle=False,
        C=C,
        max_iter=n_epochs,
        n_iter_no_change=n_epochs + 1,
        tol=0.0,
        **params,
    )
    return _fit_quietly(model, X, y)


def _gradient(X, Y, W, b, C):
    """The gradient of the class docstring's objective with the one-hot
    targets ``Y``: that of the weights, and that of the intercepts."""
    G = (softmax(X @ W + b, axis=1) - Y) / len(Y)
    return X.T @ G + W / (C * len(Y)), G.sum(axis=0)


def test_invscaling_steps_by_the_initial_step_over_t_to_the_power_t(wine):
    """``learning_rate='invscaling'``: step ``t`` is ``learning_rate_init /
    t^power_t``. On one minibatch of all the data, without momentum, 'sgd'
    is then gradient descent with that schedule, which is written out here
    on the objective of the class docstring."""
    X, y = wine
    n_classes = 3
    C, eta0, power_t, n_epochs = 0.5, 0.3, 0.7, 15
    model = _full_batch(
        X,
        y,
        C,
        n_epochs,
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=eta0,
        power_t=power_t,
        momentum=0.0,
        nesterovs_momentum=False,
    )
    Y = np.eye(n_classes)[y]
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    for t in range(1, n_epochs + 1):
        step = eta0 / t**power_t
        grad_W, grad_b = _gradient(X, Y, W, b, C)
        W, b = W - step * grad_W, b - step * grad_b
    assert_array_equal(model.n_iter_, [n_epochs])
    # Gradient steps from zero keep the weights and intercepts centred (the
    # gradient's rows sum to zero over the classes), so the fitted, centred
    # model is the iterate itself; the two differ by rounding, about 1e-16
    # per step on entries of order 1.
    assert_allclose(model.coef_, W.T, rtol=0, atol=1e-12)
    assert_allclose(model.intercept_, b, rtol=0, atol=1e-12)
    # A power of 0 makes the schedule constant: the exponent is used.
    flat = model.get_params() | {"power_t": 0.0}
    flat_model = _fit_quietly(SoftmaxRegression(**flat), X, y)
    assert np.max(np.abs(flat_model.coef_ - model.coef_)) > 1e-3


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_without_shuffling_the_random_state_does_not_change_the_fit(wine, solver):
    """``shuffle=False`` takes the samples in order, so that the random
    state, which seeds the shuffling, leaves the fit alone; with shuffling,
    two seeds give two fits."""
    X, y = wine
    params = {"solver": solver, "batch_size": 16, "max_iter": 3}
    fits = {
        (shuffle, seed): _fit_quietly(
            SoftmaxRegression(shuffle=shuffle, random_state=seed, **params), X, y
        ).coef_
        for shuffle in (False, True)
        for seed in (0, 1)
    }
    assert_array_equal(fits[False, 0], fits[False, 1])
    assert np.max(np.abs(fits[True, 0] - fits[True, 1])) > 1e-6


def test_adam_takes_an_initial_step_of_1e_2_by_default(wine):
    """``learning_rate_init=None`` is 1e-2 for 'adam'."""
    X, y = wine
    params = {"solver": "adam", "max_iter": 3, "random_state": 0}
    default = _fit_quietly(SoftmaxRegression(**params), X, y)
    explicit = _fit_quietly(SoftmaxRegression(learning_rate_init=1e-2, **params), X, y)
    other = _fit_quietly(SoftmaxRegression(learning_rate_init=2e-2, **params), X, y)
    assert_array_equal(default.coef_, explicit.coef_)
    assert np.max(np.abs(default.coef_ - other.coef_)) > 1e-6


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_batch_size_above_the_sample_count_takes_all_the_samples(wine, solver):
    """``batch_size``: all the samples make one minibatch when there are
    fewer."""
    X, y = wine
    params = {"solver": solver, "max_iter": 3, "random_state": 0}
    whole = _fit_quietly(SoftmaxRegression(batch_size=len(y), **params), X, y)
    larger = _fit_quietly(SoftmaxRegression(batch_size=10 * len(y), **params), X, y)
    assert_array_equal(larger.coef_, whole.coef_)
    assert_array_equal(larger.intercept_, whole.intercept_)


def test_partial_fit_with_auto_is_partial_fit_with_sgd(wine):
    """In ``partial_fit``, 'auto' stands for 'sgd', and ``solver_`` says so."""
    X, y = wine
    auto = SoftmaxRegression(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    sgd = SoftmaxRegression(solver="sgd", random_state=0)
    sgd.partial_fit(X, y, classes=[0, 1, 2])
    assert auto.solver_ == "sgd"
    assert_array_equal(auto.coef_, sgd.coef_)


def test_partial_fit_counts_its_calls_and_leaves_stopping_to_the_caller(wine):
    """After ``partial_fit``, ``n_iter_`` counts the calls, ``loss_curve_``
    holds one objective per call, and ``converged_`` is False, even after a
    ``fit`` that converged."""
    X, y = wine
    model = SoftmaxRegression(solver="sgd", random_state=0, max_iter=1000).fit(X, y)
    assert model.converged_
    for n_calls in range(1, 4):
        model.partial_fit(X[::2], y[::2])
        assert_array_equal(model.n_iter_, [n_calls])
        assert model.loss_curve_.shape == (n_calls,)
        assert model.converged_ is False


@pytest.mark.parametrize("solver", ["newton-cholesky", "lbfgs", "adam"])
@pytest.mark.parametrize(
    "penalty",
    [{"l1_ratio": 1.0}, {"l1_ratio": 0.5, "l1_groups": "features"}],
    ids=["l1", "group"],
)
def test_solvers_for_smooth_objectives_refuse_an_l1_part(wine, solver, penalty):
    """``C``: 'lbfgs' and 'adam' refuse an L1 or group part; ``solver``:
    'newton-cholesky' takes the L2 penalty or none."""
    X, y = wine
    model = SoftmaxRegression(solver=solver, **penalty)
    with pytest.raises(ValueError, match=f"solver='{solver}' cannot handle"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_two_class_scores_are_the_log_odds_of_the_second_class(wine):
    """``decision_function`` with two classes: one score per sample, the
    log-odds of ``classes_[1]``, positive where it is predicted."""
    X, y = wine
    mask = y > 0
    labels = np.where(y[mask] == 1, "one", "two")
    model = SoftmaxRegression().fit(X[mask], labels)
    scores = model.decision_function(X[mask])
    proba = model.predict_proba(X[mask])
    assert scores.shape == (mask.sum(),)
    assert model.classes_.tolist() == ["one", "two"]
    # Both sides are computed from the same scores: rounding only, relative
    # to scores of order 10.
    assert_allclose(scores, np.log(proba[:, 1] / proba[:, 0]), rtol=0, atol=1e-10)
    assert_array_equal(model.predict(X[mask]), model.classes_[(scores > 0) * 1])


def test_cv_takes_every_solver_its_docstring_lists(wine):
    """``SoftmaxRegressionCV``'s ``solver`` lists the solvers of
    SoftmaxRegression, 'newton-cholesky' among them, which searches the same
    held-out scores as 'newton-cg'."""
    solvers = SoftmaxRegression._parameter_constraints["solver"][0].options
    text = " ".join(SoftmaxRegressionCV.__doc__.split("solver :")[1].split()[:12])
    assert {name for name in solvers if f"'{name}'" in text} == set(solvers)
    X, y = wine
    params = {"Cs": [0.1, 1.0, 10.0], "cv": 3, "tol": 1e-8}
    cholesky = SoftmaxRegressionCV(solver="newton-cholesky", **params).fit(X, y)
    cg = SoftmaxRegressionCV(solver="newton-cg", **params).fit(X, y)
    # Fits within a gradient of 1e-8 of one optimum; the held-out mean
    # log-loss moves by at most its gradient times that distance.
    assert_allclose(cholesky.scores_, cg.scores_, rtol=0, atol=1e-6)
    assert cholesky.C_ == cg.C_


def test_balanced_weights_count_only_the_classes_with_weight(wine):
    """``class_weight='balanced'`` gives class ``k`` the weight
    ``S_total / (K_present S_k)``, where ``K_present`` counts the classes of
    positive total weight: here 2 of 3. Dividing by 3 instead would scale
    every weight, and so the penalty's share of the objective, by 2/3."""
    X, y = wine
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    sw[y == 2] = 0.0
    totals = np.bincount(y, weights=sw)
    tol = 1e-10
    balanced = SoftmaxRegression(class_weight="balanced", tol=tol)
    balanced.fit(X, y, sample_weight=sw)
    for n_counted, close in ((2, True), (3, False)):
        weights = {k: sw.sum() / (n_counted * totals[k]) for k in (0, 1)} | {2: 1.0}
        explicit = SoftmaxRegression(class_weight=weights, tol=tol)
        explicit.fit(X, y, sample_weight=sw)
        # Both fits end within a gradient of tol of one optimum, whose
        # least curvature is at least 1 / (C S) in the weights.
        gap = np.max(np.abs(balanced.coef_ - explicit.coef_))
        assert bool(gap <= tol * sw.sum()) is close


def test_average_weighs_the_iterate_of_step_t_by_a_power_of_t(wine):
    """``average=True``: the model is the polynomial-decay average of the
    iterates (Shamir & Zhang, 2013), whose weight for step ``t`` is
    ``Gamma(t + 10) / Gamma(t) = t (t + 1) ... (t + 9)``, about ``t^10``.
    Full-batch 'sgd' without momentum at a constant step is gradient
    descent, whose iterates are written out here."""
    X, y = wine
    n_classes = 3
    C, eta0, n_epochs = 1.0, 0.2, 12
    model = _full_batch(
        X,
        y,
        C,
        n_epochs,
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=eta0,
        momentum=0.0,
        nesterovs_momentum=False,
        average=True,
    )
    Y = np.eye(n_classes)[y]
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    iterates = []
    for _ in range(n_epochs):
        grad_W, grad_b = _gradient(X, Y, W, b, C)
        W, b = W - eta0 * grad_W, b - eta0 * grad_b
        iterates.append((W, b))
    t = np.arange(1, n_epochs + 1)
    weights = np.exp(gammaln(t + 10) - gammaln(t))
    weights /= weights.sum()
    W_mean = sum(w * W_t for w, (W_t, _) in zip(weights, iterates, strict=True))
    b_mean = sum(w * b_t for w, (_, b_t) in zip(weights, iterates, strict=True))
    # Rounding only, on entries of order 1 (see the invscaling test).
    assert_allclose(model.coef_, W_mean.T, rtol=0, atol=1e-12)
    assert_allclose(model.intercept_, b_mean, rtol=0, atol=1e-12)
    # The last iterate is another model: the average is what is returned.
    assert np.max(np.abs(model.coef_ - iterates[-1][0].T)) > 1e-3


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "gd", "sgd"])
@pytest.mark.parametrize("precision", ["mixed", "full"])
def test_a_precision_other_solvers_do_not_use_warns(solver, precision):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(solver=solver, precision=precision, max_iter=5)
    expected = f"precision='{precision}' is not used"
    with pytest.warns(UserWarning, match=expected), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)


def test_newton_cg_uses_the_precision_without_a_warning():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        SoftmaxRegression(solver="newton-cg", precision="mixed").fit(X, y)


@pytest.mark.parametrize("precision", ["mixed", "full"])
def test_partial_fit_warns_that_a_precision_is_unused(precision):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(precision=precision, random_state=0)
    with pytest.warns(UserWarning, match=f"precision='{precision}' is not used"):
        model.partial_fit(X, y, classes=np.unique(y))


def test_partial_fit_warns_that_early_stopping_is_unused():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(solver="sgd", early_stopping=True, random_state=0)
    with pytest.warns(UserWarning, match="early_stopping=True is not used"):
        model.partial_fit(X, y, classes=np.unique(y))


def test_partial_fit_names_the_settings_it_does_not_use_once_per_stream():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(tol=0.5, max_iter=1, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            model.partial_fit(X, y, classes=np.unique(y))
    assert [str(w.message) for w in caught] == [
        "max_iter=1 and tol=0.5 are not used: partial_fit takes one epoch on "
        "each chunk, and its caller decides when the stream stops."
    ]
    assert caught[0].filename == __file__
    # A value changed between calls is named again; the stream is the same.
    model.set_params(tol=0.25)
    with pytest.warns(UserWarning, match="tol=0.25 are not used"):
        model.partial_fit(X, y)
    assert model.n_iter_[0] == 4
    # What the penalty's parameters deserve is said once per stream too.
    stream = SoftmaxRegression(l1_groups="features", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            stream.partial_fit(X, y, classes=np.unique(y))
    assert len(caught) == 1
    assert str(caught[0].message).startswith("l1_groups='features' groups")
    # A fit ends the stream: the next call starts another, which names them
    # again.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    with pytest.warns(UserWarning, match="max_iter=1 and tol=0.25 are not used"):
        model.partial_fit(X, y)


def test_adam_decays_its_moments_at_0_9_and_0_999(wine):
    """'adam' with the decay rates of Kingma & Ba (0.9 and 0.999) and a guard
    of 1e-8, the step's bias corrections as in MLPClassifier: on one
    minibatch of all the data, written out here on the class docstring's
    objective."""
    X, y = wine
    n_classes = 3
    C, eta0, n_epochs = 1.0, 0.05, 10
    model = _full_batch(
        X,
        y,
        C,
        n_epochs,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=eta0,
    )
    Y = np.eye(n_classes)[y]
    x = np.zeros((X.shape[1] + 1, n_classes))
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, n_epochs + 1):
        g = np.vstack(_gradient(X, Y, x[:-1], x[-1], C))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        step = eta0 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        x = x - step * m / (np.sqrt(v) + 1e-8)
    # Adam's steps are not centred over the classes: compare the centred
    # models. Rounding, about 1e-16 per step on entries of order 1, and its
    # division by sqrt(v), leave far less than this.
    centred = x - x.mean(axis=1, keepdims=True)
    assert_allclose(model.coef_, centred[:-1].T, rtol=0, atol=1e-9)
    assert_allclose(model.intercept_, centred[-1], rtol=0, atol=1e-9)


def test_sgd_default_step_is_the_inverse_of_the_curvature_bound(wine):
    """``learning_rate_init=None`` for 'sgd': the inverse of half the
    largest eigenvalue of the second moment of ``[X, 1]`` (estimated from
    below by power iteration and raised by 5%) plus the L2 strength, which
    the intercepts' step leaves out."""
    X, y = wine
    n_samples = len(y)
    X1 = np.hstack([X, np.ones((n_samples, 1))])
    largest = np.linalg.eigvalsh(X1.T @ X1 / n_samples)[-1]
    bound = MultinomialLoss(3, True).curvature_bound(X, None)
    assert 0.5 * largest * (1 - 1e-3) <= bound <= 0.5 * 1.05 * largest * (1 + 1e-12)
    C = 2.0
    strength = 1.0 / (C * n_samples)
    # One plain gradient step from zero on all the samples: -g / step.
    model = _fit_quietly(
        SoftmaxRegression(
            solver="sgd",
            C=C,
            max_iter=1,
            batch_size=n_samples,
            momentum=0.0,
            shuffle=False,
            random_state=0,
        ),
        X,
        y,
    )
    residual = (np.full((n_samples, 3), 1 / 3) - np.eye(3)[y]) / n_samples
    assert_allclose(model.coef_, -(X.T @ residual).T / (bound + strength), rtol=1e-12)
    assert_allclose(
        model.intercept_, -residual.sum(axis=0) / bound, rtol=1e-12, atol=1e-17
    )
    # Without an intercept, one step for all: learning_rate_init set to it
    # gives the same model to the last bit.
    params = {"solver": "sgd", "C": C, "max_iter": 5, "random_state": 0}
    no_intercept = MultinomialLoss(3, False).curvature_bound(X, None)
    default = _fit_quietly(SoftmaxRegression(fit_intercept=False, **params), X, y)
    explicit = _fit_quietly(
        SoftmaxRegression(
            fit_intercept=False,
            learning_rate_init=1.0 / (no_intercept + strength),
            **params,
        ),
        X,
        y,
    )
    assert_array_equal(default.coef_, explicit.coef_)


def test_early_stopping_holds_out_a_stratified_share(monkeypatch, wine):
    """``validation_fraction`` of the samples, split stratified by class."""
    from sklearn_softmax._backends import _numpy

    splits = []
    original = _numpy.train_test_split

    def recorded(indices, **kwargs):
        train, held_out = original(indices, **kwargs)
        splits.append((train, held_out))
        return train, held_out

    monkeypatch.setattr(_numpy, "train_test_split", recorded)
    X, y = wine
    model = SoftmaxRegression(
        solver="sgd", early_stopping=True, validation_fraction=0.2, random_state=0
    )
    _fit_quietly(model, X, y)
    ((train, held_out),) = splits
    assert len(held_out) == np.ceil(0.2 * len(y))
    assert len(train) + len(held_out) == len(y)
    # Each class's share of the held-out samples is its share of all of
    # them, to within one sample.
    for label in np.unique(y):
        expected = 0.2 * np.sum(y == label)
        assert abs(np.sum(y[held_out] == label) - expected) <= 1


def test_float32_data_take_exact_newton_steps_on_a_float64_copy(wine):
    """'newton-cholesky' on float32 data runs on float64 arithmetic, as on
    the same values given as float64; only the fitted attributes are
    float32."""
    X, y = wine
    X32 = X.astype(np.float32)
    params = {"solver": "newton-cholesky", "tol": 1e-10}
    model32 = SoftmaxRegression(**params).fit(X32, y)
    model64 = SoftmaxRegression(**params).fit(X32.astype(np.float64), y)
    assert model32.coef_.dtype == np.float32
    # Two float32 roundings of the same float64 numbers at most; float32
    # arithmetic would leave differences of the order of its gradients'
    # rounding, 1e-4 relative and more here.
    scale = np.abs(model64.coef_).max()
    assert_allclose(
        model32.coef_, model64.coef_, rtol=0, atol=4 * np.finfo(np.float32).eps * scale
    )

"""Hostile data: every solver converges or warns, its probabilities are sound,
and its solution is checked against an optimum computed here.

Each test builds one kind of data that breaks naive implementations (extreme
or mixed feature scales, separable classes, many classes, wide data, constant
and duplicated columns, duplicated rows, classes of one sample, float32 scores
beyond the range of ``exp``, sparse data with empty rows and columns) and fits
it with each solver. Every fit must end with finite parameters and
probabilities that are finite, in [0, 1] and sum to one, and must either meet
its stopping rule silently or issue one ConvergenceWarning.

Every fit is also checked against the optimum, which :func:`optimum` finds
independently of the package: Newton's method (scipy's ``trust-exact``) on
the objective, its gradient and its Hessian written out below, in
coordinates where no feature is larger than 1, so that features at 1e6 do
not spoil its conditioning. The deterministic solvers run to a gradient of
1e-8 and must get there, except where their warning asks for scaled
features (first-order steps on features at 1e6 beside the intercept's
column of ones); whether they get there or not, convexity bounds their
objective's excess over the optimum by the gradient they report times their
distance to it. The
stochastic solvers run on one minibatch of all the samples with a constant
step, where they take the deterministic steps of momentum gradient descent
and of Adam that reach the optimum, and must end within ``STOCHASTIC_GAP``
of its objective.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import null_space
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.datasets import load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SeparationWarning, SoftmaxRegression
from sklearn_softmax._solvers import SOLVERS, STOCHASTIC_SOLVERS

ALL_SOLVERS = [*sorted(SOLVERS), *STOCHASTIC_SOLVERS]
# The penalty of every fit, unless a test says otherwise.
C = 1.0
TIGHT = {"tol": 1e-8, "max_iter": 1000}
# One minibatch holding all the samples and a constant step: the stochastic
# solvers then take the deterministic steps of momentum gradient descent and
# of Adam, which reach LogisticRegression's optimum (see the user guide's
# page on solvers). tol=0 runs all the epochs, and warns that they did.
EPOCHS = 1000
STOCHASTIC = {
    "learning_rate": "constant",
    "tol": 0.0,
    "max_iter": EPOCHS,
    "n_iter_no_change": EPOCHS,
    "random_state": 0,
}
# The relative excess of the optimal objective the stochastic solvers are
# held to, as in their own tests of minibatch steps.
STOCHASTIC_GAP = 1e-3


def _settings(solver, n_samples):
    if solver in SOLVERS:
        return {"solver": solver, "C": C, **TIGHT}
    return {"solver": solver, "C": C, "batch_size": n_samples, **STOCHASTIC}


def _sample_labels(rng, scores):
    """Labels drawn from softmax(scores), row by row (Gumbel-max)."""
    return np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)


# The optimum, computed here ------------------------------------------------


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _weights(y, sample_weight):
    if sample_weight is None:
        return np.ones(len(y))
    return np.asarray(sample_weight, dtype=np.float64)


def parameters(model):
    """The fitted weights over the intercepts, ``(d + 1) x K``, in float64."""
    return np.vstack([model.coef_.T, model.intercept_]).astype(np.float64)


def objective(params, X, y, sample_weight=None, C=C):
    """The penalised objective at ``params`` (weights over intercepts):
    ``sum_i s_i (logsumexp(z_i) - z_(i y_i)) / S + |W|^2 / (2 C S)``."""
    X = _dense(X)
    s = _weights(y, sample_weight)
    W, b = params[:-1], params[-1]
    Z = X @ W + b
    data = s @ (logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]) / s.sum()
    return data + np.sum(W**2) / (2 * C * s.sum())


def gradient(params, X, y, sample_weight=None, C=C):
    """The objective's gradient at ``params``, ``(d + 1) x K``."""
    X = _dense(X)
    s = _weights(y, sample_weight)
    W, b = params[:-1], params[-1]
    P = softmax(X @ W + b, axis=1)
    G = s[:, np.newaxis] * (P - np.eye(W.shape[1])[y]) / s.sum()
    return np.vstack([X.T @ G + W / (C * s.sum()), G.sum(axis=0)])


def optimum(X, y, sample_weight=None, C=C, n_classes=None):
    """The minimiser of :func:`objective`, centred, ``(d + 1) x K``.

    Newton's method, by scipy's ``trust-exact`` on the exact Hessian
    ``sum_i s_i / S (diag(p_i) - p_i p_i^T) (x) x_i x_i^T`` plus the penalty.
    Features with a root mean square above 1 are divided by it (their weights
    multiplied, their penalty divided by its square), and the intercepts are
    kept centred (a basis of the vectors summing to zero), where the
    objective does not change: the Hessian is then positive definite and
    well scaled. With more features than samples the weights are sought in
    the row space of ``X``, where the optimum lies: with ``X^T = Q R``, the
    problem of ``V = Q^T W`` on the data ``R^T`` has the same objective.
    """
    X = _dense(X)
    n_samples, n_features = X.shape
    basis = None
    if n_features > n_samples:
        basis, R = np.linalg.qr(X.T)
        X = R.T
    n_rows = X.shape[1] + 1
    n_classes = int(np.max(y)) + 1 if n_classes is None else n_classes
    s = _weights(y, sample_weight)
    w = s / s.sum()
    scale = np.maximum(1.0, np.sqrt(np.mean(X**2, axis=0)))
    X_tilde = np.column_stack([X / scale, np.ones(n_samples)])
    Y = np.eye(n_classes)[y]
    # The penalty of each row of the scaled weights; none for the intercepts.
    penalty = np.append(1 / (C * s.sum() * scale**2), 0.0)
    n_weights = (n_rows - 1) * n_classes
    # theta = (the scaled weights, the intercepts' coordinates in the basis).
    lift = np.zeros((n_rows * n_classes, n_weights + n_classes - 1))
    lift[:n_weights, :n_weights] = np.eye(n_weights)
    lift[n_weights:, n_weights:] = null_space(np.ones((1, n_classes)))

    def value_and_gradient(theta):
        V = (lift @ theta).reshape(n_rows, n_classes)
        Z = X_tilde @ V
        lse = logsumexp(Z, axis=1)
        value = w @ (lse - np.sum(Y * Z, axis=1)) + 0.5 * np.sum(penalty @ V**2)
        P = np.exp(Z - lse[:, np.newaxis])
        grad = X_tilde.T @ (w[:, np.newaxis] * (P - Y)) + penalty[:, np.newaxis] * V
        return value, lift.T @ grad.ravel()

    def hessian(theta):
        P = softmax(X_tilde @ (lift @ theta).reshape(n_rows, n_classes), axis=1)
        J = P[:, :, np.newaxis] * (np.eye(n_classes) - P[:, np.newaxis, :])
        H = np.einsum("ij,il,ikm->jklm", w[:, np.newaxis] * X_tilde, X_tilde, J)
        H = H.reshape(n_rows * n_classes, -1) + np.diag(np.repeat(penalty, n_classes))
        return lift.T @ H @ lift

    result = minimize(
        value_and_gradient,
        np.zeros(lift.shape[1]),
        jac=True,
        hess=hessian,
        method="trust-exact",
        options={"gtol": 1e-12, "maxiter": 200},
    )
    # It stops where rounding hides the decrease a step predicts, with the
    # gradient far below the 1e-8 the fits are held to.
    assert np.max(np.abs(result.jac)) < 1e-9, result
    V = (lift @ result.x).reshape(n_rows, n_classes)
    W = V[:-1] / scale[:, np.newaxis]
    if basis is not None:
        W = basis @ W
    return np.vstack([W, V[-1]])


# What every fit must satisfy -----------------------------------------------


def fit_converges_or_warns(model, X, y, separated=False):
    """Fit ``model``, or a pipeline ending with one, and check the contract:
    the fit meets its stopping rule and says nothing, or it does not and
    issues one ConvergenceWarning. With ``separated`` True, a converged fit
    issues one SeparationWarning instead of nothing; with None, it may.

    Only these warnings are recorded; the test configuration still turns
    numpy's RuntimeWarning (overflow, invalid value) into an error.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", SeparationWarning)
        model.fit(X, y)
    fitted = model[-1] if hasattr(model, "steps") else model
    if separated is None:
        caught = [w for w in caught if w.category is not SeparationWarning]
    messages = [str(w.message) for w in caught]
    if fitted.converged_ and separated:
        assert [w.category for w in caught] == [SeparationWarning], messages
        assert f"solver={fitted.solver_!r}" in messages[0]
    elif fitted.converged_:
        assert messages == []
    else:
        assert [w.category for w in caught] == [ConvergenceWarning], messages
        assert f"solver={fitted.solver_!r}" in messages[0]
    return model


def assert_sound(model, X):
    """Finite fitted attributes; probabilities finite, in [0, 1], rows
    summing to one; finite log-probabilities."""
    for name in ("coef_", "intercept_", "loss_curve_"):
        assert np.all(np.isfinite(getattr(model, name))), name
    assert np.isfinite(model.grad_norm_)
    proba = model.predict_proba(X)
    assert proba.dtype == model.coef_.dtype
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    # Each probability is exp(z_k - max z) over the sum of the row's K terms,
    # whose K - 1 roundings of at most eps / 2 are shared by the row; the
    # divisions and adding the K probabilities up again cost about as much
    # again, so 2 K eps bounds it all with room to spare.
    n_classes = proba.shape[1]
    atol = 2 * n_classes * np.finfo(proba.dtype).eps
    assert_allclose(proba.sum(axis=1, dtype=np.float64), 1, rtol=0, atol=atol)
    assert np.all(np.isfinite(model.predict_log_proba(X)))
    return proba


def _score_magnitude(X, params):
    """The largest ``sum_j |x_ij w_jk| + |b_k|``: a score's rounding error is
    at most ``(d + 2) eps`` times it (Higham, Accuracy and Stability of
    Numerical Algorithms, 2nd ed., section 3.1)."""
    return np.max(abs(_dense(X)) @ np.abs(params[:-1]) + np.abs(params[-1]))


def assert_within_its_gradient_of(model, X, y, reference, sample_weight=None):
    """The fit's objective exceeds the optimum's by at most its reported
    gradient times its distance to it.

    By convexity, ``f(x) - f(x*) <= g(x) . (x - x*) <= |g(x)|_inf
    |x - x*|_1``. The deterministic solvers' iterates stay centred (every
    gradient's rows sum to zero), so ``grad_norm_`` is ``|g|_inf`` at the
    fitted parameters, up to its rounding: each gradient entry sums ``n``
    terms ``x_ij G_ik`` whose residuals ``G`` carry the scores' rounding
    (``(d + 2) eps`` of the largest score magnitude ``m``) and whose absolute
    values add up to at most ``2 max|x|``, hence at most ``max|x| eps
    (4 (d + 2) (1 + m) + 2 n)``. The two objectives, computed here from
    scores of magnitude at most ``m``, each carry ``4 (d + 2) eps (1 + m)``.
    """
    x = parameters(model)
    n_samples, n_features = X.shape
    eps = np.finfo(np.float64).eps
    magnitude = max(_score_magnitude(X, x), _score_magnitude(X, reference))
    largest_x = max(1.0, np.max(abs(_dense(X))))
    gradient_rounding = (
        largest_x * eps * (4 * (n_features + 2) * (1 + magnitude) + 2 * n_samples)
    )
    objective_rounding = 8 * (n_features + 2) * eps * (1 + magnitude)
    excess = objective(x, X, y, sample_weight) - objective(
        reference, X, y, sample_weight
    )
    distance = np.abs(x - reference).sum()
    bound = (model.grad_norm_ + gradient_rounding) * distance + objective_rounding
    assert excess <= bound, (excess, bound)


def assert_near_the_optimum(model, X, y, reference, sample_weight=None):
    """The fit's objective is within ``STOCHASTIC_GAP`` of the optimum's,
    relatively, and not below it by more than rounding."""
    optimal = objective(reference, X, y, sample_weight)
    reached = objective(parameters(model), X, y, sample_weight)
    assert -1e-12 * optimal <= reached - optimal <= STOCHASTIC_GAP * optimal


def assert_at_the_optimum(model, X, y, reference, sample_weight=None):
    """The optimum check each solver's promise allows (see the module)."""
    if model.solver_ in SOLVERS:
        assert_within_its_gradient_of(model, X, y, reference, sample_weight)
    else:
        assert_near_the_optimum(model, X, y, reference, sample_weight)


def assert_gradient_at_most(model, X, y, bound):
    """The largest absolute entry of the gradient, written out here, is at
    most ``bound`` for the intercepts, whose gradient the centring does not
    change, and for the weights where the solver keeps its iterates centred
    (all but Adam); the rounding is that of
    :func:`assert_within_its_gradient_of`."""
    x = parameters(model)
    n_samples, n_features = X.shape
    eps = np.finfo(np.float64).eps
    rounding = (
        max(1.0, np.max(abs(_dense(X))))
        * eps
        * (4 * (n_features + 2) * (1 + _score_magnitude(X, x)) + 2 * n_samples)
    )
    g = gradient(x, X, y)
    checked = g[-1:] if model.solver_ == "adam" else g
    assert np.max(np.abs(checked)) <= bound + rounding


# The tests -------------------------------------------------------------------


def _scaled_problem(scales, n_samples=300, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, len(scales)))
    y = _sample_labels(rng, X @ rng.standard_normal((len(scales), n_classes)))
    return X * scales, y


SCALES = {
    "1e-6": np.full(5, 1e-6),
    "1e6": np.full(5, 1e6),
    "mixed": np.logspace(-6, 6, 5),
}
# Features at 1e6 beside the intercept's column of ones make the curvature
# along the weights 1e12 times that along the intercepts. A gradient step
# cannot serve both: 'gd' creeps along the intercepts, and 'lbfgs' stops
# where the objective no longer decreases at float64's precision, both short
# of tol=1e-8 and with a warning that asks for scaled features. Their excess
# over the optimum is still bounded by the gradient they report.
ILL_CONDITIONED = {("gd", "1e6"), ("gd", "mixed"), ("lbfgs", "1e6"), ("lbfgs", "mixed")}


@pytest.mark.parametrize("scale", sorted(SCALES))
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_features_at_extreme_and_mixed_scales(solver, scale):
    X, y = _scaled_problem(SCALES[scale])
    model = SoftmaxRegression(**_settings(solver, len(y)))
    fit_converges_or_warns(model, X, y)
    assert_sound(model, X)
    if solver in SOLVERS:
        assert model.converged_ or (solver, scale) in ILL_CONDITIONED
        assert_within_its_gradient_of(model, X, y, optimum(X, y))
    elif scale == "1e-6":
        assert_near_the_optimum(model, X, y, optimum(X, y))
    else:
        # A step the size of the weights at 1e6 never moves the intercepts:
        # the stochastic solvers get the remedy their warnings give, scaled
        # features, and are checked against the optimum of the scaled data.
        scaler = StandardScaler().fit(X)
        pipeline = make_pipeline(
            StandardScaler(), SoftmaxRegression(**_settings(solver, len(y)))
        )
        fit_converges_or_warns(pipeline, X, y)
        X_scaled = scaler.transform(X)
        assert_near_the_optimum(pipeline[-1], X_scaled, y, optimum(X_scaled, y))


@pytest.mark.parametrize("exponent", [300, 450])
@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky"])
def test_features_near_the_magnitude_bound_give_the_scaled_model(solver, exponent):
    # X 2^k with C 2^-2k is the problem of X in the weights W 2^-k, and the
    # gradient in those weights is 2^k times X's: with tol 2^k too, the fit
    # stops where the fit of X does. Features of 1e90 overflowed the
    # curvature of Newton-CG's conjugate gradients, and of 1e135 its
    # Hessian products.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    scale = 2.0**exponent
    settings = {"solver": solver, "fit_intercept": False}
    reference = SoftmaxRegression(tol=1e-8, **settings).fit(X, y)
    model = SoftmaxRegression(tol=1e-8 * scale, C=1 / scale**2, **settings)
    model.fit(X * scale, y)
    assert model.converged_
    coef = model.coef_ * scale
    if solver == "newton-cholesky":
        # Each step is the reference's scaled by a power of two, exactly.
        assert_array_equal(coef, reference.coef_)
    else:
        # Newton-CG's forcing term depends on the gradient's norm, not its
        # direction alone: another path, to the same optimum. Each model is
        # within its gradient's norm over the least curvature, the
        # penalty's 1 / (C S), of the optimum.
        n_parameters = coef.size
        gradients = model.grad_norm_ / scale + reference.grad_norm_
        bound = np.sqrt(n_parameters) * gradients * len(y)
        assert np.linalg.norm(coef - reference.coef_) <= bound


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky"])
def test_features_of_1e150_fit_without_overflow(solver, fit_intercept):
    # Below the bound that fit checks, sqrt(max float64 / n), the Hessian's
    # entries approach float64's range: the conjugate gradients of
    # Newton-CG, and of exact steps' fallback, overflowed there.
    X, y = make_classification(
        300, 5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    model = SoftmaxRegression(solver=solver, fit_intercept=fit_intercept)
    fit_converges_or_warns(model, X * 1e150, y, separated=None)
    assert_sound(model, X * 1e150)


@pytest.mark.parametrize(
    "no_penalty",
    [{"C": 1e10}, {"C": np.inf}],
    ids=["C=1e10", "C=inf"],
)
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_separable_classes_without_an_effective_penalty(solver, no_penalty):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 4))
    # Centred across the classes, as the fitted weights are; the scores'
    # differences, which are all the classes see, do not change.
    W_true = rng.standard_normal((4, 3))
    W_true -= W_true.mean(axis=1, keepdims=True)
    scores = X @ W_true
    # Labels are the argmax of linear scores, kept where the best class leads
    # by a margin: the classes are linearly separable, with room to spare.
    margin = 0.5
    ordered = np.sort(scores, axis=1)
    keep = ordered[:, -1] - ordered[:, -2] > margin
    X, y = X[keep], np.argmax(scores[keep], axis=1)
    if solver in SOLVERS:
        settings = _settings(solver, len(y))
    else:
        # The weights must grow without bound: seeded minibatches of 32 take
        # ten times the steps of one batch of all the samples.
        settings = _settings(solver, 32) | {"max_iter": 300, "n_iter_no_change": 300}
    model = SoftmaxRegression(**(settings | no_penalty))
    # Without a penalty, the deterministic solvers' tight tol takes every
    # sample's probability of its class far above the 1/sqrt(2) at which
    # the fit warns that the classes are separable; the stochastic ones
    # stop wherever their steps stall, and may not get that far.
    if not np.isinf(no_penalty["C"]):
        separated = False
    else:
        separated = True if solver in SOLVERS else None
    fit_converges_or_warns(model, X, y, separated=separated)
    assert_sound(model, X)
    # Along the separating weights W*, the log-loss L has the slope
    # grad L . W* = -(1/n) sum_i sum_(k != y_i) p_ik (z*_(i y_i) - z*_ik),
    # at most -(margin / n) sum_i (1 - p_(i y_i)); a misclassified sample
    # has p_(i y_i) <= 1/2. So at most 2 n |grad L . W*| / margin samples
    # are misclassified, and |grad L . W*| is at most grad_norm_ |W*|_1 plus
    # what the penalty lambda W adds to the gradient, lambda |W| |W*|. Both
    # are the same at the solver's iterate as at the centred model, as W* is
    # centred.
    strength = 1 / (no_penalty["C"] * len(y))
    penalty_part = strength * np.linalg.norm(model.coef_) * np.linalg.norm(W_true)
    slope = model.grad_norm_ * np.abs(W_true).sum() + penalty_part
    bound = 2 * len(y) * slope / margin
    assert np.sum(model.predict(X) != y) <= bound
    # The gradient the fits reach leaves the bound room to fail: the
    # deterministic solvers' tol allows no misclassified sample.
    assert bound < (1 if solver in SOLVERS else len(y) / 4)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_a_thousand_classes(solver):
    n_classes, per_class, n_features = 1000, 2, 4
    rng = np.random.default_rng(2)
    centres = 2.0 * rng.standard_normal((n_classes, n_features))
    y = np.repeat(np.arange(n_classes), per_class)
    X = centres[y] + rng.standard_normal((len(y), n_features))
    # The default tol, and fewer epochs: each pass costs n K = 2e6 exps, and
    # the Newton reference would need a Hessian of 5000 x 5000 entries.
    max_iter = 100 if solver in SOLVERS else 10
    model = SoftmaxRegression(solver=solver, max_iter=max_iter, random_state=0)
    fit_converges_or_warns(model, X, y)
    assert model.coef_.shape == (n_classes, n_features)
    assert_sound(model, X)
    if solver in SOLVERS:
        # The first-order condition of the optimum, to within tol.
        assert model.converged_
        assert_gradient_at_most(model, X, y, model.tol)
    else:
        # Ten epochs are not enough to converge; the gradient they report
        # is the one at the model (each class's mean probability is its
        # frequency to within it, for the intercepts).
        assert_gradient_at_most(model, X, y, model.grad_norm_)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_many_more_features_than_samples(solver):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3000))
    y = np.arange(30) % 3
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    assert_at_the_optimum(model, X, y, optimum(X, y))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_constant_columns(solver):
    rng = np.random.default_rng(4)
    X_informative = rng.standard_normal((200, 3))
    y = _sample_labels(rng, X_informative @ rng.standard_normal((3, 3)))
    constants = np.array([0.0, 3.0])
    X = np.hstack([X_informative, np.broadcast_to(constants, (200, 2))])
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    # A zero column's gradient is the penalty's alone, zero from the start:
    # its weights never move.
    assert_array_equal(model.coef_[:, 3], 0.0)
    # A constant column c is collinear with the unpenalised intercept, which
    # takes its part of the scores: its optimal weights are zero. Its
    # gradient is c g_b + lambda w for the intercepts' gradient g_b, so a
    # gradient of at most grad_norm_ bounds |w| by (1 + |c|) grad_norm_ /
    # lambda, and centring the classes' weights at most doubles that.
    bound = 2 * (1 + constants[1]) * model.grad_norm_ * C * len(y)
    assert np.max(np.abs(model.coef_[:, 4])) <= bound
    # Without the constant columns the optimum is the same, with zero weights
    # for them.
    reference = np.insert(optimum(X_informative, y), [3, 3], 0.0, axis=0)
    assert_at_the_optimum(model, X, y, reference)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_duplicated_columns(solver):
    rng = np.random.default_rng(5)
    X_distinct = rng.standard_normal((200, 3))
    y = _sample_labels(rng, X_distinct @ rng.standard_normal((3, 3)))
    # Column 0 three times, column 1 twice.
    copies = np.array([3, 2, 1])
    X = np.repeat(X_distinct, copies, axis=1)
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    # Copies of a column get the same gradient, so every solver moves their
    # weights alike from zero: they stay equal up to the rounding that
    # thousands of steps may accumulate.
    groups = np.split(model.coef_, np.cumsum(copies)[:-1], axis=1)
    for group in groups:
        assert_allclose(group, group[:, :1].repeat(group.shape[1], 1), rtol=1e-10)
    # The scores see only the sum of the m copies' weights, and the L2
    # penalty of a given sum is least when it is split equally: the problem
    # is that of the distinct columns scaled by sqrt(m), whose weights v give
    # each copy v / sqrt(m).
    scaled = optimum(X_distinct * np.sqrt(copies), y)
    weights = np.repeat(scaled[:-1] / np.sqrt(copies)[:, np.newaxis], copies, axis=0)
    reference = np.vstack([weights, scaled[-1:]])
    assert_at_the_optimum(model, X, y, reference)
    if model.converged_:
        # A gradient of 1e-8 leaves errors of about 1e-7 in the coefficients.
        assert_allclose(parameters(model), reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_duplicated_rows(solver):
    rng = np.random.default_rng(6)
    X_distinct = rng.standard_normal((60, 4))
    y_distinct = _sample_labels(rng, X_distinct @ rng.standard_normal((4, 3)))
    counts = rng.integers(1, 5, size=60)
    # Each row repeated up to four times, and every fifth row once more with
    # another label: identical samples that disagree.
    X = np.repeat(X_distinct, counts, axis=0)
    y = np.repeat(y_distinct, counts)
    X = np.vstack([X, X_distinct[::5]])
    y = np.concatenate([y, (y_distinct[::5] + 1) % 3])
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    # k copies of a row weigh what one row of sample weight k does.
    X_weighted = np.vstack([X_distinct, X_distinct[::5]])
    y_weighted = np.concatenate([y_distinct, (y_distinct[::5] + 1) % 3])
    weights = np.concatenate([counts, np.ones(12)])
    reference = optimum(X_weighted, y_weighted, weights)
    assert_at_the_optimum(model, X_weighted, y_weighted, reference, weights)
    if model.converged_:
        # A gradient of 1e-8 leaves errors of about 1e-7 in the probabilities.
        expected = softmax(X_distinct @ reference[:-1] + reference[-1], axis=1)
        assert_allclose(model.predict_proba(X_distinct), expected, atol=1e-6)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_classes_with_a_single_sample(solver):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((100, 4))
    y = _sample_labels(rng, X @ rng.standard_normal((4, 3)))
    # Two more classes, of one sample each.
    y[[10, 20]] = [3, 4]
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_array_equal(model.classes_, np.arange(5))
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    assert_at_the_optimum(model, X, y, optimum(X, y))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_float32_scores_beyond_the_range_of_exp(solver):
    rng = np.random.default_rng(8)
    n_samples, n_features = 300, 4
    centres = 3.0 * rng.standard_normal((3, n_features))
    y = np.arange(n_samples) % 3
    # Features in the thousands and a weak penalty.
    X = 1e3 * (centres[y] + rng.standard_normal((n_samples, n_features)))
    X = X.astype(np.float32)
    # exp overflows float32 beyond this score.
    exp_limit = np.log(np.finfo(np.float32).max)
    # 'gd' needs about 120 iterations to reach the default tol here.
    model = SoftmaxRegression(solver=solver, C=1e4, max_iter=1000, random_state=0)
    fit_converges_or_warns(model, X, y)
    assert model.converged_
    assert model.coef_.dtype == model.intercept_.dtype == np.float32
    assert_sound(model, X)

    # Far from the data the scores pass exp_limit; the log-probabilities stay
    # finite, and equal the log-softmax of the same parameters in float64.
    far = 100 * X
    assert np.max(np.abs(model.decision_function(far))) > exp_limit
    assert_sound(model, far)
    log_proba = model.predict_log_proba(far)
    assert log_proba.dtype == np.float32
    coef, intercept = (
        model.coef_.astype(np.float64),
        model.intercept_.astype(np.float64),
    )
    expected = log_softmax(far.astype(np.float64) @ coef.T + intercept, axis=1)
    # A float32 score carries a rounding error of at most (d + 2) eps times the
    # sum of the magnitudes of its terms (Higham, Accuracy and Stability of
    # Numerical Algorithms, 2nd ed., section 3.1); a log-softmax entry moves by
    # at most three such errors (its score, the largest score and the
    # log-sum-exp), plus a rounding of its own size.
    eps = np.finfo(np.float32).eps
    magnitudes = np.abs(far.astype(np.float64)) @ np.abs(coef).T + np.abs(intercept)
    atol = 3 * (n_features + 2) * eps * magnitudes.max()
    assert_allclose(log_proba, expected, rtol=eps, atol=atol)

    # A warm start from weights a thousand times larger: the fit starts with
    # scores far beyond exp_limit.
    model.set_params(warm_start=True)
    model.coef_ = 1e3 * model.coef_
    assert np.max(np.abs(model.decision_function(X))) > exp_limit
    fit_converges_or_warns(model, X, y)
    assert model.converged_
    assert model.coef_.dtype == np.float32
    assert_sound(model, X)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_sparse_with_empty_rows_and_columns(solver):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((200, 8))
    X[rng.random(X.shape) < 0.6] = 0.0
    y = _sample_labels(rng, X @ rng.standard_normal((8, 3)))
    # The first and last rows and columns among them.
    empty_rows, empty_columns = np.r_[0:200:10, 199], [0, 5, 7]
    X[empty_rows] = 0.0
    X[:, empty_columns] = 0.0
    X = sp.csr_matrix(X)
    assert X.getnnz(axis=1)[empty_rows].sum() == 0
    model = fit_converges_or_warns(SoftmaxRegression(**_settings(solver, len(y))), X, y)
    assert_sound(model, X)
    assert model.converged_ or solver in STOCHASTIC_SOLVERS
    # An empty column's gradient is the penalty's alone, zero from the start.
    assert_array_equal(model.coef_[:, empty_columns], 0.0)
    # An empty row scores the intercepts alone, exactly; their softmax may
    # differ only in the order of its sum.
    assert_allclose(
        model.predict_proba(X[empty_rows]),
        np.tile(softmax(model.intercept_), (len(empty_rows), 1)),
        rtol=4 * np.finfo(np.float64).eps,
    )
    assert_at_the_optimum(model, X, y, optimum(X, y))

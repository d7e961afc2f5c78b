"""softmax_inference against statsmodels and direct computations."""

import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import statsmodels.api as sm
from _problems import loss_gradient
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import null_space
from sklearn.base import clone
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import (
    SeparationWarning,
    SoftmaxRegression,
    SoftmaxRegressionCV,
    _separation,
    softmax_inference,
)
from sklearn_softmax import _inference as inference_module
from sklearn_softmax._inference_result import SoftmaxInferenceResult
from sklearn_softmax._information import (
    MATRICES_HELD,
    _symmetric_from_upper,
    _symmetrise,
    design_products,
    observed_information,
    shifted_eigh,
)
from sklearn_softmax._loss import MultinomialLoss

TIGHT = {"tol": 1e-10, "max_iter": 10_000}
# Fits to a gradient of 1e-10 agree with MNLogit's Newton iterates to about
# 1e-11 relative (the curvature here is of order one): the comparisons hold
# them to 1e-6, five orders above.
RTOL = 1e-6
FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]


@pytest.fixture(scope="module")
def anes96():
    """statsmodels' 1996 American National Election Study: party
    identification in 7 classes, the data set of MNLogit's own example."""
    data = sm.datasets.anes96.load_pandas()
    return data.exog[FEATURES], data.endog.to_numpy().astype(int)


def _mnlogit(X, y, cov_type="nonrobust", constant=True):
    exog = sm.add_constant(np.asarray(X, dtype=float)) if constant else X
    return sm.MNLogit(y, exog).fit(
        method="newton", disp=0, maxiter=100, cov_type=cov_type
    )


def _unseparable(n_samples=400, n_features=3, n_classes=4, seed=0):
    """Features drawn from the normal and labels from a softmax model on
    them: each class has positive probability everywhere."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    W = rng.normal(scale=0.7, size=(n_features, n_classes))
    P = np.exp(X @ W)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_equals_mnlogit_on_anes96(anes96, cov_type):
    X, y = anes96
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=0, cov_type=cov_type)
    reference = _mnlogit(X, y, cov_type)
    assert_allclose(result.params, reference.params, rtol=RTOL)
    assert_allclose(result.bse, reference.bse, rtol=RTOL)
    assert_allclose(result.pvalues, reference.pvalues, rtol=RTOL)
    assert_allclose(result.zvalues, reference.tvalues, rtol=RTOL)
    assert_allclose(result.llf, reference.llf, rtol=1e-10)
    n_rows, n_columns = result.params.shape
    intervals = np.asarray(reference.conf_int(alpha=0.1))
    assert_allclose(
        result.conf_int(alpha=0.1),
        intervals.reshape(n_columns, n_rows, 2).transpose(1, 0, 2),
        rtol=RTOL,
        atol=RTOL * np.abs(intervals).max(),
    )
    assert_allclose(result.cov_params(), reference.cov_params(), rtol=RTOL, atol=1e-12)
    assert result.row_names == ["intercept", *FEATURES]
    assert result.column_names == list(range(1, 7))


@pytest.mark.parametrize("reference_class", [3, "c", "d"])
def test_reference_class_is_mnlogits_first_class(reference_class):
    X, y = _unseparable()
    # String labels, as NumPy strings and as Python objects.
    names = np.array(
        ["a", "b", "c", "d"], dtype=object if reference_class == "d" else str
    )
    labels = y if reference_class == 3 else names[y]
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, labels)
    result = softmax_inference(clf, X, labels, reference_class=reference_class)
    # MNLogit compares with its first class: move the reference there.
    index = list(clf.classes_).index(reference_class)
    order = [index, *np.delete(np.arange(4), index)]
    reference = _mnlogit(X, np.argsort(order)[y])
    assert_allclose(result.params, reference.params, rtol=RTOL)
    assert_allclose(result.bse, reference.bse, rtol=RTOL)
    assert_allclose(result.pvalues, reference.pvalues, rtol=RTOL)
    assert result.column_names == [clf.classes_[k] for k in order[1:]]
    assert result.reference_class == reference_class


def test_without_intercept_equals_mnlogit_without_constant():
    X, y = _unseparable(n_classes=3)
    clf = SoftmaxRegression(C=np.inf, fit_intercept=False, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=0)
    reference = _mnlogit(X, y, constant=False)
    assert_allclose(result.params, reference.params, rtol=RTOL)
    assert_allclose(result.bse, reference.bse, rtol=RTOL)
    assert result.row_names == ["x0", "x1", "x2"]


def test_two_classes_equal_logit():
    X, y = _unseparable(n_classes=2)
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=0)
    reference = sm.Logit(y, sm.add_constant(X)).fit(method="newton", disp=0)
    assert result.params.shape == (4, 1)
    assert_allclose(result.params[:, 0], reference.params, rtol=RTOL)
    assert_allclose(result.bse[:, 0], reference.bse, rtol=RTOL)
    assert_allclose(result.pvalues[:, 0], reference.pvalues, rtol=RTOL)
    # The reference layout of two classes is scikit-learn's.
    assert_allclose(result.params[:, 0], np.r_[clf.intercept_, clf.coef_[0]])


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("C", [np.inf, 1.0], ids=["no-penalty", "l2"])
def test_integer_weights_equal_repeated_rows(cov_type, C):
    X, y = _unseparable(n_samples=200)
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    weighted = SoftmaxRegression(C=C, **TIGHT).fit(X, y, counts)
    repeated = SoftmaxRegression(C=C, **TIGHT).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    result = softmax_inference(weighted, X, y, counts, cov_type=cov_type)
    expected = softmax_inference(
        repeated, np.repeat(X, counts, axis=0), np.repeat(y, counts), cov_type=cov_type
    )
    assert_allclose(result.params, expected.params, rtol=1e-6, atol=1e-9)
    assert_allclose(result.bse, expected.bse, rtol=1e-6)
    assert result.nobs == counts.sum()
    assert_allclose(result.llf, expected.llf, rtol=1e-8)


def _direct_covariance(clf, X, y, cov_type):
    """The symmetric covariance from its definition: the penalised
    objective's Hessian by central differences of the gradient, the scores
    sample by sample, both restricted to the parameters summing to zero over
    the classes with an orthonormal basis."""
    n_samples, n_features = X.shape
    n_classes = clf.classes_.size
    loss = MultinomialLoss(n_classes, fit_intercept=True)
    l2 = 1.0 / clf.C

    def gradient(theta, strength):
        # The loss holds the intercept last; the inference, first.
        coef = np.vstack([theta[1:], theta[:1]])
        _, G = loss_gradient(loss, coef, X, y, None, strength / n_samples)
        return n_samples * np.vstack([G[-1:], G[:-1]])

    theta = np.vstack([clf.intercept_, clf.coef_.T])
    shape, n_parameters = theta.shape, theta.size

    def hessian(strength):
        step = 1e-5
        columns = []
        for j in range(n_parameters):
            e = np.zeros(n_parameters)
            e[j] = step
            E = e.reshape(shape, order="F")
            difference = gradient(theta + E, strength) - gradient(theta - E, strength)
            columns.append((difference / (2 * step)).ravel(order="F"))
        H = np.column_stack(columns)
        return 0.5 * (H + H.T)

    bread = hessian(l2)
    if cov_type == "nonrobust":
        meat = hessian(0.0)
    else:
        Z = X @ clf.coef_.T + clf.intercept_
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        residual = P - np.eye(n_classes)[y]
        design = np.hstack([np.ones((n_samples, 1)), X])
        scores = np.stack([np.kron(residual[i], design[i]) for i in range(n_samples)])
        meat = scores.T @ scores
    basis = np.kron(null_space(np.ones((1, n_classes))), np.eye(n_features + 1))
    inverse = basis @ np.linalg.inv(basis.T @ bread @ basis) @ basis.T
    return inverse @ meat @ inverse


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("C", [0.05, 1.0, None])
def test_symmetric_covariance_equals_direct_computation(cov_type, C):
    X, y = _unseparable(n_samples=300, n_classes=3)
    params = {"C": np.inf if C is None else C}
    clf = SoftmaxRegression(**params, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, cov_type=cov_type)
    expected = _direct_covariance(clf, X, y, cov_type)
    assert_allclose(result.cov_params(), expected, rtol=1e-5, atol=1e-7)
    assert_allclose(result.params, np.vstack([clf.intercept_, clf.coef_.T]))
    assert result.penalized == (C is not None)
    # Each parameter sums to zero over the classes, its covariance too.
    assert_allclose(result.params.sum(axis=1), 0, atol=1e-10)
    assert_allclose(result.cov_params().reshape(3, 4, 3, 4).sum(axis=0), 0, atol=1e-10)


def test_reference_layout_is_the_difference_of_the_symmetric_one():
    X, y = _unseparable(n_classes=3)
    clf = SoftmaxRegression(C=0.5, **TIGHT).fit(X, y)
    symmetric = softmax_inference(clf, X, y)
    against_1 = softmax_inference(clf, X, y, reference_class=1)
    assert_allclose(
        against_1.params, symmetric.params[:, [0, 2]] - symmetric.params[:, [1]]
    )
    cov = symmetric.cov_params().reshape(3, 4, 3, 4)
    for column, k in enumerate([0, 2]):
        variance = np.diag(cov[k, :, k] - 2 * cov[k, :, 1] + cov[1, :, 1])
        assert_allclose(against_1.bse[:, column], np.sqrt(variance), rtol=1e-10)


def test_penalised_two_classes_equal_logistic_regression_with_twice_c():
    X, y = _unseparable(n_classes=2)
    clf = SoftmaxRegression(C=0.3, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=0)
    binary = LogisticRegression(C=0.6, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_allclose(
        result.params[:, 0], np.r_[binary.intercept_, binary.coef_[0]], rtol=1e-6
    )
    # The ridge sandwich of the binary model, with penalty 1 / (2 C).
    p = binary.predict_proba(X)[:, 1]
    design = np.hstack([np.ones((len(y), 1)), X])
    information = design.T @ ((p * (1 - p))[:, np.newaxis] * design)
    bread = information + np.diag([0.0, 1, 1, 1]) / 0.6
    inverse = np.linalg.inv(bread)
    expected = np.sqrt(np.diag(inverse @ information @ inverse))
    assert_allclose(result.bse[:, 0], expected, rtol=1e-5)


def test_sparse_and_float32_give_the_dense_float64_results():
    X, y = _unseparable()
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    dense = softmax_inference(clf, X, y, cov_type="HC0")
    sparse = softmax_inference(clf, sp.csr_matrix(X), y, cov_type="HC0")
    assert_allclose(sparse.cov_params(), dense.cov_params(), rtol=1e-10, atol=1e-14)
    clf32 = SoftmaxRegression(C=np.inf, tol=1e-6).fit(X.astype(np.float32), y)
    single = softmax_inference(clf32, X.astype(np.float32), y)
    assert single.bse.dtype == np.float64
    assert_allclose(single.bse, softmax_inference(clf, X, y).bse, rtol=1e-3)


def test_feature_names_and_summary(anes96):
    X, y = anes96
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=0)
    text = result.summary(alpha=0.1)
    assert text.count("\nclass ") == 6
    assert "[0.05" in text and "0.95]" in text
    for name in ["intercept", *FEATURES]:
        assert text.count(f"\n{name} ") == 6
    assert str(result) == result.summary()
    row = next(line for line in text.splitlines() if line.startswith("selfLR"))
    assert f"{result.params[2, 0]:.4f}" in row
    # As statsmodels prints them: fixed decimals, so that the decimal points
    # of each column align, and p-values to three decimals.
    table = text.split("\nclass ")[1].splitlines()[3:]
    points = {tuple(i for i, c in enumerate(line) if c == ".") for line in table}
    assert len(points) == 1
    assert f"{result.pvalues[2, 0]:.3f}" in row


def test_user_arrays_are_not_modified():
    X, y = _unseparable()
    weights = np.linspace(0.5, 2, len(y))
    clf = SoftmaxRegression(**TIGHT).fit(X, y, weights)
    copies = X.copy(), y.copy(), weights.copy()
    softmax_inference(clf, X, y, weights, cov_type="HC0")
    for original, copy in zip((X, y, weights), copies, strict=True):
        assert_array_equal(original, copy)


@pytest.mark.parametrize("reference_class", [None, 0])
def test_params_changed_in_place_leave_the_result_as_it_was(reference_class):
    """params are the user's: scaled in place (to report in other units,
    say), the predictions and effects the result computes stay its own."""
    X, y = _unseparable()
    clf = SoftmaxRegression(**TIGHT).fit(X, y)
    result = softmax_inference(clf, X, y, reference_class=reference_class)
    proba = result.predict_proba_interval(X[:3]).proba
    effects = result.marginal_effects().effects
    result.params *= 100
    assert_array_equal(result.predict_proba_interval(X[:3]).proba, proba)
    assert_array_equal(result.marginal_effects().effects, effects)


def _quasi_separated(n_samples=300, seed=0):
    """Class 0 on one side of x0 = 0, the others on the other side, five
    samples of each kind on the line."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2))
    y = rng.integers(0, 3, n_samples)
    X[:, 0] = np.where(y == 0, -1, 1) * np.abs(X[:, 0])
    X[:10, 0] = 0.0
    return X, y


def test_separation_is_warned_about():
    X, y = _quasi_separated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = SoftmaxRegression(C=np.inf, max_iter=50).fit(X, y)
    with pytest.warns(SeparationWarning, match="meaningless"):
        result = softmax_inference(clf, X, y)
    # The samples on the line x0 = 0 have no positive margin.
    assert result.separation == "separated"
    X_iris, y_iris = load_iris(return_X_y=True)
    clf = SoftmaxRegression().fit(X_iris, y_iris)
    with pytest.warns(SeparationWarning, match="rest on the penalty"):
        result = softmax_inference(clf, X_iris, y_iris)
    # Setosa is separated from the others, which overlap.
    assert result.separation == "separated"
    assert "Separation: separated\n" in result.summary()


def test_complete_separation_is_reported():
    # Without an intercept, the sign of x0 is the class of every sample.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 50)
    X = (np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 2.0, y.size))[:, np.newaxis]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = SoftmaxRegression(C=np.inf, fit_intercept=False, max_iter=50)
        clf.fit(X, y)
    with pytest.warns(SeparationWarning, match="completely separated.* 100 of"):
        result = softmax_inference(clf, X, y)
    assert result.separation == "completely separated"


def test_no_warning_without_separation(anes96):
    X, y = anes96
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = softmax_inference(clf, X, y)
    assert result.separation == "not separated"
    assert "Separation: not separated\n" in result.summary()


@pytest.mark.parametrize("C", [np.inf, 1.0], ids=["no-penalty", "l2"])
def test_failed_linear_program_is_reported_inconclusive(monkeypatch, C):
    X, y = _quasi_separated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = SoftmaxRegression(C=C, max_iter=50).fit(X, y)
    programs = []
    real_linprog = _separation.linprog

    def one_iteration(*args, **kwargs):
        # HiGHS itself, stopped by its iteration limit before the optimum.
        program = real_linprog(
            *args, **kwargs, options={"maxiter": 1, "presolve": False}
        )
        programs.append(program)
        return program

    monkeypatch.setattr(_separation, "linprog", one_iteration)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = softmax_inference(clf, X, y)
    # One program, which failed; its status and message are in the one
    # warning.
    [program] = programs
    assert program.status == 1
    [warning] = caught
    assert warning.category is SeparationWarning
    message = str(warning.message)
    assert message.startswith("The separation check was inconclusive")
    assert f"(status 1: {program.message})" in message
    assert result.separation == "inconclusive"
    assert "Separation: inconclusive\n" in result.summary()
    # The covariance is still computed, as under separation.
    assert np.all(np.isfinite(result.bse))


@pytest.mark.parametrize("rows_per_round", [2000, 7])
def test_linear_program_finds_quasi_separation(monkeypatch, rows_per_round):
    # With 7 rows a round, the constraints are generated over many rounds.
    monkeypatch.setattr(_separation, "_ROWS_PER_ROUND", rows_per_round)
    X, y = _quasi_separated()
    check = _separation.separated_samples(X, y, 3, True, np.ones(len(y)))
    assert check.separated and check.failure is None
    # Along x0, the samples of class 0 off the line x0 = 0 score above the
    # other classes; those of classes 1 and 2 off it score above class 0
    # but not above each other.
    off_the_line = X[:, 0] != 0
    assert_array_equal(check.predicted, np.flatnonzero((y == 0) & off_the_line))
    assert_array_equal(check.ruled_out, np.flatnonzero(off_the_line))
    weights = np.ones(len(y))
    weights[np.flatnonzero(y == 0)] = 0.0
    # Without class 0, x0 no longer separates the others, but class 0 is
    # absent: lowering its intercept separates it from every sample.
    check = _separation.separated_samples(X, y, 3, True, weights)
    assert check.separated and check.failure is None
    assert check.predicted.size == 0


@pytest.mark.parametrize("rows_per_round", [2000, 7])
def test_linear_program_finds_complete_separation(monkeypatch, rows_per_round):
    """Labels that the scores of a linear model decide: a direction predicts
    every sample perfectly. The largest sum of margins is a vertex where
    some margins are zero (7 of 200 samples here, and two of six on a
    line), so complete separation was reported as separation; the largest
    least margin, a second program, finds it."""
    monkeypatch.setattr(_separation, "_ROWS_PER_ROUND", rows_per_round)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X @ rng.normal(size=(3, 3))).argmax(axis=1)
    check = _separation.separated_samples(X, y, 3, True, np.ones(len(y)))
    assert check.separated and check.failure is None
    assert_array_equal(check.predicted, np.arange(200))
    assert_array_equal(check.ruled_out, np.arange(200))
    line = np.array([[-2.0], [-1.5], [-1.0], [1.0], [1.5], [2.0]])
    labels = np.repeat([0, 1], 3)
    check = _separation.separated_samples(line, labels, 2, True, np.ones(6))
    assert_array_equal(check.predicted, np.arange(6))
    # Two samples at the threshold: quasi-complete, the others predicted.
    line[2:4] = 0.0
    check = _separation.separated_samples(line, labels, 2, True, np.ones(6))
    assert check.separated
    assert_array_equal(check.predicted, [0, 1, 4, 5])


@pytest.mark.parametrize("rows_per_round", [2000, 7])
def test_linear_program_finds_no_separation_in_overlapping_classes(
    monkeypatch, rows_per_round
):
    monkeypatch.setattr(_separation, "_ROWS_PER_ROUND", rows_per_round)
    X, y = _unseparable(n_samples=300)
    check = _separation.separated_samples(X, y, 4, True, np.ones(len(y)))
    assert check.separated is False and check.failure is None
    assert check.ruled_out.size == check.predicted.size == 0


def test_moments_balance_proves_overlap_only():
    for (X, y), expected in [(_unseparable(), True), (_quasi_separated(), False)]:
        n_classes = np.unique(y).size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = SoftmaxRegression(C=np.inf, max_iter=200).fit(X, y)
        P = clf.predict_proba(X)
        weights = np.ones(len(y))
        information = observed_information(X, P, weights, True)
        Y = np.eye(n_classes)[y]
        moments = design_products(X, Y - P, True)
        balanced = _separation.moments_balance(
            X,
            Y,
            P,
            weights,
            True,
            moments,
            information,
            shifted_eigh(information, n_classes),
        )
        assert balanced is expected


def test_collinear_features_are_refused():
    X, y = _unseparable()
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    with pytest.raises(ValueError, match=r"singular.*collinear"):
        softmax_inference(clf, X, y)
    # A penalty makes the information invertible.
    clf = SoftmaxRegression(C=1.0, **TIGHT).fit(X, y)
    assert np.all(np.isfinite(softmax_inference(clf, X, y).bse))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_features_far_from_unit_scale_keep_their_standard_errors(anes96, cov_type):
    """A feature in other units scales its parameters and their standard
    errors by the inverse factor, and leaves the rest as they were. The
    information's eigenvalues move with the squares of the units (1e10 for
    income in units 1e5 times smaller), which the decomposition must not
    see: before each feature was scaled to a unit diagonal, the standard
    errors there lost 1e-4 relative and the information was called
    singular."""
    X, y = anes96
    X = X.to_numpy()
    factors = np.ones(X.shape[1])
    factors[FEATURES.index("income")] = 1e5
    factors[FEATURES.index("age")] = 1e-3
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    expected = softmax_inference(clf, X, y, reference_class=0, cov_type=cov_type)
    # The same model on the scaled features, to the last bit but for the
    # rounding of the division.
    clf.coef_ = clf.coef_ / factors
    scaled = softmax_inference(
        clf, X * factors, y, reference_class=0, cov_type=cov_type
    )
    row_factors = np.r_[1.0, factors][:, np.newaxis]
    # The decomposition's relative error is about the scaled information's
    # condition number (below 1e4 here) times eps.
    assert_allclose(scaled.bse * row_factors, expected.bse, rtol=1e-10)
    assert_allclose(scaled.zvalues, expected.zvalues, rtol=1e-10)
    assert scaled.separation == expected.separation == "not separated"


def test_size_is_refused_above_max_bytes():
    X, y = _unseparable()
    clf = SoftmaxRegression(**TIGHT).fit(X, y)
    # 4 rows x 4 classes: 16 x 16 matrices of 2 kiB, five of them.
    with pytest.raises(ValueError, match=r"16 x 16 .* 0\.0 MiB .* 5 matrices"):
        softmax_inference(clf, X, y, max_bytes=5 * 8 * 16**2 - 1)
    softmax_inference(clf, X, y, max_bytes=5 * 8 * 16**2)
    with pytest.raises(TypeError, match="max_bytes must be a number of bytes"):
        softmax_inference(clf, X, y, max_bytes="1")


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [5, 7, 20])
def test_in_place_symmetric_matrices_equal_their_formulas(n, order):
    """Mirrored from the upper triangle, and averaged with the transpose, a
    block of rows at a time (blocks of 7 rows, one of them partial, and the
    diagonal blocks), to the last bit of the whole-matrix formulas."""
    A = np.asarray(np.random.default_rng(n).standard_normal((n, n)), order=order)
    mirrored = _symmetric_from_upper(A.copy(order=order), block_rows=7)
    assert_array_equal(mirrored, np.triu(A) + np.triu(A, 1).T)
    averaged = A.copy(order=order)
    _symmetrise(averaged, block_rows=7)
    assert_array_equal(averaged, 0.5 * (A + A.T))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "cluster"])
@pytest.mark.parametrize("C", [1.0, np.inf])
def test_memory_is_what_max_bytes_counts(cov_type, C):
    """The covariance holds at most MATRICES_HELD matrices of p x p at once,
    beside blocks of rows within scikit-learn's working memory and a few
    n x K arrays: the eigendecompositions overwrite their scaled copies,
    and the sandwich is made symmetric in place."""
    rng = np.random.default_rng(0)
    n_samples, n_features, n_classes = 2000, 100, 10
    X = rng.standard_normal((n_samples, n_features))
    W = 0.05 * rng.standard_normal((n_features, n_classes))
    y = np.argmax(X @ W + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    groups = rng.integers(40, size=n_samples) if cov_type == "cluster" else None
    clf = SoftmaxRegression(C=C, **TIGHT).fit(X, y)
    n_parameters = (n_features + 1) * n_classes
    matrix = 8 * n_parameters**2
    with sklearn.config_context(working_memory=1):
        tracemalloc.start()
        try:
            result = softmax_inference(
                clf, X, y, cov_type=cov_type, groups=groups, max_bytes=5 * matrix
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.separation == "not separated"
    slack = 2**20 + 16 * n_samples * n_classes * 8
    assert slack < matrix / 2
    assert peak <= MATRICES_HELD * matrix + slack, peak / matrix


def test_c_of_any_real_type_gives_the_standard_errors_of_its_float():
    # The fit holds C as a Python float; the bread's penalty did not, and
    # moved the standard errors of a float32 C by 1e-8.
    X, y = _unseparable()
    C = np.float32(0.1)
    results = [
        softmax_inference(SoftmaxRegression(C=value, **TIGHT).fit(X, y), X, y)
        for value in (C, float(C))
    ]
    assert_array_equal(results[0].bse, results[1].bse)


def test_not_at_the_optimum_is_warned_about():
    X, y = _unseparable()
    clf = SoftmaxRegression(**TIGHT).fit(X, y)
    with pytest.warns(UserWarning, match="not at the optimum"):
        softmax_inference(clf, X[::-1], y)
    # On its own data too, where the fit stopped short of its tol.
    with pytest.warns(ConvergenceWarning):
        stopped = SoftmaxRegression(max_iter=1).fit(X, y)
    with pytest.warns(UserWarning, match="not at the optimum"):
        softmax_inference(stopped, X, y)


@pytest.mark.parametrize(
    ("params", "kwargs", "error", "match"),
    [
        ({"l1_ratio": 1.0}, {}, ValueError, "an L2 penalty or none"),
        ({"label_smoothing": 0.1}, {}, ValueError, "label_smoothing=0"),
        ({"class_weight": "balanced"}, {}, ValueError, "cov_type='HC0'"),
        ({}, {"cov_type": "HC3"}, ValueError, "cov_type must be one of"),
        ({}, {"reference_class": 7}, ValueError, "reference_class=7 is not"),
    ],
)
def test_unsupported_settings_are_refused(params, kwargs, error, match):
    X, y = _unseparable()
    clf = SoftmaxRegression(**params).fit(X, y)
    with pytest.raises(error, match=match):
        softmax_inference(clf, X, y, **kwargs)


def test_bad_input_is_refused():
    X, y = _unseparable()
    clf = SoftmaxRegression().fit(X, y)
    with pytest.raises(TypeError, match="fitted SoftmaxRegression"):
        softmax_inference(LogisticRegression().fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        softmax_inference(SoftmaxRegression(), X, y)
    with pytest.raises(ValueError, match="not classes of the estimator: \\[9\\]"):
        softmax_inference(clf, X, np.where(y == 0, 9, y))
    mixed = y.astype(object)
    mixed[0] = "a"
    with pytest.raises(ValueError, match="cannot be compared"):
        softmax_inference(clf, X, mixed)
    with pytest.raises(ValueError, match=r"has 2 features, but .* expecting 3"):
        softmax_inference(clf, X[:, :2], y)
    with pytest.raises(ValueError, match="sample_weight contains NaN or infinity"):
        softmax_inference(clf, X, y, sample_weight=np.nan)
    with pytest.raises(TypeError, match="by name: cov_type='HC0'"):
        softmax_inference(clf, X, y, "HC0")
    # The objective's parameters are those of the fit; others (tol) may change.
    for change, message in (
        ({"fit_intercept": False}, "fit_intercept from True to False"),
        ({"C": clf.C * 2}, f"C from {clf.C!r} to {clf.C * 2!r}"),
        ({"class_weight": {0: 2.0}}, "class_weight from None to {0: 2.0}"),
    ):
        changed = clone(clf).fit(X, y).set_params(**change)
        with pytest.raises(ValueError, match=re.escape(message)):
            softmax_inference(changed, X, y)
    softmax_inference(clone(clf).fit(X, y).set_params(tol=1e-3), X, y)
    # So for a search: the model it holds minimises the objective of the
    # parameters the search was fitted with.
    search = SoftmaxRegressionCV(Cs=2, cv=3, label_smoothing=0.2).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("label_smoothing from 0.2 to 0")):
        softmax_inference(search.set_params(label_smoothing=0), X, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        softmax_inference(clf, X_nan, y)
    with pytest.raises(ValueError, match="Negative values"):
        softmax_inference(clf, X, y, -np.ones(len(y)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        softmax_inference(clf, X, y[:-1])
    result = softmax_inference(clf, X, y)
    with pytest.raises(ValueError, match="alpha"):
        result.conf_int(alpha=1.5)
    # Not a number: named, where a comparison failed inside.
    for alpha in ("0.05", None, np.array([0.05, 0.1]), True):
        with pytest.raises(TypeError, match="alpha must be a real number"):
            result.conf_int(alpha=alpha)


def test_dask_input_is_refused():
    import dask.array as da

    X, y = _unseparable()
    clf = SoftmaxRegression().fit(X, y)
    with pytest.raises(TypeError, match="in memory"):
        softmax_inference(clf, da.from_array(X, chunks=100), y)


def test_pipeline_passes_x_through_its_earlier_steps():
    """A fitted Pipeline ending in SoftmaxRegression gives the result of its
    last step on the transformed data, with the features named by
    get_feature_names_out, and new rows go through the same steps."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X[["alcohol", "flavanoids", "color_intensity"]]
    pipeline = make_pipeline(
        StandardScaler(), SoftmaxRegression(C=np.inf, tol=1e-10)
    ).fit(X, y)
    result = softmax_inference(pipeline, X, y)
    direct = softmax_inference(pipeline[-1], pipeline[0].transform(X), y)
    assert_array_equal(result.params, direct.params)
    assert_array_equal(result.bse, direct.bse)
    assert result.row_names == ["intercept", "alcohol", "flavanoids", "color_intensity"]
    intervals = result.predict_proba_interval(X.iloc[:5])
    assert_allclose(intervals.proba, pipeline.predict_proba(X.iloc[:5]), rtol=1e-12)


def test_a_pipeline_of_one_step_is_its_model():
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X[["alcohol", "flavanoids", "color_intensity"]]
    pipeline = make_pipeline(SoftmaxRegression(C=np.inf, tol=1e-10)).fit(X, y)
    result = softmax_inference(pipeline, X, y)
    direct = softmax_inference(pipeline[-1], X, y)
    assert_array_equal(result.bse, direct.bse)
    assert result.row_names == direct.row_names


@pytest.mark.filterwarnings("ignore:penalty='l2' is deprecated:FutureWarning")
def test_cv_estimator_with_the_deprecated_penalty_stands_for_its_model():
    """The penalty the search chose is C_ and l1_ratio_, however its grid
    was spelled."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X[["alcohol", "flavanoids", "color_intensity"]]
    params = {"Cs": [0.1, 1.0], "tol": 1e-10}
    spelled = SoftmaxRegressionCV(penalty="l2", **params).fit(X, y)
    plain = SoftmaxRegressionCV(**params).fit(X, y)
    assert_array_equal(
        softmax_inference(spelled, X, y).bse, softmax_inference(plain, X, y).bse
    )


def test_cv_estimator_stands_for_its_refitted_model():
    """SoftmaxRegressionCV gives the result of SoftmaxRegression refitted
    with the chosen C: both fits are within tol=1e-10 of one optimum."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X[["alcohol", "flavanoids", "color_intensity"]]
    search = SoftmaxRegressionCV(Cs=[0.1, 1.0, 10.0], tol=1e-10).fit(X, y)
    result = softmax_inference(search, X, y)
    refit = SoftmaxRegression(C=search.C_, tol=1e-10).fit(X, y)
    expected = softmax_inference(refit, X, y)
    assert result.row_names == expected.row_names
    assert_allclose(result.params, expected.params, rtol=0, atol=1e-8)
    assert_allclose(result.bse, expected.bse, rtol=1e-6)


def _proof_at_fitted_point(clf, X, y):
    """Whether the one-step proof of overlap succeeds from the estimator's
    own parameters."""
    n_classes = clf.classes_.size
    P = clf.predict_proba(X)
    weights = np.ones(len(y))
    information = observed_information(X, P, weights, True)
    Y = np.eye(n_classes)[y]
    return _separation.moments_balance(
        X,
        Y,
        P,
        weights,
        True,
        design_products(X, Y - P, True),
        information,
        shifted_eigh(information, n_classes),
    )


def test_newton_steps_prove_overlap_under_a_strong_penalty(monkeypatch):
    """Under a strong penalty the one step from the estimate fails the
    proof, although the classes overlap (the linear program finds no
    separating direction); a few Newton steps towards the unpenalised
    optimum prove it, and the program is not solved."""
    X, y = _unseparable(n_samples=400)
    check = _separation.separated_samples(X, y, 4, True, np.ones(len(y)))
    assert check.separated is False and check.failure is None
    clf = SoftmaxRegression(C=0.01, **TIGHT).fit(X, y)
    assert not _proof_at_fitted_point(clf, X, y)

    def no_program(*args, **kwargs):
        raise AssertionError("the linear program was solved")

    monkeypatch.setattr(inference_module, "separated_samples", no_program)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = softmax_inference(clf, X, y)
    assert result.separation == "not separated"


def test_newton_steps_approach_the_unpenalised_optimum():
    """Newton steps from a strongly penalised estimate go to the unpenalised
    maximum-likelihood fit, statsmodels' MNLogit's: a few shrink the
    gradient by orders of magnitude, and given enough they stop at a
    gradient of 1e-10, within about 1e-8 of the optimum's probabilities
    (the mean Hessian's smallest eigenvalue here is near 0.05)."""
    X, y = _unseparable(n_samples=400)
    weights = np.ones(len(y))
    clf = SoftmaxRegression(C=0.01, **TIGHT).fit(X, y)
    start = np.vstack([clf.intercept_, clf.coef_.T])
    design = np.hstack([np.ones((len(y), 1)), X])
    reference = _mnlogit(X, y).predict(design)

    def probabilities(theta):
        Z = design @ theta
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        return P / P.sum(axis=1, keepdims=True)

    def gradient(theta):
        return np.abs(design.T @ (np.eye(4)[y] - probabilities(theta))).max() / len(y)

    few = _separation.towards_unpenalised_optimum(X, y, weights, start)
    assert gradient(few) < 1e-4 * gradient(start)
    many = _separation.towards_unpenalised_optimum(X, y, weights, start, n_steps=50)
    assert gradient(many) <= 1e-10
    assert_allclose(probabilities(many), reference, rtol=0, atol=1e-8)


def test_moments_balance_ignores_class_constant_rounding():
    """The moments sum to zero over the classes, but for rounding, which
    near the optimum can exceed the test of the step's residual; a
    class-constant part, along which the proof has no component, does not
    fail it."""
    X, y = _unseparable()
    clf = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    P = clf.predict_proba(X)
    weights = np.ones(len(y))
    information = observed_information(X, P, weights, True)
    Y = np.eye(4)[y]
    moments = design_products(X, Y - P, True)
    # A class-constant part far above the residual test's 1e-8.
    shifted = moments + 1e-3 * np.abs(moments).max() * np.arange(1.0, 5.0)[:, None]
    assert _separation.moments_balance(
        X, Y, P, weights, True, shifted, information, shifted_eigh(information, 4)
    )


@pytest.mark.parametrize("reference_class", [None, 0])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_a_constant_column_under_a_penalty_has_zero_standard_errors(
    reference_class, cov_type
):
    """Beside the intercept, a constant column's weights are zero at the
    optimum of any L2-penalised fit (moving them to the intercepts keeps the
    likelihood and lowers the penalty), so their variance is zero, and the
    other parameters and their covariance are those of the fit without the
    column. Rounding takes some of those variances slightly below zero; the
    standard errors are then 0, not NaN, within the rounding bound, and the
    others equal those without the column to well within the ``p eps
    kappa`` (about 1e-11 here) that the covariance is computed to."""
    data = sm.datasets.anes96.load_pandas().data
    features = ["logpopul", "selfLR", "age", "educ"]
    y = np.minimum(data["PID"].astype(int), 2)
    X = data[features].assign(one=1.0)
    clf = SoftmaxRegression(C=1.0, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = softmax_inference(
            clf, X, y, reference_class=reference_class, cov_type=cov_type
        )
    without = softmax_inference(
        SoftmaxRegression(C=1.0, tol=1e-12).fit(X[features], y),
        X[features],
        y,
        reference_class=reference_class,
        cov_type=cov_type,
    )
    variances = np.diag(result.cov_params()).reshape(result.params.shape, order="F")
    rounding = result.variance_rounding.reshape(result.params.shape, order="F")
    assert np.all(np.abs(variances[-1]) <= rounding[-1])
    assert np.all(result.bse[-1] <= np.sqrt(rounding[-1]))
    # A zero estimate of zero error has no z-test (0 / 0), but an interval.
    assert np.all(np.isfinite(result.conf_int()))
    assert_allclose(result.bse[:-1], without.bse, rtol=1e-9)
    assert_allclose(result.params[:-1], without.params, rtol=1e-9, atol=1e-12)


def test_a_variance_below_its_rounding_is_not_hidden():
    """A covariance that is positive semi-definite has no negative variance
    beyond its rounding: one is reported as NaN, with a warning, not clipped
    to zero."""
    covariance = np.diag([1.0, -1e-18, -1e-3])

    def result(**rounding):
        return SoftmaxInferenceResult(
            np.ones((3, 1)),
            covariance,
            ["intercept", "a", "b"],
            [0],
            reference_class=None,
            cov_type="nonrobust",
            penalized=True,
            nobs=10.0,
            llf=-1.0,
            separation="not separated",
            **rounding,
        )

    with pytest.warns(RuntimeWarning, match="1 variances .* negative beyond"):
        default = result()
    # Without a bound given, rounding is n eps times the largest variance.
    assert_array_equal(default.bse.ravel(), [1.0, 0.0, np.nan])
    with pytest.warns(RuntimeWarning, match="2 variances"):
        result(variance_rounding=np.zeros(3))

"""Columns far from zero beside their spread are centred before a fit.

With an intercept, shifting a column changes no model, only the intercepts
that go with it; a column whose mean is far above its spread leaves the
solvers a direction flat to float64's precision, and the fit on the
shifted data ended with that column unfitted, without a warning. Each fit
below is compared with the fit of the same problem on the column as drawn,
its shift taken back by hand.
"""

import warnings

import numpy as np
import pytest
from _problems import central_difference
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning

from sklearn_softmax import SoftmaxRegression, _offsets, softmax_inference
from sklearn_softmax._offsets import MIN_OFFSET, offsets_to_remove


@pytest.fixture(scope="module")
def drawn():
    """Three classes on two standard normal features, 400 samples."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 2))
    scores = x @ np.array([[2.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    y = (scores + 1.5 * rng.gumbel(size=(400, 3))).argmax(axis=1)
    return x, y


@pytest.mark.parametrize("offset", [1e3, 1e6, 1e8])
@pytest.mark.parametrize(
    "solver", ["auto", "newton-cholesky", "newton-cg", "lbfgs", "gd"]
)
def test_a_column_far_from_zero_is_fitted(drawn, solver, offset):
    """The probabilities of the fit on the shifted column are those of the
    fit on the column as drawn, both to a gradient of 1e-8 (their
    curvature is above 1e-2 here, so the models agree to about 1e-6, and
    float64 holds the shifted column to 1.5e-8 at 1e8); the shifted data
    ended at a log-loss of 0.99 against 0.82 at 1e8."""
    x, y = drawn
    X = x.copy()
    X[:, 0] += offset
    X_before = X.copy()
    params = dict(solver=solver, tol=1e-8, max_iter=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(**params).fit(X, y)
    reference = SoftmaxRegression(**params).fit(x, y)
    assert model.converged_
    assert_array_equal(X, X_before)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-5)
    assert_allclose(model.predict_proba(X), reference.predict_proba(x), atol=1e-5)


@pytest.mark.parametrize("offset", [100.0, 1e3])
def test_a_group_penalty_beside_a_column_far_from_zero(drawn, offset):
    """A group penalty: the gradient mapping's steps shrink with the mean's
    square, and the fit on a column shifted by 1e3 dropped it (a weight of
    0.016 against 0.41) and said it had converged. The objective is the
    unshifted fit's to its rounding."""
    x, y = drawn
    X = x.copy()
    X[:, 0] += offset
    params = dict(solver="newton-cg", l1_ratio=1.0, l1_groups="features", tol=1e-8)

    def objective(model, data):
        logp = log_softmax(data @ model.coef_.T + model.intercept_, axis=1)
        penalty = np.linalg.norm(model.coef_, axis=0).sum() / len(y)
        return -logp[np.arange(len(y)), y].mean() + penalty

    model = SoftmaxRegression(**params).fit(X, y)
    reference = SoftmaxRegression(**params).fit(x, y)
    assert model.converged_
    assert objective(model, X) == pytest.approx(objective(reference, x), rel=1e-9)


def test_a_warm_start_moves_with_the_shift(drawn):
    """The intercepts of a model of the shifted data are moved to the
    centred data and back: a warm start from the solution takes no step."""
    x, y = drawn
    X = x.copy()
    X[:, 0] += 1e6
    model = SoftmaxRegression(warm_start=True, tol=1e-8).fit(X, y)
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    model.fit(X, y)
    assert model.n_iter_[0] == 0
    assert_allclose(model.coef_, coef, rtol=1e-12)
    assert_allclose(model.intercept_, intercept, rtol=1e-12)


@pytest.mark.parametrize("solver", ["auto", "newton-cholesky", "gd"])
def test_max_iter_zero_returns_the_start(drawn, solver):
    """With max_iter=0 the model is the starting point: the data is not
    centred. The intercepts, about 5e7 here (``W^T mu``), and the weights
    are centred again when stored, which rounds them within a few units of
    their last place (moved to centred data and back, the intercepts would
    lose as many of ``W^T mu``'s)."""
    x, y = drawn
    X = x.copy()
    X[:, 0] += 1e8
    model = SoftmaxRegression(solver=solver, warm_start=True).fit(X, y)
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    with pytest.warns(ConvergenceWarning):
        model.set_params(max_iter=0).fit(X, y)
    for fitted, start in ((model.coef_, coef), (model.intercept_, intercept)):
        ulp = np.spacing(np.abs(start).max())
        assert_allclose(fitted, start, rtol=0, atol=4 * ulp)


def test_wide_data_stays_in_its_row_space(drawn, monkeypatch):
    """Wide data is solved in the row space of X, whose rows, all centred,
    would no longer be independent: it is not centred (centring it made
    'newton-cholesky' form the whole Hessian, 50 times slower)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 300)) + 1e4
    y = rng.integers(0, 3, 60)

    def no_copy(*args, **kwargs):
        raise AssertionError("wide data was centred")

    monkeypatch.setattr(_offsets, "centred", no_copy)
    model = SoftmaxRegression(solver="newton-cholesky").fit(X, y)
    assert model.converged_


def test_centred_weights_gradient_is_the_centred_problems(drawn):
    """The gradient in the weights of the loss on the centred columns, at
    the model moved to them (b_c = b + W^T mu), by central differences,
    against centred_weights_gradient of the gradient on X (analytic: the
    mean log-loss's is [X, 1]^T (P - Y) / n)."""
    x, y = drawn
    means = np.array([1e3, -20.0])
    X = x + means
    rng = np.random.default_rng(0)
    # Scores of order one on the centred columns: b = b_c - W^T mu.
    W, b_c = rng.standard_normal((2, 3)), rng.standard_normal(3)
    b = b_c - means @ W
    Y = np.eye(3)[y]

    def loss(X, W, b):
        return -np.mean(log_softmax(X @ W + b, axis=1)[np.arange(len(y)), y])

    residual = (np.exp(log_softmax(X @ W + b, axis=1)) - Y) / len(y)
    expected = _offsets.centred_weights_gradient(
        X.T @ residual, residual.sum(axis=0), means
    )
    h = 1e-6
    numeric = central_difference(lambda W: loss(x, W, b_c), W, h).reshape(W.shape)
    # The loss and its third derivatives are of order one on these
    # standard normal columns: the difference's error is about h^2 plus
    # its rounding, 1e-16 / h; the scores on X round to 1e3 * 1e-16.
    assert_allclose(numeric, expected, rtol=0, atol=1e-8)


def test_the_inference_checks_the_gradient_the_fit_stopped_on(drawn):
    """The fit on a column far from zero stops on the centred problem's
    gradient; the inference's check of the optimum takes the same one, and
    does not warn on the training data (the raw gradient is up to the
    offset times tol)."""
    x, y = drawn
    X = x.copy()
    X[:, 0] += 1e3
    model = SoftmaxRegression(C=np.inf, tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = softmax_inference(model, X, y)
    reference = softmax_inference(SoftmaxRegression(C=np.inf, tol=1e-8).fit(x, y), x, y)
    assert_allclose(result.bse[1:], reference.bse[1:], rtol=1e-5)


def test_only_columns_far_from_zero_are_centred(drawn):
    """A column is centred where its mean exceeds MIN_OFFSET times its
    standard deviation, and only with an intercept; the other columns, and
    standardised data, are left as they are. One outlier, which a range
    would count, does not hide a column far from zero."""
    x, _ = drawn
    assert offsets_to_remove(x, True) is None
    spread = x[:, 0].std()
    below, above = x.copy(), x.copy()
    below[:, 0] += 0.9 * MIN_OFFSET * spread
    above[:, 0] += 1.1 * MIN_OFFSET * spread
    assert offsets_to_remove(below, True) is None
    offsets = offsets_to_remove(above, True)
    assert_allclose(offsets, [above[:, 0].mean(), 0.0], rtol=1e-15)
    assert offsets_to_remove(above, False) is None
    # A constant column is left to the intercepts.
    constant = np.column_stack([x, np.full(len(x), 5.0)])
    assert offsets_to_remove(constant, True) is None
    assert offsets_to_remove(above.astype(np.float32), True) is not None
    outlier = x.copy()
    outlier[:, 0] += 1e8
    outlier[0, 0] += 2e7
    assert offsets_to_remove(outlier, True) is not None

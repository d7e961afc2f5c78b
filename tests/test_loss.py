"""The multinomial objective, its gradient and Hessian-vector product."""

import copy
import itertools
import pickle
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import (
    central_difference,
    gradient_hessian_product,
    loss_gradient,
    loss_value,
    make_problem,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.metrics import log_loss

from sklearn_softmax import _blocks, _passes
from sklearn_softmax._loss import MultinomialLoss, rounding_of

N_CLASSES = 4
L2 = 0.3


def random_coef(loss, n_features, rng, scale=0.5):
    return scale * rng.standard_normal((loss.n_coef_rows(n_features), N_CLASSES))


def scores(coef, X):
    """``X W + b`` for ``coef`` with an intercept row."""
    return X @ coef[:-1] + coef[-1]


def as_float64(X):
    return X.astype(np.float64)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_objective_is_log_loss_plus_penalty(fit_intercept, sparse, weighted, rng):
    X, y, sw = make_problem(sparse=sparse)
    sw = sw if weighted else None
    loss = MultinomialLoss(N_CLASSES, fit_intercept)
    coef = random_coef(loss, X.shape[1], rng)
    W = coef[: X.shape[1]]
    Z = X @ W + (coef[-1] if fit_intercept else 0.0)
    expected = log_loss(y, softmax(Z, axis=1), sample_weight=sw) + 0.5 * L2 * np.sum(
        W**2
    )
    assert_allclose(loss_value(loss, coef, X, y, sw, L2), expected, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("eps", [0.1, 0.6])
def test_label_smoothing_objective_is_cross_entropy_of_smoothed_targets(
    sparse, eps, rng
):
    """``-sum_k T_ik log P_ik`` with ``T = (1 - eps) Y + eps / K``, as
    PyTorch's ``cross_entropy(label_smoothing=eps)`` defines it."""
    X, y, sw = make_problem(sparse=sparse)
    loss = MultinomialLoss(N_CLASSES, True, label_smoothing=eps)
    coef = random_coef(loss, X.shape[1], rng, scale=3.0)
    W = coef[: X.shape[1]]
    T = (1 - eps) * np.eye(N_CLASSES)[y] + eps / N_CLASSES
    per_sample = -np.sum(T * log_softmax(X @ W + coef[-1], axis=1), axis=1)
    expected = np.average(per_sample, weights=sw) + 0.5 * L2 * np.sum(W**2)
    assert_allclose(loss_value(loss, coef, X, y, sw, L2), expected, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_gradient_matches_finite_differences(fit_intercept, sparse, dtype, eps, rng):
    X, y, sw = make_problem(sparse=sparse, dtype=dtype)
    loss = MultinomialLoss(N_CLASSES, fit_intercept, label_smoothing=eps)
    coef = random_coef(loss, X.shape[1], rng)

    value, gradient = loss_gradient(loss, coef, X, y, sw, L2)
    assert gradient.dtype == dtype

    # The reference differentiates the float64 objective on the same numbers.
    X64, sw64 = as_float64(X), sw.astype(np.float64)
    numeric = central_difference(
        lambda c: loss_value(loss, c.reshape(coef.shape), X64, y, sw64, L2),
        coef.ravel(),
        eps=1e-6,
    ).reshape(coef.shape)
    rtol, atol = (1e-7, 1e-9) if dtype == np.float64 else (1e-5, 1e-6)
    assert_allclose(gradient, numeric, rtol=rtol, atol=atol)
    assert_allclose(value, loss_value(loss, coef, X64, y, sw64, L2), rtol=10 * rtol)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_hessp_matches_finite_differences(fit_intercept, sparse, dtype, eps, rng):
    X, y, sw = make_problem(sparse=sparse, dtype=dtype)
    loss = MultinomialLoss(N_CLASSES, fit_intercept, label_smoothing=eps)
    coef = random_coef(loss, X.shape[1], rng)
    direction = rng.standard_normal(coef.shape)

    gradient, hessp = gradient_hessian_product(loss, coef, X, y, sw, L2)
    product = hessp(direction)
    assert product.dtype == dtype
    assert_allclose(gradient, loss_gradient(loss, coef, X, y, sw, L2)[1], rtol=1e-6)

    # d/dt gradient(coef + t * direction) at t = 0, in float64.
    X64, sw64 = as_float64(X), sw.astype(np.float64)
    numeric = central_difference(
        lambda t: loss_gradient(loss, coef + t[0] * direction, X64, y, sw64, L2)[1],
        np.zeros(1),
        eps=1e-5,
    )[..., 0]
    rtol, atol = (1e-7, 1e-9) if dtype == np.float64 else (1e-5, 1e-6)
    assert_allclose(product, numeric, rtol=rtol, atol=atol)


def test_hessian_is_symmetric_positive_definite(rng):
    X, y, sw = make_problem()
    loss = MultinomialLoss(N_CLASSES, fit_intercept=False)
    coef = random_coef(loss, X.shape[1], rng)
    _, hessp = gradient_hessian_product(loss, coef, X, y, sw, L2)
    basis = np.eye(coef.size).reshape(-1, *coef.shape)
    H = np.stack([hessp(e).ravel() for e in basis])
    assert_allclose(H, H.T, atol=1e-14)
    # The penalty bounds every eigenvalue below by l2_reg_strength.
    assert np.linalg.eigvalsh(H).min() >= L2 * (1 - 1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l2_reg_strength", [L2, 0.0])
@pytest.mark.parametrize("block_rows", [None, 7])
def test_dense_hessian_matches_finite_differences_off_the_null_directions(
    fit_intercept, sparse, l2_reg_strength, block_rows, rng, monkeypatch
):
    """The Hessian matrix that exact Newton steps use: the central
    differences of the float64 gradient, summed over several blocks of rows
    as over one; along the directions that change no probability (one
    number added to every class's parameter of an unpenalised row), a
    positive multiple of the identity instead of zero."""
    if block_rows is not None:
        monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", block_rows)
        monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    X, y, sw = make_problem(sparse=sparse)
    loss = MultinomialLoss(N_CLASSES, fit_intercept, label_smoothing=0.2)
    coef = random_coef(loss, X.shape[1], rng)
    objective = loss.bind(X, y, sw, l2_reg_strength)
    value, gradient, hessian = objective.value_gradient_hessian(coef.ravel())
    H = hessian()
    f, g = objective.value_and_gradient(coef.ravel())
    assert value == f
    assert_array_equal(gradient, g)
    numeric = central_difference(
        lambda x: objective.value_and_gradient(x)[1], coef.ravel(), eps=1e-5
    )
    # The null directions: the unpenalised rows' all-ones vectors.
    n_rows, n_classes = coef.shape
    first = X.shape[1] if l2_reg_strength > 0 else 0
    null = np.zeros((n_rows - first, coef.size))
    for i, row in enumerate(range(first, n_rows)):
        null[i, row * n_classes : (row + 1) * n_classes] = 1 / np.sqrt(n_classes)
    assert_allclose(numeric @ null.T, 0, atol=1e-9)
    projector = np.eye(coef.size) - null.T @ null
    assert_allclose(projector @ H @ projector, numeric, rtol=1e-7, atol=1e-9)
    assert_allclose(H, H.T, rtol=0, atol=1e-15)
    along = np.einsum("ij,jk,ik->i", null, H, null)
    assert np.all(along > 0)
    assert_allclose(H @ null.T, null.T * along, atol=1e-12)
    assert np.linalg.eigvalsh(H).min() > 0


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l2_reg_strength", [L2, 0.0])
@pytest.mark.parametrize("block_rows", [None, 7])
def test_two_class_objective_of_the_difference(
    fit_intercept, sparse, l2_reg_strength, block_rows, rng, monkeypatch
):
    """For two classes, the objective of beta = theta_1 - theta_0 is the
    full objective at [-beta / 2, beta / 2]; its gradient and Hessian are
    the central differences of its value and gradient, and J^T H J of the
    full ones, whose own two-class Hessian matches its differences too."""
    if block_rows is not None:
        monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", block_rows)
        monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    X, y, sw = make_problem(n_classes=2, sparse=sparse)
    loss = MultinomialLoss(2, fit_intercept, label_smoothing=0.2)
    full = loss.bind(X, y, sw, l2_reg_strength)
    reduced = loss.bind(X, y, sw, l2_reg_strength, two_classes_as_one=True)
    beta = rng.standard_normal(loss.n_coef_rows(X.shape[1]))
    # J: beta -> coef, flattened feature-major, class-minor.
    J = np.kron(np.eye(beta.size), [[-0.5], [0.5]])
    coef = J @ beta

    value, gradient, hessian = reduced.value_gradient_hessian(beta)
    H = hessian()
    assert value == full.value(coef)
    # The binomial cross-entropy of the difference, written out: the scores
    # -z/2 and z/2, the smoothed targets, and lambda/4 |w|^2 of the
    # penalty. Sums of n terms: within n eps of each other.
    z = np.asarray(X @ beta[: X.shape[1]]).ravel()
    if fit_intercept:
        z = z + beta[-1]
    targets = 0.8 * np.eye(2)[y] + 0.1
    per_sample = np.logaddexp(-z / 2, z / 2) - targets @ np.array([-0.5, 0.5]) * z
    weights = sw / sw.sum()
    penalty = l2_reg_strength / 4 * np.sum(beta[: X.shape[1]] ** 2)
    expected = weights @ per_sample + penalty
    assert_allclose(reduced.value(beta), expected, rtol=len(y) * np.finfo(float).eps)
    f, g = reduced.value_and_gradient(beta)
    assert f == value
    assert_allclose(g, gradient, rtol=1e-14, atol=1e-16)
    assert_allclose(
        gradient,
        central_difference(reduced.value, beta, eps=1e-6),
        rtol=1e-6,
        atol=1e-9,
    )
    numeric = central_difference(
        lambda x: reduced.value_and_gradient(x)[1], beta, eps=1e-5
    )
    assert_allclose(H, numeric, rtol=1e-7, atol=1e-9)
    _, g_full, hessian_full = full.value_gradient_hessian(coef)
    H_full = hessian_full()
    assert_allclose(gradient, J.T @ g_full, rtol=1e-13, atol=1e-16)
    # At a centred point the entries of the two gradients agree up to sign.
    assert_allclose(np.abs(g_full).max(), np.abs(gradient).max(), rtol=1e-13)
    assert_allclose(H, J.T @ H_full @ J, rtol=1e-12, atol=1e-15)
    numeric_full = central_difference(
        lambda x: full.value_and_gradient(x)[1], coef, eps=1e-5
    )
    assert_allclose(J.T @ numeric_full @ J, H, rtol=1e-7, atol=1e-9)
    # The full two-class Hessian, off its null directions (one number added
    # to both classes' parameter of an unpenalised row).
    first = X.shape[1] if l2_reg_strength > 0 else 0
    null = np.kron(np.eye(beta.size), [[0.5**0.5, 0.5**0.5]])[first:]
    projector = np.eye(coef.size) - null.T @ null
    assert_allclose(projector @ H_full @ projector, numeric_full, rtol=1e-7, atol=1e-9)
    _, _, hessp = reduced.value_gradient_hessp(beta)
    v = rng.standard_normal(beta.size)
    assert_allclose(hessp(v), H @ v, rtol=1e-10, atol=1e-13)
    assert_allclose(H, H.T, rtol=0, atol=1e-15)
    if l2_reg_strength > 0:
        assert np.linalg.eigvalsh(H).min() > 0


def test_two_class_hessian_needs_two_classes():
    X, y, sw = make_problem()
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True)
    with pytest.raises(ValueError, match="two classes, not 4"):
        passes.value_gradient_two_class_hessian(np.zeros((X.shape[1] + 1, 4)))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hessian_diagonal_is_the_diagonal_at_the_zero_model(
    fit_intercept, sparse, weighted, dtype, monkeypatch
):
    """The estimate that Newton-CG preconditions with is the Hessian's
    diagonal at zero, read here off Hessian-vector products with the unit
    vectors; runs of a few rows exercise the blockwise sums."""
    monkeypatch.setattr(_passes, "_MOMENT_BYTES", 64)
    X, y, sw = make_problem(n_samples=30, dtype=dtype, sparse=sparse)
    if sparse:
        # A repeated column in a row counts once, as the products count it.
        X = X.tocsr()
        X.sum_duplicates()
    sw = sw if weighted else None
    loss = MultinomialLoss(N_CLASSES, fit_intercept)
    objective = loss.bind(X, y, sw, L2)
    n_params = loss.n_coef_rows(X.shape[1]) * N_CLASSES
    _, _, hessp = objective.value_gradient_hessp(np.zeros(n_params))
    expected = np.array([hessp(e)[i] for i, e in enumerate(np.eye(n_params))])
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert_allclose(objective.hessian_diagonal(), expected, rtol=rtol)
    # Without a penalty no estimate is offered (see the loss's bind).
    assert loss.bind(X, y, sw, 0.0).hessian_diagonal is None


@pytest.mark.parametrize("sparse", [False, True])
def test_column_second_moments_of_float32_data_square_in_float64(sparse, monkeypatch):
    """The squares of float32 entries are formed in float64, where float32
    would round each of them: the moments match float64 arithmetic on the
    same numbers to its own rounding (30 positive terms: a few units of
    1e-15), over several runs of rows."""
    monkeypatch.setattr(_passes, "_MOMENT_BYTES", 64)
    X, y, sw = make_problem(n_samples=30, dtype=np.float32, sparse=sparse)
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True)
    X64 = (X.toarray() if sparse else X).astype(np.float64)
    weights = sw.astype(np.float64)
    expected = (weights / weights.sum()) @ X64**2
    assert_allclose(passes.column_second_moments(), expected, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_scores_stay_finite(dtype, rng):
    X, y, sw = make_problem(dtype=dtype)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng, scale=1.0)
    coef *= 1e4 / np.abs(scores(coef, X)).max()

    value, gradient = loss_gradient(loss, coef, X, y, sw, 0.0)
    _, hessp = gradient_hessian_product(loss, coef, X, y, sw, 0.0)
    assert np.isfinite(value)
    assert np.all(np.isfinite(gradient))
    assert np.all(np.isfinite(hessp(coef)))

    Z = scores(coef.astype(np.float64), as_float64(X))
    per_sample = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    expected = np.average(per_sample, weights=sw.astype(np.float64))
    assert_allclose(value, expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_and_dense_agree(fit_intercept, rng):
    X, y, sw = make_problem(sparse=True)
    loss = MultinomialLoss(N_CLASSES, fit_intercept)
    coef = random_coef(loss, X.shape[1], rng)
    direction = rng.standard_normal(coef.shape)
    for data in (X, sp.csr_array(X)):
        value, gradient = loss_gradient(loss, coef, data, y, sw, L2)
        dense_value, dense_gradient = loss_gradient(loss, coef, X.toarray(), y, sw, L2)
        assert_allclose(value, dense_value, rtol=1e-13)
        assert_allclose(gradient, dense_gradient, rtol=1e-12, atol=1e-15)
        _, hessp = gradient_hessian_product(loss, coef, data, y, sw, L2)
        _, dense_hessp = gradient_hessian_product(loss, coef, X.toarray(), y, sw, L2)
        assert_allclose(
            hessp(direction), dense_hessp(direction), rtol=1e-12, atol=1e-15
        )


def test_unit_weights_equal_no_weights(rng):
    X, y, _ = make_problem()
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng)
    ones = np.full(X.shape[0], 2.5)
    value, gradient = loss_gradient(loss, coef, X, y, None, L2)
    assert_allclose(value, loss_value(loss, coef, X, y, ones, L2), rtol=1e-14)
    assert_allclose(gradient, loss_gradient(loss, coef, X, y, ones, L2)[1], rtol=1e-13)


def test_bound_objective_matches_methods(rng):
    X, y, sw = make_problem()
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng)
    objective = loss.bind(X, y, sw, L2)
    x = coef.ravel()
    value, gradient = objective.value_and_gradient(x)
    assert_allclose(value, loss_value(loss, coef, X, y, sw, L2), rtol=1e-15)
    assert_allclose(objective.value(x), value, rtol=1e-15)
    assert_allclose(gradient, loss_gradient(loss, coef, X, y, sw, L2)[1].ravel())
    flat_value, flat_gradient, flat_hessp = objective.value_gradient_hessp(x)
    _, hessp = gradient_hessian_product(loss, coef, X, y, sw, L2)
    assert_allclose(flat_value, value, rtol=1e-15)
    assert_allclose(flat_gradient, gradient)
    assert_allclose(flat_hessp(x), hessp(coef).ravel())


def test_stale_hessp_refuses(rng):
    X, y, sw = make_problem()
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    objective = loss.bind(X, y, sw, L2)
    x = random_coef(loss, X.shape[1], rng).ravel()
    _, _, hessp = objective.value_gradient_hessp(x)
    objective.value_gradient_hessp(2 * x)
    with pytest.raises(RuntimeError, match="earlier point"):
        hessp(x)


@pytest.fixture(params=["classes_first", "rows_first"])
def scores_layout(request, monkeypatch):
    """Both layouts of the float32 scores' product, whatever kernels this
    machine's BLAS runs (see ``_blocks.scores_rows_first``)."""
    rows_first = request.param == "rows_first"
    architectures = frozenset({"skylakex"} if rows_first else ())
    monkeypatch.setattr(_blocks, "blas_architectures", lambda: architectures)
    monkeypatch.setattr(_blocks, "_ROWS_FIRST_MIN_FEATURES", 1)
    return request.param


def direct_passes(X, y, sample_weight, coef, V, eps=0.0, fit_intercept=True):
    """The reference for the passes: the data term, its gradient and its
    Hessian-vector product along ``V`` at ``coef`` (``K`` columns, with an
    intercept row where ``fit_intercept``), written from the formulas with
    whole float64 matrices, for targets smoothed by ``eps``."""
    X64 = X.toarray() if sp.issparse(X) else X.astype(np.float64)
    weights = sample_weight / sample_weight.sum()
    n_classes = coef.shape[1]
    if fit_intercept:
        W, b, V_W, v_b = coef[:-1], coef[-1], V[:-1], V[-1]
    else:
        W, b, V_W, v_b = coef, 0.0, V, 0.0
    P = softmax(X64 @ W + b, axis=1)
    Y = (1 - eps) * np.eye(n_classes)[y] + eps / n_classes
    value = weights @ -np.sum(Y * np.log(P), axis=1)
    G = weights[:, None] * (P - Y)
    Z_V = X64 @ V_W + v_b
    R = weights[:, None] * P * (Z_V - np.sum(P * Z_V, axis=1, keepdims=True))
    gradient, hessp = X64.T @ G, X64.T @ R
    if fit_intercept:
        gradient = np.vstack([gradient, G.sum(axis=0)])
        hessp = np.vstack([hessp, R.sum(axis=0)])
    return value, gradient, hessp


@pytest.mark.parametrize("block_rows", [1, 7, 50])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_passes_match_a_direct_computation(
    block_rows, dtype, scores_layout, rng, monkeypatch
):
    """Blocks of rows, a partial last one included, add up to the whole,
    with the scores computed in either layout."""
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", block_rows)
    X, y, sw = make_problem(n_samples=53, dtype=dtype)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng)
    V = random_coef(loss, X.shape[1], rng)
    objective = loss.bind(X, y, sw, L2)
    value, gradient, hessp = objective.value_gradient_hessp(coef.ravel())

    expected_value, expected_gradient, expected_hessp = direct_passes(X, y, sw, coef, V)
    W, V_W = coef[:-1], V[:-1]
    expected_value += 0.5 * L2 * np.sum(W**2)
    expected_gradient[:-1] += L2 * W
    expected_hessp[:-1] += L2 * V_W

    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert_allclose(value, expected_value, rtol=rtol)
    assert_allclose(gradient, expected_gradient.ravel(), rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(hessp(V.ravel()), expected_hessp.ravel(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("n_threads", [2, 3, 7])
@pytest.mark.parametrize("layout", ["random", "empty_rows_int64", "one_full_row"])
def test_sparse_rows_shared_between_threads_match_one_thread(n_threads, layout, rng):
    X, y, sw = make_problem(sparse=True)
    if layout == "empty_rows_int64":
        # Empty leading rows, and 64-bit indices, which the runs must share.
        X = X.toarray()
        X[:12] = 0.0
        X = sp.csr_matrix(X)
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    elif layout == "one_full_row":
        # Every stored value in one row: some runs hold none.
        X = sp.csr_matrix(
            np.vstack([np.zeros((20, 5)), np.ones((1, 5)), np.zeros((19, 5))])
        )
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    x = random_coef(loss, X.shape[1], rng).ravel()
    v = random_coef(loss, X.shape[1], rng).ravel()
    value, gradient, hessp = loss.bind(X, y, sw, L2).value_gradient_hessp(x)
    threaded = loss.bind(X, y, sw, L2, n_threads=n_threads)
    value_t, gradient_t, hessp_t = threaded.value_gradient_hessp(x)
    # The same runs, added in the same order: the same bits.
    assert value_t == value
    assert_array_equal(gradient_t, gradient)
    assert_array_equal(hessp_t(v), hessp(v))


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_runs_of_sparse_rows_share_the_arrays_of_X(index_dtype):
    """A run and its transpose are made on X's arrays, though scipy's
    constructors copy views of less than half an array, and sparse passes
    leave X as it was."""
    X, y, sw = make_problem(n_samples=60, sparse=True)
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    runs = _blocks._even_runs(X.indptr, 3)
    assert len(runs) == 3
    for run in runs:
        block = _blocks._sparse_rows(X, run)
        for matrix in block:
            assert np.shares_memory(matrix.data, X.data)
            assert np.shares_memory(matrix.indices, X.indices)
            assert matrix.indices.dtype == matrix.indptr.dtype == index_dtype
        assert_array_equal(block.matrix.toarray(), X[run].toarray())
        assert_array_equal(block.transpose.toarray(), X[run].toarray().T)
    # One run is X itself.
    assert _blocks._sparse_rows(X, slice(0, X.shape[0])).matrix is X
    before = X.copy()
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True, n_threads=3)
    coef = random_coef(
        MultinomialLoss(N_CLASSES, True), X.shape[1], np.random.default_rng(0)
    )
    passes.value_gradient_hessp(coef)[2](coef)
    for name in ("data", "indices", "indptr"):
        assert_array_equal(getattr(X, name), getattr(before, name))


@pytest.mark.parametrize("n_runs", [1, 2, 3, 7, 40])
def test_sparse_rows_are_cut_into_even_runs(n_runs, rng):
    """At most one run per thread, each of at least one row, all rows once,
    with stored values shared out as evenly as whole rows allow."""
    counts = rng.integers(0, 9, size=30)
    counts[:4] = 0  # empty rows, including the first
    indptr = np.concatenate([[0], np.cumsum(counts)])
    runs = _blocks._even_runs(indptr, n_runs)
    assert 1 <= len(runs) <= n_runs
    assert runs[0].start == 0 and runs[-1].stop == counts.size
    assert all(a.stop == b.start for a, b in itertools.pairwise(runs))
    assert all(run.stop > run.start for run in runs)
    values = np.array([indptr[run.stop] - indptr[run.start] for run in runs])
    share = indptr[-1] / n_runs
    assert values.max() <= share + counts.max()


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_hessian_products_on_float64_data(sparse, rng):
    """With float32 Hessian products the value and gradient stay float64's;
    the product agrees with the float64 one to float32's rounding."""
    X, y, sw = make_problem(sparse=sparse)
    X_before = X.copy()
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    x = random_coef(loss, X.shape[1], rng).ravel()
    v = random_coef(loss, X.shape[1], rng).ravel()
    value, gradient, hessp = loss.bind(X, y, sw, L2).value_gradient_hessp(x)
    mixed = loss.bind(X, y, sw, L2, hessian_dtype=np.float32)
    value_m, gradient_m, hessp_m = mixed.value_gradient_hessp(x)
    assert value_m == value
    assert_allclose(gradient_m, gradient, rtol=0, atol=0)
    product, product_m = hessp(v), hessp_m(v)
    assert product_m.dtype == np.float64
    assert_allclose(product_m, product, rtol=0, atol=1e-5 * np.abs(product).max())
    assert not np.array_equal(product_m, product)
    # The float32 products leave X alone: dense blocks are converted into
    # buffers; for CSR, the float32 values are a copy and the indices shared.
    if sparse:
        assert X.dtype == np.float64
        assert_allclose(X.toarray(), X_before.toarray(), rtol=0, atol=0)
    else:
        assert_allclose(X, X_before, rtol=0, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("large", [1e10, 1e20, 1e30, 1e35])
def test_float32_hessian_products_of_columns_of_other_scales(sparse, large, rng):
    """One column of float32 X at ``large``, the others about one, and a
    direction whose weights are about the inverse of their column's scale
    (as a diagonal preconditioner makes them): every row of the product
    keeps float32's accuracy. Scaled as a whole, by the largest weight times
    the largest entry, the other columns' weights fell below float32's
    normal numbers; scaled to a largest entry of one, the large column's
    scores passed its range."""
    n_samples, n_classes = 200, 3
    scales = np.array([large, 1.0, 1.0, 1e-3])
    X = (rng.standard_normal((n_samples, 4)) * scales).astype(np.float32)
    y = rng.integers(0, n_classes, n_samples)
    V = rng.standard_normal((5, n_classes))
    V[:4] /= scales[:, np.newaxis]
    loss = MultinomialLoss(n_classes, fit_intercept=True)
    products = []
    for data in (X, X.astype(np.float64)):
        data = sp.csr_matrix(data) if sparse else data
        objective = loss.bind(data, y, None, 0.0)
        _, _, hessp = objective.value_gradient_hessp(np.zeros(V.size))
        products.append(hessp(V.ravel()).reshape(V.shape))
    product, reference = products
    # A sum of 200 terms in float32: within 200 of its epsilons, per row.
    error = np.abs(product - reference).max(axis=1)
    assert np.all(error <= n_samples * 2.0**-23 * np.abs(reference).max(axis=1))


@pytest.mark.parametrize("n_threads", [2, 3, 7])
@pytest.mark.parametrize("hessian_dtype", [None, np.float32])
def test_dense_blocks_shared_between_threads_match_one_thread(
    n_threads, hessian_dtype, scores_layout, rng, monkeypatch
):
    """Each thread takes its own blocks; the totals are those of one
    thread, to the last bit."""
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 6)
    X, y, sw = make_problem(n_samples=53)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    x = random_coef(loss, X.shape[1], rng).ravel()
    v = random_coef(loss, X.shape[1], rng).ravel()
    single = loss.bind(X, y, sw, L2, hessian_dtype=hessian_dtype)
    threaded = loss.bind(X, y, sw, L2, n_threads=n_threads, hessian_dtype=hessian_dtype)
    value, gradient, hessp = single.value_gradient_hessp(x)
    value_t, gradient_t, hessp_t = threaded.value_gradient_hessp(x)
    # The same blocks, added in the same order: the same bits.
    assert value_t == value
    assert threaded.value(x) == value
    assert_array_equal(gradient_t, gradient)
    assert_array_equal(threaded.value_and_gradient(x)[1], gradient)
    assert_array_equal(hessp_t(v), hessp(v))


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("n_classes", [2, 3, N_CLASSES])
def test_dense_hessian_is_the_same_on_any_number_of_threads(
    n_threads, n_classes, rng, monkeypatch
):
    """The threads form the blocks' shares of the Hessian as they come, and
    the shares are added in the order of the blocks: the Hessian of one
    thread, to the last bit, in coef's layout and in the two-class
    difference; with the pairs of classes shared out between the threads
    (three classes) or formed together (four, on six columns)."""
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 6)
    X, y, sw = make_problem(n_samples=53, n_classes=n_classes)
    loss = MultinomialLoss(n_classes, fit_intercept=True)
    assert len(loss.passes(X, y, sw).slices) > 2 * n_threads
    x = 0.5 * rng.standard_normal(loss.n_coef_rows(X.shape[1]) * n_classes)
    single = loss.bind(X, y, sw, L2)
    threaded = loss.bind(X, y, sw, L2, n_threads=n_threads)
    assert_array_equal(
        threaded.value_gradient_hessian(x)[2](), single.value_gradient_hessian(x)[2]()
    )
    if n_classes == 2:
        beta = x[1::2] - x[::2]
        single = loss.bind(X, y, sw, L2, two_classes_as_one=True)
        threaded = loss.bind(X, y, sw, L2, n_threads=n_threads, two_classes_as_one=True)
        assert_array_equal(
            threaded.value_gradient_hessian(beta)[2](),
            single.value_gradient_hessian(beta)[2](),
        )


@pytest.mark.parametrize("several_blocks", [False, True])
def test_converted_blocks_give_the_products_of_a_float32_copy(
    several_blocks, rng, monkeypatch
):
    """float32 Hessian products on float64 X convert its blocks into
    buffers, once per fit where a thread has a single block, every pass
    where it has several: every product is that of a float32 copy of X.
    Data of a single block is also converted into a contiguous X^T, on
    which the scores are computed."""
    if several_blocks:
        monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
        monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 6)
    X, y, sw = make_problem(n_samples=53)
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True, hessian_dtype=np.float32)
    assert (len(passes.slices) > 1) == several_blocks
    coef = random_coef(MultinomialLoss(N_CLASSES, True), X.shape[1], rng)
    _, _, hessp = passes.value_gradient_hessp(coef)
    # The products on a float32 copy, with the same probabilities.
    copied = _blocks.BlockProducts(
        X.astype(np.float32), passes.weights64, N_CLASSES, True, passes.slices, 1
    )
    if several_blocks:
        assert passes._hessian_products_made().columns is None
    else:
        columns = passes._hessian_products_made().columns
        assert_array_equal(columns, X.T.astype(np.float32))
        assert columns.flags.c_contiguous
        copied.columns, copied.rows_first = columns, False
    passes_copied = copy.copy(passes)
    passes_copied._hessian_products = copied
    for _ in range(3):
        V = random_coef(MultinomialLoss(N_CLASSES, True), X.shape[1], rng)
        assert_array_equal(
            hessp(V), passes_copied.hessian_product(passes._probabilities, V)
        )
    converted = [space.X_block_start for space in passes._hessian_products.workspaces]
    assert converted == [passes.slices[-1].start]


def test_threads_get_their_own_workspaces(rng, monkeypatch):
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 10)
    X, y, sw = make_problem(n_samples=53)
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True, n_threads=3)
    spaces = passes._products.workspaces
    assert len(spaces) == 3
    for buffer in ("work", "column", "column_sums"):
        assert len({id(getattr(space, buffer)) for space in spaces}) == 3
    # More threads than blocks: the extra ones would idle, so none are made.
    few = _passes.DataPasses(X, y, sw, N_CLASSES, True, n_threads=64)
    assert len(few._products.workspaces) == len(few.slices) == 6


@pytest.mark.parametrize("by_class", [True, False])
def test_shares_are_added_in_the_order_of_the_blocks(rng, by_class):
    """Shares handed in out of order, as threads finish, are added in the
    order of the blocks: the same bits as in order, in either layout, pass
    after pass."""
    shape = (5, 3) if by_class else (3, 5)
    for order in (range(9), [8, 3, 0, 2, 1, 7, 6, 5, 4], [1, 0, 2, 3, 4, 5, 6, 8, 7]):
        shares = [rng.standard_normal(shape) * 10.0**e for e in rng.integers(-8, 8, 9)]
        sums = _blocks._BlockSums(
            9, 5, 3, np.float64, fit_intercept=False, by_class=by_class
        )
        for _ in range(2):
            # As a pass does (see DataPasses._over_blocks).
            sums.start()
            for index in order:
                sums.add(index, shares[index])
            total = sums.total()[1]
        # K x d or d x K shares, a d x K total.
        expected = np.zeros(shape)
        for share in shares:
            expected += share
        assert_array_equal(total, expected.T if by_class else expected)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_pass_after_one_that_failed_part_way(sparse, rng, monkeypatch):
    """A pass that raises after some blocks have handed in their shares
    leaves nothing behind: the next pass gives the bits of a fresh one."""
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 10)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 8)
    X, y, sw = make_problem(n_samples=64, n_features=5, sparse=sparse)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng)
    passes = loss.passes(X, y, sw)
    assert len(passes.slices) >= 3
    products = passes._products
    back = products.back

    def failing_back(R, X_block, index, space):
        if index == 2:
            raise MemoryError("a failure part-way")
        back(R, X_block, index, space)

    monkeypatch.setattr(products, "back", failing_back)
    with pytest.raises(MemoryError, match="part-way"):
        passes.value_and_gradient(random_coef(loss, X.shape[1], rng))
    monkeypatch.setattr(products, "back", back)
    expected = loss.passes(X, y, sw).value_and_gradient(coef)
    value, gradient = passes.value_and_gradient(coef)
    assert value == expected[0]
    assert_array_equal(gradient, expected[1])


def unaligned(X):
    """A copy of dense ``X`` that starts one byte past an aligned address,
    as data received from another process may: numpy marks it unaligned."""
    buffer = np.empty(X.nbytes + 1, dtype=np.uint8)
    moved = np.frombuffer(buffer, dtype=X.dtype, count=X.size, offset=1)
    moved = moved.reshape(X.shape)
    moved[...] = X
    assert not moved.flags.aligned
    return moved


def peak_bytes(function):
    """The most memory that a call of ``function`` holds at once, after a
    first call that makes the buffers made on first use."""
    function()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def all_passes(passes, coef):
    value, gradient = passes.value_and_gradient(coef)
    _, _, hessp = passes.value_gradient_hessp(coef)
    return value, gradient, hessp(coef)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hessian_dtype", [None, np.float32])
@pytest.mark.parametrize("how", ["given", "unpickled"])
def test_unaligned_data_is_aligned_once(dtype, hessian_dtype, how, rng):
    """Passes on dense X whose memory is not aligned to its dtype, given so
    or unpickled so, give the bits of passes on aligned X, and a pass holds
    no more memory than on aligned X: numpy would copy each block of
    unaligned rows to hand it to BLAS, once per product."""
    X, y, sw = make_problem(n_samples=3000, n_features=40, dtype=dtype)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    coef = random_coef(loss, X.shape[1], rng)
    reference = loss.passes(X, y, sw, hessian_dtype=hessian_dtype)
    if how == "given":
        passes = loss.passes(unaligned(X), y, sw, hessian_dtype=hessian_dtype)
    else:
        # Unpickled with X's bytes where a message might have put them.
        buffers = []
        data = pickle.dumps(reference, protocol=5, buffer_callback=buffers.append)
        raw = [np.asarray(buffer.raw()) for buffer in buffers]
        passes = pickle.loads(
            data,
            buffers=[
                unaligned(array.view(dtype)).view(np.uint8)
                if array.nbytes == X.nbytes
                else array
                for array in raw
            ],
        )
    expected = all_passes(reference, coef)
    for result, wanted in zip(all_passes(passes, coef), expected, strict=True):
        assert_array_equal(result, wanted)
    block_bytes = passes.slices[0].stop * X.shape[1] * X.itemsize
    for method in ["value_and_gradient", "value_gradient_probabilities"]:
        aligned_peak = peak_bytes(lambda m=method: getattr(reference, m)(coef))
        peak = peak_bytes(lambda m=method: getattr(passes, m)(coef))
        assert peak < aligned_peak + block_bytes / 4


def test_the_probabilities_are_written_over(rng):
    """Each point's probabilities go into the same array: a Newton point
    holds no more memory than a gradient, no n x K array, and the array
    returned for the last point holds this one's probabilities. A copy of
    the passes leaves them behind."""
    X, y, sw = make_problem(n_samples=3000, n_features=10)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    passes = loss.passes(X, y, sw)
    first = random_coef(loss, X.shape[1], rng)
    second = random_coef(loss, X.shape[1], rng)
    *_, kept = passes.value_gradient_probabilities(first)
    kept_first = kept.copy()
    *_, probabilities = passes.value_gradient_probabilities(second)
    assert probabilities is kept
    *_, fresh = loss.passes(X, y, sw).value_gradient_probabilities(second)
    assert_array_equal(probabilities, fresh)
    assert not np.array_equal(kept_first, fresh)
    peak = peak_bytes(lambda: passes.value_gradient_probabilities(first))
    gradient_peak = peak_bytes(lambda: passes.value_and_gradient(first))
    assert peak < gradient_peak + probabilities.nbytes / 4
    copied = pickle.loads(pickle.dumps(passes))
    assert copied._probabilities is None


def test_sparse_threads_with_float32_hessian_products(rng):
    X, y, sw = make_problem(sparse=True)
    loss = MultinomialLoss(N_CLASSES, fit_intercept=True)
    x = random_coef(loss, X.shape[1], rng).ravel()
    v = random_coef(loss, X.shape[1], rng).ravel()
    _, gradient, hessp = loss.bind(X, y, sw, L2).value_gradient_hessp(x)
    threaded = loss.bind(X, y, sw, L2, n_threads=3, hessian_dtype=np.float32)
    _, gradient_t, hessp_t = threaded.value_gradient_hessp(x)
    assert_allclose(gradient_t, gradient, rtol=1e-13, atol=1e-15)
    product = hessp(v)
    assert_allclose(hessp_t(v), product, rtol=0, atol=1e-5 * np.abs(product).max())


@pytest.mark.parametrize(
    "dtype, n_features, n_classes, architectures, expected",
    [
        (np.float32, 64, 10, {"skylakex"}, True),
        (np.float32, 64, 10, {"sapphirerapids", "haswell"}, True),
        (np.float64, 64, 10, {"skylakex"}, False),
        (np.float32, 64, 10, {"haswell"}, False),
        (np.float32, 64, 10, set(), False),
        (np.float32, 64, 21, {"skylakex"}, False),
        (np.float32, 31, 10, {"skylakex"}, False),
    ],
)
def test_rows_first_scores_only_where_the_kernels_gain(
    dtype, n_features, n_classes, architectures, expected
):
    """float32 scores with few classes and enough features, on OpenBLAS's
    AVX-512 kernels; everything else keeps the K x m product."""
    chosen = _blocks.scores_rows_first(
        dtype, n_features, n_classes, frozenset(architectures)
    )
    assert chosen is expected


def test_scores_rows_first_follows_the_loaded_blas():
    from sklearn_softmax._threads import blas_architectures

    architectures = blas_architectures()
    assert all(name == name.lower() for name in architectures)
    expected = bool(architectures & {"skylakex", "cooperlake", "sapphirerapids"})
    assert _blocks.scores_rows_first(np.float32, 64, 10) is expected


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [5, 64])
def test_the_dense_hessian_of_every_kind_of_data(
    sparse, dtype, n_features, rng, monkeypatch
):
    """Dense or sparse, float64 or float32 (whose rows are converted to
    float64 in a buffer), over several blocks of rows, with few columns
    (general products) and more (rank-k updates): the Hessian summed sample
    by sample in float64, within the rounding of the probabilities in the
    data's dtype."""
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 7)
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_WORK_PER_THREAD", 100)
    X, y, sw = make_problem(400, n_features, sparse=sparse)
    X = X.astype(dtype)
    passes = _passes.DataPasses(X, y, sw, N_CLASSES, True)
    assert len(passes.slices) > 2
    coef = 0.3 * rng.standard_normal((X.shape[1] + 1, N_CLASSES))
    H = passes.value_gradient_hessian(coef)[2]()
    A = np.column_stack([X.toarray() if sparse else X, np.ones(X.shape[0])])
    A = A.astype(np.float64)
    Z = A @ coef
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    weights = sw / sw.sum()
    J = weights[:, None, None] * (
        P[:, :, None] * np.eye(N_CLASSES) - P[:, :, None] * P[:, None, :]
    )
    expected = np.einsum("ia,ib,ikl->akbl", A, A, J).reshape(H.shape)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(H, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("name", ["float32", "float64"])
@pytest.mark.parametrize("library", ["numpy", "array_api_strict", "torch"])
def test_the_rounding_is_sixteen_epsilons_of_any_namespaces_dtype(name, library):
    """One rounding rule for the values of every kind of data: 16 machine
    epsilons of the dtype, whichever namespace names it."""
    xp = pytest.importorskip(library)
    expected = 16 * {"float32": 2.0**-23, "float64": 2.0**-52}[name]
    assert rounding_of(getattr(xp, name)) == expected
    if library == "numpy":
        assert rounding_of(np.dtype(name)) == expected


@pytest.mark.parametrize(
    "kind", ["dense", "sparse", "several_blocks", "float32_products", "float32"]
)
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_two_classes_take_one_column(
    kind, eps, fit_intercept, scores_layout, rng, monkeypatch
):
    """Two classes multiply X by one column each way (the difference of the
    weights, the second class' residuals) and give the first class the
    opposite gradient: the passes agree with the formulas written with both
    columns, at a point whose columns are not opposite, for every kind of
    data and both layouts of the scores."""
    if kind == "several_blocks":
        monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
        monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 7)
    dtype = np.float32 if kind == "float32" else np.float64
    X, y, sw = make_problem(
        n_samples=53, n_classes=2, dtype=dtype, sparse=kind == "sparse"
    )
    hessian_dtype = np.float32 if kind == "float32_products" else None
    passes = _passes.DataPasses(
        X, y, sw, 2, fit_intercept, hessian_dtype=hessian_dtype, label_smoothing=eps
    )
    assert passes._products.one_column
    assert (len(passes.slices) > 1) == (kind == "several_blocks")
    rows = X.shape[1] + int(fit_intercept)
    coef = rng.standard_normal((rows, 2))
    V = rng.standard_normal((rows, 2))
    value, gradient, hessp = passes.value_gradient_hessp(coef)
    product = hessp(V)
    expected = direct_passes(X, y, sw.astype(np.float64), coef, V, eps, fit_intercept)

    # float64 passes against float64 formulas: rounding alone; float32
    # passes (or products): float32's rounding of sums of 53 terms.
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    assert_allclose(value, expected[0], rtol=rtol)
    assert_allclose(gradient, expected[1], rtol=rtol, atol=rtol * 1e-2)
    assert_array_equal(gradient[:, 0], -gradient[:, 1])
    rtol = 1e-12 if dtype == np.float64 and hessian_dtype is None else 2e-6
    assert_allclose(product, expected[2], rtol=rtol, atol=rtol * 1e-2)
    assert_array_equal(product[:, 0], -product[:, 1])


@pytest.mark.parametrize("sparse", [False, True])
def test_two_class_hessian_products_where_a_probability_rounds_to_one(sparse, rng):
    """Scores of about 20, where the larger probability is one in float32:
    the product's weights ``p_0 p_1`` keep float32's relative accuracy
    (``p (z - p . z)`` would lose them all)."""
    n_samples = 60
    X, y, sw = make_problem(n_samples=n_samples, n_classes=2, sparse=sparse)
    passes = _passes.DataPasses(X, y, sw, 2, True, hessian_dtype=np.float32)
    X1 = np.c_[X.toarray() if sparse else X, np.ones(n_samples)]
    # Scores z_1 - z_0 of about 20: p_0 about 2e-9.
    beta = np.r_[0.1 * rng.standard_normal(X.shape[1]), 20.0]
    coef = np.c_[-beta / 2, beta / 2]
    V = rng.standard_normal(coef.shape)
    _, _, hessp = passes.value_gradient_hessp(coef)
    product = hessp(V)[:, 1]

    t = X1 @ beta
    weights = sw / sw.sum() * np.exp(-np.logaddexp(0.0, t) - np.logaddexp(0.0, -t))
    v = V[:, 1] - V[:, 0]
    expected = X1.T @ (weights * (X1 @ v))
    # The float32 rounding, in units u of it, of each term x_ij w_i z_i,
    # relative to w_i |x_ij| a_i with a_i = sum_j |x_ij v_j| >= |z_i|: the
    # direction's scores z_i, sums of d + 1 terms of X and v each rounded
    # to float32, d + 3; the weight, from p_0, p_1 and s / S each rounded
    # once to float32 and multiplied twice, 5; w_i z_i, x_ij rounded and
    # their product, 3. The sum of n terms adds n u of the terms' absolute
    # sum: n + d + 11 in all.
    eps = 2.0**-24
    a = np.abs(X1) @ np.abs(v)
    bound = (n_samples + X1.shape[1] + 10) * eps * (np.abs(X1).T @ (weights * a))
    assert np.all(np.abs(product - expected) <= bound)


@pytest.mark.parametrize("coef_dtype", [np.float32, np.float16])
def test_two_class_passes_take_coef_of_lower_precision_exactly(coef_dtype, rng):
    """The difference of two classes' columns is taken in float64, where a
    ``coef`` of lower precision is exact: the passes at it are those at
    the same numbers in float64."""
    X, y, sw = make_problem(n_classes=2)
    passes = _passes.DataPasses(X, y, sw, 2, True)
    # Columns of other scales, whose difference float16 would round.
    coef = (rng.standard_normal((X.shape[1] + 1, 2)) * [1.0, 1e-3]).astype(coef_dtype)
    value, gradient = passes.value_and_gradient(coef)
    expected_value, expected_gradient = passes.value_and_gradient(
        coef.astype(np.float64)
    )
    assert value == expected_value
    assert_array_equal(gradient, expected_gradient)


@pytest.mark.parametrize(
    ("kind", "n_threads"),
    [
        ("float32", 1),
        ("several_blocks", 1),
        ("several_blocks", 2),
        ("float32_products", 1),
        ("converted_blocks", 1),
        ("converted_blocks", 3),
    ],
)
def test_three_float32_columns_are_padded_to_four(kind, n_threads, rng, monkeypatch):
    """Dense float32 products of three classes run with a fourth column of
    zeros on the kernels measured so: the passes agree with the formulas,
    on data of one block or of several, of float32 or converted from
    float64 (into a contiguous X^T for one block), and with the passes
    whose products keep three columns to float32's rounding."""
    monkeypatch.setattr(_blocks, "blas_architectures", lambda: frozenset({"haswell"}))
    if kind in ("several_blocks", "converted_blocks"):
        monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
        monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 7)
    dtype = np.float32 if kind in ("float32", "several_blocks") else np.float64
    hessian_dtype = None if dtype == np.float32 else np.float32
    X, y, sw = make_problem(n_samples=53, n_classes=3, dtype=dtype)
    coef = rng.standard_normal((X.shape[1] + 1, 3))
    V = rng.standard_normal((X.shape[1] + 1, 3))

    def evaluate():
        passes = _passes.DataPasses(
            X, y, sw, 3, True, n_threads=n_threads, hessian_dtype=hessian_dtype
        )
        value, gradient, hessp = passes.value_gradient_hessp(coef)
        return passes, value, gradient, hessp(V)

    passes, value, gradient, product = evaluate()
    products = passes._hessian_products_made()
    assert products.padded == 4
    assert (products.columns is not None) == (kind == "float32_products")
    assert passes.n_threads == n_threads
    expected = direct_passes(X, y, sw.astype(np.float64), coef, V)
    # Sums of 53 float32 terms, against float64 formulas.
    rtol = 2e-6
    if dtype == np.float32:
        assert_allclose(value, expected[0], rtol=rtol)
        assert_allclose(gradient, expected[1], rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(product, expected[2], rtol=rtol, atol=rtol * 1e-2)

    monkeypatch.setattr(_blocks, "_PADDED_COLUMNS", {})
    unpadded, *results = evaluate()
    assert unpadded._hessian_products_made().padded is None
    for padded_result, result in zip((value, gradient, product), results, strict=True):
        assert_allclose(padded_result, result, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("hessian_dtype", [None, np.float32])
def test_padded_passes_are_the_same_on_any_number_of_threads(
    hessian_dtype, rng, monkeypatch
):
    """Three classes of float32 products, padded, give the same bits on one
    thread or several."""
    monkeypatch.setattr(_blocks, "blas_architectures", lambda: frozenset({"haswell"}))
    monkeypatch.setattr(_blocks, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "_MIN_BLOCK_ROWS", 6)
    dtype = np.float32 if hessian_dtype is None else np.float64
    X, y, sw = make_problem(n_samples=53, n_classes=3, dtype=dtype)
    coef = rng.standard_normal((X.shape[1] + 1, 3))
    V = rng.standard_normal((X.shape[1] + 1, 3))
    results = []
    for n_threads in (1, 2, 3):
        passes = _passes.DataPasses(
            X, y, sw, 3, True, n_threads=n_threads, hessian_dtype=hessian_dtype
        )
        value, gradient, hessp = passes.value_gradient_hessp(coef)
        assert passes._hessian_products_made().padded == 4
        results.append((value, gradient, hessp(V)))
    for result in results[1:]:
        for first, other in zip(results[0], result, strict=True):
            assert_array_equal(first, other)


@pytest.mark.parametrize(
    ("dtype", "n_columns", "sparse", "architectures", "expected"),
    [
        (np.float32, 3, False, {"haswell"}, 4),
        (np.float32, 3, False, {"zen", "sandybridge", "nehalem"}, 4),
        (np.float32, 4, False, {"haswell"}, 4),
        (np.float32, 2, False, {"haswell"}, 2),
        (np.float64, 3, False, {"haswell"}, 3),
        (np.float32, 3, True, {"haswell"}, 3),
        (np.float32, 3, False, {"skylakex"}, 3),
        (np.float32, 3, False, {"haswell", "skylakex"}, 3),
        (np.float32, 3, False, {"neoversen1"}, 3),
        (np.float32, 3, False, set(), 3),
    ],
)
def test_three_float32_columns_are_padded_on_the_kernels_measured(
    dtype, n_columns, sparse, architectures, expected
):
    """Three dense float32 columns are padded to four where every loaded
    BLAS runs OpenBLAS's kernels measured so (AVX2 and earlier); not on
    its AVX-512 or ARM kernels, nor for a BLAS that reports no kernels
    (MKL, as threadpoolctl sees it), nor for float64 or sparse products."""
    padded = _blocks.padded_columns(dtype, n_columns, sparse, frozenset(architectures))
    assert padded == expected

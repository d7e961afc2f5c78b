"""The softmax's Jacobian and the Hessian's blocks, against the Kronecker
sum written out sample by sample, and their accuracy where a probability
rounds to one, against probabilities written with scipy's ``expit``.

The NumPy passes, the Array API objective and the observed information of
the standard errors all form their Hessian from these functions; each is
checked here near certainty, where a Hessian formed from ``1 - p`` as such
is wrong in its leading digits.
"""

import numpy as np
import pytest
from _namespaces import available, needs_dispatch
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, logsumexp, softmax

from sklearn_softmax._grams import weighted_grams
from sklearn_softmax._information import observed_information
from sklearn_softmax._jacobian import (
    class_pairs,
    hessian_matrix,
    jacobian_product,
    pair_weights,
)
from sklearn_softmax._passes import DataPasses

EPS = np.finfo(np.float64).eps
# NumPy, and array-api-strict where it is installed.
NUMPY_AND_STRICT = [
    "numpy",
    pytest.param(
        "array_api_strict",
        marks=pytest.mark.skipif(
            not available("array_api_strict"),
            reason="array-api-strict is not installed",
        ),
    ),
]


def kronecker_sum(P, A, weights, class_first, sign=-1.0):
    """``sum_i s_i J(p_i) (x) a_i a_i^T`` (or ``a_i a_i^T (x) J(p_i)``),
    one sample at a time, with ``J(p) = diag(p) - p p^T``; with ``sign=1``,
    ``diag(p) + p p^T``, its entries' magnitudes."""
    total = 0.0
    for p, a, s in zip(P, A, weights, strict=True):
        J = np.diag(p) + sign * np.outer(p, p)
        gram = np.outer(a, a)
        total = total + s * (np.kron(J, gram) if class_first else np.kron(gram, J))
    return total


def pair_grams(P, A, weights):
    c = pair_weights(P.T, class_pairs(P.shape[1]), np) * weights
    return weighted_grams(A, c)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_the_blocks_lay_out_the_kronecker_sum(n_classes, rng):
    """Both layouts equal the sum written out, within the rounding of a sum
    of ``n`` products: ``(n + 3 K + 6)`` roundings of the sum of the terms'
    magnitudes, entry by entry; from symmetric blocks, exactly symmetric."""
    n, r = 30, 4
    P = softmax(rng.standard_normal((n, n_classes)), axis=1)
    A = rng.standard_normal((n, r))
    weights = rng.uniform(0.5, 2.0, n)
    grams = pair_grams(P, A, weights)
    bound = (n + 3 * n_classes + 6) * EPS
    for class_first in (True, False):
        expected = kronecker_sum(P, A, weights, class_first)
        magnitudes = kronecker_sum(P, np.abs(A), weights, class_first, sign=1.0)
        H = hessian_matrix(grams, n_classes, np, class_major=class_first)
        # The blocks of the last class sum those of the others.
        assert np.all(np.abs(H - expected) <= n_classes * bound * magnitudes)
        assert_array_equal(H, H.T)


def reference_weights(Z, pairs):
    """``p_k (delta_kk' - p_k')`` with each probability from ``expit`` of a
    log-odds: ``p_k`` against the other classes, and ``1 - p_k`` as the
    other classes against ``k``, each to its relative accuracy."""
    K = Z.shape[1]
    others = np.stack(
        [logsumexp(np.delete(Z, k, axis=1), axis=1) for k in range(K)], axis=1
    )
    P = expit(Z - others)
    complement = expit(others - Z)
    return np.stack(
        [
            P[:, k] * (complement[:, k] if k == other else -P[:, other])
            for k, other in pairs
        ]
    )


def weights_rounding(Z):
    """The relative rounding of a weight: ``K + 2`` roundings for each
    probability (the exponentials, their sum, the division), ``K`` for the
    sum of the others and the product; and the scores' own, ``eps |z|``
    absolute, which moves each probability by as much relative, in the
    weights tested and in the reference's log-odds alike."""
    return (3 * Z.shape[1] + 4 + 4 * np.abs(Z).max()) * EPS


@pytest.mark.parametrize("n_classes", [2, 3, 6])
def test_pair_weights_keep_their_accuracy_where_a_probability_rounds_to_one(
    n_classes, rng
):
    """Each weight within its rounding (:func:`weights_rounding`), where the
    largest probabilities round to within ``1e-8`` of one: a weight from
    ``1 - p_k`` as such is off from its ninth digit on."""
    Z = rng.standard_normal((200, n_classes))
    Z[np.arange(200), rng.integers(n_classes, size=200)] += rng.uniform(25, 35, 200)
    P = softmax(Z, axis=1)
    assert np.all(1 - P.max(axis=1) < 1e-8)
    pairs = class_pairs(n_classes)
    assert_allclose(
        pair_weights(P.T, pairs, np),
        reference_weights(Z, pairs),
        rtol=weights_rounding(Z),
        atol=0,
    )


@pytest.mark.parametrize("namespace", NUMPY_AND_STRICT)
@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_pair_weights_of_any_run_of_pairs(namespace, n_classes, rng):
    """The weights of every run of consecutive pairs (as the passes share
    them out and the Array API objective takes them, K at a time) are the
    rows of all the pairs' weights, to the last bit, and each is
    ``(p_k (delta_kk' - p_k')) s`` within the roundings of the sum of the
    other probabilities and two products, and that of ``1 - p_k`` written
    as such, ``eps / (1 - p_k)`` relative."""
    xp = np if namespace == "numpy" else pytest.importorskip(namespace)
    P = softmax(rng.standard_normal((7, n_classes)), axis=1).T.copy()
    s = rng.uniform(0.5, 2.0, 7)
    pairs = class_pairs(n_classes)
    expected = np.stack(
        [P[k] * ((1.0 if k == other else 0.0) - P[other]) for k, other in pairs]
    )
    every = np.asarray(pair_weights(xp.asarray(P), pairs, xp, xp.asarray(s)))
    rtol = (n_classes + 2) * EPS + EPS / (1 - P.max())
    assert_allclose(every, expected * s, rtol=rtol, atol=0)
    for start in range(len(pairs)):
        for stop in range(start + 1, len(pairs) + 1):
            run = pair_weights(xp.asarray(P), pairs[start:stop], xp, xp.asarray(s))
            assert_array_equal(np.asarray(run), every[start:stop])


def near_certain_design(n_classes, fit_intercept, rng, n=60, n_features=3):
    """Design rows ``A`` (the features, and a trailing 1 with an intercept)
    and parameters ``coef`` whose scores ``A coef`` put each sample's
    largest class at least 20 ahead of the next."""
    A = rng.standard_normal((100 * n, n_features + int(fit_intercept)))
    if fit_intercept:
        A[:, -1] = 1.0
    coef = 15 * rng.standard_normal((A.shape[1], n_classes))
    top_two = np.sort(A @ coef, axis=1)[:, -2:]
    A = A[top_two[:, 1] - top_two[:, 0] > 20][:n]
    assert len(A) == n
    return A, coef


def data_term_hessian(home, A, coef, weights, fit_intercept):
    """The Hessian of the data term ``sum_i s_i (-log p_{i, y_i})`` at
    ``coef`` as one of the three homes forms it, with ``coef``'s rows
    (features, then the intercept) as the parameter rows, class-major."""
    n_rows, n_classes = coef.shape
    X = A[:, :-1] if fit_intercept else A
    y = np.zeros(len(X), dtype=np.int64)
    total = weights.sum()
    if home == "information":
        P = softmax(A @ coef, axis=1)
        H = observed_information(X, P, weights, fit_intercept)
        # Its intercept comes first.
        order = np.r_[1:n_rows, 0] if fit_intercept else np.arange(n_rows)
        H = H.reshape(n_classes, n_rows, n_classes, n_rows)[:, order][..., order]
        return H.reshape(n_classes * n_rows, -1)
    if home == "passes":
        passes = DataPasses(X, y, weights, n_classes, fit_intercept)
        H = passes.value_gradient_hessian(coef)[2]() * total
    else:
        import array_api_strict as xp

        from sklearn_softmax._loss_array_api import bind_objective

        # A penalty below the rounding of any entry leaves the data term's
        # Hessian as it is, and without an intercept no null direction is
        # fixed.
        objective = bind_objective(
            xp.asarray(X),
            xp.asarray(y),
            xp.asarray(weights / total),
            n_classes,
            False,
            1e-300,
            xp.float64,
        )
        H = objective.value_gradient_hessian(xp.asarray(coef.ravel()))[2]()
        H = np.asarray(H) * total
    blocks = H.reshape(n_rows, n_classes, n_rows, n_classes).transpose(1, 0, 3, 2)
    return blocks.reshape(n_classes * n_rows, -1)


HOMES = [
    pytest.param("passes", True, id="passes"),
    pytest.param("passes", False, id="passes-no-intercept"),
    pytest.param("information", True, id="information"),
    pytest.param("information", False, id="information-no-intercept"),
    pytest.param(
        "array_api",
        False,
        id="array-api",
        marks=[
            needs_dispatch,
            pytest.mark.skipif(
                not available("array_api_strict"),
                reason="array-api-strict is not installed",
            ),
        ],
    ),
]


@pytest.mark.parametrize("home, fit_intercept", HOMES)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_every_hessian_keeps_its_accuracy_near_certainty(
    home, fit_intercept, n_classes, rng
):
    """Where every sample is nearly certain, the curvature is of the size of
    ``1 - p``; each home's Hessian equals the Kronecker sum of the reference
    weights, entry by entry, within the weights' rounding and that of a sum
    of ``n`` products, relative to the sum of the terms' magnitudes (the
    blocks of the last class sum those of the others)."""
    A, coef = near_certain_design(n_classes, fit_intercept, rng)
    weights = rng.uniform(0.5, 2.0, len(A))
    H = data_term_hessian(home, A, coef, weights, fit_intercept)
    Z = A @ coef
    c = reference_weights(Z, class_pairs(n_classes)) * weights

    def kronecker_sum(A, c):
        grams = np.stack([(A * c_j[:, np.newaxis]).T @ A for c_j in c])
        return hessian_matrix(grams, n_classes, np, class_major=True)

    expected = kronecker_sum(A, c)
    magnitudes = np.abs(kronecker_sum(np.abs(A), np.abs(c)))
    assert np.abs(expected).max() < 1e-8 * weights.sum()
    bound = (len(A) + 2) * EPS + weights_rounding(Z)
    assert np.all(np.abs(H - expected) <= n_classes * bound * magnitudes)


def test_the_jacobian_product_is_the_change_of_the_probabilities(rng):
    """``J(p) z`` against the central difference of the softmax along
    ``z``, within the difference's truncation, and in place of ``z``."""
    Z = rng.standard_normal((20, 4))
    direction = rng.standard_normal((20, 4))
    h = 1e-5
    expected = (
        softmax(Z + h * direction, axis=1) - softmax(Z - h * direction, axis=1)
    ) / (2 * h)
    out = direction.copy()
    product = jacobian_product(softmax(Z, axis=1), out, np)
    assert product is out
    # The third derivative of the softmax is at most a few units: the
    # truncation is below h^2, the rounding about eps / h.
    assert_allclose(product, expected, rtol=0, atol=h**2 + 10 * EPS / h)


@pytest.mark.parametrize("namespace", NUMPY_AND_STRICT)
@pytest.mark.parametrize("class_axis", [0, 1])
@pytest.mark.parametrize(
    "dtype, shift, largest_others",
    [(np.float32, 16.0, 1e-4), (np.float64, 34.0, 1e-12)],
    ids=["float32", "float64"],
)
def test_the_jacobian_product_keeps_its_accuracy_near_certainty(
    namespace, class_axis, dtype, shift, largest_others, rng
):
    """Every sample nearly certain of one class, the others summing to at
    most ``largest_others`` (from 1e-7 in float32, 1e-15 in float64):
    each entry of ``J(p) z`` from probabilities in ``dtype`` is within a
    few of its roundings of the product of the exact probabilities,
    relative to the magnitudes of its terms. Written as ``p * (z - p .
    z)``, the entry of the certain class is a difference of numbers of the
    size of ``z``, off by about a rounding of ``z``: 1e-4 of itself in
    float64, 1e-3 in float32, and more.

    The reference is in long double (x86-64's 80 bits): the other
    entries by that formula, in which nothing cancels, and the certain
    one as minus their sum, which is exact for exact probabilities."""
    xp = np if namespace == "numpy" else pytest.importorskip(namespace)
    n_samples, n_classes = 50, 5
    samples = np.arange(n_samples)
    scores = rng.standard_normal((n_samples, n_classes))
    certain = rng.integers(n_classes, size=n_samples)
    scores[samples, certain] += shift
    exact = np.exp(scores.astype(np.longdouble))
    exact /= exact.sum(axis=1, keepdims=True)
    others = 1.0 - exact[samples, certain]
    assert np.all(others < largest_others)
    P = exact.astype(dtype)
    direction = rng.standard_normal((n_samples, n_classes)).astype(dtype)
    exact_direction = direction.astype(np.longdouble)
    p_dot_z = np.sum(exact * exact_direction, axis=1, keepdims=True)
    expected = exact * (exact_direction - p_dot_z)
    expected[samples, certain] = 0.0
    expected[samples, certain] = -expected.sum(axis=1)
    magnitudes = exact * (
        np.abs(exact_direction)
        + np.sum(exact * np.abs(exact_direction), axis=1)[:, None]
    )
    magnitudes[samples, certain] = 0.0
    magnitudes[samples, certain] = magnitudes.sum(axis=1)
    if class_axis == 0:
        P, direction = P.T.copy(), direction.T.copy()
    product = jacobian_product(
        xp.asarray(P), xp.asarray(direction), xp, class_axis=class_axis
    )
    product = np.asarray(product).astype(np.longdouble)
    if class_axis == 0:
        product = product.T
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(product - expected) <= 8 * eps * magnitudes)
    # The direct formula's entry of the certain class would be off by about
    # eps |z|, far beyond this bound.
    assert np.all(magnitudes[samples, certain] < 1e-2 * np.abs(exact_direction).max())

"""Weighted Gram matrices, one product a set or all the sets formed
together, against the sum written out row by row."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_softmax import _grams
from sklearn_softmax._grams import (
    gram_multiply_adds,
    stacks_grams,
    takes_rank_k,
    weighted_grams,
)

EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize(
    "n_sets, n_columns, stacked",
    [
        (1, 3, False),
        (3, 6, False),
        (6, 6, True),
        (45, 11, True),
        (10, 40, False),
        (2, 65, False),
    ],
)
@pytest.mark.parametrize("chunk_floats", [None, 50])
@pytest.mark.parametrize("signs", ["mixed", "non-negative", "non-positive"])
@pytest.mark.parametrize("intercept", [False, True])
def test_the_grams_are_the_sums_of_the_weighted_outer_products(
    n_sets, n_columns, stacked, chunk_floats, signs, intercept, rng, monkeypatch
):
    """Each matrix within the rounding of a sum of ``m`` products, ``m + 4``
    roundings of the sum of the terms' magnitudes, entry by entry (the
    square roots of weights of one sign, one product a set, add two), and
    exactly symmetric; formed together, a few rows at a time or all at
    once; the rows ``[x, 1]`` with an intercept, and the weighted rows
    written in a workspace of more rows, whatever it held."""
    if chunk_floats is not None:
        monkeypatch.setattr(_grams, "_CHUNK_FLOATS", chunk_floats)
    assert stacks_grams(n_sets, n_columns) == stacked
    m = 70
    A = rng.standard_normal((m, n_columns))
    C = rng.standard_normal((n_sets, m))
    if signs != "mixed":
        C = np.abs(C) * (1.0 if signs == "non-negative" else -1.0)
        C[:, 3] = 0.0
    X = A[:, : n_columns - int(intercept)].copy()
    if intercept:
        A[:, -1] = 1.0
    workspace = np.full((m + 5, X.shape[1]), np.nan)
    grams = weighted_grams(X, C, intercept, workspace)
    expected = np.einsum("ji,ia,ib->jab", C, A, A)
    magnitudes = np.einsum("ji,ia,ib->jab", np.abs(C), np.abs(A), np.abs(A))
    assert grams.shape == (n_sets, n_columns, n_columns)
    assert np.all(np.abs(grams - expected) <= (m + 4) * EPS * magnitudes)
    assert_array_equal(grams, np.swapaxes(grams, 1, 2))


@pytest.mark.parametrize("n_sets", [1, 6])
def test_a_block_without_rows_has_zero_grams(n_sets):
    grams = weighted_grams(np.zeros((0, 6)), np.zeros((n_sets, 0)))
    assert_array_equal(grams, np.zeros((n_sets, 6, 6)))


def test_the_choice_follows_the_sets_and_the_columns():
    """At least ``min(r, 4 sqrt(r))`` sets, and more than one; at most 127
    columns, whose products of 64 rows fill a chunk."""
    assert not stacks_grams(1, 1)
    assert stacks_grams(3, 3) and not stacks_grams(2, 3)
    assert stacks_grams(40, 100) and not stacks_grams(39, 100)
    assert stacks_grams(1225, 127) and not stacks_grams(1225, 128)
    assert 127 * 128 // 2 * 64 <= _grams._CHUNK_FLOATS < 128 * 129 // 2 * 64


def test_the_rank_k_update_follows_the_shape():
    """From 16 columns, on 2^16 entries or from 64 columns."""
    assert takes_rank_k(4096, 16) and not takes_rank_k(4095, 16)
    assert not takes_rank_k(10**6, 15)
    assert takes_rank_k(70, 64) and not takes_rank_k(70, 63)


@pytest.mark.parametrize(
    ("n_sets", "n_rows", "n_features", "intercept", "one_triangle"),
    [
        (1, 70, 64, True, True),
        (1, 70, 63, True, False),
        (1, 70, 64, False, True),
        (1, 70, 63, False, False),
        (6, 40, 4, True, True),
        (3, 40, 4, True, False),
    ],
)
def test_the_multiply_adds_count_what_the_kernels_form(
    n_sets, n_rows, n_features, intercept, one_triangle
):
    """One triangle, ``r (r + 1) / 2`` a row and set, where the rank-k
    update (64 columns of X, with or without the intercept's) or the
    stacked sets form it; ``r^2`` where general products form the whole, as
    always with ``general``."""
    n_columns = n_features + int(intercept)
    whole = n_sets * n_rows * n_columns**2
    triangle = n_sets * n_rows * n_columns * (n_columns + 1) / 2
    assert gram_multiply_adds(n_sets, n_rows, n_features, intercept) == (
        triangle if one_triangle else whole
    )
    general = gram_multiply_adds(n_sets, n_rows, n_features, intercept, general=True)
    assert general == whole

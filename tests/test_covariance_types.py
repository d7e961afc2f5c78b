"""The HC1 and cluster-robust covariances against statsmodels."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import statsmodels.stats.sandwich_covariance as sandwich
from _statsmodels import anes96, fit_exactly, mixed_problem, mnlogit
from numpy.testing import assert_allclose
from sklearn import config_context

from sklearn_softmax import softmax_inference

# The estimates agree with MNLogit's to about 1e-11 relative; statsmodels
# inverts its Hessian directly, which costs a few more digits on the
# smallest entries of the covariance, none on the standard errors.
RTOL = 1e-6


def test_hc1_is_hc0_corrected_by_n_over_n_minus_p():
    X, y = anes96()
    clf = fit_exactly(X, y)
    result = softmax_inference(clf, X, y, reference_class=0, cov_type="HC1")
    # MNLogit's own cov_type='HC1' applies no correction in statsmodels 0.15;
    # its sandwich module's does.
    reference = mnlogit(X, y, cov_type="HC0")
    expected = sandwich.cov_white_simple(reference, use_correction=True)
    assert_allclose(
        result.bse, np.sqrt(np.diag(expected)).reshape(6, 6, order="F"), rtol=RTOL
    )
    hc0 = softmax_inference(clf, X, y, reference_class=0, cov_type="HC0")
    assert_allclose(
        result.cov_params(), hc0.cov_params() * 944 / (944 - 36), rtol=1e-12
    )


@pytest.mark.parametrize("labels", ["integers", "strings"])
def test_cluster_equals_mnlogit(labels):
    X, y = anes96()
    decade = (X["age"].to_numpy() // 10).astype(int)
    groups = decade if labels == "integers" else np.array([f"g{g}" for g in decade])
    clf = fit_exactly(X, y)
    result = softmax_inference(
        clf, X, y, reference_class=0, cov_type="cluster", groups=groups
    )
    reference = mnlogit(X, y, cov_type="cluster", cov_kwds={"groups": decade})
    assert_allclose(result.bse, reference.bse, rtol=RTOL)
    assert_allclose(result.pvalues, reference.pvalues, rtol=RTOL)
    # The effects' standard errors follow the covariance.
    effects = result.marginal_effects()
    expected = reference.get_margeff()
    assert_allclose(effects.bse, expected.margeff_se, rtol=RTOL)


@pytest.mark.parametrize("C", [np.inf, 0.5])
@pytest.mark.parametrize("cov_type", ["HC1", "cluster"])
def test_integer_weights_equal_repeated_rows(C, cov_type):
    X, y = mixed_problem(n_samples=200)
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=len(y))
    groups = rng.integers(0, 25, size=len(y))
    results = []
    for repeat in (counts, None):
        data, labels, in_groups = (
            (X, y, groups)
            if repeat is None
            else tuple(np.repeat(a, counts, axis=0) for a in (X, y, groups))
        )
        weights = counts if repeat is None else None
        clf = fit_exactly(data, labels, weights, C=C)
        options = {"groups": in_groups} if cov_type == "cluster" else {}
        results.append(
            softmax_inference(clf, data, labels, weights, cov_type=cov_type, **options)
        )
    weighted, repeated = results
    assert_allclose(weighted.bse, repeated.bse, rtol=1e-7)


def test_cluster_sums_over_blocks_and_sparse_rows():
    X, y = mixed_problem()
    groups = np.random.default_rng(0).integers(0, 40, size=len(y))
    clf = fit_exactly(X, y)
    whole = softmax_inference(clf, X, y, cov_type="cluster", groups=groups)
    # Blocks of a few rows: clusters straddle them.
    with config_context(working_memory=0.0005):
        blocked = softmax_inference(
            clf, sp.csr_matrix(X), y, cov_type="cluster", groups=groups
        )
    assert_allclose(blocked.cov_params(), whole.cov_params(), rtol=1e-10, atol=1e-15)
    # Each sample its own cluster is HC0, and the correction
    # n / (n - 1) (n - 1) / (n - p) that of HC1.
    singletons = softmax_inference(
        clf, X, y, cov_type="cluster", groups=np.arange(len(y))
    )
    hc1 = softmax_inference(clf, X, y, cov_type="HC1")
    assert_allclose(singletons.cov_params(), hc1.cov_params(), rtol=1e-10, atol=1e-15)


def test_bad_groups_are_refused():
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    cases = [
        ({"cov_type": "cluster"}, "needs groups"),
        ({"groups": np.zeros(len(y))}, "cov_type='cluster' only"),
        ({"cov_type": "cluster", "groups": np.zeros(len(y))}, "at least 2 clusters"),
        (
            {"cov_type": "cluster", "groups": np.r_[np.nan, np.arange(len(y) - 1.0)]},
            "missing values",
        ),
        (
            {
                "cov_type": "cluster",
                "groups": np.array(["a", *range(len(y) - 1)], dtype=object),
            },
            "cannot be compared",
        ),
        ({"cov_type": "cluster", "groups": np.arange(3)}, "inconsistent numbers"),
        (
            {
                "cov_type": "cluster",
                "groups": np.c_[np.arange(len(y)), np.ones(len(y))],
            },
            r"one cluster label per sample, .* got shape \(400, 2\)",
        ),
        (
            {
                "cov_type": "cluster",
                "groups": pd.Series(
                    [None, *(str(i % 5) for i in range(len(y) - 1))]
                ).astype("string"),
            },
            "missing values",
        ),
        (
            {"cov_type": "cluster", "groups": np.array([None, *range(len(y) - 1)])},
            "missing values",
        ),
        (
            {
                "cov_type": "cluster",
                "groups": np.array(
                    ["NaT", *(f"2020-01-0{1 + i % 5}" for i in range(len(y) - 1))],
                    dtype="datetime64[D]",
                ),
            },
            "missing values",
        ),
        ({"cov_type": "HC3"}, "cov_type must be one of"),
    ]
    for options, match in cases:
        with pytest.raises(ValueError, match=match):
            softmax_inference(clf, X, y, **options)
    few = slice(0, 8)
    small = fit_exactly(X[few], y[few], C=1.0)
    with pytest.raises(ValueError, match=r"\(n = 8, .*\(p = 8\)"):
        softmax_inference(small, X[few], y[few], cov_type="HC1")

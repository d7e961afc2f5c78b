"""The middle of each covariance sandwich and its small-sample correction.

With ``n`` the sum of the frequency weights, ``p = r (K - 1)`` the free
parameters (MNLogit's count) and ``G`` the clusters:

- 'nonrobust': the information, no correction;
- 'HC0': the outer product of the scores, no correction;
- 'HC1': the same, times ``n / (n - p)``;
- 'cluster': the outer product of the clusters' score sums, times
  ``G / (G - 1) (n - 1) / (n - p)``, statsmodels' CRV1 correction
  (``use_correction=True``, its default).
"""

import math
import sys

import numpy as np
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._information import cluster_score_outer_product, score_outer_product

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


def check_cov_type(cov_type, groups):
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}; got {cov_type!r}.")
    if cov_type == "cluster" and groups is None:
        raise ValueError("cov_type='cluster' needs groups, each sample's cluster.")
    if cov_type != "cluster" and groups is not None:
        raise ValueError(
            f"groups is used by cov_type='cluster' only; got cov_type={cov_type!r}."
        )


def _missing(values):
    """Which of a float, datetime or object array's values are missing:
    NaN, NaT, None, or pandas' NA (pandas, where it made the values, says
    which)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        return np.asarray(pandas.isna(values), dtype=bool)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "mM":
        return np.isnat(values)
    return np.array(
        [v is None or (isinstance(v, float) and math.isnan(v)) for v in values],
        dtype=bool,
    )


def encode_groups(groups, y, sample_weight):
    """Each sample's cluster as an integer code, and the number of clusters
    among the samples of positive weight."""
    if np.ndim(groups) == 2 and np.shape(groups)[1] != 1:
        raise ValueError(
            "groups must hold one cluster label per sample, of shape "
            f"(n_samples,); got shape {np.shape(groups)}. Clusters of two ways "
            "at once are not supported."
        )
    groups = column_or_1d(groups, warn=True)
    check_consistent_length(y, groups)
    if groups.dtype.kind in "fmMO" and _missing(groups).any():
        raise ValueError("groups has missing values (NaN, NaT, None or NA).")
    try:
        _, codes = np.unique(groups, return_inverse=True)
    except TypeError:
        raise ValueError(
            f"groups' values, of dtype {groups.dtype}, cannot be compared with "
            "one another: give one type of label."
        ) from None
    codes = codes.ravel()
    n_groups = np.unique(codes[sample_weight > 0]).size
    if n_groups < 2:
        raise ValueError(
            f"cov_type='cluster' needs at least 2 clusters among the samples of "
            f"positive weight; groups has {n_groups}."
        )
    return codes, n_groups


def check_correction(cov_type, nobs, n_free):
    if cov_type in ("HC1", "cluster") and not nobs > n_free:
        raise ValueError(
            f"cov_type={cov_type!r} corrects by n / (n - p), which needs more "
            f"observations (n = {nobs:g}, the sum of the sample weights) than "
            f"free parameters (p = {n_free})."
        )


def meat_and_correction(
    cov_type,
    information,
    X,
    residual,
    sample_weight,
    fit_intercept,
    clusters,
    n_free,
    class_factor=None,
):
    """The middle ``M`` of the sandwich and the factor it is scaled by;
    ``clusters`` is :func:`encode_groups`' pair for 'cluster'.

    ``class_factor``, each sample's class weight ``c_i`` (None: all 1),
    weighs its score in the estimating equation: a sample of frequency
    weight ``s_i`` counts as ``s_i`` copies, each contributing ``c_i g_i``,
    so HC0's middle is ``sum_i s_i c_i^2 g_i g_i^T`` and a cluster's score
    sum is ``sum_i s_i c_i g_i``. The corrections count the observations
    ``n`` by the sample weights alone.
    """
    if cov_type == "nonrobust":
        return information, 1.0
    nobs = sample_weight.sum()
    if class_factor is not None:
        residual = class_factor[:, np.newaxis] * residual
    if cov_type == "cluster":
        codes, n_groups = clusters
        meat = cluster_score_outer_product(
            X, residual, sample_weight, codes, fit_intercept
        )
        return meat, n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_free)
    meat = score_outer_product(X, residual, sample_weight, fit_intercept)
    return meat, (nobs / (nobs - n_free) if cov_type == "HC1" else 1.0)

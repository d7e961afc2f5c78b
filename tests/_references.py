"""LogisticRegression as the reference for every kind of input.

The class weights are turned into sample weights here, by the formulas of
SoftmaxRegression's documentation, and LogisticRegression is given those:
the reference then owes nothing to either estimator's handling of
``class_weight``.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

# Tight enough that the reference's own error is far below the comparisons.
# 'newton-cholesky' takes exact Newton steps and reaches it; 'lbfgs' stops
# earlier, on the relative decrease of the objective, whatever tol asks.
REFERENCE_TOL = 1e-12


def effective_sample_weight(y, sample_weight, class_weight):
    """Each sample's weight times its class's: 'balanced' gives class ``k``
    ``S / (K_present S_k)``, ``S_k`` its total sample weight; a dict maps
    labels to weights, 1 for the classes it leaves out."""
    weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    weights = weights.astype(np.float64)
    if class_weight is None:
        return weights
    classes = np.unique(y)
    if class_weight == "balanced":
        totals = np.array([weights[y == label].sum() for label in classes])
        per_class = totals.sum() / (np.count_nonzero(totals) * totals)
    else:
        per_class = np.array([class_weight.get(label, 1.0) for label in classes])
    return weights * per_class[np.searchsorted(classes, y)]


def logistic_regression(
    X, y, sample_weight=None, class_weight=None, C=1.0, fit_intercept=True
):
    """LogisticRegression fitted to ``tol=REFERENCE_TOL`` with the sample
    weights ``class_weight`` stands for; returns it and those weights."""
    weights = effective_sample_weight(y, sample_weight, class_weight)
    reference = LogisticRegression(
        C=C,
        fit_intercept=fit_intercept,
        solver="newton-cholesky",
        tol=REFERENCE_TOL,
        max_iter=1000,
    ).fit(X, y, sample_weight=weights)
    return reference, weights


def coefficient_tolerance(n_params, grad_norm, curvature):
    """How far from the optimum a gradient of at most ``grad_norm`` in each
    of ``n_params`` entries leaves the parameters, along a least
    ``curvature``: at most ``|g|_2 / mu <= sqrt(n_params) grad_norm / mu``,
    for the fit and for the reference (whose ``REFERENCE_TOL`` adds its
    own), plus the rounding of parameters of order one."""
    rounding = 16 * np.finfo(np.float64).eps
    return np.sqrt(n_params) * (grad_norm + REFERENCE_TOL) / curvature + rounding

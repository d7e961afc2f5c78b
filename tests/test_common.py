"""scikit-learn's estimator checks: the API contract, for every solver."""

import numpy as np
import pytest
from _namespaces import runs_here
from sklearn.utils.estimator_checks import estimator_checks_generator

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV
from sklearn_softmax._solvers import SOLVERS, STOCHASTIC_SOLVERS

ESTIMATORS = (
    [SoftmaxRegression()]
    + [
        SoftmaxRegression(solver=solver, random_state=0)
        for solver in sorted(SOLVERS) + list(STOCHASTIC_SOLVERS)
    ]
    + [
        SoftmaxRegression(C=np.inf),
        SoftmaxRegression(l1_ratio=1.0),
        SoftmaxRegression(l1_ratio=0.5),
        SoftmaxRegression(l1_ratio=1.0, l1_groups="features"),
        # Its truncated CG rounds differently on weighted and repeated
        # samples, so the two fits agree to within tol, not to rounding (at
        # the default tol, to 2e-7 relative with the oldest supported
        # versions): the weight equivalence check compares them at a tol
        # its 1e-7 can resolve.
        SoftmaxRegression(
            l1_ratio=1.0, l1_groups="features", solver="newton-cg", tol=1e-8
        ),
        SoftmaxRegression(label_smoothing=0.2),
        SoftmaxRegression(solver="sgd", average=True, random_state=0),
        SoftmaxRegression(solver="sgd", l1_ratio=1.0, random_state=0),
    ]
    + [
        # Likewise along its path of C up to 1e4, where the objective is
        # flat: its weighted and repeated fits agree to the check's 1e-7
        # when converged to a gradient of 1e-12 (at 1e-8 and 1e-10 they
        # differed by up to 4e-7 relative, with or without the
        # preconditioner of Newton-CG).
        SoftmaxRegressionCV(Cs=3, cv=3, tol=1e-12),
        SoftmaxRegressionCV(Cs=3, cv=3, l1_ratios=[0.5, 1.0], l1_groups="features"),
    ]
)


def _check_id(check):
    name = getattr(check, "func", check).__name__
    keywords = getattr(check, "keywords", {})
    arguments = ",".join(f"{key}={value}" for key, value in keywords.items())
    return f"{name}({arguments})" if arguments else name


# Every check scikit-learn has for each estimator, as parametrize_with_checks
# gives them, less the array API checks of namespaces and devices missing
# here (see tests/_array_api.py), which would only skip.
CHECKS = [
    pytest.param(estimator, check, id=f"{estimator!r}-{_check_id(check)}")
    for base in ESTIMATORS
    for estimator, check in estimator_checks_generator(base)
    if runs_here(check)
]


@pytest.mark.parametrize("estimator, check", CHECKS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

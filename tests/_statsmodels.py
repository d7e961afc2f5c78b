"""statsmodels' MNLogit as the reference of the inference results, and the
problems the comparisons run on."""

import copy

import numpy as np
import statsmodels.api as sm

from sklearn_softmax import SoftmaxRegression

ANES_FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]

# Newton's method to a gradient of 1e-10: on these problems the estimates
# then agree with MNLogit's to about 1e-11 relative, five orders below the
# 1e-6 of the comparisons.
EXACT = {"C": np.inf, "solver": "newton-cg", "tol": 1e-10, "max_iter": 200}


def anes96():
    """statsmodels' 1996 American National Election Study: party
    identification in 7 classes, the data of MNLogit's own example."""
    data = sm.datasets.anes96.load_pandas()
    return data.exog[ANES_FEATURES], data.endog.to_numpy().astype(int)


def mixed_problem(n_samples=400, seed=0):
    """Labels from a softmax model on a normal, a binary and a count feature
    (Poisson), in 3 classes."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(size=n_samples),
            rng.integers(0, 2, n_samples),
            rng.poisson(2.0, n_samples),
        ]
    ).astype(float)
    W = rng.normal(scale=0.5, size=(3, 3))
    P = np.exp(X @ W - 0.5)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y


def mnlogit(X, y, cov_type="nonrobust", cov_kwds=None, constant=True):
    """MNLogit fitted by Newton's method to its convergence, the null model
    too (its default optimiser stops near 1e-9 relative)."""
    exog = np.asarray(X, dtype=float)
    exog = sm.add_constant(exog) if constant else exog
    options = {} if cov_kwds is None else {"cov_kwds": cov_kwds}
    result = sm.MNLogit(y, exog).fit(
        method="newton", disp=0, maxiter=100, cov_type=cov_type, **options
    )
    result.set_null_options(method="newton", maxiter=100)
    return result


def fit_exactly(X, y, sample_weight=None, **params):
    return SoftmaxRegression(**{**EXACT, **params}).fit(X, y, sample_weight)


def at_estimates(model, reference):
    """A copy of a fitted ``model`` whose parameters are MNLogit's estimates
    ``reference.params`` (against the first class), centred over the
    classes as a fit leaves them: what is computed from the parameters
    then differs from statsmodels' by rounding only, not by the gap
    between the two fits, each within its tolerance."""
    model = copy.deepcopy(model)
    params = np.asarray(reference.params, dtype=np.float64)
    theta = np.hstack([np.zeros((params.shape[0], 1)), params])
    theta -= theta.mean(axis=1, keepdims=True)
    model.intercept_ = theta[0].copy()
    model.coef_ = np.ascontiguousarray(theta[1:].T)
    return model

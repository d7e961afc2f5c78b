"""Small random problems shared by the tests."""

import numpy as np
import scipy.sparse as sp
from sklearn import __version__ as sklearn_version
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.utils.fixes import parse_version


def make_problem(
    n_samples=40, n_features=5, n_classes=4, *, dtype=np.float64, sparse=False, seed=0
):
    """A small random multinomial problem with integer labels and weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    X = X.astype(dtype)
    y = rng.integers(n_classes, size=n_samples)
    y[:n_classes] = np.arange(n_classes)
    sample_weight = rng.uniform(0.1, 3.0, size=n_samples).astype(dtype)
    return X, y, sample_weight


def penalised_objective(model, X, y, C, sample_weight=None):
    """LogisticRegression's objective at a fitted model, from its probabilities.

    The mean log-loss weighted by ``sample_weight`` plus
    ``||coef_||^2 / (2 C S)``, computed in float64 without the package's loss.
    """
    total = len(y) if sample_weight is None else np.sum(sample_weight)
    penalty = np.sum(np.asarray(model.coef_, dtype=np.float64) ** 2) / (2 * C * total)
    proba = model.predict_proba(X).astype(np.float64)
    return log_loss(y, proba, sample_weight=sample_weight) + penalty


def l1_logistic_regression(l1_ratio, C, **params):
    """LogisticRegression with an L1 share, across its API change in 1.8."""
    if parse_version(sklearn_version) >= parse_version("1.8"):
        return LogisticRegression(l1_ratio=l1_ratio, C=C, **params)
    penalty = "l1" if l1_ratio == 1 else "elasticnet"
    return LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=C, **params)


def central_difference(f, x, eps):
    """Central finite differences of a scalar or array function of ``x``."""
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step.flat[j] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    return np.stack(columns, axis=-1)


def loss_value(loss, coef, X, y, sample_weight, l2_reg_strength):
    """The objective of ``loss`` bound to the data, at ``coef``."""
    objective = loss.bind(X, y, sample_weight, l2_reg_strength)
    return objective.value(np.asarray(coef, dtype=np.float64).ravel())


def loss_gradient(loss, coef, X, y, sample_weight, l2_reg_strength):
    """The objective and its gradient, in ``coef``'s shape and ``X``'s dtype."""
    objective = loss.bind(X, y, sample_weight, l2_reg_strength)
    value, gradient = objective.value_and_gradient(
        np.asarray(coef, dtype=np.float64).ravel()
    )
    return value, gradient.reshape(np.shape(coef)).astype(X.dtype)


def gradient_hessian_product(loss, coef, X, y, sample_weight, l2_reg_strength):
    """The gradient and the Hessian-vector product at ``coef``, both in
    ``coef``'s shape and ``X``'s dtype."""
    shape = np.shape(coef)
    objective = loss.bind(X, y, sample_weight, l2_reg_strength)
    _, gradient, flat_hessp = objective.value_gradient_hessp(
        np.asarray(coef, dtype=np.float64).ravel()
    )

    def hessp(V):
        product = flat_hessp(np.asarray(V, dtype=np.float64).ravel())
        return product.reshape(shape).astype(X.dtype)

    return gradient.reshape(shape).astype(X.dtype), hessp

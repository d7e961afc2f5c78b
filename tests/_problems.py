"""Small random problems shared by the tests."""

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
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


def text_like(n_samples, n_features, n_classes, seed=0):
    """Unit-norm rows of ten word counts each, the words drawn from a Zipf
    law (exponent 1.1): the first columns are in most rows, most columns in
    a handful. Labels from a noisy linear model."""
    rng = np.random.default_rng(seed)
    frequencies = np.arange(1, n_features + 1) ** -1.1
    columns = rng.choice(
        n_features, size=(n_samples, 10), p=frequencies / frequencies.sum()
    )
    rows = np.repeat(np.arange(n_samples), 10)
    X = sp.csr_matrix(
        (np.ones(rows.size), (rows, columns.ravel())), shape=(n_samples, n_features)
    )
    X = sp.csr_matrix(sp.diags(1.0 / np.sqrt(X.multiply(X).sum(axis=1).A1)) @ X)
    scores = X @ rng.standard_normal((n_features, n_classes)) * 3
    y = np.argmax(scores + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    return X, y


def distance_and_bound(objective, first, second):
    """The distance between two approximate minimisers ``first`` and
    ``second`` (flat, in ``coef``'s layout, intercepts centred) of a bound
    objective, and a bound on it from their gradients: each lies within its
    gradient's norm over the least curvature between it and the optimum.
    That curvature is taken as the least eigenvalue of the Hessian at
    ``second`` (the intercepts' null direction made definite; both points
    are centred along it), halved as a margin for its change over the
    short distance between the points: a margin, not a proof."""
    gradient_norms = [
        np.linalg.norm(objective.value_and_gradient(x)[1]) for x in (first, second)
    ]
    least_curvature = np.linalg.eigvalsh(objective.value_gradient_hessian(second)[2]())[
        0
    ]
    bound = 2.0 * sum(gradient_norms) / least_curvature
    return np.linalg.norm(first - second), bound


def penalised_objective(model, X, y, C, sample_weight=None, l1_ratio=0.0):
    """LogisticRegression's objective at a fitted model, from its probabilities.

    The mean log-loss weighted by ``sample_weight`` plus
    ``(l1_ratio ||coef_||_1 + (1 - l1_ratio) ||coef_||^2 / 2) / (C S)``,
    computed in float64 without the package's loss.
    """
    total = len(y) if sample_weight is None else np.sum(sample_weight)
    coef = np.asarray(model.coef_, dtype=np.float64)
    penalty = (
        l1_ratio * np.sum(np.abs(coef)) + (1 - l1_ratio) * np.sum(coef**2) / 2
    ) / (C * total)
    proba = model.predict_proba(X).astype(np.float64)
    return log_loss(y, proba, sample_weight=sample_weight) + penalty


def gradient_norm(model, X, y, C, sample_weight=None):
    """The largest absolute entry of the gradient of SoftmaxRegression's
    objective with ``C`` at a fitted model's parameters, from the formulas
    of the documentation (``y`` class indices): ``X^T G + W / (C S)`` and
    ``G^T 1``, with ``G = s (P - Y) / S``; for two classes at the centred
    ``W = (-w / 2, w / 2)``. It does not rest on the model's report of
    itself."""
    W, b = np.asarray(model.coef_, dtype=np.float64).T, model.intercept_
    if W.shape[1] == 1:
        W, b = np.hstack([-W / 2, W / 2]), np.array([-b[0] / 2, b[0] / 2])
    weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    total = weights.sum()
    P = softmax(X @ W + b, axis=1)
    G = weights[:, np.newaxis] * (P - np.eye(W.shape[1])[y]) / total
    gradient = [np.asarray(X.T @ G) + W / (C * total)]
    if model.fit_intercept:
        gradient.append(G.sum(axis=0))
    return max(np.abs(part).max() for part in gradient)


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

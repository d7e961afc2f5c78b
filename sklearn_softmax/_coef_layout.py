"""The coefficients, between the solvers' layout and a fitted model's.

The solvers work on a matrix of ``n_features + 1`` rows (``n_features``
without intercepts) and ``K`` columns, the intercepts its last row. A
fitted model holds ``coef_`` of shape ``(K, n_features)`` and
``intercept_`` of shape ``(K,)``, centred where the optimum is; with two
classes, the difference of the two columns, ``(1, n_features)`` and
``(1,)``, as scikit-learn's binary classifiers hold it.
"""

import numpy as np

from ._two_classes import difference, lift


def solver_matrix(coef, intercept):
    """The ``(n_features + 1, K)`` matrix of a model's ``coef_`` and
    ``intercept_`` (NumPy arrays), the intercepts its last row; with two
    classes (``coef_`` of one row) the centred columns of the difference."""
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    if coef.shape[0] == 1:
        return lift(np.concatenate([coef.ravel(), intercept]))
    return np.vstack([coef.T, intercept[np.newaxis, :]])


def model_attributes(matrix, n_features, fit_intercept, centre_weights, dtype):
    """``coef_`` and ``intercept_`` in ``dtype`` from a solver's matrix of
    ``n_features (+ 1)`` rows: the weights centred across the classes with
    ``centre_weights`` (where the optimum is), and the intercepts, which are
    unpenalised and defined up to a constant, always (zeros without
    ``fit_intercept``). Centring removes what the solver's tolerance
    left."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n_classes = matrix.shape[1]
    W, b = matrix[:n_features], matrix[n_features:].ravel()
    if centre_weights:
        W = W - W.mean(axis=1, keepdims=True)
    b = b - b.mean() if fit_intercept else np.zeros(n_classes)
    if n_classes == 2:
        return (
            difference(W)[np.newaxis, :].astype(dtype),
            np.array([b[1] - b[0]], dtype=dtype),
        )
    return np.array(W.T, dtype=dtype, order="C"), b.astype(dtype)

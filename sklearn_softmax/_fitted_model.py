"""The fitted model that an inference result computes from: the parameters
in the symmetric layout, their covariance, and the data.

The marginal effects, the tests and the predicted probabilities are
functions of the probabilities, which do not depend on the layout of the
parameters; their delta-method covariances are computed in the symmetric
layout, whose covariance :func:`softmax_inference` always has.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax
from sklearn.utils.validation import validate_data

from ._array_api import host_array
from ._information import design_blocks


@dataclass(frozen=True, eq=False)
class FittedModel:
    """What the result's methods compute from.

    Attributes
    ----------
    theta : ndarray of shape (r, K)
        The parameters, the intercept first, each row summing to zero over
        the classes.
    covariance : ndarray of shape (r K, r K)
        Their covariance, class-major (``theta.ravel(order='F')``).
    fit_intercept : bool
        Whether the design rows start with a 1.
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        The data, validated, in float64.
    y_encoded : ndarray of shape (n_samples,)
        The labels as indices into ``classes``.
    sample_weight : ndarray of shape (n_samples,)
        The frequency weights.
    classes : ndarray of shape (K,)
        The estimator's classes.
    feature_names : list of str
        The names of the features, without the intercept.
    validator : SoftmaxRegression
        A shallow copy of the estimator, which validates new rows as its
        own ``predict`` would.
    preprocess : callable or None
        What takes new rows to the estimator's features: the earlier steps'
        ``transform`` of a Pipeline; None for rows of the features
        themselves.
    """

    theta: np.ndarray
    covariance: np.ndarray
    fit_intercept: bool
    X: object
    y_encoded: np.ndarray
    sample_weight: np.ndarray
    classes: np.ndarray
    feature_names: list
    validator: object
    preprocess: object = None

    @property
    def n_classes(self):
        return self.theta.shape[1]

    @property
    def n_features(self):
        return self.theta.shape[0] - int(self.fit_intercept)

    @property
    def n_free_parameters(self):
        """``r (K - 1)``: the parameters of MNLogit's reference layout."""
        return self.theta.shape[0] * (self.n_classes - 1)

    @property
    def nobs(self):
        return float(self.sample_weight.sum())

    def validate_rows(self, X):
        """New rows as float64 on the host, checked against the features of
        the fit (after the earlier steps of a Pipeline)."""
        if self.preprocess is not None:
            X = self.preprocess(X)
        return validate_data(
            self.validator,
            host_array(X),
            reset=False,
            accept_sparse="csr",
            dtype=np.float64,
        )

    def log_proba(self, X_design):
        """Log-probabilities of design rows (a leading 1 when there is an
        intercept), through the shifted log-sum-exp."""
        return log_softmax(X_design @ self.theta, axis=1)

    def blocks(self, X, row_floats):
        """:func:`design_blocks` of ``X`` with this model's intercept."""
        return design_blocks(X, self.fit_intercept, row_floats)


def delta_covariance(jacobian, covariance):
    """``J Sigma J^T``, symmetrised: the delta method's covariance of a
    function whose Jacobian at the estimate is ``jacobian``."""
    product = jacobian @ covariance @ jacobian.T
    return 0.5 * (product + product.T)

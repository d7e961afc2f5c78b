r"""Predicted probabilities of new rows with delta-method standard errors
and intervals computed on the logit scale.

The log-odds of class ``k`` against the others, ``eta_k = log p_k - log(1 -
p_k)``, has the gradient

.. math::

    \frac{\partial \eta_k}{\partial \theta_c}
    = \left(\delta_{kc} - [c \ne k] \frac{p_c}{1 - p_k}\right) \tilde x,

with no division by a probability that may round to zero. Its standard
error gives the interval ``expit(eta_k -+ z s_k)``, which stays inside
[0, 1], and the probability's standard error is ``p_k (1 - p_k) s_k``.
"""

import numpy as np
from scipy.special import expit, logsumexp
from scipy.stats import norm
from sklearn.utils import Bunch

from ._tables import check_alpha


def _log_complements(log_P):
    """``log(1 - p_k)`` for each class, as the log-sum-exp of the others."""
    n_classes = log_P.shape[1]
    complements = np.empty_like(log_P)
    for k in range(n_classes):
        others = np.delete(log_P, k, axis=1)
        complements[:, k] = logsumexp(others, axis=1)
    return complements


def probability_intervals(model, X, alpha):
    """The :class:`~sklearn.utils.Bunch` of ``proba``, ``std_error``,
    ``lower`` and ``upper``, each of shape (n_samples, n_classes)."""
    check_alpha(alpha)
    n_rows, n_classes = model.theta.shape
    covariance = model.covariance.reshape(n_classes, n_rows, n_classes, n_rows)
    n_samples = X.shape[0]
    log_P = np.empty((n_samples, n_classes))
    logit_se = np.empty((n_samples, n_classes))
    log_rest = np.empty((n_samples, n_classes))
    for rows, X_design in model.blocks(X, n_classes * n_classes * n_rows):
        block_log_P = model.log_proba(X_design)
        block_log_rest = _log_complements(block_log_P)
        # The covariance of the rows' scores z = x~ theta, class by class.
        halfway = np.einsum("ia,cadb->icdb", X_design, covariance)
        score_covariance = np.einsum("icdb,ib->icd", halfway, X_design)
        # Row k of U is the gradient of eta_k with respect to the scores:
        # -p_c / (1 - p_k) off the diagonal, at most one, and 1 on it, where
        # the odds p_k / (1 - p_k), which may overflow, are not taken.
        exponent = block_log_P[:, np.newaxis, :] - block_log_rest[:, :, np.newaxis]
        diagonal = np.arange(n_classes)
        exponent[:, diagonal, diagonal] = 0.0
        U = -np.exp(exponent)
        U[:, diagonal, diagonal] = 1.0
        variance = np.einsum("ikc,icd,ikd->ik", U, score_covariance, U)
        log_P[rows] = block_log_P
        log_rest[rows] = block_log_rest
        logit_se[rows] = np.sqrt(np.clip(variance, 0, None))
    logit = log_P - log_rest
    half_width = norm.ppf(1 - alpha / 2) * logit_se
    return Bunch(
        proba=np.exp(log_P),
        std_error=np.exp(log_P + log_rest) * logit_se,
        lower=expit(logit - half_width),
        upper=expit(logit + half_width),
    )

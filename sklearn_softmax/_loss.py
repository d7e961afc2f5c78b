"""The multinomial (softmax) cross-entropy of a linear model, with an L2 penalty.

This module knows the objective, its gradient and its Hessian-vector product for
given parameters. It knows nothing about optimisation or about scikit-learn.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class MultinomialLoss:
    r"""Penalised multinomial cross-entropy of a linear model.

    The parameters are held in one array ``coef`` of shape
    ``(n_features + fit_intercept, n_classes)``: the first ``n_features`` rows
    are the weights ``W``; with an intercept, the last row is ``b``.

    For data ``X`` of shape (n, d), integer labels ``y`` in ``[0, K)`` and
    sample weights ``s`` with sum ``S``, the objective is

    .. math::

        Z = X W + 1 b^T, \quad P = \mathrm{softmax}(Z) \text{ row by row},

        L(W, b) = \frac{1}{S} \sum_i s_i \left(\log \sum_k e^{Z_{ik}}
                  - Z_{i y_i}\right) + \frac{\lambda}{2} \lVert W \rVert_F^2,

    where ``lambda = l2_reg_strength``; ``LogisticRegression`` uses
    ``lambda = 1 / (C S)``. The intercept is not penalised. With the residual
    ``G = s * (P - Y) / S`` (``Y`` the one-hot labels), the gradient is
    ``X^T G + lambda W`` for ``W`` and ``G^T 1`` for ``b``.

    Every method shares the signature ``(coef, X, y, sample_weight,
    l2_reg_strength)``, as scikit-learn's ``LinearModelLoss`` does. ``X`` may be
    a dense array or a scipy.sparse CSR matrix; the work is done in ``X``'s
    floating dtype, so float32 data is never promoted to float64.

    Parameters
    ----------
    n_classes : int
        Number of classes ``K``.
    fit_intercept : bool
        Whether ``coef`` carries an intercept row.
    """

    def __init__(self, n_classes, fit_intercept):
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept

    def n_coef_rows(self, n_features):
        """Number of rows of ``coef`` for ``n_features`` features."""
        return n_features + int(self.fit_intercept)

    def _weights_and_intercept(self, coef, dtype):
        coef = np.asarray(coef, dtype=dtype)
        if self.fit_intercept:
            return coef[:-1], coef[-1]
        return coef, None

    def raw_prediction(self, coef, X):
        """The scores ``Z = X W + 1 b^T``, of shape (n_samples, n_classes)."""
        W, b = self._weights_and_intercept(coef, X.dtype)
        Z = np.asarray(X @ W)
        if b is not None:
            Z += b
        return Z

    def _normalised_weights(self, sample_weight, n_samples, dtype):
        """The weights ``s / S``; ``None`` stands for equal weights."""
        if sample_weight is None:
            return np.full(n_samples, 1.0 / n_samples, dtype=dtype)
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        # A Python float keeps float32 weights in float32.
        return sample_weight / float(sample_weight.sum(dtype=np.float64))

    def _fit_and_probabilities(self, coef, X, y, sample_weight):
        """Data term of the objective, probabilities and normalised weights.

        The scores are shifted by their row maximum before ``exp`` (the
        log-sum-exp trick), so no score overflows, whatever its size.
        """
        n_samples = X.shape[0]
        Z = self.raw_prediction(coef, X)
        Z -= Z.max(axis=1, keepdims=True)
        # Z[i, y_i] after the shift, taken before Z is overwritten by exp(Z).
        z_true = Z[np.arange(n_samples), y]
        P = np.exp(Z, out=Z)
        row_sum = P.sum(axis=1)
        P /= row_sum[:, None]
        sw = self._normalised_weights(sample_weight, n_samples, X.dtype)
        per_sample = np.log(row_sum) - z_true
        data_term = float(np.dot(sw.astype(np.float64), per_sample))
        return data_term, P, sw

    def _penalty(self, W, l2_reg_strength):
        return 0.5 * l2_reg_strength * float(np.vdot(W, W))

    def _backward(self, G, X, W, l2_reg_strength):
        """Map a row-scaled residual ``G`` back to the shape of ``coef``."""
        grad_W = np.asarray(X.T @ G)
        grad_W += l2_reg_strength * W
        if not self.fit_intercept:
            return grad_W
        return np.vstack([grad_W, G.sum(axis=0, keepdims=True)])

    def loss(self, coef, X, y, sample_weight, l2_reg_strength):
        """Value of the penalised objective.

        Parameters
        ----------
        coef : ndarray of shape (n_features + fit_intercept, n_classes)
            Weights, with the intercept as last row when there is one.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Training data, float32 or float64.
        y : ndarray of shape (n_samples,)
            Class indices in ``[0, n_classes)``.
        sample_weight : ndarray of shape (n_samples,) or None
            Sample weights; ``None`` weighs every sample equally.
        l2_reg_strength : float
            Penalty strength ``lambda``.

        Returns
        -------
        loss : float
            The objective.
        """
        W, _ = self._weights_and_intercept(coef, X.dtype)
        data_term, _, _ = self._fit_and_probabilities(coef, X, y, sample_weight)
        return data_term + self._penalty(W, l2_reg_strength)

    def loss_gradient(self, coef, X, y, sample_weight, l2_reg_strength):
        """Objective and its gradient.

        Parameters are as for :meth:`loss`.

        Returns
        -------
        loss : float
            The objective.
        gradient : ndarray of the shape of ``coef``, in ``X``'s dtype
            Its gradient.
        """
        W, _ = self._weights_and_intercept(coef, X.dtype)
        data_term, G, sw = self._fit_and_probabilities(coef, X, y, sample_weight)
        G[np.arange(X.shape[0]), y] -= 1
        G *= sw[:, None]
        gradient = self._backward(G, X, W, l2_reg_strength)
        return data_term + self._penalty(W, l2_reg_strength), gradient

    def gradient_hessian_product(self, coef, X, y, sample_weight, l2_reg_strength):
        """Gradient and a function computing Hessian-vector products.

        For a direction ``V`` (the shape of ``coef``) with scores
        ``Z_V = X V_W + 1 v_b^T``, the softmax Jacobian
        ``dp_k/dz_j = p_k (delta_kj - p_j)`` gives the row-scaled residual
        ``R_i = s_i / S * (p_i * z_i - p_i (p_i . z_i))`` and the product
        ``H V = [X^T R + lambda V_W ; R^T 1]``.

        Parameters are as for :meth:`loss`.

        Returns
        -------
        gradient : ndarray of the shape of ``coef``
            The gradient at ``coef``.
        hessp : callable
            ``hessp(V)`` returns the Hessian at ``coef`` times ``V``. It reuses
            the probabilities computed for the gradient.
        """
        W, _ = self._weights_and_intercept(coef, X.dtype)
        _, P, sw = self._fit_and_probabilities(coef, X, y, sample_weight)
        G = P.copy()
        G[np.arange(X.shape[0]), y] -= 1
        G *= sw[:, None]
        gradient = self._backward(G, X, W, l2_reg_strength)

        def hessp(V):
            V_W, _ = self._weights_and_intercept(V, X.dtype)
            R = self.raw_prediction(V, X)
            R *= P
            R -= P * R.sum(axis=1, keepdims=True)
            R *= sw[:, None]
            return self._backward(R, X, V_W, l2_reg_strength)

        return gradient, hessp

    def bind(self, X, y, sample_weight, l2_reg_strength):
        """The objective on fixed data, as functions of a flat float64 vector.

        Solvers see parameters as one flat float64 vector; this adapter
        reshapes it to ``coef`` and returns flat float64 gradients.

        Returns
        -------
        objective : Objective
            Named tuple of ``value(x)``, ``value_and_gradient(x)`` and
            ``gradient_hessp(x)``.
        """
        shape = (self.n_coef_rows(X.shape[1]), self.n_classes)
        args = (X, y, sample_weight, l2_reg_strength)

        def value(x):
            return self.loss(x.reshape(shape), *args)

        def value_and_gradient(x):
            f, g = self.loss_gradient(x.reshape(shape), *args)
            return f, g.ravel().astype(np.float64, copy=False)

        def gradient_hessp(x):
            g, hessp = self.gradient_hessian_product(x.reshape(shape), *args)

            def flat_hessp(v):
                hv = hessp(v.reshape(shape))
                return hv.ravel().astype(np.float64, copy=False)

            return g.ravel().astype(np.float64, copy=False), flat_hessp

        return Objective(value, value_and_gradient, gradient_hessp)


class Objective(NamedTuple):
    """A smooth objective of a flat parameter vector, as solvers consume it."""

    value: Callable
    value_and_gradient: Callable
    gradient_hessp: Callable

"""The penalty on the weights, split into its smooth and non-smooth parts.

The smooth part is an L2 strength that the loss adds to its value and
gradient; the non-smooth part, if any, is a norm that owns its value, its
proximal map and, where it is smooth, its derivatives: :class:`L1Norm`
(lasso, elastic net) or :class:`GroupNorm` (one feature's weights across
all classes in or out at once). The solvers call these methods and import
nothing from here (see :func:`~sklearn_softmax._solvers.minimize_agd` for
what they ask of a norm). Neither part touches the intercept row.
"""

import numpy as np


class L1Norm:
    """``sum_j weights_j |x_j|``, with non-negative ``weights``.

    Its proximal map is soft-thresholding,
    ``sign(v) max(|v| - step weights, 0)``. It offers no derivatives for
    Newton steps on its support: that support is found one weight at a time
    and kept changing for hundreds of iterations on the problems measured
    (the solvers page has the figures).

    Parameters
    ----------
    weights : array-like of shape (n_params,)
        The weight of each entry of the flat parameter vector; 0 leaves an
        entry (an intercept) unpenalised.
    """

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)

    def value(self, x):
        """The norm of ``x``, a float."""
        return float(np.dot(self.weights, np.abs(x)))

    def prox(self, v, step):
        """``argmin_x norm(x) + |x - v|^2 / (2 step)``."""
        return np.sign(v) * np.maximum(np.abs(v) - step * self.weights, 0.0)


class GroupNorm:
    """``sum_j weights_j |x_j|_2`` over the rows ``x_j`` of ``x`` seen as
    ``shape``, with non-negative ``weights`` (one per row).

    Its proximal map is block soft-thresholding, which scales each row by
    ``max(1 - step weights_j / |v_j|_2, 0)``: a row is zero as a whole or
    not at all. Away from its zero rows the norm is smooth, and it gives the
    gradient and the Hessian-vector product there, for the Newton steps on
    the support (Bareilles, Iutzeler & Malick, 2022).

    Parameters
    ----------
    weights : array-like of shape (n_rows,)
        The weight of each row; 0 leaves a row (the intercepts) unpenalised.
    shape : tuple of int
        ``(n_rows, n_classes)``, the layout of the flat parameter vector.
    """

    def __init__(self, weights, shape):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.shape = shape

    def value(self, x):
        """The norm of ``x``, a float."""
        return float(
            np.dot(self.weights, np.linalg.norm(x.reshape(self.shape), axis=1))
        )

    def prox(self, v, step):
        """``argmin_x norm(x) + |x - v|^2 / (2 step)``."""
        rows = v.reshape(self.shape)
        norms = np.linalg.norm(rows, axis=1)
        threshold = step * self.weights
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
        return (rows * scale[:, np.newaxis]).ravel()

    def _rows(self, x):
        """The rows of ``x`` and the inverse of their norms (0 on zero rows)."""
        rows = x.reshape(self.shape)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            return rows, np.where(norms > 0, 1.0 / norms, 0.0)

    def support(self, x):
        """The entries of the rows that are not held at zero: non-zero or
        unpenalised rows, as a boolean mask on the flat vector."""
        _, inverse_norms = self._rows(x)
        free = (inverse_norms[:, 0] > 0) | (self.weights == 0)
        return np.repeat(free, self.shape[1])

    def smooth_gradient(self, x):
        """The norm's gradient ``weights_j x_j / |x_j|`` on the non-zero
        rows, 0 on the zero rows."""
        rows, inverse_norms = self._rows(x)
        return (self.weights[:, np.newaxis] * inverse_norms * rows).ravel()

    def smooth_hessp(self, x, v):
        """The norm's Hessian ``weights_j (I - u_j u_j^T) / |x_j|`` with
        ``u_j = x_j / |x_j|``, times ``v``, row by row (0 on the zero rows)."""
        rows, inverse_norms = self._rows(x)
        u = rows * inverse_norms
        v_rows = v.reshape(self.shape)
        along = np.sum(u * v_rows, axis=1, keepdims=True)
        scale = self.weights[:, np.newaxis] * inverse_norms
        return (scale * (v_rows - along * u)).ravel()


def split_penalty(kind, share, strength, n_features, shape):
    """The L2 strength and the non-smooth norm of a penalty.

    Parameters
    ----------
    kind : {'l2', 'l1', 'group'}
        The norm that ``share`` of the penalty is: 'l2' is all smooth; 'l1'
        is ``sum |W_jk|``; 'group' is ``sum_j |W_j|_2`` over the rows of
        ``W`` (one feature across all classes).
    share : float in [0, 1]
        The share of the non-smooth norm; ``1 - share`` is ``|W|_F^2 / 2``.
    strength : float
        The whole penalty's multiplier, ``1 / (C S)``.
    n_features : int
        The first ``n_features`` rows of ``coef`` are the weights ``W``, the
        only penalised rows.
    shape : tuple of int
        ``(n_rows, n_classes)``, the layout of ``coef``.

    Returns
    -------
    l2_reg_strength : float
        ``(1 - share) strength``.
    norm : L1Norm, GroupNorm or None
        The non-smooth part, on the flat parameter vector; None when there
        is none.
    """
    if kind == "l2" or share == 0:
        return strength, None
    row_weights = np.zeros(shape[0])
    row_weights[:n_features] = share * strength
    if kind == "l1":
        norm = L1Norm(np.repeat(row_weights, shape[1]))
    else:
        norm = GroupNorm(row_weights, shape)
    return (1.0 - share) * strength, norm

"""A Kronecker-factored approximation of the softmax Hessian, whose inverse
preconditions the conjugate gradients of Newton steps.

With ``x~_i = [x_i, 1]``, weights ``w_i = s_i / S`` and the softmax
Jacobians ``D_i = diag(p_i) - p_i p_i^T``, the Hessian of the objective in
``coef``'s layout (feature-major, class-minor) is

``H = sum_i w_i x~_i x~_i^T (x) D_i + lambda I_penalised``.

Replacing each ``D_i`` by their mean gives

``M = F (x) A + lambda I``,  ``F = sum_i w_i x~_i x~_i^T``,
``A = sum_i w_i D_i``,

which equals ``H`` (the intercept's penalty aside) where the Jacobians do
not vary with the features: at the zero model, where every ``D_i`` is
``(I - 1 1^T / K) / K``, and nearly so while the model is weak. ``M`` keeps
what makes conjugate gradients slow on image-like data, the correlations
between features, which a diagonal preconditioner cannot see. It is the
factorisation behind K-FAC (Martens & Grosse, *Optimizing neural networks
with Kronecker-factored approximate curvature*, ICML 2015), here for one
layer and used as a preconditioner of exact Hessian products rather than in
their place.

With the eigendecompositions ``F = U diag(f) U^T`` and
``A = V diag(a) V^T``, ``M^-1 R = U ((U^T R V) / (f a^T + lambda)) V^T`` for
``R`` in ``coef``'s shape: ``2 p^2 K + 2 p K^2`` multiply-adds. ``F`` depends
on the data alone and is decomposed once; ``A`` is ``K x K`` and follows the
iterate.
"""

import numpy as np

# The most rows (features and intercept) of F: its decomposition then takes
# at most about a second on one core, and F and U 32 MiB each.
_MAX_ROWS = 2048


class KroneckerCurvature:
    """The approximation ``F (x) A + lambda I`` of an objective's Hessian.

    Parameters
    ----------
    feature_moments : callable
        ``feature_moments()`` returns ``F``, ``p x p``; called once, on the
        first :meth:`inverse`.
    class_curvature : callable
        ``class_curvature()`` returns ``A`` at the point where the Hessian
        products are, ``K x K``.
    l2_reg_strength : float
        ``lambda`` > 0.
    cost : float
        What ``F`` and its decomposition cost, in Hessian-vector products;
        a solver forms the approximation only where it expects to save
        more.
    """

    def __init__(self, feature_moments, class_curvature, l2_reg_strength, cost):
        self._feature_moments = feature_moments
        self._class_curvature = class_curvature
        self._l2_reg_strength = l2_reg_strength
        self._features = None
        self.cost = cost

    def inverse(self):
        """A function applying ``M^-1`` to a flat vector in ``coef``'s
        layout, with ``A`` at the point of the objective's last Hessian
        products.

        The null direction of ``A`` (adding one number to every class's
        parameter) is given the mean of its diagonal as its eigenvalue, as
        :func:`~sklearn_softmax._loss.fix_null_directions` does for the
        exact Hessian, so that ``M`` is definite for the intercepts too.
        """
        if self._features is None:
            eigenvalues, U = np.linalg.eigh(self._feature_moments())
            self._features = np.maximum(eigenvalues, 0.0), U
        f, U = self._features
        A = self._class_curvature()
        n_classes = A.shape[0]
        A += np.trace(A) / n_classes**2
        a, V = np.linalg.eigh(A)
        denominator = f[:, np.newaxis] * np.maximum(a, 0.0) + self._l2_reg_strength
        shape = (len(f), n_classes)

        def apply(r):
            R = r.reshape(shape)
            return (U @ ((U.T @ R @ V) / denominator) @ V.T).ravel()

        return apply


def kronecker_curvature(data_term, l2_reg_strength):
    """The :class:`KroneckerCurvature` of a data term with a penalty, or
    None: for sparse data, data of more than ``_MAX_ROWS`` features, data
    terms that offer no ``feature_moments``, and without a penalty, where
    collinear features leave a set of minimisers and conjugate gradients
    find the one of least norm only unpreconditioned (see
    :func:`~sklearn_softmax._loss.hessian_diagonal_at_zero`).

    Its cost, in Hessian-vector products of ``2 n d K`` multiply-adds, is
    ``n p^2`` for ``F`` and about ``4 p^3`` for its eigendecomposition.
    """
    if (
        not l2_reg_strength > 0
        or not hasattr(data_term, "feature_moments")
        or data_term.sparse
    ):
        return None
    n_rows = data_term.n_features + int(data_term.fit_intercept)
    if n_rows > _MAX_ROWS:
        return None
    n_samples = data_term.n_samples
    work = n_samples * n_rows**2 + 4.0 * n_rows**3
    product = max(1.0, 2.0 * n_samples * data_term.n_features * data_term.n_classes)
    return KroneckerCurvature(
        data_term.feature_moments,
        data_term.class_curvature,
        l2_reg_strength,
        work / product,
    )

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

For sparse data, whose ``F`` would be dense,
:class:`DiagonalCovarianceCurvature` keeps two parts of it: ``F`` is the
features' weighted covariance plus the outer product of their means
``m~ = sum_i w_i x~_i`` (whose last entry is the intercept's 1), and the
covariance is replaced by its diagonal,

``F ~ diag(v) + m~ m~^T``,  ``v_j = sum_i w_i x_ij^2 - m~_j^2``

(zero for the intercept). The approximation is exact on the diagonal of
``F`` and along the intercept's row and column. In data whose frequent
columns are in nearly every row, as the common words of text, those
columns and the intercept move together: along that shared direction the
Hessian has its largest eigenvalues, by orders of magnitude, which the
diagonal alone does not see and the mean's outer product does.
``M = (diag(v) + m~ m~^T) (x) A + lambda I`` is inverted in ``A``'s
eigenbasis, where it is, for each eigenvalue ``a_k``, the diagonal
``a_k v + lambda`` plus the rank-one ``a_k m~ m~^T``
(Sherman-Morrison): ``2 p K^2 + O(p K)`` multiply-adds.
"""

import numpy as np

from ._grams import gram_multiply_adds
from ._linalg import equilibrate, positive_diagonal, psd_solver, spans_too_wide

# The most rows (features and intercept) of F, and (parameters) of the exact
# Hessian: F's decomposition, or the Hessian's factorisation, then takes at
# most about a second on one core, and each matrix 32 MiB.
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
        :func:`fix_null_directions` does for the
        exact Hessian, so that ``M`` is definite for the intercepts too.
        """
        if self._features is None:
            self._features = _feature_eigen(
                self._feature_moments(), self._l2_reg_strength
            )
        f, U, scale, penalty = self._features
        a, V = _class_eigen(self._class_curvature())
        denominator = f[:, np.newaxis] * a + np.reshape(penalty, (-1, 1))
        shape = (len(f), len(a))

        def apply(r):
            R = r.reshape(shape)
            if scale is None:
                return (U @ ((U.T @ R @ V) / denominator) @ V.T).ravel()
            R = R / scale
            return ((U @ ((U.T @ R @ V) / denominator) @ V.T) / scale).ravel()

        return apply


def _feature_eigen(F, l2_reg_strength):
    """The eigenvalues (at least zero) and eigenvectors of the features'
    moments ``F``, the scale of its rows (None for 1), and the L2 strength
    along each eigenvector, which :class:`KroneckerCurvature` adds to the
    eigenvalues' products.

    Where ``F``'s diagonal spans too wide a range (see
    :func:`~sklearn_softmax._linalg.spans_too_wide`: the intercept beside
    features of 1e5 and more), the eigenvalues of the directions of its
    small entries are lost in the rounding of the large, and the
    approximation left the intercepts out of every step. Then ``F = D F~
    D`` with ``D`` the roots of its diagonal, the eigenvectors ``u`` are
    ``F~``'s, and the penalty ``lambda I``, which is ``lambda D^-2`` in
    that scaling and no longer shares them, is taken along each as its
    value there, ``lambda u^T D^-2 u``: exact where ``D`` is constant, and
    positive, so that the approximation stays definite.
    """
    # A zero column of X leaves a zero row of F, of scale one.
    diagonal = positive_diagonal(F)
    if spans_too_wide(diagonal):
        equilibrated, scale = equilibrate(F, diagonal)
        eigenvalues, U = np.linalg.eigh(equilibrated)
        penalty = l2_reg_strength * ((U * U).T @ (1.0 / diagonal))
        return np.maximum(eigenvalues, 0.0), U, scale[:, np.newaxis], penalty
    eigenvalues, U = np.linalg.eigh(F)
    return np.maximum(eigenvalues, 0.0), U, None, l2_reg_strength


class DiagonalCovarianceCurvature:
    """The approximation ``(diag(v) + m~ m~^T) (x) A + lambda I`` of an
    objective's Hessian (see the module's notes), which takes no
    ``p x p`` matrix.

    Parameters
    ----------
    column_moments : callable
        ``column_moments()`` returns the features' weighted means and second
        moments, two arrays of ``n_features``; called once, on the first
        :meth:`inverse`.
    class_curvature : callable
        As for :class:`KroneckerCurvature`.
    l2_reg_strength : float
        ``lambda`` > 0.
    fit_intercept : bool
        Whether ``coef`` has an intercept row.
    cost : float
        What the moments cost, in Hessian-vector products.
    """

    def __init__(
        self, column_moments, class_curvature, l2_reg_strength, fit_intercept, cost
    ):
        self._column_moments = column_moments
        self._class_curvature = class_curvature
        self._l2_reg_strength = l2_reg_strength
        self._fit_intercept = fit_intercept
        self._features = None
        self.cost = cost

    def features(self):
        """The features' weighted variances ``v`` and means ``m``, without
        the intercept's entries (zero and one)."""
        if self._features is None:
            means, second_moments = self._column_moments()
            self._features = np.maximum(second_moments - means**2, 0.0), means
        return self._features

    def inverse(self):
        """A function applying ``M^-1`` to a flat vector in ``coef``'s
        layout, with ``A`` at the point of the objective's last Hessian
        products; ``A``'s null direction is handled as by
        :meth:`KroneckerCurvature.inverse`.

        For each eigenvalue ``a`` of ``A``, the features' block is the
        diagonal ``E = a v + lambda`` plus ``c m m^T`` (``m`` the features'
        means), inverted by Sherman-Morrison. With an intercept, whose
        entry of ``v`` is zero and of ``m`` one, the intercept is eliminated
        first: the features' block of its Schur complement has
        ``c = a lambda / (a + lambda)``, and the intercept follows from the
        features. Sherman-Morrison on the whole would subtract two numbers
        of order ``1 / lambda`` for the intercept, which a weak penalty
        leaves with few correct digits.
        """
        v, m = self.features()
        a, V = _class_eigen(self._class_curvature())
        lam = self._l2_reg_strength
        n_features = len(m)
        E = v[:, np.newaxis] * a + lam
        c = a * lam / (a + lam) if self._fit_intercept else a
        m_over_E = m[:, np.newaxis] / E
        # (E + c m m^T)^-1 y = E^-1 y - E^-1 m c (m^T E^-1 y) / (1 + c m^T E^-1 m).
        rank_one = c / (1.0 + c * (m @ m_over_E))
        shape = (n_features + int(self._fit_intercept), len(a))

        def apply(r):
            # Solved in place of the rotated right-hand side, a new array.
            Y = r.reshape(shape) @ V
            Z_f = Y[:n_features]
            if self._fit_intercept:
                # The intercept's row of M z is a m^T z_f + (a + lambda) z_b.
                Z_f -= np.outer(m, a * Y[-1] / (a + lam))
            Z_f /= E
            Z_f -= m_over_E * (rank_one * (m @ Z_f))
            if self._fit_intercept:
                Y[-1] = (Y[-1] - a * (m @ Z_f)) / (a + lam)
            return (Y @ V.T).ravel()

        return apply


class ExactCurvature:
    """The Hessian itself, formed as a dense matrix at the point of the
    objective's last Hessian-vector products and factored: as a
    preconditioner, conjugate gradients then find the exact Newton step in
    one product, so a solver takes exact steps for the cost of forming it.

    Parameters
    ----------
    hessian : callable
        ``hessian()`` returns the penalised Hessian at the point of the last
        products, definite as an objective's ``value_gradient_hessian``
        makes it (see :class:`~sklearn_softmax._loss.Objective`).
    cost : float
        What forming and factoring it costs, in Hessian-vector products;
        a solver forms it only where a Newton step takes more products.
    """

    def __init__(self, hessian, cost):
        self._hessian = hessian
        self.cost = cost

    def inverse(self):
        """A function applying the inverse of the Hessian at the point of
        the objective's last products to a flat vector (see
        :func:`~sklearn_softmax._linalg.psd_solver`)."""
        return psd_solver(self._hessian())


def fix_null_directions(hessian, shape, first_unpenalised):
    """Add ``mu 1 1^T / K`` to the ``K x K`` diagonal block of each
    unpenalised row of ``coef`` (the intercept; every row without a
    penalty), in place, for a Hessian of any Array API namespace.

    Adding one number to a row's parameters of every class changes no
    probability, so the Hessian is singular along these directions and the
    gradient orthogonal to them. With ``mu`` > 0 on them alone, the Hessian
    is definite, and the Newton step is the same as before in every other
    direction and orthogonal to these: parameters that start centred stay
    centred. ``mu`` is the mean of the block's diagonal, the scale of its
    other eigenvalues.
    """
    n_rows, n_classes = shape
    for row in range(first_unpenalised, n_rows):
        start = row * n_classes
        block = slice(start, start + n_classes)
        scale = sum(float(hessian[i, i]) for i in range(start, start + n_classes))
        scale /= n_classes
        hessian[block, block] += (scale if scale > 0 else 1.0) / n_classes
    return hessian


def _class_eigen(A):
    """The eigenvalues (at least zero) and eigenvectors of the class
    curvature ``A``, whose null direction (adding one number to every
    class) is given the mean of ``A``'s diagonal as its eigenvalue by
    :func:`fix_null_directions`, as for the exact
    Hessian, so that the approximation is definite for the intercepts too.
    ``A`` is changed in place."""
    fix_null_directions(A, (1, A.shape[0]), 0)
    a, V = np.linalg.eigh(A)
    return np.maximum(a, 0.0), V


def kronecker_curvature(data_term, l2_reg_strength):
    """The approximation of a data term's Hessian with a penalty: the
    :class:`KroneckerCurvature` of dense data, the
    :class:`DiagonalCovarianceCurvature` of sparse data (see
    :func:`_diagonal_covariance_curvature`); or None: for dense data whose
    ``F`` has more than ``_MAX_ROWS`` rows (features and intercept), sparse
    data with fewer stored values than ``p K``, data terms that offer no
    ``feature_moments``, and without a
    penalty, where collinear features leave a set of minimisers and
    conjugate gradients find the one of least norm only unpreconditioned
    (see :func:`~sklearn_softmax._loss.hessian_diagonal_at_zero`).

    The cost of the dense one, in Hessian-vector products of ``2 n d K``
    multiply-adds, is ``n p^2`` for ``F`` and about ``4 p^3`` for its
    eigendecomposition.
    """
    if not l2_reg_strength > 0 or not hasattr(data_term, "feature_moments"):
        return None
    n_rows = data_term.n_features + int(data_term.fit_intercept)
    if data_term.sparse:
        return _diagonal_covariance_curvature(data_term, l2_reg_strength, n_rows)
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


def _diagonal_covariance_curvature(data_term, l2_reg_strength, n_rows):
    """The :class:`DiagonalCovarianceCurvature` of sparse data whose
    application, ``2 p K^2`` multiply-adds, costs at most a Hessian-vector
    product, ``2 nnz K``; None where ``p K`` exceeds the stored values.

    Its moments cost two passes over the stored values, ``1 / K`` of a
    product.
    """
    n_classes = data_term.n_classes
    if n_rows * n_classes > data_term.n_values:
        return None

    def column_moments():
        return data_term.column_means(), data_term.column_second_moments()

    return DiagonalCovarianceCurvature(
        column_moments,
        data_term.class_curvature,
        l2_reg_strength,
        data_term.fit_intercept,
        1.0 / n_classes,
    )


def exact_curvature(
    hessian,
    n_samples,
    n_features,
    n_classes,
    fit_intercept,
    l2_reg_strength,
    dtype,
    general_products=False,
):
    """The :class:`ExactCurvature` whose penalised Hessian at the point of
    the last products ``hessian()`` returns, for data of ``n_samples x
    n_features``, ``n_classes`` classes and ``dtype`` (of any namespace);
    None for data other than float64, without a penalty (see
    :func:`kronecker_curvature`), and where the Hessian has more than
    ``_MAX_ROWS`` rows.

    Its cost, in products of ``2 n d max(K, 8)`` multiply-adds (a product
    with few classes costs about what one with eight does, the reading of
    ``X``; two classes, whose passes multiply one column at a fifth to a
    quarter of that time, are counted so too: the Hessian also
    preconditions the steps after the one that forms it, which the price
    leaves out, and counted at their time the fits took longer, see the
    solvers page), is what :func:`~sklearn_softmax._grams.gram_multiply_adds`
    counts to form it, ``J n (d + 1) (d + 2) / 2`` multiply-adds where one
    triangle of each block is formed and ``J n (d + 1)^2`` where the whole
    (always with ``general_products``, for a Hessian whose blocks are
    general products), with ``J`` the number of blocks summed over the data
    (one for two classes, ``K (K - 1) / 2`` for more), and ``p^3 / 3`` to
    factor it.

    Offered for float64 data only: the rounding of a float32 gradient along
    the directions of least curvature is what exact steps amplify, and
    what truncated conjugate gradients leave alone.
    """
    n_rows = n_features + int(fit_intercept)
    n_params = n_rows * n_classes
    if (
        not str(dtype).endswith("float64")
        or not l2_reg_strength > 0
        or n_params > _MAX_ROWS
    ):
        return None
    n_blocks = 1 if n_classes == 2 else n_classes * (n_classes - 1) // 2
    work = (
        gram_multiply_adds(
            n_blocks, n_samples, n_features, fit_intercept, general_products
        )
        + n_params**3 / 3.0
    )
    product = 2.0 * n_samples * n_features * max(n_classes, 8)
    return ExactCurvature(hessian, work / max(1.0, product))

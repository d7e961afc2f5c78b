"""The multinomial (softmax) cross-entropy of a linear model, with an L2 penalty.

This module binds the objective to data NumPy or SciPy holds in memory: its
value, gradient and Hessian-vector product as functions of a flat parameter
vector, the form every solver takes, and the bound on its curvature from
which the stochastic solvers take their step. It knows nothing of
scikit-learn. The passes over the data live in :mod:`sklearn_softmax._passes`;
the non-smooth penalties in :mod:`sklearn_softmax._penalties`.

The L2 penalty is added here, by :func:`penalised_objective`, to the data
term of every kind of data: NumPy's and SciPy's, Dask's blocks
(:mod:`sklearn_softmax._loss_dask`) and the arrays of Array API namespaces
(:mod:`sklearn_softmax._loss_array_api`).
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._curvature import (
    DiagonalCovarianceCurvature,
    ExactCurvature,
    KroneckerCurvature,
    exact_curvature,
    fix_null_directions,
    kronecker_curvature,
)
from ._passes import DataPasses
from ._two_classes import lift
from ._vectors import max_abs, namespace, scaling_exponent

# Power iteration approaches the largest eigenvalue from below: the bound is
# raised by this factor to stay on the safe side of it.
_BOUND_MARGIN = 1.05
_POWER_ITERATIONS = 30


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

    With label smoothing ``eps``, the targets are
    ``T = (1 - eps) Y + eps / K`` and each sample's loss is the cross-entropy
    ``-sum_k T_ik log P_ik = log sum_k e^{Z_ik} - sum_k T_ik Z_ik``; the
    residual becomes ``s * (P - T) / S``, and the Hessian, which depends on
    ``P`` only, is unchanged.

    :meth:`bind` fixes the data ``(X, y, sample_weight)`` and the penalty
    strength, and returns the objective as functions of the parameters.
    ``X`` may be a dense array or a scipy.sparse CSR matrix; the passes over
    ``X`` run in its floating dtype, so float32 data is never promoted to
    float64, while the penalty and the sums over samples are accumulated in
    float64.

    Parameters
    ----------
    n_classes : int
        Number of classes ``K``.
    fit_intercept : bool
        Whether ``coef`` carries an intercept row.
    label_smoothing : float in [0, 1), default=0.0
        The share ``eps`` of each target spread evenly over the classes.
    """

    def __init__(self, n_classes, fit_intercept, label_smoothing=0.0):
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.label_smoothing = label_smoothing

    def n_coef_rows(self, n_features):
        """Number of rows of ``coef`` for ``n_features`` features."""
        return n_features + int(self.fit_intercept)

    def passes(self, X, y, sample_weight, n_threads=1, hessian_dtype=None, **kwargs):
        """The passes over ``X`` that compute the data term and its
        derivatives (see :class:`~sklearn_softmax._passes.DataPasses`)."""
        return DataPasses(
            X,
            y,
            sample_weight,
            self.n_classes,
            self.fit_intercept,
            n_threads,
            hessian_dtype,
            self.label_smoothing,
            **kwargs,
        )

    def bind(
        self,
        X,
        y,
        sample_weight,
        l2_reg_strength,
        n_threads=1,
        hessian_dtype=None,
        two_classes_as_one=False,
    ):
        """The objective on fixed data, as functions of a flat float64 vector.

        Solvers see parameters as one flat float64 vector; this adapter
        reshapes it to ``coef`` and returns float64 values and gradients.
        The buffers of the passes over ``X`` are allocated once, here, and
        reused by every call. ``n_threads`` threads share the blocks of rows
        of ``X``, each calling BLAS on one block: the caller holds the BLAS
        library to one thread. The results do not depend on ``n_threads``.
        ``hessian_dtype`` (float32 for float64 ``X``) runs the
        Hessian-vector products in that dtype (see
        :class:`~sklearn_softmax._passes.DataPasses`). With
        ``two_classes_as_one``, for two classes, the objective is that of
        the difference of the classes' parameters instead (see
        :func:`difference_objective`).

        Returns
        -------
        objective : Objective
            Named tuple of ``value(x)``, ``value_and_gradient(x)`` and
            ``value_gradient_hessp(x)``.
        """
        passes = self.passes(X, y, sample_weight, n_threads, hessian_dtype)
        # The per-sample losses are computed in X's dtype, so float32 data
        # leaves float32 rounding in every value.
        rounding = rounding_of(X.dtype)
        if two_classes_as_one:
            return difference_objective(passes, l2_reg_strength, rounding)
        return penalised_objective(passes, l2_reg_strength, rounding)

    def bind_rows(self, X, y, sample_weight, l2_reg_strength, rows=None):
        """The objective on fixed data, estimated from subsets of its rows.

        For stochastic solvers: ``value_and_gradient(x, batch)`` evaluates
        the data term on the samples ``batch`` only, scaled so that for
        samples drawn uniformly it is an unbiased estimate of the data term
        on all of them (the weights of the batch divided by ``len(batch)``
        times the mean weight), plus the full penalty. ``batch=None``
        evaluates the objective on all the samples, on ``X`` as it is,
        without a copy of its rows.

        With ``rows``, the samples are those rows of ``X``, numbered in
        their order (a batch of sample numbers is the rows ``rows[batch]``),
        and every other row has weight zero in ``sample_weight``: the whole
        objective is then evaluated on all of ``X``, where they add nothing.

        Returns
        -------
        objective : RowsObjective
            Named tuple of ``value_and_gradient(x, batch)`` and
            ``n_samples``.
        """
        n_samples, n_features = X.shape
        shape = (self.n_coef_rows(n_features), self.n_classes)
        weights = (
            np.ones(n_samples)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        if rows is not None:
            n_samples = len(rows)
        mean_weight = (weights if rows is None else weights[rows]).mean()

        def value_and_gradient(x, batch):
            # Normalised by the mean weight of all the samples: a minibatch
            # whose weights sum to zero has a data term of zero, and its
            # step is the penalty's alone.
            if batch is None:
                passes = self.passes(
                    X, y, weights, total_weight=n_samples * mean_weight
                )
            else:
                index = batch if rows is None else rows[batch]
                passes = self.passes(
                    X[index],
                    y[index],
                    weights[index],
                    total_weight=len(batch) * mean_weight,
                )
            coef = x.reshape(shape)
            data_term, gradient = passes.value_and_gradient(coef)
            value = data_term + _l2_penalty(coef, n_features, l2_reg_strength)
            _add_l2_gradient(gradient, coef, n_features, l2_reg_strength)
            return value, gradient.ravel()

        return RowsObjective(value_and_gradient, n_samples)

    def curvature_bound(self, X, sample_weight):
        r"""An estimate of the largest eigenvalue of the data term's Hessian
        bound.

        Each softmax Jacobian ``diag(p) - p p^T`` is at most
        ``(I - 1 1^T / K) / 2``, hence at most ``I / 2`` (Böhning, 1992), so
        the Hessian of the data term is at most ``1/2`` times the weighted
        second moment ``X~^T diag(s) X~ / S`` of ``X~ = [X, 1]`` (``X``
        without an intercept). The largest eigenvalue of that matrix is
        estimated by power iterations (see :meth:`power_iteration`), which
        approach it from below, and raised by 5%. Stochastic solvers take
        their default step from it.
        """
        quotient, _ = self.power_iteration(X, sample_weight)
        return 0.5 * _BOUND_MARGIN * quotient

    def power_iteration(self, X, sample_weight):
        """The largest eigenvalue of the weighted second moment ``M`` of
        ``X~`` (see :meth:`curvature_bound`), estimated by power iterations
        from the direction of ones, and the direction they end at.

        Where ``M`` takes the ones to zero (rows of ``X`` that sum to zero,
        without an intercept; a chunk of zeros), the iteration cannot start:
        the trace of ``M``, at least its largest eigenvalue, stands in, and
        the direction is None.
        """
        u = np.ones(X.shape[1] + int(self.fit_intercept))
        for _ in range(_POWER_ITERATIONS):
            quotient, v = self.second_moment_product(X, sample_weight, u)
            if not np.any(v):
                return self._second_moment_trace(X, sample_weight), None
            u = v
        return quotient, u

    def _second_moment_trace(self, X, sample_weight):
        row_squares = (
            np.asarray(X.multiply(X).sum(axis=1)).ravel()
            if sp.issparse(X)
            else np.einsum("ij,ij->i", X, X)
        )
        weights = _normalised_weights(X.shape[0], sample_weight)
        return float(weights @ row_squares.astype(np.float64)) + int(self.fit_intercept)

    def second_moment_product(self, X, sample_weight, u):
        """One power-iteration step on the weighted second moment ``M`` of
        ``X~`` (see :meth:`curvature_bound`), from a non-zero ``u``.

        Returns ``u^T M u`` and ``M u`` for ``u`` scaled to unit length: the
        Rayleigh quotient, at most ``M``'s largest eigenvalue, and the next
        direction. Each costs a product of ``X`` with a vector, not a
        matrix.
        """
        n_features = X.shape[1]
        weights = _normalised_weights(X.shape[0], sample_weight)
        u = u / np.linalg.norm(u)
        # The products run in X's dtype: a float64 vector would have NumPy
        # convert all of float32 X to float64 for each of them. Each vector
        # has entries of at most one, scaled by a power of two where needed
        # (exactly), so that the products stay in float32's range for
        # entries of X up to its largest over the samples or features.
        Xu = np.asarray(X @ u[:n_features].astype(X.dtype), dtype=np.float64).ravel()
        if self.fit_intercept:
            Xu = Xu + u[-1]
        weighted = weights * Xu
        exponent = scaling_exponent(max_abs(weighted))
        v = X.T @ np.ldexp(weighted, -exponent).astype(X.dtype)
        v = np.ldexp(np.asarray(v, dtype=np.float64).ravel(), exponent)
        if self.fit_intercept:
            v = np.append(v, weighted.sum())
        return float(u @ v), v


def _normalised_weights(n_samples, sample_weight):
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples)
    return np.asarray(sample_weight, dtype=np.float64) / np.sum(sample_weight)


class RunningCurvature:
    """The curvature bound of a stream of chunks, estimated as they come.

    The mean over the chunks, weighted by their total sample weight, of the
    Rayleigh quotient of each chunk's second moment (see
    :meth:`MultinomialLoss.second_moment_product`) at the direction left by
    the chunks before it. Where the chunks are drawn alike, each quotient,
    taken at a direction the chunk did not choose, is an unbiased estimate
    of that of the stream's second moment, without the upward bias of a
    chunk's own largest eigenvalue; the direction follows the stream's
    leading eigenvector by one power step per chunk. The first chunk starts
    it with a full power iteration (see
    :meth:`MultinomialLoss.power_iteration`). A chunk whose second moment
    takes the direction to zero (a chunk of zeros) leaves it as it was.
    """

    def __init__(self):
        self.direction = None
        self.quotient = 0.0
        self.weight = 0.0

    def update(self, loss, X, sample_weight):
        """Take in a chunk; return the bound ``loss.curvature_bound`` would
        give for the stream so far."""
        if self.direction is None:
            quotient, self.direction = loss.power_iteration(X, sample_weight)
        else:
            quotient, u = loss.second_moment_product(X, sample_weight, self.direction)
            if np.any(u):
                self.direction = u
        weight = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        self.weight += weight
        self.quotient += (weight / self.weight) * (quotient - self.quotient)
        return 0.5 * _BOUND_MARGIN * self.quotient


def rounding_of(dtype):
    """The relative rounding of an objective whose per-sample terms are
    computed in ``dtype``, a NumPy dtype or a floating dtype of another
    Array API namespace: 16 of its machine epsilons (see
    :class:`Objective`)."""
    if not isinstance(dtype, np.dtype | type):
        # Another namespace's float32 or float64, the data's dtypes.
        dtype = np.float32 if "float32" in str(dtype) else np.float64
    return 16 * float(np.finfo(dtype).eps)


def _l2_penalty(coef, n_features, l2_reg_strength):
    """The penalty's value: a float for NumPy's ``coef``, a zero-dimensional
    array on the device for other namespaces', which the caller reads back
    with the data term's value, in one read."""
    if not isinstance(coef, np.ndarray):
        W = coef[:n_features, ...]
        return 0.5 * l2_reg_strength * namespace(coef).sum(W * W)
    W = np.asarray(coef, dtype=np.float64)[:n_features]
    return 0.5 * l2_reg_strength * float(np.vdot(W, W))


def _add_l2_gradient(gradient, coef, n_features, l2_reg_strength):
    gradient[:n_features, ...] += l2_reg_strength * coef[:n_features, ...]
    return gradient


def _add_l2_hessian(hessian, n_entries, l2_reg_strength):
    """The penalty's Hessian added to the first ``n_entries`` of the
    diagonal of ``hessian``: in place for NumPy; in a new matrix for other
    namespaces, whose standard assigns no scattered entries."""
    if isinstance(hessian, np.ndarray):
        entries = np.arange(n_entries)
        hessian[entries, entries] += l2_reg_strength
        return hessian
    xp = namespace(hessian)
    size, dtype, device = hessian.shape[0], hessian.dtype, hessian.device
    diagonal = xp.concat(
        [
            xp.full(n_entries, l2_reg_strength, dtype=dtype, device=device),
            xp.zeros(size - n_entries, dtype=dtype, device=device),
        ]
    )
    return hessian + xp.eye(size, dtype=dtype, device=device) * diagonal


def _shaped(x, shape):
    """A flat vector of any namespace as an array of ``shape``."""
    if isinstance(x, np.ndarray):
        return x.reshape(shape)
    return namespace(x).reshape(x, shape)


def _flat(a):
    if isinstance(a, np.ndarray):
        return a.ravel()
    return namespace(a).reshape(a, (-1,))


def penalised_objective(data_term, l2_reg_strength, rounding):
    """The data term plus the L2 penalty, as the functions of a flat vector
    that solvers take.

    Parameters
    ----------
    data_term : object
        The data term on some data: ``n_features``, ``n_classes``,
        ``fit_intercept``, and the methods ``value(coef)``,
        ``value_and_gradient(coef)`` and ``value_gradient_hessp(coef)`` of
        :class:`~sklearn_softmax._passes.DataPasses`, which is one; the data
        of a dask collection
        (:class:`~sklearn_softmax._loss_dask.BlockwiseDataTerm`) and the
        arrays of an Array API namespace
        (:class:`~sklearn_softmax._loss_array_api.ArrayAPIDataTerm`) are
        others. ``coef`` and the gradients are arrays of the data term's
        namespace; its values floats, or zero-dimensional arrays of that
        namespace, which are read back once, with the penalty's. Where it
        offers them, ``value_gradient_hessian(coef)`` gives the objective's
        Hessians, ``column_second_moments()`` its ``hessian_diagonal``, and
        ``hessian()`` (on dense data, with ``n_samples``, ``dtype`` and
        ``sparse``) its exact curvature, whose blocks are general products
        where it says so by ``general_products``; ``feature_moments()`` and
        ``class_curvature()`` its approximate curvature (see
        :func:`~sklearn_softmax._curvature.kronecker_curvature`).
    l2_reg_strength : float
        Penalty strength ``lambda``; the intercept row is not penalised.
    rounding : float
        The relative rounding of the values (see :class:`Objective` and
        :func:`rounding_of`).

    Returns
    -------
    objective : Objective
        Its functions take and return flat vectors of the data term's
        namespace; its values are floats.
    """
    n_features = data_term.n_features
    shape = (n_features + int(data_term.fit_intercept), data_term.n_classes)

    def penalised(coef, value, gradient):
        value = value + _l2_penalty(coef, n_features, l2_reg_strength)
        _add_l2_gradient(gradient, coef, n_features, l2_reg_strength)
        return float(value), _flat(gradient)

    def value(x):
        coef = _shaped(x, shape)
        return float(
            data_term.value(coef) + _l2_penalty(coef, n_features, l2_reg_strength)
        )

    def value_and_gradient(x):
        coef = _shaped(x, shape)
        return penalised(coef, *data_term.value_and_gradient(coef))

    def value_gradient_hessp(x):
        coef = _shaped(x, shape)
        value, gradient, data_hessp = data_term.value_gradient_hessp(coef)

        def hessp(v):
            V = _shaped(v, shape)
            return _flat(
                _add_l2_gradient(data_hessp(V), V, n_features, l2_reg_strength)
            )

        return (*penalised(coef, value, gradient), hessp)

    def penalised_hessian(hessian):
        hessian = _add_l2_hessian(hessian, n_features * shape[1], l2_reg_strength)
        return fix_null_directions(
            hessian, shape, n_features if l2_reg_strength > 0 else 0
        )

    def value_gradient_hessian(x):
        coef = _shaped(x, shape)
        value, gradient, hessian = data_term.value_gradient_hessian(coef)
        return (
            *penalised(coef, value, gradient),
            lambda: penalised_hessian(hessian()),
        )

    return Objective(
        value,
        value_and_gradient,
        value_gradient_hessp,
        rounding,
        hessian_diagonal_at_zero(
            data_term.column_second_moments, shape, l2_reg_strength
        )
        if hasattr(data_term, "column_second_moments")
        else None,
        value_gradient_hessian
        if hasattr(data_term, "value_gradient_hessian")
        else None,
        kronecker_curvature(data_term, l2_reg_strength),
        _exact_curvature(data_term, l2_reg_strength, penalised_hessian),
    )


def _exact_curvature(data_term, l2_reg_strength, penalised_hessian):
    """The exact curvature of a data term that offers its ``hessian()`` at
    the point of its last products, on dense data; None for others (sparse
    data keep their approximation). Its price counts whole products for
    the blocks of data terms whose ``general_products`` is true, one
    triangle for the others (see
    :func:`~sklearn_softmax._curvature.exact_curvature`)."""
    if not hasattr(data_term, "hessian") or data_term.sparse:
        return None
    return exact_curvature(
        lambda: penalised_hessian(data_term.hessian()),
        data_term.n_samples,
        data_term.n_features,
        data_term.n_classes,
        data_term.fit_intercept,
        l2_reg_strength,
        data_term.dtype,
        general_products=data_term.general_products,
    )


def difference_objective(data_term, l2_reg_strength, rounding):
    """For two classes, the objective as a function of the difference
    ``beta = theta_1 - theta_0`` of the classes' columns of ``coef``, at the
    centred ``coef = [-beta / 2, beta / 2]``: a flat vector of
    ``n_features + fit_intercept`` entries.

    The two probabilities depend on ``beta`` alone, and the penalty
    ``lambda / 2 |W|^2`` is ``lambda / 4 |w|^2`` there; the minimiser of
    the full objective is centred, so this one has it too. By the chain rule
    (the map's Jacobian ``J`` takes ``v`` to ``[-v / 2, v / 2]``), the
    gradient is ``(g_1 - g_0) / 2`` and the Hessian ``J^T H J``: the data
    term's :meth:`~sklearn_softmax._passes.DataPasses.value_gradient_two_class_hessian`
    plus ``lambda / 2`` on the weights. The null direction of ``coef``'s
    Hessian (one number added to both classes) is gone, so the Hessian
    is definite with a penalty, and the Newton system has half the
    unknowns. For each entry of ``beta`` the gradient's entry equals the
    full gradient's, in absolute value, at the centred point, so stopping
    rules on its largest entry stop at the same point.

    Offers values, gradients, Hessian-vector products and Hessians; no
    preconditioner.
    """
    full = penalised_objective(data_term, l2_reg_strength, rounding)
    n_features = data_term.n_features

    def difference(g):
        g = g.reshape(-1, 2)
        return 0.5 * (g[:, 1] - g[:, 0])

    def value(beta):
        return full.value(lift(beta).ravel())

    def value_and_gradient(beta):
        f, g = full.value_and_gradient(lift(beta).ravel())
        return f, difference(g)

    def value_gradient_hessp(beta):
        f, g, hessp = full.value_gradient_hessp(lift(beta).ravel())
        return f, difference(g), lambda v: difference(hessp(lift(v).ravel()))

    def value_gradient_hessian(beta):
        coef = lift(beta)
        value, gradient, gram = data_term.value_gradient_two_class_hessian(coef)
        value += _l2_penalty(coef, n_features, l2_reg_strength)
        _add_l2_gradient(gradient, coef, n_features, l2_reg_strength)

        def hessian():
            matrix = gram()
            weights = np.arange(n_features)
            matrix[weights, weights] += 0.5 * l2_reg_strength
            return matrix

        return value, difference(gradient), hessian

    return Objective(
        value,
        value_and_gradient,
        value_gradient_hessp,
        rounding,
        value_gradient_hessian=value_gradient_hessian,
    )


def hessian_diagonal_at_zero(column_moments, shape, l2_reg_strength):
    """An objective's ``hessian_diagonal``: the Hessian's diagonal at the
    zero model, flat, in ``coef``'s layout ``shape``, from the features'
    weighted second moments ``sum_i s_i / S * x_ij^2`` that
    ``column_moments()`` returns; None without a penalty.

    At the zero model every class has probability ``1/K``, and the diagonal
    is ``(1/K)(1 - 1/K)`` times the feature's moment, plus the penalty, for
    every class; ``(1/K)(1 - 1/K)`` for the intercepts.

    Without a penalty, collinear features leave a set of minimisers.
    Conjugate gradients from zero without a preconditioner stay in the row
    space of ``X`` and find the one of least norm, the one
    LogisticRegression finds; a diagonal preconditioner would leave it.
    """
    if not l2_reg_strength > 0:
        return None
    n_classes = shape[1]
    share = (1.0 / n_classes) * (1.0 - 1.0 / n_classes)

    def hessian_diagonal():
        moments = np.asarray(column_moments())
        diagonal = np.empty(shape)
        diagonal[: len(moments)] = share * moments[:, np.newaxis] + l2_reg_strength
        diagonal[len(moments) :] = share
        return diagonal.ravel()

    return hessian_diagonal


class RowsObjective(NamedTuple):
    """An objective estimated from subsets of rows, as stochastic solvers
    consume it.

    Attributes
    ----------
    value_and_gradient : callable
        ``value_and_gradient(x, rows)``: the estimate from the samples
        ``rows`` of the objective and its gradient at ``x``; with ``rows``
        None, the objective on all the samples, read where they lie.
    n_samples : int
        The number of rows.
    """

    value_and_gradient: Callable
    n_samples: int


class Objective(NamedTuple):
    """A smooth objective of a flat parameter vector, as solvers consume it.

    Attributes
    ----------
    value : callable
        ``value(x)`` returns the objective.
    value_and_gradient : callable
        ``value_and_gradient(x)`` returns the objective and its gradient.
    value_gradient_hessp : callable
        ``value_gradient_hessp(x)`` returns the objective, its gradient and a
        function ``hessp(v)`` giving the Hessian at ``x`` times ``v``. That
        function is valid until the next call of ``value_gradient_hessp``.
    rounding : float
        The relative error of the objective's values from rounding: 16
        machine epsilons of the dtype the data terms are computed in. A line
        search accepts a step whose value exceeds the decrease it asks for
        by at most ``rounding`` times the value, so that rounding alone does
        not reject it.
    hessian_diagonal : callable or None
        ``hessian_diagonal()`` returns an estimate of the Hessian's diagonal,
        a positive flat vector, for a solver to precondition with; it may
        cost a pass over the data. None where the objective offers none.
    value_gradient_hessian : callable or None
        ``value_gradient_hessian(x)`` returns the objective, its gradient and
        a function ``hessian()`` that returns the Hessian at ``x`` as a
        dense positive definite matrix: along the directions in which the
        objective is constant, where the Hessian is singular and the
        gradient zero, a positive multiple of the identity takes its place,
        so that a Newton step is unique and leaves them alone. The function
        is valid until the next call of ``value_gradient_hessian``, and forms
        the matrix when called, where the objective can (on in-memory data
        and arrays of other namespaces): a solver pays for it only at the
        points it takes a step from. None where the objective offers none.
    curvature : KroneckerCurvature, DiagonalCovarianceCurvature or None
        An approximation of the Hessian at the point of the last
        ``value_gradient_hessp``, with its ``cost`` in Hessian-vector
        products and ``inverse()``, which a solver may precondition with
        (see :mod:`~sklearn_softmax._curvature`); None where the objective
        offers none.
    exact_curvature : ExactCurvature or None
        The Hessian itself at the point of the last ``value_gradient_hessp``,
        with its ``cost`` in Hessian-vector products and ``inverse()``, for
        a solver to precondition with where Newton steps take more products
        than that; None where the objective offers none.
    """

    value: Callable
    value_and_gradient: Callable
    value_gradient_hessp: Callable
    rounding: float = rounding_of(np.float64)
    hessian_diagonal: Callable | None = None
    value_gradient_hessian: Callable | None = None
    curvature: KroneckerCurvature | DiagonalCovarianceCurvature | None = None
    exact_curvature: ExactCurvature | None = None

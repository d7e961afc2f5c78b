"""Standard errors, z-tests and confidence intervals for a fitted
SoftmaxRegression."""

import warnings

import numpy as np
from scipy.special import log_softmax
from scipy.stats import norm
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._array_api import to_numpy
from ._dask import is_dask_collection
from ._estimator import SoftmaxRegression
from ._information import (
    MATRICES_HELD,
    design_products,
    difference_map,
    matrix_bytes,
    observed_information,
    sandwich_covariance,
    score_outer_product,
    shifted_eigh,
)
from ._penalty_params import resolve_penalty
from ._separation import moments_balance, separated_samples

COV_TYPES = ("nonrobust", "HC0")

# The covariance is refused above this size, four float64 matrices of
# (n_features + 1) K rows each: 1 GiB.
DEFAULT_MAX_BYTES = 2**30


class SeparationWarning(UserWarning):
    """Warns that the classes are or may be separated.

    Separated completely or quasi-completely, the maximum-likelihood estimate
    does not exist, and standard errors computed at any finite estimate are
    meaningless. When the linear program of the check stops short of its
    optimum, the warning says that the check was inconclusive, with the
    solver's status and message.

    See Also
    --------
    softmax_inference : Warns with it.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_softmax import SeparationWarning, SoftmaxRegression
    >>> from sklearn_softmax import softmax_inference
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression().fit(X, y)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = softmax_inference(clf, X, y)
    >>> [w.category.__name__ for w in caught]
    ['SeparationWarning']
    """


class SoftmaxInferenceResult:
    """Estimates, standard errors and tests of a softmax regression.

    Returned by :func:`softmax_inference`; the arrays are laid out as
    ``params``: one row per parameter of a class (the intercept first, then
    the features) and one column per class.

    The constructor's arguments are kept as attributes of the same names,
    but for ``covariance``, which :meth:`cov_params` returns.

    Parameters
    ----------
    params : ndarray of shape (n_rows, n_columns)
        The estimates. Without a reference class, ``n_columns`` is the
        number of classes; with one, it is one less, and each column is a
        class's parameters minus the reference class's.
    covariance : ndarray of shape (n_rows * n_columns, n_rows * n_columns)
        Their covariance, ordered as ``params.ravel(order='F')``; see
        :meth:`cov_params`.
    row_names : list of str
        ``'intercept'`` (with an intercept), then the feature names:
        ``feature_names_in_`` when the estimator has them, ``'x0'``,
        ``'x1'``, ... otherwise.
    column_names : list
        The class of each column.
    reference_class : object or None
        The class the columns are compared with, if any.
    cov_type : {'nonrobust', 'HC0'}
        The covariance.
    penalized : bool
        Whether the estimates are those of an L2 penalty.
    nobs : float
        The number of observations: the sum of the sample weights.
    llf : float
        The log-likelihood at the estimates, the weights counting as
        frequencies.
    separation : str
        What the separation check found: ``'not separated'``, no direction
        separates the classes; ``'separated'``, one does, completely or
        quasi-completely; ``'completely separated'``, one separates every
        sample; ``'inconclusive'``, the check could not tell, its linear
        program having stopped short of its optimum. Under any but the
        first, a :class:`SeparationWarning` was issued and the
        maximum-likelihood estimate may not exist.

    Attributes
    ----------
    bse : ndarray of shape (n_rows, n_columns)
        The standard errors of ``params``.
    zvalues : ndarray of shape (n_rows, n_columns)
        ``params / bse``.
    pvalues : ndarray of shape (n_rows, n_columns)
        Two-sided p-values of the z-tests that each parameter is zero,
        against the standard normal distribution.

    See Also
    --------
    softmax_inference : Computes it.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn_softmax import SoftmaxRegression, softmax_inference
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> X = X[["alcohol", "flavanoids"]]
    >>> clf = SoftmaxRegression(C=1.0, tol=1e-8).fit(X, y)
    >>> result = softmax_inference(clf, X, y, cov_type="HC0")
    >>> result.params.shape, result.conf_int(alpha=0.1).shape
    ((3, 3), (3, 3, 2))
    >>> result.column_names
    [0, 1, 2]
    """

    def __init__(
        self,
        params,
        covariance,
        row_names,
        column_names,
        *,
        reference_class,
        cov_type,
        penalized,
        nobs,
        llf,
        separation,
    ):
        self.params = params
        self._covariance = covariance
        self.bse = np.sqrt(np.diag(covariance)).reshape(params.shape, order="F")
        with np.errstate(divide="ignore", invalid="ignore"):
            self.zvalues = params / self.bse
        self.pvalues = 2.0 * norm.sf(np.abs(self.zvalues))
        self.row_names = row_names
        self.column_names = column_names
        self.reference_class = reference_class
        self.cov_type = cov_type
        self.penalized = penalized
        self.nobs = nobs
        self.llf = llf
        self.separation = separation

    def cov_params(self):
        """The covariance matrix of the flattened ``params``.

        Returns
        -------
        cov : ndarray of shape (n_rows * n_columns, n_rows * n_columns)
            Ordered column by column (class by class), as
            ``params.ravel(order='F')``, the order of statsmodels' MNLogit.
        """
        return self._covariance.copy()

    def conf_int(self, alpha=0.05):
        """Confidence intervals from the normal distribution.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        intervals : ndarray of shape (n_rows, n_columns, 2)
            The lower and upper bounds of each parameter's interval.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        half_width = norm.ppf(1 - alpha / 2) * self.bse
        return np.stack([self.params - half_width, self.params + half_width], axis=-1)

    def summary(self, alpha=0.05):
        """Tabulate the estimates class by class.

        Each row gives a parameter's estimate, standard error, z, p-value
        and confidence interval.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        summary : str
            The tables, after a header on the model and the covariance.
        """
        intervals = self.conf_int(alpha)
        penalty = "L2" if self.penalized else "none"
        layout = (
            f"each class against class {self.reference_class!r}"
            if self.reference_class is not None
            else "symmetric (each class's parameters sum to zero over classes)"
        )
        lines = [
            "Softmax regression: inference",
            f"Observations: {self.nobs:g}    Log-likelihood: {self.llf:.6g}",
            f"Penalty: {penalty}    Covariance: {self.cov_type}",
            f"Separation: {self.separation}",
            f"Parameters: {layout}",
        ]
        name_width = max(10, *(len(name) for name in self.row_names))
        lower, upper = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        header = (
            f"{'':<{name_width}} {'coef':>11} {'std err':>11} {'z':>9} "
            f"{'P>|z|':>9} {lower:>11} {upper:>11}"
        )
        for column, label in enumerate(self.column_names):
            against = (
                f" against {self.reference_class!r}"
                if self.reference_class is not None
                else ""
            )
            lines += ["", f"class {label!r}{against}", header, "-" * len(header)]
            for row, name in enumerate(self.row_names):
                lines.append(
                    f"{name:<{name_width}} {self.params[row, column]:>11.4g} "
                    f"{self.bse[row, column]:>11.4g} "
                    f"{self.zvalues[row, column]:>9.3f} "
                    f"{self.pvalues[row, column]:>9.3g} "
                    f"{intervals[row, column, 0]:>11.4g} "
                    f"{intervals[row, column, 1]:>11.4g}"
                )
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _symmetric_parameters(estimator):
    """The estimator's parameters as a (r, K) array, the intercept first:
    the two columns ``(-w/2, w/2)`` for two classes."""
    coef = to_numpy(estimator.coef_).astype(np.float64)
    intercept = to_numpy(estimator.intercept_).astype(np.float64)
    rows = np.vstack([intercept, coef.T]) if estimator.fit_intercept else coef.T
    if len(estimator.classes_) == 2:
        return np.hstack([-0.5 * rows, 0.5 * rows])
    return rows


def _penalty(estimator):
    """The penalty the fitted estimator's parameters chose; they were
    warned of when it was fitted."""
    return resolve_penalty(
        estimator.penalty,
        estimator.l1_ratio,
        estimator.C,
        estimator.l1_groups,
        warn=False,
    )


def _check_estimator(estimator, cov_type):
    if not isinstance(estimator, SoftmaxRegression):
        raise TypeError(
            "softmax_inference needs a fitted SoftmaxRegression; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}; got {cov_type!r}.")
    if not _penalty(estimator).smooth:
        raise ValueError(
            "softmax_inference needs an L2 penalty or none (l1_ratio=0, or "
            f"C=np.inf); got {_penalty(estimator).spelling}, whose L1 or group "
            "part sets weights to zero, where the likelihood has no curvature "
            "to give standard errors."
        )
    if estimator.label_smoothing != 0:
        raise ValueError(
            "softmax_inference needs label_smoothing=0: with label smoothing the "
            "fitted objective is not the likelihood of the labels."
        )
    if estimator.class_weight is not None:
        raise ValueError(
            "softmax_inference needs class_weight=None: class weights change "
            "the objective away from the likelihood. To weigh samples as "
            "frequencies, pass them as sample_weight, to fit and here."
        )


def _reference_index(reference_class, classes):
    matches = np.flatnonzero(classes == reference_class)
    if matches.size != 1:
        raise ValueError(
            f"reference_class={reference_class!r} is not one of the classes "
            f"{classes.tolist()}."
        )
    return int(matches[0])


def _check_size(n_parameters, max_bytes):
    needed = MATRICES_HELD * matrix_bytes(n_parameters)
    if needed > max_bytes:
        raise ValueError(
            f"The observed information has {n_parameters} x {n_parameters} "
            f"entries ((n_features + fit_intercept) x n_classes rows), "
            f"{matrix_bytes(n_parameters) / 2**20:.1f} MiB in float64, and the "
            f"covariance holds {MATRICES_HELD} matrices of that size: "
            f"{needed / 2**20:.1f} MiB, more than max_bytes={max_bytes} "
            f"({max_bytes / 2**20:.1f} MiB). Raise max_bytes, or select fewer "
            "features."
        )


def _warn_unless_optimal(estimator, moments, theta, penalty, total_weight):
    """Warn when the gradient of the estimator's objective on this data, from
    the score ``moments``, is well above its tolerance: the estimates are
    then not its optimum."""
    on_weights = np.arange(theta.shape[0]) >= int(estimator.fit_intercept)
    gradient = penalty * on_weights[:, np.newaxis] * theta - moments
    largest = float(np.abs(gradient).max() / total_weight)
    limit = 10 * max(estimator.tol, getattr(estimator, "grad_norm_", 0.0))
    if largest > limit:
        warnings.warn(
            f"The estimator is not at the optimum of its objective on this data: "
            f"the largest absolute gradient entry is {largest:.3g}, above 10 "
            f"times its tol={estimator.tol:g}. The standard errors assume the "
            "optimum: pass the data the estimator was fitted on, or refit it "
            "with a smaller tol.",
            UserWarning,
            stacklevel=3,
        )


def _check_separation(estimator, X, y_encoded, n_classes, sample_weight):
    """Solve the linear program for a separating direction, warn unless it
    proves there is none, and return the result's ``separation``."""
    separated, failure = separated_samples(
        X, y_encoded, n_classes, estimator.fit_intercept, sample_weight
    )
    if separated is not None and separated.size == 0:
        return "not separated"
    consequence = (
        "The penalty keeps the estimate finite, but its standard errors then "
        "rest on the penalty, not on the data."
        if _penalty(estimator).norm is not None
        else "The weights grow with the solver's iterations and the standard "
        "errors are meaningless."
    )
    if separated is None:
        # Saying nothing would read as "not separated".
        warnings.warn(
            "The separation check was inconclusive: the linear program that "
            "looks for a direction separating the classes stopped short of its "
            f"optimum ({failure}). If the classes are separated, the "
            "maximum-likelihood estimate does not exist. " + consequence,
            SeparationWarning,
            stacklevel=3,
        )
        return "inconclusive"
    if separated.size == np.count_nonzero(sample_weight):
        separation = extent = "completely separated"
    else:
        separation, extent = "separated", "separated, completely or quasi-completely"
    warnings.warn(
        f"The classes are {extent}: a direction of the parameters "
        f"predicts {separated.size} of the samples perfectly and misclassifies "
        "none, so the maximum-likelihood estimate does not exist. " + consequence,
        SeparationWarning,
        stacklevel=3,
    )
    return separation


def softmax_inference(
    estimator,
    X,
    y,
    sample_weight=None,
    reference_class=None,
    cov_type="nonrobust",
    *,
    max_bytes=DEFAULT_MAX_BYTES,
):
    r"""Standard errors, z-tests and confidence intervals of a fitted model.

    Computes the covariance of the parameters of a fitted
    :class:`SoftmaxRegression` from the observed information of the
    multinomial likelihood on the data it was fitted on. Without a penalty
    and with ``reference_class``, the results are those of statsmodels'
    ``MNLogit``, with sample weights as frequency weights.

    Parameters
    ----------
    estimator : SoftmaxRegression
        Fitted with an L2 penalty (``l1_ratio=0``) or none (``C=np.inf``),
        no ``class_weight`` and no ``label_smoothing``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data it was fitted on.
    y : array-like of shape (n_samples,)
        Its labels, among the estimator's ``classes_``.
    sample_weight : array-like of shape (n_samples,), default=None
        The weights it was fitted with, as frequency weights: an integer
        weight ``k`` counts as ``k`` copies of the sample.
    reference_class : object, default=None
        A class of ``classes_``. When given, each other class's parameters
        are reported minus this class's, MNLogit's identified layout, with
        ``(n_features + 1) x (n_classes - 1)`` parameters, the intercept
        first. Otherwise all classes are reported, in the estimator's
        symmetric parameterisation (see Notes).
    cov_type : {'nonrobust', 'HC0'}, default='nonrobust'
        'nonrobust' trusts the model: the inverse of the observed
        information. 'HC0' is the sandwich (robust) covariance, with the
        outer product of the samples' scores in the middle, valid when the
        model's probabilities are not the data's.
    max_bytes : int, default=2**30
        The most memory the covariance may take. It holds four matrices of
        ``p x p`` float64 entries, for ``p = (n_features + fit_intercept)
        n_classes`` parameters; a larger model is refused with a
        ``ValueError`` that says how large they would be.

    Returns
    -------
    result : SoftmaxInferenceResult
        ``params``, ``bse``, ``zvalues`` and ``pvalues`` of shape
        ``(n_rows, n_columns)``, ``conf_int(alpha)``, ``cov_params()``,
        ``summary()``, and ``separation``, what the separation check found.

    Warns
    -----
    SeparationWarning
        When a linear program finds a direction that separates the classes
        completely or quasi-completely: the maximum-likelihood estimate does
        not exist, and the standard errors are meaningless. Also when that
        program stops short of its optimum (an iteration limit, numerical
        difficulties), saying that the check was inconclusive and why; the
        result's ``separation`` is then ``'inconclusive'``.
    UserWarning
        When the estimator's gradient on ``X`` is well above its ``tol``, as
        when ``X`` is not its training data.

    See Also
    --------
    SoftmaxInferenceResult : The result, with ``summary()``.
    SoftmaxRegression : The estimator.

    Notes
    -----
    With frequency weights ``s`` and design rows ``x~_i`` (a 1, then the
    features), the observed information is

    .. math::

        I = \sum_i s_i \left(\mathrm{diag}(p_i) - p_i p_i^T\right)
            \otimes \tilde x_i \tilde x_i^T,

    and the covariance is ``B^+ M B^+``, with ``B = I + D / C`` the Hessian
    of the penalised negative log-likelihood (``D`` is 1 on the weights and
    0 on the intercepts; ``B = I`` without a penalty) and ``M = I``
    ('nonrobust') or ``M = sum_i s_i g_i g_i^T`` ('HC0'), for the scores
    ``g_i = (y_i - p_i) \otimes x~_i``. Without a penalty,
    'nonrobust' is the inverse of the information. With the L2 penalty it is
    the sampling covariance of the ridge estimate of le Cessie and van
    Houwelingen (1992).

    The likelihood does not change when one vector is added to every
    class's parameters, so the symmetric parameterisation is identified by
    the constraint the estimator's solution meets: each parameter sums to
    zero over the classes. ``B^+`` is the inverse on that subspace, and each
    class's parameters are compared with the mean over the classes. With
    ``reference_class``, the parameters are the differences from that
    class and their covariance is mapped linearly; without a penalty, this
    is the inverse of the information of MNLogit's model.

    References
    ----------
    S. le Cessie and J. C. van Houwelingen (1992). Ridge estimators in
    logistic regression. Applied Statistics 41(1), 191-201.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import SoftmaxRegression, softmax_inference
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> X = X[["alcohol", "flavanoids", "color_intensity"]]
    >>> clf = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, y)
    >>> result = softmax_inference(clf, X, y, reference_class=0)
    >>> result.params.shape
    (4, 2)
    >>> result.row_names
    ['intercept', 'alcohol', 'flavanoids', 'color_intensity']
    """
    _check_estimator(estimator, cov_type)
    if is_dask_collection(X) or is_dask_collection(y):
        raise TypeError(
            "softmax_inference takes data in memory; compute dask collections "
            "first (the information matrix is held in memory anyway)."
        )
    X = validate_data(estimator, X, reset=False, accept_sparse="csr", dtype=np.float64)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    classes = to_numpy(estimator.classes_)
    try:
        y_encoded = np.minimum(np.searchsorted(classes, y), classes.size - 1)
        unknown = classes[y_encoded] != y
    except TypeError:
        raise ValueError(
            f"y's labels, of dtype {y.dtype}, cannot be compared with the "
            f"estimator's classes {classes.tolist()}."
        ) from None
    if np.any(unknown):
        raise ValueError(
            f"y has labels that are not classes of the estimator: "
            f"{np.unique(y[unknown]).tolist()}; its classes are {classes.tolist()}."
        )
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    reference = (
        None if reference_class is None else _reference_index(reference_class, classes)
    )
    n_classes = classes.size
    n_rows = X.shape[1] + int(estimator.fit_intercept)
    _check_size(n_rows * n_classes, max_bytes)

    theta = _symmetric_parameters(estimator)
    Z = X @ theta[int(estimator.fit_intercept) :]
    if estimator.fit_intercept:
        Z += theta[0]
    log_P = log_softmax(np.asarray(Z), axis=1)
    P = np.exp(log_P)
    Y = np.eye(n_classes)[y_encoded]
    penalty = 0.0 if _penalty(estimator).norm is None else 1.0 / estimator.C
    total_weight = sample_weight.sum()
    moments = design_products(
        X, sample_weight[:, np.newaxis] * (Y - P), estimator.fit_intercept
    )
    _warn_unless_optimal(estimator, moments, theta, penalty, total_weight)

    information = observed_information(X, P, sample_weight, estimator.fit_intercept)
    information_eigh = shifted_eigh(information, n_classes)
    if moments_balance(
        X,
        Y,
        P,
        sample_weight,
        estimator.fit_intercept,
        moments,
        information,
        information_eigh,
    ):
        separation = "not separated"
    else:
        separation = _check_separation(
            estimator, X, y_encoded, n_classes, sample_weight
        )
    bread_eigh = information_eigh
    if penalty:
        bread = information.copy()
        on_weights = np.arange(n_rows) >= int(estimator.fit_intercept)
        bread[np.diag_indices_from(bread)] += penalty * np.tile(on_weights, n_classes)
        bread_eigh = shifted_eigh(bread, n_classes)
        del bread
    meat = (
        information
        if cov_type == "nonrobust"
        else score_outer_product(X, P - Y, sample_weight, estimator.fit_intercept)
    )
    covariance = sandwich_covariance(bread_eigh, meat)
    params = theta
    column_names = classes.tolist()
    if reference is not None:
        to_differences = difference_map(n_classes, reference, n_rows)
        covariance = to_differences @ covariance @ to_differences.T
        params = np.delete(theta - theta[:, [reference]], reference, axis=1)
        del column_names[reference]

    feature_names = getattr(estimator, "feature_names_in_", None)
    row_names = (
        [str(name) for name in feature_names]
        if feature_names is not None
        else [f"x{j}" for j in range(X.shape[1])]
    )
    if estimator.fit_intercept:
        row_names.insert(0, "intercept")
    return SoftmaxInferenceResult(
        params,
        covariance,
        row_names,
        column_names,
        reference_class=None if reference is None else classes.tolist()[reference],
        cov_type=cov_type,
        penalized=bool(penalty),
        nobs=float(total_weight),
        llf=float(np.sum(sample_weight * log_P[np.arange(len(y)), y_encoded])),
        separation=separation,
    )

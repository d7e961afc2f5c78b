"""Standard errors, z-tests and confidence intervals for a fitted
SoftmaxRegression."""

import copy
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._array_api import host_array, to_numpy
from ._coef_layout import solver_matrix
from ._covariance_types import (
    COV_TYPES,
    check_correction,
    check_cov_type,
    encode_groups,
    meat_and_correction,
)
from ._cv import SoftmaxRegressionCV
from ._dask import is_dask_collection
from ._estimator import SoftmaxRegression
from ._fitted_model import FittedModel
from ._inference_result import SoftmaxInferenceResult
from ._information import (
    MATRICES_HELD,
    design_products,
    difference_map,
    matrix_bytes,
    observed_information,
    sandwich_covariance,
    shifted_eigh,
)
from ._messages import SeparationWarning
from ._offsets import centred_weights_gradient, offsets_to_remove
from ._penalty_params import resolve_penalty
from ._separation import (
    moments_balance,
    separated_samples,
    towards_unpenalised_optimum,
)
from ._targets import check_sample_weight, class_weights, encode_labels

# The covariance is refused above this size, five float64 matrices of
# (n_features + 1) K rows each: 1 GiB.
DEFAULT_MAX_BYTES = 2**30


def _symmetric_parameters(estimator):
    """The estimator's parameters as a (r, K) array, the intercept first:
    the two columns ``(-w/2, w/2)`` for two classes."""
    full = solver_matrix(to_numpy(estimator.coef_), to_numpy(estimator.intercept_))
    if estimator.fit_intercept:
        return np.vstack([full[-1:], full[:-1]])
    return full[:-1]


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


def _final_model(estimator, X):
    """The SoftmaxRegression whose parameters are asked about, ``X`` as it
    sees it, the transform that takes new rows there, and the names of the
    features it sees (None: its own ``feature_names_in_``, if any).

    A fitted Pipeline ending in one passes ``X`` through its earlier steps;
    a SoftmaxRegressionCV stands for the SoftmaxRegression it refitted with
    ``C_`` and ``l1_ratio_``.
    """
    preprocess = feature_names = None
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        # A Pipeline of one step has no steps before its model.
        if len(estimator) > 1:
            steps = estimator[:-1]
            X = steps.transform(X)
            try:
                feature_names = [str(name) for name in steps.get_feature_names_out()]
            except (AttributeError, TypeError, ValueError):
                feature_names = None
            preprocess = steps.transform
        estimator = estimator[-1]
    if isinstance(estimator, SoftmaxRegressionCV):
        estimator = _refitted_model(estimator)
    return estimator, X, preprocess, feature_names


def _host_model(estimator):
    """The estimator itself, or for one fitted on Array API arrays, a copy
    whose ``coef_``, ``intercept_`` and ``classes_`` are NumPy arrays: the
    covariance is computed on the host, in float64, from the fitted
    parameters only."""
    if all(
        isinstance(getattr(estimator, name), np.ndarray)
        for name in ("intercept_", "classes_")
    ):
        return estimator
    host = copy.copy(estimator)
    for name in ("coef_", "intercept_", "classes_"):
        setattr(host, name, to_numpy(getattr(estimator, name)))
    return host


def _refitted_model(search):
    """The SoftmaxRegression that a fitted SoftmaxRegressionCV holds: its
    parameters, with the chosen ``C_`` and ``l1_ratio_``, and its fitted
    attributes."""
    check_is_fitted(search)
    shared = set(SoftmaxRegression._get_param_names()) & set(search.get_params())
    params = {
        name: getattr(search, name)
        for name in shared - {"C", "l1_ratio", "penalty", "warm_start"}
    }
    model = SoftmaxRegression(C=search.C_, l1_ratio=search.l1_ratio_, **params)
    for name in ("coef_", "intercept_", "classes_", "n_features_in_"):
        setattr(model, name, getattr(search, name))
    # What the search fitted with, against which its parameters now are
    # checked; the penalty it chose is C_ and l1_ratio_, however its grid
    # was spelled (the deprecated penalty too).
    recorded = dict(getattr(search, "_fitted_objective", {}))
    recorded.pop("penalty", None)
    model._fitted_objective = {"C": model.C, "l1_ratio": model.l1_ratio, **recorded}
    if hasattr(search, "feature_names_in_"):
        model.feature_names_in_ = search.feature_names_in_
    return model


def _same_setting(before, now):
    """Whether two values of a parameter are the same setting (dicts of
    class weights compared by their items)."""
    try:
        return bool(before == now)
    except (TypeError, ValueError):
        return before is now


def _check_estimator(estimator, cov_type, groups):
    if not isinstance(estimator, SoftmaxRegression):
        raise TypeError(
            "softmax_inference needs a fitted SoftmaxRegression, "
            "SoftmaxRegressionCV or Pipeline ending in one; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    fitted = getattr(estimator, "_fitted_objective", {})
    changed = [
        f"{name} from {value!r} to {getattr(estimator, name)!r}"
        for name, value in fitted.items()
        if not _same_setting(value, getattr(estimator, name))
    ]
    if changed:
        raise ValueError(
            f"The estimator's parameters changed since it was fitted "
            f"({', '.join(changed)}): its model minimises the objective of "
            "the parameters it was fitted with. Fit it again, or set them back."
        )
    check_cov_type(cov_type, groups)
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
    if estimator.class_weight is not None and cov_type == "nonrobust":
        raise ValueError(
            "An estimator fitted with class_weight needs a robust covariance: "
            "pass cov_type='HC0', 'HC1' or 'cluster'. Class weights make its "
            "objective other than the likelihood, so the inverse of its "
            "Hessian (cov_type='nonrobust') is not the covariance of its "
            "estimates."
        )


def _class_factor(estimator, y_encoded, sample_weight, n_classes):
    """Each sample's class weight, as the estimator's ``class_weight``
    gave it in ``fit`` (``'balanced'`` from the classes' totals of the
    sample weights), or None without class weights."""
    if estimator.class_weight is None:
        return None
    totals = np.bincount(y_encoded, weights=sample_weight, minlength=n_classes)
    classes = to_numpy(estimator.classes_)
    return class_weights(estimator.class_weight, totals, classes)[y_encoded]


def _reference_index(reference_class, classes):
    matches = np.flatnonzero(classes == reference_class)
    if matches.size != 1:
        raise ValueError(
            f"reference_class={reference_class!r} is not one of the classes "
            f"{classes.tolist()}."
        )
    return int(matches[0])


def _check_size(n_parameters, max_bytes):
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Real):
        raise TypeError(f"max_bytes must be a number of bytes; got {max_bytes!r}.")
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


def _warn_unless_optimal(estimator, X, moments, theta, penalty, total_weight):
    """Warn when the gradient of the estimator's objective on this data, from
    the score ``moments``, is well above its tolerance: the estimates are
    then not its optimum. Where the fit centred columns of ``X`` far from
    zero, its stopping rule was on the centred problem's gradient, whose
    weights' rows are the gradient's less the offsets times the intercepts'
    row (see ``_offsets``), and so is the check."""
    on_weights = np.arange(theta.shape[0]) >= int(estimator.fit_intercept)
    gradient = penalty * on_weights[:, np.newaxis] * theta - moments
    offsets = None if sp.issparse(X) else offsets_to_remove(X, estimator.fit_intercept)
    if offsets is not None:
        gradient[1:] = centred_weights_gradient(gradient[1:], gradient[0], offsets)
    largest = float(np.abs(gradient).max() / total_weight)
    limit = 10 * estimator.tol
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


def _log_probabilities(X, theta, fit_intercept):
    Z = X @ theta[int(fit_intercept) :]
    if fit_intercept:
        Z += theta[0]
    return log_softmax(np.asarray(Z), axis=1)


def _overlap_proved(X, Y, P, sample_weight, fit_intercept, moments, information):
    """Whether :func:`moments_balance` proves, from the probabilities ``P``,
    that the classes overlap; the eigenvalues of ``information`` come with
    it."""
    information_eigh = shifted_eigh(information, Y.shape[1])
    proved = moments_balance(
        X,
        Y,
        P,
        sample_weight,
        fit_intercept,
        moments,
        information,
        information_eigh,
    )
    return proved, information_eigh


def _overlap_proved_nearer_the_optimum(X, y_encoded, Y, sample_weight, theta):
    """Whether the proof of overlap succeeds after a few Newton steps
    towards the unpenalised optimum, from ``theta``."""
    fit_intercept = theta.shape[0] > X.shape[1]
    theta = towards_unpenalised_optimum(X, y_encoded, sample_weight, theta)
    if theta is None:
        return False
    P = np.exp(_log_probabilities(X, theta, fit_intercept))
    moments = design_products(X, sample_weight[:, np.newaxis] * (Y - P), fit_intercept)
    information = observed_information(X, P, sample_weight, fit_intercept)
    return _overlap_proved(X, Y, P, sample_weight, fit_intercept, moments, information)[
        0
    ]


def _rounding_scale(bread_eigh, meat):
    """A vector ``u`` such that each entry ``(i, j)`` of the computed
    ``B^+ M B^+`` is within ``u_i u_j`` of its exact value, and each entry
    of a map ``T`` of it, ``T B^+ M B^+ T^T``, within ``(|T| u)_i (|T| u)_j``.

    The product is formed in the coordinates where each design row has a
    unit mean diagonal, ``B_s = D^-1 B D^-1`` and ``M_s = D^-1 M D^-1``, and a
    product of ``p x p`` matrices has entries exact to ``p eps`` times the
    product of their norms (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2002, section 3.5): ``p eps ||B_s^+||^2 ||M_s||`` there,
    ``||B_s^+||`` the inverse of the smallest (shifted) eigenvalue and
    ``||M_s||`` at most its trace, ``M`` being positive semi-definite. That
    bound is the covariance's scale, not its entries': where ``M`` vanishes
    along ``B``'s smallest eigenvalues (a constant column beside the
    intercept, under a penalty), a variance that is zero but for rounding
    comes from terms that large, and may round to a small negative number.
    """
    scaled_trace = np.sum(np.diag(meat) / bread_eigh.scale**2)
    n_parameters = bread_eigh.scale.size
    bound = n_parameters * np.finfo(np.float64).eps * scaled_trace
    return np.sqrt(bound) / (bread_eigh.values.min() * bread_eigh.scale)


def _check_separation(estimator, X, y_encoded, n_classes, sample_weight):
    """Solve the linear program for a separating direction, warn unless it
    proves there is none, and return the result's ``separation``."""
    check = separated_samples(
        X, y_encoded, n_classes, estimator.fit_intercept, sample_weight
    )
    if check.separated is False:
        return "not separated"
    totals = np.bincount(y_encoded, weights=sample_weight, minlength=n_classes)
    absent = to_numpy(estimator.classes_)[totals == 0].tolist()
    absence = (
        f"No sample of positive weight has the classes {absent}. " if absent else ""
    )
    if _penalty(estimator).norm is None:
        consequence = (
            "The weights grow with the solver's iterations and the standard "
            "errors are meaningless."
        )
    elif absent and estimator.fit_intercept:
        # Lowering an absent class's intercept separates it from every
        # sample, and the penalty leaves the intercepts free.
        consequence = (
            "The penalty does not reach the intercepts: those of these classes "
            "fall with the solver's iterations, and the standard errors are "
            "meaningless."
        )
    else:
        consequence = (
            "The penalty keeps the estimate finite, but its standard errors "
            "then rest on the penalty, not on the data."
        )
    if check.separated is None:
        # Saying nothing would read as "not separated".
        warnings.warn(
            "The separation check was inconclusive: the linear program that "
            "looks for a direction separating the classes stopped short of its "
            f"optimum ({check.failure}). If the classes are separated, the "
            "maximum-likelihood estimate does not exist. " + absence + consequence,
            SeparationWarning,
            stacklevel=3,
        )
        return "inconclusive"
    if check.predicted.size == np.count_nonzero(sample_weight):
        separation = extent = "completely separated"
    else:
        separation, extent = "separated", "separated, completely or quasi-completely"
    warnings.warn(
        f"The classes are {extent}: along a direction of the parameters, no "
        "sample's other classes score above its own, "
        f"{check.ruled_out.size} of the samples have the probability of some "
        f"other class driven to zero, and {check.predicted.size} are predicted "
        "perfectly, so the maximum-likelihood estimate does not exist. "
        + absence
        + consequence,
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
    groups=None,
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
    estimator : SoftmaxRegression, SoftmaxRegressionCV or Pipeline
        Fitted with an L2 penalty (``l1_ratio=0``) or none (``C=np.inf``)
        and no ``label_smoothing``; with ``class_weight``, for the robust
        covariances only (see Notes). Its parameters that choose the
        objective (``C``, ``l1_ratio``, ``fit_intercept``, ``class_weight``,
        ...) must be those it was fitted with. A
        SoftmaxRegressionCV stands for the model it refitted with ``C_``
        and ``l1_ratio_``. A Pipeline ending in a SoftmaxRegression passes
        ``X`` (and the new rows of the result's methods) through its earlier
        steps; the features are those its last step sees, named by the
        earlier steps' ``get_feature_names_out`` where they offer it.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data it was fitted on. Arrays of an Array API namespace (and
        the fitted attributes of a model fitted on them) are copied to the
        host as NumPy arrays, where the covariance is computed.
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
    cov_type : {'nonrobust', 'HC0', 'HC1', 'cluster'}, default='nonrobust'
        'nonrobust' trusts the model: the inverse of the observed
        information. 'HC0' is the sandwich (robust) covariance, with the
        outer product of the samples' scores in the middle, valid when the
        model's probabilities are not the data's; 'HC1' scales it by
        ``n / (n - p)``, for ``n`` observations (the sum of the sample
        weights) and ``p = (n_features + fit_intercept)(n_classes - 1)``
        free parameters. 'cluster' is robust to correlation within the
        clusters of ``groups``: the outer product of the clusters' sums of
        scores, scaled by ``G / (G - 1) (n - 1) / (n - p)`` for ``G``
        clusters, as statsmodels' ``cov_type='cluster'`` does. An
        estimator fitted with ``class_weight`` needs one of the last three.
    groups : array-like of shape (n_samples,), default=None
        Each sample's cluster, for ``cov_type='cluster'`` only.
    max_bytes : int, default=2**30
        The most memory the covariance may take. It holds up to five
        matrices of ``p x p`` float64 entries, for ``p = (n_features + fit_intercept)
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
        not exist, and the standard errors are meaningless. With more than
        two classes this includes a direction that drives some samples'
        probability of one other class to zero while predicting none of
        them perfectly, and a class that no sample of positive weight has
        (whose intercept, which no penalty reaches, falls without bound).
        Also when that
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
    With frequency weights ``s_i``, probabilities ``p_i``, the one-hot row
    ``e_{y_i}`` of the label ``y_i`` and the design rows ``x~_i`` (the
    features and a 1 for the intercept, as in the Mathematics section of
    the documentation; here their entries are taken in the order of the
    parameters, the intercept's 1 first), the observed information is

    .. math::

        I = \sum_i s_i \left(\mathrm{diag}(p_i) - p_i p_i^T\right)
            \otimes \tilde x_i \tilde x_i^T,

    and the covariance is ``B^+ M B^+``, with ``B = I + D / C`` the Hessian
    of the penalised negative log-likelihood (``D`` is 1 on the weights and
    0 on the intercepts; ``B = I`` without a penalty) and ``M = I``
    ('nonrobust') or ``M = sum_i s_i g_i g_i^T`` ('HC0'), for the scores
    ``g_i = (e_{y_i} - p_i) \otimes x~_i``. With class weights ``c_k``, the
    estimates are those of an M-estimator: ``B`` is the Hessian of the
    class-weighted objective, with the weights ``s_i c_{y_i}``, and each
    copy of a sample contributes the score ``c_{y_i} g_i``, so
    ``M = sum_i s_i c_{y_i}^2 g_i g_i^T`` ('HC0'); ``B^+`` alone is then
    not a covariance, and 'nonrobust' is refused. Without a penalty,
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
    if is_dask_collection(X) or is_dask_collection(y):
        raise TypeError(
            "softmax_inference takes data in memory; compute dask collections "
            "first (the information matrix is held in memory anyway)."
        )
    if isinstance(sample_weight, str):
        raise TypeError(
            "sample_weight must be the samples' weights; got the string "
            f"{sample_weight!r}"
            + (
                f". Give the covariance by name: cov_type={sample_weight!r}."
                if sample_weight in COV_TYPES
                else "."
            )
        )
    y, sample_weight, groups = (host_array(a) for a in (y, sample_weight, groups))
    estimator, X, preprocess, pipeline_names = _final_model(estimator, X)
    _check_estimator(estimator, cov_type, groups)
    estimator, X = _host_model(estimator), host_array(X)
    X = validate_data(estimator, X, reset=False, accept_sparse="csr", dtype=np.float64)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    classes, y_encoded = encode_labels(
        y, to_numpy(estimator.classes_), "classes of the estimator"
    )
    sample_weight = check_sample_weight(sample_weight, X, np.float64)
    reference = (
        None if reference_class is None else _reference_index(reference_class, classes)
    )
    n_classes = classes.size
    n_rows = X.shape[1] + int(estimator.fit_intercept)
    _check_size(n_rows * n_classes, max_bytes)
    total_weight = sample_weight.sum()
    n_free = n_rows * (n_classes - 1)
    check_correction(cov_type, total_weight, n_free)
    clusters = (
        encode_groups(groups, y, sample_weight) if cov_type == "cluster" else None
    )
    # The weights of the fitted objective: the sample weights, times each
    # sample's class weight, if any.
    class_factor = _class_factor(estimator, y_encoded, sample_weight, n_classes)
    fit_weight = sample_weight if class_factor is None else sample_weight * class_factor

    theta = _symmetric_parameters(estimator)
    log_P = _log_probabilities(X, theta, estimator.fit_intercept)
    P = np.exp(log_P)
    Y = np.eye(n_classes)[y_encoded]
    chosen = _penalty(estimator)
    penalty = 0.0 if chosen.norm is None else 1.0 / chosen.C
    moments = design_products(
        X, fit_weight[:, np.newaxis] * (Y - P), estimator.fit_intercept
    )
    _warn_unless_optimal(estimator, X, moments, theta, penalty, fit_weight.sum())

    information = observed_information(X, P, fit_weight, estimator.fit_intercept)
    proved, information_eigh = _overlap_proved(
        X, Y, P, fit_weight, estimator.fit_intercept, moments, information
    )
    # A class that no sample of positive weight has is separated from all
    # of them, but the proof's rounding can miss it: its probabilities are
    # tiny everywhere, and the step's stay positive. The program decides.
    absent = np.bincount(y_encoded, weights=fit_weight, minlength=n_classes) == 0
    if not absent.any() and (
        proved or _overlap_proved_nearer_the_optimum(X, y_encoded, Y, fit_weight, theta)
    ):
        separation = "not separated"
    else:
        separation = _check_separation(estimator, X, y_encoded, n_classes, fit_weight)
    if penalty:
        # The information's eigenvectors are not needed beyond the proof.
        del information_eigh
        bread = information.copy()
        on_weights = np.arange(n_rows) >= int(estimator.fit_intercept)
        bread[np.diag_indices_from(bread)] += penalty * np.tile(on_weights, n_classes)
        bread_eigh = shifted_eigh(bread, n_classes, overwrite=True)
        del bread
    else:
        bread_eigh = information_eigh
    meat, correction = meat_and_correction(
        cov_type,
        information,
        X,
        P - Y,
        sample_weight,
        estimator.fit_intercept,
        clusters,
        n_free,
        class_factor,
    )
    # Nothing below reads the information but through the meat (which is
    # the information itself for cov_type='nonrobust').
    del information
    symmetric_covariance = correction * sandwich_covariance(bread_eigh, meat)
    rounding = np.sqrt(correction) * _rounding_scale(bread_eigh, meat)
    del meat, bread_eigh
    covariance = symmetric_covariance
    params = theta
    column_names = classes.tolist()
    if reference is not None:
        to_differences = difference_map(n_classes, reference, n_rows)
        covariance = to_differences @ covariance @ to_differences.T
        rounding = np.abs(to_differences) @ rounding
        params = np.delete(theta - theta[:, [reference]], reference, axis=1)
        del column_names[reference]

    feature_names = pipeline_names or getattr(estimator, "feature_names_in_", None)
    feature_names = (
        [str(name) for name in feature_names]
        if feature_names is not None
        else [f"x{j}" for j in range(X.shape[1])]
    )
    row_names = (
        ["intercept", *feature_names]
        if estimator.fit_intercept
        else list(feature_names)
    )
    model = FittedModel(
        # Its own copy: the result's params, which may be theta, are the
        # user's to change.
        theta=theta.copy(),
        covariance=symmetric_covariance,
        fit_intercept=bool(estimator.fit_intercept),
        X=X,
        y_encoded=y_encoded,
        sample_weight=sample_weight,
        classes=classes,
        feature_names=feature_names,
        validator=copy.copy(estimator),
        preprocess=preprocess,
    )
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
        model=model,
        class_weighted=class_factor is not None,
        variance_rounding=rounding**2,
    )

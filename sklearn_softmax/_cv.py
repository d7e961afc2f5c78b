"""SoftmaxRegressionCV: C (and l1_ratio) chosen by cross-validation."""

import warnings
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    check_is_fitted,
    validate_data,
)

from ._array_api import input_namespace, namespace_name, to_numpy
from ._backends import NumpyBackend
from ._base import LinearSoftmaxClassifierMixin, parameter_names
from ._dask import is_dask_collection
from ._estimator import SoftmaxRegression
from ._messages import caller_stacklevel
from ._path import check_Cs, fit_along_path, once_each, warn_unused_without_finite_C
from ._penalty_params import UNSET, l1_ratio_grid
from ._routing import (
    refuse_unasked_sample_weight,
    refuse_unrouted,
    routing_enabled,
    score_requests_of_logistic_regression_cv,
)
from ._scoring import scorer_for_classes
from ._solvers import STOCHASTIC_SOLVERS
from ._targets import check_sample_weight, check_two_classes, class_weights
from ._unused_settings import defaults, unused_settings

# Parameters of SoftmaxRegression that the search sets, or that mean
# something else here (n_jobs runs the folds in parallel).
_SET_BY_SEARCH = ("C", "l1_ratio", "l1_groups", "penalty", "warm_start", "n_jobs")


def best_pair(scores):
    """The indices ``(l1_ratio, C)`` of the best of ``scores``, of shape
    ``(n_l1_ratios, n_cs)``: among ties, the first ``C``, then the first
    ``l1_ratio``, as LogisticRegressionCV of scikit-learn 1.9 breaks them
    (that of 1.6 took the first ``l1_ratio`` first)."""
    c, ratio = np.unravel_index(np.argmax(scores.T), scores.T.shape)
    return int(ratio), int(c)


class SoftmaxRegressionCV(LinearSoftmaxClassifierMixin, BaseEstimator):
    """Softmax regression with ``C`` chosen by cross-validation.

    For each fold of ``cv`` and each value of ``l1_ratios``, fits
    :class:`SoftmaxRegression` along the grid ``Cs`` with warm starts (see
    :func:`softmax_regression_path`) and scores each fit on the held-out
    samples; the pair ``(C, l1_ratio)`` with the best mean score over the
    folds is then refitted on all the data, as
    :class:`~sklearn.linear_model.LogisticRegressionCV` does.

    Parameters
    ----------
    Cs : int or array-like of shape (n_cs,), default=10
        The values of ``C`` to try, fitted in this order along each path; an
        integer gives that many values on a logarithmic grid from 1e-4 to
        1e4.
    l1_ratios : array-like of shape (n_l1_ratios,), default=None
        The values of ``l1_ratio`` to try, each in [0, 1], as in
        :class:`SoftmaxRegression`: 0 for L2, 1 for L1 (or the group norm,
        with ``l1_groups='features'``), an elastic net in between. None
        means ``[0.0]``, the L2 penalty alone, as LogisticRegressionCV's
        ``l1_ratios=(0,)``. ``Cs`` may hold ``np.inf`` for no penalty.
    cv : int, cross-validation generator or iterable, default=None
        The folds, as in :func:`~sklearn.model_selection.check_cv`: None for
        5-fold, an integer for that many folds (stratified, as for any
        classifier), or a splitter; a splitter that takes ``groups``, such
        as :class:`~sklearn.model_selection.GroupKFold`, gets them from
        :meth:`fit`. A class may be missing from some training or held-out
        parts (see the Notes).
    scoring : str or callable, default=None
        How a fit is scored on its held-out samples: a scorer name or a
        callable ``scorer(estimator, X, y)``. None means 'neg_log_loss', the
        held-out value of the loss the model minimises (scikit-learn's
        LogisticRegressionCV moves to the same default in version 1.11);
        with ``label_smoothing``, the log-loss of the held-out labels
        themselves, not of their smoothed targets.
        A scorer whose metric takes ``labels`` (log-loss, Brier score, F1,
        ...) is given the classes of all the data, and with two classes
        ``pos_label=classes_[1]`` where it takes one, so that a held-out
        part without some class is scored against all of them. With
        ``sample_weight``, the held-out samples are scored with their
        weights; with metadata routing enabled, only if the scorer
        requests them.
    refit : bool, default=True
        Whether to refit on all the data with the best ``C`` and
        ``l1_ratio``, starting from the mean of the folds' solutions. If
        False, ``coef_`` and ``intercept_`` are the means of the folds'
        solutions at each fold's best values, and ``C_`` and ``l1_ratio_``
        the means of those values.
    n_jobs : int, default=None
        Paths fitted in parallel, one per fold and ``l1_ratio``, by joblib.
        None means 1 unless in a :obj:`joblib.parallel_backend` context.
    use_legacy_attributes : bool, default=False
        Taken for code written for LogisticRegressionCV (scikit-learn 1.8
        and later): the fitted attributes have the layout its
        ``use_legacy_attributes=False`` gives, and True, its layout before
        1.8, raises a ValueError.
    penalty : {'l2', 'l1', 'elasticnet', 'group'}
        Deprecated, as in LogisticRegressionCV since scikit-learn 1.8: leave
        it unset and choose the penalty with ``l1_ratios`` (and
        ``l1_groups``). Setting it warns (FutureWarning); 'l2' searches
        ``l1_ratios=[0]`` and 'l1' ``[1]`` (a ``l1_ratios`` given with
        either is not used and warns), 'elasticnet' the ``l1_ratios`` it
        requires, and 'group' the given ``l1_ratios`` (``[1]`` when None)
        with ``l1_groups='features'``. None is refused, as in
        LogisticRegressionCV: ``Cs=[np.inf]`` fits no penalty.
    l1_groups : {None, 'features'}, default=None
        As in :class:`SoftmaxRegression`, for the values of ``l1_ratios``
        above 0.
    fit_intercept : bool, default=True
        As in :class:`SoftmaxRegression`.
    solver : {'auto', 'newton-cg', 'newton-cholesky', 'lbfgs', 'gd', 'sgd', \
'adam'}, default='auto'
        As in :class:`SoftmaxRegression`.
    max_iter : int, default=100
        As in :class:`SoftmaxRegression`, for each fit.
    tol : float, default=1e-4
        As in :class:`SoftmaxRegression`.
    verbose : int, default=0
        As in :class:`SoftmaxRegression`, for each fit.
    n_threads : int, default=None
        As in :class:`SoftmaxRegression`, for each fit.
    precision : {'auto', 'mixed', 'full'}, default='auto'
        As in :class:`SoftmaxRegression`.
    class_weight : dict, 'balanced' or None, default=None
        As in :class:`SoftmaxRegression`; 'balanced' weighs the classes by
        their shares of all the data, in every fold and in the refit, as
        LogisticRegressionCV does.
    label_smoothing : float in [0, 1), default=0.0
        As in :class:`SoftmaxRegression`.
    batch_size : int, default=200
        As in :class:`SoftmaxRegression`.
    learning_rate : {'adaptive', 'constant', 'invscaling'}, default='adaptive'
        As in :class:`SoftmaxRegression`.
    learning_rate_init : float, default=None
        As in :class:`SoftmaxRegression`.
    power_t : float, default=0.5
        As in :class:`SoftmaxRegression`.
    momentum : float in [0, 1), default=0.9
        As in :class:`SoftmaxRegression`.
    nesterovs_momentum : bool, default=True
        As in :class:`SoftmaxRegression`.
    average : bool, default=False
        As in :class:`SoftmaxRegression`.
    shuffle : bool, default=True
        As in :class:`SoftmaxRegression`.
    random_state : int, RandomState instance or None, default=None
        As in :class:`SoftmaxRegression`. For 'sgd' and 'adam', a
        RandomState instance or None (NumPy's global generator) gives one
        draw, in the caller's process, that seeds every fold's fits: the
        search does not depend on ``n_jobs``.
    early_stopping : bool, default=False
        As in :class:`SoftmaxRegression`.
    validation_fraction : float in (0, 1), default=0.1
        As in :class:`SoftmaxRegression`.
    n_iter_no_change : int, default=5
        As in :class:`SoftmaxRegression`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, as in :class:`SoftmaxRegression`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts, as in :class:`SoftmaxRegression`.
    Cs_ : ndarray of shape (n_cs,)
        The values of ``C`` tried.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The values of ``l1_ratio`` tried: the share of the L1 (or group)
        norm.
    C_ : float
        The chosen ``C``.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        The held-out score of each fit.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_rows, n_dof)
        ``coef_`` of each fit, with ``intercept_`` as a last column when
        ``fit_intercept``: ``n_dof`` is ``n_features + 1`` then and
        ``n_features`` otherwise; ``n_rows`` is 1 with two classes. Of the
        dtype of ``coef_``.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        The solver's iterations in each fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    SoftmaxRegression : The model, for one ``C``.
    softmax_regression_path : The fits along a grid of ``C``.
    sklearn.linear_model.LogisticRegressionCV : The same search for
        LogisticRegression.

    Notes
    -----
    The folds' paths are warm-started: each ``C`` starts from the solution of
    the one before, so an increasing grid, as an integer ``Cs`` gives, costs
    little more than its last fit. The attribute layout follows
    LogisticRegressionCV's ``use_legacy_attributes=False``.

    As in LogisticRegressionCV, every fold is fitted against the classes of
    all the data, so a class may have fewer samples than there are folds.
    A class with no sample in a training part keeps its row of
    coefficients, at the penalised optimum: its loss gradient
    ``X^T p_k`` only pushes its probabilities ``p_k`` down. Without an
    intercept that optimum is finite. With one, it is not: the class's
    intercept falls without bound (unless ``label_smoothing`` gives the
    class a target above zero), and the solver stops where its ``tol``
    is met, as LogisticRegressionCV's does: for the deterministic solvers,
    with the class's mean probability on the training part at most about
    ``tol``. A held-out sample of that class is scored with that small
    probability, which depends on the solver and ``tol``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import SoftmaxRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SoftmaxRegressionCV(Cs=[0.1, 1.0, 10.0, 100.0], cv=5).fit(X, y)
    >>> float(clf.C_)
    100.0
    >>> clf.scores_.shape
    (5, 1, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        **{
            name: constraint
            for name, constraint in SoftmaxRegression._parameter_constraints.items()
            if name not in _SET_BY_SEARCH
        },
        "penalty": [
            StrOptions({"l2", "l1", "elasticnet", "group"}),
            Hidden(StrOptions({UNSET})),
        ],
        "l1_groups": [StrOptions({"features"}), None],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "use_legacy_attributes": ["boolean"],
    }
    # What the estimator itself requests for score, as LogisticRegressionCV
    # of the same scikit-learn: in newer versions nothing (sample_weight goes
    # to the scorer as it asks), in older ones sample_weight, which their
    # routing would not pass on to the scorer.
    __metadata_request__score: ClassVar[dict] = (
        score_requests_of_logistic_regression_cv()
    )

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=None,
        cv=None,
        scoring=None,
        refit=True,
        n_jobs=None,
        use_legacy_attributes=False,
        penalty=UNSET,
        l1_groups=None,
        fit_intercept=True,
        solver="auto",
        max_iter=100,
        tol=1e-4,
        verbose=0,
        n_threads=None,
        precision="auto",
        class_weight=None,
        label_smoothing=0.0,
        batch_size=200,
        learning_rate="adaptive",
        learning_rate_init=None,
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        average=False,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.use_legacy_attributes = use_legacy_attributes
        self.penalty = penalty
        self.l1_groups = l1_groups
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.n_threads = n_threads
        self.precision = precision
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.average = average
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``C`` (and ``l1_ratio``) by cross-validation, then fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights, used in the fits. The held-out
            scores use them too, unless metadata routing is enabled: then
            only if the scorer requests them
            (``scorer.set_score_request(sample_weight=True)``).
        **params : dict
            Metadata for the splitter's ``split`` and the scorer. Without
            metadata routing only ``groups`` is accepted, and passed to the
            splitter (for :class:`~sklearn.model_selection.GroupKFold` and
            the like). With ``sklearn.set_config(enable_metadata_routing=True)``,
            each is passed to the splitter and the scorer that request it.

        Returns
        -------
        self : SoftmaxRegressionCV
            The fitted estimator.
        """
        return self._run_fit(self._fit, X, y, sample_weight, params)

    def _fit(self, X, y, sample_weight, params):
        if self.use_legacy_attributes:
            raise ValueError(
                "use_legacy_attributes=True asks for LogisticRegressionCV's "
                "attributes before scikit-learn 1.8, which SoftmaxRegressionCV "
                "does not offer: its attributes have the layout of "
                "use_legacy_attributes=False."
            )
        if is_dask_collection(X):
            raise ValueError(
                "SoftmaxRegressionCV takes data in memory; X is a dask "
                "collection. SoftmaxRegression fits dask collections on their "
                "workers, and GridSearchCV can choose its C."
            )
        if input_namespace(X) is not None:
            raise ValueError(
                "SoftmaxRegressionCV takes NumPy arrays and SciPy sparse "
                f"matrices; X is a {namespace_name(X)} array. "
                "SoftmaxRegression fits Array API inputs on their device, and "
                "GridSearchCV can choose its C."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            accept_large_sparse=True,
        )
        # Labels of another namespace follow X to the host, as in fit.
        y = to_numpy(y)
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        classes, y_encoded = np.unique(y, return_inverse=True)
        check_two_classes(classes, type(self).__name__)
        class_weight = self.class_weight
        if isinstance(class_weight, str):  # 'balanced'
            # The classes' shares of all the data, as LogisticRegressionCV
            # takes them, rather than of each training part.
            totals = np.bincount(
                y_encoded, weights=sample_weight, minlength=classes.size
            )
            weights = class_weights(class_weight, totals, classes)
            class_weight = dict(zip(classes.tolist(), weights.tolist(), strict=True))
        # The fits take the settings the search warned of at their defaults.
        settings = self._warn_unused_settings(X)
        if self.solver in STOCHASTIC_SOLVERS and not isinstance(
            self.random_state, Integral
        ):
            # One draw, in this process, seeds every fold's fits: they then
            # do not depend on the process that runs them (n_jobs), where
            # each would draw from its own process's generator.
            generator = check_random_state(self.random_state)
            settings["random_state"] = int(generator.randint(np.iinfo(np.int32).max))
        Cs = check_Cs(self.Cs)
        l1_ratios, l1_groups = l1_ratio_grid(
            self.penalty, self.l1_ratios, self.l1_groups
        )
        if self.penalty == UNSET and np.any(l1_ratios > 0):
            warn_unused_without_finite_C(Cs, f"l1_ratios={self.l1_ratios!r}", l1_groups)
        split_params, score_params = self._route(sample_weight, params)
        # Every fold is fitted and scored against the classes of all the
        # data, as in LogisticRegressionCV: a class may be missing from a
        # training part (it keeps its coefficients, see the Notes) or from
        # a held-out part (the scorer is given the labels).
        scorer = scorer_for_classes(self._scorer(), classes)
        splitter = check_cv(self.cv, y, classifier=True)
        folds = list(splitter.split(X, y, **split_params))

        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(_scores_along_path)(
                self._estimator(l1_ratio, l1_groups, class_weight, settings),
                X,
                y,
                classes,
                sample_weight,
                train,
                test,
                Cs,
                scorer,
                _check_method_params(X, score_params, indices=test),
            )
            for train, test in folds
            for l1_ratio in l1_ratios
        )
        shape = (len(folds), len(l1_ratios), len(Cs))
        scores = np.array([path[0] for path in paths]).reshape(shape)
        coefs = np.array([path[1] for path in paths])
        coefs = coefs.reshape(shape + coefs.shape[2:])
        n_iter = np.array([path[2] for path in paths], dtype=np.int32).reshape(shape)
        # What the fits said of their settings (what 'auto' picks in each
        # does not use), once for the search: the first message for each
        # setting.
        unused = [notice for path in paths for notice in path[3]]

        if self.refit:
            ratio, c = best_pair(scores.mean(axis=0))
            best_C, best_ratio = Cs[c], l1_ratios[ratio]
            start = coefs[:, ratio, c].mean(axis=0, dtype=np.float64)
            # As along the path: an infinite C is the unpenalised fit.
            model = self._estimator(
                best_ratio if np.isfinite(best_C) else 0.0,
                l1_groups,
                class_weight,
                settings,
            ).set_params(C=best_C, warm_start=True)
            model.classes_ = classes
            model.coef_, model.intercept_ = self._split_solution(start, X.dtype)
            model._report_unused = lambda *notice: unused.append(notice)
            model.fit(X, y, sample_weight=sample_weight)
            coef, intercept = model.coef_, model.intercept_
        else:
            # Each fold's best pair, and the mean of their solutions.
            ratios, cs = np.transpose([best_pair(fold) for fold in scores])
            best_C, best_ratio = Cs[cs].mean(), l1_ratios[ratios].mean()
            solution = coefs[np.arange(len(folds)), ratios, cs].mean(
                axis=0, dtype=np.float64
            )
            coef, intercept = self._split_solution(solution, X.dtype)

        report = once_each()
        for notice in unused:
            report(*notice)
        self.classes_ = classes
        self.coef_, self.intercept_ = coef, intercept
        self.Cs_ = Cs
        self.l1_ratios_ = l1_ratios
        self.C_ = float(best_C)
        self.l1_ratio_ = float(best_ratio)
        self.scores_ = scores
        self.coefs_paths_ = coefs
        self.n_iter_ = n_iter
        self._record_fitted_objective()
        return self

    def _split_solution(self, solution, dtype):
        """``coef_`` and ``intercept_`` from an entry of ``coefs_paths_``."""
        n_features = self.n_features_in_
        coef = np.ascontiguousarray(solution[:, :n_features], dtype=dtype)
        if self.fit_intercept:
            return coef, solution[:, n_features].astype(dtype)
        return coef, np.zeros(solution.shape[0], dtype=dtype)

    def _scorer(self):
        if self.scoring is None:
            return get_scorer("neg_log_loss")
        return check_scoring(self, scoring=self.scoring)

    def _route(self, sample_weight, params):
        """The metadata for the splitter's ``split`` and for the scorer, as
        LogisticRegressionCV routes them in newer scikit-learn (refusing
        ``sample_weight`` for a scorer that has not said whether it takes
        it, with any version); without routing, ``groups`` goes to the
        splitter, as in GridSearchCV."""
        if routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            refuse_unasked_sample_weight(
                self._scorer(), sample_weight, type(self).__name__, "fit"
            )
            return routed.splitter.split, routed.scorer.score
        refuse_unrouted(params, type(self).__name__, "fit", allowed={"groups"})
        split_params = {"groups": params["groups"]} if "groups" in params else {}
        if split_params.get("groups") is not None and _is_list_of_splits(self.cv):
            # scikit-learn's splitters that take no groups warn themselves.
            warnings.warn(
                "groups is not used: cv is a list of splits, fixed in advance.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        score_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        return split_params, score_params

    def get_metadata_routing(self):
        """How ``fit`` and ``score`` pass their metadata on.

        ``fit`` passes metadata to the splitter's ``split`` and to the
        scorer, ``score`` to the scorer, each the metadata it requests;
        ``sample_weight`` is also used by the fits themselves. See
        scikit-learn's metadata routing user guide.

        Returns
        -------
        routing : MetadataRouter
            The routing of ``fit`` and ``score``.
        """
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._scorer(),
                method_mapping=MethodMapping()
                .add(caller="fit", callee="score")
                .add(caller="score", callee="score"),
            )
        )

    def _warn_unused_settings(self, X):
        """Warn once of each setting that the fits of ``X`` do not use, as
        each fit of a SoftmaxRegression would; return those settings at
        their defaults, which the search's fits take so as not to warn
        again."""
        runs = (
            "'auto', a full-batch solver in fit"
            if self.solver == "auto"
            else repr(self.solver)
        )
        defaults_ = defaults(SoftmaxRegression)
        unused = unused_settings(
            self._parameters(),
            defaults_,
            self.solver,
            runs,
            NumpyBackend().unread_settings(self.solver, X),
        )
        for _, sentence in unused:
            warnings.warn(sentence, UserWarning, stacklevel=caller_stacklevel())
        return {name: defaults_[name] for names, _ in unused for name in names}

    def _estimator(self, l1_ratio, l1_groups, class_weight, settings):
        """SoftmaxRegression with these parameters, ``l1_ratio``,
        ``l1_groups``, which groups nothing where ``l1_ratio`` is 0, and
        ``class_weight``; the parameters in ``settings`` at the values given
        there."""
        params = {
            name: getattr(self, name)
            for name in parameter_names(SoftmaxRegression)
            if name not in (*_SET_BY_SEARCH, "class_weight")
        }
        params.update(settings)
        return SoftmaxRegression(
            l1_ratio=float(l1_ratio),
            l1_groups=l1_groups if l1_ratio > 0 else None,
            class_weight=class_weight,
            **params,
        )

    def score(self, X, y, sample_weight=None, **score_params):
        """Score with ``scoring`` (by default the negative log-loss).

        A metric that takes ``labels`` is given ``classes_`` (and, with two
        classes, ``pos_label=classes_[1]``), as the folds of the search
        were: ``y`` need not show every class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            Their labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights. With metadata routing enabled, passed only to a
            scorer that requests them.
        **score_params : dict
            Other metadata for the scorer; only with metadata routing
            enabled.

        Returns
        -------
        score : float
            The score of the fitted model on ``(X, y)``: the larger, the
            better.
        """
        check_is_fitted(self)
        refuse_unrouted(score_params, type(self).__name__, "score")
        # Against all the classes, as the search scored its folds: y need
        # not show them all.
        scorer = scorer_for_classes(self._scorer(), self.classes_)
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if routing_enabled():
            # Before the routing, which older scikit-learn has refuse the
            # weights with a TypeError where the scorer declares nothing.
            refuse_unasked_sample_weight(
                scorer, sample_weight, type(self).__name__, "score"
            )
            score_params = process_routing(self, "score", **score_params).scorer.score
        return scorer(self, X, y, **score_params)


def _is_list_of_splits(cv):
    return not (cv is None or isinstance(cv, Integral) or hasattr(cv, "split"))


def _scores_along_path(
    estimator, X, y, classes, sample_weight, train, test, Cs, scorer, score_params
):
    """Fit ``estimator`` along ``Cs`` on the rows ``train``, against all the
    ``classes``; return each fit's score on the rows ``test`` (with the
    held-out ``score_params``), its solution and its iterations, and the
    warnings the fits' settings deserve, as ``(names, message, category)``."""
    weights_train = None if sample_weight is None else sample_weight[train]
    X_test, y_test = _safe_indexing(X, test), y[test]
    scores, coefs, n_iter, unused = [], [], [], []
    for model in fit_along_path(
        estimator,
        _safe_indexing(X, train),
        y[train],
        Cs,
        weights_train,
        classes,
        report_unused=lambda *notice: unused.append(notice),
    ):
        scores.append(scorer(model, X_test, y_test, **score_params))
        solution = model.coef_
        if model.fit_intercept:
            solution = np.column_stack([solution, model.intercept_])
        # A copy: the path refits the same model. float32 data keeps its
        # float32 solutions, as coef_ does.
        coefs.append(np.array(solution, copy=True))
        n_iter.append(int(model.n_iter_[0]))
    return scores, coefs, n_iter, unused

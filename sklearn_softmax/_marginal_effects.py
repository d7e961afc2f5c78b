"""The marginal effects of a fitted softmax regression, with delta-method
standard errors: what :meth:`SoftmaxInferenceResult.marginal_effects`
returns."""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from ._fitted_model import delta_covariance
from ._margins import (
    AT,
    METHODS,
    discrete_features,
    evaluation_rows,
    marginal_effects_and_jacobian,
    marginal_effects_by_row,
)
from ._tables import EstimatesTable, tidy_frame

_METHOD_LABELS = {
    "dydx": "dy/dx",
    "eyex": "d(lny)/d(lnx)",
    "dyex": "dy/d(lnx)",
    "eydx": "d(lny)/dx",
}


class MarginalEffects(EstimatesTable):
    """Marginal effects of the features on the probabilities of the classes.

    Returned by :meth:`SoftmaxInferenceResult.marginal_effects`; the arrays
    have one row per feature and one column per class (all the classes of
    the estimator, whatever the layout of the parameters). With
    ``at='all'`` they have a leading axis of one entry per observation,
    statsmodels' layout: shape (n_observations, n_features, n_classes).

    Parameters
    ----------
    effects : ndarray of shape (n_features, n_classes) or \
            (n_observations, n_features, n_classes)
        The effects.
    covariance : ndarray of shape (n_features * n_classes,) * 2 or None
        Their delta-method covariance, ordered as
        ``effects.ravel(order='F')``; see :meth:`cov_effects`. None for
        ``at='all'``, which gives ``bse`` instead.
    row_names : list of str
        The features.
    column_names : list
        The classes.
    at : {'overall', 'mean', 'median', 'zero', 'all'}
        Where the effects were evaluated.
    method : {'dydx', 'eyex', 'dyex', 'eydx'}
        What they measure.
    dummy_features : list of str
        The features whose effect is the change from 0 to 1.
    count_features : list of str
        The features whose effect is half the change from ``x - 1`` to
        ``x + 1``.
    bse : ndarray of the shape of ``effects``, default=None
        The standard errors, for ``at='all'``; otherwise they come from
        ``covariance``.

    Attributes
    ----------
    bse : ndarray of the shape of ``effects``
        The standard errors of ``effects``.
    zvalues : ndarray of the shape of ``effects``
        ``effects / bse``.
    pvalues : ndarray of the shape of ``effects``
        Two-sided p-values of the z-tests that each effect is zero.

    See Also
    --------
    SoftmaxInferenceResult.marginal_effects : Computes them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_wine
    >>> from sklearn_softmax import SoftmaxRegression, softmax_inference
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> X = X[["alcohol", "flavanoids"]]
    >>> clf = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, y)
    >>> effects = softmax_inference(clf, X, y).marginal_effects()
    >>> effects.effects.shape, effects.row_names
    ((2, 3), ['alcohol', 'flavanoids'])
    >>> bool(abs(effects.effects.sum(axis=1)).max() < 1e-12)
    True
    """

    _ESTIMATES = "effects"

    def __init__(
        self,
        effects,
        covariance,
        row_names,
        column_names,
        *,
        at,
        method,
        dummy_features,
        count_features,
        bse=None,
    ):
        self.effects = effects
        self._covariance = covariance
        if bse is None:
            bse = np.sqrt(np.clip(np.diag(covariance), 0, None)).reshape(
                effects.shape, order="F"
            )
        self.bse = bse
        self._set_tests()
        self.row_names = row_names
        self.column_names = column_names
        self.at = at
        self.method = method
        self.dummy_features = dummy_features
        self.count_features = count_features

    def cov_effects(self):
        """The covariance matrix of the flattened ``effects``.

        Returns
        -------
        cov : ndarray of shape (n_features * n_classes, n_features * n_classes)
            Ordered class by class, as ``effects.ravel(order='F')``.

        Raises
        ------
        ValueError
            For ``at='all'``, which keeps each effect's standard error only:
            the covariance of all the observations' effects has
            ``(n_observations * n_features * n_classes)**2`` entries.
        """
        if self._covariance is None:
            raise ValueError(
                "cov_effects is not available for at='all': only the standard "
                "errors of each observation's effects are kept. Evaluate "
                "at='mean' with atexog set to a row for the covariance at it."
            )
        return self._covariance.copy()

    def to_frame(self, alpha=0.05):
        """The effects as a tidy pandas DataFrame, one row per effect.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``class``, ``term`` (the feature), ``estimate``,
            ``std_error``, ``z``, ``p_value``, ``ci_lower`` and
            ``ci_upper``, class by class. For ``at='all'``, an
            ``observation`` column (the row's position, from 0) follows
            ``class``, and each class lists the observations in order, each
            with all its features.
        """
        if self.effects.ndim == 2:
            return self._tidy_frame(alpha)
        n_observations, n_features, n_classes = self.effects.shape
        # One row of the table per observation and feature; the intervals
        # keep their last axis.
        frame = tidy_frame(
            *(
                values.reshape(n_observations * n_features, *values.shape[2:])
                for values in self._columns(alpha)
            ),
            self.row_names * n_observations,
            self.column_names,
        )
        frame.insert(
            1,
            "observation",
            np.tile(np.repeat(np.arange(n_observations), n_features), n_classes),
        )
        return frame

    def summary(self, alpha=0.05):
        """Tabulate the effects class by class.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        summary : str
            The tables, after a header on the method and the point.

        Raises
        ------
        ValueError
            For ``at='all'``: a table per class of every observation's
            effects is no summary. Use :meth:`to_frame`.
        """
        if self.at == "all":
            raise ValueError(
                "summary is not available for at='all', which has the effects "
                f"of {self.effects.shape[0]} observations: use to_frame, or "
                "at='overall' for their average."
            )
        lines = [
            "Softmax regression: marginal effects",
            f"Method: {self.method} ({_METHOD_LABELS[self.method]})    At: {self.at}",
        ]
        for kind, names in (
            ("change from 0 to 1", self.dummy_features),
            ("change by one", self.count_features),
        ):
            if names:
                lines.append(f"Discrete ({kind}): {', '.join(names)}")
        titles = [f"class {label!r}" for label in self.column_names]
        return "\n".join(
            lines + self._class_tables(alpha, titles, _METHOD_LABELS[self.method])
        )

    def __str__(self):
        if self.at == "all":
            n_observations, n_features, n_classes = self.effects.shape
            return (
                "Softmax regression: marginal effects\n"
                f"Method: {self.method} ({_METHOD_LABELS[self.method]})    At: all "
                f"({n_observations} observations, {n_features} features, "
                f"{n_classes} classes; see to_frame)"
            )
        return self.summary()


def _feature_index(key, feature_names):
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        if 0 <= key < len(feature_names):
            return int(key)
    elif isinstance(key, str) and key in feature_names:
        return feature_names.index(key)
    raise ValueError(
        f"atexog's key {key!r} is neither the index of a feature (0 to "
        f"{len(feature_names) - 1}) nor one of its names {feature_names}."
    )


def _fixed_values(atexog, at, model):
    """atexog's dict as feature index to a float or an array of one float per
    sample."""
    n_samples = model.X.shape[0]
    fixed = {}
    for key, value in atexog.items():
        j = _feature_index(key, model.feature_names)
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"atexog's value for {key!r} must be a number"
                + ("" if at == "zero" else f" or {n_samples} numbers")
                + f"; got {value!r}."
            ) from None
        if value.ndim == 1 and value.size == n_samples and at != "zero":
            fixed[j] = value
        elif value.ndim == 0:
            fixed[j] = float(value)
        else:
            raise ValueError(
                f"atexog's value for {key!r} must be a number"
                + ("" if at == "zero" else f" or {n_samples} numbers, one per sample")
                + f"; got an array of shape {value.shape}."
            )
        if not np.all(np.isfinite(fixed[j])):
            raise ValueError(f"atexog's value for {key!r} is not finite.")
    return fixed


def _validated_rows(atexog, model):
    """atexog's rows as the model sees them: through the earlier steps of a
    Pipeline, and checked against the features of the fit (their number,
    and their names and order where both have names), as
    :meth:`SoftmaxInferenceResult.predict_proba_interval` checks its rows."""
    if getattr(atexog, "ndim", None) == 1 and hasattr(atexog, "to_frame"):
        # A pandas Series is one row, its index the feature names.
        atexog = atexog.to_frame().T
    elif not sp.issparse(atexog) and np.ndim(atexog) == 1:
        atexog = np.asarray(atexog)[np.newaxis]
    try:
        rows = model.validate_rows(atexog)
    except ValueError as error:
        raise ValueError(
            f"atexog's rows are not rows the fitted model takes: {error}"
        ) from error
    # The rows are few: each is a point the effects are evaluated at.
    return rows.toarray() if sp.issparse(rows) else rows


def _check_options(at, method, dummy, count, atexog):
    if at not in AT:
        raise ValueError(f"at must be one of {AT}; got {at!r}.")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if dummy or count:
        if method in ("eyex", "dyex"):
            raise ValueError(
                f"method={method!r} is refused with dummy=True or count=True: "
                "the change of a discrete feature has no elasticity in x. Use "
                "'dydx' or 'eydx'."
            )
        if at in ("median", "zero"):
            raise ValueError(
                f"at={at!r} is refused with dummy=True or count=True, as "
                "statsmodels refuses it; use 'overall' or 'mean'."
            )
    if atexog is not None and not isinstance(atexog, dict) and at == "zero":
        raise ValueError(
            "at='zero' with rows as atexog would use neither: give atexog as "
            "a dict of the features to hold at other values than zero."
        )


def compute_marginal_effects(model, at, method, atexog, dummy, count, column_names):
    """The :class:`MarginalEffects` of a :class:`FittedModel`."""
    _check_options(at, method, dummy, count, atexog)
    fixed, rows = {}, None
    if isinstance(atexog, dict):
        if model.preprocess is not None:
            raise ValueError(
                "atexog as a dict is refused for a model fitted in a Pipeline: "
                "its values would be those of the features after the earlier "
                "steps, which cannot transform the values of some features "
                "alone. Give atexog as rows of the Pipeline's input, which go "
                "through the earlier steps."
            )
        fixed = _fixed_values(atexog, at, model)
    elif atexog is not None:
        rows = _validated_rows(atexog, model)
    dummy_features, count_features = [], []
    if dummy or count:
        binary, counted = discrete_features(model.X, model.sample_weight)
        for wanted, found, kind, meaning in (
            (dummy, binary, "dummy", "binary (its values 0 and 1 only)"),
            (count, counted, "count", "a count (non-negative integers, not binary)"),
        ):
            if not wanted:
                continue
            if found.size == 0:
                warnings.warn(
                    f"{kind}=True, but no feature is {meaning}: their effects "
                    "are all derivatives.",
                    UserWarning,
                    stacklevel=3,
                )
            (dummy_features if kind == "dummy" else count_features).extend(
                found.tolist()
            )
    X, weights, fixed = evaluation_rows(model.X, model.sample_weight, at, fixed, rows)
    if at == "all":
        effects, bse = marginal_effects_by_row(
            model, X, fixed, method, dummy_features, count_features
        )
        covariance = None
    else:
        effects, jacobian = marginal_effects_and_jacobian(
            model, X, weights, fixed, method, dummy_features, count_features
        )
        covariance, bse = delta_covariance(jacobian, model.covariance), None
    names = model.feature_names
    return MarginalEffects(
        effects,
        covariance,
        list(names),
        list(column_names),
        at=at,
        method=method,
        dummy_features=[names[j] for j in dummy_features],
        count_features=[names[j] for j in count_features],
        bse=bse,
    )

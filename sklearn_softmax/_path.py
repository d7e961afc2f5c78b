"""The regularisation path: one model per C, each fit warm-started."""

import math
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone

from ._estimator import SoftmaxRegression
from ._messages import caller_stacklevel
from ._penalty_params import UNSET
from ._vectors import namespace


def check_Cs(Cs):
    """The grid of C: ``Cs`` values from 1e-4 to 1e4 when it is an integer,
    as in :class:`~sklearn.linear_model.LogisticRegressionCV`, or ``Cs``
    itself, checked to be positive."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"Cs must be a positive integer or a list of C; got {Cs}.")
        return np.logspace(-4, 4, Cs)
    try:
        grid = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"Cs must be an integer or a list of positive floats; got {Cs!r}."
        ) from None
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(
            "Cs must be an integer or a non-empty 1-d list of C; got "
            f"{Cs!r}, of shape {grid.shape}."
        )
    if not np.all(grid > 0) or np.any(np.isnan(grid)):
        raise ValueError(f"Every C in Cs must be positive; got {grid.tolist()}.")
    return grid


def warn_unused_without_finite_C(Cs, ratio, l1_groups):
    """Warn that the settings of the L1 part of a penalty, ``ratio`` (an
    L1 share above 0 as the caller spells it, such as ``"l1_ratio=0.5"``;
    None where there is none) and ``l1_groups``, are not used where no C of
    ``Cs`` is finite."""
    if ratio is None or np.any(np.isfinite(Cs)):
        return
    settings = [ratio] if l1_groups is None else [ratio, f"l1_groups={l1_groups!r}"]
    verb = "is" if len(settings) == 1 else "are"
    warnings.warn(
        f"{' and '.join(settings)} {verb} not used: every C in Cs is infinite, "
        "which sets no penalty. Add a finite C to Cs for a penalty with an L1 "
        "part.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def once_each():
    """A function that warns of what the fits say of each setting, once: it
    is given ``(names, message, category)``, and says the first message
    given for each ``names``."""
    said = set()

    def report(names, message, category):
        if names not in said:
            said.add(names)
            warnings.warn(message, category, stacklevel=caller_stacklevel())

    return report


def fit_along_path(
    estimator, X, y, Cs, sample_weight=None, classes=None, report_unused=None
):
    """Fit a copy of ``estimator`` for each C of ``Cs`` in turn, each fit
    starting from the previous solution; yield the model after each fit.

    With ``classes``, the labels are encoded against them, and ``y`` need
    not show them all (see ``SoftmaxRegression._fit_with_classes``).
    The same object is refitted and yielded each time: read what is needed
    from it before asking for the next. The fits hand the warnings their
    settings deserve to ``report_unused`` (by default, what each setting
    deserves is said once for the whole path: a point that runs another
    solver says it of another one).
    """
    model = clone(estimator).set_params(warm_start=True)
    model._report_unused = once_each() if report_unused is None else report_unused
    ratio = {name: getattr(model, name) for name in ("l1_ratio", "l1_groups")}
    for C in Cs:
        params = {"C": float(C)}
        if model.penalty == UNSET:
            # An infinite C leaves no penalty for l1_ratio to split: that
            # point is the unpenalised fit, without the warning that
            # l1_ratio is not used there, which the path's finite C use.
            unpenalised = {"l1_ratio": 0.0, "l1_groups": None}
            params.update(unpenalised if math.isinf(C) else ratio)
        model.set_params(**params)
        if classes is None:
            yield model.fit(X, y, sample_weight=sample_weight)
        else:
            yield model._fit_with_classes(X, y, sample_weight, classes)
        # The first fit said that a column y was taken for a 1-d one; the
        # others take the 1-d one and do not say it again.
        y = _one_dimensional(y)


def _one_dimensional(y):
    """``y`` with the shape (n_samples,) where it is a column, of the shape
    (n_samples, 1), in its own kind of array; otherwise ``y`` itself."""
    if not hasattr(y, "shape"):
        y = np.asarray(y)
    if len(y.shape) != 2 or y.shape[1] != 1:
        return y
    if hasattr(y, "iloc"):
        return y.iloc[:, 0]
    if hasattr(y, "reshape"):
        return y.reshape(-1)
    # An array of the Array API standard has the namespace's reshape only.
    return namespace(y).reshape(y, (-1,))


def softmax_regression_path(X, y, *, Cs=10, sample_weight=None, **params):
    """Fit :class:`SoftmaxRegression` along a grid of ``C``, with warm starts.

    Each fit starts from the solution of the previous ``C``, so a grid in
    increasing order (weakest regularisation last) costs far fewer solver
    iterations than fitting each ``C`` from zero. The solutions are those of
    separate fits, to within the solver's ``tol``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Class labels.
    Cs : int or array-like of shape (n_cs,), default=10
        The values of ``C``, fitted in this order; an integer gives that many
        values on a logarithmic grid from 1e-4 to 1e4, as in
        :class:`~sklearn.linear_model.LogisticRegressionCV`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    **params
        Other parameters of :class:`SoftmaxRegression` (``l1_ratio``,
        ``l1_groups``, ``solver``, ``tol``, ...); not ``C`` or
        ``warm_start``, which the path sets.

    Returns
    -------
    Cs : ndarray of shape (n_cs,)
        The values of ``C``.
    coefs : ndarray of shape (n_cs, n_rows, n_features)
        ``coef_`` at each ``C``; ``n_rows`` is 1 with two classes and the
        number of classes otherwise. For Array API inputs fitted on their
        device (see :doc:`gpu`), an array of their namespace and device, as
        ``coef_`` is.
    intercepts : ndarray of shape (n_cs, n_rows)
        ``intercept_`` at each ``C``, in the namespace of ``coefs``.
    n_iter : ndarray of shape (n_cs,)
        The solver's iterations at each ``C``.

    See Also
    --------
    SoftmaxRegressionCV : Chooses ``C`` along this path by cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import softmax_regression_path
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> Cs, coefs, intercepts, n_iter = softmax_regression_path(
    ...     X, y, Cs=[0.01, 0.1, 1.0], l1_ratio=1.0
    ... )
    >>> coefs.shape
    (3, 3, 4)
    >>> (coefs != 0).sum(axis=(1, 2))
    array([0, 4, 7])
    """
    for name in ("C", "warm_start"):
        if name in params:
            raise ValueError(f"{name} is set by the path; pass the values of C as Cs.")
    Cs = check_Cs(Cs)
    estimator = SoftmaxRegression(**params)
    if estimator.penalty == UNSET:
        ratio = estimator.l1_ratio
        warn_unused_without_finite_C(
            Cs, f"l1_ratio={ratio!r}" if ratio else None, estimator.l1_groups
        )
    coefs, intercepts, n_iter = [], [], []
    for model in fit_along_path(estimator, X, y, Cs, sample_weight):
        coefs.append(_copied(model.coef_))
        intercepts.append(_copied(model.intercept_))
        n_iter.append(int(model.n_iter_[0]))
    xp = namespace(coefs[0])
    return Cs, xp.stack(coefs), xp.stack(intercepts), np.array(n_iter, dtype=np.int32)


def _copied(array):
    """A copy of a fitted attribute, in its namespace, device and dtype."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return namespace(array).asarray(array, copy=True)

"""Pictures of fitted estimators, in the style of scikit-learn's displays.

A display is built from a fitted estimator with ``from_estimator``, keeps
the numbers it draws as attributes, and draws them with ``plot`` on a given
matplotlib ``Axes`` (or a new one), storing ``ax_``, ``figure_`` and
``lines_``. matplotlib is imported only when a display draws, so that the
package does not need it.
"""

import numbers
import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._array_api import to_numpy
from ._cv import SoftmaxRegressionCV, best_pair
from ._estimator import SoftmaxRegression
from ._solvers import STOCHASTIC_SOLVERS


def _check_fitted(estimator, kind, attribute, display):
    """Raise unless ``estimator`` is a fitted ``kind``: a TypeError naming
    the kind for an estimator of another, NotFittedError for an unfitted
    one."""
    if not isinstance(estimator, kind):
        raise TypeError(
            f"{display.__name__}.from_estimator takes a fitted {kind.__name__}; "
            f"got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, attribute)


def _pyplot(display):
    """matplotlib's pyplot, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{display} draws with matplotlib, which is not installed: install "
            "it, or install sklearn-softmax with its 'plot' extra, "
            "pip install 'sklearn-softmax[plot]'."
        ) from error
    return plt


def _axes(display, ax):
    """``ax``, or the axes of a new figure."""
    plt = _pyplot(display)
    if ax is None:
        _, ax = plt.subplots()
    return ax


_CURVES = ("objective", "gradient", "both")


class ConvergenceDisplay:
    """The objective and the largest gradient entry after each iteration.

    Draws ``loss_curve_`` of a fitted
    :class:`~sklearn_softmax.SoftmaxRegression` against the iteration (the
    epoch for 'sgd' and 'adam', the call for ``partial_fit``), or, given the
    optimal objective, the gap to it on a logarithmic axis. With
    ``curve='gradient'`` it draws ``grad_norm_curve_`` instead, the number
    the stopping rule compares with ``tol`` after each iteration, on a
    logarithmic axis; with ``curve='both'``, the objective on the axes and
    the gradient on a second vertical axis that shares the iterations.
    The estimator's ``grad_norm_``, the gradient at the solution, is kept as
    the attribute ``grad_norm`` and shown in the default label.

    Build it with :meth:`from_estimator`; the constructor takes the numbers.

    Parameters
    ----------
    objective : ndarray of shape (n_iter,)
        The objective after each iteration.
    grad_norm : float
        The largest absolute gradient entry at the solution.
    solver : str
        The solver that ran.
    optimum : float, default=None
        The optimal objective. If given, the gap ``objective - optimum`` is
        drawn on a logarithmic axis, without the iterations where it is
        zero or below (reached to rounding).
    counter : str, default='iteration'
        What an iteration is, for the horizontal axis.
    grad_norm_curve : ndarray of shape (n_iter,), default=None
        The largest absolute gradient entry after each iteration, needed to
        draw the gradient. Entries that are NaN (the epochs of 'sgd' and
        'adam', which compute no gradient on all the samples) or zero are
        left out of the logarithmic axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    gradient_ax_ : matplotlib Axes or None
        The axes of the gradient: ``ax_`` with ``curve='gradient'``, its
        twin with ``curve='both'``, None with ``curve='objective'``.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    lines_ : list of matplotlib Line2D
        The curves drawn: the objective, the gradient, or both, in that
        order.

    See Also
    --------
    RegularizationPathDisplay : The coefficients and scores along the grid
        of ``C`` of a SoftmaxRegressionCV.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import ConvergenceDisplay, SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SoftmaxRegression().fit(X, y)
    >>> display = ConvergenceDisplay.from_estimator(clf)
    >>> bool((display.lines_[0].get_ydata() == clf.loss_curve_).all())
    True
    >>> display = ConvergenceDisplay.from_estimator(clf, curve="both")
    >>> bool((display.lines_[1].get_ydata() == clf.grad_norm_curve_).all())
    True
    """

    def __init__(
        self,
        *,
        objective,
        grad_norm,
        solver,
        optimum=None,
        counter="iteration",
        grad_norm_curve=None,
    ):
        self.objective = objective
        self.grad_norm = grad_norm
        self.solver = solver
        self.optimum = optimum
        self.counter = counter
        self.grad_norm_curve = grad_norm_curve

    def plot(self, ax=None, *, curve="objective", label=None, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None draws on the axes of a new figure.
        curve : {'objective', 'gradient', 'both'}, default='objective'
            What to draw: the objective (or its gap to ``optimum``), the
            largest absolute gradient entry on a logarithmic axis, or both,
            the gradient on a second vertical axis.
        label : str, default=None
            The label of the first line drawn; None names the solver and the
            final gradient. With ``curve='both'`` the gradient's line is
            labelled with the solver and ``'max|grad|'``.
        **kwargs : dict
            Passed to ``Axes.plot``, for every line.

        Returns
        -------
        display : ConvergenceDisplay
            This display, with ``ax_``, ``gradient_ax_``, ``figure_`` and
            ``lines_``.
        """
        if curve not in _CURVES:
            raise ValueError(
                f"curve must be one of {', '.join(map(repr, _CURVES))}; got "
                f"curve={curve!r}."
            )
        gradient = None
        if curve != "objective":
            gradient = self._gradient_values()
        if curve == "gradient" and self.optimum is not None:
            warnings.warn(
                f"optimum={self.optimum!r} is not used by curve='gradient', "
                "which draws the gradient alone: draw curve='objective' or "
                "'both' for the gap to the optimum.",
                UserWarning,
                stacklevel=2,
            )
        ax = _axes(type(self).__name__, ax)
        if label is None:
            label = f"{self.solver}, final max|grad| {self.grad_norm:.1e}"
        lines, gradient_ax = [], None
        if curve != "gradient":
            lines.append(self._plot_objective(ax, label, kwargs))
        if curve == "gradient":
            gradient_ax = ax
            lines.append(self._plot_gradient(ax, gradient, label, kwargs))
        elif curve == "both":
            gradient_ax = ax.twinx()
            # The twin axes start a colour cycle of their own: the gradient
            # takes the objective's colour, dashed, so that the two lines of
            # a fit read as a pair.
            style = {"linestyle": "--", "color": lines[0].get_color(), **kwargs}
            gradient_label = f"{self.solver}, max|grad|"
            lines.append(
                self._plot_gradient(gradient_ax, gradient, gradient_label, style)
            )
        ax.set_xlabel(self.counter)
        handles, _ = ax.get_legend_handles_labels()
        if curve == "both":
            # The twin's line joins the one legend, on ax, which lists the
            # lines of other displays drawn on ax as well.
            handles.append(lines[-1])
        ax.legend(handles=handles)
        self.ax_, self.gradient_ax_, self.figure_ = ax, gradient_ax, ax.figure
        self.lines_ = lines
        return self

    def _gradient_values(self):
        """The gradient curve to draw: NaN where it has no logarithm."""
        if self.grad_norm_curve is None:
            raise ValueError(
                "This ConvergenceDisplay has no grad_norm_curve to draw: pass "
                "it to the constructor, or build the display with "
                "from_estimator."
            )
        values = np.asarray(self.grad_norm_curve, dtype=np.float64)
        if values.size == 0:
            raise ValueError(
                "grad_norm_curve is empty: the fit ran no iteration "
                "(max_iter=0, or a starting point that met tol)."
            )
        if not np.any(values > 0):
            raise ValueError(
                f"grad_norm_curve holds no positive value to draw (solver "
                f"{self.solver!r}): the epochs of 'sgd' and 'adam' in fit "
                "compute no gradient on all the samples and record NaN. Draw "
                "curve='objective', or fit with partial_fit, which records "
                "each call's gradient."
            )
        return np.where(values > 0, values, np.nan)

    def _plot_objective(self, ax, label, kwargs):
        objective = np.asarray(self.objective, dtype=np.float64)
        if objective.size == 0:
            raise ValueError(
                "objective is empty: the fit ran no iteration (max_iter=0, or "
                "a starting point that met tol), and there is no curve to draw."
            )
        iterations = np.arange(1, objective.size + 1)
        if self.optimum is None:
            values, ylabel = objective, "objective"
        else:
            if not isinstance(self.optimum, numbers.Real) or isinstance(
                self.optimum, bool
            ):
                raise TypeError(
                    "optimum must be a real number, the optimal objective; got "
                    f"{self.optimum!r} of type {type(self.optimum).__name__}."
                )
            if not np.isfinite(self.optimum):
                raise ValueError(
                    f"optimum must be a finite number; got {self.optimum!r}."
                )
            gap = objective - self.optimum
            # A gap of zero or below, the optimum to rounding, has no
            # logarithm: it is left out of the curve.
            values = np.where(gap > 0, gap, np.nan)
            if np.all(np.isnan(values)):
                raise ValueError(
                    f"optimum={self.optimum!r} leaves no positive gap to draw: "
                    "every objective value of the curve is at or below it. "
                    "Pass the optimal objective, a finite number below the "
                    "curve's last values."
                )
            ylabel = "objective - optimum"
            ax.set_yscale("log")
        (line,) = ax.plot(iterations, values, label=label, **kwargs)
        ax.set_ylabel(ylabel)
        return line

    def _plot_gradient(self, ax, values, label, kwargs):
        iterations = np.arange(1, values.size + 1)
        (line,) = ax.plot(iterations, values, label=label, **kwargs)
        ax.set_yscale("log")
        ax.set_ylabel("max |gradient entry|")
        return line

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        curve="objective",
        optimum=None,
        ax=None,
        label=None,
        **kwargs,
    ):
        """Draw the convergence curves of a fitted SoftmaxRegression.

        Parameters
        ----------
        estimator : SoftmaxRegression
            A fitted estimator (by ``fit`` or ``partial_fit``).
        curve : {'objective', 'gradient', 'both'}, default='objective'
            What to draw: ``loss_curve_``, ``grad_norm_curve_`` on a
            logarithmic axis, or both, the gradient on a second vertical
            axis.
        optimum : float, default=None
            The optimal objective; if given, the gap to it is drawn on a
            logarithmic axis.
        ax : matplotlib Axes, default=None
            Where to draw; None draws on the axes of a new figure.
        label : str, default=None
            The label of the first line drawn; None names the solver and the
            final gradient.
        **kwargs : dict
            Passed to ``Axes.plot``.

        Returns
        -------
        display : ConvergenceDisplay
            The display, drawn.
        """
        _check_fitted(estimator, SoftmaxRegression, "loss_curve_", cls)
        if getattr(estimator, "_partial_fit_state", None) is not None:
            counter = "partial_fit call"
        elif estimator.solver_ in STOCHASTIC_SOLVERS:
            counter = "epoch"
        else:
            counter = "iteration"
        display = cls(
            # A fit on Array API inputs leaves its curves on their device.
            objective=to_numpy(estimator.loss_curve_).astype(np.float64),
            grad_norm=float(estimator.grad_norm_),
            solver=estimator.solver_,
            optimum=optimum,
            counter=counter,
            grad_norm_curve=to_numpy(getattr(estimator, "grad_norm_curve_", None)),
        )
        return display.plot(ax=ax, curve=curve, label=label, **kwargs)


class RegularizationPathDisplay:
    """The coefficients of a cross-validated path and the scores along it.

    For a fitted :class:`~sklearn_softmax.SoftmaxRegressionCV`, draws each
    coefficient, the mean over the folds of ``coefs_paths_``, against
    ``C`` on a logarithmic axis, one line per class (a single row with two
    classes) and feature, and on a second vertical axis the mean held-out
    score over the folds, ``scores_``, with a band of one standard
    deviation across the folds. A dotted vertical line marks the chosen
    ``C_``. A ``C`` of ``np.inf`` (no penalty) has no place on the axis and
    is left out.

    Build it with :meth:`from_estimator`; the constructor takes the numbers.

    Parameters
    ----------
    Cs : ndarray of shape (n_cs,)
        The grid of ``C``.
    coefs : ndarray of shape (n_cs, n_rows, n_features)
        The mean coefficients over the folds at each ``C``.
    scores : ndarray of shape (n_folds, n_cs)
        The held-out score of each fold at each ``C``.
    C : float
        The chosen ``C``.
    row_names : list of str
        The name of each row of coefficients (the classes).
    scoring : str, default='score'
        What the scores are, for the second axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the coefficients.
    score_ax_ : matplotlib Axes
        The twin axes of the scores, sharing the horizontal axis.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    lines_ : ndarray of matplotlib Line2D, shape (n_rows, n_features)
        The line of each coefficient.
    score_line_ : matplotlib Line2D
        The mean score.
    spread_ : matplotlib PolyCollection
        The band of one standard deviation about it.

    See Also
    --------
    ConvergenceDisplay : The objective and the gradient after each iteration
        of a fit.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_softmax import RegularizationPathDisplay, SoftmaxRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SoftmaxRegressionCV(Cs=5, cv=3).fit(X, y)
    >>> display = RegularizationPathDisplay.from_estimator(clf)
    >>> display.lines_.shape
    (3, 4)
    """

    def __init__(self, *, Cs, coefs, scores, C, row_names, scoring="score"):
        self.Cs = Cs
        self.coefs = coefs
        self.scores = scores
        self.C = C
        self.row_names = row_names
        self.scoring = scoring

    def plot(self, ax=None, **kwargs):
        """Draw the path and the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw the coefficients (the scores go on its twin);
            None draws on the axes of a new figure.
        **kwargs : dict
            Passed to ``Axes.plot`` for the coefficients' lines.

        Returns
        -------
        display : RegularizationPathDisplay
            This display, with ``ax_``, ``score_ax_``, ``figure_``,
            ``lines_``, ``score_line_`` and ``spread_``.
        """
        ax = _axes(type(self).__name__, ax)
        Cs = np.asarray(self.Cs, dtype=np.float64)
        # The finite C in increasing order, whatever order the grid was
        # searched in.
        finite = np.flatnonzero(np.isfinite(Cs))
        if finite.size == 0:
            raise ValueError(
                f"The grid of C, {Cs.tolist()}, has no finite value to draw on "
                "the logarithmic axis of C."
            )
        drawn = finite[np.argsort(Cs[finite], kind="stable")]
        Cs = Cs[drawn]
        coefs = np.asarray(self.coefs)[drawn]
        scores = np.asarray(self.scores)[:, drawn]
        n_rows, n_features = coefs.shape[1:]
        lines = np.empty((n_rows, n_features), dtype=object)
        for k in range(n_rows):
            for j in range(n_features):
                (lines[k, j],) = ax.plot(
                    Cs,
                    coefs[:, k, j],
                    color=f"C{k % 10}",
                    label=self.row_names[k] if j == 0 else None,
                    **{"linewidth": 1, **kwargs},
                )
        ax.set_xscale("log")
        ax.set_xlabel("C")
        ax.set_ylabel("coefficient (mean over the folds)")
        ax.legend(title="class", loc="upper left")
        if np.isfinite(self.C):
            ax.axvline(self.C, color="0.4", linestyle=":", linewidth=1)

        score_ax = ax.twinx()
        mean, spread = scores.mean(axis=0), scores.std(axis=0)
        (score_line,) = score_ax.plot(
            Cs, mean, color="black", linewidth=2, label=f"mean {self.scoring}"
        )
        band = score_ax.fill_between(
            Cs, mean - spread, mean + spread, color="black", alpha=0.15
        )
        score_ax.set_ylabel(f"held-out {self.scoring} (mean, ±1 sd)")
        score_ax.legend(loc="lower right")
        self.ax_, self.score_ax_, self.figure_ = ax, score_ax, ax.figure
        self.lines_, self.score_line_, self.spread_ = lines, score_line, band
        return self

    @classmethod
    def from_estimator(cls, estimator, *, l1_ratio=None, ax=None, **kwargs):
        """Draw the path of a fitted SoftmaxRegressionCV.

        Parameters
        ----------
        estimator : SoftmaxRegressionCV
            A fitted estimator.
        l1_ratio : float, default=None
            Which of ``l1_ratios_`` to draw the path of; None draws the one
            with the best mean score.
        ax : matplotlib Axes, default=None
            Where to draw the coefficients; None draws on the axes of a new
            figure.
        **kwargs : dict
            Passed to ``Axes.plot`` for the coefficients' lines.

        Returns
        -------
        display : RegularizationPathDisplay
            The display, drawn.
        """
        _check_fitted(estimator, SoftmaxRegressionCV, "coefs_paths_", cls)
        mean_scores = estimator.scores_.mean(axis=0)
        if l1_ratio is None:
            index, _ = best_pair(mean_scores)
        else:
            matches = np.flatnonzero(np.isclose(estimator.l1_ratios_, l1_ratio))
            if matches.size == 0:
                raise ValueError(
                    f"l1_ratio={l1_ratio!r} is not among the l1_ratios_ the "
                    f"estimator searched, {estimator.l1_ratios_.tolist()}."
                )
            index = matches[0]
        n_features = estimator.n_features_in_
        coefs = estimator.coefs_paths_[:, index, :, :, :n_features].mean(axis=0)
        classes = [str(label) for label in estimator.classes_]
        row_names = classes if coefs.shape[1] == len(classes) else classes[1:]
        # None scores by the held-out log-loss, negated.
        scoring = estimator.scoring or "neg_log_loss"
        display = cls(
            Cs=estimator.Cs_,
            coefs=coefs,
            scores=estimator.scores_[:, index, :],
            C=estimator.C_,
            row_names=row_names,
            scoring=scoring if isinstance(scoring, str) else "score",
        )
        return display.plot(ax=ax, **kwargs)

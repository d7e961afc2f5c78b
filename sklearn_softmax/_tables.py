"""z-tests, normal intervals and the tables that print them: the half that
the results of the parameters and of the marginal effects share."""

from numbers import Real

import numpy as np
from scipy.stats import norm

FRAME_COLUMNS = [
    "class",
    "term",
    "estimate",
    "std_error",
    "z",
    "p_value",
    "ci_lower",
    "ci_upper",
]


def import_pandas(caller):
    """pandas, which tables need and the package does not depend on."""
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            f"{caller} returns a pandas DataFrame: install pandas."
        ) from error
    return pandas


def z_tests(estimates, bse):
    """``(zvalues, pvalues)``: the two-sided z-tests that each estimate is
    zero, against the standard normal distribution."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zvalues = estimates / bse
    return zvalues, 2.0 * norm.sf(np.abs(zvalues))


def check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, Real):
        raise TypeError(f"alpha must be a real number in (0, 1); got {alpha!r}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")


def normal_intervals(estimates, bse, alpha):
    """The intervals ``estimate -+ z_{1 - alpha/2} bse``, stacked on a last
    axis of length 2."""
    check_alpha(alpha)
    half_width = norm.ppf(1 - alpha / 2) * bse
    return np.stack([estimates - half_width, estimates + half_width], axis=-1)


def tidy_frame(estimates, bse, zvalues, pvalues, intervals, row_names, column_names):
    """A pandas DataFrame with one row per estimate, class by class."""
    pd = import_pandas("to_frame")
    n_rows, n_columns = estimates.shape
    return pd.DataFrame(
        {
            "class": np.repeat(np.asarray(column_names, dtype=object), n_rows),
            "term": np.tile(np.asarray(row_names, dtype=object), n_columns),
            "estimate": estimates.ravel(order="F"),
            "std_error": bse.ravel(order="F"),
            "z": zvalues.ravel(order="F"),
            "p_value": pvalues.ravel(order="F"),
            "ci_lower": intervals[..., 0].ravel(order="F"),
            "ci_upper": intervals[..., 1].ravel(order="F"),
        },
        columns=FRAME_COLUMNS,
    )


def _number(value, decimals, width):
    """A number as statsmodels' summary tables print it: ``decimals``
    fixed decimals, so that a column's decimal points align, or as many
    significant digits where the value lies outside [1e-4, 1e4) and the
    fixed form would hide it."""
    if np.isfinite(value) and value != 0 and not 1e-4 <= abs(value) < 1e4:
        return f"{value:>{width}.{decimals}g}"
    return f"{value:>{width}.{decimals}f}"


def class_tables(
    estimates, bse, zvalues, pvalues, intervals, row_names, titles, alpha, label
):
    """The lines of one table per column (class): each row an estimate, its
    standard error, z, p-value and interval; ``titles`` heads each table and
    ``label`` the column of the estimates. Estimates and standard errors
    have four decimals, the others three, and p-values below 0.0005 show as
    0.000, as in statsmodels' summaries."""
    name_width = max(10, *(len(name) for name in row_names))
    lower, upper = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
    header = (
        f"{'':<{name_width}} {label:>11} {'std err':>11} {'z':>9} "
        f"{'P>|z|':>9} {lower:>11} {upper:>11}"
    )
    lines = []
    for column, title in enumerate(titles):
        lines += ["", title, header, "-" * len(header)]
        for row, name in enumerate(row_names):
            lines.append(
                f"{name:<{name_width}} {_number(estimates[row, column], 4, 11)} "
                f"{_number(bse[row, column], 4, 11)} "
                f"{zvalues[row, column]:>9.3f} "
                f"{pvalues[row, column]:>9.3f} "
                f"{_number(intervals[row, column, 0], 3, 11)} "
                f"{_number(intervals[row, column, 1], 3, 11)}"
            )
    return lines


class EstimatesTable:
    """Estimates with their standard errors, and what follows from the two:
    z-tests, normal intervals, a tidy frame and tables class by class.

    The base of :class:`SoftmaxInferenceResult` (whose estimates are
    ``params``) and :class:`MarginalEffects` (``effects``). A subclass
    names its estimates in ``_ESTIMATES``, calls :meth:`_set_tests` once they
    and ``bse`` are set, and has ``row_names`` and ``column_names``.
    """

    _ESTIMATES = "estimates"

    @property
    def _estimates(self):
        return getattr(self, self._ESTIMATES)

    def _set_tests(self):
        self.zvalues, self.pvalues = z_tests(self._estimates, self.bse)

    def conf_int(self, alpha=0.05):
        """Confidence intervals from the normal distribution.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        intervals : ndarray
            The lower and upper bounds of each estimate's interval, on a
            last axis of length 2 after the estimates' shape.
        """
        return normal_intervals(self._estimates, self.bse, alpha)

    def _columns(self, alpha):
        """The estimates, standard errors, z, p-values and intervals."""
        return (
            self._estimates,
            self.bse,
            self.zvalues,
            self.pvalues,
            self.conf_int(alpha),
        )

    def _tidy_frame(self, alpha):
        return tidy_frame(*self._columns(alpha), self.row_names, self.column_names)

    def _class_tables(self, alpha, titles, label):
        return class_tables(*self._columns(alpha), self.row_names, titles, alpha, label)

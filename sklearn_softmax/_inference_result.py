"""The result of :func:`softmax_inference`: estimates, standard errors,
tests, fit statistics, marginal effects and predicted probabilities."""

import warnings

import numpy as np
from scipy.stats import chi2

from ._hypotheses import (
    null_log_likelihood,
    restriction_matrix,
    row_restrictions,
    wald_test,
)
from ._marginal_effects import compute_marginal_effects
from ._prediction import probability_intervals
from ._tables import EstimatesTable, import_pandas


def _standard_errors(covariance, variance_rounding):
    """The roots of the variances on the diagonal of ``covariance``: 0 for
    those that rounding took below zero, NaN, with a warning, for those
    further below."""
    variances = np.diag(covariance).copy()
    if variance_rounding is None:
        largest = np.max(variances, initial=0.0)
        variance_rounding = variances.size * np.finfo(np.float64).eps * largest
    negative = variances < 0
    rounded = negative & (variances >= -np.asarray(variance_rounding))
    variances[rounded] = 0.0
    if np.any(negative & ~rounded):
        warnings.warn(
            f"{np.count_nonzero(negative & ~rounded)} variances of the "
            "covariance are negative beyond its rounding: it is not positive "
            "semi-definite, and their standard errors are NaN.",
            RuntimeWarning,
            stacklevel=3,
        )
        variances[negative & ~rounded] = np.nan
    return np.sqrt(variances)


class SoftmaxInferenceResult(EstimatesTable):
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
    cov_type : {'nonrobust', 'HC0', 'HC1', 'cluster'}
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
        quasi-completely; ``'completely separated'``, one predicts every
        sample of positive weight perfectly; ``'inconclusive'``, the check
        could not tell, a linear program having stopped short of its
        optimum. Under any but the
        first, a :class:`SeparationWarning` was issued and the
        maximum-likelihood estimate may not exist.
    model : object, default=None
        The parameters in the symmetric layout, their covariance and the
        data, as :func:`softmax_inference` passes them; the fit
        statistics, the tests, :meth:`marginal_effects` and
        :meth:`predict_proba_interval` compute from it.
    class_weighted : bool, default=False
        Whether the estimates are those of an objective with class weights,
        with a robust covariance.
    variance_rounding : ndarray of shape (n_rows * n_columns,), default=None
        How far below zero rounding may have taken each variance, the
        diagonal of ``covariance``: one within it is taken as zero, and its
        standard error is 0. A variance further below zero, which a
        covariance that is positive semi-definite cannot have, is kept from
        the standard errors, which are NaN there, with a warning. None
        takes ``n_rows * n_columns`` times the machine epsilon times the
        largest variance.

    Attributes
    ----------
    bse : ndarray of shape (n_rows, n_columns)
        The standard errors of ``params``.
    zvalues : ndarray of shape (n_rows, n_columns)
        ``params / bse``.
    pvalues : ndarray of shape (n_rows, n_columns)
        Two-sided p-values of the z-tests that each parameter is zero,
        against the standard normal distribution.
    df_model : float
        The degrees of freedom of the likelihood-ratio test against the
        intercept-only model, ``(n_rows - 1)(n_classes - 1)``, as
        statsmodels' ``MNLogit`` counts them.
    llnull : float
        The log-likelihood of the intercept-only model, whose
        probabilities are the classes' shares of the sample weights.
    llr : float
        The likelihood-ratio statistic ``2 (llf - llnull)``.
    llr_pvalue : float
        Its p-value against the chi-squared distribution with ``df_model``
        degrees of freedom.
    prsquared : float
        McFadden's pseudo R-squared, ``1 - llf / llnull``.
    aic : float
        Akaike's criterion, ``-2 llf + 2 p``, with ``p = n_rows
        (n_classes - 1)`` the parameters of ``MNLogit``'s layout.
    bic : float
        Schwarz's criterion, ``-2 llf + log(nobs) p``.

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

    _ESTIMATES = "params"

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
        model=None,
        class_weighted=False,
        variance_rounding=None,
    ):
        self.params = params
        self._covariance = covariance
        self.variance_rounding = variance_rounding
        self.bse = _standard_errors(covariance, variance_rounding).reshape(
            params.shape, order="F"
        )
        self._set_tests()
        self.row_names = row_names
        self.column_names = column_names
        self.reference_class = reference_class
        self.cov_type = cov_type
        self.penalized = penalized
        self.nobs = nobs
        self.llf = llf
        self.separation = separation
        self.model = model
        self.class_weighted = class_weighted

    def _fitted(self, what):
        if self.model is None:
            raise ValueError(
                f"{what} needs the fitted model and its data, which "
                "softmax_inference passes as model; this result has none."
            )
        return self.model

    @property
    def df_model(self):
        model = self._fitted("df_model")
        return float((model.theta.shape[0] - 1) * (model.n_classes - 1))

    @property
    def llnull(self):
        model = self._fitted("llnull")
        return null_log_likelihood(
            model.y_encoded, model.sample_weight, model.n_classes
        )

    @property
    def llr(self):
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self):
        return float(chi2.sf(self.llr, self.df_model))

    @property
    def prsquared(self):
        return 1.0 - self.llf / self.llnull

    @property
    def aic(self):
        n_parameters = self._fitted("aic").n_free_parameters
        return -2.0 * self.llf + 2.0 * n_parameters

    @property
    def bic(self):
        n_parameters = self._fitted("bic").n_free_parameters
        return -2.0 * self.llf + np.log(self.nobs) * n_parameters

    def cov_params(self):
        """The covariance matrix of the flattened ``params``.

        Returns
        -------
        cov : ndarray of shape (n_rows * n_columns, n_rows * n_columns)
            Ordered column by column (class by class), as
            ``params.ravel(order='F')``, the order of statsmodels' MNLogit.
        """
        return self._covariance.copy()

    def to_frame(self, alpha=0.05):
        """The estimates as a tidy pandas DataFrame, one row per parameter.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``class``, ``term`` (``'intercept'`` or the feature),
            ``estimate``, ``std_error``, ``z``, ``p_value``, ``ci_lower``
            and ``ci_upper``, class by class.
        """
        return self._tidy_frame(alpha)

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
        penalty = "L2" if self.penalized else "none"
        layout = (
            f"each class against class {self.reference_class!r}"
            if self.reference_class is not None
            else "symmetric (each class's parameters sum to zero over classes)"
        )
        lines = [
            "Softmax regression: inference",
            f"Observations: {self.nobs:g}    Log-likelihood: {self.llf:.6g}",
            f"Penalty: {penalty}    "
            + ("Class weights: yes    " if self.class_weighted else "")
            + f"Covariance: {self.cov_type}",
            f"Separation: {self.separation}",
            f"Parameters: {layout}",
        ]
        if self.model is not None:
            lines.insert(
                2,
                f"Pseudo R-squared: {self.prsquared:.4f}    "
                f"LR chi2({self.df_model:g}): {self.llr:.6g}, "
                f"p = {self.llr_pvalue:.3g}",
            )
        against = (
            f" against {self.reference_class!r}"
            if self.reference_class is not None
            else ""
        )
        titles = [f"class {label!r}{against}" for label in self.column_names]
        lines += self._class_tables(alpha, titles, "coef")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def wald_test(self, r_matrix, values=None):
        """Wald test of linear restrictions on the parameters.

        Tests ``R params.ravel(order='F') = q`` with the chi-squared
        statistic of statsmodels' ``wald_test(..., use_f=False,
        scalar=True)``.

        Parameters
        ----------
        r_matrix : str, list of str, array-like or tuple
            The restrictions: equations in the parameters' names,
            ``feature[class]`` (as ``"selfLR[2] = 0"``, ``"age[1] -
            age[2] = 0"``, ``"2 * educ[3] + income[3] = 1"``), a bare
            feature name standing for that feature in every column
            (``"selfLR"``: zero in every class); or the matrix ``R`` of shape
            (n_restrictions, n_rows * n_columns), or the pair ``(R, q)``.
        values : array-like of shape (n_restrictions,), default=None
            The right-hand side ``q`` for a matrix ``r_matrix``: zero by
            default.

        Returns
        -------
        test : WaldTestResult
            ``statistic``, ``df`` and ``pvalue``. ``df`` is the rank of the
            restrictions' covariance: restrictions that repeat others, as
            the symmetric layout's classes do (they sum to zero), count
            once.
        """
        if values is not None:
            written = isinstance(r_matrix, list) and any(
                isinstance(restriction, str) for restriction in r_matrix
            )
            if written or isinstance(r_matrix, (str, tuple)):
                raise ValueError(
                    "values goes with a matrix r_matrix; equations carry their "
                    "right-hand side, and a (matrix, values) pair its own."
                )
            r_matrix = (r_matrix, values)
        R, q = restriction_matrix(r_matrix, self.row_names, self.column_names)
        return wald_test(self.params, self._covariance, R, q)

    def wald_test_terms(self):
        """Wald tests that each row of ``params`` is zero in every class.

        For a feature, that it has no effect on any class's probability;
        for the intercept, that the classes are equally likely where the
        features are zero.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by ``row_names`` (a repeated name, as a feature called
            'intercept', is repeated there), with the columns
            ``statistic``, ``df`` and ``pvalue``.
        """
        pd = import_pandas("wald_test_terms")
        n_rows, n_columns = self.params.shape
        tests = [
            wald_test(self.params, self._covariance, R, np.zeros(n_columns))
            for R in row_restrictions(n_rows, n_columns)
        ]
        return pd.DataFrame(
            {
                "statistic": [test.statistic for test in tests],
                "df": [test.df for test in tests],
                "pvalue": [test.pvalue for test in tests],
            },
            index=pd.Index(self.row_names, name="term"),
        )

    def marginal_effects(
        self, at="overall", method="dydx", atexog=None, dummy=False, count=False
    ):
        """Marginal effects of the features on the probabilities.

        The derivatives (or discrete changes) of each class's probability
        with respect to each feature, as statsmodels' ``get_margeff``
        defines them, with delta-method standard errors from the
        covariance of this result.

        Parameters
        ----------
        at : {'overall', 'mean', 'median', 'zero', 'all'}, default='overall'
            Where the effects are evaluated: 'overall' averages each
            sample's effect, with its sample weight (the average marginal
            effect); 'mean', 'median' and 'zero' evaluate them at one point,
            each feature at its weighted mean, its weighted median, or zero;
            'all' keeps each sample's (or each row of ``atexog``'s) own
            effects, with their standard errors but not their covariance.
        method : {'dydx', 'eyex', 'dyex', 'eydx'}, default='dydx'
            'dydx', the derivative of the probability ``p`` with respect to
            the feature ``x``; 'eyex', of ``log p`` with respect to ``log
            x`` (the elasticity); 'dyex', of ``p`` with respect to ``log x``;
            'eydx', of ``log p`` with respect to ``x``.
        atexog : dict or array-like, default=None
            A dict maps features, by index (0 for the first feature) or by
            name, to the value each is held at: a number, or one number per
            sample. The features it leaves out take the point of ``at``. It
            is refused, with a ``ValueError``, for a model fitted in a
            Pipeline, whose earlier steps cannot transform some features'
            values alone. An array or DataFrame of shape (n_features,) or
            (m, n_features) gives the rows to evaluate at instead of the
            data, weighted equally: as the rows of
            :meth:`predict_proba_interval`, they go through the earlier steps
            of a Pipeline and are checked against the features of the fit,
            their names and order included.
        dummy : bool, default=False
            Whether a binary feature (its values 0 and 1 only) has as effect
            the change of the probability from 0 to 1, instead of its
            derivative.
        count : bool, default=False
            Whether a count feature (non-negative integers, not binary) has
            as effect half the change of the probability from ``x - 1`` to
            ``x + 1``, instead of its derivative.

        Returns
        -------
        effects : MarginalEffects
            ``effects``, ``bse``, ``zvalues`` and ``pvalues`` of shape
            (n_features, n_classes), or (n_samples, n_features, n_classes)
            for ``at='all'``; ``conf_int``, ``to_frame`` and ``summary``
            (which ``at='all'`` refuses).

        Notes
        -----
        ``at='all'`` computes one Jacobian of shape (n_features n_classes,
        n_classes r), with ``r`` the rows of the parameters, per sample,
        and keeps only its variances: the work grows as ``n_samples
        n_features n_classes^2 r^2``, and the Jacobians are held a chunk of
        samples at a time, within scikit-learn's ``working_memory``.
        """
        model = self._fitted("marginal_effects")
        return compute_marginal_effects(
            model, at, method, atexog, dummy, count, model.classes.tolist()
        )

    def predict_proba_interval(self, X, alpha=0.05):
        """Predicted probabilities with standard errors and intervals.

        The interval of each class's probability is computed for its
        log-odds against the other classes and mapped back, so it stays
        inside [0, 1]; the standard error is the delta method's.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict.
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        prediction : sklearn.utils.Bunch
            ``proba``, ``std_error``, ``lower`` and ``upper``, each of shape
            (n_samples, n_classes), the classes in the order of the
            estimator's ``classes_``.
        """
        model = self._fitted("predict_proba_interval")
        return probability_intervals(model, model.validate_rows(X), alpha)

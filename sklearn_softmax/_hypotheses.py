r"""Wald tests of linear restrictions on the parameters, and the likelihood
of the intercept-only model.

A restriction ``R theta = q`` on the flattened parameters (class by class)
is tested with

.. math::

    W = (R\hat\theta - q)^T (R V R^T)^{+} (R\hat\theta - q)
    \sim \chi^2_m,

with ``V`` the covariance of the estimates and ``m`` the rank of
``R V R^T``, which counts restrictions that repeat others once (as the
symmetric layout's classes, whose parameters sum to zero, do).

Restrictions may be written as equations in the names of the parameters,
``feature[class]``: ``"selfLR[2] = 0"``, ``"age[1] - age[2] = 0"``,
``"2 * educ[3] + income[3] = 1"``. A bare feature name, without a class,
stands for that feature in every class: ``"selfLR"`` is the restrictions
``selfLR[k] = 0`` for each class ``k``, and ``"age = educ"`` says the two
features have the same parameters in every class.
"""

import re

import numpy as np
from scipy.special import xlogy
from scipy.stats import chi2

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class WaldTestResult:
    """A Wald test of linear restrictions on the parameters.

    Returned by :meth:`SoftmaxInferenceResult.wald_test`.

    Parameters
    ----------
    statistic : float
        The chi-squared statistic.
    df : int
        Its degrees of freedom: the number of restrictions that do not
        repeat others.
    pvalue : float
        The probability that a chi-squared variable with ``df`` degrees of
        freedom exceeds ``statistic``.
    restrictions : ndarray of shape (n_restrictions, n_parameters)
        The matrix ``R`` of the restrictions ``R params = q``, on the
        parameters flattened as ``params.ravel(order='F')``.
    values : ndarray of shape (n_restrictions,)
        The right-hand side ``q``.

    See Also
    --------
    SoftmaxInferenceResult.wald_test : Computes it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_wine
    >>> from sklearn_softmax import SoftmaxRegression, softmax_inference
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> X = X[["alcohol", "flavanoids"]]
    >>> clf = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, y)
    >>> test = softmax_inference(clf, X, y, reference_class=0).wald_test("alcohol")
    >>> test.df, bool(test.pvalue < 1e-6)
    (2, True)
    """

    def __init__(self, statistic, df, pvalue, restrictions, values):
        self.statistic = statistic
        self.df = df
        self.pvalue = pvalue
        self.restrictions = restrictions
        self.values = values

    def __repr__(self):
        return (
            f"WaldTestResult(statistic={self.statistic:.6g}, df={self.df}, "
            f"pvalue={self.pvalue:.6g})"
        )


def _parameter_names(row_names, column_names):
    """Each ``feature[class]`` name and the bare feature names, mapped to
    their index or to their row, and the names that stand for more than
    one: a repeated feature name (one called 'intercept'), or a feature
    name that reads as another feature's ``feature[class]``."""
    indexed, rows, ambiguous = {}, {}, set()
    for column_index, column in enumerate(column_names):
        for row_index, row in enumerate(row_names):
            name = f"{row}[{column}]"
            if name in indexed:
                ambiguous.add(name)
            indexed[name] = column_index * len(row_names) + row_index
    for row_index, row in enumerate(row_names):
        if row in rows:
            ambiguous.add(row)
        rows[row] = row_index
    ambiguous |= indexed.keys() & rows.keys()
    return indexed, rows, ambiguous


def _tokens(text, indexed, rows, ambiguous, classes):
    """Yield ``(kind, value)``: ('name', index), ('row', row), ('number',
    float) or ('op', one of + - * =). A name in ``ambiguous`` is refused;
    ``classes``, the names of the parameters' classes, are named where a
    restriction cannot be read."""
    names = sorted([*indexed, *rows], key=len, reverse=True)
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        name = next((name for name in names if text.startswith(name, position)), None)
        if name in ambiguous:
            raise ValueError(
                f"In the restriction {text!r}, {name!r} names more than one "
                "parameter: a feature's name repeats, or reads as another "
                "feature's name with a class. Give the restrictions as a "
                "matrix instead."
            )
        if name is not None:
            yield ("name", indexed[name]) if name in indexed else ("row", rows[name])
            position += len(name)
            continue
        number = _NUMBER.match(text, position)
        if number:
            yield "number", float(number.group())
            position = number.end()
        elif text[position] in "+-*=":
            yield "op", text[position]
            position += 1
        else:
            raise ValueError(
                f"Cannot read the restriction {text!r} at {text[position:]!r}: "
                "write it in the parameters' names, feature[class], or in "
                "bare feature names, with numbers, +, -, * and one =. "
                + _names_hint(text[position:], list(rows), classes)
            )


def _names_hint(rest, features, classes):
    """What the names of a restriction may be, for the message of one that
    cannot be read at ``rest``."""
    hint = f"The features are {features} and the classes {classes}"
    bracket = re.match(r"\[([^\]]*)\]", rest)
    if bracket and bracket.group(1) not in classes:
        hint += (
            f"; {bracket.group(1)!r} is not one of those classes (a reference "
            "class has no parameters of its own)"
        )
    return hint + "."


def _parse_equation(text, indexed, rows, ambiguous, classes):
    """The restriction as ``(coefficients, constant, bare)``: a dict of
    index (or row, when ``bare``) to coefficient, and the constant ``q``
    of ``sum coefficient * parameter = q``.

    The grammar: ``equation = side ['=' side]``, ``side = [sign] term
    (sign term)*``, ``term = number ['*' name] | name``.
    """
    tokens = list(_tokens(text, indexed, rows, ambiguous, classes))
    position = 0

    def fail(reason):
        return ValueError(f"Cannot read the restriction {text!r}: {reason}.")

    def take():
        nonlocal position
        if position == len(tokens):
            raise fail("it ends where a term was expected")
        position += 1
        return tokens[position - 1]

    def sign():
        nonlocal position
        if position < len(tokens) and tokens[position] in (("op", "+"), ("op", "-")):
            position += 1
            return -1.0 if tokens[position - 1][1] == "-" else 1.0
        return None

    def term(factor):
        kind, value = take()
        if kind == "number":
            factor *= value
            if position < len(tokens) and tokens[position] == ("op", "*"):
                take()
                kind, value = take()
                if kind not in ("name", "row"):
                    raise fail("'*' must be followed by a parameter's name")
            else:
                return factor, "constant", None
        if kind not in ("name", "row"):
            raise fail(f"{value!r} where a number or a name was expected")
        return factor, kind, value

    def side():
        terms = [term(sign() or 1.0)]
        while (following := sign()) is not None:
            terms.append(term(following))
        return terms

    terms = [(1.0, *parts) for parts in side()]
    if position < len(tokens) and tokens[position] == ("op", "="):
        take()
        terms += [(-1.0, *parts) for parts in side()]
    if position < len(tokens):
        raise fail("two terms without a sign between them, or a second '='")
    coefficients, constant, kinds = {}, 0.0, set()
    for on_side, factor, kind, value in terms:
        if kind == "constant":
            constant -= on_side * factor
        else:
            kinds.add(kind)
            coefficients[value] = coefficients.get(value, 0.0) + on_side * factor
    if not kinds:
        raise fail("it names no parameter")
    if len(kinds) > 1:
        raise fail(
            "it mixes parameters of one class, feature[class], with bare "
            "feature names, which stand for every class"
        )
    return coefficients, constant, kinds == {"row"}


def restriction_matrix(hypothesis, row_names, column_names):
    """``(R, q)`` from equations in the parameters' names, a matrix, or a
    ``(matrix, values)`` pair, for the parameters flattened class by
    class."""
    n_rows, n_columns = len(row_names), len(column_names)
    n_parameters = n_rows * n_columns
    if isinstance(hypothesis, str):
        hypothesis = [hypothesis]
    if isinstance(hypothesis, list) and all(isinstance(h, str) for h in hypothesis):
        if not hypothesis:
            raise ValueError("wald_test needs at least one restriction.")
        indexed, rows, ambiguous = _parameter_names(row_names, column_names)
        # The classes as the parameters' names spell them.
        classes = [str(column) for column in column_names]
        R, q = [], []
        for text in hypothesis:
            coefficients, constant, bare = _parse_equation(
                text, indexed, rows, ambiguous, classes
            )
            for column in range(n_columns) if bare else [None]:
                restriction = np.zeros(n_parameters)
                for key, coefficient in coefficients.items():
                    index = column * n_rows + key if bare else key
                    restriction[index] += coefficient
                R.append(restriction)
                q.append(constant)
        return np.array(R), np.array(q)
    values = None
    if isinstance(hypothesis, tuple):
        if len(hypothesis) != 2:
            raise ValueError(
                "wald_test's r_matrix as a tuple must be (matrix, values); got "
                f"{len(hypothesis)} items."
            )
        hypothesis, values = hypothesis
    R = np.atleast_2d(np.asarray(hypothesis, dtype=np.float64))
    if R.ndim != 2 or R.shape[1] != n_parameters:
        raise ValueError(
            f"wald_test's r_matrix must have {n_parameters} columns, one per "
            f"parameter ({n_rows} rows x {n_columns} classes, flattened class by "
            f"class); got shape {np.shape(hypothesis)}."
        )
    q = np.zeros(len(R)) if values is None else np.asarray(values, dtype=np.float64)
    q = np.broadcast_to(q, (len(R),)).copy() if q.ndim == 0 else q.ravel()
    if q.size != len(R):
        raise ValueError(
            f"wald_test's values must have one entry per restriction, {len(R)}; "
            f"got {q.size}."
        )
    if not (np.all(np.isfinite(R)) and np.all(np.isfinite(q))):
        raise ValueError("wald_test's restrictions must be finite.")
    return R, q


def row_restrictions(n_rows, n_columns):
    """For each row of the parameters, the matrix ``R`` that sets it to zero
    in every column, for the parameters flattened class by class."""
    columns = np.arange(n_columns)
    for row in range(n_rows):
        R = np.zeros((n_columns, n_rows * n_columns))
        R[columns, columns * n_rows + row] = 1.0
        yield R


def wald_test(params, covariance, R, q):
    """The :class:`WaldTestResult` of ``R params.ravel(order='F') = q``."""
    difference = R @ params.ravel(order="F") - q
    # Each entry of R V R^T is rounded by up to about p eps times the same
    # product of the absolute values, for p parameters.
    magnitude = np.abs(R) @ np.abs(covariance) @ np.abs(R).T
    # Restrictions on parameters of other units (a feature in units 1e5
    # times smaller has variances 1e10 times larger) are scaled to a
    # magnitude of 1, so that one's variance is not taken for rounding of
    # another's.
    scale = np.sqrt(np.diag(magnitude))
    scale[scale == 0] = 1.0
    scales = np.outer(scale, scale)
    variance = (R @ covariance @ R.T) / scales
    eigenvalues, vectors = np.linalg.eigh(0.5 * (variance + variance.T))
    eps = np.finfo(np.float64).eps
    largest = max(eigenvalues.max(initial=0.0), 0.0)
    # An eigenvalue below the rounding is zero, as a combination the layout
    # fixes is.
    rounding = covariance.shape[0] * eps * magnitude / scales
    kept = eigenvalues > max(max(variance.shape) * eps * largest, rounding.max())
    df = int(kept.sum())
    if df == 0:
        raise ValueError(
            "The restrictions have no variance: they constrain nothing the "
            "data estimate."
        )
    coordinates = vectors.T @ (difference / scale)
    # A restriction with no variance fixes a combination the layout sets by
    # construction (the sum over the symmetric layout's classes); it can be
    # tested only when it holds.
    off = np.abs(coordinates[~kept])
    size = (np.abs(R) @ np.abs(params.ravel(order="F")) + np.abs(q)) / scale
    if off.size and off.max() > 1e-8 * size.max():
        raise ValueError(
            "The restrictions fix a combination of the parameters that has no "
            "variance, at a value it does not have: in the symmetric layout, "
            "each parameter sums to zero over the classes."
        )
    statistic = float(np.sum(coordinates[kept] ** 2 / eigenvalues[kept]))
    return WaldTestResult(statistic, df, float(chi2.sf(statistic, df)), R, q)


def null_log_likelihood(y_encoded, sample_weight, n_classes):
    """The log-likelihood of the intercept-only model, whose probabilities are
    the classes' shares of the weights."""
    counts = np.bincount(y_encoded, weights=sample_weight, minlength=n_classes)
    return float(np.sum(xlogy(counts, counts / counts.sum())))

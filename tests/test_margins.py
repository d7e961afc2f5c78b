"""Marginal effects against statsmodels' get_margeff and finite differences."""

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.discrete.discrete_margins as discrete_margins
from _statsmodels import (
    EXACT,
    anes96,
    at_estimates,
    fit_exactly,
    mixed_problem,
    mnlogit,
)
from numpy.testing import assert_allclose
from scipy.stats import norm
from sklearn import config_context
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import MarginalEffects, SoftmaxRegression, softmax_inference
from sklearn_softmax._margins import marginal_effects_and_jacobian, weighted_median

AT = ["overall", "mean", "median", "zero"]
METHODS = ["dydx", "eyex", "dyex", "eydx"]
# The estimates agree with MNLogit's to about 1e-11; the effects and their
# standard errors, smooth functions of them, to the same order.
RTOL = 1e-6


@pytest.fixture(scope="module", params=["anes96", "mixed"])
def problem(request):
    """The data, a fit at MNLogit's estimates and MNLogit's results: the
    comparisons check the effects and their errors, not the fits, which
    agree to about 1e-11, and the effects near zero to that much of the
    largest (test_inference compares the fits)."""
    X, y = anes96() if request.param == "anes96" else mixed_problem()
    reference = mnlogit(X, y)
    return X, y, at_estimates(fit_exactly(X, y), reference), reference


def _statsmodels_effects(reference, at, method, atexog=None, dummy=(), count=()):
    """statsmodels' effects and delta-method standard errors, assembled from
    its own pieces: MNLogit's derivative (with its discrete changes), the
    point of ``at`` and the complex-step Jacobian of ``margeff_cov_params``.

    statsmodels 0.15's ``get_margeff`` of MNLogit fails for 'eyex' and
    'dyex' (a broadcast of the exog over the classes) and for dummy and count
    features (the Jacobian of a discrete change): the pieces are those it
    calls, with the log-x scale applied to the rows and the discrete changes
    differentiated with the rest.
    """
    model = reference.model
    dummy_idx = np.asarray(dummy, dtype=int) + 1 if len(dummy) else None
    count_idx = np.asarray(count, dtype=int) + 1 if len(count) else None

    def effects(params, exog, method):
        base = "eydx" if method.startswith("ey") else "dydx"
        rows = model._derivative_exog(params, exog, base, dummy_idx, count_idx)
        if method.endswith("ex"):
            rows = rows * np.tile(exog, model.J)
        return rows

    exog = model.exog.copy()
    not_constant = exog.var(axis=0) != 0
    exog = discrete_margins._get_margeff_exog(exog, at, atexog, not_constant)
    values = discrete_margins._effects_at(effects(reference.params, exog, method), at)
    covariance = discrete_margins.margeff_cov_params(
        model,
        reference.params,
        exog,
        reference.cov_params(),
        at,
        effects,
        None,
        None,
        method,
        model.J,
    )
    shape = (model.K, model.J)
    bse = np.sqrt(np.diag(covariance)).reshape(shape, order="F")
    return values.reshape(shape, order="F")[1:], bse[1:]


def _statsmodels_row_effects(reference, rows, method, dummy=(), count=()):
    """statsmodels' effects at each of ``rows`` (indices of the data) and
    their standard errors: at='mean' with every feature held at the row's
    value, one row at a time."""
    exog = reference.model.exog
    pieces = [
        _statsmodels_effects(
            reference,
            "mean",
            method,
            atexog={a: exog[i, a] for a in range(1, exog.shape[1])},
            dummy=dummy,
            count=count,
        )
        for i in rows
    ]
    return tuple(np.stack(values) for values in zip(*pieces, strict=True))


# Rows spread over the data for the standard errors, which statsmodels
# computes one row at a time.
ROWS = [0, 7, 101, 250, 399]


@pytest.mark.parametrize("method", METHODS)
def test_all_equals_statsmodels(problem, method):
    X, y, clf, reference = problem
    effects = softmax_inference(clf, X, y).marginal_effects(at="all", method=method)
    assert effects.effects.shape == (len(y), X.shape[1], np.unique(y).size)
    if method in ("dydx", "eydx"):
        expected = reference.get_margeff(at="all", method=method).margeff
    else:
        # get_margeff fails for the log-x methods; its derivative, scaled by
        # the rows as in _statsmodels_effects, does not.
        model = reference.model
        base = "eydx" if method == "eyex" else "dydx"
        rows = model._derivative_exog(reference.params, model.exog, base)
        rows = rows * np.tile(model.exog, model.J)
        expected = rows.reshape(-1, model.K, model.J, order="F")[:, 1:]
    scale = np.abs(expected).max()
    assert_allclose(effects.effects, expected, rtol=RTOL, atol=1e-14 * scale)
    expected, expected_bse = _statsmodels_row_effects(reference, ROWS, method)
    assert_allclose(effects.effects[ROWS], expected, rtol=RTOL, atol=1e-14 * scale)
    assert_allclose(effects.bse[ROWS], expected_bse, rtol=RTOL, atol=1e-14 * scale)


@pytest.mark.parametrize("method", ["dydx", "eydx"])
@pytest.mark.parametrize(
    ("dummy", "count"), [(True, False), (False, True), (True, True)]
)
def test_all_discrete_changes_equal_statsmodels(method, dummy, count):
    X, y = mixed_problem()
    reference = mnlogit(X, y)
    effects = softmax_inference(fit_exactly(X, y), X, y).marginal_effects(
        at="all", method=method, dummy=dummy, count=count
    )
    expected = reference.get_margeff(
        at="all", method=method, dummy=dummy, count=count
    ).margeff
    assert_allclose(effects.effects, expected, rtol=RTOL)
    expected, expected_bse = _statsmodels_row_effects(
        reference,
        ROWS,
        method,
        dummy=[1] if dummy else (),
        count=[2] if count else (),
    )
    assert_allclose(effects.effects[ROWS], expected, rtol=RTOL)
    assert_allclose(effects.bse[ROWS], expected_bse, rtol=RTOL)


@pytest.mark.parametrize("method", METHODS)
def test_all_averages_to_overall(method):
    # The average marginal effect is the weighted mean of the rows' effects,
    # discrete changes included.
    X, y = mixed_problem()
    weights = np.random.default_rng(2).uniform(0.5, 2, len(y))
    result = softmax_inference(fit_exactly(X, y, weights), X, y, weights)
    options = {} if method.endswith("ex") else {"dummy": True, "count": True}
    options["atexog"] = {"x0": np.linspace(-1, 1, len(y))}
    by_row = result.marginal_effects(at="all", method=method, **options)
    overall = result.marginal_effects(at="overall", method=method, **options)
    assert_allclose(
        np.average(by_row.effects, axis=0, weights=weights),
        overall.effects,
        rtol=1e-12,
        atol=1e-15 * np.abs(overall.effects).max(),
    )


def test_all_chunks_sparse_and_rows_agree():
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    result = softmax_inference(clf, X, y)
    dense = result.marginal_effects(at="all", dummy=True, count=True)
    # A working memory of a few rows' Jacobians splits the rows into chunks.
    with config_context(working_memory=0.001):
        blocked = softmax_inference(clf, sp.csr_matrix(X), y).marginal_effects(
            at="all", dummy=True, count=True
        )
    assert_allclose(blocked.effects, dense.effects, rtol=1e-12, atol=1e-15)
    assert_allclose(blocked.bse, dense.bse, rtol=1e-10)
    rows = result.marginal_effects(at="all", atexog=X[ROWS])
    at_mean = [result.marginal_effects(at="mean", atexog=X[i]) for i in ROWS]
    assert_allclose(rows.effects, [one.effects for one in at_mean], rtol=1e-12)
    assert_allclose(rows.bse, [one.bse for one in at_mean], rtol=1e-12)


def test_all_tables():
    X, y = mixed_problem(n_samples=60)
    effects = softmax_inference(fit_exactly(X, y), X, y).marginal_effects(at="all")
    assert effects.effects.shape == effects.bse.shape == (60, 3, 3)
    intervals = effects.conf_int(alpha=0.1)
    half = norm.ppf(0.95) * effects.bse
    assert_allclose(intervals[..., 0], effects.effects - half)
    assert_allclose(intervals[..., 1], effects.effects + half)
    assert_allclose(effects.zvalues, effects.effects / effects.bse)
    assert_allclose(effects.pvalues, 2 * norm.sf(np.abs(effects.zvalues)))
    frame = effects.to_frame(alpha=0.1)
    assert list(frame.columns[:3]) == ["class", "observation", "term"]
    assert len(frame) == effects.effects.size
    row = frame[
        (frame["class"] == 2) & (frame["observation"] == 17) & (frame["term"] == "x1")
    ]
    assert len(row) == 1
    assert row["estimate"].iloc[0] == effects.effects[17, 1, 2]
    assert row["std_error"].iloc[0] == effects.bse[17, 1, 2]
    assert row["ci_lower"].iloc[0] == intervals[17, 1, 2, 0]
    with pytest.raises(ValueError, match="summary is not available for at='all'"):
        effects.summary()
    with pytest.raises(ValueError, match="cov_effects is not available"):
        effects.cov_effects()
    assert "At: all (60 observations, 3 features, 3 classes" in str(effects)


@pytest.mark.parametrize("at", AT)
@pytest.mark.parametrize("method", ["dydx", "eydx"])
def test_equal_get_margeff(problem, at, method):
    X, y, clf, reference = problem
    expected = reference.get_margeff(at=at, method=method)
    for reference_class in (0, None):
        result = softmax_inference(clf, X, y, reference_class=reference_class)
        effects = result.marginal_effects(at=at, method=method)
        # The effects on the probabilities do not depend on the layout.
        assert_allclose(effects.effects, expected.margeff, rtol=RTOL)
        assert_allclose(effects.bse, expected.margeff_se, rtol=RTOL)
        assert_allclose(effects.pvalues, expected.pvalues, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("at", AT)
@pytest.mark.parametrize("method", METHODS)
def test_equal_statsmodels_derivatives(problem, at, method):
    X, y, clf, reference = problem
    expected, expected_bse = _statsmodels_effects(reference, at, method)
    effects = softmax_inference(clf, X, y).marginal_effects(at=at, method=method)
    scale = np.abs(expected).max()
    # At zero, the log-x methods are zero: their errors are those of zeros.
    assert_allclose(effects.effects, expected, rtol=RTOL, atol=1e-14 * scale)
    assert_allclose(effects.bse, expected_bse, rtol=RTOL, atol=1e-14 * scale)


@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("method", ["dydx", "eydx"])
@pytest.mark.parametrize(
    ("dummy", "count"), [(True, False), (False, True), (True, True)]
)
def test_discrete_changes_equal_statsmodels(at, method, dummy, count):
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    expected, expected_bse = _statsmodels_effects(
        mnlogit(X, y),
        at,
        method,
        dummy=[1] if dummy else (),
        count=[2] if count else (),
    )
    effects = softmax_inference(clf, X, y).marginal_effects(
        at=at, method=method, dummy=dummy, count=count
    )
    assert_allclose(effects.effects, expected, rtol=RTOL)
    assert_allclose(effects.bse, expected_bse, rtol=RTOL)
    assert effects.dummy_features == (["x1"] if dummy else [])
    assert effects.count_features == (["x2"] if count else [])


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_atexog_equals_statsmodels(at):
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    reference = mnlogit(X, y)
    values = np.linspace(-1, 1, len(y))
    for atexog, theirs in (({0: 0.5}, {1: 0.5}), ({"x2": values}, {3: values})):
        expected, expected_bse = _statsmodels_effects(
            reference, at, "dydx", atexog=theirs
        )
        effects = result.marginal_effects(at=at, atexog=atexog)
        assert_allclose(effects.effects, expected, rtol=RTOL)
        assert_allclose(effects.bse, expected_bse, rtol=RTOL)


def test_atexog_rows_and_zero():
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    # The data as rows is the average marginal effect.
    overall = result.marginal_effects()
    as_rows = result.marginal_effects(atexog=X)
    assert_allclose(as_rows.effects, overall.effects, rtol=1e-12)
    assert_allclose(as_rows.bse, overall.bse, rtol=1e-12)
    # At zero, a held feature keeps its value: the effect at that one row.
    held = result.marginal_effects(at="zero", atexog={"x1": 1.0})
    row = result.marginal_effects(atexog=[0.0, 1.0, 0.0])
    assert_allclose(held.effects, row.effects, rtol=1e-12)
    assert_allclose(held.bse, row.bse, rtol=1e-12)


def test_atexog_frame_is_checked_as_the_rows_of_predict_proba_interval():
    """A DataFrame of rows is checked against the feature names of the fit,
    as predict_proba_interval checks its rows: with its columns in another
    order it is refused, rather than read by position."""
    import pandas as pd

    X, y = mixed_problem()
    X = pd.DataFrame(X, columns=["a", "b", "c"])
    result = softmax_inference(fit_exactly(X, y), X, y)
    reordered = X[["c", "a", "b"]]
    with pytest.raises(ValueError, match="same order"):
        result.predict_proba_interval(reordered)
    with pytest.raises(ValueError, match=r"(?s)atexog's rows .* same order"):
        result.marginal_effects(atexog=reordered)
    with pytest.raises(ValueError, match=r"(?s)atexog's rows .* same order"):
        result.marginal_effects(at="mean", atexog=reordered.iloc[0])
    # In the order of the fit, the frame is its rows: the average effect.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_frame = result.marginal_effects(atexog=X)
        one_row = result.marginal_effects(at="mean", atexog=X.iloc[7])
    overall = result.marginal_effects()
    assert_allclose(as_frame.effects, overall.effects, rtol=1e-12)
    assert_allclose(as_frame.bse, overall.bse, rtol=1e-12)
    at_row = result.marginal_effects(at="all", atexog=X.iloc[[7]])
    assert_allclose(one_row.effects, at_row.effects[0], rtol=1e-12)


@pytest.mark.parametrize("at", ["overall", "mean", "all"])
def test_atexog_rows_go_through_the_pipeline(at):
    """In a Pipeline, atexog's rows go through the earlier steps, as
    predict_proba_interval's do: the effects are those of the last step's
    model at the transformed rows, which the same model, fitted on the
    transformed data outside the pipeline, gives for them. The two fits are
    the same computation on the same numbers, so they agree to rounding."""
    X, y = mixed_problem()
    pipeline = make_pipeline(StandardScaler(), SoftmaxRegression(**EXACT)).fit(X, y)
    in_pipeline = softmax_inference(pipeline, X, y)
    scaler = pipeline[:-1]
    alone = softmax_inference(pipeline[-1], scaler.transform(X), y)
    rows = X[::40]
    expected = alone.marginal_effects(at=at, atexog=scaler.transform(rows))
    effects = in_pipeline.marginal_effects(at=at, atexog=rows)
    assert_allclose(effects.effects, expected.effects, rtol=1e-12, atol=1e-15)
    assert_allclose(effects.bse, expected.bse, rtol=1e-12)
    # The untransformed rows are other points.
    untransformed = alone.marginal_effects(at=at, atexog=rows)
    assert not np.allclose(untransformed.effects, expected.effects, rtol=1e-3)


def test_atexog_dict_is_refused_in_a_pipeline():
    """A dict holds features at values; in a Pipeline those would be the
    values after the earlier steps, which cannot transform some features
    alone."""
    X, y = mixed_problem()
    pipeline = make_pipeline(StandardScaler(), SoftmaxRegression(**EXACT)).fit(X, y)
    result = softmax_inference(pipeline, X, y)
    with pytest.raises(ValueError, match=r"atexog as a dict is refused .* Pipeline"):
        result.marginal_effects(at="mean", atexog={0: 1.0})


def _finite_difference_jacobian(model, X, weights, fixed, method, dummy, count):
    theta = model.theta
    step = 1e-6
    columns = []
    for index in range(theta.size):
        shift = np.zeros(theta.size)
        shift[index] = step
        values = []
        for sign in (1, -1):
            moved = dataclasses.replace(
                model, theta=theta + sign * shift.reshape(theta.shape, order="F")
            )
            effects, _ = marginal_effects_and_jacobian(
                moved, X, weights, fixed, method, dummy, count
            )
            values.append(effects.ravel(order="F"))
        columns.append((values[0] - values[1]) / (2 * step))
    return np.column_stack(columns)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_jacobian_equals_finite_differences(method, discrete, fit_intercept):
    X, y = mixed_problem(n_samples=120)
    clf = fit_exactly(X, y, fit_intercept=fit_intercept)
    model = softmax_inference(clf, X, y).model
    weights = np.random.default_rng(0).uniform(0.5, 2, len(y))
    weights /= weights.sum()
    dummy, count = ([1], [2]) if discrete else ([], [])
    args = (X, weights, {0: 0.3}, method, dummy, count)
    _, jacobian = marginal_effects_and_jacobian(model, *args)
    expected = _finite_difference_jacobian(model, *args)
    # Central differences err by step^2 times the third derivative, of
    # order one here, and by rounding / step.
    assert_allclose(jacobian, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("at", AT)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("C", [np.inf, 0.5])
def test_integer_weights_equal_repeated_rows(at, method, C):
    X, y = mixed_problem(n_samples=150)
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    X_repeated, y_repeated = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    discrete = {} if at in ("median", "zero") or method.endswith("ex") else None
    options = {"dummy": True, "count": True} if discrete is None else {}
    results = []
    for data, labels, weights in ((X, y, counts), (X_repeated, y_repeated, None)):
        clf = fit_exactly(data, labels, weights, C=C)
        inference = softmax_inference(clf, data, labels, weights, cov_type="HC1")
        results.append(inference.marginal_effects(at=at, method=method, **options))
    weighted, repeated = results
    scale = np.abs(repeated.effects).max()
    assert_allclose(weighted.effects, repeated.effects, rtol=1e-7, atol=1e-12 * scale)
    assert_allclose(weighted.bse, repeated.bse, rtol=1e-6, atol=1e-12 * scale)


def test_weighted_median_is_the_median_of_repeated_values():
    rng = np.random.default_rng(0)
    for size in range(1, 30):
        values = rng.integers(0, 5, size).astype(float)
        counts = rng.integers(0, 3, size)
        counts[0] += 1
        expected = np.median(np.repeat(values, counts))
        assert weighted_median(values, counts) == expected
        # The same weights scaled: their running sums round otherwise.
        for scale in (0.1, 0.7, 1 / 3, 1e-3, 1e5):
            assert weighted_median(values, counts * scale) == expected
    # Large integer weights, whose running sums are exact: half a unit from
    # half the total is not a tie.
    weights = np.full(200_000, 1e5)
    weights[0] += 1
    assert weighted_median(np.arange(200_000.0), weights) == 99_999.0
    assert weighted_median(np.arange(3.0), np.array([8e14, 2.0, 8e14])) == 1.0


def test_sparse_blocks_and_dense_agree():
    X, y = mixed_problem()
    clf = fit_exactly(X, y)
    dense = softmax_inference(clf, X, y).marginal_effects(dummy=True, count=True)
    with config_context(working_memory=0.002):
        blocked = softmax_inference(clf, sp.csr_matrix(X), y).marginal_effects(
            dummy=True, count=True
        )
    assert_allclose(blocked.effects, dense.effects, rtol=1e-12, atol=1e-15)
    assert_allclose(blocked.bse, dense.bse, rtol=1e-10)
    assert blocked.dummy_features == ["x1"] and blocked.count_features == ["x2"]


def test_tables_and_intervals():
    X, y = anes96()
    clf = fit_exactly(X, y)
    effects = softmax_inference(clf, X, y).marginal_effects(at="mean")
    assert isinstance(effects, MarginalEffects)
    intervals = effects.conf_int(alpha=0.1)
    half = norm.ppf(0.95) * effects.bse
    assert_allclose(intervals[..., 0], effects.effects - half)
    assert_allclose(intervals[..., 1], effects.effects + half)
    assert_allclose(effects.zvalues, effects.effects / effects.bse)
    assert_allclose(np.sqrt(np.diag(effects.cov_effects())), effects.bse.ravel("F"))
    frame = effects.to_frame(alpha=0.1)
    assert list(frame.columns) == [
        "class",
        "term",
        "estimate",
        "std_error",
        "z",
        "p_value",
        "ci_lower",
        "ci_upper",
    ]
    assert len(frame) == effects.effects.size
    first = frame[(frame["class"] == 3) & (frame["term"] == "selfLR")].iloc[0]
    assert first["estimate"] == effects.effects[1, 3]
    assert first["ci_upper"] == intervals[1, 3, 1]
    text = effects.summary()
    assert "At: mean" in text and text.count("\nclass ") == 7
    assert str(effects) == text


def test_bad_options_are_refused():
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    cases = [
        ({"at": "everywhere"}, "at must be one of"),
        ({"method": "dy"}, "method must be one of"),
        ({"method": "eyex", "dummy": True}, "no elasticity"),
        ({"at": "median", "count": True}, "at='median' is refused"),
        ({"atexog": {3: 1.0}}, "key 3 is neither"),
        ({"atexog": {"age": 1.0}}, "key 'age' is neither"),
        ({"atexog": {0: [1.0, 2.0]}}, "a number or 400 numbers"),
        ({"atexog": {0: np.nan}}, "not finite"),
        ({"atexog": {0: "high"}}, "must be a number or 400 numbers; got 'high'"),
        ({"at": "zero", "atexog": {0: np.zeros(400)}}, "must be a number;"),
        ({"at": "zero", "atexog": X[:2]}, "would use neither"),
        ({"atexog": X[:, :2]}, "atexog's rows .* 2 features"),
        ({"atexog": np.full(X.shape[1], np.nan)}, "atexog's rows .* NaN"),
    ]
    for options, match in cases:
        with pytest.raises(ValueError, match=match):
            result.marginal_effects(**options)
    X_continuous = X[:, :1]
    result = softmax_inference(fit_exactly(X_continuous, y), X_continuous, y)
    with pytest.warns(UserWarning, match="no feature is binary"):
        effects = result.marginal_effects(dummy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_allclose(effects.effects, result.marginal_effects().effects)


def test_user_arrays_are_not_modified():
    X, y = mixed_problem()
    weights = np.linspace(0.5, 2, len(y))
    held = np.linspace(-1, 1, len(y))
    copies = X.copy(), weights.copy(), held.copy()
    clf = fit_exactly(X, y, weights, fit_intercept=False)
    result = softmax_inference(clf, X, y, weights)
    for at in ("overall", "mean", "all"):
        result.marginal_effects(at=at, atexog={0: held}, dummy=True, count=True)
    result.marginal_effects(atexog=X)
    for original, copy in zip((X, weights, held), copies, strict=True):
        np.testing.assert_array_equal(original, copy)

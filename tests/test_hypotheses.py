"""Fit statistics and Wald tests against statsmodels' MNLogit."""

import copy
import re

import numpy as np
import pytest
from _statsmodels import anes96, fit_exactly, mixed_problem, mnlogit
from numpy.testing import assert_allclose
from scipy.stats import chi2

from sklearn_softmax import SoftmaxInferenceResult, WaldTestResult, softmax_inference

# The estimates agree with MNLogit's to about 1e-11 relative (Newton's
# method on both sides), the tests' statistics with them.
RTOL = 1e-6
STATISTICS = ["llf", "llnull", "llr", "llr_pvalue", "prsquared", "aic", "bic"]


@pytest.fixture(scope="module")
def anes():
    X, y = anes96()
    clf = fit_exactly(X, y)
    return X, y, clf, mnlogit(X, y)


@pytest.mark.parametrize("reference_class", [0, None])
def test_fit_statistics_equal_mnlogit(anes, reference_class):
    X, y, clf, reference = anes
    result = softmax_inference(clf, X, y, reference_class=reference_class)
    for name in STATISTICS:
        assert_allclose(getattr(result, name), getattr(reference, name), rtol=RTOL)
    assert result.df_model == reference.df_model


def test_fit_statistics_without_intercept_equal_mnlogit():
    X, y = mixed_problem()
    clf = fit_exactly(X, y, fit_intercept=False)
    result = softmax_inference(clf, X, y)
    reference = mnlogit(X, y, constant=False)
    for name in STATISTICS:
        assert_allclose(getattr(result, name), getattr(reference, name), rtol=RTOL)
    assert result.df_model == reference.df_model


@pytest.mark.parametrize("C", [np.inf, 1.0])
def test_fit_statistics_weights_equal_repeated_rows(C):
    X, y = mixed_problem(n_samples=150)
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    weighted = softmax_inference(fit_exactly(X, y, counts, C=C), X, y, counts)
    X_repeated, y_repeated = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    repeated = softmax_inference(
        fit_exactly(X_repeated, y_repeated, C=C), X_repeated, y_repeated
    )
    for name in STATISTICS:
        assert_allclose(getattr(weighted, name), getattr(repeated, name), rtol=1e-8)


def _feature_restrictions(result, row):
    """The matrix that sets one row of params to zero in every column."""
    n_rows, n_columns = result.params.shape
    R = np.zeros((n_columns, n_rows * n_columns))
    R[np.arange(n_columns), np.arange(n_columns) * n_rows + row] = 1.0
    return R


def test_wald_test_equals_mnlogit(anes):
    X, y, clf, reference = anes
    result = softmax_inference(clf, X, y, reference_class=0)
    rng = np.random.default_rng(0)
    hypotheses = [
        (_feature_restrictions(result, 2), None),
        (rng.normal(size=(1, 36)), 0.3),
        (rng.normal(size=(4, 36)), rng.normal(size=4)),
    ]
    for R, q in hypotheses:
        test = result.wald_test(R, q)
        pair = R if q is None else (R, q)
        expected = reference.wald_test(pair, use_f=False, scalar=True)
        assert isinstance(test, WaldTestResult)
        assert_allclose(test.statistic, expected.statistic, rtol=RTOL)
        assert_allclose(test.pvalue, expected.pvalue, rtol=RTOL)
        assert test.df == expected.df_denom


@pytest.mark.parametrize("reference_class", [0, None])
def test_wald_tests_do_not_depend_on_the_features_units(anes, reference_class):
    """With income in units 1e7 times smaller, its variances are 1e14 times
    the intercept's: a joint test of both kept only the larger (one degree
    of freedom, where there are two) before the restrictions were scaled."""
    X, y, clf, _ = anes
    scaled_clf = copy.deepcopy(clf)
    factors = np.where(X.columns == "income", 1e7, 1.0)
    scaled_clf.coef_ = clf.coef_ / factors
    # The gradient's income entries grow by the same factor, to about 1e-6.
    scaled_clf.set_params(tol=1e-6)
    expected = softmax_inference(clf, X, y, reference_class=reference_class)
    result = softmax_inference(
        scaled_clf, X * factors, y, reference_class=reference_class
    )
    first = result.column_names[0]
    for hypothesis in (
        [f"income[{first}] = 0", f"intercept[{first}] = 0"],
        ["income", "intercept"],
        "income = 0",
    ):
        test, reference = result.wald_test(hypothesis), expected.wald_test(hypothesis)
        assert test.df == reference.df
        assert_allclose(test.statistic, reference.statistic, rtol=1e-9)
    assert result.wald_test(["income[1] = 0", "intercept[1] = 0"]).df == 2


def test_wald_test_terms_are_joint_tests_of_each_feature(anes):
    X, y, clf, reference = anes
    for reference_class in (0, None):
        result = softmax_inference(clf, X, y, reference_class=reference_class)
        table = result.wald_test_terms()
        assert list(table.index) == result.row_names
        for row, name in enumerate(result.row_names):
            # MNLogit's own wald_test_terms tests the first class only; the
            # joint test is its wald_test on the feature in every class.
            R = np.zeros((6, 36))
            R[np.arange(6), np.arange(6) * 6 + row] = 1.0
            expected = reference.wald_test(R, use_f=False, scalar=True)
            assert_allclose(table.loc[name, "statistic"], expected.statistic, rtol=RTOL)
            assert_allclose(table.loc[name, "pvalue"], expected.pvalue, rtol=RTOL)
            # In the symmetric layout the 7 columns sum to zero: 6 df.
            assert table.loc[name, "df"] == 6


def test_equations_equal_their_matrices(anes):
    X, y, clf, _ = anes
    result = softmax_inference(clf, X, y, reference_class=0)
    n_rows = 6

    def index(row, column):
        return (column - 1) * n_rows + result.row_names.index(row)

    R = np.zeros((2, 36))
    R[0, index("selfLR", 1)], R[0, index("selfLR", 2)] = 1.0, -1.0
    R[1, index("age", 3)], R[1, index("educ", 3)] = 2.0, 1.0
    expected = result.wald_test(R, [0.0, 0.05])
    for equations in (
        ["selfLR[1] = selfLR[2]", "2 * age[3] + educ[3] = 0.05"],
        ["selfLR[1] - selfLR[2] = 0", "-0.05 + 2*age[3] + educ[3] = 0"],
        ["selfLR[1] - 1 = selfLR[2] - 1", "2 * age[3] = 0.05 - educ[3]"],
    ):
        test = result.wald_test(equations)
        assert_allclose(test.restrictions, R)
        assert_allclose(test.statistic, expected.statistic, rtol=1e-12)
    # A bare name stands for every class; an equation of bare names too.
    assert_allclose(
        result.wald_test("selfLR").statistic,
        result.wald_test(_feature_restrictions(result, 2)).statistic,
        rtol=1e-12,
    )
    same = np.zeros((6, 36))
    for column in range(6):
        same[column, column * n_rows + 3] = 1.0
        same[column, column * n_rows + 4] = -1.0
    assert_allclose(result.wald_test("age = educ").restrictions, same)


def test_layouts_give_the_same_tests(anes):
    X, y, clf, _ = anes
    symmetric = softmax_inference(clf, X, y)
    against_0 = softmax_inference(clf, X, y, reference_class=0)
    # selfLR[3] - selfLR[1] is the same contrast in both layouts.
    for equation in ("selfLR[3] = selfLR[1]", "income"):
        one, other = symmetric.wald_test(equation), against_0.wald_test(equation)
        assert_allclose(one.statistic, other.statistic, rtol=1e-9)
        assert one.df == other.df


def test_the_symmetric_layouts_constraint_is_redundant_or_refused():
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    # The intercepts sum to zero by construction: a restriction that says so
    # adds nothing, one that says otherwise cannot hold.
    alone = result.wald_test("x0[1] = 0")
    both = result.wald_test(
        ["intercept[0] + intercept[1] + intercept[2] = 0", "x0[1] = 0"]
    )
    assert both.df == alone.df == 1
    assert_allclose(both.statistic, alone.statistic, rtol=1e-9)
    with pytest.raises(ValueError, match="at a value it does not have"):
        result.wald_test(
            ["intercept[0] + intercept[1] + intercept[2] = 1", "x0[1] = 0"]
        )
    with pytest.raises(ValueError, match="no variance: they constrain nothing"):
        result.wald_test("intercept[0] + intercept[1] + intercept[2] = 0")


@pytest.mark.parametrize(
    ("hypothesis", "match"),
    [
        ("x0[5] = 0", "Cannot read .* at '\\[5\\] = 0'"),
        ("x0[5] = 0", "'5' is not one of those classes"),
        ("x9[1] = 0", r"The features are \['intercept', 'x0', 'x1', 'x2'\]"),
        ("x0[1] x1[1]", "two terms without a sign"),
        ("x0[1] = 0 = 1", "two terms without a sign between them, or a second"),
        ("x0[1] +", "ends where a term was expected"),
        ("2 * 3", "'\\*' must be followed by a parameter"),
        ("1 = 2", "names no parameter"),
        ("x0 = x1[1]", "mixes parameters of one class"),
        ("x0[1] = *", "'\\*' where a number or a name"),
        ([], "at least one restriction"),
        (np.ones((1, 5)), "must have 12 columns"),
        ((np.ones((2, 12)), [1.0, 2.0, 3.0]), "one entry per restriction, 2"),
        ((np.ones((1, 12)), 1.0, 2.0), "must be \\(matrix, values\\)"),
        (np.full((1, 12), np.inf), "must be finite"),
    ],
)
def test_bad_restrictions_are_refused(hypothesis, match):
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    with pytest.raises(ValueError, match=match):
        result.wald_test(hypothesis)


@pytest.mark.parametrize(
    ("names", "ambiguous"),
    [
        # A feature called 'intercept' repeats the intercept's row name.
        (["x0", "intercept", "x2"], "intercept"),
        # 'x0[1]' is also the first feature in class 1.
        (["x0", "x0[1]", "x2"], "x0[1]"),
    ],
)
def test_names_that_stand_for_two_parameters(names, ambiguous):
    import pandas as pd

    X, y = mixed_problem()
    frame = pd.DataFrame(X, columns=names)
    result = softmax_inference(fit_exactly(frame, y), frame, y)
    assert result.row_names == ["intercept", *names]
    with pytest.raises(ValueError, match=re.escape(f"{ambiguous!r} names more")):
        result.wald_test(f"{ambiguous} = 0")
    # The terms' tests go by row, whatever the names: each is the joint
    # test of its row in every class.
    table = result.wald_test_terms()
    for row in range(4):
        expected = result.wald_test(_feature_restrictions(result, row))
        assert table.iloc[row]["statistic"] == expected.statistic
        assert table.iloc[row]["df"] == expected.df == 2


def test_values_go_with_a_matrix_only():
    X, y = mixed_problem()
    result = softmax_inference(fit_exactly(X, y), X, y)
    with pytest.raises(ValueError, match="values goes with a matrix"):
        result.wald_test("x0[1] = 0", values=[1.0])
    R = np.eye(12)[:2]
    from_pair = result.wald_test((R, [0.1, 0.2]))
    from_values = result.wald_test(R.tolist(), values=[0.1, 0.2])
    assert from_pair.statistic == from_values.statistic
    assert_allclose(from_pair.pvalue, chi2.sf(from_pair.statistic, 2))


def test_summary_and_frame_of_the_parameters(anes):
    X, y, clf, reference = anes
    result = softmax_inference(clf, X, y, reference_class=0)
    text = result.summary()
    assert f"LR chi2(30): {result.llr:.6g}" in text
    assert f"Pseudo R-squared: {reference.prsquared:.4f}" in text
    frame = result.to_frame(alpha=0.1)
    assert len(frame) == 36
    row = frame[(frame["class"] == 4) & (frame["term"] == "age")].iloc[0]
    assert row["estimate"] == result.params[3, 3]
    assert row["std_error"] == result.bse[3, 3]
    assert row["ci_lower"] == result.conf_int(alpha=0.1)[3, 3, 0]


def test_a_result_without_its_model_says_so(anes):
    X, y, clf, _ = anes
    result = softmax_inference(clf, X, y)
    bare = SoftmaxInferenceResult(
        result.params,
        result.cov_params(),
        result.row_names,
        result.column_names,
        reference_class=None,
        cov_type="nonrobust",
        penalized=False,
        nobs=result.nobs,
        llf=result.llf,
        separation=result.separation,
    )
    assert bare.wald_test("selfLR").statistic == result.wald_test("selfLR").statistic
    assert "Pseudo" not in bare.summary()
    for use in (
        lambda: bare.llnull,
        lambda: bare.aic,
        lambda: bare.marginal_effects(),
        lambda: bare.predict_proba_interval(X),
    ):
        with pytest.raises(ValueError, match="needs the fitted model and its data"):
            use()

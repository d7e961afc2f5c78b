"""The regularisation path and SoftmaxRegressionCV."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from _references import coefficient_tolerance
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from sklearn_softmax import (
    SoftmaxRegression,
    SoftmaxRegressionCV,
    softmax_regression_path,
)
from sklearn_softmax._cv import best_pair

TIGHT = {"tol": 1e-10, "max_iter": 100_000}
CS = [0.01, 0.1, 1.0, 10.0]


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _folds(X, y, n_splits=4):
    return list(StratifiedKFold(n_splits).split(X, y))


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "newton-cg"},
        {"l1_ratio": 1.0},
        {"l1_ratio": 0.5},
        {"l1_ratio": 1.0, "l1_groups": "features"},
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_path_equals_separate_fits_with_fewer_iterations(wine, params, n_classes):
    X, y = wine
    keep = y < n_classes
    X, y = X[keep], y[keep]
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    Cs, coefs, intercepts, n_iter = softmax_regression_path(
        X, y, Cs=CS, sample_weight=sample_weight, **params, **TIGHT
    )
    assert_array_equal(Cs, CS)
    n_rows = 1 if n_classes == 2 else n_classes
    assert coefs.shape == (len(CS), n_rows, X.shape[1])
    assert intercepts.shape == (len(CS), n_rows)
    cold_iterations = 0
    for C, coef, intercept in zip(CS, coefs, intercepts, strict=True):
        model = SoftmaxRegression(C=C, **params, **TIGHT)
        model.fit(X, y, sample_weight=sample_weight)
        cold_iterations += model.n_iter_[0]
        assert_allclose(coef, model.coef_, rtol=1e-5, atol=1e-6)
        assert_allclose(intercept, model.intercept_, rtol=1e-5, atol=1e-6)
        if "l1_ratio" in params and "l1_groups" not in params:
            assert_array_equal(coef == 0, model.coef_ == 0)
    assert n_iter.sum() < cold_iterations


def test_path_l1_grows_the_support(wine):
    X, y = wine
    _, coefs, _, _ = softmax_regression_path(X, y, Cs=8, l1_ratio=1.0, **TIGHT)
    support = (coefs != 0).sum(axis=(1, 2))
    # The smallest C of the default grid, 1e-4, zeroes every weight.
    assert support[0] == 0
    assert support[-1] > support[2]


def test_path_integer_cs_is_logarithmic_grid(wine):
    X, y = wine
    Cs, coefs, _, _ = softmax_regression_path(X, y, Cs=3)
    assert_allclose(Cs, [1e-4, 1.0, 1e4])
    assert coefs.shape[0] == 3


@pytest.mark.parametrize(
    ("Cs", "error", "message"),
    [
        (0, ValueError, "positive integer"),
        ([1.0, -1.0], ValueError, "must be positive"),
        ([1.0, np.nan], ValueError, "must be positive"),
        ([[1.0, 2.0]], ValueError, "1-d"),
        ([], ValueError, "1-d"),
        (["a"], TypeError, "positive floats"),
    ],
)
def test_path_rejects_bad_cs(wine, Cs, error, message):
    X, y = wine
    with pytest.raises(error, match=message):
        softmax_regression_path(X, y, Cs=Cs)


@pytest.mark.parametrize("name", ["C", "warm_start"])
def test_path_refuses_what_it_sets(wine, name):
    X, y = wine
    with pytest.raises(ValueError, match=f"{name} is set by the path"):
        softmax_regression_path(X, y, **{name: 1.0})


def _logistic_regression_cv(Cs, folds, **params):
    # tol=1e-8 is as far as the reference's line search reaches on any BLAS
    # kernel. At C = 10 the loss, 0.018, is rounded to about 1e-16 (each
    # sample's loss, however small, to about eps), beyond scikit-learn's slack
    # of 16 eps |loss|, so a step must lower it by more than that: a Newton
    # step does so by g'H^-1 g / 2 >= |g|^2 / (2 * 0.06), 1e-15 at |g| = 1e-8
    # but 1e-17 at 1e-9, where the kernel's rounding decides whether the line
    # search fails (scipy's LineSearchWarning).
    # Newer scikit-learn warns about its changing defaults; the values used
    # here are those of every version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return LogisticRegressionCV(
            Cs=Cs,
            cv=folds,
            scoring="neg_log_loss",
            solver="newton-cg",
            tol=1e-8,
            max_iter=10_000,
        ).fit(*params.pop("data"), **params)


def test_an_infinite_c_is_the_unpenalised_fit_whatever_l1_ratio():
    """Where C is infinite, l1_ratio has no penalty to split: the path's
    point there is the unpenalised fit, and neither the path nor the search
    warns that l1_ratio is not used (it is, at the finite C)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    scores = X @ rng.normal(scale=0.7, size=(3, 3))
    y = (softmax(scores, axis=1).cumsum(axis=1) < rng.uniform(size=(300, 1))).sum(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _, coefs, intercepts, _ = softmax_regression_path(
            X, y, Cs=[1.0, np.inf, 0.1], l1_ratio=0.5, **TIGHT
        )
        search = SoftmaxRegressionCV(Cs=[1.0, np.inf], l1_ratios=[0.5], cv=3)
        search.fit(X, y)
    unpenalised = SoftmaxRegression(C=np.inf, **TIGHT).fit(X, y)
    # Both stop at a gradient of 1e-10; the unpenalised objective's least
    # curvature here, its Hessian's least eigenvalue at the optimum (the
    # intercepts' common shift set aside), is 0.068.
    atol = coefficient_tolerance(12, 1e-10, 1e-2)
    assert_allclose(coefs[1], unpenalised.coef_, rtol=0, atol=atol)
    assert_allclose(intercepts[1], unpenalised.intercept_, rtol=0, atol=atol)
    # At C = 0.1 the L2 half of the penalty, 0.5 / (C S), bounds the least
    # curvature on the weights (the intercepts' is above it here).
    elastic = SoftmaxRegression(C=0.1, l1_ratio=0.5, **TIGHT).fit(X, y)
    atol = coefficient_tolerance(12, 1e-10, 0.5 / (0.1 * 300))
    assert_allclose(coefs[2], elastic.coef_, rtol=0, atol=atol)


def test_without_a_finite_c_the_l1_settings_are_not_used_and_say_so(iris):
    X, y = iris
    message = (
        "l1_ratio=0.5 and l1_groups='features' are not used: every C in Cs is "
        "infinite, which sets no penalty. Add a finite C to Cs for a penalty "
        "with an L1 part."
    )

    def unused(caught):
        # Unpenalised, iris's first class is separable from the others,
        # which the fits warn of too.
        return [w for w in caught if "not used" in str(w.message)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, coefs, _, _ = softmax_regression_path(
            X, y, Cs=[np.inf, np.inf], l1_ratio=0.5, l1_groups="features"
        )
        unpenalised = SoftmaxRegression(C=np.inf).fit(X, y)
    assert [str(w.message) for w in unused(caught)] == [message]
    assert unused(caught)[0].filename == __file__
    assert_array_equal(coefs[0], unpenalised.coef_)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=[np.inf], l1_ratios=[0.0, 0.5], cv=3).fit(X, y)
    assert [str(w.message) for w in unused(caught)] == [
        message.replace(
            "l1_ratio=0.5 and l1_groups='features' are", "l1_ratios=[0.0, 0.5] is"
        )
    ]
    assert unused(caught)[0].filename == __file__


def test_a_path_says_what_each_setting_deserves_once(iris):
    X, y = iris
    # Its finite C run 'gd' (an L1 part), its infinite C 'newton-cholesky':
    # neither reads precision, which is said once, with the first solver.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        softmax_regression_path(
            X, y, Cs=[1.0, np.inf], l1_ratio=0.5, precision="mixed", max_iter=5
        )
    said = [str(w.message) for w in caught if "not used" in str(w.message)]
    assert said == [
        "precision='mixed' is not used: it sets the Hessian-vector products "
        "of 'newton-cg', and this fit runs 'gd'."
    ]
    # A setting the penalty does not use, at every C of the path.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        softmax_regression_path(X, y, Cs=4, l1_groups="features")
    said = [str(w.message) for w in caught if "not used" in str(w.message)]
    assert len(said) == 1
    assert said[0].startswith("l1_groups='features' groups the weights")
    assert caught[0].filename == __file__


@pytest.mark.parametrize(
    "column",
    [np.asarray, pd.DataFrame, lambda y: y.tolist()],
    ids=["ndarray", "DataFrame", "list"],
)
def test_a_path_says_once_that_it_takes_a_column_y(iris, column):
    # As scikit-learn says for one fit: the same models as the 1-d labels.
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = softmax_regression_path(X, column(y[:, None]), Cs=3)
    assert [w.category.__name__ for w in caught] == ["DataConversionWarning"]
    want = softmax_regression_path(X, y, Cs=3)
    for a, b in zip(got, want, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_settings_auto_does_not_use_in_the_folds_are_named_once(iris, n_jobs):
    # 'auto' picks 'newton-cholesky' for every fold of iris, which does not
    # read precision: one warning for the search, at the caller's line, as
    # the refit finds too.
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=3, cv=3, precision="mixed", n_jobs=n_jobs).fit(X, y)
    assert [str(w.message) for w in caught] == [
        "precision='mixed' is not used: it sets the Hessian-vector products "
        "of 'newton-cg', and this fit runs 'newton-cholesky'."
    ]
    assert caught[0].filename == __file__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        softmax_regression_path(X, y, Cs=3, precision="mixed")
    assert len(caught) == 1
    assert caught[0].filename == __file__


def test_stochastic_folds_do_not_depend_on_the_process_that_runs_them(iris):
    """Without a seed, one draw from NumPy's global generator, in the
    caller's process, seeds every fold: from the same state of that
    generator, any n_jobs gives the same search."""
    X, y = iris
    # The generator that random_state=None draws from, in a state of its own.
    state = check_random_state(None).get_state()
    searches = []
    for n_jobs in (1, 2, 1):
        check_random_state(None).set_state(state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            searches.append(
                SoftmaxRegressionCV(
                    Cs=[0.1, 1.0], cv=3, solver="sgd", max_iter=3, n_jobs=n_jobs
                ).fit(X, y)
            )
    check_random_state(None).set_state(state)
    for search in searches[1:]:
        assert_array_equal(search.scores_, searches[0].scores_)
        assert_array_equal(search.coef_, searches[0].coef_)


def test_iteration_counts_are_int32_as_in_logistic_regression(iris):
    X, y = iris
    assert SoftmaxRegressionCV(Cs=3, cv=3).fit(X, y).n_iter_.dtype == np.int32
    assert softmax_regression_path(X, y, Cs=3)[3].dtype == np.int32


def test_use_legacy_attributes_takes_the_layout_offered(iris):
    X, y = iris
    params = {"Cs": 3, "cv": 3}
    model = SoftmaxRegressionCV(use_legacy_attributes=False, **params).fit(X, y)
    reference = SoftmaxRegressionCV(**params).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
    assert model.scores_.shape == (3, 1, 3)
    with pytest.raises(ValueError, match="use_legacy_attributes=True"):
        SoftmaxRegressionCV(use_legacy_attributes=True, **params).fit(X, y)
    assert not hasattr(SoftmaxRegressionCV(use_legacy_attributes=True), "C_")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_cv_equals_logistic_regression_cv(wine, n_classes):
    X, y = wine
    keep = y < n_classes
    X, y = X[keep], y[keep]
    folds = _folds(X, y)
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, **TIGHT).fit(X, y)
    # Two classes: the softmax model with C is LogisticRegression with 2 C.
    scale = 2.0 if n_classes == 2 else 1.0
    reference = _logistic_regression_cv([scale * C for C in CS], folds, data=(X, y))
    reference_scores = next(iter(reference.scores_.values()))
    # The reference's gradient, at most 1e-8 per entry, moves its solution by
    # H^-1 g from the optimum: a held-out score s by at most
    # |H^-1 grad s|_1 1e-8 <= 8e-5 s, its coefficients by at most
    # |H^-1|_inf 1e-8 <= 1.3e-4 (both largest at C = 10, where the penalty's
    # curvature 1 / (C n) is weakest). The model, at tol=1e-10, is closer.
    assert_allclose(model.scores_[:, 0, :], reference_scores, rtol=1e-4)
    assert model.C_ * scale == np.ravel(reference.C_)[0]
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=2e-4)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=2e-4)


def test_cv_balanced_weights_come_from_all_the_data(wine):
    """'balanced' weighs the classes by their shares of all the data in
    every fold, as LogisticRegressionCV does: the search equals the one
    given those weights as a dict, and differs from weighting each
    training part by its own shares."""
    X, y = wine
    # Folds whose training parts hold every class, in other shares than
    # the data: each holds out most of one class.
    rows = np.arange(len(y))
    folds = []
    for held_out in (0, 1):
        test = rows[y == held_out][:-10]
        folds.append((np.setdiff1d(rows, test), test))
    classes, totals = np.unique(y, return_counts=True)
    shares = dict(zip(classes.tolist(), (len(y) / (3 * totals)).tolist(), strict=True))
    params = {"Cs": [0.1, 1.0, 10.0], "cv": folds, "tol": 1e-10}
    balanced = SoftmaxRegressionCV(class_weight="balanced", **params).fit(X, y)
    given = SoftmaxRegressionCV(class_weight=shares, **params).fit(X, y)
    assert_array_equal(balanced.scores_, given.scores_)
    assert_array_equal(balanced.coef_, given.coef_)
    # Each training part balanced by its own shares: other weights there.
    train = folds[0][0]
    part = SoftmaxRegression(C=1.0, class_weight="balanced", tol=1e-10)
    whole = SoftmaxRegression(C=1.0, class_weight=shares, tol=1e-10)
    assert not np.allclose(
        part.fit(X[train], y[train]).coef_, whole.fit(X[train], y[train]).coef_
    )


@pytest.mark.parametrize(
    ("params", "grid"),
    [
        ({}, {}),
        ({"l1_ratios": [0.2, 0.8]}, {"l1_ratio": [0.2, 0.8]}),
        (
            {"l1_ratios": [0.5, 1.0], "l1_groups": "features"},
            {"l1_groups": ["features"], "l1_ratio": [0.5, 1.0]},
        ),
    ],
)
def test_cv_equals_grid_search(wine, params, grid):
    X, y = wine
    folds = _folds(X, y, n_splits=3)
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring="accuracy", **params, **TIGHT)
    model.fit(X, y)
    search = GridSearchCV(
        SoftmaxRegression(**TIGHT), {"C": CS, **grid}, cv=folds, scoring="accuracy"
    ).fit(X, y)
    n_ratios = model.l1_ratios_.size
    # GridSearchCV's candidates run over C, then l1_ratio within each C.
    split_scores = np.array(
        [search.cv_results_[f"split{k}_test_score"] for k in range(len(folds))]
    ).reshape(len(folds), len(CS), n_ratios)
    assert_allclose(model.scores_, split_scores.transpose(0, 2, 1))
    assert search.best_params_["C"] == model.C_
    if n_ratios > 1:
        assert model.l1_ratio_ == search.best_params_["l1_ratio"]
    assert_allclose(
        model.predict_proba(X),
        search.best_estimator_.predict_proba(X),
        rtol=1e-5,
        atol=1e-7,
    )


def test_cv_weighted_scores_are_weighted_held_out_log_loss(wine):
    X, y = wine
    sample_weight = np.random.default_rng(1).uniform(0.1, 3.0, size=len(y))
    folds = _folds(X, y, n_splits=3)
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, **TIGHT)
    model.fit(X, y, sample_weight=sample_weight)
    for k, (train, test) in enumerate(folds):
        for c, C in enumerate(CS):
            fold_model = SoftmaxRegression(C=C, **TIGHT).fit(
                X[train], y[train], sample_weight=sample_weight[train]
            )
            expected = -log_loss(
                y[test],
                fold_model.predict_proba(X[test]),
                sample_weight=sample_weight[test],
            )
            assert_allclose(model.scores_[k, 0, c], expected, rtol=1e-6)
    refit = SoftmaxRegression(C=model.C_, **TIGHT).fit(
        X, y, sample_weight=sample_weight
    )
    assert_allclose(model.coef_, refit.coef_, rtol=1e-5, atol=1e-6)


def test_cv_without_refit_averages_the_folds(wine):
    X, y = wine
    folds = _folds(X, y)
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, refit=False, **TIGHT).fit(X, y)
    best = np.argmax(model.scores_[:, 0, :], axis=1)
    fold_coefs, fold_intercepts = [], []
    for (train, _), c in zip(folds, best, strict=True):
        fold_model = SoftmaxRegression(C=CS[c], **TIGHT).fit(X[train], y[train])
        fold_coefs.append(fold_model.coef_)
        fold_intercepts.append(fold_model.intercept_)
    assert pytest.approx(np.mean(np.asarray(CS)[best])) == model.C_
    assert_allclose(model.coef_, np.mean(fold_coefs, axis=0), rtol=1e-5, atol=1e-6)
    assert_allclose(
        model.intercept_, np.mean(fold_intercepts, axis=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("refit", [True, False])
def test_cv_breaks_ties_as_logistic_regression_cv(wine, refit):
    """Among pairs of equal score, LogisticRegressionCV of scikit-learn 1.9
    takes the first C, then the first l1_ratio: a scorer that ties (C=10,
    l1_ratio=0) with (C=1, l1_ratio=1) chooses the second, on every fold."""
    X, y = wine

    def tied(model, X, y):
        return float((model.C, model.l1_ratio) in ((10.0, 0.0), (1.0, 1.0)))

    model = SoftmaxRegressionCV(
        Cs=CS, l1_ratios=[0.0, 1.0], cv=3, scoring=tied, refit=refit, max_iter=1000
    ).fit(X, y)
    assert (model.C_, model.l1_ratio_) == (1.0, 1.0)


def test_best_pair_takes_the_first_c_then_the_first_l1_ratio():
    scores = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    assert best_pair(scores) == (1, 1)
    assert best_pair(np.zeros((2, 3))) == (0, 0)
    assert best_pair(np.array([[0.0, 2.0, 1.0]])) == (0, 1)


def test_cv_attributes_and_score(wine):
    X, y = wine
    model = SoftmaxRegressionCV(Cs=3, cv=4, fit_intercept=False).fit(X, y)
    assert model.coefs_paths_.shape == (4, 1, 3, 3, X.shape[1])
    assert model.n_iter_.shape == model.scores_.shape == (4, 1, 3)
    assert_array_equal(model.l1_ratios_, [0.0])
    assert model.l1_ratio_ == 0.0
    assert_array_equal(model.intercept_, np.zeros(3))
    assert model.score(X, y) == pytest.approx(-log_loss(y, model.predict_proba(X)))
    accuracy = SoftmaxRegressionCV(Cs=3, cv=4, scoring="accuracy").fit(X, y)
    assert accuracy.score(X, y) == np.mean(accuracy.predict(X) == y)


@pytest.mark.parametrize("refit", [True, False])
def test_cv_float32_data_gives_float32_solutions_of_its_fits(wine, refit):
    X, y = wine
    X32 = X.astype(np.float32)
    folds = list(StratifiedKFold(3).split(X32, y))
    model = SoftmaxRegressionCV(Cs=[0.1, 10.0], cv=folds, refit=refit).fit(X32, y)
    for attribute in ("coef_", "intercept_", "coefs_paths_"):
        assert getattr(model, attribute).dtype == np.float32, attribute
    # An entry is its fit's coef_ and intercept_, bit for bit: the first C
    # of a fold's path, which starts from zero.
    train = folds[1][0]
    fit = SoftmaxRegression(C=0.1).fit(X32[train], y[train])
    assert_array_equal(model.coefs_paths_[1, 0, 0, :, :-1], fit.coef_)
    assert_array_equal(model.coefs_paths_[1, 0, 0, :, -1], fit.intercept_)


def test_cv_parallel_folds_give_the_same_model(wine):
    X, y = wine
    serial = SoftmaxRegressionCV(Cs=CS, cv=3).fit(X, y)
    parallel = SoftmaxRegressionCV(Cs=CS, cv=3, n_jobs=2).fit(X, y)
    assert_array_equal(serial.scores_, parallel.scores_)
    assert_array_equal(serial.coef_, parallel.coef_)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"l1_ratios": [0.5, 1.5]}, r"in \[0, 1\]"),
        ({"l1_ratios": []}, "non-empty"),
        ({"l1_groups": "rows"}, "'l1_groups' parameter"),
        ({"penalty": None}, "penalty"),
        ({"Cs": [1.0, 0.0]}, "must be positive"),
        ({"solver": "cholesky"}, "solver"),
        ({"Cs": [1.0, 1e-320]}, r"penalty's strength 1 / \(C S\) overflows"),
    ],
)
def test_cv_rejects_bad_parameters(wine, params, message):
    X, y = wine
    with pytest.raises(ValueError, match=message):
        SoftmaxRegressionCV(**params).fit(X, y)


def test_cv_refuses_data_of_one_class():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="only one class"):
        SoftmaxRegressionCV().fit(X, np.zeros_like(y))


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _few_of_class_1(iris, n_members, n_splits):
    """Iris with ``n_members`` samples of class 1, and its stratified
    folds, which the small class leaves without it somewhere."""
    X, y = iris
    keep = np.r_[0:50, 50 : 50 + n_members, 100:150]
    X, y = X[keep], y[keep]
    with pytest.warns(UserWarning, match="least populated class"):
        folds = list(StratifiedKFold(n_splits).split(X, y))
    return X, y, folds


def _per_fold_logistic_regression(
    X, y, folds, fit_intercept=True, solver="newton-cholesky", tol=1e-12
):
    """LogisticRegression fitted from zero on each training part at each C
    of CS, against all the classes: what a search over the folds must find,
    with any supported version of scikit-learn (its LogisticRegressionCV
    fits a training part without some class from version 1.8 on, and gives
    its scorer the labels from 1.9 on, by their release notes). A class
    missing from a training part gets one sample of weight zero there,
    which leaves the objective as it is.
    At three classes LogisticRegression fits the same objective with the
    same C. 'newton-cholesky' takes exact Newton steps and reaches
    tol=1e-12.

    Returns the paths, in SoftmaxRegressionCV's layout without the
    l1_ratio axis and with the intercepts centred, and the held-out
    log-loss of each fit against all the classes.
    """
    classes = np.unique(y)
    paths = np.empty((len(folds), len(CS), classes.size, X.shape[1] + fit_intercept))
    scores = np.empty((len(folds), len(CS)))
    for k, (train, test) in enumerate(folds):
        missing = np.setdiff1d(classes, y[train])
        X_train = np.vstack([X[train], np.zeros((missing.size, X.shape[1]))])
        y_train = np.concatenate([y[train], missing])
        weights = np.concatenate([np.ones(len(train)), np.zeros(missing.size)])
        for c, C in enumerate(CS):
            reference = LogisticRegression(
                C=C, fit_intercept=fit_intercept, solver=solver, tol=tol, max_iter=1000
            ).fit(X_train, y_train, sample_weight=weights)
            solution = reference.coef_
            if fit_intercept:
                intercept = reference.intercept_ - reference.intercept_.mean()
                solution = np.column_stack([solution, intercept])
            paths[k, c] = solution
            scores[k, c] = -log_loss(
                y[test], reference.predict_proba(X[test]), labels=classes
            )
    return paths, scores


def _path_tolerances(model, X, folds):
    """How far the paths of the model and of the tight reference may differ,
    in each parameter and in each held-out log-loss."""
    n_params = (X.shape[1] + int(model.fit_intercept)) * model.classes_.size
    # The least curvature of the folds' objectives, away from the
    # intercepts' common shift, is the penalty's 1 / (C S) at the largest C
    # (exactly so without intercepts; with them, the intercepts' own
    # curvature was above it at every C when the test was written). The
    # fits stop at a gradient of 1e-10, the reference at 1e-12.
    n_train = max(len(train) for train, _ in folds)
    atol = coefficient_tolerance(n_params, 1e-10, 1 / (max(CS) * n_train))
    # A held-out log-loss moves by at most 2 |x_i|_1 times the largest
    # change of a parameter: its gradient in the scores has an L1 norm of
    # at most 2.
    x_norm = np.abs(X).sum(axis=1).max() + int(model.fit_intercept)
    return atol, 2 * x_norm * atol


def _assert_same_search(model, reference, X, folds):
    """The paths, held-out scores and C_ of the search and of the per-fold
    ``reference`` agree to within what their tolerances leave."""
    reference_paths, reference_scores = reference
    atol, score_atol = _path_tolerances(model, X, folds)
    assert_allclose(model.coefs_paths_[:, 0], reference_paths, rtol=0, atol=atol)
    assert model.scores_.shape == (len(folds), 1, len(CS))
    assert_allclose(model.scores_[:, 0], reference_scores, rtol=0, atol=score_atol)
    assert CS[np.argmax(reference_scores.mean(axis=0))] == model.C_


def test_cv_class_with_fewer_members_than_folds_equals_per_fold_fits(iris):
    X, y, folds = _few_of_class_1(iris, n_members=3, n_splits=5)
    # Two held-out parts have no sample of class 1: their log-loss is still
    # over the three classes.
    assert sum(1 not in y[test] for _, test in folds) == 2
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, **TIGHT).fit(X, y)
    _assert_same_search(model, _per_fold_logistic_regression(X, y, folds), X, folds)
    for k, (train, test) in enumerate(folds):
        for c, C in enumerate(CS):
            fold_model = SoftmaxRegression(C=C, **TIGHT).fit(X[train], y[train])
            expected = -log_loss(
                y[test], fold_model.predict_proba(X[test]), labels=[0, 1, 2]
            )
            assert_allclose(model.scores_[k, 0, c], expected, rtol=1e-6)


# The F1 score of a class with no held-out sample, and none predicted, is
# set to 0, with scikit-learn's warning, as in LogisticRegressionCV.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize(
    ("scoring", "metric"),
    [
        ("neg_log_loss", lambda y, proba: -log_loss(y, proba, labels=[0, 1, 2])),
        (
            "f1_macro",
            lambda y, proba: f1_score(
                y, proba.argmax(axis=1), labels=[0, 1, 2], average="macro"
            ),
        ),
        ("accuracy", lambda y, proba: np.mean(proba.argmax(axis=1) == y)),
    ],
)
def test_cv_default_folds_score_against_all_the_classes(iris, scoring, metric):
    # The default 5 folds are stratified: two held-out parts have no sample
    # of the class with 3 members, and are scored against all three classes.
    X, y, folds = _few_of_class_1(iris, n_members=3, n_splits=5)
    with pytest.warns(UserWarning, match="least populated class"):
        model = SoftmaxRegressionCV(Cs=3, scoring=scoring).fit(X, y)
    assert model.scores_.shape == (5, 1, 3)
    for k, (_, test) in enumerate(folds):
        for c in range(3):
            solution = model.coefs_paths_[k, 0, c]
            proba = softmax(X[test] @ solution[:, :-1].T + solution[:, -1], axis=1)
            assert model.scores_[k, 0, c] == pytest.approx(
                metric(y[test], proba), rel=1e-12
            )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize(
    ("scoring", "metric"),
    [
        (None, lambda y, proba: -log_loss(y, proba, labels=[0, 1, 2])),
        (
            "f1_macro",
            lambda y, proba: f1_score(
                y, proba.argmax(axis=1), labels=[0, 1, 2], average="macro"
            ),
        ),
    ],
)
def test_cv_score_on_samples_of_some_classes_only(iris, scoring, metric):
    """score, as the search's folds, scores against all the classes: a
    sample of two of the three (or one) is scored, where log_loss refused
    it."""
    X, y = iris
    model = SoftmaxRegressionCV(Cs=CS, cv=3, scoring=scoring).fit(X, y)
    for kept in ([0, 1], [2]):
        rows = np.isin(y, kept)
        expected = metric(y[rows], model.predict_proba(X[rows]))
        assert model.score(X[rows], y[rows]) == pytest.approx(expected, rel=1e-12)


def test_cv_warns_once_of_a_setting_its_fits_do_not_use(iris):
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=3, cv=3, solver="lbfgs", momentum=0.5).fit(X, y)
    unused = [w for w in caught if "is not used" in str(w.message)]
    assert len(unused) == 1
    assert str(unused[0].message) == (
        "momentum=0.5 is not used: only the stochastic solvers 'sgd' and "
        "'adam' read it, and this fit runs 'lbfgs'."
    )


def test_cv_two_classes_scored_with_the_second_class_positive(wine):
    # F1 of string labels needs a positive class: classes_[1], as in
    # LogisticRegressionCV, whose binary model has that class positive.
    X, y = wine
    keep = y < 2
    X, labels = X[keep], np.where(y[keep] == 1, "yes", "no")
    folds = _folds(X, labels, n_splits=3)
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring="f1").fit(X, labels)
    for k, (_, test) in enumerate(folds):
        for c in range(len(CS)):
            solution = model.coefs_paths_[k, 0, c, 0]
            positive = X[test] @ solution[:-1] + solution[-1] > 0
            predicted = np.where(positive, "yes", "no")
            expected = f1_score(labels[test], predicted, pos_label="yes")
            assert model.scores_[k, 0, c] == pytest.approx(expected, rel=1e-12)


def test_cv_class_missing_from_a_training_part_equals_per_fold_fits(iris):
    # A single sample of class 1: the training part of the fold that holds
    # it out has no sample of the class. Without intercepts the class's
    # coefficients have a finite optimum, which the search and the fits
    # reach.
    X, y, folds = _few_of_class_1(iris, n_members=1, n_splits=3)
    assert sum(1 not in y[train] for train, _ in folds) == 1
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, fit_intercept=False, **TIGHT)
    model.fit(X, y)
    reference = _per_fold_logistic_regression(X, y, folds, fit_intercept=False)
    _assert_same_search(model, reference, X, folds)
    assert_array_equal(model.classes_, [0, 1, 2])


def _gradient_of_class(X, y, solution, label, C):
    """The gradient of the penalised mean log-loss in the parameters of
    class ``label``, at ``solution`` (one row per class, the intercept
    last)."""
    X1 = np.column_stack([X, np.ones(len(y))])
    Z = X1 @ solution.T
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    residual = P[:, label] - (y == label)
    gradient = X1.T @ residual / len(y)
    gradient[:-1] += solution[label, :-1] / (C * len(y))
    return gradient


def test_cv_class_missing_from_a_training_part_gets_the_penalised_optimum(iris):
    # With intercepts, the class missing from a training part has no finite
    # optimum: its intercept falls for ever. The search and LogisticRegression
    # stop where the gradient meets their tol, its coefficients kept near
    # zero by the penalty.
    X, y, folds = _few_of_class_1(iris, n_members=1, n_splits=3)
    (k,) = [k for k, (train, _) in enumerate(folds) if 1 not in y[train]]
    train = folds[k][0]
    model = SoftmaxRegressionCV(Cs=CS, cv=folds, **TIGHT).fit(X, y)
    # Exact Newton steps meet a singular Hessian on the way; Newton-CG
    # goes on.
    reference_paths, _ = _per_fold_logistic_regression(
        X, y, [folds[k]], solver="newton-cg", tol=1e-8
    )
    assert model.coefs_paths_[k, 0].shape == reference_paths[0].shape
    for path, tol in ((model.coefs_paths_[k, 0], 1e-10), (reference_paths[0], 1e-8)):
        for c, C in enumerate(CS):
            solution = path[c]
            gradient = _gradient_of_class(X[train], y[train], solution, 1, C)
            # The reference's intercepts were shifted by their mean, which
            # the gradient does not change.
            assert np.abs(gradient).max() <= 1.01 * tol
            assert solution[1, -1] < solution[[0, 2], -1].min() - 10
    # The other folds have every class in their training parts: there the
    # search agrees with the tight fits.
    others = [j for j in range(len(folds)) if j != k]
    _, tight_scores = _per_fold_logistic_regression(X, y, [folds[j] for j in others])
    _, score_atol = _path_tolerances(model, X, folds)
    assert_allclose(model.scores_[others, 0], tight_scores, rtol=0, atol=score_atol)


def test_cv_failed_fit_leaves_previous_fit_intact(wine):
    X, y = wine
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    model = SoftmaxRegressionCV(Cs=2, cv=3).fit(frame, y)
    state = {name: pickle.dumps(value) for name, value in vars(model).items()}
    bad = X[:, :5].copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.fit(bad, y)
    assert {name: pickle.dumps(value) for name, value in vars(model).items()} == state


@pytest.mark.parametrize(
    ("deprecated", "today", "warned"),
    [
        ({"penalty": "l2"}, {}, {FutureWarning}),
        ({"penalty": "l1"}, {"l1_ratios": [1.0]}, {FutureWarning}),
        (
            {"penalty": "l1", "l1_ratios": [0.5]},
            {"l1_ratios": [1.0]},
            {FutureWarning, UserWarning},
        ),
        (
            {"penalty": "elasticnet", "l1_ratios": [0.2, 0.8]},
            {"l1_ratios": [0.2, 0.8]},
            {FutureWarning},
        ),
        (
            {"penalty": "group"},
            {"l1_ratios": [1.0], "l1_groups": "features"},
            {FutureWarning},
        ),
        (
            {"penalty": "group", "l1_ratios": [0.0, 0.5]},
            {"l1_ratios": [0.0, 0.5], "l1_groups": "features"},
            {FutureWarning},
        ),
    ],
    ids=["l2", "l1", "l1-ratios-unused", "elasticnet", "group", "group-ratios"],
)
def test_cv_deprecated_penalty_searches_what_it_names(wine, deprecated, today, warned):
    """The deprecated ``penalty`` of the search maps as LogisticRegressionCV
    maps it, warns, and searches what today's spelling searches."""
    X, y = wine
    settings = {"Cs": [0.1, 1.0], "cv": 3, "tol": 1e-6}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        old = SoftmaxRegressionCV(**settings, **deprecated).fit(X, y)
    assert {w.category for w in record} == warned
    new = SoftmaxRegressionCV(**settings, **today).fit(X, y)
    assert_array_equal(old.l1_ratios_, new.l1_ratios_)
    assert_array_equal(old.scores_, new.scores_)
    assert_array_equal(old.coef_, new.coef_)


def test_cv_grouping_without_an_l1_part_warns(wine):
    X, y = wine
    with pytest.warns(UserWarning, match="l1_groups='features'.*not used"):
        SoftmaxRegressionCV(Cs=2, cv=3, l1_groups="features").fit(X, y)


def test_cv_deprecated_elasticnet_needs_l1_ratios(wine):
    X, y = wine
    with pytest.raises(ValueError, match="needs l1_ratios"):
        SoftmaxRegressionCV(penalty="elasticnet").fit(X, y)


def test_the_folds_warnings_point_at_the_callers_line(iris):
    """A fold's ConvergenceWarning names the line that called fit, as the
    refit's does, not the line of joblib that ran the fold."""
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=2, cv=2, max_iter=2, solver="lbfgs").fit(X, y)
    convergence = [w for w in caught if w.category is ConvergenceWarning]
    assert len(convergence) > 1
    assert {w.filename for w in convergence} == {__file__}

"""SoftmaxRegression as a drop-in for today's LogisticRegression.

The same public calls on both estimators, over a grid of the parameters they
share (C, l1_ratio, fit_intercept, class_weight, max_iter, warm_start, tol,
random_state, verbose), compare what a user sees: the fitted model, the
warnings and the errors. A change in either estimator that parts them fails
here. The optima themselves, on more data and every solver, are compared in
test_parity.py.
"""

import functools
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from _problems import distance_and_bound, text_like
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.fixes import parse_version

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import SOLVERS

# Settings that take both estimators to their optimum: a gradient (ours, and
# LogisticRegression's lbfgs) or a relative change of the weights per epoch
# (its saga) of at most 1e-10.
TIGHT = {"tol": 1e-10, "max_iter": 100_000}

# Both estimators reach the optimum to about 1e-8 here; see
# test_same_model_as_logistic_regression.
ATOL = 1e-6

REPOSITORY = Path(__file__).resolve().parent.parent

# LogisticRegression reads l1_ratio and C as here, and deprecates penalty and
# n_jobs, since scikit-learn 1.8; the tests of that reading need it. (The
# models are compared on every supported version: see logistic_regression.)
TODAYS_READING = parse_version(sklearn.__version__) >= parse_version("1.8")
needs_todays_reading = pytest.mark.skipif(
    not TODAYS_READING,
    reason="LogisticRegression reads l1_ratio and C so since scikit-learn 1.8",
)

# The sparse types sparsify may give: scikit-learn's sparse_interface
# setting chooses between them where it has one (1.9).
SPARSE_INTERFACES = (
    ["spmatrix", "sparray"] if "sparse_interface" in sklearn.get_config() else [None]
)


@functools.cache
def problem(n_classes=3):
    """Small standardised data whose classes overlap (a fifth of the labels
    are drawn at random), so that the optimum without a penalty exists."""
    X, y = make_classification(
        n_samples=150,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.2,
        random_state=0,
    )
    return StandardScaler().fit_transform(X), y


def logistic_regression(**params):
    """LogisticRegression with today's ``l1_ratio`` and ``C``, and the solver
    that takes the penalty: 'saga' for an L1 part, 'lbfgs' otherwise.
    Releases before 1.8 are given the same penalty in their spelling."""
    l1_ratio = params.get("l1_ratio", 0.0)
    finite = np.isfinite(params.get("C", 1.0))
    solver = "saga" if l1_ratio and finite else "lbfgs"
    if not TODAYS_READING:
        params = dict(params, l1_ratio=l1_ratio)
        if not finite:
            params.update(penalty=None, C=1.0, l1_ratio=None)
        elif l1_ratio in (0.0, 1.0):
            params.update(penalty="l1" if l1_ratio else "l2", l1_ratio=None)
        else:
            params.update(penalty="elasticnet")
    return LogisticRegression(solver=solver, **params)


def objective(model, X, y, C, l1_ratio, class_weight):
    """The objective both estimators minimise, at a fitted model, from its
    probabilities: the mean log-loss weighted by the class weights plus the
    penalty divided by ``C`` and the total weight."""
    classes = np.unique(y)
    weights = np.ones(len(y))
    if class_weight is not None:
        weights = compute_class_weight(class_weight, classes=classes, y=y)[y]
    coef = np.asarray(model.coef_)
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * np.sum(coef**2)
    value = log_loss(y, model.predict_proba(X), sample_weight=weights)
    return value + penalty / (C * weights.sum())


def categories(record):
    """The kinds of warning that say something of the parameters: FutureWarning
    and UserWarning proper, not its subclass ConvergenceWarning."""
    return {w.category for w in record if w.category in (FutureWarning, UserWarning)}


def fit_recording(estimator, X, y):
    """Fit, and the warnings the fit gave."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    return record


# -- the model -----------------------------------------------------------------


@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("C", [0.1, 1.0, np.inf])
def test_same_model_as_logistic_regression(C, l1_ratio, fit_intercept, class_weight):
    """The same parameters give the same model: at ``tol=1e-10`` the two are
    within ``ATOL`` of each other. LogisticRegression's lbfgs also stops on
    a relative decrease of the objective of 64 eps (its ``ftol``), which
    leaves its weights within ``sqrt(2 * 64 eps f / mu)`` of the optimum:
    below 1e-7 for an objective ``f`` under 1 and a least curvature ``mu``
    above 1e-2 on these standardised data; ``ATOL`` is ten times that. With
    ``C=np.inf`` there is no penalty, which both fit whatever ``l1_ratio``
    says (and warn of it, see the warning tests)."""
    X, y = problem()
    params = dict(C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **TIGHT)
    params["class_weight"] = class_weight
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "C=np.inf", UserWarning)
        warnings.filterwarnings("ignore", "l1_ratio parameter", UserWarning)
        reference = logistic_regression(random_state=0, **params).fit(X, y)
        model = SoftmaxRegression(**params).fit(X, y)
    assert model.converged_
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)
    assert_array_equal(model.n_iter_.shape, reference.n_iter_.shape)
    penalised = l1_ratio if np.isfinite(C) else 0.0
    ours = objective(model, X, y, C, penalised, class_weight)
    theirs = objective(reference, X, y, C, penalised, class_weight)
    # The objective is flat at the optimum: ATOL on the weights moves it by
    # far less than 1e-9 relative.
    assert ours <= theirs * (1 + 1e-9)
    if penalised > 0:
        # The zeros of an L1 part are the optimum's, the same in both.
        assert_array_equal(model.coef_ == 0, np.abs(reference.coef_) < 1e-8)


@pytest.mark.parametrize(
    ("l1_ratio", "l1_groups", "C_factor", "ratio"),
    [
        (0.0, None, lambda rho: 2.0, lambda rho: 0.0),
        (0.5, None, lambda rho: 2 / (1 + rho), lambda rho: 2 * rho / (1 + rho)),
        (1.0, None, lambda rho: 1.0, lambda rho: 1.0),
        (
            0.5,
            "features",
            lambda rho: 2 / (1 + (np.sqrt(2) - 1) * rho),
            lambda rho: np.sqrt(2) * rho / (1 + (np.sqrt(2) - 1) * rho),
        ),
    ],
    ids=["l2", "elasticnet", "l1", "group-elasticnet"],
)
def test_two_classes_equal_logistic_regression_with_changed_parameters(
    l1_ratio, l1_groups, C_factor, ratio
):
    """With two classes, ``(C, l1_ratio)`` here is LogisticRegression's
    ``(C', l1_ratio')`` of the penalties page: the pair ``(-w/2, w/2)``
    halves the L2 part of ``w``'s penalty and leaves its L1 part (divides
    it by sqrt 2 for the group norm)."""
    X, y = problem(n_classes=2)
    C = 0.2
    model = SoftmaxRegression(C=C, l1_ratio=l1_ratio, l1_groups=l1_groups, **TIGHT).fit(
        X, y
    )
    reference = logistic_regression(
        C=C * C_factor(l1_ratio), l1_ratio=ratio(l1_ratio), random_state=0, **TIGHT
    ).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)
    if l1_ratio > 0:
        assert_array_equal(model.coef_ == 0, np.abs(reference.coef_) < 1e-8)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_warm_start_refit_equals_logistic_regression(l1_ratio):
    """A warm-started refit at another ``C`` reaches the same model as
    LogisticRegression's, itself warm-started."""
    X, y = problem()
    params = dict(l1_ratio=l1_ratio, warm_start=True, **TIGHT)
    reference = logistic_regression(C=0.1, random_state=0, **params).fit(X, y)
    model = SoftmaxRegression(C=0.1, **params).fit(X, y)
    reference.set_params(C=1.0).fit(X, y)
    model.set_params(C=1.0).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)


def test_random_state_and_verbose_leave_the_model(capsys):
    """``random_state`` and ``verbose`` change neither estimator's model
    (LogisticRegression's lbfgs takes no random numbers)."""
    X, y = problem()
    plain = SoftmaxRegression(**TIGHT).fit(X, y)
    other = SoftmaxRegression(random_state=3, verbose=1, **TIGHT).fit(X, y)
    assert capsys.readouterr().out
    reference = logistic_regression(random_state=3, **TIGHT).fit(X, y)
    assert_array_equal(other.coef_, plain.coef_)
    assert_allclose(other.coef_, reference.coef_, rtol=0, atol=ATOL)


# -- max_iter=0 ----------------------------------------------------------------


def test_max_iter_zero_is_accepted_and_returns_the_start():
    """``max_iter=0``: LogisticRegression's newton-cg returns its start,
    zero weights, with ``n_iter_`` 0 and a ConvergenceWarning; so does
    SoftmaxRegression, for every penalty. (LogisticRegression's lbfgs warns
    as well but moves away from zero, and its saga reports one iteration
    and does not warn.)"""
    X, y = problem()
    reference = LogisticRegression(solver="newton-cg", max_iter=0)
    with pytest.warns(ConvergenceWarning):
        reference.fit(X, y)
    settings = [{"l1_ratio": l1_ratio} for l1_ratio in (0.0, 0.5, 1.0)]
    # Every solver of L2, scipy's L-BFGS-B included, which takes a step even
    # with maxiter=0.
    settings += [{"solver": solver} for solver in SOLVERS]
    for setting in settings:
        model = SoftmaxRegression(**setting, max_iter=0)
        with pytest.warns(ConvergenceWarning, match="max_iter=0"):
            model.fit(X, y)
        assert_array_equal(model.coef_, reference.coef_)
        assert_array_equal(model.n_iter_, reference.n_iter_)
        assert not model.converged_
    # At a tol the start already meets, neither warns.
    for estimator in (
        LogisticRegression(max_iter=0, tol=10.0),
        SoftmaxRegression(max_iter=0, tol=10.0),
    ):
        record = fit_recording(estimator, X, y)
        assert not [w for w in record if w.category is ConvergenceWarning]
        assert_array_equal(estimator.n_iter_, [0])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_max_iter_zero_with_warm_start_keeps_the_previous_model(n_classes):
    """After a fit, a warm-started refit with ``max_iter=0`` keeps the model
    and, where it meets ``tol``, does not warn: LogisticRegression's lbfgs
    does the same."""
    X, y = problem(n_classes)
    # The same model: with two classes, C here is 2 C there.
    models = [
        LogisticRegression(C=2.0 if n_classes == 2 else 1.0, **TIGHT).fit(X, y),
        SoftmaxRegression(C=1.0, **TIGHT).fit(X, y),
    ]
    for model in models:
        fitted = model.coef_.copy(), model.intercept_.copy()
        record = fit_recording(
            model.set_params(warm_start=True, max_iter=0, tol=1e-4), X, y
        )
        assert not [w for w in record if w.category is ConvergenceWarning]
        assert_array_equal(model.n_iter_, [0])
        assert_allclose(model.coef_, fitted[0], rtol=0, atol=1e-13)
        assert_allclose(model.intercept_, fitted[1], rtol=0, atol=1e-13)
    assert_allclose(models[1].coef_, models[0].coef_, rtol=0, atol=ATOL)


# -- warnings ------------------------------------------------------------------

# Parameter sets, in today's spelling and in the deprecated one, for which
# both estimators must warn alike.
WARNING_CASES = [
    {},
    {"l1_ratio": 0.5},
    {"l1_ratio": 1.0},
    {"C": np.inf},
    {"C": np.inf, "l1_ratio": 0.5},
    {"l1_ratio": None},
    {"C": 0.5, "class_weight": "balanced", "fit_intercept": False},
    {"n_jobs": 2},
    {"penalty": "l2"},
    {"penalty": "l2", "l1_ratio": 0.5},
    {"penalty": "l2", "l1_ratio": None},
    {"penalty": "l1"},
    {"penalty": "l1", "l1_ratio": 1.0},
    {"penalty": "l1", "l1_ratio": 0.3},
    {"penalty": "elasticnet", "l1_ratio": 0.5},
    {"penalty": "elasticnet", "l1_ratio": 0.0},
    {"penalty": None},
    {"penalty": None, "C": 0.01},
    {"penalty": None, "l1_ratio": 0.5},
]

# Where the penalty has no L1 part (C=np.inf, or penalty=None) and
# l1_ratio=1 says it should, this package warns that l1_ratio is not used;
# LogisticRegression 1.9 warns of it only for 0 < l1_ratio < 1.
STRICTER_CASES = [
    {"C": np.inf, "l1_ratio": 1.0},
    {"penalty": None, "l1_ratio": 1.0},
    {"penalty": "l1", "C": np.inf, "l1_ratio": 1.0},
]


def _case_id(params):
    return ",".join(f"{key}={value}" for key, value in params.items()) or "default"


def _warnings_of_both(params):
    X, y = problem()
    # A few epochs of saga are enough to see its warnings.
    settings = {"max_iter": 3, "tol": 1e-2, "random_state": 0}
    theirs = fit_recording(
        LogisticRegression(solver="saga", **settings, **params), X, y
    )
    ours = fit_recording(SoftmaxRegression(**settings, **params), X, y)
    return categories(theirs), categories(ours)


@needs_todays_reading
@pytest.mark.parametrize("params", WARNING_CASES, ids=_case_id)
def test_warns_where_logistic_regression_warns(params):
    """The same kinds of warning, deprecations (FutureWarning) and unused
    settings (UserWarning), for the same settings."""
    theirs, ours = _warnings_of_both(params)
    assert ours == theirs


@needs_todays_reading
@pytest.mark.parametrize("params", STRICTER_CASES, ids=_case_id)
def test_warns_also_of_an_unused_l1_ratio_of_one(params):
    theirs, ours = _warnings_of_both(params)
    assert UserWarning not in theirs
    assert ours == theirs | {UserWarning}


@needs_todays_reading
@pytest.mark.parametrize(
    ("deprecated", "today"),
    [
        ({"penalty": "l2"}, {"l1_ratio": 0.0}),
        ({"penalty": "l2", "l1_ratio": 0.5}, {"l1_ratio": 0.0}),
        ({"penalty": "l1"}, {"l1_ratio": 1.0}),
        ({"penalty": "l1", "l1_ratio": 0.3}, {"l1_ratio": 1.0}),
        ({"penalty": "elasticnet", "l1_ratio": 0.5}, {"l1_ratio": 0.5}),
        ({"penalty": None, "C": 0.01}, {"C": np.inf}),
        ({"l1_ratio": None}, {"l1_ratio": 0.0}),
    ],
    ids=lambda params: _case_id(params),
)
def test_deprecated_spellings_fit_what_logistic_regression_reads(deprecated, today):
    """Each deprecated spelling fits, in both estimators, the model of the
    spelling that replaces it: bit for bit, as it is the same objective
    solved the same way (a few epochs of saga, seeded, are enough to tell
    LogisticRegression's readings apart)."""
    X, y = problem()
    settings = {"max_iter": 3, "tol": 1e-2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [
            [
                estimator(**settings, **params).fit(X, y).coef_
                for params in (deprecated, today)
            ]
            for estimator in (
                functools.partial(LogisticRegression, solver="saga"),
                SoftmaxRegression,
            )
        ]
    for old, new in pairs:
        assert_array_equal(old, new)


def test_deprecated_group_penalty_fits_the_group_norm():
    """``penalty='group'`` reads as ``l1_groups='features'`` with
    ``l1_ratio``, 1 when left at 0 (its former default, None)."""
    X, y = problem()
    for l1_ratio, share in ((0.0, 1.0), (None, 1.0), (0.5, 0.5)):
        with pytest.warns(FutureWarning, match="l1_groups='features'"):
            old = SoftmaxRegression(penalty="group", l1_ratio=l1_ratio, C=0.1)
            old.fit(X, y)
        new = SoftmaxRegression(l1_groups="features", l1_ratio=share, C=0.1)
        assert_array_equal(old.coef_, new.fit(X, y).coef_)


# -- errors --------------------------------------------------------------------

ERROR_CASES = [
    {"C": 0.0},
    {"C": -1.0},
    {"l1_ratio": 1.5},
    {"l1_ratio": -0.1},
    {"max_iter": -1},
    {"tol": -1.0},
    {"penalty": "l3"},
    {"penalty": "elasticnet", "l1_ratio": None},
    {"class_weight": "heavy"},
    {"fit_intercept": "yes"},
    {"warm_start": "no"},
    {"n_jobs": 1.5},
    # A solver for smooth objectives with an L1 part.
    pytest.param({"solver": "lbfgs", "l1_ratio": 1.0}, marks=needs_todays_reading),
    pytest.param({"solver": "newton-cg", "l1_ratio": 0.5}, marks=needs_todays_reading),
]


@pytest.mark.parametrize("params", ERROR_CASES, ids=_case_id)
def test_raises_where_logistic_regression_raises(params):
    """Both refuse; SoftmaxRegression's message names a parameter of the
    case, as ``'C'`` (scikit-learn's validation) or ``C=`` (its own)."""
    X, y = problem()
    names = "|".join(rf"'{name}'|\b{name}=" for name in params)
    for estimator, match in ((LogisticRegression, None), (SoftmaxRegression, names)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.raises(ValueError, match=match):
                estimator(**params).fit(X, y)


@needs_todays_reading
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_smooth_solvers_take_no_penalty_whatever_l1_ratio(solver):
    """With ``C=np.inf`` there is no L1 part for a smooth solver to refuse:
    neither estimator raises, and both fit the unpenalised model."""
    X, y = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = LogisticRegression(
            solver=solver, C=np.inf, l1_ratio=1.0, **TIGHT
        ).fit(X, y)
        model = SoftmaxRegression(solver=solver, C=np.inf, l1_ratio=1.0, **TIGHT)
        model.fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)


def test_single_class_raises_in_both():
    X, _ = problem()
    for estimator in (LogisticRegression(), SoftmaxRegression()):
        with pytest.raises(ValueError, match="only one class"):
            estimator.fit(X, np.zeros(len(X), dtype=int))


# -- the rest of the surface -----------------------------------------------------


@pytest.mark.parametrize("sparse_interface", SPARSE_INTERFACES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparsify_and_densify_as_logistic_regression(n_classes, sparse_interface):
    """``sparsify`` turns ``coef_`` into the sparse type LogisticRegression's
    does, the predictions stay, and ``densify`` turns it back."""
    X, y = problem(n_classes)
    X_sparse = sp.csr_matrix(X)
    context = {} if sparse_interface is None else {"sparse_interface": sparse_interface}
    with sklearn.config_context(**context):
        reference = logistic_regression(C=0.1, l1_ratio=1.0, tol=1e-6).fit(X, y)
        model = SoftmaxRegression(C=0.1, l1_ratio=1.0, tol=1e-6).fit(X, y)
        dense = {
            method: getattr(model, method)(X)
            for method in ("decision_function", "predict_proba", "predict")
        }
        coef = model.coef_.copy()
        assert model.sparsify() is model
        reference.sparsify()
    assert type(model.coef_) is type(reference.coef_)
    assert sp.issparse(model.coef_)
    assert model.coef_.nnz == np.count_nonzero(coef) < coef.size
    for method, expected in dense.items():
        for data in (X, X_sparse):
            assert_allclose(getattr(model, method)(data), expected, rtol=1e-12)
    # A warm start reads the sparse model; the fit stores a dense one.
    model.set_params(warm_start=True).fit(X, y)
    assert isinstance(model.coef_, np.ndarray)
    # Both fits stop at a gradient of 1e-6, within 1e-6 / mu of the optimum
    # for a least curvature mu above 1e-2.
    assert_allclose(model.coef_, coef, rtol=0, atol=1e-4)
    refitted = model.coef_.copy()
    model.sparsify()
    assert model.densify() is model
    assert isinstance(model.coef_, np.ndarray)
    assert_array_equal(model.coef_, refitted)


def test_sparsify_needs_a_fitted_model():
    for estimator in (LogisticRegression(), SoftmaxRegression()):
        with pytest.raises(NotFittedError):
            estimator.sparsify()


@pytest.mark.parametrize("estimator", [SoftmaxRegression, SoftmaxRegressionCV])
def test_html_repr_links_to_the_api_page(estimator):
    """The link of the HTML representation goes to the class's entry on the
    API page, under the documentation URL of pyproject.toml, as
    LogisticRegression's goes to its own."""
    pyproject = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    documentation = re.search(r'^Documentation = "(.+)"$', pyproject, re.M)[1]
    api = (REPOSITORY / "docs" / "api.rst").read_text(encoding="utf-8")
    # autodoc's anchor for a class is its path under the current module.
    assert ".. currentmodule:: sklearn_softmax\n" in api
    assert f".. autoclass:: {estimator.__name__}\n" in api
    expected = f"{documentation}api.html#sklearn_softmax.{estimator.__name__}"
    assert estimator()._get_doc_link() == expected
    assert expected in estimator_html_repr(estimator())
    assert LogisticRegression()._get_doc_link() in estimator_html_repr(
        LogisticRegression()
    )


@needs_todays_reading
def test_accepts_the_parameters_of_logistic_regression_it_fits_with():
    """Every parameter of LogisticRegression that shapes the multinomial
    model is a parameter here, with the same default; those it lacks are
    the liblinear solver's."""
    ours = SoftmaxRegression().get_params()
    theirs = LogisticRegression().get_params()
    liblinear_only = {"dual", "intercept_scaling"}
    assert set(theirs) - set(ours) == liblinear_only
    shared = set(theirs) - liblinear_only - {"solver"}
    assert {name: ours[name] for name in shared} == {
        name: theirs[name] for name in shared
    }


@pytest.mark.parametrize("C", [0.2, np.inf])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_two_class_exact_newton_steps_solve_for_the_difference(
    C, weighted, fit_intercept, monkeypatch
):
    """'newton-cholesky' on two classes runs on the difference of the
    classes' parameters, and reaches LogisticRegression's model at 2 C;
    other solvers, and more classes, run on ``coef`` itself."""
    from sklearn_softmax._backends import _numpy

    wrapped = []

    def spy(run, coef0):
        wrapped.append(run)
        return solved_in_difference(run, coef0)

    solved_in_difference = _numpy.solved_in_difference
    monkeypatch.setattr(_numpy, "solved_in_difference", spy)
    X, y = problem(n_classes=2)
    sample_weight = (
        np.random.default_rng(0).uniform(0.5, 2.0, y.size) if weighted else None
    )
    settings = dict(C=C, fit_intercept=fit_intercept, **TIGHT)
    model = SoftmaxRegression(solver="newton-cholesky", **settings)
    model.fit(X, y, sample_weight=sample_weight)
    assert len(wrapped) == 1
    reference = logistic_regression(
        C=2 * C, fit_intercept=fit_intercept, random_state=0, **TIGHT
    ).fit(X, y, sample_weight=sample_weight)
    assert_allclose(model.coef_, reference.coef_, rtol=0, atol=ATOL)
    assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=ATOL)
    assert model.converged_

    SoftmaxRegression(solver="newton-cg", **settings).fit(X, y, sample_weight)
    X3, y3 = problem(n_classes=3)
    SoftmaxRegression(solver="newton-cholesky", **settings).fit(X3, y3)
    assert len(wrapped) == 1


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_text_like_sparse_data_gives_logistic_regressions_model(fit_intercept):
    """On sparse data whose frequent columns are in most rows, where
    Newton-CG preconditions with the columns' means and variances from the
    first step, the model is LogisticRegression's, with sample weights,
    some of them zero: the two lie within the bound their gradients give."""
    X, y = text_like(600, 200, 4)
    sample_weight = np.random.default_rng(1).uniform(0.0, 3.0, y.size)
    sample_weight[:20] = 0.0
    settings = dict(C=1.0, fit_intercept=fit_intercept, **TIGHT)
    model = SoftmaxRegression(solver="newton-cg", **settings)
    model.fit(X, y, sample_weight=sample_weight)
    reference = logistic_regression(random_state=0, **settings)
    reference.fit(X, y, sample_weight=sample_weight)
    objective = MultinomialLoss(4, fit_intercept).bind(
        X, y, sample_weight, 1.0 / sample_weight.sum()
    )
    points = [
        np.vstack([m.coef_.T, m.intercept_]).ravel()
        if fit_intercept
        else m.coef_.T.ravel()
        for m in (model, reference)
    ]
    distance, bound = distance_and_bound(objective, *points)
    # Gradients near 1e-10 per entry against a least curvature near the
    # penalty, 1e-3: a bound far below the coefficients, of order 0.1 to 1.
    assert distance <= bound < 1e-4 * np.abs(points[1]).max()
    assert model.converged_

"""Same objective, same model: SoftmaxRegression against LogisticRegression."""

import functools

import numpy as np
import pytest
from _problems import gradient_norm, l1_logistic_regression, penalised_objective
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import SOLVERS


def _classification(n_samples, n_features, n_informative, n_classes):
    return functools.partial(
        make_classification,
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )


LOADERS = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "synthetic-5-classes": _classification(600, 20, 10, 5),
    # More features than samples: solved in the row space of X.
    "wide-4-classes": _classification(60, 300, 20, 4),
}


@functools.cache
def dataset(name, weighted):
    X, y = LOADERS[name]()
    X = StandardScaler().fit_transform(X)
    weights = None
    if weighted:
        weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    return X, y, weights


@functools.cache
def reference(name, C, weighted, fit_intercept):
    """LogisticRegression's objective and probabilities, and the least
    curvature of the objective at its solution."""
    X, y, sw = dataset(name, weighted)
    model = LogisticRegression(
        C=C, fit_intercept=fit_intercept, tol=1e-10, max_iter=100_000
    ).fit(X, y, sample_weight=sw)
    total = len(y) if sw is None else sw.sum()
    coef = model.coef_.T
    if fit_intercept:
        coef = np.vstack([coef, model.intercept_])
    objective = MultinomialLoss(len(model.classes_), fit_intercept).bind(
        X, y, sw, 1 / (C * total)
    )
    # The null direction of the intercepts is made definite in this Hessian.
    hessian = objective.value_gradient_hessian(coef.ravel())[2]()
    least_curvature = np.linalg.eigvalsh(hessian)[0]
    return (
        penalised_objective(model, X, y, C, sw),
        model.predict_proba(X),
        least_curvature,
    )


# Each solver with its default settings, and newton-cg with its Hessian
# products forced into each precision ('auto' picks by the problem's size).
CONFIGS = {solver: {"solver": solver} for solver in sorted(SOLVERS)} | {
    f"newton-cg-{precision}": {"solver": "newton-cg", "precision": precision}
    for precision in ("mixed", "full")
}


@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("name", sorted(LOADERS))
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_same_optimum_as_logistic_regression(config, name, C, weighted, fit_intercept):
    X, y, sw = dataset(name, weighted)
    model = SoftmaxRegression(
        C=C, fit_intercept=fit_intercept, tol=1e-8, max_iter=100_000, **CONFIGS[config]
    ).fit(X, y, sample_weight=sw)

    reference_objective, reference_proba, curvature = reference(
        name, C, weighted, fit_intercept
    )
    # Strong convexity: the fit exceeds the optimum, and so the reference,
    # by at most |g|^2 / (2 mu) <= p grad_norm_^2 / (2 mu), with the least
    # curvature mu halved as a margin for its change between the two
    # solutions; each objective is a sum of n terms, rounded within n eps.
    n_params = (X.shape[1] + int(fit_intercept)) * len(model.classes_)
    grad_norm = gradient_norm(model, X, y, C, sw)
    excess = n_params * (grad_norm + 1e-14) ** 2 / curvature
    rounding = 2 * len(y) * np.finfo(np.float64).eps * reference_objective
    objective = penalised_objective(model, X, y, C, sw)
    assert objective <= reference_objective + excess + rounding
    assert_allclose(model.predict_proba(X), reference_proba, atol=1e-4)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    "class_weight",
    ["balanced", {0: 0.5, 1: 3.0}, {2: 0.2}],
    ids=["balanced", "dict", "dict-partial"],
)
@pytest.mark.parametrize("name", ["wine", "synthetic-5-classes"])
def test_class_weight_same_optimum_as_logistic_regression(name, class_weight, weighted):
    X, y, sw = dataset(name, weighted)
    # The objective: the sample weights times the class weights, 'balanced'
    # sharing the total sample weight equally between the classes.
    base = np.ones(len(y)) if sw is None else sw
    if class_weight == "balanced":
        totals = np.bincount(y, weights=base)
        per_class = totals.sum() / (len(totals) * totals)
    else:
        per_class = np.array([class_weight.get(k, 1.0) for k in np.unique(y)])
    effective = base * per_class[y]
    params = dict(C=1.0, tol=1e-10, max_iter=10_000)
    model = SoftmaxRegression(class_weight=class_weight, **params)
    model.fit(X, y, sample_weight=sw)
    # LogisticRegression gets the weights as a dict: in older releases (1.6)
    # its 'balanced' counted samples and ignored their weights.
    reference = LogisticRegression(
        class_weight=dict(enumerate(per_class)), **params
    ).fit(X, y, sample_weight=sw)
    assert penalised_objective(model, X, y, 1.0, effective) <= penalised_objective(
        reference, X, y, 1.0, effective
    ) * (1 + 1e-9)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_no_penalty_same_optimum_as_logistic_regression(solver, weighted, n_classes):
    # Label noise keeps the classes overlapping, so the unpenalised
    # optimum exists.
    X, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=6,
        n_classes=n_classes,
        flip_y=0.3,
        random_state=1,
    )
    X = StandardScaler().fit_transform(X)
    sw = np.random.default_rng(1).uniform(0.1, 3.0, len(y)) if weighted else None
    model = SoftmaxRegression(C=np.inf, solver=solver, tol=1e-8, max_iter=100_000).fit(
        X, y, sample_weight=sw
    )
    # C=inf is LogisticRegression's no penalty (its penalty=None is
    # deprecated since scikit-learn 1.8); it is SoftmaxRegression's too, and
    # the deprecated spelling fits the same model.
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(
        X, y, sample_weight=sw
    )
    deprecated = SoftmaxRegression(
        penalty=None, solver=solver, tol=1e-8, max_iter=100_000
    )
    with pytest.warns(FutureWarning, match="penalty=None is deprecated"):
        deprecated.fit(X, y, sample_weight=sw)
    assert_allclose(deprecated.coef_, model.coef_, rtol=0, atol=0)
    ours = log_loss(y, model.predict_proba(X), sample_weight=sw)
    theirs = log_loss(y, reference.predict_proba(X), sample_weight=sw)
    assert ours <= theirs * (1 + 1e-9)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-5)
    if n_classes == 2:
        assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-5)


def _l1_objective(coef, proba, y, C, l1_ratio, sw):
    total = len(y) if sw is None else sw.sum()
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * np.sum(coef**2)
    return log_loss(y, proba, sample_weight=sw) + penalty / (C * total)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("C", [0.1, 1.0])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("name", ["wine", "synthetic-5-classes"])
def test_l1_same_optimum_and_zeros_as_saga(name, l1_ratio, C, weighted):
    X, y, sw = dataset(name, weighted)
    model = SoftmaxRegression(
        l1_ratio=l1_ratio,
        C=C,
        tol=1e-10,
        max_iter=100_000,
    ).fit(X, y, sample_weight=sw)
    reference = l1_logistic_regression(
        l1_ratio, C, solver="saga", tol=1e-12, max_iter=100_000
    ).fit(X, y, sample_weight=sw)
    ours = _l1_objective(model.coef_, model.predict_proba(X), y, C, l1_ratio, sw)
    theirs = _l1_objective(
        reference.coef_, reference.predict_proba(X), y, C, l1_ratio, sw
    )
    assert abs(ours - theirs) <= 1e-6 * theirs
    assert model.converged_
    assert_array_equal(model.coef_ == 0, np.abs(reference.coef_) < 1e-10)
    assert np.any(model.coef_ == 0)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("eps", [0.1, 0.4])
@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_label_smoothing_equals_logistic_regression_on_weighted_copies(
    solver, C, eps, n_classes
):
    """Smoothed targets ``t_i = (1 - eps) onehot(y_i) + eps / K`` give the
    objective of K weighted copies of each sample, one per class k with
    weight ``s_i t_ik``: the same total weight S, so the same penalty."""
    X, y, sw = dataset("wine", True)
    keep = y < n_classes
    X, y, sw = X[keep], y[keep], sw[keep]
    model = SoftmaxRegression(
        C=C, label_smoothing=eps, solver=solver, tol=1e-8, max_iter=100_000
    ).fit(X, y, sample_weight=sw)
    targets = (1 - eps) * np.eye(n_classes)[y] + eps / n_classes
    copies = LogisticRegression(
        C=2 * C if n_classes == 2 else C, tol=1e-12, max_iter=100_000
    ).fit(
        np.tile(X, (n_classes, 1)),
        np.repeat(np.arange(n_classes), len(y)),
        sample_weight=(sw[:, np.newaxis] * targets).T.ravel(),
    )
    assert_allclose(model.predict_proba(X), copies.predict_proba(X), atol=1e-6)
    assert_allclose(model.coef_, copies.coef_, rtol=1e-4, atol=1e-5)

"""ConvergenceDisplay and RegularizationPathDisplay draw the estimator's own
numbers, on the axes given or new ones, and say how to get matplotlib when
it is missing."""

import sys

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import (
    ConvergenceDisplay,
    RegularizationPathDisplay,
    SeparationWarning,
    SoftmaxRegression,
    SoftmaxRegressionCV,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cv_model(wine):
    X, y = wine
    # The wine classes are separable: the fits without a penalty say so.
    with pytest.warns(SeparationWarning):
        return SoftmaxRegressionCV(Cs=[0.01, 0.1, 1.0, np.inf], cv=3, tol=1e-6).fit(
            X, y
        )


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs", "gd", "sgd"])
def test_convergence_display_draws_loss_curve(solver, wine):
    X, y = wine
    model = SoftmaxRegression(solver=solver, random_state=0).fit(X, y)
    display = ConvergenceDisplay.from_estimator(model)
    (line,) = display.lines_
    assert_array_equal(line.get_xdata(), np.arange(1, model.n_iter_[0] + 1))
    assert_array_equal(line.get_ydata(), model.loss_curve_)
    assert display.ax_.get_xlabel() == ("epoch" if solver == "sgd" else "iteration")
    assert display.figure_ is display.ax_.figure
    assert display.grad_norm == model.grad_norm_
    assert f"{model.grad_norm_:.1e}" in line.get_label()


@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky", "lbfgs", "gd"])
def test_convergence_display_draws_gradient_curve(solver, wine):
    X, y = wine
    model = SoftmaxRegression(solver=solver, tol=1e-6).fit(X, y)
    display = ConvergenceDisplay.from_estimator(model, curve="gradient")
    (line,) = display.lines_
    assert display.gradient_ax_ is display.ax_
    assert_array_equal(line.get_xdata(), np.arange(1, model.n_iter_[0] + 1))
    assert_array_equal(line.get_ydata(), model.grad_norm_curve_)
    assert display.ax_.get_yscale() == "log"
    assert "gradient" in display.ax_.get_ylabel()
    assert f"{model.grad_norm_:.1e}" in line.get_label()


def test_convergence_display_draws_both_curves_on_twin_axes(wine):
    X, y = wine
    model = SoftmaxRegression(solver="lbfgs", tol=1e-6).fit(X, y)
    _, ax = plt.subplots()
    display = ConvergenceDisplay.from_estimator(model, curve="both", ax=ax)
    objective, gradient = display.lines_
    assert display.ax_ is ax and display.gradient_ax_ is not ax
    assert objective.axes is ax and gradient.axes is display.gradient_ax_
    assert display.gradient_ax_.get_shared_x_axes().joined(ax, display.gradient_ax_)
    assert_array_equal(objective.get_ydata(), model.loss_curve_)
    assert_array_equal(gradient.get_ydata(), model.grad_norm_curve_)
    assert ax.get_yscale() == "linear"
    assert display.gradient_ax_.get_yscale() == "log"
    # One legend, on ax, names both lines.
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [objective.get_label(), gradient.get_label()]


def test_convergence_display_objective_curve_is_the_default(wine):
    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    display = ConvergenceDisplay.from_estimator(model)
    assert display.gradient_ax_ is None
    assert len(display.lines_) == 1
    assert_array_equal(display.lines_[0].get_ydata(), model.loss_curve_)


def test_convergence_display_gradient_of_partial_fit(wine):
    X, y = wine
    model = SoftmaxRegression(random_state=0)
    for rows in np.array_split(np.arange(len(y)), 4):
        model.partial_fit(X[rows], y[rows], classes=np.unique(y))
    display = ConvergenceDisplay.from_estimator(model, curve="gradient")
    assert_array_equal(display.lines_[0].get_ydata(), model.grad_norm_curve_)


@pytest.mark.parametrize("curve", ["gradient", "both"])
def test_convergence_display_refuses_a_gradient_curve_of_nan(curve, wine):
    X, y = wine
    model = SoftmaxRegression(solver="sgd", random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="no positive value to draw"):
        ConvergenceDisplay.from_estimator(model, curve=curve)
    # Nothing was drawn.
    assert not plt.get_fignums()


def test_convergence_display_refuses_an_unknown_curve(wine):
    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="curve must be one of 'objective', "):
        ConvergenceDisplay.from_estimator(model, curve="loss")


def test_convergence_display_needs_the_gradient_curve_to_draw_it():
    display = ConvergenceDisplay(
        objective=np.array([1.0, 0.5]), grad_norm=0.1, solver="lbfgs"
    )
    with pytest.raises(ValueError, match="no grad_norm_curve to draw"):
        display.plot(curve="gradient")


def test_convergence_display_gap_to_optimum_on_given_axes(wine):
    X, y = wine
    model = SoftmaxRegression(solver="lbfgs", tol=1e-8).fit(X, y)
    optimum = model.loss_curve_[-1]
    _, ax = plt.subplots()
    display = ConvergenceDisplay.from_estimator(model, optimum=optimum, ax=ax)
    assert display.ax_ is ax
    assert ax.get_yscale() == "log"
    gap = model.loss_curve_ - optimum
    drawn = display.lines_[0].get_ydata()
    # The last gap is zero: it cannot be drawn on a logarithmic axis.
    assert np.isnan(drawn[-1])
    assert_array_equal(drawn[gap > 0], gap[gap > 0])


def test_convergence_display_refuses_an_optimum_that_leaves_no_gap(wine):
    """An optimum above every objective value, or not a number, left an
    empty curve without a word."""
    X, y = wine
    model = SoftmaxRegression(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="no positive gap to draw"):
        ConvergenceDisplay.from_estimator(model, optimum=model.loss_curve_.max() + 1)
    with pytest.raises(ValueError, match="optimum must be a finite number"):
        ConvergenceDisplay.from_estimator(model, optimum=np.nan)


def test_convergence_display_of_partial_fit(wine):
    X, y = wine
    model = SoftmaxRegression(random_state=0)
    for rows in np.array_split(np.arange(len(y)), 4):
        model.partial_fit(X[rows], y[rows], classes=np.unique(y))
    display = ConvergenceDisplay.from_estimator(model)
    assert_array_equal(display.lines_[0].get_ydata(), model.loss_curve_)
    assert display.ax_.get_xlabel() == "partial_fit call"


def test_convergence_displays_share_axes(wine):
    X, y = wine
    _, ax = plt.subplots()
    for solver in ("newton-cg", "gd"):
        model = SoftmaxRegression(solver=solver).fit(X, y)
        ConvergenceDisplay.from_estimator(model, ax=ax)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert [label.split(",")[0] for label in labels] == ["newton-cg", "gd"]


def test_regularization_path_display_draws_mean_path_and_scores(cv_model, wine):
    X, _ = wine
    display = RegularizationPathDisplay.from_estimator(cv_model)
    finite = np.isfinite(cv_model.Cs_)
    n_features = X.shape[1]
    assert display.lines_.shape == (cv_model.classes_.size, n_features)
    mean_path = cv_model.coefs_paths_[:, 0, :, :, :n_features].mean(axis=0)
    for k in range(cv_model.classes_.size):
        for j in range(n_features):
            line = display.lines_[k, j]
            assert_array_equal(line.get_xdata(), cv_model.Cs_[finite])
            assert_allclose(line.get_ydata(), mean_path[finite, k, j], rtol=1e-12)
    scores = cv_model.scores_[:, 0, finite]
    assert_allclose(display.score_line_.get_ydata(), scores.mean(axis=0))
    # The band spans the mean plus and minus one standard deviation.
    band = display.spread_.get_paths()[0].vertices[:, 1]
    assert_allclose(band.min(), (scores.mean(axis=0) - scores.std(axis=0)).min())
    assert_allclose(band.max(), (scores.mean(axis=0) + scores.std(axis=0)).max())
    assert display.ax_.get_xscale() == "log"
    assert display.score_ax_.get_shared_x_axes().joined(display.ax_, display.score_ax_)
    assert "neg_log_loss" in display.score_ax_.get_ylabel()


def test_regularization_path_display_with_two_classes_and_an_l1_ratio():
    X, y = load_iris(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[y > 0]), y[y > 0]
    model = SoftmaxRegressionCV(Cs=3, cv=3, l1_ratios=[0.0, 1.0], max_iter=1000)
    model.fit(X, y)
    _, ax = plt.subplots()
    display = RegularizationPathDisplay.from_estimator(model, l1_ratio=1.0, ax=ax)
    assert display.ax_ is ax
    assert display.lines_.shape == (1, X.shape[1])
    path = model.coefs_paths_[:, 1, :, 0, :4].mean(axis=0)
    assert_allclose(display.lines_[0, 2].get_ydata(), path[:, 2], rtol=1e-12)
    with pytest.raises(ValueError, match=r"l1_ratio=0\.5 is not among"):
        RegularizationPathDisplay.from_estimator(model, l1_ratio=0.5)


def test_regularization_path_display_draws_c_in_increasing_order(wine):
    """A grid searched in any order is drawn in increasing C, each line
    with its own values; a grid without a finite C is refused."""
    X, y = wine
    Cs = [100.0, 0.01, np.inf, 10.0, 0.1]
    # The wine classes are separable: the fits without a penalty say so.
    with pytest.warns(SeparationWarning):
        model = SoftmaxRegressionCV(Cs=Cs, cv=3, max_iter=1000).fit(X, y)
    display = RegularizationPathDisplay.from_estimator(model)
    order = [1, 4, 3, 0]
    assert_array_equal(display.lines_[0, 0].get_xdata(), np.asarray(Cs)[order])
    path = model.coefs_paths_[:, 0, :, 0, 0].mean(axis=0)
    assert_allclose(display.lines_[0, 0].get_ydata(), path[order], rtol=1e-12)
    mean = model.scores_[:, 0, order].mean(axis=0)
    assert_allclose(display.score_line_.get_ydata(), mean, rtol=1e-12)
    with pytest.warns(SeparationWarning):
        unpenalised = SoftmaxRegressionCV(Cs=[np.inf], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="no finite value to draw"):
        RegularizationPathDisplay.from_estimator(unpenalised)


def test_displays_need_a_fitted_estimator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ConvergenceDisplay.from_estimator(SoftmaxRegression())
    with pytest.raises(NotFittedError):
        RegularizationPathDisplay.from_estimator(SoftmaxRegressionCV())


@pytest.mark.parametrize("curve", ["objective", "gradient", "both"])
def test_a_fit_of_no_iteration_has_no_curve_to_draw(wine, curve):
    X, y = wine
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxRegression(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="empty: the fit ran no iteration"):
        ConvergenceDisplay.from_estimator(model, curve=curve)


def test_convergence_display_checks_its_optimum(wine):
    """An optimum that is not a number is refused with a TypeError that
    names it; one given with the gradient's curve alone, which does not use
    it, is warned of."""
    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    for optimum in ("a", True, [0.1]):
        with pytest.raises(TypeError, match="optimum must be a real number"):
            ConvergenceDisplay.from_estimator(model, optimum=optimum)
    with pytest.warns(UserWarning, match="optimum=0.1 is not used"):
        ConvergenceDisplay.from_estimator(model, curve="gradient", optimum=0.1)


def test_displays_name_the_estimator_they_take(wine, cv_model):
    """A fitted estimator of another kind is not an unfitted one: the
    error names the kind the display takes."""
    from sklearn.linear_model import LogisticRegression

    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    for other in (cv_model, LogisticRegression(max_iter=1000).fit(X, y)):
        with pytest.raises(TypeError, match="takes a fitted SoftmaxRegression; got"):
            ConvergenceDisplay.from_estimator(other)
    with pytest.raises(TypeError, match="takes a fitted SoftmaxRegressionCV; got"):
        RegularizationPathDisplay.from_estimator(model)


def test_missing_matplotlib_names_the_plot_extra(monkeypatch, wine, cv_model):
    X, y = wine
    model = SoftmaxRegression().fit(X, y)
    # A None entry in sys.modules makes the import fail, as if matplotlib
    # were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-softmax\[plot\]"):
        ConvergenceDisplay.from_estimator(model)
    with pytest.raises(ImportError, match=r"RegularizationPathDisplay.*'plot' extra"):
        RegularizationPathDisplay.from_estimator(cv_model)

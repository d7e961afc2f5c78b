"""What ``verbose`` prints: a title, a header naming the columns, and one
row per iteration of fit (per call of partial_fit), each column of a fixed
width and every line at most 80 characters."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression, SoftmaxRegressionCV

SOLVERS = ["newton-cg", "newton-cholesky", "lbfgs", "gd", "sgd", "adam"]
NEWTON = ("newton-cg", "newton-cholesky")
STOCHASTIC = ("sgd", "adam")
# The numbers are printed with seven significant digits ('%.6e'): each is
# within half a unit of the seventh digit, 5e-7 of its value.
PRINTED = 1e-6


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _table(out):
    """The title, the header's column names, the rows as lists of cells,
    and all the lines."""
    lines = out.splitlines()
    title, header, *rows = lines
    return title, header, rows, lines


def _right_edges(line):
    """Where each whitespace-separated cell of ``line`` ends."""
    return [match.end() for match in re.finditer(r"\S+", line)]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_prints_a_header_and_one_row_per_iteration(solver, wine, capsys):
    X, y = wine
    model = SoftmaxRegression(solver=solver, verbose=1, random_state=0).fit(X, y)
    title, header, rows, _ = _table(capsys.readouterr().out)
    assert f"solver={solver!r}" in title
    counter = "epoch" if solver in STOCHASTIC else "iter"
    step_size = ["t"] if solver in NEWTON else []
    assert header.split() == [
        counter,
        "objective",
        "max|grad|",
        "|step|",
        *step_size,
        "seconds",
    ]
    assert len(rows) == model.n_iter_[0]
    cells = np.array([row.split() for row in rows], dtype=float)
    assert_array_equal(cells[:, 0], np.arange(1, len(rows) + 1))
    assert_allclose(cells[:, 1], model.loss_curve_, rtol=PRINTED)
    assert np.all(cells[:, 2:] >= 0)
    assert np.all(np.diff(cells[:, -1]) >= 0)
    if solver not in STOCHASTIC:
        # The last row is the solution's gradient, which the stopping rule
        # compared with tol.
        assert_allclose(cells[-1, 2], model.grad_norm_, rtol=PRINTED)
    if solver in NEWTON:
        # The line search starts at the full step and only shortens it.
        assert np.all((cells[:, 4] > 0) & (cells[:, 4] <= 1))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_rows_align_under_the_header_within_80_columns(solver, wine, capsys):
    X, y = wine
    # Features far from unit scale: the objective starts near 1 and falls
    # by orders of magnitude, the numbers whose widths used to differ.
    X = X * 10.0
    params = {"solver": solver, "verbose": 1, "random_state": 0, "max_iter": 30}
    SoftmaxRegression(C=1e4, **params).fit(X, y)
    _, header, rows, lines = _table(capsys.readouterr().out)
    assert rows
    edges = _right_edges(header)
    for row in rows:
        assert _right_edges(row) == edges, row
    assert max(len(line) for line in lines) <= 80


def test_no_output_without_verbose(wine, capsys):
    X, y = wine
    SoftmaxRegression().fit(X, y)
    model = SoftmaxRegression()
    model.partial_fit(X, y, classes=np.unique(y))
    model.partial_fit(X, y)
    assert capsys.readouterr().out == ""


def test_cv_prints_a_table_per_fit(wine, capsys):
    X, y = wine
    model = SoftmaxRegressionCV(Cs=2, cv=3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    # One table per fold and C, and one for the refit.
    assert out.count("max|grad|") == 3 * 2 + 1
    n_rows = sum(1 for line in out.splitlines() if re.match(r" +\d+ ", line))
    assert n_rows >= model.n_iter_.sum()
    assert max(len(line) for line in out.splitlines()) <= 80


def test_partial_fit_prints_one_row_per_call(wine, capsys):
    X, y = wine
    classes = np.unique(y)
    model = SoftmaxRegression(verbose=1, random_state=0)
    chunks = np.array_split(np.random.default_rng(0).permutation(len(y)), 3)
    grad_norms = []
    for rows in chunks:
        model.partial_fit(X[rows], y[rows], classes=classes)
        grad_norms.append(model.grad_norm_)
    title, header, rows, lines = _table(capsys.readouterr().out)
    # 'auto', the default, stands for 'sgd' in partial_fit.
    assert "partial_fit" in title and "solver='sgd'" in title
    assert model.solver_ == "sgd"
    assert header.split() == ["call", "samples", "objective", "max|grad|", "seconds"]
    cells = np.array([row.split() for row in rows], dtype=float)
    assert_array_equal(cells[:, 0], [1, 2, 3])
    assert_array_equal(cells[:, 1], np.cumsum([len(rows) for rows in chunks]))
    assert_allclose(cells[:, 2], model.loss_curve_, rtol=PRINTED)
    assert_allclose(cells[:, 3], grad_norms, rtol=PRINTED)
    edges = _right_edges(header)
    assert all(_right_edges(row) == edges for row in rows)
    assert max(len(line) for line in lines) <= 80


def test_partial_fit_reports_a_chunk_of_no_weight_without_objective(wine, capsys):
    X, y = wine
    model = SoftmaxRegression(verbose=1, random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    model.partial_fit(X[:5], y[:5], sample_weight=np.zeros(5))
    _, header, rows, _ = _table(capsys.readouterr().out)
    last = rows[-1].split()
    assert last[:3] == ["2", str(len(y) + 5), "-"]
    assert _right_edges(rows[-1]) == _right_edges(header)


def test_partial_fit_header_once_when_verbose_is_turned_on(wine, capsys):
    X, y = wine
    model = SoftmaxRegression(random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    model.set_params(verbose=1)
    model.partial_fit(X, y)
    model.partial_fit(X, y)
    _, _, rows, _ = _table(capsys.readouterr().out)
    assert [row.split()[0] for row in rows] == ["2", "3"]

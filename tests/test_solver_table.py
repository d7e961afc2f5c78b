"""The solvers page's tables against the estimator: the solvers it lists are
those ``solver`` accepts, each cell says what a fit does, and the choices it
gives for 'auto' are the ones a fit makes."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from _namespaces import dispatch_available
from sklearn import config_context
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sklearn_softmax import SoftmaxRegression

SOLVERS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "solvers.rst"
X_IRIS, Y_IRIS = load_iris(return_X_y=True)

# The settings that choose each penalty of the table's columns.
PENALTIES = {
    "L2 or none": [{"C": 1.0}, {"C": np.inf}],
    "L1": [{"l1_ratio": 1.0}],
    "elastic net": [{"l1_ratio": 0.5}],
    "group": [{"l1_ratio": 1.0, "l1_groups": "features"}],
}


def simple_tables(section):
    """The reStructuredText simple tables of ``section``, each a list of rows
    of cell strings, the header first. A row whose first cell is blank
    continues the row above it."""
    lines = SOLVERS_PAGE.read_text(encoding="utf-8").splitlines()
    start = lines.index(section) + 2
    end = next(
        (i - 1 for i in range(start + 1, len(lines)) if re.fullmatch(r"-+", lines[i])),
        len(lines),
    )
    tables, border_lines = [], []
    for i in range(start, end):
        if re.fullmatch(r"=+( +=+)+", lines[i]):
            border_lines.append(i)
        if len(border_lines) == 3:
            tables.append(_parse_table(lines, *border_lines))
            border_lines = []
    return tables


def _parse_table(lines, top, middle, bottom):
    spans = [match.span() for match in re.finditer(r"=+", lines[top])]

    def cells(line):
        # The last column runs to the end of the line.
        bounds = [*spans[:-1], (spans[-1][0], len(line))]
        return [line[a:b].strip() for a, b in bounds]

    rows = [cells(lines[top + 1])]
    for line in lines[middle + 1 : bottom]:
        row = cells(line)
        if row[0]:
            rows.append(row)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], row, strict=True)]
    return rows


def compatibility_table():
    tables = [t for t in simple_tables("Choosing a solver") if "partial_fit" in t[0]]
    assert len(tables) == 1, "the table of what each solver accepts is missing"
    header, *rows = tables[0]
    return header, {
        row[0].strip("`'"): dict(zip(header, row, strict=True)) for row in rows
    }


def outcome(model, *data):
    """'yes' when ``model.fit(*data)`` runs, 'no' when it refuses with a
    ValueError that names the solver (any other ValueError fails)."""
    try:
        # A few iterations show whether a fit runs, not where it ends.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(*data)
    except ValueError as error:
        assert f"solver={model.solver!r}" in str(error), error
        return "no"
    return "yes"


def test_table_lists_every_solver_the_estimator_accepts():
    header, rows = compatibility_table()
    constraint = SoftmaxRegression._parameter_constraints["solver"][0]
    assert set(rows) == set(constraint.options)
    assert header == [
        "solver",
        *PENALTIES,
        "Array API",
        "Dask",
        "partial_fit",
    ]


@pytest.mark.parametrize("solver", list(compatibility_table()[1]))
@pytest.mark.parametrize("penalty", list(PENALTIES))
def test_penalty_cells_say_what_a_fit_does(solver, penalty):
    claimed = compatibility_table()[1][solver][penalty]
    for params in PENALTIES[penalty]:
        model = SoftmaxRegression(solver=solver, max_iter=5, **params)
        assert outcome(model, X_IRIS, Y_IRIS) == claimed, params


@pytest.mark.parametrize("solver", list(compatibility_table()[1]))
def test_array_api_cells_say_what_a_fit_does(solver):
    import array_api_strict as xp

    if not dispatch_available():
        pytest.skip("scikit-learn cannot turn on array API dispatch here")
    claimed = compatibility_table()[1][solver]["Array API"]
    model = SoftmaxRegression(solver=solver, max_iter=5)
    X, y = xp.asarray(X_IRIS), xp.asarray(Y_IRIS)
    with config_context(array_api_dispatch=True):
        assert outcome(model, X, y) == claimed


@pytest.mark.parametrize("solver", list(compatibility_table()[1]))
def test_dask_cells_say_what_a_fit_does(solver):
    import dask.array as da

    claimed = compatibility_table()[1][solver]["Dask"]
    model = SoftmaxRegression(solver=solver, max_iter=5)
    X, y = da.from_array(X_IRIS, chunks=50), da.from_array(Y_IRIS, chunks=50)
    assert outcome(model, X, y) == claimed


@pytest.mark.parametrize("solver", list(compatibility_table()[1]))
def test_partial_fit_cells_say_what_a_fit_does(solver):
    claimed = compatibility_table()[1][solver]["partial_fit"]
    model = SoftmaxRegression(solver=solver)
    # partial_fit is hidden, by available_if, where it would refuse.
    assert ("yes" if hasattr(model, "partial_fit") else "no") == claimed
    if claimed == "yes":
        model.partial_fit(X_IRIS, Y_IRIS, classes=np.unique(Y_IRIS))


def _wide(n_features, dtype=np.float64, two_classes=False):
    """n_features columns, the iris features and noise, 150 rows, K = 3 (or
    K = 2: the third class against the others)."""
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((X_IRIS.shape[0], n_features - X_IRIS.shape[1]))
    y = (Y_IRIS == 2).astype(int) if two_classes else Y_IRIS
    return np.hstack([X_IRIS, noise]).astype(dtype), y


def _tall_group_problem():
    """7000 x 100 with K = 3: 2.1 million multiply-adds per product."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7000, 100))
    y = np.argmax(X[:, :3] + rng.standard_normal((7000, 3)), axis=1)
    return X, y


def _tall_two_classes(n_samples, n_features):
    """Standard normal features, two classes drawn from a logistic model."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n_samples, n_features))
    y = (X[:, 0] + rng.logistic(size=n_samples) > 0).astype(int)
    return X, y


# At most 21 binomial parameters, or 15 million multiply-adds an exact step.
TWO_CLASSES_ROW = "L2 or none, float64 data, two classes, small exact steps (see below)"

# Each row of the table of 'auto''s choices, as a fit: its settings, its data
# and whether it runs through partial_fit.
AUTO_CASES = {
    "L2 or none, float64 data, three classes or more, at most 100 parameters": [
        ({}, (X_IRIS, Y_IRIS)),  # (4 + 1) * 3 = 15 parameters
        ({"C": np.inf}, _wide(32)),  # (32 + 1) * 3 = 99
    ],
    TWO_CLASSES_ROW: [
        # Solved in the difference of the classes' parameters, a Hessian of
        # r = d + 1 rows, whose exact step costs n r (r + 1) / 2 to form and
        # r^3 / 3 to factorise.
        ({}, _wide(75, two_classes=True)),  # 0.6 million
        ({}, _wide(290, two_classes=True)),  # 6.37 + 8.21 = 14.6 million
        ({}, _tall_two_classes(20_000, 30)),  # 9.9 million
        ({"fit_intercept": False}, _tall_two_classes(70_000, 21)),  # 21 rows
    ],
    "L2 or none, float32 data, or beyond the bounds above": [
        ({}, (X_IRIS.astype(np.float32), Y_IRIS)),
        ({}, _wide(33)),  # (33 + 1) * 3 = 102
        ({"fit_intercept": False}, _wide(34)),  # 34 * 3 = 102
        ({}, _wide(300, two_classes=True)),  # 6.80 + 9.09 = 15.9 million
        ({}, _tall_two_classes(20_000, 39)),  # 16.4 million
        ({}, _tall_two_classes(70_000, 21)),  # 22 rows, 17.7 million
        ({}, _wide(10, np.float32, two_classes=True)),
    ],
    "L1 or elastic net": [
        ({"l1_ratio": 1.0}, (X_IRIS, Y_IRIS)),
        ({"l1_ratio": 0.5}, _wide(100)),
    ],
    "group, under two million multiply-adds per product": [
        ({"l1_ratio": 1.0, "l1_groups": "features"}, (X_IRIS, Y_IRIS)),
    ],
    "group, from two million multiply-adds per product": [
        ({"l1_ratio": 1.0, "l1_groups": "features"}, _tall_group_problem()),
    ],
    "any penalty, in partial_fit": [
        ({}, (X_IRIS, Y_IRIS)),
        ({"l1_ratio": 1.0, "l1_groups": "features"}, (X_IRIS, Y_IRIS)),
    ],
}


def auto_table():
    tables = [
        t for t in simple_tables("Choosing a solver") if "``'auto'`` picks" in t[0]
    ]
    assert len(tables) == 1, "the table of what 'auto' picks is missing"
    return {row[0]: row[1].strip("`'") for row in tables[0][1:]}


def test_auto_table_rows_have_cases():
    assert set(auto_table()) == set(AUTO_CASES)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("row", list(AUTO_CASES))
def test_auto_picks_what_the_table_says(row):
    claimed = auto_table()[row]
    for params, (X, y) in AUTO_CASES[row]:
        # Two iterations show the choice; the fit need not converge.
        model = SoftmaxRegression(max_iter=2, **params)
        if row.endswith("partial_fit"):
            model.partial_fit(X, y, classes=np.unique(y))
        else:
            model.fit(X, y)
        assert model.solver_ == claimed, (row, params)
        assert model.solver == "auto"

"""The demo behind ``python -m sklearn_softmax``."""

import contextlib
import io
import subprocess
import sys
import warnings

import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklearn_softmax.__main__ import C_GRID, N_FOLDS, TOL, format_table, main


@pytest.fixture(scope="module")
def demo():
    """Run the demo once: its results, printed output and warnings."""
    stdout = io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(stdout),
    ):
        warnings.simplefilter("always")
        # An empty argv: main(None) would parse pytest's own arguments.
        results = main([])
    return {
        "results": {row["estimator"]: row for row in results},
        "output": stdout.getvalue(),
        "warnings": caught,
    }


def test_demo_compares_both_estimators(demo):
    assert list(demo["results"]) == ["SoftmaxRegression", "LogisticRegression"]


def test_demo_models_classify_digits_well(demo):
    for row in demo["results"].values():
        assert row["test_accuracy"] > 0.9, row


def test_demo_models_agree(demo):
    # With ten classes both estimators fit the same model for each C, so the
    # grid search picks the same C; what is left is the solvers' tolerance.
    softmax = demo["results"]["SoftmaxRegression"]
    logistic = demo["results"]["LogisticRegression"]
    assert softmax["best_C"] == logistic["best_C"]
    assert softmax["test_accuracy"] == pytest.approx(logistic["test_accuracy"])
    assert_allclose(softmax["test_log_loss"], logistic["test_log_loss"], rtol=1e-3)


def test_demo_fits_converge(demo):
    messages = [
        str(w.message)
        for w in demo["warnings"]
        if issubclass(w.category, ConvergenceWarning)
    ]
    assert messages == []


def test_demo_prints_the_table(demo):
    table = format_table(demo["results"].values())
    assert "\n".join(table) in demo["output"]
    for name, row in demo["results"].items():
        (line,) = [line for line in table if line.startswith(name)]
        assert f"{row['test_accuracy']:.4f}" in line


def test_demo_output_fits_80_columns(demo):
    lines = demo["output"].splitlines()
    assert len(lines) > 5
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []


def test_demo_states_its_settings(demo):
    # The wrapped description still says what was compared, as one text.
    text = " ".join(demo["output"].split())
    grid = [float(C) for C in C_GRID]
    assert f"C in {grid} chosen by {N_FOLDS}-fold GridSearchCV" in text
    assert f"tol={TOL:g}" in text


def test_python_m_sklearn_softmax_runs():
    completed = subprocess.run(
        [sys.executable, "-m", "sklearn_softmax"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "SoftmaxRegression" in completed.stdout
    assert "LogisticRegression" in completed.stdout
    assert "Warning" not in completed.stderr

"""Demo behind ``python -m sklearn_softmax``.

Tunes ``C`` for :class:`~sklearn_softmax.SoftmaxRegression` and for scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` by the same grid search on the
digits data set, then scores the chosen models on held-out samples. With ten
classes both estimators fit the same model for a given ``C``, so they should pick
the same ``C`` and score alike; the table shows whether they do, and how long
each grid search took.
"""

import argparse
import platform
import textwrap
import time

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_softmax import SoftmaxRegression, __version__

C_GRID = [0.01, 0.1, 1.0, 10.0]
# Tight enough that both solvers stop at the same model, up to a sample or two
# near a decision boundary; at the default 1e-4 they stop at slightly
# different points.
TOL = 1e-6
MAX_ITER = 1000
N_FOLDS = 5
TEST_SIZE = 0.25
RANDOM_STATE = 0
# The width of a terminal that the printed lines fit in.
LINE_WIDTH = 80

# (header, key of the result, format of the value)
COLUMNS = [
    ("estimator", "estimator", "{}"),
    ("best C", "best_C", "{:g}"),
    ("test accuracy", "test_accuracy", "{:.4f}"),
    ("test log-loss", "test_log_loss", "{:.4f}"),
    ("search time (s)", "fit_time", "{:.2f}"),
]


def compare(X_train, X_test, y_train, y_test):
    """Grid-search ``C`` for both estimators and score each on the test set.

    Parameters
    ----------
    X_train, X_test : ndarray of shape (n_samples, n_features)
        Training and test samples.
    y_train, y_test : ndarray of shape (n_samples,)
        Their labels.

    Returns
    -------
    results : list of dict
        One dict per estimator, with keys ``estimator`` (the class name),
        ``best_C``, ``test_accuracy``, ``test_log_loss`` and ``fit_time``
        (seconds spent in ``GridSearchCV.fit``, refit included).
    """
    results = []
    settings = {"tol": TOL, "max_iter": MAX_ITER}
    for estimator in (SoftmaxRegression(**settings), LogisticRegression(**settings)):
        pipeline = make_pipeline(StandardScaler(), estimator)
        param = f"{pipeline.steps[-1][0]}__C"
        search = GridSearchCV(pipeline, {param: C_GRID}, cv=N_FOLDS)
        start = time.perf_counter()
        search.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        proba = search.predict_proba(X_test)
        results.append(
            {
                "estimator": type(estimator).__name__,
                "best_C": search.best_params_[param],
                "test_accuracy": accuracy_score(y_test, search.predict(X_test)),
                "test_log_loss": log_loss(y_test, proba, labels=search.classes_),
                "fit_time": fit_time,
            }
        )
    return results


def format_table(results):
    """The results as lines of a table with right-aligned numeric columns."""
    cells = [[header for header, _, _ in COLUMNS]]
    cells += [[fmt.format(row[key]) for _, key, fmt in COLUMNS] for row in results]
    widths = [max(len(line[j]) for line in cells) for j in range(len(COLUMNS))]
    rule = ["-" * width for width in widths]
    lines = []
    for line in [cells[0], rule, *cells[1:]]:
        first, *rest = line
        padded = [first.ljust(widths[0])]
        padded += [
            cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)
        ]
        lines.append("  ".join(padded))
    return lines


def main(argv=None):
    """Run the demo and print its table.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; ``None`` reads ``sys.argv``. The demo takes
        none besides ``--help``.

    Returns
    -------
    results : list of dict
        The rows of the printed table, as returned by :func:`compare`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_softmax",
        description="Grid-search C for SoftmaxRegression and LogisticRegression "
        "on the digits data set and compare them on held-out samples.",
    )
    parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=RANDOM_STATE
    )
    paragraphs = [
        f"sklearn-softmax {__version__} (scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()})",
        f"Digits: {X_train.shape[0]} training and {X_test.shape[0]} test samples "
        f"(stratified split), {X.shape[1]} features, {np.unique(y).size} classes.",
        "Compared: SoftmaxRegression and LogisticRegression after StandardScaler, "
        f"C in {[float(C) for C in C_GRID]} chosen by {N_FOLDS}-fold GridSearchCV "
        f"on accuracy, tol={TOL:g}, one BLAS thread.",
    ]
    for paragraph in paragraphs:
        print(textwrap.fill(paragraph, width=LINE_WIDTH, subsequent_indent="  "))
    print()
    # The products here (1347 x 64 by 64 x 10) are too small to gain from BLAS
    # threads: on a machine with few cores, starting and syncing the threads
    # costs more than the arithmetic (ten times more for these fits on two
    # cores), and the times would measure the scheduler rather than the fits.
    # Both estimators run under the same limit.
    with threadpool_limits(limits=1, user_api="blas"):
        results = compare(X_train, X_test, y_train, y_test)
    for line in format_table(results):
        print(line)
    return results


if __name__ == "__main__":
    main()

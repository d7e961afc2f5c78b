"""Time to a given accuracy: SoftmaxRegression against LogisticRegression on CPU.

For every problem the script

1. computes a reference optimum ``f*`` with tight tolerances (LogisticRegression
   'newton-cg' and SoftmaxRegression 'newton-cg' at ``tol=1e-10``); ``f*`` is the
   best objective of these and of every fit in the sweeps;
2. fits each solver over a geometric grid of tolerances, loosest first, and
   records, for each fit, the wall time and the relative objective gap
   ``(f - f*) / f*``, until a fit reaches a gap of ``1e-6``;
3. reports, per solver, the fastest fit whose gap is at most ``1e-6``, with its
   iterations and its peak traced memory;
4. for dense problems, times one evaluation of the objective and its gradient
   against the two products it needs, ``X @ W`` and ``X.T @ G``, each done
   separately by numpy, in the data's dtype and in the other float dtype;
5. fits ``SoftmaxRegression()`` and ``LogisticRegression()`` with their
   defaults (C as in the suite; the sweep's fit at the default tol where it
   is the same fit) and reports what their default tol leaves: the relative
   gap to ``f*`` and the largest coefficient error against the reference fit
   with the lowest objective.

Each problem's markdown table, CSV of runs and gap-vs-time plot, and a summary
with a bar chart of the time ratios, are written to ``results/``.

The objective is evaluated independently of both estimators, from the fitted
``coef_`` and ``intercept_``::

    f = log_loss(y, P) + ||coef_||_F^2 / (2 C n)
    P = softmax(X @ coef_.T + intercept_)

which is what LogisticRegression (multinomial, C=1) and SoftmaxRegression minimise
for three or more classes.

Run ``python benchmarks/bench_cpu.py --help`` for the options; the README next to
this file explains the output.
"""

import argparse
import contextlib
import csv
import functools
import math
import multiprocessing
import os
import platform
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
import threadpoolctl
from matplotlib.ticker import NullFormatter
from scipy import ndimage
from scipy.special import softmax
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

import sklearn_softmax
from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._heuristics import (
    choose_n_threads,
)
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._threads import blas_thread_limit, single_threaded_blas

C = 1.0
TARGET_GAP = 1e-6
TOLS = np.logspace(-2, -10, 9)
QUICK_TOLS = np.logspace(-2, -10, 5)
# newton-cholesky forms and factors the ((d + 1) K) x ((d + 1) K) Hessian, in
# memory quadratic and time cubic in its size; beyond this size it is skipped
# (at 20200, many_classes' size, the Hessian alone takes 3.3 GB).
MAX_NEWTON_CHOLESKY_SIZE = 10_000
# Fits shorter than REPEAT_BELOW seconds are timed REPEATS times; the best counts.
REPEATS = 5
REPEAT_BELOW = 1.0
# Timings of one evaluation: the best of this many. OpenBLAS's idle threads
# spin for a while after a multi-threaded call and slow the first few
# single-threaded ones down.
EVALUATION_REPEATS = 25
# ... in each of this many rounds of the evaluation and the two products,
# after a pause long enough for those idle threads to stop spinning.
EVALUATION_ROUNDS = 3
BLAS_SETTLE_SECONDS = 0.5
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------


def _labels_from_linear_model(X, n_classes, rng, signal=2.0):
    """Sample labels from a random softmax model, so the classes overlap.

    The true scores ``X @ W + b`` are rescaled to a standard deviation of
    ``signal``; the label of each row is drawn from ``softmax(scores)`` with the
    Gumbel-max trick (argmax of scores plus Gumbel noise).
    """
    n_features = X.shape[1]
    W = rng.standard_normal((n_features, n_classes))
    scores = np.asarray(X @ W, dtype=np.float64)
    scores *= signal / max(scores.std(), 1e-12)
    scores += 0.5 * rng.standard_normal(n_classes)
    scores += rng.gumbel(size=scores.shape)
    return scores.argmax(axis=1)


def _dense_gaussian(n_samples, n_features, n_classes, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=dtype)
    return X, _labels_from_linear_model(X, n_classes, rng)


def problem_digits(quick=False):
    """The 8x8 digits data set (1797 x 64, 10 classes), standardised.

    Its size does not change with ``quick``.
    """
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def problem_dense(quick=False):
    """Dense Gaussian features, 20000 x 200, 10 classes (1000 x 40 with quick)."""
    n, d = (1000, 40) if quick else (20_000, 200)
    return _dense_gaussian(n, d, 10, seed=1)


def problem_wide(quick=False):
    """More features than samples: 500 x 5000, 5 classes (25 x 1000 with quick)."""
    n, d = (25, 1000) if quick else (500, 5000)
    return _dense_gaussian(n, d, 5, seed=2)


def problem_many_classes(quick=False):
    """Dense Gaussian features, 20000 x 100, 200 classes (1000 x 20, 50 with quick)."""
    n, d, k = (1000, 20, 50) if quick else (20_000, 100, 200)
    return _dense_gaussian(n, d, k, seed=3)


def problem_sparse(quick=False):
    """Text-like CSR matrix, 100000 x 50000, 50 non-zeros a row, 20 classes.

    With quick: 2000 x 5000, 10 non-zeros a row. Column indices are drawn with a
    power-law skew (low indices are frequent, like common words); values are
    ``log(1 + count)`` with Poisson counts, and each row is scaled to unit L2
    norm, as a tf-idf pipeline would. Repeated columns in a row are summed. The
    matrix is assembled from its index arrays, so memory stays proportional to
    the number of non-zeros.
    """
    n, d, nnz_per_row = (2000, 5000, 10) if quick else (100_000, 50_000, 50)
    rng = np.random.default_rng(4)
    indices = (d * rng.random((n, nnz_per_row)) ** 3).astype(np.int32)
    indices.sort(axis=1)
    data = np.log1p(1.0 + rng.poisson(1.0, size=(n, nnz_per_row)))
    indptr = np.arange(0, n * nnz_per_row + 1, nnz_per_row, dtype=np.int64)
    X = sp.csr_matrix((data.ravel(), indices.ravel(), indptr), shape=(n, d))
    X.sum_duplicates()
    row_norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1.0 / row_norms) @ X)
    return X, _labels_from_linear_model(X, 20, rng)


def problem_dense_float32(quick=False):
    """Dense float32 Gaussian features, 200000 x 500, 20 classes.

    With quick: 5000 x 50. Both estimators keep float32 data in float32.
    """
    n, d = (5000, 50) if quick else (200_000, 500)
    return _dense_gaussian(n, d, 20, seed=5, dtype=np.float32)


def problem_images(quick=False):
    """Image-like data: 5000 x 784 (28 x 28 images), 10 classes (500 x 196,
    14 x 14, with quick).

    Pixel intensities in [0, 1]: each image is its class's template plus
    noise, both Gaussian fields smoothed over a few pixels, so that
    neighbouring pixels are strongly correlated, squashed by a logistic
    function; a border two pixels wide is zero in every image (208 constant
    columns at 28 x 28), as in scanned digits.
    """
    n, side = (500, 14) if quick else (5000, 28)
    rng = np.random.default_rng(6)
    templates = ndimage.gaussian_filter(
        rng.standard_normal((10, side, side)), sigma=(0, 3, 3)
    )
    templates /= templates.std()
    y = rng.integers(10, size=n)
    noise = ndimage.gaussian_filter(
        rng.standard_normal((n, side, side)), sigma=(0, 1.5, 1.5)
    )
    noise /= noise.std()
    images = 1.0 / (1.0 + np.exp(-3.0 * (0.6 * templates[y] + noise)))
    images[:, :2, :] = images[:, -2:, :] = 0.0
    images[:, :, :2] = images[:, :, -2:] = 0.0
    return images.reshape(n, -1), y


def problem_unscaled(quick=False):
    """The wine data set on its raw scales (178 x 13, 3 classes; features
    from about 0.1 to 1680), as many users call fit. Its size does not
    change with ``quick``."""
    return load_wine(return_X_y=True)


def problem_binary(quick=False):
    """Two classes: the breast cancer data set on its raw scales (569 x 30;
    features from about 1e-3 to 4e3), against LogisticRegression with twice
    the C, the same model. Its size does not change with ``quick``."""
    return load_breast_cancer(return_X_y=True)


def problem_imbalanced(quick=False):
    """Dense Gaussian features, 50000 x 50, 5 classes, one of them 1% of the
    samples (2000 x 20 with quick)."""
    n, d = (2000, 20) if quick else (50_000, 50)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, 5))
    scores = X @ W
    scores *= 2.0 / scores.std()
    scores += rng.gumbel(size=scores.shape)
    # Class 0 wins where its score beats the others' by more than the shift:
    # the 99th percentile of that margin leaves it 1% of the samples.
    margin = scores[:, 0] - scores[:, 1:].max(axis=1)
    scores[:, 0] -= np.quantile(margin, 0.99)
    return X, scores.argmax(axis=1)


def problem_tall(quick=False):
    """Tall and skinny: dense Gaussian features, 1000000 x 20, 5 classes
    (50000 x 20 with quick)."""
    n = 50_000 if quick else 1_000_000
    return _dense_gaussian(n, 20, 5, seed=8)


def problem_text(quick=False):
    """Text-like CSR data with power-law column frequencies: 50000 x 50000,
    30 tokens a row drawn from a Zipf law (exponent 1.1), so that a few
    columns appear in most rows and most columns in a handful, 10 classes
    (2000 x 5000, 10 tokens a row, with quick). Values are token counts,
    each row scaled to unit L2 norm."""
    n, d, tokens = (2000, 5000, 10) if quick else (50_000, 50_000, 30)
    rng = np.random.default_rng(9)
    ranks = np.arange(1, d + 1)
    frequencies = ranks**-1.1
    columns = rng.choice(d, size=(n, tokens), p=frequencies / frequencies.sum())
    rows = np.repeat(np.arange(n), tokens)
    X = sp.csr_matrix((np.ones(n * tokens), (rows, columns.ravel())), shape=(n, d))
    X.sum_duplicates()
    row_norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1.0 / row_norms) @ X)
    return X, _labels_from_linear_model(X, 10, rng)


# The suite: the first six problems were tuned for; the others were added
# as problems users bring, and not tuned for.
PROBLEMS = {
    "digits": problem_digits,
    "dense": problem_dense,
    "wide": problem_wide,
    "many_classes": problem_many_classes,
    "sparse": problem_sparse,
    "dense_float32": problem_dense_float32,
    "images": problem_images,
    "unscaled": problem_unscaled,
    "binary": problem_binary,
    "imbalanced": problem_imbalanced,
    "tall": problem_tall,
    "text": problem_text,
}


# ---------------------------------------------------------------------------
# Solvers
# ---------------------------------------------------------------------------


@dataclass
class Solver:
    """One estimator configuration whose ``tol`` is swept."""

    name: str
    make: object  # callable(tol) -> unfitted estimator
    is_reference_side: bool  # True for LogisticRegression
    # callable() -> the estimator with its package's defaults (C as in the
    # suite), for the configurations that are such a default with a larger
    # max_iter; None for the others.
    default: object = None
    runs: list = field(default_factory=list)
    skipped: str = ""


def _softmax_regression(C, solver, max_iter, **params):
    return lambda tol: SoftmaxRegression(
        C=C, solver=solver, tol=tol, max_iter=max_iter, **params
    )


def _logistic_regression(C, solver, max_iter, n_classes):
    # sag and saga draw samples at random: a fixed seed makes a run repeatable.
    return lambda tol: LogisticRegression(
        C=logistic_regression_C(n_classes, C),
        solver=solver,
        tol=tol,
        max_iter=max_iter,
        random_state=0,
    )


def logistic_regression_C(n_classes, C):
    """LogisticRegression's C for SoftmaxRegression's: twice it for two
    classes, where it fits one weight vector, the difference of the
    softmax's two."""
    return 2 * C if n_classes == 2 else C


def make_solvers(X, n_classes, C=C):
    """All configurations for one problem, SoftmaxRegression's ``C`` as
    given; newton-cholesky is skipped when large."""
    ours = functools.partial(_softmax_regression, C)
    theirs = functools.partial(_logistic_regression, C)
    solvers = [
        Solver(
            "SoftmaxRegression (default)",
            ours("auto", 1000),
            False,
            default=lambda: SoftmaxRegression(C=C),
        ),
        Solver("SoftmaxRegression newton-cg", ours("newton-cg", 1000), False),
        Solver(
            "SoftmaxRegression newton-cg full",
            ours("newton-cg", 1000, precision="full"),
            False,
        ),
        Solver("SoftmaxRegression lbfgs", ours("lbfgs", 10_000), False),
        Solver("SoftmaxRegression gd", ours("gd", 10_000), False),
        # The stochastic solvers count max_iter in epochs, as sag and saga do.
        Solver("SoftmaxRegression sgd", ours("sgd", 1000, random_state=0), False),
        Solver("SoftmaxRegression adam", ours("adam", 1000, random_state=0), False),
        Solver(
            "LogisticRegression lbfgs",
            theirs("lbfgs", 10_000, n_classes),
            True,
            default=lambda: LogisticRegression(C=logistic_regression_C(n_classes, C)),
        ),
        Solver(
            "LogisticRegression newton-cg", theirs("newton-cg", 1000, n_classes), True
        ),
        Solver(
            "LogisticRegression newton-cholesky",
            theirs("newton-cholesky", 1000, n_classes),
            True,
        ),
        Solver("LogisticRegression sag", theirs("sag", 1000, n_classes), True),
        Solver("LogisticRegression saga", theirs("saga", 1000, n_classes), True),
    ]
    size = (X.shape[1] + 1) * n_classes
    for solver in solvers:
        if solver.name.endswith("newton-cholesky") and size > MAX_NEWTON_CHOLESKY_SIZE:
            solver.skipped = f"skipped: (d+1)*K = {size} > {MAX_NEWTON_CHOLESKY_SIZE}"
    return solvers


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------


def objective(model, X, y):
    """Penalised mean log-loss, computed in float64 from coef_ and intercept_.

    The probabilities are recomputed in float64 rather than read from
    ``predict_proba``, which returns float32 for float32 data and would limit the
    resolution of the gap to about 1e-7.
    """
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    Z = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if Z.shape[1] == 1:
        # Two classes: the log-odds z of the second, scores (-z/2, z/2).
        Z = np.hstack([-Z / 2, Z / 2])
    P = softmax(Z, axis=1)
    # One row of coefficients: two classes, LogisticRegression's objective,
    # whose C is twice SoftmaxRegression's.
    n_classes = 2 if coef.shape[0] == 1 else coef.shape[0]
    C_logistic = (
        model.C
        if isinstance(model, LogisticRegression)
        else logistic_regression_C(n_classes, model.C)
    )
    penalty = np.sum(coef**2) / (2 * C_logistic * X.shape[0])
    return log_loss(y, P, labels=model.classes_) + penalty


def thread_limits(threads):
    if threads is None:
        return contextlib.nullcontext()
    return threadpoolctl.threadpool_limits(limits=threads)


@contextlib.contextmanager
def fit_settings(threads):
    """The thread limit, and ConvergenceWarnings silenced, around one fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with thread_limits(threads):
            yield


def timed_fit(estimator, X, y, threads):
    """Fit; return the wall time and whether max_iter stopped the solver.

    A fit shorter than ``REPEAT_BELOW`` seconds is repeated, up to ``REPEATS``
    times in all, and the shortest time is kept: short fits are noisy.
    """
    times = []
    with fit_settings(threads):
        while len(times) < REPEATS:
            start = time.perf_counter()
            estimator.fit(X, y)
            times.append(time.perf_counter() - start)
            if times[-1] >= REPEAT_BELOW:
                break
    elapsed = min(times)
    # Read from n_iter_ rather than from warnings: a solver may also warn when
    # its line search stops, and a tighter tol can still help then.
    hit_max_iter = int(np.max(estimator.n_iter_)) >= estimator.max_iter
    return elapsed, hit_max_iter


def peak_memory(estimator, X, y, threads):
    """Peak bytes traced by tracemalloc during one fit, above the level at its start.

    tracemalloc sees allocations made through Python's and NumPy's allocators
    (arrays, temporaries, Python objects); it does not see BLAS or OpenMP
    workspaces or buffers that compiled code obtains with plain malloc.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        with fit_settings(threads):
            estimator.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - baseline


def best_time(function, repeats=7):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def evaluation_costs(X, y, threads):
    """One evaluation of the objective and gradient against its two products.

    For dense ``X`` in float64 and in float32, the best of
    ``EVALUATION_ROUNDS`` rounds of ``EVALUATION_REPEATS`` wall times of

    - ``value_and_gradient`` of the bound objective (what every solver calls),
      at a random ``coef`` with an intercept, on as many threads as a fit
      with the default ``n_threads`` would take, with BLAS on one thread, as
      in a fit;
    - ``X @ W`` and ``X.T @ G``, each done separately by numpy, with ``W`` of
      shape (d, K) and ``G`` of shape (n, K) in the same dtype, with BLAS's
      threads under the thread limit.
    """
    return [
        _evaluation_row(X.astype(dtype, copy=False), y, threads)
        for dtype in (np.float64, np.float32)
    ]


def _evaluation_row(X, y, threads):
    n_samples, n_features = X.shape
    n_classes = len(np.unique(y))
    rng = np.random.default_rng(0)
    coef = 0.01 * rng.standard_normal((n_features + 1, n_classes))
    with thread_limits(threads):
        available = blas_thread_limit()
    n_threads = choose_n_threads(X, n_classes, available=available)
    objective = MultinomialLoss(n_classes, fit_intercept=True).bind(
        X, y, None, 1.0 / (C * n_samples), n_threads=n_threads
    )
    W = coef[:-1].astype(X.dtype)
    G = rng.standard_normal((n_samples, n_classes)).astype(X.dtype)
    evaluation = forward = backward = math.inf
    for _ in range(EVALUATION_ROUNDS):
        # BLAS threads left spinning by the last multi-threaded products
        # would take the cores of the passes' own threads.
        time.sleep(BLAS_SETTLE_SECONDS)
        with single_threaded_blas():
            evaluation = min(
                evaluation,
                best_time(
                    lambda: objective.value_and_gradient(coef.ravel()),
                    EVALUATION_REPEATS,
                ),
            )
        with thread_limits(threads):
            forward = min(forward, best_time(lambda: X @ W, EVALUATION_REPEATS))
            backward = min(backward, best_time(lambda: X.T @ G, EVALUATION_REPEATS))
    return X.dtype.name, evaluation, forward, backward


def evaluation_table(rows):
    lines = [
        "One evaluation of the objective and its gradient against the two "
        "products it needs, each done separately by numpy "
        f"(best of {EVALUATION_ROUNDS} rounds of {EVALUATION_REPEATS}):",
        "",
        "| dtype | objective + gradient (ms) | X @ W (ms) | X.T @ G (ms) | "
        "ratio to the two products |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for dtype, evaluation, forward, backward in rows:
        lines.append(
            f"| {dtype} | {1e3 * evaluation:.3g} | {1e3 * forward:.3g} | "
            f"{1e3 * backward:.3g} | {evaluation / (forward + backward):.2f} |"
        )
    return "\n".join(lines) + "\n"


def coefficients(model):
    """``coef_`` with ``intercept_`` as a last column, in float64.

    With three or more classes the objective does not change when the same
    constant is added to every intercept, so the intercepts are centred to
    compare two models. LogisticRegression's already are, up to rounding
    (its lbfgs and newton-cg iterates start at zero and move along
    gradients whose intercept parts sum to zero; newton-cholesky centres
    them), as are SoftmaxRegression's: centring removes only that rounding.
    """
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] > 1:
        intercept = intercept - intercept.mean()
    return np.column_stack([coef, intercept])


def _timed_objective(estimator, X, y, threads):
    """A timed fit's objective, time and :func:`coefficients`."""
    elapsed, _ = timed_fit(estimator, X, y, threads)
    return objective(estimator, X, y), elapsed, coefficients(estimator)


def _send_timed_objective(connection, estimator, X, y, threads):
    connection.send(_timed_objective(estimator, X, y, threads))
    connection.close()


def bounded_timed_objective(estimator, X, y, threads, budget):
    """:func:`_timed_objective` in a process of its own (started afresh,
    not forked: BLAS threads do not survive a fork), stopped after
    ``budget`` seconds of waiting, when the result is None. The fit is
    timed in that process, as in this one."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_send_timed_objective, args=(sender, estimator, X, y, threads)
    )
    process.start()
    sender.close()
    try:
        return receiver.recv() if receiver.poll(budget) else None
    except EOFError:
        # The process ended without a result: its error went to stderr.
        return None
    finally:
        process.kill()
        process.join()


def reference_objective(X, y, threads, C=C, budget=None):
    """Best objective of the tight-tolerance fits, and each one's, with
    SoftmaxRegression's ``C`` as given.

    With ``budget``, each fit runs in a process of its own, and a fit that
    has not ended after ``budget`` seconds is stopped and left out of the
    best objective (its entry holds None). Returns that objective, a dict
    of each fit's objective and time, and the :func:`coefficients` of the
    fit with the best objective.
    """
    fits = {
        "LogisticRegression newton-cg tol=1e-10": LogisticRegression(
            C=logistic_regression_C(len(np.unique(y)), C),
            solver="newton-cg",
            tol=1e-10,
            max_iter=1000,
        ),
        "SoftmaxRegression newton-cg tol=1e-10": SoftmaxRegression(
            C=C, solver="newton-cg", tol=1e-10, max_iter=1000
        ),
    }
    values, coefs = {}, {}
    for name, estimator in fits.items():
        if budget is None:
            result = _timed_objective(estimator, X, y, threads)
        else:
            result = bounded_timed_objective(estimator, X, y, threads, budget)
        if result is None:
            values[name] = None
            continue
        value, elapsed, coefs[name] = result
        values[name] = (value, elapsed)
    if not coefs:
        raise TimeoutError(f"every reference fit ran for more than {budget:g} s")
    best = min(coefs, key=lambda name: values[name][0])
    return values[best][0], values, coefs[best]


def sweep(solver, X, y, threads, budget, tols, f_reference):
    """Fit at each tolerance, loosest first.

    The sweep stops early once a fit takes longer than ``budget`` seconds, once
    max_iter stopped a fit (tighter tolerances would stop there too), or once
    the gap to ``f_reference`` is at most ``TARGET_GAP``: a tighter tol only
    takes longer. A run at the tol of ``solver.default`` keeps its fitted
    estimator, for :func:`default_fit` to reuse.
    """
    default_tol = solver.default().tol if solver.default is not None else None
    for tol in tols:
        estimator = solver.make(tol)
        elapsed, hit_max_iter = timed_fit(estimator, X, y, threads)
        solver.runs.append(
            {
                "tol": tol,
                "time": elapsed,
                "objective": objective(estimator, X, y),
                "n_iter": int(np.max(estimator.n_iter_)),
                "hit_max_iter": hit_max_iter,
            }
        )
        if default_tol is not None and math.isclose(tol, default_tol):
            solver.runs[-1]["estimator"] = estimator
        gap = (solver.runs[-1]["objective"] - f_reference) / f_reference
        if elapsed > budget or hit_max_iter or gap <= TARGET_GAP:
            break


# Parameters in which a sweep's configuration may differ from the default it
# stands for: max_iter only bounds the iterations, and random_state is not
# used by the deterministic solvers these defaults run.
SWEEP_ONLY_PARAMS = {"max_iter", "random_state"}


def default_fit(solver, X, y, threads, f_reference, reference_coef):
    """What ``solver.default()`` leaves: its gap, coefficient error and cost.

    The sweep's fit at the default's tol is the default fit when the two
    configurations differ only in ``SWEEP_ONLY_PARAMS`` and that fit stopped
    before the default's max_iter; otherwise the default is fitted here.
    The coefficient error is the largest absolute difference between the
    :func:`coefficients` of the fit and ``reference_coef``.
    """
    estimator = solver.default()
    default_params = estimator.get_params()
    run = next((run for run in solver.runs if "estimator" in run), None)
    if run is not None:
        sweep_params = run["estimator"].get_params()
        same_model = all(
            sweep_params[key] == value
            for key, value in default_params.items()
            if key not in SWEEP_ONLY_PARAMS
        )
        if same_model and run["n_iter"] < estimator.max_iter:
            estimator = run["estimator"]
            elapsed, n_iter, hit_max_iter = run["time"], run["n_iter"], False
            source = f"the sweep's fit at tol={run['tol']:.0e}"
        else:
            run = None
    if run is None:
        elapsed, hit_max_iter = timed_fit(estimator, X, y, threads)
        n_iter = int(np.max(estimator.n_iter_))
        source = "fitted for this table"
    return {
        "name": type(estimator).__name__ + "()",
        "tol": default_params["tol"],
        "max_iter": default_params["max_iter"],
        "gap": (objective(estimator, X, y) - f_reference) / f_reference,
        "coef_error": np.max(np.abs(coefficients(estimator) - reference_coef)),
        "n_iter": n_iter,
        "hit_max_iter": hit_max_iter,
        "time": elapsed,
        "source": source,
    }


def fastest_to_target(solver):
    reached = [run for run in solver.runs if run["gap"] <= TARGET_GAP]
    return min(reached, key=lambda run: run["time"]) if reached else None


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def print_environment(threads):
    print("# Environment")
    print(f"machine:      {platform.platform()}")
    print(f"processor:    {platform.processor() or platform.machine()}")
    print(f"CPU count:    {os.cpu_count()}")
    print(
        f"Python:       {sys.version.split()[0]} ({platform.python_implementation()})"
    )
    print(f"numpy:        {np.__version__}")
    print(f"scipy:        {scipy.__version__}")
    print(f"scikit-learn: {sklearn.__version__}")
    print(f"sklearn_softmax: {sklearn_softmax.__version__}")
    print(f"thread limit: {threads if threads is not None else 'left as is'}")
    with thread_limits(threads):
        for lib in threadpoolctl.threadpool_info():
            extra = lib.get("architecture") or lib.get("threading_layer") or ""
            print(
                f"threadpool:   {lib['user_api']:7s} {lib['internal_api']:10s} "
                f"version={lib.get('version')} num_threads={lib['num_threads']} "
                f"{extra}"
            )
    print()


def _format_seconds(seconds):
    return f"{seconds:.3g}"


def problem_table(name, X, y, f_star, references, solvers):
    n_classes = len(np.unique(y))
    kind = "CSR" if sp.issparse(X) else "dense"
    lines = [
        f"## {name}: {X.shape[0]} x {X.shape[1]}, K = {n_classes}, {kind} {X.dtype}",
        "",
        f"f* = {f_star:.12g} (best of: "
        + "; ".join(
            f"{ref} -> {value:.12g} in {_format_seconds(t)} s"
            for ref, (value, t) in references.items()
        )
        + ")",
        "",
        f"| solver | time to gap <= {TARGET_GAP:g} (s) | tol of that fit | "
        "iterations | peak traced memory (MiB) | best gap | fits |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for solver in solvers:
        if solver.skipped:
            lines.append(f"| {solver.name} | {solver.skipped} | | | | | 0 |")
            continue
        best_gap = min(run["gap"] for run in solver.runs)
        run = fastest_to_target(solver)
        if run is None:
            lines.append(
                f"| {solver.name} | not reached | | | | {best_gap:.1e} | "
                f"{len(solver.runs)} |"
            )
        else:
            lines.append(
                f"| {solver.name} | {_format_seconds(run['time'])} | "
                f"{run['tol']:.0e} | {run['n_iter']} | "
                f"{run['peak_bytes'] / 2**20:.1f} | {best_gap:.1e} | "
                f"{len(solver.runs)} |"
            )
    return "\n".join(lines) + "\n"


def default_table(rows):
    """The table of :func:`default_fit`'s results for one problem."""
    lines = [
        "### What the default tol leaves",
        "",
        "Each estimator with its package's defaults, C as above: the relative "
        "gap to f*, and the largest absolute difference of its coef_ and "
        "intercept_ (centred for three or more classes) from those of the "
        "reference fit with the lowest objective.",
        "",
        "| estimator | tol | relative gap | largest coef error | iterations | "
        "stopped at max_iter | time (s) | fit |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for row in rows:
        stopped = f"yes ({row['max_iter']})" if row["hit_max_iter"] else "no"
        lines.append(
            f"| {row['name']} | {row['tol']:g} | {row['gap']:.1e} | "
            f"{row['coef_error']:.1e} | {row['n_iter']} | {stopped} | "
            f"{_format_seconds(row['time'])} | {row['source']} |"
        )
    return "\n".join(lines) + "\n"


# Markers of the solvers, in the order of make_solvers: each its own.
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p"]
# Target ratios of SoftmaxRegression's time to the fastest LogisticRegression's.
TARGET_RATIOS = (0.8, 0.5)


def solver_styles(solvers):
    """Colour, marker, line style and width of each solver's curve.

    SoftmaxRegression's solvers take blues and greens, with solid lines;
    LogisticRegression's purples, reds and oranges, with dashed lines; the
    package's default solver, the first, has a thicker line, drawn beneath
    the others: it runs the same fits as the solver 'auto' picks, whose
    thin line then shows on top of it. The other solvers' markers are
    hollow, so that where two solvers' points coincide both shapes show.
    """
    colours = {}
    for is_reference_side, colormap, span in (
        (False, "viridis", (0.2, 0.85)),
        (True, "plasma", (0.3, 0.8)),
    ):
        side = [
            solver
            for solver in solvers
            if solver.is_reference_side == is_reference_side
        ]
        shades = plt.colormaps[colormap](np.linspace(*span, len(side)))
        colours.update(zip((solver.name for solver in side), shades, strict=True))
    return {
        solver.name: {
            "color": colours[solver.name],
            "marker": MARKERS[index % len(MARKERS)],
            "linestyle": "--" if solver.is_reference_side else "-",
            "linewidth": 3.0 if solver is solvers[0] else 1.4,
            "markersize": 9 if solver is solvers[0] else 7,
            "markerfacecolor": colours[solver.name] if solver is solvers[0] else "none",
            "markeredgewidth": 1.3,
            "zorder": 1.5 if solver is solvers[0] else 2,
        }
        for index, solver in enumerate(solvers)
    }


def plot_problem(name, solvers, path):
    # A fit that is itself the reference has gap 0; it is drawn at this floor.
    floor = 1e-16
    styles = solver_styles(solvers)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for solver in solvers:
        if not solver.runs:
            continue
        times = [run["time"] for run in solver.runs]
        gaps = [max(run["gap"], floor) for run in solver.runs]
        ax.loglog(times, gaps, label=solver.name, **styles[solver.name])
    ax.axhline(TARGET_GAP, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("fit wall time (s)")
    ax.set_ylabel("relative objective gap (f - f*) / f*")
    ax.set_title(f"{name}: one point per tol in the sweep")
    ax.legend(
        fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0
    )
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_summary(rows, path):
    """Per problem, SoftmaxRegression's time to the gap over the fastest
    LogisticRegression's, as horizontal bars on a log axis, with lines at 1
    and at the target ratios."""
    names = [row[0] for row in rows]
    ratios = [
        ours / theirs if ours is not None and theirs is not None else None
        for _, ours, theirs, *_ in rows
    ]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.5))
    positions = np.arange(len(rows))[::-1]
    for position, ratio in zip(positions, ratios, strict=True):
        if ratio is None:
            ax.text(1, position, " not reached", va="center", fontsize="small")
            continue
        # On a log axis a bar from 1 shows the factor: to the left where
        # SoftmaxRegression is faster, to the right where it is slower.
        faster = ratio < 1
        ax.barh(
            position,
            ratio - 1,
            left=1,
            height=0.6,
            color="tab:blue" if faster else "tab:red",
        )
        ax.text(
            ratio,
            position,
            f" {ratio:.2f} " if faster else f" {ratio:.2f}",
            va="center",
            ha="right" if faster else "left",
            fontsize="small",
        )
    ax.axvline(1, color="black", linewidth=1)
    for target in TARGET_RATIOS:
        ax.axvline(target, color="grey", linewidth=0.8, linestyle="--")
        ax.text(
            target,
            len(rows) - 0.45,
            f"target {target:g}",
            ha="center",
            fontsize="small",
        )
    known = [ratio for ratio in ratios if ratio is not None]
    ax.set_xscale("log")
    low, high = min([*TARGET_RATIOS, *known]) / 1.6, max([1.0, *known]) * 1.6
    ax.set_xlim(low, high)
    # Ticks at 1, 2 and 5 times the powers of ten, labelled as plain numbers.
    candidates = np.outer(10.0 ** np.arange(-3, 4), [1, 2, 5]).ravel()
    ticks = [tick for tick in candidates if low <= tick <= high]
    ax.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(positions, names)
    ax.set_ylim(-0.7, len(rows) - 0.1)
    ax.set_xlabel(
        f"time to gap <= {TARGET_GAP:g}: SoftmaxRegression (default) / "
        "fastest LogisticRegression"
    )
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_runs_csv(solvers, path):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["solver", "tol", "time_s", "objective", "gap", "n_iter"])
        for solver in solvers:
            for run in solver.runs:
                writer.writerow(
                    [
                        solver.name,
                        f"{run['tol']:.0e}",
                        f"{run['time']:.6g}",
                        f"{run['objective']:.15g}",
                        f"{run['gap']:.3e}",
                        run["n_iter"],
                    ]
                )


def summary_table(rows, figure=None):
    """The summary of all problems, with ``figure`` (a file name next to the
    markdown, drawn by :func:`plot_summary`) shown at its top."""
    lines = [
        "## Summary: SoftmaxRegression (default) / fastest LogisticRegression",
        "",
    ]
    if figure is not None:
        lines += [
            f"![SoftmaxRegression time / fastest LogisticRegression]({figure})",
            "",
        ]
    lines += [
        f"Times are to a relative gap <= {TARGET_GAP:g}; a ratio below 1 means "
        "SoftmaxRegression is faster.",
        "",
        "| problem | SoftmaxRegression (s) | fastest LogisticRegression (s) | "
        "solver | ratio |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    ratios = []
    for name, ours, theirs, their_name, _ in rows:
        if ours is None or theirs is None:
            ratio = "n/a"
        else:
            ratios.append(ours / theirs)
            ratio = f"{ours / theirs:.2f}"
        lines.append(
            f"| {name} | {_format_seconds(ours) if ours else 'not reached'} | "
            f"{_format_seconds(theirs) if theirs else 'not reached'} | "
            f"{their_name or ''} | {ratio} |"
        )
    if ratios:
        geometric_mean = math.exp(np.mean(np.log(ratios)))
        lines += ["", f"Geometric mean of the ratios: {geometric_mean:.2f}"]
    lines += ["", *_defaults_summary(rows)]
    return "\n".join(lines) + "\n"


def _defaults_summary(rows):
    lines = [
        "### What the default tol leaves",
        "",
        "SoftmaxRegression() and LogisticRegression() with their defaults: the "
        "relative gap to f* and the largest absolute coefficient error against "
        "the reference fit (see each problem's table).",
        "",
        "| problem | our gap | our coef error | LR gap | LR coef error |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, *_, defaults in rows:
        cells = [] if defaults else ["not measured"] * 4
        for row in defaults:
            stopped = " (max_iter)" if row["hit_max_iter"] else ""
            cells += [f"{row['gap']:.1e}{stopped}", f"{row['coef_error']:.1e}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def run_problem(name, args, suffix):
    start = time.perf_counter()
    X, y = PROBLEMS[name](quick=args.quick)
    n_classes = len(np.unique(y))
    f_star, references, reference_coef = reference_objective(X, y, args.threads)
    solvers = make_solvers(X, n_classes)
    for solver in solvers:
        if solver.name in args.skip:
            solver.skipped = "skipped: --skip"
    for solver in solvers:
        if solver.skipped:
            continue
        tols = QUICK_TOLS if args.quick else TOLS
        sweep(solver, X, y, args.threads, args.budget, tols, f_star)
        print(f"  {name}: {solver.name}: {len(solver.runs)} fits", file=sys.stderr)
    # The reference is the best objective any fit reached, the sweeps included.
    f_star = min([f_star] + [r["objective"] for s in solvers for r in s.runs])
    for solver in solvers:
        for run in solver.runs:
            run["gap"] = (run["objective"] - f_star) / f_star
        run = fastest_to_target(solver)
        if run is not None:
            run["peak_bytes"] = peak_memory(solver.make(run["tol"]), X, y, args.threads)
    defaults = [
        default_fit(solver, X, y, args.threads, f_star, reference_coef)
        for solver in solvers
        if solver.default is not None
    ]

    table = problem_table(name, X, y, f_star, references, solvers)
    table += "\n" + default_table(defaults)
    if not sp.issparse(X):
        table += "\n" + evaluation_table(evaluation_costs(X, y, args.threads))
    print(table)
    (RESULTS_DIR / f"{name}{suffix}.md").write_text(table)
    write_runs_csv(solvers, RESULTS_DIR / f"{name}{suffix}_runs.csv")
    plot_problem(name, solvers, RESULTS_DIR / f"{name}{suffix}_gap_vs_time.png")
    print(f"({name} took {time.perf_counter() - start:.1f} s)\n", file=sys.stderr)

    ours = fastest_to_target(solvers[0])
    theirs = [
        (run["time"], s.name)
        for s in solvers
        if s.is_reference_side and (run := fastest_to_target(s)) is not None
    ]
    best_theirs = min(theirs) if theirs else (None, None)
    return name, ours["time"] if ours else None, *best_theirs, defaults


def _table_cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def row_from_results(name, suffix):
    """The summary row of ``name`` read back from the markdown an earlier
    run wrote, for a summary of problems run by separate commands (each
    with the solvers it skips)."""
    ours = None
    theirs = []
    defaults = []
    for line in (RESULTS_DIR / f"{name}{suffix}.md").read_text().splitlines():
        if not line.startswith("| "):
            continue
        cells = _table_cells(line)
        try:
            seconds = float(cells[1])
        except ValueError:
            seconds = None
        if cells[0] == "SoftmaxRegression (default)":
            ours = seconds
        elif cells[0].startswith("LogisticRegression ") and seconds is not None:
            theirs.append((seconds, cells[0]))
        elif cells[0] in ("SoftmaxRegression()", "LogisticRegression()"):
            defaults.append(
                {
                    "gap": float(cells[2]),
                    "coef_error": float(cells[3]),
                    "hit_max_iter": cells[5].startswith("yes"),
                }
            )
    best_theirs = min(theirs) if theirs else (None, None)
    return name, ours, *best_theirs, defaults


def add_threads_argument(parser):
    """The ``--threads`` option of the benchmarks that fit estimators."""
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP thread limit around every fit (default: left as is)",
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shrink every problem (about n/20, d/5; fewer classes for many_classes) "
        "and use 5 tolerances instead of 9, so the suite runs in a few minutes",
    )
    add_threads_argument(parser)
    parser.add_argument(
        "--problems",
        nargs="+",
        choices=list(PROBLEMS),
        default=list(PROBLEMS),
        help="subset of problems to run (default: all)",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        metavar="SOLVER",
        help="solvers to leave out, by their name in the tables, e.g. "
        "--skip 'LogisticRegression sag' (default: none)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="stop a solver's tol sweep after a fit longer than this many seconds "
        "(default: 1 with --quick, 300 otherwise)",
    )
    parser.add_argument(
        "--combine",
        action="store_true",
        help="fit nothing: write the summary of --problems from the tables "
        "earlier runs wrote, as for problems run by separate commands",
    )
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 1.0 if args.quick else 300.0
    return args


def main(argv=None):
    args = parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.combine:
        rows = [row_from_results(name, suffix) for name in args.problems]
    else:
        print_environment(args.threads)
        rows = [run_problem(name, args, suffix) for name in args.problems]
    # A run of some of the problems gets its own summary, named after them.
    subset = "" if args.problems == list(PROBLEMS) else "_" + "-".join(args.problems)
    figure = f"summary{subset}{suffix}.png"
    plot_summary(rows, RESULTS_DIR / figure)
    summary = summary_table(rows, figure)
    print(summary)
    (RESULTS_DIR / f"summary{subset}{suffix}.md").write_text(summary)


if __name__ == "__main__":
    main()

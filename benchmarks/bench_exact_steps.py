"""Exact Newton steps against Newton-CG by the size of the Hessian: the
measurements behind the bound up to which ``solver='auto'`` takes
``'newton-cholesky'``.

For each number of rows ``n``, of features ``d`` and each kind of columns
(standardised, or each scaled by ``10^u`` with ``u`` uniform on [-2, 2]),
the script fits data with ``SoftmaxRegression(C=1, tol=TOL)`` and each
solver, and prints the best of three wall times of each and their ratio,
exact steps over Newton-CG. The data are ``make_classification``'s (about
half the features informative and a quarter linear combinations of them,
one cluster per class), or, with ``--data isotropic``, standard normal
features with labels drawn from a random softmax model, as in
``bench_cpu.py``'s dense problems, where conjugate gradients need few
products. The
Hessian has ``d + 1`` rows for two classes of dense data (exact steps fit
them on the difference of their parameters) and ``(d + 1) K`` otherwise.

Run ``python benchmarks/bench_exact_steps.py --help`` for the options.
"""

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import threadpoolctl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_softmax import SoftmaxRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cpu

REPEATS = 3


def problem(n_samples, n_features, n_classes, scaled, data):
    """The data of one case (see the module's docstring)."""
    if data == "isotropic":
        X, y = bench_cpu._dense_gaussian(
            n_samples, n_features, n_classes, seed=n_features + n_samples
        )
    else:
        X, y = make_classification(
            n_samples,
            n_features,
            n_informative=n_features // 2,
            n_redundant=n_features // 4,
            n_classes=n_classes,
            n_clusters_per_class=1,
            random_state=n_features + n_samples,
        )
    if scaled:
        X *= 10 ** np.random.default_rng(n_features).uniform(-2, 2, n_features)
    return X, y


def best_fit(solver, X, y, tol):
    """The best of ``REPEATS`` wall times of a fit, and its iterations."""
    times = []
    for _ in range(REPEATS):
        model = SoftmaxRegression(C=1.0, solver=solver, tol=tol, max_iter=1000)
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times), int(np.max(model.n_iter_))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, default=2, help="K (default: 2)")
    parser.add_argument(
        "--features",
        type=int,
        nargs="+",
        default=[40, 60, 80, 99, 150, 200, 300],
        help="numbers of features d",
    )
    parser.add_argument(
        "--samples",
        type=int,
        nargs="+",
        default=[1000, 5000, 20000],
        help="numbers of rows n",
    )
    parser.add_argument("--tol", type=float, default=1e-4, help="tol of every fit")
    parser.add_argument(
        "--data",
        choices=["classification", "isotropic"],
        default="classification",
        help="make_classification's data, or isotropic Gaussian features "
        "(default: classification)",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS thread limit (default: 2)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    ratios = []
    print("| n | d | columns | newton-cg (iterations) | newton-cholesky | ratio |")
    print("|---|---|---|---|---|---|")
    with threadpoolctl.threadpool_limits(args.threads):
        for n in args.samples:
            for d in args.features:
                for scaled in (False, True):
                    X, y = problem(n, d, args.classes, scaled, args.data)
                    cg = best_fit("newton-cg", X, y, args.tol)
                    exact = best_fit("newton-cholesky", X, y, args.tol)
                    ratios.append(exact[0] / cg[0])
                    print(
                        f"| {n} | {d} | {'scaled' if scaled else 'standardised'} "
                        f"| {cg[0] * 1e3:.1f} ms ({cg[1]}) "
                        f"| {exact[0] * 1e3:.1f} ms ({exact[1]}) "
                        f"| {ratios[-1]:.2f} |",
                        flush=True,
                    )
    mean = math.exp(np.mean(np.log(ratios)))
    print(
        f"\nK = {args.classes}, tol = {args.tol:g}: ratios {min(ratios):.2f} to "
        f"{max(ratios):.2f}, geometric mean {mean:.2f}, above 1 in "
        f"{sum(r > 1 for r in ratios)} of {len(ratios)} cases."
    )


if __name__ == "__main__":
    main()

"""SoftmaxRegression on a PyTorch device against LogisticRegression.

For each problem (float32, ``C=1``, labels from a random softmax model), the
script

1. fits ``LogisticRegression()`` (lbfgs, its defaults) on the CPU with NumPy,
   and again with ``array_api_dispatch=True`` on the PyTorch device; the
   objective of the CPU fit is the target ``f_LR``;
2. fits ``SoftmaxRegression`` on the device with ``solver='lbfgs'``,
   ``'newton-cg'`` and ``'auto'``, at ``tol`` = 1e-3, 1e-4, ... until its
   objective is at most ``f_LR`` (relative slack 1e-7, below the float32
   rounding of the data term); the time of that fit is its time to reach
   ``f_LR``;
3. times one evaluation of the objective and its gradient on the device (the
   best of 20, synchronised), against two reductions over ``X``
   (``X.sum(axis=0)`` twice), which read ``X`` twice at the device's memory
   bandwidth, and against the two matrix products ``X @ W`` and
   ``X.T @ G`` alone, in ``X``'s dtype.

Every objective is computed by the script in float64 on the host from the
fitted ``coef_`` and ``intercept_``. Times are wall times of ``fit`` with the
data already on the device; the first fit of each kind is repeated once so
that start-up costs (CUDA context, kernel caches) are not counted.

Run ``python benchmarks/bench_gpu.py --help`` for the options. Without CUDA
the script runs on PyTorch's CPU device, at the size given by ``--scale``.
"""

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import sklearn
import torch
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss_array_api import bind_objective

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# (n_samples, n_features, n_classes): a mid-sized and a large problem.
PROBLEMS = [(200_000, 256, 20), (1_000_000, 512, 50)]
TOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
SLACK = 1e-7


def make_data(n_samples, n_features, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    W = rng.standard_normal((n_features, n_classes), dtype=np.float32)
    scores = X @ W
    scores *= 2.0 / scores.std(dtype=np.float64)
    y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    return X, y


def objective(X, y, coef, intercept, C=1.0):
    """The multinomial objective in float64 on the host."""
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    if coef.shape[0] == 1:  # binary: the centred two-class model
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    Z = X.astype(np.float64) @ coef.T + intercept
    losses = -log_softmax(Z, axis=1)[np.arange(len(y)), y]
    return losses.mean() + (coef * coef).sum() / (2 * C * len(y))


def host(array):
    return array.detach().cpu().numpy() if torch.is_tensor(array) else array


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device, repeat=1):
    best = np.inf
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        result = function()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, result


def time_to_target(make, X, y, X_host, y_host, device, target):
    """The first tol whose fit reaches ``target``, its time and objective."""
    for tol in TOLS:
        seconds, model = timed(lambda tol=tol: make(tol).fit(X, y), device, repeat=2)
        f = objective(X_host, y_host, host(model.coef_), host(model.intercept_))
        if f <= target * (1 + SLACK):
            return tol, seconds, f, int(host(model.n_iter_)[0])
    return None, seconds, f, int(host(model.n_iter_)[0])


def evaluation_cost(X, y, n_classes, device):
    weights = torch.full((X.shape[0],), 1 / X.shape[0], dtype=X.dtype, device=device)
    bound = bind_objective(
        X,
        torch.as_tensor(y, device=device),
        weights,
        n_classes,
        True,
        1.0 / X.shape[0],
        torch.float64,
    )
    x = torch.zeros((X.shape[1] + 1) * n_classes, dtype=torch.float64, device=device)
    x += 1e-3
    evaluation, _ = timed(lambda: bound.value_and_gradient(x), device, repeat=20)
    read_twice, _ = timed(lambda: (X.sum(dim=0), X.sum(dim=0)), device, repeat=20)
    W = torch.full((X.shape[1], n_classes), 1e-3, dtype=X.dtype, device=device)
    G = torch.full((X.shape[0], n_classes), 1e-3, dtype=X.dtype, device=device)
    products, _ = timed(lambda: (X @ W, X.T @ G), device, repeat=20)
    return evaluation, read_twice, products


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="share of each problem's samples (default 1 on CUDA, 0.05 on CPU)",
    )
    parser.add_argument("--problems", type=int, nargs="*", default=[0, 1])
    parser.add_argument(
        "--save",
        action="store_true",
        help="also write the output to results/array_api_<device type>.md",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    scale = args.scale or (1.0 if device.type == "cuda" else 0.05)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()} CPU"
    )
    lines = []

    def show(text):
        print(text, flush=True)
        lines.append(text)

    show(
        f"device: {device} ({name}); torch {torch.__version__}, numpy "
        f"{np.__version__}, scikit-learn {sklearn.__version__}; CPU threads: "
        f"{torch.get_num_threads()}; scale {scale:g}"
    )
    show("")
    show(
        "| problem | fit | device | tol | time (s) | iterations | objective "
        "| LR array API time / this |"
    )
    show("|---|---|---|---|---|---|---|---|")
    costs = []
    for index in args.problems:
        n, d, k = PROBLEMS[index]
        n = int(n * scale)
        X_host, y_host = make_data(n, d, k)
        problem = f"{n}x{d}, K={k}"
        X = torch.asarray(X_host, device=device)
        y = torch.asarray(y_host, device=device)

        lr_cpu_time, lr = timed(
            lambda X=X_host, y=y_host: LogisticRegression().fit(X, y), device
        )
        target = objective(X_host, y_host, lr.coef_, lr.intercept_)
        rows = [
            (
                "LogisticRegression",
                "cpu (numpy)",
                "1e-4",
                lr_cpu_time,
                lr.n_iter_[0],
                target,
            )
        ]
        with sklearn.config_context(array_api_dispatch=True):
            lr_dev_time, lr_dev = timed(
                lambda X=X, y=y: LogisticRegression().fit(X, y), device, repeat=2
            )
            f = objective(X_host, y_host, host(lr_dev.coef_), host(lr_dev.intercept_))
            rows.append(
                (
                    "LogisticRegression, array API",
                    str(device),
                    "1e-4",
                    lr_dev_time,
                    int(host(lr_dev.n_iter_)[0]),
                    f,
                )
            )
            for solver in ["auto", "lbfgs", "newton-cg"]:
                tol, seconds, f, n_iter = time_to_target(
                    lambda tol, solver=solver: SoftmaxRegression(
                        solver=solver, tol=tol, max_iter=1000
                    ),
                    X,
                    y,
                    X_host,
                    y_host,
                    device,
                    target,
                )
                rows.append(
                    (
                        f"SoftmaxRegression({solver!r})",
                        str(device),
                        f"{tol:g}" if tol else "not reached",
                        seconds,
                        n_iter,
                        f,
                    )
                )
        for fit, where, tol, seconds, n_iter, f in rows:
            show(
                f"| {problem} | {fit} | {where} | {tol} | {seconds:.3f} | {n_iter} "
                f"| {f:.7f} | {lr_dev_time / seconds:.2f} |"
            )
        evaluation, read_twice, products = evaluation_cost(X, y_host, k, device)
        costs.append(
            f"- {problem}: one loss+gradient {evaluation * 1e3:.2f} ms; reading X "
            f"twice {read_twice * 1e3:.2f} ms (ratio {evaluation / read_twice:.2f}); "
            f"the two products X @ W and X.T @ G {products * 1e3:.2f} ms "
            f"(ratio {evaluation / products:.2f})"
        )
    show("")
    for line in costs:
        show(line)
    if args.save:
        path = RESULTS_DIR / f"array_api_{device.type}.md"
        path.write_text("\n".join(lines) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    main()

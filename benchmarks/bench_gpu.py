"""Time to a 1e-6 objective gap on a PyTorch device: SoftmaxRegression against
LogisticRegression's Array API path.

For each problem (``C=1``, labels drawn from a random softmax model, data
made on the device), the script

1. computes a reference optimum ``f*``: SoftmaxRegression 'newton-cg' with
   full-precision products at ``tol=1e-9`` on the data in float64; ``f*``
   is the least objective of this fit and of every fit of the sweeps;
2. fits each solver over the tolerances 1e-3, 1e-4, ..., 1e-8, loosest
   first, with the data already on the device, and reports the fastest fit
   whose relative gap ``(f - f*) / f*`` is at most 1e-6 (each fit timed
   twice, the faster counting, so that start-up costs such as the CUDA
   context and kernel caches are not counted), its iterations, and the
   device memory the fit took beyond what was held before it, in units of
   one ``n x K`` array of the data's dtype;
3. times, best of 20, one evaluation of the objective and its gradient
   against two reductions over ``X`` (``X.sum(axis=0)`` twice, which read
   it twice at the device's memory bandwidth) and against the two matrix
   products ``X @ W`` and ``X.T @ G`` alone; and one Hessian-vector product
   with full-precision and with lower-precision products.

Every objective is computed by the script in float64 on the device from the
fitted ``coef_`` and ``intercept_``:
``mean(-log softmax(X coef^T + intercept)[y]) + |coef|^2 / (2 C n)``.

Run ``python benchmarks/bench_gpu.py --help`` for the options. Without CUDA
the script runs on PyTorch's CPU device, at the size given by ``--scale``.
"""

import argparse
import contextlib
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import scipy
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss_array_api import bind_objective
from sklearn_softmax._low_precision import lower_dtype

RESULTS_DIR = Path(__file__).resolve().parent / "results"
C = 1.0
TARGET_GAP = 1e-6
TOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
# (n_samples, n_features, n_classes, dtype)
PROBLEMS = [
    (200_000, 256, 20, torch.float32),
    (1_000_000, 512, 50, torch.float32),
    (200_000, 256, 20, torch.float64),
]
# A solver's sweep stops after a fit longer than this many seconds.
BUDGET = 20.0


def make_data(n_samples, n_features, n_classes, dtype, device, seed=0):
    """Gaussian features; labels from a softmax model whose scores have
    standard deviation 2, drawn with Gumbel noise."""
    generator = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(
        (n_samples, n_features), generator=generator, device=device, dtype=dtype
    )
    W = torch.randn(
        (n_features, n_classes), generator=generator, device=device, dtype=dtype
    )
    scores = X @ W
    scores *= 2.0 / scores.std()
    uniform = torch.rand(scores.shape, generator=generator, device=device, dtype=dtype)
    y = torch.argmax(scores - torch.log(-torch.log(uniform)), dim=1)
    return X, y


def objective(X64, y, coef, intercept):
    """The multinomial objective in float64 on the data's device."""
    coef = torch.as_tensor(coef, device=X64.device).to(torch.float64)
    intercept = torch.as_tensor(intercept, device=X64.device).to(torch.float64)
    Z = X64 @ coef.T + intercept
    losses = -torch.log_softmax(Z, dim=1).gather(1, y[:, None])
    return float(losses.mean() + (coef * coef).sum() / (2 * C * X64.shape[0]))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device, repeat=1):
    """The best wall time of ``repeat`` calls, synchronised, and the last
    result."""
    best = np.inf
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        result = function()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, result


@contextlib.contextmanager
def quiet_dispatch():
    """Array API dispatch on, convergence warnings of the sweeps' loose
    tolerances off."""
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def fit_memory(fit, device):
    """Device memory a fit takes beyond what is held before it, in bytes;
    None off CUDA."""
    if device.type != "cuda":
        fit()
        return None
    synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fit()
    synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def fitters():
    """Name and maker (of ``tol``) of each fit the sweep times."""

    def ours(**params):
        return lambda tol: SoftmaxRegression(tol=tol, max_iter=1000, **params)

    return {
        "SoftmaxRegression() (auto)": ours(),
        "SoftmaxRegression('newton-cg', precision='full')": ours(
            solver="newton-cg", precision="full"
        ),
        "SoftmaxRegression('lbfgs')": ours(solver="lbfgs"),
        "LogisticRegression() (lbfgs), array API": lambda tol: LogisticRegression(
            C=C, tol=tol, max_iter=1000
        ),
    }


def sweep(make, X, y, X64, device, f_star):
    """Each tol's fit, (tol, seconds, objective, iterations), until one
    reaches the target gap from ``f_star``."""
    for tol in TOLS:
        with quiet_dispatch():
            seconds, model = timed(
                lambda tol=tol: make(tol).fit(X, y), device, repeat=2
            )
        f = objective(X64, y, model.coef_, model.intercept_)
        yield tol, seconds, f, int(np.max(np.asarray(model.n_iter_.tolist())))
        if (f - f_star) / f_star <= TARGET_GAP or seconds > BUDGET:
            return


def evaluation_costs(X, y, n_classes, device):
    """Best of 20: one loss and gradient; reading X twice; the products
    X @ W and X.T @ G; a Hessian-vector product in full and lower precision."""
    weights = torch.full((X.shape[0],), 1 / X.shape[0], dtype=X.dtype, device=device)
    args = (X, y, weights, n_classes, True, 1.0 / (C * X.shape[0]), torch.float64)
    x = torch.full(
        ((X.shape[1] + 1) * n_classes,), 1e-3, dtype=torch.float64, device=device
    )
    v = torch.linspace(-1, 1, x.shape[0], dtype=torch.float64, device=device)
    full = bind_objective(*args)
    lower = bind_objective(*args, hessian_dtype=lower_dtype(torch, X.dtype, X.shape[1]))
    costs = {
        "loss+gradient": timed(lambda: full.value_and_gradient(x), device, 20)[0],
        "reading X twice": timed(
            lambda: (X.sum(dim=0), X.sum(dim=0)), device, repeat=20
        )[0],
    }
    W = torch.randn((X.shape[1], n_classes), dtype=X.dtype, device=device)
    G = torch.randn((X.shape[0], n_classes), dtype=X.dtype, device=device)
    costs["X @ W and X.T @ G"] = timed(lambda: (X @ W, X.T @ G), device, 20)[0]
    for name, bound in (("full", full), ("lower", lower)):
        hessp = bound.value_gradient_hessp(x)[2]
        costs[f"Hessian product, {name} precision"] = timed(
            lambda hessp=hessp: hessp(v), device, 20
        )[0]
    return costs


def run_problem(n, d, k, dtype, device, show):
    """Sweep every fit on one problem, show its table and its evaluation
    costs; return its line of the summary."""
    X, y = make_data(n, d, k, dtype, device)
    X64 = X.to(torch.float64)
    problem = f"{n}x{d}, K={k}, {str(dtype).removeprefix('torch.')}"
    with sklearn.config_context(array_api_dispatch=True):
        reference = SoftmaxRegression(
            solver="newton-cg", precision="full", tol=1e-9, max_iter=1000
        ).fit(X64, y)
    f_star = objective(X64, y, reference.coef_, reference.intercept_)
    runs = {
        fit_name: list(sweep(make, X, y, X64, device, f_star))
        for fit_name, make in fitters().items()
    }
    f_star = min(f_star, *(f for fits in runs.values() for _, _, f, _ in fits))
    show("")
    show(f"### {problem}")
    show("")
    show(f"f* = {f_star:.10f}")
    show("")
    show(
        "| fit | time (s) | tol | iterations | gap | memory beyond X (n x K "
        "arrays) | LogisticRegression's time / this |"
    )
    show("|---|---|---|---|---|---|---|")
    best = {}
    for fit_name, fits in runs.items():
        reached = [fit for fit in fits if (fit[2] - f_star) / f_star <= TARGET_GAP]
        best[fit_name] = min(reached, key=lambda fit: fit[1]) if reached else None
    lr_fit = best["LogisticRegression() (lbfgs), array API"]
    for fit_name, fit in best.items():
        if fit is None:
            show(f"| {fit_name} | not reached | | | | | |")
            continue
        tol, seconds, f, n_iter = fit
        model = fitters()[fit_name](tol)
        with quiet_dispatch():
            extra = fit_memory(lambda model=model: model.fit(X, y), device)
        arrays = "" if extra is None else f"{extra / (n * k * X.element_size()):.1f}"
        ratio = f"{lr_fit[1] / seconds:.2f}" if lr_fit else ""
        show(
            f"| {fit_name} | {seconds:.3f} | {tol:g} | {n_iter} | "
            f"{(f - f_star) / f_star:.1e} | {arrays} | {ratio} |"
        )
    costs = evaluation_costs(X, y, k, device)
    show("")
    show(
        "One evaluation (ms): "
        + "; ".join(f"{key} {value * 1e3:.2f}" for key, value in costs.items())
        + ". Loss+gradient / reading X twice: "
        f"{costs['loss+gradient'] / costs['reading X twice']:.2f}."
    )
    ours = best["SoftmaxRegression() (auto)"]
    ours_time = ours[1] if ours else float("nan")
    lr_time = lr_fit[1] if lr_fit else float("nan")
    return (
        f"| {problem} | {ours_time:.3f} | {lr_time:.3f} | {lr_time / ours_time:.2f} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="share of each problem's samples (default 1 on CUDA, 0.01 on CPU)",
    )
    parser.add_argument("--problems", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument(
        "--save",
        action="store_true",
        help="also write the output to results/array_api_<device type>.md",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    scale = args.scale or (1.0 if device.type == "cuda" else 0.01)
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
        f"{np.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}; scale {scale:g}; times in seconds, to a "
        f"relative objective gap of at most {TARGET_GAP:g}"
    )
    summary = []
    for index in args.problems:
        n, d, k, dtype = PROBLEMS[index]
        summary.append(run_problem(int(n * scale), d, k, dtype, device, show))
        if device.type == "cuda":
            torch.cuda.empty_cache()
    show("")
    show("### Summary: SoftmaxRegression() against LogisticRegression's Array API path")
    show("")
    show("| problem | SoftmaxRegression() (s) | LogisticRegression (s) | speed-up |")
    show("|---|---|---|---|")
    for line in summary:
        show(line)
    if args.save:
        path = RESULTS_DIR / f"array_api_{device.type}.md"
        path.write_text("\n".join(lines) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    main()

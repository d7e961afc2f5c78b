"""Memory of a fit: SoftmaxRegression does not copy C-ordered X, and beyond X it
takes O(nK + dK).

On float32 data of shape n x d with K classes (1,000,000 x 100, K = 10 by
default), the script

1. fits ``SoftmaxRegression()`` and, with each deterministic solver, reports the
   fit's wall time, ``n_iter_`` and its peak traced memory (``tracemalloc``, which
   sees every numpy array), in MB, in units of one n x K float32 array
   (``n K 4`` bytes) and as a share of the size of ``X``: a peak below
   ``n d 4`` bytes leaves no room for a copy of ``X``, in float32 or float64;
2. repeats the measurement on the first n/4 and n/2 rows and fits a line to the
   peak against n: its slope, in units of ``K 4`` bytes per sample, is the
   constant of the O(nK) term;
3. fits the same data as float64 with ``precision='full'`` and with the
   default precision, which above a small size runs the Hessian products of
   'newton-cg' in float32 on blocks of rows converted one at a time (no copy
   either), and as a Fortran-ordered float32 array, which is copied into C
   order once, as LogisticRegression copies it.

The data is drawn in float32 (no float64 intermediate of the size of ``X``), with
labels from a random linear softmax model.

Run ``python benchmarks/bench_memory.py --help`` for the options; the README next
to this file explains the output.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from bench_cpu import add_threads_argument, peak_memory, print_environment, timed_fit

from sklearn_softmax import SoftmaxRegression

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SOLVERS = ["auto", "newton-cg", "lbfgs", "gd"]
SHAPE = (1_000_000, 100)
QUICK_SHAPE = (20_000, 100)
N_CLASSES = 10
# The sample counts of the growth table, as fractions of n.
GROWTH_FRACTIONS = (0.25, 0.5, 1.0)
MB = 1e6


def make_data(n_samples, n_features, n_classes, seed=0, signal=2.0):
    """Gaussian float32 X and labels drawn from a random softmax model.

    ``X`` is drawn in float32 directly. The scores ``X @ W + b`` (n x K, float32)
    are rescaled to a standard deviation of ``signal`` and each label is drawn
    from their softmax with the Gumbel-max trick, so the classes overlap and
    the optimum is finite.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    W = rng.standard_normal((n_features, n_classes), dtype=np.float32)
    scores = X @ W
    scores *= signal / max(float(scores.std(dtype=np.float64)), 1e-12)
    scores += 0.5 * rng.standard_normal(n_classes, dtype=np.float32)
    scores += rng.gumbel(size=scores.shape)
    return X, scores.argmax(axis=1)


def machine_details():
    """CPU model and total memory, from /proc on Linux; empty elsewhere."""
    details = []
    try:
        with open("/proc/cpuinfo") as handle:
            models = [line for line in handle if line.startswith("model name")]
        if models:
            details.append(f"CPU model:    {models[0].split(':', 1)[1].strip()}")
        with open("/proc/meminfo") as handle:
            total = next(line for line in handle if line.startswith("MemTotal"))
        kib = int(total.split()[1])
        details.append(f"memory:       {kib / 2**20:.1f} GiB")
    except (OSError, StopIteration, ValueError):
        pass
    return details


def measure(X, y, threads, timed=True, **params):
    """Fit time, ``n_iter_``, the solver run and the peak traced bytes of a fit.

    The timed fit runs without tracemalloc; the peak is that of a second,
    identical fit, above the traced level at its start.
    """
    estimator = SoftmaxRegression(**params)
    elapsed = timed_fit(estimator, X, y, threads)[0] if timed else None
    peak = peak_memory(estimator, X, y, threads)
    return {
        "time": elapsed,
        "n_iter": int(np.max(estimator.n_iter_)),
        "solver_": estimator.solver_,
        "converged": estimator.converged_,
        "peak": peak,
    }


def _copy_fits(peak, n_samples, n_features):
    # The smallest dense copy of X, in either dtype, takes n d 4 bytes.
    return "yes" if peak >= 4 * n_samples * n_features else "no"


def solver_table(runs, n_samples, n_features, n_classes, X_bytes):
    lines = [
        "### Each solver on float32 X",
        "",
        "| solver | solver_ | fit time (s) | n_iter_ | peak traced memory (MB) | "
        "peak / (n K 4 B) | peak / size of X | a copy of X fits in the peak |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    unit = 4 * n_samples * n_classes
    for solver, run in runs.items():
        lines.append(
            f"| {solver} | {run['solver_']} | {run['time']:.2f} | "
            f"{run['n_iter']}{'' if run['converged'] else ' (not converged)'} | "
            f"{run['peak'] / MB:.1f} | {run['peak'] / unit:.2f} | "
            f"{run['peak'] / X_bytes:.3f} | "
            f"{_copy_fits(run['peak'], n_samples, n_features)} |"
        )
    return lines


def growth_table(peaks, sizes, n_classes):
    """The peak against n, and the line fitted to it, for each solver."""
    header = " | ".join(f"peak at n = {size} (MB)" for size in sizes)
    lines = [
        "### Growth with n (float32 X, the first n rows)",
        "",
        f"| solver | {header} | slope (B per sample) | slope / (K 4 B) | "
        "intercept (MB) | largest distance to the line (MB) |",
        "| --- |" + " ---: |" * (len(sizes) + 4),
    ]
    for solver, by_size in peaks.items():
        values = np.array([by_size[size] for size in sizes], dtype=np.float64)
        slope, intercept = np.polyfit(np.array(sizes, dtype=np.float64), values, 1)
        distance = np.max(np.abs(values - (slope * np.array(sizes) + intercept)))
        cells = " | ".join(f"{value / MB:.1f}" for value in values)
        lines.append(
            f"| {solver} | {cells} | {slope:.1f} | {slope / (4 * n_classes):.2f} | "
            f"{intercept / MB:.2f} | {distance / MB:.2f} |"
        )
    return lines


def layout_table(runs, n_samples, n_features, n_classes):
    lines = [
        "### dtype and memory layout of X (solver='auto')",
        "",
        "| X | precision | solver_ | fit time (s) | n_iter_ | size of X (MB) | "
        "peak traced memory (MB) | peak / (n K 4 B) | peak / (n d 4 B) | "
        "peak / size of X | a copy of X fits in the peak |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    unit = 4 * n_samples * n_classes
    float32_copy = 4 * n_samples * n_features
    for (name, precision, X_bytes), run in runs.items():
        lines.append(
            f"| {name} | {precision} | {run['solver_']} | {run['time']:.2f} | "
            f"{run['n_iter']} | {X_bytes / MB:.1f} | {run['peak'] / MB:.1f} | "
            f"{run['peak'] / unit:.2f} | {run['peak'] / float32_copy:.3f} | "
            f"{run['peak'] / X_bytes:.3f} | "
            f"{_copy_fits(run['peak'], n_samples, n_features)} |"
        )
    return lines


def run(args):
    n_samples, n_features, n_classes = args.n, args.d, args.classes
    start = time.perf_counter()
    X, y = make_data(n_samples, n_features, n_classes)
    n_present = np.unique(y).size
    print(f"(data drawn in {time.perf_counter() - start:.1f} s)", file=sys.stderr)

    runs, peaks = {}, {}
    sizes = [int(fraction * n_samples) for fraction in GROWTH_FRACTIONS]
    for solver in args.solvers:
        runs[solver] = measure(X, y, args.threads, solver=solver)
        peaks[solver] = {n_samples: runs[solver]["peak"]}
        for size in sizes[:-1]:
            # The first rows of a C-ordered array: a view, not a copy.
            peaks[solver][size] = measure(
                X[:size], y[:size], args.threads, timed=False, solver=solver
            )["peak"]
        print(f"  float32 {solver}: done", file=sys.stderr)

    layouts = {
        ("float32, C order", "auto", X.nbytes): (
            runs["auto"] if "auto" in runs else measure(X, y, args.threads)
        )
    }
    if not args.skip_layouts:
        X_fortran = np.asfortranarray(X)
        layouts[("float32, Fortran order", "auto", X.nbytes)] = measure(
            X_fortran, y, args.threads
        )
        del X_fortran
        X64 = X.astype(np.float64)
        for precision in ("full", "auto"):
            layouts[("float64, C order", precision, X64.nbytes)] = measure(
                X64, y, args.threads, precision=precision
            )
        del X64
        print("  layouts and float64: done", file=sys.stderr)

    lines = [
        f"## Memory of a fit: {n_samples} x {n_features}, K = {n_present}, "
        "dense float32",
        "",
        f"X takes {X.nbytes / MB:.1f} MB; one n x K float32 array "
        f"(n K 4 B) {4 * n_samples * n_present / MB:.1f} MB. Peak: the "
        "tracemalloc peak during a fit, above the level at its start.",
        "",
        *solver_table(runs, n_samples, n_features, n_present, X.nbytes),
        "",
        *growth_table(peaks, sorted(sizes), n_present),
        "",
        *layout_table(layouts, n_samples, n_features, n_present),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small default shape, {QUICK_SHAPE[0]} x {QUICK_SHAPE[1]}, to check "
        "that the script works",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help=f"samples (default: {SHAPE[0]}, or {QUICK_SHAPE[0]} with --quick); "
        "the growth table also fits n/4 and n/2",
    )
    parser.add_argument(
        "--d",
        type=int,
        default=None,
        help=f"features (default: {SHAPE[1]}, or {QUICK_SHAPE[1]} with --quick)",
    )
    parser.add_argument(
        "--classes",
        type=int,
        default=N_CLASSES,
        help=f"classes K (default: {N_CLASSES})",
    )
    parser.add_argument(
        "--solvers",
        nargs="+",
        choices=SOLVERS,
        default=SOLVERS,
        help="solvers to fit on float32 X (default: all of them)",
    )
    parser.add_argument(
        "--skip-layouts",
        action="store_true",
        help="leave out the Fortran-ordered and float64 fits, which need another "
        "copy of X (three times its size in all) for the duration",
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    default_n, default_d = QUICK_SHAPE if args.quick else SHAPE
    args.n = default_n if args.n is None else args.n
    args.d = default_d if args.d is None else args.d
    return args


def results_name(args):
    """``memory.md`` for the default shape; other shapes and --quick get a suffix."""
    default_shape = QUICK_SHAPE if args.quick else SHAPE
    name = "memory"
    if (args.n, args.d) != default_shape or args.classes != N_CLASSES:
        name += f"_{args.n}x{args.d}_K{args.classes}"
    return name + ("_quick" if args.quick else "") + ".md"


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    RESULTS_DIR.mkdir(exist_ok=True)
    print_environment(args.threads)
    for line in machine_details():
        print(line)
    print()
    table = run(args)
    print(table)
    (RESULTS_DIR / results_name(args)).write_text(table)
    print(f"(took {time.perf_counter() - start:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Time to a given accuracy on problems drawn at random: SoftmaxRegression's
default against LogisticRegression's fastest solver, on CPU.

The problems of ``bench_cpu.py`` were chosen by the people who tuned the
solvers. This script draws its problems from a fixed distribution with a
seed, and measures each one as ``bench_cpu.py`` measures its own (and with
its functions): a reference optimum ``f*`` from tight fits, then each solver
fitted over a geometric grid of tolerances, loosest first, and the fastest
fit whose relative objective gap ``(f - f*) / f*`` is at most ``1e-6``.
``f*`` is the best objective of the tight fits and of every fit of the
sweeps. Each tight fit runs in a process of its own and is stopped after
``--reference-budget`` seconds (LogisticRegression's 'newton-cg' at
``tol=1e-10`` runs for many minutes on some scaled problems); a stopped fit
is left out of ``f*``, and the report names it.

Solvers, as ``bench_cpu.py`` makes them: ``SoftmaxRegression()`` with its
defaults but ``C``, ``tol`` and ``max_iter=1000`` (``solver='auto'``),
against LogisticRegression's 'lbfgs' (``max_iter=10000``), 'newton-cg',
'newton-cholesky', 'sag' and 'saga' (``max_iter=1000``), at the same
objective (``2 C`` for two classes). The ratio of a problem is
SoftmaxRegression's time over the fastest of LogisticRegression's solvers.
A solver whose sweep reached no ``1e-6`` gap has no time ("not reached"):
its sweep stopped after a fit longer than the budget or one that reached
``max_iter``, or its fits reached the gap only to a reference that a later
fit of another solver improved on.

Each problem is drawn independently:

- ``n`` from {300, 1000, 5000, 20000}, ``d`` from {5, 20, 50, 200}, ``K``
  from {2, 3, 5, 10, 20};
- ``C = 10^u``, ``u`` uniform on [-2, 3];
- ``make_classification`` with one cluster per class, ``class_sep``
  uniform on [0.5, 2], about half the features informative and a quarter
  exact linear combinations of them (collinear features), 1% of the labels
  flipped (its default), and the problem's number as its seed;
- with probability 0.4 class proportions from a flat Dirichlet law
  (imbalanced classes), 0.4 columns scaled by ``10^v``, ``v`` uniform on
  [-2, 2] (unscaled features), 0.4 columns shifted by normal offsets of
  scale 3 (uncentred features), and 0.3 float32 data.

The table of every problem, the geometric mean and median of the ratios,
and the problems where SoftmaxRegression is slower are written to
``results/random.md`` (``results/random_only.md`` for some of them, with
``--only``; ``random_seed<N>`` for another seed).

Run ``python benchmarks/bench_random.py --help`` for the options.
"""

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cpu

N_SAMPLES = (300, 1000, 5000, 20000)
N_FEATURES = (5, 20, 50, 200)
N_CLASSES = (2, 3, 5, 10, 20)
LOG10_C = (-2.0, 3.0)
# The reference fits stopped where none ended in time.
ALL_STOPPED = ["all of them; the problem is not measured"]


@dataclass
class Problem:
    """One drawn problem and how it was drawn."""

    index: int
    X: np.ndarray
    y: np.ndarray
    C: float
    imbalanced: bool
    scaled: bool
    shifted: bool

    def describe(self):
        n, d = self.X.shape
        traits = [
            trait
            for trait, present in (
                ("imbalanced", self.imbalanced),
                ("scaled", self.scaled),
                ("shifted", self.shifted),
            )
            if present
        ]
        return (
            f"{n} x {d}, K = {len(np.unique(self.y))}, C = {self.C:.3g}, "
            f"{self.X.dtype}" + (", " + ", ".join(traits) if traits else "")
        )


def draw_problem(index, rng):
    """The problem of the distribution in the module's docstring, drawn
    from ``rng``; ``index`` seeds ``make_classification``."""
    n = int(rng.choice(N_SAMPLES))
    d = int(rng.choice(N_FEATURES))
    K = int(rng.choice(N_CLASSES))
    C = float(10 ** rng.uniform(*LOG10_C))
    class_sep = float(rng.uniform(0.5, 2.0))
    imbalanced = bool(rng.random() < 0.4)
    scaled = bool(rng.random() < 0.4)
    shifted = bool(rng.random() < 0.4)
    float32 = bool(rng.random() < 0.3)
    proportions = rng.dirichlet(np.ones(K)) if imbalanced else None
    scales = 10 ** rng.uniform(-2, 2, d)
    offsets = rng.normal(0.0, 3.0, d)
    # make_classification needs 2^informative >= K clusters.
    informative = min(d, max(d // 2, math.ceil(math.log2(K)) + 1))
    X, y = make_classification(
        n,
        d,
        n_informative=informative,
        n_redundant=min(d // 4, d - informative),
        n_classes=K,
        n_clusters_per_class=1,
        class_sep=class_sep,
        weights=None if proportions is None else list(proportions[:-1]),
        random_state=index,
    )
    if scaled:
        X *= scales
    if shifted:
        X += offsets
    if float32:
        X = X.astype(np.float32)
    return Problem(index, X, y, C, imbalanced, scaled, shifted)


def make_solvers(X, n_classes, C):
    """``bench_cpu.py``'s solvers: SoftmaxRegression's default, and every
    LogisticRegression solver it runs on this problem."""
    return [
        solver
        for solver in bench_cpu.make_solvers(X, n_classes, C)
        if not solver.skipped
        and (solver.is_reference_side or solver.name.endswith("(default)"))
    ]


def run_problem(problem, threads, budget, reference_budget):
    """The fastest fit to the target gap of each solver on ``problem``:
    SoftmaxRegression's time, LogisticRegression's fastest time and solver
    (None where none reached it), and the reference fits stopped after
    ``reference_budget`` seconds."""
    X, y = problem.X, problem.y
    try:
        f_star, references, _ = bench_cpu.reference_objective(
            X, y, threads, problem.C, budget=reference_budget
        )
    except TimeoutError:
        # No optimum to measure a gap to: the problem is not measured.
        return None, None, None, ALL_STOPPED
    stopped = [name for name, value in references.items() if value is None]
    solvers = make_solvers(X, len(np.unique(y)), problem.C)
    for solver in solvers:
        bench_cpu.sweep(solver, X, y, threads, budget, bench_cpu.TOLS, f_star)
    f_star = min([f_star] + [run["objective"] for s in solvers for run in s.runs])
    for solver in solvers:
        for run in solver.runs:
            run["gap"] = (run["objective"] - f_star) / f_star
    ours = bench_cpu.fastest_to_target(solvers[0])
    theirs = [
        (run["time"], solver.name.split()[-1])
        for solver in solvers[1:]
        if (run := bench_cpu.fastest_to_target(solver)) is not None
    ]
    best_time, best_name = min(theirs) if theirs else (None, None)
    return (ours["time"] if ours else None), best_time, best_name, stopped


def _seconds(value):
    return "not reached" if value is None else f"{value:.3g}"


def report(rows, seed, threads, budget, reference_budget):
    ratios = [
        ours / theirs
        for _, ours, theirs, _, _ in rows
        if ours is not None and theirs is not None
    ]
    lines = [
        f"# Problems drawn at random (seed {seed}: {len(rows)} of them)",
        "",
        "Time to a relative objective gap of 1e-6, in seconds; ratio is "
        "SoftmaxRegression's default over LogisticRegression's fastest solver "
        f"(thread limit {threads or 'left as is'}, a sweep stops after a fit of over "
        f"{budget:g} s; a reference fit is stopped after {reference_budget:g} s).",
        "",
        "| # | problem | SoftmaxRegression | LogisticRegression (fastest) | ratio |",
        "|---|---|---|---|---|",
    ]
    for problem, ours, theirs, name, _ in rows:
        ratio = "-" if ours is None or theirs is None else f"{ours / theirs:.2f}"
        theirs_text = _seconds(theirs) + (f" ({name})" if name else "")
        lines.append(
            f"| {problem.index} | {problem.describe()} | {_seconds(ours)} "
            f"| {theirs_text} | {ratio} |"
        )
    lines.append("")
    if ratios:
        lines.append(
            f"Geometric mean of the ratios: {math.exp(np.mean(np.log(ratios))):.2f} "
            f"over {len(ratios)} problems where both reached the gap; "
            f"median {np.median(ratios):.2f}; SoftmaxRegression slower on "
            f"{sum(r > 1 for r in ratios)}."
        )
    unreached = [
        p.index
        for p, ours, _, _, stopped in rows
        if ours is None and stopped is not ALL_STOPPED
    ]
    if unreached:
        lines.append(f"SoftmaxRegression reached no 1e-6 gap on problems {unreached}.")
    for problem, _, _, _, stopped in rows:
        if stopped:
            lines.append(
                f"Reference fits of #{problem.index} stopped after "
                f"{reference_budget:g} s and left out of f*: {', '.join(stopped)}."
            )
    slower = [
        (ours / theirs, problem)
        for problem, ours, theirs, _, _ in rows
        if ours is not None and theirs is not None and ours > theirs
    ]
    if slower:
        lines += ["", "Where SoftmaxRegression is slower:", ""]
        for ratio, problem in sorted(slower, key=lambda pair: -pair[0]):
            lines.append(f"- #{problem.index}: {ratio:.2f}x, {problem.describe()}")
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    parser.add_argument(
        "--problems", type=int, default=30, help="number of problems to draw"
    )
    parser.add_argument(
        "--only",
        type=int,
        nargs="+",
        default=None,
        metavar="INDEX",
        help="measure only these problems of the draw, by their number, and "
        "write results/random_only.md (default: all, results/random.md)",
    )
    bench_cpu.add_threads_argument(parser)
    parser.add_argument(
        "--budget",
        type=float,
        default=5.0,
        help="stop a solver's tol sweep after a fit longer than this many "
        "seconds (default: 5)",
    )
    parser.add_argument(
        "--reference-budget",
        type=float,
        default=300.0,
        help="stop a tight-tolerance reference fit after this many seconds, "
        "and leave it out of the reference optimum (default: 300)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    bench_cpu.print_environment(args.threads)
    rng = np.random.default_rng(args.seed)
    stem = "random" if args.seed == 0 else f"random_seed{args.seed}"
    name = f"{stem}.md" if args.only is None else f"{stem}_only.md"
    rows, text = [], ""
    for index in range(args.problems):
        problem = draw_problem(index, rng)
        if args.only is not None and index not in args.only:
            continue
        start = time.perf_counter()
        rows.append(
            (
                problem,
                *run_problem(problem, args.threads, args.budget, args.reference_budget),
            )
        )
        print(
            f"#{index}: {problem.describe()}: {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        # Written after every problem, so that a run cut short keeps the
        # problems it finished.
        text = report(rows, args.seed, args.threads, args.budget, args.reference_budget)
        bench_cpu.RESULTS_DIR.mkdir(exist_ok=True)
        (bench_cpu.RESULTS_DIR / name).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""SoftmaxRegression on a dask.distributed cluster against the in-memory fit.

The data (float64, labels from a random softmax model) is generated block by
block on the workers, so that it never passes through this process; its
size is chosen larger than one worker's memory limit. The script

1. starts a ``LocalCluster`` of one worker, then of two, each with
   ``--memory-limit`` of memory, and fits ``SoftmaxRegression`` on the lazy
   dask array (which the fit persists) with each of ``--solvers``, for a
   fixed number of iterations (``tol=0``), so that every fit of a solver
   takes the same steps;
2. takes the cost of an iteration from two fits, of 2 and of ``--max-iter``
   iterations: the difference of their times over that of their
   iterations; the rest of the long fit's time is its setup (generating,
   persisting and checking the data). It reports the bytes the workers sent
   per iteration (to each other and to this process: the parameters and
   the partial sums; read from the workers' counters) and what they
   spilled to disk;
3. computes the same data in this process and fits it in memory with the
   same iterations, and ``LogisticRegression(solver='lbfgs')`` for the same
   number of iterations, on as many BLAS threads as the machine has cores.

A Newton-CG iteration includes its Hessian-vector products, each a round
trip to the workers.

Other modes (``--mode``):

- ``compare``: fits to ``tol=1e-6`` on persisted blocks against the
  in-memory fit, interleaved, best of ``--repeats``: 'lbfgs', 'newton-cg',
  two classes with 'auto', and dask-ml's LogisticRegression on the same
  persisted arrays;
- ``overhead``: one evaluation on ``--blocks`` blocks and ``--workers``
  workers: its time, the busiest worker's time in the blocks' arithmetic,
  and the rest, the overhead;
- ``stream``: Parquet files of at least twice the workers' memory, fitted
  with the setting ``sklearn_softmax.persist`` off: the time per
  evaluation against that of reading the files once.

``--no-spill`` gives the workers memory enough for their share of the data
(three times it), so that the ``fits`` mode measures the cluster without
spilling; without it, ``--memory-limit`` applies as given.

Run ``python benchmarks/bench_dask.py --help`` for the options; ``--save``
writes ``results/dask_cpu.md`` (the ``fits`` mode) or prints the table to
paste.
"""

import argparse
import contextlib
import io
import os
import platform
import re
import tempfile
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import distributed
import numpy as np
import sklearn
import threadpoolctl
from dask.utils import format_bytes, parse_bytes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import sklearn_softmax
from sklearn_softmax import SoftmaxRegression, _dask_engines
from sklearn_softmax._dask import encode_row_blocks, fit_inputs, persist_row_blocks
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._loss_dask import BlockwiseDataTerm, bind_objective

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def labelled_block(X, W, block_info=None):
    """Labels drawn from the softmax model ``W`` for a block of rows, with
    the block's own random generator."""
    scores = X @ W
    rng = np.random.default_rng(block_info[0]["chunk-location"][0])
    return np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)


def make_data(n_samples, n_features, n_classes, chunk_rows, seed=0):
    """A dask array and its labels, generated on the workers."""
    W = np.random.default_rng(seed).standard_normal((n_features, n_classes))
    W *= 2.0 / np.sqrt(n_features)
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), chunks=(chunk_rows, -1))
    y = X.map_blocks(labelled_block, W, dtype=np.int64, drop_axis=1)
    return X, y


def worker_counters(dask_worker):
    data = dask_worker.data
    spilled = getattr(data, "spilled_total", None)
    return {
        "sent": dask_worker.transfer_outgoing_bytes_total,
        "spilled": 0 if spilled is None else spilled.disk,
    }


def counters(client):
    totals = {"sent": 0, "spilled": 0}
    for values in client.run(worker_counters).values():
        for name in totals:
            totals[name] += values[name]
    return totals


def timed_fit(estimator, X, y):
    """The wall time of a fit, and that of its solver alone, read from the
    last row of the table that ``verbose`` prints (its last column, the
    seconds since the solver started)."""
    output = io.StringIO()
    estimator.set_params(verbose=1)
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(output),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        fit_time = time.perf_counter() - start
    rows = re.findall(r"^\s*\d+\s.*\s([0-9.]+)$", output.getvalue(), re.MULTILINE)
    solver_time = float(rows[-1])
    return fit_time, solver_time


def evaluation_costs(objective, n_coef, sent=None, repeats=3):
    """The best time of ``repeats`` evaluations of the objective and its
    gradient, and of as many Hessian-vector products; with ``sent``, a
    function giving the bytes the workers have sent so far, the bytes sent
    per evaluation."""
    x = np.zeros(n_coef)
    _, _, hessp = objective.value_gradient_hessp(x)
    costs = {}
    for name, evaluate in [
        ("gradient", lambda: objective.value_and_gradient(x)),
        ("hessp", lambda: hessp(x + 1.0)),
    ]:
        before = sent() if sent else 0
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            evaluate()
            times.append(time.perf_counter() - start)
        costs[name] = min(times)
        costs[f"{name}_sent"] = (sent() - before) / repeats if sent else float("nan")
    return costs


def cluster_evaluation_costs(client, X, y, n_classes):
    """:func:`evaluation_costs` on the persisted blocks of ``X`` and ``y``."""
    row_blocks = encode_row_blocks(
        persist_row_blocks(*fit_inputs(X, y, None)), np.arange(n_classes), None
    )
    n_samples, n_features = X.shape
    objective = bind_objective(
        row_blocks, n_samples, n_features, n_classes, True, 1 / n_samples, 0.0
    )
    return evaluation_costs(
        objective,
        (n_features + 1) * n_classes,
        sent=lambda: counters(client)["sent"],
    )


@contextlib.contextmanager
def local_client(n_workers, memory_limit, threads=1):
    """A client of a LocalCluster of ``n_workers`` processes of ``threads``
    threads and ``memory_limit`` each, closed on exit."""
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads,
            memory_limit=memory_limit,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def worker_memory(args, n_workers):
    """The memory limit of each worker: ``--memory-limit``, or with
    ``--no-spill`` three times a worker's share of the data."""
    if not args.no_spill:
        return args.memory_limit
    share = args.rows * args.features * 8 / n_workers
    return max(parse_bytes(args.memory_limit), int(3 * share))


def on_cluster(args, n_workers):
    """On a cluster of ``n_workers``: a fit by each solver on the lazy data,
    which the fit persists itself, and the costs of the evaluations on the
    persisted data."""
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    setting = f"dask, {n_workers} worker(s) x {threads} thread(s)"
    with local_client(
        n_workers, worker_memory(args, n_workers), threads=threads
    ) as client:
        X, y = make_data(args.rows, args.features, args.classes, args.chunk_rows)
        fits = []
        for solver in args.solvers:
            model = SoftmaxRegression(solver=solver, tol=0, max_iter=args.max_iter)
            fit_time, solver_time = timed_fit(model, X, y)
            fits.append(fit_row(setting, solver, model, fit_time, solver_time))
            fits[-1]["spilled"] = counters(client)["spilled"]
            print(setting, solver, f"{fits[-1]['per_iter']:.3f} s/iteration")
        costs = cluster_evaluation_costs(client, X, y, args.classes)
    return fits, {"setting": setting, **costs}


def fit_row(setting, solver, model, fit_time, solver_time):
    n_iter = int(np.max(model.n_iter_))
    return {
        "setting": setting,
        "solver": solver,
        "fit": fit_time,
        "solver_time": solver_time,
        "n_iter": n_iter,
        "per_iter": solver_time / n_iter,
        "spilled": 0,
        "coef": model.coef_,
    }


def in_memory(args, n_threads):
    """The same fits in memory, LogisticRegression's, and the costs of the
    in-memory evaluations with the fit's thread count."""
    X, y = dask.compute(
        *make_data(args.rows, args.features, args.classes, args.chunk_rows),
        scheduler="threads",
    )
    setting = f"in memory, {n_threads} thread(s)"
    fits = []
    with threadpoolctl.threadpool_limits(n_threads, user_api="blas"):
        for solver in args.solvers:
            model = SoftmaxRegression(solver=solver, tol=0, max_iter=args.max_iter)
            fit_time, solver_time = timed_fit(model, X, y)
            fits.append(fit_row(setting, solver, model, fit_time, solver_time))
        model = LogisticRegression(tol=0, max_iter=args.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X, y)
            fit_time = time.perf_counter() - start
        fits.append(fit_row(setting, "sklearn lbfgs", model, fit_time, fit_time))
    n_samples, n_features = X.shape
    objective = MultinomialLoss(args.classes, True).bind(
        X, y, None, 1 / n_samples, n_threads=n_threads
    )
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        costs = evaluation_costs(objective, (n_features + 1) * args.classes)
    return fits, {"setting": setting, **costs}


def environment():
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; sklearn-softmax "
        f"{sklearn_softmax.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}"
    )


def fits_table(fits):
    # Each fit is compared with the in-memory fit by the same solver.
    reference = {row["solver"]: row for row in fits if row["setting"].startswith("in")}
    lines = [
        "| setting | solver | fit (s) | setup (s) | iterations | s / iteration "
        "| x in-memory | spilled to disk | max abs coef_ difference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in fits:
        base = reference[row["solver"]]
        lines.append(
            f"| {row['setting']} | {row['solver']} | {row['fit']:.2f} "
            f"| {row['fit'] - row['solver_time']:.2f} | {row['n_iter']} "
            f"| {row['per_iter']:.3f} | {row['per_iter'] / base['per_iter']:.2f} "
            f"| {format_bytes(row['spilled'])} "
            f"| {np.max(np.abs(row['coef'] - base['coef'])):.1e} |"
        )
    return "\n".join(lines)


def costs_table(costs):
    base = costs[0]
    lines = [
        "| setting | gradient (s) | x in-memory | Hessian product (s) "
        "| x in-memory | sent per gradient | sent per Hessian product |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in costs:
        sent = [
            "-" if np.isnan(row[key]) else format_bytes(row[key])
            for key in ("gradient_sent", "hessp_sent")
        ]
        lines.append(
            f"| {row['setting']} | {row['gradient']:.3f} "
            f"| {row['gradient'] / base['gradient']:.2f} | {row['hessp']:.3f} "
            f"| {row['hessp'] / base['hessp']:.2f} | {sent[0]} | {sent[1]} |"
        )
    return "\n".join(lines)


def best_fit(make, X, y, repeats):
    """The best time of ``repeats`` fits of ``make()`` and the last model."""
    times = []
    for _ in range(repeats):
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X, y)
            times.append(time.perf_counter() - start)
    return min(times), model


def iterations(model):
    return int(np.max(getattr(model, "n_iter_", [-1])))


def compare(args):
    """Fits to ``tol=1e-6`` on persisted blocks and in memory, interleaved."""
    from dask_ml.linear_model import LogisticRegression as DaskLogisticRegression

    cases = [
        ("lbfgs", args.classes, {"solver": "lbfgs"}),
        ("newton-cg", args.classes, {"solver": "newton-cg"}),
        ("two classes, auto", 2, {}),
    ]
    rows = []
    with local_client(2, args.memory_limit) as client:
        for name, n_classes, params in cases:
            X, y = make_data(args.rows, args.features, n_classes, args.chunk_rows)
            X, y = client.persist([X, y])
            distributed.wait([X, y])
            X_np, y_np = client.compute([X, y], sync=True)
            times = {"dask": [], "memory": []}
            for _ in range(args.repeats):
                fit_time, model = best_fit(
                    lambda p=params: SoftmaxRegression(tol=1e-6, **p), X, y, 1
                )
                times["dask"].append(fit_time)
                with threadpoolctl.threadpool_limits(2, user_api="blas"):
                    fit_time, reference = best_fit(
                        lambda p=params: SoftmaxRegression(tol=1e-6, **p),
                        X_np,
                        y_np,
                        1,
                    )
                times["memory"].append(fit_time)
            rows.append(
                f"| {name} | {getattr(model, 'solver_', '')} "
                f"| {min(times['dask']):.2f} | {iterations(model)} "
                f"| {min(times['memory']):.2f} | {iterations(reference)} "
                f"| {np.max(np.abs(model.coef_ - reference.coef_)):.1e} |"
            )
            print(rows[-1])
        for solver in ["lbfgs", "newton"]:
            fit_time, model = best_fit(
                lambda s=solver: DaskLogisticRegression(
                    solver=s, tol=1e-6, max_iter=100
                ),
                X,
                y,
                args.repeats,
            )
            rows.append(f"| dask-ml, two classes | {solver} | {fit_time:.2f} | | | | |")
            print(rows[-1])
    return "\n".join(
        [
            "| fit | solver | dask (s) | iterations | in memory, 2 threads (s) "
            "| iterations | max abs coef_ difference |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


def busiest_worker(client, data_term, evaluate):
    """Run ``evaluate()``: its wall time, and the busiest worker's time in
    the blocks' arithmetic, from the actors' own clocks or from the
    scheduler's task stream."""
    actors = getattr(data_term._engine, "actors", None)
    if actors is not None:
        before = [actor.busy().result() for actor in actors]
        start = time.perf_counter()
        evaluate()
        wall = time.perf_counter() - start
        after = [actor.busy().result() for actor in actors]
        return wall, max(b - a for a, b in zip(before, after, strict=True))
    with distributed.get_task_stream(client) as stream:
        start = time.perf_counter()
        evaluate()
        wall = time.perf_counter() - start
    busy = {}
    for task in stream.data:
        for part in task["startstops"]:
            if part["action"] == "compute":
                busy[task["worker"]] = busy.get(task["worker"], 0.0) + (
                    part["stop"] - part["start"]
                )
    return wall, max(busy.values())


def one_evaluation(client, data_term, n_coef, repeats):
    """The best of ``repeats`` evaluations of the gradient: its time, the
    busiest worker's time in the blocks' arithmetic, and the difference."""
    x = np.zeros(n_coef).reshape(data_term.shape)
    data_term.value_and_gradient(x)
    best = None
    for repeat in range(repeats):
        wall, busy = busiest_worker(
            client,
            data_term,
            lambda shift=repeat * 1e-3: data_term.value_and_gradient(x + shift),
        )
        row = (wall, busy, wall - busy)
        best = row if best is None or row[0] < best[0] else best
    return best


def overhead(args):
    """One evaluation against the number of blocks and of workers."""
    lines = [
        "| workers | blocks | rows per block | evaluation (ms) "
        "| busiest worker's arithmetic (ms) | overhead (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for n_workers in args.workers:
        with local_client(n_workers, args.memory_limit) as client:
            for n_blocks in args.blocks:
                chunk_rows = args.rows // n_blocks
                X, y = make_data(args.rows, args.features, args.classes, chunk_rows)
                blocks = encode_row_blocks(
                    persist_row_blocks(*fit_inputs(X, y, None)),
                    np.arange(args.classes),
                    None,
                )
                data_term = BlockwiseDataTerm(
                    blocks, args.rows, args.features, args.classes, True
                )
                wall, busy, rest = one_evaluation(
                    client,
                    data_term,
                    (args.features + 1) * args.classes,
                    args.repeats,
                )
                lines.append(
                    f"| {n_workers} | {n_blocks} | {chunk_rows} | {1e3 * wall:.1f} "
                    f"| {1e3 * busy:.1f} | {1e3 * rest:.1f} |"
                )
                print(lines[-1])
                del data_term, blocks
    return "\n".join(lines)


def write_parquet(directory, args):
    """The data as Parquet files, one per block, written block by block."""
    import pandas as pd

    X, y = make_data(args.rows, args.features, args.classes, args.chunk_rows)
    columns = [f"x{j}" for j in range(args.features)]
    for index in range(X.numblocks[0]):
        X_block, y_block = dask.compute(
            X.blocks[index], y.blocks[index], scheduler="threads"
        )
        frame = pd.DataFrame(X_block, columns=columns)
        frame["label"] = y_block
        frame.to_parquet(Path(directory) / f"part-{index:05d}.parquet")


def stream(args):
    """Fits of Parquet files without persisting them: the time per
    evaluation against that of reading the files once."""
    import dask.dataframe as dd

    n_bytes = args.rows * args.features * 8
    memory = 2 * parse_bytes(args.memory_limit)
    if n_bytes < 2 * memory:
        raise SystemExit(
            f"--mode stream measures data of at least twice the workers' "
            f"memory: {format_bytes(n_bytes)} of data for 2 workers x "
            f"{args.memory_limit}; raise --rows to at least "
            f"{-(-2 * memory // (args.features * 8))} or lower --memory-limit."
        )
    lines = []
    with tempfile.TemporaryDirectory() as directory:
        write_parquet(directory, args)
        with local_client(2, args.memory_limit):
            data = dd.read_parquet(directory)
            start = time.perf_counter()
            data.sum().compute()
            read_time = time.perf_counter() - start
            lines.append(
                f"data {format_bytes(n_bytes)} in memory, workers 2 x "
                f"{args.memory_limit}; reading the files once: {read_time:.2f} s"
            )
            for solver in args.solvers:
                model = SoftmaxRegression(solver=solver, tol=0, max_iter=args.max_iter)
                with dask.config.set({"sklearn_softmax.persist": False}):
                    fit_time, solver_time = timed_fit(
                        model, data.drop(columns="label"), data["label"]
                    )
                n_iter = int(np.max(model.n_iter_))
                lines.append(
                    f"{solver}: {n_iter} iterations, fit {fit_time:.2f} s, "
                    f"{solver_time / n_iter:.2f} s per iteration "
                    f"({solver_time / n_iter / read_time:.2f} reads of the files)"
                )
                print(lines[-1])
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--max-iter", type=int, default=15)
    parser.add_argument("--solvers", nargs="+", default=["lbfgs", "newton-cg"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--save", action="store_true")
    parser.add_argument(
        "--mode", choices=["fits", "compare", "overhead", "stream"], default="fits"
    )
    parser.add_argument("--no-spill", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blocks", nargs="+", type=int, default=[8, 32, 128, 512])
    parser.add_argument(
        "--engine",
        choices=["auto", "tasks"],
        default="auto",
        help="'tasks' evaluates by tasks on the blocks' futures, as the fit "
        "does where the blocks take more than half the workers' memory; "
        "'auto' lets the fit choose (actors where the blocks fit)",
    )
    args = parser.parse_args()
    if args.engine == "tasks":
        _dask_engines._ACTOR_MEMORY_SHARE = 0.0
    if args.mode != "fits":
        print(f"{environment()}; engine: {args.engine}")
        table = {"compare": compare, "overhead": overhead, "stream": stream}[args.mode](
            args
        )
        print(table)
        return

    n_bytes = args.rows * args.features * 8
    limit = parse_bytes(args.memory_limit)
    print(environment())
    print(
        f"X: {args.rows} x {args.features} float64 = {format_bytes(n_bytes)}, "
        f"K = {args.classes}, blocks of {args.chunk_rows} rows; memory limit "
        f"per worker {format_bytes(limit)}"
    )
    fits, memory_costs = in_memory(args, os.cpu_count() or 1)
    costs = [memory_costs]
    for n_workers in args.workers:
        cluster_fits, cluster_costs = on_cluster(args, n_workers)
        fits += cluster_fits
        costs.append(cluster_costs)
    result = f"{fits_table(fits)}\n\n{costs_table(costs)}"
    print(result)
    if args.save:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / "dask_cpu.md"
        path.write_text(
            "# SoftmaxRegression on a dask.distributed cluster\n\n"
            f"{environment()}.\n\n"
            f"X: {args.rows} x {args.features} float64 "
            f"({format_bytes(n_bytes)}), K = {args.classes}, blocks of "
            f"{args.chunk_rows} rows; memory limit per worker "
            f"{format_bytes(limit)}; {args.max_iter} iterations (tol=0).\n\n"
            f"{result}\n"
        )
        print(f"saved {path}")


if __name__ == "__main__":
    main()

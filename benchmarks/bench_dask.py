"""Benchmark AnalyticLogisticRegression on dask: refined fits against dask-ml, and
the closed form against a partial_fit loop.

Part ``solvers`` (default): ``AnalyticLogisticRegression(refine_iter=100)`` on
a ``distributed.LocalCluster`` (2 worker processes x 1 thread) against dask-ml's
``LogisticRegression`` (solvers lbfgs, newton, admm) on the same cluster, for a
binary problem and a multinomial one (``--classes``, 10 by default) that
dask-ml cannot fit. Data: ``--rows x --features`` float64 standard normal rows,
generated block by block (``dask.array.random``) and persisted on the workers
before each fit, with labels drawn from a logistic (softmax) model. Each
method runs in its own process with its own cluster and reports its wall time,
the graphs it computed (each a pass over the data; counted by a scheduler
plugin), the workers' peak RSS, and the distance of its coefficients to the
exact optimum of ``sum log_loss + ||W||^2 / (2 C)``: scikit-learn's
``LogisticRegression(solver="newton-cholesky", tol=1e-10)`` on the whole data
held in memory (binary), or the in-memory
``AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-10)`` (multinomial),
itself checked against scikit-learn on a 100 000-row subsample.

Part ``closed-form``: the dask fit of the closed form against a partial_fit
loop over the same blocks, with ``X^T X`` as the reference (see
``closed_form_main``).

Run ``python benchmarks/bench_dask.py`` (``--quick`` for a smoke run; the
issue's full size is ``--rows 10000000``, about 8 GB, which needs that much
free memory on the workers plus the in-memory reference fit).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import datetime
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import cpu_model

SEED = 0
N_CLASSES = 3
SUBSAMPLE = 100_000


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _labels(block):
    score = block[:, 0] + 0.5 * block[:, 1]
    return (score > -0.5).astype(np.int64) + (score > 0.7)


def make_data(rows, features, chunk_rows):
    """Lazy X (rows x features, float64) and y, generated block by block."""
    import dask.array as da

    X = da.random.default_rng(SEED).standard_normal(
        (rows, features), chunks=(chunk_rows, features)
    )
    y = X.map_blocks(_labels, drop_axis=1, dtype=np.int64)
    return X, y


def start_cluster():
    from distributed import Client, LocalCluster

    # closing the cluster right after the run makes the nannies warn that they
    # kill their workers; that is the intended end, not a problem
    logging.getLogger("distributed.nanny").setLevel(logging.ERROR)

    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=":0",
    )
    return cluster, Client(cluster)


def _import_skprob():
    import skprob  # noqa: F401


def worker_peaks_mb(client):
    return sorted(client.run(peak_rss_mb).values())


def run_dask(kind, rows, features, chunk_rows):
    """One measurement on a fresh 2-worker cluster (child process)."""
    from skprob import AnalyticLogisticRegression

    X, y = make_data(rows, features, chunk_rows)
    cluster, client = start_cluster()
    try:
        # the workers import skprob (and scikit-learn) once, outside the timing,
        # as the loop's process does before its timer starts
        client.run(_import_skprob)
        baseline = worker_peaks_mb(client)
        start = time.perf_counter()
        if kind == "fit":
            model = AnalyticLogisticRegression().fit(X, y)
            extra = {
                "coef": model.coef_.tolist(),
                "intercept": model.intercept_.tolist(),
            }
        elif kind == "gemm":
            (X.T @ X).compute()
            extra = {}
        else:
            X.sum(axis=0).compute()
            extra = {}
        seconds = time.perf_counter() - start
        workers = worker_peaks_mb(client)
    finally:
        client.close()
        cluster.close()
    return {
        "seconds": seconds,
        "worker_baseline_mb": baseline,
        "worker_peak_mb": workers,
        "client_peak_mb": peak_rss_mb(),
        **extra,
    }


def run_loop(rows, features, chunk_rows):
    """partial_fit over the same blocks, one at a time, in this process."""
    import dask

    from skprob import AnalyticLogisticRegression

    X, y = make_data(rows, features, chunk_rows)
    baseline = peak_rss_mb()
    model = AnalyticLogisticRegression()
    classes = np.arange(N_CLASSES)
    start = time.perf_counter()
    for i in range(X.numblocks[0]):
        X_block, y_block = dask.compute(
            X.blocks[i], y.blocks[i], scheduler="synchronous"
        )
        model.partial_fit(X_block, y_block, classes=classes)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
        "coef": model.coef_.tolist(),
        "intercept": model.intercept_.tolist(),
    }


def measure(method, rows, features, chunk_rows, *extra, timeout=None):
    """Run ``method`` in a fresh interpreter and return its JSON result.

    None when it ran past ``timeout`` seconds (the process is killed).
    """
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--child",
            method,
            "--rows",
            str(rows),
            "--features",
            str(features),
            "--chunk-rows",
            str(chunk_rows),
            "--child-output",
            out.name,
            *extra,
        ]
        try:
            subprocess.run(command, check=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return json.loads(Path(out.name).read_text())


def closed_form_main(args):
    """The dask fit of the closed form against a partial_fit loop and X^T X.

    Data: ``rows x features`` standard normal rows with three classes derived
    from the first two features, generated block by block, the same blocks in
    every method. Methods, each in a fresh process so that its peak memory
    (``getrusage`` max RSS) is its own: the dask fit (peak RSS of each worker
    and of the client, which also runs the scheduler); a partial_fit loop
    over the same blocks made one at a time (synchronous scheduler);
    references on the same cluster: a column sum (the cost of producing the
    blocks) and ``X^T X`` (one GEMM, dask's blockwise matmul). The dask fit
    is repeated at a tenth of the rows and with 4x the block: peak memory
    follows the block size, not the data size.
    """
    import dask
    import distributed
    import sklearn

    rows, features, chunk = args.rows, args.features, args.chunk_rows
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}"
    )
    print(
        f"data: {rows:,} x {features} float64 = {rows * features * 8 / 1e9:.2f} GB, "
        f"{N_CLASSES} classes, generated block by block; cluster: 2 worker "
        "processes x 1 thread, loopback"
    )
    print("peak = max RSS of the process since it started (getrusage)\n")

    block_mb = chunk * features * 8 / 2**20
    configurations = [
        (rows // 10, chunk, ["fit"]),
        (rows, chunk, ["generate", "gemm", "fit", "loop"]),
        (rows, 4 * chunk, ["fit"]),
    ]
    names = {
        "generate": "generate only (sum)",
        "gemm": "X^T X (dask matmul)",
        "fit": "dask fit",
        "loop": "partial_fit loop",
    }
    header = (
        f"{'rows':>12} {'block MB':>9} {'method':<22} {'time s':>8} "
        f"{'/ X^T X':>8} {'worker peaks MB':>17} {'client MB':>10}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for n_rows, chunk_rows, methods in configurations:
        this_block_mb = chunk_rows * features * 8 / 2**20
        for method in methods:
            result = measure(method, n_rows, features, chunk_rows)
            results[(n_rows, chunk_rows, method)] = result
            gemm = results.get((n_rows, chunk_rows, "gemm"))
            ratio = f"{result['seconds'] / gemm['seconds']:8.2f}" if gemm else " " * 8
            if method == "loop":
                workers, client = "(one process)", f"{result['peak_mb']:10.0f}"
            else:
                workers = " / ".join(f"{p:.0f}" for p in result["worker_peak_mb"])
                client = f"{result['client_peak_mb']:10.0f}"
            print(
                f"{n_rows:>12,} {this_block_mb:9.0f} {names[method]:<22} "
                f"{result['seconds']:8.1f} {ratio} {workers:>17} {client}",
                flush=True,
            )

    fit = results[(rows, chunk, "fit")]
    loop = results[(rows, chunk, "loop")]
    small = results[(rows // 10, chunk, "fit")]
    big_block = results[(rows, 4 * chunk, "fit")]
    coef_fit, coef_loop = np.array(fit["coef"]), np.array(loop["coef"])
    difference = np.max(np.abs(coef_fit - coef_loop)) / np.max(np.abs(coef_loop))
    print()
    print(f"dask fit / partial_fit loop time: {fit['seconds'] / loop['seconds']:.2f}")
    print(f"max |coef dask - coef loop| / max |coef|: {difference:.1e}")
    print(
        f"worker RSS after start-up and import: {fit['worker_baseline_mb'][0]:.0f} MB; "
        f"block: {block_mb:.0f} MB"
    )
    growth_rows = max(fit["worker_peak_mb"]) - max(small["worker_peak_mb"])
    growth_block = max(big_block["worker_peak_mb"]) - max(fit["worker_peak_mb"])
    print(
        f"worker peak, 10x the rows (same block): {growth_rows:+.0f} MB; "
        f"4x the block (same rows): {growth_block:+.0f} MB"
    )


SOLVER_METHODS = ["alr", "alr-mid", "alr-tight", "lbfgs", "newton", "admm"]


def _draw_labels(X, U, n_classes):
    """Labels of a logistic (softmax) model with fixed true coefficients."""
    rng = np.random.default_rng(SEED + 7)
    n_features = X.shape[1]
    n_rows = 1 if n_classes == 2 else n_classes
    # scores of standard deviation about 2: classes overlap, the optimum is
    # interior
    W = rng.normal(scale=2.0 / np.sqrt(n_features), size=(n_features, n_rows))
    scores = X @ W + np.linspace(-0.5, 0.5, n_rows)
    if n_classes == 2:
        return (U[:, 0] < 1.0 / (1.0 + np.exp(-scores[:, 0]))).astype(np.int64)
    # Gumbel-max: argmax of scores plus Gumbel noise is a softmax draw
    return np.argmax(scores - np.log(-np.log(U)), axis=1).astype(np.int64)


def make_problem(rows, features, n_classes, chunk_rows):
    """Lazy X and y of the solver comparison, generated block by block."""
    import dask.array as da

    X = da.random.default_rng(SEED).standard_normal(
        (rows, features), chunks=(chunk_rows, features)
    )
    n_uniform = 1 if n_classes == 2 else n_classes
    U = da.random.default_rng(SEED + 1).random(
        (rows, n_uniform), chunks=(chunk_rows, n_uniform)
    )
    y = da.map_blocks(_draw_labels, X, U, n_classes, drop_axis=1, dtype=np.int64)
    return X, y


class _GraphCounter:
    """Scheduler plugin counting the graphs submitted (one per pass)."""

    name = "graph-counter"

    def __init__(self):
        self.count = 0

    def update_graph(self, scheduler, **kwargs):
        self.count += 1


def _graph_count(dask_scheduler):
    return dask_scheduler.plugins["graph-counter"].count


def run_solver(method, rows, features, chunk_rows, n_classes):
    """One refined fit on a fresh 2-worker cluster (child process)."""
    import dask
    from distributed.diagnostics.plugin import SchedulerPlugin

    X, y = make_problem(rows, features, n_classes, chunk_rows)
    cluster, client = start_cluster()
    try:
        client.run(_import_skprob)
        counter = type("GraphCounter", (_GraphCounter, SchedulerPlugin), {})()
        client.register_plugin(counter)
        X, y = dask.persist(X, y)
        # wait for the blocks: the timing starts with the data on the workers
        from distributed import wait

        wait([X, y])
        baseline = worker_peaks_mb(client)
        graphs_before = client.run_on_scheduler(_graph_count)
        start = time.perf_counter()
        extra = {}
        try:
            model = _fit_solver(method, X, y)
        except Exception as error:  # dask-ml's refusals are part of the result
            seconds = time.perf_counter() - start
            return {"error": f"{type(error).__name__}: {error}", "seconds": seconds}
        seconds = time.perf_counter() - start
        graphs = client.run_on_scheduler(_graph_count) - graphs_before
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
        if method.startswith("alr"):
            extra = {"n_iter": int(model.n_iter_[0]), "n_passes": int(model.n_passes_)}
        workers = worker_peaks_mb(client)
    finally:
        client.close()
        cluster.close()
    return {
        "seconds": seconds,
        "graphs": graphs,
        "worker_baseline_mb": baseline,
        "worker_peak_mb": workers,
        "coef": coef.tolist(),
        "intercept": intercept.tolist(),
        **extra,
    }


def _fit_solver(method, X, y):
    if method.startswith("alr"):
        from skprob import AnalyticLogisticRegression

        tol = {"alr": 1e-4, "alr-mid": 1e-6, "alr-tight": 1e-8}[method]
        return AnalyticLogisticRegression(refine_iter=100, refine_tol=tol).fit(X, y)
    from dask_ml.linear_model import LogisticRegression as DaskLogisticRegression

    # C=1 and an intercept, as scikit-learn's default (dask-glm's penalty
    # 1 / C also covers the intercept and acts on standardised columns)
    return DaskLogisticRegression(solver=method, C=1.0, max_iter=100).fit(X, y)


def _reference(rows, features, n_classes, chunk_rows):
    """Exact optimum of the penalised log-loss (coef, intercept) and checks."""
    import dask
    from sklearn.linear_model import LogisticRegression

    from skprob import AnalyticLogisticRegression

    X, y = dask.compute(*make_problem(rows, features, n_classes, chunk_rows))
    notes = {}
    tight = dict(C=1.0, solver="newton-cholesky", tol=1e-10, max_iter=100)
    if n_classes == 2:
        start = time.perf_counter()
        reference = LogisticRegression(**tight).fit(X, y)
        notes["sklearn newton-cholesky s"] = time.perf_counter() - start
        coef, intercept = reference.coef_, reference.intercept_
    else:
        # scikit-learn's multinomial solvers take too long on all the rows:
        # the in-memory refinement at a tight tolerance is the optimum,
        # checked against scikit-learn on a subsample
        refined = AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-10)
        coef = refined.fit(X, y).coef_
        intercept = refined.intercept_
        sub = slice(0, min(SUBSAMPLE, rows))
        check = LogisticRegression(**tight).fit(X[sub], y[sub])
        small = AnalyticLogisticRegression(refine_iter=100, refine_tol=1e-10).fit(
            X[sub], y[sub]
        )
        notes["subsample: max |ALR - sklearn| / max |coef|"] = float(
            np.max(np.abs(small.coef_ - check.coef_)) / np.max(np.abs(check.coef_))
        )
    # the same refinement in memory: what the dask fit must reproduce
    in_memory = AnalyticLogisticRegression(refine_iter=100).fit(X, y)
    return coef, intercept, in_memory, notes


def _distance(result, coef, intercept):
    """Largest coefficient difference over the largest coefficient."""
    fitted = np.column_stack([np.array(result["coef"]), result["intercept"]])
    exact = np.column_stack([coef, intercept])
    if fitted.shape != exact.shape:
        return float("nan")
    if exact.shape[0] > 1:
        # softmax intercepts are defined up to a shift: compare them centred
        fitted[:, -1] -= fitted[:, -1].mean()
        exact[:, -1] -= exact[:, -1].mean()
    return float(np.max(np.abs(fitted - exact)) / np.max(np.abs(exact)))


def solvers_main(args):
    import dask
    import distributed
    import sklearn

    rows, features, chunk = args.rows, args.features, args.chunk_rows
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the start; python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, dask-ml {_version('dask_ml')}"
    )
    block_mb = chunk * features * 8 / 2**20
    print(
        f"data: {rows:,} x {features} float64 = {rows * features * 8 / 1e9:.2f} GB "
        f"in blocks of {chunk:,} rows ({block_mb:.0f} MiB), persisted on a "
        "LocalCluster of 2 worker processes x 1 thread before each fit"
    )
    for n_classes in (2, args.classes):
        coef, intercept, in_memory, notes = _reference(rows, features, n_classes, chunk)
        print(f"\n== {n_classes} classes ==")
        for key, value in notes.items():
            print(f"reference: {key}: {value:.3g}")
        header = (
            f"{'method':<34} {'time s':>8} {'passes':>7} {'worker peak MB':>16} "
            f"{'over start MB':>14} {'distance':>9}"
        )
        print(header)
        print("-" * len(header))
        # dask-ml's LogisticRegression is binary: given 10 labels it fits one
        # coefficient vector to them as if they were 0/1 (no error), so the
        # multinomial case has no dask-ml row
        methods = SOLVER_METHODS if n_classes == 2 else ["alr", "alr-mid", "alr-tight"]
        for method in methods:
            timeout = args.admm_timeout if method == "admm" else None
            result = measure(
                "solver",
                rows,
                features,
                chunk,
                "--solver",
                method,
                "--classes",
                str(n_classes),
                timeout=timeout,
            )
            name = _solver_name(method)
            if result is None:
                print(f"{name:<34} did not finish in {timeout} s (killed)")
                continue
            if "error" in result:
                print(f"{name:<34} {result['seconds']:8.1f} refused: {result['error']}")
                continue
            peaks = " / ".join(f"{p:.0f}" for p in result["worker_peak_mb"])
            growth = max(
                p - b
                for p, b in zip(result["worker_peak_mb"], result["worker_baseline_mb"])
            )
            passes = result.get("n_passes", result["graphs"])
            print(
                f"{name:<34} {result['seconds']:8.1f} {passes:7d} {peaks:>16} "
                f"{growth:14.0f} {_distance(result, coef, intercept):9.1e}",
                flush=True,
            )
            if method == "alr":
                same = _distance(
                    result, in_memory.coef_, np.atleast_1d(in_memory.intercept_)
                )
                print(
                    f"{'':<34} Newton steps {result['n_iter']}, graphs "
                    f"{result['graphs']}; max difference to the in-memory "
                    f"fit: {same:.1e}"
                )


def _solver_name(method):
    return {
        "alr": "ALR(refine_iter=100) dask",
        "alr-mid": "ALR(refine_iter=100, tol=1e-6)",
        "alr-tight": "ALR(refine_iter=100, tol=1e-8)",
        "lbfgs": "dask-ml LogisticRegression lbfgs",
        "newton": "dask-ml LogisticRegression newton",
        "admm": "dask-ml LogisticRegression admm",
    }[method]


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["solvers", "closed-form"], default="solvers")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    # dask-ml's admm did not finish in minutes on 100 000 x 20 rows: it gets
    # this many seconds, and its outcome is recorded as it is
    parser.add_argument("--admm-timeout", type=int, default=600)
    parser.add_argument(
        "--child", choices=["fit", "gemm", "generate", "loop", "solver"]
    )
    parser.add_argument("--solver", choices=SOLVER_METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows is None:
        args.rows = 1_000_000 if args.part == "solvers" else 10_000_000
    if args.quick:
        args.rows, args.features, args.chunk_rows = 200_000, 20, 20_000
        args.admm_timeout = 60

    if args.child:
        if args.child == "solver":
            result = run_solver(
                args.solver, args.rows, args.features, args.chunk_rows, args.classes
            )
        elif args.child == "loop":
            result = run_loop(args.rows, args.features, args.chunk_rows)
        else:
            result = run_dask(args.child, args.rows, args.features, args.chunk_rows)
        Path(args.child_output).write_text(json.dumps(result))
        return
    if args.part == "solvers":
        solvers_main(args)
    else:
        closed_form_main(args)


if __name__ == "__main__":
    main()

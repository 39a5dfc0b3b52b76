"""Benchmark the dask fit of AnalyticLogisticRegression against a partial_fit loop.

Question: Does the dask fit of AnalyticLogisticRegression keep peak memory set
by the block size rather than the data size, at a time close to one pass over the
data?

Data: ``rows x features`` float64 standard normal rows (10^7 x 100 = 8 GB by
default) with three classes derived from the first two features. The data is
never held whole: ``dask.array.random`` generates it block by block, the same
blocks in every method.

Methods, each run in its own fresh Python process so that its peak memory
(``getrusage`` max RSS) is its own:

- ``dask fit``: ``AnalyticLogisticRegression().fit(X_dask, y_dask)`` on a
  ``distributed.LocalCluster`` of 2 worker processes with 1 thread each;
  peak RSS of each worker and of the client process (which also runs the
  scheduler).
- ``partial_fit loop``: one process generating the same blocks one at a time
  (synchronous dask scheduler) and calling ``partial_fit`` on each.
- references on the same cluster: ``generate only`` (a column sum: the cost of
  producing the blocks) and ``X^T X`` (one GEMM over the same data, dask's
  own blockwise matmul).

The table repeats the dask fit at two data sizes with the same block size and
at one data size with a larger block: peak memory follows the block size, not
the data size. The dask and loop coefficients are compared (max relative
difference).

Run ``python benchmarks/bench_dask.py`` (``--quick`` for a smoke run).
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
        dashboard_address=None,
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


def measure(method, rows, features, chunk_rows):
    """Run ``method`` in a fresh interpreter and return its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
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
            ],
            check=True,
        )
        return json.loads(Path(out.name).read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--child", choices=["fit", "gemm", "generate", "loop"])
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.features, args.chunk_rows = 200_000, 20, 20_000

    if args.child:
        if args.child == "loop":
            result = run_loop(args.rows, args.features, args.chunk_rows)
        else:
            result = run_dask(args.child, args.rows, args.features, args.chunk_rows)
        Path(args.child_output).write_text(json.dumps(result))
        return

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


if __name__ == "__main__":
    main()

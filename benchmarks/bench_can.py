"""Benchmark CANCalibrator: predict time against the base model, prior-shift accuracy.

Question: What does CANCalibrator cost at predict time, and how much accuracy
does it recover when the class prior at prediction time is not the one the base
model assumes?

Timing: 10^5 rows x 100 classes, a LogisticRegression base, a reference set of
about 10^4 confident rows. CANCalibrator.predict_proba (n_iter=1, closed form)
against the base model's predict_proba alone, against sklearn's
CalibratedClassifierCV (temperature) post-processing, against one pass over the
probability matrix and one row sort (physical references), and against the
per-row loop of the original code (timed on a subset, extrapolated).

Accuracy: 10 classes with frequencies from 1 to 1/50; base models that predict
as if the classes were balanced. CAN with the training prior against the base,
CalibratedClassifierCV and GaussianNB with the fitted class prior (the exact
Bayes correction, available only because the base is generative).

Threads: fit time of a grid search over CANCalibrator with the process's BLAS
threads (``blas_threads=None``) and with one (the default), beside the same
search over CalibratedClassifierCV; then one fit on a larger problem.

Run ``python benchmarks/bench_can.py`` (a few minutes), ``--quick``, or one
part with ``--part timing|prior-shift|threads|dask``.

Dask: a fit on a dask array (synchronous scheduler) against the same fit in
memory.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time
import warnings

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time, markdown_table
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_info, threadpool_limits

from skprob import AnalyticLogisticRegression, CANCalibrator
from skprob._backend import get_namespace
from skprob._can import _adjust, _doubtful, _uncertainty
from skprob._datasets import make_skewed_classes


def interleaved_times(funcs, repeat):
    """Best time of each function, run in turn so a busy neighbour slows all alike.

    Also returns, for each function, the median over rounds of its time divided
    by the first function's time in the same round.
    """
    times = np.empty((repeat, len(funcs)))
    for r in range(repeat):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            func()
            times[r, i] = time.perf_counter() - start
    return times.min(axis=0), np.median(times / times[:, :1], axis=0)


def loop_row(A, p, prior, alpha, n_iter):
    """The original code's adjustment of one row."""
    Y = np.concatenate([A, p[None, :]], axis=0)
    for _ in range(n_iter):
        Y = Y**alpha
        Y /= Y.sum(axis=0, keepdims=True)
        Y *= prior[None, :]
        Y /= Y.sum(axis=1, keepdims=True)
    return Y[-1]


def print_table(title, header, rows):
    print(markdown_table(header, rows, title=title))
    print()


def timing(n_test, n_classes, n_reference, repeat, loop_rows, class_sep):
    n_features = 64
    weights = np.geomspace(1.0, 1.0 / 20, n_classes)
    n_train, n_pool = 20_000, 6 * n_reference
    X, y = make_classification(
        n_samples=n_train + n_pool + n_test,
        n_features=n_features,
        n_informative=40,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=weights / weights.sum(),
        class_sep=class_sep,
        random_state=0,
    )
    X_train, y_train = X[:n_train], y[:n_train]
    X_test = X[n_train + n_pool :]
    base = LogisticRegression(C=0.01, max_iter=100).fit(X_train, y_train)
    # Calibration rows up to the one that makes the reference n_reference long.
    X_pool, y_pool = X[n_train : n_train + n_pool], y[n_train : n_train + n_pool]
    P_pool = base.predict_proba(X_pool)
    xp, _ = get_namespace(P_pool)
    confident = _uncertainty(P_pool, k=3, rule="top-k", xp=xp) < 0.9
    n_cal = int(np.searchsorted(np.cumsum(confident), n_reference)) + 1
    X_cal, y_cal = X_pool[:n_cal], y_pool[:n_cal]
    # The original method's settings: this measures the adjustment path, which the
    # default search could switch off.
    can = CANCalibrator(FrozenEstimator(base), threshold=0.9, alpha=1.0)
    can.fit(X_cal, y_cal)
    temperature = CalibratedClassifierCV(
        FrozenEstimator(base), method="temperature"
    ).fit(X_cal, y_cal)

    P = base.predict_proba(X_test)
    doubtful = _uncertainty(P, k=3, rule="top-k", xp=xp) >= can.threshold_
    A, prior = can.reference_, can.prior_

    (t_base, t_can, t_temp), (_, ratio_can, ratio_temp) = interleaved_times(
        [
            lambda: base.predict_proba(X_test),
            lambda: can.predict_proba(X_test),
            lambda: temperature.predict_proba(X_test),
        ],
        3 * repeat,
    )
    t_pass, _ = best_time(lambda: P.sum(axis=1), repeat)
    t_sort, _ = best_time(lambda: np.sort(P, axis=1), repeat)
    t_unc, _ = best_time(
        lambda: _doubtful(P, k=3, rule="top-k", threshold=0.9, xp=xp), repeat
    )
    rows = P[doubtful]
    colsum = can._reference_colsum
    t_adj, _ = best_time(lambda: _adjust(rows, A, prior, 1.0, 1, xp, colsum), repeat)
    # The original per-row loop: time a subset, scale to every doubtful row.
    subset = rows[:loop_rows]
    t_loop = best_time(lambda: [loop_row(A, p, prior, 1.0, 1) for p in subset])[0] * (
        rows.shape[0] / subset.shape[0]
    )
    # n_iter=3: batched products against the per-row loop, per adjusted row.
    batch = rows[: 20 * loop_rows]
    t_iter3 = (
        best_time(lambda: _adjust(batch, A, prior, 1.0, 3, xp))[0] / batch.shape[0]
    )
    t_loop3 = (
        best_time(lambda: [loop_row(A, p, prior, 1.0, 3) for p in subset])[0]
        / subset.shape[0]
    )

    ms = 1e3
    print_table(
        f"predict_proba, {n_test} rows x {n_classes} classes, reference "
        f"{A.shape[0]} rows, {doubtful.mean():.1%} of rows doubtful "
        f"(LogisticRegression base, {n_features} features)",
        ["step", "time (ms)", "/ base predict_proba", "/ one pass over P"],
        [
            [name, f"{t * ms:.1f}", f"{t / t_base:.2f}", f"{t / t_pass:.1f}"]
            for name, t in [
                ("base predict_proba (LogisticRegression)", t_base),
                ("CANCalibrator predict_proba, n_iter=1", t_can),
                ("  of which: finding doubtful rows (sort, entropy)", t_unc),
                ("  of which: closed-form adjustment of those rows", t_adj),
                ("CalibratedClassifierCV(temperature) predict_proba", t_temp),
                ("one pass over P (row sums)", t_pass),
                ("one row sort of P (np.sort)", t_sort),
                ("original per-row loop, n_iter=1 (extrapolated)", t_loop),
            ]
        ],
    )
    print(
        f"median over {3 * repeat} interleaved rounds of time / base time: "
        f"CANCalibrator {ratio_can:.2f}, CalibratedClassifierCV {ratio_temp:.2f}\n"
    )
    print_table(
        "n_iter=3 per adjusted row (batched products vs per-row loop)",
        ["method", "time per row (us)", "speed-up"],
        [
            [
                "CANCalibrator, batched",
                f"{t_iter3 * 1e6:.1f}",
                f"{t_loop3 / t_iter3:.0f}x",
            ],
            ["original per-row loop", f"{t_loop3 * 1e6:.1f}", "1x"],
        ],
    )


def prior_shift(n_samples, seeds):
    n_classes = 10
    uniform = np.full(n_classes, 1.0 / n_classes)
    balanced_lr = dict(class_weight="balanced", max_iter=1000)
    # (label, label of the base it is compared with, factory)
    models = [
        (
            "GaussianNB(uniform priors)",
            "GaussianNB(uniform priors)",
            lambda: GaussianNB(priors=uniform),
        ),
        (
            "  + CANCalibrator() (default: searched)",
            "GaussianNB(uniform priors)",
            lambda: CANCalibrator(GaussianNB(priors=uniform)),
        ),
        (
            "  + CANCalibrator(alpha=1, threshold=0.9) (original)",
            "GaussianNB(uniform priors)",
            lambda: CANCalibrator(GaussianNB(priors=uniform), alpha=1.0, threshold=0.9),
        ),
        (
            "  + CalibratedClassifierCV(temperature)",
            "GaussianNB(uniform priors)",
            lambda: CalibratedClassifierCV(
                GaussianNB(priors=uniform), method="temperature"
            ),
        ),
        (
            "GaussianNB() (fitted prior: exact Bayes fix)",
            "GaussianNB(uniform priors)",
            GaussianNB,
        ),
        (
            "LogisticRegression(balanced)",
            "LogisticRegression(balanced)",
            lambda: LogisticRegression(**balanced_lr),
        ),
        (
            "  + CANCalibrator() on LR(balanced)",
            "LogisticRegression(balanced)",
            lambda: CANCalibrator(LogisticRegression(**balanced_lr)),
        ),
        (
            "  + CANCalibrator(alpha=1, threshold=0.9) on LR(balanced)",
            "LogisticRegression(balanced)",
            lambda: CANCalibrator(
                LogisticRegression(**balanced_lr), alpha=1.0, threshold=0.9
            ),
        ),
        (
            "LogisticRegression() (unweighted)",
            "LogisticRegression(balanced)",
            lambda: LogisticRegression(max_iter=1000),
        ),
        # A base with decision_function only: CAN fits a temperature to its
        # out-of-fold scores first.
        (
            "LinearSVC(balanced)",
            "LinearSVC(balanced)",
            lambda: LinearSVC(class_weight="balanced"),
        ),
        (
            "  + CANCalibrator() on LinearSVC(balanced)",
            "LinearSVC(balanced)",
            lambda: CANCalibrator(LinearSVC(class_weight="balanced")),
        ),
        (
            "  + CalibratedClassifierCV(temperature) on LinearSVC(balanced)",
            "LinearSVC(balanced)",
            lambda: CalibratedClassifierCV(
                LinearSVC(class_weight="balanced"), method="temperature"
            ),
        ),
    ]
    scores = {name: [] for name, _, _ in models}
    fit_times = {name: [] for name, _, _ in models}
    for seed in seeds:
        X, y = make_skewed_classes(n_samples, n_classes=n_classes, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, random_state=seed, stratify=y
        )
        for name, _, make in models:
            start = time.perf_counter()
            model = make().fit(X_train, y_train)
            fit_times[name].append(time.perf_counter() - start)
            scores[name].append(model.score(X_test, y_test))
    rows = []
    for name, base_name, _ in models:
        gain = 100 * (np.array(scores[name]) - np.array(scores[base_name]))
        rows.append(
            [
                name,
                f"{np.mean(scores[name]):.4f}",
                f"{gain.mean():+.2f} (min {gain.min():+.2f})",
                f"{np.mean(fit_times[name]):.2f}",
            ]
        )
    print_table(
        f"Prior shift: 10 classes, frequencies 1 .. 1/50, {n_samples} samples "
        f"(half held out), {len(seeds)} seeds",
        ["model", "held-out accuracy", "points vs its base", "fit s"],
        rows,
    )


def threads(repeat, large_rows):
    """Fit time with the BLAS threads of the process against one thread.

    A grid search over CANCalibrator (each fit: 3 fold fits, a refit and the
    search) and over sklearn's CalibratedClassifierCV (temperature, the same
    default base model), interleaved; then one CANCalibrator fit on a larger
    problem, where a single fold fit's products are big.
    """
    all_threads = os.cpu_count()
    X, y = load_breast_cancer(return_X_y=True)
    grid = {"k": [2, 3], "uncertainty": ["top-k", "any-k"]}
    base = make_pipeline(StandardScaler(), LogisticRegression())
    calibrated = CalibratedClassifierCV(base, method="temperature", cv=3)

    def search(estimator, param_grid, limit):
        def run():
            with threadpool_limits(limits=limit, user_api="blas"):
                GridSearchCV(estimator, param_grid, cv=3).fit(X, y)

        return run

    funcs = [
        search(CANCalibrator(cv=3, blas_threads=None), grid, all_threads),
        search(CANCalibrator(cv=3), grid, all_threads),
        search(calibrated, {"ensemble": [True, False]}, all_threads),
        search(calibrated, {"ensemble": [True, False]}, 1),
    ]
    best, ratio = interleaved_times(funcs, repeat)
    rows = [
        [name, f"{b:.2f}", f"{r:.2f}"]
        for name, b, r in zip(
            [
                f"CANCalibrator(blas_threads=None), {all_threads} BLAS threads",
                "CANCalibrator() (blas_threads=1)",
                f"CalibratedClassifierCV(temperature), {all_threads} BLAS threads",
                "CalibratedClassifierCV(temperature), 1 BLAS thread",
            ],
            best,
            ratio,
        )
    ]
    print_table(
        f"GridSearchCV (cv=3, 4 settings) on breast_cancer, {repeat} interleaved "
        f"rounds; BLAS: {blas_description()}",
        ["fit", "best s", "median time / first row"],
        rows,
    )
    X, y = make_classification(
        large_rows, n_features=300, n_informative=50, n_classes=5, random_state=0
    )
    funcs = [
        lambda: CANCalibrator(cv=3, blas_threads=None).fit(X, y),
        lambda: CANCalibrator(cv=3).fit(X, y),
    ]
    with threadpool_limits(limits=all_threads, user_api="blas"):
        best, ratio = interleaved_times(funcs, max(1, (repeat + 1) // 2))
    print_table(
        f"One CANCalibrator fit, {large_rows} x 300, 5 classes",
        ["fit", "best s", "median time / first row"],
        [
            [f"blas_threads=None ({all_threads} threads)", f"{best[0]:.2f}", "1.00"],
            ["blas_threads=1", f"{best[1]:.2f}", f"{ratio[1]:.2f}"],
        ],
    )


def dask_fit(n_samples, repeat):
    """CANCalibrator(AnalyticLogisticRegression()) fitted on a dask array and in memory.

    The dask fit never gathers X: fold models are fitted on the dask rows and
    predict their test rows blockwise. Timed on dask's synchronous scheduler
    (one process, no cluster start-up in the figure), beside the in-memory fit
    of the same data and one pass over X (its column sums) as the reference.
    """
    import dask
    import dask.array as da

    X, y = make_classification(
        n_samples, n_features=20, n_informative=10, n_classes=4, random_state=0
    )
    dX = da.from_array(X, chunks=(n_samples // 8, -1))
    dy = da.from_array(y, chunks=n_samples // 8)
    model = CANCalibrator(AnalyticLogisticRegression(), cv=5)
    with dask.config.set(scheduler="sync"):
        funcs = [
            lambda: model.fit(X, y),
            lambda: model.fit(dX, dy),
            lambda: dX.sum(axis=0).compute(),
        ]
        best, ratio = interleaved_times(funcs, repeat)
        lazy = CANCalibrator(AnalyticLogisticRegression(), cv=5).fit(dX, dy)
    same = np.abs(lazy.predict_proba(X) - model.fit(X, y).predict_proba(X)).max()
    print_table(
        f"CANCalibrator(AnalyticLogisticRegression(), cv=5).fit, {n_samples} x 20, "
        f"4 classes, 8 row blocks, synchronous scheduler, {repeat} interleaved rounds "
        f"(max |P_dask - P_numpy| = {same:.1e})",
        ["fit", "best s", "median time / in-memory fit"],
        [
            [name, f"{b:.3f}", f"{r:.2f}"]
            for name, b, r in zip(
                ["in memory (NumPy)", "dask array", "one pass over X (column sums)"],
                best,
                ratio,
            )
        ],
    )


def blas_description():
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return ", ".join(f"{p['internal_api']} {p.get('version')}" for p in pools)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, smoke run")
    parser.add_argument(
        "--part",
        choices=["all", "timing", "prior-shift", "threads", "dask"],
        default="all",
        help="run one part only",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    part = args.part
    if args.quick:
        if part in ("all", "timing"):
            timing(10_000, 20, 1_000, repeat=1, loop_rows=20, class_sep=1.0)
        if part in ("all", "prior-shift"):
            prior_shift(n_samples=2000, seeds=[0])
        if part in ("all", "threads"):
            threads(repeat=1, large_rows=2000)
        if part in ("all", "dask"):
            dask_fit(20_000, repeat=1)
    else:
        if part in ("all", "timing"):
            for class_sep in (1.0, 2.0):
                timing(
                    100_000, 100, 10_000, repeat=5, loop_rows=100, class_sep=class_sep
                )
        if part in ("all", "prior-shift"):
            prior_shift(n_samples=6000, seeds=range(5))
        if part in ("all", "threads"):
            threads(repeat=5, large_rows=5_000)
        if part in ("all", "dask"):
            dask_fit(400_000, repeat=3)


if __name__ == "__main__":
    main()

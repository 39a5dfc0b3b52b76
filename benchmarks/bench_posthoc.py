"""TransformedProbaClassifier: transformer fitted on out-of-fold vs in-sample rows.

Question: Should TransformedProbaClassifier fit its transformer on
out-of-fold or on in-sample predictions?

For each data set and classifier, the outer 5-fold cross-validated log loss
and Brier score of the classifier alone, and of the classifier followed by
``EntropyNormalizer(target_entropy="mean")`` fitted on in-sample predictions
(``cv="in-sample"``, the default) or on 5-fold out-of-fold predictions
(``cv=5``). Run: ``python benchmarks/bench_posthoc.py``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import cpu_model
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprob import EntropyNormalizer, TransformedProbaClassifier

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}

CLASSIFIERS = {
    "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    "random_forest": lambda: RandomForestClassifier(n_estimators=100, random_state=0),
    "gaussian_nb": GaussianNB,
}


def variants(make_classifier):
    yield "classifier alone", make_classifier()
    for cv in ("in-sample", 5):
        yield (
            f"cv={cv!r}",
            TransformedProbaClassifier(
                make_classifier(),
                transformer=EntropyNormalizer(target_entropy="mean"),
                cv=cv,
            ),
        )


def zero_weights(sets):
    """Largest probability difference between zero weights and dropped rows.

    Every fourth training row gets weight 0; the same model fitted without
    those rows is the reference (``cv="in-sample"``, where the two fits see
    the same rows; LogisticRegression on inputs standardised beforehand).
    """
    print("Zero sample weights against dropped rows, cv='in-sample'")
    print(f"{'data set':<14} {'max |P_weighted - P_dropped|':>30}")
    for set_name in sets:
        X, y = DATASETS[set_name](return_X_y=True)
        X = StandardScaler().fit_transform(X)
        weight = np.ones(y.shape[0])
        weight[::4] = 0.0
        kept = weight > 0
        model = TransformedProbaClassifier(
            LogisticRegression(max_iter=5000),
            transformer=EntropyNormalizer(target_entropy="mean"),
        )
        weighted = clone(model).fit(X, y, sample_weight=weight)
        dropped = clone(model).fit(X[kept], y[kept])
        gap = np.abs(weighted.predict_proba(X) - dropped.predict_proba(X)).max()
        print(f"{set_name:<14} {gap:30.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(DATASETS))
    parser.add_argument(
        "--zero-weights", action="store_true", help="only the zero-weight check"
    )
    args = parser.parse_args()
    if args.zero_weights:
        zero_weights(args.sets)
        return
    outer = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"CPU: {cpu_model()}; outer 5-fold CV, mean over folds")
    print(
        f"{'data set':<14} {'classifier':<14} {'variant':<17} "
        f"{'log loss':>9} {'Brier':>7} {'accuracy':>8} {'fit s':>7}"
    )
    for set_name in args.sets:
        X, y = DATASETS[set_name](return_X_y=True)
        for clf_name, make_classifier in CLASSIFIERS.items():
            for variant, model in variants(make_classifier):
                start = time.perf_counter()
                scores = cross_validate(
                    model,
                    X,
                    y,
                    cv=outer,
                    scoring=("neg_log_loss", "neg_brier_score", "accuracy"),
                )
                elapsed = time.perf_counter() - start
                print(
                    f"{set_name:<14} {clf_name:<14} {variant:<17} "
                    f"{-np.mean(scores['test_neg_log_loss']):9.4f} "
                    f"{-np.mean(scores['test_neg_brier_score']):7.4f} "
                    f"{np.mean(scores['test_accuracy']):8.4f} {elapsed:7.2f}"
                )


if __name__ == "__main__":
    main()

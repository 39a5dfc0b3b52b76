"""``python -m skprob``: fit every estimator on bundled data and compare with sklearn."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Each estimator contributes one section function returning (title, header, rows);
# SECTIONS lists them in the order they are printed. Keep each section to a few
# seconds on a laptop: this is a demo, the benchmarks/ scripts are the measurements.

import time
import warnings

import numpy as np


def _timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def _format_table(title, header, rows):
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [title, line]
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    out.append(line)
    for row in cells[1:]:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return "\n".join(out)


def section_analytic():
    """AnalyticLogisticRegression against LogisticRegression and LDA, 5-fold CV."""
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skprob import AnalyticLogisticRegression

    models = {
        "AnalyticLogisticRegression": AnalyticLogisticRegression(),
        "LogisticRegression": LogisticRegression(max_iter=1000),
        "LinearDiscriminantAnalysis": LinearDiscriminantAnalysis(),
    }
    rows = []
    for data_name, loader in [
        ("iris", load_iris),
        ("wine", load_wine),
        ("breast_cancer", load_breast_cancer),
        ("digits", load_digits),
    ]:
        X, y = loader(return_X_y=True)
        for model_name, model in models.items():
            scores = cross_validate(
                make_pipeline(StandardScaler(), model),
                X,
                y,
                cv=5,
                scoring=["accuracy", "neg_log_loss"],
            )
            rows.append(
                [
                    data_name,
                    model_name,
                    f"{scores['test_accuracy'].mean():.3f}",
                    f"{-scores['test_neg_log_loss'].mean():.3f}",
                    f"{1000 * scores['fit_time'].mean():.1f}",
                ]
            )
    header = ["dataset", "model", "accuracy", "log-loss", "fit ms"]
    return "AnalyticLogisticRegression (5-fold CV, StandardScaler + model)", header, rows


def section_can():
    """CANCalibrator under prior shift: skewed classes, a base that assumes balance."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    from skprob import CANCalibrator

    n_classes = 10
    weights = np.geomspace(1.0, 1.0 / 50, n_classes)
    X, y = make_classification(
        n_samples=6000,
        n_features=20,
        n_informative=10,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=weights / weights.sum(),
        class_sep=0.8,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    uniform = GaussianNB(priors=np.full(n_classes, 1.0 / n_classes))
    models = [
        ("GaussianNB(uniform priors) (base)", uniform),
        ("CANCalibrator(base)", CANCalibrator(uniform)),
        (
            "CANCalibrator(base, alpha='auto', threshold='auto')",
            CANCalibrator(uniform, alpha="auto", threshold="auto"),
        ),
        ("GaussianNB() (fitted prior: exact Bayes correction)", GaussianNB()),
    ]
    rows = []
    for name, model in models:
        _, fit_seconds = _timed(lambda: model.fit(X_train, y_train))
        accuracy, predict_seconds = _timed(lambda: model.score(X_test, y_test))
        chosen = (
            f"alpha={model.alpha_:g}, threshold={model.threshold_:g}, "
            f"adjust={model.adjust_}"
            if isinstance(model, CANCalibrator)
            else "-"
        )
        rows.append(
            [
                name,
                f"{accuracy:.3f}",
                chosen,
                f"{1000 * fit_seconds:.0f}",
                f"{1000 * predict_seconds:.1f}",
            ]
        )
    header = ["model", "held-out accuracy", "setting", "fit ms", "predict ms"]
    title = (
        "CANCalibrator under prior shift (10 classes, frequencies 1 .. 1/50, "
        "3000 train / 3000 test)"
    )
    return title, header, rows


SECTIONS = [
    section_analytic,
    section_can,
]


def main():
    np.set_printoptions(precision=4, suppress=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for section in SECTIONS:
            (title, header, rows), seconds = _timed(section)
            print(_format_table(title, header, rows))
            print(f"({seconds:.1f} s)\n")


if __name__ == "__main__":
    main()

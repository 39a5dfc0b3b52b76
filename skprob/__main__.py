"""``python -m skprob``: fit every estimator on bundled data, compare with sklearn."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Each estimator contributes one section function returning (title, header, rows);
# SECTIONS lists them in the order they are printed. Keep each section to a few
# seconds on a laptop: this is a demo, the benchmarks/ scripts are the measurements.

import argparse
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
        "  (temperature='auto')": AnalyticLogisticRegression(temperature="auto"),
        "  (refine_iter=100)": AnalyticLogisticRegression(refine_iter=100),
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
    title = "AnalyticLogisticRegression (5-fold CV, StandardScaler + model)"
    return title, header, rows


def section_entropy():
    """EntropyNormalizer on the test probabilities of a digits classifier."""
    from scipy.special import entr
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from skprob import EntropyNormalizer

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    P_train, P_test = clf.predict_proba(X_train), clf.predict_proba(X_test)
    normalizer = EntropyNormalizer().fit(P_train)
    Q, seconds = _timed(lambda: normalizer.transform(P_test))
    target = normalizer.target_entropy_
    rows = []
    for name, proba, ms in [
        ("predict_proba", P_test, "-"),
        ("EntropyNormalizer (target = train mean)", Q, f"{1000 * seconds:.1f}"),
    ]:
        h = entr(proba).sum(axis=1)
        rows.append(
            [
                name,
                f"{h.mean():.4f}",
                f"{h.std():.2e}",
                f"{np.max(np.abs(h - target)):.1e}",
                f"{np.mean(proba.argmax(axis=1) == y_test):.3f}",
                ms,
            ]
        )
    header = ["rows", "mean H", "std H", "max |H - H*|", "accuracy", "ms"]
    title = f"EntropyNormalizer (digits test set, H* = {target:.4f} nats)"
    return title, header, rows


def section_argmax():
    """Noise-argmax probabilities against a Monte Carlo estimate."""
    from scipy import stats

    from skprob import argmax_probabilities

    scores = np.array([[1.0, 0.4, 0.0, -0.7]])
    draws = 200_000
    rng = np.random.default_rng(0)
    noises = {
        "gumbel": stats.gumbel_r(),
        "gaussian": stats.norm(),
        "logistic": stats.logistic(),
        "uniform": stats.uniform(),
        "exponential": stats.expon(),
        "student t (3 dof)": stats.t(3),
    }
    rows = []
    for name, dist in noises.items():
        noise = dist if name.startswith("student") else name
        proba, seconds = _timed(lambda: argmax_probabilities(scores, noise))
        sample = scores + dist.rvs(size=(draws, scores.shape[1]), random_state=rng)
        counts = np.bincount(sample.argmax(axis=1), minlength=scores.shape[1])
        error = np.abs(proba[0] - counts / draws)
        se = np.sqrt(proba[0] * (1 - proba[0]) / draws)
        # a class that cannot win (p = 0) has no sampling error to compare with
        z = error[se > 0] / se[se > 0]
        rows.append(
            [
                name,
                np.array2string(proba[0], precision=4),
                f"{error.max():.1e}",
                f"{z.max():.2f}",
                f"{1000 * seconds:.2f}",
            ]
        )
    header = ["noise", "p (scores 1, 0.4, 0, -0.7)", "max |p - MC|", "max z", "ms"]
    return f"argmax_probabilities (vs {draws} Monte Carlo draws)", header, rows


def section_attention():
    """Mean attention-row entropy against sequence length for both scales."""
    from scipy.special import entr

    from skprob import attention

    rng = np.random.default_rng(0)
    d = 64
    Q = rng.normal(scale=3.0, size=(512, d))
    K = rng.normal(size=(8192, d))
    V = np.zeros((8192, 1))
    rows = []
    for n in (512, 1024, 2048, 4096, 8192):
        row = [str(n)]
        for scale in ("standard", "entropy_invariant"):
            _, weights = attention(Q, K[:n], V[:n], scale=scale, return_weights=True)
            row.append(f"{entr(weights).sum(axis=1).mean():.3f}")
        rows.append(row)
    header = ["n keys", "H with 1/sqrt(d)", "H with log(n)/(log(512) sqrt(d))"]
    title = "Attention entropy (Q ~ N(0, 9), K ~ N(0, 1), d = 64, 512 queries)"
    return title, header, rows


def section_can():
    """CANCalibrator under prior shift: skewed classes, a base that assumes balance."""
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    from skprob import CANCalibrator
    from skprob._datasets import make_skewed_classes

    n_classes = 10
    X, y = make_skewed_classes(n_classes=n_classes, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    uniform = GaussianNB(priors=np.full(n_classes, 1.0 / n_classes))
    models = [
        ("GaussianNB(uniform priors) (base)", uniform),
        ("CANCalibrator(base) (defaults: searched)", CANCalibrator(uniform)),
        (
            "CANCalibrator(base, alpha=1, threshold=0.9) (original method)",
            CANCalibrator(uniform, alpha=1.0, threshold=0.9),
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


def section_vae():
    """VAEDensity against GaussianMixture and KernelDensity on a curved 2-D surface."""
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import KernelDensity

    from skprob import VAEDensity

    # x = A tanh(B z + c) + 0.1 noise, z ~ N(0, I_2): a 2-D surface in 10-D
    g = np.random.default_rng(12345)
    B, c = 1.5 * g.standard_normal((2, 16)), g.standard_normal(16)
    A = g.standard_normal((16, 10)) / 4.0
    rng = np.random.default_rng(0)
    z = rng.standard_normal((1500, 2))
    X = np.tanh(z @ B + c) @ A + 0.1 * rng.standard_normal((1500, 10))
    X_train, X_test = X[:1000], X[1000:]
    models = [
        (
            "VAEDensity(n_components=2, hidden_layer_sizes=(32, 32))",
            VAEDensity(
                n_components=2,
                hidden_layer_sizes=(32, 32),
                max_iter=300,
                random_state=0,
            ),
        ),
        ("GaussianMixture(n_components=8)", GaussianMixture(8, random_state=0)),
        ("KernelDensity(bandwidth=0.13)", KernelDensity(bandwidth=0.13)),
    ]
    rows = []
    for name, model in models:
        _, fit_seconds = _timed(lambda: model.fit(X_train))
        log_density, score_seconds = _timed(lambda: model.score_samples(X_test))
        rows.append(
            [
                name,
                f"{log_density.mean():.3f}",
                f"{1000 * fit_seconds:.0f}",
                f"{1000 * score_seconds:.1f}",
            ]
        )
    header = ["model", "held-out log-likelihood", "fit ms", "score ms"]
    title = (
        "VAEDensity: density of a curved 2-D surface in 10-D (1000 train / 500 test)"
    )
    return title, header, rows


def section_accuracy():
    """AccuracyOptimizedLinear: the EXACT three-point example and 5-fold CV."""
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression

    models = {
        "AccuracyOptimizedLinear": AccuracyOptimizedLinear,
        "LogisticRegression": LogisticRegression,
        "LinearSVC": LinearSVC,
        "AnalyticLogisticRegression": AnalyticLogisticRegression,
    }
    # {(-0.25, -), (0, -), (0.25, +)}: separable, yet cross-entropy and hinge
    # leave the middle point or the positive one on the wrong side
    X3, y3 = np.array([[-0.25], [0.0], [0.25]]), np.array([0, 0, 1])
    rows = []
    for name, model in models.items():
        accuracy = model().fit(X3, y3).score(X3, y3)
        rows.append(["three points (train)", name, f"{accuracy:.3f}"])
    for data_name, loader in [
        ("iris", load_iris),
        ("wine", load_wine),
        ("breast_cancer", load_breast_cancer),
    ]:
        X, y = loader(return_X_y=True)
        for name, model in models.items():
            pipeline = make_pipeline(StandardScaler(), model())
            scores = cross_val_score(pipeline, X, y, cv=5)
            rows.append([f"{data_name} (5-fold CV)", name, f"{scores.mean():.3f}"])
    header = ["data", "model", "accuracy"]
    return (
        "AccuracyOptimizedLinear (EXACT) against cross-entropy and hinge training",
        header,
        rows,
    )


def section_masking():
    """First-layer pre-activations under masking: raw inputs against transform."""
    from skprob import MaskingConsistentEncoder

    rng = np.random.default_rng(0)
    X = rng.normal(loc=2.0, size=(500, 8))
    W = rng.normal(size=(8, 4))
    n_draws = 400
    rows = []
    for p_select in (0.15, 0.3, 0.5):
        enc = MaskingConsistentEncoder(p_select=p_select).fit(X)
        # what a linear first layer saw on average during masked pretraining
        draws = np.stack([enc.mask(X, random_state=s) @ W for s in range(n_draws)])
        seen = draws.mean(axis=0)
        standard_error = np.sqrt(np.mean(draws.var(axis=0) / n_draws))
        rows.append(
            [
                f"{p_select:.2f}",
                f"{np.sqrt(np.mean((X @ W - seen) ** 2)):.4f}",
                f"{np.sqrt(np.mean((enc.transform(X) @ W - seen) ** 2)):.4f}",
                f"{standard_error:.4f}",
            ]
        )
    header = ["p_select", "RMS gap, raw X", "RMS gap, transform(X)", "MC std error"]
    title = (
        f"MaskingConsistentEncoder: X @ W against its mean over {n_draws} masked draws"
    )
    return title, header, rows


SECTIONS = [
    section_analytic,
    section_entropy,
    section_argmax,
    section_attention,
    section_can,
    section_vae,
    section_masking,
    section_accuracy,
]


def _parser():
    sections = "\n".join(
        f"  {section.__name__.removeprefix('section_'):<11}"
        f"{section.__doc__.splitlines()[0]}"
        for section in SECTIONS
    )
    return argparse.ArgumentParser(
        prog="python -m skprob",
        description=(
            "Fit every skprob estimator on bundled or synthetic data and print its\n"
            "results next to the closest scikit-learn alternative.\n"
            "It takes no options: run it without arguments."
        ),
        epilog=f"sections, printed in this order:\n{sections}\n\n"
        "Measurements with stated machines are made by the scripts in benchmarks/.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv=None):
    # parsed before any work, so that --help (or a mistyped option) returns at once
    _parser().parse_args(argv)
    np.set_printoptions(precision=4, suppress=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for section in SECTIONS:
            (title, header, rows), seconds = _timed(section)
            print(_format_table(title, header, rows))
            print(f"({seconds:.1f} s)\n")


if __name__ == "__main__":
    main()

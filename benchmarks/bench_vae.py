"""Benchmark VAEDensity against GaussianMixture and KernelDensity, held-out likelihood.

Two data sets, each split into training and held-out rows:

- ``latent``: ``x = A tanh(B z + c) + 0.1 eps`` with ``z ~ N(0, I_2)``, ``A`` (16 x 10),
  ``B`` (2 x 16) and ``c`` fixed random: a curved 2-D surface in 10 dimensions. The
  true generating density is known, and its held-out log-likelihood (2-D quadrature
  over z) is printed as the ceiling.
- ``digits``: scikit-learn's 8 x 8 digits (integers 0..16), dequantised. VAEDensity
  fits with ``dequantize=True`` and its score is ``log P(x)`` of the integer vector
  under the dequantised model, ``log int_[0,1)^64 p(x + u) du``. GaussianMixture and
  KernelDensity fit ``X + U`` (one uniform draw); their ``log P(x)`` is estimated with
  the same number of uniform draws ``u_s`` as the VAE's importance samples,
  ``log mean_s p(x + u_s)``. The usual single-draw figure ``log p(x + u)`` is printed
  beside it. Bits per dimension = ``-log P / (64 log 2)``.

GaussianMixture's ``n_components`` and KernelDensity's ``bandwidth`` are chosen by
3-fold cross-validated log-likelihood (GridSearchCV); the reported fit time is the
whole search and, separately, one refit at the chosen value. VAEDensity runs with its
defaults except where the table says. Times are ratios to the physical reference
of one pass over the data: ``X @ W`` with ``W`` the (n_features x 64) first layer,
one GEMM. Throughput: ``score_samples`` rows per second (VAEDensity with 64
importance samples).

Run ``python benchmarks/bench_vae.py`` (a few minutes; ``--quick`` for a smoke run).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity

# Benchmark the checkout this file sits in, not whatever skprob is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import best_time  # noqa: E402

from skprob import VAEDensity  # noqa: E402

NOISE = 0.1


def latent_generator(n_features=10, width=16):
    g = np.random.default_rng(12345)
    B = 1.5 * g.standard_normal((2, width))
    c = g.standard_normal(width)
    A = g.standard_normal((width, n_features)) / np.sqrt(width)
    return lambda z: np.tanh(z @ B + c) @ A


def latent_data(n_samples, seed):
    rng = np.random.default_rng(seed)
    mean = latent_generator()(rng.standard_normal((n_samples, 2)))
    return mean + NOISE * rng.standard_normal(mean.shape)


def true_log_density(X, step):
    """log p(x) of the generating model by the trapezoid rule over z in [-6, 6]^2."""
    grid = np.arange(-6.0, 6.0 + step / 2, step)
    Z = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    M = latent_generator()(Z) / NOISE
    log_prior = -0.5 * np.sum(Z**2, axis=1) - np.log(2 * np.pi)
    m2 = np.sum(M**2, axis=1)
    const = -X.shape[1] * (np.log(NOISE) + 0.5 * np.log(2 * np.pi))
    out = []
    for block in np.array_split(X / NOISE, max(1, X.shape[0] // 8)):
        sq = np.sum(block**2, axis=1)[:, None] - 2 * block @ M.T + m2[None, :]
        out.append(logsumexp(log_prior - 0.5 * sq, axis=1) + const + 2 * np.log(step))
    return np.concatenate(out)


def one_pass_seconds(X, repeats=20):
    """Best time of X @ W, W of shape (n_features, 64): one GEMM over the data."""
    W = np.random.default_rng(0).standard_normal((X.shape[1], 64))
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        X @ W
        best = min(best, time.perf_counter() - start)
    return best


def throughput(score_samples, X, repeats=3):
    """Rows per second of ``score_samples`` (best of ``repeats``) and its output."""
    best, result = np.inf, None
    for _ in range(repeats):
        seconds, result = best_time(lambda: score_samples(X))
        best = min(best, seconds)
    return X.shape[0] / best, result


def cv_baselines(X, gmm_grid, kde_grid):
    gmm_time, gmm = best_time(
        lambda: GridSearchCV(
            GaussianMixture(random_state=0), {"n_components": gmm_grid}, cv=3
        ).fit(X)
    )
    kde_time, kde = best_time(
        lambda: GridSearchCV(KernelDensity(), {"bandwidth": kde_grid}, cv=3).fit(X)
    )
    gmm_refit, _ = best_time(
        lambda: GaussianMixture(**gmm.best_params_, random_state=0).fit(X)
    )
    kde_refit, _ = best_time(lambda: KernelDensity(**kde.best_params_).fit(X))
    return (gmm, gmm_time, gmm_refit), (kde, kde_time, kde_refit)


def print_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print(
        "| "
        + " | ".join("---" if i == 0 else "---:" for i in range(len(header)))
        + " |"
    )
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def bench_latent(quick):
    n_train, n_test = (1000, 300) if quick else (2000, 1000)
    X, X_test = latent_data(n_train, 0), latent_data(n_test, 1)
    reference = one_pass_seconds(X)
    print(f"latent: {n_train} training / {n_test} held-out rows, 10 features")

    step = 0.04 if quick else 0.02
    truth = true_log_density(X_test, step)
    check = true_log_density(X_test[:20], step / 2)
    print(
        f"  quadrature check (step {step} vs {step / 2}): "
        f"max |diff| = {np.max(np.abs(truth[:20] - check)):.1e}"
    )

    (gmm, gmm_time, gmm_refit), (kde, kde_time, kde_refit) = cv_baselines(
        X,
        [2, 4, 8, 16, 32] if quick else [2, 4, 8, 16, 32, 64],
        np.geomspace(0.03, 1.0, 8 if quick else 15),
    )
    n_final = 1000 if quick else 5000
    rows = [["true density (quadrature)", f"{truth.mean():.3f}"] + [""] * 5]
    configs = [("VAEDensity()", {})]
    if not quick:
        configs.append(
            ("VAEDensity(n_importance_samples_fit=8)", {"n_importance_samples_fit": 8})
        )
    for name, params in configs:
        fit_time, vae = best_time(lambda: VAEDensity(random_state=0, **params).fit(X))
        vae.set_params(n_importance_samples=64)
        rate, log_density_64 = throughput(vae.score_samples, X_test)
        vae.set_params(n_importance_samples=n_final)
        rows.append(
            [
                f"{name}, {vae.n_iter_} epochs",
                f"{vae.score(X_test):.3f}",
                f"{log_density_64.mean():.3f}",
                f"{fit_time:.2f}",
                "",
                f"{fit_time / reference:.3g}",
                f"{rate:,.0f}",
            ]
        )
    for name, model, search_time, refit, score in [
        (
            f"GaussianMixture, n_components={gmm.best_params_['n_components']} (CV)",
            gmm.best_estimator_,
            gmm_time,
            gmm_refit,
            gmm.best_estimator_.score(X_test),
        ),
        (
            f"KernelDensity, bandwidth={kde.best_params_['bandwidth']:.3g} (CV)",
            kde.best_estimator_,
            kde_time,
            kde_refit,
            kde.best_estimator_.score(X_test) / n_test,
        ),
    ]:
        rows.append(
            [
                name,
                f"{score:.3f}",
                "",
                f"{search_time:.2f}",
                f"{refit:.3f}",
                f"{search_time / reference:.3g}",
                f"{throughput(model.score_samples, X_test)[0]:,.0f}",
            ]
        )
    print(f"  one pass (X @ W, {n_train} x 10 x 64): {reference * 1e6:.1f} us\n")
    print_table(
        [
            "model",
            f"held-out log-lik (nats/row; VAE: {n_final} samples)",
            "VAE, 64 samples",
            "fit s (GMM, KDE: CV search)",
            "refit s",
            "fit / one pass",
            "score rows/s",
        ],
        rows,
    )


def discrete_log_prob(score_samples, X, n_draws, rng):
    """log P(x) = log mean_s p(x + u_s) and the single-draw log p(x + u_1)."""
    draws = np.stack([score_samples(X + rng.random(X.shape)) for _ in range(n_draws)])
    return logsumexp(draws, axis=0) - np.log(n_draws), draws[0]


def bench_digits(quick):
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    if quick:
        X_train, X_test = X_train[:500], X_test[:200]
    n_dims = X.shape[1]
    rng = np.random.default_rng(0)
    D_train = X_train + rng.random(X_train.shape)
    reference = one_pass_seconds(X_train)
    n_draws = 64
    print(
        f"digits: {X_train.shape[0]} training / {X_test.shape[0]} held-out rows, "
        f"64 features, dequantised; log P(x) from {n_draws} uniform draws"
    )

    def bits(log_prob):
        return -np.mean(log_prob) / (n_dims * np.log(2))

    (gmm, gmm_time, gmm_refit), (kde, kde_time, kde_refit) = cv_baselines(
        D_train, [1, 2, 4, 8, 16], np.geomspace(0.3, 3.0, 6 if quick else 10)
    )
    rows = []
    configs = [("VAEDensity(dequantize=True, n_components=8)", {})]
    if not quick:
        configs.append(
            (
                "... n_components=16, hidden_layer_sizes=(128, 128)",
                {"n_components": 16, "hidden_layer_sizes": (128, 128)},
            )
        )
    for name, params in configs:
        params = {"n_components": 8, **params}
        fit_time, vae = best_time(
            lambda: VAEDensity(
                dequantize=True, random_state=0, n_importance_samples=n_draws, **params
            ).fit(X_train)
        )
        rate, log_prob = throughput(vae.score_samples, X_test)
        rows.append(
            [
                f"{name}, {vae.n_iter_} epochs",
                f"{bits(log_prob):.3f}",
                "",
                f"{fit_time:.2f}",
                "",
                f"{fit_time / reference:.3g}",
                f"{rate:,.0f}",
            ]
        )
    for name, model, search_time, refit in [
        (
            f"GaussianMixture, n_components={gmm.best_params_['n_components']} (CV)",
            gmm.best_estimator_,
            gmm_time,
            gmm_refit,
        ),
        (
            f"KernelDensity, bandwidth={kde.best_params_['bandwidth']:.3g} (CV)",
            kde.best_estimator_,
            kde_time,
            kde_refit,
        ),
    ]:
        log_prob, single = discrete_log_prob(model.score_samples, X_test, n_draws, rng)
        rows.append(
            [
                name,
                f"{bits(log_prob):.3f}",
                f"{bits(single):.3f}",
                f"{search_time:.2f}",
                f"{refit:.3f}",
                f"{search_time / reference:.3g}",
                f"{throughput(model.score_samples, X_test)[0]:,.0f}",
            ]
        )
    print(
        f"  one pass (X @ W, {X_train.shape[0]} x 64 x 64): {reference * 1e6:.1f} us\n"
    )
    print_table(
        [
            "model",
            "bits/dim, log P(x)",
            "bits/dim, log p(x+u)",
            "fit s (GMM, KDE: CV search)",
            "refit s",
            "fit / one pass",
            "score rows/s",
        ],
        rows,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{platform.machine()}\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bench_latent(args.quick)
        bench_digits(args.quick)


if __name__ == "__main__":
    main()

"""Benchmark VAEDensity against GaussianMixture and KernelDensity, held-out likelihood.

Question: How close does VAEDensity's held-out likelihood come to the true
density, compared with GaussianMixture and KernelDensity, and at what speed?

Four parts:

- ``family``: data near a 2-D surface with a known density. ``z ~ N(0, I_2)`` is
  mapped into ``n_features`` dimensions by one of three fixed random maps (``tanh``:
  ``A tanh(B z + c)``; ``trig``: ``sin(W z + phase)``; ``poly``: a linear map of
  ``z1, z2, z1 z2, (z1^2 - 1) / sqrt(2), z1 tanh(2 z2)``), plus Gaussian noise of
  standard deviation ``noise``. The true density ``int N(x; f(z), noise^2 I)
  N(z; 0, I) dz`` is computed by 2-D quadrature (the midpoint rule on cells of
  0.05, refined to a step of ``noise / 6`` in every cell within 40 nats of the
  row's peak; the table prints the largest change when that step is halved). For
  each member: VAEDensity with its defaults, GaussianMixture with ``n_components``
  chosen by 3-fold cross-validated log-likelihood over 1..64, KernelDensity with
  its ``bandwidth`` chosen the same way, and the truth.
- ``speed``: the default fit on 5 000 x 10 (the ``tanh`` map, noise 0.1) and the
  ``score_samples`` throughput next to GaussianMixture's.
- ``threads``: the fit time with BLAS limited to one thread in the training
  loop (``blas_threads=1``, the default) against ``blas_threads=None`` under
  an outer limit of all cores (what an unconfigured machine runs), in
  alternating repeats so that both see the same load; the default network and
  a wide one with large minibatches.
- ``digits``: scikit-learn's 8 x 8 digits (integers 0..16), dequantised. VAEDensity
  fits with ``dequantize=True`` and its score is ``log P(x)`` of the integer vector
  under the dequantised model, ``log int_[0,1)^64 p(x + u) du``. GaussianMixture and
  KernelDensity fit ``X + U`` (one uniform draw); their ``log P(x)`` is estimated with
  the same number of uniform draws ``u_s`` as the VAE's importance samples,
  ``log mean_s p(x + u_s)``. The usual single-draw figure ``log p(x + u)`` is printed
  beside it. Bits per dimension = ``-log P / (64 log 2)``.

Times are wall-clock seconds; run with one BLAS thread
(``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``) and note the machine's load, which
the script prints. ``--parts`` picks the parts, ``--members`` the family members
(``map-n_features-noise``, comma separated), ``--quick`` a smaller smoke run.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time
import warnings

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time, cpu_model, markdown_table
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from threadpoolctl import threadpool_info, threadpool_limits

from skprob import VAEDensity

# (map, n_features, noise): every map twice, dimensions 4 to 20, every noise level
MEMBERS = [
    ("tanh", 10, 0.1),
    ("tanh", 4, 0.02),
    ("trig", 8, 0.05),
    ("poly", 6, 0.05),
    ("trig", 20, 0.2),
    ("poly", 16, 0.02),
]
GMM_GRID = [1, 2, 4, 8, 16, 32, 64]


def manifold_map(kind, n_features):
    """The fixed random map ``f`` from the 2-D latent to ``n_features`` dimensions."""
    g = np.random.default_rng(12345)
    if kind == "tanh":
        B = 1.5 * g.standard_normal((2, 16))
        c = g.standard_normal(16)
        A = g.standard_normal((16, n_features)) / 4.0
        return lambda z: np.tanh(z @ B + c) @ A
    if kind == "trig":
        W = g.standard_normal((2, n_features))
        phase = g.uniform(0.0, 2.0 * np.pi, n_features)
        return lambda z: np.sin(z @ W + phase)
    A = g.standard_normal((5, n_features)) / np.sqrt(5.0)

    def poly(z):
        z1, z2 = z[:, 0], z[:, 1]
        return (
            np.stack(
                [z1, z2, z1 * z2, (z1**2 - 1) / np.sqrt(2), z1 * np.tanh(2 * z2)],
                axis=1,
            )
            @ A
        )

    return poly


def manifold_data(member, n_samples, seed):
    kind, n_features, noise = member
    rng = np.random.default_rng(seed)
    mean = manifold_map(kind, n_features)(rng.standard_normal((n_samples, 2)))
    return mean + noise * rng.standard_normal(mean.shape)


def _log_integrand(f, X, Z, noise):
    """log N(x; f(z), noise^2 I) + log N(z; 0, I), rows of X by points Z."""
    M = f(Z)
    squared = (X**2).sum(1)[:, None] - 2 * X @ M.T + (M**2).sum(1)[None, :]
    return (
        -0.5 * squared / noise**2
        - X.shape[1] * (np.log(noise) + 0.5 * np.log(2 * np.pi))
        - 0.5 * (Z**2).sum(1)[None, :]
        - np.log(2 * np.pi)
    )


def true_log_density(member, X, refine=1, cell=0.05, half_width=6.5, drop=40.0):
    """log p(x) by the midpoint rule over z in [-half_width, half_width]^2.

    Cells of side ``cell``; every cell whose centre value (or a neighbour's) is
    within ``drop`` nats of the row's largest is split into a grid of step
    ``noise / (6 refine)``: the posterior of z is about ``noise`` wide or more
    and the midpoint rule on a smooth peak converges exponentially in 1 / step.
    The loop over rows is the reference's, not a model's.
    """
    kind, n_features, noise = member
    f = manifold_map(kind, n_features)
    centres = np.arange(-half_width + cell / 2, half_width, cell)
    C = np.stack(np.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    n_fine = refine * int(np.ceil(6 * cell / noise))
    offsets = ((np.arange(n_fine) + 0.5) / n_fine - 0.5) * cell
    D = np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(-1, 2)
    log_area = 2 * np.log(cell / n_fine)
    out = np.empty(X.shape[0])
    for begin in range(0, X.shape[0], 16):
        block = X[begin : begin + 16]
        coarse = _log_integrand(f, block, C, noise)
        coarse = coarse.reshape(len(block), len(centres), len(centres))
        keep = coarse > coarse.max(axis=(1, 2), keepdims=True) - drop
        # a peak narrower than a cell can lie near its edge: take the neighbours
        for axis in (1, 2):
            grown = keep.copy()
            grown |= np.roll(keep, 1, axis=axis) | np.roll(keep, -1, axis=axis)
            keep = grown
        for row in range(len(block)):
            cells = C[keep[row].reshape(-1)]
            Z = (cells[:, None, :] + D[None, :, :]).reshape(-1, 2)
            log_f = _log_integrand(f, block[row : row + 1], Z, noise)
            out[begin + row] = logsumexp(log_f) + log_area
    return out


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
    print(markdown_table(header, rows))
    print()


def member_name(member):
    kind, n_features, noise = member
    return f"{kind}-{n_features}-{noise:g}"


def parse_member(text):
    kind, n_features, noise = text.split("-")
    return kind, int(n_features), float(noise)


def load_average():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def family_row(member, n_train, n_test):
    """One row of the family table: the truth, the three models, their times."""
    X = manifold_data(member, n_train, 0)
    X_test = manifold_data(member, n_test, 1)
    truth = true_log_density(member, X_test)
    check = true_log_density(member, X_test[:50], refine=2, drop=60.0)
    quadrature_error = np.max(np.abs(truth[:50] - check))
    load = load_average()
    fit_time, vae = best_time(lambda: VAEDensity(random_state=0).fit(X))
    vae_score = vae.score(X_test)
    gmm_time, gmm = best_time(
        lambda: GridSearchCV(
            GaussianMixture(random_state=0), {"n_components": GMM_GRID}, cv=3
        ).fit(X)
    )
    kde_time, kde = best_time(
        lambda: GridSearchCV(
            KernelDensity(), {"bandwidth": np.geomspace(0.01, 1.0, 13)}, cv=3
        ).fit(X)
    )
    gmm_score = gmm.best_estimator_.score(X_test)
    kde_score = kde.best_estimator_.score(X_test) / n_test
    return [
        member_name(member),
        f"{truth.mean():.3f} ({quadrature_error:.0e})",
        f"**{vae_score:.3f}**" if vae_score >= gmm_score else f"{vae_score:.3f}",
        f"{truth.mean() - vae_score:.3f}",
        f"{gmm_score:.3f} ({gmm.best_params_['n_components']})",
        f"{kde_score:.3f} ({kde.best_params_['bandwidth']:.2g})",
        f"{fit_time:.1f} ({vae.n_iter_})",
        f"{gmm_time:.1f}",
        f"{kde_time:.1f}",
        f"{load:.1f}",
    ]


def bench_family(members, quick):
    n_train, n_test = (1000, 300) if quick else (3000, 1000)
    print(
        f"family: {n_train} training / {n_test} held-out rows per member; "
        "held-out mean log-likelihood in nats/row (VAEDensity with its default "
        "128 importance samples); fit s = one fit, or the whole 3-fold search "
        f"for GaussianMixture (n_components in {GMM_GRID}) and KernelDensity"
    )
    rows = []
    for member in members:
        rows.append(family_row(member, n_train, n_test))
        print(" ", " | ".join(rows[-1]), flush=True)
    print()
    print_table(
        [
            "member (map-d-noise)",
            "truth (quadrature error)",
            "VAEDensity()",
            "truth - VAE",
            "GaussianMixture (k, CV)",
            "KernelDensity (bandwidth, CV)",
            "VAE fit s (epochs)",
            "GMM CV s",
            "KDE CV s",
            "load",
        ],
        rows,
    )


def bench_speed(quick):
    n_train = 1000 if quick else 5000
    member = ("tanh", 10, 0.1)
    X, X_test = manifold_data(member, n_train, 0), manifold_data(member, 2000, 1)
    load = load_average()
    start_cpu = time.process_time()
    fit_time, vae = best_time(lambda: VAEDensity(random_state=0).fit(X))
    cpu = time.process_time() - start_cpu
    gmm_time, gmm = best_time(
        lambda: GaussianMixture(n_components=16, random_state=0).fit(X)
    )
    vae_rate, _ = throughput(vae.score_samples, X_test)
    gmm_rate, _ = throughput(gmm.score_samples, X_test)
    print(
        f"speed: VAEDensity() on {n_train} x 10 ({member_name(member)}): fit "
        f"{fit_time:.1f} s wall, {cpu:.1f} s CPU, {vae.n_iter_} epochs "
        f"(load average {load:.1f} -> {load_average():.1f} during the fit); "
        f"GaussianMixture(16) fit {gmm_time:.2f} s"
    )
    print_table(
        ["model", "score_samples rows/s"],
        [
            ["VAEDensity() (128 importance samples)", f"{vae_rate:,.0f}"],
            ["GaussianMixture(n_components=16)", f"{gmm_rate:,.0f}"],
        ],
    )


def bench_threads(quick):
    n_train = 1000 if quick else 2000
    member = ("tanh", 10, 0.1)
    X = manifold_data(member, n_train, 0)
    common = dict(max_iter=10 if quick else 15, early_stopping=False, random_state=0)
    networks = [
        ("default: (64, 64), batch 100", {}),
        (
            "wide: (256, 256), batch 1000",
            dict(hidden_layer_sizes=(256, 256), batch_size=1000),
        ),
    ]
    n_cores = os.cpu_count()
    rows = []
    for name, network in networks:
        times = {1: [], None: []}
        for _ in range(2):
            for blas_threads in (1, None):
                with threadpool_limits(limits=n_cores, user_api="blas"):
                    threads = max(
                        i["num_threads"]
                        for i in threadpool_info()
                        if i["user_api"] == "blas"
                    )
                    model = VAEDensity(blas_threads=blas_threads, **common, **network)
                    seconds, _ = best_time(lambda: model.fit(X))
                times[blas_threads].append(seconds)
        one, every = min(times[1]), min(times[None])
        rows.append(
            [name, f"{one:.2f}", f"{every:.2f}", f"{every / one:.2f}", str(threads)]
        )
    print(
        f"threads: {common['max_iter']} epochs on {n_train} x 10 "
        f"({member_name(member)}), best of alternating repeats; load average "
        f"{load_average():.1f}"
    )
    print_table(
        [
            "network",
            "blas_threads=1 s",
            "blas_threads=None s",
            "None / 1",
            "BLAS threads outside",
        ],
        rows,
    )


def discrete_log_prob(score_samples, X, n_draws, rng):
    """log P(x) = log mean_s p(x + u_s) and the single-draw log p(x + u_1)."""
    draws = np.stack([score_samples(X + rng.random(X.shape)) for _ in range(n_draws)])
    return logsumexp(draws, axis=0) - np.log(n_draws), draws[0]


def digits_vae_rows(X_train, X_test, n_draws, reference, bits, quick):
    """Rows of the digits table for the dequantised VAEs."""
    configs = [("VAEDensity(dequantize=True, n_components=8)", {})]
    if not quick:
        configs.append(
            (
                "... n_components=16, hidden_layer_sizes=(128, 128)",
                {"n_components": 16, "hidden_layer_sizes": (128, 128)},
            )
        )
    rows = []
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
    return rows


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
    rows = digits_vae_rows(X_train, X_test, n_draws, reference, bits, quick)
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
    parser.add_argument(
        "--parts", default="family,speed,digits", help="comma-separated parts"
    )
    parser.add_argument(
        "--members",
        default=",".join(member_name(m) for m in MEMBERS),
        help="family members, map-n_features-noise, comma-separated",
    )
    args = parser.parse_args()
    parts = args.parts.split(",")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{cpu_model()}, {os.cpu_count()} cores, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"load average {load_average():.1f}\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "family" in parts:
            bench_family([parse_member(m) for m in args.members.split(",")], args.quick)
        if "speed" in parts:
            bench_speed(args.quick)
        if "threads" in parts:
            bench_threads(args.quick)
        if "digits" in parts:
            bench_digits(args.quick)


if __name__ == "__main__":
    main()

"""Benchmark entropy_normalize against one softmax pass and a per-row brentq loop.

Question: How fast is entropy_normalize, relative to one softmax pass and to
a per-row root finder, at the same accuracy?

Data: ``n_rows x 100`` probability rows ``softmax(s * Z)`` with ``Z`` standard
normal and a per-row sharpness ``s ~ U(0.3, 3)`` (so the rows need exponents
well away from 1), target = the mean row entropy. Every method is timed in the
same run and reported as a ratio to one ``scipy.special.softmax`` pass over the
same ``n_rows x 100`` array (the physical reference: the transform has to
produce one such array). scikit-learn has no per-row entropy transform; the
per-row alternative is a ``scipy.optimize.brentq`` solve per row, timed on a
subset of rows and extrapolated linearly per row (stated in the table).

Run ``python benchmarks/bench_entropy.py`` (10^6 rows, about 2.4 GB of arrays;
``--quick`` for 10^4 rows).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import platform
import time

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time
from scipy.optimize import brentq
from scipy.special import entr, softmax

from skprob import entropy_normalize


def make_rows(n_rows, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_rows, n_classes))
    Z *= rng.uniform(0.3, 3.0, size=(n_rows, 1))
    return Z, softmax(Z, axis=1)


def brentq_loop(P, target):
    """Per-row reference solve: H(softmax(g log p)) = target by brentq."""
    gammas = np.empty(P.shape[0])
    log_P = np.log(P)
    for i, row in enumerate(log_P):

        def f(g, row=row):
            return entr(softmax(g * row)).sum() - target

        gammas[i] = brentq(f, 0.0, 1e3, xtol=1e-14, rtol=1e-14)
    return gammas


def max_entropy_error(Q, target):
    return float(np.max(np.abs(entr(Q).sum(axis=1) - target)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 rows, one repeat")
    parser.add_argument("--rows", type=int, default=None, help="number of rows")
    args = parser.parse_args()
    n_rows = args.rows or (10_000 if args.quick else 1_000_000)
    n_classes = 100
    repeats = 1 if args.quick else 2
    n_brentq = 200 if args.quick else 2_000

    Z, P = make_rows(n_rows, n_classes)
    target = float(np.mean(entr(P).sum(axis=1)))
    print(
        f"entropy_normalize: {n_rows} x {n_classes} float64 "
        f"({P.nbytes / 1e6:.0f} MB per array), target = mean entropy "
        f"{target:.4f} nats, tol = 1e-10"
    )
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"numpy {np.__version__}; best of {repeats}\n"
    )

    t_softmax, _ = best_time(lambda: softmax(Z, axis=1), repeats)
    t_proba, (Q, gamma) = best_time(
        lambda: entropy_normalize(P, target, return_gamma=True), repeats
    )
    err_proba = max_entropy_error(Q, target)
    del Q
    t_logits, Q = best_time(
        lambda: entropy_normalize(Z, target, input="logits"), repeats
    )
    err_logits = max_entropy_error(Q, target)
    del Q

    subset = P[:n_brentq]
    start = time.perf_counter()
    gamma_ref = brentq_loop(subset, target)
    t_subset = time.perf_counter() - start
    t_brentq = t_subset / n_brentq * n_rows
    gamma_gap = float(np.max(np.abs(gamma[:n_brentq] - gamma_ref) / gamma_ref))
    err_brentq = max_entropy_error(
        softmax(gamma_ref[:, None] * np.log(subset), axis=1), target
    )

    rows = [
        ("softmax pass (scipy.special.softmax)", t_softmax, "-", "-"),
        ("entropy_normalize, input='proba'", t_proba, f"{err_proba:.1e}", "-"),
        ("entropy_normalize, input='logits'", t_logits, f"{err_logits:.1e}", "-"),
        (
            f"brentq loop ({n_brentq} rows, extrapolated)",
            t_brentq,
            f"{err_brentq:.1e}",
            f"{gamma_gap:.1e}",
        ),
    ]
    header = ("method", "time s", "x softmax", "max |H-H*|", "max rel gamma gap")
    table = [header] + [
        (name, f"{t:.3f}", f"{t / t_softmax:.1f}", err, gap)
        for name, t, err, gap in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(
        f"\nexponents: min {gamma.min():.3f}, median {np.median(gamma):.3f}, "
        f"max {gamma.max():.3f}; brentq loop measured {t_subset:.2f} s on "
        f"{n_brentq} rows"
    )


if __name__ == "__main__":
    main()

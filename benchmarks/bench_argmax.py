"""Benchmark argmax_probabilities: time per noise against one softmax pass.

Question: How much does argmax_probabilities cost per noise, relative to one
softmax pass, and how close is it to a reference computed another way?

Scores: ``n_rows x K`` standard normal times 2, with 10^5 / 2 * 10^4 / 2 * 10^3 /
10^3 / 10^3 rows for K = 3 / 10 / 30 / 100 / 200 (``--quick`` uses a twentieth;
the uniform rule, O(K^3) per row, is left out above 30 classes). For each noise
the time is
reported as a ratio to one ``scipy.special.softmax`` pass over the same scores
(the Gumbel case, and the physical reference), with the accuracy against a
reference computed another way: the softmax for Gumbel noise, a run with
twice the nodes for the quadrature rules, and a Monte Carlo estimate (10^5
draws, first 20 rows) as the sampling alternative, whose time per row is also
shown extrapolated to all rows.

``--part ends``: frozen noises whose density jumps, is infinite or has a kink
at an end of (or inside) the support, against adaptive quadrature of the textbook
integral over the support split at every kink (3 rows of 5 classes, score spreads
0.2, 1 and 3), with the warnings the rule gives; then the time and peak memory
(tracemalloc) of the uniform rules with one row of many classes.

Run ``python benchmarks/bench_argmax.py`` (``--quick`` for a smoke run).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import tracemalloc
import warnings

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time
from scipy import stats
from scipy.integrate import quad
from scipy.special import softmax

from skprob import argmax_probabilities
from skprob._argmax import _RULES

SAMPLERS = {
    "gaussian": stats.norm(),
    "logistic": stats.logistic(),
    "uniform": stats.uniform(),
    "exponential": stats.expon(),
}


def monte_carlo(scores, sampler, draws, rng):
    out = np.empty_like(scores)
    for i, row in enumerate(scores):
        sample = row + sampler.rvs(size=(draws, row.size), random_state=rng)
        out[i] = np.bincount(sample.argmax(axis=1), minlength=row.size) / draws
    return out


def support_quad(row, dist):
    """p_i by adaptive quadrature over the support, split at every kink."""
    lower, upper = dist.support()
    out = np.empty(row.size)
    for i in range(row.size):
        d = row[i] - np.delete(row, i)
        cuts = np.concatenate([[dist.median()], upper - d, lower - d])
        edges = np.concatenate(
            [[lower], np.unique(cuts[(cuts > lower) & (cuts < upper)]), [upper]]
        )
        out[i] = sum(
            quad(
                lambda e: np.exp(dist.logpdf(e) + dist.logcdf(e + d).sum()),
                a,
                b,
                epsabs=1e-15,
                epsrel=1e-13,
                limit=500,
            )[0]
            for a, b in zip(edges[:-1], edges[1:])
        )
    return out


ENDS = {
    "halfnorm": stats.halfnorm(),
    "truncnorm(0, inf)": stats.truncnorm(0.0, np.inf),
    "foldnorm(1)": stats.foldnorm(1.0),
    "pareto(3)": stats.pareto(3.0),
    "gamma(0.5) (infinite at 0)": stats.gamma(0.5),
    "uniform": stats.uniform(),
    "beta(2, 2)": stats.beta(2.0, 2.0),
    "beta(0.5, 0.5) (infinite at both ends)": stats.beta(0.5, 0.5),
    "truncnorm(-1, 2)": stats.truncnorm(-1.0, 2.0),
    "weibull_max(2) (right end only)": stats.weibull_max(2.0),
    "t(3) (heavy tails)": stats.t(3.0),
    "laplace (kink inside)": stats.laplace(),
    "triang(0.3) (kink inside)": stats.triang(0.3),
}


def ends():
    rng = np.random.default_rng(13)
    rows = np.array([rng.normal(scale=s, size=5) for s in (0.2, 1.0, 3.0)])
    print("frozen noises with ends: error against quad split at the kinks\n")
    print(f"{'noise':40s} {'max error':>9s} {'time s':>7s}  warning")
    for name, dist in ENDS.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            proba = argmax_probabilities(rows, dist)
            elapsed = time.perf_counter() - start
            expected = np.array([support_quad(row, dist) for row in rows])
        ours = [w for w in caught if "argmax_probabilities" in str(w.message)]
        note = str(ours[0].message).split(",")[0] if ours else ""
        error = np.abs(proba - expected).max()
        print(f"{name:40s} {error:9.1e} {elapsed:7.3f}  {note}")
    print("\nuniform rules, one row: time and peak memory (tracemalloc)\n")
    for noise, n_classes in (("uniform", 300), ("uniform", 1000), ("frozen", 300)):
        scores = rng.normal(scale=0.1, size=(1, n_classes))
        tracemalloc.start()
        start = time.perf_counter()
        argmax_probabilities(scores, stats.uniform() if noise == "frozen" else noise)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{noise:8s} K={n_classes:5d} {elapsed:7.2f} s {peak / 2**20:7.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a twentieth of the rows")
    parser.add_argument("--part", choices=["time", "ends"], default="time")
    args = parser.parse_args()
    if args.part == "ends":
        ends()
        return
    rng = np.random.default_rng(0)
    header = (
        "K",
        "rows",
        "noise",
        "nodes",
        "time s",
        "x softmax",
        "max error",
        "reference",
    )
    table = [header]
    sizes = ((3, 100_000), (10, 20_000), (30, 2_000), (100, 1_000), (200, 1_000))
    for n_classes, n_rows in sizes:
        n_rows = n_rows // 20 if args.quick else n_rows
        scores = 2.0 * rng.standard_normal((n_rows, n_classes))
        t_softmax, reference = best_time(lambda: softmax(scores, axis=1), repeats=5)
        t, proba = best_time(lambda: argmax_probabilities(scores, "gumbel"))
        table.append(
            (
                str(n_classes),
                str(n_rows),
                "gumbel",
                "-",
                f"{t:.3f}",
                f"{t / t_softmax:.1f}",
                f"{np.abs(proba - reference).max():.1e}",
                "softmax",
            )
        )
        for noise in SAMPLERS:
            if noise == "uniform" and n_classes > 30:
                continue
            t, proba = best_time(lambda: argmax_probabilities(scores, noise))
            nodes = _RULES[noise].default_nodes(n_classes)
            fine = argmax_probabilities(scores[:200], noise, n_nodes=2 * nodes + 1)
            table.append(
                (
                    str(n_classes),
                    str(n_rows),
                    noise,
                    str(nodes),
                    f"{t:.3f}",
                    f"{t / t_softmax:.1f}",
                    f"{np.abs(proba[:200] - fine).max():.1e}",
                    f"{2 * nodes + 1} nodes",
                )
            )
        if n_classes > 30:
            continue
        draws = 100_000
        t_mc, mc = best_time(
            lambda: monte_carlo(scores[:20], SAMPLERS["gaussian"], draws, rng)
        )
        gaussian = argmax_probabilities(scores[:20], "gaussian")
        t_mc_all = t_mc / 20 * n_rows
        table.append(
            (
                str(n_classes),
                str(n_rows),
                "gaussian MC",
                f"{draws} draws",
                f"{t_mc_all:.1f}",
                f"{t_mc_all / t_softmax:.0f}",
                f"{np.abs(mc - gaussian).max():.1e}",
                "quadrature (20 rows, time extrapolated)",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print("argmax_probabilities; times from one run (softmax: best of 5)\n")
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()

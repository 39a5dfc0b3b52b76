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

Run ``python benchmarks/bench_argmax.py`` (``--quick`` for a smoke run).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time
from scipy import stats
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a twentieth of the rows")
    args = parser.parse_args()
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

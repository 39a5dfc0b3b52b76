"""Attention-row entropy against the number of keys, for both attention scales.

Question: Does the log(n) attention scale keep the attention entropy flat
as the number of keys grows, where 1 / sqrt(d) lets it change, and at what cost?

The figures quoted for :func:`skprob.entropy_invariant_scale` come from this
script and are recorded in ``benchmarks/RESULTS.md`` only. Setting: ``d = 64``,
512 queries, keys ``N(0, 1)``, lengths 512 to 8192 (the first ``n`` of 8192
keys, so that lengths differ only through ``n``), four random draws, in two
regimes: peaked attention (queries ``N(0, 9)``) and near-uniform attention
(queries ``N(0, 1)``). For each draw the change of the mean row entropy from
``n = 512`` to ``n = 8192`` is printed for ``1 / sqrt(d)`` and for
``log(n) / (log(512) sqrt(d))``, with the largest change over all lengths for
the latter. The time of :func:`skprob.attention` at ``n = 8192`` is shown as a
ratio to a NumPy reference (``Q @ K.T``, ``scipy.special.softmax``, ``@ V``),
its physical reference.

Run ``python benchmarks/bench_attention.py`` (``--quick``: one draw).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse

import _data  # noqa: F401  (this checkout's skprob before an installed one)
import numpy as np
from _timing import best_time
from scipy.special import entr, softmax

from skprob import attention

D = 64
N_QUERIES = 512
LENGTHS = (512, 1024, 2048, 4096, 8192)
REGIMES = {"peaked, Q ~ N(0, 9)": 3.0, "near uniform, Q ~ N(0, 1)": 1.0}


def mean_row_entropies(queries, keys, scale):
    """Mean attention-row entropy (nats) at every length of ``LENGTHS``."""
    values = np.zeros((keys.shape[0], 1))
    out = []
    for n in LENGTHS:
        _, weights = attention(
            queries, keys[:n], values[:n], scale=scale, return_weights=True
        )
        out.append(entr(weights).sum(axis=1).mean())
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one draw")
    args = parser.parse_args()
    draws = 1 if args.quick else 4
    print(
        f"Mean attention-row entropy, d = {D}, {N_QUERIES} queries, keys N(0, 1); "
        "change from n = 512 to n = 8192\n"
    )
    header = ("regime", "draw", "1/sqrt(d)", "log-n scale", "log-n max |change|")
    rows = [header]
    for regime, query_std in REGIMES.items():
        for draw in range(draws):
            rng = np.random.default_rng(draw)
            queries = rng.normal(scale=query_std, size=(N_QUERIES, D))
            keys = rng.normal(size=(LENGTHS[-1], D))
            standard = mean_row_entropies(queries, keys, "standard")
            invariant = mean_row_entropies(queries, keys, "entropy_invariant")
            rows.append(
                (
                    regime,
                    str(draw),
                    f"{standard[-1] / standard[0] - 1:+.1%}",
                    f"{invariant[-1] / invariant[0] - 1:+.1%}",
                    f"{np.max(np.abs(invariant / invariant[0] - 1)):.1%}",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))

    rng = np.random.default_rng(0)
    Q = rng.normal(scale=3.0, size=(N_QUERIES, D))
    K = rng.normal(size=(LENGTHS[-1], D))
    V = rng.normal(size=(LENGTHS[-1], D))
    t_ref, reference = best_time(
        lambda: softmax((Q @ K.T) / np.sqrt(D), axis=1) @ V, repeats=5
    )
    t_att, out = best_time(lambda: attention(Q, K, V), repeats=5)
    print(
        f"\nattention(Q, K, V) at n = {LENGTHS[-1]}: {t_att * 1e3:.1f} ms, "
        f"{t_att / t_ref:.2f}x the NumPy reference ({t_ref * 1e3:.1f} ms, best of "
        f"5); max |difference| {np.abs(out - reference).max():.1e}"
    )


if __name__ == "__main__":
    main()

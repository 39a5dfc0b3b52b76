"""
===================================================
Attention entropy against sequence length
===================================================

Scaled dot-product attention multiplies the scores by ``1 / sqrt(d)``. With that
scale the rows of the attention matrix spread out as the number of keys ``n``
grows: each query attends to more keys, less sharply, than it did at the length
the model was trained on. :func:`~skprob.entropy_invariant_scale` multiplies the
scale by ``log(n) / log(n_ref)`` (``n_ref = 512``), which keeps the mean entropy
of the attention rows nearly constant, but only in the regime where attention is
peaked to begin with. This example measures both regimes.
"""

# %%
# Peaked attention: queries with large norms
# ------------------------------------------
# Queries have i.i.d. N(0, 9) entries and keys N(0, 1), in ``d = 64`` dimensions,
# so the scores ``q . k / sqrt(d)`` have a standard deviation of about 3. The same
# 512 queries and the first ``n`` of 8192 keys are used for every length, so the
# curves differ only through ``n`` and the scale.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import entr

from skprob import attention, entropy_invariant_scale

d = 64
lengths = np.array([256, 512, 1024, 2048, 4096, 8192])
rng = np.random.default_rng(0)
keys = rng.normal(size=(lengths[-1], d))
values = np.zeros((lengths[-1], 1))


def mean_row_entropy(queries, scale):
    """Mean entropy (nats) of the attention rows of ``queries`` for each length."""
    out = []
    for n in lengths:
        _, weights = attention(
            queries, keys[:n], values[:n], scale=scale, return_weights=True
        )
        out.append(entr(weights).sum(axis=1).mean())
    return np.array(out)


peaked_queries = rng.normal(scale=3.0, size=(512, d))
peaked = {
    scale: mean_row_entropy(peaked_queries, scale)
    for scale in ("standard", "entropy_invariant")
}
for n, h_std, h_inv in zip(lengths, peaked["standard"], peaked["entropy_invariant"]):
    print(f"n = {n:5d}: 1/sqrt(d) {h_std:.3f}   log-n scale {h_inv:.3f}")
print(
    "scale at n = 8192:",
    round(entropy_invariant_scale(8192, d), 4),
    "instead of",
    1 / np.sqrt(d),
)

# %%
# Near-uniform attention: queries with unit variance
# --------------------------------------------------
# With N(0, 1) queries the scores have a standard deviation of about 1 and every
# row is close to uniform over the keys; its entropy is close to ``log n``. The
# ``log n`` factor then sharpens the rows a little, but not enough: the entropy
# still grows with ``n`` with both scales. The derivation of the scale assumes
# attention that concentrates on a few keys, and this is where that assumption
# fails.
uniform_queries = rng.normal(scale=1.0, size=(512, d))
near_uniform = {
    scale: mean_row_entropy(uniform_queries, scale)
    for scale in ("standard", "entropy_invariant")
}
for name, curves in (("peaked", peaked), ("near-uniform", near_uniform)):
    growth = {k: v[-1] / v[lengths == 512][0] - 1 for k, v in curves.items()}
    print(
        f"{name}: entropy change from n = 512 to 8192: "
        f"1/sqrt(d) {growth['standard']:+.1%}, "
        f"log-n scale {growth['entropy_invariant']:+.1%}"
    )

# %%
# Plot
# ----
# Solid lines: the peaked regime, where the entropy-invariant scale keeps the
# entropy flat while ``1 / sqrt(d)`` lets it grow roughly like ``log n``. Dashed
# lines: the near-uniform regime, where both grow, and ``log n`` (the entropy of a
# uniform row) is the ceiling.
fig, ax = plt.subplots(figsize=(7, 4.5))
labels = {"standard": "1 / sqrt(d)", "entropy_invariant": "log(n) / (log(512) sqrt(d))"}
colors = {"standard": "tab:red", "entropy_invariant": "tab:blue"}
for scale in ("standard", "entropy_invariant"):
    ax.plot(
        lengths,
        peaked[scale],
        "o-",
        color=colors[scale],
        label=f"{labels[scale]}, Q ~ N(0, 9)",
    )
    ax.plot(
        lengths,
        near_uniform[scale],
        "s--",
        color=colors[scale],
        label=f"{labels[scale]}, Q ~ N(0, 1)",
    )
ax.plot(lengths, np.log(lengths), ":", color="grey", label="log n (uniform rows)")
ax.set_xscale("log", base=2)
ax.set_xlabel("number of keys n")
ax.set_ylabel("mean attention-row entropy (nats)")
ax.set_title("Attention entropy, d = 64, K ~ N(0, 1)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

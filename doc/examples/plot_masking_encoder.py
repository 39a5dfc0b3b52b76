"""
======================================================
Feeding clean data to a model pretrained with masking
======================================================

A model pretrained on masked tables (cells blanked, swapped with another row's
value, or kept, as in VIME or BERT-style pretraining) has only ever seen
corrupted inputs. At prediction time the data are clean, and the first layer
sees pre-activations it never saw during pretraining.
:class:`~skprob.MaskingConsistentEncoder` replaces each cell by its expectation
under the masking, so a linear first layer receives, exactly, the mean of the
pre-activations it was pretrained on. Here we check that against the average
over many masked draws.
"""

# %%
# A first layer and a table
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from skprob import MaskingConsistentEncoder

X = StandardScaler().fit_transform(load_wine().data)
rng = np.random.default_rng(0)
W = rng.normal(size=(X.shape[1], 16)) / np.sqrt(X.shape[1])  # a first linear layer

encoder = MaskingConsistentEncoder(p_select=0.3, p_mask=0.8, p_random=0.1).fit(X)
expected = encoder.transform(X) @ W

# %%
# Average over masked draws
# -------------------------
# The running mean of ``mask(X) @ W`` over draws approaches ``transform(X) @ W``;
# the clean ``X @ W`` stays off by a fixed amount.
n_draws = 400
running = np.zeros_like(expected)
gap_encoded, gap_clean = [], []
for draw in range(1, n_draws + 1):
    running += (encoder.mask(X, random_state=draw) @ W - running) / draw
    gap_encoded.append(np.abs(running - expected).mean())
    gap_clean.append(np.abs(running - X @ W).mean())
print(
    f"after {n_draws} draws: mean |avg(mask(X) @ W) - transform(X) @ W| = "
    f"{gap_encoded[-1]:.3f}, against clean X @ W: {gap_clean[-1]:.3f}"
)

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
draws = np.arange(1, n_draws + 1)
ax.loglog(draws, gap_encoded, label="against transform(X) @ W")
ax.loglog(draws, gap_clean, label="against clean X @ W")
ax.loglog(draws, gap_encoded[0] / np.sqrt(draws), "k:", label="1 / sqrt(draws)")
ax.set(
    xlabel="masked draws averaged",
    ylabel="mean absolute gap of the pre-activations",
    title="Masked pretraining inputs: what the first layer saw on average",
)
ax.legend()
plt.show()

"""
==================================================
Entropy normalization of predicted probabilities
==================================================

Two classifiers fitted to the same data can differ a lot in how sharp their
probabilities are: here a logistic regression and a Gaussian naive Bayes model on the
digits. :class:`~skprob.EntropyNormalizer` raises each probability row to its own
power so that every row reaches the same entropy, keeping the order of the classes in
the row. The histograms show the row entropies before and after; the bar charts show
what happens to a few individual rows.
"""

# %%
# Two models with different sharpness
# ------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprob import EntropyDisplay, EntropyNormalizer


def row_entropy(P):
    """Shannon entropy of each row, in nats (0 log 0 = 0)."""
    logs = np.log(np.where(P > 0, P, 1.0))
    # A one-hot row can sum to 1 + 1 ulp; keep its rounding error from showing as -0.
    return np.maximum(-(P * logs).sum(axis=1), 0.0)


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, random_state=0, stratify=y
)
models = {
    "LogisticRegression": make_pipeline(
        StandardScaler(), LogisticRegression(C=0.05, max_iter=2000)
    ),
    "GaussianNB": GaussianNB(),
}
proba = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    proba[name] = model.predict_proba(X_test)
    print(
        f"{name:18s} accuracy {model.score(X_test, y_test):.3f}, "
        f"median row entropy {np.median(row_entropy(proba[name])):.3f} nats"
    )

# %%
# Normalize both to one target entropy
# ------------------------------------
# The target is 0.5 nats (``log 10 = 2.30`` is the uniform row over ten classes).
# The same fitted normalizer serves both models: with a float target, ``fit`` only
# records the number of columns.
normalizer = EntropyNormalizer(target_entropy=0.5).fit(proba["LogisticRegression"])
normalized = {name: normalizer.transform(P) for name, P in proba.items()}
for name in models:
    before, after = row_entropy(proba[name]), row_entropy(normalized[name])
    same_argmax = np.mean(proba[name].argmax(axis=1) == normalized[name].argmax(axis=1))
    off_target = np.sum(np.abs(after - 0.5) > 1e-6)
    print(
        f"{name:18s} entropy before: {before.min():.3f} .. {before.max():.3f}, "
        f"after: {after.min():.4f} .. {after.max():.4f} ({off_target} rows cannot "
        f"reach 0.5); argmax unchanged on {same_argmax:.1%} of rows"
    )

# %%
# Histograms of row entropy
# -------------------------
# :class:`~skprob.EntropyDisplay` draws the entropies of the rows before and after
# the normalizer, with the target as a vertical line. Before, the naive Bayes rows
# are almost all near zero entropy (over-confident) and the regularised logistic
# regression rows are spread out. After, every row of both models sits at the
# target, except rows that cannot reach it (a row with a single non-zero entry
# stays one-hot, at entropy 0).
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
bins = np.linspace(0, np.log(10), 40)
for ax, name in zip(axes, models):
    EntropyDisplay.from_estimator(normalizer, proba[name], ax=ax, bins=bins)
    ax.set_title(name)
    ax.set_yscale("log")

# %%
# A few rows, before and after
# ----------------------------
# Four test rows of the logistic regression: its most and least confident rows and
# two in between. Flat rows are sharpened (exponent above 1), peaked rows are
# flattened (exponent below 1); the ranking of the classes never changes.
P = proba["LogisticRegression"]
Q = normalized["LogisticRegression"]
exponents = normalizer.row_exponents(P)
order = np.argsort(row_entropy(P))
picked = order[[0, len(order) // 3, 2 * len(order) // 3, -1]]

fig, axes = plt.subplots(2, 4, figsize=(14, 5), sharex=True, sharey=True)
classes = np.arange(10)
for column, row in enumerate(picked):
    axes[0, column].bar(classes, P[row], color="C7")
    axes[0, column].set_title(
        f"row {row}: H = {row_entropy(P[row : row + 1])[0]:.2f} nats"
    )
    axes[1, column].bar(classes, Q[row], color="C0")
    h_after = row_entropy(Q[row : row + 1])[0]
    axes[1, column].set_title(
        f"after: H = {h_after:.2f}, exponent {exponents[row]:.2f}"
    )
    axes[1, column].set_xlabel("class")
    axes[1, column].set_xticks(classes)
axes[0, 0].set_ylabel("probability (before)")
axes[1, 0].set_ylabel("probability (after)")
fig.tight_layout()
plt.show()

"""
===================================================
Class probabilities from the argmax of noisy scores
===================================================

A classifier's scores become probabilities once we say how uncertain they are:
if each score is perturbed by independent noise, the probability of a class is
the chance that it wins the argmax. :func:`~skprob.argmax_probabilities`
computes that chance by one-dimensional quadrature. Gumbel noise gives the
softmax exactly, Gaussian noise the multinomial probit; heavier or lighter
tails give other shapes. Each curve below is checked against a Monte Carlo
simulation of the noisy argmax itself.
"""

# %%
# Probability of the leading class as its lead grows
# --------------------------------------------------
# Three classes with scores ``[gap, 0, 0]``: at ``gap = 0`` every noise gives
# 1/3; how fast the leader's probability approaches 1 depends on the tails.
import matplotlib.pyplot as plt
import numpy as np
import scipy.stats
from scipy.special import softmax

from skprob import argmax_probabilities

gaps = np.linspace(0.0, 6.0, 61)
scores = np.column_stack([gaps, np.zeros_like(gaps), np.zeros_like(gaps)])
noises = {
    "gumbel (softmax)": "gumbel",
    "gaussian (probit)": "gaussian",
    "logistic": "logistic",
    "student t, 2 df": scipy.stats.t(df=2),
}
leader = {
    name: argmax_probabilities(scores, noise)[:, 0] for name, noise in noises.items()
}
print(
    "largest |gumbel - softmax|:",
    f"{np.abs(leader['gumbel (softmax)'] - softmax(scores, axis=1)[:, 0]).max():.1e}",
)

# %%
# Monte Carlo check
# -----------------
# Draw the noise, add it to the scores and count how often class 0 wins.
rng = np.random.default_rng(0)
n_draws = 20_000
draws = {
    "gumbel (softmax)": rng.gumbel(size=(n_draws, 3)),
    "gaussian (probit)": rng.standard_normal((n_draws, 3)),
    "logistic": rng.logistic(size=(n_draws, 3)),
    "student t, 2 df": rng.standard_t(2, size=(n_draws, 3)),
}
check_gaps = gaps[::10]
for name, noise in draws.items():
    wins = np.array(
        [np.mean(np.argmax([g, 0, 0] + noise, axis=1) == 0) for g in check_gaps]
    )
    quadrature = leader[name][::10]
    standard_error = np.sqrt(quadrature * (1 - quadrature) / n_draws)
    worst = np.max(np.abs(wins - quadrature) / np.maximum(standard_error, 1e-12))
    print(f"{name:18s} largest gap to Monte Carlo: {worst:.1f} standard errors")

# %%
# The curves
# ----------
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, p in leader.items():
    ax.plot(gaps, p, label=name)
ax.set(
    xlabel="lead of class 0 over the two others",
    ylabel="P(class 0 wins the noisy argmax)",
    title="Three classes, unit-scale noise",
)
ax.legend()
plt.show()

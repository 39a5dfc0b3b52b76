"""
======================================================
Training for accuracy on the EXACT three-point example
======================================================

Three points on a line, ``x = -0.25`` and ``x = 0`` of the negative class and
``x = 0.25`` of the positive class, are separable: any threshold strictly between
0 and 0.25 classifies all three correctly. The EXACT paper (Karpukhin et al.,
2022) uses them to show that the usual surrogate losses do not aim for that.
With the slope of ``f(x) = x - b`` fixed at 1, the cross-entropy and the hinge
loss are minimised by thresholds that put every point on the negative side (2 of
3 correct), because a unit slope leaves all three points inside the region where
those losses are nearly linear. The expected accuracy under Gaussian noise on the
score, which :class:`~skprob.AccuracyOptimizedLinear` maximises, is maximised
between the two points that matter.
"""

# %%
# The convex baselines
# --------------------
# scikit-learn's default LogisticRegression and LinearSVC regularise the slope,
# which on these tiny distances amounts to the same thing: both predict the
# majority class everywhere.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skprob import AccuracyOptimizedLinear, expected_accuracy

X = np.array([[-0.25], [0.0], [0.25]])
y = np.array([0, 0, 1])
for model in (LogisticRegression(), LinearSVC(), AccuracyOptimizedLinear()):
    model.fit(X, y)
    threshold = -model.intercept_[0] / model.coef_[0, 0]
    print(
        f"{type(model).__name__:24s} accuracy {model.score(X, y):.3f}, "
        f"threshold {threshold:+.3f}"
    )

# %%
# The objectives as functions of the threshold
# --------------------------------------------
# Slope fixed at 1, so the score of ``x`` is ``x - b``. The signed label is
# ``t = +1`` for the positive class and ``-1`` otherwise. Cross-entropy:
# ``mean log(1 + exp(-t (x - b)))``; hinge: ``mean max(0, 1 - t (x - b))``;
# expected accuracy: ``mean Phi(t (x - b) / (sigma sqrt 2))`` for noise
# ``N(0, sigma^2)`` on each of the two class scores, computed here by
# :func:`~skprob.expected_accuracy`.
x = X[:, 0]
t = np.where(y == 1, 1.0, -1.0)
b = np.linspace(-0.6, 1.2, 721)
margins = t[None, :] * (x[None, :] - b[:, None])
cross_entropy = np.logaddexp(0.0, -margins).mean(axis=1)
hinge = np.maximum(0.0, 1.0 - margins).mean(axis=1)
accuracy = (margins > 0).mean(axis=1)
sigmas = [0.02, 0.05, 0.1]
expected = {s: np.array([expected_accuracy(x - c, y, s) for c in b]) for s in sigmas}

best = {
    "cross-entropy": b[np.argmin(cross_entropy)],
    "hinge": b[np.argmin(hinge)],
}
best.update(
    {f"expected accuracy, sigma={s}": b[np.argmax(v)] for s, v in expected.items()}
)
for name, value in best.items():
    score = (t * (x - value) > 0).mean()
    print(f"best threshold for {name:32s} {value:+.3f} -> accuracy {score:.3f}")

# %%
# Plot: the surrogate losses keep falling until every point is called negative;
# the expected accuracy peaks inside the interval (0, 0.25) for every noise
# level, and tends to the step-shaped training accuracy as sigma shrinks.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
left.plot(b, cross_entropy, label="cross-entropy")
left.plot(b, hinge, label="hinge")
left.set_xlabel("threshold b (slope fixed at 1)")
left.set_ylabel("loss (lower is better)")
left.set_title("Surrogate losses")
right.plot(b, accuracy, color="black", lw=1, ls="--", label="training accuracy")
for s, values in expected.items():
    right.plot(b, values, label=f"expected accuracy, sigma={s}")
right.set_xlabel("threshold b (slope fixed at 1)")
right.set_ylabel("accuracy (higher is better)")
right.set_title("Expected accuracy under score noise")
for axis in (left, right):
    for point, label in zip(x, y):
        axis.axvline(point, color="tab:red" if label else "tab:blue", alpha=0.3)
    axis.axvspan(0.0, 0.25, color="tab:green", alpha=0.08)
    axis.legend(fontsize=8)
fig.tight_layout()
plt.show()

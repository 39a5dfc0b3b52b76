"""
==================================================
CAN under prior shift: which predictions move
==================================================

A classifier trained on balanced classes is applied to data where one class is far
more frequent than the others (prior shift). :class:`~skprob.CANCalibrator` revises
only the *doubtful* predictions, re-weighting them together with a reference set of
confident out-of-fold predictions so that they agree with the class prior of the new
data. This example measures the accuracy before and after, shows how the predicted
class frequencies move towards the true ones, and plots which rows changed class.
"""

# %%
# Balanced training data, skewed test data
# ----------------------------------------
# Three overlapping classes in two dimensions. The training set is balanced; the test
# set is drawn from the same class-conditional distributions with class frequencies
# 70 % / 20 % / 10 %.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skprob import CANCalibrator, CANDisplay

rng = np.random.default_rng(0)
X, y = make_classification(
    n_samples=40_000,
    n_features=2,
    n_informative=2,
    n_redundant=0,
    n_classes=3,
    n_clusters_per_class=1,
    class_sep=0.8,
    random_state=1,
)
X_train, y_train = X[:3_000], y[:3_000]
X_pool, y_pool = X[3_000:], y[3_000:]

test_prior = np.array([0.7, 0.2, 0.1])
n_test = 4_000
test_rows = np.concatenate(
    [
        rng.choice(np.flatnonzero(y_pool == k), int(p * n_test), replace=False)
        for k, p in enumerate(test_prior)
    ]
)
X_test, y_test = X_pool[test_rows], y_pool[test_rows]
print("training class frequencies:", np.bincount(y_train) / len(y_train))
print("test class frequencies:    ", np.bincount(y_test) / len(y_test))

# %%
# Base model and CAN
# ------------------
# The calibrator is told the test prior and otherwise keeps its defaults. It chooses
# the uncertainty ``threshold`` and the exponent ``alpha`` on out-of-fold predictions of
# the training rows, each class weighted by its test prior over its training
# frequency, so that the choice is scored on data distributed like the test set; it
# adjusts only if the rows a setting fixes there outnumber the rows it breaks by more
# than noise would explain (otherwise ``adjust_`` is False and the base model's
# predictions are returned).
base = LogisticRegression().fit(X_train, y_train)
can = CANCalibrator(LogisticRegression(), prior=test_prior)
can.fit(X_train, y_train)
print(
    f"chosen: threshold={can.threshold_:g}, alpha={can.alpha_:g}, adjust={can.adjust_}"
)

pred_base = base.predict(X_test)
pred_can = can.predict(X_test)

# Reference point: Bayes' rule applied to *every* row, p * test_prior / train_prior.
train_prior = np.bincount(y_train) / len(y_train)
reweighted = base.predict_proba(X_test) * (test_prior / train_prior)
pred_bayes = reweighted.argmax(axis=1)

accuracy = {
    "base model": np.mean(pred_base == y_test),
    "CANCalibrator": np.mean(pred_can == y_test),
    "prior reweighting\n(all rows)": np.mean(pred_bayes == y_test),
}
moved = pred_base != pred_can
fixed = moved & (pred_can == y_test)
broken = moved & (pred_base == y_test)
for name, value in accuracy.items():
    print(f"{name.replace(chr(10), ' '):32s} accuracy {value:.4f}")
print(f"reference set: {can.reference_.shape[0]} confident out-of-fold rows")
still_wrong = moved & ~fixed & ~broken
print(
    f"rows that changed class: {moved.sum()} (fixed {fixed.sum()}, broken "
    f"{broken.sum()}, wrong before and after {still_wrong.sum()})"
)

# %%
# Accuracy before and after, and the rows fixed and broken per class
# -------------------------------------------------------------------
# :class:`~skprob.CANDisplay` draws the accuracy of the base model and of the
# calibrator on held-out rows, and per class how many predictions the adjustment
# fixed and how many it broke.
CANDisplay.from_estimator(can, X_test, y_test)

# %%
# Where the changed rows are
# --------------------------
# Left: how often each class is predicted, against the true test frequencies. Right:
# the test rows in feature space; the rows CAN moved to another class are marked
# green when the move fixed the prediction and red when it broke it.
fig, (ax_freq, ax_rows) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")

classes = np.arange(3)
width = 0.27
for offset, label, values in [
    (-width, "true", np.bincount(y_test, minlength=3) / n_test),
    (0.0, "base model", np.bincount(pred_base, minlength=3) / n_test),
    (width, "CANCalibrator", np.bincount(pred_can, minlength=3) / n_test),
]:
    ax_freq.bar(classes + offset, values, width, label=label)
ax_freq.set_xticks(classes, [f"class {k}" for k in classes])
ax_freq.set_ylabel("fraction of test rows")
ax_freq.set_title("Predicted class frequencies")
ax_freq.legend()

ax_rows.scatter(
    *X_test[~moved].T, c=pred_base[~moved], cmap="Pastel1", s=4, vmin=0, vmax=8
)
ax_rows.scatter(*X_test[fixed].T, c="tab:green", s=14, label=f"fixed ({fixed.sum()})")
ax_rows.scatter(*X_test[broken].T, c="tab:red", s=14, label=f"broken ({broken.sum()})")
ax_rows.scatter(
    *X_test[still_wrong].T,
    c="k",
    s=14,
    marker="x",
    label=f"wrong before and after ({still_wrong.sum()})",
)
ax_rows.set_title("Rows whose prediction changed")
ax_rows.set_xlabel("feature 0")
ax_rows.set_ylabel("feature 1")
ax_rows.legend(loc="lower right", fontsize="small")
plt.show()

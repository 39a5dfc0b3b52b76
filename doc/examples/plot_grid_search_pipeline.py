"""
=====================================================
Grid search over a pipeline with skprob estimators
=====================================================

skprob estimators are ordinary scikit-learn estimators, so they go into a
:class:`~sklearn.pipeline.Pipeline` and their parameters are tuned with
:class:`~sklearn.model_selection.GridSearchCV` through the usual ``step__param``
names. This example tunes the shared covariance, the shrinkage and the temperature of
:class:`~skprob.AnalyticLogisticRegression` on the digits data, scoring accuracy and
log-loss at once, compares the search with the same search over
:class:`~sklearn.linear_model.LogisticRegression`'s ``C``, and then tunes a
:class:`~skprob.CANCalibrator` wrapped around the closed-form model, reaching the inner
estimator's parameters through ``clf__estimator__...``. A last search tunes the noise
level and penalty of :class:`~skprob.AccuracyOptimizedLinear` on the breast-cancer data.
"""

# %%
# The pipeline and the grid
# -------------------------
# Standardise, then fit the closed-form classifier. ``shrinkage`` pulls the shared
# covariance towards a scaled identity (a fixed amount, or one estimated by the
# Ledoit-Wolf or OAS formula); ``temperature="auto"`` rescales the scores to minimise
# the out-of-fold log-loss and leaves the predicted classes unchanged.
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skprob import AccuracyOptimizedLinear, AnalyticLogisticRegression, CANCalibrator

X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scoring = {"accuracy": "accuracy", "log_loss": "neg_log_loss"}

pipe = Pipeline([("scale", StandardScaler()), ("clf", AnalyticLogisticRegression())])
shrinkages = [None, 0.01, 0.1, 0.3, "ledoit-wolf", "oas"]
# A list of grids: both covariances without temperature, and the fitted temperature
# (the slower option: it refits on five inner folds) for the equal-weight covariance.
param_grid = [
    {
        "clf__covariance": ["mean", "pooled"],
        "clf__shrinkage": shrinkages,
        "clf__temperature": [1.0],
    },
    {
        "clf__covariance": ["mean"],
        "clf__shrinkage": shrinkages,
        "clf__temperature": ["auto"],
    },
]
search = GridSearchCV(pipe, param_grid, scoring=scoring, refit="accuracy", cv=cv)
start = time.perf_counter()
search.fit(X, y)
analytic_seconds = time.perf_counter() - start
print(
    f"{len(search.cv_results_['params'])} candidates x 5 folds in "
    f"{analytic_seconds:.1f} s"
)
print("best:", search.best_params_, f"accuracy {search.best_score_:.4f}")

# %%
# The same search over LogisticRegression
# ---------------------------------------
# The iterative model has one main knob, the inverse penalty ``C``.
lr_pipe = Pipeline(
    [("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))]
)
lr_search = GridSearchCV(
    lr_pipe,
    {"clf__C": [0.1, 0.3, 1.0]},
    scoring=scoring,
    refit="accuracy",
    cv=cv,
)
start = time.perf_counter()
lr_search.fit(X, y)
lr_seconds = time.perf_counter() - start
print(
    f"{len(lr_search.cv_results_['params'])} candidates x 5 folds in {lr_seconds:.1f} s"
)
print("best:", lr_search.best_params_, f"accuracy {lr_search.best_score_:.4f}")

# %%
# Results table
# -------------
# ``cv_results_`` is a dict of arrays; a DataFrame makes it readable. Log-loss is
# reported as a positive number (scikit-learn's scorer returns its negative).
results = pd.DataFrame(search.cv_results_)
results["shrinkage"] = results["param_clf__shrinkage"].map(str)
results["log_loss"] = -results["mean_test_log_loss"]
table = results[
    [
        "param_clf__covariance",
        "shrinkage",
        "param_clf__temperature",
        "mean_test_accuracy",
        "log_loss",
        "mean_fit_time",
    ]
].sort_values("mean_test_accuracy", ascending=False)
print(table.head(8).to_string(index=False, float_format="{:.4f}".format))

lr_results = pd.DataFrame(lr_search.cv_results_)
print(
    pd.DataFrame(
        {
            "C": lr_results["param_clf__C"],
            "mean_test_accuracy": lr_results["mean_test_accuracy"],
            "log_loss": -lr_results["mean_test_log_loss"],
            "mean_fit_time": lr_results["mean_fit_time"],
        }
    ).to_string(index=False, float_format="{:.4f}".format)
)

# %%
# Nesting skprob estimators
# -------------------------
# :class:`~skprob.CANCalibrator` is a meta-estimator: the parameters of the model it
# wraps are addressed as ``clf__estimator__<name>``. Each candidate fits the inner
# model on five inner folds (for the out-of-fold reference set) and once more on the
# whole outer training fold.
can_pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("clf", CANCalibrator(AnalyticLogisticRegression())),
    ]
)
can_search = GridSearchCV(
    can_pipe,
    {"clf__estimator__shrinkage": [0.1, "oas"], "clf__threshold": [0.7, 0.9]},
    scoring=scoring,
    refit="accuracy",
    cv=cv,
)
start = time.perf_counter()
can_search.fit(X, y)
can_seconds = time.perf_counter() - start
can_results = pd.DataFrame(can_search.cv_results_)
print(
    pd.DataFrame(
        {
            "shrinkage": can_results["param_clf__estimator__shrinkage"].map(str),
            "threshold": can_results["param_clf__threshold"],
            "mean_test_accuracy": can_results["mean_test_accuracy"],
            "log_loss": -can_results["mean_test_log_loss"],
        }
    ).to_string(index=False, float_format="{:.4f}".format)
)
print(
    "best:",
    can_search.best_params_,
    f"accuracy {can_search.best_score_:.4f}, search {can_seconds:.1f} s",
)

# %%
# The digits classes are balanced and the test folds share the training prior, so
# CAN has little to correct here: the accuracies printed above are those of the
# closed-form model alone, or very close to them. Its use is a shift of the class
# prior; see :ref:`sphx_glr_auto_examples_plot_can_prior_shift.py`.

# %%
# A classifier trained for accuracy
# ---------------------------------
# :class:`~skprob.AccuracyOptimizedLinear` maximises the expected accuracy under
# Gaussian score noise. Its final noise level ``sigma_final`` acts as a soft margin and
# ``alpha`` penalises the normalised coefficients; both are tuned here, on the
# breast-cancer data (its fit runs several L-BFGS solves, so the digits grid above
# would take much longer), next to LogisticRegression's ``C`` on the same folds.
X_bc, y_bc = load_breast_cancer(return_X_y=True)
exact_search = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("clf", AccuracyOptimizedLinear())]),
    {"clf__sigma_final": [0.1, 0.5], "clf__alpha": [0.01, 0.1]},
    cv=cv,
)
exact_search.fit(X_bc, y_bc)
lr_bc_search = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]),
    {"clf__C": [0.1, 1.0, 10.0]},
    cv=cv,
)
lr_bc_search.fit(X_bc, y_bc)
for fitted in (exact_search, lr_bc_search):
    table = pd.DataFrame(fitted.cv_results_)
    table["params"] = table["params"].map(
        lambda p: ", ".join(f"{k.split('__')[-1]}={v}" for k, v in p.items())
    )
    print(
        table[["params", "mean_test_score", "std_test_score", "mean_fit_time"]]
        .rename(columns={"mean_test_score": "accuracy", "std_test_score": "std"})
        .to_string(index=False, float_format="{:.4f}".format)
    )

# %%
# Plot
# ----
# Left: cross-validated accuracy for every covariance and shrinkage (the temperature
# does not change predictions, so ``temperature=1`` is shown). Right: log-loss with and
# without the fitted temperature, for the equal-weight covariance; the dashed line is
# the best log-loss of the LogisticRegression search.
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
labels = [str(s) for s in shrinkages]
plain = results[results["param_clf__temperature"].map(str) == "1.0"]
heat = np.array(
    [
        [
            plain[(plain["param_clf__covariance"] == cov) & (plain["shrinkage"] == s)][
                "mean_test_accuracy"
            ].item()
            for s in labels
        ]
        for cov in ["mean", "pooled"]
    ]
)
image = ax_acc.imshow(heat, cmap="viridis", aspect="auto")
ax_acc.set_xticks(range(len(labels)), labels, rotation=30)
ax_acc.set_yticks([0, 1], ["mean", "pooled"])
ax_acc.set_xlabel("shrinkage")
ax_acc.set_ylabel("covariance")
ax_acc.set_title("CV accuracy, AnalyticLogisticRegression")
middle = (heat.min() + heat.max()) / 2
for (i, j), value in np.ndenumerate(heat):
    colour = "k" if value > middle else "w"
    ax_acc.text(j, i, f"{value:.3f}", ha="center", va="center", color=colour)
fig.colorbar(image, ax=ax_acc)

mean_cov = results[results["param_clf__covariance"] == "mean"]
width = 0.38
positions = np.arange(len(labels))
for offset, temperature in [(-width / 2, "1.0"), (width / 2, "auto")]:
    rows = mean_cov[mean_cov["param_clf__temperature"].map(str) == temperature]
    losses = [rows[rows["shrinkage"] == s]["log_loss"].item() for s in labels]
    ax_loss.bar(positions + offset, losses, width, label=f"temperature={temperature}")
ax_loss.axhline(
    -lr_results["mean_test_log_loss"].max(),
    color="k",
    linestyle="--",
    label="best LogisticRegression",
)
ax_loss.set_xticks(positions, labels, rotation=30)
ax_loss.set_xlabel("shrinkage")
ax_loss.set_ylabel("CV log-loss (lower is better)")
ax_loss.set_title("Log-loss, covariance='mean'")
ax_loss.set_ylim(0, 1.5 * ax_loss.get_ylim()[1])
ax_loss.legend(loc="upper right", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Summary
# -------
# Best cross-validated accuracy of each search, with the number of candidates and the
# wall time of the whole search (every candidate, every fold) written on its bar.
summary = {
    "AnalyticLogisticRegression": (search, analytic_seconds),
    "CANCalibrator(Analytic...)": (can_search, can_seconds),
    "LogisticRegression": (lr_search, lr_seconds),
}
fig, ax = plt.subplots(figsize=(8, 3.5))
names = list(summary)
bars = ax.barh(
    names, [summary[n][0].best_score_ for n in names], color=["C0", "C2", "C7"]
)
ax.bar_label(
    bars,
    labels=[
        f"{fitted.best_score_:.4f}  ({len(fitted.cv_results_['params'])} "
        f"candidates, {seconds:.1f} s)"
        for fitted, seconds in summary.values()
    ],
    padding=4,
)
ax.set_xlim(0.9, 1.0)
ax.set_xlabel("best CV accuracy")
ax.invert_yaxis()
ax.set_title("Best candidate of each grid search")
fig.tight_layout()
plt.show()

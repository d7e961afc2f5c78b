"""
==============================================================
A Pipeline with GridSearchCV on a DataFrame with string labels
==============================================================

:class:`~sklearn_softmax.SoftmaxRegression` takes the same inputs as
scikit-learn's classifiers: a pandas DataFrame for ``X`` and labels of any
kind for ``y``. This example keeps the wine data (178 wines, 13 chemical
measurements, 3 cultivars) as a DataFrame with string labels, puts the
estimator in a :class:`~sklearn.pipeline.Pipeline` after a
:class:`~sklearn.preprocessing.StandardScaler`, and lets
:class:`~sklearn.model_selection.GridSearchCV` choose the penalty and ``C`` by
cross-validation. It then looks at what the fitted model keeps of the labels
and of the column names, tabulates the search's results, scores the chosen
model on held-out wines and plots the cross-validated scores against ``C``.
"""

# %%
# The data
# --------
# ``as_frame=True`` returns the measurements as a DataFrame with one named
# column per measurement. The integer target is replaced by the data set's own
# class names, so ``y`` holds strings. A quarter of the wines are held out to
# score the chosen model; the search never sees them.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

wine = load_wine(as_frame=True)
X = wine.data
y = pd.Series(wine.target_names[wine.target], index=X.index, name="class")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"X: {type(X).__name__} of shape {X.shape}")
print(f"First columns: {list(X.columns[:4])}")
print(f"Samples per class: {y.value_counts().sort_index().to_dict()}")

# %%
# The pipeline and the grid
# -------------------------
# The scaler is fitted inside each cross-validation split, on that split's
# training part only. ``set_output(transform="pandas")`` makes it hand a
# DataFrame on to :class:`~sklearn_softmax.SoftmaxRegression`, which then
# records the column names too.
#
# The grid crosses the L2 and L1 penalties (``l1_ratio`` 0 and 1, as in
# LogisticRegression) with nine values of ``C`` from 0.01 to 100. With
# ``l1_ratio=1`` the default ``solver='auto'`` picks
# accelerated proximal gradient descent (``'gd'``), which takes more, cheaper
# iterations than the Newton-CG solver it picks for L2; ``max_iter=500``
# leaves it room.
#
# Each candidate is scored on the held-out part of each split by two
# measures: the log-loss, the data term of the objective the model minimises,
# and the accuracy. ``refit="log_loss"`` chooses the candidate with the best
# mean log-loss and fits it again on the whole training set.
pipeline = Pipeline(
    [("scale", StandardScaler()), ("softmax", SoftmaxRegression(max_iter=500))]
).set_output(transform="pandas")
param_grid = {
    "softmax__l1_ratio": [0.0, 1.0],
    "softmax__C": np.logspace(-2, 2, 9),
}
search = GridSearchCV(
    pipeline,
    param_grid,
    scoring={"log_loss": "neg_log_loss", "accuracy": "accuracy"},
    refit="log_loss",
    cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)
best_ratio = search.best_params_["softmax__l1_ratio"]
best_c = search.best_params_["softmax__C"]
print(f"Chosen: l1_ratio={best_ratio:g}, C={best_c:.4g}")
print(f"Best mean cross-validated log-loss: {-search.best_score_:.4f}")

# %%
# String labels and column names
# ------------------------------
# ``classes_`` holds the string labels, in sorted order, and ``predict``
# returns them. ``predict_proba`` has one column per entry of ``classes_``.
# Both the search and the pipeline's last step keep the column names in
# ``feature_names_in_``, and the names label the rows of ``coef_``'s
# transpose below.
model = search.best_estimator_
softmax = model[-1]
print(f"classes_: {search.classes_}")
print(
    "Same column names in the search and in the last step: "
    f"{np.array_equal(search.feature_names_in_, softmax.feature_names_in_)}"
)

first_wines = X_test.head()
predictions = pd.DataFrame(
    search.predict_proba(first_wines),
    columns=search.classes_,
    index=first_wines.index,
)
predictions.insert(0, "predicted", search.predict(first_wines))
predictions.insert(0, "true", y_test.head())
print("First five held-out wines:")
print(predictions.to_string(float_format="%.3f"))

coef = pd.DataFrame(
    softmax.coef_.T, index=softmax.feature_names_in_, columns=softmax.classes_
)
print(
    f"coef_ of the chosen model (solver_={softmax.solver_!r}, "
    f"{softmax.n_iter_[0]} iterations, converged_={softmax.converged_}):"
)
print(coef.round(2))

# %%
# The search's results
# --------------------
# ``cv_results_`` is a dictionary of arrays, one entry per candidate, which
# becomes a DataFrame directly. scikit-learn's scorers follow the rule that
# greater is better, so the log-loss is stored negated; it is turned back
# here. The table lists the eight candidates with the best mean log-loss.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame(
    {
        "penalty": np.where(
            results["param_softmax__l1_ratio"].astype(float) == 1.0, "L1", "L2"
        ),
        "C": results["param_softmax__C"].astype(float),
        "log-loss": -results["mean_test_log_loss"],
        "log-loss std": results["std_test_log_loss"],
        "accuracy": results["mean_test_accuracy"],
        "accuracy std": results["std_test_accuracy"],
        "rank": results["rank_test_log_loss"],
    }
)
print(
    table.sort_values("rank")
    .head(8)
    .to_string(index=False, float_format="%.4f")
)

# %%
# Scoring the chosen model on held-out wines
# ------------------------------------------
# ``search.score`` uses the refit scorer, the negated log-loss. The accuracy
# comes from the pipeline's own ``score``.
print(f"Held-out log-loss: {-search.score(X_test, y_test):.4f}")
print(f"Held-out accuracy: {model.score(X_test, y_test):.4f}")

# %%
# Plotting the scores against C
# -----------------------------
# The mean over the five folds of each score, with error bars of one standard
# deviation across the folds, the log-loss in the first figure and the
# accuracy in the second; the dashed line marks the chosen ``C``. The
# accuracy changes only when a wine's predicted class changes, and with the
# L2 penalty it changes little across the whole grid. The log-loss also
# measures how much probability the model puts on the true class, and has a
# clear minimum. The L1 penalty needs a larger ``C`` than L2 before either
# score levels off.
fig_loss, ax_loss = plt.subplots(figsize=(6, 4), layout="constrained")
fig_accuracy, ax_accuracy = plt.subplots(figsize=(6, 4), layout="constrained")
for penalty, rows in table.groupby("penalty", sort=False):
    for ax, score in [(ax_loss, "log-loss"), (ax_accuracy, "accuracy")]:
        ax.errorbar(
            rows["C"],
            rows[score],
            yerr=rows[f"{score} std"],
            marker="o",
            capsize=3,
            label=penalty,
        )
for ax, score in [(ax_loss, "log-loss"), (ax_accuracy, "accuracy")]:
    ax.set_xscale("log")
    ax.set_xlabel("C")
    ax.set_ylabel(f"mean cross-validated {score}")
    ax.legend(title="penalty")
ax_loss.axvline(best_c, color="0.7", linestyle="--", zorder=0)
title = "GridSearchCV over l1_ratio and C, wine data"
ax_loss.set_title(f"{title}\nLog-loss (lower is better)")
ax_accuracy.set_title(f"{title}\nAccuracy (higher is better)")
plt.show()

# sphinx_gallery_thumbnail_number = 1

"""
===================================
Choosing C with SoftmaxRegressionCV
===================================

:class:`~sklearn_softmax.SoftmaxRegressionCV` fits the model along a grid
of ``C`` on each cross-validation fold, each fit starting from the one
before, scores every fit on its fold's held-out samples, and refits the
model on all the data with the ``C`` of the best mean score. This example
runs it on the wine data and plots what it keeps of the search: the scores
against ``C``, and the coefficients along the path.
"""

# %%
# The search
# ----------
# The 13 features of 178 wines of 3 cultivars, standardised so that the
# penalty treats them alike. (Here the scaling is learned once on all the
# data, which tells the folds little; a
# :class:`~sklearn.pipeline.Pipeline` in a
# :class:`~sklearn.model_selection.GridSearchCV` would learn it on each
# training part.) 30 values of ``C`` from 1e-3 to 1e3, five stratified
# folds, and the default score, the held-out log-loss with its sign turned
# so that higher is better. A tight ``tol`` puts every fit of the paths at
# its optimum, where the default would stop the weakly penalised fits, whose
# gradient is flat, a little short of it.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegressionCV

wine = load_wine()
X = StandardScaler().fit_transform(wine.data)
y = wine.target

model = SoftmaxRegressionCV(Cs=np.logspace(-3, 3, 30), cv=5, tol=1e-8)
model.fit(X, y)
print(f"chosen C: {model.C_:.3g}")
print(f"scores_: {model.scores_.shape} (folds, l1_ratios, Cs)")
print(f"coefs_paths_: {model.coefs_paths_.shape}")
print("   (folds, l1_ratios, Cs, classes, features + intercept)")

# %%
# Scores against C
# ----------------
# The mean held-out score over the five folds, with the range of the folds'
# scores shaded. A small ``C`` is a strong penalty: the probabilities are
# pulled towards a third each, and the log-loss is high. A large ``C``
# fits the training parts closely, and the held-out log-loss rises again
# as the model grows confident on samples it gets wrong. The chosen ``C``
# is the grid's best mean.
Cs = model.Cs_
scores = model.scores_[:, 0, :]
mean = scores.mean(axis=0)

fig, ax = plt.subplots(figsize=(6.4, 4.4))
low, high = scores.min(axis=0), scores.max(axis=0)
ax.fill_between(Cs, low, high, alpha=0.25, label="range of folds")
ax.plot(Cs, mean, marker="o", markersize=3, label="mean of 5 folds")
ax.axvline(model.C_, color="k", linestyle="--", linewidth=1, label="chosen C")
ax.set_xscale("log")
ax.set_xlabel("C")
ax.set_ylabel("held-out score (negative log-loss)")
ax.set_title("SoftmaxRegressionCV on the wine data")
ax.legend(loc="lower center")
fig.tight_layout()

# %%
# Coefficient paths
# -----------------
# Each feature's weight for each class, averaged over the five folds, along
# the grid. As ``C`` grows the weights grow from zero; for each feature the
# three classes' weights sum to zero, as the L2 optimum's do. The chosen
# ``C`` is marked; the refitted ``coef_``, fitted on all the data, is near
# the folds' mean there.
paths = model.coefs_paths_[:, 0, :, :, :-1].mean(axis=0)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for k, ax in enumerate(axes):
    for j, name in enumerate(wine.feature_names):
        color = plt.cm.tab20(j)
        ax.plot(Cs, paths[:, k, j], color=color, linewidth=1.2, label=name)
    ax.axvline(model.C_, color="k", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("C")
    ax.set_title(f"class {k}")
axes[0].set_ylabel("weight (mean of the folds)")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="center right", fontsize="small")
fig.tight_layout(rect=(0, 0, 0.8, 1))
plt.show()

# %%
# The refitted model
# ------------------
# ``coef_`` and ``intercept_`` are those of the refit on all the data at
# ``C_``; the fits of the search stay in ``coefs_paths_``.
strongest = np.argsort(-np.abs(model.coef_).max(axis=0))[:4]
print("the four features with the largest weights, one row per class:")
print([wine.feature_names[j] for j in strongest])
print(np.round(model.coef_[:, strongest], 2))

# sphinx_gallery_thumbnail_number = 1

"""
=============================
L1 and grouped sparsity paths
=============================

With ``l1_ratio=1``, the L1 penalty,
:class:`~sklearn_softmax.SoftmaxRegression` sets single weights exactly to
zero; with ``l1_groups='features'`` as well, the group penalty, it sets whole
features to zero, their weights for every class at once. This example follows
both along a grid of ``C`` with
:func:`~sklearn_softmax.softmax_regression_path`, on the standardised wine
data with a few columns of random noise added, and shows which weights and
which features enter the model as the penalty weakens.
"""

# %%
# The data
# --------
# The 13 wine features, measured on 178 samples of 3 cultivars, and 7 columns
# of Gaussian noise that carry nothing about the class. All 20 columns are
# standardised, so that the penalty treats every feature alike.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import (
    RegularizationPathDisplay,
    SoftmaxRegressionCV,
    softmax_regression_path,
)

wine = load_wine()
n_noise = 7
rng = np.random.default_rng(0)
noise = rng.standard_normal((wine.data.shape[0], n_noise))
X = StandardScaler().fit_transform(np.hstack([wine.data, noise]))
y = wine.target
noise_names = [f"noise {i + 1}" for i in range(n_noise)]
feature_names = list(wine.feature_names) + noise_names
is_noise = np.arange(X.shape[1]) >= wine.data.shape[1]
n_samples, n_features = X.shape
print(f"X: {n_samples} samples, {n_features} features, {n_noise} noise")

# %%
# The two paths
# -------------
# Each path fits the model at 40 values of ``C`` from 0.01 to 10, in
# increasing order, each fit starting from the solution at the previous
# ``C``. A tight ``tol`` makes the zeros those of the optimum rather than of
# where the solver stopped. ``coefs`` has the shape ``(n_cs, n_classes,
# n_features)``.
Cs = np.logspace(-2, 1, 40)
paths = {}
for penalty, l1_groups in [("l1", None), ("group", "features")]:
    _, coefs, _, n_iter = softmax_regression_path(
        X, y, Cs=Cs, l1_ratio=1.0, l1_groups=l1_groups, tol=1e-6, max_iter=1000
    )
    paths[penalty] = coefs
    print(f"{penalty}: {n_iter.sum()} solver iterations along the path")

# %%
# Which weights are zero
# ----------------------
# A feature is selected when any of its weights is non-zero. With the group
# penalty a feature's weights are zero for every class at once or for none:
# no feature is ever left with some of its class weights zero and others not.
# The L1 penalty zeroes single weights, and a selected feature often keeps a
# zero weight for some class.
for penalty, coefs in paths.items():
    nonzero = coefs != 0
    partial = nonzero.any(axis=1) & ~nonzero.all(axis=1)
    print(
        f"{penalty}: features with some but not all class weights "
        f"zero, largest count over the path: {partial.sum(axis=1).max()}"
    )

# %%
# The order in which features enter
# ---------------------------------
# The smallest ``C`` of the grid at which each feature is selected, for both
# penalties, in the order of entry with the group penalty; "-" where a
# feature stays out up to ``C=10``. Both penalties select the wine features
# in much the same order. The noise columns enter too once the penalty is
# weak enough, where the model starts to fit chance patterns of the 178
# samples.


def entry_C(coefs):
    """The first C of the grid where each feature has a non-zero weight."""
    selected = np.any(coefs != 0, axis=1)
    first = Cs[np.argmax(selected, axis=0)]
    return np.where(selected.any(axis=0), first, np.inf)


entries = {penalty: entry_C(coefs) for penalty, coefs in paths.items()}
print(f"{'feature':<30} {'l1':>8} {'group':>8}")
for j in np.argsort(entries["group"], kind="stable"):
    cells = [
        "-" if np.isinf(entries[penalty][j]) else f"{entries[penalty][j]:.3f}"
        for penalty in paths
    ]
    print(f"{feature_names[j]:<30} {cells[0]:>8} {cells[1]:>8}")

# %%
# Plotting the paths
# ------------------
# Top left, every weight of the L1 path, one line per feature and class,
# coloured by class: the weights of one feature leave zero at different ``C``
# for different classes, and a weight can return to zero as others grow, so
# that the count of non-zero weights below does not only rise. Top right, for
# the group path, the Euclidean norm of each feature's weights across the
# three classes, one line per feature: a feature enters with all its class
# weights at once. The noise columns are drawn dashed in both. Below, the
# number of non-zero weights (out of 3 x 20) and of selected features (out of
# 20) against ``C``. With the group penalty the first count is always three
# times the second.
fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
(ax_l1, ax_group), (ax_weights, ax_features) = axes

for k, class_name in enumerate(wine.target_names):
    for j in range(X.shape[1]):
        ax_l1.plot(
            Cs,
            paths["l1"][:, k, j],
            color=f"C{k}",
            linestyle="--" if is_noise[j] else "-",
            linewidth=1,
            label=class_name if j == 0 else None,
        )
ax_l1.set_ylabel("weight")
ax_l1.set_title("l1_ratio=1: every weight")
ax_l1.legend(title="class")

row_norms = np.linalg.norm(paths["group"], axis=1)
for j in range(X.shape[1]):
    ax_group.plot(
        Cs,
        row_norms[:, j],
        color="0.5" if is_noise[j] else plt.cm.tab20(j),
        linestyle="--" if is_noise[j] else "-",
        linewidth=1,
    )
ax_group.set_ylabel("norm of the feature's weights")
ax_group.set_title("l1_groups='features': each feature's weights")

for penalty, coefs in paths.items():
    nonzero = coefs != 0
    steps = {"label": penalty, "drawstyle": "steps-post"}
    ax_weights.plot(Cs, nonzero.sum(axis=(1, 2)), **steps)
    ax_features.plot(Cs, nonzero.any(axis=1).sum(axis=1), **steps)
ax_weights.set_ylabel("non-zero weights")
ax_features.set_ylabel("selected features")
for ax in (ax_weights, ax_features):
    ax.legend(title="penalty")
    ax.set_xlabel("C")
for ax in axes.ravel():
    ax.set_xscale("log")

fig.suptitle(f"Sparsity paths, wine data with {n_noise} noise columns")
fig.tight_layout()
plt.show()

# %%
# Choosing ``C`` by cross-validation
# ----------------------------------
# :class:`~sklearn_softmax.SoftmaxRegressionCV` fits the L1 path on each of
# five folds and scores each fit on the held-out samples (by default the
# negative log-loss). :class:`~sklearn_softmax.RegularizationPathDisplay`
# draws the mean over the folds of each coefficient, one colour per class,
# and on the right axis the mean held-out score with a band of one standard
# deviation across the folds; the dotted line marks the chosen ``C_``.
search = SoftmaxRegressionCV(
    Cs=np.logspace(-2, 1, 12), l1_ratios=[1.0], cv=5, tol=1e-6, max_iter=1000
).fit(X, y)
print(f"C chosen by 5-fold cross-validation: {search.C_:.3g}")
display = RegularizationPathDisplay.from_estimator(search)
display.ax_.set_title("L1 path of SoftmaxRegressionCV, wine data with noise")
display.figure_.set_size_inches(8, 5)
display.figure_.tight_layout()
plt.show()

# sphinx_gallery_thumbnail_number = 2

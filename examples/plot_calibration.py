"""
======================================
Calibration against LogisticRegression
======================================

A classifier's probabilities are calibrated when, among the samples given a
probability ``p`` for a class, a fraction ``p`` belong to it. This example
draws reliability diagrams on held-out data for
:class:`~sklearn_softmax.SoftmaxRegression`, for scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` with the same ``C``, which
fits the same model for four classes, and for SoftmaxRegression with
``label_smoothing``, whose probabilities are pulled towards the uniform
distribution.
"""

# %%
# The data
# --------
# 20000 samples, 20 features and 4 classes. ``flip_y=0.05`` replaces 5% of the
# labels by labels drawn at random, so even far from the class boundaries a
# label is not certain. Half the samples are held out to measure calibration.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibrationDisplay
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

X, y = make_classification(
    n_samples=20_000,
    n_features=20,
    n_informative=10,
    n_redundant=2,
    n_classes=4,
    n_clusters_per_class=1,
    class_sep=0.8,
    flip_y=0.05,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
n_classes = len(np.unique(y))
print(f"train: {X_train.shape}, test: {X_test.shape}, {n_classes} classes")

# %%
# Fitting the three estimators
# ----------------------------
# Each is a pipeline that standardises the features first. With a tight
# ``tol`` both solvers reach the same optimum closely, so that any difference
# between the first two curves below would come from the models, not from
# where the solvers stopped. ``label_smoothing=0.1`` fits the targets
# ``0.9 * one_hot + 0.1 / 4``: 0.925 for the observed class and 0.025 for each
# of the others.
C = 1.0
TOL = 1e-8
estimators = {
    "LogisticRegression": LogisticRegression(C=C, tol=TOL, max_iter=1000),
    "SoftmaxRegression": SoftmaxRegression(C=C, tol=TOL, max_iter=1000),
    "SoftmaxRegression, label_smoothing=0.1": SoftmaxRegression(
        C=C, tol=TOL, max_iter=1000, label_smoothing=0.1
    ),
}
proba = {}
for name, estimator in estimators.items():
    model = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    proba[name] = model.predict_proba(X_test)
    print(f"{name:<39} {model[-1].n_iter_[0]:3d} iterations")

names = list(estimators)
print(f"largest absolute difference of predict_proba from {names[0]}'s:")
for other in names[1:]:
    difference = np.max(np.abs(proba[other] - proba[names[0]]))
    print(f"  {other:<38} {difference:.1e}")

# %%
# Scores on the held-out set
# --------------------------
# The log-loss and the Brier score (the squared distance between the vector
# of probabilities and the one-hot label, summed over classes and averaged
# over samples, between 0 and 2) reward both accuracy and calibration.
# Calibration of the predicted class alone is summarised by comparing its
# probability, the confidence, with the accuracy: overall; as ``gap``, the
# mean over ten bins of equal size, sorted by confidence, of the absolute
# difference between the two; and as ``top acc`` and ``top conf``, in the bin
# of the most confident tenth of the samples.
Y_test = np.eye(n_classes)[y_test]


def top_class(P):
    """Confidence of the predicted class and whether that class is right."""
    return P.max(axis=1), P.argmax(axis=1) == y_test


def binned(confidence, correct, n_bins=10):
    """Mean confidence and accuracy in equal-count bins, by confidence."""
    bins = np.array_split(np.argsort(confidence), n_bins)
    return (
        np.array([confidence[b].mean() for b in bins]),
        np.array([correct[b].mean() for b in bins]),
    )


print(
    f"{'':<38} {'log-loss':>8} {'Brier':>6} {'accuracy':>8} {'confidence':>10} "
    f"{'gap':>6} {'top acc':>7} {'top conf':>8}"
)
for name, P in proba.items():
    confidence, correct = top_class(P)
    brier = np.mean(np.sum((P - Y_test) ** 2, axis=1))
    bin_confidence, bin_accuracy = binned(confidence, correct)
    gap = np.mean(np.abs(bin_accuracy - bin_confidence))
    print(
        f"{name:<38} {log_loss(y_test, P):8.4f} {brier:6.4f} "
        f"{correct.mean():8.4f} "
        f"{confidence.mean():10.4f} {gap:6.4f} "
        f"{bin_accuracy[-1]:7.4f} {bin_confidence[-1]:8.4f}"
    )

# %%
# Reliability of the predicted class
# ----------------------------------
# A calibration curve is drawn for a binary outcome. Here the outcome is
# whether the predicted class is right, against the confidence, which is at
# least 1/4 with four classes; the bins hold equal numbers of samples. Points
# above the diagonal are bins where the model is right more often than its
# confidence says, points below it bins where it is right less often. The
# histogram, in a figure of its own below the curves, shows how the
# confidences are spread.
#
# The curves of LogisticRegression and SoftmaxRegression lie on each other.
# They are above the diagonal at lower confidences and fall below it in the
# most confident bin, the top tenth in the table above: as 5% of the labels
# are random, no sample's label can be predicted right more often than
# 0.95 + 0.05 / 4 = 0.9625, yet the linear scores, and with them the
# confidence, keep growing away from the class boundaries. Label smoothing
# lowers the confidences on the whole, which moves its points to the left and
# its histogram towards 1/4. That brings the most confident bin closer to the
# diagonal but moves the others further above it, and the scores in the table
# above are worse for it.
colours = {names[0]: "tab:blue", names[1]: "k", names[2]: "tab:orange"}
styles = {
    names[0]: {"marker": "o", "linewidth": 4, "markersize": 10, "alpha": 0.5},
    names[1]: {"marker": "s", "markersize": 4, "linestyle": "--"},
    names[2]: {"marker": "^"},
}
for name, colour in colours.items():
    styles[name]["color"] = colour

fig_curve, ax_curve = plt.subplots(figsize=(6.5, 6), layout="constrained")
fig_hist, ax_hist = plt.subplots(figsize=(6.5, 2.4), layout="constrained")
for name, P in proba.items():
    confidence, correct = top_class(P)
    CalibrationDisplay.from_predictions(
        correct,
        confidence,
        n_bins=10,
        strategy="quantile",
        name=name,
        ax=ax_curve,
        **styles[name],
    )
    ax_hist.hist(
        confidence,
        bins=np.linspace(0, 1, 41),
        histtype="step",
        color=colours[name],
        linestyle=styles[name].get("linestyle", "-"),
        linewidth=styles[name].get("linewidth", 1.5),
        alpha=styles[name].get("alpha", 1.0),
    )
ax_curve.set_xlabel("confidence (largest predicted probability)")
ax_curve.set_ylabel("accuracy in the bin")
ax_curve.set_title("Confidence of the predicted class against its accuracy")
# The two figures share the confidence axis, as if stacked.
ax_hist.set_xlim(ax_curve.get_xlim())
ax_hist.set_xlabel("confidence (largest predicted probability)")
ax_hist.set_ylabel("test samples")

# %%
# One class against the rest
# --------------------------
# Each column of ``predict_proba`` can also be checked on its own: the
# outcome is whether a sample belongs to that class, against the probability
# given to it. Here the bins are of equal width: many of these probabilities
# are small (the share below 0.1 is printed), and equal-count bins would crowd
# near zero.
#
# The curves of the first two estimators again lie on each other, class by
# class. Label smoothing pulls the probabilities towards 1/4, raising small
# ones and lowering large ones, so its curve lies below theirs at small
# probabilities and above theirs over most of the upper half.
P = proba[names[1]]
print(
    f"entries of {names[1]}'s predict_proba below 0.1: {np.mean(P < 0.1):.0%}"
)

fig, axes = plt.subplots(
    1,
    n_classes,
    figsize=(16, 4.5),
    sharex=True,
    sharey=True,
    layout="constrained",
)
for k, ax in enumerate(axes):
    for name, P in proba.items():
        CalibrationDisplay.from_predictions(
            y_test == k,
            P[:, k],
            n_bins=10,
            name=name,
            ax=ax,
            **styles[name],
        )
    ax.set_title(f"class {k} against the rest")
    ax.set_xlabel(f"predicted probability of class {k}")
    ax.set_ylabel("fraction in the class" if k == 0 else "")
    ax.get_legend().remove()
fig.legend(
    *axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4
)
plt.show()

# sphinx_gallery_thumbnail_number = 1

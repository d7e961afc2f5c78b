"""
==============================================================
Decision regions and probability contours on two iris features
==============================================================

:class:`~sklearn_softmax.SoftmaxRegression` gives each class a score that is
linear in the features and turns the scores into probabilities with the
softmax. This example fits it on two features of the iris data, petal length
and petal width, for a strong and a weak penalty, and draws the regions where
each class is predicted, the lines that bound them, and the probability of
each class over the plane.
"""

# %%
# The data
# --------
# Two of the four iris features, so that the model can be drawn in the plane.
# The features are standardised in a pipeline, so that the penalty treats
# them alike, while the plots stay in centimetres.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

iris = load_iris()
X = iris.data[:, 2:]
y = iris.target
feature_names = [name.replace(" (cm)", "") for name in iris.feature_names[2:]]
class_names = list(iris.target_names)
print(f"X: {X.shape}, classes: {', '.join(class_names)}")

# %%
# Fitting for two values of C
# ---------------------------
# A small ``C`` penalises the coefficients strongly: the scores vary slowly
# over the plane and no class is given a probability near one. A large ``C``
# lets the scores grow, and the probabilities go to nearly zero or one away
# from the boundaries.
C_VALUES = [0.1, 100.0]

models = {}
for C in C_VALUES:
    model = make_pipeline(StandardScaler(), SoftmaxRegression(C=C, tol=1e-8))
    models[C] = model.fit(X, y)
    softmax = model[-1]
    proba = model.predict_proba(X)
    print(
        f"C={C:<5g} training accuracy {model.score(X, y):.3f}, "
        f"largest probability {proba.max():.4f}, "
        "mean probability of the true class "
        f"{proba[np.arange(len(y)), y].mean():.3f}, "
        f"||coef_|| {np.linalg.norm(softmax.coef_):.2f} "
        f"({softmax.n_iter_[0]} iterations)"
    )

# %%
# Evaluating the model on a grid
# ------------------------------
# One call to ``predict_proba`` on a grid over the plane gives the probability
# of each class at every grid point; ``predict`` returns the most probable
# class. With three classes the most probable one can have a probability below
# one half; the lines printed give, for each ``C``, the range of that
# probability over the grid.
x_min, x_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
y_min, y_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
xx, yy = np.meshgrid(
    np.linspace(x_min, x_max, 300), np.linspace(y_min, y_max, 300)
)
grid = np.column_stack([xx.ravel(), yy.ravel()])

grid_proba = {}
for C, model in models.items():
    proba = model.predict_proba(grid)
    agree = np.mean(model.predict(grid) == model.classes_[proba.argmax(axis=1)])
    top = proba.max(axis=1)
    print(
        f"C={C:<5g} predict agrees with the most probable class on {agree:.0%} "
        f"of {len(grid)} grid points; probability of the predicted class from "
        f"{top.min():.3f} to {top.max():.3f}, "
        f"below 0.5 on {np.mean(top < 0.5):.0%}"
    )
    grid_proba[C] = proba.reshape(*xx.shape, -1)

# %%
# Why the boundaries are straight
# -------------------------------
# Between two classes ``j`` and ``k`` the boundary is where their scores are
# equal, ``(w_j - w_k) . z + (b_j - b_k) = 0`` for the standardised features
# ``z``. That is a straight line, and since standardising is affine it is a
# straight line in centimetres too. The function below maps ``coef_`` and
# ``intercept_`` back to the original units, so each line can be drawn from
# the fitted parameters alone.


def score_differences(model):
    """Weights and intercept of ``score_j - score_k`` in centimetres.

    One entry per pair of classes ``(j, k)``.
    """
    scaler, softmax = model
    weights = softmax.coef_ / scaler.scale_
    intercepts = softmax.intercept_ - weights @ scaler.mean_
    return {
        (j, k): (weights[j] - weights[k], intercepts[j] - intercepts[k])
        for j, k in [(0, 1), (0, 2), (1, 2)]
    }


# %%
# Plotting the regions and the probabilities
# ------------------------------------------
# One figure for each value of ``C`` shows the predicted class over the
# plane, with the training points and, dashed, the three lines on which two
# scores are equal. Each edge between two regions lies on one of them; the
# third, where the scores of setosa and virginica are equal, runs through the
# versicolor region, where neither of the two is predicted, and bounds
# nothing.
#
# The last figure has one row for each value of ``C``; each panel shows the
# probability of one class, with the training points of that class and the
# contour where the probability is 0.5. These contours need not be straight, as
# each probability depends on all three scores: at ``C=0.1`` the 0.5 contour of
# versicolor is curved and lies well inside the versicolor region. At ``C=100``
# the probabilities change from near zero to near one across a narrow band
# around each edge.
colours = ["tab:blue", "tab:orange", "tab:green"]
levels = np.linspace(0, 1, 11)
xs = np.array([x_min, x_max])

region_axes = [
    plt.subplots(figsize=(5.5, 4.5), layout="constrained")[1] for _ in C_VALUES
]
fig, axes = plt.subplots(
    len(C_VALUES),
    3,
    figsize=(12, 7.5),
    sharex=True,
    sharey=True,
    layout="constrained",
)
for ax, row, C in zip(region_axes, axes, C_VALUES, strict=True):
    proba = grid_proba[C]
    ax.contourf(
        xx,
        yy,
        proba.argmax(axis=2),
        levels=[-0.5, 0.5, 1.5, 2.5],
        colors=colours,
        alpha=0.3,
    )
    for weight, intercept in score_differences(models[C]).values():
        ax.plot(
            xs, -(intercept + weight[0] * xs) / weight[1], "k--", linewidth=0.8
        )
    for label, (name, colour) in enumerate(
        zip(class_names, colours, strict=True)
    ):
        ax.scatter(
            *X[y == label].T, color=colour, edgecolor="k", s=20, label=name
        )
    ax.set_title(f"Predicted class, C={C:g}")
    ax.set_xlabel(f"{feature_names[0]} (cm)")
    ax.set_ylabel(f"{feature_names[1]} (cm)")
    ax.legend(loc="upper left")

    row[0].set_ylabel(f"{feature_names[1]} (cm)")
    for label, ax in enumerate(row):
        filled = ax.contourf(
            xx, yy, proba[:, :, label], levels=levels, cmap="viridis"
        )
        lines = ax.contour(xx, yy, proba[:, :, label], levels=[0.5], colors="w")
        ax.clabel(lines, fmt="%.1f")
        ax.scatter(*X[y == label].T, color=colours[label], edgecolor="k", s=20)
        ax.set_title(f"P({class_names[label]}), C={C:g}")

for ax in axes[-1]:
    ax.set_xlabel(f"{feature_names[0]} (cm)")
for ax in [*region_axes, *axes.flat]:
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
fig.colorbar(filled, ax=axes, label="predicted probability", shrink=0.8)
fig.suptitle("SoftmaxRegression on petal length and width")
plt.show()

# sphinx_gallery_thumbnail_number = 1

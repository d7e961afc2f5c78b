"""
===========
Quick start
===========

:class:`~sklearn_softmax.SoftmaxRegression` is a scikit-learn classifier: it
is fitted, used and inspected like any other. This example trains it on the
digits data (1797 images of handwritten digits, 8 x 8 pixels, 10 classes) in a
pipeline with a :class:`~sklearn.preprocessing.StandardScaler`, predicts
classes and probabilities for images it has not seen, looks at the fitted
model, and plots its coefficients and its confusion matrix on the test set.
"""

# %%
# The data
# --------
# Each image is a row of 64 pixel intensities, from 0 to 16. A quarter of the
# images are held out to test the model; ``stratify=y`` keeps the ten digits
# in the same proportions in both parts.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"Training set: {X_train.shape}, test set: {X_test.shape}")
print(f"Classes: {np.unique(y)}")

# %%
# Fitting
# -------
# The penalty on the coefficients treats every feature alike, so the features
# are brought to one scale first. The pipeline learns the scaling on the
# training set and applies the same scaling to any data passed to it later.
# All the parameters keep their defaults, among them ``C=1.0``, the inverse
# of the penalty's strength.
model = make_pipeline(StandardScaler(), SoftmaxRegression())
model.fit(X_train, y_train)

# %%
# Predicting
# ----------
# :meth:`~sklearn_softmax.SoftmaxRegression.predict` gives the most probable
# class, :meth:`~sklearn_softmax.SoftmaxRegression.predict_proba` the
# probability of each class, one column per class in the order of
# ``classes_``, and :meth:`~sklearn.base.ClassifierMixin.score` the
# accuracy. The pipeline scales the test images before passing them on.
y_pred = model.predict(X_test)
proba = model.predict_proba(X_test)
print(f"First five test images, true digit:      {y_test[:5]}")
print(f"First five test images, predicted digit: {y_pred[:5]}")
print("Their probabilities, one column per digit:")
print(np.array2string(proba[:5], precision=2, suppress_small=True))
print(f"Every row sums to one: {np.allclose(proba.sum(axis=1), 1)}")
print(f"Test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# The fitted model
# ----------------
# The last step of the pipeline is the fitted
# :class:`~sklearn_softmax.SoftmaxRegression`. ``coef_`` holds one row of 64
# weights per class and ``intercept_`` one number per class; the
# probabilities of a standardised image ``x`` are the softmax of
# ``coef_ @ x + intercept_``. ``solver_`` records the solver that the default
# ``solver='auto'`` picked, ``n_iter_`` how many iterations it took,
# ``converged_`` whether it met ``tol`` within ``max_iter``, and
# ``loss_curve_`` the objective after each iteration.
softmax = model[-1]
print(f"classes_:    {softmax.classes_}")
print(f"coef_:       shape {softmax.coef_.shape}")
print(f"intercept_:  {np.array2string(softmax.intercept_, precision=2)}")
print(f"solver_:     {softmax.solver_!r}")
print(f"n_iter_:     {softmax.n_iter_}")
print(f"converged_:  {softmax.converged_}")
print(f"loss_curve_: {np.array2string(softmax.loss_curve_, precision=4)}")

# %%
# Plotting the coefficients and the errors
# ----------------------------------------
# In the first figure, each class's row of ``coef_`` drawn as an 8 x 8 image: a
# red pixel adds to that digit's score, ``coef_ @ x + intercept_``, when it
# holds more ink than on average, and a blue pixel takes away from it. Pixels
# that are blank in every training image are zero after scaling and keep a zero
# weight. In the second, the confusion matrix on the test set, with the true
# digit in rows and the predicted digit in columns; the counts off the diagonal
# are the mistakes.
fig_coef = plt.figure(figsize=(6.6, 4), layout="constrained")
fig_confusion = plt.figure(figsize=(5, 4.4), layout="constrained")

limit = np.abs(softmax.coef_).max()
axes_coef = fig_coef.subplots(2, 5)
for digit, weights, ax in zip(
    softmax.classes_, softmax.coef_, axes_coef.ravel(), strict=True
):
    image = ax.imshow(
        weights.reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit
    )
    ax.set_title(f"digit {digit}")
    ax.set_xticks([])
    ax.set_yticks([])
fig_coef.colorbar(image, ax=axes_coef, shrink=0.8)
fig_coef.suptitle("coef_, one image per class")

ax_confusion = fig_confusion.subplots()
ConfusionMatrixDisplay.from_predictions(
    y_test, y_pred, colorbar=False, ax=ax_confusion
)
ax_confusion.set_title("Confusion matrix, test set")

plt.show()

# sphinx_gallery_thumbnail_number = 2

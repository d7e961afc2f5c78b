"""Multinomial (softmax) logistic regression for scikit-learn."""

from ._estimator import SoftmaxRegression
from ._version import __version__

__all__ = ["SoftmaxRegression", "__version__"]

"""Multinomial (softmax) logistic regression for scikit-learn."""

from ._cv import SoftmaxRegressionCV
from ._estimator import SoftmaxRegression
from ._inference import SeparationWarning, SoftmaxInferenceResult, softmax_inference
from ._onnx import register_onnx_converter
from ._path import softmax_regression_path
from ._version import __version__

__all__ = [
    "SeparationWarning",
    "SoftmaxInferenceResult",
    "SoftmaxRegression",
    "SoftmaxRegressionCV",
    "__version__",
    "register_onnx_converter",
    "softmax_inference",
    "softmax_regression_path",
]

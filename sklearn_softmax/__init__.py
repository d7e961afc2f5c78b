"""Multinomial (softmax) logistic regression for scikit-learn."""

from ._cv import SoftmaxRegressionCV
from ._estimator import SoftmaxRegression
from ._hypotheses import WaldTestResult
from ._inference import SeparationWarning, softmax_inference
from ._inference_result import SoftmaxInferenceResult
from ._marginal_effects import MarginalEffects
from ._onnx import register_onnx_converter
from ._path import softmax_regression_path
from ._plotting import ConvergenceDisplay, RegularizationPathDisplay
from ._version import __version__

__all__ = [
    "ConvergenceDisplay",
    "MarginalEffects",
    "RegularizationPathDisplay",
    "SeparationWarning",
    "SoftmaxInferenceResult",
    "SoftmaxRegression",
    "SoftmaxRegressionCV",
    "WaldTestResult",
    "__version__",
    "register_onnx_converter",
    "softmax_inference",
    "softmax_regression_path",
]

"""
======================================
PyTorch tensors on the GPU (Array API)
======================================

:class:`~sklearn_softmax.SoftmaxRegression` fits the arrays of any
`Array API <https://data-apis.org/array-api/latest/>`_ namespace on the
device where they live, under scikit-learn's ``array_api_dispatch``. This
example fits PyTorch tensors on a CUDA GPU when one is present, and on
PyTorch's CPU device otherwise, and checks that the fit reaches the model
that the same estimator fits on NumPy arrays.

PyTorch is an optional dependency. Where it is not installed, the example
says so and fits the arrays of ``array_api_strict``, the Array API's
reference namespace, instead: the same code path, on the CPU.
"""

# %%
# Turning on the Array API
# ------------------------
# scikit-learn's array API support needs SciPy's, which SciPy reads from the
# environment variable ``SCIPY_ARRAY_API`` when it is first imported: it is
# set before anything imports SciPy. scikit-learn also needs SciPy 1.14 or
# later, and array-api-compat: without them, the example stops here.
import os
import sys

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import matplotlib.pyplot as plt
import numpy as np
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression

try:
    with config_context(array_api_dispatch=True):
        pass
except (ImportError, RuntimeError) as error:
    print(f"scikit-learn cannot use the Array API here: {error}")
    sys.exit()

try:
    import torch
except ImportError:
    torch = None

if torch is not None:
    xp = torch
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    where = "a CUDA GPU" if device.type == "cuda" else "PyTorch's CPU device"
else:
    import array_api_strict as xp

    device = xp.asarray(0.0).device
    where = "array_api_strict's CPU device"
    print("PyTorch is not installed: fitting array_api_strict arrays instead.")
print(f"Fitting on {where} ({device}).")


def to_numpy(array):
    """A NumPy copy of an array of the namespace, from any device."""
    if torch is not None:
        return array.cpu().numpy()
    return np.from_dlpack(array)


# %%
# The data
# --------
# 20000 samples of 50 standardised features in 6 classes, in float32, the
# dtype GPUs compute fastest. The tensors are made from the NumPy arrays and
# placed on the device once; the fit then reads nothing back but a few
# numbers per iteration.
X, y = make_classification(
    n_samples=20_000,
    n_features=50,
    n_informative=20,
    n_classes=6,
    random_state=0,
)
X = StandardScaler().fit_transform(X).astype(np.float32)
X_device = xp.asarray(X, device=device)
y_device = xp.asarray(y, device=device)

# %%
# Fitting on the device, and with NumPy
# -------------------------------------
# The same estimator, with the same settings, is fitted on the tensors under
# ``array_api_dispatch=True`` and on the NumPy arrays. Both use 'newton-cg'
# ('auto' chooses it here: 306 parameters) and stop once the largest entry of
# the gradient is at most ``tol``.
params = dict(C=1.0, tol=1e-5)

with config_context(array_api_dispatch=True):
    model_device = SoftmaxRegression(**params).fit(X_device, y_device)
    proba_device = model_device.predict_proba(X_device)

model_numpy = SoftmaxRegression(**params).fit(X, y)

print(f"solver: {model_device.solver_} and {model_numpy.solver_}")
coef = model_device.coef_
print(f"coef_: {type(coef).__name__} of {coef.dtype} on {coef.device}")

# %%
# The same model
# --------------
# Both fits stop within ``tol`` of the same optimum, by different arithmetic
# (another library's kernels, and on a GPU another processor), so their
# coefficients agree closely, though not to the last bit.
coef_device = to_numpy(model_device.coef_)
difference = np.abs(coef_device - model_numpy.coef_).max()
print(f"largest coefficient difference: {difference:.1e}")
print(f"largest coefficient: {np.abs(model_numpy.coef_).max():.2f}")
proba_difference = np.abs(to_numpy(proba_device) - model_numpy.predict_proba(X))
print(f"largest probability difference: {proba_difference.max():.1e}")

# %%
# Each coefficient of the fit on the device against the same coefficient of
# the NumPy fit: all 300 lie on the diagonal.
fig, ax = plt.subplots(figsize=(5.5, 5))
for k in range(model_numpy.coef_.shape[0]):
    ax.scatter(model_numpy.coef_[k], coef_device[k], s=14, label=f"class {k}")
limits = np.array([coef_device.min(), coef_device.max()]) * 1.1
ax.plot(limits, limits, color="0.6", linewidth=1, zorder=0)
ax.set_xlabel("coefficient, fitted on NumPy arrays")
ax.set_ylabel(f"coefficient, fitted on {where}")
ax.set_title("One model, two namespaces")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# sphinx_gallery_thumbnail_number = 1

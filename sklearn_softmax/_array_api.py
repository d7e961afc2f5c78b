"""Where the estimators meet the Array API: which namespace and device an
input lives on, moving small arrays between it and the host, and checking
that a fitted model and its input live in the same place."""

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils._array_api import get_namespace_and_device


def input_namespace(*arrays):
    """``(xp, device)`` when scikit-learn's array API dispatch is on and the
    arrays belong to a namespace other than NumPy's; ``None`` otherwise,
    where the NumPy code paths take them (lists, DataFrames and sparse
    matrices included)."""
    if not get_config()["array_api_dispatch"]:
        return None
    xp, is_array_api, device = get_namespace_and_device(*arrays)
    # NumPy's namespace is NumPy itself or a wrapper of it (array-api-compat's,
    # or the copy scikit-learn vendors), whose name ends in "numpy".
    if not is_array_api or xp.__name__.rpartition(".")[2] == "numpy":
        return None
    return xp, device


def to_numpy(array):
    """A NumPy copy on the host of an array of any namespace or device;
    SciPy sparse matrices (a sparsified ``coef_``) as dense arrays; NumPy
    arrays and other array-likes as ``np.asarray`` gives them."""
    if array is None or isinstance(array, np.ndarray):
        return array
    if sp.issparse(array):
        return array.toarray()
    module = namespace_name(array)
    if module == "torch":
        return array.detach().cpu().numpy()
    if module == "cupy":
        return array.get()
    if module == "array_api_strict":
        xp = array.__array_namespace__()
        return np.asarray(xp.asarray(array, device=xp.Device("CPU_DEVICE")))
    return np.asarray(array)


def host_array(array):
    """An array of an Array API namespace other than NumPy's as a NumPy copy
    on the host; anything else (NumPy arrays, lists, DataFrames, sparse
    matrices) as it is."""
    if isinstance(array, np.ndarray):
        return array
    # PyTorch's tensors are Array API arrays without __array_namespace__.
    if namespace_name(array) == "torch" or hasattr(array, "__array_namespace__"):
        return to_numpy(array)
    return array


def parameter_dtype(xp, device):
    """float64 where the device has it (not Apple's MPS, for one), else
    float32: the dtype of the solver's iterate and of its sums."""
    try:
        xp.zeros(1, dtype=xp.float64, device=device)
    except (TypeError, RuntimeError, ValueError):
        return xp.float32
    return xp.float64


def numpy_dtype(xp, dtype):
    """The NumPy float dtype of a namespace's float dtype."""
    return np.dtype(np.float32 if dtype == xp.float32 else np.float64)


def namespace_name(array):
    """``'numpy'``, or the name of the array's library (``'torch'``, ...)."""
    if isinstance(array, np.ndarray):
        return "numpy"
    return type(array).__module__.partition(".")[0]


def check_same_namespace(estimator, X, method, namespace):
    """Raise if ``X``, whose :func:`input_namespace` is ``namespace``, is not
    in the namespace and on the device of the fitted ``coef_``, as
    scikit-learn's array API estimators do."""
    fitted = estimator.coef_
    # A sparsified coef_ is a SciPy matrix on the host.
    fitted_name = "numpy" if sp.issparse(fitted) else namespace_name(fitted)
    if namespace is None:
        if fitted_name == "numpy":
            return
        problem = (
            f"It was fitted on {fitted_name} arrays, and X is taken as a NumPy "
            "array here"
            + (
                ""
                if get_config()["array_api_dispatch"]
                else ": call it inside sklearn.config_context(array_api_dispatch=True)"
            )
            + "."
        )
    else:
        _, device = namespace
        _, _, fitted_device = get_namespace_and_device(fitted)
        if namespace_name(X) == fitted_name and device == fitted_device:
            return
        problem = (
            f"It was fitted on {fitted_name} arrays on device {fitted_device!r}, "
            f"and X is a {namespace_name(X)} array on device {device!r}."
        )
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        "same namespace and the same device as those passed to fit(). "
        f"{problem} Refit the model on such data, or move X there."
    )

"""Which Array API namespaces and devices the tests can use here.

scikit-learn's array API estimator checks name every namespace and device
they know (CuPy, PyTorch on CUDA, XPU and MPS, ...) and skip those that are
missing. The tests here are generated only for those that exist, so that a
run on a machine with a GPU checks it and a run without one skips nothing.
"""

from functools import cache
from unittest import SkipTest

import pytest
import sklearn
from sklearn.utils._testing import _array_api_for_tests


@cache
def dispatch_available():
    """Whether scikit-learn can turn on array API dispatch here: it needs
    SciPy 1.14 or later and the SCIPY_ARRAY_API environment variable."""
    try:
        with sklearn.config_context(array_api_dispatch=True):
            return True
    except (ImportError, RuntimeError):
        return False


@cache
def available(namespace, device=None):
    """Whether arrays of ``namespace`` can be made on ``device`` here."""
    if not dispatch_available():
        return False
    try:
        xp, _ = _array_api_for_tests(namespace, device)
    except (SkipTest, ImportError):
        return False
    if namespace == "torch" and device == "cuda":
        return bool(xp.cuda.is_available())
    return True


def runs_here(check):
    """Whether an estimator check can run here: array API checks need their
    namespaces and devices; every other check runs everywhere."""
    keywords = getattr(check, "keywords", {})
    name = getattr(check, "func", check).__name__
    if not name.startswith("check_array_api"):
        return True
    if "array_namespace" in keywords:
        wanted = [(keywords["array_namespace"], keywords.get("device_name"))]
    else:
        wanted = [
            tuple(keywords[key]) for key in ("X_ns_and_device", "other_ns_and_device")
        ]
    return all(available(namespace, device) for namespace, device in wanted)


_WHY_MISSING = {
    "torch": "PyTorch is not installed",
    "cupy": "no CuPy with CUDA",
    "array_api_strict": "array-api-strict is not installed",
}


def namespace_param(namespace, device=None, id=None):
    """A pytest parameter ``(namespace, device)``, skipped, saying why,
    where such arrays cannot be made here."""
    reason = "no CUDA device" if device == "cuda" else _WHY_MISSING[namespace]
    return pytest.param(
        namespace,
        device,
        id=id or (namespace if device is None else f"{namespace}-{device}"),
        marks=pytest.mark.skipif(not available(namespace, device), reason=reason),
    )


# The tests of array API inputs need scikit-learn's dispatch.
needs_dispatch = pytest.mark.skipif(
    not dispatch_available(),
    reason="scikit-learn's array API dispatch needs SciPy 1.14 or later",
)


def every_namespace():
    """The namespaces and devices of the array API tests, each a pytest
    parameter skipped where it is missing (see :func:`namespace_param`)."""
    return [
        namespace_param("array_api_strict"),
        namespace_param("array_api_strict", "device1"),
        namespace_param("torch", "cpu"),
        namespace_param("torch", "cuda"),
        namespace_param("cupy"),
    ]

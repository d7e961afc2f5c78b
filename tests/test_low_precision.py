"""Hessian-vector products in a lower precision on Array API devices.

The products run on a copy of ``X`` in a lower dtype (float32 for float64
data; bfloat16, or float16 scaled into its range, for float32 data). Their
error is checked against the float64 products, with a bound from the
rounding of the dtype; fits that use them are checked against the float64
optimum, which they must reach as exactly as fits without them, since the
objective, the gradient and the stopping test keep the data's precision.
The bfloat16 and float16 products run here on PyTorch's CPU device: they
are the arithmetic a GPU's tensor cores do, up to the order of the sums.
"""

import numpy as np
import pytest
import sklearn
from _namespaces import available, namespace_param, needs_dispatch
from _problems import make_problem, penalised_objective
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.utils._testing import _array_api_for_tests

from sklearn_softmax import SoftmaxRegression, _low_precision
from sklearn_softmax._array_api import to_numpy
from sklearn_softmax._heuristics import choose_device_hessian_dtype
from sklearn_softmax._loss_array_api import bind_objective
from sklearn_softmax._low_precision import LowPrecisionData, lower_dtype

pytestmark = needs_dispatch
# The tests that run the lower dtypes on PyTorch's CPU device (the others
# take their devices as parameters, each skipped where it is missing).
needs_torch = pytest.mark.skipif(
    not available("torch", "cpu"), reason="PyTorch is not installed"
)
needs_cuda = pytest.mark.skipif(not available("torch", "cuda"), reason="no CUDA device")
# Where the products run: PyTorch's CPU device everywhere it is installed
# (bfloat16, as on CUDA); CUDA with PyTorch (bfloat16) and CuPy (float16)
# where a GPU is.
DEVICES = [
    namespace_param("torch", "cpu"),
    namespace_param("torch", "cuda"),
    namespace_param("cupy"),
]

# Unit roundoff of each lower dtype: half the spacing of the numbers in [1, 2).
UNIT_ROUNDOFF = {"float32": 2.0**-24, "bfloat16": 2.0**-8, "float16": 2.0**-11}


def torch_namespace():
    return _array_api_for_tests("torch", "cpu")[0]


def scaled_data(rng, n_samples, n_features, dtype):
    """Columns on scales from 1e-3 to 1e3, as unscaled data has them."""
    scales = np.logspace(-3, 3, n_features)
    return (rng.standard_normal((n_samples, n_features)) * scales).astype(dtype)


def product_bound(abs_X, abs_V, name):
    """The rounding bound of a product in the lower dtype: each operand
    rounded once (2u) and the result once (u), on ``|X| |V|``, with a
    factor of two for the sums' own rounding and the scaling."""
    return 2 * 3 * UNIT_ROUNDOFF[name] * (abs_X @ abs_V)


@needs_torch
@pytest.mark.parametrize(
    "name, data_dtype",
    [("float32", np.float64), ("bfloat16", np.float32), ("float16", np.float32)],
)
def test_products_are_within_the_rounding_of_the_lower_dtype(
    name, data_dtype, monkeypatch
):
    # Several blocks of rows for float16's X^T R, the last one short.
    monkeypatch.setattr(_low_precision, "FLOAT16_BLOCK", 64)
    xp = torch_namespace()
    rng = np.random.default_rng(0)
    X = scaled_data(rng, 300, 12, data_dtype)
    V = rng.standard_normal((12, 4)) * np.logspace(2, -2, 12)[:, None]
    R = rng.standard_normal((300, 4)) * 1e-6
    lower = LowPrecisionData(xp.asarray(X), getattr(xp, name))
    XV = to_numpy(lower.times(xp.asarray(V.astype(data_dtype))))
    XtR = to_numpy(lower.transpose_times(xp.asarray(R.astype(data_dtype))))
    assert XV.dtype == XtR.dtype == data_dtype
    X64 = X.astype(np.float64)
    exact_XV, exact_XtR = X64 @ V, X64.T @ R
    assert np.all(np.abs(XV - exact_XV) <= product_bound(np.abs(X64), np.abs(V), name))
    assert np.all(
        np.abs(XtR - exact_XtR) <= product_bound(np.abs(X64.T), np.abs(R), name)
    )
    # And the products are not exact: the lower dtype is really used.
    assert np.max(np.abs(XV - exact_XV)) > 0


@needs_torch
def test_float16_is_kept_in_its_range():
    """Entries far beyond float16's largest value (65504), and sums over
    many rows, stay finite and accurate through the scaling."""
    xp = torch_namespace()
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((2000, 3)) * 1e6).astype(np.float32)
    R = np.abs(rng.standard_normal((2000, 2))).astype(np.float32) * 1e5
    lower = LowPrecisionData(xp.asarray(X), xp.float16)
    XtR = to_numpy(lower.transpose_times(xp.asarray(R)))
    exact = X.astype(np.float64).T @ R
    bound = product_bound(np.abs(X.astype(np.float64)).T, R, "float16")
    assert np.all(np.isfinite(XtR))
    assert np.all(np.abs(XtR - exact) <= bound)


@needs_torch
def test_the_lower_dtype_of_each_torch_dtype():
    xp = torch_namespace()
    assert lower_dtype(xp, xp.float64, 10) == xp.float32
    assert lower_dtype(xp, xp.float32, 10) == xp.bfloat16


def test_the_lower_dtype_of_each_array_api_strict_dtype():
    strict = _array_api_for_tests("array_api_strict", None)[0]
    # array-api-strict has float32 below float64, and nothing below float32.
    assert lower_dtype(strict, strict.float64, 10) == strict.float32
    assert lower_dtype(strict, strict.float32, 10) is None


@needs_cuda
def test_auto_lowers_products_on_cuda_only_when_they_are_large():
    """'auto' takes the lower dtype on a CUDA device for a product of at
    least 10^8 multiply-adds whose copy of X fits."""
    xp, _ = _array_api_for_tests("torch", "cpu")
    on_gpu = xp.zeros((20_000, 100), dtype=xp.float32, device="cuda")
    chosen = choose_device_hessian_dtype(
        xp, on_gpu, 100, "newton-cg", "auto", on_gpu.device
    )
    assert chosen == xp.bfloat16
    small = choose_device_hessian_dtype(
        xp, on_gpu[:100], 100, "newton-cg", "auto", on_gpu.device
    )
    assert small is None


@needs_torch
def test_auto_keeps_full_products_off_cuda_and_mixed_lowers_them():
    xp = torch_namespace()
    X = xp.zeros((20_000, 100), dtype=xp.float32)
    device = X.device
    choose = choose_device_hessian_dtype
    assert choose(xp, X, 100, "newton-cg", "auto", device) is None
    assert choose(xp, X, 100, "newton-cg", "mixed", device) == xp.bfloat16
    assert choose(xp, X, 100, "newton-cg", "full", device) is None
    assert choose(xp, X, 100, "lbfgs", "mixed", device) is None


@pytest.mark.parametrize(
    "namespace, device, name",
    [
        pytest.param("torch", "cpu", "bfloat16", id="torch-cpu-bfloat16"),
        pytest.param("torch", "cpu", "float16", id="torch-cpu-float16"),
        pytest.param(
            "torch",
            "cuda",
            "bfloat16",
            id="torch-cuda-bfloat16",
            marks=pytest.mark.skipif(
                not available("torch", "cuda"), reason="no CUDA device"
            ),
        ),
        pytest.param(
            "cupy",
            None,
            "float16",
            id="cupy-float16",
            marks=pytest.mark.skipif(not available("cupy"), reason="no CuPy with CUDA"),
        ),
    ],
)
def test_hessp_in_the_lower_dtype_is_close_to_the_full_one(namespace, device, name):
    """The whole Hessian-vector product, with the softmax Jacobian between
    the two products, within a few units of the lower dtype's rounding;
    the value and the gradient exactly those of the full objective."""
    xp, device = _array_api_for_tests(namespace, device)
    X, y, sample_weight = make_problem(500, 8, 5, dtype=np.float32, seed=3)
    weights = sample_weight / sample_weight.sum()
    args = (
        xp.asarray(X, device=device),
        xp.asarray(y, device=device),
        xp.asarray(weights, device=device),
        5,
        True,
        1e-2,
        xp.float64,
    )
    full = bind_objective(*args)
    lower = bind_objective(*args, hessian_dtype=getattr(xp, name))
    rng = np.random.default_rng(4)
    x = xp.asarray(rng.standard_normal(9 * 5) * 0.3, device=device)
    v = xp.asarray(rng.standard_normal(9 * 5), device=device)
    f_full, g_full, hessp_full = full.value_gradient_hessp(x)
    f_lower, g_lower, hessp_lower = lower.value_gradient_hessp(x)
    assert f_lower == f_full
    assert_allclose(to_numpy(g_lower), to_numpy(g_full), rtol=0, atol=0)
    Hv, Hv_lower = to_numpy(hessp_full(v)), to_numpy(hessp_lower(v))
    error = np.linalg.norm(Hv_lower - Hv) / np.linalg.norm(Hv)
    # Rounded products of an X of unit scale: the error is a few units of
    # the lower dtype's rounding, relative to the product's norm.
    assert error <= 16 * UNIT_ROUNDOFF[name]
    assert error > 0


@pytest.mark.parametrize("namespace, device", DEVICES)
@pytest.mark.parametrize("data_dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-8)])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_mixed_precision_fit_reaches_the_float64_optimum(
    namespace, device, data_dtype, tol, n_classes
):
    """Newton-CG with products in the lower dtype (bfloat16 for float32 data,
    float32 for float64 data) stops on the same gradient test as without
    them: the objective it reaches is the float64 optimum's within 1e-7
    relative, as the fit without them does."""
    xp, device = _array_api_for_tests(namespace, device)
    X, y, _ = make_problem(600, 10, n_classes, seed=5)
    X *= np.logspace(-1, 1, 10)
    # Two classes: the model of LogisticRegression with twice the C.
    C = 2.0 if n_classes == 2 else 1.0
    optimum = SoftmaxRegression(tol=1e-10).fit(X, y)
    f_optimum = penalised_objective(optimum, X, y, C=C)
    X_xp = xp.asarray(X.astype(data_dtype), device=device)
    y_xp = xp.asarray(y, device=device)
    fitted = {}
    for precision in ("mixed", "full"):
        model = SoftmaxRegression(solver="newton-cg", tol=tol, precision=precision)
        with sklearn.config_context(array_api_dispatch=True):
            model.fit(X_xp, y_xp)
        assert model.converged_
        host = clone(model)
        host.coef_ = to_numpy(model.coef_).astype(np.float64)
        host.intercept_ = to_numpy(model.intercept_).astype(np.float64)
        host.classes_ = np.unique(y)
        host.n_features_in_ = X.shape[1]
        fitted[precision] = penalised_objective(host, X, y, C=C)
    # A gradient of at most tol per entry leaves the objective within
    # n_params tol^2 / (2 mu) of the optimum, mu >= 1 / (C n) the penalty's
    # curvature: 6e-7 absolute for float32's tol at worst, 6e-13 for
    # float64's, on an objective of order one; float32 data moves the
    # optimum by its own rounding (2^-24 relative) besides.
    for f in fitted.values():
        assert f == pytest.approx(f_optimum, rel=1e-7)

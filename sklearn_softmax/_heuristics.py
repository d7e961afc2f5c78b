"""Choices made from the shape of the problem: the solver for the L1 and group
penalties, the precision of the Hessian products, the thread count and
whether to solve in the row space. None of them changes the optimum a fit
reaches; the thread count does not change the fitted model at all."""

import numpy as np
import scipy.sparse as sp

from ._blocks import MIN_WORK_PER_THREAD, product_columns
from ._grams import gram_multiply_adds
from ._low_precision import lower_dtype

# Below this many multiply-adds per product, float32 Hessian products save
# under 5% of a fit of a few milliseconds (see the solvers page).
_MIN_WORK_FOR_MIXED_PRECISION = 100_000
# On a GPU, products below this many multiply-adds are bound by the launch
# of their kernels, not by their arithmetic, and the copy of X in the lower
# dtype would not pay for itself.
_MIN_WORK_FOR_DEVICE_LOW_PRECISION = 100_000_000
# From this many multiply-adds per product, Newton steps on the support beat
# accelerated proximal gradient alone for the group penalty (see the solvers
# page: slower on digits at 1.2e6, faster from 5e6).
_MIN_WORK_FOR_GROUP_NEWTON = 2_000_000
# 'auto' forms and factorises the Hessian when it has at most this many rows
# (parameters), as LogisticRegression's 'newton-cholesky' does.
_MAX_CHOLESKY_ROWS = 100
# Two classes solved in the difference of their parameters: a Hessian of
# r = d + 1 rows, one Gram matrix of the data, formed and factorised at
# each exact step in n r (r + 1) / 2 + r^3 / 3 multiply-adds. Exact steps
# when that is at most this many, or for at most _ALWAYS_DIFFERENCE_ROWS
# rows (see the solvers page: on the development machine, AMD EPYC with
# OpenBLAS's Haswell kernels, exact steps gained on 300 to 300000 rows
# below this work or this many rows, and lost above it, the more so the
# more rows, against conjugate gradients on the passes' one column).
_MAX_DIFFERENCE_STEP_WORK = 15_000_000
_ALWAYS_DIFFERENCE_ROWS = 21
# On Dask, below this many multiply-adds per product with the largest block
# of rows, a block's pass takes less time than the round trip to the
# workers that each evaluation costs (see the Dask page), and 'auto' takes
# the solver with the fewest round trips.
_MIN_BLOCK_WORK_FOR_DASK_NEWTON_CG = 100_000_000
# Wide data is solved in its row space when it has at least this many times
# more features than samples, and at most this many samples per class.
_MIN_WIDTH_RATIO = 4
_MAX_SAMPLES_PER_CLASS = 200


def choose_proximal_solver(X, n_classes, group):
    """The solver 'auto' stands for with an L1 or group penalty: 'gd'
    (accelerated proximal gradient), or, for the group penalty on problems
    of some size, 'newton-cg' (the same with Newton steps on the support)."""
    if group and _work_per_product(X, n_classes) >= _MIN_WORK_FOR_GROUP_NEWTON:
        return "newton-cg"
    return "gd"


def _work_per_product(X, n_classes):
    n_entries = X.nnz if sp.issparse(X) else np.prod(X.shape, dtype=np.int64)
    return int(n_entries) * n_classes


def choose_n_threads(X, n_classes, available):
    """Threads for the passes over ``X`` during a fit, at most ``available``.

    Each thread gets at least ``MIN_WORK_PER_THREAD`` multiply-adds per
    product, of the columns the passes multiply (one for two classes: see
    :func:`~sklearn_softmax._blocks.product_columns`); a small problem runs
    on one thread. For sparse ``X``, at most one thread per ``d K`` stored
    values: each thread keeps ``d x K`` partial sums of its run of rows,
    which all together then take no more memory than ``X``, and which a
    pass adds up on one thread.
    """
    columns = product_columns(n_classes)
    n_threads = _work_per_product(X, columns) // MIN_WORK_PER_THREAD
    if sp.issparse(X):
        n_threads = min(n_threads, X.nnz // (X.shape[1] * columns))
    return int(max(1, min(available, n_threads)))


def choose_hessian_dtype(X, n_classes, solver, precision):
    """The dtype of newton-cg's Hessian-vector products; None keeps ``X``'s.

    float32 for float64 ``X`` with ``precision='mixed'``, or with 'auto' for
    dense ``X`` once a product is large enough for the saving to count, and
    for sparse ``X`` when the float32 copy of its stored values is small
    enough (see :func:`_small_enough_to_copy`).
    """
    if solver != "newton-cg" or X.dtype != np.float64 or precision == "full":
        return None
    if precision == "mixed":
        return np.float32
    if sp.issparse(X):
        return np.float32 if _small_enough_to_copy(X, n_classes) else None
    if _work_per_product(X, n_classes) < _MIN_WORK_FOR_MIXED_PRECISION:
        return None
    return np.float32


def choose_device_hessian_dtype(xp, X, n_classes, solver, precision, device):
    """The dtype of newton-cg's Hessian-vector products on arrays of the
    namespace ``xp``; None keeps ``X``'s.

    The lower dtype of :func:`~sklearn_softmax._low_precision.lower_dtype`
    (float32 for float64 ``X``; bfloat16, or float16 without it, for
    float32 ``X``) with ``precision='mixed'``, and with 'auto' on a CUDA
    device once a product takes at least 10^8 multiply-adds and the copy of
    ``X`` takes at most half of the device's free memory.
    """
    if solver != "newton-cg" or precision == "full":
        return None
    dtype = lower_dtype(xp, X.dtype, X.shape[1])
    if dtype is None or precision == "mixed":
        return dtype
    n_entries = X.shape[0] * X.shape[1]
    if n_entries * n_classes < _MIN_WORK_FOR_DEVICE_LOW_PRECISION:
        return None
    free = free_device_memory(xp, device)
    copy_bytes = n_entries * (4 if dtype == xp.float32 else 2)
    return dtype if free is not None and copy_bytes <= free / 2 else None


def free_device_memory(xp, device):
    """Free memory on a CUDA device in bytes, for PyTorch and CuPy arrays;
    None elsewhere (the host, other libraries and devices)."""
    name = xp.__name__.rpartition(".")[2]
    if name == "torch" and getattr(device, "type", None) == "cuda":
        import torch

        return torch.cuda.mem_get_info(device)[0]
    if name == "cupy":
        import cupy

        with cupy.cuda.Device(device.id):
            return cupy.cuda.runtime.memGetInfo()[0]
    return None


def _small_enough_to_copy(X, n_classes):
    """Whether the float32 copy of the stored values of CSR ``X`` takes no
    more memory than a float64 array of ``n x K`` plus one of ``d x K``,
    such as a fit holds anyway: at most ``2 (n + d) K`` stored values.

    Memory then stays O(nK + dK). The float32 products save most where this
    holds, with many classes for the stored values, since each stored value
    costs the reading of an index whatever the dtype (see the solvers page).
    """
    n_samples, n_features = X.shape
    return X.nnz <= 2 * (n_samples + n_features) * n_classes


def choose_newton_cholesky(X, n_classes, fit_intercept, two_classes_as_one=False):
    """Whether 'auto' takes exact Newton steps: for float64 data where the
    matrix they factor has at most :data:`_MAX_CHOLESKY_ROWS` rows, so that
    forming it costs a few passes' worth of multiply-adds, in products that
    run faster than the passes do, and each step lands where many
    conjugate-gradient steps would (see the solvers page). float32 data
    keep 'newton-cg': its truncated steps leave alone the directions whose
    curvature is below the rounding of a float32 gradient, which exact
    steps amplify.

    The matrix is the Hessian, of ``(d + 1) K`` rows; with
    ``two_classes_as_one``, two classes are solved in the difference of
    their parameters, whose Hessian has ``r = d + 1`` (see
    :func:`difference_step_work`).
    """
    if not str(X.dtype).endswith("float64"):
        return False
    n_rows = X.shape[1] + int(fit_intercept)
    if two_classes_as_one and n_classes == 2:
        return (
            n_rows <= _ALWAYS_DIFFERENCE_ROWS
            or difference_step_work(X.shape[0], X.shape[1], fit_intercept)
            <= _MAX_DIFFERENCE_STEP_WORK
        )
    return n_rows * n_classes <= _MAX_CHOLESKY_ROWS


def difference_step_work(n_samples, n_features, fit_intercept):
    """The multiply-adds of an exact step for two classes solved in the
    difference of their parameters: the Gram matrix of ``r = d + 1`` rows
    (``d`` without an intercept) weighted by the samples' curvatures, as
    :func:`~sklearn_softmax._grams.gram_multiply_adds` counts it, and its
    factorisation, ``r^3 / 3``.

    'auto' takes exact steps where this is at most
    :data:`_MAX_DIFFERENCE_STEP_WORK`, or where ``r`` is at most
    :data:`_ALWAYS_DIFFERENCE_ROWS` whatever ``n``. The Gram matrix costs
    ``r / 2`` passes' multiply-adds, in a product several times as fast
    per multiply-add, and the Newton steps it buys beat conjugate
    gradients where the passes are short beside the calls that make them
    or the curvature is spread, as on few rows; beyond, conjugate
    gradients on the passes' one column cost less (see the solvers page).
    """
    n_rows = n_features + int(fit_intercept)
    gram = gram_multiply_adds(1, n_samples, n_features, fit_intercept)
    return gram + n_rows**3 / 3


def choose_dask_lbfgs(block_rows, n_features, n_classes):
    """Whether 'auto' takes L-BFGS rather than Newton-CG on Dask: when the
    round trips dominate, that is when a pass over the largest block of
    ``block_rows`` rows costs less than :data:`_MIN_BLOCK_WORK_FOR_DASK_NEWTON_CG`
    multiply-adds. L-BFGS makes about one round trip per iteration, Newton-CG
    one per conjugate-gradient step besides. The rule reads the blocks, never
    the cluster, so that the choice is the same on any number of workers."""
    return block_rows * n_features * n_classes < _MIN_BLOCK_WORK_FOR_DASK_NEWTON_CG


def choose_row_space(X, n_classes):
    """Whether to solve on the row space of ``X`` (see ``_row_space``).

    The reduced problem's passes cost ``n / d`` of those on ``X``; forming
    ``X X^T`` costs about ``n / (2 K)`` passes' multiply-adds, in one product
    that runs several times faster per multiply-add than a pass. Dense
    float64 data only: a float32 ``X X^T`` squares float32's rounding.
    """
    if sp.issparse(X) or X.dtype != np.float64:
        return False
    n_samples, n_features = X.shape
    return (
        n_features >= _MIN_WIDTH_RATIO * n_samples
        and n_samples <= _MAX_SAMPLES_PER_CLASS * n_classes
    )

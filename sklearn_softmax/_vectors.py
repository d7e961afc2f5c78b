"""Vector operations in the namespace of their arguments.

The loss on Array API arrays and the solvers share these: solvers written
with them iterate on NumPy arrays or, unchanged, on the arrays of any Array
API namespace (PyTorch, CuPy, ...) on the device where those live. The
module depends on neither layer, so neither imports the other for them.
Each reduction to a Python float reads one scalar back from the device;
NumPy arrays take NumPy's own functions.
"""

import math

import numpy as np

# The least positive normal float64: a sum of squares below it has lost
# digits to underflow.
_TINY = np.finfo(np.float64).tiny


def namespace(x):
    """The array namespace of ``x``: NumPy, or its Array API namespace."""
    if isinstance(x, np.ndarray):
        return np
    # An optional dependency, needed only for arrays other than NumPy's.
    from array_api_compat import array_namespace

    return array_namespace(x)


def inner(a, b):
    """The inner product of two vectors, left where they are: a NumPy
    scalar, or a zero-dimensional array on their device."""
    if isinstance(a, np.ndarray):
        return np.dot(a, b)
    # Not vecdot: array-api-compat writes it for PyTorch as a 1 x n by n x 1
    # matrix product, which took 47 us on a GPU for vectors of 25,650
    # numbers.
    return namespace(a).sum(a * b)


def dot(a, b, *, may_overflow=False):
    """The inner product of two vectors, as a float. With ``may_overflow``,
    a product past float64's range is inf or nan without NumPy's warning,
    for a caller that checks it."""
    if may_overflow:
        with np.errstate(over="ignore", invalid="ignore"):
            return float(inner(a, b))
    return float(inner(a, b))


def norm(a):
    """The Euclidean norm of a vector, as a float: the root of the sum of
    squares, as NumPy computes it; where that sum overflows (entries beyond
    about 1e154, as the gradient of a very strong penalty has) or falls
    below the normal numbers, the norm of the vector scaled by its largest
    entry, times that entry. Empty vectors have norm 0."""
    squares = _sum_of_squares(a)
    if _TINY <= squares < math.inf:
        return math.sqrt(squares)
    largest = max_abs(a)
    if largest == 0 or not math.isfinite(largest):
        return largest
    return largest * math.sqrt(_sum_of_squares(a / largest))


def _sum_of_squares(a):
    # Overflow and underflow are what the caller checks for.
    with np.errstate(over="ignore", under="ignore"):
        if isinstance(a, np.ndarray):
            return float(np.vdot(a, a))
        return dot(a, a)


def scaling_exponent(magnitude):
    """The exponent ``e`` of a normal positive float ``magnitude = m 2^e``
    with ``0.5 <= m < 1``, and 0 for zero, subnormal, infinite or NaN
    magnitudes: a vector of that largest entry or norm, scaled by
    ``2^-e``, has it in ``[0.5, 1)``, exactly, and products with it keep
    far from the ends of the dtype's range."""
    if _TINY <= magnitude < math.inf:
        return math.frexp(magnitude)[1]
    return 0


def max_abs(g):
    """The infinity norm, the gradient norm every solver stops on."""
    if isinstance(g, np.ndarray):
        return float(np.max(np.abs(g))) if g.size else 0.0
    xp = namespace(g)
    if not math.prod(g.shape):
        return 0.0
    return float(xp.max(xp.abs(g)))


def copy(x):
    """A copy of a vector to iterate on: float64 for NumPy input (lists
    too), the same namespace, device and dtype otherwise."""
    if isinstance(x, np.ndarray | list | tuple):
        return np.array(x, dtype=np.float64)
    return namespace(x).asarray(x, copy=True)

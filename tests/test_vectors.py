"""The solvers' vector operations: the Euclidean norm where the sum of
squares leaves the normal numbers."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._vectors import norm, scaling_exponent


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-200, 1e-160])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_at_every_scale(scale, dtype):
    """3-4-5 and a longer vector, at scales whose squares overflow or
    underflow: the norm scales with them (float32 vectors are built from
    float64 values within float32's range)."""
    if dtype == np.float32 and not 1e-30 < scale < 1e30:
        scale = 1e30 if scale > 1 else 1e-30
    values = np.array([3.0, 4.0, 0.0, -12.0])
    vector = (values * scale).astype(dtype)
    expected = 13.0 * float(dtype(scale))
    # Each entry rounded once to the dtype, and the sum in its precision.
    assert_allclose(norm(vector), expected, rtol=8 * np.finfo(dtype).eps)


def test_norm_is_numpys_where_the_squares_are_normal():
    vector = np.random.default_rng(0).standard_normal(1000)
    assert norm(vector) == float(np.linalg.norm(vector))


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        (np.zeros(3), 0.0),
        (np.zeros(0), 0.0),
        (np.array([np.inf, 1.0]), math.inf),
        (np.array([5e-324, 0.0]), 5e-324),
    ],
)
def test_norm_of_edge_vectors(vector, expected):
    assert norm(vector) == expected
    assert math.isnan(norm(np.array([np.nan, 1.0])))


def test_norm_of_array_api_vectors():
    import array_api_strict as xp

    vector = xp.asarray([3e200, 4e200, 0.0, -1.2e201])
    assert_allclose(norm(vector), 1.3e201, rtol=1e-15)
    assert norm(xp.zeros(0)) == 0.0


def test_gd_under_a_penalty_whose_gradient_squares_overflow():
    """At C=1e-200 the penalty's gradient is near 1e200 once a weight
    moves: the line search's norms overflowed, with numpy's warnings (errors
    in this suite). The fit now warns only that it did not converge."""
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxRegression(solver="gd", C=1e-200).fit(X, y)
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize(
    ("magnitude", "exponent"),
    [
        (1.0, 1),
        (0.75, 0),
        (2.0**1000, 1001),
        (2.0**-1022, -1021),
        (3e-309, 0),
        (0.0, 0),
        (np.inf, 0),
        (np.nan, 0),
    ],
)
def test_scaling_exponent_brings_normal_magnitudes_to_about_one(magnitude, exponent):
    assert scaling_exponent(magnitude) == exponent
    if exponent:
        assert 0.5 <= np.ldexp(magnitude, -exponent) < 1

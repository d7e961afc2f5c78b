"""Solving with the Hessian of exact Newton steps: a Cholesky factorisation
of the equilibrated matrix where it is definite, whatever the scales of its
rows, and the least-norm solution where it is singular."""

import numpy as np
import pytest
import scipy.linalg
from numpy.testing import assert_allclose

from sklearn_softmax._linalg import psd_solver

EPS = np.finfo(np.float64).eps


def well_conditioned(rng, n, condition=10.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.geomspace(1.0, condition, n)) @ Q.T


def test_a_definite_matrix_on_scales_eight_orders_apart_is_solved(rng, monkeypatch):
    """``M = D A D`` with ``A`` of condition 10 and ``D`` from 1e-4 to 1e4:
    ``M``'s condition is near 1e17, beyond float64, yet ``D x`` solves
    ``A (D x) = D^{-1} r`` to ``A``'s condition times a few roundings (van
    der Sluis), by a factorisation: a pseudo-inverse of ``M`` would drop
    the directions of its smallest eigenvalues as rounding."""
    n = 12
    A = well_conditioned(rng, n)
    D = np.geomspace(1e-4, 1e4, n)
    M = D[:, np.newaxis] * A * D
    assert np.linalg.cond(M) > 1e15
    r = rng.standard_normal(n)

    def no_pseudo_inverse(matrix):
        raise AssertionError("a definite matrix took the pseudo-inverse")

    monkeypatch.setattr(scipy.linalg, "pinvh", no_pseudo_inverse)
    x = psd_solver(M)(r)
    assert x.shape == r.shape
    scaled = D * x
    expected = np.linalg.solve(A, r / D)
    bound = 10 * np.linalg.cond(A) * n * EPS
    assert_allclose(scaled, expected, rtol=0, atol=bound * np.abs(expected).max())


def test_a_singular_matrix_gets_the_least_norm_solution(rng):
    """Collinear columns: the rank-deficient ``M = B B^T``, on scales two
    orders apart, maps ``r`` in its range to ``M^+ r``, the solution of
    least norm, which lies in the range too."""
    n, rank = 10, 7
    D = np.geomspace(0.1, 10.0, n)
    B = D[:, np.newaxis] * rng.standard_normal((n, rank))
    M = B @ B.T
    r = M @ rng.standard_normal(n)
    x = psd_solver(M)(r)
    expected = np.linalg.pinv(M, rcond=1e-10, hermitian=True) @ r
    scale = np.abs(expected).max()
    assert_allclose(x, expected, rtol=0, atol=1e-6 * scale)
    assert_allclose(M @ x, r, rtol=0, atol=1e-8 * np.abs(r).max())


@pytest.mark.parametrize("largest", [10**4.5, 1e10], ids=["span-1e9", "span-1e20"])
def test_a_singular_matrix_on_scales_far_apart_keeps_its_small_rows(rng, largest):
    """``M = D A D`` with ``A`` singular in its first ten rows (collinear
    features) and its last row apart (an intercept), ``D`` up to 1e10 (or
    3e4) on the first rows and 1 on the last. At 1e10, ``M``'s own
    pseudo-inverse took the last row's direction, an eigenvalue 1e-20 of
    the largest, for a null one and mapped it to zero (at 3e4 it did not:
    both scales are solved through the equilibrated matrix now). The last
    entry of the solution is ``r_last / M_last,last``, and the first rows'
    part is their block's solution of least norm, ``z`` less its part in
    the block's null space ``D^-1 null(A)`` for ``r = M z`` (the
    equilibrated matrix's pseudo-inverse alone gives the least norm in its
    own scaling)."""
    n, rank = 10, 7
    B = rng.standard_normal((n, rank))
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = B @ B.T
    A[n, n] = 0.5
    D = np.r_[np.geomspace(largest / 1e5, largest, n), 1.0]
    M = D[:, np.newaxis] * A * D
    z = rng.standard_normal(n)
    r = np.r_[M[:n, :n] @ z, 2.0]
    x = psd_solver(M)(r)
    assert x[n] == pytest.approx(4.0, rel=1e-12)
    null, _ = np.linalg.qr(scipy.linalg.null_space(B.T) / D[:n, np.newaxis])
    expected = z - null @ (null.T @ z)
    assert_allclose(x[:n], expected, rtol=0, atol=1e-6 * np.abs(expected).max())


def test_a_zero_row_is_left_alone(rng):
    """A feature that is zero in every sample, without a penalty: its row
    and column of the Hessian are zero, and the least-norm solution leaves
    its parameter at zero, up to the rounding of the eigenvectors of the
    pseudo-inverse."""
    n = 6
    M = well_conditioned(rng, n)
    M[2, :] = M[:, 2] = 0.0
    r = rng.standard_normal(n)
    r[2] = 0.0
    x = psd_solver(M)(r)
    assert abs(x[2]) <= 10 * n * EPS * np.abs(x).max()
    keep = np.delete(np.arange(n), 2)
    assert_allclose(
        x[keep], np.linalg.solve(M[np.ix_(keep, keep)], r[keep]), rtol=1e-12
    )

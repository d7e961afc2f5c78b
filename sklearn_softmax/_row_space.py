"""Wide data, solved in the row space of ``X``.

With ``n`` samples and ``d > n`` features, any weights ``W`` (d x K) split into
a part in the row space of ``X``, which the scores ``X W`` see, and a part
orthogonal to it, which they do not see and which only adds to the L2
penalty: the optimum lies in the row space. With the Cholesky factorisation
``X X^T = L L^T`` (``L`` n x n, lower triangular), the map

    V  ->  W = X^T L^{-T} V

takes (n x K) matrices onto that row space, keeping lengths
(``W^T W = V^T L^{-1} X X^T L^{-T} V = V^T V``) and scores (``X W = L V``). The
objective of ``W`` on ``X`` is therefore the objective of ``V`` on the n x n
data ``L``, penalty included, and gradients map the same way. A wide problem
is solved as that n x n problem, whose passes cost ``n^2 K`` multiply-adds
instead of ``n d K``, after one product ``X X^T``, and lifted back.
"""

import numpy as np
import scipy.linalg

from ._solvers import SolverResult
from ._vectors import max_abs

# The factor must be well conditioned for the lift to be accurate: below
# this ratio of its smallest to its largest diagonal entry (near-collinear
# samples), the problem is solved on X as it is.
_MIN_DIAGONAL_RATIO = 1e-6


class RowSpace:
    """The row space of a dense ``X``, through the Cholesky factor of ``X X^T``.

    Use :meth:`of`, which declines data whose factor is singular or ill
    conditioned.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    L : ndarray of shape (n_samples, n_samples)
        Lower-triangular, with ``L L^T = X X^T``: the data of the reduced
        problem.
    """

    def __init__(self, X, L):
        self.X = X
        self.L = L

    @classmethod
    def of(cls, X):
        """The row space of ``X``, or None where ``X X^T`` is near singular."""
        gram = X @ X.T
        try:
            # gram is symmetric: its transpose is the same matrix, in the
            # Fortran order LAPACK factors in place.
            L = scipy.linalg.cholesky(
                gram.T, lower=True, overwrite_a=True, check_finite=False
            )
        except np.linalg.LinAlgError:
            return None
        diagonal = np.abs(np.diag(L))
        if not diagonal.min() > _MIN_DIAGONAL_RATIO * diagonal.max():
            return None
        return cls(X, L)

    @property
    def n_samples(self):
        return self.L.shape[0]

    def reduce(self, coef):
        """``coef`` (weights, then intercepts if any) with ``W`` mapped to ``V``.

        ``V = L^{-1} X W``: the coordinates of ``W``'s part in the row space.
        """
        n_features = self.X.shape[1]
        V = scipy.linalg.solve_triangular(
            self.L, self.X @ coef[:n_features], lower=True, check_finite=False
        )
        return np.vstack([V, coef[n_features:]])

    def lift(self, coef):
        """``coef`` with ``V`` mapped back to ``W = X^T L^{-T} V``."""
        n = self.n_samples
        U = scipy.linalg.solve_triangular(
            self.L, coef[:n], lower=True, trans="T", check_finite=False
        )
        return np.vstack([self.X.T @ U, coef[n:]])


def solve_in_row_space(solve, space, bind, coef0, *, max_iter, tol, callback):
    """Solve the reduced problem, lift its solution and check it on ``X``.

    The stopping rule bounds the largest gradient entry; the lift keeps the
    gradient's Euclidean norm but not its largest entry, which may grow. So
    the reduced problem is solved to ``tol``, and its solution lifted and
    its gradient computed on ``X``, in the coordinates the rule is stated
    in. Where that misses ``tol``, the reduced problem goes on to
    ``tol / sqrt(m)`` for its ``m`` parameters: its gradient's Euclidean
    norm, which is the lifted gradient's, is then at most ``tol``, and so is
    every entry of the lifted gradient. Where rounding in the lift still
    misses ``tol``, the solver goes on from the lifted point on ``X``. Each
    stage has what the earlier ones left of ``max_iter``.

    Parameters
    ----------
    solve : callable
        A solver, as in :data:`~sklearn_softmax._solvers.SOLVERS`.
    space : RowSpace
        The row space of the data.
    bind : callable
        ``bind(data)`` returns the objective on ``data`` (``space.L`` or
        ``space.X``) as a function of a flat vector.
    coef0 : ndarray of shape (n_features + fit_intercept, n_classes)
        Starting point on ``X``.
    max_iter, tol, callback
        As for the solver.

    Returns
    -------
    result : SolverResult
        With ``x`` in the layout of ``coef0``, flattened, and the histories
        of the stages one after the other. The gradient entries of the
        reduced problem's iterations are in its coordinates; the last one
        is that on ``X`` at the returned point, ``grad_norm``.
    """
    n_classes = coef0.shape[1]
    reduced, on_X = bind(space.L), bind(space.X)
    n_iter, histories, grad_norm_histories = 0, [], []

    def run(objective, x, stage_tol):
        nonlocal n_iter
        result = solve(
            objective,
            x,
            max_iter=max_iter - n_iter,
            tol=stage_tol,
            callback=_shifted(callback, n_iter),
        )
        n_iter += result.n_iter
        histories.append(result.objective_history)
        grad_norm_histories.append(result.grad_norm_history)
        return result

    x = space.reduce(coef0).ravel()
    for stage_tol in (tol, tol / np.sqrt(x.size)):
        result = run(reduced, x, stage_tol)
        x = result.x
        coef = space.lift(x.reshape(-1, n_classes)).ravel()
        value, gradient = on_X.value_and_gradient(coef)
        grad_norm = max_abs(gradient)
        if grad_norm <= tol or n_iter >= max_iter:
            grad_norms = np.concatenate(grad_norm_histories)
            if grad_norms.size:
                # The last iterate is the lifted point: its gradient is
                # the one on X, in the coordinates of the stopping rule.
                grad_norms[-1] = grad_norm
            return SolverResult(
                x=coef,
                objective=value,
                grad_norm=grad_norm,
                n_iter=n_iter,
                converged=grad_norm <= tol,
                objective_history=np.concatenate(histories),
                grad_norm_history=grad_norms,
                message="converged" if grad_norm <= tol else result.message,
            )
    result = run(on_X, coef, tol)
    return result._replace(
        n_iter=n_iter,
        objective_history=np.concatenate(histories),
        grad_norm_history=np.concatenate(grad_norm_histories),
    )


def _shifted(callback, offset):
    """``callback`` with iterations counted from ``offset``."""
    if callback is None or offset == 0:
        return callback

    def shifted(progress):
        callback(progress._replace(iteration=progress.iteration + offset))

    return shifted

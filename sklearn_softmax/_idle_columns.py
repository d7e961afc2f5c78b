"""Columns whose weights are known before a fit, left out of its passes.

A column that is zero in every row adds nothing to the scores: its data
gradient is zero, and with an L2 penalty its weights' gradient is the
penalty's, ``lambda w``, so their optimum is zero; without a penalty the
objective does not depend on them at all, and any solver leaves them where
they start. A column that holds one value ``c != 0`` in every row shifts
every score of a class by ``c w_k``, as the intercept ``b_k`` does: the
gradient in ``w_k`` is ``c`` times the intercept's, which is zero at the
optimum, plus ``lambda w_k``, so with an intercept and a penalty its weights
are zero too.

Image data carry many such columns (the border of scanned digits is blank
in every image): the fit runs on the other columns, whose passes cost that
much less, and the known weights are put back in.
"""

import numpy as np

# Rows compared with the first to pick the columns that may be constant;
# only those are then checked on every row.
_PROBE_ROWS = 16
# Columns are left out when at least this share of them is idle: the fit
# then runs on a copy of the others.
MIN_IDLE_SHARE = 0.1
# The rows checked at a time, to bound the comparison's temporaries.
_CHECK_ROWS = 4096


def idle_columns(X, fit_intercept, penalised):
    """The columns of dense ``X`` whose weights are known: all-zero
    columns, and, with ``fit_intercept`` and ``penalised``, constant ones.

    Columns that differ between the first row and a few others spread over
    ``X`` are ruled out first, at little cost; only the remaining ones are
    compared over all rows.

    Returns
    -------
    idle : ndarray of bool of shape (n_features,)
    """
    n_samples, n_features = X.shape
    idle = np.zeros(n_features, dtype=bool)
    if n_samples == 0:
        return idle
    # The value an idle column holds in every row.
    first = X[0] if fit_intercept and penalised else np.zeros(n_features, X.dtype)
    probes = np.linspace(0, n_samples - 1, _PROBE_ROWS).astype(np.intp)
    candidates = np.flatnonzero((X[probes] == first).all(axis=0))
    if candidates.size == 0:
        return idle
    same = np.ones(candidates.size, dtype=bool)
    for start in range(0, n_samples, _CHECK_ROWS):
        block = X[start : start + _CHECK_ROWS, candidates]
        same &= (block == first[candidates]).all(axis=0)
    idle[candidates[same]] = True
    return idle


def columns_to_leave_out(X, fit_intercept, penalised):
    """The idle columns of dense ``X`` (see :func:`idle_columns`) where
    they are at least :data:`MIN_IDLE_SHARE` of the columns, and not all of
    them; else None."""
    idle = idle_columns(X, fit_intercept, penalised)
    # Data whose columns are all idle is left whole: the solver then has
    # parameters to work on, the intercepts' or the weights'.
    if idle.all() or idle.mean() < MIN_IDLE_SHARE:
        return None
    return idle


def solve_without_columns(solve, idle, bind, X, coef0, penalised, **settings):
    """Solve on the columns of ``X`` that are not ``idle`` and put the idle
    columns' weights back: zero with a penalty, their starting values
    without one.

    Parameters
    ----------
    solve : callable
        A solver, as in :data:`~sklearn_softmax._solvers.SOLVERS`.
    idle : ndarray of bool of shape (n_features,)
        From :func:`idle_columns`.
    bind : callable
        ``bind(data)`` returns the objective on ``data`` as a function of a
        flat vector.
    X : ndarray of shape (n_samples, n_features)
        The data.
    coef0 : ndarray of shape (n_features + fit_intercept, n_classes)
        Starting point.
    penalised : bool
        Whether the weights carry an L2 penalty.
    **settings
        ``max_iter``, ``tol`` and ``callback``, as for the solver.

    Returns
    -------
    result : SolverResult
        With ``x`` in the layout of ``coef0``, flattened. The gradient
        in the idle columns' weights is zero at the returned point, so the
        solver's gradient norm is the full one.
    """
    rows = np.concatenate([~idle, np.ones(coef0.shape[0] - len(idle), dtype=bool)])
    result = solve(bind(X[:, ~idle]), coef0[rows].ravel(), **settings)
    coef = coef0.copy() if not penalised else np.zeros_like(coef0)
    coef[rows] = result.x.reshape(-1, coef0.shape[1])
    return result._replace(x=coef.ravel())

"""What every solver returns and reports, and the tests all of them share."""

from typing import NamedTuple

import numpy as np

# Why a solver stops when its line search cannot decrease the objective.
NO_DECREASE = "the line search found no decrease"


def after_accepted_step(grad_norm, tol, gained):
    """Whether a solver that accepted a step has converged, and why it
    stops: ``"converged"``, :data:`NO_DECREASE`, or None to go on.

    ``gained`` says whether the step lowered the objective or the gradient
    norm. A step accepted on the line search's rounding slack alone, with
    no progress in the gradient either, shows the objective at its
    precision limit.
    """
    if grad_norm <= tol:
        return True, "converged"
    return False, (None if gained else NO_DECREASE)


class Progress(NamedTuple):
    """State after one iteration, passed to a solver's ``callback``.

    Attributes
    ----------
    iteration : int
        Iterations done so far, from 1.
    objective : float
        Objective at the current iterate.
    grad_norm : float
        Largest absolute entry of the gradient at the current iterate.
    step : float
        Euclidean length of the last step.
    step_size : float or None, default=None
        The multiple ``t`` of the search direction that the line search
        accepted, for the solvers whose direction has a natural length (the
        Newton step, where ``t = 1`` is the full step); None for the others.
    """

    iteration: int
    objective: float
    grad_norm: float
    step: float
    step_size: float | None = None


class SolverResult(NamedTuple):
    """Outcome of a solver run.

    Attributes
    ----------
    x : array
        Final iterate, in the namespace and on the device of the starting
        point (a NumPy array for the solvers of NumPy data).
    objective : float
        Objective at ``x``.
    grad_norm : float
        Largest absolute entry of the gradient at ``x``.
    n_iter : int
        Iterations done.
    converged : bool
        Whether the solver's stopping criterion was met.
    objective_history : ndarray
        Objective after each iteration.
    grad_norm_history : ndarray
        Largest absolute gradient entry after each iteration, float64, as
        long as ``objective_history``: the value the stopping rule compared
        with ``tol`` (and the callback received), so its last entry is
        ``grad_norm``. A solver that computes no such value in an iteration
        records NaN there.
    message : str
        Why the solver stopped.
    worse_than_start : bool, default=False
        Whether the objective at ``x`` is above its value at the starting
        point: a stochastic solver's steps were too large for the data.
    """

    x: np.ndarray
    objective: float
    grad_norm: float
    n_iter: int
    converged: bool
    objective_history: np.ndarray
    grad_norm_history: np.ndarray
    message: str
    worse_than_start: bool = False

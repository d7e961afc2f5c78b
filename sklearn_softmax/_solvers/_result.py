"""What every solver returns and reports, and the tests all of them share."""

from typing import NamedTuple

import numpy as np

from .._vectors import norm

# Why a solver stops when its line search cannot decrease the objective.
NO_DECREASE = "the line search found no decrease"
# Why 'gd' stops when no step length decreases the objective, and when its
# step no longer changes the parameters.
NO_DECREASE_ALONG_GRADIENT = (
    "no decrease along the gradient step at the working precision"
)
NO_STEP = "the gradient step is lost in the rounding of the parameters"
# The reasons that say the objective is at its floating-point precision.
AT_PRECISION = frozenset({NO_DECREASE, NO_DECREASE_ALONG_GRADIENT, NO_STEP})


def gains(f_trial, grad_norm_trial, f, grad_norm):
    """Whether a step the line search accepted lowers the objective ``f``
    or the gradient's largest entry ``grad_norm``.

    A step accepted on the line search's rounding slack alone, with no
    progress in the gradient either, shows the objective at its precision
    limit: the solvers stop at the point before it, whose gradient may be
    far smaller (in float32, by four orders and more).
    """
    return f_trial < f or grad_norm_trial < grad_norm


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


class Trace:
    """What a solver records after each iteration, the objective and the
    largest absolute gradient entry, passed on to its ``callback``; and the
    :class:`SolverResult` they end in.

    Parameters
    ----------
    callback : callable or None
        Called with a :class:`Progress` after each iteration.
    """

    def __init__(self, callback):
        self.objectives, self.grad_norms = [], []
        self._callback = callback

    @property
    def n_iter(self):
        """The iterations recorded."""
        return len(self.objectives)

    def record(self, objective, grad_norm, step, step_size=None):
        """Record an iteration and call the callback back.

        ``step`` is the iteration's step, or the direction that the line
        search's ``step_size`` multiplies; its length is computed only
        where there is a callback (on a device, it reads a number back).
        """
        self.objectives.append(objective)
        self.grad_norms.append(grad_norm)
        if self._callback is not None:
            length = norm(step) * (1.0 if step_size is None else step_size)
            self._callback(
                Progress(self.n_iter, objective, grad_norm, length, step_size)
            )

    def result(self, x, objective, grad_norm, converged, message, n_iter=None):
        """The :class:`SolverResult` at ``x``, with the histories recorded;
        ``n_iter`` is the number of iterations recorded unless given."""
        return SolverResult(
            x=x,
            objective=float(objective),
            grad_norm=grad_norm,
            n_iter=self.n_iter if n_iter is None else n_iter,
            converged=converged,
            objective_history=np.asarray(self.objectives, dtype=np.float64),
            grad_norm_history=np.asarray(self.grad_norms, dtype=np.float64),
            message=message,
        )


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
    steps_too_large : bool, default=False
        Whether a stochastic solver's steps were too large for the data:
        the objective at ``x`` is above its value at the starting point, or
        above the best epoch's by more than a tenth of the decrease from
        the start to it.
    n_stalls : int, default=0
        The stalls after which a stochastic solver's 'adaptive' schedule
        divided its step and went on.
    """

    x: np.ndarray
    objective: float
    grad_norm: float
    n_iter: int
    converged: bool
    objective_history: np.ndarray
    grad_norm_history: np.ndarray
    message: str
    steps_too_large: bool = False
    n_stalls: int = 0

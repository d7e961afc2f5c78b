"""Stochastic solvers: minibatch SGD with momentum, and Adam.

A stochastic solver takes a :class:`~sklearn_softmax._loss.RowsObjective`,
whose ``value_and_gradient(x, batch)`` estimates the objective from a
subset of the samples (``batch=None`` for all of them, without a copy). One
epoch visits every sample once, in minibatches. The state of the iteration
(the iterate, the momentum or the moments, the average, the step count) is
a :class:`StochasticState`, which ``partial_fit`` keeps from one call to
the next.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._vectors import max_abs, norm
from ._result import Progress, SolverResult

# Polynomial-decay averaging (Shamir & Zhang, 2013): the average weighs the
# iterate of step t about like t^_AVERAGE_POWER, so that the early iterates,
# far from the optimum, fade out of it.
_AVERAGE_POWER = 10.0
# Adam's decay rates and its guard against division by zero (Kingma & Ba,
# 2015), as in scikit-learn's MLPClassifier.
_BETA_1, _BETA_2, _ADAM_EPSILON = 0.9, 0.999, 1e-8
_ROOT_BETA_2, _ROOT_1_MINUS_BETA_2 = math.sqrt(_BETA_2), math.sqrt(1 - _BETA_2)
# The 'adaptive' schedule divides the step by this factor at each stall, as
# scikit-learn's SGDClassifier and MLPClassifier do, and stops the run
# instead once the step would fall below this share of the initial step.
ADAPTIVE_FACTOR = 5.0
ADAPTIVE_MIN_SHARE = 1e-4
# A run that stops on the no-improvement rule with its objective above the
# best epoch's by more than this share of the decrease from its start to
# that epoch stalled because its steps were too long, not near the optimum.
_LOST_SHARE = 0.1


@dataclass
class StochasticSettings:
    """How the stochastic solvers step.

    Attributes
    ----------
    method : {'sgd', 'adam'}
        Momentum SGD or Adam.
    learning_rate : {'constant', 'invscaling', 'adaptive'}
        The schedule of the step: ``eta0``; ``eta0 / t^power_t`` at step
        ``t``; or ``eta0`` divided by ``ADAPTIVE_FACTOR`` each time the
        epochs stall (see :func:`minimize_stochastic`).
    eta0 : float
        The initial step.
    power_t : float
        The exponent of 'invscaling'.
    momentum : float
        The momentum of 'sgd', in [0, 1).
    nesterov : bool
        Whether 'sgd' uses Nesterov's momentum.
    batch_size : int
        Samples per minibatch.
    average : bool
        Whether the result is the polynomial-decay average of the solutions
        (the iterates, or with Nesterov's momentum the proximal points they
        look ahead from) rather than the last.
    penalty : object or None
        A non-smooth penalty, with ``value(x)`` and the proximal map
        ``prox(v, step)``, taken by a proximal step after each update
        ('sgd' only).
    step_scale : ndarray of shape (n_params,) or None
        Factors of the step for each parameter ('sgd' only; None: 1), as
        for the intercepts, which the penalty leaves out. The proximal
        step takes ``eta0``'s, the weights'.
    """

    method: str
    learning_rate: str
    eta0: float
    power_t: float
    momentum: float
    nesterov: bool
    batch_size: int
    average: bool
    penalty: object = None
    step_scale: object = None


def default_sgd_step(bound, l2_reg_strength, shape, fit_intercept):
    """The default initial step of 'sgd', and its factors for each
    parameter (None: 1), from ``bound``, a bound on the curvature of the
    data term, and the L2 strength ``lambda``, for parameters of ``shape``
    whose last row, with ``fit_intercept``, the penalty leaves out.

    The weights step by ``1 / (bound + lambda)``, the intercepts by
    ``1 / bound``: with ``D`` the steps, ``D^1/2 (H_data + lambda P_W)
    D^1/2`` is at most the identity on both, as stable as one step for all,
    where a strong penalty would leave the intercepts unfitted. Where both
    are zero (a chunk of zeros without a penalty), the objective is
    constant and any step leaves it: the step is 1.
    """
    curvature = bound + l2_reg_strength
    if not curvature > 0:
        return 1.0, None
    step_scale = None
    if fit_intercept and l2_reg_strength > 0 and bound > 0:
        step_scale = np.ones(shape)
        step_scale[-1] = curvature / bound
        step_scale = step_scale.ravel()
    return 1.0 / curvature, step_scale


class StochasticState:
    """The iteration's state, carried across epochs and ``partial_fit`` calls.

    Parameters
    ----------
    x0 : ndarray of shape (n_params,)
        The starting point.
    """

    def __init__(self, x0):
        self.x = np.array(x0, dtype=np.float64)
        # 'sgd' keeps its momentum as a point: the previous iterate
        # (heavy ball) or the last proximal point (Nesterov), see step().
        self.anchor = self.x.copy()
        # Whether x looks ahead of the solution, the anchor (Nesterov).
        self.looks_ahead = False
        # Adam's first moment.
        self.velocity = np.zeros_like(self.x)
        # The root of Adam's second moment, the scale of its steps.
        self.moment_root = np.zeros_like(self.x)
        self.averaged = self.x.copy()
        self.n_steps = 0
        # The share of eta0 that the 'adaptive' schedule has left.
        self.step_share = 1.0

    def __setstate__(self, state):
        # A state pickled before the momentum was kept as a point holds a
        # velocity instead: the stream goes on from its iterate, without
        # momentum, as after a restart.
        if "anchor" not in state:
            state = {**state, "anchor": state["x"].copy(), "looks_ahead": False}
        vars(self).update(state)

    def solution(self, average):
        """The average of the solutions with ``average`` (once a step is
        taken), the last one otherwise: the iterate, or with Nesterov's
        momentum the last proximal point, from which it looks ahead."""
        if average and self.n_steps:
            return self.averaged
        return self.anchor if self.looks_ahead else self.x

    def restart(self):
        """Drop the momentum of 'sgd': the next step starts from the
        solution, as a first step would."""
        if self.looks_ahead:
            self.x = self.anchor.copy()
        else:
            self.anchor = self.x.copy()

    def step(self, gradient, settings):
        """One update from a minibatch gradient."""
        self.n_steps += 1
        t = self.n_steps
        eta = settings.eta0 * self.step_share
        if settings.learning_rate == "invscaling":
            eta = settings.eta0 / t**settings.power_t
        if settings.method == "adam":
            self.velocity += (1 - _BETA_1) * (gradient - self.velocity)
            # The second moment v = beta_2 v + (1 - beta_2) g^2, kept as its
            # root: hypot does not overflow where a square would (a strong
            # penalty on a weight that moved), so the steps keep their
            # scale, eta a weight.
            np.hypot(
                _ROOT_BETA_2 * self.moment_root,
                _ROOT_1_MINUS_BETA_2 * gradient,
                out=self.moment_root,
            )
            # The bias corrections of the moments, folded into the step.
            eta *= math.sqrt(1 - _BETA_2**t) / (1 - _BETA_1**t)
            self.x -= eta * self.velocity / (self.moment_root + _ADAM_EPSILON)
        else:
            # Momentum as a displacement, as MLPClassifier keeps it. Heavy
            # ball: x <- prox(x - eta g(x) + mu (x - x_prev)); Nesterov, with
            # p the proximal points: p' = prox(x - eta g(x)), and the iterate
            # looks ahead to x <- p' + mu (p' - p). Without a penalty and
            # with a constant step these are the velocity forms
            # v <- mu v + g, x <- x - eta v and x <- x - eta (g + mu v);
            # with a penalty, a fixed point is the optimum whatever the
            # momentum, and dropping the momentum (restart) keeps it so.
            move = eta * gradient
            if settings.step_scale is not None:
                move *= settings.step_scale
            mu = settings.momentum
            self.looks_ahead = settings.nesterov
            if settings.nesterov:
                point = self._prox(self.x - move, eta, settings)
                self.x = point + mu * (point - self.anchor)
                self.anchor = point
            else:
                point = self.x - move
                point += mu * (self.x - self.anchor)
                self.anchor = self.x
                self.x = self._prox(point, eta, settings)
        if settings.average:
            share = (_AVERAGE_POWER + 1) / (t + _AVERAGE_POWER)
            solution = self.solution(False)
            self.averaged += min(1.0, share) * (solution - self.averaged)

    @staticmethod
    def _prox(point, eta, settings):
        if settings.penalty is None:
            return point
        return settings.penalty.prox(point, eta)


def run_epoch(objective, state, settings, order):
    """One pass over the samples in ``order``, in minibatches.

    Returns the mean over the minibatches of the objective estimates, each
    taken before its step, with the whole penalty (a non-smooth part too,
    which the steps take by its proximal map). Steps too large for the data
    overflow: the iterate, or the objective, is then no longer finite,
    which the caller checks, and numpy's warnings of it are not raised.
    """
    values = []
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(order), settings.batch_size):
            rows = order[start : start + settings.batch_size]
            value, gradient = objective.value_and_gradient(state.x, rows)
            if settings.penalty is not None:
                value += settings.penalty.value(state.x)
            values.append(value)
            state.step(gradient, settings)
    return float(np.mean(values))


def _penalised(objective, settings, x):
    # x, or the objective there, may have left the finite numbers, which
    # the caller checks.
    with np.errstate(over="ignore", invalid="ignore"):
        value, gradient = objective.value_and_gradient(x, None)
        if settings.penalty is not None:
            value += settings.penalty.value(x)
    return value, gradient


def minimize_stochastic(
    objective,
    x0,
    *,
    settings,
    max_iter,
    tol,
    n_iter_no_change,
    random_state,
    shuffle=True,
    validation_score=None,
    callback=None,
):
    """Minimise an objective by epochs of minibatch steps.

    The run stops after ``max_iter`` epochs, or once ``n_iter_no_change``
    epochs in a row have not improved on the best score so far by ``tol``:
    the score is ``validation_score(x)`` (higher is better) when given, and
    minus the epoch's mean training objective otherwise. This is the rule of
    scikit-learn's SGDClassifier and MLPClassifier, and so is that of the
    'adaptive' schedule: such a stall divides the step by 5 and the run
    goes on, until a stall would take the step below 1e-4 times its initial
    value, which stops the run. With a validation score, the solution with
    the best score is returned.

    Parameters
    ----------
    objective : RowsObjective
        The objective, estimated from minibatches.
    x0 : ndarray of shape (n_params,)
        Starting point.
    settings : StochasticSettings
        How to step.
    max_iter : int
        Most epochs.
    tol : float
        The least improvement of the score that counts.
    n_iter_no_change : int
        Epochs without improvement before stopping.
    random_state : numpy.random.RandomState
        Shuffles the samples before each epoch.
    shuffle : bool, default=True
        Whether to shuffle; otherwise the samples are taken in order.
    validation_score : callable, optional
        ``validation_score(x)``, a score on held-out data.
    callback : callable, optional
        Called with a :class:`Progress` after each epoch.

    Returns
    -------
    result : SolverResult
        ``n_iter`` counts epochs; ``objective_history`` holds each epoch's
        mean training objective; ``grad_norm_history`` is NaN for every
        epoch, as the epochs compute no gradient on all the samples (the
        pass the callback takes for one is taken only with a callback, and
        the history does not depend on whether one is given);
        ``objective`` and ``grad_norm`` are the
        full objective (with any non-smooth penalty) and the largest
        absolute entry of its smooth part's gradient at the solution;
        ``converged`` says whether the run stopped on the no-improvement
        rule at a point no worse than ``x0``: a run that ends above the
        objective it started from has not converged, whatever the rule, nor
        has one (without a validation score) that ends above its best
        epoch's mean objective by more than a tenth of the decrease from
        the start to it, which stalled because its objective rose.
    """
    state = StochasticState(x0)
    # Where the run starts, to tell a run that stopped improving near the
    # optimum from one whose steps were too large for the data.
    start_value, _ = _penalised(objective, settings, x0)
    order = np.arange(objective.n_samples)
    # Where one minibatch holds every sample, an epoch is one step of
    # gradient descent with momentum, and its value the objective itself.
    restarts = settings.method == "sgd" and objective.n_samples <= settings.batch_size
    history = []
    best_score, best_x, stale, n_stalls = -math.inf, state.x.copy(), 0, 0
    converged = False
    message = f"reached max_iter={max_iter} epochs"
    epoch = 0
    for epoch in range(1, max_iter + 1):
        if shuffle:
            random_state.shuffle(order)
        previous = state.solution(settings.average).copy()
        history.append(run_epoch(objective, state, settings, order))
        if not math.isfinite(history[-1]):
            break
        restarted = restarts and len(history) > 1 and history[-1] > history[-2]
        if restarted:
            # The momentum overshot: it starts again from zero where the
            # objective rose (the adaptive restart of O'Donoghue & Candès,
            # 2015), and the rise does not count as a stall.
            state.restart()
        solution = state.solution(settings.average)
        if callback is not None:
            # A full pass for the gradient norm, only when it is reported.
            _, gradient = _penalised(objective, settings, solution)
            callback(
                Progress(
                    epoch,
                    history[-1],
                    max_abs(gradient),
                    norm(solution - previous),
                )
            )
        score = -history[-1] if validation_score is None else validation_score(solution)
        if score > best_score + tol:
            stale = 0
        elif not restarted:
            stale += 1
        if score > best_score:
            best_score, best_x = score, solution.copy()
        if stale >= n_iter_no_change:
            if not _lower_step(state, settings):
                converged = True
                message = f"no improvement by tol in {n_iter_no_change} epochs"
                break
            stale = 0
            n_stalls += 1
    x = (
        best_x
        if validation_score is not None
        else state.solution(settings.average).copy()
    )
    value, gradient = _penalised(objective, settings, x)
    best_value = -best_score
    steps_too_large = not value <= start_value
    if (
        converged
        and validation_score is None
        and value - best_value > _LOST_SHARE * (start_value - best_value)
    ):
        # The run stalled because its objective rose: the steps, not the
        # optimum, stopped it.
        converged, steps_too_large = False, True
        message = (
            f"the objective ended at {value:.4g}, above {best_value:.4g}, the "
            f"mean of its best epoch, by more than {_LOST_SHARE:g} of the "
            f"decrease from {start_value:.4g} at the starting point to it"
        )
    if not value <= start_value:
        converged = False
        message = (
            f"the objective ended at {value:.4g}, above {start_value:.4g} at "
            "the starting point"
        )
        if not math.isfinite(value):
            # Weights past the finite numbers, or so large that the
            # objective is: no model to return but the start.
            x = np.array(x0, dtype=np.float64)
            value, gradient = _penalised(objective, settings, x)
            message = (
                "its iterates or its objective left the finite numbers, and "
                "the model is its starting point"
            )
    return SolverResult(
        x=x,
        objective=value,
        grad_norm=max_abs(gradient),
        n_iter=epoch,
        converged=converged,
        objective_history=np.asarray(history, dtype=np.float64),
        grad_norm_history=np.full(len(history), np.nan),
        message=message,
        steps_too_large=steps_too_large,
        n_stalls=n_stalls,
    )


def _lower_step(state, settings):
    """Divide the step after a stall, if the 'adaptive' schedule allows it."""
    share = state.step_share / ADAPTIVE_FACTOR
    if settings.learning_rate != "adaptive" or share < ADAPTIVE_MIN_SHARE:
        return False
    state.step_share = share
    return True

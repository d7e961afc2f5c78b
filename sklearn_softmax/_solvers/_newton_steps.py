"""The Newton directions of :func:`~._newton.minimize_newton_cg`: truncated
conjugate gradients on each Newton system (:mod:`._conjugate_gradients`),
and the preconditioner each system is solved with."""

import functools
import math

import numpy as np

from ._conjugate_gradients import MAX_CG_ITER, truncated_cg

# The share of the Hessian's diagonal, scaled to a mean of one, in the
# diagonal preconditioner; the rest is the identity.
_DIAGONAL_SHARE = 0.1
# A Newton step of at most this many Hessian-vector products leaves too
# little to save for the factored approximation of the Hessian to pay,
# however cheap it is.
_MIN_PRODUCTS_TO_FACTOR = 10


def _diagonal_preconditioner(objective):
    """Multiplication by ``1 / ((1 - a) + a D / mean(D))`` for the estimate
    ``D`` of the Hessian's diagonal that ``objective`` offers, with ``a`` =
    :data:`_DIAGONAL_SHARE`; None when it offers none.

    The identity in the mix keeps conjugate gradients as they were where
    the diagonal carries little (Hsia, Chiang & Lin, *Preconditioned
    conjugate gradient methods in truncated Newton frameworks for
    large-scale linear classification*, ACML 2018, mix the diagonal with the
    identity for the same reason); where features differ in scale by orders
    of magnitude, as in sparse text data, the diagonal part cuts the
    conjugate-gradient iterations.
    """
    if objective.hessian_diagonal is None:
        return None
    diagonal = objective.hessian_diagonal()
    inverse = 1.0 / (
        (1.0 - _DIAGONAL_SHARE) + _DIAGONAL_SHARE * diagonal / diagonal.mean()
    )
    return lambda r: inverse * r


class NewtonDirections:
    """The Newton direction at each iterate of a run of Newton-CG, with the
    preconditioners the objective offers.

    - The diagonal (see :func:`_diagonal_preconditioner`), formed once, at
      its cost, preconditions the first steps.
    - The Kronecker-factored approximation of the Hessian (the objective's
      ``curvature``, see :mod:`~sklearn_softmax._curvature`) preconditions
      every step, refreshed at each iterate, where it costs less than a
      Hessian-vector product to form, as for sparse data; otherwise every
      step after the first one that took more products than it costs to
      form, and more than :data:`_MIN_PRODUCTS_TO_FACTOR`. On data whose
      features are strongly correlated, as neighbouring pixels are, it cuts
      the products of the last steps several times over; where the steps
      take few products it is never formed.
    - Where a step it preconditions reaches :data:`MAX_CG_ITER` products
      without solving its system, the same system is solved with the
      diagonal; where that solves it, the diagonal gives the step and
      preconditions every later one. The approximation (one matrix of the
      features, shared by every pair of classes) can be far from the
      Hessian of nearly separable data with a weak penalty: each sample's
      softmax Jacobian is then nearly of rank one (its class against its
      closest rival), so the Hessian is the penalty's multiple of the
      identity plus a part of rank about the number of samples; a
      preconditioner near the identity keeps the penalty's eigenvalues
      together, which conjugate gradients then resolve in few products,
      and the approximation scatters them (the solvers page has figures).
      Each trial that fails doubles the products the approximation's steps
      must take before the next one, at least ``2 MAX_CG_ITER``: the trials
      cost a share of the run that falls as it goes on. Where the objective
      offers no diagonal, the trial runs unpreconditioned; one that stops
      on a direction of non-positive curvature (which only overflow makes,
      the objective being convex and penalised) counts as solving its
      system.
    - The Hessian itself (the objective's ``exact_curvature``, a dense
      matrix, with what forming and factoring it costs in products, at
      most :data:`MAX_CG_ITER`): a step whose conjugate gradients reach
      that many products stops them, forms the Hessian at its iterate and
      takes the exact Newton step; that Hessian then preconditions the
      later steps, in place of the others, until they have taken that many
      products together, when the step that reaches them forms it anew at
      its iterate (a Hessian formed far from the iterate preconditions
      poorly). The products spent before each formation are thus at most
      its cost, so a step that forms it costs at most twice the exact step
      alone (the rule of renting until the rent paid equals the price of
      buying); steps that take few products take them as before; and on
      ill-conditioned problems the iteration becomes Newton's method with
      exact steps, or steps of a product or two preconditioned by the
      Hessian of a nearby point.

    Parameters
    ----------
    objective : Objective
        What offers the preconditioners.
    x : array
        The starting point: the approximations are offered for NumPy
        arrays only.
    """

    def __init__(self, objective, x):
        self._objective = objective
        self._is_numpy = isinstance(x, np.ndarray)
        self._curvature = objective.curvature if self._is_numpy else None
        # A Hessian that costs more products than a step may take is never
        # formed.
        exact = objective.exact_curvature
        self._exact = None if exact is None or exact.cost > MAX_CG_ITER else exact
        # An approximation that costs less than a product to form is used
        # from the first step.
        self._factored = self._curvature is not None and self._curvature.cost < 1
        self._precondition = None
        # Conjugate gradients stop once a step has taken as many products as
        # the Hessian costs (none where it costs less than one), and once
        # the steps preconditioned with a Hessian formed earlier have taken
        # that many together.
        self._budget = MAX_CG_ITER
        if self._exact is not None:
            cost = self._exact.cost
            self._budget = 0 if cost < 1 else math.ceil(cost)
        self._hessian_formed = False
        self._spent = 0
        # The products the approximation's steps take before the diagonal is
        # tried on a system they leave unsolved, and have taken since the
        # last trial.
        self._trial_wait = 0
        self._since_trial = 0

    @functools.cached_property
    def _diagonal(self):
        """The diagonal preconditioner, for NumPy arrays only, made on the
        first step that takes it."""
        return _diagonal_preconditioner(self._objective) if self._is_numpy else None

    def __call__(self, hessp, g):
        """The direction of the Newton system ``H p = -g`` at the iterate of
        ``hessp`` (the objective's last products) and ``g``, its gradient."""
        if self._hessian_formed:
            pass
        elif self._factored:
            self._precondition = self._curvature.inverse()
        else:
            self._precondition = self._diagonal
        n_products, allowed = 0, self._budget - self._spent
        if allowed > 0:
            direction, n_products = truncated_cg(hessp, g, allowed, self._precondition)
        if self._exact is not None and n_products >= allowed:
            self._precondition = self._exact.inverse()
            self._hessian_formed, self._spent = True, 0
            return -self._precondition(g)
        if self._hessian_formed:
            self._spent += n_products
        elif self._factored:
            self._since_trial += n_products
            if n_products >= MAX_CG_ITER and self._since_trial >= self._trial_wait:
                direction = self._try_the_diagonal(hessp, g, direction)
        elif self._curvature is not None:
            self._factored = n_products > max(
                self._curvature.cost, _MIN_PRODUCTS_TO_FACTOR
            )
        return direction

    def _try_the_diagonal(self, hessp, g, direction):
        """Solve the system that the approximation left unsolved with the
        diagonal: its direction, and the diagonal for every later step,
        where that solves it; ``direction`` otherwise."""
        trial, n_products = truncated_cg(hessp, g, MAX_CG_ITER, self._diagonal)
        if n_products < MAX_CG_ITER:
            self._curvature, self._factored = None, False
            return trial
        self._since_trial = 0
        self._trial_wait = max(2 * self._trial_wait, 2 * MAX_CG_ITER)
        return direction

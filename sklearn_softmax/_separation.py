r"""Whether the classes are separated, by a linear program.

The multinomial likelihood has a maximum, at finite parameters, unless some
direction ``delta`` of the parameters raises every sample's observed score
above or to the level of its other scores,

.. math::

    m_{ik}(\delta) = \tilde x_i^T (\delta_{y_i} - \delta_k) \ge 0
    \quad \text{for all } i \text{ and } k \ne y_i,

with at least one margin ``m_ik`` positive (Albert and Anderson, 1984).
Along such a direction the likelihood rises for ever: a positive margin
``m_ik`` drives sample ``i``'s probability of class ``k`` to zero, and no
sample's probability of its own class falls. The classes are completely
separated when every sample's margins are all positive (the direction
predicts every sample perfectly), and quasi-completely otherwise. With more
than two classes a sample may have a positive margin against one class and
none against another: one positive margin anywhere is enough, even where
no sample is predicted perfectly. A class that no sample of positive weight
has is the simplest case: with an intercept, lowering that class's
intercept gives every sample a positive margin against it. Following Konis
(2007), the largest sum of margins in the box ``|delta| <= 1`` is a linear
program whose optimum is positive exactly when a separating direction
exists.

Solving that program costs far more than the information matrix when the
model has many parameters, so a cheaper proof that the classes are not
separated comes first. By Stiemke's lemma, no separating direction exists
exactly when the margins' constraints admit strictly positive multipliers
``u_ik`` with ``sum_ik u_ik x~_i (e_{y_i} - e_k) = 0``. Multipliers
``u_ik = s_i q_ik`` from probability vectors ``q_i`` that are positive off
each sample's own class qualify when they balance the moments,
``sum_i s_i (e_{y_i} - q_i) (x) x~_i = 0``. At the maximum-likelihood
estimate the fitted probabilities do; from any other estimate (one that is
penalised, or stopped by a tolerance), one Newton step, with the softmax
linearised, gives probabilities that balance them exactly, and their signs
decide. Far from the unpenalised optimum (under a strong penalty) the
linearisation fails, and the probabilities of the step go negative even
when the classes overlap; a few Newton steps on the unpenalised likelihood
itself then bring the parameters near that optimum, where the proof is
tried again. Only when that fails too is the linear program solved.

The program's constraints are generated row by row: it is solved with the
constraints of a subset of the samples and the objective of all of them, a
relaxation whose direction, once it meets every sample's constraints, is
optimal for the whole program; the samples it fails are added until then.
A program that stops short of its optimum (an iteration limit, numerical
difficulties) decides nothing, and the check says so rather than report
either answer.

References
----------
A. Albert and J. A. Anderson (1984). On the existence of maximum likelihood
estimates in logistic regression models. Biometrika 71(1), 1-10.

K. Konis (2007). Linear programming algorithms for detecting separated data
in binary logistic regression models. DPhil thesis, University of Oxford.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ._information import design_blocks, design_products
from ._jacobian import jacobian_product
from ._loss import MultinomialLoss
from ._solvers import minimize_newton_cg

# Samples in the first linear program, and most added in each round.
_ROWS_PER_ROUND = 2000
# A margin counts as positive, or a constraint as failed, beyond this, on
# columns scaled to a largest absolute value of 1 and a direction in the
# unit box; the linear program's feasibility tolerance is 1e-7.
_MARGIN_TOLERANCE = 1e-6
# The linearised step's moments must match the score to this, relative to
# its largest entry.
_BALANCE_TOLERANCE = 1e-8
# So the step, and each change of a score along it, is known only to about
# that fraction of the largest change: a probability that the step cancels
# to within a hundred times that, relative to the probability, is zero for
# all the proof can tell. Near quasi-complete separation that is what
# happens: the probabilities of a class the direction rules out are tiny,
# the step cancels them, and what is left has the sign of the step's error.
_PROOF_MARGIN = 100 * _BALANCE_TOLERANCE
# Newton steps on the unpenalised likelihood before the proof of overlap is
# tried again: near its optimum they converge quadratically, and where the
# classes are separated they only grow the parameters, so a few suffice
# either way.
NEWTON_STEPS = 5
# They stop once the mean gradient's largest entry is below this: the
# linearised step from there is far smaller than any probability that
# could turn its sign.
_NEWTON_TOLERANCE = 1e-10


def moments_balance(
    X, Y, P, sample_weight, fit_intercept, moments, information, information_eigh
):
    """Whether one linearised Newton step from the probabilities ``P``
    gives probabilities that balance the moments and are positive off each
    sample's own class: a proof that the classes are not separated.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The data.
    Y : ndarray of shape (n_samples, n_classes)
        The one-hot labels.
    P : ndarray of shape (n_samples, n_classes)
        The fitted probabilities.
    sample_weight : ndarray of shape (n_samples,)
        Frequency weights; samples of weight zero are left out.
    fit_intercept : bool
        Whether the model has an intercept.
    moments : ndarray of shape (r, K)
        The score ``sum_i s_i x~_i (e_{y_i} - p_i)^T`` at ``P``, for the
        one-hot rows ``e_{y_i}`` of ``Y``.
    information : ndarray of shape (r K, r K)
        The observed information at ``P``, class-major.
    information_eigh : ShiftedEigh
        Its eigendecomposition, by :func:`~sklearn_softmax._information.shifted_eigh`.

    Returns
    -------
    balanced : bool
        True when the step's probabilities prove that no separating
        direction exists; False when they do not, which proves nothing.
    """
    n_classes = P.shape[1]
    n_rows = X.shape[1] + int(fit_intercept)
    # Each sample's e_{y_i} - p_i sums to zero over the classes, so the moments
    # do too, but for rounding; near the optimum, where the moments
    # themselves are small, that rounding would fail the test of the
    # step's residual below. Stiemke's condition has no component along
    # the class-constant directions, so it is removed.
    moments = (moments - moments.mean(axis=1, keepdims=True)).ravel(order="F")
    # The step of least scaled norm: with collinear features the
    # information is singular, and the moments lie in its range.
    step = information_eigh.solve(moments)
    scale = np.abs(moments).max() + np.finfo(np.float64).tiny
    if not np.abs(information @ step - moments).max() <= _BALANCE_TOLERANCE * scale:
        return False
    step = step.reshape(n_classes, n_rows).T
    for rows, X_design in design_blocks(X, fit_intercept, n_rows + 3 * n_classes):
        P_block = P[rows]
        dZ = X_design @ step
        floor = _PROOF_MARGIN * P_block * (1.0 + np.abs(dZ).max(axis=1, keepdims=True))
        q = P_block + jacobian_product(P_block, dZ, np)
        off_own = np.where(Y[rows] > 0, np.inf, q - floor).min(axis=1)
        if np.any((off_own <= 0) & (sample_weight[rows] > 0)):
            return False
    return True


def towards_unpenalised_optimum(X, y, sample_weight, theta, n_steps=NEWTON_STEPS):
    """The parameters after at most ``n_steps`` Newton-CG iterations on the
    unpenalised negative log-likelihood, from ``theta``.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        The data, in float64.
    y : ndarray of shape (n_samples,)
        Class indices.
    sample_weight : ndarray of shape (n_samples,)
        The weights of the likelihood.
    theta : ndarray of shape (r, K)
        The start: the intercept first, when there is one (``r`` is then
        ``n_features + 1``).
    n_steps : int, default=NEWTON_STEPS
        The most Newton iterations.

    Returns
    -------
    theta : ndarray of shape (r, K)
        Where they stopped, in the same layout; None where they left the
        finite numbers.
    """
    n_features = X.shape[1]
    fit_intercept = theta.shape[0] > n_features
    loss = MultinomialLoss(theta.shape[1], fit_intercept)
    objective = loss.bind(X, y, sample_weight, 0.0)
    # The loss holds the intercept in its last row.
    coef = np.vstack([theta[1:], theta[:1]]) if fit_intercept else theta
    result = minimize_newton_cg(
        objective, coef.ravel(), max_iter=n_steps, tol=_NEWTON_TOLERANCE
    )
    if not np.all(np.isfinite(result.x)):
        return None
    coef = result.x.reshape(coef.shape)
    return np.vstack([coef[-1:], coef[:-1]]) if fit_intercept else coef


def _column_scale(X, fit_intercept):
    """The largest absolute value of each column of ``X~`` (1 where it is
    zero): dividing by it changes the scale of a separating direction, not
    whether one exists."""
    scale = np.zeros(X.shape[1] + int(fit_intercept))
    for _, block in design_blocks(X, fit_intercept, X.shape[1] + 1):
        np.maximum(scale, np.abs(block).max(axis=0, initial=0.0), out=scale)
    scale[scale == 0] = 1.0
    return scale


def _margin_constraints(X_design, y, n_classes):
    """The sparse matrix whose rows give the margins ``m_ik`` of the samples
    ``X_design`` with labels ``y``, for ``k != y_i``, as a linear function of
    the class-major direction."""
    n_samples, n_rows = X_design.shape
    others = np.array(
        [np.delete(np.arange(n_classes), label) for label in range(n_classes)]
    )[y]
    sample = np.repeat(np.arange(n_samples), n_classes - 1)
    other = others.ravel()
    constraint = np.arange(sample.size)
    columns = np.arange(n_rows)
    values = X_design[sample]
    matrix_rows = np.repeat(constraint, n_rows)
    own = (y[sample, np.newaxis] * n_rows + columns).ravel()
    rival = (other[:, np.newaxis] * n_rows + columns).ravel()
    return sp.csr_matrix(
        (
            np.concatenate([values.ravel(), -values.ravel()]),
            (np.concatenate([matrix_rows, matrix_rows]), np.concatenate([own, rival])),
        ),
        shape=(sample.size, n_rows * n_classes),
    )


def _active_constraints(X, y, n_classes, fit_intercept, active, scale):
    """The margins' constraints (see :func:`_margin_constraints`) of the
    samples ``active``, on the columns of ``X~`` divided by ``scale``."""
    X_active = np.vstack(
        [block for _, block in design_blocks(X[active], fit_intercept, X.shape[1] + 1)]
    )
    return _margin_constraints(X_active / scale, y[active], n_classes)


def _margin_sums(X, y, n_classes, fit_intercept, kept):
    """The sum of all the margins ``m_ik`` of the samples ``kept``, as a
    linear function of the class-major direction: ``sum_i x~_i (x)
    (K e_{y_i} - 1)``."""
    coefficients = n_classes * np.eye(n_classes)[y] - 1.0
    return design_products(X, kept[:, np.newaxis] * coefficients, fit_intercept).ravel(
        order="F"
    )


def _margin_range(X, y, fit_intercept, direction):
    """Each sample's smallest and largest margin along ``direction`` (``r``
    x K), over the classes other than its own, a pass over ``X`` in blocks
    of rows."""
    smallest = np.empty(X.shape[0])
    largest = np.empty(X.shape[0])
    row_floats = direction.shape[0] + direction.shape[1]
    for rows, X_design in design_blocks(X, fit_intercept, row_floats):
        scores = X_design @ direction
        samples = np.arange(scores.shape[0])
        own = scores[samples, y[rows]]
        scores[samples, y[rows]] = -np.inf
        smallest[rows] = own - scores.max(axis=1)
        scores[samples, y[rows]] = np.inf
        largest[rows] = own - scores.min(axis=1)
    return smallest, largest


class SeparationCheck(NamedTuple):
    """What :func:`separated_samples` found.

    Attributes
    ----------
    separated : bool or None
        Whether a direction separates the classes, completely or
        quasi-completely: the linear program's optimum is positive. None
        when a program stopped short of its optimum, which decides nothing.
    ruled_out : ndarray of int
        The samples with a positive margin against at least one other class
        along the direction found: their probabilities of those classes go
        to zero along it. Empty unless ``separated``.
    predicted : ndarray of int
        Those of ``ruled_out`` with a positive margin against every other
        class, which the direction predicts perfectly: all the samples of
        positive weight under complete separation, which a second program
        looks for where the first direction leaves some margins at zero.
        With more than two classes it may be empty when ``ruled_out`` is
        not.
    failure : str or None
        Why, when ``separated`` is None: the solver's status and message.
    """

    separated: bool | None
    ruled_out: np.ndarray
    predicted: np.ndarray
    failure: str | None = None


_NONE = np.array([], dtype=np.intp)


def separated_samples(X, y, n_classes, fit_intercept, sample_weight, random_state=0):
    """Whether a direction separates the classes, and the samples it
    separates from some or all of the other classes.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The data.
    y : ndarray of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        Number of classes.
    fit_intercept : bool
        Whether the model has an intercept.
    sample_weight : ndarray of shape (n_samples,)
        Samples of weight zero are left out.
    random_state : int, default=0
        Seed of the first subset, when there are more samples than a round
        takes.

    Returns
    -------
    check : SeparationCheck
        ``separated``: True when the linear program's optimum is positive,
        so that the likelihood has no finite maximum; False when it is zero;
        None when a program stopped short of its optimum. ``ruled_out`` and
        ``predicted``: the samples with a positive margin against some, and
        against every, other class along the direction found. ``failure``:
        why the check decided nothing.
    """
    y = np.asarray(y)
    kept = sample_weight > 0
    scale = _column_scale(X, fit_intercept)
    objective = _margin_sums(X, y, n_classes, fit_intercept, kept) / np.tile(
        scale, n_classes
    )
    rng = np.random.default_rng(random_state)
    active = np.sort(rng.permutation(np.flatnonzero(kept))[:_ROWS_PER_ROUND])
    while True:
        constraints = _active_constraints(X, y, n_classes, fit_intercept, active, scale)
        program = linprog(
            -objective,
            A_ub=-constraints,
            b_ub=np.zeros(constraints.shape[0]),
            bounds=(-1.0, 1.0),
            method="highs",
        )
        if program.status != 0:
            # An iteration limit or numerical difficulties: the point where
            # the solver stopped bounds neither way whether a direction
            # separates.
            return SeparationCheck(
                None, _NONE, _NONE, f"status {program.status}: {program.message}"
            )
        # The relaxation's optimum bounds the whole program's: at zero, no
        # direction separates.
        if -program.fun <= _MARGIN_TOLERANCE:
            return SeparationCheck(False, _NONE, _NONE)
        direction = program.x.reshape(n_classes, -1).T / scale[:, np.newaxis]
        smallest, largest = _margin_range(X, y, fit_intercept, direction)
        # Samples of weight zero neither separate nor fail.
        smallest[~kept] = largest[~kept] = 0.0
        failed = np.setdiff1d(np.flatnonzero(smallest < -_MARGIN_TOLERANCE), active)
        if failed.size == 0:
            # A positive optimum is a sum of margins, of which at least one
            # is positive: the classes are separated even where no sample
            # has all its margins positive, as with more than two classes
            # where a sample may be separated from one class only.
            ruled_out = np.flatnonzero(largest > _MARGIN_TOLERANCE)
            predicted = np.flatnonzero(smallest > _MARGIN_TOLERANCE)
            if predicted.size < np.count_nonzero(kept):
                # The optimum of a sum of margins is a vertex, where some
                # margins are zero even when a direction would make them
                # all positive: a second program looks for one.
                complete = _completely_separated(
                    X, y, n_classes, fit_intercept, kept, scale
                )
                if complete is None:
                    return SeparationCheck(
                        None, _NONE, _NONE, "the program of the least margin failed"
                    )
                if complete:
                    ruled_out = predicted = np.flatnonzero(kept)
            return SeparationCheck(True, ruled_out, predicted)
        worst = failed[np.argsort(smallest[failed])[:_ROWS_PER_ROUND]]
        active = np.union1d(active, worst)


def _completely_separated(X, y, n_classes, fit_intercept, kept, scale):
    """Whether a direction gives every sample ``kept`` a positive margin
    against every other class: the largest least margin ``t`` over the unit
    box, a linear program in the direction and ``t``, is positive. None
    when a program stopped short of its optimum.

    The constraints are generated as in :func:`separated_samples`: a
    program on a subset of the samples bounds the whole one's ``t`` from
    above, so a bound of zero or less decides no, and a direction whose
    least margin over all the samples is positive decides yes; otherwise
    the samples it fails are added. ``scale`` is the columns' (see
    :func:`_column_scale`).
    """
    kept_samples = np.flatnonzero(kept)
    # The first round takes the first samples, in their order.
    active = kept_samples[:_ROWS_PER_ROUND]
    while True:
        constraints = _active_constraints(X, y, n_classes, fit_intercept, active, scale)
        n_params = constraints.shape[1]
        # Maximise t subject to t <= m_ik(delta), |delta| <= 1.
        objective = np.zeros(n_params + 1)
        objective[-1] = -1.0
        program = linprog(
            objective,
            A_ub=sp.hstack(
                [-constraints, np.ones((constraints.shape[0], 1))], format="csr"
            ),
            b_ub=np.zeros(constraints.shape[0]),
            bounds=[(-1.0, 1.0)] * n_params + [(None, None)],
            method="highs",
        )
        if program.status != 0:
            return None
        if -program.fun <= _MARGIN_TOLERANCE:
            return False
        direction = program.x[:-1].reshape(n_classes, -1).T / scale[:, np.newaxis]
        smallest, _ = _margin_range(X, y, fit_intercept, direction)
        smallest = smallest[kept_samples]
        if smallest.min() > _MARGIN_TOLERANCE:
            return True
        failed = np.setdiff1d(kept_samples[smallest <= _MARGIN_TOLERANCE], active)
        if failed.size == 0:
            # The active samples' own margins fell in the solver's
            # tolerance: the least margin is zero to that precision.
            return False
        worst = failed[np.argsort(smallest[np.searchsorted(kept_samples, failed)])]
        active = np.union1d(active, worst[:_ROWS_PER_ROUND])

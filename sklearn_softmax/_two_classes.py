"""Two classes, solved in the difference of their parameters.

The softmax of two classes depends only on the difference ``beta`` of their
columns of ``coef``, and the minimiser is centred, ``coef = [-beta / 2,
beta / 2]``: the binomial logistic model of ``beta``, with half the
parameters and no null direction (see
:func:`~sklearn_softmax._loss.difference_objective`). Exact Newton steps
then factor a matrix of ``p`` rows instead of ``2 p``, with no fix for the
null direction.
"""

import numpy as np


def lift(beta, xp=np):
    """The centred two columns of the difference ``beta``, a vector of the
    namespace ``xp``: ``[-beta / 2, beta / 2]`` row by row, of shape
    ``(beta.size, 2)``. The same map takes a two-class model's scores
    ``z_1 - z_0`` to the scores of its classes."""
    half = 0.5 * beta
    return xp.stack([-half, half], axis=1)


def difference(coef):
    """The difference ``theta_1 - theta_0`` of the two columns of
    ``coef``, of shape ``(rows, 2)``: what :func:`lift` takes back."""
    coef = np.asarray(coef).reshape(-1, 2)
    return coef[:, 1] - coef[:, 0]


def solved_in_difference(run, coef0):
    """``run(start)``, a solve on objectives of ``beta`` (as ``bind`` makes
    them with ``two_classes_as_one``) from ``start``, of shape ``(rows,
    1)``, called with the difference of the columns of the two-class
    starting point ``coef0``; its result lifted back to ``coef``'s layout,
    flattened: ``[-beta / 2, beta / 2]`` row by row."""
    result = run(difference(coef0)[:, np.newaxis])
    return result._replace(x=lift(result.x).ravel())

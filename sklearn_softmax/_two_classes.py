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


def lift(beta):
    """The centred ``coef`` of the difference ``beta``: ``[-beta / 2,
    beta / 2]`` row by row, of shape ``(beta.size, 2)``."""
    return np.multiply.outer(beta, [-0.5, 0.5])


def solving_in_difference(solve):
    """``solve``, run on an objective of ``beta`` (as ``bind`` makes it with
    ``two_classes_as_one``) from the difference of the columns of a
    two-class starting point, with its result lifted back to ``coef``'s
    layout, flattened: ``[-beta / 2, beta / 2]`` row by row."""

    def minimize(objective, x0, **settings):
        start = np.asarray(x0).reshape(-1, 2)
        result = solve(objective, start[:, 1] - start[:, 0], **settings)
        return result._replace(x=lift(result.x).ravel())

    return minimize

"""The penalty on the weights, split into its smooth and non-smooth parts.

The smooth part is an L2 strength that the loss adds to its value and
gradient; the non-smooth part, if any, is a norm with a proximal map that the
proximal solver takes. Neither part touches the intercept row.
"""

import numpy as np

from ._solvers._proximal import GroupNorm, L1Norm


def split_penalty(kind, share, strength, n_features, shape):
    """The L2 strength and the non-smooth norm of a penalty.

    Parameters
    ----------
    kind : {'l2', 'l1', 'group'}
        The norm that ``share`` of the penalty is: 'l2' is all smooth; 'l1'
        is ``sum |W_jk|``; 'group' is ``sum_j |W_j|_2`` over the rows of
        ``W`` (one feature across all classes).
    share : float in [0, 1]
        The share of the non-smooth norm; ``1 - share`` is ``|W|_F^2 / 2``.
    strength : float
        The whole penalty's multiplier, ``1 / (C S)``.
    n_features : int
        The first ``n_features`` rows of ``coef`` are the weights ``W``, the
        only penalised rows.
    shape : tuple of int
        ``(n_rows, n_classes)``, the layout of ``coef``.

    Returns
    -------
    l2_reg_strength : float
        ``(1 - share) strength``.
    norm : L1Norm, GroupNorm or None
        The non-smooth part, on the flat parameter vector; None when there
        is none.
    """
    if kind == "l2" or share == 0:
        return strength, None
    row_weights = np.zeros(shape[0])
    row_weights[:n_features] = share * strength
    if kind == "l1":
        norm = L1Norm(np.repeat(row_weights, shape[1]))
    else:
        norm = GroupNorm(row_weights, shape)
    return (1.0 - share) * strength, norm

r"""The softmax's Jacobian, and the Hessian of the log-loss built from it.

The probabilities ``p = softmax(z)`` of a sample's scores ``z`` have the
Jacobian ``J(p) = diag(p) - p p^T``. With design rows ``x~_i`` (the features,
and a 1 for the intercept), the Hessian of the weighted log-loss
``sum_i s_i (-log p_{i, y_i})`` in the parameters is

.. math::

    H = \sum_i s_i \, J(p_i) \otimes \tilde x_i \tilde x_i^T,

the observed information of the multinomial likelihood: its ``(k, k')``
block is the Gram matrix ``sum_i c_{kk'}(i) x~_i x~_i^T`` of the design rows
with the weights ``c_{kk'}(i) = s_i p_ik (delta_kk' - p_ik')``.

Each row of ``J(p)`` sums to zero, since ``p`` does to one; so does each row
of blocks, and only the blocks with ``k <= k' < K - 1`` are summed over the
data, ``K (K - 1) / 2`` Gram matrices (one for two classes); the others
follow from them. Each block is symmetric, ``J`` is, and so is ``H``.

Where ``p_k`` rounds to one, ``1 - p_k`` computed as such has lost its
relative accuracy, and near-separated data have curvature of the size of
``1 - p_k``: it is taken as the sum of the other probabilities, so that
each weight keeps the relative accuracy of the probabilities.

This module holds that math once, for the arrays of any Array API namespace
``xp``. How the Gram matrices are summed over the data (in blocks of rows on
the fit's threads, on a device, within scikit-learn's working memory) is the
caller's.
"""

import functools

import numpy as np


def class_pairs(n_classes):
    """The pairs ``(k, k')``, ``k <= k' < K - 1``, whose blocks of the
    Hessian are summed over the data, in the order
    :func:`hessian_blocks` takes their Gram matrices."""
    last = n_classes - 1
    return [(k, other) for k in range(last) for other in range(k, last)]


def pair_weights(P, pairs, xp):
    """The weights ``p_k (delta_kk' - p_k')`` of each pair of ``pairs``.

    Parameters
    ----------
    P : array of shape (n_classes, n_samples)
        Probabilities, one row a class.
    pairs : sequence of (int, int)
        Pairs of classes, as :func:`class_pairs` gives them.
    xp : namespace
        ``P``'s Array API namespace.

    Returns
    -------
    weights : array of shape (len(pairs), n_samples)
        Without the sample weights. For ``k = k'``, ``1 - p_k`` is the sum
        of the other probabilities.
    """
    n_classes = P.shape[0]
    # 1 - p_k for k < K - 1, as one product with the matrix of ones off the
    # diagonal: a sum of positive numbers, whatever the order of its terms.
    others = 1.0 - np.eye(n_classes - 1, n_classes)
    complements = _constant(xp, others, P, P.dtype) @ P
    # The second factor of each pair's weight: -p_k', or 1 - p_k, the row
    # n_classes + k of these.
    factors = _concat(xp, [-P, complements])
    firsts = [k for k, _ in pairs]
    seconds = [n_classes + k if k == other else other for k, other in pairs]
    return xp.take(P, _constant(xp, firsts, P), axis=0) * xp.take(
        factors, _constant(xp, seconds, P), axis=0
    )


def _constant(xp, values, like, dtype=None):
    """``values`` as an array on ``like``'s device: an index array, or of
    ``dtype`` (``bool`` for the namespace's booleans)."""
    if isinstance(like, np.ndarray):
        return np.asarray(values, dtype=np.intp if dtype is None else dtype)
    dtype = {None: xp.int64, bool: xp.bool}.get(dtype, dtype)
    return xp.asarray(values, dtype=dtype, device=like.device)


def _concat(xp, arrays, axis=0):
    # NumPy before 2.0 names it concatenate.
    concat = xp.concat if hasattr(xp, "concat") else xp.concatenate
    return concat(arrays, axis=axis)


def hessian_blocks(pair_grams, n_classes, xp):
    """All ``K x K`` blocks of the Hessian from those of :func:`class_pairs`.

    Parameters
    ----------
    pair_grams : array of shape (n_pairs, r, r)
        The blocks ``(k, k')`` of :func:`class_pairs`, in its order.
    n_classes : int
        ``K``.
    xp : namespace
        ``pair_grams``' Array API namespace.

    Returns
    -------
    blocks : array of shape (K, K, r, r)
        Block ``(k', k)`` is block ``(k, k')`` transposed, so that the
        Hessian is symmetric to the last bit off the diagonal blocks; the
        blocks of class ``K - 1`` make each row of blocks sum to zero.
    """
    upper, below = _block_index(n_classes)
    taken = xp.take(pair_grams, _constant(xp, upper, pair_grams), axis=0)
    below = _constant(xp, below, pair_grams, bool)
    n_rows = pair_grams.shape[-1]
    inner = xp.reshape(
        xp.where(below[:, None, None], _permute_dims(xp, taken, (0, 2, 1)), taken),
        (n_classes - 1, n_classes - 1, n_rows, n_rows),
    )
    last = -xp.sum(inner, axis=1)
    last_row = _permute_dims(xp, last, (0, 2, 1))
    corner = -xp.sum(last_row, axis=0)
    return _concat(
        xp,
        [
            _concat(xp, [inner, last[:, None, ...]], axis=1),
            _concat(xp, [last_row, corner[None, ...]])[None, ...],
        ],
    )


@functools.cache
def _block_index(n_classes):
    """For the blocks of the first ``K - 1`` classes, row by row: the index
    of each one's pair in :func:`class_pairs`, and whether it lies below
    the diagonal, where it is that pair's block transposed."""
    index = {pair: j for j, pair in enumerate(class_pairs(n_classes))}
    first = range(n_classes - 1)
    upper = [index[min(k, o), max(k, o)] for k in first for o in first]
    return upper, [k > o for k in first for o in first]


def feature_major(blocks, xp):
    """The ``(r K, r K)`` matrix of :func:`hessian_blocks`' blocks, indexed
    as a ``(r, K)`` array of parameters flattened row by row: feature-major,
    class-minor, as the solvers lay out ``coef``."""
    n_classes, _, n_rows, _ = blocks.shape
    size = n_rows * n_classes
    return xp.reshape(_permute_dims(xp, blocks, (2, 0, 3, 1)), (size, size))


def class_major(blocks, xp):
    """The ``(K r, K r)`` matrix of :func:`hessian_blocks`' blocks, indexed
    as the classes' parameter vectors stacked: class-major, as the
    statistical summaries lay them out."""
    n_classes, _, n_rows, _ = blocks.shape
    size = n_rows * n_classes
    return xp.reshape(_permute_dims(xp, blocks, (0, 2, 1, 3)), (size, size))


def _permute_dims(xp, array, axes):
    # NumPy before 2.0 has no permute_dims; its transpose is the same.
    permute = xp.permute_dims if hasattr(xp, "permute_dims") else xp.transpose
    return permute(array, axes)


def jacobian_product(P, Z, xp):
    """``J(p_i) z_i`` row by row, ``p * (z - p . z)`` for the rows ``p`` of
    ``P`` and ``z`` of ``Z`` (both of shape (n_samples, n_classes)): the
    change of the probabilities along a change ``Z`` of the scores. It is
    written in place of ``Z``, which is returned."""
    Z *= P
    Z -= P * xp.sum(Z, axis=1, keepdims=True)
    return Z

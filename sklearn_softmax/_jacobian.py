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

import itertools
import operator

import numpy as np

# A probability within this many roundings of its dtype of one has its
# entry of the Jacobian's product taken from the others (see
# jacobian_product).
_CERTAIN_ROUNDINGS = 1024


def class_pairs(n_classes):
    """The pairs ``(k, k')``, ``k <= k' < K - 1``, whose blocks of the
    Hessian are summed over the data, in the order
    :func:`hessian_matrix` takes their Gram matrices."""
    last = n_classes - 1
    return [(k, other) for k in range(last) for other in range(k, last)]


def complements(P, xp):
    """``1 - p_k`` for each class ``k < K - 1``, row ``k``, each the sum of
    the other probabilities.

    Parameters
    ----------
    P : array of shape (n_classes, n_samples)
        Probabilities, one row a class.
    xp : namespace
        ``P``'s Array API namespace.

    Returns
    -------
    complements : array of shape (n_classes - 1, n_samples)
        One product with the matrix of ones off the diagonal: each a sum
        of positive numbers, as accurate as they are whatever the order of
        its terms, where ``1 - p_k`` as such loses its relative accuracy.
    """
    n_classes = P.shape[0]
    others = 1.0 - np.eye(n_classes - 1, n_classes)
    return _constant(xp, others, P, P.dtype) @ P


def pair_weights(P, pairs, xp, sample_weight=None, complements_of_P=None):
    """The weights ``s p_k (delta_kk' - p_k')`` of each pair of ``pairs``.

    Parameters
    ----------
    P : array of shape (n_classes, n_samples)
        Probabilities, one row a class.
    pairs : sequence of (int, int)
        Consecutive pairs of :func:`class_pairs`: the pairs of a class
        ``k`` are ``(k, k)``, then ``(k, k')`` for ``k' = k + 1, ...``, so
        that a class's pairs in ``pairs`` take a run of rows of ``P``.
    xp : namespace
        ``P``'s Array API namespace.
    sample_weight : array of shape (n_samples,), default=None
        The weights ``s``; one where None.
    complements_of_P : array, default=None
        :func:`complements` of ``P``, computed here when None (for three
        classes or more).

    Returns
    -------
    weights : array of shape (len(pairs), n_samples)
        Each ``(p_k (delta_kk' - p_k')) s``, rounded in that order, a run
        of a class's pairs written at a time.
    """
    n_classes, n_samples = P.shape
    if n_classes == 2:
        # The one pair, (0, 0): 1 - p_0 is p_1, the sum of the others.
        weights = (P[0, ...] * P[1, ...])[None, ...]
        return weights if sample_weight is None else weights * sample_weight
    if complements_of_P is None:
        complements_of_P = complements(P, xp)
    if isinstance(P, np.ndarray):
        weights = np.empty((len(pairs), n_samples), dtype=P.dtype)
    else:
        weights = xp.empty((len(pairs), n_samples), dtype=P.dtype, device=P.device)
    row = 0
    for k, run in itertools.groupby(pairs, key=operator.itemgetter(0)):
        others = [other for _, other in run]
        if others[0] == k:
            weights[row, ...] = P[k, ...] * complements_of_P[k, ...]
            row, others = row + 1, others[1:]
        if others:
            stop = row + len(others)
            weights[row:stop, ...] = P[others[0] : others[-1] + 1, ...] * -P[k, ...]
            row = stop
    if sample_weight is None:
        return weights
    if isinstance(weights, np.ndarray) and weights.dtype == np.result_type(
        weights, sample_weight
    ):
        # In place: a fresh array of the weights' size costs as much again.
        return np.multiply(weights, sample_weight, out=weights)
    return weights * sample_weight


def _constant(xp, values, like, dtype=None):
    """``values`` as an array on ``like``'s device: an index array, or of
    ``dtype``."""
    if isinstance(like, np.ndarray):
        return np.asarray(values, dtype=np.intp if dtype is None else dtype)
    dtype = xp.int64 if dtype is None else dtype
    return xp.asarray(values, dtype=dtype, device=like.device)


def hessian_matrix(pair_grams, n_classes, xp, class_major=False):
    """The Hessian's matrix from the blocks of :func:`class_pairs`.

    Parameters
    ----------
    pair_grams : array of shape (n_pairs, r, r)
        The blocks ``(k, k')`` of :func:`class_pairs`, in its order.
    n_classes : int
        ``K``.
    xp : namespace
        ``pair_grams``' Array API namespace.
    class_major : bool, default=False
        Index the parameters as the classes' vectors stacked, as the
        statistical summaries do, rather than as a ``(r, K)`` array
        flattened row by row (feature-major, class-minor), as the solvers
        lay out ``coef``.

    Returns
    -------
    hessian : array of shape (r K, r K)
        Block ``(k', k)`` is block ``(k, k')`` transposed, and the blocks
        of class ``K - 1`` make each row of blocks sum to zero: the matrix
        is symmetric to the last bit where the blocks of ``pair_grams``
        are. It is written into one array, which is all it holds beyond
        ``pair_grams`` and a row of blocks: NumPy's all the pairs' blocks
        at once, by integer indices on the classes' axes, other
        namespaces' block by block; the last class's blocks a row at once.
    """
    n_rows = pair_grams.shape[-1]
    shape = (n_classes, n_rows) * 2 if class_major else (n_rows, n_classes) * 2
    pairs = class_pairs(n_classes)

    def block(k, other):
        if class_major:
            return (k, slice(None), other, slice(None))
        return (slice(None), k, slice(None), other)

    if isinstance(pair_grams, np.ndarray):
        hessian = np.empty(shape, dtype=pair_grams.dtype)
        # The pairs' axis comes first in the indexed array, as in
        # pair_grams.
        firsts, seconds = np.array(pairs, dtype=np.intp).T
        hessian[block(firsts, seconds)] = pair_grams
        hessian[block(seconds, firsts)] = pair_grams.transpose(0, 2, 1)
    else:
        hessian = xp.empty(shape, dtype=pair_grams.dtype, device=pair_grams.device)
        for j, (k, other) in enumerate(pairs):
            hessian[block(k, other)] = pair_grams[j, ...]
            if other != k:
                hessian[block(other, k)] = pair_grams[j, ...].T
    # The last class's blocks: -(the sum of a row of the others' blocks),
    # the classes of the row on this axis, and their transposes.
    last = n_classes - 1
    others = slice(None, last)
    axis = 2 if class_major else 3
    hessian[block(others, last)] = -xp.sum(hessian[block(others, others)], axis=axis)
    # Block (last, k)[a, b] is block (k, last)[b, a]; both slices index
    # (k, b, a) and (a, k, b) in the one layout and (b, k, a) and (a, b, k)
    # in the other.
    hessian[block(last, others)] = _permute(xp, hessian[block(others, last)], (2, 0, 1))
    hessian[block(last, last)] = -xp.sum(
        hessian[block(last, others)], axis=1 if class_major else 2
    )
    size = n_rows * n_classes
    return xp.reshape(hessian, (size, size))


def _permute(xp, array, axes):
    # NumPy before 2.0 names it transpose.
    if hasattr(xp, "permute_dims"):
        return xp.permute_dims(array, axes)
    return np.transpose(array, axes)


def jacobian_product(P, Z, xp, class_axis=1, sums=None):
    """``J(p_i) z_i`` sample by sample, ``p * (z - p . z)`` for the
    probabilities ``p`` and the scores ``z`` of each sample: the change of
    the probabilities along a change ``Z`` of the scores. It is written in
    place of ``Z``, which is returned.

    Where a probability rounds near one, its entry of ``p * (z - p . z)``
    is of the size of the other probabilities, the difference of two
    numbers of the size of ``z``, and loses its relative accuracy: with
    float32 probabilities already where the others are about ``1e-4``, on
    nearly separable data, whose Hessian is of that size along the very
    directions the Newton steps take: that entry is off by about ``u /
    (1 - p)`` of itself, for the rounding ``u`` of the probabilities'
    dtype. The entries of ``J(p) z`` sum to zero, as ``p`` sums to one; so
    the entry of a probability above ``1 - 1024 u`` (and one half: a sample
    has at most one such) is taken as minus the sum of the others, each as
    accurate as the probabilities. The entries of probabilities between
    one half and that bound stay within about ``1e-3`` of themselves.
    NumPy arrays without such a probability cost one comparison more than
    the formula; the others, a sum over the classes and a subtraction.

    Parameters
    ----------
    P : array
        Probabilities, of shape ``(n_samples, n_classes)`` with
        ``class_axis=1``, ``(n_classes, n_samples)`` with ``class_axis=0``.
    Z : array
        The scores' change, of ``P``'s shape; overwritten.
    xp : namespace
        The arrays' Array API namespace.
    class_axis : {0, 1}, default=1
        The axis of the classes.
    sums : array of shape (n_samples,), default=None
        A NumPy buffer for the sums over the classes, which are otherwise
        allocated.

    Returns
    -------
    Z : array
        ``J(p) z`` for each sample, in ``Z``.
    """
    threshold = max(0.5, 1.0 - _CERTAIN_ROUNDINGS * float(xp.finfo(P.dtype).eps))
    if isinstance(Z, np.ndarray):
        subscripts = "km,km->m" if class_axis == 0 else "mk,mk->m"
        p_dot_z = np.einsum(subscripts, P, Z, out=sums)
        Z -= np.expand_dims(p_dot_z, class_axis)
        Z *= P
        certain = threshold < P
        if certain.any():
            totals = np.sum(Z, axis=class_axis, out=p_dot_z)
            # Minus the others' sum: the entry less the sum of all (by a
            # product with the mask, several times faster than a masked
            # subtraction where many samples are certain).
            Z -= certain * np.expand_dims(totals, class_axis)
        return Z
    Z -= xp.sum(P * Z, axis=class_axis, keepdims=True)
    Z *= P
    totals = xp.sum(Z, axis=class_axis, keepdims=True)
    Z -= xp.where(threshold < P, totals, xp.zeros_like(totals))
    return Z

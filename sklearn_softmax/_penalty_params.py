"""Which penalty the parameters choose.

``C`` and ``l1_ratio`` choose it as they do in scikit-learn's
LogisticRegression since version 1.8: ``C=np.inf`` for none, ``l1_ratio=0``
for L2, 1 for L1 and a share in between for the elastic net. ``l1_groups``
says what the L1 part is: single weights, or each feature's weights across
the classes as one group. The deprecated ``penalty`` still names a norm, read
as LogisticRegression reads it, with a FutureWarning.

:func:`resolve_penalty` is the one place that reads these parameters; the
estimators, the backends and the inference read its answer, never the
parameters themselves.
"""

import math
import warnings
from typing import NamedTuple

import numpy as np

from ._messages import caller_stacklevel

# The default of ``penalty``: the parameter is not set, and ``l1_ratio`` and
# ``C`` choose the penalty.
UNSET = "deprecated"


def _replacement(penalty, name):
    """What replaces the deprecated ``penalty``, for the parameter ``name``:
    'l1_ratio' of a fit, or 'l1_ratios' of a search."""
    grid = name == "l1_ratios"
    zero, one = ("[0]", "[1]") if grid else ("0", "1")
    return {
        "l2": f"{name}={zero} (the default)",
        "l1": f"{name}={one}",
        "elasticnet": f"{name} set to the elastic net's share of L1, in (0, 1)",
        None: "C=np.inf",
        "group": f"l1_groups='features' with {name}={one}, or the share of the "
        "group norm",
    }[penalty]


def deprecation_message(penalty, name="l1_ratio"):
    """The FutureWarning's message for the deprecated ``penalty``."""
    return (
        f"penalty={penalty!r} is deprecated, as in LogisticRegression since "
        "scikit-learn 1.8, and will be removed: l1_ratio and C choose the "
        f"penalty. Leave penalty unset and use {_replacement(penalty, name)} "
        "instead."
    )


class Penalty(NamedTuple):
    """The penalty that the parameters choose.

    Attributes
    ----------
    norm : {'l2', 'l1', 'group'} or None
        The norm whose share is ``l1_ratio`` ('l2' when the share is 0);
        None for no penalty.
    l1_ratio : float
        The share of the L1 or group norm, in [0, 1]; 0 for 'l2' and None.
    C : float
        The inverse of the penalty's strength; ``inf`` for no penalty.
    spelling : str
        The parameters that chose it, as the user wrote them, for messages.
    """

    norm: object
    l1_ratio: float
    C: float
    spelling: str

    def strength(self, total_weight):
        """The multiplier ``1 / (C S)`` of the whole penalty; 0 for none.

        Raises
        ------
        ValueError
            Where ``C S`` is so small that its inverse overflows float64.
        """
        if self.norm is None:
            return 0.0
        scale = self.C * float(total_weight)
        if not scale > 1.0 / np.finfo(np.float64).max:
            raise ValueError(
                f"C={self.C:g} times the total sample weight S={float(total_weight):g} "
                "is too small: the penalty's strength 1 / (C S) overflows "
                "float64. Use a larger C, or larger weights."
            )
        return 1.0 / scale

    @property
    def smooth(self):
        """Whether the penalty is L2 or none, smooth everywhere."""
        return self.norm in ("l2", None)


def resolve_penalty(penalty, l1_ratio, C, l1_groups, *, warn=True, notices=None):
    """The penalty chosen by the parameters of :class:`SoftmaxRegression`.

    Parameters
    ----------
    penalty : {'deprecated', 'l2', 'l1', 'elasticnet', 'group', None}
        The deprecated parameter; 'deprecated' when it is not set.
    l1_ratio : float in [0, 1] or None
        The share of the L1 part.
    C : float
        The inverse of the penalty's strength, of any real number type: the
        penalty holds it as a Python float.
    l1_groups : {None, 'features'}
        What the L1 part sums: single weights, or feature rows.
    warn : bool, default=True
        Whether to warn of deprecated spellings and of parameters the
        penalty does not use; False where only the answer is wanted.
    notices : list, default=None
        Where given, those warnings are appended to it as ``(message,
        category)`` pairs instead, for the caller to give.

    Returns
    -------
    penalty : Penalty

    Raises
    ------
    ValueError
        When the deprecated ``penalty`` conflicts with the other parameters
        so that no penalty can be read from them.
    """
    found = []
    grouped = l1_groups == "features"
    # A Python float whatever number type C came as: NumPy's float32 or
    # float16 would carry its precision into the penalty's value, and the
    # solvers would stop at its rounding.
    C = float(C)
    if penalty == UNSET:
        if l1_ratio is None:
            found.append(
                (
                    "l1_ratio=None is deprecated, as in LogisticRegression since "
                    "scikit-learn 1.8, and reads as l1_ratio=0 (an L2 penalty): "
                    "set l1_ratio to a float in [0, 1].",
                    FutureWarning,
                )
            )
        ratio = 0.0 if l1_ratio is None else float(l1_ratio)
        spelling = f"l1_ratio={_number(ratio)}"
        if grouped:
            spelling += ", l1_groups='features'"
    else:
        ratio, C, grouped = _read_deprecated(penalty, l1_ratio, C, grouped, found)
        spelling = f"penalty={penalty!r}"
    if ratio != 0 and math.isinf(C):
        found.append(
            (
                f"C=np.inf sets no penalty, so {spelling} is not used: its L1 "
                "part has no weight. Leave l1_ratio at 0 (and penalty unset) "
                "for no penalty, or set a finite C.",
                UserWarning,
            )
        )
    elif grouped and (ratio == 0 or math.isinf(C)):
        found.append(
            (
                "l1_groups='features' groups the weights of the L1 part of the "
                f"penalty, which {'C=np.inf' if ratio else 'l1_ratio=0'} leaves "
                "out: it is not used. Set l1_ratio above 0, or leave l1_groups "
                "at None.",
                UserWarning,
            )
        )
    if notices is not None:
        notices.extend(found)
    elif warn:
        stacklevel = caller_stacklevel()
        for message, category in found:
            warnings.warn(message, category, stacklevel=stacklevel)
    if math.isinf(C):
        return Penalty(None, 0.0, math.inf, spelling)
    if ratio == 0:
        return Penalty("l2", 0.0, C, spelling)
    return Penalty("group" if grouped else "l1", ratio, C, spelling)


def _read_deprecated(penalty, l1_ratio, C, grouped, notices):
    """The share of the L1 part, ``C`` and the grouping that the deprecated
    ``penalty`` gives with ``l1_ratio``, as LogisticRegression reads them;
    the notices it deserves are appended to ``notices``."""
    if grouped and penalty != "group":
        raise ValueError(
            f"penalty={penalty!r} cannot be combined with l1_groups='features': "
            "penalty is deprecated and names an L1 part of single weights. "
            "Leave penalty unset and choose the penalty with l1_ratio and C."
        )
    notices.append((deprecation_message(penalty), FutureWarning))
    if penalty == "elasticnet":
        if l1_ratio is None:
            raise ValueError(
                "penalty='elasticnet' needs l1_ratio, a float in [0, 1]; better, "
                "leave penalty unset and set l1_ratio alone."
            )
        return float(l1_ratio), C, False
    if penalty == "group":
        # penalty='group' took l1_ratio=None for the pure group norm, before
        # l1_ratio's default became 0.
        ratio = 1.0 if l1_ratio is None or l1_ratio == 0 else float(l1_ratio)
        return ratio, C, True
    if penalty is None:
        if C != 1.0:
            notices.append(
                (
                    f"penalty=None sets no penalty, so C={_number(C)} is not used.",
                    UserWarning,
                )
            )
        if l1_ratio is not None and l1_ratio != 0:
            notices.append(
                (
                    f"penalty=None sets no penalty, so l1_ratio={_number(l1_ratio)} "
                    "is not used.",
                    UserWarning,
                )
            )
        return 0.0, math.inf, False
    ratio = 1.0 if penalty == "l1" else 0.0
    if l1_ratio is None or l1_ratio != ratio:
        notices.append(
            (
                f"penalty={penalty!r} is l1_ratio={_number(ratio)}, so "
                f"l1_ratio={l1_ratio!r} is not used. Leave penalty unset and "
                "set l1_ratio alone.",
                UserWarning,
            )
        )
    return ratio, C, False


def _number(value):
    """A float as a user would write it: 1, 0.5, np.inf."""
    if value == math.inf:
        return "np.inf"
    value = float(value)
    return f"{value:g}" if value != int(value) else str(int(value))


def l1_ratio_grid(penalty, l1_ratios, l1_groups):
    """The values of ``l1_ratio`` that :class:`SoftmaxRegressionCV` searches,
    as floats, and the ``l1_groups`` of its fits, read from its parameters
    as LogisticRegressionCV reads its own. The fits get today's spelling, so
    the warnings the parameters deserve are given here, once for the whole
    search.

    Parameters
    ----------
    penalty : {'deprecated', 'l2', 'l1', 'elasticnet', 'group'}
        The deprecated parameter; 'deprecated' when it is not set.
    l1_ratios : array-like of shape (n_l1_ratios,) or None
        The values given; None for the default, ``[0.0]``.
    l1_groups : {None, 'features'}
        What the L1 part of the fits sums.

    Returns
    -------
    l1_ratios : ndarray of shape (n_l1_ratios,)
    l1_groups : {None, 'features'}
    """
    values = _check_ratios(l1_ratios)
    stacklevel = caller_stacklevel()
    if penalty == UNSET:
        ratios = np.array([0.0]) if values is None else values
        grouped = l1_groups == "features"
        if grouped and not np.any(ratios > 0):
            warnings.warn(
                "l1_groups='features' groups the weights of the L1 part of the "
                "penalty, which l1_ratios=[0] leaves out: it is not used. "
                "Search l1_ratios above 0, or leave l1_groups at None.",
                UserWarning,
                stacklevel=stacklevel,
            )
        return ratios, l1_groups
    if l1_groups == "features" and penalty != "group":
        raise ValueError(
            f"penalty={penalty!r} cannot be combined with l1_groups='features': "
            "penalty is deprecated and names an L1 part of single weights. "
            "Leave penalty unset and choose the penalty with l1_ratios and Cs."
        )
    if penalty == "elasticnet" and values is None:
        raise ValueError(
            "penalty='elasticnet' needs l1_ratios, a list of floats in [0, 1]; "
            "better, leave penalty unset and set l1_ratios alone."
        )
    warnings.warn(
        deprecation_message(penalty, "l1_ratios"), FutureWarning, stacklevel=stacklevel
    )
    if penalty in ("l1", "l2"):
        if values is not None:
            warnings.warn(
                f"penalty={penalty!r} has no share of L1 to search, so "
                f"l1_ratios={l1_ratios!r} is not used. Leave penalty unset and "
                "set l1_ratios alone.",
                UserWarning,
                stacklevel=stacklevel,
            )
        return np.array([1.0 if penalty == "l1" else 0.0]), None
    if penalty == "group":
        # The search's l1_ratios kept its default, None, which meant the pure
        # group norm.
        return (np.array([1.0]) if values is None else values), "features"
    return values, None


def _check_ratios(l1_ratios):
    """``l1_ratios`` as an array of floats in [0, 1]; None for None."""
    if l1_ratios is None:
        return None
    try:
        ratios = np.asarray(l1_ratios, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"l1_ratios must be a list of floats in [0, 1]; got {l1_ratios!r}."
        ) from None
    if ratios.ndim != 1 or ratios.size == 0:
        raise ValueError(
            "l1_ratios must be a non-empty 1-d list of floats in [0, 1]; got "
            f"{l1_ratios!r}."
        )
    if not np.all((ratios >= 0) & (ratios <= 1)):
        raise ValueError(
            f"Every value of l1_ratios must be in [0, 1]; got {ratios.tolist()}."
        )
    return ratios

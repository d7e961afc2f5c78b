"""What a fit tells its user: the warning when a solver stops short of its
rule, the warning when the classes it fitted without a penalty are
separable, and where those warnings point."""

import math
import sys

import numpy as np

from ._solvers import (
    ADAPTIVE_FACTOR,
    ADAPTIVE_MIN_SHARE,
    AT_PRECISION,
    STOCHASTIC_SOLVERS,
)


class SeparationWarning(UserWarning):
    """Warns that the classes are or may be separated.

    Separated completely or quasi-completely, the maximum-likelihood estimate
    does not exist, and standard errors computed at any finite estimate are
    meaningless. When the linear program of the check stops short of its
    optimum, the warning says that the check was inconclusive, with the
    solver's status and message.

    :meth:`SoftmaxRegression.fit` warns with it too, when a fit without a
    penalty ends with every training sample given a probability above
    ``1 / sqrt(2)`` for its own class: the classes are then linearly
    separable, the objective has no minimum, and the weights the fit
    stopped at depend on ``tol``.

    See Also
    --------
    softmax_inference : Warns with it.
    SoftmaxRegression : Warns with it when it fits separable classes
        without a penalty.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_softmax import SeparationWarning, SoftmaxRegression
    >>> from sklearn_softmax import softmax_inference
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression().fit(X, y)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = softmax_inference(clf, X, y)
    >>> [w.category.__name__ for w in caught]
    ['SeparationWarning']
    """


# A mean log-loss below this share of log(2) s_min / S gives every sample of
# positive weight a probability above 2 ** -share for its class: short of
# 1/2 by a margin that no rounding of the objective reaches.
_SEPARATION_SHARE = 0.5


def proves_separation(objective, least_weight, total_weight):
    """Whether a fit's unpenalised mean log-loss ``objective`` proves the
    classes linearly separable, with samples of positive weight at least
    ``least_weight`` summing to ``total_weight``.

    Each sample's term ``s_i (-log p_i)`` is at most the sum of all of them,
    ``S`` times the objective, so ``-log p_i <= S L / s_min``. Below
    ``log(2) / 2`` this gives every sample a probability above
    ``1 / sqrt(2)``, more than half, for its own class: the fitted scores
    rank each sample's class first, so they separate the classes, and
    scaling them up lowers every term. The objective then has no minimum.
    """
    bound = _SEPARATION_SHARE * math.log(2.0) * least_weight / total_weight
    return float(objective) < bound


def separation_message(estimator, result, solver):
    """What a fit without a penalty on separable classes did."""
    return (
        f"{type(estimator).__name__}(solver={solver!r}) fitted without a "
        "penalty classes that are linearly separable in the training data: "
        f"its mean log-loss, {float(result.objective):.3g}, gives every "
        "sample a probability above 0.7 for its own class. The objective "
        "then has no minimum: it falls towards 0 as the weights grow along "
        "a separating direction, and its gradient with it, so the fit met "
        f"tol={estimator.tol:g} at weights that depend on tol (for the "
        "deterministic solvers they grow like log(1/tol)). Set a finite C "
        "for a model that does not depend on tol."
    )


def convergence_message(estimator, result, solver, dtype, norm):
    """Why ``solver`` stopped short of its rule, with ``estimator``'s
    settings, and what to do about it."""
    if estimator.max_iter == 0:
        if solver in STOCHASTIC_SOLVERS:
            return (
                f"SoftmaxRegression(solver={solver!r}) ran no epoch, as "
                "max_iter=0: the model is its starting point. Increase max_iter "
                "to fit."
            )
        measure = "gradient mapping" if norm is not None else "gradient"
        return (
            f"SoftmaxRegression(solver={solver!r}) ran no iteration, as "
            "max_iter=0: the model is its starting point, where the largest "
            f"absolute entry of the {measure} is {result.grad_norm:.3g}, above "
            f"tol={estimator.tol:g}. Increase max_iter to fit."
        )
    if solver in STOCHASTIC_SOLVERS:
        watched = (
            "validation accuracy" if estimator.early_stopping else "training objective"
        )
        if result.steps_too_large:
            return (
                f"SoftmaxRegression(solver={solver!r}) did not converge: "
                f"{result.message}: its steps are too large for this data. Scale "
                "the features (for instance with "
                "sklearn.preprocessing.StandardScaler), or lower "
                "learning_rate_init."
            )
        if result.n_stalls:
            return (
                f"SoftmaxRegression(solver={solver!r}) ran max_iter="
                f"{estimator.max_iter} epochs, in which its {watched} stalled "
                f"{'once' if result.n_stalls == 1 else f'{result.n_stalls} times'} "
                f"(n_iter_no_change="
                f"{estimator.n_iter_no_change} epochs without an improvement by "
                f"tol={estimator.tol:g}), each dividing the step by "
                f"{ADAPTIVE_FACTOR:g}; the run stops at the stall that would take "
                f"the step below {ADAPTIVE_MIN_SHARE:g} of its initial value. "
                "Increase max_iter, or use a deterministic solver to reach the "
                "optimum."
            )
        return (
            f"SoftmaxRegression(solver={solver!r}) ran max_iter="
            f"{estimator.max_iter} epochs, and its {watched} was still improving "
            f"by more than tol={estimator.tol:g} within n_iter_no_change="
            f"{estimator.n_iter_no_change} epochs. Increase max_iter, or use a "
            "deterministic solver to reach the optimum."
        )
    measure = (
        "largest absolute entry of the gradient mapping"
        if norm is not None
        else "largest absolute gradient entry"
    )
    # tol=0 asks for max_iter iterations, or as many as rounding allows.
    above = (
        f"{result.grad_norm / estimator.tol:.3g} times tol={estimator.tol:g}"
        if estimator.tol > 0
        else "above tol=0"
    )
    where = (
        f"SoftmaxRegression(solver={solver!r}) stopped with the {measure} "
        f"at {result.grad_norm:.3g}, {above}"
    )
    if result.n_iter >= estimator.max_iter:
        return (
            f"{where}, after max_iter={estimator.max_iter} iterations. Scale the "
            "features (for instance with sklearn.preprocessing.StandardScaler), "
            "increase max_iter, or try another solver."
        )
    if result.message not in AT_PRECISION:
        return f"{where}: {result.message}."
    name = np.dtype(dtype).name
    remedy = "loosen tol, or scale the features"
    if name == "float32":
        remedy += ", or fit a float64 copy of X"
    return (
        f"{where}: {result.message}. The objective no longer decreases at "
        f"the precision of the solver's {name} arithmetic, so tol is "
        f"tighter than it can reach here: {remedy}."
    )


def caller_stacklevel():
    """The stack level of the frame that called into this package: a
    warning issued with it points at the user's line, however many of the
    package's and scikit-learn's frames lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and _is_ours(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    return level


def _is_ours(module):
    """Whether ``module`` belongs to this package, to scikit-learn, or to
    joblib, which runs their tasks (the folds of a search)."""
    return module.split(".", 1)[0] in ("sklearn_softmax", "sklearn", "joblib")

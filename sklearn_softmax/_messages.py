"""What a fit tells its user: the warning when a solver stops short of its
rule, and where that warning points."""

import sys

import numpy as np

from ._solvers import NO_DECREASE, STOCHASTIC_SOLVERS


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
        if result.worse_than_start:
            return (
                f"SoftmaxRegression(solver={solver!r}) stopped as its "
                f"{watched} no longer improved, but {result.message}: its "
                "steps are too large for this data. Scale the features (for "
                "instance with sklearn.preprocessing.StandardScaler), or "
                "lower learning_rate_init."
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
    if result.message != NO_DECREASE:
        return f"{where}: {result.message}."
    return (
        f"{where}: {result.message}. The objective no longer decreases at "
        f"the precision of {np.dtype(dtype).name} arithmetic, so tol is "
        "tighter than this problem allows: loosen tol, or scale the features."
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
    """Whether ``module`` belongs to this package or to scikit-learn."""
    return module.split(".", 1)[0] in ("sklearn_softmax", "sklearn")

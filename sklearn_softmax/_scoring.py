"""The scorer of SoftmaxRegressionCV's folds, told the classes of all the
data: a held-out part need not show them all."""

import copy
import inspect


def scorer_for_classes(scorer, classes):
    """``scorer``, with ``labels=classes`` where its metric takes ``labels``
    (and, with two classes, ``pos_label=classes[-1]`` where it takes that
    too), as LogisticRegressionCV scores its folds.

    A metric such as ``log_loss`` otherwise reads the classes from the
    held-out labels, and fails, or counts the wrong columns of the
    probabilities, when a class has no held-out sample. Keyword arguments
    the scorer was made with are kept, and take precedence. Scorers that
    are not made by :func:`~sklearn.metrics.make_scorer` (plain callables)
    are returned as they are.

    scikit-learn has no public way to read a scorer's metric or keyword
    arguments, or to add one: this reads ``_score_func`` and ``_kwargs``,
    as LogisticRegressionCV does, and sets ``_kwargs`` on a copy; both have
    the same meaning from scikit-learn 1.6 to 1.9. Under metadata routing,
    ``labels`` could instead be passed at call time, but only to a scorer
    that requests it.
    """
    metric = getattr(scorer, "_score_func", None)
    given = getattr(scorer, "_kwargs", None)
    if metric is None or given is None:
        return scorer
    try:
        parameters = inspect.signature(metric).parameters
    except (TypeError, ValueError):
        return scorer
    if "labels" not in parameters:
        return scorer
    fixed = {"labels": classes}
    if classes.size == 2 and "pos_label" in parameters:
        fixed["pos_label"] = classes[-1]
    # A copy, so that the user's scorer, and its metadata requests, stay
    # as they were.
    labelled = copy.copy(scorer)
    labelled._kwargs = {**fixed, **given}
    return labelled

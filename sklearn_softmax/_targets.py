"""Labels and weights: classes found and encoded, class weights applied, and
the checks that the data leaves a model to fit. The same rules for every
kind of input; only where the labels live differs."""

import inspect

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

# Weights that are all zero are checked here, with the message of each case
# (none of the data has weight; a chunk of a stream may have none): scikit-learn
# refuses them itself from 1.8 on, unless asked not to.
_ALL_ZERO_ALLOWED = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def check_two_classes(classes, owner="SoftmaxRegression"):
    """Raise unless the labels hold at least two classes; the message names
    the estimator, ``owner``."""
    if classes.size < 2:
        raise ValueError(
            f"{owner} needs samples of at least 2 classes in the "
            f"data, but the data contains only one class: {classes.tolist()[0]!r}."
        )


def encode_labels(y, classes=None, classes_of="in classes"):
    """The classes, sorted, and the label of each sample as an index into
    them: the classes found in ``y``, at least two; or ``classes`` (a
    stream's, a fitted estimator's), which must hold every label of ``y``;
    the error for a label they do not hold says it is not ``classes_of``."""
    if classes is None:
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        check_two_classes(classes)
        return classes, y_encoded
    try:
        check_classification_targets(y)
        y_encoded = np.searchsorted(classes, y)
        unknown = (y_encoded >= classes.size) | (
            classes[np.minimum(y_encoded, classes.size - 1)] != y
        )
    except TypeError:
        raise ValueError(
            f"y's labels, of dtype {y.dtype}, cannot be compared with the "
            f"classes {classes.tolist()}."
        ) from None
    if np.any(unknown):
        labels = np.unique(y[unknown]).tolist()
        raise ValueError(
            f"y has labels that are not {classes_of}: {labels}; the classes "
            f"are {classes.tolist()}."
        )
    return classes, y_encoded


def class_weights(class_weight, totals, classes):
    """The weight of each class, as ``class_weight`` gives it (a dict or
    'balanced'), for the classes' ``totals`` of sample weight. A dict's
    classes left out weigh 1; its labels that are not classes are left
    aside where it weighs every class, and refused otherwise."""
    if isinstance(class_weight, str):  # 'balanced'
        # The total weight shared equally between the classes present.
        present = totals > 0
        weights = np.ones(classes.size)
        weights[present] = totals.sum() / (present.sum() * totals[present])
        return weights
    # scikit-learn's rule (compute_class_weight): labels that are not
    # classes of y are left aside where every class has its weight, as
    # where a meta-estimator or a fold fits some of the classes; where some
    # class has none, they are taken for a mistake.
    unknown = set(class_weight) - set(classes.tolist())
    unweighted = [label for label in classes.tolist() if label not in class_weight]
    if unknown and unweighted:
        raise ValueError(
            "class_weight has labels that are not classes of y: "
            f"{sorted(unknown, key=repr)}, and gives no weight to the classes "
            f"{unweighted} of y; the classes are {classes.tolist()}."
        )
    try:
        weights = np.array(
            [float(class_weight.get(label, 1.0)) for label in classes.tolist()]
        )
    except (TypeError, ValueError):
        raise ValueError(
            f"class_weight must map classes to numbers; got {class_weight!r}."
        ) from None
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
        raise ValueError(
            "class_weight must give finite, non-negative weights; got "
            f"{class_weight!r}."
        )
    return weights


def check_class_totals(totals, classes, min_classes):
    """Raise unless ``min_classes`` classes have a positive total weight
    (with ``min_classes=0``, data of no weight at all passes)."""
    if min_classes and not totals.sum() > 0:
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive weight."
        )
    if np.count_nonzero(totals) < min_classes:
        remaining = classes.tolist()[np.flatnonzero(totals)[0]]
        raise ValueError(
            "SoftmaxRegression needs samples of at least 2 classes with a "
            "positive sample_weight, but only one class has any: "
            f"{remaining!r}."
        )


def check_sample_weight(sample_weight, X, dtype, allow_all_zero=False):
    """``sample_weight`` as an array of ``X``'s samples in ``dtype``:
    scikit-learn's checks (its shape, values non-negative and, for an
    array, finite), and a finite value and total, which it does not check
    of a scalar nor of the sum."""
    sample_weight = _check_sample_weight(
        sample_weight,
        X,
        dtype=dtype,
        ensure_non_negative=True,
        **(_ALL_ZERO_ALLOWED if allow_all_zero else {}),
    )
    check_finite_weights(sample_weight, "sample_weight")
    return sample_weight


def check_finite_weights(weights, name):
    """Raise unless the ``weights`` and their sum in float64 are finite."""
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"Input {name} contains NaN or infinity.")
    check_finite_total(weights, name)


def check_finite_total(weights, name):
    """Raise unless the sum of the finite ``weights`` (or of their totals
    by class) is finite in float64."""
    with np.errstate(over="ignore"):
        total = weights.sum(dtype=np.float64)
    if not np.isfinite(total):
        raise ValueError(
            f"{name} sums to more than a float64 holds. Divide the weights by "
            "a common factor and multiply C by it: the model stays the same."
        )


def weigh_samples(sample_weight, X, y_encoded, classes, class_weight, min_classes=2):
    """The sample weights times the class weights, checked to leave
    ``min_classes`` classes with weight; None when both are None. ``X``
    gives the number of samples and the dtype of the weights."""
    if sample_weight is None and class_weight is None:
        return None
    sample_weight = check_sample_weight(sample_weight, X, X.dtype, allow_all_zero=True)
    totals = np.bincount(y_encoded, weights=sample_weight, minlength=classes.size)
    if class_weight is not None:
        weights = class_weights(class_weight, totals, classes)
        with np.errstate(over="ignore"):
            sample_weight = sample_weight * weights[y_encoded].astype(X.dtype)
            totals = totals * weights
        check_finite_weights(sample_weight, "sample_weight times class_weight")
    check_class_totals(totals, classes, min_classes)
    return sample_weight


def total_weight(sample_weight, n_samples):
    """``S``: the sum of the weights, in float64, or the number of samples."""
    return n_samples if sample_weight is None else sample_weight.sum(dtype=np.float64)

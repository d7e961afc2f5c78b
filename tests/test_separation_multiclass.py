"""The separation check with more than two classes, where a direction may
separate a sample from one class and not from another, and a class may
have no sample of positive weight."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_softmax import SeparationWarning, SoftmaxRegression, softmax_inference
from sklearn_softmax._separation import separated_samples


def _class_ruled_out(n_samples=600, seed=0):
    """Three classes and a binary feature d: class 2 never occurs where
    d = 1, and the classes are otherwise random."""
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 2, n_samples).astype(float)
    X = np.column_stack([rng.normal(size=n_samples), d])
    y = rng.integers(0, 3, n_samples)
    y[(d == 1) & (y == 2)] = 0
    return X, y


def _margins(X, y, direction):
    """The margins ``x~_i^T (delta_{y_i} - delta_k)`` of every sample against
    every class, along ``direction`` of shape (1 + n_features, K), the
    intercept first."""
    scores = np.column_stack([np.ones(len(y)), X]) @ direction
    return scores[np.arange(len(y)), y][:, np.newaxis] - scores


def test_a_direction_that_rules_out_one_class_separates():
    """Lowering class 2's parameter on d leaves every margin at zero but
    those of the samples at d = 1 against class 2, which it makes positive:
    a quasi-complete separation (Albert and Anderson, 1984) in which no
    sample is predicted perfectly."""
    X, y = _class_ruled_out()
    direction = np.zeros((3, 3))
    direction[2, 2] = -1.0
    margins = _margins(X, y, direction)
    assert margins.min() == 0.0
    assert_array_equal(np.flatnonzero(margins.max(axis=1) > 0), np.flatnonzero(X[:, 1]))

    check = separated_samples(X, y, 3, True, np.ones(len(y)))
    assert check.separated is True and check.failure is None
    assert_array_equal(check.ruled_out, np.flatnonzero(X[:, 1] == 1))
    assert check.predicted.size == 0


@pytest.mark.parametrize("tol", [1e-8, 1e-10])
def test_quasi_separation_of_three_classes_is_warned_about(tol):
    """Unpenalised, the parameter on d of class 2 has no finite optimum: it
    keeps falling as the tolerance tightens. The check says so, also at
    ``tol=1e-8``, where the probabilities of class 2 at d = 1 are near 1e-8
    and one linearised Newton step cancels them to within its own
    accuracy."""
    X, y = _class_ruled_out()
    clf = SoftmaxRegression(C=np.inf, tol=tol).fit(X, y)
    tighter = SoftmaxRegression(C=np.inf, tol=tol * 1e-3).fit(X, y)
    # Independent of the check: the estimate diverges (each factor 1e-3 of
    # the tolerance lowers it by about log(1e3) = 6.9).
    assert tighter.coef_[2, 1] < clf.coef_[2, 1] - 3.0
    with pytest.warns(SeparationWarning, match=r"separated.* 0 are predicted") as w:
        result = softmax_inference(clf, X, y)
    assert len(w) == 1
    assert f"{np.count_nonzero(X[:, 1])} of the samples" in str(w[0].message)
    assert "meaningless" in str(w[0].message)
    assert result.separation == "separated"


def test_quasi_separation_of_three_classes_under_a_penalty():
    X, y = _class_ruled_out()
    clf = SoftmaxRegression(C=1.0, tol=1e-10).fit(X, y)
    with pytest.warns(SeparationWarning, match="rest on the penalty"):
        result = softmax_inference(clf, X, y)
    assert result.separation == "separated"


def _absent_class(n_samples=300, seed=0):
    """Three random classes on normal features, class 0 given weight zero."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2))
    y = rng.integers(0, 3, n_samples)
    return X, y, np.where(y == 0, 0.0, 1.0)


@pytest.mark.parametrize("C", [np.inf, 1.0], ids=["no-penalty", "l2"])
def test_a_class_of_no_weight_is_separated_with_an_intercept(C):
    """With an intercept, lowering class 0's intercept gives every sample of
    positive weight a positive margin against it, and the L2 penalty does
    not reach the intercepts: class 0's intercept falls for ever, penalty
    or not."""
    X, y, weights = _absent_class()
    clf = SoftmaxRegression(C=C, tol=1e-8).fit(X, y, weights)
    tighter = SoftmaxRegression(C=C, tol=1e-11).fit(X, y, weights)
    assert tighter.intercept_[0] < clf.intercept_[0] - 3.0
    direction = np.zeros((3, 3))
    direction[0, 0] = -1.0
    margins = _margins(X, y, direction)[weights > 0]
    assert margins.min() == 0.0 and np.all(margins.max(axis=1) > 0)

    expected = "does not reach the intercepts" if np.isfinite(C) else "meaningless"
    with pytest.warns(SeparationWarning, match=expected) as w:
        result = softmax_inference(clf, X, y, weights)
    assert "No sample of positive weight has the classes [0]." in str(w[0].message)
    assert result.separation == "separated"


def test_a_class_of_no_weight_without_an_intercept_is_left_to_the_program():
    """Without an intercept, a class of no weight is separated only where a
    direction of the weights lowers its score at every sample; on features
    centred on zero none does, and class 1 and 2 overlap: the estimate is
    finite and no warning is issued."""
    X, y, weights = _absent_class()
    clf = SoftmaxRegression(C=np.inf, tol=1e-10, fit_intercept=False)
    clf.fit(X, y, weights)
    assert not separated_samples(X, y, 3, False, weights).separated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = softmax_inference(clf, X, y, weights)
    assert result.separation == "not separated"


def test_two_classes_rule_out_and_predict_the_same_samples():
    """With two classes each sample has one margin: the samples separated
    from the other class are those predicted perfectly."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int)
    X[:10, 0] = 0.0
    check = separated_samples(X, y, 2, True, np.ones(len(y)))
    assert check.separated is True
    assert_array_equal(check.ruled_out, check.predicted)
    assert_array_equal(check.predicted, np.arange(10, 200))

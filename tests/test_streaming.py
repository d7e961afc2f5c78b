"""partial_fit's stream: what it carries between calls, and chunks that
hold little or nothing to learn from."""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_softmax import SoftmaxRegression
from sklearn_softmax._loss import MultinomialLoss
from sklearn_softmax._solvers import StochasticState
from sklearn_softmax._streaming import Record


@pytest.fixture(scope="module")
def chunks():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = np.random.default_rng(0).permutation(len(y))
    return [(X[rows], y[rows]) for rows in np.array_split(order, 6)]


def _stream(model, chunks, classes=(0, 1, 2)):
    for X, y in chunks:
        model.partial_fit(X, y, classes=classes)
    return model


def test_record_copies_are_independent():
    record = Record()
    for value in range(20):
        record.append(value)
    copied = copy.deepcopy(record)
    record.append(100.0)
    copied.append(-1.0)
    copied.append(-2.0)
    assert_array_equal(record.values(), [*range(20), 100.0])
    assert_array_equal(copied.values(), [*range(20), -1.0, -2.0])
    unpickled = pickle.loads(pickle.dumps(copied))
    unpickled.append(5.0)
    assert_array_equal(unpickled.values(), [*range(20), -1.0, -2.0, 5.0])
    assert_array_equal(copied.values(), [*range(20), -1.0, -2.0])
    # A view once handed out is never written again.
    view = record.values()
    assert not view.flags.writeable
    record.append(7.0)
    assert_array_equal(view, [*range(20), 100.0])


def test_copies_of_a_stream_go_on_independently(chunks):
    """A copy (deepcopy, pickle) of an estimator mid-stream and the original
    each go on as a stream that was never copied."""
    first, rest = chunks[:3], chunks[3:]
    model = _stream(SoftmaxRegression(random_state=0), first)
    copied = copy.deepcopy(model)
    unpickled = pickle.loads(pickle.dumps(model))
    _stream(model, rest)
    _stream(copied, rest[::-1])
    _stream(unpickled, rest[:1])
    for continued, tail in ((model, rest), (copied, rest[::-1]), (unpickled, rest[:1])):
        reference = _stream(SoftmaxRegression(random_state=0), first + tail)
        assert_array_equal(continued.coef_, reference.coef_)
        assert_array_equal(continued.loss_curve_, reference.loss_curve_)
        assert_array_equal(continued.grad_norm_curve_, reference.grad_norm_curve_)


@pytest.mark.parametrize("average", [False, True])
def test_a_chunk_of_no_weight_keeps_the_model(chunks, average):
    """With or without the average of the iterates, a chunk whose weights
    sum to zero leaves the model as it was."""
    model = _stream(SoftmaxRegression(average=average, random_state=0), chunks[:2])
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    X, y = chunks[2]
    model.partial_fit(X, y, sample_weight=np.zeros(len(y)))
    assert_array_equal(model.coef_, coef)
    assert_array_equal(model.intercept_, intercept)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("first", [False, True])
def test_a_chunk_of_zeros_without_intercept_leaves_the_stream_finite(
    chunks, sparse, first
):
    """Without an intercept, a chunk of zeros has no second moment, and its
    power iteration no direction to start from: the stream goes on, and a
    chunk of zeros (where the data term is constant) leaves the weights to
    the penalty, whose steps (without momentum) shrink them."""
    X, y = chunks[0]
    zeros = np.zeros_like(X)
    zeros = sp.csr_matrix(zeros) if sparse else zeros
    model = SoftmaxRegression(fit_intercept=False, momentum=0.0, random_state=0)
    stream = [(zeros, y), *chunks[1:3]] if first else [*chunks[:2], (zeros, y)]
    _stream(model, stream)
    assert np.all(np.isfinite(model.coef_))
    assert np.all(np.isfinite(model.loss_curve_))
    if not first:
        before = _stream(
            SoftmaxRegression(fit_intercept=False, momentum=0.0, random_state=0),
            chunks[:2],
        )
        assert np.linalg.norm(model.coef_) < np.linalg.norm(before.coef_)
    _stream(model, chunks[3:])
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_curvature_bound_where_the_power_iteration_cannot_start(fit_intercept):
    """Rows that sum to zero without an intercept: the second moment takes
    the ones, the power iteration's start, to zero. The bound is still at
    least half its largest eigenvalue (the Hessian bound; the trace stands
    in for the estimate)."""
    X = np.array([[1.0, -1.0], [2.0, -2.0], [0.5, -0.5]])
    sample_weight = np.array([1.0, 2.0, 3.0])
    design = np.column_stack([X, np.ones(3)]) if fit_intercept else X
    moment = design.T @ (design * (sample_weight / sample_weight.sum())[:, None])
    largest = np.linalg.eigvalsh(moment)[-1]
    bound = MultinomialLoss(3, fit_intercept).curvature_bound(X, sample_weight)
    # At least the Hessian bound, and at most the trace raised by 5%.
    assert 0.5 * largest <= bound <= 0.5 * 1.05 * np.trace(moment) * (1 + 1e-12)


@pytest.mark.parametrize(
    "name, value",
    [
        ("learning_rate_init", -1.0),
        ("momentum", 1.5),
        ("batch_size", 0),
        ("learning_rate", "bogus"),
        ("class_weight", "foo"),
        ("C", -1.0),
    ],
)
def test_parameters_set_between_calls_are_validated(chunks, name, value):
    """A parameter changed between calls is validated as on the first call,
    and the refused call leaves the model as it was."""
    model = _stream(SoftmaxRegression(random_state=0), chunks[:2])
    coef = model.coef_.copy()
    model.set_params(**{name: value})
    X, y = chunks[2]
    with pytest.raises(ValueError, match=f"The '{name}' parameter"):
        model.partial_fit(X, y)
    assert_array_equal(model.coef_, coef)
    assert len(model.loss_curve_) == 2


def test_a_failed_first_call_leaves_the_generator_as_it_was(chunks):
    """The stream shuffles with its own copy of a RandomState passed as
    random_state: a first call that fails (and is rolled back) and the
    calls that follow leave the generator where it was, and the stream goes
    on as if the failed call had not been made."""

    def stream(fail_first):
        generator = np.random.RandomState(0)
        model = SoftmaxRegression(random_state=generator, batch_size=20)
        if fail_first:
            X, y = chunks[0]
            model.set_params(learning_rate_init=1e300)
            with pytest.raises(ValueError, match="left the finite numbers"):
                model.partial_fit(X * 1e5, y, classes=[0, 1, 2])
            model.set_params(learning_rate_init=None)
        state = generator.get_state()[1].copy()
        _stream(model, chunks)
        assert_array_equal(generator.get_state()[1], state)
        return model.coef_

    assert_array_equal(stream(True), stream(False))


@pytest.mark.parametrize("side", ["held out", "trained on"])
def test_early_stopping_refuses_a_split_without_weight(chunks, side):
    """Where every positive weight falls on one side of early stopping's
    split, a clear ValueError says so (the split is the one the fit makes:
    stratified, 18 of the 178 samples held out, from random_state)."""
    X = np.vstack([X for X, _ in chunks])
    y = np.concatenate([y for _, y in chunks])
    train, held_out = train_test_split(
        np.arange(len(y)), test_size=18, stratify=y, random_state=0
    )
    weights = np.zeros(len(y))
    weights[train if side == "held out" else held_out] = 1.0
    model = SoftmaxRegression(
        solver="sgd", early_stopping=True, validation_fraction=0.1, random_state=0
    )
    with pytest.raises(ValueError, match=f"samples {side} with no sample weight"):
        model.fit(X, y, sample_weight=weights)


def test_a_first_chunk_of_no_weight_has_no_gradient(chunks):
    """A stream whose first chunk has no weight has taken no step and
    evaluated no gradient: grad_norm_ is NaN, not a 0 that reads as
    converged; the next chunk with weight sets it."""
    X, y = chunks[0]
    model = SoftmaxRegression(random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2], sample_weight=np.zeros(len(y)))
    assert np.isnan(model.grad_norm_)
    assert len(model.loss_curve_) == 0
    model.partial_fit(*chunks[1])
    assert np.isfinite(model.grad_norm_) and model.grad_norm_ > 0
    # After a fit, whose gradient was on other data, the call starts a
    # stream: it has no gradient either.
    model.fit(X, y)
    model.partial_fit(X, y, sample_weight=np.zeros(len(y)))
    assert np.isnan(model.grad_norm_)
    # Later chunks of no weight keep the stream's last gradient.
    model.partial_fit(X, y)
    last = model.grad_norm_
    model.partial_fit(X, y, sample_weight=np.zeros(len(y)))
    assert model.grad_norm_ == last == model.grad_norm_curve_[-1]


def test_a_chunk_of_no_weight_is_refused_the_settings_others_are(chunks):
    """Settings the solver cannot run are refused on a chunk of no weight
    too, which takes no step: the first call leaves no model behind."""
    X, y = chunks[0]
    model = SoftmaxRegression(solver="adam", l1_ratio=1.0)
    for weights in (None, np.zeros(len(y))):
        with pytest.raises(ValueError, match="solver='adam' cannot handle"):
            model.partial_fit(X, y, classes=[0, 1, 2], sample_weight=weights)
        assert not hasattr(model, "coef_")


@pytest.mark.parametrize(
    "classes, message",
    [
        ([0, "a", 1, 2], "classes mixes strings and other labels"),
        ([0, 1, 2, None], "classes must be labels that can be sorted"),
        (np.array([0, 1, None], dtype=object), "classes must be labels that can be"),
    ],
)
def test_classes_of_mixed_kinds_are_refused(chunks, classes, message):
    X, y = chunks[0]
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression().partial_fit(X, y, classes=classes)


def test_early_stopping_trains_on_a_class_of_one_sample():
    """A class of one sample stays on the training side of early stopping's
    split, whatever the seed (held out, the fit would never see it); the
    other classes are split stratified, each on both sides."""
    from sklearn_softmax._backends import NumpyBackend

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = np.r_[np.zeros(60, int), np.ones(39, int), 2]
    backend = NumpyBackend()
    model = SoftmaxRegression(solver="sgd", early_stopping=True)
    data = backend.prepare(model, X, y, None)
    for seed in range(20):
        kept, _ = backend.hold_out(data, 0.1, True, np.random.RandomState(seed))
        trained = kept.y[kept.rows]
        assert len(trained) == 100 - 10
        assert np.array_equal(np.unique(trained), [0, 1, 2])
        assert np.count_nonzero(trained == 2) == 1
        # Stratified: 10 held out of 99 shared samples, 6 and 4 by class.
        assert np.count_nonzero(trained == 0) == 54
        # The others weigh nothing, and X is not copied.
        assert_array_equal(np.flatnonzero(kept.sample_weight), np.sort(kept.rows))
        assert kept.X is data.X


@pytest.mark.parametrize(
    "y, validation_fraction, message",
    [
        (np.arange(100) % 2, 0.99, "holds out 99 of the 100 samples"),
        # Stratified rounding holds out both samples of classes 0 and 1.
        (np.r_[0, 0, 1, 1, np.full(40, 2)], 0.9, r"every sample of the classes "),
        (np.arange(10), 0.1, "every one of the 10 classes has one sample"),
    ],
)
def test_early_stopping_refuses_a_split_that_leaves_a_class_untrained(
    y, validation_fraction, message
):
    X = np.random.default_rng(0).standard_normal((len(y), 2))
    model = SoftmaxRegression(
        solver="sgd", early_stopping=True, validation_fraction=validation_fraction
    )
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_a_run_whose_objective_rose_has_not_converged():
    """Adam's default step on 20 samples of 5000 features: its objective
    falls from log 3 to 0.04 in the first epoch, then rises for the rest of
    the run, until the no-improvement rule stops it near 0.4. That run
    stalled on its steps, not at the optimum (near 0.005): it is reported
    as not converged, with a warning that says so."""
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_classification(20, 5000, n_informative=10, n_classes=3, random_state=0)
    model = SoftmaxRegression(solver="adam", tol=1e-8, random_state=0)
    with pytest.warns(ConvergenceWarning, match="the mean of its best epoch"):
        model.fit(X, y)
    assert not model.converged_
    # The rule's own quantity: the objective at the returned model (the
    # formula, with the default C=1) against the best epoch's mean.
    best = model.loss_curve_.min()
    W = np.vstack([model.coef_.T, model.intercept_])
    scores = np.hstack([X, np.ones((len(y), 1))]) @ W
    log_proba = scores - logsumexp(scores, axis=1, keepdims=True)
    value = -log_proba[np.arange(len(y)), y].mean() + np.sum(model.coef_**2) / (
        2 * len(y)
    )
    assert value - best > 0.1 * (np.log(3) - best)


def test_streams_without_a_random_state_differ(chunks):
    """With random_state=None, each new stream seeds its own generator from
    NumPy's global one: two streams started one after the other shuffle
    differently, as two fits do."""
    first = _stream(SoftmaxRegression(batch_size=20), chunks[:2])
    second = _stream(SoftmaxRegression(batch_size=20), chunks[:2])
    assert not np.array_equal(first.coef_, second.coef_)


def test_the_attributes_keep_the_dtype_of_the_streams_first_chunk(chunks):
    (X, y), *_ = chunks
    classes = np.unique(y)
    streams = {}
    for first in (np.float32, np.float64):
        model = SoftmaxRegression(random_state=0)
        model.partial_fit(X.astype(first), y, classes=classes)
        for dtype in (np.float64, np.float32, np.float64):
            model.partial_fit(X.astype(dtype), y)
            assert model.coef_.dtype == model.intercept_.dtype == first
        streams[first] = model
    # The stream itself runs in float64 whatever its chunks' dtype: the two
    # agree within float32's rounding of the first chunk's data.
    assert_allclose(
        streams[np.float32].coef_,
        streams[np.float64].coef_.astype(np.float32),
        rtol=1e-4,
    )


def test_a_stream_pickled_with_a_velocity_goes_on_without_momentum(chunks):
    """A solver state pickled when 'sgd' kept a velocity (no ``anchor``)
    goes on from its iterate, without momentum, as after a restart."""
    X, y = chunks[0]
    model = SoftmaxRegression(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    state = model._partial_fit_state.state
    old = dict(vars(state))
    del old["anchor"], old["looks_ahead"]
    restored = StochasticState.__new__(StochasticState)
    restored.__setstate__(old)
    assert_array_equal(restored.anchor, state.x)
    assert restored.solution(False) is restored.x
    model._partial_fit_state.state = restored
    model.partial_fit(*chunks[1])
    assert np.all(np.isfinite(model.coef_))

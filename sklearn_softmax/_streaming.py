"""What ``partial_fit`` carries from one call to the next, and how a
stream starts: the classes it holds and the generator that shuffles it.

A call works on a copy of the stream, which it keeps where it succeeds and
drops where it fails; the records of the calls' objectives grow by one
number a call, and copying them is what a long stream would pay on every
call. A :class:`Record` is copied in constant time: copies share their
numbers until one of them appends where another has already appended.
"""

import copy

import numpy as np
from sklearn.utils import check_random_state

_FIRST_CAPACITY = 16


class _Storage:
    """An array of numbers, of which the first ``filled`` are written."""

    def __init__(self, capacity):
        self.array = np.empty(capacity, dtype=np.float64)
        self.filled = 0


class Record:
    """Numbers appended one at a time, read as a float64 array.

    Copies (``copy.deepcopy``) share the storage of the numbers and each
    keeps its own length. A copy appends in place while the storage holds
    nothing beyond its length; otherwise, and when the storage is full, it
    moves its numbers to a storage of its own, twice their count. Appending
    thus costs constant time on average, and a number once read is never
    written again: :meth:`values` returns a read-only view.
    """

    def __init__(self):
        self._storage = _Storage(_FIRST_CAPACITY)
        self._length = 0

    def __len__(self):
        return self._length

    def append(self, value):
        storage, length = self._storage, self._length
        if storage.filled != length or length == storage.array.size:
            moved = _Storage(max(_FIRST_CAPACITY, 2 * length))
            moved.array[:length] = storage.array[:length]
            self._storage = storage = moved
        storage.array[length] = value
        self._length = storage.filled = length + 1

    def values(self):
        """The numbers appended so far, as a read-only array."""
        view = self._storage.array[: self._length]
        view.flags.writeable = False
        return view

    def __deepcopy__(self, memo):
        copied = Record.__new__(Record)
        copied._storage, copied._length = self._storage, self._length
        return copied

    def __getstate__(self):
        # The numbers' bytes: a pickle that holds no array of its own.
        return {"values": self.values().tobytes()}

    def __setstate__(self, state):
        values = np.frombuffer(state["values"], dtype=np.float64)
        self._storage = _Storage(max(_FIRST_CAPACITY, 2 * values.size))
        self._storage.array[: values.size] = values
        self._length = self._storage.filled = values.size


class StreamState:
    """The stream that ``partial_fit``'s first call starts: the state of the
    stochastic iteration, the running curvature bound of the chunks seen,
    the random state that shuffles them (a copy of the estimator's, taken
    on the first call), the objective and the largest gradient entry of each
    call, the settings the stream was started with and its dtype, the calls and
    samples that ``verbose`` reports, and the warnings it has given."""

    def __init__(
        self, state, curvature, random_state, solver, fit_intercept, average, dtype
    ):
        self.state = state
        self.curvature = curvature
        self.random_state = random_state
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.average = average
        # The dtype of the first chunk, that of the fitted attributes, by
        # name (what a stream holds is plain data, for skops).
        self.dtype = np.dtype(dtype).name
        self.history = Record()
        self.grad_norms = Record()
        self.n_calls = 0
        self.n_samples_seen = 0
        self.header_printed = False
        # The messages of the warnings the stream has given: each is given
        # once.
        self.warned = ()

    def check_settings(self, solver, fit_intercept, average):
        """Refuse to go on where a changed parameter no longer fits the
        stream's layout or iteration."""
        changed = [
            f"{name} from {before!r} to {now!r}"
            for name, before, now in (
                ("solver", self.solver, solver),
                ("fit_intercept", self.fit_intercept, fit_intercept),
                ("average", self.average, average),
            )
            if before != now
        ]
        if changed:
            raise ValueError(
                "partial_fit goes on with the stream its first call started, "
                f"but {' and '.join(changed)} changed since: the coefficients' "
                "layout, the solver's state or its average of the iterates no "
                "longer fit. Call fit, or start a new stream from "
                "sklearn.base.clone(estimator)."
            )

    def solution(self):
        """The model the stream stands at: the average of the solutions
        with ``average``, the last otherwise (see
        :meth:`StochasticState.solution`)."""
        return self.state.solution(self.average)


def stream_classes(classes, fitted):
    """The classes of a stream: ``classes`` on its first call, checked and
    sorted; afterwards ``fitted``, the classes of the model so far, which
    ``classes``, where given, must equal."""
    if fitted is not None:
        if classes is not None and not np.array_equal(np.unique(classes), fitted):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the "
                f"classes of the previous calls, {fitted.tolist()}."
            )
        return fitted
    if isinstance(classes, list | tuple) and (
        len({isinstance(label, str | bytes) for label in classes}) > 1
    ):
        raise ValueError(
            "classes mixes strings and other labels; got "
            f"{list(classes)!r}. Pass labels of one kind, as y holds them."
        )
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError(
            "classes must be a 1-D array of the stream's labels; got an "
            f"array of shape {classes.shape}."
        )
    if classes.dtype.kind in "fc" and not np.all(np.isfinite(classes)):
        raise ValueError(
            f"classes must be labels, not NaN or infinity; got {classes.tolist()}."
        )
    try:
        classes = np.unique(classes)
    except TypeError:
        raise ValueError(
            "classes must be labels that can be sorted, all numbers or all "
            f"strings; got {classes.tolist()!r}."
        ) from None
    if classes.size < 2:
        raise ValueError(
            f"classes must hold at least 2 classes; got {classes.tolist()}."
        )
    return classes


def stream_generator(random_state):
    """The generator a new stream shuffles with: a copy of a
    ``RandomState`` passed as ``random_state`` (a first call that fails
    leaves it as it was, as it leaves the model), one seeded by the integer
    given, or, for None, one seeded by a draw from NumPy's global
    generator, so that streams started one after the other differ, as fits
    do."""
    if random_state is None:
        seed = check_random_state(None).randint(np.iinfo(np.int32).max)
        return np.random.RandomState(seed)
    return copy.deepcopy(check_random_state(random_state))

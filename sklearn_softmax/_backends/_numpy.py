"""NumPy arrays and SciPy sparse matrices in memory."""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import validate_data

from .._array_api import to_numpy
from .._blocks import aligned
from .._heuristics import choose_hessian_dtype, choose_n_threads, choose_row_space
from .._idle_columns import columns_to_leave_out, solve_without_columns
from .._offsets import offsets_to_remove, solve_centred
from .._row_space import RowSpace, solve_in_row_space
from .._solvers import STOCHASTIC_SOLVERS
from .._targets import encode_labels, total_weight, weigh_samples
from .._threads import blas_thread_limit
from .._two_classes import solved_in_difference
from ._common import (
    FitData,
    check_magnitude,
    minimizer,
    resolve_solver,
    unread_in_memory,
)


def _canonical(X):
    """``X`` in the one layout its values have: the fit's arithmetic, and so
    its model to the last bit, depends on the values alone. Dense data is
    C-ordered (by validation, as LogisticRegression asks) and aligned (BLAS
    takes another route for unaligned data); a CSR matrix has sorted
    indices, no duplicate entries and no stored zeros (the runs of rows of
    the passes are cut by stored values). Either is copied when it is not
    so, leaving the caller's array as it was."""
    if sp.issparse(X) and not (X.has_canonical_format and X.data.all()):
        X = X.copy()
        X.sum_duplicates()
        X.eliminate_zeros()
    return aligned(X)


class NumpyBackend:
    """Fits data in memory, on the package's own threads (see ``_passes``)."""

    def check(self, estimator, penalty):
        """Every setting can be fitted."""

    def prepare(self, estimator, X, y, sample_weight, classes=None, min_classes=2):
        """Validate ``X``, ``y`` and the weights, and encode the labels:
        against ``classes`` when given (a stream's, which ``y`` need not
        all show), else against the classes found in ``y``. The first fit
        (no ``classes``, or an unfitted estimator) records the features."""
        X, y = validate_data(
            estimator,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=True,
            reset=classes is None or not hasattr(estimator, "classes_"),
        )
        X = _canonical(X)
        # Labels of another namespace (with scikit-learn's dispatch on,
        # validation leaves them there) follow X to the host.
        y = to_numpy(y)
        values = X.data if sp.issparse(X) else X
        if values.size:
            largest = max(values.max(), -values.min())
            check_magnitude(float(largest), X.shape[0])
        classes, y_encoded = encode_labels(y, classes)
        sample_weight = weigh_samples(
            sample_weight, X, y_encoded, classes, estimator.class_weight, min_classes
        )
        return FitData(
            X,
            y_encoded,
            sample_weight,
            classes,
            total_weight(sample_weight, X.shape[0]),
            X.dtype,
        )

    def solver(self, solver, spec, data, penalty_spelling):
        # Exact steps for two classes run in the difference of their
        # parameters (see minimize).
        return resolve_solver(
            solver, spec, data.X, penalty_spelling, two_classes_as_one=True
        )

    def unread_settings(self, solver, X):
        """The settings that a fit of ``X`` running ``solver`` does not
        read, each with why."""
        unread = unread_in_memory(X.dtype)
        if solver in STOCHASTIC_SOLVERS:
            unread["n_threads"] = (
                "it sets the threads of the full-batch solvers' passes over "
                f"the data, and {solver!r} runs on one thread"
            )
        return unread

    def minimize(self, data, spec, solver, coef0, settings):
        """Run a deterministic solver on all of ``X``, in its row space, or
        without its idle columns (see ``_idle_columns``).

        The passes share their blocks between their own threads, each
        calling BLAS, held to one thread by the caller, on one block at a
        time: the BLAS limit found when the fit started caps their number.
        """
        X, n_classes = data.X, spec.n_classes
        available = blas_thread_limit()
        loss = spec.loss()

        copied = solver == "newton-cholesky" and X.dtype == np.float32
        if copied:
            # Exact steps need the gradient to float64's precision where the
            # Hessian's least curvature is below float32's rounding of it:
            # the passes run on a float64 copy of X ('auto' does not take
            # exact steps on float32 data).
            X = X.astype(np.float64)

        two_classes_as_one = (
            n_classes == 2 and solver == "newton-cholesky" and spec.norm is None
        )

        def bind(rows):
            n_threads = settings.n_threads or choose_n_threads(
                rows, n_classes, available
            )
            return loss.bind(
                rows,
                data.y,
                data.sample_weight,
                spec.l2_reg_strength,
                n_threads=n_threads,
                hessian_dtype=choose_hessian_dtype(
                    rows, n_classes, solver, settings.precision
                ),
                two_classes_as_one=two_classes_as_one,
            )

        solve = minimizer(solver, spec.norm)
        kwargs = settings.solver_kwargs()

        # The L1 and group norms are not kept by the row space's rotation.
        # With max_iter=0 the model is the starting point itself, which the
        # projection onto the row space could move.
        in_row_space = (
            spec.norm is None
            and settings.max_iter > 0
            and choose_row_space(X, n_classes)
        )

        def run_on(X, start):
            if in_row_space:
                row_space = RowSpace.of(X)
                if row_space is not None:
                    return solve_in_row_space(solve, row_space, bind, start, **kwargs)
            if spec.norm is None and settings.max_iter > 0 and not sp.issparse(X):
                penalised = spec.l2_reg_strength > 0
                idle = columns_to_leave_out(X, spec.fit_intercept, penalised)
                if idle is not None:
                    return solve_without_columns(
                        solve, idle, bind, X, start, penalised, **kwargs
                    )
            return solve(bind(X), start.ravel(), **kwargs)

        # Dense columns far from zero beside their spread are centred, the
        # intercepts moved to match (see _offsets); not for the row space,
        # whose rows, all centred, would no longer be independent, nor with
        # max_iter=0, whose model is the start.
        means = None
        if not (sp.issparse(X) or in_row_space or settings.max_iter == 0):
            means = offsets_to_remove(X, spec.fit_intercept)

        def run(start):
            if means is not None:
                return solve_centred(run_on, means, X, start, copy=not copied)
            return run_on(X, start)

        # Exact Newton steps for two classes factor the Hessian of the
        # difference of their parameters: the whole solve, in the row space
        # or without the idle columns too, runs on that difference.
        try:
            if two_classes_as_one:
                return solved_in_difference(run, coef0)
            return run(coef0)
        except MemoryError as error:
            if solver != "newton-cholesky":
                raise
            n_parameters = spec.shape[0] * (1 if two_classes_as_one else n_classes)
            raise MemoryError(
                f"solver='newton-cholesky' forms the Hessian of the model's "
                f"{n_parameters} parameters, {8 * n_parameters**2 / 2**30:.3g} GiB "
                "of float64 beside the matrices of the pairs of classes it is "
                "summed from, and this machine could not hold them. Use "
                "solver='newton-cg', or 'auto', which takes exact steps on "
                "small models only."
            ) from error

    def bind_rows(self, data, spec):
        """The objective estimated from subsets of rows, for the stochastic
        solvers."""
        return spec.loss().bind_rows(
            data.X, data.y, data.sample_weight, spec.l2_reg_strength, rows=data.rows
        )

    def hold_out(self, data, validation_fraction, fit_intercept, random_state):
        """Split off ``validation_fraction`` of the samples, stratified:
        ``data`` with the samples held out of weight zero and the others as
        its ``rows``, and a function scoring coefficients on the split. The
        training samples are not copied; the held-out ones are."""
        X, y_encoded, sample_weight = data.X, data.y, data.sample_weight
        n_samples = X.shape[0]
        counts = np.bincount(y_encoded)
        # A class of one sample trains: held out, the fit would not know it.
        # The others are split stratified, each on both sides.
        alone = counts[y_encoded] == 1
        shared = np.flatnonzero(~alone)
        n_shared_classes = np.count_nonzero(counts >= 2)
        n_held_out = max(math.ceil(validation_fraction * n_samples), n_shared_classes)
        if n_shared_classes == 0:
            raise ValueError(
                "early_stopping needs a class of two or more samples to hold "
                f"some out; every one of the {counts.size} classes has one "
                "sample, which training needs. Set early_stopping=False."
            )
        if shared.size - n_held_out < n_shared_classes:
            raise ValueError(
                f"early_stopping with validation_fraction={validation_fraction:g} "
                f"holds out {n_held_out} of the {n_samples} samples, which leaves "
                f"{n_samples - n_held_out} to train on; at least one sample of "
                f"each of the {n_shared_classes} classes with two or more must "
                "stay on each side (a class of one sample stays in training). "
                "Lower validation_fraction, or set early_stopping=False."
            )
        train, held_out = train_test_split(
            shared,
            test_size=n_held_out,
            stratify=y_encoded[shared],
            random_state=random_state,
        )
        # Stratified rounding may still hold out every sample of a small
        # class where most samples are held out.
        untrained = np.flatnonzero(
            (counts >= 2) & (np.bincount(y_encoded[train], minlength=counts.size) == 0)
        )
        if untrained.size:
            raise ValueError(
                f"early_stopping with validation_fraction={validation_fraction:g} "
                f"holds out every sample of the classes at {untrained.tolist()} "
                "(in the order of classes_), which the fit would then not learn. "
                "Lower validation_fraction, or set early_stopping=False."
            )
        if alone.any():
            train = np.concatenate([train, np.flatnonzero(alone)])
        X_held_out, y_held_out = X[held_out], y_encoded[held_out]
        weights = None if sample_weight is None else sample_weight[held_out]
        weights_train = None if sample_weight is None else sample_weight[train]
        for part, name in ((weights_train, "trained on"), (weights, "held out")):
            if part is not None and not np.sum(part) > 0:
                raise ValueError(
                    f"early_stopping's split (validation_fraction="
                    f"{validation_fraction:g}) left the samples {name} with "
                    "no sample weight: every positive weight fell on the "
                    "other side. Give weight to more samples, change "
                    "validation_fraction, or set early_stopping=False."
                )
        n_features = X.shape[1]

        def validation_score(x):
            coef = x.reshape(n_features + int(fit_intercept), -1)
            # In X's dtype: float64 weights would have NumPy convert float32
            # samples to float64 for the product.
            scores = np.asarray(X_held_out @ coef[:n_features].astype(X.dtype))
            if fit_intercept:
                scores = scores + coef[n_features]
            correct = np.argmax(scores, axis=1) == y_held_out
            return float(np.average(correct, weights=weights))

        # The fit reads X where it lies: the held-out samples weigh nothing,
        # and the minibatches are drawn from the others, in the split's
        # order.
        weights_kept = np.zeros(
            n_samples,
            dtype=X.dtype if sample_weight is None else sample_weight.dtype,
        )
        weights_kept[train] = 1.0 if sample_weight is None else weights_train
        total = len(train) if sample_weight is None else weights_train.sum()
        kept = data._replace(sample_weight=weights_kept, total_weight=total, rows=train)
        return kept, validation_score

    def place(self, estimator, data):
        """The attributes stay NumPy arrays."""

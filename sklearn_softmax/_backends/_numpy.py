"""NumPy arrays and SciPy sparse matrices in memory."""

import numpy as np
from sklearn.utils.validation import validate_data

from .._heuristics import choose_hessian_dtype, choose_n_threads, choose_row_space
from .._row_space import RowSpace, solve_in_row_space
from .._targets import encode_labels, total_weight, weigh_samples
from .._threads import blas_thread_limit
from ._common import FitData, minimizer, resolve_solver


class NumpyBackend:
    """Fits data in memory, on the package's own threads (see ``_passes``)."""

    def check(self, estimator):
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
            accept_large_sparse=True,
            reset=classes is None or not hasattr(estimator, "classes_"),
        )
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

    def solver(self, solver, spec, data, penalty_name):
        return resolve_solver(solver, spec, data.X, penalty_name)

    def minimize(self, data, spec, solver, coef0, settings):
        """Run a deterministic solver on all of ``X``, or in its row space.

        The passes share their blocks between their own threads, each
        calling BLAS, held to one thread by the caller, on one block at a
        time: the BLAS limit found when the fit started caps their number.
        """
        X, n_classes = data.X, spec.n_classes
        available = blas_thread_limit()
        loss = spec.loss()

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
            )

        solve = minimizer(solver, spec.norm)
        # The L1 and group norms are not kept by the row space's rotation.
        if spec.norm is None and choose_row_space(X, n_classes):
            row_space = RowSpace.of(X)
            if row_space is not None:
                return solve_in_row_space(
                    solve, row_space, bind, coef0, **settings.solver_kwargs()
                )
        return solve(bind(X), coef0.ravel(), **settings.solver_kwargs())

    def bind_rows(self, data, spec):
        """The objective estimated from subsets of rows, for the stochastic
        solvers."""
        return spec.loss().bind_rows(
            data.X, data.y, data.sample_weight, spec.l2_reg_strength
        )

    def place(self, estimator, data):
        """The attributes stay NumPy arrays."""

"""Dask arrays and DataFrames, fitted blockwise where Dask holds them.

The blocks of rows are persisted once, where the scheduler puts them (on
the workers of a distributed cluster), and checked there; each evaluation of
the objective then moves only the parameters and the blocks' partial sums
(see ``_loss_dask``). With Dask's setting ``sklearn_softmax.persist`` off,
the blocks are not persisted: each evaluation reads them from their source
again, for data larger than the cluster's memory."""

import numpy as np
from sklearn.utils.validation import _check_feature_names, _check_n_features

from .._dask import (
    RowBlocks,
    encode_row_blocks,
    fit_inputs,
    is_frame,
    persist_setting,
    row_blocks,
    summarise,
)
from .._heuristics import choose_dask_lbfgs, choose_hessian_dtype
from .._loss import rounding_of
from .._solvers import STOCHASTIC_SOLVERS
from .._targets import (
    check_class_totals,
    check_finite_total,
    class_weights,
    encode_labels,
)
from ._common import (
    FitData,
    check_magnitude,
    minimizer,
    resolve_solver,
    unread_in_memory,
)


class DaskBackend:
    """Fits dask collections with the full-batch solvers."""

    def check(self, estimator, penalty):
        """Refuse the settings this backend cannot fit, before any data is
        read."""
        if estimator.solver in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"fit on dask collections runs the full-batch solvers; "
                f"solver={estimator.solver!r} takes minibatches: use partial_fit, "
                "which takes a dask collection one block at a time, or "
                "dask-ml's Incremental wrapper."
            )

    def prepare(self, estimator, X, y, sample_weight):
        persist = persist_setting()
        # A DataFrame's empty stand-in carries its column names.
        _check_feature_names(estimator, X._meta if is_frame(X) else X, reset=True)
        X, y, sample_weight = fit_inputs(X, y, sample_weight)
        if not isinstance(X._meta, np.ndarray):
            raise TypeError(
                "fit on dask arrays takes blocks of NumPy arrays; X's blocks "
                f"are {type(X._meta).__module__}.{type(X._meta).__name__}. Pass "
                "dense blocks, or use partial_fit, which takes each block as "
                "it is."
            )
        _check_n_features(estimator, X, reset=True)
        blocks = row_blocks(X, y, sample_weight, persist=persist)
        summary = summarise(blocks)
        if not summary.finite:
            raise ValueError("Input X contains NaN or infinity.")
        if not summary.weights_finite:
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if summary.least_weight < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        if summary.n_samples == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a "
                f"minimum of 1 is required by {type(estimator).__name__}."
            )
        check_magnitude(summary.largest, summary.n_samples)
        # The labels are distinct and sorted: the classes are they.
        classes, _ = encode_labels(summary.classes)
        totals = summary.totals
        factors = None
        if estimator.class_weight is not None:
            factors = class_weights(estimator.class_weight, totals, classes)
            with np.errstate(over="ignore"):
                totals = totals * factors
        check_finite_total(
            totals,
            "sample_weight" if factors is None else "sample_weight times class_weight",
        )
        check_class_totals(totals, classes, 2)
        # The labels as indices, weighted by class: blocks that replace the
        # ones read from the input, on the same workers.
        blocks = encode_row_blocks(blocks, classes, factors, persist=persist)
        return FitData(
            X, None, None, classes, totals.sum(), X.dtype, RowBlocks(blocks, persist)
        )

    def solver(self, solver, spec, data, penalty_spelling):
        resolved = resolve_solver(solver, spec, data.X, penalty_spelling)
        if solver == "auto" and spec.norm is None and resolved == "newton-cg":
            block_rows = max(data.X.chunks[0], default=0)
            if choose_dask_lbfgs(block_rows, spec.n_features, spec.n_classes):
                return "lbfgs"
        return resolved

    def unread_settings(self, solver, X):
        """The settings that a fit of ``X`` running ``solver`` does not
        read, each with why."""
        return {
            **unread_in_memory(X.dtype),
            "n_threads": "the blocks of a dask array are fitted on its "
            "scheduler's workers, in their threads",
        }

    def minimize(self, data, spec, solver, coef0, settings):
        # Dask is optional: only a dask input brings it in.
        from .._loss_dask import bound_objective

        blocks = list(data.blocks.blocks)
        if data.blocks.persisted:
            # The objective's passes take the persisted blocks over (see
            # BlockwiseDataTerm): the fit keeps no other reference to them.
            data.blocks.blocks.clear()
        with bound_objective(
            blocks,
            data.total_weight,
            spec.n_features,
            spec.n_classes,
            spec.fit_intercept,
            spec.l2_reg_strength,
            rounding=rounding_of(data.dtype),
            label_smoothing=spec.label_smoothing,
            persisted=data.blocks.persisted,
            hessian_dtype=choose_hessian_dtype(
                data.X, spec.n_classes, solver, settings.precision
            ),
        ) as objective:
            del blocks
            return minimizer(solver, spec.norm)(
                objective, coef0.ravel(), **settings.solver_kwargs()
            )

    def place(self, estimator, data):
        """The attributes stay NumPy arrays."""

"""Where the estimators meet Dask: recognising dask collections, lining up
the blocks of rows of ``X``, ``y`` and the sample weights, and mapping a
function of a block of rows over a collection, lazily.

Dask is an optional dependency: nothing here imports it until an input is a
dask collection, and an input can only be one once dask is imported.
"""

import math
import sys
import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import DataConversionWarning


def is_dask_collection(data):
    """Whether ``data`` is a dask collection (array, DataFrame, Series)."""
    # Only an imported dask can have made one.
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(data)


def is_frame(data):
    """Whether ``data`` is a dask DataFrame or Series."""
    # dask DataFrames and Series, without importing dask.dataframe, which
    # needs pandas and pyarrow.
    return hasattr(data, "to_dask_array") and hasattr(data, "partitions")


def _as_array(data, name):
    """A dask array with known block sizes from a dask array or DataFrame."""
    import dask.array as da

    if is_frame(data):
        # Optimised first, for the partitions it will have when computed: a
        # reader may join small files into fewer partitions than it shows.
        return data.optimize().to_dask_array(lengths=True)
    if not isinstance(data, da.Array):
        raise TypeError(
            f"{name} is a dask {type(data).__name__}; pass a dask array, "
            "DataFrame or Series."
        )
    if any(math.isnan(size) for size in data.chunks[0]):
        # compute_chunk_sizes sets them on the array it is called on: a new
        # array object over the same graph, so that the caller's is left as
        # it was.
        data = data.copy().compute_chunk_sizes()
    return data


def _float_dtype(dtype, name):
    """float32 stays float32; other real numbers become float64."""
    if dtype in (np.float32, np.float64):
        return np.dtype(dtype)
    if np.dtype(dtype).kind in "biuf":
        return np.dtype(np.float64)
    raise ValueError(f"{name} must hold real numbers; got dtype {dtype}.")


def _whole_rows(X):
    """A 2-D dask array in blocks of whole rows: a product with the
    parameters needs every feature of a sample."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-dimensional X of shape (n_samples, n_features); got "
            f"a dask array of shape {X.shape}."
        )
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _rows_like(data, X, name):
    """``data`` (one value per sample) as a 1-D dask array in ``X``'s blocks
    of rows; NumPy and array-like input is split into those blocks."""
    import dask.array as da

    data = _as_array(data, name) if is_dask_collection(data) else np.asarray(data)
    if data.ndim == 2 and data.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1d array was expected. "
            "Please change the shape of y to (n_samples,), for example using "
            "ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        data = data.ravel()
    if data.ndim != 1:
        raise ValueError(
            f"{name} must be 1-dimensional, one value per sample; got shape "
            f"{data.shape}."
        )
    if data.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"X has {X.shape[0]}, {name} has {data.shape[0]}."
        )
    if isinstance(data, np.ndarray):
        return da.from_array(data, chunks=(X.chunks[0],))
    return data.rechunk((X.chunks[0],))


def fit_inputs(X, y, sample_weight):
    """``X``, ``y`` and the sample weights as dask arrays split alike by rows.

    ``X`` becomes a float32 or float64 array of one block of columns (a dask
    DataFrame is turned into an array, its partitions into blocks of rows);
    ``y`` and the weights, dask or NumPy, are split into ``X``'s blocks of
    rows. Nothing is computed here but the sizes of blocks that dask does not
    know yet. The values are checked by the caller, once they are persisted.
    """
    X = _whole_rows(_as_array(X, "X"))
    X = X.astype(_float_dtype(X.dtype, "X"))
    y = _rows_like(y, X, "y")
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0 and not is_dask_collection(sample_weight):
            sample_weight = np.full(X.shape[0], float(sample_weight))
        sample_weight = _rows_like(sample_weight, X, "sample_weight")
        # Checked to be numbers, then in X's dtype, as for in-memory data.
        _float_dtype(sample_weight.dtype, "sample_weight")
        sample_weight = sample_weight.astype(X.dtype)
    return X, y, sample_weight


def iter_row_blocks(X, y, sample_weight):
    """``(X, y, sample_weight)`` block by block, each computed when it is
    reached: NumPy arrays, or for a dask DataFrame its partitions as pandas
    DataFrames, with their column names. One block at a time is in memory."""
    import dask

    if is_frame(X):
        # The partitions of the optimised frame, which its array's blocks,
        # and so those of y and the weights, follow.
        X = X.optimize()
    X_array, y, sample_weight = fit_inputs(X, y, sample_weight)
    for index, size in enumerate(X_array.chunks[0]):
        if size == 0:
            # A block without rows, as filtering a frame leaves, has nothing
            # to learn from.
            continue
        block = X.partitions[index] if is_frame(X) else X_array.blocks[index]
        weights = None if sample_weight is None else sample_weight.blocks[index]
        # The partition apart from the arrays: dask warns where a DataFrame
        # and arrays are computed together.
        (block,) = dask.compute(block)
        yield (block, *dask.compute(y.blocks[index], weights))


# Dask's setting that says whether a fit persists the blocks of rows.
PERSIST_SETTING = "sklearn_softmax.persist"


def persist_setting():
    """Dask's setting ``sklearn_softmax.persist``: True (the default) to
    persist the blocks of rows for a fit, False to read them from their
    source at each evaluation."""
    import dask

    persist = dask.config.get(PERSIST_SETTING, True)
    if not isinstance(persist, (bool, np.bool_)):
        raise ValueError(
            f"Dask's setting {PERSIST_SETTING!r} must be True or False; got "
            f"{persist!r}."
        )
    return bool(persist)


class RowBlocks(NamedTuple):
    """The blocks of rows of a fit, and whether they are persisted."""

    blocks: list
    persisted: bool


def _rows(X, y, weights):
    return X, y, weights


def row_blocks(X, y, sample_weight, persist=True):
    """Each block of rows of ``X``, ``y`` and the weights as one
    ``(X, y, weights)`` tuple, so that what a task on a block needs lives on
    one worker: persisted, which computes each block of the inputs once, or
    lazy, to be computed (read from its source) by each use."""
    import dask

    X_blocks = X.to_delayed(optimize_graph=False).ravel()
    weight_blocks = (
        [None] * len(X_blocks)
        if sample_weight is None
        else sample_weight.to_delayed(optimize_graph=False)
    )
    parts = zip(
        X_blocks, y.to_delayed(optimize_graph=False), weight_blocks, strict=True
    )
    blocks = [dask.delayed(_rows)(*part) for part in parts]
    return list(dask.persist(*blocks)) if persist else blocks


def persist_row_blocks(X, y, sample_weight):
    """:func:`row_blocks`, persisted."""
    return row_blocks(X, y, sample_weight)


def map_row_blocks(function, row_blocks, *args, persist=False):
    """``function(rows, *args)`` for each block of rows: the results,
    computed; or, with ``persist``, the blocks ``function`` returns,
    persisted where the blocks are when True, lazy when None."""
    import dask

    parts = [dask.delayed(function)(rows, *args) for rows in row_blocks]
    if persist is None:
        return parts
    if persist:
        return list(dask.persist(*parts))
    return dask.compute(*parts)


class Summary(NamedTuple):
    """What one pass over the blocks tells of the data (see
    :func:`summarise`)."""

    finite: bool
    largest: float
    n_samples: int
    classes: np.ndarray
    totals: np.ndarray
    weights_finite: bool
    least_weight: float


def _summary(rows):
    X, y, weights = rows
    labels, indices = np.unique(y, return_inverse=True)
    totals = np.bincount(indices.ravel(), weights, minlength=labels.size)
    # A block may have no rows (an empty partition).
    largest = float(max(np.max(X, initial=0.0), -np.min(X, initial=0.0)))
    weights_finite = weights is None or bool(np.isfinite(weights).all())
    least = 0.0 if weights is None else float(np.min(weights, initial=np.inf))
    return (
        bool(np.isfinite(X).all()),
        largest,
        len(y),
        labels,
        totals,
        weights_finite,
        least,
    )


def summarise(row_blocks):
    """A :class:`Summary` of the data, in one pass over its blocks: whether
    ``X`` is finite, its largest entry in magnitude, the number of samples,
    the distinct labels, the total sample weight of each (its count without
    weights), whether the weights are finite, and the least weight (0
    without weights)."""
    summaries = map_row_blocks(_summary, row_blocks)
    finite, largest, n_rows, labels, totals, weights_finite, least = zip(
        *summaries, strict=True
    )
    classes = np.unique(np.concatenate(labels))
    class_totals = np.zeros(classes.size)
    # Added block by block, in the order of the blocks; a total beyond
    # float64 is left infinite, for the caller to refuse.
    with np.errstate(over="ignore"):
        for block_labels, block_totals in zip(labels, totals, strict=True):
            class_totals[np.searchsorted(classes, block_labels)] += block_totals
    return Summary(
        all(finite),
        max(largest),
        sum(n_rows),
        classes,
        class_totals,
        all(weights_finite),
        min(least),
    )


def _encoded(rows, classes, class_weights):
    X, y, weights = rows
    y = np.searchsorted(classes, y)
    if class_weights is not None:
        factors = class_weights.astype(X.dtype)[y]
        weights = factors if weights is None else weights * factors
    return X, y, weights


def encode_row_blocks(row_blocks, classes, class_weights, persist=True):
    """New blocks with the labels as indices into the sorted ``classes``,
    and the weights times ``class_weights`` of each sample's class when
    given: persisted, where the blocks are, or lazy."""
    return map_row_blocks(
        _encoded, row_blocks, classes, class_weights, persist=True if persist else None
    )


def n_features(X):
    """The number of columns of a dask array or DataFrame."""
    return len(X.columns) if is_frame(X) else X.shape[1]


def block_dtype(X):
    """The dtype scikit-learn's validation gives a block of ``X``: float32
    when all of its columns are float32, float64 otherwise."""
    dtypes = X.dtypes if is_frame(X) else [X.dtype]
    return np.dtype(
        np.float32 if all(dtype == np.float32 for dtype in dtypes) else np.float64
    )


def map_rows(X, function, dtype, n_columns):
    """``function`` applied to each block of rows of ``X``, lazily.

    Each block of a dask array, or each partition of a dask DataFrame (a
    pandas DataFrame, with its column names), goes to ``function``, which
    returns ``n_columns`` values per row, or one when ``n_columns`` is None.
    The result is a dask array of ``dtype`` with ``X``'s blocks of rows;
    their sizes are unknown for a DataFrame until computed.
    """
    import dask
    import dask.array as da

    if is_frame(X):
        shape = (math.nan,) if n_columns is None else (math.nan, n_columns)
        parts = [
            da.from_delayed(dask.delayed(function)(part), shape=shape, dtype=dtype)
            for part in X.to_delayed()
        ]
        return da.concatenate(parts, axis=0)
    X = _whole_rows(X)
    if n_columns is None:
        return X.map_blocks(function, dtype=dtype, drop_axis=1)
    return X.map_blocks(function, dtype=dtype, chunks=(X.chunks[0], (n_columns,)))

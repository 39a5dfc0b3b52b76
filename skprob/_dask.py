"""Dask collections: out-of-core fits by tree reduction, blockwise transforms."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Imported only when a dask collection reaches an estimator, so dask stays an
# optional dependency. Nothing here materialises X on the client: the workers
# compute per-block sufficient statistics and merge them in a tree, and only
# the merged statistics (O(K d^2) numbers) travel back.
#
# The moment algebra comes from _moments.py; the estimators call the functions
# here and fit from what they return. Nothing here imports an estimator module
# or touches an estimator's private state, so there is no import cycle.

import functools
import math
import sys

import dask
import dask.array as da
import numpy as np
from dask.array.utils import meta_from_array
from sklearn import config_context, get_config
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._backend import asarray, get_namespace, get_namespace_and_device, to_numpy
from ._moments import chunk_moments, expand_moments, merge_moments
from ._validation import check_sample_weight, encode_labels

__all__ = [
    "class_moments",
    "map_blocks_method",
    "map_blocks_rows",
    "validate_schema",
]

# Number of partial results merged by one task of the tree: the tree over B
# blocks is ceil(log(B) / log(8)) tasks deep.
_SPLIT_EVERY = 8


def _with_config(func, config):
    """``func`` run under the client's scikit-learn config (e.g. array_api_dispatch).

    Worker processes start with the default config; without this a CuPy block
    would be handled by the NumPy namespace on the workers.
    """

    @functools.wraps(func)
    def wrapped(*args):
        with config_context(**config):
            return func(*args)

    return wrapped


def _is_dask_frame(obj):
    # dask.dataframe is imported by whoever built a dask DataFrame; checking
    # sys.modules avoids importing it (and pandas/pyarrow) for dask arrays.
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(obj, (dd.DataFrame, dd.Series))


def _vector_blocks(vector, X, name):
    """Delayed blocks of the 1-D ``vector`` (y or sample_weight), aligned with X."""
    if isinstance(X, da.Array):
        row_chunks = X.chunks[0]
        if _is_dask_frame(vector):
            raise TypeError(
                f"{name} is a dask DataFrame/Series but X is a dask array; convert "
                f"{name} with .to_dask_array(lengths=True) or pass X as a dask "
                "DataFrame."
            )
        if not isinstance(vector, da.Array):
            if any(math.isnan(c) for c in row_chunks):
                raise ValueError(
                    f"X has unknown chunk sizes, so the in-memory {name} cannot be "
                    "split like it; pass a dask array or call "
                    "X.compute_chunk_sizes()."
                )
            if len(vector) != X.shape[0]:
                raise ValueError(
                    f"{name} has {len(vector)} entries but X has {X.shape[0]} rows."
                )
            vector = da.from_array(vector, chunks=(row_chunks,))
        if vector.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D dask array, got shape {vector.shape}."
            )
        if vector.chunks[0] != row_chunks:
            known = not any(math.isnan(c) for c in vector.chunks[0] + row_chunks)
            if not known or vector.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{name} (chunks {vector.chunks[0]}) cannot be aligned with the "
                    f"rows of X (chunks {row_chunks}); give both the same row chunks."
                )
            vector = vector.rechunk((row_chunks,))
        return list(vector.to_delayed())
    if not _is_dask_frame(vector):
        raise TypeError(
            f"X is a dask DataFrame, so {name} must be a dask Series partitioned "
            f"like it (e.g. a column of the same frame), got {type(vector).__name__}."
        )
    if vector.npartitions != X.npartitions or (
        X.known_divisions and vector.known_divisions and X.divisions != vector.divisions
    ):
        raise ValueError(
            f"{name} must have the same partitions as X: X has {X.npartitions} "
            f"partitions, {name} has {vector.npartitions} (or other divisions)."
        )
    return list(vector.to_delayed())


def _row_blocks(X, y, sample_weight):
    """Delayed row blocks of X, y and sample_weight (Nones if it is absent)."""
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D dask array for X, got shape {X.shape}.")
        if X.numblocks[1] > 1:
            # every block must see all the features of its rows
            X = X.rechunk({1: -1})
        X_blocks = [row[0] for row in X.to_delayed()]
    elif _is_dask_frame(X) and X.ndim == 2:
        X_blocks = list(X.to_delayed())
    else:
        raise TypeError(
            "Dask input must be a dask.array.Array or a dask.dataframe.DataFrame, "
            f"got {type(X).__name__}."
        )
    y_blocks = _vector_blocks(y, X, "y")
    w_blocks = (
        [None] * len(X_blocks)
        if sample_weight is None
        else _vector_blocks(sample_weight, X, "sample_weight")
    )
    return X_blocks, y_blocks, w_blocks


def _block_statistics(X, y, sample_weight):
    """Labels present in one row block and their moments (None for an empty block).

    The higher moments are always collected: which shrinkage rule will use
    them is the estimator's business, and they cost two GEMMs per block.
    """
    if X.shape[0] == 0:
        return None
    xp = get_namespace(X)[0]
    X = check_array(X, dtype=[xp.float64, xp.float32])
    check_classification_targets(y)
    xp, _, dev = get_namespace_and_device(X)
    # A block rarely holds every class, so its own labels stand in for the
    # classes; _merge_statistics aligns the label sets. This keeps the fit to
    # one pass over the data, with no separate pass for the labels.
    classes, y_index = encode_labels(y, xp=xp, device=dev, min_classes=1)
    sample_weight = check_sample_weight(sample_weight, X)
    moments = chunk_moments(
        X, y_index, sample_weight, classes.shape[0], xp, higher=True
    )
    # labels travel on the host: string labels have no array-API namespace
    return to_numpy(classes), moments


def _expand_moments(moments, classes, union):
    """Moments over ``classes`` laid out over the larger label set ``union``."""
    xp, _, dev = get_namespace_and_device(moments.means)
    positions = asarray(np.searchsorted(union, classes), xp=xp, device=dev)
    targets = xp.arange(union.shape[0], dtype=positions.dtype, device=dev)
    placement = xp.astype(targets[:, None] == positions[None, :], moments.means.dtype)
    return expand_moments(moments, placement)


def _merge_statistics(*parts):
    """Merge the (labels, moments) of disjoint blocks; None parts are empty blocks."""
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    classes, moments = parts[0]
    xp = get_namespace(moments.means)[0]
    for other_classes, other_moments in parts[1:]:
        union = np.union1d(classes, other_classes)
        if union.shape[0] > classes.shape[0]:
            moments = _expand_moments(moments, classes, union)
        if union.shape[0] > other_classes.shape[0]:
            other_moments = _expand_moments(other_moments, other_classes, union)
        classes, moments = union, merge_moments(moments, other_moments, xp)
    return classes, moments


def _tree(parts, merge):
    """Delayed tree reduction of ``parts``, ``_SPLIT_EVERY`` at a time."""
    while len(parts) > 1:
        parts = [
            merge(*parts[start : start + _SPLIT_EVERY])
            for start in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


def statistics_graph(X, y, sample_weight=None):
    """Delayed (labels, moments) of all of X: one task per row block, then a tree."""
    X_blocks, y_blocks, w_blocks = _row_blocks(X, y, sample_weight)
    config = get_config()
    block_task = dask.delayed(_with_config(_block_statistics, config), pure=False)
    merge_task = dask.delayed(_with_config(_merge_statistics, config), pure=False)
    parts = [
        block_task(X_block, y_block, w_block)
        for X_block, y_block, w_block in zip(X_blocks, y_blocks, w_blocks)
    ]
    return _tree(parts, merge_task)


def validate_schema(estimator, X):
    """Set ``n_features_in_`` (and ``feature_names_in_``) from X's schema only.

    Dask DataFrames carry an empty pandas frame with their columns in
    ``_meta``; nothing is computed.
    """
    validate_data(estimator, X._meta if _is_dask_frame(X) else X, skip_check_array=True)


def class_moments(X, y, sample_weight=None):
    """Sorted labels and their :class:`~skprob._moments.ClassMoments`, one pass.

    Each row block's moments are computed on the workers and merged by a
    tree reduction; only the merged statistics reach the client. Numeric
    labels come back in the namespace of the data, as after an in-memory fit.
    """
    (result,) = dask.compute(statistics_graph(X, y, sample_weight))
    if result is None:
        raise ValueError(
            "Found array with 0 sample(s) while a minimum of 1 is required."
        )
    classes, moments = result
    if classes.dtype.kind in "biuf":
        xp, _, dev = get_namespace_and_device(moments.means)
        classes = asarray(classes, xp=xp, device=dev)
    return classes, moments


def map_blocks_rows(func, X, n_out_columns, dtype=None):
    """Apply the row-wise ``func`` to each row block of the dask array ``X``.

    Parameters
    ----------
    func : callable
        Maps an in-memory block of shape ``(n_rows, n_features)`` to an array
        of shape ``(n_rows, n_out_columns)``, or ``(n_rows,)`` when
        ``n_out_columns`` is None. Rows must be independent.
    X : dask.array.Array of shape (n_samples, n_features)
        Input; column chunks are joined so that each block holds whole rows.
    n_out_columns : int or None
        Number of output columns; None for a 1-D output.
    dtype : dtype, default=None
        Output dtype; by default float32 for float32 ``X`` and float64
        otherwise, as skprob's transforms return.

    Returns
    -------
    out : dask.array.Array
        Lazy result with the row chunks of ``X``.
    """
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise TypeError(
            "Blockwise transforms accept 2-D dask arrays; got "
            f"{type(X).__name__} (call .to_dask_array(lengths=True) on a dask "
            "DataFrame)."
        )
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if dtype is None:
        dtype = X.dtype if X.dtype == "float32" else "float64"
    func = _with_config(func, get_config())
    meta = meta_from_array(X, ndim=1 if n_out_columns is None else 2, dtype=dtype)
    if n_out_columns is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype, meta=meta)
    return X.map_blocks(
        func, chunks=(X.chunks[0], (n_out_columns,)), dtype=dtype, meta=meta
    )


def map_blocks_method(estimator, method, X, n_out_columns, dtype=None):
    """Lazy ``estimator.<method>(X)`` for a dask array X, one task per row block.

    The fitted estimator is shipped with each task; only methods whose rows do
    not depend on each other may run blockwise. An estimator whose rows can
    depend on each other says so through ``_blockwise_refusal()``, which returns
    None or the message of the ValueError to raise.
    """
    check_is_fitted(estimator)
    refusal = getattr(estimator, "_blockwise_refusal", None)
    message = refusal() if refusal is not None else None
    if message is not None:
        raise ValueError(message)
    return map_blocks_rows(getattr(estimator, method), X, n_out_columns, dtype)

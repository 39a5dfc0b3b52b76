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
from ._losses import PenalisedLogLoss
from ._moments import (
    chunk_moments,
    expand_moments,
    grouped_moments,
    merge_moments,
    out_of_fold_scores,
    row_folds,
)
from ._validation import check_sample_weight, encode_labels

__all__ = [
    "RowBlocks",
    "class_moments",
    "fold_class_moments",
    "fold_scores",
    "gather_refusal",
    "log_loss_sums",
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


class RowBlocks:
    """The row blocks of X, y and sample_weight, and the passes made over them.

    Every computation that reads the data goes through :meth:`reduce` or
    :meth:`gather`, one pass each, counted in ``n_passes``. With
    ``persist=True`` the blocks are computed once and kept in the workers'
    memory, so the passes of an iterative fit read them there instead of
    recomputing X from its source each time.
    """

    def __init__(self, X, y, sample_weight=None, *, persist=False):
        X_blocks, y_blocks, w_blocks = _row_blocks(X, y, sample_weight)
        if persist:
            X_blocks, y_blocks, w_blocks = dask.persist(X_blocks, y_blocks, w_blocks)
        self.blocks = list(zip(X_blocks, y_blocks, w_blocks))
        self.config = get_config()
        self.n_passes = 0

    def _tasks(self, block_func, args):
        task = dask.delayed(_with_config(block_func, self.config), pure=False)
        return [task(*block, *args) for block in self.blocks]

    def reduce(self, block_func, merge_func, *args):
        """One pass: ``block_func(X, y, w, *args)`` per block, merged in a tree
        by ``merge_func`` on the workers; returns the merged result."""
        merge_task = dask.delayed(_with_config(merge_func, self.config), pure=False)
        return self._compute(_tree(self._tasks(block_func, args), merge_task))

    def gather(self, block_func, *args):
        """One pass: ``block_func(X, y, w, *args)`` per block, in row order."""
        return self._compute(self._tasks(block_func, args))

    def _compute(self, graph):
        self.n_passes += 1
        (result,) = dask.compute(graph)
        return result


def _check_block(X, y, sample_weight):
    """The block as a float array, its namespace and device, and its weights."""
    xp = get_namespace(X)[0]
    X = check_array(X, dtype=[xp.float64, xp.float32])
    check_classification_targets(y)
    xp, _, dev = get_namespace_and_device(X)
    return X, xp, dev, check_sample_weight(sample_weight, X)


def _block_statistics(X, y, sample_weight, n_folds=None, higher=True):
    """Labels present in one row block and their moments (None for an empty block).

    With ``n_folds``, a list of the labels and moments of each fold of the
    block's rows (:func:`~skprob._moments.row_folds`). The higher moments
    (two more GEMMs per block) are collected when ``higher``.
    """
    if X.shape[0] == 0:
        return None
    X, xp, dev, sample_weight = _check_block(X, y, sample_weight)
    # A block rarely holds every class, so its own labels stand in for the
    # classes; _merge_statistics aligns the label sets. This keeps the fit to
    # one pass over the data, with no separate pass for the labels.
    classes, y_index = encode_labels(y, xp=xp, device=dev, min_classes=1)
    n_classes = classes.shape[0]
    # labels travel on the host: string labels have no array-API namespace
    classes = to_numpy(classes)
    if n_folds is None:
        moments = chunk_moments(X, y_index, sample_weight, n_classes, xp, higher=higher)
        return classes, moments
    folds = xp.astype(row_folds(X, n_folds), y_index.dtype)
    fold_moments = grouped_moments(
        X, folds, y_index, sample_weight, n_folds, n_classes, xp, higher=higher
    )
    return [(classes, moments) for moments in fold_moments]


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


def _merge_fold_statistics(*parts):
    """:func:`_merge_statistics` of each fold; None parts are empty blocks."""
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    return [_merge_statistics(*fold) for fold in zip(*parts)]


def _tree(parts, merge):
    """Delayed tree reduction of ``parts``, ``_SPLIT_EVERY`` at a time."""
    while len(parts) > 1:
        parts = [
            merge(*parts[start : start + _SPLIT_EVERY])
            for start in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


def gather_refusal(estimator, X):
    """The ValueError for an estimator that would need all of dask ``X`` in memory.

    Raised before any work, so nothing is computed: the message states what
    would be gathered and the remedies.
    """
    name = type(estimator).__name__
    if isinstance(X, da.Array) and not any(math.isnan(n) for n in X.shape):
        size = f"{X.shape[0]:,} x {X.shape[1]} {X.dtype}, {X.nbytes / 1e9:.3g} GB"
    else:
        size = f"an unknown number of rows x {X.shape[1]} columns"
    return ValueError(
        f"{name} cannot fit dask input out of core: its fit needs all of X in "
        f"the client's memory ({size}), which it will not gather silently. Fit "
        "it on an in-memory sample (e.g. X[:n].compute() with the matching y), "
        "or use AnalyticLogisticRegression(refine_iter=...), which fits dask "
        "input by passes over the row blocks."
    )


def validate_schema(estimator, X):
    """Set ``n_features_in_`` (and ``feature_names_in_``) from X's schema only.

    Dask DataFrames carry an empty pandas frame with their columns in
    ``_meta``; nothing is computed.
    """
    validate_data(estimator, X._meta if _is_dask_frame(X) else X, skip_check_array=True)


def _numeric_classes(classes, moments):
    """Numeric labels in the namespace of the data, as after an in-memory fit."""
    if classes.dtype.kind in "biuf":
        xp, _, dev = get_namespace_and_device(moments.means)
        return asarray(classes, xp=xp, device=dev)
    return classes


def _no_rows():
    return ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")


def class_moments(rows, *, higher):
    """Sorted labels and their :class:`~skprob._moments.ClassMoments`, one pass.

    ``rows`` is a :class:`RowBlocks`; ``higher`` asks for the higher moments.
    Each row block's moments are computed on the workers and merged by a tree
    reduction; only the merged statistics reach the client.
    """
    result = rows.reduce(_block_statistics, _merge_statistics, None, higher)
    if result is None:
        raise _no_rows()
    classes, moments = result
    return _numeric_classes(classes, moments), moments


def fold_class_moments(rows, n_folds, *, higher):
    """Sorted labels and the moments of each fold over all of them, one pass.

    The folds are those of :func:`~skprob._moments.row_folds`, computed per
    block from the rows' values: the same as for the whole array in memory.
    """
    result = rows.reduce(_block_statistics, _merge_fold_statistics, n_folds, higher)
    if result is None:
        raise _no_rows()
    union = functools.reduce(np.union1d, [classes for classes, _ in result])
    aligned = [
        moments
        if classes.shape[0] == union.shape[0]
        else _expand_moments(moments, classes, union)
        for classes, moments in result
    ]
    return _numeric_classes(union, aligned[0]), aligned


def _block_fold_scores(X, y, sample_weight, classes, coef, intercept, n_folds):
    """Out-of-fold scores, label indices and weights of one row block (host)."""
    if X.shape[0] == 0:
        return None
    X, xp, dev, sample_weight = _check_block(X, y, sample_weight)
    _, y_index = encode_labels(y, xp=xp, device=dev, classes=classes, min_classes=1)
    coef, intercept = (
        asarray(array, xp=xp, device=dev, dtype=X.dtype) for array in (coef, intercept)
    )
    scores = out_of_fold_scores(X, row_folds(X, n_folds), coef, intercept, n_folds)
    return scores, to_numpy(y_index), to_numpy(sample_weight).astype(np.float64)


def fold_scores(rows, classes, coef, intercept, n_folds):
    """Out-of-fold scores, label indices and weights of all the rows, one pass.

    ``coef`` and ``intercept`` stack the fold models as
    :func:`~skprob._moments.out_of_fold_scores` reads them. What reaches the
    client is O(n K) numbers, against O(n d) for X.
    """
    host = (to_numpy(array) for array in (classes, coef, intercept))
    parts = rows.gather(_block_fold_scores, *host, n_folds)
    parts = [part for part in parts if part is not None]
    return tuple(np.concatenate(columns) for columns in zip(*parts))


def _block_log_loss_sums(X, y, sample_weight, classes, fit_intercept, request):
    """:meth:`PenalisedLogLoss.block_sums` of one row block (None when empty)."""
    if X.shape[0] == 0:
        return None
    X, xp, dev, sample_weight = _check_block(X, y, sample_weight)
    _, y_index = encode_labels(y, xp=xp, device=dev, classes=classes, min_classes=1)
    loss = PenalisedLogLoss(
        X,
        y_index,
        sample_weight,
        classes.shape[0],
        C=math.inf,
        fit_intercept=fit_intercept,
        tol=0.0,
    )
    return loss.block_sums(**request)


def _add_sums(*parts):
    """Sums of several blocks' dictionaries of sums; None parts are empty blocks."""
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def log_loss_sums(rows, classes, fit_intercept, theta, want, **request):
    """The block sums of :class:`~skprob._losses.BlockwiseLogLoss`, one pass."""
    request = dict(theta=theta, want=want, **request)
    return rows.reduce(
        _block_log_loss_sums, _add_sums, to_numpy(classes), fit_intercept, request
    )


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

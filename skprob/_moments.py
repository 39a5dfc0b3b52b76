"""Per-class moments of data chunks: compute, re-centre, merge, shrinkage."""

# SPDX-License-Identifier: BSD-3-Clause
#
# The moment algebra is shared by AnalyticLogisticRegression's fit, partial_fit
# and temperature folds and by the dask reduction in _dask.py; it belongs to
# none of them, so neither imports the other's private functions.

import functools
import itertools
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_array

from ._backend import (
    asarray,
    get_namespace_and_device,
    is_numpy_namespace,
    issparse,
    to_numpy,
)

__all__ = [
    "ClassMoments",
    "ScatterSummary",
    "chunk_moments",
    "expand_moments",
    "grouped_moments",
    "merge_all_but_one",
    "ledoit_wolf_intensity",
    "merge_moments",
    "oas_intensity",
    "out_of_fold_scores",
    "row_folds",
    "scatter_summary",
]

# Row blocks of a few MiB keep the gather, mean and centring of a block in cache
# (benchmarks/RESULTS.md, bench_analytic.py).
_CACHE_BLOCK_BYTES = 1 << 23
_MIN_BLOCK_ROWS = 1024
# Multipliers of the row hash: odd 64-bit constants (the golden-ratio increment
# of splitmix64 times odd numbers), and splitmix64's finaliser constants.
_HASH_STEP = 0x9E3779B97F4A7C15
_HASH_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


class ClassMoments(NamedTuple):
    """Weighted moments of each class, centred on the class means.

    With ``z = x - mean_k`` for the rows of class ``k`` and weights ``w``:

    - ``weights`` (K,): ``sum w``;
    - ``means`` (K, d): weighted class means;
    - ``scatters`` (K, d, d): ``sum w z z^T``;
    - ``square_cross`` (K, d, d): ``sum w (z * z) z^T``;
    - ``square_products`` (K, d, d): ``sum w (z * z) (z * z)^T``;
    - ``counts`` (K,): number of rows with a positive weight.

    ``square_cross`` and ``square_products`` are None unless collected
    (``higher=True``). ``counts`` does not change when every weight is
    multiplied by one constant: it bounds the rounding error of the sums,
    which depends on how many rows were added, not on their weights.

    The Ledoit-Wolf intensity on the standardised scale needs
    ``sum_i ||z_i / s||^4`` for a per-feature scale ``s`` known only once all
    the data is in; that is ``v^T (sum_k square_products_k) v`` with
    ``v = 1 / s^2``, and merging square products of chunks with different
    means needs ``square_cross``.
    """

    weights: object
    means: object
    scatters: object
    square_cross: object = None
    square_products: object = None
    counts: object = None

    @property
    def has_higher(self):
        return self.square_products is not None


def chunk_moments(X, y_index, sample_weight, n_classes, xp, *, higher=False):
    """:class:`ClassMoments` of one chunk of data.

    On NumPy, large chunks are processed in row blocks of a few MiB that are
    merged exactly, so X is read from memory about once besides the GEMM.
    Other namespaces (GPUs) get one large block.
    """
    n_samples, n_features = X.shape
    if issparse(X):
        return _sparse_moments(X, y_index, sample_weight, n_classes, higher)
    if not is_numpy_namespace(xp):
        return _block_moments(X, y_index, sample_weight, n_classes, xp, higher)
    block_rows = max(
        _MIN_BLOCK_ROWS, _CACHE_BLOCK_BYTES // (X.dtype.itemsize * n_features)
    )
    if n_samples <= 2 * block_rows:
        return _block_moments(X, y_index, sample_weight, n_classes, xp, higher)
    blocks = (
        _block_moments(
            X[start : start + block_rows],
            y_index[start : start + block_rows],
            sample_weight[start : start + block_rows],
            n_classes,
            xp,
            higher,
        )
        for start in range(0, n_samples, block_rows)
    )
    return functools.reduce(lambda a, b: merge_moments(a, b, xp), blocks)


def grouped_moments(
    X, group, y_index, sample_weight, n_groups, n_classes, xp, *, higher
):
    """:class:`ClassMoments` of each group of rows (``group`` in 0..n_groups-1).

    One call with the (group, class) pairs as the classes reads X once for the
    moments of every group; the result is sliced back into one ClassMoments
    per group, each over all ``n_classes`` classes.
    """
    joint = chunk_moments(
        X,
        group * n_classes + y_index,
        sample_weight,
        n_groups * n_classes,
        xp,
        higher=higher,
    )
    return [
        ClassMoments(
            *(
                None if a is None else a[g * n_classes : (g + 1) * n_classes, ...]
                for a in joint
            )
        )
        for g in range(n_groups)
    ]


def merge_all_but_one(parts, xp):
    """For each of the disjoint ``parts``, the merged moments of all the others.

    From prefix and suffix merges: ``3 F - 5`` merges for ``F >= 2`` parts
    instead of ``(F - 1)^2``. Also returns the moments of all the parts.
    """
    merge = functools.partial(merge_moments, xp=xp)
    prefixes = list(itertools.accumulate(parts[:-1], merge))
    suffixes = list(itertools.accumulate(parts[:0:-1], merge))[::-1]
    others = [suffixes[0]]
    others += [merge(a, b) for a, b in zip(prefixes[:-1], suffixes[1:])]
    others.append(prefixes[-1])
    return others, merge(prefixes[-1], parts[-1])


def class_indicator(y_index, n_classes, sample_weight=None):
    """Sparse (n, K) matrix with ``w_i`` (or 1) at ``(i, y_i)``.

    ``P^T X`` then sums the (weighted) rows of each class.
    """
    n_samples = y_index.shape[0]
    values = np.ones(n_samples) if sample_weight is None else sample_weight
    return csr_array(
        (values, (np.arange(n_samples), y_index)), shape=(n_samples, n_classes)
    )


def _sparse_moments(X, y_index, sample_weight, n_classes, higher):
    """:class:`ClassMoments` of a SciPy sparse chunk, never densifying X.

    The scatter of class ``k`` is ``X_k^T W X_k - n_k mu_k mu_k^T``: the
    centring stays implicit, and the only dense results are the (K, d) means
    and the (K, d, d) scatters.
    """
    if higher:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs the fourth moments of the centred "
            "data, which are not computed for sparse X; use shrinkage='oas' or a "
            "float."
        )
    dtype = X.dtype
    y_index = to_numpy(y_index).astype(np.intp)
    weight = to_numpy(sample_weight).astype(np.float64)
    # float64 whatever X is: the uncentred scatter X^T W X - n mu mu^T loses
    # the digits of a column whose mean is large next to its spread
    X = X.tocsr().astype(np.float64)
    indicator = class_indicator(y_index, n_classes, weight)
    weights = np.asarray(indicator.sum(axis=0)).ravel()
    sums = np.asarray((indicator.T @ X).todense())
    safe = np.where(weights > 0, weights, 1.0)
    means = sums / safe[:, None]
    scatters = np.empty((n_classes, X.shape[1], X.shape[1]))
    for k in range(n_classes):
        rows = np.flatnonzero(y_index == k)
        block = X[rows]
        weighted = block.multiply(weight[rows][:, None]).tocsr()
        gram = np.asarray((block.T @ weighted).todense())
        scatters[k] = gram - weights[k] * np.outer(means[k], means[k])
    counts = np.bincount(y_index[weight > 0], minlength=n_classes)
    return ClassMoments(
        weights.astype(dtype),
        means.astype(dtype),
        scatters.astype(dtype),
        counts=counts.astype(dtype),
    )


def _block_moments(X, y_index, sample_weight, n_classes, xp, higher):
    n_features = X.shape[1]
    dtype, dev = X.dtype, get_namespace_and_device(X)[2]
    order = xp.argsort(y_index, stable=True)
    # One gather puts each class in a contiguous block; the per-class work below
    # is then a Python loop over classes (not samples) whose GEMMs add up to a
    # single n x d x d product. The gathered copy is ours, so NumPy centres it
    # in place.
    X_sorted = xp.take(X, order, axis=0)
    w_sorted = xp.take(sample_weight, order, axis=0)
    y_sorted = xp.take(y_index, order, axis=0)
    class_ids = xp.arange(n_classes + 1, dtype=y_sorted.dtype, device=dev)
    bounds = to_numpy(xp.searchsorted(y_sorted, class_ids))
    in_place = is_numpy_namespace(xp)
    uniform = X.shape[0] > 0 and float(xp.min(sample_weight)) == float(
        xp.max(sample_weight)
    )

    weights = np.zeros(n_classes)
    counts = np.zeros(n_classes)
    means, scatters, crosses, products = [], [], [], []
    zeros_d = xp.zeros((n_features,), dtype=dtype, device=dev)
    zeros_dd = xp.zeros((n_features, n_features), dtype=dtype, device=dev)
    for k in range(n_classes):
        start, stop = int(bounds[k]), int(bounds[k + 1])
        w = w_sorted[start:stop]
        total = float(xp.sum(w)) if stop > start else 0.0
        if total <= 0:
            means.append(zeros_d)
            scatters.append(zeros_dd)
            crosses.append(zeros_dd)
            products.append(zeros_dd)
            continue
        block = X_sorted[start:stop, :]
        mean = xp.mean(block, axis=0) if uniform else (w @ block) / total
        if in_place:
            block -= mean
            centred = block
        else:
            centred = block - mean
        if uniform:
            # A.T @ A on one buffer lets NumPy use the symmetric rank-k update
            scatter = (total / (stop - start)) * (centred.T @ centred)
        else:
            weighted = centred * xp.sqrt(w)[:, None]
            scatter = weighted.T @ weighted
        weights[k] = total
        counts[k] = stop - start if uniform else float(xp.sum(xp.astype(w > 0, dtype)))
        means.append(mean)
        scatters.append(scatter)
        if higher:
            weighted_squares = (centred * centred) * w[:, None]
            crosses.append(weighted_squares.T @ centred)
            products.append(weighted_squares.T @ (centred * centred))
    return ClassMoments(
        asarray(weights, xp=xp, device=dev, dtype=dtype),
        xp.stack(means),
        xp.stack(scatters),
        xp.stack(crosses) if higher else None,
        xp.stack(products) if higher else None,
        asarray(counts, xp=xp, device=dev, dtype=dtype),
    )


def _shift(moments, new_means, xp):
    """Scatters and higher moments re-centred on ``new_means`` (exact identities).

    With ``delta = mean - new_mean`` and moments centred on ``mean`` (so that
    ``sum w z = 0``), ``z + delta`` replaces ``z`` in each sum.
    """
    weight = moments.weights
    delta = moments.means - new_means  # (K, d)
    outer = delta[:, :, None] * delta[:, None, :]  # (K, d, d): delta_a delta_b
    scatter = moments.scatters
    shifted_scatter = scatter + weight[:, None, None] * outer
    if not moments.has_higher:
        return shifted_scatter, None, None
    variance = xp.linalg.diagonal(scatter)  # (K, d): S_aa
    cross = moments.square_cross  # T_ab = sum w z_a^2 z_b
    delta_a = delta[:, :, None]
    delta_b = delta[:, None, :]
    square_a = (delta * delta)[:, :, None]
    square_b = (delta * delta)[:, None, :]
    wk = weight[:, None, None]
    shifted_cross = (
        cross + variance[:, :, None] * delta_b + 2.0 * delta_a * scatter
    ) + wk * square_a * delta_b
    cross_t = xp.permute_dims(cross, (0, 2, 1))  # T_ba
    shifted_products = (
        moments.square_products
        + 2.0 * delta_b * cross
        + 2.0 * delta_a * cross_t
        + variance[:, :, None] * square_b
        + variance[:, None, :] * square_a
        + 4.0 * outer * scatter
        + wk * square_a * square_b
    )
    return shifted_scatter, shifted_cross, shifted_products


def merge_moments(first, second, xp):
    """Moments of the union of two disjoint chunks (Chan et al.'s parallel update)."""
    weight = first.weights + second.weights
    safe = xp.where(weight > 0, weight, xp.ones_like(weight))
    mean = first.means + (second.weights / safe)[:, None] * (second.means - first.means)
    shifted = zip(_shift(first, mean, xp), _shift(second, mean, xp))
    scatter, cross, products = (
        None if a is None or b is None else a + b for a, b in shifted
    )
    counts = (
        None
        if first.counts is None or second.counts is None
        else first.counts + second.counts
    )
    return ClassMoments(weight, mean, scatter, cross, products, counts)


def expand_moments(moments, placement):
    """Moments laid out over a larger class set through a 0/1 ``placement`` matrix.

    ``placement[j, k] = 1`` puts class ``k`` of ``moments`` at position ``j``.
    The matrix product is exact (x * 1 + 0 = x) and needs no scatter, which the
    array API lacks; classes with zero weight merge as no data.
    """
    xp, _, _ = get_namespace_and_device(moments.means)
    n_classes, n_features = moments.means.shape

    def place(array):
        if array is None:
            return None
        flat = xp.reshape(array, (n_classes, -1))
        return xp.reshape(placement @ flat, (-1, *array.shape[1:]))

    return ClassMoments(*(place(array) for array in moments))


def _sum_classes(array):
    xp, _, _ = get_namespace_and_device(array)
    return xp.sum(array, axis=0)


class ScatterSummary(NamedTuple):
    """What the shrinkage rules read of the standardised pooled scatter ``S``.

    ``S = sum_i w_i z_i z_i^T`` with ``z_i`` the within-class-centred row
    divided by the per-feature scale: the total weight, the number of
    features, ``tr(S)``, ``||S||_F^2`` and (Ledoit-Wolf only, else None)
    ``sum_i w_i ||z_i||^4``. The moments give them exactly; the Gram and
    iterative solvers compute them from the rows without forming ``S``.
    """

    n_samples: float
    n_features: int
    trace: float
    frobenius: float
    fourth: object = None


def scatter_summary(moments, scale):
    """:class:`ScatterSummary` of the moments for the per-feature ``scale``."""
    n_samples = float(to_numpy(_sum_classes(moments.weights)))
    pooled = to_numpy(_sum_classes(moments.scatters)).astype(np.float64)
    standardised = pooled / np.outer(scale, scale)
    fourth = None
    if moments.has_higher:
        inverse_variance = 1.0 / scale**2
        products = to_numpy(_sum_classes(moments.square_products))
        fourth = float(
            inverse_variance @ products.astype(np.float64) @ inverse_variance
        )
    return ScatterSummary(
        n_samples,
        scale.shape[0],
        float(np.trace(standardised)),
        float(np.sum(standardised**2)),
        fourth,
    )


def ledoit_wolf_intensity(summary):
    """Ledoit-Wolf intensity of the within-class-centred standardised data.

    The formula of ``sklearn.covariance.ledoit_wolf_shrinkage`` (with
    ``assume_centered=True``), written in terms of sufficient statistics so that
    ``partial_fit`` and dask give the same value as ``fit``.
    """
    n_samples, n_features = summary.n_samples, summary.n_features
    trace = summary.trace / n_samples
    delta_ = summary.frobenius / n_samples**2
    mu = trace / n_features
    beta = (summary.fourth / n_samples - delta_) / (n_features * n_samples)
    delta = (delta_ - 2.0 * mu * trace + n_features * mu**2) / n_features
    beta = min(beta, delta)
    return 0.0 if beta <= 0 else float(beta / delta)


def oas_intensity(summary):
    """Oracle Approximating Shrinkage intensity, as in ``sklearn.covariance.oas``."""
    n_samples, n_features = summary.n_samples, summary.n_features
    mu = summary.trace / n_samples / n_features
    alpha = summary.frobenius / n_samples**2 / n_features**2
    num = alpha + mu**2
    den = (n_samples + 1.0) * (alpha - mu**2 / n_features)
    return 1.0 if den == 0 else float(min(num / den, 1.0))


def row_folds(X, n_folds):
    """Fold (0 to ``n_folds - 1``) of each row of the dense ``X``, from its values.

    A hash of the bit patterns of the row, so a row's fold does not depend on
    its position: the row blocks of a dask array get the folds of the whole
    array without a pass to number the rows, and equal rows share a fold (a
    duplicate cannot be scored by a model that saw it). The folds are near
    uniform but not stratified. Computed on the host: the array API has no
    bit views.
    """
    n_samples, n_features = X.shape
    # one independent odd multiplier per column (a multiple of one constant
    # would let columns cancel)
    columns = np.arange(1, n_features + 1, dtype=np.uint64)
    multipliers = _mix64(np.uint64(_HASH_STEP) * columns) | np.uint64(1)
    if issparse(X):
        return _sparse_row_folds(X, n_folds, multipliers)
    xp, _, dev = get_namespace_and_device(X)
    host = to_numpy(X)
    block_rows = max(_MIN_BLOCK_ROWS, _CACHE_BLOCK_BYTES // (8 * n_features))
    value = np.empty(n_samples, dtype=np.uint64)
    # row blocks in cache: the per-entry work allocates block-sized temporaries
    for start in range(0, n_samples, block_rows):
        # float32 -> float64 is exact, so float32 rows hash the bits of their
        # float64 values
        bits = _folded_bits(host[start : start + block_rows])
        # an unsigned product wraps modulo 2^64, as a hash wants
        value[start : start + block_rows] = bits @ multipliers
    value = _mix64(value)
    return asarray((value % np.uint64(n_folds)).astype(np.int64), xp=xp, device=dev)


def out_of_fold_scores(X, folds, coef, intercept, n_folds):
    """Scores of each row by the model of its fold (host float64).

    ``coef`` (n_folds R, d) and ``intercept`` (n_folds R,) stack the ``R``
    score rows of each fold's model, the model that did not see that fold:
    every model scores every row in one product and each row keeps the scores
    of the model of its fold. Returns shape (n,) for one score row, else
    (n, R).
    """
    xp, _, dev = get_namespace_and_device(X)
    all_scores = xp.reshape(X @ coef.T + intercept, (X.shape[0], n_folds, -1))
    fold_ids = xp.arange(n_folds, dtype=folds.dtype, device=dev)
    own = xp.astype(folds[:, None] == fold_ids[None, :], X.dtype)
    scores = to_numpy(xp.sum(all_scores * own[:, :, None], axis=1))
    scores = scores.astype(np.float64)
    return scores[:, 0] if scores.shape[1] == 1 else scores


def _folded_bits(values):
    """Bits of the float64 values with their top half folded into the bottom."""
    bits = np.array(values, np.float64).view(np.uint64)
    # the exponent and leading mantissa bits of round numbers sit at the top;
    # fold them down before the product, which only carries upwards
    bits ^= bits >> np.uint64(32)
    return bits


def _sparse_row_folds(X, n_folds, multipliers):
    """:func:`row_folds` of a SciPy sparse matrix, equal to its dense copy's.

    A zero has all bits zero and adds nothing to the dense hash, so the sum
    runs over the stored entries: a wrapping cumulative sum, differenced at
    the row boundaries (exact modulo 2^64, empty rows included).
    """
    X = X.tocsr()
    products = _folded_bits(X.data) * multipliers[X.indices]
    running = np.concatenate(
        [np.zeros(1, np.uint64), np.cumsum(products, dtype=np.uint64)]
    )
    value = _mix64(running[X.indptr[1:]] - running[X.indptr[:-1]])
    return (value % np.uint64(n_folds)).astype(np.int64)


def _mix64(value):
    """splitmix64's finaliser: every input bit reaches every output bit."""
    value = value ^ (value >> np.uint64(30))
    value = value * np.uint64(_HASH_MIX[0])
    value = value ^ (value >> np.uint64(27))
    value = value * np.uint64(_HASH_MIX[1])
    return value ^ (value >> np.uint64(31))

"""The closed form of AnalyticLogisticRegression as functions of the class moments."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Everything here reads per-class sufficient statistics (ClassMoments) only,
# never the rows of X: the in-memory fit, partial_fit, the temperature folds,
# the dask reduction and AccuracyOptimizedLinear's starts all call these
# functions with moments they gathered their own way.

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.sparse import diags_array
from sklearn.exceptions import ConvergenceWarning

from ._backend import (
    asarray,
    dense_host,
    get_namespace_and_device,
    issparse,
    to_numpy,
)
from ._moments import (
    ScatterSummary,
    chunk_moments,
    class_indicator,
    ledoit_wolf_intensity,
    oas_intensity,
    scatter_summary,
)
from ._validation import check_prior

__all__ = [
    "SHRINKAGE_RULES",
    "ClosedForm",
    "check_columns_finite",
    "check_columns_resolvable",
    "check_moments_finite",
    "check_moments_resolvable",
    "choose_solver",
    "covariance_bytes",
    "default_closed_form",
    "row_statistics",
    "rows_closed_form",
    "closed_form",
    "class_priors",
    "log_priors",
    "needs_higher_moments",
    "Rule",
    "resolve_rule",
]

# Shrinkage rules by name: each maps (moments, per-feature scale) to an intensity
# on the standardised scale. A float shrinkage is used as it is.
SHRINKAGE_RULES = {
    "ledoit-wolf": ledoit_wolf_intensity,
    "oas": oas_intensity,
}
# Rules that need the higher moments of ClassMoments (collected only for them).
_HIGHER_MOMENT_RULES = {"ledoit-wolf"}


class Rule(NamedTuple):
    """The shared covariance and the shrinkage a fit uses."""

    shrinkage: object
    covariance: str


def resolve_rule(shrinkage, covariance, n_samples, n_features, solver, sparse):
    """The rules ``"auto"`` stands for (other values unchanged).

    Tall data on the covariance solver, where every class covariance is well
    determined: no shrinkage and the mean of the class covariances. Elsewhere
    (no more rows than features, the row solvers' wide or large data):
    Ledoit-Wolf shrinkage (OAS for sparse data on the covariance solver,
    which does not collect fourth moments) of the covariance pooled over the
    rows, so that small classes do not weigh as much as large ones.
    """
    tall = solver == "covariance" and n_samples > n_features
    if shrinkage == "auto":
        if tall:
            shrinkage = None
        else:
            shrinkage = "oas" if sparse and solver == "covariance" else "ledoit-wolf"
    if covariance == "auto":
        covariance = "mean" if tall else "pooled"
    return Rule(shrinkage, covariance)


def needs_higher_moments(shrinkage):
    """Whether the shrinkage rule reads the fourth moments of the data."""
    return isinstance(shrinkage, str) and shrinkage in _HIGHER_MOMENT_RULES


class ClosedForm(NamedTuple):
    """Coefficients (one row for two classes), intercepts, covariance, intensity."""

    coef: object
    intercept: object
    covariance: object
    shrinkage: float


def class_priors(priors, weights):
    """The given ``priors``, validated, or the weighted class frequencies."""
    xp, _, dev = get_namespace_and_device(weights)
    if priors is None:
        return weights / xp.sum(weights)
    return asarray(
        check_prior(priors, weights.shape[0], name="priors"),
        xp=xp,
        device=dev,
        dtype=weights.dtype,
    )


def log_priors(priors):
    """``log(priors)`` with a zero prior counted as the smallest normal number."""
    xp, _, _ = get_namespace_and_device(priors)
    tiny = xp.finfo(priors.dtype).smallest_normal
    return xp.log(xp.where(priors > 0, priors, xp.full_like(priors, tiny)))


def check_moments_finite(moments, feature_names=None):
    """ValueError naming the features whose moments overflow the dtype.

    Squares of values beyond about ``sqrt(max float / n)`` are not
    representable, and the closed form of such data would be meaningless.
    """
    xp, _, _ = get_namespace_and_device(moments.means)
    arrays = [xp.linalg.diagonal(moments.scatters), moments.means]
    if moments.has_higher:
        arrays.append(xp.linalg.diagonal(moments.square_products))
    power = "fourth powers" if moments.has_higher else "squares"
    check_columns_finite(arrays, power, moments.means.dtype, feature_names)


def check_columns_finite(arrays, power, dtype, feature_names=None):
    """ValueError naming the columns where any of the (K, d) ``arrays`` overflows."""
    bad = np.zeros(arrays[0].shape[-1], dtype=bool)
    for array in arrays:
        bad |= ~np.all(np.isfinite(to_numpy(array)), axis=0)
    if not np.any(bad):
        return
    described = _describe_columns(np.flatnonzero(bad), feature_names)
    raise ValueError(
        f"The {power} of the values of {', '.join(described)} overflow "
        f"{dtype}: the class covariances cannot be computed. "
        "Rescale these features (e.g. with StandardScaler, or by a power of "
        "ten) before fitting."
    )


def _describe_columns(columns, feature_names):
    """The first five columns, by feature name where X had names."""
    return [
        f"{feature_names[c]!r}" if feature_names is not None else f"column {c}"
        for c in columns[:5]
    ]


def check_moments_resolvable(moments, feature_names=None):
    """:func:`check_columns_resolvable` for the class moments."""
    xp, _, _ = get_namespace_and_device(moments.means)
    check_columns_resolvable(
        moments.means,
        moments.weights,
        xp.linalg.diagonal(moments.scatters),
        feature_names,
    )


def check_columns_resolvable(means, weights, deviations, feature_names=None):
    """ValueError naming the features too small for their squares.

    ``means`` are the (K, d) class means, ``weights`` the (K,) class weights
    and ``deviations`` the (K, d) weighted sums of squared deviations from
    the class means. Squares of values below about ``sqrt(smallest normal)``
    (1e-154 in float64) underflow: the spread of such a feature is lost and
    it would look constant, giving it a zero coefficient. A feature whose
    values are that small and whose variance is below the smallest normal
    number is refused (rescaling it gives the model of the rescaled data,
    with the same predictions).
    """
    means = to_numpy(means)
    finfo = np.finfo(means.dtype)
    weights = to_numpy(weights).astype(np.float64)
    deviations = to_numpy(deviations).astype(np.float64)
    variance = deviations.sum(axis=0) / weights.sum()
    largest = np.max(np.abs(means), axis=0)
    tiny = (
        (variance < finfo.smallest_normal)
        & (largest > 0)
        & (largest < np.sqrt(finfo.smallest_normal) / finfo.eps)
    )
    if not np.any(tiny):
        return
    described = _describe_columns(np.flatnonzero(tiny), feature_names)
    raise ValueError(
        f"The values of {', '.join(described)} are so small (largest class "
        f"mean {largest[tiny][0]:.3g}) that their squares underflow "
        f"{means.dtype}: their spread cannot be measured. Rescale these "
        "features (e.g. with StandardScaler, or by a power of ten) before "
        "fitting."
    )


def _shared_covariance(moments, covariance, xp):
    """Sigma: class covariances averaged (``"mean"``) or pooled by weight."""
    factors = _class_factors(moments.weights, covariance)
    return xp.tensordot(factors, moments.scatters, axes=1)


def _feature_scale(variance, n_rows, means, xp):
    """Standard deviation of each feature, 0 for features constant within classes.

    A variance at the rounding level of the data is treated as exactly zero, by
    the rule of :class:`~sklearn.preprocessing.StandardScaler`: the variance of
    a constant column computed in floating point is about ``(n eps mean)^2``.
    Here ``n = n_rows`` is the number of rows with a positive weight (the
    number of terms summed), so the rule does not depend on the scale of the
    weights.
    """
    eps = xp.finfo(variance.dtype).eps
    largest_mean = xp.max(xp.abs(means), axis=0)
    rounding = n_rows * eps * variance + (n_rows * eps * largest_mean) ** 2
    constant = variance <= rounding
    return xp.where(constant, xp.zeros_like(variance), xp.sqrt(variance))


def _row_count(moments, xp):
    """Rows with a positive weight behind ``moments`` (their total weight if
    the moments carry no counts)."""
    rows = moments.weights if moments.counts is None else moments.counts
    return float(xp.sum(rows))


def _shrinkage_intensity(shrinkage, summary):
    """The intensity of a float or named ``shrinkage``; ``summary()`` gives the
    :class:`~skprob._moments.ScatterSummary` a named rule reads."""
    if shrinkage is None:
        return 0.0
    if isinstance(shrinkage, str):
        # the rules read the weights as counts: their squared total and the
        # squared scatter must stay finite
        with np.errstate(over="ignore", invalid="ignore"):
            stats = summary()
        squared_total = stats.n_samples * stats.n_samples
        sums = [squared_total, stats.trace, stats.frobenius, stats.fourth]
        if not all(math.isfinite(value) for value in sums if value is not None):
            raise ValueError(
                f"shrinkage={shrinkage!r} reads the sample weights as counts, and "
                f"their total ({stats.n_samples:.3g}) is too large for its sums in "
                "float64: divide all the weights by one constant, or pass a "
                "float shrinkage."
            )
        return SHRINKAGE_RULES[shrinkage](stats)
    return float(shrinkage)


def _moments_summary(moments, scale, shrinkage):
    if needs_higher_moments(shrinkage) and not moments.has_higher:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs fourth moments that earlier "
            "partial_fit calls with another shrinkage did not collect; "
            "refit with fit or restart partial_fit."
        )
    host_scale = to_numpy(scale).astype(np.float64)
    return scatter_summary(moments, np.where(host_scale > 0, host_scale, 1.0))


def _solve_standardised(correlation, rhs, tol, xp):
    """``correlation^+ rhs`` with eigenvalues below ``tol * max`` treated as 0."""
    eigenvalues, eigenvectors = xp.linalg.eigh(correlation)
    cutoff = tol * float(xp.max(eigenvalues))
    keep = eigenvalues > cutoff
    inverse = xp.where(
        keep, 1.0 / xp.where(keep, eigenvalues, xp.ones_like(eigenvalues)), 0.0
    )
    return ((rhs @ eigenvectors) * inverse) @ eigenvectors.T


def closed_form(moments, log_priors, *, covariance, shrinkage, tol, fit_intercept):
    """Coefficients, intercepts and covariance of the closed form from the moments.

    The covariance is standardised first (Sigma = D R D with D the standard
    deviations), so that the shrinkage ``R -> (1 - lam) R + lam I`` and the
    rank cut-off act on the correlation matrix, as
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis` does:
    rescaling a feature rescales its coefficient and changes nothing else.
    """
    xp, _, dev = get_namespace_and_device(moments.means)
    means, weights = moments.means, moments.weights
    sigma = _shared_covariance(moments, covariance, xp)
    scale = _feature_scale(
        xp.linalg.diagonal(sigma), _row_count(moments, xp), means, xp
    )
    active = scale > 0
    safe_scale = xp.where(active, scale, xp.ones_like(scale))
    correlation = sigma / (safe_scale[:, None] * safe_scale[None, :])
    # features constant within every class carry no information in this model:
    # a zero row and column with a unit diagonal, and a zero right-hand side,
    # give them zero coefficients
    identity = xp.eye(correlation.shape[0], dtype=correlation.dtype, device=dev)
    inactive = xp.astype(~active, correlation.dtype)
    correlation = (
        xp.where(
            active[:, None] & active[None, :], correlation, xp.zeros_like(correlation)
        )
        + identity * inactive[None, :]
    )
    intensity = _shrinkage_intensity(
        shrinkage, lambda: _moments_summary(moments, scale, shrinkage)
    )
    if intensity > 0:
        correlation = (1.0 - intensity) * correlation + intensity * identity
    rhs = xp.where(active[None, :], means / safe_scale, xp.zeros_like(means))
    coef = _solve_standardised(correlation, rhs, tol, xp) / safe_scale
    covariance_ = correlation * (scale[:, None] * scale[None, :])

    return _finish(
        coef, means, weights, log_priors, intensity, covariance_, fit_intercept
    )


# ---------------------------------------------------------------------------
# The same closed form from the rows, for wide and sparse data: the Gram (n x n)
# form when there are fewer rows than features, conjugate gradients on the
# shrunk correlation as an operator when both are large. Neither forms a d x d
# matrix, and neither centres a sparse X: the class means are subtracted
# inside every product.

# Memory the direct solvers may use for their dense matrices: the K + 2
# d x d matrices of the covariance path, the few n x n of the Gram path.
DIRECT_MAX_BYTES = 1 << 28
# Conjugate gradients: relative residual of each class's system, most steps.
CG_RTOL = 1e-8
_CG_MAX_ITER = 1000
# Products with S of the Hutch++ estimate of ||S||_F^2 (for "oas" and
# "ledoit-wolf" on the iterative path), from a fixed seed: deterministic fits.
_TRACE_PROBES = 32
# Conjugate gradients and the trace estimate work on blocks of columns whose
# (d, width) arrays take about this much.
_BLOCK_BYTES = 1 << 23


class RowStatistics(NamedTuple):
    """Class weights (K,), means (K, d) and ``sum w (x - mean)^2`` per class (K, d)."""

    weights: np.ndarray
    means: np.ndarray
    deviations: np.ndarray


def row_statistics(X, y_index, sample_weight, n_classes):
    """:class:`RowStatistics` of dense or SciPy sparse ``X`` (host float64)."""
    indicator = class_indicator(y_index, n_classes, sample_weight)
    weights = np.asarray(indicator.sum(axis=0), dtype=np.float64).ravel()
    safe = np.where(weights > 0, weights, 1.0)
    if issparse(X):
        return _sparse_row_statistics(X, indicator.toarray(), weights, safe)
    means = np.asarray(dense_host(indicator.T @ X), dtype=np.float64) / safe[:, None]
    deviations = indicator.T @ (X - means[y_index]) ** 2
    return RowStatistics(weights, means, np.asarray(deviations, dtype=np.float64))


def _sparse_row_statistics(X, indicator, weights, safe):
    """:func:`row_statistics` of CSR or CSC ``X`` without duplicate entries
    (:func:`~skprob._validation.canonical_sparse`); ``indicator`` dense (n, K).

    On text the (K, d) arrays are each about as large as X: products of the
    transposed X with the dense indicator give them without a sparse (K, d)
    intermediate, the squares share X's index arrays, and the centring
    works in place.
    """
    means = np.ascontiguousarray((X.T @ indicator).T, dtype=np.float64)
    means /= safe[:, None]
    squares = type(X)(
        (np.square(X.data, dtype=np.float64), X.indices, X.indptr), shape=X.shape
    )
    deviations = np.ascontiguousarray((squares.T @ indicator).T, dtype=np.float64)
    del squares
    correction = np.square(means)
    correction *= weights[:, None]
    deviations -= correction
    del correction
    np.maximum(deviations, 0.0, out=deviations)
    return RowStatistics(weights, means, deviations)


class _CentredRows:
    """``A = diag(sqrt(c w)) (X - M[y]) D^+``, applied without forming it.

    ``c`` weighs each row's class in the shared covariance (``Sigma = A^T A``
    before standardisation), ``M`` are the class means and ``D^+`` the
    inverse scales, zero for features constant within classes.
    """

    def __init__(self, X, y_index, sample_weight, stats, row_factor, inverse_scale):
        self.X = X.tocsr() if issparse(X) else X
        self.y_index = y_index
        self.root = np.sqrt(row_factor * sample_weight)
        self.inverse_scale = inverse_scale
        self.scaled_means = stats.means * inverse_scale
        self.indicator = class_indicator(y_index, stats.means.shape[0])

    def matvec(self, V):
        """``A V`` for V of shape (d, m)."""
        X_part = self.X @ (self.inverse_scale[:, None] * V)
        return self.root[:, None] * (X_part - (self.scaled_means @ V)[self.y_index])

    def rmatvec(self, U):
        """``A^T U`` for U of shape (n, m)."""
        rooted = self.root[:, None] * U
        X_part = dense_host(self.X.T @ rooted)
        return self.inverse_scale[:, None] * X_part - self.scaled_means.T @ (
            self.indicator.T @ rooted
        )

    def gram(self):
        """``A A^T`` (n, n), dense."""
        if issparse(self.X):
            scaled = self.X @ diags_array(self.inverse_scale)
            cross = dense_host(scaled @ self.scaled_means.T)[:, self.y_index]
            means_gram = self.scaled_means @ self.scaled_means.T
            gram = dense_host(scaled @ scaled.T) - cross - cross.T
            gram += means_gram[np.ix_(self.y_index, self.y_index)]
        else:
            centred = self.X * self.inverse_scale - self.scaled_means[self.y_index]
            gram = centred @ centred.T
        return gram * np.outer(self.root, self.root)

    def row_norms(self):
        """``||a_i||^2`` of each row of A."""
        if issparse(self.X):
            # from the stored non-zeros: no scaled copy of X
            X = self.X
            values = (X.data * self.inverse_scale[X.indices]) ** 2
            squares = np.zeros(X.shape[0])
            filled = np.flatnonzero(np.diff(X.indptr))
            squares[filled] = np.add.reduceat(values, X.indptr[filled])
            rows = np.arange(self.y_index.shape[0])
            weighted_means = self.scaled_means * self.inverse_scale
            cross = np.asarray(X @ weighted_means.T)[rows, self.y_index]
            mean_norms = np.sum(self.scaled_means**2, axis=1)[self.y_index]
            norms = squares - 2.0 * cross + mean_norms
        else:
            centred = self.X * self.inverse_scale - self.scaled_means[self.y_index]
            norms = np.sum(centred**2, axis=1)
        return np.maximum(norms, 0.0) * self.root**2


def _class_factors(weights, covariance):
    """Weight ``c_k`` of each class's scatter in Sigma: ``1 / (w_k K_seen)``
    (``"mean"``, 0 for unseen classes) or ``1 / sum w`` (``"pooled"``)."""
    xp = get_namespace_and_device(weights)[0]
    if covariance == "pooled":
        return xp.ones_like(weights) / float(xp.sum(weights))
    seen = weights > 0
    per_class = xp.where(
        seen, 1.0 / xp.where(seen, weights, xp.ones_like(weights)), 0.0
    )
    return per_class / float(xp.sum(xp.astype(seen, weights.dtype)))


def _rows_summary(rows, pooled_factor, sample_weight, gram, shrinkage):
    """:class:`~skprob._moments.ScatterSummary` of the rows.

    The rows of ``A`` divided by ``sqrt(c)`` are those of the pooled scatter;
    its trace and the fourth moment come from the row norms, ``||S||_F^2``
    from the Gram matrix when there is one, else by Hutchinson's estimator
    ``E ||S z||^2`` over Rademacher vectors ``z``.
    """
    norms = rows.row_norms() * pooled_factor
    n_features = rows.inverse_scale.shape[0]
    if gram is not None:
        pooled_gram = gram * np.outer(np.sqrt(pooled_factor), np.sqrt(pooled_factor))
        frobenius = float(np.sum(pooled_gram**2))
    else:
        frobenius = _hutchinson_plus_plus(rows, np.sqrt(pooled_factor))
    fourth = None
    if needs_higher_moments(shrinkage):
        positive = sample_weight > 0
        fourth = float(np.sum(norms[positive] ** 2 / sample_weight[positive]))
    return ScatterSummary(
        float(np.sum(sample_weight)),
        n_features,
        float(np.sum(norms)),
        frobenius,
        fourth,
    )


def _hutchinson_plus_plus(rows, row_scale):
    """``||S||_F^2 = tr(S^2)`` for ``S = B^T B``, ``B = diag(row_scale) A``.

    Hutch++ (Meyer et al., 2021): the trace on the range of a sketch of
    ``S^2`` exactly, Hutchinson's Rademacher estimate on the rest, from
    ``4 k`` products with ``S`` (8 k with X), ``k = 16``, and a fixed seed.
    """

    width = _block_width(rows)
    squared_scale = row_scale[:, None] ** 2

    # column blocks keep the (n, width) and (d, width) temporaries small, and
    # each (d, k) array is about as large as X on text: no more of them are
    # alive at once than the sketch needs
    def blocks(V):
        for j in range(0, V.shape[1], width):
            yield j, rows.rmatvec(squared_scale * rows.matvec(V[:, j : j + width]))

    def apply(V):
        image = np.empty_like(V)
        for j, block in blocks(V):
            image[:, j : j + block.shape[1]] = block
        return image

    def squared_norm_of_image(V):
        return sum(float(np.sum(block**2)) for _, block in blocks(V))

    n_features = rows.inverse_scale.shape[0]
    k = min(_TRACE_PROBES // 2, n_features)
    rng = np.random.default_rng(0)
    image = apply(rng.choice([-1.0, 1.0], size=(n_features, k)))
    image = apply(image)
    basis, _ = np.linalg.qr(image)
    del image
    exact = squared_norm_of_image(basis)
    probes = rng.choice([-1.0, 1.0], size=(n_features, k))
    probes -= basis @ (basis.T @ probes)
    del basis
    return exact + squared_norm_of_image(probes) / k


def covariance_bytes(n_features, n_classes):
    """Memory of the per-class scatter matrices and their solve (float64)."""
    return 8 * (n_classes + 2) * n_features**2


def choose_solver(n_samples, n_features, n_classes, solver):
    """The solver ``"auto"`` stands for: the cheapest direct one that fits in
    ``DIRECT_MAX_BYTES``, else conjugate gradients."""
    if solver != "auto":
        return solver
    covariance_fits = covariance_bytes(n_features, n_classes) <= DIRECT_MAX_BYTES
    gram_fits = 8 * 3 * n_samples**2 <= DIRECT_MAX_BYTES
    if covariance_fits and (n_features <= n_samples or not gram_fits):
        return "covariance"
    return "gram" if gram_fits else "cg"


def rows_closed_form(
    X,
    y_index,
    sample_weight,
    stats,
    log_priors,
    *,
    covariance,
    shrinkage,
    tol,
    fit_intercept,
    solver,
):
    """The closed form of :func:`closed_form` from the rows (``"gram"`` or ``"cg"``).

    Equal to the covariance path on the same data (the same shrunk
    correlation, the same eigenvalue cut-off for ``"gram"``; conjugate
    gradients to a relative residual of ``CG_RTOL`` for ``"cg"``); X may be
    SciPy sparse and is never densified. ``stats`` are the
    :func:`row_statistics` of the rows; ``covariance`` of the result is None.
    """
    class_factors = _class_factors(stats.weights, covariance)
    row_factor = class_factors[y_index]
    # the diagonal of Sigma, from the per-class squared deviations
    variance = class_factors @ stats.deviations
    n_rows = float(np.count_nonzero(to_numpy(sample_weight)))
    scale = _feature_scale(variance, n_rows, stats.means, np)
    active = scale > 0
    inverse_scale = np.where(active, 1.0 / np.where(active, scale, 1.0), 0.0)
    rows = _CentredRows(X, y_index, sample_weight, stats, row_factor, inverse_scale)
    gram = rows.gram() if solver == "gram" else None
    # rows of A over sqrt(c) are those of the pooled scatter (unseen classes:
    # rows of zero weight, which add nothing)
    pooled_factor = np.where(
        row_factor > 0, 1.0 / np.where(row_factor > 0, row_factor, 1.0), 0.0
    )
    intensity = _shrinkage_intensity(
        shrinkage,
        lambda: _rows_summary(rows, pooled_factor, sample_weight, gram, shrinkage),
    )
    rhs = stats.means * inverse_scale
    if solver == "gram":
        standardised = _solve_gram(rows, gram, rhs, intensity, tol)
    else:
        standardised = _solve_cg(rows, rhs, intensity)
    standardised *= inverse_scale
    return _finish(
        standardised,
        stats.means,
        stats.weights,
        log_priors,
        intensity,
        None,
        fit_intercept,
    )


def _finish(coef, means, weights, log_priors, intensity, covariance, fit_intercept):
    """Intercepts, unseen classes and the one-row binary form of the closed form."""
    xp, _, _ = get_namespace_and_device(coef)
    n_classes = means.shape[0]
    seen = weights > 0
    if fit_intercept:
        intercept = -0.5 * xp.sum(coef * means, axis=1) + log_priors
    else:
        intercept = xp.zeros_like(log_priors)
    # classes declared but not seen yet: never predicted, scores stay finite
    tiny = xp.finfo(means.dtype).smallest_normal
    if not bool(xp.all(seen)):
        # (K, d) temporaries as large as X on text: only where a class is unseen
        coef = xp.where(seen[:, None], coef, xp.zeros_like(coef))
    intercept = xp.where(seen, intercept, xp.full_like(intercept, math.log(tiny)))
    if n_classes == 2:
        coef = coef[1:2, :] - coef[0:1, :]
        intercept = intercept[1:2] - intercept[0:1]
    return ClosedForm(coef, intercept, covariance, intensity)


def _solve_gram(rows, gram, rhs, intensity, tol):
    """``R_lam^+ rhs^T`` through the eigendecomposition of the Gram matrix.

    With ``A A^T = U L U^T``, the correlation ``R = A^T A`` has the
    eigenvectors ``A^T U L^-1/2`` for the eigenvalues ``L`` and 0 on the
    rest, so ``R_lam = (1 - lam) R + lam I`` is inverted on ``n``
    eigenvalues and ``1 / lam`` elsewhere, with the cut-off of the
    covariance path (eigenvalues of ``R_lam`` below ``tol`` times the
    largest are treated as 0).
    """
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    shrunk = (1.0 - intensity) * eigenvalues + intensity
    cutoff = tol * max(float(np.max(shrunk)), intensity)
    projected = eigenvectors.T @ rows.matvec(rhs.T)
    if intensity > cutoff:
        # 1/lam on the whole space, corrected on the Gram eigenvectors:
        # (1 / shrunk - 1 / lam) / L, written without dividing by L
        factor = -(1.0 - intensity) / (intensity * shrunk)
        solution = rows.rmatvec(eigenvectors @ (factor[:, None] * projected))
        return (solution + rhs.T / intensity).T
    keep = shrunk > cutoff
    safe = np.where(keep, eigenvalues * shrunk, 1.0)
    factor = np.where(keep, 1.0 / safe, 0.0)
    return rows.rmatvec(eigenvectors @ (factor[:, None] * projected)).T


def _solve_cg(rows, rhs, intensity):
    """``R_lam^-1 rhs^T`` by conjugate gradients, all classes at once.

    Each step applies ``R_lam`` to the K search directions with two products
    with X (O(nnz K)); each class's system stops at a relative residual of
    ``CG_RTOL``. ``R_lam`` needs ``lam > 0``: without shrinkage the
    correlation of wide data is singular. The solution overwrites ``rhs``,
    a (K, d) array as large as X on text, block by block.
    """
    if intensity <= 0:
        raise ValueError(
            "solver='cg' needs a shrunk correlation (shrinkage > 0): without "
            "shrinkage the covariance of wide data is singular. Use "
            "shrinkage='oas' (the default for such data) or a float in (0, 1]."
        )

    width = _block_width(rows)
    for start in range(0, rhs.shape[0], width):
        block = slice(start, start + width)
        rhs[block] = _cg_block(rows, rhs[block].T, intensity).T
    return rhs


def _block_width(rows):
    """Columns per block so that one (d, width) float64 array stays near 8 MiB."""
    return max(1, _BLOCK_BYTES // (8 * rows.inverse_scale.shape[0]))


def _cg_block(rows, target, intensity):
    """Conjugate gradients on ``R_lam X = target`` for a block of columns."""

    def apply(V):
        return (1.0 - intensity) * rows.rmatvec(rows.matvec(V)) + intensity * V

    solution = target / intensity
    residual = target - apply(solution)
    goal = CG_RTOL * np.linalg.norm(target, axis=0)
    search = residual.copy()
    rr = np.sum(residual**2, axis=0)
    for _ in range(_CG_MAX_ITER):
        active = np.sqrt(rr) > goal
        if not np.any(active):
            return solution
        product = apply(search)
        curvature = np.sum(search * product, axis=0)
        step = np.where(active, rr / np.where(active, curvature, 1.0), 0.0)
        solution += step * search
        residual -= step * product
        rr_new = np.sum(residual**2, axis=0)
        search *= np.where(active, rr_new / np.where(active, rr, 1.0), 0.0)
        search += residual
        rr = rr_new
    warnings.warn(
        f"Conjugate gradients stopped after {_CG_MAX_ITER} steps with a "
        f"relative residual of {float(np.max(np.sqrt(rr) / goal)) * CG_RTOL:.1e}; "
        "a larger shrinkage conditions the system better, and solver='gram' "
        "solves it directly when the rows are few.",
        ConvergenceWarning,
        stacklevel=5,
    )
    return solution


def default_closed_form(
    X,
    y_index,
    sample_weight,
    n_classes,
    *,
    fit_intercept,
    moments=None,
    feature_names=None,
):
    """The model of a default AnalyticLogisticRegression on these rows.

    Frequencies as priors, the mean class covariance, ``shrinkage="auto"``
    and ``solver="auto"``. ``moments`` (their :class:`ClassMoments`, without
    the higher ones) spare the pass over X when the covariance path without
    Ledoit-Wolf is chosen; X may be SciPy sparse.
    """
    n_samples, n_features = X.shape
    solver = choose_solver(n_samples, n_features, n_classes, "auto")
    rule = resolve_rule("auto", "auto", n_samples, n_features, solver, issparse(X))
    options = dict(
        covariance=rule.covariance,
        shrinkage=rule.shrinkage,
        tol=1e-10,
        fit_intercept=fit_intercept,
    )
    if solver == "covariance":
        higher = needs_higher_moments(rule.shrinkage)
        if moments is None or higher:
            moments = chunk_moments(
                X, y_index, sample_weight, n_classes, np, higher=higher
            )
        check_moments_finite(moments, feature_names)
        return closed_form(
            moments, log_priors(class_priors(None, moments.weights)), **options
        )
    stats = row_statistics(X, y_index, sample_weight, n_classes)
    check_columns_finite(
        [stats.deviations, stats.means], "squares", X.dtype, feature_names
    )
    return rows_closed_form(
        X,
        y_index,
        sample_weight,
        stats,
        log_priors(class_priors(None, stats.weights)),
        solver=solver,
        **options,
    )

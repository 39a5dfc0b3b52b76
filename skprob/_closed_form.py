"""The closed form of AnalyticLogisticRegression as functions of the class moments."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Everything here reads per-class sufficient statistics (ClassMoments) only,
# never the rows of X: the in-memory fit, partial_fit, the temperature folds,
# the dask reduction and AccuracyOptimizedLinear's starts all call these
# functions with moments they gathered their own way.

import math
from typing import NamedTuple

import numpy as np

from ._backend import asarray, get_namespace_and_device, to_numpy
from ._moments import ledoit_wolf_intensity, oas_intensity
from ._validation import check_prior

__all__ = [
    "SHRINKAGE_RULES",
    "ClosedForm",
    "check_moments_finite",
    "closed_form",
    "class_priors",
    "log_priors",
    "needs_higher_moments",
]

# Shrinkage rules by name: each maps (moments, per-feature scale) to an intensity
# on the standardised scale. A float shrinkage is used as it is.
SHRINKAGE_RULES = {
    "ledoit-wolf": ledoit_wolf_intensity,
    "oas": oas_intensity,
}
# Rules that need the higher moments of ClassMoments (collected only for them).
_HIGHER_MOMENT_RULES = {"ledoit-wolf"}


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
    bad = np.zeros(moments.means.shape[1], dtype=bool)
    for array in arrays:
        bad |= ~np.all(np.isfinite(to_numpy(array)), axis=0)
    if not np.any(bad):
        return
    columns = np.flatnonzero(bad)
    described = [
        f"{feature_names[c]!r}" if feature_names is not None else f"column {c}"
        for c in columns[:5]
    ]
    power = "fourth powers" if moments.has_higher else "squares"
    raise ValueError(
        f"The {power} of the values of {', '.join(described)} overflow "
        f"{moments.means.dtype}: the class covariances cannot be computed. "
        "Rescale these features (e.g. with StandardScaler, or by a power of "
        "ten) before fitting."
    )


def _shared_covariance(moments, covariance, xp):
    """Sigma: class covariances averaged (``"mean"``) or pooled by weight."""
    weights, scatters = moments.weights, moments.scatters
    if covariance == "pooled":
        return xp.sum(scatters, axis=0) / float(xp.sum(weights))
    seen = weights > 0
    safe = xp.where(seen, weights, xp.ones_like(weights))
    per_class = scatters / safe[:, None, None]
    return xp.sum(per_class, axis=0) / float(xp.sum(xp.astype(seen, scatters.dtype)))


def _feature_scale(sigma, moments, xp):
    """Standard deviation of each feature, 0 for features constant within classes.

    A variance at the rounding level of the data is treated as exactly zero, by
    the rule of :class:`~sklearn.preprocessing.StandardScaler`: the variance of
    a constant column computed in floating point is about ``(n eps mean)^2``.
    """
    variance = xp.linalg.diagonal(sigma)
    eps = xp.finfo(sigma.dtype).eps
    n_samples = float(xp.sum(moments.weights))
    largest_mean = xp.max(xp.abs(moments.means), axis=0)
    rounding = n_samples * eps * variance + (n_samples * eps * largest_mean) ** 2
    constant = variance <= rounding
    return xp.where(constant, xp.zeros_like(variance), xp.sqrt(variance))


def _shrinkage_intensity(shrinkage, moments, scale):
    if shrinkage is None:
        return 0.0
    if isinstance(shrinkage, str):
        if needs_higher_moments(shrinkage) and not moments.has_higher:
            raise ValueError(
                f"shrinkage={shrinkage!r} needs fourth moments that earlier "
                "partial_fit calls with another shrinkage did not collect; "
                "refit with fit or restart partial_fit."
            )
        host_scale = to_numpy(scale).astype(np.float64)
        return SHRINKAGE_RULES[shrinkage](
            moments, np.where(host_scale > 0, host_scale, 1.0)
        )
    return float(shrinkage)


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
    n_classes = means.shape[0]
    sigma = _shared_covariance(moments, covariance, xp)
    scale = _feature_scale(sigma, moments, xp)
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
    intensity = _shrinkage_intensity(shrinkage, moments, scale)
    if intensity > 0:
        correlation = (1.0 - intensity) * correlation + intensity * identity
    rhs = xp.where(active[None, :], means / safe_scale, xp.zeros_like(means))
    coef = _solve_standardised(correlation, rhs, tol, xp) / safe_scale
    covariance_ = correlation * (scale[:, None] * scale[None, :])

    seen = weights > 0
    if fit_intercept:
        intercept = -0.5 * xp.sum(coef * means, axis=1) + log_priors
    else:
        intercept = xp.zeros_like(log_priors)
    # classes declared but not seen yet: never predicted, scores stay finite
    tiny = xp.finfo(means.dtype).smallest_normal
    coef = xp.where(seen[:, None], coef, xp.zeros_like(coef))
    intercept = xp.where(seen, intercept, xp.full_like(intercept, math.log(tiny)))
    if n_classes == 2:
        coef = coef[1:2, :] - coef[0:1, :]
        intercept = intercept[1:2] - intercept[0:1]
    return ClosedForm(coef, intercept, covariance_, intensity)

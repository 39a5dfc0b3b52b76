"""Input checks shared by skprob estimators, raising errors that name the problem."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np

from ._backend import (
    asarray,
    get_namespace,
    get_namespace_and_device,
    namespace_name,
    to_numpy,
)

__all__ = ["check_probability_rows", "check_prior", "check_sample_weight"]


def check_probability_rows(P, *, atol=1e-6, renormalize=False, name="X"):
    """Check that every row of ``P`` is a probability vector.

    Parameters
    ----------
    P : array of shape (n_samples, n_classes)
        Validated floating array (any namespace).
    atol : float, default=1e-6
        Tolerance on ``|sum(row) - 1|``.
    renormalize : bool, default=False
        Divide each row by its sum instead of raising when the sums are off.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    P : array of shape (n_samples, n_classes)
        ``P`` itself, or a renormalised copy; the input is never modified.
    """
    xp, _ = get_namespace(P)
    if P.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_classes), got {P.ndim}-D.")
    if not bool(xp.all(xp.isfinite(P))):
        raise ValueError(f"{name} contains NaN or infinite probabilities.")
    if bool(xp.any(P < 0)):
        raise ValueError(f"{name} contains negative probabilities.")
    sums = xp.sum(P, axis=1)
    if bool(xp.any(sums <= 0)):
        raise ValueError(f"{name} has rows whose probabilities are all zero.")
    if renormalize:
        return P / sums[:, None]
    worst = float(xp.max(xp.abs(sums - 1.0)))
    if worst > atol:
        raise ValueError(
            f"The rows of {name} must sum to 1 (largest deviation {worst:.3g} > "
            f"{atol:g}); divide each row by its sum, or pass renormalize=True "
            "where the function or estimator offers it."
        )
    return P


def check_prior(prior, n_classes, *, name="prior", atol=1e-6):
    """Validate a class prior given by the user and return it as float64 NumPy."""
    prior = np.asarray(
        to_numpy(prior) if hasattr(prior, "__array_namespace__") else prior
    )
    if prior.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {prior.dtype}.")
    prior = prior.astype(np.float64)
    if prior.ndim != 1 or prior.shape[0] != n_classes:
        raise ValueError(
            f"{name} must have shape ({n_classes},) (one entry per class), "
            f"got {prior.shape}."
        )
    if not np.all(np.isfinite(prior)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if np.any(prior < 0):
        raise ValueError(f"{name} must be non-negative, got {prior}.")
    if abs(prior.sum() - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1, got a sum of {prior.sum():.6g}.")
    return prior


def check_sample_weight(sample_weight, X):
    """Non-negative, finite sample weights in the namespace and dtype of ``X``."""
    xp, _, dev = get_namespace_and_device(X)
    n_samples = X.shape[0]
    if sample_weight is None:
        return xp.ones((n_samples,), dtype=X.dtype, device=dev)
    if isinstance(sample_weight, Real):
        return xp.full((n_samples,), float(sample_weight), dtype=X.dtype, device=dev)
    if not hasattr(sample_weight, "__array_namespace__") or isinstance(
        sample_weight, np.ndarray
    ):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.dtype.kind not in "iuf":
            raise TypeError(
                f"sample_weight must be numeric, got dtype {sample_weight.dtype}."
            )
    sample_weight = asarray(
        to_numpy(sample_weight)
        if not _same_namespace(sample_weight, xp)
        else sample_weight,
        xp=xp,
        device=dev,
        dtype=X.dtype,
    )
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {sample_weight.shape}."
        )
    if not bool(xp.all(xp.isfinite(sample_weight))):
        raise ValueError("sample_weight contains NaN or infinite values.")
    if bool(xp.any(sample_weight < 0)):
        raise ValueError("sample_weight must be non-negative.")
    if float(xp.sum(sample_weight)) <= 0:
        raise ValueError("sample_weight sums to zero: there is nothing to fit.")
    return sample_weight


def _same_namespace(array, xp):
    return namespace_name(get_namespace_and_device(array)[0]) == namespace_name(xp)

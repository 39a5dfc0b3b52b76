"""Input checks shared by skprob estimators, raising errors that name the problem."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ._backend import (
    asarray,
    get_namespace,
    get_namespace_and_device,
    is_non_numpy_array,
    is_numpy_namespace,
    issparse,
    namespace_name,
    to_numpy,
)

__all__ = [
    "check_probability_rows",
    "check_at_most_2d",
    "check_prior",
    "check_sample_weight",
    "canonical_sparse",
    "encode_labels",
    "decode_labels",
]


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
    prior = to_numpy(prior)
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


def check_at_most_2d(X, estimator_name):
    """ValueError naming the dimension when X has more than two, as
    :func:`~sklearn.utils.check_array` words it; meta-estimators that leave X to
    their base model check this before splitting rows."""
    # objects without a shape (lists, array-likes that refuse NumPy's array
    # functions) are the base model's to validate
    ndim = len(getattr(X, "shape", ()))
    if ndim > 2:
        raise ValueError(
            f"Found array with dim {ndim}, while dim <= 2 is required by "
            f"{estimator_name}."
        )


def canonical_sparse(X):
    """``X``, or for SciPy sparse ``X`` with duplicate entries a copy with them
    summed (the input is not modified).

    The fits square stored values and hash them; an entry stored as two parts
    must count as their sum, as in the dense matrix.
    """
    if not issparse(X) or X.has_canonical_format:
        return X
    X = X.copy()
    X.sum_duplicates()
    return X


def check_sample_weight(sample_weight, X):
    """Non-negative, finite sample weights in the namespace and dtype of ``X``."""
    xp, _, dev = get_namespace_and_device(X)
    n_samples = X.shape[0]
    if sample_weight is None:
        return xp.ones((n_samples,), dtype=X.dtype, device=dev)
    if isinstance(sample_weight, Real):
        return xp.full((n_samples,), float(sample_weight), dtype=X.dtype, device=dev)
    if not is_non_numpy_array(sample_weight):
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


def encode_labels(y, *, xp, device=None, classes=None, min_classes=2, name="y"):
    """Sorted classes and the index of each label of ``y`` among them.

    The one label encoder of skprob. Labels are encoded on the host, whatever
    their namespace: array-API dispatch leaves string and object labels in
    NumPy, and one host sort of ``n`` labels is cheap next to any fit.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, already checked to be classification targets.
    xp : namespace
        Namespace of ``X``: the index (and numeric classes) are put there.
    device : device, default=None
        Device of ``X``.
    classes : array-like of shape (n_classes,), default=None
        All the classes (e.g. ``partial_fit``'s ``classes``); None learns them
        from ``y``. Labels of ``y`` outside ``classes`` raise a ValueError.
    min_classes : int, default=2
        Fewer classes than this raise a ValueError.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    classes : array of shape (n_classes,)
        In ``xp`` on ``device`` for numeric labels, as scikit-learn keeps
        ``classes_`` in the namespace of ``X``; a NumPy array for strings and
        objects, which array-API namespaces cannot hold.
    y_index : integer array of shape (n_samples,)
        In ``xp`` on ``device``.
    """
    y_host = to_numpy(y)
    if classes is None:
        classes_host, index = np.unique(y_host, return_inverse=True)
    else:
        classes_host = np.unique(to_numpy(classes))
        if classes_host.size == 0:
            raise ValueError("classes is empty: pass every label y can take.")
        index = np.searchsorted(classes_host, y_host)
        index = np.clip(index, 0, classes_host.shape[0] - 1)
        unknown = classes_host[index] != y_host
        if np.any(unknown):
            bad = np.unique(y_host[unknown])
            raise ValueError(
                f"{name} contains labels not in classes {classes_host.tolist()}: "
                f"{bad[:5].tolist()}."
            )
    if classes_host.shape[0] < min_classes:
        raise ValueError(
            f"{name} needs at least {min_classes} classes, got "
            f"{classes_host.shape[0]}: {classes_host.tolist()}."
        )
    y_index = asarray(index.reshape(-1), xp=xp, device=device)
    if classes_host.dtype.kind in "biuf":
        return asarray(classes_host, xp=xp, device=device), y_index
    return classes_host, y_index


def decode_labels(index, classes, *, xp):
    """``classes[index]`` for an integer ``index`` array of namespace ``xp``.

    Numeric classes live in ``xp`` and are gathered there; classes kept on the
    host by :func:`encode_labels` (strings, objects) are gathered on the host,
    so predictions come back as a NumPy array of labels.
    """
    if not is_numpy_namespace(xp) and not is_non_numpy_array(classes):
        return classes[to_numpy(index)]
    return xp.take(classes, index, axis=0)


def _numpy_generator(random_state):
    """NumPy Generator from an int, None, a RandomState or a Generator.

    Estimators that draw their random numbers on the host (then move them to the
    array namespace) get them here: NumPy, array_api_strict and CuPy runs with the
    same ``random_state`` therefore see the same draws.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)

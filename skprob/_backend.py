"""Array namespace and device helpers: the only module that knows about backends."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Every other skprob module obtains its array namespace ``xp`` from here and writes
# array-API code against it. scikit-learn's array-API helpers are private, so they
# are imported in this one place only, and the small private helpers whose
# signatures change between scikit-learn releases are re-implemented here.

import sys

import numpy as np
from scipy.sparse import issparse as _scipy_issparse
from sklearn import get_config
from sklearn.utils._array_api import device as _sk_device
from sklearn.utils._array_api import get_namespace as _sk_get_namespace
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "get_namespace",
    "get_namespace_and_device",
    "device",
    "is_numpy_namespace",
    "to_numpy",
    "is_non_numpy_array",
    "asarray",
    "logsumexp",
    "softmax",
    "expit",
    "log_expit",
    "log_ndtr",
    "add_to_diagonal",
    "entropy",
    "namespace_name",
    "check_same_namespace",
    "dense_host",
    "is_dask_collection",
    "issparse",
    "lazy_blockwise",
    "xlogx",
    "log_or_minus_inf",
    "log_zero_as_tiny",
]


def get_namespace(*arrays):
    """Return ``(xp, is_array_api)`` for ``arrays``.

    Honours ``sklearn.set_config(array_api_dispatch=...)``: without dispatch the
    NumPy compatibility namespace is returned whatever the inputs are.
    """
    return _sk_get_namespace(*arrays)


def device(*arrays):
    """Return the device shared by ``arrays`` (None for NumPy)."""
    return _sk_device(*arrays)


def get_namespace_and_device(*arrays):
    """Return ``(xp, is_array_api, device)`` for ``arrays``."""
    xp, is_array_api = get_namespace(*arrays)
    return xp, is_array_api, device(*arrays)


def namespace_name(xp):
    """Name of the array library behind ``xp`` (``"numpy"``, ``"cupy"``, ...)."""
    name = xp.__name__
    # array-api-compat's wrappers, vendored by scikit-learn or not, are named
    # "[sklearn.externals.]array_api_compat.<library>"
    if "array_api_compat." in name:
        name = name.split("array_api_compat.", 1)[1].split(".")[0]
    return name


def is_numpy_namespace(xp):
    """True when ``xp`` is NumPy itself or array-api-compat's NumPy wrapper."""
    return namespace_name(xp) == "numpy"


def to_numpy(array):
    """NumPy view or copy of ``array``, from any namespace and any device.

    The one host-transfer helper: NumPy arrays come back as they are, CuPy and
    torch through their own transfer, other array-API arrays through DLPack, or,
    where the library refuses DLPack for a device NumPy cannot address (e.g.
    array_api_strict's ``device1``), through scikit-learn's ``move_to``. Anything
    else (lists, scalars, pandas objects) goes through ``np.asarray``.
    """
    if isinstance(array, np.ndarray):
        return array
    if not hasattr(array, "__array_namespace__"):
        return np.asarray(array)
    module = type(array).__module__
    if module.startswith("cupy"):
        return array.get()
    if module.startswith("torch"):
        return array.detach().cpu().numpy()
    try:
        return np.from_dlpack(array)
    except (TypeError, AttributeError, BufferError, RuntimeError, ValueError):
        try:
            return np.asarray(array)
        except (TypeError, ValueError, RuntimeError):
            from sklearn.utils._array_api import move_to

            return move_to(array, xp=np, device="cpu")


def is_non_numpy_array(obj):
    """True for an array of an array-API namespace other than NumPy.

    Lists, scalars, pandas objects and NumPy arrays give False: those are the
    inputs ``np.asarray`` reads as they are.
    """
    return hasattr(obj, "__array_namespace__") and not isinstance(obj, np.ndarray)


def asarray(array, *, xp, device=None, dtype=None):
    """Put ``array`` (NumPy, a scalar or a list) into namespace ``xp`` on ``device``."""
    if is_numpy_namespace(xp):
        return np.asarray(array, dtype=dtype)
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        array = array.copy()
    return xp.asarray(array, device=device, dtype=dtype)


def logsumexp(a, *, axis, xp, keepdims=False):
    """Stable ``log(sum(exp(a)))``; rows that are all ``-inf`` give ``-inf``."""
    a_max = xp.max(a, axis=axis, keepdims=True)
    a_max = xp.where(xp.isfinite(a_max), a_max, xp.zeros_like(a_max))
    total = xp.sum(xp.exp(a - a_max), axis=axis, keepdims=True)
    # all -inf: log(0) = -inf, produced without a divide-by-zero warning
    positive = total > 0
    out = xp.log(xp.where(positive, total, xp.ones_like(total)))
    out = xp.where(positive, out, -xp.inf) + a_max
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out


def softmax(a, *, axis=-1, xp):
    """Stable softmax along ``axis``; never produces NaN for finite input."""
    a_max = xp.max(a, axis=axis, keepdims=True)
    e = xp.exp(a - a_max)
    return e / xp.sum(e, axis=axis, keepdims=True)


def expit(a, *, xp):
    """Logistic sigmoid without overflow warnings for large ``|a|``."""
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_expit(a, *, xp):
    """``log(expit(a))`` computed without underflow for very negative ``a``."""
    return xp.minimum(a, xp.zeros_like(a)) - xp.log1p(xp.exp(-xp.abs(a)))


def log_ndtr(a, *, xp):
    """``log(Phi(a))`` for the standard normal CDF, accurate far into the left tail.

    SciPy dispatches on the array type when ``SCIPY_ARRAY_API=1`` (CuPy then
    stays on its device); any NumPy result is put back into ``xp``.
    """
    from scipy.special import erfc
    from scipy.special import log_ndtr as _log_ndtr

    if is_numpy_namespace(xp) and np.ndim(a) > 0:
        # log(erfc(-a / sqrt 2) / 2) is 2x faster than SciPy's log_ndtr and
        # agrees with it to 3e-14 absolute; in the far left tail, where erfc
        # heads for underflow (sooner in float32), the entries go through
        # log_ndtr.
        a = np.asarray(a)
        with np.errstate(divide="ignore", under="ignore"):
            out = np.log(0.5 * erfc(a * -0.7071067811865476))
        tail = a < (-20.0 if a.dtype == np.float64 else -9.0)
        if np.any(tail):
            out[tail] = _log_ndtr(a[tail])
        return out
    try:
        out = _log_ndtr(a)
    except (TypeError, ValueError, RuntimeError, BufferError):
        # SciPy cannot read arrays on some devices (array_api_strict's
        # "device1"): compute on the host and move the result back.
        out = _log_ndtr(to_numpy(a))
    if not isinstance(out, np.ndarray):
        return out
    return asarray(out, xp=xp, device=device(a), dtype=a.dtype)


def add_to_diagonal(matrix, value, *, xp):
    """Return ``matrix + value * I`` as a new array (never writes into ``matrix``)."""
    n = matrix.shape[0]
    eye = xp.eye(n, dtype=matrix.dtype, device=device(matrix))
    return matrix + value * eye


def entropy(p, *, axis=-1, xp, keepdims=False):
    """Shannon entropy in nats with the convention ``0 log 0 = 0``."""
    positive = p > 0
    safe = xp.where(positive, p, xp.ones_like(p))
    terms = xp.where(positive, -p * xp.log(safe), xp.zeros_like(p))
    return xp.sum(terms, axis=axis, keepdims=keepdims)


def check_same_namespace(X, estimator, *, attribute, method):
    """Raise when ``X`` is not in the namespace/device ``estimator`` was fitted on.

    Mixing namespaces would otherwise fail deep inside a matrix product, or
    silently copy between host and device on every call.
    """
    if not get_config()["array_api_dispatch"]:
        return
    fitted = getattr(estimator, attribute)
    if isinstance(fitted, np.ndarray) and fitted.dtype.kind in "OSU":
        # labels kept on the host (strings, objects) carry no namespace
        return
    fitted_xp, _, fitted_device = get_namespace_and_device(fitted)
    X_xp, _, X_device = get_namespace_and_device(X)
    same_name = namespace_name(X_xp) == namespace_name(fitted_xp)
    if same_name and (is_numpy_namespace(X_xp) or X_device == fitted_device):
        return
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same "
        f"namespace and the same device as those passed to fit(): fitted on "
        f"{namespace_name(fitted_xp)} ({fitted_device}), got "
        f"{namespace_name(X_xp)} ({X_device}). Convert X, or refit the estimator "
        "on arrays of this namespace."
    )


def issparse(obj):
    """True for a SciPy sparse matrix or array."""
    return _scipy_issparse(obj)


def dense_host(array, dtype=None):
    """A NumPy array of a SciPy sparse result or of a host array-like."""
    return np.asarray(array.toarray() if issparse(array) else array, dtype=dtype)


def is_dask_collection(obj):
    """True for a dask collection (array, DataFrame, Series), without importing dask.

    A dask object can only exist once dask has been imported, so checking
    ``sys.modules`` first keeps dask out of every NumPy fit.
    """
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as _is_dask_collection

    return _is_dask_collection(obj)


def _blockwise_output(estimator, method, X):
    """Columns (None for 1-D) and dtype of ``estimator.<method>`` on rows of X."""
    if method == "predict":
        return None, estimator.classes_.dtype
    if method in ("predict_proba", "predict_log_proba"):
        return estimator.classes_.shape[0], None
    if method == "decision_function":
        n_rows = estimator.coef_.shape[0]
        return (None if n_rows == 1 else n_rows), None
    if method == "transform":
        return X.shape[1], None
    # per-row scalars: score_samples, row_exponents
    return None, None


def lazy_blockwise(estimator, method, X):
    """Lazy ``estimator.<method>(X)`` for a dask collection ``X``, else None.

    The one rule of every skprob estimator: a dask array in gives a lazy dask
    array out, computed one row block at a time (see
    ``skprob._dask.map_blocks_method``). Callers return the result when it is
    not None and run their in-memory path otherwise. The output's shape
    follows from the method: labels for ``predict``, one column per class for
    probabilities, the input's columns for ``transform``, one value per row
    for the rest.
    """
    if not is_dask_collection(X):
        return None
    from ._dask import map_blocks_method

    check_is_fitted(estimator)
    n_out_columns, dtype = _blockwise_output(estimator, method, X)
    return map_blocks_method(estimator, method, X, n_out_columns, dtype)


def log_or_minus_inf(p, *, xp):
    """Elementwise ``log(p)`` for ``p >= 0``: ``-inf`` at 0, with no warning."""
    positive = p > 0
    return xp.where(positive, xp.log(xp.where(positive, p, xp.ones_like(p))), -xp.inf)


def log_zero_as_tiny(p, *, xp):
    """Elementwise ``log(p)`` for ``p >= 0``, a 0 counted as the smallest normal.

    The convention of scikit-learn's
    ``LinearDiscriminantAnalysis.predict_log_proba``: exactly ``log(p)``
    wherever ``p > 0``, finite at 0, and NaN stays NaN.
    """
    tiny = xp.finfo(p.dtype).smallest_normal
    return xp.log(xp.where(p == 0, xp.full_like(p, tiny), p))


def xlogx(p, *, xp):
    """Elementwise ``p log p`` with ``0 log 0 = 0`` (no warning, no NaN)."""
    positive = p > 0
    return xp.where(positive, p * xp.log(xp.where(positive, p, xp.ones_like(p))), 0.0)

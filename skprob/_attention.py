"""Softmax attention with an entropy-invariant scale for varying sequence lengths."""

# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._backend import get_namespace_and_device, softmax

__all__ = ["entropy_invariant_scale", "attention"]

_LOG_MAX_FLOAT = math.log(float(np.finfo(np.float64).max))


@validate_params(
    {
        "n": [Interval(Integral, 2, None, closed="left")],
        "d": [Interval(Integral, 1, None, closed="left")],
        "n_ref": [Interval(Integral, 2, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def entropy_invariant_scale(n, d, n_ref=512):
    """Attention scale ``log(n) / (log(n_ref) sqrt(d))`` for ``n`` keys.

    Scaled dot-product attention uses ``1 / sqrt(d)``; multiplying it by
    ``log(n) / log(n_ref)`` keeps the entropy of the attention rows roughly
    constant as the number of keys ``n`` grows, so that a model trained at
    length ``n_ref`` attends about as sharply at other lengths. At
    ``n = n_ref`` it equals ``1 / sqrt(d)``.

    Read more in the :ref:`User Guide <attention_scale>`.

    Parameters
    ----------
    n : int >= 2
        Number of keys (sequence length) attended over.
    d : int >= 1
        Dimension of queries and keys.
    n_ref : int >= 2, default=512
        Length at which the scale equals ``1 / sqrt(d)`` (the training length).

    Returns
    -------
    scale : float
        ``log(n) / (log(n_ref) sqrt(d))``.

    See Also
    --------
    attention : Softmax attention that accepts this scale.

    Notes
    -----
    Heuristic: the entropy of a softmax over ``n`` scores grows like
    ``log n``; multiplying the scores by ``log n`` counteracts that growth. The
    invariance holds where attention is already peaked (query norms large
    compared with ``sqrt(d)``); in the near-uniform regime (queries and keys
    of unit variance) the entropy grows with the length under both scales,
    more slowly under this one. The measured entropies of both regimes are
    in ``benchmarks/RESULTS.md`` (``benchmarks/bench_attention.py``).

    References
    ----------
    .. [1] J. Su, "Looking at the scale of attention from entropy invariance"
       (blog post, in Chinese), 2021.
    .. [2] D. Chiang and P. Cholak, "Overcoming a theoretical limitation of
       self-attention", ACL 2022 (scores multiplied by ``log n``).

    Examples
    --------
    >>> from skprob import entropy_invariant_scale
    >>> entropy_invariant_scale(512, 64)
    0.125
    >>> round(entropy_invariant_scale(8192, 64), 4)
    0.1806
    """
    return math.log(n) / (math.log(n_ref) * math.sqrt(d))


def _attention_weights(Q, K, scale, xp):
    """``softmax(scale Q K^T)`` over the keys; scores that overflow give the limit.

    Where the scaled scores stay finite this is the plain softmax. Otherwise
    the scores are formed from ``Q / max|Q|`` and ``K / max|K|`` (at most ``d``
    in magnitude) and the row's softmax is taken as the factor
    ``c = scale max|Q| max|K|`` grows: each weight is ``exp(c (s - max s))``,
    so a huge or infinite ``c`` gives the uniform distribution over the
    maximal scores, never NaN.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scores = (Q @ xp.matrix_transpose(K)) * scale
    if bool(xp.all(xp.isfinite(scores))):
        with np.errstate(over="ignore"):
            # finite scores more than the largest float apart: the difference
            # to the row maximum overflows to -inf, a weight of exactly 0
            return softmax(scores, axis=-1, xp=xp)
    q_max = float(xp.max(xp.abs(Q)))
    k_max = float(xp.max(xp.abs(K)))
    unit = (Q / q_max) @ xp.matrix_transpose(K / k_max)
    below = unit - xp.max(unit, axis=-1, keepdims=True)
    # c as a float: beyond the largest float it is inf, and a tie (below = 0)
    # must then keep its weight rather than become inf * 0 = NaN
    if scale == 0.0:
        c = 0.0
    else:
        log_c = math.log(scale) + math.log(q_max) + math.log(k_max)
        c = math.exp(log_c) if log_c < _LOG_MAX_FLOAT else math.inf
    if math.isinf(c):
        exponent = xp.where(below < 0, -xp.inf, xp.zeros_like(below))
    else:
        with np.errstate(over="ignore"):
            exponent = below * c
    weights = xp.exp(exponent)
    return weights / xp.sum(weights, axis=-1, keepdims=True)


@validate_params(
    {
        "Q": ["array-like"],
        "K": ["array-like"],
        "V": ["array-like"],
        "scale": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"standard", "entropy_invariant"}),
        ],
        "n_ref": [Interval(Integral, 2, None, closed="left")],
        "return_weights": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def attention(Q, K, V, scale="standard", *, n_ref=512, return_weights=False):
    """Scaled dot-product attention ``softmax(scale Q K^T) V``.

    Read more in the :ref:`User Guide <attention_scale>`.

    Parameters
    ----------
    Q : array of shape (..., n_queries, d)
        Queries. Leading batch dimensions broadcast as in matrix products.
    K : array of shape (..., n_keys, d)
        Keys.
    V : array of shape (..., n_keys, d_v)
        Values.
    scale : float >= 0, "standard" or "entropy_invariant", default="standard"
        Multiplier of the scores: ``"standard"`` is ``1 / sqrt(d)``,
        ``"entropy_invariant"`` is
        ``entropy_invariant_scale(n_keys, d, n_ref)``.
    n_ref : int >= 2, default=512
        Reference length of the entropy-invariant scale.
    return_weights : bool, default=False
        Also return the attention weights.

    Returns
    -------
    out : array of shape (..., n_queries, d_v)
        Attention output, in the namespace and on the device of the inputs.
    weights : array of shape (..., n_queries, n_keys)
        Row-stochastic attention weights; only when ``return_weights=True``.

    See Also
    --------
    entropy_invariant_scale : The length-dependent scale.

    Notes
    -----
    This is a reference implementation that forms the full
    ``n_queries x n_keys`` weight matrix; it is meant for analysis (such as
    the entropy of the attention rows), not as a memory-efficient kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import attention
    >>> Q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> K = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> V = np.array([[1.0], [2.0], [3.0]])
    >>> out, weights = attention(Q, K, V, scale=1.0, return_weights=True)
    >>> weights.round(3)
    array([[0.422, 0.155, 0.422],
           [0.155, 0.422, 0.422]])
    >>> out.round(3)
    array([[2.   ],
           [2.267]])
    """
    xp, _, _ = get_namespace_and_device(Q, K, V)
    arrays = []
    for name, array in (("Q", Q), ("K", K), ("V", V)):
        array = xp.asarray(array)
        if array.ndim < 2:
            raise ValueError(
                f"{name} must have at least 2 dimensions, got {array.ndim}."
            )
        if xp.isdtype(array.dtype, "complex floating"):
            # a cast to float would drop the imaginary parts without a word
            raise TypeError(f"{name} must be real, got dtype {array.dtype}.")
        if not xp.isdtype(array.dtype, "real floating"):
            array = xp.astype(array, xp.float64)
        if not bool(xp.all(xp.isfinite(array))):
            raise ValueError(f"{name} contains NaN or infinity.")
        arrays.append(array)
    Q, K, V = arrays
    d, n_keys = Q.shape[-1], K.shape[-2]
    if K.shape[-1] != d:
        raise ValueError(
            f"Q and K must have the same last dimension d, got {d} and {K.shape[-1]}."
        )
    batch_shapes = [array.shape[:-2] for array in (Q, K, V)]
    batch_ndim = max(len(shape) for shape in batch_shapes)
    padded = [(1,) * (batch_ndim - len(shape)) + shape for shape in batch_shapes]
    if any(len(set(sizes) - {1}) > 1 for sizes in zip(*padded)):
        # checked here so the error names the inputs rather than matmul operands
        raise ValueError(
            "The batch dimensions of Q, K and V must broadcast together, got "
            f"shapes {Q.shape}, {K.shape} and {V.shape}."
        )
    if d == 0 or n_keys == 0:
        raise ValueError(
            f"Q and K need d >= 1 and at least one key, got d={d} and n_keys={n_keys}."
        )
    if V.shape[-2] != n_keys:
        raise ValueError(
            f"K and V must have the same number of keys, got {n_keys} and "
            f"{V.shape[-2]}."
        )
    if scale == "standard":
        scale = 1.0 / math.sqrt(d)
    elif scale == "entropy_invariant":
        if n_keys < 2:
            raise ValueError("The entropy-invariant scale needs at least 2 keys.")
        scale = entropy_invariant_scale(n_keys, d, n_ref=n_ref)
    weights = _attention_weights(Q, K, float(scale), xp)
    out = weights @ V
    return (out, weights) if return_weights else out

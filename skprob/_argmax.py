"""Class probabilities of the argmax of noisy scores (noise reparameterisation)."""

# SPDX-License-Identifier: BSD-3-Clause
#
# For scores mu and i.i.d. noise eps with density f and CDF F,
#     p_i = P(argmax_j (mu_j + eps_j) = i)
#         = int f(e) prod_{j != i} F(e + mu_i - mu_j) de.
# Every rule below evaluates this one-dimensional integral on nodes shared by all
# classes of a row (fixed, or fixed within segments whose ends depend on the
# scores), so a whole block of rows is one array expression, and the product over
# classes is a sum of log-CDFs (1000 classes or scores of +-1e3 do not
# underflow). The rows are renormalised at the end, which only removes the
# quadrature error. Each noise is one entry of _RULES.

import math
import warnings
from numbers import Integral, Real
from typing import Callable, NamedTuple, Optional

import numpy as np
from scipy import stats
from scipy.special import log_expit as _np_log_expit
from scipy.special import ndtri
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_array, validate_data

from ._backend import (
    asarray,
    device,
    get_namespace_and_device,
    is_numpy_namespace,
    log_expit,
    log_ndtr,
    logsumexp,
    softmax,
    to_numpy,
)
from ._quadrature import (
    MIN_TANH_SINH_NODES,
    TANH_SINH_NODES,
    argmax_gaussian_nodes,
    exact_legendre_nodes,
    gauss_legendre_unit,
    tanh_sinh_unit,
)

__all__ = ["argmax_probabilities", "ArgmaxProbabilityTransformer"]

# Elements per temporary block: rows and nodes are processed in blocks of about
# this many entries, so memory stays bounded whatever the number of rows,
# classes and nodes. NumPy runs one pass per operation, so cache-sized blocks
# (512 KiB in float64) are fastest there; other namespaces (GPUs) get larger
# blocks, where each operation pays a launch.
_BLOCK = 2**22
_BLOCK_NUMPY = 2**16
# Largest temporary one row and one node may need (entries): beyond it a rule
# cannot run in bounded memory, and says so before starting.
_MAX_ROW_NODE_ENTRIES = 2**25

# With a user-chosen n_nodes (and always for frozen distributions, whose
# smoothness is unknown) the rule is compared with its own every-other-node
# sub-rule; a gap in some probability above this warns. The gap is usually far
# above the rule's own error (benchmarks/RESULTS.md).
_ERROR_WARN = 1e-4


def _blocks(n_rows, per_row_per_node, n_nodes, xp):
    """Row and node slices keeping each temporary near the block size of ``xp``.

    Slices stop at the array end: strict array-API namespaces reject
    out-of-range slice bounds.
    """
    per_row_per_node = max(1, per_row_per_node)
    if per_row_per_node > _MAX_ROW_NODE_ENTRIES:
        raise ValueError(
            f"argmax_probabilities with this noise needs temporaries of "
            f"{per_row_per_node} entries per row and node, more than the "
            f"{_MAX_ROW_NODE_ENTRIES} it allows; use fewer classes or the "
            '"gumbel" or "gaussian" noise, whose cost is linear in the classes.'
        )
    block = _BLOCK_NUMPY if is_numpy_namespace(xp) else _BLOCK
    group = max(1, min(n_nodes, block // per_row_per_node))
    chunk = max(1, block // (per_row_per_node * group))
    rows = [slice(i, min(i + chunk, n_rows)) for i in range(0, n_rows, chunk)]
    nodes = [slice(k, min(k + group, n_nodes)) for k in range(0, n_nodes, group)]
    return rows, nodes


def _log_add(total, part, xp):
    return part if total is None else xp.logaddexp(total, part)


def _grid_log_mass(below_max, n_grid, grid, class_terms, xp, *, period=None):
    """``log p_i`` (up to a row constant) on nodes shared by all classes of a row.

    With ``x`` the noise of the largest score and ``d_j = max z - z_j``, class
    ``i`` wins with probability ``int f(x + d_i) prod_{j != i} F(x + d_j) dx
    = int r(x + d_i) G(x) dx``, where ``G(x) = prod_j F(x + d_j)`` is the CDF
    of the noisy maximum and ``r = f / F`` the reverse hazard. ``log G`` is
    formed once per node, so a row costs ``O(n_classes)`` per node instead of
    ``O(n_classes^2)``. Every ``x + d_j`` is at least ``x``, so ``log F`` is
    bounded below where ``F(x) > 0``; tied scores give identical columns, so
    tied classes get bit-identical probabilities.

    ``grid(rows, nodes)`` returns the nodes ``x`` and log-weights of ``dx``,
    each of shape (1 or n_rows_block, n_nodes_block); ``class_terms(d, x)`` the
    log-integrand (without the weight) of every class at every node,
    (n_rows_block, n_classes, n_nodes_block). Node blocks are summed as they
    come, so memory is one block whatever the number of nodes. With
    ``period`` (nodes per segment of the grid), also returns the largest gap
    in probability to the sub-rule on every other node of each segment (else
    0); its doubled weights cancel in the normalisation.
    """
    n, K = below_max.shape
    dev = device(below_max)
    row_blocks, node_blocks = _blocks(n, K, n_grid, xp)
    out, gap = [], 0.0
    for rows in row_blocks:
        d = below_max[rows, :]
        total = coarse = None
        for nodes in node_blocks:
            x, log_dx = grid(rows, nodes)
            terms = class_terms(d, x) + log_dx[:, None, :]
            total = _log_add(total, logsumexp(terms, axis=2, xp=xp), xp)
            if period is not None:
                index = np.arange(nodes.start, nodes.stop)
                even = np.flatnonzero((index % period) % 2 == 0)
                even = asarray(even, xp=xp, device=dev, dtype=xp.int64)
                part = logsumexp(xp.take(terms, even, axis=2), axis=2, xp=xp)
                coarse = _log_add(coarse, part, xp)
        out.append(total)
        if period is not None:
            diff = softmax(total, axis=1, xp=xp) - softmax(coarse, axis=1, xp=xp)
            gap = max(gap, float(xp.max(xp.abs(diff))))
    return xp.concat(out, axis=0), gap


def _fixed_grid(x, log_dx):
    """A grid whose nodes are the same for every row."""

    def grid(rows, nodes):
        return x[None, nodes], log_dx[None, nodes]

    return grid


def _tanh_sinh_log_mass(z, n_nodes, xp, dev, estimate_error, quantile, log_pdf, terms):
    """The shared grid at ``x = F^-1(u)`` for the tanh-sinh nodes ``u`` on (0, 1)."""
    s, log_u, log_v, log_w = tanh_sinh_unit(n_nodes)
    x = quantile(s, log_u, log_v)
    x_xp = asarray(x, xp=xp, device=dev, dtype=z.dtype)
    log_dx = asarray(log_w - log_pdf(x), xp=xp, device=dev, dtype=z.dtype)
    below_max = xp.max(z, axis=1, keepdims=True) - z
    return _grid_log_mass(
        below_max,
        n_nodes,
        _fixed_grid(x_xp, log_dx),
        terms,
        xp,
        period=n_nodes if estimate_error else None,
    )


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _gaussian_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # Tanh-sinh in u = Phi(e) rather than Gauss-Hermite in e: with many classes
    # the integrand moves into the upper tail of e (where the maximum of K
    # normals lives), where Gauss-Hermite nodes are sparse.
    if z.shape[1] == 2:
        margin = (z[:, 1] - z[:, 0]) / math.sqrt(2.0)
        log_mass = xp.stack([log_ndtr(-margin, xp=xp), log_ndtr(margin, xp=xp)], axis=1)
        return log_mass, 0.0

    def quantile(s, log_u, log_v):
        # Phi^-1(u) from the smaller of u and 1 - u, so no digits are lost near 1
        return np.sign(s) * -ndtri(np.exp(np.minimum(log_u, log_v)))

    def terms(d, x):
        a = d[:, :, None] + x[:, None, :]
        log_cdf = log_ndtr(a, xp=xp)
        log_max_cdf = xp.sum(log_cdf, axis=1, keepdims=True)
        with np.errstate(over="ignore"):
            # a class far below the maximum: log density -inf, as it should be
            log_pdf = -0.5 * a * a - _HALF_LOG_2PI
        return (log_pdf - log_cdf) + log_max_cdf

    return _tanh_sinh_log_mass(
        z,
        n_nodes,
        xp,
        dev,
        estimate_error,
        quantile,
        lambda x: -0.5 * x * x - _HALF_LOG_2PI,
        terms,
    )


def _logistic_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    def terms(d, x):
        # f / F = 1 - F for the logistic distribution
        a = d[:, :, None] + x[:, None, :]
        log_max_cdf = xp.sum(log_expit(a, xp=xp), axis=1, keepdims=True)
        return log_expit(-a, xp=xp) + log_max_cdf

    # x = logit(u) = 2 s exactly, and f(x) = F(x) (1 - F(x)) = u (1 - u)
    return _tanh_sinh_log_mass(
        z,
        n_nodes,
        xp,
        dev,
        estimate_error,
        lambda s, log_u, log_v: 2.0 * s,
        lambda x: _np_log_expit(x) + _np_log_expit(-x),
        terms,
    )


def _frozen_segments(noise, below_max, upper):
    """Segments of (0, 1) in ``u = F(x)`` between the kinks of the integrand.

    ``F(x + d_j)`` reaches 1 at ``x = upper - d_j``, where the density of class
    ``j`` also drops to 0: the integrand is smooth only between those points,
    so each segment gets its own rule. Returns, per row and segment sorted by
    position, the lower end in ``u``, the upper end in ``1 - u`` (both kept
    exactly near their own end) and the length.
    """
    kinks = np.sort(upper - below_max, axis=1)
    hi_u, hi_v = noise.cdf(kinks), noise.sf(kinks)
    lo_u = np.concatenate([np.zeros_like(hi_u[:, :1]), hi_u[:, :-1]], axis=1)
    lo_v = np.concatenate([np.ones_like(hi_v[:, :1]), hi_v[:, :-1]], axis=1)
    length = np.where(hi_u <= 0.5, hi_u - lo_u, lo_v - hi_v)
    return lo_u, hi_v, np.maximum(length, 0.0)


def _frozen_quantiles(noise, u, v):
    """``F^-1(u)`` from ``u`` below 1/2 and from ``v = 1 - u`` above."""
    x = np.empty_like(u)
    low = u <= 0.5
    x[low] = noise.ppf(u[low])
    x[~low] = noise.isf(v[~low])
    if np.any(np.isnan(x)):
        raise ValueError(
            f"The quantile function of the noise distribution {noise.dist.name!r} "
            "is not defined inside (0, 1); argmax_probabilities needs a "
            "continuous distribution with a quantile function."
        )
    return x


def _frozen_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # Any continuous scipy.stats distribution: tanh-sinh in u = F(x) on each
    # segment between the kinks of the integrand (one segment when the support
    # has no right end), evaluated by SciPy on the host. The rule's nodes
    # cluster at both ends of each segment, so a density that jumps or is
    # infinite at the left end of the support, or at a kink, costs no accuracy.
    s, log_u, log_v, log_w = tanh_sinh_unit(n_nodes)
    zh = np.asarray(to_numpy(z), dtype=np.float64)
    below_max = np.max(zh, axis=1, keepdims=True) - zh
    upper = noise.support()[1]
    if np.isfinite(upper):
        lo_u, hi_v, length = _frozen_segments(noise, below_max, upper)
    else:
        lo_u, hi_v, length = np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1))
    n_segments = length.shape[1]

    def nodes_and_weights(rows, segment, k):
        seg_length = length[rows][:, segment]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = lo_u[rows][:, segment] + seg_length * np.exp(log_u[k])
            v = hi_v[rows][:, segment] + seg_length * np.exp(log_v[k])
            x = _frozen_quantiles(noise, u, v)
            log_dx = np.log(seg_length) + log_w[k] - noise.logpdf(x)
        # nodes rounded onto an end of the support (density 0 or infinite
        # there) or of an empty segment carry no weight
        return x, np.where(np.isfinite(log_dx), log_dx, -np.inf)

    if n_segments == 1:
        # one segment for every row: the quantiles are computed once
        every = np.arange(n_nodes)
        x, log_dx = nodes_and_weights(slice(0, 1), every * 0, every)
        grid = _fixed_grid(x[0], log_dx[0])
    else:

        def grid(rows, nodes):
            index = np.arange(nodes.start, nodes.stop)
            return nodes_and_weights(rows, index // n_nodes, index % n_nodes)

    def terms(d, x):
        a = d[:, :, None] + x[:, None, :]
        # far from the maximum or past an end of the support, SciPy's log
        # functions overflow or take log(0) on their way to the right limits
        # (log F = 0 or -inf, log f = -inf)
        with np.errstate(over="ignore", divide="ignore"):
            log_cdf = noise.logcdf(a)
            log_pdf = noise.logpdf(a)
        log_max_cdf = np.sum(log_cdf, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            total = (log_pdf - log_cdf) + log_max_cdf
        # F(x) = 0 (a node rounded onto the left end) or f = 0 (past the right
        # end): the integrand is 0 there, whatever r = f / F gives; an infinite
        # density is a node rounded onto an integrable singularity, whose tiny
        # weight carries nothing
        dropped = np.isneginf(log_max_cdf) | ~np.isfinite(log_pdf)
        return np.where(dropped, -np.inf, total)

    log_mass, gap = _grid_log_mass(
        below_max,
        n_segments * n_nodes,
        grid,
        terms,
        np,
        period=n_nodes if estimate_error else None,
    )
    return asarray(log_mass, xp=xp, device=dev, dtype=z.dtype), gap


def _exponential_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # With v = exp(-e) the integral becomes p_i = a_i int_0^1 prod_{j != i}
    # (1 - t a_j) dt, a_j = exp(z_j - max z): a polynomial of degree K - 1, so
    # Gauss-Legendre with ceil(K / 2) nodes is exact and the cost is O(n K m).
    n, K = z.shape
    t, log_w = gauss_legendre_unit(n_nodes)
    t = asarray(t, xp=xp, device=dev, dtype=z.dtype)
    log_w = asarray(log_w, xp=xp, device=dev, dtype=z.dtype)
    log_a = z - xp.max(z, axis=1, keepdims=True)
    row_blocks, node_blocks = _blocks(n, K, n_nodes, xp)
    out = []
    for rows in row_blocks:
        a = xp.exp(log_a[rows, :])
        total = None
        for group in node_blocks:
            terms = xp.log1p(-a[:, :, None] * t[group])
            product = xp.sum(terms, axis=1, keepdims=True)
            part = logsumexp(product - terms + log_w[group], axis=2, xp=xp)
            total = _log_add(total, part, xp)
        out.append(total + log_a[rows, :])
    # exact rules: no quadrature error to estimate
    return xp.concat(out, axis=0), 0.0


def _uniform_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # U(0, 1) noise: f(x + d_i) = 1 up to x = 1 - d_i and F(x + d_j) =
    # min(1, x + d_j), so G(x) is a polynomial between the sorted kinks
    # 1 - d_j (shared by all classes) and Gauss-Legendre on each of those K
    # segments with ceil(K / 2) nodes is exact. O(K^2 n_nodes) per row.
    n, K = z.shape
    dtype = z.dtype
    t, log_w = gauss_legendre_unit(n_nodes)
    t = asarray(t, xp=xp, device=dev, dtype=dtype)
    log_w = asarray(log_w, xp=xp, device=dev, dtype=dtype)
    tiny = xp.finfo(dtype).smallest_normal
    d = xp.max(z, axis=1, keepdims=True) - z
    hi = xp.sort(xp.clip(1.0 - d, 0.0, 1.0), axis=1)
    lo = xp.concat([xp.zeros_like(hi[:, :1]), hi[:, :-1]], axis=1)
    length = hi - lo
    positive = length > 0
    log_length = xp.log(xp.where(positive, length, xp.ones_like(length)))
    log_length = xp.where(positive, log_length, -xp.inf)

    def grid(rows, nodes):
        index = np.arange(nodes.start, nodes.stop)
        segment = asarray(index // n_nodes, xp=xp, device=dev, dtype=xp.int64)
        k = asarray(index % n_nodes, xp=xp, device=dev, dtype=xp.int64)
        start = xp.take(lo[rows, :], segment, axis=1)
        x = start + xp.take(length[rows, :], segment, axis=1) * xp.take(t, k)
        log_dx = xp.take(log_length[rows, :], segment, axis=1) + xp.take(log_w, k)
        # kept > 0 so the logs below are finite
        return xp.maximum(x, tiny), log_dx

    def terms(d, x):
        a = d[:, :, None] + x[:, None, :]
        log_max_cdf = xp.sum(
            xp.log(xp.minimum(a, xp.ones_like(a))), axis=1, keepdims=True
        )
        return xp.where(a <= 1.0, log_max_cdf - xp.log(a), -xp.inf)

    # exact rules: no quadrature error to estimate
    return _grid_log_mass(d, K * n_nodes, grid, terms, xp)


def _validate_scores(scores):
    xp, _, _ = get_namespace_and_device(scores)
    scores = check_array(
        scores,
        dtype=[xp.float64, xp.float32],
        ensure_2d=False,
        input_name="scores",
    )
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim == 1:
        xp, _, _ = get_namespace_and_device(scores)
        # binary decision_function convention: the score of class 1 against 0
        scores = xp.stack([xp.zeros_like(scores), scores], axis=1)
    elif scores.ndim != 2:
        raise ValueError(
            "scores must be 1-D (binary decision scores) or 2-D "
            f"(n_samples, n_classes), got {scores.ndim}-D."
        )
    return scores


def _shifted_scores(scores, scale, xp):
    """``(scores - max) / scale`` per row, without overflow or NaN.

    Every rule depends on the differences only. Halving first keeps the
    difference of two finite scores finite; a difference beyond the largest
    float after the division by ``scale`` becomes ``-inf``, the right limit (a
    class no noise can lift to the top).
    """
    half = scores * 0.5
    below_max = xp.max(half, axis=1, keepdims=True) - half
    with np.errstate(over="ignore"):
        return -((below_max / scale) * 2.0)


def _gumbel_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # McFadden: Gumbel noise gives the softmax, so the scores are the log-masses
    return z, 0.0


class _Rule(NamedTuple):
    """How one noise is integrated: one entry of ``_RULES`` per noise."""

    # (z, n_nodes, xp, device, noise, estimate_error) -> (log-masses, error gap)
    log_mass: Callable
    # n_classes -> default node count; None for closed forms (n_nodes ignored)
    default_nodes: Optional[Callable]
    # n_classes -> fewest nodes the rule accepts
    min_nodes: Callable
    # whether the error gap to the every-other-node sub-rule is meaningful
    estimates_error: bool


def _tanh_sinh_floor(n_classes):
    return MIN_TANH_SINH_NODES


_RULES = {
    "gumbel": _Rule(_gumbel_log_mass, None, exact_legendre_nodes, False),
    "gaussian": _Rule(
        _gaussian_log_mass, argmax_gaussian_nodes, _tanh_sinh_floor, True
    ),
    "logistic": _Rule(
        _logistic_log_mass, lambda k: TANH_SINH_NODES, _tanh_sinh_floor, True
    ),
    "uniform": _Rule(
        _uniform_log_mass, exact_legendre_nodes, exact_legendre_nodes, False
    ),
    "exponential": _Rule(
        _exponential_log_mass, exact_legendre_nodes, exact_legendre_nodes, False
    ),
    # any frozen continuous scipy.stats distribution
    "frozen": _Rule(
        _frozen_log_mass, lambda k: TANH_SINH_NODES, _tanh_sinh_floor, True
    ),
}
_NOISES = tuple(name for name in _RULES if name != "frozen")
_NOISE_CONSTRAINT = [
    StrOptions(set(_NOISES)),
    HasMethods(["logcdf", "ppf", "isf"]),
]


def _resolve_noise(noise):
    if isinstance(noise, str):
        return _RULES[noise]
    if not isinstance(getattr(noise, "dist", None), stats.rv_continuous):
        raise TypeError(
            "noise must be one of "
            f"{_NOISES} or a frozen continuous scipy.stats distribution such as "
            f"scipy.stats.t(df=3); got {noise!r}."
        )
    return _RULES["frozen"]


def _check_nodes(rule, n_nodes, n_classes):
    """Node count for ``rule``: the default for None, else checked against its floor."""
    if rule.default_nodes is None:
        return None
    if n_nodes is None:
        return rule.default_nodes(n_classes)
    floor = rule.min_nodes(n_classes)
    if n_nodes < floor:
        what = (
            "with fewer, the tanh-sinh rule is far off for near-tied classes"
            if rule.estimates_error
            else f"the rule is exact for {n_classes} classes from that count on"
        )
        raise ValueError(
            f"n_nodes={n_nodes} is too few: this noise needs at least {floor} "
            f"nodes ({what}); pass n_nodes=None for the accurate default."
        )
    return n_nodes


@validate_params(
    {
        "scores": ["array-like"],
        "noise": _NOISE_CONSTRAINT,
        "scale": [Interval(Real, 0, None, closed="neither")],
        "n_nodes": [Interval(Integral, 2, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def argmax_probabilities(scores, noise="gumbel", *, scale=1.0, n_nodes=None):
    """Probability that each class wins the argmax of its score plus i.i.d. noise.

    For scores ``mu`` and independent noise ``eps_j = scale * e_j`` with ``e_j``
    drawn from a standard distribution with density ``f`` and CDF ``F``::

        p_i = P(argmax_j (mu_j + eps_j) = i)
            = integral f(e) prod_{j != i} F(e + (mu_i - mu_j) / scale) de.

    Gumbel noise gives the softmax of ``mu / scale`` exactly; Gaussian noise gives
    the multinomial probit. The one-dimensional integral is evaluated with a
    deterministic quadrature rule vectorised over rows, with the product over
    classes summed in log space.

    Read more in the :ref:`User Guide <argmax_probabilities>`.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes), (n_samples, 1) or \
            (n_samples,)
        Class scores (for example a ``decision_function``). A 1-D array or a
        single column is read as binary scores of class 1 against class 0, as
        returned by binary scikit-learn classifiers, and gives two columns.
    noise : {"gumbel", "gaussian", "logistic", "uniform", "exponential"} or \
            frozen scipy.stats distribution, default="gumbel"
        Noise distribution of ``e``: standard Gumbel (softmax, closed form),
        standard normal (multinomial probit), standard logistic, uniform on
        ``[0, 1]``, exponential with rate 1, or any frozen continuous
        distribution such as ``scipy.stats.t(df=3)`` (its CDF and density are
        then evaluated by SciPy on the host). See Notes for the quadrature
        rules.
    scale : float > 0, default=1.0
        Noise scale: the noise is ``scale * e``. Equivalent to dividing the
        scores by ``scale``.
    n_nodes : int >= 2, default=None
        Number of quadrature nodes (per segment for frozen distributions whose
        support ends on the right). ``None`` chooses: 49 (up to 10 classes),
        97 (up to 100) or 129 for ``"gaussian"``, 129 for ``"logistic"`` and
        frozen distributions, and ``ceil(n_classes / 2)`` (exact) for
        ``"uniform"`` and ``"exponential"``. Ignored for ``"gumbel"`` and for
        two Gaussian classes. Fewer than 17 nodes for the tanh-sinh rules, or
        than ``ceil(n_classes / 2)`` for the exact ones, raise a ValueError; a
        count that looks inaccurate warns (see Notes).

    Returns
    -------
    proba : array of shape (n_samples, n_classes)
        Probabilities in the namespace, device and floating dtype of
        ``scores``; every row sums to 1.

    Raises
    ------
    ValueError
        Before any work, when one row and one node would need a temporary
        larger than the fixed block budget (``"uniform"`` and frozen
        distributions with a right end, beyond about 30 million classes).

    Warns
    -----
    UserWarning
        When a tanh-sinh rule differs by more than 1e-4 in some probability
        from its sub-rule on every other node: with a given ``n_nodes``, and
        always for frozen distributions (whose density may have a kink or a
        jump inside its support, such as ``scipy.stats.laplace``).

    See Also
    --------
    ArgmaxProbabilityTransformer : The same map as a scikit-learn transformer.

    Notes
    -----
    The probabilities depend only on score differences (translation invariant)
    and preserve the order of the scores. Every rule puts all classes of a row
    on one grid: with ``x`` the noise of the largest score and
    ``d_j = (max(mu) - mu_j) / scale``, class ``i`` integrates
    ``f(x + d_i) / F(x + d_i)`` times ``prod_j F(x + d_j)``, the CDF of the
    noisy maximum, formed once per node. The products over classes are sums of
    log-CDFs, so 1000 classes or scores of ``+-1e3`` neither underflow nor
    overflow. Rows and nodes are processed in blocks of a fixed number of
    entries and summed as they come, so memory does not grow with the number
    of rows, classes or nodes beyond the input and the output. The rules and
    their cost per row:

    - ``"gumbel"``: ``softmax(scores / scale)``, ``O(n_classes)``.
    - ``"gaussian"``: ``Phi((mu_1 - mu_0) / (scale sqrt(2)))`` for two classes;
      otherwise the tanh-sinh rule in ``u = Phi(x)`` (Gauss-Hermite in ``x``
      needs many more nodes, because with many classes the integrand sits in
      the upper tail of ``x``), ``O(n_classes n_nodes)``.
    - ``"logistic"``: tanh-sinh in ``u = F(x)``, ``O(n_classes n_nodes)``.
    - ``"exponential"``: with ``v = exp(-x)`` the integral is a polynomial of
      degree ``n_classes - 1``; Gauss-Legendre is exact,
      ``O(n_classes n_nodes)``.
    - ``"uniform"``: a polynomial between the sorted kinks ``1 - d_j``;
      Gauss-Legendre on each of the ``n_classes`` segments is exact,
      ``O(n_classes^2 n_nodes)``, that is ``O(n_classes^3)`` by default.
    - Frozen distributions: tanh-sinh in ``u = F(x)``, whose nodes cluster at
      both ends, so a density that jumps or is infinite at the left end of the
      support (half-normal, Pareto, gamma) costs no accuracy;
      ``O(n_classes n_nodes)`` evaluations of SciPy's ``logcdf`` and
      ``logpdf``. When the support ends on the right (uniform, beta), each
      ``F(x + d_j)`` reaches 1 at ``x = upper - d_j``, where the density of
      class ``j`` drops to 0; the rule then runs on each of the
      ``n_classes`` segments between those kinks, ``O(n_classes^2 n_nodes)``.

    The tanh-sinh rules converge fast for densities that are smooth inside
    their support. Their sub-rule on every other node gives an error estimate;
    its gap is usually far above the rule's own error, so a warning means the
    rule may be off by about that much.

    References
    ----------
    .. [1] D. McFadden, "Conditional logit analysis of qualitative choice
       behavior", 1974 (Gumbel noise gives the softmax).
    .. [2] H. Takahasi and M. Mori, "Double exponential formulas for numerical
       integration", 1974 (the tanh-sinh rule).

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import argmax_probabilities
    >>> scores = np.array([[2.0, 1.0, 0.0]])
    >>> argmax_probabilities(scores, "gumbel").round(4)
    array([[0.6652, 0.2447, 0.09  ]])
    >>> argmax_probabilities(scores, "gaussian").round(4)
    array([[0.7288, 0.2241, 0.0472]])
    >>> argmax_probabilities(np.array([0.5]), "gaussian", scale=2.0).round(4)
    array([[0.4298, 0.5702]])
    """
    rule = _resolve_noise(noise)
    scores = _validate_scores(scores)
    xp, _, dev = get_namespace_and_device(scores)
    z = _shifted_scores(scores, scale, xp)
    nodes = _check_nodes(rule, n_nodes, z.shape[1])
    # a frozen distribution's smoothness is unknown, so its rule always checks
    # itself; the named rules are accurate at their defaults
    frozen = rule is _RULES["frozen"]
    estimate = rule.estimates_error and (n_nodes is not None or frozen)
    log_mass, error = rule.log_mass(z, nodes, xp, dev, noise, estimate)
    if error > _ERROR_WARN:
        advice = (
            "increase n_nodes, or pass n_nodes=None for the accurate default"
            if n_nodes is not None and not frozen
            else "the density is probably not smooth inside its support (a kink "
            "or a jump); increase n_nodes until this warning stops"
        )
        warnings.warn(
            f"argmax_probabilities with n_nodes={nodes} differs by {error:.1e} "
            "from the same rule on every other node, a sign of quadrature error "
            f"of that order: {advice}.",
            UserWarning,
            stacklevel=3,
        )
    return softmax(log_mass, axis=1, xp=xp)


class ArgmaxProbabilityTransformer(
    OneToOneFeatureMixin, TransformerMixin, BaseEstimator
):
    """Turn decision scores into class probabilities through a noise model.

    Each row of scores ``mu`` becomes ``p_i = P(argmax_j (mu_j + eps_j) = i)``
    for i.i.d. noise ``eps``, computed by :func:`argmax_probabilities`. The
    transformer is stateless: :meth:`fit` only records the number of input
    columns. Put it after a step whose output is a score per class.

    Read more in the :ref:`User Guide <argmax_probabilities>`.

    Parameters
    ----------
    noise : {"gumbel", "gaussian", "logistic", "uniform", "exponential"} or \
            frozen scipy.stats distribution, default="gumbel"
        Noise distribution; see :func:`argmax_probabilities`.
    scale : float > 0, default=1.0
        Noise scale (a temperature for ``"gumbel"``).
    n_nodes : int >= 2, default=None
        Number of quadrature nodes; ``None`` uses the accurate defaults of
        :func:`argmax_probabilities`. Too few nodes for the rule raise a
        ValueError at :meth:`fit`.

    Attributes
    ----------
    n_features_in_ : int
        Number of score columns seen during :term:`fit`. One column is read as
        the binary score of class 1 against class 0 and gives two outputs, as
        in :func:`argmax_probabilities`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    argmax_probabilities : The function this transformer applies.
    sklearn.preprocessing.FunctionTransformer : For other score maps.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import ArgmaxProbabilityTransformer
    >>> scores = np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    >>> ArgmaxProbabilityTransformer(noise="gaussian").fit_transform(scores).round(3)
    array([[0.729, 0.224, 0.047],
           [0.333, 0.333, 0.333]])
    """

    _parameter_constraints: dict = {
        "noise": _NOISE_CONSTRAINT,
        "scale": [Interval(Real, 0, None, closed="neither")],
        "n_nodes": [Interval(Integral, 2, None, closed="left"), None],
    }

    def __init__(self, *, noise="gumbel", scale=1.0, n_nodes=None):
        self.noise = noise
        self.scale = scale
        self.n_nodes = n_nodes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of score columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes) or (n_samples, 1)
            Scores; one column holds binary scores of class 1 against class 0.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        rule = _resolve_noise(self.noise)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        _check_nodes(rule, self.n_nodes, max(2, X.shape[1]))
        return self

    def transform(self, X):
        """Class probabilities of the noisy argmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes) or (n_samples, 1)
            Scores.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; two columns when ``X`` has one.
        """
        # No fitted arrays exist, so there is no namespace to compare X with.
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        return argmax_probabilities(
            X, self.noise, scale=self.scale, n_nodes=self.n_nodes
        )

    def get_feature_names_out(self, input_features=None):
        """Output names: the score columns' names, one per class.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``feature_names_in_`` (or ``x0``, ``x1``, ...)
            when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names; for one binary score column ``c``, ``c_0`` and
            ``c_1`` (the probabilities of class 0 and class 1).
        """
        names = super().get_feature_names_out(input_features)
        if names.shape[0] == 1:
            names = np.asarray([f"{names[0]}_0", f"{names[0]}_1"], dtype=object)
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.array_api_support = True
        return tags

"""Class probabilities of the argmax of noisy scores (noise reparameterisation)."""

# SPDX-License-Identifier: BSD-3-Clause
#
# For scores mu and i.i.d. noise eps with density f and CDF F,
#     p_i = P(argmax_j (mu_j + eps_j) = i)
#         = int f(e) prod_{j != i} F(e + mu_i - mu_j) de.
# Every rule below evaluates this one-dimensional integral with nodes that do not
# depend on the data, so a whole block of rows is one array expression, and the
# product over classes is a sum of log-CDFs (1000 classes or scores of +-1e3 do
# not underflow). The rows are renormalised at the end, which only removes the
# quadrature error. Each noise is one entry of _RULES.

import math
import warnings
from functools import lru_cache
from numbers import Integral, Real
from typing import Callable, NamedTuple, Optional

import numpy as np
from scipy import stats
from scipy.special import log_expit as _np_log_expit
from scipy.special import ndtri, roots_legendre
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

__all__ = ["argmax_probabilities", "ArgmaxProbabilityTransformer"]

# Elements per temporary block: rows and nodes are processed in blocks of about
# this many entries so that memory stays bounded. NumPy runs one pass per
# operation, so cache-sized blocks (512 KiB in float64) are fastest there: 1.6x
# faster than 2**22 for 200 classes, measured; other namespaces (GPUs) get
# larger blocks, where each operation pays a launch.
_BLOCK = 2**22
_BLOCK_NUMPY = 2**16

# Fewest nodes of the tanh-sinh rules (a step of 0.5 in t on [-4, 4]). Measured
# (Gaussian, scores [2, 1, 0, -1] and 100 near-tied classes): 2 nodes give 1/K
# to every class, 8 nodes are off by 2e-2, 16 by 5e-5 and 1.5e-3; from 17 on,
# the every-other-node comparison below flags what error remains.
_MIN_TANH_SINH_NODES = 17

# With a user-chosen n_nodes the rule is compared with its own every-other-node
# sub-rule; a gap in some probability above this warns. Measured against
# scipy.integrate.quad (2 to 200 classes, 17 to 41 nodes, score spreads 0.3 to
# 10), every case with an error above 1e-5 had a gap above 1e-4, and the gap
# was above the error in all but one (200 near-tied classes, 17 nodes: gap
# 1.7e-3, error 5e-3).
_ERROR_WARN = 1e-4


@lru_cache(maxsize=32)
def _gauss_legendre_unit(n_nodes):
    """Gauss-Legendre nodes and log-weights on [0, 1]."""
    x, w = roots_legendre(n_nodes)
    t = 0.5 * (x + 1.0)
    log_w = np.log(0.5 * w)
    t.flags.writeable = False
    log_w.flags.writeable = False
    return t, log_w


@lru_cache(maxsize=32)
def _tanh_sinh_unit(n_nodes, t_max=4.0):
    """Tanh-sinh nodes on (0, 1): ``(s, log u, log(1 - u), log-weights)``.

    ``u = expit(2 s)`` with ``s = pi/2 sinh(t)``; keeping ``s`` lets the caller
    form ``F^-1(u)`` without rounding ``u`` near 1 (logit(u) is exactly ``2 s``).
    The double-exponential clustering at both ends resolves the steep
    ``u ** a``-type integrands that classes far below the maximum produce.
    """
    t = np.linspace(-t_max, t_max, n_nodes)
    h = t[1] - t[0]
    s = 0.5 * math.pi * np.sinh(t)
    log_u = _np_log_expit(2.0 * s)
    log_v = _np_log_expit(-2.0 * s)
    log_w = math.log(h * math.pi) + np.log(np.cosh(t)) + log_u + log_v
    for array in (s, log_u, log_v, log_w):
        array.flags.writeable = False
    return s, log_u, log_v, log_w


def _blocks(n_rows, per_row_per_node, n_nodes, xp):
    """Row and node slices keeping each temporary near the block size of ``xp``.

    Slices stop at the array end: strict array-API namespaces reject
    out-of-range slice bounds.
    """
    block = _BLOCK_NUMPY if is_numpy_namespace(xp) else _BLOCK
    per_row_per_node = max(1, per_row_per_node)
    group = max(1, min(n_nodes, block // per_row_per_node))
    chunk = max(1, block // (per_row_per_node * group))
    rows = [slice(i, min(i + chunk, n_rows)) for i in range(0, n_rows, chunk)]
    nodes = [slice(k, min(k + group, n_nodes)) for k in range(0, n_nodes, group)]
    return rows, nodes


def _common_grid_log_mass(
    z, x, log_dx, log_cdf_and_reverse_hazard, xp, *, estimate_error
):
    """``log p_i`` (up to a common constant) on one grid shared by all classes.

    With ``u = e + z_i`` the integral for class ``i`` becomes
    ``int f(u - z_i) prod_{j != i} F(u - z_j) du
    = int r(u - z_i) G(u) du``, where ``G(u) = prod_j F(u - z_j)`` is the CDF
    of the noisy maximum and ``r = f / F`` the reverse hazard. ``log G`` is
    formed once per node, so a row costs ``O(n_classes n_nodes)`` instead of
    ``O(n_classes^2 n_nodes)``. The grid sits at ``u = max z + x_k``: every
    integrand is bounded by the density of the maximum, which lives there.
    All arguments ``x_k + max z - z_j`` are at least ``min x``, so ``log F`` is
    bounded below and the sum over classes never meets ``-inf``; tied scores
    give identical columns, so tied classes get bit-identical probabilities.

    Returns the log-masses and, with ``estimate_error``, the largest gap in
    probability to the sub-rule on every other node (else 0).
    """
    n, K = z.shape
    m = x.shape[0]
    below_max = xp.max(z, axis=1, keepdims=True) - z
    row_blocks, node_blocks = _blocks(n, K, m, xp)
    out, gaps = [], []
    for rows in row_blocks:
        gc = below_max[rows, :][:, :, None]
        parts = []
        for group in node_blocks:
            log_cdf, log_hazard = log_cdf_and_reverse_hazard(gc + x[group])
            log_max_cdf = xp.sum(log_cdf, axis=1, keepdims=True)
            parts.append(log_hazard + (log_max_cdf + log_dx[group]))
        log_mass, node_gap = _sum_nodes(xp.concat(parts, axis=2), estimate_error, xp)
        out.append(log_mass)
        gaps.append(node_gap)
    return xp.concat(out, axis=0), max(gaps)


def _sum_nodes(terms, estimate_error, xp):
    """Log-sum over the node axis; with ``estimate_error`` also the largest gap.

    Every other node is the same rule with twice the step; its doubled weights
    cancel in the normalisation, so the gap is between the two softmaxes.
    """
    log_mass = logsumexp(terms, axis=2, xp=xp)
    if not estimate_error:
        return log_mass, 0.0
    coarse = logsumexp(terms[:, :, ::2], axis=2, xp=xp)
    diff = softmax(log_mass, axis=1, xp=xp) - softmax(coarse, axis=1, xp=xp)
    return log_mass, float(xp.max(xp.abs(diff)))


def _pairwise_log_mass(z, nodes, log_weights, log_cdf, xp, *, estimate_error):
    """``log sum_k w_k prod_{j != i} F(x_k + z_i - z_j)``: one grid per class.

    ``O(n_classes^2 n_nodes)`` per row; used only for noises whose support
    ends on the right, where the shared grid would put the density's jump to 0
    inside the integration range. Each class lists its rivals in increasing
    index order, so tied scores give bit-identical probabilities.
    """
    n, K = z.shape
    m = nodes.shape[0]
    # row i of rivals is 0..K-1 without i: shift the indices at or past i by one
    positions = np.arange(K - 1)[None, :]
    rivals = positions + (positions >= np.arange(K)[:, None])
    rivals = asarray(rivals.reshape(-1), xp=xp, device=device(z), dtype=xp.int64)
    row_blocks, node_blocks = _blocks(n, K * (K - 1), m, xp)
    out, gaps = [], []
    for rows in row_blocks:
        zc = z[rows, :]
        others = xp.reshape(xp.take(zc, rivals, axis=1), (zc.shape[0], K, K - 1))
        diff = (zc[:, :, None] - others)[:, :, :, None]
        parts = []
        for group in node_blocks:
            total = xp.sum(log_cdf(diff + nodes[group]), axis=2)
            parts.append(total + log_weights[group])
        log_mass, node_gap = _sum_nodes(xp.concat(parts, axis=2), estimate_error, xp)
        out.append(log_mass)
        gaps.append(node_gap)
    return xp.concat(out, axis=0), max(gaps)


def _tanh_sinh_grid(x, log_w, log_pdf_at_x, z, xp, dev):
    """Nodes ``x`` and log-weights for ``dx`` (``w`` integrates over ``u = F(x)``)."""
    return (
        asarray(x, xp=xp, device=dev, dtype=z.dtype),
        asarray(log_w - log_pdf_at_x, xp=xp, device=dev, dtype=z.dtype),
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
    s, log_u, _, log_w = _tanh_sinh_unit(n_nodes)
    # Phi^-1(u) from the smaller of u and 1 - u, so no digits are lost near 1
    x = np.sign(s) * -ndtri(np.exp(np.minimum(log_u, log_u - 2.0 * s)))

    def log_cdf_and_reverse_hazard(a):
        log_cdf = log_ndtr(a, xp=xp)
        return log_cdf, -0.5 * a * a - _HALF_LOG_2PI - log_cdf

    grid = _tanh_sinh_grid(x, log_w, -0.5 * x * x - _HALF_LOG_2PI, z, xp, dev)
    return _common_grid_log_mass(
        z, *grid, log_cdf_and_reverse_hazard, xp, estimate_error=estimate_error
    )


def _logistic_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    s, log_u, log_v, log_w = _tanh_sinh_unit(n_nodes)

    def log_cdf_and_reverse_hazard(a):
        # f / F = 1 - F for the logistic distribution
        return log_expit(a, xp=xp), log_expit(-a, xp=xp)

    # x = logit(u) = 2 s exactly, and f(x) = F(x) (1 - F(x)) = u (1 - u)
    grid = _tanh_sinh_grid(2.0 * s, log_w, log_u + log_v, z, xp, dev)
    return _common_grid_log_mass(
        z, *grid, log_cdf_and_reverse_hazard, xp, estimate_error=estimate_error
    )


def _frozen_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # Any continuous scipy.stats distribution: integrate in u = F(e) over (0, 1)
    # with the tanh-sinh rule; log F and log f are evaluated by SciPy on the host.
    s, log_u, log_v, log_w = _tanh_sinh_unit(n_nodes)
    x = np.where(s < 0, noise.ppf(np.exp(log_u)), noise.isf(np.exp(log_v)))
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"The quantile function of the noise distribution {noise.dist.name!r} is "
            "not finite inside (0, 1); argmax_probabilities needs a continuous "
            "distribution with finite quantiles."
        )
    dtype = z.dtype

    def to_xp(values):
        return asarray(values, xp=xp, device=dev, dtype=dtype)

    def host(a):
        return np.asarray(to_numpy(a), dtype=np.float64)

    if np.isfinite(noise.support()[1]):
        # f drops to 0 at the right end of the support; on the shared grid that
        # jump would sit inside every lower class's range (frozen uniform noise:
        # error 1e-2 there against 8e-5 per class), so each class keeps its grid.
        return _pairwise_log_mass(
            z,
            to_xp(x),
            to_xp(log_w),
            lambda a: to_xp(noise.logcdf(host(a))),
            xp,
            estimate_error=estimate_error,
        )
    log_pdf = noise.logpdf(x)
    # nodes where the quantile reached the left end of the support (density 0)
    # carry no weight
    keep = np.isfinite(log_pdf)

    def log_cdf_and_reverse_hazard(a):
        a = host(a)
        log_cdf = noise.logcdf(a)
        return to_xp(log_cdf), to_xp(noise.logpdf(a) - log_cdf)

    grid = _tanh_sinh_grid(x[keep], log_w[keep], log_pdf[keep], z, xp, dev)
    return _common_grid_log_mass(
        z, *grid, log_cdf_and_reverse_hazard, xp, estimate_error=estimate_error
    )


def _exponential_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # With v = exp(-e) the integral becomes p_i = a_i int_0^1 prod_{j != i}
    # (1 - t a_j) dt, a_j = exp(z_j - max z): a polynomial of degree K - 1, so
    # Gauss-Legendre with ceil(K / 2) nodes is exact and the cost is O(n K m).
    n, K = z.shape
    t, log_w = _gauss_legendre_unit(n_nodes)
    t = asarray(t, xp=xp, device=dev, dtype=z.dtype)
    log_w = asarray(log_w, xp=xp, device=dev, dtype=z.dtype)
    log_a = z - xp.max(z, axis=1, keepdims=True)
    row_blocks, node_blocks = _blocks(n, K, n_nodes, xp)
    out = []
    for rows in row_blocks:
        a = xp.exp(log_a[rows, :])
        parts = []
        for group in node_blocks:
            terms = xp.log1p(-a[:, :, None] * t[group])
            total = xp.sum(terms, axis=1, keepdims=True)
            parts.append(total - terms + log_w[group])
        mass = logsumexp(xp.concat(parts, axis=2), axis=2, xp=xp)
        out.append(mass + log_a[rows, :])
    # exact rules: no quadrature error to estimate
    return xp.concat(out, axis=0), 0.0


def _uniform_log_mass(z, n_nodes, xp, dev, noise, estimate_error):
    # U(0, 1) noise. With tau = e + z_i - max z in [0, 1] and d_j = max z - z_j,
    # p_i = int_0^{1 - d_i} H(tau) / (tau + d_i) dtau with
    # H(tau) = prod_j min(1, tau + d_j).
    # H is a polynomial between the sorted kinks b_j = 1 - d_j (shared by all
    # classes), so Gauss-Legendre on each of those K segments with ceil(K / 2)
    # nodes is exact. Class i integrates the segments that end at or below b_i.
    n, K = z.shape
    dtype = z.dtype
    t, log_w = _gauss_legendre_unit(n_nodes)
    t = asarray(t, xp=xp, device=dev, dtype=dtype)
    log_w = asarray(log_w, xp=xp, device=dev, dtype=dtype)
    tiny = xp.finfo(dtype).smallest_normal
    one = xp.ones((), dtype=dtype, device=dev)
    d = xp.max(z, axis=1, keepdims=True) - z
    b = xp.clip(1.0 - d, 0.0, 1.0)
    hi = xp.sort(b, axis=1)
    lo = xp.concat([xp.zeros_like(hi[:, :1]), hi[:, :-1]], axis=1)
    length = hi - lo
    positive = length > 0
    log_length = xp.log(xp.where(positive, length, xp.ones_like(length)))
    log_length = xp.where(positive, log_length, -xp.inf)
    row_blocks, node_blocks = _blocks(n, K * K, n_nodes, xp)
    out = []
    for rows in row_blocks:
        dc, bc = d[rows, :], b[rows, :]
        hic, loc, llc = hi[rows, :], lo[rows, :], log_length[rows, :]
        # segment r counts for class i when it ends at or below b_i: (c, K_i, K_r)
        keep = hic[:, None, :] <= bc[:, :, None]
        parts = []
        for group in node_blocks:
            tg = t[group]
            # nodes of every segment, (c, K_r, g); kept > 0 so the logs are finite
            tau = xp.maximum(loc[:, :, None] + (hic - loc)[:, :, None] * tg, tiny)
            log_h = xp.sum(
                xp.log(xp.minimum(tau[:, :, :, None] + dc[:, None, None, :], one)),
                axis=3,
            )
            log_node = log_h + llc[:, :, None] + log_w[group]
            term = log_node[:, None, :, :] - xp.log(
                tau[:, None, :, :] + dc[:, :, None, None]
            )
            term = xp.where(keep[:, :, :, None], term, -xp.inf)
            parts.append(xp.reshape(term, (term.shape[0], K, -1)))
        out.append(logsumexp(xp.concat(parts, axis=2), axis=2, xp=xp))
    # exact rules: no quadrature error to estimate
    return xp.concat(out, axis=0), 0.0


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


def _exact(n_classes):
    # Gauss-Legendre with m nodes is exact to degree 2 m - 1 >= n_classes - 1
    return max(1, math.ceil(n_classes / 2))


def _tanh_sinh_floor(n_classes):
    return _MIN_TANH_SINH_NODES


def _gaussian_default_nodes(n_classes):
    # Measured against scipy.integrate.quad on scores of spread 0.3, 2 and 10:
    # max error 3e-14 (K <= 10), 1e-15 (K <= 100) and 7e-15 (K = 200, quad's own
    # error) with these counts; near ties (spread 0.3) need the most nodes.
    return 49 if n_classes <= 10 else (97 if n_classes <= 100 else 129)


# Measured like the Gaussian rule: 129 nodes keep the logistic rule within 7e-15
# of scipy.integrate.quad up to 200 classes (widely spread scores need the most).
_RULES = {
    "gumbel": _Rule(_gumbel_log_mass, None, _exact, False),
    "gaussian": _Rule(
        _gaussian_log_mass, _gaussian_default_nodes, _tanh_sinh_floor, True
    ),
    "logistic": _Rule(_logistic_log_mass, lambda k: 129, _tanh_sinh_floor, True),
    "uniform": _Rule(_uniform_log_mass, _exact, _exact, False),
    "exponential": _Rule(_exponential_log_mass, _exact, _exact, False),
    # any frozen continuous scipy.stats distribution
    "frozen": _Rule(_frozen_log_mass, lambda k: 129, _tanh_sinh_floor, True),
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
            "with fewer, the tanh-sinh rule was measured off by 1e-3 to 0.3"
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
        Number of quadrature nodes. ``None`` chooses: 49 (up to 10 classes),
        97 (up to 100) or 129 for ``"gaussian"``, 129 for ``"logistic"`` and
        frozen distributions, and ``ceil(n_classes / 2)`` (exact) for
        ``"uniform"`` and ``"exponential"``. Ignored for ``"gumbel"`` and for
        two Gaussian classes. Fewer than 17 nodes for the tanh-sinh rules, or
        than ``ceil(n_classes / 2)`` for the exact ones, raise a ValueError; a
        given count that looks inaccurate warns (see Notes).

    Returns
    -------
    proba : array of shape (n_samples, n_classes)
        Probabilities in the namespace, device and floating dtype of
        ``scores``; every row sums to 1.

    Warns
    -----
    UserWarning
        When ``n_nodes`` is given and a tanh-sinh rule differs by more than
        1e-4 in some probability from its sub-rule on every other node.

    See Also
    --------
    ArgmaxProbabilityTransformer : The same map as a scikit-learn transformer.

    Notes
    -----
    The probabilities depend only on score differences (translation invariant)
    and preserve the order of the scores. The rules:

    - ``"gumbel"``: ``softmax(scores / scale)``.
    - ``"gaussian"``: ``Phi((mu_1 - mu_0) / (scale sqrt(2)))`` for two classes;
      otherwise the tanh-sinh rule in ``u = Phi(e)`` (Gauss-Hermite in ``e``
      needs many more nodes, because with many classes the integrand sits in
      the upper tail of ``e``).
    - ``"logistic"`` and frozen distributions: tanh-sinh in ``u = F(e)``.
      Frozen distributions whose support ends on the right (uniform, beta)
      keep one grid per class, at ``O(n_samples n_classes^2 n_nodes)``: their
      density jumps to 0 there, which the shared grid below would meet inside
      the integration range.
    - ``"exponential"``: with ``v = exp(-e)`` the integral is a polynomial of
      degree ``n_classes - 1``; Gauss-Legendre is exact and costs
      ``O(n_samples n_classes n_nodes)``.
    - ``"uniform"``: a polynomial between the sorted kinks ``mu_j + scale``;
      Gauss-Legendre on each of the ``n_classes`` segments is exact and costs
      ``O(n_samples n_classes^2 n_nodes)`` (``O(n_classes^3)`` per row).

    The other tanh-sinh rules substitute ``u = e + mu_i``, which puts every
    class on one grid at ``max(mu) + x_k``: the integrand of class ``i`` is
    ``f(u - mu_i) / F(u - mu_i)`` times ``prod_j F(u - mu_j)``, the CDF of the
    noisy maximum, formed once per node. They cost
    ``O(n_samples n_classes n_nodes)``, and the products over classes are sums
    of log-CDFs, so 1000 classes or scores of ``+-1e3`` neither underflow nor
    overflow. With a given ``n_nodes`` the rule is compared with its sub-rule
    on every other node; the gap is usually far above the rule's own error,
    so a warning means the rule may be off by about that much.

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
    z = scores / scale
    nodes = _check_nodes(rule, n_nodes, z.shape[1])
    log_mass, error = rule.log_mass(
        z, nodes, xp, dev, noise, rule.estimates_error and n_nodes is not None
    )
    if error > _ERROR_WARN:
        warnings.warn(
            f"argmax_probabilities with n_nodes={n_nodes} differs by {error:.1e} "
            "from the same rule on every other node, a sign of quadrature error "
            "of that order; increase n_nodes, or pass n_nodes=None for the "
            "accurate default.",
            UserWarning,
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

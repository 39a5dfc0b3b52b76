"""Quadrature rules for noisy-argmax integrals, and how many nodes each use takes."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Two callers integrate the same one-dimensional quantity, the probability that
# a class wins the argmax of noisy scores,
#     A = int f(e) prod_j F(u_j + e) de:
# AccuracyOptimizedLinear (Gaussian noise, one class per row, with a gradient,
# thousands of times per fit) and argmax_probabilities (every class of a row,
# any noise). This module owns the rules (nodes and weights), how many nodes
# each use takes, and the Gaussian hot path of the first caller. The figures
# behind each node count are in benchmarks/RESULTS.md.

import math
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.sparse import csr_array
from scipy.special import log_expit, log_ndtr, roots_legendre

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# Table of log Phi for win_probability (see log_phi_table): cells per unit and
# range of u + e; per entry it replaces erfc, log, exp and a division.
_LOG_PHI_CELLS = 2048
_LOG_PHI_LO = -30.0
_LOG_PHI_HI = 9.0
# Entries of the (pairs, nodes) temporaries per block: 1 MiB per float64 array
# keeps memory bounded whatever the number of samples, and stays in cache.
_BLOCK = 2**17
# Gauss-Hermite nodes whose weight is below this cannot move A (a probability)
# by more than the weight itself; dropping them saves work at the far nodes.
_MIN_NODE_WEIGHT = 1e-16

# Margins u = delta / sigma above this leave A unchanged to 1e-17.
NEGLIGIBLE_MARGIN = 12.0
# The training objective, a mean of A, only needs it well within the
# optimiser's tolerance (1e-4 by default): a pair beyond 8 moves A by at most
# Phi(-8 / sqrt(2)) = 7.6e-9.
TRAINING_NEGLIGIBLE_MARGIN = 8.0
# Beyond this many Gauss-Hermite nodes the rule gains nothing (128 already reach
# 1e-6 at any number of classes) and its construction grows as the cube of the
# count.
MAX_GAUSS_HERMITE_NODES = 256
# Fewest nodes of the tanh-sinh rules (a step of 0.5 in t on [-4, 4]): with
# fewer, the rule is far off for near-tied classes, and from this count on the
# every-other-node comparison flags what error remains.
MIN_TANH_SINH_NODES = 17
# Default of the tanh-sinh rules for the logistic and frozen noises: a step of
# 1/16 in t, near machine precision for smooth densities up to a few hundred
# classes.
TANH_SINH_NODES = 129


# --- node-count policies: one per use ---------------------------------------


def expected_accuracy_nodes(n_classes):
    """Gauss-Hermite nodes for a reported expected accuracy (error below 1e-6).

    ``expected_accuracy`` and ``AccuracyOptimizedLinear.expected_accuracy``
    report ``A`` to the user, so the rule must be accurate row by row. The
    integrand sharpens like the maximum of ``n_classes - 1`` Gaussians, so more
    classes need more nodes.
    """
    if n_classes <= 10:
        return 32
    if n_classes <= 30:
        return 48
    if n_classes <= 100:
        return 80
    return 128


def training_nodes(n_classes):
    """Gauss-Hermite nodes for the training objective and the calibration.

    The optimiser stops at a change of ``tol`` (1e-4 by default) in a mean of
    ``A``, and the calibration only places the minimum of a log-loss, so the
    rule only has to be smooth and accurate in the mean well below that: fewer
    nodes than :func:`expected_accuracy_nodes` for the same fitted model. More
    than 32 classes keep the reporting rule.
    """
    if n_classes <= 4:
        return 10
    return 16 if n_classes <= 32 else expected_accuracy_nodes(n_classes)


def argmax_gaussian_nodes(n_classes):
    """Tanh-sinh nodes of the Gaussian rule of ``argmax_probabilities``.

    Predicted probabilities are returned to the user and may be compared with
    closed forms, so the rule aims at machine precision; near-tied classes
    need the most nodes, and more classes push the integrand further into the
    upper tail.
    """
    return 49 if n_classes <= 10 else (97 if n_classes <= 100 else 129)


def exact_legendre_nodes(n_classes):
    """Gauss-Legendre nodes that integrate a polynomial of degree ``n_classes - 1``.

    With ``m`` nodes the rule is exact to degree ``2 m - 1``.
    """
    return max(1, math.ceil(n_classes / 2))


# --- rules ------------------------------------------------------------------


@lru_cache(maxsize=16)
def gauss_hermite(n_nodes):
    """Nodes and weights integrating against the standard normal density."""
    nodes, weights = hermegauss(n_nodes)
    weights = weights * _INV_SQRT_2PI
    keep = weights > _MIN_NODE_WEIGHT
    nodes, weights = nodes[keep], weights[keep]
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


@lru_cache(maxsize=32)
def gauss_legendre_unit(n_nodes):
    """Gauss-Legendre nodes and log-weights on [0, 1]."""
    x, w = roots_legendre(n_nodes)
    t = 0.5 * (x + 1.0)
    log_w = np.log(0.5 * w)
    t.flags.writeable = False
    log_w.flags.writeable = False
    return t, log_w


@lru_cache(maxsize=32)
def tanh_sinh_unit(n_nodes, t_max=4.0):
    """Tanh-sinh nodes on (0, 1): ``(s, log u, log(1 - u), log-weights)``.

    ``u = expit(2 s)`` with ``s = pi/2 sinh(t)``; keeping ``s`` lets the caller
    form ``F^-1(u)`` without rounding ``u`` near 1 (logit(u) is exactly ``2 s``).
    The double-exponential clustering at both ends resolves the steep
    ``u ** a``-type integrands that classes far below the maximum produce, and
    integrable singularities at the ends of the interval.
    """
    t = np.linspace(-t_max, t_max, n_nodes)
    h = t[1] - t[0]
    s = 0.5 * math.pi * np.sinh(t)
    log_u = log_expit(2.0 * s)
    log_v = log_expit(-2.0 * s)
    log_w = math.log(h * math.pi) + np.log(np.cosh(t)) + log_u + log_v
    for array in (s, log_u, log_v, log_w):
        array.flags.writeable = False
    return s, log_u, log_v, log_w


@lru_cache(maxsize=1)
def log_phi_table():
    """Cubic Hermite pieces of ``log Phi`` on a grid of ``1 / _LOG_PHI_CELLS``.

    Row ``k`` of the (4, n_cells) result holds the coefficient of ``t^k`` on each
    cell, ``t`` in [0, 1), from ``log Phi`` and its derivative ``phi / Phi``
    (SciPy's ``log_ndtr``) at the cell's ends; the absolute error is what a
    product of CDFs needs as its relative error. Beyond its ends ``t`` is
    clamped: above ``_LOG_PHI_HI`` (9), ``log Phi > -1.2e-19``; ``u + e`` stays
    above -21 (margins below -12 skip the row, no node lies below -8.3).
    """
    n_cells = int(round((_LOG_PHI_HI - _LOG_PHI_LO) * _LOG_PHI_CELLS))
    x = _LOG_PHI_LO + np.arange(n_cells + 1) / _LOG_PHI_CELLS
    f = log_ndtr(x)
    slope = np.exp(-0.5 * x * x - f) * _INV_SQRT_2PI / _LOG_PHI_CELLS
    f0, f1, s0, s1 = f[:-1], f[1:], slope[:-1], slope[1:]
    table = np.stack(
        [f0, s0, 3.0 * (f1 - f0) - 2.0 * s0 - s1, 2.0 * (f0 - f1) + s0 + s1]
    )
    table.flags.writeable = False
    return table


def win_probability(
    margins, nodes, weights, *, gradient=True, saturation=NEGLIGIBLE_MARGIN
):
    """``A_i = int phi(e) prod_j Phi(u_ij + e) de`` and ``dA_i / du_ij`` (host).

    ``margins`` is ``u`` of shape (n, m); ``nodes`` and ``weights`` a
    :func:`gauss_hermite` rule. The product over ``j`` is a sum of ``log Phi``
    (a product of many CDFs underflows); the gradient uses
    ``d/du_ij = int phi(e) prod_k Phi(u_ik + e) * phi(u_ij + e) / Phi(u_ij + e)``,
    so one evaluation of the CDFs serves both. Pairs with ``u_ij`` above
    ``saturation`` are skipped: their factor is 1 to within
    ``Phi(-u / sqrt(2))`` in ``A`` and their gradient is as small. Rows with a
    margin below ``-saturation`` are skipped whole: ``A <= Phi(u / sqrt(2))``
    and every ``dA / du`` is below ``phi(u / sqrt(2))``, so they are 0 (one
    test per row, cheaper than per-entry skipping). ``log Phi`` and its
    derivative come from :func:`log_phi_table`, which replaces the
    transcendental functions per entry with one cubic.
    """
    n_rows, n_terms = margins.shape
    n_nodes = nodes.shape[0]
    value = np.ones(n_rows)
    grad = np.zeros((n_rows, n_terms)) if gradient else None
    lost = np.min(margins, axis=1) < -saturation
    value[lost] = 0.0
    pair_rows, pair_cols = np.nonzero((margins < saturation) & ~lost[:, None])
    # Cell coordinates of u + e on the log Phi table, split as (u, e) terms so
    # that the per-entry work is one addition.
    cell_pairs = (margins[pair_rows, pair_cols] - _LOG_PHI_LO) * _LOG_PHI_CELLS
    cell_nodes = nodes * _LOG_PHI_CELLS
    table = log_phi_table()
    last_cell = table.shape[1] - 1
    counts = np.bincount(pair_rows, minlength=n_rows)
    # offsets[r] = first pair of row r (pairs come out of nonzero row-major)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    rows_per_block = max(1, _BLOCK // (max(n_terms, 1) * n_nodes))
    for row_start in range(0, n_rows, rows_per_block):
        row_stop = min(row_start + rows_per_block, n_rows)
        first, last = offsets[row_start], offsets[row_stop]
        if first == last:
            continue
        starts = offsets[row_start:row_stop]
        has_pairs = starts < offsets[row_start + 1 : row_stop + 1]
        block_rows = np.arange(row_start, row_stop)[has_pairs]
        # t = position of u + e in table cells; beyond the table's ends log Phi
        # is clamped to its end values (see log_phi_table).
        t = cell_pairs[first:last, None] + cell_nodes
        np.clip(t, 0.0, last_cell, out=t)
        cell = t.astype(np.intp)
        t -= cell
        a, b, c, d = table.take(cell, axis=1)
        # log Phi(u + e) by the cubic in t, Horner's rule in place on d.
        log_phi = d * t
        log_phi += c
        log_phi *= t
        log_phi += b
        log_phi *= t
        log_phi += a
        # Sums over each row's pairs as a product with a 0/1 CSR matrix: cheaper
        # than np.add.reduceat over such short segments.
        n_pairs = last - first
        row_pointers = offsets[row_start : row_stop + 1] - first
        row_sums = csr_array(
            (np.ones(n_pairs), np.arange(n_pairs), row_pointers),
            shape=(row_stop - row_start, n_pairs),
        )
        log_product = (row_sums @ log_phi)[has_pairs]
        mass = np.exp(log_product) * weights
        value[block_rows] = np.sum(mass, axis=1)
        if gradient:
            # phi / Phi = d log Phi / dx, the derivative of the same cubic.
            d *= 3.0
            d *= t
            c *= 2.0
            d += c
            d *= t
            d += b
            mass *= _LOG_PHI_CELLS
            local = pair_rows[first:last] - row_start
            row_of_pair = np.cumsum(has_pairs)[local] - 1
            block = np.einsum("pq,pq->p", d, mass[row_of_pair])
            grad[pair_rows[first:last], pair_cols[first:last]] = block
    return value, grad

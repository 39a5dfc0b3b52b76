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

# Pieces of log Phi for win_probability (see _log_phi_pieces): cells per unit
# of the margin and the degree of the pieces. Quintic pieces on cells of 1/32
# hold log Phi to 5e-13 absolute and phi / Phi to 1e-8 relative below 5 (the
# tests assert both), which the sums over pairs and nodes of the quadrature
# need to match SciPy's log_ndtr to 1e-11; cubic pieces, whose error falls
# like h^4 instead of h^6, would need cells several times finer.
_PIECE_CELLS = 32
_PIECE_DEGREE = 5
_PIECE_TERMS = _PIECE_DEGREE + 1
# Pairs per block of win_probability: its (pairs, nodes) temporaries stay near
# the size of a core's cache and bounded whatever the number of samples.
_PAIR_BLOCK = 2**14
# Nodes per table of pieces: a table holds every node of its rule, so a larger
# rule (or sampled draws used as nodes) is split into groups of this many.
_NODE_GROUP = 64
# Gauss-Hermite nodes whose weight is below this cannot move A (a probability)
# by more than the weight itself; dropping them saves work at the far nodes.
_MIN_NODE_WEIGHT = 1e-16

# The training objective, a mean of A, leaves out the Gauss-Hermite nodes of
# weight below this and renormalises the others: A moves by at most about the
# weight left out (below 4e-6 for any rule up to MAX_GAUSS_HERMITE_NODES, the
# tests assert it) and dA/du by less, far below the optimiser's tolerance.
TRAINING_MIN_NODE_WEIGHT = 1e-6

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


@lru_cache(maxsize=16)
def training_gauss_hermite(n_nodes):
    """The training objective's rule: :func:`gauss_hermite` without small weights.

    Nodes of weight below ``TRAINING_MIN_NODE_WEIGHT`` are left out (the far
    ones, where the integrand barely moves the mean). The weights left are
    renormalised to sum to 1, so that a row whose every pair is skipped
    (``A = 1``) and a row with pairs near the saturation agree.
    """
    nodes, weights = gauss_hermite(n_nodes)
    keep = weights >= TRAINING_MIN_NODE_WEIGHT
    nodes = nodes[keep]
    weights = weights[keep] / np.sum(weights[keep])
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


@lru_cache(maxsize=8)
def _log_phi_pieces(node_bytes, saturation):
    """Polynomial pieces of ``log Phi(u + e_q)`` in ``u`` on [-saturation, saturation].

    ``node_bytes`` are the nodes ``e_q`` (float64 bytes, hashable for the
    cache). Returns ``(values, slopes)``, each of shape
    (n_cells * _PIECE_TERMS, n_nodes): row ``cell * _PIECE_TERMS + k`` of
    ``values`` holds the coefficient of ``t^k``, ``t`` in [0, 1) the position
    of ``u`` in its cell, for every node at once; ``slopes`` holds those of the
    derivative in ``u`` (the last row of each cell is 0), the exact
    derivative of the same polynomial, so the gradient of
    :func:`win_probability` is that of its value. The pieces are quintic
    Hermite interpolants of SciPy's ``log_ndtr`` and of its first two
    derivatives, ``phi / Phi`` and ``-(phi / Phi) (x + phi / Phi)``, at the
    cell ends; with the nodes inside the table a margin needs one cell and
    ``t`` for all of its nodes.
    """
    nodes = np.frombuffer(node_bytes)
    n_cells = math.ceil(2.0 * saturation * _PIECE_CELLS)
    step = 1.0 / _PIECE_CELLS
    x = (-saturation + step * np.arange(n_cells + 1))[:, None] + nodes
    f = log_ndtr(x)
    ratio = np.exp(-0.5 * x * x - f) * _INV_SQRT_2PI
    g = ratio * step
    k = -ratio * (x + ratio) * (step * step)
    f0, f1, g0, g1, k0, k1 = f[:-1], f[1:], g[:-1], g[1:], k[:-1], k[1:]
    # t^3, t^4, t^5 coefficients that match value, slope and curvature at t=1
    a = f1 - f0 - g0 - 0.5 * k0
    b = g1 - g0 - k0
    c = k1 - k0
    coefficients = [
        f0,
        g0,
        0.5 * k0,
        10.0 * a - 4.0 * b + 0.5 * c,
        -15.0 * a + 7.0 * b - c,
        6.0 * a - 3.0 * b + 0.5 * c,
    ]
    values = np.stack(coefficients, axis=1)
    slopes = np.zeros_like(values)
    for power in range(1, _PIECE_TERMS):
        slopes[:, power - 1] = (power * _PIECE_CELLS) * values[:, power]
    tables = []
    for table in (values, slopes):
        table = table.reshape(n_cells * _PIECE_TERMS, nodes.shape[0])
        table.flags.writeable = False
        tables.append(table)
    return tuple(tables)


def _row_minimum(margins):
    """Minimum of each row, one column at a time (rows are short)."""
    low = margins[:, 0].copy()
    for column in range(1, margins.shape[1]):
        np.minimum(low, margins[:, column], out=low)
    return low


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
    test per row, cheaper than per-entry skipping). ``log Phi(u + e)`` comes
    from polynomial pieces in ``u`` tabulated for all the nodes at once (see
    :func:`_log_phi_pieces`), so that the sum over a row's pairs is one sparse
    product: each pair contributes its cell's coefficients times powers of
    its position in the cell, for all nodes in one pass of compiled code.
    """
    n_rows, n_terms = margins.shape
    nodes = np.asarray(nodes, dtype=np.float64)
    value = np.ones(n_rows)
    grad = np.zeros((n_rows, n_terms)) if gradient else None
    lost = _row_minimum(margins) < -saturation
    value[lost] = 0.0
    kept = margins < saturation
    kept[lost] = False
    # flat positions of the pairs, row-major, and their rows
    pairs = np.flatnonzero(kept)
    pair_rows = pairs // n_terms
    offsets = np.zeros(n_rows + 1, dtype=np.intp)
    np.cumsum(np.bincount(pair_rows, minlength=n_rows), out=offsets[1:])
    position = (margins.ravel()[pairs] + saturation) * _PIECE_CELLS
    n_cells = math.ceil(2.0 * saturation * _PIECE_CELLS)
    cell = np.minimum(position.astype(np.int32), np.int32(n_cells - 1))
    position -= cell
    groups = [
        (
            _log_phi_pieces(nodes[at : at + _NODE_GROUP].tobytes(), float(saturation)),
            weights[at : at + _NODE_GROUP],
        )
        for at in range(0, nodes.shape[0], _NODE_GROUP)
    ]
    # blocks of whole rows with about _PAIR_BLOCK pairs each
    n_blocks = -(-pairs.shape[0] // _PAIR_BLOCK)
    bounds = np.searchsorted(offsets, _PAIR_BLOCK * np.arange(1, n_blocks))
    bounds = np.unique(np.concatenate([[0], bounds, [n_rows]]))
    for row_start, row_stop in zip(bounds[:-1], bounds[1:]):
        first, last = offsets[row_start], offsets[row_stop]
        if first == last:
            continue
        block_value, block_grad = _pair_block(
            groups,
            cell[first:last],
            position[first:last],
            offsets[row_start : row_stop + 1] - first,
            gradient,
        )
        has_pairs = offsets[row_start + 1 : row_stop + 1] > offsets[row_start:row_stop]
        value[row_start:row_stop][has_pairs] = block_value[has_pairs]
        if gradient:
            grad.ravel()[pairs[first:last]] = block_grad
    return value, grad


def _pair_block(groups, cell, position, row_pointers, gradient):
    """``A`` of the rows of one block and ``dA / du`` of its pairs.

    ``groups`` are (tables, weights) of :func:`_log_phi_pieces` for groups of
    nodes; ``cell`` and ``position`` locate each pair's margin in the tables
    and ``row_pointers`` delimit the rows' pairs (CSR). Rows without pairs
    come out as the sum of the weights.
    """
    n_pairs = cell.shape[0]
    powers = np.empty((n_pairs, _PIECE_TERMS))
    columns = np.empty((n_pairs, _PIECE_TERMS), dtype=np.int32)
    powers[:, 0] = 1.0
    first_row = cell * np.int32(_PIECE_TERMS)
    columns[:, 0] = first_row
    for power in range(1, _PIECE_TERMS):
        np.multiply(powers[:, power - 1], position, out=powers[:, power])
        np.add(first_row, np.int32(power), out=columns[:, power])
    powers, columns = powers.ravel(), columns.ravel()
    n_columns = groups[0][0][0].shape[0]
    # one CSR row per sample row sums log Phi over its pairs; one per pair
    # (the same entries) gives d log Phi / du of that pair
    per_row = csr_array(
        (powers, columns, (row_pointers * _PIECE_TERMS).astype(np.int32)),
        shape=(row_pointers.shape[0] - 1, n_columns),
    )
    per_pair = None
    if gradient:
        per_pair = csr_array(
            (
                powers,
                columns,
                np.arange(0, powers.shape[0] + 1, _PIECE_TERMS, dtype=np.int32),
            ),
            shape=(n_pairs, n_columns),
        )
    pairs_per_row = np.diff(row_pointers)
    value = 0.0
    grad = 0.0
    for (values, slopes), weights in groups:
        mass = np.exp(per_row @ values)
        mass *= weights
        value = value + mass @ np.ones(weights.shape[0])
        if gradient:
            slope = per_pair @ slopes
            # each row's mass once per pair: pairs are grouped by row, and a
            # repeat is cheaper than a gather
            slope *= np.repeat(mass, pairs_per_row, axis=0)
            grad = grad + slope @ np.ones(weights.shape[0])
    return value, grad

"""Objectives minimised by Newton's method: values, gradients, Hessians."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Each class is one objective and speaks the protocol of _newton.damped_newton:
# evaluate / gradient / stationarity / direction / line. The solver knows
# nothing of the model; the objective knows nothing of the iteration.

import math

import numpy as np

from ._backend import (
    asarray,
    dense_host,
    get_namespace_and_device,
    issparse,
    to_numpy,
)
from ._closed_form import DIRECT_MAX_BYTES
from ._newton import (
    RAY_SCALES,
    InexactNewtonDirection,
    LaggedNewtonDirection,
    Point,
)

__all__ = ["BlockwiseLogLoss", "PenalisedLogLoss", "TemperatureOffsetsLoss"]

# Newton systems with at most this many unknowns are solved with the exact
# Hessian (n * P^2 for the Hessian, P^3 / 3 for the solve); larger ones by
# preconditioned conjugate gradients from Hessian-vector products (n * P each).
_EXACT_HESSIAN_MAX_UNKNOWNS = 400
# Row blocks of the products over dense X: a (scaled) block of this size stays
# in cache, where a scaled copy of all of X would double the time of a Hessian
# and two separate products would read X twice.
_BLOCK_BYTES = 1 << 20
_MIN_BLOCK_ROWS = 256
# Above this many features the preconditioner uses the diagonal of X^T W X
# instead of its eigendecomposition (a d x d matrix).
_PRECONDITIONER_MAX_SIDE = 4000
# The softmax is unchanged by adding one constant to every intercept: the
# Hessian is singular along that direction, and this relative ridge makes the
# exact solve well posed without moving the solution.
_NULL_RIDGE = 1e-10
# Slices of the classes in a product of sparse X^T with (n, K) rows.
_TRANSPOSE_SLICES = 4
# Up to this many classes, row maxima are taken column by column.
_FEW_CLASSES = 16
# Step lengths 1, 1/2, ..., 1/2^3 evaluated by the first pass of a line search.
_BLOCKWISE_LINE_LENGTHS = 4


class _LogisticPenalty:
    """What :class:`PenalisedLogLoss` and :class:`BlockwiseLogLoss` share:
    LogisticRegression's L2 penalty (intercepts not penalised), lbfgs's
    stopping rule and the two Newton direction solvers."""

    def _set_penalty(
        self, n_params, n_classes, total_weight, *, C, fit_intercept, tol, gram
    ):
        self.binary = n_classes == 2
        self.penalised = np.ones(n_params)
        if fit_intercept:
            self.penalised[-1] = 0.0
        # the direction that shifts every intercept alike changes nothing
        self.null_intercept = fit_intercept and not self.binary
        self.total_weight = total_weight
        self.C = C
        # the stopping tolerance of the stationarity
        self.tol = tol
        # [X, 1]^T W [X, 1] (host float64) when the caller has it, e.g. from
        # class moments; else computed by the first truncated Newton step
        self.gram = gram
        self._gram_eigen = None
        # truncated CG stops once its residual is well inside the tolerance
        self._inexact_direction = InexactNewtonDirection(
            0.5 * self.tol * self.total_weight
        )
        self._exact_direction = LaggedNewtonDirection(
            _NULL_RIDGE, self.tol * self.total_weight
        )

    def _add_penalty(self, product, theta):
        """``product += penalised * theta / C`` in place (host float64), one
        coefficient row at a time: on text a temporary of all the unknowns
        would be as large as the data."""
        for row, coefficients in zip(product, theta):
            row += self.penalised * coefficients / self.C
        return product

    def _squared_norm(self, theta):
        """``sum(penalised * theta^2)`` through one temporary, not two."""
        squares = np.square(theta)
        squares *= self.penalised
        return float(np.sum(squares))

    def stationarity(self, point, gradient):
        """Largest gradient entry over the total weight (lbfgs's rule on the mean)."""
        return float(np.max(np.abs(gradient))) / self.total_weight

    def _drop_null(self, direction):
        return _drop_null(direction, self.null_intercept)


class PenalisedLogLoss(_LogisticPenalty):
    """``sum_i w_i log_loss_i + ||W||^2 / (2 C)`` (intercepts not penalised).

    The objective of :class:`~sklearn.linear_model.LogisticRegression` with an
    L2 penalty: one coefficient row for two classes, K rows (all penalised)
    otherwise. Parameters ``theta`` are host float64 arrays of shape
    (n_rows, n_features + fit_intercept), the intercepts last; the data stay
    in their namespace. The intercept is a block of its own in the scores,
    gradients and Hessians, so X is never copied with a column of ones. A
    point caches its scores and probabilities, so the line search reads no
    data beyond one pass per direction, which also brings the gradient at the
    full step.
    """

    def __init__(
        self,
        X,
        y_index,
        sample_weight,
        n_classes,
        *,
        C,
        fit_intercept,
        tol,
        gram=None,
    ):
        xp, _, dev = get_namespace_and_device(X)
        self.xp, self.dev, self.dtype = xp, dev, X.dtype
        self.X = X
        self.fit_intercept = fit_intercept
        # SciPy sparse X (on the host) are never densified
        self.sparse = issparse(X)
        self._set_penalty(
            X.shape[1] + int(fit_intercept),
            n_classes,
            float(xp.sum(sample_weight)),
            C=C,
            fit_intercept=fit_intercept,
            tol=tol,
            gram=gram,
        )
        class_ids = xp.arange(n_classes, dtype=y_index.dtype, device=dev)
        # the class indicator is made where it is used (see _onehot), not
        # kept: on text it would be an (n, K) array beside the scores
        self.y_index = y_index
        self._class_ids = class_ids[1:] if self.binary else class_ids
        # nor is weight * onehot: the products it would serve are taken as
        # weight * (onehot * scores), equal to the bit (onehot is 0 or 1)
        self.weight = sample_weight[:, None]
        self._class_ones = xp.ones((n_classes,), dtype=X.dtype, device=dev)

    def _onehot(self, rows=slice(None)):
        """Class indicator of the ``rows``: (n, K), or (n, 1) of the second
        class for two. In float32, where 0 and 1 are exact and which NumPy
        and the array API promote with float64 to float64."""
        xp = self.xp
        hits = self.y_index[rows, None] == self._class_ids[None, :]
        return xp.astype(hits, xp.float32)

    def _to_xp(self, array):
        return asarray(array, xp=self.xp, device=self.dev, dtype=self.dtype)

    def _scores(self, theta, block=None):
        """``[X, 1] theta^T`` for all of X, or for one row ``block`` of it
        (``theta`` as :meth:`_coefficients` returns it)."""
        X = self.X if block is None else block
        if not isinstance(theta, tuple):
            theta = self._coefficients(theta)
        coef, intercept = theta
        scores = X @ coef
        if intercept is not None:
            scores += intercept
        return scores

    def _coefficients(self, theta):
        """``(W^T, b[None, :])`` in the data's namespace, ``W^T`` contiguous
        (a strided one makes BLAS twice as slow with few classes)."""
        n_features = self.X.shape[1]
        coef = self._to_xp(np.ascontiguousarray(theta[:, :n_features].T))
        if not self.fit_intercept:
            return coef, None
        return coef, self._to_xp(theta[None, :, n_features])

    def _transpose_product(self, rows, block=None):
        """``rows^T @ [X, 1]`` (host float64) for dense rows of shape (n, m),
        of all of X or of one row ``block`` of it."""
        X = self.X if block is None else block
        n_features = X.shape[1]
        # written once into the result: on text a cast or a concatenation
        # would each copy an array of all the unknowns
        product = np.empty((rows.shape[1], n_features + int(self.fit_intercept)))
        if self.sparse:
            # by slices of the classes: the sparse product's own result is a
            # fraction of the unknowns, and X's indices are read once a slice
            width = -(-rows.shape[1] // _TRANSPOSE_SLICES)
            for start in range(0, rows.shape[1], width):
                part = slice(start, start + width)
                product[part, :n_features] = np.asarray(X.T @ rows[:, part]).T
        else:
            product[:, :n_features] = to_numpy(rows.T @ X)
        if self.fit_intercept:
            product[:, n_features] = to_numpy(self.xp.sum(rows, axis=0))
        return product

    def _row_blocks(self, n_columns):
        """Row slices and row blocks of X (SciPy sparse X: one block).

        Products with the rows scaled are accumulated block by block: a
        scaled block of about ``_BLOCK_BYTES`` for ``n_columns`` columns stays
        in cache, where a scaled copy of all of X would be written to memory
        and read back.
        """
        n_samples = self.X.shape[0]
        if self.sparse:
            yield slice(None), self.X
            return
        size = max(_MIN_BLOCK_ROWS, _BLOCK_BYTES // (8 * n_columns))
        for start in range(0, n_samples, size):
            rows = slice(start, min(start + size, n_samples))
            yield rows, self.X[rows, :]

    def _fused_pass(self, theta, respond, keep=True):
        """Scores of ``theta`` by row block (None unless ``keep``), and ``sum
        respond(rows, block_scores)^T [X, 1]`` (host float64).

        Both products of a block are made while it is in cache: one read of X
        where two separate products would read it twice. Without ``keep``,
        ``respond`` may overwrite the block scores it is given.
        """
        if self.sparse:
            # one block: the contiguous copy of theta is freed before the
            # transposed product allocates its result
            scores = self._scores(theta)
            product = self._transpose_product(respond(slice(None), scores))
            return ([scores] if keep else None), product
        blocks, product, theta = [], None, self._coefficients(theta)
        for rows, block in self._row_blocks(self.X.shape[1]):
            scores = self._scores(theta, block)
            if keep:
                blocks.append(scores)
            part = self._transpose_product(respond(rows, scores), block)
            if product is None:
                product = part
            else:
                product += part
        return blocks, product

    def _joined(self, blocks):
        """Row blocks stacked (one block as it is, not copied)."""
        return blocks[0] if len(blocks) == 1 else self.xp.concat(blocks, axis=0)

    def _row_sums(self, array):
        """Sums over the class axis (keepdims), as a product with a ones
        vector: NumPy's sum over a short last axis is several times slower."""
        return (array @ self._class_ones)[:, None]

    def _row_max(self, scores):
        # elementwise over a few columns: NumPy's max over a short last axis
        # is several times slower
        if scores.shape[1] > _FEW_CLASSES:
            return self.xp.max(scores, axis=1, keepdims=True)
        top = scores[:, :1]
        for k in range(1, scores.shape[1]):
            top = self.xp.maximum(top, scores[:, k : k + 1])
        return top

    def evaluate(self, theta):
        return self._at(theta, self._scores(theta))

    def _probabilities(self, scores):
        """Probabilities and the log normaliser of each row (one ``exp`` per score)."""
        xp = self.xp
        if self.binary:
            # log(1 + e^s) = max(s, 0) + log(1 + e^-|s|), without overflow
            tail = xp.exp(-xp.abs(scores))
            proba = xp.where(scores >= 0, xp.ones_like(tail), tail) / (1.0 + tail)
            return proba, xp.maximum(scores, xp.zeros_like(scores)) + xp.log1p(tail)
        # finite scores: the row maximum keeps exp from overflowing
        top = self._row_max(scores)
        shifted = xp.exp(scores - top)
        total = self._row_sums(shifted)
        return shifted / total, top + xp.log(total)

    def _at(self, theta, scores, gradient=None, probabilities=None):
        """The point ``theta`` whose scores (and maybe gradient, and maybe
        :meth:`_probabilities`) are given.

        One ``exp`` per score serves both the loss and the probabilities (the
        line search and the shrink evaluate this many times per fit).
        """
        xp = self.xp
        if probabilities is None:
            probabilities = self._probabilities(scores)
        proba, log_norm = probabilities
        # row losses (>= 0) before the sum: a difference of two sums would lose
        # the digits the line search compares near the optimum
        if self.binary:
            target = self.weight * (self._onehot() * scores)
        else:
            target = self.weight * self._row_sums(self._onehot() * scores)
        loss = float(xp.sum(self.weight * log_norm - target))
        loss += 0.5 / self.C * self._squared_norm(theta)
        # a list, so that the line search can drop the gradient (see line)
        return Point(theta, loss, [scores, proba, gradient])

    def scaled(self, point, scale):
        return self._at(scale * point.theta, scale * point.cache[0])

    def ray_slope(self, point, scaled, scale):
        """First and second derivatives along the ray ``s * theta`` at ``s = scale``.

        ``point`` is the ray's base (``s = 1``) and ``scaled`` the point at
        ``scale``: both carry what is needed, so no pass over the data.
        """
        xp, theta = self.xp, point.theta
        base, proba = point.cache[0], scaled.cache[1]
        penalty = self._squared_norm(theta) / self.C
        if self.binary:
            mean = proba * base
            spread = self.weight * proba * (1.0 - proba) * base**2
        else:
            mean = self._row_sums(proba * base)
            spread = self.weight * (self._row_sums(proba * base**2) - mean**2)
        slope = float(xp.sum(self.weight * mean)) - float(
            xp.sum(self.weight * (self._onehot() * base))
        )
        return slope + scale * penalty, float(xp.sum(spread)) + penalty

    def gradient(self, point):
        if point.cache[2] is not None:
            return point.cache[2]
        residual = self.weight * (point.cache[1] - self._onehot())
        return self._add_penalty(self._transpose_product(residual), point.theta)

    def line(self, point, direction):
        """Points along ``theta - t direction``; the full step (``t = 1``,
        accepted at most steps) with its gradient, from the same pass."""
        # the gradient at the start of the step is read no more: Newton's
        # method has its direction and slope, and on text it is as large as
        # the data (gradient() would make it again)
        point.cache[2] = None
        scores, moved = point.cache[0], []

        def residual(rows, change):
            # the full step's scores and probabilities also make its point
            trial = scores[rows, :] - change
            proba, log_norm = self._probabilities(trial)
            moved.append((trial, proba, log_norm))
            residual = proba - self._onehot(rows)
            residual *= self.weight[rows, :]
            return residual

        blocks, product = self._fused_pass(direction, residual)
        change = self._joined(blocks)
        trial, proba, log_norm = (self._joined(parts) for parts in zip(*moved))
        del blocks
        moved.clear()
        theta = point.theta - direction
        full = self._at(
            theta, trial, self._add_penalty(product, theta), (proba, log_norm)
        )
        return lambda length: (
            full
            if length == 1.0
            else self._at(point.theta - length * direction, scores - length * change)
        )

    def direction(self, point, gradient):
        """Newton step: an exact Hessian's (the last one kept for a finishing
        step) for few unknowns, else truncated CG."""
        proba = point.cache[1]
        if point.theta.size <= _EXACT_HESSIAN_MAX_UNKNOWNS:
            curvature = self._curvature(proba)
            step = self._exact_direction(
                lambda: self._hessian(proba, curvature), gradient
            )
            return self._drop_null(step)
        # the curvature is made again by each product rather than kept
        # through conjugate gradients: on text it is an (n, K) array
        return self._inexact_direction(
            lambda vector: self._hessian_product(vector, proba),
            gradient,
            self._kronecker_preconditioner(proba, self._curvature(proba)),
        )

    def _curvature(self, proba, rows=slice(None)):
        """Per-row weights of the Hessian: ``w p (1 - p)`` (binary) or ``w p``,
        of the ``rows`` of ``proba`` (all its rows, or a slice of them)."""
        weight = self.weight[rows, :]
        if self.binary:
            return weight * proba * (1.0 - proba)
        return weight * proba

    def _hessian_product(self, vector, proba, curvature=None):
        """Hessian times ``vector`` (host), one pass over the data; with
        ``curvature`` None it is made block by block."""

        # in place on the block's scores, which nothing else reads: on text
        # each (n, K) temporary is a quarter of the data's size
        def response(rows, change):
            if not self.binary:
                change -= self._row_sums(proba[rows, :] * change)
            if curvature is None:
                change *= self._curvature(proba[rows, :], rows)
            else:
                change *= curvature[rows, :]
            return change

        _, product = self._fused_pass(vector, response, keep=False)
        return self._add_penalty(product, vector)

    def _hessian(self, proba, curvature):
        """Exact Hessian (host float64), two GEMMs whatever the number of classes.

        ``H[(k, a), (l, b)] = sum_i w_i (delta_kl p_ik - p_ik p_il) x_ia x_ib``:
        K products ``X^T diag(w p_k) X`` on the diagonal blocks minus one
        ``B^T B`` with ``B[i, (k, a)] = sqrt(w_i) p_ik x_ia``.
        """
        xp, n_params = self.xp, self.penalised.shape[0]
        n_rows = 1 if self.binary else proba.shape[1]
        if self.sparse:
            hessian = self._sparse_hessian(proba, curvature)
        elif self.binary:
            hessian = self._scaled_gram(xp.sqrt(curvature))
        else:
            hessian = -self._scaled_gram(xp.sqrt(self.weight) * proba)
            roots = xp.sqrt(curvature)
            for k in range(n_rows):
                diagonal = slice(k * n_params, (k + 1) * n_params)
                hessian[diagonal, diagonal] += self._scaled_gram(roots[:, k : k + 1])
        hessian[np.diag_indices_from(hessian)] += (
            np.tile(self.penalised, n_rows) / self.C
        )
        return hessian

    def _scaled_gram(self, scales):
        """``sum_i (s_i kron [x_i, 1]) (s_i kron [x_i, 1])^T`` (host float64).

        For dense X and ``scales`` (n, m) in its namespace; rows and columns in
        the Hessian's (k, a) order. Accumulated over row blocks with the
        intercept's columns apart, so no block is copied beside a column of
        ones.
        """
        xp = self.xp
        n_scales, n_features = scales.shape[1], self.X.shape[1]
        n_inner = n_scales * n_features
        # in the order [s_i kron x_i, s_i]
        parts = np.zeros((n_inner + n_scales, n_inner + n_scales))
        for rows, block in self._row_blocks(n_scales * (n_features + 1)):
            scale = scales[rows, :]
            if n_scales == 1:
                spread = scale * block
            else:
                spread = xp.reshape(
                    scale[:, :, None] * block[:, None, :], (block.shape[0], n_inner)
                )
            parts[:n_inner, :n_inner] += _symmetric_product(spread)
            if self.fit_intercept:
                parts[:n_inner, n_inner:] += to_numpy(spread.T @ scale)
                parts[n_inner:, n_inner:] += _symmetric_product(scale)
        if not self.fit_intercept:
            return parts[:n_inner, :n_inner]
        parts[n_inner:, :n_inner] = parts[:n_inner, n_inner:].T
        if n_scales == 1:
            return parts
        # where each (k, a) sits in that order, the intercept (a = d) last
        order = np.hstack(
            [
                np.arange(n_inner).reshape(n_scales, n_features),
                n_inner + np.arange(n_scales)[:, None],
            ]
        ).ravel()
        return parts[np.ix_(order, order)]

    def _sparse_gram(self, row_weight):
        """``[X, 1]^T diag(row_weight) [X, 1]`` (host float64) of SciPy sparse X."""
        X = self.X
        gram = dense_host(X.T @ X.multiply(row_weight[:, None]), np.float64)
        if not self.fit_intercept:
            return gram
        column = np.asarray(X.T @ row_weight, dtype=np.float64).ravel()
        total = np.array([[float(np.sum(row_weight))]])
        return np.block([[gram, column[:, None]], [column[None, :], total]])

    def _sparse_hessian(self, proba, curvature):
        """The Hessian's (k, l) blocks ``X^T diag(w (delta_kl p_k - p_k p_l)) X``."""
        if self.binary:
            return self._sparse_gram(curvature[:, 0])
        n_rows, n_params = proba.shape[1], self.penalised.shape[0]
        hessian = np.empty((n_rows * n_params, n_rows * n_params))
        for k in range(n_rows):
            for j in range(k, n_rows):
                row_weight = -self.weight[:, 0] * proba[:, k] * proba[:, j]
                if k == j:
                    row_weight = row_weight + curvature[:, k]
                block = self._sparse_gram(row_weight)
                rows = slice(k * n_params, (k + 1) * n_params)
                columns = slice(j * n_params, (j + 1) * n_params)
                hessian[rows, columns] = block
                hessian[columns, rows] = block.T
        return hessian

    def _kronecker_preconditioner(self, proba, curvature):
        """:func:`_kronecker_preconditioner` at these probabilities."""
        if self._gram_eigen is None:
            self._gram_eigen = self._gram_eigendecomposition()
        return _kronecker_preconditioner(
            self._gram_eigen,
            self._coupling(proba, curvature) / self.total_weight,
            self.C,
            self.null_intercept,
        )

    def _coupling(self, proba, curvature):
        """``sum_i (diag(c_i) - c_i p_i^T)`` with ``c_i`` the row's curvature
        (``sum_i c_i`` for two classes), host float64."""
        xp = self.xp
        if self.binary:
            return np.array([[float(xp.sum(curvature))]])
        return np.diag(to_numpy(xp.sum(curvature, axis=0))) - to_numpy(
            curvature.T @ proba
        ).astype(np.float64)

    def _gram_eigendecomposition(self):
        """Eigenvalues and eigenvectors of ``[X, 1]^T W [X, 1]``; its diagonal
        alone (eigenvectors None) when the d x d matrix would be large."""
        X, n_params = self.X, self.penalised.shape[0]
        if self.gram is not None:
            return _gram_eigen(self.gram)
        n_rows = X.shape[0]
        if (
            n_rows < n_params
            and n_rows <= _PRECONDITIONER_MAX_SIDE
            # the n eigenvectors of length d of the rows' span, held like the
            # direct solvers' dense matrices
            and 8 * n_rows * n_params <= DIRECT_MAX_BYTES
        ):
            return self._row_space_eigen()
        if n_params > _PRECONDITIONER_MAX_SIDE:
            if self.sparse:
                # the squares share X's index arrays: one copy of its values
                squares = type(X)((np.square(X.data), X.indices, X.indptr), X.shape)
                diagonal = np.asarray(squares.T @ self.weight)
                del squares
            else:
                diagonal = to_numpy(self.xp.sum(self.weight * X * X, axis=0))
            diagonal = diagonal.astype(np.float64).ravel()
            if self.fit_intercept:
                diagonal = np.append(diagonal, self.total_weight)
            return diagonal, None
        if self.sparse:
            gram = self._sparse_gram(self.weight[:, 0])
        else:
            gram = self._scaled_gram(self.xp.sqrt(self.weight))
        return np.linalg.eigh(gram)

    def _row_space_eigen(self):
        """The non-zero eigenpairs of ``[X, 1]^T W [X, 1]`` from the n x n
        ``Z Z^T``, ``Z = W^1/2 [X, 1]``: with fewer rows than unknowns the
        d x d matrix has rank n, and ``Z^T U L^-1/2`` are its eigenvectors
        for ``Z Z^T = U L U^T`` (O(n^2 d) instead of O(d^3))."""
        xp, X = self.xp, self.X
        root = xp.sqrt(self.weight[:, 0])
        root_host = to_numpy(root).astype(np.float64)
        if self.sparse:
            scaled = X.multiply(root_host[:, None]).tocsr()
            gram = dense_host(scaled @ scaled.T, np.float64)
        else:
            scaled = root[:, None] * X
            gram = to_numpy(scaled @ scaled.T).astype(np.float64)
        if self.fit_intercept:
            gram += np.outer(root_host, root_host)
        values, vectors = np.linalg.eigh(gram)
        # directions of rounding-level eigenvalues join the null space
        keep = values > np.finfo(np.float64).eps * gram.shape[0] * values[-1]
        values = values[keep]
        vectors = vectors[:, keep] / np.sqrt(values)
        if self.sparse:
            features = np.asarray(scaled.T @ vectors, dtype=np.float64)
        else:
            features = to_numpy(scaled.T @ self._to_xp(vectors)).astype(np.float64)
        if self.fit_intercept:
            features = np.vstack([features, root_host @ vectors])
        return values, features

    def block_sums(self, theta, want, direction=None, lengths=(0.0,), vector=None):
        """Sums over these rows of the data terms, for :class:`BlockwiseLogLoss`.

        Built with ``C=inf``, so no penalty is included. Returns the losses at
        ``theta - t direction`` for each ``t`` of ``lengths`` (``"losses"``)
        and, at the first of these points, the terms named in ``want``:
        ``"gradient"``, ``"hessian"``, ``"coupling"`` (see
        :meth:`_coupling`), ``"product"`` (the Hessian times ``vector``) and
        ``"ray"`` (the slope along the ray ``s * theta`` at each ``s`` of
        ``RAY_SCALES``, from the scores of theta alone). All are host float64
        and add up over disjoint row blocks.
        """
        scores = self._scores(theta)
        if direction is None:
            points = [self._at(theta, scores)]
        else:
            change = self._scores(direction)
            points = [
                self._at(theta - length * direction, scores - length * change)
                for length in lengths
            ]
        anchor = points[0]
        proba = anchor.cache[1]
        curvature = self._curvature(proba)
        sums = {"losses": np.array([point.loss for point in points])}
        if "gradient" in want:
            sums["gradient"] = self.gradient(anchor)
        if "hessian" in want:
            sums["hessian"] = self._hessian(proba, curvature)
        if "coupling" in want:
            sums["coupling"] = self._coupling(proba, curvature)
        if "product" in want:
            sums["product"] = self._hessian_product(vector, proba, curvature)
        if "ray" in want:
            sums["ray"] = self._ray_slopes(anchor.cache[0])
        return sums

    def _ray_slopes(self, scores):
        """Slope of the data term along ``s * theta`` at each ``s`` of
        ``RAY_SCALES``: ``sum_i w_i (E_{p(s z_i)}[z_i] - z_{i y_i})`` with
        ``z`` the scores of theta (no losses: the shrink reads slopes only)."""
        xp = self.xp
        target = float(xp.sum(self.weight * (self._onehot() * scores)))
        if not self.binary:
            # s > 0, so the row maximum of s z is s times that of z
            shifted = scores - self._row_max(scores)
        slopes = []
        for scale in RAY_SCALES:
            if self.binary:
                # the sigmoid as a tanh: no overflow for any score
                mean = 0.5 * (1.0 + xp.tanh(0.5 * float(scale) * scores)) * scores
            else:
                spread = xp.exp(float(scale) * shifted)
                mean = self._row_sums(spread * scores) / self._row_sums(spread)
            slopes.append(float(xp.sum(self.weight * mean)) - target)
        return np.array(slopes)


def _kronecker_preconditioner(gram_eigen, coupling, C, null_intercept):
    """Inverse of ``A (x) X^T W X + I / C``, the Kronecker approximation.

    ``A = mean_i (diag(p_i) - p_i p_i^T)`` (``coupling``) is the class
    coupling and ``gram_eigen`` the eigendecomposition of ``X^T W X`` (one
    per fit; its diagonal with eigenvectors None for many features; only its
    r non-zero eigenpairs, a (d, r) matrix of eigenvectors, when X has fewer
    rows than unknowns). With that of the K x K matrix ``A``, one
    application costs ``O(K d (K + r))``.
    """
    eigenvalues, eigenvectors = gram_eigen
    class_values, class_vectors = np.linalg.eigh(coupling)
    if eigenvectors is None:
        # a diagonal X^T W X: the (K, d) denominator is made by slices, as
        # it is used, rather than kept (on text it is as large as the data)
        return lambda residual: _drop_null(
            _rotate_and_divide(residual, class_vectors, class_values, eigenvalues, C),
            null_intercept,
        )
    denominator = class_values[:, None] * eigenvalues[None, :] + 1.0 / C
    partial = eigenvectors.shape[1] < eigenvectors.shape[0]

    def precondition(residual):
        rotated = class_vectors.T @ residual
        projected = rotated @ eigenvectors
        solved = (projected / denominator) @ eigenvectors.T
        if partial:
            # off the eigenvectors' span X^T W X is zero: there the
            # approximation is I / C
            solved += C * (rotated - projected @ eigenvectors.T)
        return _drop_null(class_vectors @ solved, null_intercept)

    return precondition


def _rotate_and_divide(residual, class_vectors, class_values, eigenvalues, C):
    """``V (V^T residual / (c e^T + 1 / C))`` for eigenpairs ``(c, V)`` of the
    class coupling and the diagonal ``e`` of ``X^T W X``, by slices of
    columns: on text each intermediate of all the columns would be as large
    as the data (each column rounds as in the whole product)."""
    result = np.empty_like(residual)
    width = max(1, _BLOCK_BYTES // (8 * residual.shape[0]))
    for start in range(0, residual.shape[1], width):
        columns = slice(start, start + width)
        rotated = class_vectors.T @ residual[:, columns]
        rotated /= class_values[:, None] * eigenvalues[None, columns] + 1.0 / C
        result[:, columns] = class_vectors @ rotated
    return result


def _gram_eigen(gram):
    """What the preconditioner needs of a given ``X^T W X`` (host float64)."""
    if gram.shape[0] > _PRECONDITIONER_MAX_SIDE:
        return np.diag(gram).copy(), None
    return np.linalg.eigh(gram)


def _symmetric_product(B):
    """``B^T B`` on the host in float64; on one buffer NumPy's BLAS uses the
    symmetric rank-k update, half the work of a general product."""
    return to_numpy(B.T @ B).astype(np.float64)


def _drop_null(direction, null_intercept):
    """Remove the common intercept shift, to which a softmax objective is blind."""
    if null_intercept:
        direction[:, -1] -= np.mean(direction[:, -1])
    return direction


class BlockwiseLogLoss(_LogisticPenalty):
    """:class:`PenalisedLogLoss` of data read in passes over row blocks.

    ``block_sums(theta, want, direction=None, lengths=(0.0,), vector=None)``
    returns :meth:`PenalisedLogLoss.block_sums` added up over all the row
    blocks: each call is one pass over the data, so this object asks for
    everything Newton's method may need next in the pass that reaches a
    point. Evaluating a point also returns the gradient and the exact Hessian,
    so a step whose full length is accepted costs one pass; the line search's
    first pass also evaluates the objective at 1/2, 1/4 and 1/8 of the step.
    Above 400 unknowns the Hessian is replaced by the class coupling of
    :class:`PenalisedLogLoss`'s preconditioner, whose Gram matrix ``gram``
    the caller gives (e.g. from class moments), and each Hessian-vector
    product of conjugate gradients is a pass. The steps are those of
    :class:`PenalisedLogLoss` on the same data, to rounding. The penalty,
    the Newton solve and the line search run on the client, from host
    float64 sums.
    """

    def __init__(
        self,
        block_sums,
        n_classes,
        n_params,
        total_weight,
        *,
        C,
        fit_intercept,
        tol,
        gram,
    ):
        self.block_sums = block_sums
        self._set_penalty(
            n_params,
            n_classes,
            total_weight,
            C=C,
            fit_intercept=fit_intercept,
            tol=tol,
            gram=gram,
        )
        n_rows = 1 if self.binary else n_classes
        self.exact = n_rows * n_params <= _EXACT_HESSIAN_MAX_UNKNOWNS
        self._derivatives = ("gradient", "hessian" if self.exact else "coupling")

    def _penalty(self, theta):
        return 0.5 / self.C * self._squared_norm(theta)

    def _point(self, theta, loss, sums):
        """Point ``theta`` with the data terms of ``sums`` plus the penalty's."""
        cache = {}
        if "gradient" in sums:
            cache["gradient"] = sums["gradient"] + self.penalised * theta / self.C
        if "hessian" in sums:
            hessian = sums["hessian"]
            hessian[np.diag_indices_from(hessian)] += (
                np.tile(self.penalised, theta.shape[0]) / self.C
            )
            cache["hessian"] = hessian
        if "coupling" in sums:
            cache["coupling"] = sums["coupling"]
        return Point(theta, float(loss) + self._penalty(theta), cache)

    def _fill(self, point, want, **request):
        """Add the terms ``want`` at ``point`` to its cache: one pass."""
        sums = self.block_sums(point.theta, want, **request)
        point.cache.update(self._point(point.theta, 0.0, sums).cache)
        return sums

    def evaluate(self, theta):
        # the derivatives serve Newton if the shrink keeps this point, the
        # objective along the ray serves the shrink
        sums = self.block_sums(theta, (*self._derivatives, "ray"))
        point = self._point(theta, sums["losses"][0], sums)
        point.cache["ray"] = sums["ray"]
        return point

    def scaled(self, point, scale):
        """The point ``scale * theta``: one pass, except for the scales of
        ``RAY_SCALES``, which :meth:`evaluate` brought back the slope at (the
        point then holds that slope only, and no loss)."""
        theta = scale * point.theta
        on_grid = np.flatnonzero(RAY_SCALES == scale)
        if on_grid.size:
            # the penalty of s theta is s^2 times that of theta
            slope = point.cache["ray"][on_grid[0]]
            slope += 2.0 * scale * self._penalty(point.theta)
            return Point(theta, math.nan, {"ray_slope": slope})
        sums = self.block_sums(theta, self._derivatives)
        return self._point(theta, sums["losses"][0], sums)

    def ray_slope(self, point, scaled, scale):
        """Slope of the objective along ``theta`` at ``scale`` (curvature: None).

        Only at ``point`` itself and the scales of ``RAY_SCALES``, which
        :meth:`evaluate` brought back.
        """
        if scaled is point:
            return float(np.sum(point.cache["gradient"] * point.theta)), None
        return scaled.cache["ray_slope"], None

    def gradient(self, point):
        if "gradient" not in point.cache:
            self._fill(point, self._derivatives)
        return point.cache["gradient"]

    def direction(self, point, gradient):
        """Newton step: an exact Hessian's (kept for a finishing step, as in
        memory), or truncated CG (a pass per product)."""
        if self.exact:

            def hessian():
                if "hessian" not in point.cache:
                    self._fill(point, ("hessian",))
                return point.cache["hessian"]

            step = self._exact_direction(hessian, gradient)
            return self._drop_null(step)
        if "coupling" not in point.cache:
            self._fill(point, ("coupling",))
        if self._gram_eigen is None:
            self._gram_eigen = _gram_eigen(self.gram)
        precondition = _kronecker_preconditioner(
            self._gram_eigen,
            point.cache["coupling"] / self.total_weight,
            self.C,
            self.null_intercept,
        )

        def product(vector):
            sums = self.block_sums(point.theta, ("product",), vector=vector)
            return sums["product"] + self.penalised * vector / self.C

        return self._inexact_direction(product, gradient, precondition)

    def line(self, point, direction):
        evaluated = {}

        def at(length):
            if length not in evaluated:
                lengths = [length * 0.5**i for i in range(_BLOCKWISE_LINE_LENGTHS)]
                sums = self.block_sums(
                    point.theta, self._derivatives, direction=direction, lengths=lengths
                )
                for i, trial in enumerate(lengths):
                    evaluated[trial] = self._point(
                        point.theta - trial * direction,
                        sums["losses"][i],
                        sums if i == 0 else {},
                    )
            return evaluated[length]

        return at


class TemperatureOffsetsLoss:
    """Weighted mean log-loss of ``softmax(a s + d)`` over ``(a, d)``, plus a prior.

    ``scores`` (n, K) are fixed; ``a = 1 / T`` is kept in ``bounds`` and the
    class offsets ``d`` (``d_0 = 0``) get a Gaussian prior of scale
    ``offset_scale`` on the summed loss. Convex in ``(a, d)``: the exact
    (K x K) Hessian costs O(n K^2) on the scores alone. Parameters are
    ``theta = [a, d_1, ..., d_{K-1}]``; with ``offsets=False`` the offsets stay
    where they start and only ``a`` is fitted.
    """

    def __init__(self, scores, target, weight, *, bounds, offset_scale, offsets=True):
        n_classes = scores.shape[1]
        # offsets=False holds d at its start (zero): the temperature alone
        self.offsets = offsets
        self.scores = scores
        self.bounds = bounds
        onehot = np.eye(n_classes)[target]
        # the prior acts on the summed loss; the loss below is the weighted mean
        self.ridge = 1.0 / (offset_scale**2 * weight.sum())
        self.weight = weight / weight.sum()
        # row sums as products with a ones vector: NumPy's sum over a short
        # last axis is slow
        self.ones = np.ones(n_classes)
        self.target_score = (onehot * scores) @ self.ones
        self.class_weight = self.weight @ onehot

    def evaluate(self, theta):
        z = theta[0] * self.scores
        z[:, 1:] += theta[1:]
        peak = np.max(z, axis=1)
        e = np.exp(z - peak[:, None])
        norm = e @ self.ones
        lse = peak + np.log(norm)
        loss = float(self.weight @ (lse - theta[0] * self.target_score))
        loss -= float(self.class_weight[1:] @ theta[1:])
        loss += 0.5 * self.ridge * float(theta[1:] @ theta[1:])
        return Point(theta, loss, e / norm[:, None])

    def gradient(self, point):
        theta, proba = point.theta, point.cache
        mean_score = (proba * self.scores) @ self.ones
        return np.concatenate(
            [
                [self.weight @ (mean_score - self.target_score)],
                (self.weight @ proba - self.class_weight)[1:] + self.ridge * theta[1:],
            ]
        )

    def _free(self, theta, gradient):
        """Unknowns not held at a bound: ``1 / T`` at a bound with the gradient
        pushing outwards stays there (separable scores ask for ``T -> 0``)."""
        low, high = self.bounds
        free = np.full(theta.shape[0], self.offsets)
        free[0] = not (
            (theta[0] >= high and gradient[0] < 0)
            or (theta[0] <= low and gradient[0] > 0)
        )
        return free

    def stationarity(self, point, gradient):
        return float(np.max(np.abs(gradient[self._free(point.theta, gradient)])))

    def _hessian(self, point):
        theta, proba, scores, weight = (
            point.theta,
            point.cache,
            self.scores,
            self.weight,
        )
        mean_score = (proba * scores) @ self.ones
        hessian = np.diag(weight @ proba) - (weight[:, None] * proba).T @ proba
        hessian[0, 0] = weight @ ((proba * scores * scores) @ self.ones - mean_score**2)
        hessian[0, 1:] = hessian[1:, 0] = (
            weight @ (proba * (scores - mean_score[:, None]))
        )[1:]
        hessian[1:, 1:] += self.ridge * np.eye(theta.shape[0] - 1)
        return hessian

    def direction(self, point, gradient):
        """Newton step on the free unknowns, shortened to keep ``1 / T`` in bounds."""
        free = self._free(point.theta, gradient)
        step = np.zeros_like(gradient)
        step[free] = np.linalg.lstsq(
            self._hessian(point)[np.ix_(free, free)], gradient[free], rcond=None
        )[0]
        low, high = self.bounds
        while not low <= point.theta[0] - step[0] <= high:
            step *= 0.5
        return step

    def line(self, point, direction):
        low, high = self.bounds

        def at(length):
            trial = point.theta - length * direction
            trial[0] = min(max(trial[0], low), high)
            return self.evaluate(trial)

        return at

"""Density estimation with a variational autoencoder and importance sampling."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import functools
import math
import time
import warnings
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._backend import (
    asarray,
    check_same_namespace,
    expit,
    get_namespace_and_device,
    is_dask_collection,
    lazy_blockwise,
    log_expit,
    logsumexp,
)
from ._mlp import (
    AdamOptimizer,
    PlateauSchedule,
    backward,
    forward,
    glorot_uniform_layers,
)
from ._validation import _numpy_generator

__all__ = ["VAEDensity"]

_LOG_2PI = math.log(2.0 * math.pi)
# Elements of the largest (importance samples x rows x width) block that
# score_samples builds at once: about 16 MiB in float64.
_SCORE_BLOCK_ELEMENTS = 2**21
# proposal="defensive": this share of the draws comes from q(z | x) widened
# by this factor (Hesterberg's defensive mixture).
_DEFENSIVE_WEIGHT, _DEFENSIVE_SCALE = 0.2, 2.0
# EM for the weights of the background density and of the wide component: their
# start, steps and floor, and the most mass they may take together (the VAE
# stays the main component however badly it fits the validation rows).
_INITIAL_MIXTURE_WEIGHT, _N_MIXTURE_EM_STEPS = 0.01, 100
_MIN_MIXTURE_WEIGHT, _MAX_EXTRA_MASS = 1e-8, 0.5
# Candidate factors c of the decoder noise sd in the wide component (the VAE
# with noise sd c sigma); the one of highest validation likelihood is kept.
_WIDE_NOISE_FACTORS = (1.5, 2.0, 3.0, 5.0, 10.0)
# verbose=1 reports training progress about this many times per max_iter.
_N_PROGRESS_LINES = 20


def _to_namespace(values, xp, device, dtype):
    """NumPy ``values`` (host draws, indices) as an array of namespace ``xp``."""
    return asarray(values, xp=xp, device=device, dtype=dtype)


def _split_params(params, n_encoder_layers, n_decoder_layers):
    """Flat parameter list -> encoder layers, decoder layers, decoder log-variance."""
    encoder = [(params[2 * i], params[2 * i + 1]) for i in range(n_encoder_layers)]
    offset = 2 * n_encoder_layers
    decoder = [
        (params[offset + 2 * i], params[offset + 2 * i + 1])
        for i in range(n_decoder_layers)
    ]
    rest = params[offset + 2 * n_decoder_layers :]
    return encoder, decoder, (rest[0] if rest else None)


def _proposal_sd(log_var, spread, xp):
    """Standard deviation of the proposal around the encoder's mean.

    The encoder's own ``s(x)`` for ``spread = 1``. For the VAE whose decoder
    noise is ``spread`` times wider the posterior is wider too, up to the
    prior's: ``spread * s(x)`` capped at 1 (never below ``s(x)``).
    """
    sd = xp.exp(0.5 * log_var)
    if spread == 1.0:
        return sd
    return xp.maximum(sd, xp.minimum(spread * sd, xp.ones_like(sd)))


def _encode(encoder, X_std, n_latent, activation, xp):
    """Posterior mean and log-variance of ``X_std`` (..., n_rows, n_features),
    and the encoder's layer inputs for the backward pass."""
    n_features = X_std.shape[-1]
    encoded, encoder_inputs = forward(
        encoder, xp.reshape(X_std, (-1, n_features)), activation, xp
    )
    encoded = xp.reshape(encoded, X_std.shape[:-1] + (2 * n_latent,))
    return encoded[..., :n_latent], encoded[..., n_latent:], encoder_inputs


def _decode(decoder, z, n_features, activation, xp):
    """Decoder output for latents ``z`` (..., n_rows, n_latent), and the
    decoder's layer inputs for the backward pass."""
    output, decoder_inputs = forward(
        decoder, xp.reshape(z, (-1, z.shape[-1])), activation, xp
    )
    return xp.reshape(output, z.shape[:-1] + (n_features,)), decoder_inputs


def _log_likelihood(
    X_std, output, log_variance, *, decoder, reg_variance, xp, variance_factor=1.0
):
    """``log p(x | z)`` summed over the features, for standardised ``x``.

    The Gaussian decoder's variance is ``variance_factor * (reg_variance +
    exp(log_variance))``. Returns ``(log_likelihood, scaled, variance)``: for the
    Gaussian decoder ``scaled = (x - mu(z)) / variance`` and the per-feature
    variance, which the gradient reuses; None for the Bernoulli decoder.
    """
    if decoder == "gaussian":
        variance = variance_factor * (reg_variance + xp.exp(log_variance))
        residual = X_std - output
        scaled = residual / variance
        log_likelihood = -0.5 * (
            xp.sum(residual * scaled, axis=-1)
            + xp.sum(xp.log(variance))
            + X_std.shape[-1] * _LOG_2PI
        )
        return log_likelihood, scaled, variance
    log_likelihood = xp.sum(
        X_std * log_expit(output, xp=xp) + (1.0 - X_std) * log_expit(-output, xp=xp),
        axis=-1,
    )
    return log_likelihood, None, None


def _bound_forward(
    params, X, eps, *, n_encoder_layers, activation, decoder, reg_variance, xp
):
    """Per-row negative bound of the minibatch ``X``, and what its gradient reuses.

    ``z = m(x) + s(x) * eps``; ``eps`` of shape (n_rows, n_latent) gives the
    ELBO (the KL term in closed form), of shape (K, n_rows, n_latent) the
    importance-weighted bound ``log (1/K) sum_k w_k``.
    """
    n_decoder_layers = (len(params) - 2 * n_encoder_layers) // 2
    encoder, decoder_layers, log_variance = _split_params(
        params, n_encoder_layers, n_decoder_layers
    )
    mean, log_var, encoder_inputs = _encode(encoder, X, eps.shape[-1], activation, xp)
    std = xp.exp(0.5 * log_var)
    z = mean + std * eps
    output, decoder_inputs = _decode(decoder_layers, z, X.shape[-1], activation, xp)
    log_likelihood, scaled, variance = _log_likelihood(
        X, output, log_variance, decoder=decoder, reg_variance=reg_variance, xp=xp
    )
    log_w = bound = None
    if eps.ndim == 3:
        # log p(z) - log q(z | x): the 2 pi terms cancel and (z - m) / s = eps
        log_w = log_likelihood + 0.5 * xp.sum(eps * eps - z * z + log_var, axis=-1)
        bound = logsumexp(log_w, axis=0, xp=xp)
        per_row = math.log(eps.shape[0]) - bound
    else:
        kl = 0.5 * xp.sum(mean * mean + std * std - 1.0 - log_var, axis=1)
        per_row = kl - log_likelihood
    cache = SimpleNamespace(
        X=X,
        eps=eps,
        encoder=encoder,
        decoder_layers=decoder_layers,
        log_variance=log_variance,
        mean=mean,
        std=std,
        z=z,
        output=output,
        encoder_inputs=encoder_inputs,
        decoder_inputs=decoder_inputs,
        scaled=scaled,
        variance=variance,
        log_w=log_w,
        bound=bound,
    )
    return per_row, cache


def _bound_gradients(cache, *, activation, decoder, weight_decay, xp):
    """Gradients of the minibatch loss, in the order of the flat parameters.

    The importance-weighted bound's gradient is the softmax(log w)-weighted
    sum of the gradients of ``log w_k``; the backward pass through both
    networks is :func:`skprob._mlp.backward`.
    """
    c = cache
    n_rows, n_features = c.X.shape
    weighted = c.eps.ndim == 3
    n_draws = c.eps.shape[0] if weighted else 1
    # d loss / d log w_k: the normalised importance weights over the batch size
    share = 1.0 / n_rows
    if weighted:
        share = (share * xp.exp(c.log_w - c.bound))[:, :, None]
    if decoder == "gaussian":
        d_output = -share * c.scaled
        d_variance = 0.5 * share * (1.0 / c.variance - c.scaled * c.scaled)
        while d_variance.ndim > 1:
            d_variance = xp.sum(d_variance, axis=0)
        d_log_variance = d_variance * xp.exp(c.log_variance)
    else:
        d_output = share * (expit(c.output, xp=xp) - c.X)
    decoder_grads, d_z = backward(
        c.decoder_layers,
        c.decoder_inputs,
        xp.reshape(d_output, (n_draws * n_rows, n_features)),
        activation,
        xp,
    )
    d_z = xp.reshape(d_z, c.z.shape)
    if weighted:
        d_z = d_z + share * c.z
        d_mean = xp.sum(d_z, axis=0)
        d_log_var = 0.5 * c.std * xp.sum(d_z * c.eps, axis=0) - 0.5 / n_rows
    else:
        d_mean = d_z + c.mean / n_rows
        d_log_var = 0.5 * d_z * c.eps * c.std + (0.5 / n_rows) * (c.std * c.std - 1.0)
    encoder_grads, _ = backward(
        c.encoder,
        c.encoder_inputs,
        xp.concat([d_mean, d_log_var], axis=1),
        activation,
        xp,
    )
    gradients = []
    for (coef, _), (d_coef, d_intercept) in zip(
        c.encoder + c.decoder_layers, encoder_grads + decoder_grads
    ):
        gradients.extend([d_coef + weight_decay * coef, d_intercept])
    if decoder == "gaussian":
        gradients.append(d_log_variance)
    return gradients


def _negative_bound(
    params,
    X,
    eps,
    *,
    n_encoder_layers,
    activation,
    decoder,
    reg_variance,
    weight_decay,
    xp,
    compute_gradient=True,
):
    """Minibatch loss ``mean(-bound) + weight_decay / 2 * sum ||W||^2``, gradient.

    ``X`` is the (standardised) minibatch and ``eps`` the standard normal draws
    of the reparameterisation ``z = m(x) + exp(v(x) / 2) * eps``. With ``eps`` of
    shape (n_rows, n_latent) the bound is the ELBO, its KL term in closed form
    for a diagonal Gaussian against N(0, I). With ``eps`` of shape (K, n_rows,
    n_latent) it is the importance-weighted bound
    ``log (1/K) sum_k w_k``, ``log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x)``.
    The gradients follow the order of ``params``.

    Returns ``(loss, per_row_negative_bound, gradients)``.
    """
    per_row, cache = _bound_forward(
        params,
        X,
        eps,
        n_encoder_layers=n_encoder_layers,
        activation=activation,
        decoder=decoder,
        reg_variance=reg_variance,
        xp=xp,
    )
    weights = [coef for coef, _ in cache.encoder + cache.decoder_layers]
    # kept as a 0-d array: converting to float would synchronise a GPU every step
    loss = xp.mean(per_row) + 0.5 * weight_decay * sum(xp.sum(w * w) for w in weights)
    if not compute_gradient:
        return loss, per_row, None
    gradients = _bound_gradients(
        cache, activation=activation, decoder=decoder, weight_decay=weight_decay, xp=xp
    )
    return loss, per_row, gradients


def _generator(random_state):
    """NumPy Generator for ``random_state``, None meaning NumPy's global state.

    As :func:`sklearn.utils.check_random_state`: ``np.random.seed`` then makes
    a fit with ``random_state=None`` reproducible.
    """
    if random_state is None:
        random_state = check_random_state(None)
    return _numpy_generator(random_state)


def _refuse_dask_fit(X):
    """Refuse a dask collection in fit, naming the memory it would take."""
    if not is_dask_collection(X):
        return
    shape = tuple(getattr(X, "shape", ()))
    n_rows = shape[0] if shape and isinstance(shape[0], Integral) else None
    n_columns = len(X.columns) if hasattr(X, "columns") else shape[-1]
    dtype = getattr(X, "dtype", None)
    itemsize = np.dtype(dtype).itemsize if dtype is not None else 8
    rows = "an unknown number of" if n_rows is None else f"{n_rows}"
    size = f"{rows} rows x {n_columns} features x {itemsize} bytes"
    if n_rows is not None:
        size += f" = {n_rows * n_columns * itemsize / 2**20:.1f} MiB"
    raise ValueError(
        "VAEDensity.fit does not train from dask collections: training makes "
        "hundreds of passes over shuffled minibatches of the whole data, so X "
        f"would have to be gathered into memory ({size}). If it fits, pass "
        "X.compute(); score_samples and score accept dask arrays and stay lazy."
    )


def _check_spread(half_range, xp):
    """Refuse features whose variance would overflow the floating-point type."""
    largest = float(xp.max(half_range))
    limit = math.sqrt(float(xp.finfo(half_range.dtype).max)) / 4.0
    if largest > limit:
        power = math.ceil(math.log10(largest / limit))
        raise ValueError(
            f"X has values whose squares overflow {half_range.dtype}: a feature "
            f"spreads over +-{largest:.3g} about its midrange, and its variance, "
            "the decoder's noise variance and the background covariance are "
            f"squares of that scale (at most {limit:.3g} fits). Rescale X, for "
            f"example divide it by 1e{power}; scores then shift by "
            f"n_features * {power} * log(10)."
        )


class _ProgressReport:
    """What ``verbose`` prints during training.

    ``verbose=1``: a line about every ``max_iter / 20`` epochs and at each
    change of the step size, with the time left at most (early stopping can
    end sooner), then one closing line; ``verbose >= 2``: a line per epoch.
    A long fit then shows where it is without flooding the output.
    """

    def __init__(self, verbose, max_iter, score_name):
        self.verbose, self.max_iter, self.score_name = verbose, max_iter, score_name
        self.every = 1 if verbose >= 2 else max(1, max_iter // _N_PROGRESS_LINES)
        self.start = time.perf_counter()

    def epoch(self, epoch, train_loss, best_score, schedule, decayed):
        if not self.verbose or not (epoch == 1 or epoch % self.every == 0 or decayed):
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / epoch * (self.max_iter - epoch)
        line = (
            f"Epoch {epoch}/{self.max_iter}: training loss {train_loss:.4f}, best "
            f"{self.score_name} {best_score:.4f}, {elapsed:.1f} s elapsed, at most "
            f"{left:.1f} s left"
        )
        if decayed:
            line += f"; step size now {schedule.learning_rate:.2g}"
        print(line)

    def finish(self, n_iter, converged, best_score):
        if not self.verbose:
            return
        reason = "its plateaus ended training" if converged else "max_iter reached"
        print(
            f"Training stopped after {n_iter} epochs ({reason}) in "
            f"{time.perf_counter() - self.start:.1f} s; best {self.score_name} "
            f"{best_score:.4f}."
        )


class VAEDensity(DensityMixin, BaseEstimator):
    """Density estimation with a variational autoencoder (VAE).

    The model is a latent-variable density: ``z ~ N(0, I)`` of ``n_components``
    dimensions and ``x | z`` from a small MLP decoder, Gaussian with a learned
    per-feature variance (``decoder="gaussian"``) or Bernoulli
    (``decoder="bernoulli"``, binary data). An MLP encoder gives the
    approximate posterior ``q(z | x) = N(m(x), diag s(x)^2)``. Training maximises
    the importance-weighted bound (the evidence lower bound, ELBO, with
    ``n_importance_samples_fit=1``) with the reparameterisation trick and
    minibatch Adam, with early stopping on a validation split; the backward
    pass is written out by hand on the array backend, so the same code runs on
    NumPy, array-API namespaces and CuPy.

    The density returned is the VAE's mixed with a wide copy of itself and a
    background density,
    ``p(x) = (1 - v - w) p_VAE(x) + v p_VAE,c(x) + w p_0(x)``: ``p_VAE,c`` is the
    VAE with the decoder's noise standard deviation multiplied by ``c``, ``p_0``
    the maximum-likelihood Gaussian of the training data (independent Bernoulli
    features for the Bernoulli decoder, which has no wide component), and ``v``,
    ``w`` (together at most 1/2) maximise the likelihood of the validation rows,
    by EM, with ``c`` the best of 1.5, 2, 3, 5 and 10. Where the decoder was
    fitted from few training rows (the tails of the latent distribution) the
    fitted surface is off, and its
    small noise variance makes ``p_VAE`` vanish quadratically fast in the
    distance; the wide component and the background bound that loss.

    The VAE's log-density is estimated by importance sampling with the encoder as
    proposal:
    ``log p(x) ~ log (1/S) sum_s p(x | z_s) p(z_s) / q(z_s | x)``,
    ``z_s ~ q(z | x)``, computed with a log-sum-exp. By Jensen's inequality
    the estimate is a lower bound in expectation; the bound tightens as
    ``n_importance_samples`` grows (``S = 1`` gives the ELBO) [2]_. The wide
    component's posterior is wider than ``q``: its draws spread ``c`` times
    as far around the encoder's mean (at most as far as the prior's).

    Read more in the :ref:`User Guide <vae_density>`.

    Parameters
    ----------
    n_components : int, default=4
        Dimension of the latent variable ``z``. Latent dimensions the data do
        not need stay near the prior, so a few more than the data's intrinsic
        dimension cost little and make training more robust.
    hidden_layer_sizes : array-like of int, default=(64, 64)
        Hidden layer widths of the encoder; the decoder uses them in reverse
        order. An empty tuple gives linear encoder and decoder: with the Gaussian
        decoder the model is then factor analysis.
    activation : {"tanh", "relu"}, default="relu"
        Hidden layer activation. ReLU layers follow a thin curved manifold
        more closely than tanh layers in the same number of epochs; tanh
        gives a smooth density.
    decoder : {"gaussian", "bernoulli"}, default="gaussian"
        Observation model. ``"gaussian"``: ``x | z ~ N(mu(z), diag sigma^2)``
        with ``sigma^2`` learned per feature, for continuous data (internally
        standardised; the log-density returned is for ``X`` in its own units).
        ``"bernoulli"``: independent Bernoulli features with probabilities
        ``sigmoid(mu(z))``, for data in {0, 1}; the score is then a
        log-probability mass.
    dequantize : bool, default=False
        Treat ``X`` as integer-valued (counts, pixel intensities). Integer data
        have no density; the model is fitted to ``X + U`` with fresh uniform
        noise ``U ~ U[0, 1)^d`` every epoch, and :meth:`score_samples` returns the
        log-probability of the integer vector under the dequantised model,
        ``log P(x) = log int_[0,1)^d p(x + u) du``, estimated by importance
        sampling over ``(u, z)`` jointly (``u`` uniform, ``z ~ q(z | x + u)``).
        It is at least the usual single-draw ``E_u log p(x + u)`` [3]_, so bits per
        dimension ``-score / (d log 2)`` are comparable with (and no worse than)
        those the density-estimation literature reports for dequantised data.
        :meth:`sample` returns integers within the training data's range: the
        floor of continuous draws, clipped per feature to the smallest and
        largest training value. The Gaussian decoder has unbounded support, so
        the dequantised model gives some mass to integers outside that range
        (pixel values below 0, say), and :meth:`score_samples` scores them with
        it; :meth:`sample` moves that mass to the nearest end of the range.
        Only with ``decoder="gaussian"``.
    alpha : float, default=1e-4
        L2 penalty on the weights (not the intercepts), as the log of a Gaussian
        prior on them: the minibatch loss is
        ``mean(-bound) + alpha / (2 n_train) * sum ||W||^2``, ``n_train`` the
        number of training rows. The default is close to no penalty: larger
        values regularise the decoder where the training rows are few for the
        manifold, but a strong penalty keeps the decoder from using the
        latent variable at all.
    reg_variance : float, default=1e-6
        Added to the decoder variance (in units of the standardised features), as
        :class:`~sklearn.mixture.GaussianMixture`'s ``reg_covar`` is added to its
        covariances, so that the density stays bounded on features with
        (nearly) no spread.
    batch_size : int, default=100
        Minibatch size (clipped to the number of training samples).
    learning_rate_init : float, default=3e-3
        Initial Adam step size. It is divided by 10 each time the watched
        bound stops improving (see ``early_stopping``), twice, before training
        stops.
    max_iter : int, default=1000
        Maximum number of epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the data and keep the weights of the
        epoch with the best validation bound (the mean over the validation rows
        of ``log((1 - w) exp(bound) + w p_0(x))``, the training bound mixed with
        the background density at ``w = 0.01``, so that the few rows the decoder
        fits worst do not swing it from epoch to epoch). When the bound has not
        improved by ``tol`` for ``n_iter_no_change`` epochs the step size is
        divided by 10; at the third such plateau training stops. Without early
        stopping (or when the validation split would be empty) the plateaus
        are those of the training bound averaged over each epoch, and the last
        weights are kept, as in :class:`~sklearn.neural_network.MLPRegressor`.

        .. versionchanged:: 0.1
           Without early stopping, all ``max_iter`` epochs used to run at the
           initial step size.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=50
        Epochs without improvement that make a plateau. VAE training often
        stalls for a while before the decoder starts to use the latent
        variable, and a short patience takes that stall for convergence.
    tol : float, default=1e-4
        Minimum improvement of the watched bound (nats per sample).
    n_importance_samples : int, default=128
        Importance samples per row in :meth:`score_samples`.
    n_importance_samples_fit : int, default=4
        Samples of ``z`` per row in the training bound. 1 trains on the ELBO
        (KL term in closed form); ``K > 1`` on the importance-weighted bound
        ``E log (1/K) sum_k p(x, z_k) / q(z_k | x)`` [2]_, tighter, which gives a
        better density and a broader ``q`` (so better importance sampling) for K
        times the decoder work.
    proposal : {"encoder", "defensive"}, default="encoder"
        Importance distribution of :meth:`score_samples`. ``"encoder"``:
        ``q(z | x)`` itself. ``"defensive"``: the mixture
        ``0.8 q(z | x) + 0.2 N(m(x), diag (2 s(x))^2)`` [4]_. An encoder fitted by
        the ELBO tends to be narrower than the true posterior, and the
        estimate's variance then has heavy tails; the wide component bounds the
        weights where ``q`` is too narrow, for at most 1/0.8 times the variance
        where ``q`` is right.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the minibatch
        order and the noise of training, and the importance samples of
        :meth:`score_samples`, and :meth:`sample` when its own
        ``random_state`` is None. Pass an int for reproducible results; None
        draws from NumPy's global random state, so ``np.random.seed`` makes
        the fit reproducible (as :func:`sklearn.utils.check_random_state`).

        .. versionchanged:: 0.1
           None used to draw from fresh operating-system entropy.
    blas_threads : int or None, default=1
        BLAS threads for the training loop (set with :mod:`threadpoolctl`
        around it, restored afterwards). Training multiplies minibatch-sized
        matrices, for which threads cost more in synchronisation than they
        save, most of all on a busy machine; raise it for wide networks and
        large ``batch_size``. None leaves the BLAS setting as it is, for
        example one chosen with ``threadpoolctl.threadpool_limits`` around the
        call. Scoring and sampling are not limited.

        .. versionadded:: 0.1
    verbose : int, default=0
        Training progress: 1 prints a line about every ``max_iter / 20``
        epochs and at each change of the step size (epoch out of
        ``max_iter``, training loss, best bound so far, time elapsed and at
        most left), then one line on how training stopped; 2 prints a line
        per epoch.

        .. versionchanged:: 0.1
           1 used to print a line per epoch.

    Attributes
    ----------
    encoder_coefs_ : list of ndarray
        Weight matrices of the encoder layers; the last one maps to
        ``2 * n_components`` outputs, the posterior means then log-variances.
    encoder_intercepts_ : list of ndarray
        Bias vectors of the encoder layers.
    decoder_coefs_ : list of ndarray
        Weight matrices of the decoder layers (on standardised features).
    decoder_intercepts_ : list of ndarray
        Bias vectors of the decoder layers.
    mean_ : ndarray of shape (n_features,)
        Feature offsets: the decoder mean in the units of ``X`` is
        ``mean_ + scale_ * decoder(z)`` (zero for the Bernoulli decoder).
    scale_ : ndarray of shape (n_features,)
        Feature scales (one for the Bernoulli decoder).
    noise_variance_ : ndarray of shape (n_features,) or None
        Variance of ``x | z`` per feature in the units of ``X`` (Gaussian
        decoder); None for the Bernoulli decoder.
    background_weight_ : float
        Weight ``w`` of the background density in the mixture.
    wide_weight_ : float
        Weight ``v`` of the wide component in the mixture (0 for the Bernoulli
        decoder, or where the validation rows are fitted best without it).
    wide_noise_factor_ : float or None
        Factor ``c`` of the wide component's noise standard deviation; None
        without a wide component.
    background_mean_ : ndarray of shape (n_features,)
        Mean of the background Gaussian (for the Bernoulli decoder: the
        probability of a one per feature, add-one smoothed).
    background_covariance_ : ndarray of shape (n_features, n_features) or None
        Covariance of the background Gaussian, including ``reg_variance`` (and
        the dequantisation noise with ``dequantize=True``); None for the
        Bernoulli decoder.
    n_iter_ : int
        Number of epochs run.
    converged_ : bool
        True when training ended at its last plateau (see
        ``early_stopping``), False when ``max_iter`` ended it first (with a
        :class:`~sklearn.exceptions.ConvergenceWarning`).
    lower_bound_ : float
        The bound of the weights kept, in nats per sample for ``X`` in its own
        units: the best validation bound (``best_validation_score_``) with
        early stopping, else the training bound of the last epoch (averaged
        over its minibatches, without the ``alpha`` penalty). Named as
        :class:`~sklearn.mixture.GaussianMixture`'s: a lower bound, in
        expectation, of the mean log-likelihood of the model that
        ``early_stopping`` watches, not :meth:`score`'s estimate.
    loss_curve_ : list of float
        Training loss per epoch: the negative bound (the ELBO, or the
        importance-weighted bound when ``n_importance_samples_fit > 1``)
        averaged over the epoch's minibatches, in nats per sample for ``X`` in
        its own units, without the ``alpha`` penalty.
    validation_scores_ : list of float or None
        The validation bound (see ``early_stopping``) after each epoch; None
        without early stopping. ``background_weight_``, ``wide_weight_`` and
        ``wide_noise_factor_`` are fitted on the same validation rows (on the
        training rows without early stopping).
    best_validation_score_ : float or None
        Best validation bound, that of the weights kept.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.mixture.GaussianMixture : Mixture of Gaussians density.
    sklearn.neighbors.KernelDensity : Kernel density estimate.
    sklearn.decomposition.FactorAnalysis : The linear-Gaussian special case.

    Notes
    -----
    Fitting costs ``max_iter`` passes over the data, each a forward and a
    backward pass through both MLPs. Scoring costs ``n_importance_samples``
    decoder passes per row (times as many encoder passes with
    ``dequantize=True``). The same ``n_importance_samples`` draws of ``eps`` (and
    of ``u``) are shared by all rows, so a row's score does not depend on the
    other rows in the batch or on their order; the price is that the errors of
    different rows are correlated, so :meth:`score` averages them out less than
    independent draws would.

    On low-dimensional data the ELBO can settle on a solution that hardly uses
    the latent variable (a near-Gaussian density); the importance-weighted bound
    (``n_importance_samples_fit > 1``) avoids it at K times the decoder work
    (the gallery example shows both on 2-D data).

    There are no ``bic`` and ``aic`` methods, unlike
    :class:`~sklearn.mixture.GaussianMixture`: both need the maximised
    likelihood and the model's dimension, and here the likelihood is an
    estimate of a local optimum of a bound while the parameter count of an
    amortised VAE (mostly encoder weights, which do not define the density,
    and decoder weights far from identifiable) is not a model dimension in
    the sense of the BIC. Compare models by :meth:`score` on held-out rows.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.
    .. [3] L. Theis, A. van den Oord and M. Bethge, "A note on the evaluation of
       generative models", ICLR 2016.
    .. [4] T. Hesterberg, "Weighted average importance sampling and defensive
       mixture distributions", Technometrics 37(2), 1995.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import VAEDensity
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-3, 3, size=500)
    >>> X = np.c_[t, np.sin(t)] + 0.05 * rng.standard_normal((500, 2))
    >>> vae = VAEDensity(n_components=1, hidden_layer_sizes=(32,), random_state=0)
    >>> vae.fit(X)
    VAEDensity(hidden_layer_sizes=(32,), n_components=1, random_state=0)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    >>> vae.sample(4, random_state=0).shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"tanh", "relu"})],
        "decoder": [StrOptions({"gaussian", "bernoulli"})],
        "dequantize": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "reg_variance": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "n_importance_samples_fit": [Interval(Integral, 1, None, closed="left")],
        "proposal": [StrOptions({"encoder", "defensive"})],
        "random_state": ["random_state"],
        "blas_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_components=4,
        hidden_layer_sizes=(64, 64),
        activation="relu",
        decoder="gaussian",
        dequantize=False,
        alpha=1e-4,
        reg_variance=1e-6,
        batch_size=100,
        learning_rate_init=3e-3,
        max_iter=1000,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=50,
        tol=1e-4,
        n_importance_samples=128,
        n_importance_samples_fit=4,
        proposal="encoder",
        random_state=None,
        blas_threads=1,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.decoder = decoder
        self.dequantize = dequantize
        self.alpha = alpha
        self.reg_variance = reg_variance
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_importance_samples = n_importance_samples
        self.n_importance_samples_fit = n_importance_samples_fit
        self.proposal = proposal
        self.random_state = random_state
        self.blas_threads = blas_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the encoder and decoder by maximising the training bound.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (continuous; binary for ``decoder="bernoulli"``;
            integer-valued with ``dequantize=True``). Dask collections are
            refused: training makes hundreds of passes over shuffled
            minibatches, so ``X`` must be in memory.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        _refuse_dask_fit(X)
        hidden = self._check_hidden_layer_sizes()
        if self.dequantize and self.decoder == "bernoulli":
            raise ValueError(
                "dequantize=True turns integer data into a continuous density and "
                "needs decoder='gaussian'; the Bernoulli decoder already models "
                "binary data as they are."
            )
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        xp, _, dev = get_namespace_and_device(X)
        self._check_values(X, xp)
        if self._looks_integer_valued(X, xp):
            warnings.warn(
                "X holds only integer values, and dequantize=False fits a "
                "continuous density to them: its samples spread far outside "
                "the data's values. Pass dequantize=True for integer-valued "
                "data (counts, pixel intensities).",
                UserWarning,
                stacklevel=3,
            )
        rng = _generator(self.random_state)
        self._set_standardisation(X, xp)
        self._n_encoder_layers = len(hidden) + 1
        params = self._initial_params(rng, X.shape[1], hidden, xp, dev, X.dtype)
        X_train, X_val = self._validation_split(X, rng, xp, dev)
        self._fit_background(X_train, xp)
        with self._blas_thread_limit():
            params = self._train(params, X_train, X_val, rng)
        self._store_params(params)
        self._score_seed = int(rng.integers(np.iinfo(np.int32).max))
        self._fit_mixture_weights(X_train if X_val is None else X_val, xp)
        if not self.converged_:
            watched = "training bound" if X_val is None else "validation bound"
            warnings.warn(
                f"VAEDensity stopped after max_iter={self.max_iter} epochs "
                f"before the {watched} stopped improving; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _blas_thread_limit(self):
        """Context of the training loop: BLAS limited to ``blas_threads``.

        The loop multiplies minibatch-sized matrices, too small for BLAS
        threads to pay for their synchronisation on a busy machine.
        """
        if self.blas_threads is None:
            return contextlib.nullcontext()
        return threadpool_limits(limits=self.blas_threads, user_api="blas")

    def _fit_background(self, X_train, xp):
        """The background density: the maximum-likelihood Gaussian of the
        training data (independent Bernoulli features for the Bernoulli decoder,
        with add-one smoothing)."""
        dev, dtype = get_namespace_and_device(X_train)[2], X_train.dtype
        n_train, n_features = X_train.shape
        if self.decoder == "bernoulli":
            self.background_mean_ = (xp.sum(X_train, axis=0) + 1.0) / (n_train + 2.0)
            self.background_covariance_ = None
        else:
            X_std = self._standardise(X_train, xp)
            mean = xp.mean(X_std, axis=0)
            centred = X_std - mean
            eye = xp.eye(n_features, dtype=dtype, device=dev)
            covariance = centred.T @ centred / n_train + self.reg_variance * eye
            if self.dequantize:
                # the dequantisation noise of X + U, in standardised units
                covariance = covariance + eye / (12.0 * self.scale_**2)
            self._background = (
                mean,
                xp.linalg.inv(covariance),
                float(xp.linalg.slogdet(covariance)[1]),
                xp.linalg.cholesky(covariance),
            )
            self.background_mean_ = self.mean_ + self.scale_ * mean
            self.background_covariance_ = covariance * (
                self.scale_[:, None] * self.scale_[None, :]
            )

    def _fit_mixture_weights(self, X_fit, xp):
        """The weights of the wide component and of the background, and the
        wide component's noise factor, from the rows ``X_fit`` (the validation
        rows): for each candidate factor (and for no wide component), EM for
        the weights that maximise their likelihood under the mixture, and the
        candidate of the largest likelihood. The extra weights are at least
        ``_MIN_MIXTURE_WEIGHT`` each and together at most ``_MAX_EXTRA_MASS``.
        """
        factors = [] if self.decoder == "bernoulli" else list(_WIDE_NOISE_FACTORS)
        log_vae, log_background = self._log_density_parts(X_fit, xp, [1.0] + factors)
        best = None
        for factor, log_wide in zip([None] + factors, [None] + log_vae[1:]):
            components = [log_vae[0], log_background] + (
                [] if log_wide is None else [log_wide]
            )
            weights = [_INITIAL_MIXTURE_WEIGHT] * len(components)
            weights[0] = 1.0 - _INITIAL_MIXTURE_WEIGHT * (len(components) - 1)
            for _ in range(_N_MIXTURE_EM_STEPS):
                # responsibilities of the components for each row, then their means
                joint = [math.log(w) + c for w, c in zip(weights, components)]
                total = functools.reduce(xp.logaddexp, joint)
                extra = [
                    max(float(xp.mean(xp.exp(j - total))), _MIN_MIXTURE_WEIGHT)
                    for j in joint[1:]
                ]
                excess = max(sum(extra) / _MAX_EXTRA_MASS, 1.0)
                extra = [e / excess for e in extra]
                weights = [1.0 - sum(extra)] + extra
            joint = [math.log(w) + c for w, c in zip(weights, components)]
            log_likelihood = float(xp.mean(functools.reduce(xp.logaddexp, joint)))
            if best is None or log_likelihood > best[0]:
                best = (log_likelihood, factor, weights)
        _, self.wide_noise_factor_, weights = best
        self.background_weight_ = weights[1]
        self.wide_weight_ = 0.0 if self.wide_noise_factor_ is None else weights[2]

    def _validation_split(self, X, rng, xp, dev):
        """Training rows and validation rows (None without early stopping)."""
        n_samples = X.shape[0]
        order = _to_namespace(rng.permutation(n_samples), xp, dev, xp.int64)
        n_val = int(self.validation_fraction * n_samples) if self.early_stopping else 0
        X_train = xp.take(X, order[n_val:], axis=0)
        if n_val < 1:
            return X_train, None
        return X_train, xp.take(X, order[:n_val], axis=0)

    def _objective(self, n_train, xp):
        """The minibatch loss: the negative bound and its gradient."""
        return functools.partial(
            _negative_bound,
            n_encoder_layers=self._n_encoder_layers,
            activation=self.activation,
            decoder=self.decoder,
            reg_variance=self.reg_variance,
            weight_decay=self.alpha / n_train,
            xp=xp,
        )

    def _draw_eps(self, rng, n_rows, xp, dev, dtype):
        shape = (n_rows, self.n_components)
        if self.n_importance_samples_fit > 1:
            shape = (self.n_importance_samples_fit,) + shape
        return _to_namespace(rng.standard_normal(shape), xp, dev, dtype)

    def _validation_bound(self, X_val, rng, objective):
        """Function of the weights: the mean validation bound of the mixture.

        Per row, ``log((1 - w) exp(b(x)) + w p_0(x))`` with ``b`` the training
        bound and ``w`` the background's initial weight: the scored mixture
        without its wide component, up to the bound. The plain mean bound is
        dominated by the few rows the decoder fits worst, and its
        epoch-to-epoch swings would end training early.
        """
        xp, _, dev = get_namespace_and_device(X_val)
        # Fixed draws make the validation bound a deterministic function of
        # the weights, so epochs are compared without sampling noise.
        eps = self._draw_eps(rng, X_val.shape[0], xp, dev, X_val.dtype)
        X_dequantised = self._dequantised(X_val, rng, xp, dev, X_val.dtype)
        X_std = self._standardise(X_dequantised, xp)
        weight = _INITIAL_MIXTURE_WEIGHT
        # in standardised units, as the bound
        log_background = math.log(weight) + (
            self._background_log_density(X_dequantised, None, xp)
            + float(xp.sum(xp.log(self.scale_)))
        )

        def bound(params):
            _, per_row, _ = objective(params, X_std, eps, compute_gradient=False)
            mixture = xp.logaddexp(math.log1p(-weight) - per_row, log_background)
            return float(xp.mean(mixture))

        return bound

    def _epoch(self, params, adam, X_train, rng, objective, learning_rate):
        """One pass of minibatch Adam; the new weights and the mean loss."""
        xp, _, dev = get_namespace_and_device(X_train)
        n_train, dtype = X_train.shape[0], X_train.dtype
        batch_size = min(self.batch_size, n_train)
        permutation = _to_namespace(rng.permutation(n_train), xp, dev, xp.int64)
        X_epoch = self._standardise(self._dequantised(X_train, rng, xp, dev, dtype), xp)
        X_epoch = xp.take(X_epoch, permutation, axis=0)
        eps = self._draw_eps(rng, n_train, xp, dev, dtype)
        total = 0.0
        for begin in range(0, n_train, batch_size):
            stop = min(begin + batch_size, n_train)
            _, per_row, gradients = objective(
                params, X_epoch[begin:stop, :], eps[..., begin:stop, :]
            )
            total = total + xp.sum(per_row)
            params = adam.step(params, gradients, learning_rate)
        return params, float(total) / n_train

    def _train(self, params, X_train, X_val, rng):
        """Epochs of minibatch Adam until the last plateau; the weights kept.

        Sets the training record (``loss_curve_``, ``validation_scores_``,
        ``n_iter_``, ``converged_``, ``lower_bound_``). The plateaus are those
        of the validation bound, or of the training bound without early
        stopping; the weights kept are those of the best validation bound, or
        the last ones without early stopping.
        """
        xp, _, _ = get_namespace_and_device(X_train)
        objective = self._objective(X_train.shape[0], xp)
        # the bounds are for the standardised data; reported in X's own units
        log_jacobian = float(xp.sum(xp.log(self.scale_)))
        validation = None
        if X_val is not None:
            validation = self._validation_bound(X_val, rng, objective)
        adam = AdamOptimizer(params, xp)
        schedule = PlateauSchedule(
            self.learning_rate_init, self.tol, self.n_iter_no_change
        )
        progress = _ProgressReport(
            self.verbose,
            self.max_iter,
            "training bound" if validation is None else "validation bound",
        )
        self.loss_curve_ = []
        self.validation_scores_ = None if validation is None else []
        best_params, best_score = params, None
        for epoch in range(1, self.max_iter + 1):
            params, loss = self._epoch(
                params, adam, X_train, rng, objective, schedule.learning_rate
            )
            train_loss = loss + log_jacobian
            if not math.isfinite(train_loss):
                raise ValueError(
                    f"The training loss became {train_loss} at epoch {epoch}: "
                    "lower learning_rate_init."
                )
            self.loss_curve_.append(train_loss)
            score = -train_loss
            if validation is not None:
                score = validation(params) - log_jacobian
                self.validation_scores_.append(score)
            if best_score is None or score > best_score:
                best_params, best_score = params, score
            decayed = schedule.update(score)
            progress.epoch(epoch, train_loss, best_score, schedule, decayed)
            if schedule.stopped:
                break
        self.n_iter_, self.converged_ = epoch, schedule.stopped
        progress.finish(epoch, schedule.stopped, best_score)
        if validation is None:
            self.lower_bound_, self.best_validation_score_ = -train_loss, None
            return params
        self.lower_bound_ = self.best_validation_score_ = best_score
        return best_params

    def _check_hidden_layer_sizes(self):
        sizes = list(np.ravel(np.asarray(self.hidden_layer_sizes, dtype=object)))
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers (one width per hidden "
                f"layer), got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _check_values(self, X, xp):
        if self.decoder == "bernoulli" and not bool(xp.all((X == 0.0) | (X == 1.0))):
            raise ValueError(
                "decoder='bernoulli' models binary data: X must contain only 0 and 1."
            )
        if self.dequantize and not bool(xp.all(X == xp.round(X))):
            raise ValueError(
                "dequantize=True models integer-valued data: X has non-integer "
                "values. Use dequantize=False for continuous data."
            )

    def _looks_integer_valued(self, X, xp):
        """True where a Gaussian fit without dequantisation misreads ``X``.

        Values beyond ``1 / eps`` are all integers in floating point, so only
        smaller ones can tell integer data.
        """
        if self.decoder != "gaussian" or self.dequantize:
            return False
        largest = float(xp.max(xp.abs(X)))
        if largest >= 1.0 / float(xp.finfo(X.dtype).eps):
            return False
        return bool(xp.all(X == xp.round(X)))

    def _set_standardisation(self, X, xp):
        """``mean_`` and ``scale_``: the moments of each feature.

        Computed about the midrange in units of the half-range, never from
        squares of ``X`` itself, so that features of any magnitude whose
        variance is representable get their exact moments (squares of values
        near 1e-300 underflow); a spread whose square overflows is refused.
        """
        dtype, dev = X.dtype, get_namespace_and_device(X)[2]
        n_features = X.shape[1]
        if self.decoder == "bernoulli":
            self.mean_ = xp.zeros((n_features,), dtype=dtype, device=dev)
            self.scale_ = xp.ones((n_features,), dtype=dtype, device=dev)
            return
        low, high = xp.min(X, axis=0), xp.max(X, axis=0)
        # halves first: high - low itself can overflow
        half_range = 0.5 * high - 0.5 * low
        _check_spread(half_range, xp)
        unit = xp.where(half_range > 0, half_range, xp.ones_like(half_range))
        shifted = (X - (0.5 * low + 0.5 * high)) / unit
        shift = xp.mean(shifted, axis=0)
        mean = 0.5 * low + 0.5 * high + unit * shift
        scale = unit * xp.sqrt(xp.mean((shifted - shift) ** 2, axis=0))
        if self.dequantize:
            self._data_range = (low, high)
            # moments of X + U with U ~ U[0, 1): mean + 1/2, variance + 1/12
            mean, scale = mean + 0.5, xp.sqrt(scale * scale + 1.0 / 12.0)
        # A constant feature keeps scale 1: its spread is then set by
        # reg_variance alone, as in GaussianMixture.
        self.mean_ = mean
        self.scale_ = xp.where(scale > 0, scale, xp.ones_like(scale))

    def _standardise(self, X, xp):
        return (X - self.mean_) / self.scale_

    def _dequantised(self, X, rng, xp, dev, dtype):
        if not self.dequantize:
            return X
        return X + _to_namespace(rng.random(X.shape), xp, dev, dtype)

    def _initial_params(self, rng, n_features, hidden, xp, dev, dtype):
        # The decoder log-variance starts at 0, i.e. the variance of the
        # standardised data.
        n_latent = self.n_components
        encoder_widths = [n_features] + hidden + [2 * n_latent]
        decoder_widths = [n_latent] + hidden[::-1] + [n_features]
        params = []
        for widths in (encoder_widths, decoder_widths):
            for layer in glorot_uniform_layers(rng, widths, xp, dev, dtype):
                params.extend(layer)
        if self.decoder == "gaussian":
            params.append(xp.zeros((n_features,), dtype=dtype, device=dev))
        return params

    def _params(self):
        params = []
        for coefs, intercepts in (
            (self.encoder_coefs_, self.encoder_intercepts_),
            (self.decoder_coefs_, self.decoder_intercepts_),
        ):
            for coef, intercept in zip(coefs, intercepts):
                params.extend([coef, intercept])
        if self.decoder == "gaussian":
            params.append(self._log_variance)
        return params

    def _store_params(self, params):
        xp, _, _ = get_namespace_and_device(params[0])
        n_encoder_layers = self._n_encoder_layers
        n_decoder_layers = (len(params) - 2 * n_encoder_layers) // 2
        encoder, decoder, log_variance = _split_params(
            params, n_encoder_layers, n_decoder_layers
        )
        self.encoder_coefs_ = [c for c, _ in encoder]
        self.encoder_intercepts_ = [b for _, b in encoder]
        self.decoder_coefs_ = [c for c, _ in decoder]
        self.decoder_intercepts_ = [b for _, b in decoder]
        self._log_variance = log_variance
        if log_variance is None:
            self.noise_variance_ = None
        else:
            self.noise_variance_ = (
                self.reg_variance + xp.exp(log_variance)
            ) * self.scale_**2

    # ------------------------------------------------------------ scoring
    def _validate_for_scoring(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="mean_", method=method)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        xp, _, _ = get_namespace_and_device(X)
        self._check_values(X, xp)
        return X, xp

    def _log_weights(self, X, draws, noise=None, noise_factors=(1.0,)):
        """Log importance weights ``log p(x, z) - log q(z | x)``, shape (S, n).

        ``draws`` has shape (S, n, n_components) or (S, 1, n_components): the
        proposal draws in units of the proposal's standard deviation,
        ``z = m(x) + sd(x) * draws`` (standard normal for ``proposal="encoder"``).
        ``noise`` (S, 1, n_features) or (S, n, n_features) holds the
        dequantisation draws ``u``, used with ``dequantize=True``. The
        log-Jacobian of the standardisation is included, so the weights are for
        ``X`` in its own units. One array per factor ``c`` of ``noise_factors``
        (Gaussian decoder): the weights of the VAE whose decoder noise sd is
        multiplied by ``c``, with ``sd`` widened as :func:`_proposal_sd` says
        (the encoder's ``s(x)`` at ``c = 1``): that VAE's posterior is wider,
        and the encoder's own proposal would underestimate its density. The
        encoder runs once for all factors, the decoder once per factor.
        """
        xp, _, _ = get_namespace_and_device(X)
        dtype = X.dtype
        n_latent = draws.shape[2]
        params = [xp.astype(p, dtype) for p in self._params()]
        encoder, decoder, log_variance = _split_params(
            params, self._n_encoder_layers, len(self.decoder_coefs_)
        )
        mean, scale = xp.astype(self.mean_, dtype), xp.astype(self.scale_, dtype)
        if noise is None:
            X_std = ((X - mean) / scale)[None, :, :]
        else:
            X_std = (X[None, :, :] + noise - mean) / scale
        post_mean, post_log_var, _ = _encode(
            encoder, X_std, n_latent, self.activation, xp
        )
        # log q(z | x) in units of sd, up to -sum log sd; the 2 pi terms cancel
        squared = xp.sum(draws * draws, axis=2)
        if self.proposal == "encoder":
            log_kernel = -0.5 * squared
        else:
            wide = _DEFENSIVE_SCALE
            log_kernel = xp.logaddexp(
                math.log1p(-_DEFENSIVE_WEIGHT) - 0.5 * squared,
                math.log(_DEFENSIVE_WEIGHT)
                - n_latent * math.log(wide)
                - 0.5 * squared / wide**2,
            )
        log_jacobian = float(xp.sum(xp.log(scale)))
        log_weights = []
        for factor in noise_factors:
            sd = _proposal_sd(post_log_var, factor, xp)
            z = post_mean + sd * draws
            output, _ = _decode(decoder, z, X_std.shape[-1], self.activation, xp)
            log_likelihood, _, _ = _log_likelihood(
                X_std,
                output,
                log_variance,
                decoder=self.decoder,
                reg_variance=self.reg_variance,
                xp=xp,
                variance_factor=factor**2,
            )
            log_prior_ratio = xp.sum(xp.log(sd) - 0.5 * z * z, axis=2) - log_kernel
            log_weights.append(log_likelihood + log_prior_ratio - log_jacobian)
        return log_weights

    def _score_draws(self, xp, dev, dtype):
        # The same draws serve every row: a row's estimate then depends on that
        # row only, not on the batch it comes in or on its position.
        rng = np.random.default_rng(self._score_seed)
        n_draws = self.n_importance_samples
        draws = rng.standard_normal((n_draws, 1, self.n_components))
        if self.proposal == "defensive":
            wide = rng.random((n_draws, 1, 1)) < _DEFENSIVE_WEIGHT
            draws = draws * np.where(wide, _DEFENSIVE_SCALE, 1.0)
        noise = None
        if self.dequantize:
            noise = _to_namespace(
                rng.random((n_draws, 1, self.n_features_in_)), xp, dev, dtype
            )
        return _to_namespace(draws, xp, dev, dtype), noise

    def score_samples(self, X):
        """Log-density of each sample, by importance sampling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples; a dask array gives a lazy dask array, scored block by
            block (a row's score does not depend on the other rows).

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``log p(x)`` (the log-probability mass for the Bernoulli decoder and
            with ``dequantize=True``), estimated with ``n_importance_samples``
            draws: a lower bound in expectation.
        """
        lazy = lazy_blockwise(self, "score_samples", X)
        if lazy is not None:
            return lazy
        X, xp = self._validate_for_scoring(X, "score_samples")
        factors = [1.0]
        weights = [1.0 - self.background_weight_ - self.wide_weight_]
        if self.wide_weight_ > 0:
            factors.append(self.wide_noise_factor_)
            weights.append(self.wide_weight_)
        log_vae, log_background = self._log_density_parts(X, xp, factors)
        log_density = math.log(self.background_weight_) + log_background
        for weight, log_component in zip(weights, log_vae):
            log_density = xp.logaddexp(log_density, math.log(weight) + log_component)
        return log_density

    def _log_density_parts(self, X, xp, noise_factors=(1.0,)):
        """Per row: the log-densities (importance sampled) of the VAE with its
        decoder noise sd multiplied by each of ``noise_factors`` (a list of
        arrays, one per factor) and the background's log-density."""
        dev, dtype = get_namespace_and_device(X)[2], X.dtype
        draws, noise = self._score_draws(xp, dev, dtype)
        n_draws = draws.shape[0]
        widths = [self.n_features_in_, 2 * self.n_components] + [
            c.shape[1] for c in self.encoder_coefs_
        ]
        rows = max(1, _SCORE_BLOCK_ELEMENTS // (n_draws * max(widths)))
        log_draws = math.log(n_draws)
        vae, background = [[] for _ in noise_factors], []
        n_samples = X.shape[0]
        for begin in range(0, n_samples, rows):
            block = X[begin : min(begin + rows, n_samples), :]
            log_weights = self._log_weights(block, draws, noise, noise_factors)
            for blocks, log_w in zip(vae, log_weights):
                blocks.append(logsumexp(log_w, axis=0, xp=xp) - log_draws)
            background.append(self._background_log_density(block, noise, xp))
        if len(background) == 1:
            return [blocks[0] for blocks in vae], background[0]
        return [xp.concat(blocks) for blocks in vae], xp.concat(background)

    def _background_log_density(self, X, noise, xp):
        """log-density (or mass) of the rows of ``X`` under the background.

        With ``dequantize=True``, ``log mean_s N(x + u_s)`` over the same
        dequantisation draws ``u_s`` as the VAE's estimate.
        """
        dtype = X.dtype
        if self.decoder == "bernoulli":
            p = xp.astype(self.background_mean_, dtype)
            return xp.sum(X * xp.log(p) + (1.0 - X) * xp.log1p(-p), axis=1)
        mean, precision, log_det, _ = self._background
        offset, scale = xp.astype(self.mean_, dtype), xp.astype(self.scale_, dtype)
        if noise is None:
            X_std = ((X - offset) / scale)[None, :, :]
        else:
            X_std = (X[None, :, :] + noise - offset) / scale
        centred = X_std - xp.astype(mean, dtype)
        squared = xp.sum((centred @ xp.astype(precision, dtype)) * centred, axis=2)
        log_density = -0.5 * (squared + log_det + X.shape[1] * _LOG_2PI) - float(
            xp.sum(xp.log(scale))
        )
        return logsumexp(log_density, axis=0, xp=xp) - math.log(X_std.shape[0])

    def score(self, X, y=None):
        """Mean log-density of the samples (as GaussianMixture.score).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples. A dask array is scored block by block and the mean
            computed (a float, as scorers expect).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples` over ``X``.
        """
        log_density = self.score_samples(X)
        if is_dask_collection(log_density):
            return float(log_density.mean().compute())
        xp, _, _ = get_namespace_and_device(log_density)
        return float(xp.mean(log_density))

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws. None uses the estimator's ``random_state``
            (as :meth:`sklearn.mixture.GaussianMixture.sample` does), so an
            estimator built with an int returns the same samples on every call.

            .. versionchanged:: 0.1
               None used to draw from fresh entropy on every call.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Samples, in the namespace, device and dtype of the training data
            (with ``dequantize=True``, integers stored as floats and clipped to
            the range of the training data; zeros and ones
            for the Bernoulli decoder).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        xp, _, dev = get_namespace_and_device(self.mean_)
        dtype = self.mean_.dtype
        rng = _generator(self.random_state if random_state is None else random_state)
        n_features = self.n_features_in_
        z = _to_namespace(
            rng.standard_normal((n_samples, self.n_components)), xp, dev, dtype
        )
        # the mixture component of each row: background, wide, or the VAE
        component = rng.random((n_samples, 1)) - self.background_weight_
        from_background = _to_namespace(component < 0, xp, dev, xp.bool)
        noise_sd = np.where(
            (component >= 0) & (component < self.wide_weight_),
            self.wide_noise_factor_ or 1.0,
            1.0,
        )
        decoder = list(zip(self.decoder_coefs_, self.decoder_intercepts_))
        output, _ = forward(decoder, z, self.activation, xp)
        if self.decoder == "bernoulli":
            p = xp.where(from_background, self.background_mean_, expit(output, xp=xp))
            uniform = _to_namespace(rng.random((n_samples, n_features)), xp, dev, dtype)
            return xp.astype(uniform < p, dtype)
        noise = _to_namespace(
            rng.standard_normal((n_samples, n_features)), xp, dev, dtype
        )
        # in standardised units, then scaled: noise_variance_ can underflow
        noise_sd = _to_namespace(noise_sd, xp, dev, dtype) * xp.sqrt(
            self.reg_variance + xp.exp(self._log_variance)
        )
        X = self.mean_ + self.scale_ * (output + noise_sd * noise)
        mean, _, _, cholesky = self._background
        noise = _to_namespace(
            rng.standard_normal((n_samples, n_features)), xp, dev, dtype
        )
        X_background = self.mean_ + self.scale_ * (mean + noise @ cholesky.T)
        X = xp.where(from_background, X_background, X)
        if not self.dequantize:
            return X
        low, high = self._data_range
        return xp.minimum(xp.maximum(xp.floor(X), low), high)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

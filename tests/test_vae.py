"""Tests for VAEDensity."""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import inspect
import math
import warnings

import numpy as np
import pytest
from array_api_helpers import (
    NAMESPACE_DTYPES,
    assert_in_namespace,
    check_namespace_matches_numpy,
    load_namespace,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn import config_context
from sklearn.datasets import load_digits
from sklearn.decomposition import FactorAnalysis
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KernelDensity
from threadpoolctl import threadpool_info, threadpool_limits

from skprob._backend import to_numpy
from skprob._vae import VAEDensity, _negative_bound

# A tiny network whose every epoch after the first is a plateau (tol above
# any improvement): two step-size decays, then training stops, converged by
# its own rule, after 4 epochs.
QUICK = dict(hidden_layer_sizes=(4,), max_iter=4, tol=1e9, n_iter_no_change=1)
# Fits with a deliberately small budget of epochs end at max_iter.
short_fit = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _latent_data(n_samples, seed, *, n_features=10, noise=0.1):
    """x = A tanh(B z + c) + noise, z ~ N(0, I_2): a fixed random 2-D manifold."""
    g = np.random.default_rng(12345)
    B = 1.5 * g.standard_normal((2, 16))
    c = g.standard_normal(16)
    A = g.standard_normal((16, n_features)) / 4.0
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_samples, 2))
    return np.tanh(z @ B + c) @ A + noise * rng.standard_normal((n_samples, n_features))


def _decoder_mean(model, Z):
    """Decoder mean in the units of X, from the public attributes only."""
    h = Z
    for coef, intercept in zip(
        model.decoder_coefs_[:-1], model.decoder_intercepts_[:-1]
    ):
        a = h @ coef + intercept
        h = np.tanh(a) if model.activation == "tanh" else np.maximum(a, 0.0)
    out = h @ model.decoder_coefs_[-1] + model.decoder_intercepts_[-1]
    return model.mean_ + model.scale_ * out


def _quadrature_log_density(model, X, step, half_width=7.0, noise_factor=1.0):
    """log p(x) = log int N(x; mu(z), diag noise_variance_) N(z; 0, I) dz on a grid
    (with the noise sd multiplied by ``noise_factor``).

    The trapezoid rule on a smooth integrand that vanishes at the edges
    converges exponentially in 1 / step.
    """
    grid = np.arange(-half_width, half_width + step / 2, step)
    Z = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    sd = noise_factor * np.sqrt(model.noise_variance_)
    M = _decoder_mean(model, Z) / sd
    Xs = X / sd
    sq = (Xs**2).sum(1)[:, None] - 2 * Xs @ M.T + (M**2).sum(1)[None, :]
    log_lik = -0.5 * sq - np.log(sd).sum() - 0.5 * X.shape[1] * np.log(2 * np.pi)
    log_prior = -0.5 * (Z**2).sum(1) - np.log(2 * np.pi)
    return logsumexp(log_lik + log_prior, axis=1) + 2 * np.log(step)


@pytest.fixture(scope="module")
def nonlinear_split():
    return _latent_data(2000, 0), _latent_data(1000, 1)


@pytest.fixture(scope="module")
def nonlinear_vae(nonlinear_split):
    return VAEDensity(random_state=0).fit(nonlinear_split[0])


@pytest.fixture(scope="module")
def quadrature_case():
    """A 2-D latent model with a broad posterior, its evaluation points and
    their log-density by quadrature."""
    X = _latent_data(1000, 2, n_features=5, noise=0.5)
    # tanh layers: a smooth integrand, on which the trapezoid rule converges
    # exponentially (ReLU kinks would slow it down)
    model = VAEDensity(
        n_components=2,
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        n_iter_no_change=30,
        random_state=0,
    )
    model.fit(X)
    X_eval = _latent_data(20, 3, n_features=5, noise=0.5)
    fine = _quadrature_log_density(model, X_eval, 0.05)
    coarse = _quadrature_log_density(model, X_eval, 0.1)
    assert_allclose(fine, coarse, atol=1e-6)  # the reference itself has converged
    return model, X_eval, fine


# ----------------------------------------------------------------- gradients


def _random_params(rng, n_features, n_latent, hidden, decoder):
    params = []
    for widths in (
        [n_features] + hidden + [2 * n_latent],
        [n_latent] + hidden[::-1] + [n_features],
    ):
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            params.append(rng.normal(0, 0.6, (fan_in, fan_out)))
            params.append(rng.normal(0, 0.3, fan_out))
    if decoder == "gaussian":
        params.append(rng.normal(0, 0.3, n_features))
    return params


@pytest.mark.parametrize("decoder", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n_draws", [None, 4], ids=["elbo", "iwae4"])
def test_gradients_match_finite_differences(decoder, activation, n_draws):
    rng = np.random.default_rng(0)
    n_rows, n_features, n_latent, hidden = 9, 4, 2, [5, 3]
    params = _random_params(rng, n_features, n_latent, hidden, decoder)
    if decoder == "gaussian":
        X = rng.standard_normal((n_rows, n_features))
    else:
        X = (rng.random((n_rows, n_features)) < 0.4).astype(float)
    shape = (n_rows, n_latent) if n_draws is None else (n_draws, n_rows, n_latent)
    eps = rng.standard_normal(shape)

    def loss(p, compute_gradient=False):
        return _negative_bound(
            p,
            X,
            eps,
            n_encoder_layers=len(hidden) + 1,
            activation=activation,
            decoder=decoder,
            reg_variance=1e-3,
            weight_decay=0.1,
            xp=np,
            compute_gradient=compute_gradient,
        )

    _, _, gradients = loss(params, True)
    n_blocks = 4 * (len(hidden) + 1) + (decoder == "gaussian")
    assert len(gradients) == len(params) == n_blocks
    step = 1e-6
    for block, (param, gradient) in enumerate(zip(params, gradients)):
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            shifted = [p.copy() for p in params]
            shifted[block][index] += step
            upper = loss(shifted)[0]
            shifted[block][index] -= 2 * step
            lower = loss(shifted)[0]
            numeric[index] = (upper - lower) / (2 * step)
        # atol: central differences of a loss of order 10 carry ~1e-10 rounding
        assert_allclose(
            gradient, numeric, rtol=1e-5, atol=1e-8, err_msg=f"block {block}"
        )


# ------------------------------------------------- importance sampling vs quadrature


@pytest.mark.parametrize("proposal", ["encoder", "defensive"])
def test_importance_sampling_matches_quadrature(quadrature_case, proposal):
    model, X_eval, vae_reference = quadrature_case
    # the model is the VAE mixed with the wide component (the same VAE, noise
    # sd times wide_noise_factor_) and the background Gaussian
    wide = vae_reference
    if model.wide_noise_factor_ is not None:
        wide = _quadrature_log_density(
            model, X_eval, 0.05, noise_factor=model.wide_noise_factor_
        )
    background = multivariate_normal(
        model.background_mean_, model.background_covariance_
    ).logpdf(X_eval)
    weights = [
        1 - model.background_weight_ - model.wide_weight_,
        model.wide_weight_,
        model.background_weight_,
    ]
    reference = logsumexp(
        [vae_reference, wide, background], b=np.array(weights)[:, None], axis=0
    )
    model.set_params(n_importance_samples=5000, proposal=proposal)
    try:
        error = np.abs(model.score_samples(X_eval) - reference)
    finally:
        model.set_params(n_importance_samples=128, proposal="encoder")
    if proposal == "defensive":
        assert np.max(error) <= 0.02
    else:
        # With q itself as proposal the per-point error has heavy tails (an
        # encoder fitted by the ELBO is narrower than the posterior), so the
        # bound is on the average over the points.
        assert np.mean(error) <= 0.02


@pytest.mark.parametrize("noise_factor", [2.0, 5.0, 10.0])
def test_wide_component_matches_quadrature(quadrature_case, noise_factor):
    # The VAE with its decoder noise sd times c, importance sampled with the
    # proposal widened for it, against quadrature (converged: fine and coarse
    # steps agree).
    model, X_eval, _ = quadrature_case
    fine = _quadrature_log_density(model, X_eval, 0.05, noise_factor=noise_factor)
    coarse = _quadrature_log_density(model, X_eval, 0.1, noise_factor=noise_factor)
    assert_allclose(fine, coarse, atol=1e-6)
    model.set_params(n_importance_samples=5000)
    try:
        (estimate,), _ = model._log_density_parts(X_eval, np, [noise_factor])
    finally:
        model.set_params(n_importance_samples=128)
    error = estimate - fine
    assert abs(np.mean(error)) <= 0.02
    assert np.max(np.abs(error)) <= 0.1


def test_estimate_increases_with_samples_towards_quadrature(quadrature_case):
    model, X_eval, reference = quadrature_case
    rng = np.random.default_rng(1)
    total = 8192  # draws per point for every K: fresh, independent draws per row
    means, errors = [], []
    for n_draws in (1, 4, 16, 64, 256):
        eps = rng.standard_normal((total, X_eval.shape[0], 2))
        (log_w,) = model._log_weights(X_eval, eps)
        estimates = logsumexp(log_w.reshape(total // n_draws, n_draws, -1), axis=1)
        estimates -= np.log(n_draws)
        means.append(estimates.mean())
        # standard error of the mean over points of the per-point averages
        per_point_var = estimates.var(axis=0, ddof=1) / estimates.shape[0]
        errors.append(np.sqrt(per_point_var.sum()) / X_eval.shape[0])
    means, errors = np.array(means), np.array(errors)
    increments = np.diff(means)
    noise = np.sqrt(errors[1:] ** 2 + errors[:-1] ** 2)
    # E[log p_hat_K] increases with K: clearly for the first steps, and no later
    # step goes down by more than its noise.
    assert increments[0] > 5 * noise[0] and increments[1] > 5 * noise[1]
    assert np.all(increments > -3 * noise)
    # a lower bound in expectation, approaching the quadrature value
    gaps = reference.mean() - means
    assert np.all(gaps > -3 * errors)
    assert gaps[-1] < 0.01 < gaps[0]


# -------------------------------------------------------------- other references


@short_fit
def test_linear_decoder_is_factor_analysis():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 6))
    psi = rng.uniform(0.1, 0.5, 6)
    mu = rng.standard_normal(6)

    def draw(n):
        return (
            mu
            + rng.standard_normal((n, 2)) @ W
            + np.sqrt(psi) * rng.standard_normal((n, 6))
        )

    X, X_test = draw(2000), draw(500)
    # ELBO training: with a linear decoder the exact posterior is Gaussian, so
    # the fitted encoder matches it and importance sampling is nearly exact
    vae = VAEDensity(
        n_components=2,
        hidden_layer_sizes=(),
        n_importance_samples_fit=1,
        random_state=0,
    ).fit(X)
    vae.set_params(n_importance_samples=2000)
    # ... the fit reaches factor analysis' maximum likelihood
    assert (
        abs(vae.score(X_test) - FactorAnalysis(n_components=2).fit(X).score(X_test))
        < 0.02
    )
    # score_samples and sample follow the fitted mixture, and other weights and
    # noise factors of the wide component, whose proposal is widened with it
    _check_linear_mixture(vae, X_test)
    vae.background_weight_, vae.wide_weight_, vae.wide_noise_factor_ = 0.1, 0.2, 1.5
    _check_linear_mixture(vae, X_test)
    # (the sample-covariance check assumes nearly Gaussian fourth moments, which
    # a component with 100 times the noise variance does not have)
    vae.wide_noise_factor_ = 10.0
    _check_linear_mixture(vae, X_test, check_samples=False)


def _check_linear_mixture(vae, X_test, check_samples=True):
    # Without hidden layers the decoder is linear: p(x) = N(m, W^T W + Psi) in
    # closed form from the fitted attributes, and the wide component
    # N(m, W^T W + c^2 Psi). The model mixes them with the background Gaussian.
    W_fit = vae.decoder_coefs_[0] * vae.scale_
    mean = vae.mean_ + vae.scale_ * vae.decoder_intercepts_[0]
    factor = vae.wide_noise_factor_ or 1.0
    means = [mean, mean, vae.background_mean_]
    covs = [
        W_fit.T @ W_fit + np.diag(vae.noise_variance_),
        W_fit.T @ W_fit + factor**2 * np.diag(vae.noise_variance_),
        vae.background_covariance_,
    ]
    weights = np.array(
        [1 - vae.background_weight_ - vae.wide_weight_, vae.wide_weight_]
        + [vae.background_weight_]
    )
    log_densities = [
        multivariate_normal(m, c).logpdf(X_test) for m, c in zip(means, covs)
    ]
    exact = logsumexp(log_densities, b=weights[:, None], axis=0)
    assert np.max(np.abs(vae.score_samples(X_test) - exact)) < 0.01
    if not check_samples:
        return
    # samples follow the same mixture: moments within 4 standard errors
    n = 20000
    S = vae.sample(n, random_state=1)
    mixture_mean = sum(w * m for w, m in zip(weights, means))
    second = sum(w * (c + np.outer(m, m)) for w, m, c in zip(weights, means, covs))
    mean, cov = mixture_mean, second - np.outer(mixture_mean, mixture_mean)
    var = np.diag(cov)
    assert np.all(np.abs(S.mean(0) - mean) < 4 * np.sqrt(var / n))
    cov_se = np.sqrt((np.outer(var, var) + cov**2) / n)
    assert np.all(np.abs(np.cov(S.T) - cov) < 4 * cov_se)


def test_beats_gaussian_mixture_and_kernel_density(nonlinear_split, nonlinear_vae):
    # n_components=16 and bandwidth=0.1: the 3-fold cross-validated choices on
    # this member (benchmarks/bench_vae.py, tanh-10-0.1)
    X, X_test = nonlinear_split
    gmm = GaussianMixture(n_components=16, random_state=0).fit(X)
    kde = KernelDensity(bandwidth=0.1).fit(X)
    gmm_score = gmm.score(X_test)
    kde_score = kde.score(X_test) / X_test.shape[0]
    assert nonlinear_vae.score(X_test) >= max(gmm_score, kde_score) + 0.1


def test_background_is_the_data_gaussian_and_bounds_tail_scores(nonlinear_vae):
    X = _latent_data(2000, 0)
    vae = nonlinear_vae
    # the maximum-likelihood Gaussian of the training rows (those not held out
    # for validation: 90% of them), plus reg_variance in standardised units
    assert_allclose(vae.background_mean_, X.mean(axis=0), atol=0.05)
    reference = np.cov(X.T, bias=True) + vae.reg_variance * np.diag(vae.scale_**2)
    assert_allclose(vae.background_covariance_, reference, atol=0.05 * reference.max())
    assert 0 < vae.background_weight_ <= 0.5
    # far from the data the VAE's own density vanishes quadratically fast; the
    # mixture's log-density stays above log(weight) + the background's
    far = X[:20] + 3.0 * X.std(axis=0)
    background = multivariate_normal(
        vae.background_mean_, vae.background_covariance_
    ).logpdf(far)
    scores = vae.score_samples(far)
    assert np.all(scores >= np.log(vae.background_weight_) + background - 1e-9)
    assert np.all(np.isfinite(scores))


def _stand_in(monkeypatch, obj, name, replacement):
    """Replace a method by a stand-in that must keep the method's signature, so
    that a renamed parameter of the real method fails the test instead of
    being passed to a stand-in that ignores it."""
    real = inspect.signature(getattr(obj, name))
    assert inspect.signature(replacement) == real, (replacement, real)
    monkeypatch.setattr(obj, name, replacement)


def test_mixture_weights_keep_the_vae_the_main_component(nonlinear_vae, monkeypatch):
    # Rows the VAE fits far worse than both the background and the wide copy:
    # EM alone would hand them all the mass (and a log of 0 to the VAE); the
    # VAE keeps half of it, the weights sum to 1 and the scores stay finite.
    vae = copy.deepcopy(nonlinear_vae)
    X = _latent_data(200, 3)
    rows = X.shape[0]

    def parts(X, xp, noise_factors=(1.0,)):
        vae_parts = [np.full(rows, -1000.0)] + [
            np.zeros(rows) for _ in noise_factors[1:]
        ]
        return vae_parts, np.zeros(rows)

    _stand_in(monkeypatch, vae, "_log_density_parts", parts)
    vae._fit_mixture_weights(X, np)
    monkeypatch.undo()
    # (the wide copy and the background tie here: either may take the half)
    assert vae.background_weight_ + vae.wide_weight_ == pytest.approx(0.5)
    assert 0 < vae.background_weight_ <= 0.5
    assert np.all(np.isfinite(vae.score_samples(X)))


def test_mixture_weights_maximise_the_validation_likelihood(nonlinear_vae, monkeypatch):
    # Against SciPy's SLSQP on the same component log-densities: for every
    # candidate factor the likelihood of the EM weights is the constrained
    # maximum (v + w <= 1/2), and the factor chosen is the best candidate.
    from scipy.optimize import minimize

    from skprob import _vae

    vae = copy.deepcopy(nonlinear_vae)
    rng = np.random.default_rng(4)
    rows = 300
    main = rng.normal(0.0, 1.0, rows) - 4.0 * (rng.random(rows) < 0.05)
    background = rng.normal(-3.0, 1.0, rows)
    wides = [rng.normal(-1.0 - 0.1 * k, 1.0, rows) for k in range(5)]
    wides = [np.maximum(w, main - 1.0) for w in wides]

    def parts(X, xp, noise_factors=(1.0,)):
        return [main] + wides[: len(noise_factors) - 1], background

    _stand_in(monkeypatch, vae, "_log_density_parts", parts)
    vae._fit_mixture_weights(np.zeros((rows, 2)), np)

    def best_likelihood(components):
        def negative(extra):
            weights = np.concatenate([[1.0 - np.sum(extra)], extra])
            return -np.mean(logsumexp(components, b=weights[:, None], axis=0))

        k = len(components) - 1
        result = minimize(
            negative,
            np.full(k, 0.05),
            method="SLSQP",
            bounds=[(1e-8, 0.5)] * k,
            constraints=[{"type": "ineq", "fun": lambda e: 0.5 - np.sum(e)}],
            options={"ftol": 1e-12},
        )
        return -result.fun

    candidates = [best_likelihood(np.array([main, background]))] + [
        best_likelihood(np.array([main, background, wide])) for wide in wides
    ]
    factor = vae.wide_noise_factor_
    chosen = 0 if factor is None else 1 + _vae._WIDE_NOISE_FACTORS.index(factor)
    assert chosen == int(np.argmax(candidates))
    weights = [1 - vae.background_weight_ - vae.wide_weight_, vae.background_weight_]
    components = [main, background]
    if factor is not None:
        weights.append(vae.wide_weight_)
        components.append(wides[chosen - 1])
    ours = np.mean(logsumexp(components, b=np.array(weights)[:, None], axis=0))
    assert ours == pytest.approx(candidates[chosen], abs=1e-4)


@short_fit
def test_gaussian_density_integrates_to_one():
    rng = np.random.default_rng(0)
    t = rng.standard_normal(600)
    X = (np.sign(t) * t**2 + 0.3 * rng.standard_normal(600))[:, None] * 3.0 + 10.0
    vae = VAEDensity(
        n_components=1,
        hidden_layer_sizes=(16,),
        max_iter=100,
        early_stopping=False,
        n_importance_samples=4096,
        random_state=0,
    ).fit(X)
    grid = np.linspace(-40, 60, 2001)[:, None]
    # exp of the log-mean-exp is an unbiased estimate of p(x) itself
    mass = np.sum(np.exp(vae.score_samples(grid))) * (grid[1, 0] - grid[0, 0])
    assert abs(mass - 1.0) < 0.02


@short_fit
def test_bernoulli_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(800)
    logits = np.c_[2 * z, -2 * z, z + 1, np.zeros_like(z)]
    X = (rng.random(logits.shape) < 1 / (1 + np.exp(-logits))).astype(float)
    vae = VAEDensity(
        decoder="bernoulli",
        n_components=1,
        hidden_layer_sizes=(16,),
        max_iter=100,
        early_stopping=False,
        n_importance_samples=4096,
        random_state=0,
    ).fit(X)
    every_vector = np.array(np.meshgrid(*[[0.0, 1.0]] * 4)).reshape(4, -1).T
    assert abs(np.exp(vae.score_samples(every_vector)).sum() - 1.0) < 0.02
    S = vae.sample(500, random_state=0)
    assert S.shape == (500, 4) and set(np.unique(S)) <= {0.0, 1.0}


@short_fit
def test_dequantized_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    X = rng.poisson(rng.choice([2.0, 9.0], size=(800, 1))).astype(float)
    vae = VAEDensity(
        dequantize=True,
        n_components=1,
        hidden_layer_sizes=(16,),
        max_iter=100,
        early_stopping=False,
        n_importance_samples=4096,
        random_state=0,
    ).fit(X)
    counts = np.arange(-30.0, 50.0)[:, None]
    # log P(k) of the discrete model: a probability mass over the integers
    assert abs(np.exp(vae.score_samples(counts)).sum() - 1.0) < 0.02
    S = vae.sample(20000, random_state=0)
    assert S.shape == (20000, 1) and np.all(S == np.floor(S))
    low, high = X.min(), X.max()
    assert S.min() >= low and S.max() <= high
    # samples are the model's draws clipped to the training range: the share at
    # each end is the model's mass at and beyond it (4 standard errors)
    mass = np.exp(vae.score_samples(counts))
    for end, beyond in ((low, counts[:, 0] <= low), (high, counts[:, 0] >= high)):
        expected = mass[beyond].sum()
        share = np.mean(S == end)
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / 20000)
    with pytest.raises(ValueError, match="integer-valued"):
        vae.score_samples(np.array([[1.5]]))


@short_fit
def test_dequantized_samples_stay_in_pixel_range():
    # on 0..16 digits the floor of unclipped Gaussian draws goes negative
    X = load_digits().data
    vae = VAEDensity(
        dequantize=True,
        n_components=4,
        hidden_layer_sizes=(16,),
        max_iter=5,
        early_stopping=False,
        random_state=0,
    ).fit(X)
    S = vae.sample(2000, random_state=0)
    assert np.all(S == np.floor(S))
    assert np.all(S >= X.min(axis=0)) and np.all(S <= X.max(axis=0))
    # columns that are 0 in every training image stay 0
    assert np.all(S[:, X.max(axis=0) == 0] == 0)


# ------------------------------------------------------------ estimator behaviour


@short_fit
def test_reproducible_and_row_independent(quadrature_case):
    model, X_eval, _ = quadrature_case
    X = _latent_data(300, 4, n_features=5, noise=0.5)
    params = dict(hidden_layer_sizes=(8,), max_iter=20, early_stopping=False)
    a = VAEDensity(random_state=3, **params).fit(X)
    b = VAEDensity(random_state=3, **params).fit(X)
    c = VAEDensity(random_state=4, **params).fit(X)
    assert_array_equal(a.score_samples(X_eval), b.score_samples(X_eval))
    assert not np.allclose(a.score_samples(X_eval), c.score_samples(X_eval))
    # one row's estimate does not depend on the rows around it
    full = model.score_samples(X_eval)
    assert_allclose(model.score_samples(X_eval[5:9]), full[5:9], rtol=1e-12)
    assert_allclose(model.score_samples(X_eval[::-1]), full[::-1], rtol=1e-12)
    assert model.score(X_eval) == pytest.approx(full.mean(), rel=1e-12)
    assert_array_equal(model.sample(5, random_state=0), model.sample(5, random_state=0))


def test_training_record_and_diagnostics(capsys):
    X = _latent_data(500, 5, n_features=5, noise=0.5)
    vae = VAEDensity(hidden_layer_sizes=(16,), verbose=1, random_state=0).fit(X)
    # stopped on the third validation plateau, before max_iter
    assert vae.converged_ and vae.n_iter_ < vae.max_iter
    assert len(vae.loss_curve_) == len(vae.validation_scores_) == vae.n_iter_
    assert vae.lower_bound_ == vae.best_validation_score_ == max(vae.validation_scores_)
    assert vae.loss_curve_[-1] < vae.loss_curve_[0]
    # verbose=1: a few lines, not one per epoch
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"Epoch 1/{vae.max_iter}: training loss")
    assert "best validation bound" in lines[0] and "s left" in lines[0]
    assert sum("step size now" in line for line in lines) == 2  # two decays
    assert lines[-1].startswith(f"Training stopped after {vae.n_iter_} epochs")
    assert len(lines) <= 2 + 2 + vae.n_iter_ // (vae.max_iter // 20)
    # the best validation bound printed is the running maximum
    last = lines[-2]
    best = float(last.split("best validation bound ")[1].split(",")[0])
    epoch = int(last.split("/")[0].removeprefix("Epoch "))
    assert best == pytest.approx(max(vae.validation_scores_[:epoch]), abs=1e-4)
    # verbose=2: one line per epoch, and the closing line
    VAEDensity(verbose=2, random_state=0, **QUICK).fit(X)
    assert len(capsys.readouterr().out.splitlines()) == 4 + 1


def test_convergence_warning_when_max_iter_ends_training():
    X = _latent_data(300, 5, n_features=5, noise=0.5)
    with pytest.warns(ConvergenceWarning, match="max_iter=2") as record:
        vae = VAEDensity(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X)
    assert record[0].filename == __file__  # stacklevel: the caller's line
    assert not vae.converged_ and vae.n_iter_ == 2
    assert vae.lower_bound_ == max(vae.validation_scores_)
    # without early stopping the training bound makes the plateaus (as
    # MLPRegressor's training loss does)
    with pytest.warns(ConvergenceWarning, match="training bound"):
        quiet = VAEDensity(hidden_layer_sizes=(4,), max_iter=3, early_stopping=False)
        quiet.fit(X)
    assert quiet.validation_scores_ is None and quiet.n_iter_ == 3
    assert not quiet.converged_ and quiet.lower_bound_ == -quiet.loss_curve_[-1]
    # every epoch after the first a plateau: two decays, then the stop
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        done = VAEDensity(early_stopping=False, random_state=0, **QUICK).fit(X)
    assert done.converged_ and done.n_iter_ == 4


def test_integer_data_without_dequantize_warns():
    X = np.round(3 * _latent_data(300, 9, n_features=3))
    with pytest.warns(UserWarning, match="dequantize=True") as record:
        VAEDensity(**QUICK).fit(X)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAEDensity(dequantize=True, **QUICK).fit(X)
        VAEDensity(**QUICK).fit(X + 0.5)


def test_blas_threads_limit_the_training_loop_only(monkeypatch):
    if not [i for i in threadpool_info() if i["user_api"] == "blas"]:
        pytest.skip("no BLAS library visible to threadpoolctl")
    seen = []
    real_epoch = VAEDensity._epoch

    def epoch(self, params, adam, X_train, rng, objective, learning_rate):
        blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
        seen.append(max(i["num_threads"] for i in blas))
        return real_epoch(self, params, adam, X_train, rng, objective, learning_rate)

    _stand_in(monkeypatch, VAEDensity, "_epoch", epoch)
    X = _latent_data(200, 5, n_features=3)
    # an outer limit of 2 threads: the default trains with 1, None keeps 2
    with threadpool_limits(limits=2, user_api="blas"):
        outer = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        if max(outer) < 2:
            pytest.skip("the BLAS library runs a single thread")
        VAEDensity(**QUICK).fit(X)
        assert set(seen) == {1}
        seen.clear()
        VAEDensity(blas_threads=None, **QUICK).fit(X)
        assert set(seen) == {max(outer)}
        after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert after == outer  # restored after fit


@short_fit
def test_float32_preserved():
    X = _latent_data(200, 6, n_features=3, noise=0.3).astype(np.float32)
    vae = VAEDensity(
        hidden_layer_sizes=(8,), max_iter=5, early_stopping=False, random_state=0
    ).fit(X)
    assert vae.score_samples(X).dtype == np.float32
    assert vae.sample(3, random_state=0).dtype == np.float32
    assert vae.decoder_coefs_[0].dtype == np.float32


@short_fit
def test_bad_input():
    X = _latent_data(100, 7, n_features=3)
    X_copy = X.copy()
    small = dict(hidden_layer_sizes=(4,), max_iter=2, early_stopping=False)
    vae = VAEDensity(**QUICK).fit(X)
    assert_array_equal(X, X_copy)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        VAEDensity(**small).fit(X_nan)
    with pytest.raises(ValueError, match="NaN"):
        vae.score_samples(X_nan)
    with pytest.raises(ValueError, match="features"):
        vae.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="n_components"):
        VAEDensity(n_components=0).fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        VAEDensity(hidden_layer_sizes=(4, 0)).fit(X)
    with pytest.raises(ValueError, match="only 0 and 1"):
        VAEDensity(decoder="bernoulli", **small).fit(X)
    with pytest.raises(ValueError, match="integer-valued"):
        VAEDensity(dequantize=True, **QUICK).fit(X)
    with pytest.raises(ValueError, match="decoder='gaussian'"):
        VAEDensity(dequantize=True, decoder="bernoulli").fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="positive integer"):
        vae.sample(0)
    with pytest.raises(NotFittedError):
        VAEDensity().score_samples(X)


# 8 epochs: far from converged, but enough to run every step of fit
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize("n_fit_draws", [1, 3])
def test_array_api_matches_numpy(namespace, dtype_name, n_fit_draws):
    X = _latent_data(150, 8, n_features=4, noise=0.3)
    vae = VAEDensity(
        hidden_layer_sizes=(8,),
        max_iter=8,
        n_iter_no_change=3,
        n_importance_samples=16,
        n_importance_samples_fit=n_fit_draws,
        random_state=0,
    )
    fitted = check_namespace_matches_numpy(
        vae,
        X,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("score_samples",),
        attributes=("mean_", "scale_", "noise_variance_"),
    )
    xp = load_namespace(namespace)
    with config_context(array_api_dispatch=True):
        S = fitted.sample(4, random_state=0)
        with pytest.raises(ValueError, match="same namespace"):
            fitted.score_samples(X.astype(dtype_name))
    assert_in_namespace(S, xp, dtype_name)
    reference = vae.fit(X.astype(dtype_name)).sample(4, random_state=0)
    assert_allclose(
        to_numpy(S), reference, rtol=1e-4 if dtype_name == "float32" else 1e-7
    )


# ------------------------------------------------------- scale, randomness, dask


@short_fit
@pytest.mark.parametrize("factor", [1e-300, 1e-8, 1e150])
def test_scaled_data_score_by_change_of_variables(factor):
    # x' = c x has density p(x) / c^d: the fit on the scaled data must score
    # the scaled rows as the fit on the original rows, minus d log c (the
    # standardisation makes the two fits the same up to rounding)
    X = _latent_data(300, 10, n_features=3)
    X_eval = _latent_data(20, 11, n_features=3)
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    reference = VAEDensity(**params).fit(X)
    scaled = VAEDensity(**params).fit(X * factor)
    expected = reference.score_samples(X_eval) - 3 * math.log(factor)
    assert_allclose(scaled.score_samples(X_eval * factor), expected, atol=1e-6)
    assert_allclose(
        scaled.sample(50, random_state=0) / factor,
        reference.sample(50, random_state=0),
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.parametrize("dtype, factor", [(np.float64, 1e200), (np.float32, 1e25)])
def test_values_whose_squares_overflow_are_refused(dtype, factor):
    X = (_latent_data(100, 12, n_features=3) * factor).astype(dtype)
    with pytest.raises(ValueError, match="squares overflow.*Rescale X"):
        VAEDensity(max_iter=2).fit(X)


@short_fit
def test_random_state_follows_check_random_state():
    X = _latent_data(200, 13, n_features=3)
    X_eval = _latent_data(10, 14, n_features=3)
    params = dict(hidden_layer_sizes=(4,), max_iter=5)
    scores = []
    for _ in range(2):
        np.random.seed(0)  # None draws from NumPy's global state, as MLPRegressor
        scores.append(VAEDensity(**params).fit(X).score_samples(X_eval))
    assert_array_equal(scores[0], scores[1])
    # sample() with no seed of its own uses the estimator's, as GaussianMixture
    vae = VAEDensity(random_state=0, **params).fit(X)
    assert_array_equal(vae.sample(3), vae.sample(3))
    assert_array_equal(vae.sample(3), vae.sample(3, random_state=0))
    assert not np.allclose(vae.sample(3), vae.sample(3, random_state=1))


@short_fit
def test_dask_scores_lazily_and_fit_refuses_with_the_size():
    da = pytest.importorskip("dask.array")
    import dask

    X = _latent_data(200, 15, n_features=3)
    X_eval = _latent_data(45, 16, n_features=3)
    vae = VAEDensity(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X)
    X_dask = da.from_array(X_eval, chunks=(10, 3))
    with dask.config.set(scheduler="synchronous"):
        lazy = vae.score_samples(X_dask)
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == X_dask.chunks[0]
        assert_allclose(lazy.compute(), vae.score_samples(X_eval), rtol=1e-12)
        assert vae.score(X_dask) == pytest.approx(vae.score(X_eval), rel=1e-12)
        with pytest.raises(ValueError, match=r"200 rows x 3 features x 8 bytes"):
            VAEDensity().fit(da.from_array(X, chunks=(50, 3)))
        with pytest.raises(ValueError, match=r"X\.compute\(\)"):
            VAEDensity().fit(da.from_array(X, chunks=(50, 3)))

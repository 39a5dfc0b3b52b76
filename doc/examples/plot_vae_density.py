"""
===================================================
Density estimation with a variational autoencoder
===================================================

:class:`~skprob.VAEDensity` is a density estimator with the interface of
:class:`~sklearn.neighbors.KernelDensity` and
:class:`~sklearn.mixture.GaussianMixture` (``fit``, ``score_samples``, ``score``,
``sample``). Its model is a latent variable ``z ~ N(0, I)`` pushed through a
small neural network, plus Gaussian noise; the log-density of a point is
estimated by importance sampling with the encoder as proposal. This example
draws the estimated densities of the same 2-D data as contours, compares their
held-out log-likelihoods, and draws new samples from the VAE. It also shows the
VAE's weak spot: trained on the ELBO, it can settle on a solution that barely
uses the latent variable; the importance-weighted bound
(``n_importance_samples_fit > 1``) avoids it here.
"""

# %%
# Data and the estimators
# -----------------------
# Two interleaved half circles with a little noise: a curved, disconnected
# density that a mixture of Gaussians covers with many ellipses and a kernel
# estimate with many bumps. GaussianMixture's ``n_components`` and
# KernelDensity's ``bandwidth`` are chosen by 3-fold cross-validated
# log-likelihood. Two VAEs: the default, trained on the importance-weighted
# bound with 4 samples per row, and one trained on the ELBO
# (``n_importance_samples_fit=1``, a quarter of the decoder work per epoch).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

from skprob import VAEDensity

X, _ = make_moons(n_samples=1500, noise=0.06, random_state=0)
X_train, X_test = X[:1000], X[1000:]

vae_elbo = VAEDensity(n_importance_samples_fit=1, random_state=0).fit(X_train)
vae = VAEDensity(random_state=0).fit(X_train)
gmm = GridSearchCV(
    GaussianMixture(random_state=0), {"n_components": [2, 4, 8, 16, 32]}, cv=3
).fit(X_train)
kde = GridSearchCV(
    KernelDensity(), {"bandwidth": np.geomspace(0.02, 0.5, 12)}, cv=3
).fit(X_train)

models = {
    "VAEDensity(n_importance_samples_fit=1) (ELBO)": vae_elbo,
    "VAEDensity() (importance-weighted, 4 samples)": vae,
    f"GaussianMixture ({gmm.best_params_['n_components']} components)": (
        gmm.best_estimator_
    ),
    f"KernelDensity (bandwidth {kde.best_params_['bandwidth']:.3f})": (
        kde.best_estimator_
    ),
}
for name, model in models.items():
    print(f"{name}: held-out log-likelihood {model.score_samples(X_test).mean():.3f}")
print(f"epochs: ELBO {vae_elbo.n_iter_}, importance-weighted {vae.n_iter_}")

# %%
# In two dimensions with a thousand points the mixture and the kernel estimate
# are hard to beat: the VAE pays for modelling the noise with one variance per
# feature. Its advantage is on data near a low-dimensional surface in many
# dimensions (see ``benchmarks/bench_vae.py``).

# %%
# Density contours
# ----------------
# ``score_samples`` on a grid gives the log-density; the VAE's values are
# importance-sampling estimates (``n_importance_samples=128`` draws per point).
xx, yy = np.meshgrid(np.linspace(-1.5, 2.5, 160), np.linspace(-1.0, 1.5, 100))
grid = np.c_[xx.ravel(), yy.ravel()]
levels = np.linspace(-6, 2, 17)

fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True, sharey=True)
for ax, (name, model) in zip(axes.ravel(), models.items()):
    log_density = model.score_samples(grid).reshape(xx.shape)
    ax.contourf(xx, yy, np.clip(log_density, levels[0], None), levels=levels)
    ax.scatter(*X_test.T, s=2, c="white", alpha=0.5)
    ax.set_title(name, fontsize=10)
fig.suptitle("log-density and held-out points")
fig.tight_layout()

# %%
# Samples
# -------
# ``sample`` draws ``z ~ N(0, I)``, decodes it and adds the learned noise.
samples = vae.sample(1000, random_state=0)
fig, ax = plt.subplots(figsize=(5, 3.6))
ax.scatter(*X_test.T, s=4, label="held-out data")
ax.scatter(*samples.T, s=4, label="VAEDensity.sample")
ax.legend()
ax.set_title("Samples from the fitted VAE")
plt.show()

"""The small network of VAEDensity: layers, backward pass, Adam, schedule."""

# SPDX-License-Identifier: BSD-3-Clause

import math

from ._backend import asarray

__all__ = [
    "AdamOptimizer",
    "PlateauSchedule",
    "activate",
    "activation_derivative",
    "backward",
    "forward",
    "glorot_uniform_layers",
]


def activate(a, activation, xp):
    """Hidden-layer activation: ``"tanh"`` or ``"relu"``, elementwise."""
    if activation == "tanh":
        return xp.tanh(a)
    return xp.maximum(a, xp.zeros_like(a))


def activation_derivative(h, activation, xp):
    """Derivative of the activation, written in terms of its output ``h``.

    The backward pass keeps only the layer outputs, so the derivative is taken
    from them: ``1 - h^2`` for tanh, the step ``h > 0`` for ReLU.
    """
    if activation == "tanh":
        return 1.0 - h * h
    return xp.astype(h > 0, h.dtype)


def forward(layers, inputs, activation, xp):
    """Output of an MLP with a linear last layer, and the input of every layer.

    Parameters
    ----------
    layers : list of (coef, intercept)
        ``coef`` of shape (fan_in, fan_out), ``intercept`` of shape (fan_out,).
    inputs : array of shape (n_rows, n_inputs)
        Rows to propagate.
    activation : {"tanh", "relu"}
        Activation of the hidden layers.
    xp : namespace
        Array namespace of ``inputs`` and ``layers``.

    Returns
    -------
    output : array of shape (n_rows, n_outputs)
        The last layer's affine output.
    layer_inputs : list of arrays
        The input of each layer, kept for :func:`backward`.
    """
    layer_inputs = [inputs]
    h = inputs
    for coef, intercept in layers[:-1]:
        h = activate(h @ coef + intercept, activation, xp)
        layer_inputs.append(h)
    coef, intercept = layers[-1]
    return h @ coef + intercept, layer_inputs


def backward(layers, layer_inputs, d_output, activation, xp):
    """Gradients of a scalar loss with respect to every layer and to the input.

    The chain rule written out layer by layer: ``d_output`` is the gradient
    of the loss with respect to the MLP's output and ``layer_inputs`` what
    :func:`forward` returned.

    Returns
    -------
    gradients : list of (d_coef, d_intercept)
        In the order of ``layers``.
    d_inputs : array of shape (n_rows, n_inputs)
        Gradient with respect to the MLP's input rows.
    """
    gradients = [None] * len(layers)
    delta = d_output
    for index in range(len(layers) - 1, -1, -1):
        coef, _ = layers[index]
        h_in = layer_inputs[index]
        gradients[index] = (h_in.T @ delta, xp.sum(delta, axis=0))
        delta = delta @ coef.T
        if index > 0:
            delta = delta * activation_derivative(h_in, activation, xp)
    return gradients, delta


def glorot_uniform_layers(rng, widths, xp, device, dtype):
    """Glorot-uniform weights and zero intercepts for layers of ``widths``.

    The initialisation of scikit-learn's MLPs, which keeps the activations'
    variance about constant through the layers. ``rng`` is a NumPy Generator:
    the draws are made on the host so that every array namespace gets the
    same weights for the same seed.
    """
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        layers.append(
            (
                asarray(coef, xp=xp, device=device, dtype=dtype),
                xp.zeros((fan_out,), dtype=dtype, device=device),
            )
        )
    return layers


class AdamOptimizer:
    """Adam [1]_ over a list of arrays; the arrays passed in are not modified.

    Parameters
    ----------
    params : list of arrays
        The parameters, for the shapes of the moment estimates.
    xp : namespace
        Array namespace of the parameters.
    beta_1, beta_2, epsilon : float
        Decay rates of the first and second moment estimates, and the
        constant that keeps the step finite where the second moment is 0
        (the paper's defaults).

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic
       Optimization", ICLR 2015.
    """

    def __init__(self, params, xp, *, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.first = [xp.zeros_like(p) for p in params]
        self.second = [xp.zeros_like(p) for p in params]
        self.n_steps = 0
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.xp = xp

    def step(self, params, gradients, learning_rate):
        """New parameters after one step against ``gradients``."""
        self.n_steps += 1
        beta_1, beta_2 = self.beta_1, self.beta_2
        # the bias corrections of both moments folded into the step size
        correction = math.sqrt(1.0 - beta_2**self.n_steps) / (
            1.0 - beta_1**self.n_steps
        )
        new_params = []
        for index, (p, g) in enumerate(zip(params, gradients)):
            m = beta_1 * self.first[index] + (1.0 - beta_1) * g
            v = beta_2 * self.second[index] + (1.0 - beta_2) * (g * g)
            self.first[index], self.second[index] = m, v
            new_params.append(
                p - (learning_rate * correction) * m / (self.xp.sqrt(v) + self.epsilon)
            )
        return new_params


class PlateauSchedule:
    """Step size divided on each plateau of a score; stop at the last plateau.

    A plateau is ``patience`` updates without an improvement of more than
    ``tol`` over the best score so far. Smaller steps average out the
    minibatch noise that keeps the score fluctuating around its trend, so the
    step size is divided by ``factor`` at each of the first ``n_decays``
    plateaus, and ``stopped`` becomes True at the next one.
    """

    def __init__(self, learning_rate, tol, patience, *, n_decays=2, factor=10.0):
        self.learning_rate, self.tol, self.patience = learning_rate, tol, patience
        self.max_decays, self.factor = n_decays, factor
        self.best, self.n_bad, self.n_decays, self.stopped = None, 0, 0, False

    def update(self, score):
        """Record one score (higher is better); True when the step size changed."""
        if self.best is None or score > self.best + self.tol:
            self.n_bad = 0
        else:
            self.n_bad += 1
        if self.best is None or score > self.best:
            self.best = score
        if self.n_bad < self.patience:
            return False
        if self.n_decays == self.max_decays:
            self.stopped = True
            return False
        self.learning_rate /= self.factor
        self.n_decays, self.n_bad = self.n_decays + 1, 0
        return True

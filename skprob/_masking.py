"""Expectation-matched inputs for masked-input pretraining (masked LM as dropout)."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils._set_output import _wrap_data_with_container
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import (
    asarray,
    check_same_namespace,
    get_namespace_and_device,
    is_non_numpy_array,
)
from ._validation import _numpy_generator, check_prior

__all__ = ["masked_embedding_expectation", "MaskingConsistentEncoder"]

_PROBABILITY = Interval(Real, 0, 1, closed="both")


def _check_replacement_probabilities(p_mask, p_random):
    if p_mask + p_random > 1.0 + 1e-12:
        raise ValueError(
            "p_mask + p_random is the probability that a selected input is "
            f"replaced, so it must be at most 1; got {p_mask} + {p_random} = "
            f"{p_mask + p_random}."
        )


def _column_magnitudes(X, xp):
    """Largest absolute value per column, 1 for columns of zeros."""
    magnitude = xp.max(xp.abs(X), axis=0)
    return xp.where(magnitude > 0, magnitude, xp.ones_like(magnitude))


def _column_means(X, xp):
    """Column means of finite ``X`` without overflow.

    A sum of large finite values overflows (four rows of 1e308); the mean of
    the columns divided by their largest magnitude cannot, and multiplying
    back is exact when all values are equal.
    """
    magnitude = _column_magnitudes(X, xp)
    return xp.mean(X / magnitude, axis=0) * magnitude


def _keep_weight(p_select, p_mask, p_random):
    return 1.0 - p_select * (p_mask + p_random)


@validate_params(
    {
        "E": ["array-like"],
        "mask_index": [Integral],
        "p_select": [_PROBABILITY],
        "p_mask": [_PROBABILITY],
        "p_random": [_PROBABILITY],
        "token_frequencies": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def masked_embedding_expectation(
    E, mask_index, *, p_select=0.15, p_mask=0.8, p_random=0.1, token_frequencies=None
):
    """Embedding matrix whose rows are the inputs' expectations under masking.

    Masked-language-model pretraining corrupts each input token at random:
    it is selected with probability ``p_select``; a selected token's embedding
    is replaced by the mask token's with probability ``p_mask``, by a random
    token's with probability ``p_random``, and kept otherwise. At fine-tuning no
    token is replaced, so the network sees inputs whose expectation differs
    from the one it was trained on, exactly as with dropout whose weights are
    not rescaled at test time. Feeding ``masked_embedding_expectation(E, ...)``
    instead of ``E`` at fine-tuning restores the training-time expectation.

    Read more in the :ref:`User Guide <masking_expectation>`.

    Parameters
    ----------
    E : array-like of shape (vocab_size, embedding_dim)
        Input embedding matrix (one row per token, the mask token included).
    mask_index : int
        Row of ``E`` holding the mask token's embedding.
    p_select : float in [0, 1], default=0.15
        Probability that a token is selected for corruption.
    p_mask : float in [0, 1], default=0.8
        Probability that a selected token is replaced by the mask token.
    p_random : float in [0, 1], default=0.1
        Probability that a selected token is replaced by a random token;
        ``p_mask + p_random <= 1`` and the rest of the selected tokens are kept.
    token_frequencies : array-like of shape (vocab_size,), default=None
        Distribution the random replacement token is drawn from. By default
        uniform over all ``vocab_size`` rows, as BERT's implementation draws it.

    Returns
    -------
    E_expected : ndarray of shape (vocab_size, embedding_dim)
        ``E_expected[t]`` is the expected input embedding when the original token
        is ``t``; a new array in the namespace, device and floating dtype of
        ``E``.

    Notes
    -----
    Let ``e_t`` be the embedding of the original token ``t``, ``e_M`` that of the
    mask token and ``r`` the random replacement token, ``P(r = j) = pi_j``. The
    input is a random vector ``e~`` with

    - ``e~ = e_M`` with probability ``p_select * p_mask``,
    - ``e~ = e_r`` with probability ``p_select * p_random``,
    - ``e~ = e_t`` with probability ``1 - p_select + p_select (1 - p_mask - p_random)``.

    By the law of total expectation, with ``E[e_r] = sum_j pi_j e_j = e_bar``,

    ``E[e~ | t] = (1 - p_select (p_mask + p_random)) e_t
    + p_select p_mask e_M + p_select p_random e_bar``,

    an affine map applied to every row: ``E_expected = a E + 1 b^T`` with
    ``a = 1 - p_select (p_mask + p_random)`` and
    ``b = p_select (p_mask e_M + p_random e_bar)``. With ``p_select = 0`` it is the
    identity. The first layer after the embedding is linear, so its
    pre-activations have the same expectation at fine-tuning as in pretraining
    (the weight-scaling argument for dropout); deeper, non-linear layers only
    match approximately, as with dropout.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import masked_embedding_expectation
    >>> E = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # last row: [MASK]
    >>> masked_embedding_expectation(E, mask_index=2, p_select=0.5, p_mask=0.5,
    ...                              p_random=0.0)
    array([[0.75, 0.  ],
           [0.  , 0.75],
           [0.  , 0.  ]])
    """
    _check_replacement_probabilities(p_mask, p_random)
    if isinstance(mask_index, bool):
        # NumPy booleans are not Integral and fail the parameter check; Python's
        # are, but a boolean is no row index either (E[True] adds an axis)
        raise TypeError(
            f"mask_index must be an integer row index of E, got the boolean "
            f"{mask_index!r}."
        )
    if not is_non_numpy_array(E):
        E = np.asarray(E)
        if E.dtype.kind not in "iuf":
            raise TypeError(f"E must be numeric, got dtype {E.dtype}.")
    if E.ndim != 2:
        raise ValueError(f"E must be 2-D (vocab_size, embedding_dim), got {E.ndim}-D.")
    xp, _, dev = get_namespace_and_device(E)
    dtype = E.dtype if E.dtype in (xp.float32, xp.float64) else xp.float64
    E = xp.astype(E, dtype)
    if not bool(xp.all(xp.isfinite(E))):
        raise ValueError("E contains NaN or infinite values.")
    vocab_size = E.shape[0]
    if not -vocab_size <= mask_index < vocab_size:
        raise ValueError(
            f"mask_index={mask_index} is not a row of E (vocab_size={vocab_size})."
        )
    if token_frequencies is None:
        mean_embedding = _column_means(E, xp)
    else:
        frequencies = check_prior(
            token_frequencies, vocab_size, name="token_frequencies"
        )
        frequencies = asarray(frequencies, xp=xp, device=dev, dtype=dtype)
        magnitude = _column_magnitudes(E, xp)
        mean_embedding = (frequencies @ (E / magnitude)) * magnitude
    shift = p_select * (p_mask * E[mask_index, :] + p_random * mean_embedding)
    return _keep_weight(p_select, p_mask, p_random) * E + shift[None, :]


class MaskingConsistentEncoder(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Expectation-matched features for models pretrained on masked tabular data.

    The tabular counterpart of :func:`masked_embedding_expectation`. Masked
    pretraining on a table (as in VIME) corrupts each cell independently:
    selected with probability ``p_select``, a selected cell is set to
    ``mask_value`` with probability ``p_mask``, replaced by the same column's
    value in a random row with probability ``p_random``, and kept otherwise.
    :meth:`mask` draws that corruption (for pretraining); :meth:`transform`
    returns its expectation given the clean cell,

    ``(1 - p_select (p_mask + p_random)) x + p_select p_mask mask_value
    + p_select p_random mean``,

    with ``mean`` the column means learned at :meth:`fit` (the expectation of a
    random value of the column). Feeding ``transform(X)`` to the pretrained
    model at fine-tuning or prediction time gives its first (linear) layer the
    pre-activations it saw in expectation during pretraining; see
    :func:`masked_embedding_expectation` for the derivation.

    Read more in the :ref:`User Guide <masking_expectation>`.

    Parameters
    ----------
    p_select : float in [0, 1], default=0.15
        Probability that a cell is selected for corruption.
    p_mask : float in [0, 1], default=0.8
        Probability that a selected cell is set to ``mask_value``.
    p_random : float in [0, 1], default=0.1
        Probability that a selected cell takes the value of its column in a
        uniformly drawn row; ``p_mask + p_random <= 1``.
    mask_value : float, default=0.0
        Value written into masked cells. Must be finite: :meth:`transform`
        averages it into every cell, so NaN or infinity would leave no usable
        expectation (NaN is rejected rather than read as "missing").

    Attributes
    ----------
    means_ : ndarray of shape (n_features,)
        Column means of the training data.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    masked_embedding_expectation : The same expectation for token embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from skprob import MaskingConsistentEncoder
    >>> X = np.array([[0.0, 2.0], [2.0, 4.0]])
    >>> enc = MaskingConsistentEncoder(p_select=0.5, p_mask=0.5, p_random=0.5)
    >>> enc.fit_transform(X)
    array([[0.25, 1.75],
           [1.25, 2.75]])
    >>> enc.mask(X, random_state=0).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "p_select": [_PROBABILITY],
        "p_mask": [_PROBABILITY],
        "p_random": [_PROBABILITY],
        # NaN would make every expectation NaN and inf every masked one infinite
        "mask_value": [Interval(Real, None, None, closed="neither")],
    }

    def __init__(self, *, p_select=0.15, p_mask=0.8, p_random=0.1, mask_value=0.0):
        self.p_select = p_select
        self.p_mask = p_mask
        self.p_random = p_random
        self.mask_value = mask_value

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the column means that random replacements average to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        _check_replacement_probabilities(self.p_mask, self.p_random)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        xp, _, _ = get_namespace_and_device(X)
        self.means_ = _column_means(X, xp)
        return self

    def _validate(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="means_", method=method)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        xp, _, _ = get_namespace_and_device(X)
        return X, xp

    def transform(self, X):
        """Expected value of each cell under the masking process.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean data.

        Returns
        -------
        X_expected : ndarray of shape (n_samples, n_features)
            ``a X + b`` with ``a = 1 - p_select (p_mask + p_random)`` and
            ``b = p_select (p_mask mask_value + p_random means_)``.
        """
        X, xp = self._validate(X, "transform")
        means = xp.astype(self.means_, X.dtype)
        shift = self.p_select * (self.p_mask * self.mask_value + self.p_random * means)
        return _keep_weight(self.p_select, self.p_mask, self.p_random) * X + shift

    def mask(self, X, random_state=None):
        """Draw one masked copy of ``X`` (the pretraining corruption).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean data; not modified.
        random_state : int, RandomState instance, Generator or None, default=None
            Seed of the draws. ``None`` draws from NumPy's global random state,
            as :func:`sklearn.utils.check_random_state` does, so
            ``np.random.seed`` makes the draws reproducible.

            .. versionchanged:: 0.1
               ``None`` follows ``np.random.seed`` (it drew fresh entropy).

        Returns
        -------
        X_masked : ndarray or DataFrame of shape (n_samples, n_features)
            Each cell kept, set to ``mask_value``, or replaced by the value of
            its column in a uniformly drawn row of ``X``. Follows
            :meth:`set_output` like :meth:`transform`.
        """
        original = X
        X, xp = self._validate(X, "mask")
        dev = get_namespace_and_device(X)[2]
        if random_state is None:
            # the global RandomState, as check_random_state gives: np.random.seed
            # then makes the draws reproducible
            random_state = check_random_state(None)
        rng = _numpy_generator(random_state)
        n_samples, n_features = X.shape
        selected = rng.random((n_samples, n_features)) < self.p_select
        action = rng.random((n_samples, n_features))
        masked = selected & (action < self.p_mask)
        replaced = selected & ~masked & (action < self.p_mask + self.p_random)
        # Flat indices of a random row in the same column, so one take serves
        # every cell.
        donor_rows = rng.integers(0, n_samples, size=(n_samples, n_features))
        donors = donor_rows * n_features + np.arange(n_features)[None, :]
        flat = xp.reshape(X, (n_samples * n_features,))
        donor_values = xp.reshape(
            xp.take(flat, asarray(donors.ravel(), xp=xp, device=dev, dtype=xp.int64)),
            (n_samples, n_features),
        )
        masked = asarray(masked, xp=xp, device=dev)
        replaced = asarray(replaced, xp=xp, device=dev)
        fill = xp.full_like(X, self.mask_value)
        X_masked = xp.where(masked, fill, xp.where(replaced, donor_values, X))
        # mask is not one of the methods set_output wraps automatically
        return _wrap_data_with_container("transform", X_masked, original, self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

"""Tests for masked_embedding_expectation and MaskingConsistentEncoder."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from array_api_helpers import (
    NAMESPACE_DTYPES,
    assert_in_namespace,
    check_namespace_matches_numpy,
    load_namespace,
    nondefault_device,
    rtol_for,
    to_namespace,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context

from skprob._backend import to_numpy
from skprob._masking import MaskingConsistentEncoder, masked_embedding_expectation

N_DRAWS = 10**6


def _simulate_masked_inputs(
    token, n_draws, vocab_size, mask_index, p_select, p_mask, p_random, frequencies, rng
):
    """Token index actually fed to the network, drawn the way BERT's data
    collator does it: select, then mask / random / keep."""
    selected = rng.random(n_draws) < p_select
    action = rng.random(n_draws)
    random_tokens = rng.choice(vocab_size, size=n_draws, p=frequencies)
    fed = np.full(n_draws, token)
    fed = np.where(selected & (action < p_mask), mask_index, fed)
    is_random = selected & (action >= p_mask) & (action < p_mask + p_random)
    return np.where(is_random, random_tokens, fed)


@pytest.mark.parametrize(
    "p_select, p_mask, p_random, frequencies",
    [
        (0.15, 0.8, 0.1, None),
        (0.4, 0.5, 0.3, [0.05, 0.1, 0.4, 0.2, 0.15, 0.1]),
        (1.0, 0.0, 1.0, [0.3, 0.0, 0.2, 0.2, 0.2, 0.1]),
    ],
)
def test_expectation_matches_monte_carlo(p_select, p_mask, p_random, frequencies):
    rng = np.random.default_rng(0)
    vocab_size, mask_index = 6, 5
    E = rng.standard_normal((vocab_size, 3))
    expected = masked_embedding_expectation(
        E,
        mask_index,
        p_select=p_select,
        p_mask=p_mask,
        p_random=p_random,
        token_frequencies=frequencies,
    )
    probs = np.full(vocab_size, 1 / vocab_size) if frequencies is None else frequencies
    for token in range(vocab_size):
        fed = _simulate_masked_inputs(
            token,
            N_DRAWS,
            vocab_size,
            mask_index,
            p_select,
            p_mask,
            p_random,
            probs,
            rng,
        )
        # The mean and spread of E[fed] over 10^6 draws, from the counts of
        # each fed token (the same numbers as averaging the 10^6 rows).
        share = np.bincount(fed, minlength=vocab_size) / N_DRAWS
        mc_mean = share @ E
        mc_std = np.sqrt(share @ (E - mc_mean) ** 2)
        standard_error = mc_std / np.sqrt(N_DRAWS)
        deviation = np.abs(expected[token] - mc_mean)
        assert np.all(deviation <= 4 * standard_error + 1e-12), (token, deviation)


def test_hand_computed_example():
    # Two tokens and a mask row; p_select=0.2, p_mask=0.5, p_random=0.25,
    # random tokens drawn with frequencies (0.5, 0.5, 0):
    # a = 1 - 0.2 * 0.75 = 0.85, e_bar = (1, 1), b = 0.2 * (0.5 e_M + 0.25 e_bar)
    E = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, 3.0]])
    result = masked_embedding_expectation(
        E,
        2,
        p_select=0.2,
        p_mask=0.5,
        p_random=0.25,
        token_frequencies=[0.5, 0.5, 0.0],
    )
    b = 0.2 * (0.5 * np.array([-1.0, 3.0]) + 0.25 * np.array([1.0, 1.0]))
    assert_allclose(result, 0.85 * E + b, rtol=1e-15)
    assert_allclose(result[0], [1.65, 0.35], rtol=1e-14)


def test_identity_when_nothing_is_selected():
    E = np.random.default_rng(1).standard_normal((7, 4))
    assert_array_equal(masked_embedding_expectation(E, 3, p_select=0.0), E)


def test_keep_only_process_is_identity_and_input_is_not_modified():
    E = np.random.default_rng(2).standard_normal((5, 2))
    E_copy = E.copy()
    # selected tokens are always kept: nothing changes in expectation
    result = masked_embedding_expectation(E, -1, p_select=0.7, p_mask=0.0, p_random=0.0)
    assert_allclose(result, E, rtol=1e-15)
    assert result is not E
    assert_array_equal(E, E_copy)


def test_float32_preserved_and_int_promoted():
    E32 = np.eye(3, dtype=np.float32)
    assert masked_embedding_expectation(E32, 0).dtype == np.float32
    assert masked_embedding_expectation(np.eye(3, dtype=int), 0).dtype == np.float64
    assert masked_embedding_expectation([[1, 2], [3, 4]], 1).shape == (2, 2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"p_mask": 0.8, "p_random": 0.3}, ValueError, "p_mask \\+ p_random"),
        ({"p_select": 1.5}, ValueError, "p_select"),
        ({"mask_index": 3}, ValueError, "mask_index=3 is not a row"),
        ({"mask_index": -4}, ValueError, "not a row"),
        ({"token_frequencies": [0.5, 0.6, -0.1]}, ValueError, "non-negative"),
        ({"token_frequencies": [0.5, 0.5]}, ValueError, "shape \\(3,\\)"),
        ({"token_frequencies": [0.5, 0.4, 0.0]}, ValueError, "sum to 1"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    kwargs = {"mask_index": 0, **kwargs}
    with pytest.raises(error, match=match):
        masked_embedding_expectation(np.eye(3), **kwargs)


def test_bad_embedding_matrix():
    with pytest.raises(ValueError, match="2-D"):
        masked_embedding_expectation(np.ones(3), 0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        masked_embedding_expectation(np.array([[np.nan, 1.0], [0.0, 1.0]]), 0)
    with pytest.raises(TypeError, match="numeric"):
        masked_embedding_expectation(np.array([["a", "b"]]), 0)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_expectation_array_api(namespace, dtype_name):
    xp = load_namespace(namespace)
    E = np.random.default_rng(3).standard_normal((6, 3)).astype(dtype_name)
    freqs = [0.1, 0.2, 0.3, 0.1, 0.2, 0.1]
    reference = masked_embedding_expectation(E, 5, token_frequencies=freqs)
    E_xp = to_namespace(xp, E)
    with config_context(array_api_dispatch=True):
        result = masked_embedding_expectation(E_xp, 5, token_frequencies=freqs)
    assert_in_namespace(result, xp, dtype_name)
    assert_allclose(to_numpy(result), reference, rtol=rtol_for(dtype_name))


# ------------------------------------------------------------------ encoder


def test_encoder_matches_closed_form_and_function():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 3)) + [1.0, -2.0, 5.0]
    enc = MaskingConsistentEncoder(
        p_select=0.3, p_mask=0.6, p_random=0.3, mask_value=-1.0
    )
    result = enc.fit(X).transform(X[:5])
    # Each cell: kept w.p. 1 - 0.3 * 0.9, set to -1 w.p. 0.18, replaced by a
    # random value of its column (mean X.mean(0)) w.p. 0.09.
    expected = 0.73 * X[:5] + 0.18 * -1.0 + 0.09 * X.mean(axis=0)
    assert_allclose(result, expected, rtol=1e-14)
    # A column is a vocabulary of its training values: the embedding view
    # (rows = training values plus the mask value) gives the same numbers.
    for j in range(3):
        vocab = np.r_[X[:, j], -1.0][:, None]
        freqs = np.r_[np.full(50, 1 / 50), 0.0]
        E_exp = masked_embedding_expectation(
            vocab, 50, p_select=0.3, p_mask=0.6, p_random=0.3, token_frequencies=freqs
        )
        assert_allclose(result[:, j], E_exp[:5, 0], rtol=1e-12)


def test_encoder_mask_monte_carlo_matches_transform():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 2)) * [1.0, 3.0]
    enc = MaskingConsistentEncoder(
        p_select=0.5, p_mask=0.4, p_random=0.4, mask_value=2.0
    )
    enc.fit(X)
    n_rep = 5000  # 5000 masked copies x 80 cells = 4e5 draws
    draws = np.stack([enc.mask(X, random_state=seed) for seed in range(n_rep)])
    mc_mean = draws.mean(axis=0)
    se = draws.std(axis=0) / np.sqrt(n_rep)
    expected = enc.transform(X)
    z = np.abs(mc_mean - expected) / se
    assert np.max(z) < 4.5  # 80 cells: the largest of 80 |N(0,1)| stays below 4.5
    # the corruption frequencies themselves (binomial standard errors)
    masked_share = np.mean(draws == 2.0)
    assert abs(masked_share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / draws.size)
    kept_share = np.mean(draws == X[None])
    # kept: not selected (0.5), or selected and kept (0.5 * 0.2), or replaced
    # by itself (0.5 * 0.4 / 40)
    p_kept = 0.5 + 0.5 * 0.2 + 0.5 * 0.4 / 40
    assert abs(kept_share - p_kept) < 4 * np.sqrt(p_kept * (1 - p_kept) / draws.size)


def test_encoder_identity_and_input_unchanged():
    X = np.arange(12.0).reshape(4, 3)
    X_copy = X.copy()
    enc = MaskingConsistentEncoder(p_select=0.0).fit(X)
    assert_array_equal(enc.transform(X), X)
    assert_array_equal(enc.mask(X, random_state=0), X)
    enc = MaskingConsistentEncoder(p_select=0.9).fit(X)
    enc.transform(X)
    enc.mask(X, random_state=0)
    assert_array_equal(X, X_copy)


def test_encoder_errors():
    X = np.ones((5, 2))
    with pytest.raises(ValueError, match="p_mask \\+ p_random"):
        MaskingConsistentEncoder(p_mask=0.9, p_random=0.2).fit(X)
    enc = MaskingConsistentEncoder().fit(X)
    with pytest.raises(ValueError, match="features"):
        enc.transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        enc.transform(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_encoder_array_api(namespace, dtype_name):
    X = np.random.default_rng(6).standard_normal((30, 4))
    enc = MaskingConsistentEncoder(p_select=0.3)
    fitted = check_namespace_matches_numpy(
        enc,
        X,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("transform",),
        attributes=("means_",),
    )
    xp = load_namespace(namespace)
    X_np = X.astype(dtype_name)
    with config_context(array_api_dispatch=True):
        X_xp = to_namespace(xp, X_np, device=nondefault_device(xp))
        masked = fitted.mask(X_xp, random_state=0)
    assert_in_namespace(masked, xp, dtype_name)
    reference = enc.fit(X_np).mask(X_np, random_state=0)
    assert_array_equal(to_numpy(masked), reference)


@pytest.mark.parametrize("mask_value", [np.nan, np.inf, -np.inf])
def test_non_finite_mask_value_is_rejected(mask_value):
    # NaN made transform return NaN everywhere
    X = np.random.default_rng(7).standard_normal((10, 3))
    with pytest.raises(ValueError, match="mask_value"):
        MaskingConsistentEncoder(mask_value=mask_value).fit(X)


def test_mask_follows_set_output():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        rng.standard_normal((20, 3)), columns=["a", "b", "c"], index=range(100, 120)
    )
    enc = MaskingConsistentEncoder(p_select=0.5).set_output(transform="pandas")
    enc.fit(frame)
    masked = enc.mask(frame, random_state=0)
    assert isinstance(masked, pd.DataFrame)
    assert list(masked.columns) == ["a", "b", "c"]
    assert list(masked.index) == list(frame.index)
    plain = MaskingConsistentEncoder(p_select=0.5).fit(frame.to_numpy())
    assert_array_equal(masked.to_numpy(), plain.mask(frame.to_numpy(), random_state=0))
    # every cell is kept, the mask value, or a value of the same column
    values = frame.to_numpy()
    for j in range(3):
        column = masked.iloc[:, j].to_numpy()
        assert np.all(np.isin(column, np.append(values[:, j], 0.0)))


@pytest.mark.parametrize("mask_index", [True, False, np.True_, np.False_])
def test_boolean_mask_index_is_refused_whatever_its_type(mask_index):
    # One rule for Python and NumPy booleans: a boolean is no row index
    # (E[True] silently added an axis and returned shape (1, 1, 3, 3)).
    with pytest.raises(TypeError, match="mask_index"):
        masked_embedding_expectation(np.eye(3), mask_index)


def test_column_means_do_not_overflow():
    # The sum of four rows of 1e308 overflows; the mean is exactly 1e308.
    E = np.full((4, 2), 1e308)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        expected = masked_embedding_expectation(E, 0)
        encoded = MaskingConsistentEncoder().fit_transform(E)
        weighted = masked_embedding_expectation(E, 0, token_frequencies=[0.25] * 4)
    # the map is affine with weights summing to 1: constant columns are fixed
    assert_array_equal(expected, E)
    assert_array_equal(weighted, E)
    # mask_value=0 takes the weight p_select p_mask away
    assert_allclose(encoded, (1 - 0.15 * 0.8) * E, rtol=1e-15)
    assert_array_equal(MaskingConsistentEncoder().fit(E).means_, [1e308, 1e308])
    mixed = np.array([[1e308, -3.0], [-1e308, 5.0], [5e307, 1.0]])
    assert_allclose(
        MaskingConsistentEncoder().fit(mixed).means_,
        [5e307 / 3, 1.0],
        rtol=1e-15,
    )


def test_mask_follows_the_global_random_state():
    # random_state=None follows check_random_state: np.random.seed(0) makes
    # the draws reproducible, as for scikit-learn's estimators.
    X = np.arange(40.0).reshape(10, 4)
    enc = MaskingConsistentEncoder(p_select=0.5).fit(X)
    np.random.seed(0)
    first = enc.mask(X)
    np.random.seed(0)
    second = enc.mask(X)
    assert_array_equal(first, second)
    assert not np.array_equal(first, enc.mask(X))

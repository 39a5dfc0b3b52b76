"""Tests for EntropyNormalizer and entropy_normalize."""

# SPDX-License-Identifier: BSD-3-Clause

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
from scipy.optimize import brentq
from scipy.special import softmax
from scipy.stats import entropy as scipy_entropy
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_estimator

from skprob import EntropyNormalizer, entropy_normalize
from skprob._backend import to_numpy


def _messy_rows(n_rows, n_classes, seed):
    """Dirichlet rows with random exact zeros and ties at and below the maximum."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n_classes, 0.5), size=n_rows)
    P[rng.uniform(size=P.shape) < 0.2] = 0.0
    P[np.arange(n_rows), rng.integers(n_classes, size=n_rows)] += 0.01
    # ties: copy one entry onto another in a third of the rows (at the maximum
    # in half of those)
    rows = rng.choice(n_rows, size=n_rows // 3, replace=False)
    src = np.where(
        rng.uniform(size=rows.size) < 0.5,
        P[rows].argmax(1),
        rng.integers(n_classes, size=rows.size),
    )
    dst = (src + 1 + rng.integers(n_classes - 1, size=rows.size)) % n_classes
    P[rows, dst] = P[rows, src]
    return P / P.sum(axis=1, keepdims=True)


def _reachable(P):
    """(log #ties at the maximum, log #non-zero) of every row, in nats."""
    n_ties = (P == P.max(axis=1, keepdims=True)).sum(axis=1)
    return np.log(n_ties), np.log((P > 0).sum(axis=1))


@pytest.mark.parametrize("target", [0.3, 1.2, 2.0, 2.6])
def test_target_reached_on_messy_rows(target):
    P = _messy_rows(10_000, 20, seed=0)
    Q, gamma = entropy_normalize(P, target, return_gamma=True)
    low, high = _reachable(P)
    inside = (low < target) & (target < high)
    assert inside.sum() > 1000
    H = scipy_entropy(Q, axis=1)
    assert np.max(np.abs(H[inside] - target)) <= 1e-10
    # out of range: uniform over the support, or over the tied maxima
    support = P > 0
    too_high = target >= high
    assert_allclose(
        Q[too_high], support[too_high] / support[too_high].sum(1)[:, None], atol=1e-15
    )
    assert np.all(gamma[too_high] == 0.0)
    ties = P == P.max(axis=1, keepdims=True)
    too_low = target <= low
    assert_allclose(Q[too_low], ties[too_low] / ties[too_low].sum(1)[:, None], atol=0)
    assert np.all(np.isinf(gamma[too_low]))
    # zeros stay zero, rows sum to 1, the input is a power of the output
    assert np.all(Q[~support] == 0.0)
    assert_allclose(Q.sum(axis=1), 1.0, atol=1e-14)


def test_agrees_with_brentq_per_row():
    P = _messy_rows(120, 12, seed=1)
    target = 1.4
    low, high = _reachable(P)
    keep = (low < target) & (target < high)
    P = P[keep]
    Q, gamma = entropy_normalize(P, target, tol=1e-13, return_gamma=True)

    def h(g, row):
        support = row > 0
        return scipy_entropy(softmax(g * np.log(row[support]))) - target

    for row, q, g in zip(P, Q, gamma):
        expected = brentq(h, 0.0, 1e4, args=(row,), xtol=1e-15, rtol=1e-15)
        assert_allclose(g, expected, rtol=1e-9)
        q_ref = np.zeros_like(row)
        q_ref[row > 0] = softmax(expected * np.log(row[row > 0]))
        assert_allclose(q, q_ref, rtol=0, atol=1e-9)


def test_gamma_is_one_when_target_is_the_row_entropy():
    # permutations of one row share its entropy: the fitted "mean" target is
    # exactly that entropy, so nothing may change
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(15))
    P = np.array([rng.permutation(p) for _ in range(50)])
    normalizer = EntropyNormalizer().fit(P)
    assert_allclose(normalizer.target_entropy_, scipy_entropy(p), rtol=1e-13)
    assert_allclose(normalizer.row_exponents(P), 1.0, rtol=0, atol=1e-12)
    assert_allclose(normalizer.transform(P), P, rtol=1e-12, atol=1e-15)
    Q, gamma = entropy_normalize(P, scipy_entropy(p), return_gamma=True)
    assert np.all(gamma == 1.0)


def test_order_preserved_and_zeros_kept():
    P = _messy_rows(2000, 10, seed=3)
    Q, gamma = entropy_normalize(P, 1.0, return_gamma=True)
    strict = (gamma > 0) & np.isfinite(gamma)
    greater = P[:, :, None] > P[:, None, :]
    equal = P[:, :, None] == P[:, None, :]
    # strict wherever the smaller entry has not underflowed to 0 (large g)
    resolved = greater & strict[:, None, None] & (Q[:, None, :] > 0)
    assert resolved.sum() > 10_000
    assert np.all((Q[:, :, None] > Q[:, None, :])[resolved])
    assert np.all((Q[:, :, None] == Q[:, None, :])[equal])
    assert np.all((Q[:, :, None] >= Q[:, None, :])[greater])
    assert np.all(Q[P == 0] == 0.0)


def test_uniform_and_one_hot_rows():
    P = np.array([[0.25, 0.25, 0.25, 0.25], [0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0]])
    for target in (0.0, 0.5, math.log(4)):
        Q, gamma = entropy_normalize(P, target, return_gamma=True)
        assert_array_equal(Q, P)
        assert_array_equal(gamma, 1.0)


def test_clipping_at_both_ends():
    p = np.array([[0.4, 0.4, 0.15, 0.05, 0.0]])
    Q, gamma = entropy_normalize(p, 0.5 * math.log(2), return_gamma=True)
    assert_array_equal(Q, [[0.5, 0.5, 0.0, 0.0, 0.0]])
    assert gamma[0] == np.inf
    Q, gamma = entropy_normalize(p, math.log(5), return_gamma=True)
    assert_allclose(Q, [[0.25, 0.25, 0.25, 0.25, 0.0]], atol=1e-16)
    assert gamma[0] == 0.0


def test_logits_input_extreme_values():
    rng = np.random.default_rng(4)
    Z = rng.normal(scale=1e4, size=(500, 30))
    Z[:5] = rng.normal(size=(5, 30))  # a few ordinary rows in the same batch
    target = 1.0
    Q, gamma = entropy_normalize(Z, target, input="logits", return_gamma=True)
    assert np.all(np.isfinite(Q)) and np.all(np.isfinite(gamma))
    assert np.max(np.abs(scipy_entropy(Q, axis=1) - target)) <= 1e-10
    assert_allclose(Q, softmax(gamma[:, None] * Z, axis=1), rtol=1e-9, atol=1e-15)


def test_near_one_hot_rows():
    eps = np.array([1e-300, 1e-200, 1e-100, 1e-30, 1e-15])
    P = np.column_stack([1.0 - 4 * eps, eps, eps, eps, eps])
    Q = entropy_normalize(P, 1.0)
    assert np.max(np.abs(scipy_entropy(Q, axis=1) - 1.0)) <= 1e-10
    assert np.all(Q[:, 0] > Q[:, 1])


def test_base_two_is_bits():
    P = _messy_rows(500, 8, seed=5)
    Q = entropy_normalize(P, 1.5, base=2)
    low, high = _reachable(P)
    inside = (low < 1.5 * math.log(2)) & (1.5 * math.log(2) < high)
    assert_allclose(scipy_entropy(Q[inside], base=2, axis=1), 1.5, rtol=0, atol=1e-10)
    normalizer = EntropyNormalizer(target_entropy="mean", base=2).fit(P)
    assert_allclose(
        normalizer.target_entropy_,
        np.mean(scipy_entropy(P, base=2, axis=1)),
        rtol=1e-13,
    )


def test_mean_target_learned_at_fit():
    P_train = _messy_rows(400, 6, seed=6)
    P_test = _messy_rows(300, 6, seed=7)
    normalizer = EntropyNormalizer().fit(P_train)
    expected = np.mean(scipy_entropy(P_train, axis=1))
    assert_allclose(normalizer.target_entropy_, expected, rtol=1e-13)
    Q = normalizer.transform(P_test)
    low, high = _reachable(P_test)
    inside = (low < expected) & (expected < high)
    assert_allclose(scipy_entropy(Q[inside], axis=1), expected, rtol=0, atol=1e-10)
    Z = np.log(P_train + 1e-3)
    logits = EntropyNormalizer(input="logits").fit(Z)
    assert_allclose(
        logits.target_entropy_,
        np.mean(scipy_entropy(softmax(Z, axis=1), axis=1)),
        rtol=1e-12,
    )


def test_float32():
    P = _messy_rows(3000, 20, seed=8)
    Q32, gamma32 = entropy_normalize(P.astype(np.float32), 1.5, return_gamma=True)
    assert Q32.dtype == np.float32 and gamma32.dtype == np.float32
    low, high = _reachable(P.astype(np.float32))
    inside = (low < 1.5) & (1.5 < high)
    H = scipy_entropy(Q32.astype(np.float64), axis=1)
    assert np.max(np.abs(H[inside] - 1.5)) <= 2e-5
    Q64 = entropy_normalize(P, 1.5)
    assert_allclose(Q32, Q64, rtol=0, atol=1e-4)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize("input", ["proba", "logits"])
def test_array_api(namespace, dtype_name, input):
    P = _messy_rows(200, 7, seed=9)
    X = P if input == "proba" else np.log(P + 0.01)
    atol = 1e-5 if dtype_name == "float32" else 1e-12
    check_namespace_matches_numpy(
        EntropyNormalizer(input=input),
        X,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("transform", "row_exponents"),
        rtol=1e-4 if dtype_name == "float32" else 1e-9,
        atol=atol,
    )
    xp = load_namespace(namespace)
    with config_context(array_api_dispatch=True):
        Q = entropy_normalize(xp.asarray(X.astype(dtype_name)), 1.0, input=input)
    assert_in_namespace(Q, xp, dtype_name)
    assert_allclose(
        to_numpy(Q),
        entropy_normalize(X.astype(dtype_name), 1.0, input=input),
        atol=atol,
    )


def test_bad_input():
    good = np.array([[0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match="negative"):
        entropy_normalize(np.array([[-0.1, 0.6, 0.5]]), 0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        entropy_normalize(np.array([[0.2, 0.3, 0.6]]), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        entropy_normalize(np.array([[np.nan, 0.5, 0.5]]), 0.5)
    with pytest.raises(ValueError, match="target_entropy"):
        entropy_normalize(good, -0.1)
    with pytest.raises(ValueError, match=r"target_entropy must lie in \[0, log"):
        entropy_normalize(good, math.log(3) + 1e-6)
    with pytest.raises(ValueError, match=r"target_entropy must lie in \[0, log"):
        entropy_normalize(good, 1.6, base=2)
    with pytest.raises(ValueError, match=r"target_entropy must lie in \[0, log"):
        EntropyNormalizer(target_entropy=2.0).fit(good)
    with pytest.raises(ValueError, match="Negative values in data"):
        EntropyNormalizer().fit(np.array([[-0.1, 0.6, 0.5]]))
    with pytest.raises(ValueError, match="sum to 1"):
        EntropyNormalizer(target_entropy=0.5).fit(good).transform(good * 1.1)
    with pytest.raises(ValueError, match="input"):
        entropy_normalize(good, 0.5, input="scores")


def test_renormalize_option():
    P = _messy_rows(100, 5, seed=10)
    scaled = P * np.random.default_rng(11).uniform(0.5, 2.0, size=(100, 1))
    assert_allclose(
        entropy_normalize(scaled, 0.9, renormalize=True),
        entropy_normalize(P, 0.9),
        atol=1e-14,
    )


def test_input_not_modified():
    P = _messy_rows(100, 5, seed=12)
    original = P.copy()
    entropy_normalize(P, 0.9)
    EntropyNormalizer().fit(P).transform(P)
    entropy_normalize(np.log(P + 0.1), 0.9, input="logits")
    assert_array_equal(P, original)


def test_max_iter_warns():
    P = _messy_rows(100, 5, seed=13)
    with pytest.warns(ConvergenceWarning, match="did not reach the target"):
        entropy_normalize(P, 0.9, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy_normalize(P, 0.9)


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    P = _messy_rows(50, 4, seed=14)
    frame = pd.DataFrame(P, columns=["cat", "dog", "bird", "fish"])
    normalizer = EntropyNormalizer().set_output(transform="pandas").fit(frame)
    out = normalizer.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["cat", "dog", "bird", "fish"]
    assert list(normalizer.get_feature_names_out()) == ["cat", "dog", "bird", "fish"]
    assert_allclose(out.to_numpy(), EntropyNormalizer().fit(P).transform(P))


def test_input_tags():
    assert EntropyNormalizer().__sklearn_tags__().input_tags.positive_only
    logits_tags = EntropyNormalizer(input="logits").__sklearn_tags__()
    assert not logits_tags.input_tags.positive_only


def test_logits_of_1e300_learn_a_target_in_range():
    # Issue example: the learned target was -3.3e299. By hand, the rows' entropies
    # are log 2 (two tied maxima), 0 (one maximum 2e300 above the rest) and
    # log 3 (uniform).
    X = np.array([[1e300, 1e300, -1e300], [1e300, -1e300, 0.0], [0.0, 0.0, 0.0]])
    normalizer = EntropyNormalizer(input="logits").fit(X)
    assert_allclose(normalizer.target_entropy_, (math.log(2) + math.log(3)) / 3)
    huge = np.array([[1.7e308, -1.7e308, 0.0], [-1.7e308, 0.0, 0.0]])
    normalizer = EntropyNormalizer(input="logits", base=2).fit(huge)
    assert_allclose(normalizer.target_entropy_, 0.5, rtol=1e-12)
    Q = normalizer.transform(huge)
    # the first row reaches 0.5 bits; the second cannot go below its two ties
    assert_allclose(scipy_entropy(Q[0], base=2), 0.5, atol=1e-9)
    assert_allclose(Q[1], [0.0, 0.5, 0.5], atol=1e-12)


@pytest.mark.parametrize(
    "params", [{}, {"target_entropy": 0.0}, {"input": "logits", "target_entropy": 0.0}]
)
def test_one_column_error_names_n_features(params):
    with pytest.raises(ValueError, match="n_features = 1"):
        EntropyNormalizer(**params).fit(np.ones((4, 1)))


def test_negative_input_message_follows_scikit_learn():
    P = np.array([[0.2, 0.3, 0.5]])
    normalizer = EntropyNormalizer().fit(P)
    negative = np.array([[-0.1, 0.6, 0.5]])
    for method in (normalizer.fit, normalizer.transform, normalizer.row_exponents):
        with pytest.raises(ValueError, match="Negative values in data passed to"):
            method(negative)


# check_estimator(EntropyNormalizer()) feeds random non-negative data, which the
# default input="proba", renormalize=False rejects because its rows do not sum
# to 1; every other check passes.
_NOT_PROBABILITY_ROWS = "random non-negative rows do not sum to 1"
EXPECTED_FAILURES_DEFAULT = {
    name: _NOT_PROBABILITY_ROWS
    for name in (
        "check_array_api_input",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_readonly_memmap_input",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        # fit takes sample_weight: the weight checks fit on the same random rows
        "check_all_zero_sample_weights_error",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weights_list",
        "check_sample_weights_not_an_array",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_pandas_series",
        "check_sample_weights_shape",
    )
}
_ALWAYS = {
    "check_transformer_n_iter": (
        "max_iter bounds the per-row iterations of transform; fit does not iterate"
    ),
    # runs only with SCIPY_ARRAY_API=1 and array_api_strict installed
    "check_array_api_same_namespace": (
        "fit stores only a Python float target, so there is no fitted namespace "
        "for transform to match and every namespace is accepted"
    ),
}
EXPECTED_FAILURES = {
    "default": {**EXPECTED_FAILURES_DEFAULT, **_ALWAYS},
    "renormalize": {
        name: "integer data has all-zero rows, not distributions"
        for name in (
            "check_estimators_dtypes",
            "check_sample_weights_not_an_array",
            "check_sample_weights_pandas_series",
        )
    }
    | _ALWAYS,
    "logits": _ALWAYS,
}
PARAMS = {
    "default": {},
    "renormalize": {"renormalize": True},
    "logits": {"input": "logits"},
}


@pytest.mark.parametrize("name", list(PARAMS))
def test_check_estimator_failures_are_exactly_the_documented_ones(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            EntropyNormalizer(**PARAMS[name]),
            on_fail=None,
            expected_failed_checks=EXPECTED_FAILURES[name],
        )
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    expected_but_passed = {
        r["check_name"]
        for r in results
        if r["check_name"] in EXPECTED_FAILURES[name]
        and r["status"] not in ("xfail", "skipped")
    }
    assert not failed
    assert not expected_but_passed


def test_dask_input_gives_lazy_dask_output_for_every_row_method():
    # The rule for EntropyNormalizer: a dask array in, a lazy dask array out,
    # computed block by block (transform and row_exponents alike).
    da = pytest.importorskip("dask.array")
    P = _messy_rows(200, 5, seed=15)
    normalizer = EntropyNormalizer().fit(P)
    lazy = da.from_array(P, chunks=(50, 5))
    for method in ("transform", "row_exponents"):
        out = getattr(normalizer, method)(lazy)
        assert isinstance(out, da.Array), method
        assert_allclose(out.compute(), getattr(normalizer, method)(P), rtol=1e-12)


def test_docstring_points_to_the_benchmark_instead_of_quoting_figures():
    # "2.6 times one softmax pass" in the docstring disagreed with RESULTS.md.
    doc = entropy_normalize.__doc__
    assert "times one" not in doc
    assert "benchmarks/RESULTS.md" in doc


def test_huge_logits_reach_the_target_like_their_scaled_down_copy():
    # q = softmax(g z) depends on g z only: logits times 1e300 give the same rows,
    # with exponents 1e300 times smaller (they overflowed the solver's cubes).
    Z = np.random.default_rng(16).normal(size=(40, 6))
    Q, gamma = entropy_normalize(Z, 0.9, input="logits", return_gamma=True)
    for factor in (1e150, 1e300):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Q_big, gamma_big = entropy_normalize(
                Z * factor, 0.9, input="logits", return_gamma=True
            )
        assert_allclose(Q_big, Q, rtol=0, atol=1e-10)
        assert_allclose(gamma_big * factor, gamma, rtol=1e-9)
    mixed = np.vstack([Z[:3], Z[3:6] * 1e300])
    assert_allclose(
        EntropyNormalizer(input="logits", target_entropy=0.9)
        .fit(mixed)
        .transform(mixed),
        np.vstack([Q[:3], Q[3:6]]),
        atol=1e-10,
    )


def test_logits_of_1e308_are_warning_free():
    # Differences of finite logits overflow to -inf (probability 0): a right
    # result, so no RuntimeWarning. Hand values: rescaled by 1e308 the first
    # row is [0, -2, -1]; the second has two ties and one impossible class.
    X = np.array([[1e308, -1e308, 0.0], [1e308, 1e308, -1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Q = entropy_normalize(X, 0.5, input="logits")
        h = EntropyNormalizer(input="logits").fit(X).target_entropy_
    assert_allclose(scipy_entropy(Q[0]), 0.5, atol=1e-9)
    gamma = -np.log(Q[0, 2] / Q[0, 0])
    assert_allclose(Q[0], softmax(gamma * np.array([0.0, -2.0, -1.0])), atol=1e-12)
    assert_array_equal(Q[1], [0.5, 0.5, 0.0])
    # entropies of the rows as given: 0 (one maximum) and log 2 (two ties)
    assert_allclose(h, math.log(2) / 2, rtol=1e-12)


@pytest.mark.parametrize("factor", [1e300, 1e150, 1e-150, 1e-300])
def test_scaled_logits_reach_the_same_distribution(factor):
    # softmax(g c a) runs over the same family as softmax(g a): the row with
    # a given entropy does not depend on c. Tiny logits (1e-300) gave the
    # uniform row, whose entropy is log 3, not the target.
    S = np.array([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1], [1.0, 1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Q = entropy_normalize(S * factor, 0.5, input="logits")
    assert_allclose(scipy_entropy(Q[:2], axis=1), 0.5, atol=1e-9)
    # each row stays in the family: log-ratios proportional to the logits
    for row, q in zip(S[:2], Q[:2]):
        g = np.log(q[0] / q[1]) / (row[0] - row[1])
        assert_allclose(q, softmax(g * row), rtol=1e-9)
    assert_allclose(Q[2], np.full(3, 1 / 3), rtol=1e-15)

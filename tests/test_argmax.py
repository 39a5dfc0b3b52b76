"""Tests for argmax_probabilities and ArgmaxProbabilityTransformer."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
from array_api_helpers import (
    NAMESPACE_DTYPES,
    assert_in_namespace,
    check_namespace_matches_numpy,
    load_namespace,
    rtol_for,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.integrate import quad
from scipy.special import softmax
from sklearn import config_context
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skprob import ArgmaxProbabilityTransformer, argmax_probabilities
from skprob._backend import to_numpy

NAMED = ["gumbel", "gaussian", "logistic", "uniform", "exponential"]

# Standard noise distributions the named options stand for, used to draw the
# Monte Carlo references.
SAMPLERS = {
    "gumbel": stats.gumbel_r(),
    "gaussian": stats.norm(),
    "logistic": stats.logistic(),
    "uniform": stats.uniform(),
    "exponential": stats.expon(),
}


@pytest.fixture
def scores():
    return np.random.default_rng(0).normal(scale=2.0, size=(50, 5))


def test_gumbel_is_softmax(scores):
    assert_allclose(
        argmax_probabilities(scores, "gumbel"),
        softmax(scores, axis=1),
        rtol=0,
        atol=1e-12,
    )
    assert_allclose(
        argmax_probabilities(scores, "gumbel", scale=0.3),
        softmax(scores / 0.3, axis=1),
        rtol=0,
        atol=1e-12,
    )


def test_frozen_gumbel_quadrature_matches_softmax(scores):
    # the generic tanh-sinh rule knows nothing about the closed form
    assert_allclose(
        argmax_probabilities(scores, stats.gumbel_r()),
        softmax(scores, axis=1),
        rtol=0,
        atol=1e-9,
    )


def test_gaussian_binary_closed_form():
    d = np.random.default_rng(1).normal(scale=5.0, size=200)
    expected = stats.norm.cdf(d / np.sqrt(2.0))
    two_columns = np.stack([np.zeros_like(d), d], axis=1)
    for proba in (
        argmax_probabilities(two_columns, "gaussian"),
        argmax_probabilities(d, "gaussian"),
    ):
        assert_allclose(proba[:, 1], expected, rtol=0, atol=1e-12)
        assert_allclose(proba[:, 0], 1.0 - expected, rtol=0, atol=1e-12)
    scaled = argmax_probabilities(d, "gaussian", scale=3.0)
    assert_allclose(scaled[:, 1], stats.norm.cdf(d / (3.0 * np.sqrt(2.0))), atol=1e-12)


def test_gaussian_quadrature_binary_through_hopeless_third_class():
    # A third class 1000 noise units below cannot win, so Gauss-Hermite on three
    # classes must reproduce the binary closed form.
    d = np.random.default_rng(2).normal(scale=5.0, size=200)
    scores = np.stack([np.zeros_like(d), d, np.full_like(d, -1e3)], axis=1)
    proba = argmax_probabilities(scores, "gaussian")
    assert_allclose(proba[:, 1], stats.norm.cdf(d / np.sqrt(2.0)), rtol=0, atol=1e-12)
    assert_allclose(proba[:, 0], stats.norm.cdf(-d / np.sqrt(2.0)), rtol=0, atol=1e-12)
    assert np.all(proba[:, 2] == 0.0)


def test_gaussian_three_classes_bivariate_normal_orthant():
    # p_i = P(e_i - e_j > mu_j - mu_i for both j): a bivariate normal CDF with
    # covariance [[2, 1], [1, 2]], evaluated by SciPy's Genz algorithm.
    scores = np.random.default_rng(3).normal(scale=2.0, size=(15, 3))
    mvn = stats.multivariate_normal(
        cov=[[2.0, 1.0], [1.0, 2.0]], abseps=1e-12, releps=1e-12
    )
    expected = np.array(
        [
            [mvn.cdf([row[i] - row[j] for j in range(3) if j != i]) for i in range(3)]
            for row in scores
        ]
    )
    assert_allclose(
        argmax_probabilities(scores, "gaussian"), expected, rtol=0, atol=1e-10
    )


def test_frozen_norm_matches_gauss_hermite(scores):
    assert_allclose(
        argmax_probabilities(scores, stats.norm()),
        argmax_probabilities(scores, "gaussian"),
        rtol=0,
        atol=1e-10,
    )


def test_frozen_distribution_scale_and_loc():
    # loc cancels in the differences; the noise scale multiplies the frozen scale
    scores = np.random.default_rng(4).normal(size=(10, 4))
    assert_allclose(
        argmax_probabilities(scores, stats.logistic(loc=3.0, scale=2.0)),
        argmax_probabilities(scores, "logistic", scale=2.0),
        rtol=0,
        atol=1e-9,
    )


@pytest.mark.parametrize("noise", NAMED + ["student-t"])
def test_monte_carlo_agreement(noise):
    rng = np.random.default_rng(5)
    n_draws = 1_000_000
    rows = np.array([[1.0, 0.4, 0.0, -0.7], [0.2, 0.25, -0.1, 0.0]])
    if noise == "student-t":
        sampler = noise = stats.t(df=3)
    else:
        sampler = SAMPLERS[noise]
    proba = argmax_probabilities(rows, noise)
    for row, p in zip(rows, proba):
        draws = sampler.rvs(size=(n_draws, rows.shape[1]), random_state=rng)
        counts = np.bincount(np.argmax(row + draws, axis=1), minlength=rows.shape[1])
        frequency = counts / n_draws
        standard_error = np.sqrt(p * (1.0 - p) / n_draws)
        assert np.all(np.abs(frequency - p) <= 4.0 * standard_error + 1e-15), (
            noise,
            frequency,
            p,
        )


def test_uniform_exact_piecewise_polynomial():
    # mu = (0.5, 0, 0) with U(0, 1) noise: the winner probability of class 0 is
    # int_0^1 min(1, e + 0.5)^2 de = 1/2 + int_0^{1/2} (e + 1/2)^2 de = 1/2 + 7/24.
    proba = argmax_probabilities(np.array([[0.5, 0.0, 0.0]]), "uniform")
    expected0 = 0.5 + 7.0 / 24.0
    assert_allclose(
        proba[0],
        [expected0, (1 - expected0) / 2, (1 - expected0) / 2],
        rtol=0,
        atol=1e-14,
    )
    # a class more than one width below the maximum can never win
    assert argmax_probabilities(np.array([[2.0, 0.5, 0.9]]), "uniform")[0, 1] == 0.0


def test_exponential_closed_form_two_classes():
    # Exp(1) noise, mu = (d, 0), d > 0: P(class 1) = P(e1 - e0 > d) = exp(-d) / 2.
    d = np.array([0.1, 1.0, 3.0, 20.0])
    proba = argmax_probabilities(np.stack([d, np.zeros_like(d)], 1), "exponential")
    assert_allclose(proba[:, 1], np.exp(-d) / 2, rtol=1e-12)


@pytest.mark.parametrize("noise", NAMED)
def test_rows_sum_to_one_and_order_preserved(noise, scores):
    proba = argmax_probabilities(scores, noise)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    order = np.argsort(scores, axis=1)
    sorted_proba = np.take_along_axis(proba, order, axis=1)
    assert np.all(np.diff(sorted_proba, axis=1) >= 0)
    if noise != "uniform":  # uniform gives exact zeros to every hopeless class
        assert_array_equal(np.argsort(proba, axis=1), order)


@pytest.mark.parametrize("noise", NAMED)
def test_ties_give_equal_probabilities(noise):
    proba = argmax_probabilities(np.array([[0.3, 1.0, 0.3, -0.2, 1.0]]), noise)
    assert proba[0, 0] == proba[0, 2]
    assert proba[0, 1] == proba[0, 4]


@pytest.mark.parametrize("noise", NAMED)
def test_translation_invariance(noise, scores):
    shift = np.random.default_rng(6).uniform(-100, 100, size=(scores.shape[0], 1))
    assert_allclose(
        argmax_probabilities(scores + shift, noise),
        argmax_probabilities(scores, noise),
        rtol=1e-9,
        atol=1e-12,
    )


def test_thousand_classes_gaussian_against_scipy_quad():
    # One class 2 units above 999 equal ones: p_top = int phi(e) Phi(e + 2)^999 de.
    scores = np.zeros((1, 1000))
    scores[0, 7] = 2.0
    expected_top = quad(
        lambda e: stats.norm.pdf(e) * stats.norm.cdf(e + 2.0) ** 999,
        -np.inf,
        np.inf,
        epsabs=1e-13,
        epsrel=1e-12,
    )[0]
    proba = argmax_probabilities(scores, "gaussian")
    assert_allclose(proba[0, 7], expected_top, rtol=1e-11)
    assert_allclose(np.delete(proba[0], 7), (1 - expected_top) / 999, rtol=1e-11)


@pytest.mark.parametrize(
    "noise, n_classes", [("gaussian", 300), ("logistic", 300), ("exponential", 1000)]
)
def test_extreme_scores_many_classes(noise, n_classes):
    # Two tied leaders at +1e3 and the other classes spread over [-1e3, 0]: the
    # leaders share the mass equally (symmetry); nothing overflows or is NaN.
    rng = np.random.default_rng(7)
    scores = rng.uniform(-1e3, 0.0, size=(1, n_classes))
    scores[:, 10] = scores[:, 100] = 1e3
    proba = argmax_probabilities(scores, noise)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba[:, [10, 100]], 0.5, rtol=0, atol=1e-12)


def test_float32_preserved(scores):
    for noise in NAMED:
        proba = argmax_probabilities(scores.astype(np.float32), noise)
        assert proba.dtype == np.float32
        assert_allclose(proba, argmax_probabilities(scores, noise), rtol=0, atol=2e-5)


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
@pytest.mark.parametrize("noise", NAMED)
def test_array_api_function(namespace, dtype_name, noise, scores):
    xp = load_namespace(namespace)
    scores_xp = xp.asarray(scores.astype(dtype_name))
    with config_context(array_api_dispatch=True):
        proba = argmax_probabilities(scores_xp, noise)
    assert_in_namespace(proba, xp, dtype_name)
    assert_allclose(
        to_numpy(proba),
        argmax_probabilities(scores.astype(dtype_name), noise),
        rtol=rtol_for(dtype_name),
        atol=1e-6 if dtype_name == "float32" else 1e-12,
    )


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_array_api_transformer(namespace, dtype_name, scores):
    check_namespace_matches_numpy(
        ArgmaxProbabilityTransformer(noise="gaussian"),
        scores,
        namespace=namespace,
        dtype_name=dtype_name,
        methods=("transform",),
        atol=1e-6 if dtype_name == "float32" else 1e-12,
    )


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        argmax_probabilities(np.array([[0.0, np.nan]]), "gaussian")
    with pytest.raises(ValueError, match="infinity|inf"):
        argmax_probabilities(np.array([[0.0, np.inf]]), "gaussian")
    with pytest.raises(ValueError, match="noise"):
        argmax_probabilities(np.zeros((2, 3)), "cauchy")
    with pytest.raises(TypeError, match="continuous"):
        argmax_probabilities(np.zeros((2, 3)), stats.poisson(3.0))
    with pytest.raises(ValueError, match="scale"):
        argmax_probabilities(np.zeros((2, 3)), "gaussian", scale=0.0)
    with pytest.raises(ValueError, match="n_nodes"):
        argmax_probabilities(np.zeros((2, 3)), "gaussian", n_nodes=1)
    with pytest.raises(ValueError, match="3"):
        argmax_probabilities(np.zeros((2, 3, 4)), "gaussian")


def test_input_not_modified(scores):
    original = scores.copy()
    for noise in NAMED:
        argmax_probabilities(scores, noise)
    assert_array_equal(scores, original)


def test_transformer_matches_function_and_binary_column(scores):
    transformer = ArgmaxProbabilityTransformer(noise="logistic", scale=0.5)
    assert_allclose(
        transformer.fit_transform(scores),
        argmax_probabilities(scores, "logistic", scale=0.5),
        rtol=0,
        atol=0,
    )
    margins = scores[:, :1]
    binary = ArgmaxProbabilityTransformer(noise="gaussian").fit(margins)
    assert_allclose(
        binary.transform(margins)[:, 1],
        stats.norm.cdf(margins[:, 0] / np.sqrt(2.0)),
        atol=1e-12,
    )
    assert list(binary.get_feature_names_out()) == ["x0_0", "x0_1"]


def test_transformer_in_pipeline_with_pandas_output(scores):
    pd = pytest.importorskip("pandas")
    pipe = make_pipeline(
        FunctionTransformer(lambda s: 2.0 * s), ArgmaxProbabilityTransformer()
    ).set_output(transform="pandas")
    out = pipe.fit_transform(pd.DataFrame(scores, columns=list("abcde")))
    assert isinstance(out, pd.DataFrame)
    assert out.shape == scores.shape
    assert_allclose(out.to_numpy(), softmax(2.0 * scores, axis=1), atol=1e-12)


def test_transformer_rejects_discrete_noise(scores):
    with pytest.raises(TypeError, match="continuous"):
        ArgmaxProbabilityTransformer(noise=stats.poisson(2.0)).fit(scores)


def _quad_probabilities(row, dist):
    """Independent reference: p_i by adaptive quadrature of the textbook integral."""
    lower, upper = np.clip(dist.support(), -40.0, 40.0)
    out = np.empty(row.size)
    for i in range(row.size):
        d = row[i] - np.delete(row, i)
        out[i] = quad(
            lambda e: np.exp(dist.logpdf(e) + dist.logcdf(e + d).sum()),
            lower,
            upper,
            points=[dist.median()],
            epsabs=1e-15,
            epsrel=1e-13,
            limit=500,
        )[0]
    return out


@pytest.mark.parametrize("noise", ["gaussian", "logistic"])
@pytest.mark.parametrize("n_classes", [4, 12, 40])
@pytest.mark.parametrize("spread", [0.3, 2.0, 10.0])
def test_many_classes_against_quad(noise, n_classes, spread):
    # Near ties (0.3) put the maximum's density in the upper tail, wide spreads
    # (10) leave most classes far below it: the two ends of the default rule.
    row = spread * np.random.default_rng(n_classes).standard_normal(n_classes)
    expected = _quad_probabilities(row, SAMPLERS[noise])
    assert_allclose(
        argmax_probabilities(row[None, :], noise)[0], expected, rtol=0, atol=1e-13
    )


class _CountingNorm:
    """A frozen standard normal that counts the points its log-CDF is asked for."""

    def __init__(self):
        self._frozen = stats.norm()
        self.dist = self._frozen.dist
        self.points = 0

    def logcdf(self, x):
        self.points += np.size(x)
        return self._frozen.logcdf(x)

    def __getattr__(self, name):
        return getattr(self._frozen, name)


def test_cost_is_linear_in_the_number_of_classes():
    # One log-CDF per class and node: O(K n_nodes) per row, not O(K^2 n_nodes).
    n_rows, n_classes, n_nodes = 3, 60, 65
    scores = np.random.default_rng(8).normal(size=(n_rows, n_classes))
    noise = _CountingNorm()
    proba = argmax_probabilities(scores, noise, n_nodes=n_nodes)
    assert noise.points == n_rows * n_classes * n_nodes
    assert_allclose(proba, argmax_probabilities(scores, "gaussian"), atol=1e-10)


def test_too_few_nodes_are_rejected():
    # Issue example: 2 nodes gave 0.25 for every class of [2, 1, 0, -1].
    scores = np.array([[2.0, 1.0, 0.0, -1.0]])
    for n_nodes in (2, 4, 8, 16):
        with pytest.raises(ValueError, match="n_nodes=.* too few.* at least 17"):
            argmax_probabilities(scores, "gaussian", n_nodes=n_nodes)
        with pytest.raises(ValueError, match="at least 17"):
            argmax_probabilities(scores, "logistic", n_nodes=n_nodes)
        with pytest.raises(ValueError, match="at least 17"):
            ArgmaxProbabilityTransformer(noise="gaussian", n_nodes=n_nodes).fit(scores)
    # the exact rules need ceil(K / 2) nodes
    ten = np.zeros((1, 10))
    for noise in ("uniform", "exponential"):
        with pytest.raises(ValueError, match="at least 5"):
            argmax_probabilities(ten, noise, n_nodes=4)
        argmax_probabilities(ten, noise, n_nodes=5)


def test_few_nodes_warn_with_a_gap_above_the_true_error():
    # Issue example; truth [0.7253, 0.2223, 0.0464, 0.0060] by adaptive quadrature
    # (SciPy's multivariate normal CDF is randomised quasi-Monte Carlo, so its
    # last digits move between runs).
    scores = np.array([[2.0, 1.0, 0.0, -1.0]])
    expected = _quad_probabilities(scores[0], stats.norm())
    assert_allclose(expected, [0.7253, 0.2223, 0.0464, 0.0060], atol=1e-4)
    with pytest.warns(UserWarning, match="differs by .* on every other node") as w:
        proba = argmax_probabilities(scores, "gaussian", n_nodes=17)
    gap = float(str(w[0].message).split("differs by ")[1].split(" ")[0])
    error = np.abs(proba[0] - expected).max()
    assert 1e-6 < error <= gap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        accurate = argmax_probabilities(scores, "gaussian", n_nodes=49)
    assert_allclose(accurate[0], expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("noise", NAMED)
def test_single_column_is_a_binary_score_everywhere(noise):
    # An (n, 1) array means the same as a 1-D one: the score of class 1 against
    # class 0, in the function and in the transformer.
    margins = np.random.default_rng(9).normal(scale=2.0, size=(30, 1))
    two_columns = np.hstack([np.zeros_like(margins), margins])
    expected = argmax_probabilities(two_columns, noise)
    assert argmax_probabilities(margins, noise).shape == (30, 2)
    assert_allclose(argmax_probabilities(margins, noise), expected, rtol=0, atol=0)
    assert_allclose(argmax_probabilities(margins[:, 0], noise), expected, atol=0)
    transformed = ArgmaxProbabilityTransformer(noise=noise).fit_transform(margins)
    assert_allclose(transformed, expected, rtol=0, atol=0)
    if noise == "gaussian":
        closed_form = stats.norm.cdf(margins[:, 0] / np.sqrt(2.0))
        assert_allclose(transformed[:, 1], closed_form, atol=1e-12)


def test_output_columns_named_after_the_score_columns():
    pd = pytest.importorskip("pandas")
    scores = pd.DataFrame(
        np.random.default_rng(10).normal(size=(5, 3)), columns=["cat", "dog", "eel"]
    )
    transformer = ArgmaxProbabilityTransformer().set_output(transform="pandas")
    out = transformer.fit_transform(scores)
    assert list(out.columns) == ["cat", "dog", "eel"]
    assert_allclose(out.to_numpy(), softmax(scores.to_numpy(), axis=1), atol=1e-12)
    margin = pd.DataFrame({"margin": [0.0, 1.0]})
    out = transformer.fit_transform(margin)
    assert list(out.columns) == ["margin_0", "margin_1"]
    assert_allclose(out["margin_1"], softmax([[0.0, 0.0], [0.0, 1.0]], axis=1)[:, 1])


def test_noise_names_come_from_one_registry():
    # Adding a noise is one entry of _RULES: the accepted names, the default node
    # counts and the node floors are all read from it.
    from skprob import _argmax

    assert set(_argmax._NOISES) == set(_argmax._RULES) - {"frozen"}
    for name in _argmax._NOISES:
        rule = _argmax._RULES[name]
        assert _argmax._resolve_noise(name) is rule
        ArgmaxProbabilityTransformer(noise=name).fit(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="noise"):
        ArgmaxProbabilityTransformer(noise="frozen").fit(np.zeros((2, 3)))


def test_frozen_distributions_with_a_bounded_support():
    # Left end only (exponential, gamma): the shared grid; the exact
    # Gauss-Legendre rule for exponential noise is the reference.
    scores = np.random.default_rng(11).normal(scale=0.5, size=(20, 6))
    assert_allclose(
        argmax_probabilities(scores, stats.expon()),
        argmax_probabilities(scores, "exponential"),
        rtol=0,
        atol=1e-13,
    )
    # A right end (uniform, beta): the density drops to 0 there, so the rule
    # runs between the kinks, and matches the exact piecewise-polynomial rule.
    assert_allclose(
        argmax_probabilities(scores, stats.uniform()),
        argmax_probabilities(scores, "uniform"),
        rtol=0,
        atol=1e-13,
    )
    row = scores[0]
    expected = _quad_probabilities(row, stats.beta(2.0, 2.0))
    assert_allclose(
        argmax_probabilities(row[None, :], stats.beta(2.0, 2.0))[0],
        expected,
        atol=1e-6,
    )


@pytest.mark.parametrize("noise", NAMED + ["student-t", "beta"])
def test_row_and_node_blocks_do_not_change_the_result(noise, monkeypatch):
    # Tiny blocks split both the rows and the nodes; the answer must not move.
    from skprob import _argmax

    noise = {"student-t": stats.t(df=3), "beta": stats.beta(2.0, 2.0)}.get(noise, noise)
    scores = np.random.default_rng(12).normal(size=(30, 7))
    whole = argmax_probabilities(scores, noise)
    given = argmax_probabilities(scores, noise, n_nodes=129)
    monkeypatch.setattr(_argmax, "_BLOCK_NUMPY", 256)
    assert_allclose(argmax_probabilities(scores, noise), whole, rtol=1e-14, atol=0)
    assert_allclose(
        argmax_probabilities(scores, noise, n_nodes=129), given, rtol=1e-14, atol=0
    )


def _support_quad(row, dist):
    """Reference p_i: adaptive quadrature over the support, split at every kink.

    The integrand ``f(e) prod_j F(e + mu_i - mu_j)`` has kinks where some
    ``e + mu_i - mu_j`` crosses an end of the support; each piece is smooth.
    """
    lower, upper = dist.support()
    out = np.empty(row.size)
    for i in range(row.size):
        d = row[i] - np.delete(row, i)
        cuts = np.concatenate([[dist.median()], upper - d, lower - d])
        edges = np.concatenate(
            [[lower], np.unique(cuts[(cuts > lower) & (cuts < upper)]), [upper]]
        )
        out[i] = sum(
            quad(
                lambda e: np.exp(dist.logpdf(e) + dist.logcdf(e + d).sum()),
                a,
                b,
                epsabs=1e-15,
                epsrel=1e-13,
                limit=500,
            )[0]
            for a, b in zip(edges[:-1], edges[1:])
        )
    return out


JUMP_AT_LEFT_END = {
    "halfnorm": stats.halfnorm(),
    "truncnorm at 0": stats.truncnorm(0.0, np.inf),
    "pareto": stats.pareto(3.0),
    "gamma(0.5), infinite at 0": stats.gamma(0.5),
}
BOTH_ENDS = {
    "uniform": stats.uniform(),
    "beta(2, 2)": stats.beta(2.0, 2.0),
    "truncnorm(-1, 2)": stats.truncnorm(-1.0, 2.0),
    "weibull_max, right end only": stats.weibull_max(2.0),
}


@pytest.mark.parametrize(
    "dist",
    {**JUMP_AT_LEFT_END, **BOTH_ENDS}.values(),
    ids=[*JUMP_AT_LEFT_END, *BOTH_ENDS],
)
def test_densities_with_ends_against_quad(dist):
    # The density jumps (or is infinite) at an end of the support: near ties,
    # moderate and wide spreads, against adaptive quadrature split at the kinks.
    rng = np.random.default_rng(13)
    rows = np.array([rng.normal(scale=s, size=5) for s in (0.2, 1.0, 3.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = argmax_probabilities(rows, dist)
    expected = np.array([_support_quad(row, dist) for row in rows])
    assert_allclose(proba, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "dist", [stats.halfnorm(), stats.foldnorm(1.0)], ids=["halfnorm", "foldnorm"]
)
def test_jump_at_the_left_end_against_monte_carlo(dist):
    # The reported case: [[0.5, 0]] with half-normal noise gave [[0, 1]].
    n_draws = 400_000
    noise = dist.rvs(size=(n_draws, 2), random_state=14)
    wins = np.mean(np.argmax(np.array([0.5, 0.0]) + noise, axis=1) == 0)
    proba = argmax_probabilities(np.array([[0.5, 0.0]]), dist)
    # five standard errors of the Monte Carlo mean
    tolerance = 5 * np.sqrt(wins * (1 - wins) / n_draws)
    assert abs(proba[0, 0] - wins) < tolerance
    assert_allclose(proba.sum(), 1.0, atol=1e-15)


@pytest.mark.parametrize("dist", JUMP_AT_LEFT_END.values(), ids=list(JUMP_AT_LEFT_END))
def test_tied_scores_with_a_jump_at_the_left_end(dist):
    # Ties: the node of every class starts at the jump; NaN was returned.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = argmax_probabilities(np.zeros((2, 3)), dist)
    assert_allclose(proba, np.full((2, 3), 1 / 3), rtol=0, atol=1e-15)


def test_kink_inside_the_support_warns_with_a_gap_above_the_error():
    # Laplace's density has a kink at 0 (inside the support): the rule
    # converges slowly there, and says so with a gap above its error.
    row = np.array([0.1, 0.5, -0.3])
    expected = _support_quad(row, stats.laplace())
    with pytest.warns(UserWarning, match="not smooth inside its support") as record:
        proba = argmax_probabilities(row[None, :], stats.laplace())
    assert record[0].filename == __file__
    gap = float(str(record[0].message).split("differs by ")[1].split(" ")[0])
    error = np.abs(proba[0] - expected).max()
    assert error <= gap
    finer = argmax_probabilities(row[None, :], stats.laplace(), n_nodes=1025)
    assert np.abs(finer[0] - expected).max() < error / 10


def test_uniform_noise_memory_is_bounded_by_the_block():
    # Every node block used to be kept until the end: 3.7 GiB for one row of
    # 1000 classes. The running sum holds one block at a time.
    tracemalloc = pytest.importorskip("tracemalloc")
    n_classes = 300
    scores = np.random.default_rng(15).normal(scale=0.1, size=(1, n_classes))
    tracemalloc.start()
    try:
        proba = argmax_probabilities(scores, "uniform")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # keeping every block would take n_classes^2 * n_nodes float64 entries
    kept_everything = n_classes**2 * (n_classes // 2) * 8
    assert peak < 16 * 2**20 < kept_everything / 4
    assert_allclose(proba.sum(), 1.0, atol=1e-12)
    assert np.all(np.diff(proba[0][np.argsort(scores[0])]) >= -1e-15)


def test_work_that_cannot_fit_is_refused_before_it_starts(monkeypatch):
    from skprob import _argmax

    monkeypatch.setattr(_argmax, "_MAX_ROW_NODE_ENTRIES", 50)
    for noise in ("uniform", stats.uniform()):
        with pytest.raises(ValueError, match="temporaries of 60 entries per row"):
            argmax_probabilities(np.zeros((1, 60)), noise)


@pytest.mark.parametrize("noise", NAMED + [stats.t(df=3), stats.uniform()])
def test_scores_of_1e308_give_the_limit_without_warnings(noise):
    # Differences of finite scores overflow: the far classes get exactly 0,
    # tied maxima share, and no RuntimeWarning says otherwise.
    scores = np.array([[1e308, -1e308, 0.0], [-1e308, 1e308, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = argmax_probabilities(scores, noise)
        tiny_scale = argmax_probabilities(np.array([[1.0, 0.0]]), noise, scale=1e-310)
    assert_allclose(proba, [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], rtol=0, atol=1e-15)
    assert_array_equal(tiny_scale, [[1.0, 0.0]])

"""Bad and extreme inputs for every public name: a right answer or a clear error.

Each case feeds NaN, infinity, huge (1e300) or tiny (1e-300) values, an empty,
wrongly shaped or non-numeric array, and checks either the answer against a
reference computed another way (closed form, SciPy, a property such as scale
invariance) or an error whose message names the problem. NumPy's
RuntimeWarnings are errors here: on a right answer they are noise, and before
an error they hide its message.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math
from typing import Callable, NamedTuple, Optional

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.optimize import brentq
from scipy.special import softmax
from scipy.stats import entropy as scipy_entropy
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skprob import (
    AccuracyOptimizedLinear,
    AnalyticLogisticRegression,
    ArgmaxProbabilityTransformer,
    CANCalibrator,
    EntropyNormalizer,
    MaskingConsistentEncoder,
    TransformedProbaClassifier,
    VAEDensity,
    argmax_probabilities,
    attention,
    entropy_invariant_scale,
    entropy_normalize,
    expected_accuracy,
    masked_embedding_expectation,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

HUGE, TINY = 1e300, 1e-300
# distinct scores in every row, so the limits of huge scores are one-hot
SCORES = np.array([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
PROBA = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])


def _bad(base, kind):
    """``base`` turned into the input ``kind``; None where it does not apply."""
    base = np.asarray(base, dtype=float)
    if kind in ("nan", "inf"):
        out = base.copy()
        out.flat[0] = np.nan if kind == "nan" else -np.inf
        return out
    return {
        "huge": base * HUGE,
        "tiny": base * TINY,
        "empty": base[:0],
        "3d": base[None],
        "strings": np.full(base.shape, "a"),
    }[kind]


class Raises(NamedTuple):
    error: type
    match: str


class Equals(NamedTuple):
    reference: Callable
    rtol: float = 1e-12
    atol: float = 0.0


NOT_FINITE = {
    "nan": Raises(ValueError, "NaN"),
    "inf": Raises(ValueError, "infinity|infinite"),
}
SHAPES = {
    "empty": Raises(ValueError, "0 sample"),
    "3d": Raises(ValueError, "dim 3"),
    "strings": Raises(
        ValueError,
        "could not convert string to float|not compatible with arrays of .*strings",
    ),
}


def _entropy_target_by_brentq(S, target):
    """Rows ``softmax(g s)`` with entropy ``target``, g found by SciPy's brentq."""
    out = []
    for row in S:
        g = brentq(lambda g: scipy_entropy(softmax(g * row)) - target, 0.0, 1e3)
        out.append(softmax(g * row))
    return np.array(out)


def _masked_expectation_by_hand(E, mask_row, p_select=0.15, p_mask=0.8, p_r=0.1):
    keep = 1.0 - p_select * (p_mask + p_r)
    return keep * E + p_select * (p_mask * mask_row + p_r * E.mean(axis=0))


# One entry per public function or stateless transformer: (call, base, outcomes).
# Outcomes missing for a kind default to NOT_FINITE / SHAPES.
FUNCTIONS = {
    "argmax_probabilities": (
        lambda X: argmax_probabilities(X, "gaussian"),
        SCORES,
        {
            "huge": Equals(lambda: np.eye(3)[[0, 0]]),
            "tiny": Equals(lambda: np.full((2, 3), 1 / 3), rtol=1e-15),
            "3d": Raises(ValueError, "dim 3"),
        },
    ),
    "ArgmaxProbabilityTransformer": (
        lambda X: ArgmaxProbabilityTransformer().fit_transform(X),
        SCORES,
        {
            "huge": Equals(lambda: softmax(SCORES * HUGE, axis=1)),
            "tiny": Equals(lambda: softmax(SCORES * TINY, axis=1), rtol=1e-15),
        },
    ),
    "attention": (
        lambda X: attention(X, X, X, return_weights=True)[1],
        SCORES,
        {
            # S S^T = [[2, 0.4], [0.4, 0.3]]: key 0 wins both rows in the limit
            "huge": Equals(lambda: np.eye(2)[[0, 0]]),
            "tiny": Equals(lambda: np.full((2, 2), 0.5), rtol=1e-15),
            # batched queries are allowed: the 3-D case is the same weights
            "3d": Equals(
                lambda: softmax(SCORES @ SCORES.T / math.sqrt(3), axis=1)[None]
            ),
            "empty": Raises(ValueError, "at least one key"),
            "nan": Raises(ValueError, "Q contains NaN"),
            "inf": Raises(ValueError, "Q contains NaN or infinity"),
        },
    ),
    "masked_embedding_expectation": (
        lambda X: masked_embedding_expectation(X, 0),
        SCORES,
        {
            "huge": Equals(
                lambda: _masked_expectation_by_hand(SCORES, SCORES[0]) * HUGE
            ),
            "tiny": Equals(
                lambda: _masked_expectation_by_hand(SCORES, SCORES[0]) * TINY
            ),
            "empty": Raises(ValueError, "mask_index=0 is not a row of E"),
            "3d": Raises(ValueError, "E must be 2-D"),
            "strings": Raises(TypeError, "E must be numeric"),
            "nan": Raises(ValueError, "E contains NaN"),
            "inf": Raises(ValueError, "E contains NaN or infinite"),
        },
    ),
    "MaskingConsistentEncoder": (
        lambda X: MaskingConsistentEncoder().fit_transform(X),
        SCORES,
        {
            "huge": Equals(lambda: _masked_expectation_by_hand(SCORES, 0.0) * HUGE),
            "tiny": Equals(lambda: _masked_expectation_by_hand(SCORES, 0.0) * TINY),
        },
    ),
    "entropy_normalize(logits)": (
        lambda X: entropy_normalize(X, 0.5, input="logits"),
        SCORES,
        {
            # softmax(g c s) runs over the family of softmax(g s) for any c > 0
            "huge": Equals(lambda: _entropy_target_by_brentq(SCORES, 0.5), 1e-9),
            "tiny": Equals(lambda: _entropy_target_by_brentq(SCORES, 0.5), 1e-9),
        },
    ),
    "entropy_normalize(proba)": (
        lambda X: entropy_normalize(X, 0.5),
        PROBA,
        {
            "huge": Raises(ValueError, "rows of X must sum to 1"),
            "tiny": Raises(ValueError, "rows of X must sum to 1"),
        },
    ),
    "EntropyNormalizer": (
        lambda X: EntropyNormalizer().fit_transform(X),
        PROBA,
        {
            "huge": Raises(ValueError, "rows of X must sum to 1"),
            "tiny": Raises(ValueError, "rows of X must sum to 1"),
        },
    ),
    "EntropyNormalizer(renormalize)": (
        lambda X: EntropyNormalizer(renormalize=True).fit_transform(X),
        PROBA,
        {
            # rows divided by their sums are PROBA again; target: their mean
            "huge": Equals(
                lambda: _entropy_target_by_brentq(
                    np.log(PROBA), scipy_entropy(PROBA, axis=1).mean()
                ),
                1e-9,
            ),
            "tiny": Equals(
                lambda: _entropy_target_by_brentq(
                    np.log(PROBA), scipy_entropy(PROBA, axis=1).mean()
                ),
                1e-9,
            ),
        },
    ),
    "EntropyDisplay": (
        lambda X: _entropy_display(X),
        PROBA,
        {
            "huge": Raises(ValueError, "rows of P_before must sum to 1"),
            "tiny": Raises(ValueError, "rows of P_before must sum to 1"),
            "nan": Raises(ValueError, "P_before contains NaN"),
        },
    ),
    "expected_accuracy": (
        lambda X: expected_accuracy(X, [0, 1], 1.0),
        SCORES,
        {
            # row 0: class 0 far ahead (A = 1); row 1: class 0 ahead of y = 1
            "huge": Equals(lambda: 0.5, rtol=0, atol=1e-15),
            # ties: each class wins with probability 1/3
            "tiny": Equals(lambda: 1 / 3, rtol=1e-9),
            "3d": Raises(ValueError, "dim 3"),
        },
    ),
}


def _entropy_display(P):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skprob import EntropyDisplay

    try:
        return EntropyDisplay.from_predictions(P).entropies_before
    finally:
        plt.close("all")


KINDS = ["nan", "inf", "huge", "tiny", "empty", "3d", "strings"]


def _outcome(outcomes, kind):
    return outcomes.get(kind) or NOT_FINITE.get(kind) or SHAPES[kind]


def _check(call, X, outcome):
    if isinstance(outcome, Raises):
        with pytest.raises(outcome.error, match=outcome.match):
            call(X)
        return
    result = call(X)
    assert_allclose(result, outcome.reference(), rtol=outcome.rtol, atol=outcome.atol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functions_and_transformers(name, kind):
    call, base, outcomes = FUNCTIONS[name]
    X = _bad(base, kind)
    original = X.copy()
    _check(call, X, _outcome(outcomes, kind))
    # inputs are never modified in place
    assert_array_equal(X, original)


def test_argmax_probabilities_wrong_types():
    with pytest.raises(TypeError, match="frozen continuous scipy.stats"):
        argmax_probabilities(SCORES, noise=stats.poisson(3.0))
    with pytest.raises(ValueError, match="'noise' parameter"):
        argmax_probabilities(SCORES, noise=np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise"):
        argmax_probabilities(SCORES, noise="cauchy")
    with pytest.raises(ValueError, match="scale"):
        argmax_probabilities(SCORES, scale=np.nan)
    with pytest.raises(ValueError, match="scale"):
        argmax_probabilities(SCORES, scale=0.0)
    # huge and tiny scales are limits: the largest score wins, or all tie
    assert_array_equal(argmax_probabilities(SCORES, scale=TINY), np.eye(3)[[0, 0]])
    assert_allclose(
        argmax_probabilities(SCORES, "gaussian", scale=1e308),
        np.full((2, 3), 1 / 3),
        rtol=1e-15,
    )


def test_attention_wrong_shapes_and_types():
    V = np.ones((2, 1))
    with pytest.raises(ValueError, match="same last dimension"):
        attention(SCORES, SCORES[:, :2], V)
    with pytest.raises(ValueError, match="same number of keys"):
        attention(SCORES, SCORES, np.ones((3, 1)))
    with pytest.raises(TypeError, match="Q must be real"):
        attention(SCORES + 1j, SCORES, V)
    with pytest.raises(ValueError, match="scale"):
        attention(SCORES, SCORES, V, scale=-1.0)


@pytest.mark.parametrize(
    "n, d, expected",
    [
        (10**300, 1, math.log(10**300) / math.log(512)),
        (2, 10**300, math.log(2) / (math.log(512) * 1e150)),
    ],
)
def test_entropy_invariant_scale_huge_arguments(n, d, expected):
    assert_allclose(entropy_invariant_scale(n, d), expected, rtol=1e-14)


@pytest.mark.parametrize("n", [np.nan, np.inf, 2.5, "512", None, 1])
def test_entropy_invariant_scale_bad_lengths(n):
    with pytest.raises((ValueError, TypeError), match="'n' parameter"):
        entropy_invariant_scale(n, 64)


def test_masking_wrong_types():
    with pytest.raises(TypeError, match="mask_index"):
        masked_embedding_expectation(SCORES, True)
    with pytest.raises(ValueError, match="mask_index"):
        masked_embedding_expectation(SCORES, 0.5)
    with pytest.raises(ValueError, match="token_frequencies must have shape"):
        masked_embedding_expectation(SCORES, 0, token_frequencies=[1.0])
    with pytest.raises(ValueError, match="p_mask \\+ p_random"):
        MaskingConsistentEncoder(p_mask=0.9, p_random=0.2).fit(SCORES)
    with pytest.raises(ValueError, match="mask_value"):
        MaskingConsistentEncoder(mask_value=np.nan).fit(SCORES)
    encoder = MaskingConsistentEncoder().fit(SCORES)
    with pytest.raises(ValueError, match="3 features.*expecting 3|features"):
        encoder.transform(SCORES[:, :2])


# --- estimators --------------------------------------------------------------


def _divide_by_column_max(X):
    # scale invariant down to 1e-300, unlike MaxAbsScaler (which treats scales
    # below 10 eps as 0)
    return X / np.max(np.abs(X), axis=0)


def _iris():
    X, y = load_iris(return_X_y=True)
    return X[::3], y[::3]


class _Estimator(NamedTuple):
    make: Callable
    # known failures in modules owned elsewhere: kind -> reason
    xfail: dict
    unsupervised: bool = False
    # the kind-specific outcome of a fit, when not the defaults
    outcomes: Optional[dict] = None


ESTIMATORS = {
    "AnalyticLogisticRegression": _Estimator(AnalyticLogisticRegression, {}),
    "AccuracyOptimizedLinear": _Estimator(AccuracyOptimizedLinear, {}),
    "CANCalibrator": _Estimator(
        CANCalibrator,
        {},
    ),
    "TransformedProbaClassifier": _Estimator(
        lambda: TransformedProbaClassifier(
            make_pipeline(
                FunctionTransformer(_divide_by_column_max, validate=True),
                LogisticRegression(),
            ),
            transformer=EntropyNormalizer(),
        ),
        {},
    ),
    "VAEDensity": _Estimator(
        lambda: VAEDensity(max_iter=3, random_state=0),
        {},
        unsupervised=True,
    ),
}
ESTIMATOR_KINDS = KINDS + ["1d", "features"]


def _estimator_outcome(kind):
    if kind == "1d":
        return Raises(ValueError, "Expected 2D array, got 1D array")
    if kind == "features":
        return Raises(ValueError, "X has 3 features, but \\w+ is expecting 4")
    return NOT_FINITE.get(kind) or SHAPES.get(kind)


def _predict_or_score(model, X, unsupervised):
    return model.score_samples(X) if unsupervised else model.predict_proba(X)


def _estimator_params():
    for name, spec in ESTIMATORS.items():
        for kind in ESTIMATOR_KINDS:
            marks = []
            if kind in spec.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=spec.xfail[kind]))
            if spec.unsupervised:
                # max_iter is kept small for speed; the fit says so
                marks.append(pytest.mark.filterwarnings("ignore::" + _CW))
            yield pytest.param(name, kind, marks=marks, id=f"{name}-{kind}")


_CW = f"{ConvergenceWarning.__module__}.{ConvergenceWarning.__name__}"


@pytest.mark.parametrize("name, kind", list(_estimator_params()))
def test_estimators(name, kind):
    spec = ESTIMATORS[name]
    X, y = _iris()
    target = None if spec.unsupervised else y
    if kind in ("huge", "tiny"):
        # scale equivariance: the model of X * c on X * c is the model of X on
        # X (for a density, log p shifts by -n_features log c), or a clear
        # error about values whose squares overflow
        factor = HUGE if kind == "huge" else TINY
        reference = _predict_or_score(spec.make().fit(X, target), X, spec.unsupervised)
        if spec.unsupervised:
            reference = reference - X.shape[1] * math.log(factor)
        try:
            scaled = spec.make().fit(X * factor, target)
        except ValueError as error:
            # refusing values whose squares overflow (or underflow, for tiny
            # values) is a right answer too, if the message says so
            expected = "overflow" if kind == "huge" else "underflow"
            assert expected in str(error), str(error)
            return
        result = _predict_or_score(scaled, X * factor, spec.unsupervised)
        assert_allclose(result, reference, rtol=1e-6, atol=1e-9)
        return
    if kind == "features":
        model = spec.make().fit(X, target)
        outcome = _estimator_outcome(kind)
        with pytest.raises(outcome.error, match=outcome.match):
            _predict_or_score(model, X[:, :3], spec.unsupervised)
        return
    bad = X[:, 0] if kind == "1d" else _bad(X, kind)
    if kind == "empty":
        target = None if spec.unsupervised else y[:0]
    outcome = _estimator_outcome(kind)
    with pytest.raises(outcome.error, match=outcome.match):
        spec.make().fit(bad, target)

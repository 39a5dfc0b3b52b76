"""scikit-learn's estimator checks run on every public skprob estimator."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skprob

# Non-default parameters that keep the common checks fast (each estimator's own
# test file covers the defaults). Keyed by class name.
INIT_PARAMS = {
    "CANCalibrator": {"cv": 3},
    # input="proba" rejects rows that are not probabilities; the common checks
    # feed arbitrary reals, which are valid logits
    "EntropyNormalizer": {"input": "logits"},
    # the default transformer=None would leave the transform path unchecked
    "TransformedProbaClassifier": {"transformer": skprob.EntropyNormalizer()},
    # a tiny network and a few epochs: tests/test_vae.py covers the defaults.
    # With tol above any improvement every epoch after the first is a plateau,
    # so training ends by its own rule (after 4 epochs), without a
    # ConvergenceWarning.
    "VAEDensity": {
        "hidden_layer_sizes": (8,),
        "max_iter": 5,
        "early_stopping": False,
        "n_iter_no_change": 1,
        "tol": 1e9,
        "n_importance_samples": 8,
    },
}

# Checks an estimator is known to fail, with the reason. Keyed by class name.
EXPECTED_FAILED_CHECKS = {
    "ArgmaxProbabilityTransformer": {
        "check_array_api_same_namespace": (
            "stateless transformer: fit stores no arrays, so there is no fitted "
            "namespace for transform to match and every namespace is accepted"
        ),
    },
    "EntropyNormalizer": {
        "check_array_api_same_namespace": (
            "fit stores only a Python float target, so there is no fitted "
            "namespace for transform to match and every namespace is accepted"
        ),
        "check_transformer_n_iter": (
            "max_iter bounds the per-row Newton iterations of transform; fit "
            "computes a mean entropy and does not iterate, so there is no n_iter_"
        ),
    },
}


def all_estimators():
    """(name, class) for every concrete public estimator exported by skprob."""
    found = []
    for name in skprob.__all__:
        obj = getattr(skprob, name)
        if (
            inspect.isclass(obj)
            and issubclass(obj, BaseEstimator)
            and not inspect.isabstract(obj)
        ):
            found.append((name, obj))
    return sorted(found)


def _defined_estimators():
    """Public BaseEstimator subclasses defined in skprob's modules, exported or not."""
    found = set()
    for module_name, module in inspect.getmembers(skprob, inspect.ismodule):
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                obj.__module__.startswith("skprob.")
                and issubclass(obj, BaseEstimator)
                and not name.startswith("_")
            ):
                found.add(name)
    return found


def _instances():
    return [cls(**INIT_PARAMS.get(name, {})) for name, cls in all_estimators()]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_every_estimator_is_exported_and_checked():
    # An estimator class defined in skprob but missing from __all__ would escape
    # the common checks below; abstract bases must not be exported at all.
    checked = {name for name, _ in all_estimators()}
    assert _defined_estimators() <= checked
    exported = [getattr(skprob, name) for name in skprob.__all__]
    assert not [cls for cls in exported if inspect.isabstract(cls)]


def test_expected_failures_name_known_estimators():
    # A stale entry for a renamed estimator would silently stop applying.
    checked = {name for name, _ in all_estimators()}
    assert set(EXPECTED_FAILED_CHECKS) <= checked
    assert set(INIT_PARAMS) <= checked


@parametrize_with_checks(
    _instances(),
    expected_failed_checks=_expected_failed_checks,
    # an expected failure that starts passing is reported, so stale entries go
    xfail_strict=True,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name, cls", all_estimators())
def test_public_estimator_has_runnable_example(name, cls):
    # The doctest run executes the Examples section; here we only require it exists.
    assert "Examples\n    --------" in cls.__doc__, f"{name} has no Examples section"

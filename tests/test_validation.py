"""skprob/_validation.py: shared input checks and the one label encoder."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from array_api_helpers import load_namespace
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import LabelEncoder

from skprob._validation import (
    check_prior,
    check_probability_rows,
    check_sample_weight,
    decode_labels,
    encode_labels,
)

LABELS = [
    np.array([3, 1, 3, 7, 1, 1]),
    np.array([0.5, -2.0, 0.5, 9.0]),
    np.array(["b", "a", "c", "a"]),
    np.array(["yes", "no", "no"], dtype=object),
]


@pytest.mark.parametrize("y", LABELS, ids=lambda y: str(y.dtype))
def test_encode_labels_matches_label_encoder_and_round_trips(y):
    classes, index = encode_labels(y, xp=np)
    reference = LabelEncoder().fit(y)
    assert_array_equal(classes, reference.classes_)
    assert_array_equal(index, reference.transform(y))
    assert_array_equal(decode_labels(index, classes, xp=np), y)


def test_encode_labels_with_given_classes_keeps_unseen_classes():
    classes, index = encode_labels([2, 2, 5], xp=np, classes=[9, 5, 2, 7])
    assert_array_equal(classes, [2, 5, 7, 9])
    assert_array_equal(index, [0, 0, 1])


def test_encode_labels_rejects_unknown_labels_and_single_class():
    with pytest.raises(ValueError, match=r"labels not in classes \[1, 2\]: \[3\]"):
        encode_labels([1, 3, 2], xp=np, classes=[1, 2])
    with pytest.raises(ValueError, match="at least 2 classes, got 1"):
        encode_labels(["a", "a"], xp=np)
    with pytest.raises(ValueError, match="classes is empty"):
        encode_labels([1], xp=np, classes=[])


@pytest.mark.parametrize("y", LABELS, ids=lambda y: str(y.dtype))
def test_labels_under_another_namespace(y):
    # array-API dispatch leaves string labels in NumPy: numeric classes move to
    # the namespace of X, strings stay on the host, and predictions decode both.
    xp = load_namespace("array_api_strict")
    classes, index = encode_labels(y, xp=xp)
    assert_array_equal(np.asarray(index), LabelEncoder().fit_transform(y))
    assert isinstance(classes, np.ndarray) == (y.dtype.kind not in "iuf")
    decoded = decode_labels(index, classes, xp=xp)
    assert_array_equal(np.asarray(decoded), y)


def test_check_probability_rows():
    P = np.array([[0.2, 0.8], [1.0, 0.0]])
    assert check_probability_rows(P) is P
    with pytest.raises(ValueError, match="negative probabilities"):
        check_probability_rows(np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match="must sum to 1"):
        check_probability_rows(np.array([[0.2, 0.2]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_probability_rows(np.array([[np.nan, 1.0]]))
    unnormalised = np.array([[1.0, 3.0]])
    assert_allclose(
        check_probability_rows(unnormalised, renormalize=True), [[0.25, 0.75]]
    )
    assert_array_equal(unnormalised, [[1.0, 3.0]])


def test_check_prior():
    assert_allclose(check_prior([0.25, 0.75], 2), [0.25, 0.75])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        check_prior([0.5, 0.5], 3)
    with pytest.raises(ValueError, match="sum to 1"):
        check_prior([0.5, 0.6], 2)
    with pytest.raises(ValueError, match="non-negative"):
        check_prior([1.5, -0.5], 2)
    with pytest.raises(TypeError, match="numeric"):
        check_prior(["a", "b"], 2)


def test_check_sample_weight():
    X = np.zeros((3, 2), dtype=np.float32)
    weight = check_sample_weight([1, 2, 3], X)
    assert weight.dtype == np.float32
    assert_array_equal(weight, [1, 2, 3])
    assert_array_equal(check_sample_weight(None, X), np.ones(3))
    assert_array_equal(check_sample_weight(2.0, X), np.full(3, 2.0))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        check_sample_weight([1, 2], X)
    with pytest.raises(ValueError, match="non-negative"):
        check_sample_weight([1, -2, 3], X)
    with pytest.raises(ValueError, match="sums to zero"):
        check_sample_weight([0, 0, 0], X)
    with pytest.raises(TypeError, match="numeric"):
        check_sample_weight(["a", "b", "c"], X)

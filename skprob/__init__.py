"""scikit-learn compatible estimators for probabilistic classification."""

# SPDX-License-Identifier: BSD-3-Clause

from ._accuracy import AccuracyOptimizedLinear, expected_accuracy
from ._analytic import AnalyticLogisticRegression
from ._argmax import ArgmaxProbabilityTransformer, argmax_probabilities
from ._attention import attention, entropy_invariant_scale
from ._can import CANCalibrator
from ._display import CANDisplay, EntropyDisplay
from ._entropy import EntropyNormalizer, entropy_normalize
from ._masking import MaskingConsistentEncoder, masked_embedding_expectation
from ._posthoc import TransformedProbaClassifier
from ._vae import VAEDensity

__version__ = "0.1.0.dev0"

__all__ = [
    "AccuracyOptimizedLinear",
    "AnalyticLogisticRegression",
    "ArgmaxProbabilityTransformer",
    "EntropyNormalizer",
    "argmax_probabilities",
    "attention",
    "entropy_invariant_scale",
    "entropy_normalize",
    "expected_accuracy",
    "CANCalibrator",
    "CANDisplay",
    "EntropyDisplay",
    "MaskingConsistentEncoder",
    "TransformedProbaClassifier",
    "VAEDensity",
    "masked_embedding_expectation",
]

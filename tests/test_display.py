"""Tests for EntropyDisplay and CANDisplay."""

# SPDX-License-Identifier: BSD-3-Clause

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from array_api_helpers import (  # noqa: E402
    NAMESPACE_DTYPES,
    load_namespace,
    rtol_for,
    to_namespace,
)
from scipy.special import softmax  # noqa: E402
from scipy.stats import entropy as scipy_entropy  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402

from skprob import (  # noqa: E402
    CANCalibrator,
    CANDisplay,
    EntropyDisplay,
    EntropyNormalizer,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _dirichlet_rows(n, k, seed, zeros=True):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(k, 0.7), size=n)
    if zeros:
        # exact zeros exercise the 0 log 0 = 0 convention
        P[: n // 4, -1] = 0.0
        P /= P.sum(axis=1, keepdims=True)
    return P


# ----------------------------------------------------------------- EntropyDisplay


@pytest.mark.parametrize("base, unit", [(np.e, "nats"), (2, "bits")])
def test_entropy_from_predictions_matches_scipy(base, unit):
    P = _dirichlet_rows(300, 5, seed=0)
    Q = _dirichlet_rows(300, 5, seed=1, zeros=False)
    display = EntropyDisplay.from_predictions(P, Q, target_entropy=0.9, base=base)
    np.testing.assert_allclose(
        display.entropies_before, scipy_entropy(P, axis=1, base=base), rtol=1e-12
    )
    np.testing.assert_allclose(
        display.entropies_after, scipy_entropy(Q, axis=1, base=base), rtol=1e-12
    )
    assert display.target_entropy == 0.9
    assert display.ax_.get_xlabel() == f"row entropy ({unit})"


@pytest.mark.parametrize(
    "base", [np.int64(2), np.float32(2.0), np.int8(10), 10], ids=repr
)
def test_entropy_base_may_be_any_real_number(base):
    # NumPy scalars are numbers: np.int64(2) was refused as "not a number > 1".
    P = _dirichlet_rows(30, 4, seed=3)
    display = EntropyDisplay.from_predictions(P, base=base)
    np.testing.assert_allclose(
        display.entropies_before,
        scipy_entropy(P, axis=1, base=float(base)),
        rtol=1e-6 if isinstance(base, np.float32) else 1e-12,
    )


def test_entropy_histograms_and_target_line_show_the_values():
    P = _dirichlet_rows(400, 4, seed=2)
    Q = _dirichlet_rows(400, 4, seed=3)
    display = EntropyDisplay.from_predictions(P, Q, target_entropy=0.7, bins=12)
    h_before, h_after = scipy_entropy(P, axis=1), scipy_entropy(Q, axis=1)
    # shared edges span both samples
    edges = display.bin_edges_
    assert edges.shape == (13,)
    assert edges[0] == pytest.approx(min(h_before.min(), h_after.min()))
    assert edges[-1] == pytest.approx(max(h_before.max(), h_after.max()))
    heights_before = [bar.get_height() for bar in display.hist_before_]
    heights_after = [bar.get_height() for bar in display.hist_after_]
    np.testing.assert_array_equal(heights_before, np.histogram(h_before, edges)[0])
    np.testing.assert_array_equal(heights_after, np.histogram(h_after, edges)[0])
    assert sum(heights_before) == 400
    assert list(display.target_line_.get_xdata()) == [0.7, 0.7]
    labels = display.ax_.get_legend_handles_labels()[1]
    assert labels == ["before", "after", "target"]


def test_entropy_from_predictions_before_only():
    P = _dirichlet_rows(50, 3, seed=4)
    display = EntropyDisplay.from_predictions(P)
    assert display.entropies_after is None
    assert display.hist_after_ is None and display.target_line_ is None
    assert len(display.ax_.patches) == 30


@pytest.mark.parametrize("base", [np.e, 2.0])
def test_entropy_from_estimator_equals_from_predictions(base):
    P_train = _dirichlet_rows(200, 6, seed=5)
    P = _dirichlet_rows(150, 6, seed=6)
    normalizer = EntropyNormalizer(base=base).fit(P_train)
    display = EntropyDisplay.from_estimator(normalizer, P, bins=15)
    reference = EntropyDisplay.from_predictions(
        P,
        normalizer.transform(P),
        target_entropy=normalizer.target_entropy_,
        base=base,
        bins=15,
    )
    np.testing.assert_allclose(
        display.entropies_before, reference.entropies_before, rtol=1e-12
    )
    np.testing.assert_allclose(
        display.entropies_after, reference.entropies_after, rtol=1e-12
    )
    assert display.target_entropy == reference.target_entropy
    np.testing.assert_array_equal(display.bin_edges_, reference.bin_edges_)
    # the target is the mean entropy of the training rows, reached by every row
    target = scipy_entropy(P_train, axis=1, base=base).mean()
    assert display.target_entropy == pytest.approx(target, rel=1e-12)
    np.testing.assert_allclose(display.entropies_after, target, atol=1e-9)


def test_entropy_from_estimator_logits():
    Z = np.random.default_rng(7).normal(scale=2.0, size=(120, 5))
    normalizer = EntropyNormalizer(input="logits", target_entropy=1.0).fit(Z)
    display = EntropyDisplay.from_estimator(normalizer, Z)
    np.testing.assert_allclose(
        display.entropies_before, scipy_entropy(softmax(Z, axis=1), axis=1), rtol=1e-10
    )
    np.testing.assert_allclose(display.entropies_after, 1.0, atol=1e-9)
    assert list(display.target_line_.get_xdata()) == [1.0, 1.0]


def test_entropy_plot_on_given_ax_and_input_unchanged():
    P = _dirichlet_rows(80, 4, seed=8)
    Q = _dirichlet_rows(80, 4, seed=9)
    P_copy, Q_copy = P.copy(), Q.copy()
    figure, (left, right) = plt.subplots(1, 2)
    display = EntropyDisplay.from_predictions(P, Q, ax=right, bins=10)
    assert display.ax_ is right and display.figure_ is figure
    assert len(right.patches) == 20 and len(left.patches) == 0
    np.testing.assert_array_equal(P, P_copy)
    np.testing.assert_array_equal(Q, Q_copy)
    # plot returns self and can draw the same values again elsewhere
    other = plt.subplots()[1]
    assert display.plot(ax=other) is display
    assert display.ax_ is other and len(other.patches) == 60


@pytest.mark.parametrize("namespace, dtype_name", NAMESPACE_DTYPES)
def test_displays_accept_array_api_inputs(namespace, dtype_name):
    xp = load_namespace(namespace)
    P = _dirichlet_rows(60, 4, seed=12)
    y = np.arange(60) % 4
    adjusted = _dirichlet_rows(60, 4, seed=13)
    with config_context(array_api_dispatch=True):
        P_xp = to_namespace(xp, P, dtype_name)
        normalizer = EntropyNormalizer().fit(P_xp)
        display = EntropyDisplay.from_estimator(normalizer, P_xp)
        can = CANDisplay.from_predictions(
            to_namespace(xp, y), P_xp, to_namespace(xp, adjusted, dtype_name)
        )
    # the displays hold NumPy values, equal to the float64 NumPy computation
    assert isinstance(display.entropies_before, np.ndarray)
    rtol = rtol_for(dtype_name)
    np.testing.assert_allclose(
        display.entropies_before, scipy_entropy(P, axis=1), rtol=rtol
    )
    target = scipy_entropy(P, axis=1).mean()
    np.testing.assert_allclose(display.entropies_after, target, rtol=rtol)
    assert can.accuracy_before == accuracy_score(y, P.argmax(axis=1))
    assert can.accuracy_after == accuracy_score(y, adjusted.argmax(axis=1))


def test_entropy_bad_input():
    P = _dirichlet_rows(20, 3, seed=10)
    with pytest.raises(ValueError, match="P_after has shape"):
        EntropyDisplay.from_predictions(P, P[:, :2] / P[:, :2].sum(1, keepdims=True))
    with pytest.raises(ValueError, match="P_after has shape"):
        EntropyDisplay.from_predictions(P, P[:10])
    # from_predictions has no renormalize parameter, so the message must not
    # tell the user to pass one unconditionally
    with pytest.raises(
        ValueError, match="rows of P_before must sum to 1.*divide each row by its sum"
    ):
        EntropyDisplay.from_predictions(2.0 * P)
    with pytest.raises(ValueError, match="negative"):
        EntropyDisplay.from_predictions(P, P - 0.5)
    with pytest.raises(ValueError, match="2D array"):
        EntropyDisplay.from_predictions(P[0])
    with pytest.raises(ValueError, match="base must be a number > 1"):
        EntropyDisplay.from_predictions(P, base=1.0)
    for base in (np.inf, np.nan, 0.5):
        with pytest.raises(ValueError, match="base must be a number > 1 and finite"):
            EntropyDisplay.from_predictions(P, base=base)
    for base in ("2", True, np.True_, None):
        with pytest.raises(TypeError, match="base must be a number > 1.*not a number"):
            EntropyDisplay.from_predictions(P, base=base)
    with pytest.raises(NotFittedError):
        EntropyDisplay.from_estimator(EntropyNormalizer(), P)
    with pytest.raises(TypeError, match="expects a fitted EntropyNormalizer"):
        EntropyDisplay.from_estimator(LogisticRegression(), P)
    normalizer = EntropyNormalizer().fit(P)
    with pytest.raises(ValueError, match="features"):
        EntropyDisplay.from_estimator(normalizer, np.full((4, 5), 0.2))


# -------------------------------------------------------------------- CANDisplay


def _hand_counts(y, pred_before, pred_after, classes):
    fixed = dict.fromkeys(classes, 0)
    broken = dict.fromkeys(classes, 0)
    for label, before, after in zip(y, pred_before, pred_after):
        if before != label and after == label:
            fixed[label] += 1
        elif before == label and after != label:
            broken[label] += 1
    return [fixed[c] for c in classes], [broken[c] for c in classes]


def test_can_from_predictions_hand_example():
    # rows: right -> wrong (class b), wrong -> right (a), wrong -> other wrong (c),
    # right -> right (a), wrong -> right (c)
    y = np.array(["b", "a", "c", "a", "c"])
    base = np.array(
        [
            [0.2, 0.7, 0.1],
            [0.3, 0.6, 0.1],
            [0.6, 0.3, 0.1],
            [0.8, 0.1, 0.1],
            [0.5, 0.1, 0.4],
        ]
    )
    adjusted = np.array(
        [
            [0.5, 0.4, 0.1],
            [0.5, 0.4, 0.1],
            [0.3, 0.6, 0.1],
            [0.8, 0.1, 0.1],
            [0.3, 0.1, 0.6],
        ]
    )
    display = CANDisplay.from_predictions(y, base, adjusted)
    assert display.accuracy_before == 2 / 5
    assert display.accuracy_after == 3 / 5
    np.testing.assert_array_equal(display.classes, ["a", "b", "c"])
    np.testing.assert_array_equal(display.n_fixed, [1, 0, 1])
    np.testing.assert_array_equal(display.n_broken, [0, 1, 0])


def test_can_from_predictions_matches_independent_counts():
    rng = np.random.default_rng(11)
    classes = np.array([3, 1, 7, 5])  # column order need not be sorted
    y = rng.choice(classes, size=500)
    base = rng.dirichlet(np.ones(4), size=500)
    adjusted = np.where(
        rng.random((500, 1)) < 0.3, rng.dirichlet(np.ones(4), 500), base
    )
    display = CANDisplay.from_predictions(y, base, adjusted, classes=classes)
    pred_before = classes[base.argmax(axis=1)]
    pred_after = classes[adjusted.argmax(axis=1)]
    assert display.accuracy_before == pytest.approx(accuracy_score(y, pred_before))
    assert display.accuracy_after == pytest.approx(accuracy_score(y, pred_after))
    fixed, broken = _hand_counts(y, pred_before, pred_after, classes)
    np.testing.assert_array_equal(display.n_fixed, fixed)
    np.testing.assert_array_equal(display.n_broken, broken)
    assert sum(fixed) > 10 and sum(broken) > 10
    # the bars show the same numbers, one per class, ticks labelled by class
    assert [b.get_height() for b in display.accuracy_bars_] == [
        display.accuracy_before,
        display.accuracy_after,
    ]
    assert [b.get_height() for b in display.fixed_bars_] == fixed
    assert [b.get_height() for b in display.broken_bars_] == broken
    ticks = [t.get_text() for t in display.ax_[1].get_xticklabels()]
    assert ticks == ["3", "1", "7", "5"]


def _shifted_problem():
    # Imbalanced classes and a naive Bayes model told they are balanced: CAN's
    # prior adjustment changes many predictions.
    X, y = make_classification(
        n_samples=900,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        class_sep=0.6,
        random_state=0,
    )
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


def test_can_from_estimator_equals_from_predictions():
    X_train, X_test, y_train, y_test = _shifted_problem()
    can = CANCalibrator(GaussianNB(priors=[1 / 3] * 3), cv=3).fit(X_train, y_train)
    display = CANDisplay.from_estimator(can, X_test, y_test)
    reference = CANDisplay.from_predictions(
        y_test,
        can.estimator_.predict_proba(X_test),
        can.predict_proba(X_test),
        classes=can.classes_,
    )
    for name in ("accuracy_before", "accuracy_after"):
        assert getattr(display, name) == getattr(reference, name)
    for name in ("n_fixed", "n_broken", "classes"):
        np.testing.assert_array_equal(getattr(display, name), getattr(reference, name))
    # independent of the display: sklearn's accuracy of both models
    base_pred = can.estimator_.predict(X_test)
    assert display.accuracy_before == pytest.approx(accuracy_score(y_test, base_pred))
    assert display.accuracy_after == pytest.approx(
        accuracy_score(y_test, can.predict(X_test))
    )
    fixed, broken = _hand_counts(y_test, base_pred, can.predict(X_test), [0, 1, 2])
    np.testing.assert_array_equal(display.n_fixed, fixed)
    np.testing.assert_array_equal(display.n_broken, broken)
    assert sum(fixed) + sum(broken) > 0


def test_can_plot_on_given_axes():
    y = np.array([0, 1, 1])
    base = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    adjusted = np.array([[0.6, 0.4], [0.4, 0.6], [0.3, 0.7]])
    figure, axes = plt.subplots(2, 2)
    display = CANDisplay.from_predictions(y, base, adjusted, ax=axes[1])
    assert display.figure_ is figure
    assert display.ax_[0] is axes[1, 0] and display.ax_[1] is axes[1, 1]
    assert len(axes[1, 0].patches) == 2 and len(axes[1, 1].patches) == 4
    assert len(axes[0, 0].patches) == 0 and len(axes[0, 1].patches) == 0
    default = display.plot()
    assert default is display and display.figure_ is not figure
    with pytest.raises(ValueError, match="needs two Axes"):
        display.plot(ax=axes.ravel()[:3])


def test_can_plot_says_so_when_nothing_changed():
    # Identical predictions: both counts are zero, the count axis starts at 0
    # and the panel carries a note instead of being empty.
    y = np.array([0, 1, 1])
    P = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    display = CANDisplay.from_predictions(y, P, P)
    assert display.n_fixed.sum() == display.n_broken.sum() == 0
    bottom, top = display.ax_[1].get_ylim()
    assert bottom == 0 and top > 0
    assert display.text_.get_text() == "no prediction was fixed or broken"
    assert display.text_ in display.ax_[1].texts
    changed = CANDisplay.from_predictions(y, P, P[:, ::-1])
    assert changed.text_ is None and changed.ax_[1].get_ylim()[0] == 0


def test_can_from_estimator_says_why_nothing_was_adjusted():
    # digits with a well-calibrated model: no setting passes the sign test.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    can = CANCalibrator(cv=3).fit(X_train, y_train)
    assert not can.adjust_
    assert np.max(can.search_results_["gain_lower_bound"]) <= 0
    display = CANDisplay.from_estimator(can, X_test, y_test)
    assert "out-of-fold evidence did not support adjusting" in display.text_.get_text()
    # A base so regularised that every out-of-fold row is nearly uniform: an
    # empty reference set, a different reason.
    flat = CANCalibrator(LogisticRegression(C=1e-8), cv=3, threshold=0.5, alpha=1.0)
    with pytest.warns(UserWarning, match="reference set is empty"):
        empty = flat.fit(X_train, y_train)
    display = CANDisplay.from_estimator(empty, X_test, y_test)
    assert "no out-of-fold prediction was confident" in display.text_.get_text()
    assert "uncertainty < 0.5" in display.text_.get_text()


def test_can_count_axis_has_integer_ticks():
    y = np.array([0, 1, 1])
    base = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    adjusted = np.array([[0.6, 0.4], [0.4, 0.6], [0.3, 0.7]])
    display = CANDisplay.from_predictions(y, base, adjusted)
    display.figure_.canvas.draw()
    ticks = display.ax_[1].get_yticks()
    low, high = display.ax_[1].get_ylim()
    shown = ticks[(ticks >= low) & (ticks <= high)]
    assert shown.size >= 2
    np.testing.assert_array_equal(shown, np.round(shown))


def test_can_bad_input():
    y = np.array([0, 1, 1, 0])
    P = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    P_copy = P.copy()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CANDisplay.from_predictions(y[:3], P, P)
    with pytest.raises(ValueError, match="proba_adjusted has shape"):
        CANDisplay.from_predictions(y, P, np.ones((4, 3)) / 3)
    with pytest.raises(ValueError, match="3 entries in classes"):
        CANDisplay.from_predictions(y, P, P, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="1 unique labels in y_true"):
        CANDisplay.from_predictions(np.zeros(4), P, P)
    with pytest.raises(ValueError, match=r"not in classes .*\[2\]"):
        CANDisplay.from_predictions(np.array([0, 1, 2, 0]), P, P, classes=[0, 1])
    with pytest.raises(ValueError, match="2D array"):
        CANDisplay.from_predictions(y, P[:, 0], P[:, 0])
    np.testing.assert_array_equal(P, P_copy)
    with pytest.raises(NotFittedError):
        CANDisplay.from_estimator(CANCalibrator(), P, y)
    with pytest.raises(TypeError, match="expects a fitted CANCalibrator"):
        CANDisplay.from_estimator(LogisticRegression().fit(P, y), P, y)


# --------------------------------------------------------- optional dependency


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )


def test_import_skprob_does_not_import_matplotlib():
    result = _run(
        "import sys, skprob\n"
        "assert skprob.EntropyDisplay and skprob.CANDisplay\n"
        "print('matplotlib' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_plot_without_matplotlib_raises_import_error():
    # None in sys.modules makes every import of matplotlib fail
    result = _run(
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "import numpy as np\n"
        "from skprob import EntropyDisplay\n"
        "try:\n"
        "    EntropyDisplay.from_predictions(np.array([[0.5, 0.5]]))\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "EntropyDisplay.plot requires matplotlib" in result.stdout

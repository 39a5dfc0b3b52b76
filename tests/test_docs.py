"""The API reference page lists exactly the public names of skprob."""

# SPDX-License-Identifier: BSD-3-Clause

import re
from pathlib import Path

import skprob

API_RST = Path(__file__).resolve().parents[1] / "doc" / "api.rst"


def _documented_names(path=API_RST):
    """Entries of the ``autosummary`` blocks of an RST page, read as plain text."""
    names, in_block = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(".. autosummary::"):
            in_block = True
        elif in_block and re.fullmatch(r"   [A-Za-z_][A-Za-z0-9_]*", line):
            names.append(line.strip())
        elif in_block and line and not line.startswith(" "):
            in_block = False
    return names


def test_api_reference_lists_every_public_name():
    missing = sorted(set(skprob.__all__) - set(_documented_names()))
    assert not missing, (
        f"public names missing from doc/api.rst: {missing}; add each to an "
        "autosummary block there (class.rst template for classes, function.rst for "
        "functions)"
    )


def test_api_reference_lists_only_public_names_once():
    documented = _documented_names()
    unknown = sorted(set(documented) - set(skprob.__all__))
    assert not unknown, f"doc/api.rst documents names not in skprob.__all__: {unknown}"
    duplicated = sorted({name for name in documented if documented.count(name) > 1})
    assert not duplicated, f"doc/api.rst lists these names twice: {duplicated}"


def test_parser_reads_autosummary_entries_only(tmp_path):
    # The parser must not pick up indented option lines or prose: check it on a
    # hand-written page with one entry in each of two blocks.
    page = tmp_path / "api.rst"
    page.write_text(
        "Title\n=====\n\nSome prose.\n\n"
        ".. autosummary::\n   :toctree: generated/\n   :template: class.rst\n\n"
        "   Alpha\n\nSection\n=======\n\n   Indented prose\n\n"
        ".. autosummary::\n   :toctree: generated/\n\n   beta_function\n",
        encoding="utf-8",
    )
    assert _documented_names(page) == ["Alpha", "beta_function"]

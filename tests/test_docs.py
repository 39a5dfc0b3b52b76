"""Documentation checks: the API page, the README, and no figures in docstrings."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
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


ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _words(markdown):
    """Words of a Markdown text outside its fenced code blocks."""
    prose = re.sub(r"^```.*?^```", " ", markdown, flags=re.MULTILINE | re.DOTALL)
    return prose.split()


def test_word_count_skips_code_blocks():
    text = "One two\n\n```bash\npip install x\n```\n\nthree.\n"
    assert _words(text) == ["One", "two", "three."]


def test_readme_reads_in_thirty_seconds():
    # about 500 words is what a reader takes in at a glance; the details belong
    # to the user guide
    n_words = len(_words(README.read_text(encoding="utf-8")))
    assert n_words < 500, f"README.md has {n_words} words of prose; keep it under 500"


def test_readme_links_work_as_a_package_description():
    # PyPI renders README.md away from the repository, where relative links break
    links = re.findall(r"\]\(([^)]+)\)", README.read_text(encoding="utf-8"))
    assert links, "README.md links to no user guide or results"
    relative = [link for link in links if not link.startswith("https://")]
    assert not relative, f"README.md links must be absolute https URLs: {relative}"


def _stated_test_time(path, code_mark):
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"{code_mark}pytest{code_mark} takes about (\w+ \w+)", text)
    assert match, f"{path.name} does not say how long pytest takes"
    return match.group(1)


def test_readme_and_install_guide_agree_on_the_test_time():
    readme = _stated_test_time(README, "`")
    install = _stated_test_time(ROOT / "doc" / "install.rst", "``")
    assert readme == install, (readme, install)


# A measured figure: a number followed by a unit of time, a ratio, a percentage
# or an accuracy/likelihood unit (not by a call such as ``2 s(x)``), a count of
# benchmark data sets, or the word "measured" beside a number (without one, the
# sentence points to benchmarks/RESULTS.md, which is where figures belong).
_FIGURE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s*(?:s|ms|x|%|points?|nats?|pt)(?![\w(])"
    r"|\bon \d+ real data sets\b",
    flags=re.IGNORECASE,
)
_MEASURED = re.compile(r"\bmeasured\b", flags=re.IGNORECASE)


def _public_docstrings():
    """(qualified name, docstring) of skprob's public names and their public members."""
    for name in skprob.__all__:
        obj = getattr(skprob, name)
        yield name, inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for member_name, member in vars(obj).items():
                if member_name.startswith("_") and member_name != "__init__":
                    continue
                if callable(member) or isinstance(member, property):
                    yield f"{name}.{member_name}", inspect.getdoc(member) or ""


def _figures(docstring):
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(docstring.split()))
    return [
        sentence
        for sentence in sentences
        if _FIGURE.search(sentence)
        or (_MEASURED.search(sentence) and re.search(r"\d", sentence))
    ]


def test_figure_heuristic_on_hand_written_sentences():
    assert _figures("Fits in 2.5 s on digits. Returns self.") == [
        "Fits in 2.5 s on digits."
    ]
    assert _figures("It gained +0.6 points. It is 3.2x faster.") == [
        "It gained +0.6 points.",
        "It is 3.2x faster.",
    ]
    assert _figures("Chosen on 53 real data sets.") == ["Chosen on 53 real data sets."]
    assert _figures("Measured at 12 ms per row.") == ["Measured at 12 ms per row."]
    assert _figures("The measured times are in benchmarks/RESULTS.md.") == []
    assert _figures("It lost up to 11 pt there.") == ["It lost up to 11 pt there."]
    # parameters, shapes and formulas are not measurements
    assert _figures("The mixture 0.8 q(z) + 0.2 N(m, (2 s(x))^2).") == []
    assert _figures("tol : float, default=1e-4. alpha : float, default=1.0.") == []
    assert _figures("Array of shape (n_samples, n_classes). Gap 0.5 in scores.") == []


def test_public_docstrings_quote_no_measured_figure():
    # figures belong to benchmarks/RESULTS.md, next to the script and machine
    # that produced them; a docstring states behaviour and its reason
    found = {
        name: sentences
        for name, docstring in _public_docstrings()
        if (sentences := _figures(docstring))
    }
    assert not found, "measured figures in public docstrings:\n" + "\n".join(
        f"{name}: {sentence}"
        for name, sentences in found.items()
        for sentence in sentences
    )

"""``python -m skprob``: --help prints usage without running the demo."""

# SPDX-License-Identifier: BSD-3-Clause

import subprocess
import sys

import pytest

from skprob import __main__ as demo


def test_help_prints_usage_and_runs_no_section(capsys, monkeypatch):
    def must_not_run():
        """A section that fails the test if the demo reaches it."""
        raise AssertionError("--help ran a demo section")

    monkeypatch.setattr(demo, "SECTIONS", [must_not_run] + demo.SECTIONS)
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m skprob")
    # every section the demo prints is listed by its name
    for section in demo.SECTIONS[1:]:
        assert section.__name__.removeprefix("section_") in out


def test_unknown_option_is_an_error_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--quick"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --quick" in capsys.readouterr().err


def test_help_from_the_command_line():
    # the module's own entry point, as a user types it
    result = subprocess.run(
        [sys.executable, "-m", "skprob", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m skprob")

"""Sphinx configuration for the skprob documentation."""

# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
from pathlib import Path

# scikit-learn's array-API dispatch needs SciPy imported with its array-API support
# on, and SciPy reads this only at import time: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

HERE = Path(__file__).resolve().parent
# Build from a source checkout even when skprob is not installed.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "_ext"))

import skprob  # noqa: E402

project = "skprob"
author = "skprob developers"
copyright = "2026, skprob developers"
version = release = skprob.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "sklearn_refs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"
nitpicky = False

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"skprob {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = []
html_show_sourcelink = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "doc_module": "skprob",
    "backreferences_dir": "generated",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    # Every example must run: a failing example fails the build.
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

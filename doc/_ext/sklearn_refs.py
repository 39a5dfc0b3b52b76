"""Resolve references into scikit-learn's documentation to links on scikit-learn.org.

Methods inherited from scikit-learn (``score``, ``get_metadata_routing``,
``set_fit_request`` ...) keep their docstrings, which cite scikit-learn's own glossary
(``:term:`fit```) and user-guide labels (``:ref:`metadata_routing```). Those targets do
not exist in this site, and the build has no network for intersphinx, so this
extension turns them into plain external links instead of dangling references.

Every ``:term:`` is sent to scikit-learn's glossary (skprob has none of its own).
Labels are resolved only from the table below, so a mistyped label in skprob's own
pages still fails the build. Python objects under ``sklearn.`` (``:class:``,
``:func:``, numpydoc's See Also entries) link to their page of scikit-learn's API
reference.
"""

# SPDX-License-Identifier: BSD-3-Clause

import re

from docutils import nodes

SKLEARN_URL = "https://scikit-learn.org/stable/"

# label -> (page, anchor) in scikit-learn's documentation.
SKLEARN_LABELS = {
    "accuracy_score": ("modules/model_evaluation.html", "accuracy-score"),
    "metadata_routing": ("metadata_routing.html", ""),
    "array_api": ("modules/array_api.html", ""),
    "glossary": ("glossary.html", ""),
    "cross_validation": ("modules/cross_validation.html", ""),
    "calibration": ("modules/calibration.html", ""),
    "df_output_transform": ("modules/df_output_transform.html", ""),
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "auto_examples/miscellaneous/plot_set_output.html",
        "",
    ),
}


def _glossary_anchor(term):
    return "term-" + re.sub(r"[^0-9a-z_]+", "-", term.strip().lower()).strip("-")


def _link(url, contnode):
    node = nodes.reference("", "", internal=False, refuri=url, reftitle="scikit-learn")
    node.append(contnode)
    return node


_PY_PAGE_TYPES = {"class", "func", "obj", "exc", "data"}
_PY_MEMBER_TYPES = {"meth", "attr"}


def _resolve_python(node, contnode):
    target = node.get("reftarget", "")
    if not target.startswith("sklearn."):
        return None
    reftype = node.get("reftype")
    if reftype in _PY_PAGE_TYPES:
        return _link(f"{SKLEARN_URL}modules/generated/{target}.html", contnode)
    if reftype in _PY_MEMBER_TYPES:
        page = target.rsplit(".", 1)[0]
        return _link(f"{SKLEARN_URL}modules/generated/{page}.html#{target}", contnode)
    return None


def resolve_sklearn_reference(app, env, node, contnode):
    if node.get("refdomain") == "py":
        return _resolve_python(node, contnode)
    if node.get("refdomain") != "std":
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "term":
        return _link(f"{SKLEARN_URL}glossary.html#{_glossary_anchor(target)}", contnode)
    if node.get("reftype") == "ref" and target in SKLEARN_LABELS:
        page, anchor = SKLEARN_LABELS[target]
        url = SKLEARN_URL + page + (f"#{anchor}" if anchor else "")
        return _link(url, contnode)
    return None


def setup(app):
    app.connect("missing-reference", resolve_sklearn_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

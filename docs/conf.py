"""Sphinx configuration for the sklearn-softmax documentation."""

import os

import sklearn_softmax

project = "sklearn-softmax"
author = "The sklearn-softmax developers"
copyright = "The sklearn-softmax developers"
release = sklearn_softmax.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]

exclude_patterns = ["_build"]
# The benchmark pages include the result tables that benchmarks/bench_cpu.py
# writes as markdown; their headings start at level 2, below the page's own.
suppress_warnings = ["myst.header"]
default_role = "literal"

# API pages: numpydoc renders the docstrings; the members are listed by
# autodoc in api.rst, so numpydoc's own member tables are switched off.
autosummary_generate = False
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Links to other projects' documentation need their inventories, which are
# downloaded at build time. Offline that download fails with a warning, which
# -W turns into an error, so the links are opt-in:
#     SKLEARN_SOFTMAX_DOCS_INTERSPHINX=1 python -m sphinx -W -b html docs ...
_intersphinx_targets = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
if os.environ.get("SKLEARN_SOFTMAX_DOCS_INTERSPHINX", "0") not in ("", "0"):
    intersphinx_mapping = _intersphinx_targets
else:
    intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-softmax {release}"
html_theme_options = {
    "github_url": "https://github.com/sklearn-softmax/sklearn-softmax",
    "navigation_with_keys": False,
}

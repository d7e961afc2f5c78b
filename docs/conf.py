"""Sphinx configuration for the sklearn-softmax documentation."""

import os
import sys
from pathlib import Path

# SciPy reads this once, when it is first imported: the example on Array API
# inputs needs SciPy's array API support, and the gallery runs in this
# process, after this file has imported SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from sphinx_gallery.sorting import ExplicitOrder

import sklearn_softmax

# The checks of the built site (docs/_ext/site_checks.py).
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

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
    # MathJax from the package's own copy, served with the site: formulas
    # render without a network, where the default would fetch it from a CDN.
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    # After the build: missing images, broken links within the site, gallery
    # examples without a figure, pages without in-page navigation.
    "site_checks",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
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
# numpydoc's checks on every docstring the pages render, with a failure
# reported as a warning (an error under -W). The exceptions are those of
# tests/test_docstrings.py, which holds classes and functions to a stricter
# rule than their methods.
numpydoc_validation_checks = {"all", "GL01", "GL02", "RT02", "ES01", "SA01", "EX01"}

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

# Every cross-reference must resolve (an error under -W): to this project's
# objects always, and to another project's where its inventory is loaded.
# Projects without one in intersphinx_mapping are named in plain text.
nitpicky = True
_unlinked_projects = ["skl2onnx", "onnxruntime", "joblib", "threadpoolctl"]
if not intersphinx_mapping:
    _unlinked_projects += ["sklearn", "numpy", "scipy", "pickle"]
nitpick_ignore_regex = [
    (r"py:.*", rf"{project}(\..*)?") for project in _unlinked_projects
]

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-softmax {release}"
html_theme_options = {
    "github_url": "https://github.com/sklearn-softmax/sklearn-softmax",
    "navigation_with_keys": False,
    # "On this page": the page's sections, and on the API page its classes
    # and functions; site_checks fails a page where it would be empty. The
    # gallery's grid of thumbnails has no sections, and takes the width.
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        "auto_examples/index": [],
    },
    "show_toc_level": 1,
}
# The pages with no pages below them would show an empty "Section
# Navigation" bar on the left: they go without it, and use the width.
html_sidebars = {page: [] for page in ("api", "benchmarks", "changelog")}

# The gallery: every examples/plot_*.py is run at build time (a failing or
# warning example fails the build) and rendered with its output and figures.
# The order is a reading order, from a first fit to the solvers' details; an
# example missing from the list stops the build.
_GALLERY_ORDER = [
    "plot_quick_start.py",
    "plot_pipeline_grid_search_wine.py",
    "plot_cv_paths.py",
    "plot_iris_decision_regions.py",
    "plot_compare_logistic_regression.py",
    "plot_calibration.py",
    "plot_solver_convergence.py",
    "plot_sparsity_paths.py",
    "plot_streaming_memmap.py",
    "plot_dask_cluster.py",
    "plot_array_api_gpu.py",
    "plot_onnx_export.py",
    "plot_marginal_effects.py",
]


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": ExplicitOrder(_GALLERY_ORDER),
    "download_all_examples": False,
    "remove_config_comments": True,
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
}

"""Checks of the built HTML site, run when an HTML build has finished.

Sphinx warns about a reference it cannot resolve, but not about what the
pages link to by address, what the gallery drew or what a page shows in
its side bar. This extension reads every page it wrote and warns (an error
under ``-W``) about:

- an image whose file is not in the site;
- a link within the site to a page that is not there, or to an anchor that
  the page does not have;
- a gallery example without a figure, or with sphinx-gallery's stand-in
  thumbnail (checked when the gallery was run);
- a page whose "On this page" navigation is empty (a page of one section,
  which the theme would show with an empty side bar), or whose "Section
  Navigation" side bar is shown with nothing in it (a page without pages
  below it, which ``html_sidebars`` should give no such bar);
- a reference to MathJax on another site: formulas must render offline.
"""

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx.util import logging

logger = logging.getLogger(__name__)

# Pages written by Sphinx or sphinx-gallery whose layout has no sections:
# the indices, the search page, and the gallery's grid of thumbnails.
PAGES_WITHOUT_SECTIONS = {
    "genindex.html",
    "py-modindex.html",
    "search.html",
    "auto_examples/index.html",
    "auto_examples/sg_execution_times.html",
    "sg_execution_times.html",
}
GALLERY_DIR = "auto_examples"


class _Page(HTMLParser):
    """What the checks need of one page: its ids, images, links, scripts and
    the entries of its in-page navigation."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.images = []
        self.links = []
        self.scripts = []
        self.gallery_figures = 0
        self.page_toc_entries = 0
        self.section_nav_entries = None
        self._in_page_toc = 0
        self._in_section_nav = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        classes = (attrs.get("class") or "").split()
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
            if {"sphx-glr-single-img", "sphx-glr-multi-img"} & set(classes):
                self.gallery_figures += 1
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._in_page_toc:
                self.page_toc_entries += 1
            if self._in_section_nav:
                self.section_nav_entries += 1
        elif tag in ("script", "link"):
            self.scripts.append(attrs.get("src") or attrs.get("href") or "")
        if tag == "nav":
            if "page-toc" in classes:
                self._in_page_toc = 1
            elif self._in_page_toc:
                self._in_page_toc += 1
            if "bd-docs-nav" in classes:
                self._in_section_nav = 1
                self.section_nav_entries = 0
            elif self._in_section_nav:
                self._in_section_nav += 1

    def handle_endtag(self, tag):
        if tag == "nav" and self._in_page_toc:
            self._in_page_toc -= 1
        if tag == "nav" and self._in_section_nav:
            self._in_section_nav -= 1


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _local_target(page_name, address):
    """The site path and anchor an address of ``page_name`` points to, or
    None for an address outside the site."""
    parts = urlsplit(address)
    if parts.scheme or parts.netloc or address.startswith("//"):
        return None
    path = unquote(parts.path)
    if path:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page_name), path))
    else:
        target = page_name
    return target, unquote(parts.fragment)


def check_site(outdir, gallery_was_run):
    """The problems of the HTML site in ``outdir``, as messages."""
    outdir = Path(outdir)
    pages = {
        path.relative_to(outdir).as_posix(): _parse(path)
        for path in sorted(outdir.rglob("*.html"))
        if not path.relative_to(outdir).parts[0].startswith("_")
    }
    problems = []
    for name, page in pages.items():
        for src in page.images:
            target = _local_target(name, src)
            if target is None:
                problems.append(f"{name}: image from another site: {src}")
            elif not (outdir / target[0]).is_file():
                problems.append(f"{name}: missing image {src}")
        for href in page.links:
            target = _local_target(name, href)
            if target is None:
                continue
            path, anchor = target
            if not (outdir / path).exists():
                problems.append(f"{name}: link to a missing file {href}")
            elif anchor and path in pages and anchor not in pages[path].ids:
                problems.append(f"{name}: link to a missing anchor {href}")
        for src in page.scripts:
            if "mathjax" in src.lower() and _local_target(name, src) is None:
                problems.append(f"{name}: MathJax from another site: {src}")
        if name not in PAGES_WITHOUT_SECTIONS and not page.page_toc_entries:
            problems.append(f"{name}: nothing under 'On this page'")
        if page.section_nav_entries == 0:
            problems.append(f"{name}: an empty 'Section Navigation' side bar")
        is_example = re.fullmatch(rf"{GALLERY_DIR}/plot_\w+\.html", name)
        if gallery_was_run and is_example and not page.gallery_figures:
            problems.append(f"{name}: the example drew no figure")
    gallery_index = pages.get(f"{GALLERY_DIR}/index.html")
    if gallery_was_run and gallery_index is not None:
        for src in gallery_index.images:
            if "no_image" in src:
                problems.append(f"{GALLERY_DIR}/index.html: stand-in thumbnail {src}")
    return problems


def _check_built_site(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    gallery_conf = getattr(app.config, "sphinx_gallery_conf", {}) or {}
    gallery_was_run = bool(gallery_conf.get("plot_gallery", False))
    for problem in check_site(app.outdir, gallery_was_run):
        logger.warning(problem, type="site_checks")


def setup(app):
    # After the handlers registered before it, such as the one that copies
    # MathJax into the site.
    app.connect("build-finished", _check_built_site, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""The checks of the built documentation site, on small sites written here:
each fault is found, and a sound site passes."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

_PATH = Path(__file__).resolve().parents[1] / "docs" / "_ext" / "site_checks.py"
_SPEC = importlib.util.spec_from_file_location("site_checks", _PATH)
site_checks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(site_checks)

PAGE_TOC = (
    '<nav class="page-toc"><ul><li><a href="#part">Part</a></li></ul></nav>'
    '<section id="part"><h2>Part</h2></section>'
)


def write_site(root, pages, files=()):
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def sound_site(root):
    figure = '<img class="sphx-glr-single-img" src="../_images/fig.png">'
    write_site(
        root,
        {
            "index.html": PAGE_TOC
            + '<a href="api.html#fit">fit</a>'
            + '<nav class="bd-docs-nav"><a href="api.html">API</a></nav>',
            "api.html": PAGE_TOC + '<dt id="fit">fit</dt>',
            "auto_examples/index.html": '<img src="../_images/thumb.png">',
            "auto_examples/plot_a.html": PAGE_TOC + figure,
        },
        files=["_images/fig.png", "_images/thumb.png"],
    )


def test_sound_site_passes(tmp_path):
    sound_site(tmp_path)
    assert site_checks.check_site(tmp_path, gallery_was_run=True) == []


@pytest.mark.parametrize(
    "page, body, expected",
    [
        ("page.html", PAGE_TOC + '<img src="_images/gone.png">', "missing image"),
        ("page.html", PAGE_TOC + '<a href="gone.html">x</a>', "missing file"),
        ("page.html", PAGE_TOC + '<a href="api.html#gone">x</a>', "missing anchor"),
        ("page.html", PAGE_TOC + '<a href="#gone">x</a>', "missing anchor"),
        ("page.html", "<h1>One section</h1>", "On this page"),
        (
            "page.html",
            PAGE_TOC + '<nav class="bd-docs-nav"><div></div></nav>',
            "empty 'Section Navigation'",
        ),
        ("auto_examples/plot_b.html", PAGE_TOC, "drew no figure"),
        (
            "page.html",
            PAGE_TOC + '<script src="https://cdn.example/mathjax/tex.js"></script>',
            "MathJax from another site",
        ),
    ],
)
def test_fault_is_found(tmp_path, page, body, expected):
    sound_site(tmp_path)
    write_site(tmp_path, {page: body})
    problems = site_checks.check_site(tmp_path, gallery_was_run=True)
    assert len(problems) == 1, problems
    assert problems[0].startswith(page) and expected in problems[0]


def test_stand_in_thumbnail_is_found(tmp_path):
    sound_site(tmp_path)
    write_site(
        tmp_path,
        {"auto_examples/index.html": '<img src="../_static/no_image.png">'},
        files=["_static/no_image.png"],
    )
    problems = site_checks.check_site(tmp_path, gallery_was_run=True)
    assert len(problems) == 1 and "stand-in thumbnail" in problems[0]


def test_figures_are_not_required_when_the_gallery_was_not_run(tmp_path):
    sound_site(tmp_path)
    write_site(tmp_path, {"auto_examples/plot_b.html": PAGE_TOC})
    assert site_checks.check_site(tmp_path, gallery_was_run=False) == []

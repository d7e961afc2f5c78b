"""The gallery examples read well in the rendered docs.

The gallery shows an example's code in a column 80 characters wide, and
makes its thumbnail from one figure, by default the first: a thumbnail of
several panels shrinks each of them past reading.
"""

import ast
import re
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
MAX_LINE_LENGTH = 80
THUMBNAIL = re.compile(r"^# sphinx_gallery_thumbnail_number = -?\d+$", re.M)


def test_examples_are_found():
    assert EXAMPLES, f"no examples in {EXAMPLES_DIR}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_lines_fit_the_gallery(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    too_long = [
        f"line {number}: {len(line)} characters"
        for number, line in enumerate(lines, start=1)
        if len(line) > MAX_LINE_LENGTH
    ]
    assert not too_long, "\n".join(too_long)


def _makes_a_figure(node):
    """Whether a call makes a figure: pyplot's, or a Display's constructor."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if not isinstance(func, ast.Attribute):
        return False
    if isinstance(func.value, ast.Name) and func.value.id == "plt":
        return func.attr in {"figure", "subplots", "subplot_mosaic"}
    return func.attr.startswith("from_")


def _is_one_axes(call):
    """Whether a call is ``plt.subplots()`` with neither rows nor columns.

    Anything else (a grid, a bare figure filled later, a Display that makes
    its own figure) counts as possibly several panels.
    """
    if call.func.attr != "subplots" or call.args:
        return False
    sizes = {keyword.arg: keyword.value for keyword in call.keywords}
    return all(
        isinstance(sizes.get(name), (type(None), ast.Constant))
        and getattr(sizes.get(name), "value", 1) == 1
        for name in ("nrows", "ncols")
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_thumbnail_is_one_panel(path):
    # Read from the source, without running the example: either the example
    # names its thumbnail figure, or the first figure it makes is one
    # ``plt.subplots()`` axes. This does not look inside the figure the
    # number names; that figure is checked by eye in the built gallery.
    source = path.read_text(encoding="utf-8")
    if THUMBNAIL.search(source):
        return
    calls = [node for node in ast.walk(ast.parse(source)) if _makes_a_figure(node)]
    assert calls, "the example makes no figure"
    first = min(calls, key=lambda node: (node.lineno, node.col_offset))
    assert _is_one_axes(first), (
        f"line {first.lineno}: the first figure may have several panels; "
        "set sphinx_gallery_thumbnail_number to a single-panel figure"
    )

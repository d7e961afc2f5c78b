"""What ``verbose`` prints: a title, a header naming the columns, and one
row per iteration of ``fit`` or per call of ``partial_fit``.

Every column has a fixed width and its numbers a fixed format (scientific
notation for the objective, the gradient and the steps), so that the rows
stay aligned under the header however the numbers change. A row is at most
80 characters wide.
"""

import time
from typing import NamedTuple

# "-1.234567e+00" is 13 characters: room for a sign, though none of the
# numbers printed here is negative.
_SCIENTIFIC = (13, ".6e")
_SEPARATOR = "  "


class Column(NamedTuple):
    """A column of a progress table: its header (one word, so that the
    columns can be told apart by whitespace), its width and the format of
    its numbers."""

    header: str
    width: int
    spec: str

    def cell(self, value):
        """``value`` right-aligned in the column; '-' where it is None."""
        text = "-" if value is None else format(value, self.spec)
        return text.rjust(self.width)


def table_line(cells):
    """One line of a table from its cells, already padded."""
    return _SEPARATOR.join(cells)


def header_line(columns):
    """The header of a table of ``columns``."""
    return table_line(column.header.rjust(column.width) for column in columns)


def row_line(columns, values):
    """A row of a table of ``columns``."""
    return table_line(
        column.cell(value) for column, value in zip(columns, values, strict=True)
    )


OBJECTIVE = Column("objective", *_SCIENTIFIC)
GRAD_NORM = Column("max|grad|", *_SCIENTIFIC)
STEP_NORM = Column("|step|", *_SCIENTIFIC)
STEP_SIZE = Column("t", 9, ".2e")
SECONDS = Column("seconds", 9, ".3f")


class FitProgress:
    """The verbose output of one fit: a callback for a solver, which prints
    its title and header before the first row.

    Each row holds the iteration (the epoch, for a stochastic solver), the
    objective, the largest absolute entry of the gradient, the Euclidean
    norm of the step, the step size ``t`` of the line search for the
    solvers that report it (the Newton solvers: 1 for the full Newton step,
    less where it was shortened), and the seconds since the fit started.

    Parameters
    ----------
    title : str
        The line above the header.
    counter : str
        The header of the first column: 'iter' or 'epoch'.
    """

    def __init__(self, title, counter):
        self.title = title
        self.counter = Column(counter, 6, "d")
        self.columns = None
        self.start = time.perf_counter()

    def __call__(self, progress):
        if self.columns is None:
            self.columns = [self.counter, OBJECTIVE, GRAD_NORM, STEP_NORM]
            if progress.step_size is not None:
                self.columns.append(STEP_SIZE)
            self.columns.append(SECONDS)
            print(self.title)
            print(header_line(self.columns))
        values = [
            progress.iteration,
            float(progress.objective),
            float(progress.grad_norm),
            float(progress.step),
        ]
        if STEP_SIZE in self.columns:
            values.append(progress.step_size)
        values.append(time.perf_counter() - self.start)
        print(row_line(self.columns, values), flush=True)


STREAM_COLUMNS = (
    Column("call", 6, "d"),
    Column("samples", 11, "d"),
    OBJECTIVE,
    GRAD_NORM,
    SECONDS,
)


def print_stream_header(title):
    """The title and header of ``partial_fit``'s table, printed on the
    first call that reports."""
    print(title)
    print(header_line(STREAM_COLUMNS))


def print_stream_row(call, samples, objective, grad_norm, seconds):
    """One row of ``partial_fit``'s table: the call number, the samples seen
    so far, the call's objective (None for a chunk of no weight, where no
    step is taken), the largest absolute gradient entry after the call, and
    the seconds the call took."""
    values = [call, samples, objective, grad_norm, seconds]
    print(row_line(STREAM_COLUMNS, values), flush=True)

# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain-text tables for the collection's filter plugins. PRIVATE to the collection: no stable interface.

A table is a list of rows, each a list of cell strings. Every column is as wide as its widest cell, and columns
are separated by at least ``GAP`` spaces, so a cell never runs into the next one however long it is. The last cell
of a row is never padded and does not widen its column: a row may end early with one long cell (a message) that
runs on from where its column starts.
"""

from __future__ import annotations

from collections.abc import Sequence

GAP = 2


def column_widths(rows: Sequence[Sequence[str]]) -> list[int]:
    """The width of each column: its widest cell that is not the last cell of its row."""
    widths: list[int] = []
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            if index == len(widths):
                widths.append(0)
            widths[index] = max(widths[index], len(cell))
    return widths


def format_row(row: Sequence[str], widths: Sequence[int], indent: str = "") -> str:
    """One line: INDENT, then each cell but the last padded to its column's width plus the gap, then the last cell."""
    cells = [cell.ljust(widths[index] + GAP) for index, cell in enumerate(row[:-1])]
    return (indent + "".join(cells) + (row[-1] if row else "")).rstrip()


def align(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """ROWS as lines whose columns line up (see the module's docstring), each starting with INDENT."""
    widths = column_widths(rows)
    return [format_row(row, widths, indent) for row in rows]

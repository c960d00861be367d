# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what a playbook printed as values: a debug task's msg, and the rows of a table of lines.

Tests compare the values (which rows, in what order, each cell) rather than the lines as printed, so they do not
depend on how wide a column is. ``table`` still checks the alignment: every cell must start where its column's
header starts, and cells must be at least two spaces apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

# A cell: words separated by single spaces (cells are separated by two or more).
_CELL = re.compile(r"\S+(?: \S+)*")


def debug_msgs(output: str, task: str) -> list[Any]:
    """The msg of every debug result of TASK (its name as printed in TASK [...]) in ansible-playbook's default
    output."""
    msgs = []
    in_task = False
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("TASK ["):
            in_task = line.startswith(f"TASK [{task}]")
        elif in_task and line.endswith("=> {"):
            end = lines.index("}", index)
            msgs.append(json.loads("{" + "\n".join(lines[index + 1 : end + 1]))["msg"])
    assert msgs, f"no debug output of task {task!r}:\n{output[-4000:]}"
    return msgs


def debug_msg(output: str, task: str) -> Any:
    """The msg of TASK's one debug result."""
    msgs = debug_msgs(output, task)
    assert len(msgs) == 1, f"{len(msgs)} debug results of task {task!r}"
    return msgs[0]


def cells(line: str) -> list[tuple[int, str]]:
    """(column where it starts, text) of each cell of LINE."""
    return [(match.start(), match.group()) for match in _CELL.finditer(line)]


def split_row(line: str) -> list[str]:
    """The cells of one aligned line."""
    return [cell[1] for cell in cells(line)]


def table(lines: Sequence[str]) -> list[dict[str, str]]:
    """The rows under the header LINES[0], each {header: cell}; '' for a column the row has no cell in.

    Fails when a cell does not start where a header starts (a column out of line, or two cells run together)."""
    starts = dict(cells(lines[0]))
    rows = []
    for line in lines[1:]:
        row = dict.fromkeys(starts.values(), "")
        for start, text in cells(line):
            assert start in starts, f"cell {text!r} at column {start} is under no header of {lines[0]!r}:\n{line!r}"
            row[starts[start]] = text
        rows.append(row)
    return rows


def sections(lines: Sequence[str]) -> list[list[str]]:
    """LINES cut at blank lines."""
    result: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            result[-1].append(line)
        elif result[-1]:
            result.append([])
    return [section for section in result if section]

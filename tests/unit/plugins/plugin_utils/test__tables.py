# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils._tables (columns as wide as their widest cell, two spaces apart) and _filter_input."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.plugin_utils._filter_input import expects
from ansible_collections.azsim.vmss.plugins.plugin_utils._tables import GAP, align, column_widths, format_row
from ansible_collections.azsim.vmss.tests.unit._output import cells

# Cells as the filters make them: words separated by single spaces, no leading or trailing space.
CELL = st.from_regex(r"[A-Za-z0-9/:.,()-]{1,12}( [A-Za-z0-9/:.,()-]{1,12}){0,2}", fullmatch=True)


@pytest.mark.parametrize(
    ("rows", "widths"),
    [
        ([], []),
        ([["a"]], []),
        ([["ab", "c", "long last cell"], ["a", "cde", "x"]], [2, 3]),
        # A short row's last cell (a message) widens nothing.
        ([["name", "FAILED", "a message longer than any column"], ["name", "ok", "m", "on"]], [4, 6, 1]),
    ],
)
def test_column_widths(rows: list[list[str]], widths: list[int]) -> None:
    assert column_widths(rows) == widths


def test_format_row_pads_all_but_the_last_cell_and_strips_the_end() -> None:
    assert cells(format_row(["a", "b", ""], [3, 1], "  ")) == [(2, "a"), (7, "b")]
    assert format_row([], [], "  ") == ""


@given(st.lists(st.lists(CELL, min_size=1, max_size=6), max_size=12), st.sampled_from(["", "  ", "    "]))
def test_aligned_cells_start_where_their_column_starts(rows: list[list[str]], indent: str) -> None:
    """Every row reads back as its cells, each cell of column i starts at the same place in every row, and cells are at
    least GAP spaces apart."""
    lines = align(rows, indent)
    assert len(lines) == len(rows)
    starts: dict[int, set[int]] = {}
    for row, line in zip(rows, lines):
        found = cells(line)
        assert [cell[1] for cell in found] == row
        for index, cell in enumerate(found):
            starts.setdefault(index, set()).add(cell[0])
        for (start, text), following in zip(found, found[1:]):
            assert following[0] - (start + len(text)) >= GAP
    assert all(len(column) == 1 for column in starts.values()), starts
    if rows:
        assert starts[0] == {len(indent)}


def test_expects_turns_input_errors_into_filter_errors_that_name_the_filter() -> None:
    @expects("a dict with a key 'a'")
    def sample_filter(value: dict[str, int]) -> int:
        return value["a"] + 1

    assert sample_filter({"a": 1}) == 2
    with pytest.raises(
        AnsibleFilterError, match=r"^azsim\.vmss\.sample_filter takes a dict with a key 'a'; the input has no key 'a'$"
    ):
        sample_filter({})
    with pytest.raises(AnsibleFilterError, match=r"^azsim\.vmss\.sample_filter takes a dict with a key 'a'; .*str"):
        sample_filter("text")  # type: ignore[arg-type]

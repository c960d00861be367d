# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A document's stored text: the same bytes however the store encodes it (issue 14: big documents in slices)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store import store as store_module
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store


def _reference(doc: Any) -> str:
    """The stored text as documents have always been written: sorted keys, no spaces, ASCII."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _run_like(n: int) -> dict[str, Any]:
    """A run's shape at N instances: ``outcome`` by instance id (sorted as text, not as numbers), ``pending``."""
    return {
        "run_id": 1,
        "outcome": {str(i): {"result": "upgraded", "batch": i % 15 + 1, "resolved": 1735689600 + i} for i in range(n)},
        "pending": [str(i) for i in range(n, 0, -1)],
        "batches": [{"index": 1, "instances": [str(i) for i in range(n)]}],
        "error": None,
        "név": 'ünïcode "quoted"',
        "ratio": 0.25,
    }


@pytest.mark.parametrize("n", [0, 1, 1_999, 2_000, 2_001, 4_000, 4_001, 10_000])
def test_a_big_document_is_stored_as_the_same_text_as_one_encoded_whole(n: int) -> None:
    # A value of more than _SLICE entries is encoded a slice at a time (_dumps_sliced): the bytes must not change.
    doc = _run_like(n)
    assert store_module._dumps(doc) == _reference(doc)


def test_a_big_dict_with_keys_that_are_not_strings_is_encoded_whole() -> None:
    # The encoder sorts such keys before it turns them into text (5000 before 10000, not after): left to it.
    doc = {"ids": {i: str(i) for i in range(5_000, 0, -1)}, "names": {str(i): i for i in range(5_000)}}
    assert store_module._dumps(doc) == _reference(doc)


def test_put_doc_stores_the_sliced_text(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "s.db"))
    doc = _run_like(5_000)
    with store.transaction():
        store.put_docs("runs", [({"scale_set": "k", "run_id": 1, "kind": "os", "start": 0}, doc)])
    stored = store.conn.execute("SELECT doc FROM runs WHERE scale_set = 'k'").fetchone()[0]
    store.close()
    assert stored == _reference(doc)

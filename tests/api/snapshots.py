"""Shared by the response-snapshot tests (test_response_snapshots, test_resource_get_snapshots,
test_admin_get_snapshots): answers recorded once against the code before a speed change, then
compared on every run; `UPDATE_SNAPSHOTS=1` writes them again."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FOLDER = Path(__file__).parent / "snapshots"

#: the snapshots hold row ids, which PostgreSQL's sequences do not reset between tests
sqlite_only = pytest.mark.skipif(str(os.environ.get("TEST_DATABASE_URL", "")).startswith("postgresql"),
                                 reason="row ids differ on PostgreSQL (sequences are not reset between tests)")


def assert_matches(name: str, answers: dict, must_be_200: str) -> None:
    """`answers` ({label: answer}) equal the snapshot `name`, label for label and no label more
    or less; `must_be_200` is a label whose answer has to be a 200 (so a snapshot of refusals
    cannot pass for one of bodies)."""
    path = FOLDER / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        FOLDER.mkdir(exist_ok=True)
        path.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(path.read_text())
    assert answers[must_be_200]["status"] == 200
    for label in expected:
        assert answers[label] == expected[label], label
    assert answers.keys() == expected.keys()

"""catalog_table refuses a catalog file it cannot use before it makes any request, naming it."""

from __future__ import annotations

import pytest

from tests.helpers.modules import run_module


@pytest.mark.parametrize(("content", "reason"), [(None, "No such file"), (b"not a snapshot", "snapshot")])
def test_an_unusable_catalog_file_is_refused_with_its_reason(tmp_path, content, reason):
    path = tmp_path / "next.json.gz"
    if content is not None:
        path.write_bytes(content)
    result = run_module("catalog_table", table="it-catalog", catalog_file=str(path), region="eu-west-1")
    assert result["failed"] and result["msg"].startswith("catalog_file: ") and reason in result["msg"]

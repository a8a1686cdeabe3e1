"""The image_catalog module run in this process, as Mitogen runs it (ansible.cfg's strategy): in
one long-lived interpreter, which it must leave as it found it."""

from __future__ import annotations

import gc

from tests.helpers.images import image_bytes, write
from tests.helpers.modules import run_module


def test_the_module_pauses_the_cyclic_collector_only_for_its_run(tmp_path):
    write(tmp_path, "images/a/lake.jpg", image_bytes())
    cache = tmp_path / "catalog-cache.tsv"
    assert gc.isenabled()
    result = run_module("image_catalog", path=str(tmp_path / "images"), cache_path=str(cache))
    assert result["count"] == 1 and result["changes"]["added"] == ["a-lake"] and cache.exists()
    assert gc.isenabled()  # the interpreter's later modules collect as before
    gc.disable()
    try:
        again = run_module("image_catalog", path=str(tmp_path / "images"), cache_path=str(cache))
        assert again["stats"]["from_cache"] == 1 and not gc.isenabled()  # left as it found it
    finally:
        gc.enable()

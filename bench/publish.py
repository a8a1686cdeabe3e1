"""Benchmark: publishing one changed image into a large catalog, stage by stage.

Issue 18's goal: publishing one changed image into a 1,000,000-image catalog takes <= 30 s. This
runs the publisher's own work for that change (the catalog role's modules, as module_utils
functions, in their order) on a generated folder of N files and the catalog a previous publish
left (its scan cache and its snapshot), one file of which is a new real image:
- scan: list and select the folder's files, reuse the cache's records whose signature holds,
  index the changed file; reading and writing the cache;
- the modules' exchange: the catalog as the JSON an Ansible module answers and the next one reads;
- diff against the published catalog, version, near-duplicates;
- the table module: validate the entries, plan the writes against the table's entries (their
  items decoded as a scan returns them, without the network), the snapshot: the previous one
  patched with the writes (checked against the snapshot written whole, whose time is reported).
Network time (DynamoDB pages, S3 PUT) and Ansible's start-up are not in the figures. The baseline
of the same run: a bare parse of the previous snapshot into one dict per entry (bench/scale.py's).
The folder's other files are stand-ins (one byte each) that the cache already knows, as after a
previous publish. Writes .state/bench/publish.json.

    .venv/bin/python bench/publish.py [--entries 1000000]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(PROJECT_ROOT / "collections"))  # the collection image_delivery.stack, in place

from ansible_collections.image_delivery.stack.plugins.module_utils import catalog_schema as schema  # noqa: E402
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import (  # noqa: E402
    StoredCatalog,
    plan_writes,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import (  # noqa: E402
    hashes_of,
    near_duplicates,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import (  # noqa: E402
    CACHE_FORMAT,
    list_files,
    scan,
    signature_of,
)
from api import synthetic_entries  # noqa: E402
from PIL import Image  # noqa: E402

STATE = PROJECT_ROOT / ".state/bench"
FOLDERS = 1000


def generate_folder(root: Path, entries: list[dict]) -> None:
    """One stand-in file per entry (kept between runs: making a million files takes a while), the
    entries' paths set to theirs."""
    marker = root / ".complete"
    for number, entry in enumerate(entries):
        entry["path"] = f"f{number % FOLDERS:03d}/{entry['image_id']}.jpg"
        entry["name"] = entry["path"].rsplit("/", 1)[1]
        entry["image_id"] = schema.image_id_for(entry["path"])
        entry["key"] = schema.content_key(entry["sha256"], entry["image_id"], entry["format"])
    if marker.exists():
        return
    for folder in range(FOLDERS):
        (root / f"f{folder:03d}").mkdir(parents=True, exist_ok=True)
    for entry in entries:
        with open(root / entry["path"], "wb") as handle:
            handle.write(b"x")
    marker.write_text("")


class Stages:
    """Seconds by stage, in their order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 2)


def measure(count: int) -> dict:
    entries = synthetic_entries(count)
    randomiser = random.Random(11)
    for entry in entries:  # perceptual hashes as photos have them: spread over the 64 bits
        entry["phash"] = f"{randomiser.getrandbits(64):016x}"
    root = STATE / f"publish-tree-{count}"
    generate_folder(root, entries)
    files = list_files(root)
    cache = {
        "format": CACHE_FORMAT,
        "files": {e["path"]: {"signature": signature_of(e["path"], files), "entry": e} for e in entries},
    }
    cache_text = json.dumps(cache, separators=(",", ":"))
    previous_version = schema.catalog_version(entries)
    previous_snapshot = schema.snapshot_bytes(previous_version, entries)
    del cache, files

    # The change: a new real image in the folder.
    changed_path = root / entries[count // 2]["path"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    changed_path.write_bytes(buffer.getvalue())
    try:
        baseline_seconds = time.perf_counter()
        [json.loads(line) for line in gzip.decompress(previous_snapshot).splitlines()[1:]]
        baseline_seconds = time.perf_counter() - baseline_seconds
        timer = Stages()
        with timer.stage("scan: read the cache"):
            cached = json.loads(cache_text)
        with timer.stage("scan: list, select, reuse, index"):
            result = scan(root, cache=cached)
        with timer.stage("scan: write the cache"):
            json.dumps(result.cache, separators=(",", ":"))
        with timer.stage("exchange: module answer as JSON"):
            module_json = json.dumps({"images": result.entries}, separators=(",", ":"))
        with timer.stage("exchange: next module reads it"):
            current = json.loads(module_json)["images"]
        with timer.stage("diff against the published catalog"):
            diff = schema.catalog_diff(entries, current)
        with timer.stage("version"):
            version = schema.catalog_version(current)
        with timer.stage("near-duplicates"):
            near_duplicates(hashes_of(current))
        with timer.stage("table: validate the entries"):
            [schema.validate_entry(entry) for entry in current]
        scanned = [schema.to_item(entry) for entry in entries]
        with timer.stage("table: decode the scanned items"):
            stored_entries = {item["image_id"]["S"]: schema.from_item(item) for item in scanned}
        stored = StoredCatalog(stored_entries, [], schema.read_catalog_item(None))
        with timer.stage("table: plan the writes"):
            plan = plan_writes(stored, current)
        with timer.stage("table: the snapshot, the previous one patched"):
            by_id = {entry["image_id"]: entry for entry in current}
            changes = {i: by_id[i] for i in plan.put} | dict.fromkeys(plan.delete)
            patched_version, patched = schema.patch_snapshot(previous_snapshot, changes)
        whole_seconds = time.perf_counter()
        whole = schema.snapshot_bytes(version, current)
        whole_seconds = time.perf_counter() - whole_seconds
        assert (patched_version, patched) == (version, whole), "the patched snapshot is not the whole one"
    finally:
        changed_path.write_bytes(b"x")
    stages = timer.seconds
    total = sum(stages.values())
    return {
        "entries": count,
        "changes": {name: diff[name] for name in ("added", "changed", "removed")},
        "puts": len(plan.put),
        "stages_s": stages,
        "total_s": round(total, 1),
        "goal_s": 30,
        "baseline_parse_snapshot_s": round(baseline_seconds, 1),
        "total_vs_baseline": round(total / baseline_seconds, 1),
        "snapshot_mb": round(len(previous_snapshot) / 1e6, 1),
        "snapshot_whole_s": round(whole_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    arguments = parser.parse_args()
    os.makedirs(STATE, exist_ok=True)
    report = measure(arguments.entries)
    (STATE / "publish.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

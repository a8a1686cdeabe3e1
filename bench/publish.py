"""Benchmark: publishing one changed image into a large catalog, stage by stage.

Issue 18's goal: publishing one changed image into a 1,000,000-image catalog takes <= 30 s. This
runs the publisher's own work for that change (the catalog role's modules, as their module_utils
functions, in their order) on a generated folder of N files and the state a previous publish left
(its scan cache, which made the published version, and the local copy of the published snapshot),
one file of which is a new real image:
- image_catalog: read the cache while a child process lists the folder, scan (select the folder's
  files, reuse the records whose signature holds, index the changed file), the changes (from the
  records the scan replaced) and the new snapshot (the published one patched), write both,
  near-duplicates, the module's answer as JSON;
- catalog_table: the new snapshot's header, the changed entries checked.
Network time (a GetItem, a HEAD, a PutItem or two, the snapshot's PUT) and Ansible's start-up are
not in the figures. The baseline of the same run: a bare parse of the previous snapshot into one
dict per entry (bench/scale.py's). The new snapshot is checked against the one written whole from
every entry (the publisher's way before, timed apart). The folder's other files are stand-ins (one
byte each) that the cache already knows, as after a previous publish. Writes
.state/bench/publish.json.

    .venv/bin/python bench/publish.py [--entries 1000000]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import json
import os
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(PROJECT_ROOT / "collections"))  # the collection image_delivery.stack, in place
sys.path.insert(0, str(PROJECT_ROOT))  # tests.helpers: the local endpoint as the test layers run it

from ansible_collections.image_delivery.stack.plugins.module_utils import catalog_schema as schema  # noqa: E402
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_changes import (  # noqa: E402
    catalog_changes,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import (  # noqa: E402
    near_duplicates,
    near_duplicates_after,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import (  # noqa: E402
    CACHE_FORMAT,
    cache_text,
    kept_records,
    list_files,
    list_files_ahead,
    read_cache,
    scan,
    signature_of,
    write_cache,
)
from api import synthetic_entries  # noqa: E402
from PIL import Image  # noqa: E402

from tests.helpers.aws import REGION, LocalAws  # noqa: E402
from tests.helpers.iam import endpoint_environment  # noqa: E402
from tests.helpers.playbook import run_playbook  # noqa: E402

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


PLAYBOOK_PORT = 5610  # the local endpoint of this benchmark (the test layers use 5010-5450)
STACK = "bench-publish"


def slowest_tasks(output: str, count: int = 6) -> list[str]:
    """The first lines of profile_tasks' recap (ansible.cfg enables it): the slowest tasks."""
    lines = output.splitlines()
    recap = next((n for n, line in enumerate(lines) if line.startswith("=====")), len(lines))
    return [" ".join(line.split()) for line in lines[recap + 1 : recap + 1 + count] if line.strip()]


def run_the_playbook(root: Path, cache: str, snapshot: bytes, version: str, count: int) -> dict:
    """playbooks/catalog.yml for the change, as a deployer runs it, against a local endpoint set as
    a previous publish left the stack: the version item naming the snapshot in the bucket, the
    scan cache and the local copy of the snapshot in the stack's state. The table holds no entry
    items (the endpoint keeps everything in memory; a publish that trusts the version item does not
    read them). Seconds of the whole run, start-up included, and what its report says."""
    endpoint = [sys.executable, "-m", "local_aws"]
    port = ["--port", str(PLAYBOOK_PORT)]
    subprocess.run([*endpoint, "stop", *port], cwd=PROJECT_ROOT, check=True, capture_output=True)
    started = subprocess.run(
        [*endpoint, "start", *port], cwd=PROJECT_ROOT, capture_output=True, env=endpoint_environment()
    )
    assert started.returncode == 0, started.stderr
    try:
        aws = LocalAws(PLAYBOOK_PORT)
        bucket, table = f"{STACK}-images-123456789012", f"{STACK}-catalog"
        aws.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        ddb = aws.client("dynamodb")
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        key = schema.snapshot_key(version)
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=snapshot)
        ddb.put_item(TableName=table, Item=schema.catalog_item(version, count, [], key))
        state = PROJECT_ROOT / ".state" / STACK
        (state / "catalog/published").mkdir(parents=True, exist_ok=True)
        (state / "catalog/published" / key.rsplit("/", 1)[1]).write_bytes(snapshot)
        (state / "catalog-cache.tsv").write_text(cache)
        (state / "catalog-cache.tsv.journal").unlink(missing_ok=True)
        settings = {"local_endpoint_port": PLAYBOOK_PORT, "stack_name": STACK, "local_data_plane_enabled": False,
                    "catalog_propagation_seconds": 0, "catalog_source_dir": str(root), "storage_bucket": bucket,
                    "storage_table": table, "cdn_distribution_id": ""}  # fmt: skip
        seconds = time.perf_counter()
        run = run_playbook("playbooks/catalog.yml", extra_vars=settings, timeout=1800)
        seconds = time.perf_counter() - seconds
        assert run.returncode == 0, run.tail()
        (STATE / "publish-playbook.log").write_text(run.output)  # with profile_tasks' recap of each task
        report = json.loads((state / "catalog-report.json").read_text())
        return {
            "seconds": round(seconds, 1),
            "slowest_tasks": slowest_tasks(run.output),
            "changed": report["changed"],
            "written": report["written"],
            "compared_by": report["compared_by"],
            "snapshot_patched": report["snapshot_patched"],
            "read_table": report["read_table"],
        }
    finally:
        subprocess.run([*endpoint, "stop", *port], cwd=PROJECT_ROOT, capture_output=True)


def measure(count: int, playbook: bool) -> dict:
    entries = synthetic_entries(count)
    randomiser = random.Random(11)
    for entry in entries:  # perceptual hashes as photos have them: spread over the 64 bits
        entry["phash"] = f"{randomiser.getrandbits(64):016x}"
    root = STATE / f"publish-tree-{count}"
    generate_folder(root, entries)
    files = list_files(root)
    records = {}
    for entry in entries:
        records[entry["path"]] = {
            "signature": signature_of(entry["path"], files),
            "line": schema.snapshot_line(entry),
            "id": entry["image_id"],
            "sha256": entry["sha256"],
            "phash": entry["phash"],
        }
    lines = {record["id"]: record["line"] for record in records.values()}
    previous_snapshot = schema.snapshot_of_lines(None, lines)
    previous_version = schema.snapshot_version(previous_snapshot)
    previous_pairs = near_duplicates({entry["image_id"]: entry["phash"] for entry in entries})
    collisions = kept_records({path: records[path] for path in sorted(records)}).collisions
    text = cache_text(
        {"format": CACHE_FORMAT, "files": records, "version": previous_version, "near_duplicates": previous_pairs,
         "collisions": collisions}
    )  # fmt: skip
    del records, files, lines
    work = STATE / f"publish-work-{count}"
    work.mkdir(exist_ok=True)
    (work / "published.json.gz").write_bytes(previous_snapshot)

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
        gc.disable()  # as the image_catalog module runs
        (work / "cache.tsv").write_text(text)
        (work / "cache.tsv.journal").unlink(missing_ok=True)
        with timer.stage("image_catalog: read the cache (the folder listed meanwhile)"):
            listing = list_files_ahead(root)
            cache = read_cache(str(work / "cache.tsv"))
        with timer.stage("image_catalog: the listing's rest"):
            files = listing()
        with timer.stage("image_catalog: select, reuse, index"):
            result = scan(root, cache=cache, files=files)
        with timer.stage("image_catalog: the changes, the published snapshot patched"):
            published = (work / "published.json.gz").read_bytes()
            found = catalog_changes(result, cache, previous_version, published, True)
        with timer.stage("image_catalog: write the new snapshot"):
            (work / "next.json.gz").write_bytes(found.snapshot)
        with timer.stage("image_catalog: near-duplicates"):
            touched = found.changes["added"] + found.changes["changed"] + found.changes["removed"]
            pairs = near_duplicates_after(result.hashes, cache["near_duplicates"], found.hashes_before, touched)
        with timer.stage("image_catalog: write the cache (its journal)"):
            written = {**result.cache, "version": found.version, "near_duplicates": pairs}
            write_cache(str(work / "cache.tsv"), written, cache, result.indexed)
        with timer.stage("image_catalog: its answer as JSON"):
            answer = json.dumps({"changes": found.changes, "changed_images": found.changed_images, "near": pairs})
        with timer.stage("catalog_table: the snapshot's header, the changes checked"):
            header = schema.snapshot_header((work / "next.json.gz").read_bytes())
            [schema.validate_entry(entry) for entry in json.loads(answer)["changed_images"]]
        current = result.entries
        whole_seconds = time.perf_counter()
        whole = schema.snapshot_bytes(schema.catalog_version(current), current)
        whole_seconds = time.perf_counter() - whole_seconds
        assert found.snapshot == whole and header["version"] == found.version, "the patched snapshot is not whole"
        assert pairs == near_duplicates(result.hashes), "the near-duplicates after the change are not all of them"
        del current, whole, result, cache
        played = run_the_playbook(root, text, previous_snapshot, previous_version, count) if playbook else None
    finally:
        gc.enable()
        changed_path.write_bytes(b"x")
    stages = timer.seconds
    total = sum(stages.values())
    return {
        "entries": count,
        "changes": {name: found.changes[name] for name in ("added", "changed", "removed")},
        "compared_by": found.compared_by,
        "snapshot_patched": found.snapshot_patched,
        "stages_s": stages,
        "total_s": round(total, 1),
        "goal_s": 30,
        "baseline_parse_snapshot_s": round(baseline_seconds, 1),
        "total_vs_baseline": round(total / baseline_seconds, 2),
        "snapshot_mb": round(len(previous_snapshot) / 1e6, 1),
        "snapshot_whole_s": round(whole_seconds, 1),
        **({"playbook": played} if played else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--playbook", action="store_true", help="also time playbooks/catalog.yml for the change on the local endpoint"
    )
    arguments = parser.parse_args()
    os.makedirs(STATE, exist_ok=True)
    report = measure(arguments.entries, arguments.playbook)
    (STATE / "publish.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

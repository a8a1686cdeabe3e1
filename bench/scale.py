"""Benchmark: an instance's cold catalog load at scale, from the version's snapshot.

For each size (generated entries, as bench/api.py makes them), a fresh process loads the snapshot
the publisher writes (catalog_schema.snapshot_bytes) the way a worker does (catalog.CatalogHolder):
read_snapshot (gunzip, parse, validate every entry), shared repeated values, then the search and
similar-image indexes. Reported: the snapshot's
size, the seconds of each step, and the process's peak memory above a baseline child that only
parsed the same snapshot's lines with json.loads (the least any loader must do), with the ratio of the
load's time to that baseline's. Issue 18's goals at 1,000,000 entries: a cold load <= 30 s and
index memory <= 1 GB per instance.
Writes .state/bench/scale.json.

    .venv/bin/python bench/scale.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_SOURCE = PROJECT_ROOT / "files/app/src"
sys.path.insert(0, str(APP_SOURCE))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import synthetic_entries  # noqa: E402
from image_api.catalog_schema import catalog_version, snapshot_bytes  # noqa: E402

# In a child: load the snapshot at argv[1] (of version argv[2]) one way; print seconds and peak RSS.
LOAD = """
import gzip, json, resource, sys, time
sys.path.insert(0, {app!r})
from image_api.catalog import share_repeated_values
from image_api.catalog_schema import read_snapshot
from image_api.search import SearchIndex
from image_api.similar import SimilarIndex
data = open(sys.argv[1], "rb").read()
steps = {{}}
start = time.perf_counter()
if {baseline!r}:
    entries = [json.loads(line) for line in gzip.decompress(data).splitlines()[1:]]
    steps["parse"] = time.perf_counter() - start
else:
    entries = share_repeated_values(read_snapshot(data, sys.argv[2]))
    steps["read"] = time.perf_counter() - start
    mark = time.perf_counter()
    index = SearchIndex.build(entries)
    steps["search_index"] = time.perf_counter() - mark
    mark = time.perf_counter()
    similar = SimilarIndex.build(entries)
    steps["similar_index"] = time.perf_counter() - mark
steps["total"] = time.perf_counter() - start
print(json.dumps({{"seconds": steps, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def load_in_child(path: Path, version: str, baseline: bool) -> dict:
    script = LOAD.format(app=str(APP_SOURCE), baseline=baseline)
    completed = subprocess.run(
        [sys.executable, "-c", script, str(path), version], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.splitlines()[-1])


def measure(size: int, folder: Path) -> dict:
    entries = synthetic_entries(size)
    version = catalog_version(entries)
    started = time.perf_counter()
    data = snapshot_bytes(version, entries)
    write_seconds = time.perf_counter() - started
    del entries
    path = folder / f"snapshot-{size}.json.gz"
    path.write_bytes(data)
    baseline = load_in_child(path, version, baseline=True)
    loaded = load_in_child(path, version, baseline=False)
    return {
        "entries": size,
        "snapshot_mb": round(len(data) / 1e6, 1),
        "snapshot_write_s": round(write_seconds, 1),
        "baseline_parse_s": round(baseline["seconds"]["total"], 1),
        "load_s": {step: round(seconds, 1) for step, seconds in loaded["seconds"].items()},
        "load_vs_parse": round(loaded["seconds"]["total"] / baseline["seconds"]["total"], 1),
        "peak_mb": round(loaded["peak_mb"]),
        "parse_peak_mb": round(baseline["peak_mb"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    out = PROJECT_ROOT / ".state" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(text) for text in args.sizes.split(",")):
        row = measure(size, out)
        rows.append(row)
        print(
            f"{row['entries']:>9,} entries: snapshot {row['snapshot_mb']} MB; load {row['load_s']['total']} s "
            f"({row['load_vs_parse']}x a bare parse; read {row['load_s']['read']} s, search index "
            f"{row['load_s']['search_index']} s, similar {row['load_s']['similar_index']} s); "
            f"peak {row['peak_mb']} MB (bare parse {row['parse_peak_mb']} MB)"
        )
    (out / "scale.json").write_text(json.dumps({"rows": rows, "goals": {"load_s": 30, "memory_mb": 1000}}, indent=2))


if __name__ == "__main__":
    main()

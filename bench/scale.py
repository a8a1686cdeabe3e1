"""Benchmark: an instance's catalog at scale, from the version's snapshot.

For each size (generated entries, as bench/api.py makes them), in fresh processes:
- the first worker of an instance: builds the indexes from the snapshot as it streams
  (catalog.index_catalog) and saves the file the other workers map (catalog_file.save): seconds
  and peak memory;
- a bare parse of the same snapshot into one dict per entry: the baseline;
- every other worker: maps the file, then answers bench/api.py's query mix with all four facets
  (as the page asks) and without (p50 and p99 over ROUNDS rounds), and reports the memory of its
  own (the pages it wrote) beside the file, which the page cache holds once for every worker (an
  instance: the file, whole, and five workers' own memory);
- SQLite FTS5 over the same entries, answering the same queries (an embedded peer).
Issue 18's goals at 1,000,000 entries: a cold load <= 30 s, <= 1 GB per instance, p99 <= 10 ms.
Writes .state/bench/scale.json.

    .venv/bin/python bench/scale.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_SOURCE = PROJECT_ROOT / "files/app/src"
sys.path.insert(0, str(APP_SOURCE))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import QUERIES, synthetic_entries  # noqa: E402
from image_api.catalog_schema import catalog_version, snapshot_bytes, text_tokens  # noqa: E402

# The first worker of an instance: builds the version's indexes from the snapshot as it streams
# (catalog.index_catalog) and saves them as the file the other workers map (catalog_file.save).
BUILD = """
import json, sys, time
sys.path.insert(0, {app!r})
from pathlib import Path
from image_api import catalog_file
from image_api.catalog import index_catalog
from image_api.catalog_schema import iter_snapshot

def status_mb(name):  # this process's own figures (ru_maxrss would count the parent's before exec)
    return int(open("/proc/self/status").read().split(name + ":")[1].split()[0]) / 1024

imported_mb = status_mb("VmRSS")
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
indexes = index_catalog(iter_snapshot(data, sys.argv[2]))
built = time.perf_counter()
catalog_file.save(Path(sys.argv[3]), sys.argv[2], indexes)
saved = time.perf_counter()
print(json.dumps({{"build_s": built - start, "save_s": saved - built, "peak_mb": status_mb("VmHWM") - imported_mb}}))
"""

# A bare parse of the same snapshot into one dict per entry (the least a loader holding entries
# as objects must do): the baseline of the build's time and memory.
PARSE = """
import gzip, json, sys, time

def status_mb(name):
    return int(open("/proc/self/status").read().split(name + ":")[1].split()[0]) / 1024

imported_mb = status_mb("VmRSS")
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
entries = [json.loads(line) for line in gzip.decompress(data).splitlines()[1:]]
print(json.dumps({{"parse_s": time.perf_counter() - start, "peak_mb": status_mb("VmHWM") - imported_mb}}))
"""

# Every other worker: maps the file, then answers the query mix (each query once to warm up, then
# ROUNDS times); its memory split as the kernel counts it (smaps_rollup): what only this process
# holds (private) and what it shares with the other workers through the mapped file.
MAP = """
import json, sys, time
sys.path.insert(0, {app!r})
from pathlib import Path
from image_api import catalog_file

def rollup_mb():
    fields = {{}}
    for line in open("/proc/self/smaps_rollup").read().splitlines()[1:]:
        name, value = line.split(":")[0], line.split()[1]
        fields[name] = int(value) / 1024
    return fields

before = rollup_mb()
start = time.perf_counter()
version, (columns, index, similar), _ = catalog_file.load(Path(sys.argv[1]))
mapped = time.perf_counter() - start
queries = json.loads(sys.argv[2])
timings = {{query: [] for query in queries}}
plain = {{query: [] for query in queries}}
for round_number in range({rounds} + 1):
    for query in queries:
        for facets, kept in ((("tags", "colour", "format", "orientation"), timings), ((), plain)):
            started = time.perf_counter()
            result = index.search(query, limit=20, facets=facets)
            for ordinal in result.ordinals:  # the page's cards, as the API splices them
                bytes(columns.records.cards.of(ordinal))
            if round_number:
                kept[query].append(time.perf_counter() - started)
after = rollup_mb()
# Its own memory is what it wrote (Private_Dirty: the query's arrays, the word lookups); the file's
# pages it read count as Private_Clean here only because no other process maps the file yet: in an
# instance the workers share them, and the file is counted once, whole.
own = lambda f: f["Private_Dirty"]
print(json.dumps({{"map_s": mapped, "timings": timings, "plain": plain, "private_mb": own(after) - own(before),
                  "file_pages_mb": after["Private_Clean"] + after["Shared_Clean"] - before["Private_Clean"]
                  - before["Shared_Clean"], "rss_mb": after["Rss"] - before["Rss"]}}))
"""
ROUNDS = 20


def child(script: str, *arguments: str) -> dict:
    completed = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(size: int, folder: Path) -> dict:
    entries = synthetic_entries(size)
    version = catalog_version(entries)
    started = time.perf_counter()
    data = snapshot_bytes(version, entries)
    write_seconds = time.perf_counter() - started
    fts = fts5_peer(entries, folder / f"fts5-{size}.sqlite")
    del entries
    path = folder / f"snapshot-{size}.json.gz"
    path.write_bytes(data)
    index_file = folder / f"catalog-{size}.catalog"
    parsed = child(PARSE.format(), str(path))
    built = child(BUILD.format(app=str(APP_SOURCE)), str(path), version, str(index_file))
    mapped = child(MAP.format(app=str(APP_SOURCE), rounds=ROUNDS), str(index_file), json.dumps(QUERIES))
    every = [seconds for timings in mapped["timings"].values() for seconds in timings]
    plain = [seconds for timings in mapped["plain"].values() for seconds in timings]
    fts_every = [seconds for timings in fts["timings"].values() for seconds in timings]
    file_mb = index_file.stat().st_size / 1e6
    workers = 5  # a t3.small's: 2 x vCPUs + 1
    return {
        "entries": size,
        "snapshot_mb": round(len(data) / 1e6, 1),
        "snapshot_write_s": round(write_seconds, 1),
        "parse_s": round(parsed["parse_s"], 1),
        "parse_peak_mb": round(parsed["peak_mb"]),
        "build_s": round(built["build_s"], 1),
        "save_s": round(built["save_s"], 1),
        "cold_load_s": round(built["build_s"] + built["save_s"], 1),
        "build_peak_mb": round(built["peak_mb"]),
        "file_mb": round(file_mb),
        "map_s": round(mapped["map_s"], 3),
        "worker_private_mb": round(mapped["private_mb"]),
        "worker_file_pages_mb": round(mapped["file_pages_mb"]),
        "instance_mb": round(file_mb + workers * mapped["private_mb"]),
        "search_ms": {"p50": round(percentile(every, 0.5) * 1000, 2), "p99": round(percentile(every, 0.99) * 1000, 2)},
        "search_ms_by_query": {query: round(percentile(t, 0.5) * 1000, 2) for query, t in mapped["timings"].items()},
        "search_without_facets_ms": {
            "p50": round(percentile(plain, 0.5) * 1000, 2),
            "p99": round(percentile(plain, 0.99) * 1000, 2),
        },
        "fts5_build_s": round(fts["build_s"], 1),
        "fts5_mb": round(fts["file_mb"]),
        "fts5_ms": {
            "p50": round(percentile(fts_every, 0.5) * 1000, 2),
            "p99": round(percentile(fts_every, 0.99) * 1000, 2),
        },
        "fts5_ms_by_query": {query: round(percentile(t, 0.5) * 1000, 2) for query, t in fts["timings"].items()},
    }


def fts5_query(query: str) -> str:
    """The query as FTS5 MATCH text: every word required, the last one also as a prefix (as the
    API treats it); FTS5 has no typo tolerance, so a misspelt word simply matches nothing."""
    words = text_tokens(query)
    if not words:
        return ""
    return " AND ".join([f'"{word}"' for word in words[:-1]] + [f'"{words[-1]}"*'])


def fts5_peer(entries: list[dict], path: Path) -> dict:
    """SQLite FTS5 over the same entries (id, title, tags and colour names weighted as the API
    weighs them), answering the same queries: the top 20 by bm25, their total and their rows."""
    path.unlink(missing_ok=True)
    database = sqlite3.connect(path)
    started = time.perf_counter()
    database.execute("CREATE VIRTUAL TABLE docs USING fts5(image_id, title, tags, colours, record UNINDEXED)")
    database.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
        (
            (e["image_id"].replace("-", " "), e["title"], " ".join(e["tags"]), " ".join(e["colours"]), json.dumps(e))
            for e in entries
        ),
    )
    database.commit()
    build = time.perf_counter() - started
    timings: dict[str, list[float]] = {query: [] for query in QUERIES}
    for round_number in range(ROUNDS + 1):
        for query in QUERIES:
            started = time.perf_counter()
            match = fts5_query(query)
            if match:
                database.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()
                rows = database.execute(
                    "SELECT record FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 1.0, 2.0, 3.0, 0.5) LIMIT 20",
                    (match,),
                ).fetchall()
                [json.loads(row[0]) for row in rows]
            if round_number:
                timings[query].append(time.perf_counter() - started)
    database.close()
    return {"build_s": build, "timings": timings, "file_mb": path.stat().st_size / 1e6}


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
            f"{row['entries']:>9,} entries: snapshot {row['snapshot_mb']} MB. First worker: build "
            f"{row['build_s']} s + save {row['save_s']} s, peak {row['build_peak_mb']} MB (a bare parse into "
            f"dicts: {row['parse_s']} s, {row['parse_peak_mb']} MB). File {row['file_mb']} MB, mapped by "
            f"another worker in {row['map_s']} s, {row['worker_private_mb']} MB of its own after the queries; "
            f"an instance of 5 workers about {row['instance_mb']} MB. Search p50/p99 with facets "
            f"{row['search_ms']['p50']}/{row['search_ms']['p99']} ms, without "
            f"{row['search_without_facets_ms']['p50']}/{row['search_without_facets_ms']['p99']} ms; "
            f"SQLite FTS5 over the same entries "
            f"{row['fts5_ms']['p50']}/{row['fts5_ms']['p99']} ms (built in {row['fts5_build_s']} s, "
            f"{row['fts5_mb']} MB)"
        )
        print(f"    by query (p50 ms): ours {row['search_ms_by_query']}; FTS5 {row['fts5_ms_by_query']}")
    goals = {"cold_load_s": 30, "instance_mb": 1000, "search_p99_ms": 10}
    (out / "scale.json").write_text(json.dumps({"rows": rows, "goals": goals}, indent=2))


if __name__ == "__main__":
    main()

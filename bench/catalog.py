"""Benchmark: catalog indexing and invalidation planning.

Measured in one run, each against a baseline taken in the same run (shared, noisy machines):
- index throughput (images/s) on a generated tree of N images, against plain read + sha256 of the
  same files (the least any indexer must do);
- re-index of the unchanged tree with the cache, as a speed-up over the cold index (goal >= 20x);
- the invalidation planner for N changed images, against sorting the same N paths.
Writes .state/bench/catalog.json.

    .venv/bin/python bench/catalog.py [--images 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "collections"))  # the collection image_delivery.stack, in place

from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import scan  # noqa: E402
from ansible_collections.image_delivery.stack.plugins.module_utils.invalidation_plan import plan_paths, rules_from  # noqa: E402
from PIL import Image  # noqa: E402

RULES = {
    "on_any_change": ["/api/search*", "/image/*"],
    "per_entry": ["/api/images/{image_id}"],
    "per_content": ["/img/{image_id}*"],
    "immutable": ["/images/"],
}


def generate_tree(root: Path, count: int) -> None:
    """count small JPEG/PNG images in 100 folders, made once and reused by later runs."""
    marker = root / f".complete-{count}"
    if marker.exists():
        return
    randomiser = random.Random(42)
    for n in range(count):
        folder = root / f"set-{n % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = (randomiser.randint(64, 320), randomiser.randint(64, 320))
        colour = tuple(randomiser.randrange(256) for _ in range(3))
        image = Image.new("RGB", size, colour)
        fmt = "JPEG" if n % 3 else "PNG"
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        (folder / f"image-{n:05d}.{fmt.lower().replace('jpeg', 'jpg')}").write_bytes(buffer.getvalue())
    marker.touch()


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def hash_only(root: Path) -> int:
    files = sorted(p for p in root.rglob("*") if p.suffix in {".jpg", ".png"})
    for path in files:
        hashlib.sha256(path.read_bytes()).hexdigest()
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    out = PROJECT_ROOT / ".state" / "bench"
    tree = out / f"catalog-tree-{args.images}"
    generate_tree(tree, args.images)

    hash_seconds, files = timed(lambda: hash_only(tree))
    cold_seconds, cold = timed(lambda: scan(tree))
    cache = json.loads(json.dumps(cold.cache))
    warm_seconds, warm = timed(lambda: scan(tree, cache=cache))
    assert warm.stats["indexed"] == 0 and warm.entries == cold.entries

    ids = [e["image_id"] for e in cold.entries]
    change = {"added": [], "changed": ids, "content_changed": ids, "removed": []}
    paths = [f"/img/{i}" for i in ids]
    sort_seconds, _ = timed(lambda: sorted(paths, reverse=True) and sorted(set(paths)))
    rules = rules_from(RULES)
    plan_seconds, planned = timed(lambda: plan_paths(change, rules))

    report = {
        "images": files,
        "hash_only_seconds": round(hash_seconds, 3),
        "index_cold_seconds": round(cold_seconds, 3),
        "index_images_per_second": round(files / cold_seconds, 1),
        "index_cost_vs_hash_only": round(cold_seconds / hash_seconds, 2),
        "index_cached_seconds": round(warm_seconds, 3),
        "reindex_speedup": round(cold_seconds / warm_seconds, 1),
        "reindex_speedup_goal": 20,
        "planner_seconds": round(plan_seconds, 4),
        "planner_vs_sort": round(plan_seconds / sort_seconds, 1),
        "planned_paths": planned,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "catalog.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

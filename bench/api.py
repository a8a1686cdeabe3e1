"""Benchmark: the image API under gunicorn, each figure against a baseline from the same run.

- search throughput and p50/p99 latency with 1k, 10k and 100k generated catalog entries, against
  the hello-world route (/healthz) measured right before (goal: search >= 0.5x hello-world
  throughput, p99 <= 10 ms at 100k). Load: wrk when installed, else a Python client. The server
  runs as the image_api role runs it (its workers and threads for this machine's CPUs).
- resizing a large JPEG to a 400 px WebP with the API's renderer (shrink-on-load) against naive
  Pillow (full decode, resize, encode) in the same process (goal >= 3x).
- encoding an 800 px variant of the demo photos as AVIF (the API's speed and quality mapping)
  against WebP at the same q (goal: AVIF <= 1.5x WebP's time), with the bytes of each.
- memory of the search index for 100k entries (tracemalloc).
Writes .state/bench/api.json.

    .venv/bin/python bench/api.py [--sizes 1000,10000,100000] [--seconds 5] [--parts resize,formats,memory,search]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_SOURCE = PROJECT_ROOT / "files/app/src"
sys.path.insert(0, str(APP_SOURCE))

import yaml  # noqa: E402
from image_api.catalog_schema import content_key, orientation_of  # noqa: E402
from image_api.config import Settings  # noqa: E402
from image_api.resize import Variant, encoder_options, parse_variant, render  # noqa: E402
from image_api.search import SearchIndex  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

# A small vocabulary on purpose: every word matches ~8 % of the catalog (a worst case for ranking).
WORDS = [
    "red", "blue", "green", "lake", "forest", "city", "night", "sunset", "beach", "mountain", "river", "snow",
    "cat", "dog", "bird", "car", "street", "bridge", "tower", "flower", "tree", "leaf", "rock", "cloud",
    "sky", "sea", "boat", "house", "garden", "road", "train", "window", "door", "light", "shadow", "portrait",
    "macro", "abstract", "pattern", "texture", "wood", "stone", "metal", "glass", "water", "fire", "ice", "sand",
]  # fmt: skip
QUERIES = ["lake", "sunset beach", "cat", "forest river", "mountin", "blue", "street light", "flow"]
# A baseline JPEG (as cameras write) and a progressive one, which gains less from draft mode.
LARGE_JPEGS = [
    PROJECT_ROOT / "files/images/wallpapers/honeywave-5k.jpg",
    PROJECT_ROOT / "files/images/wallpapers/volna-5k.jpg",
]


def synthetic_entries(count: int) -> list[dict]:
    randomiser = random.Random(7)
    entries = []
    for n in range(count):
        words = randomiser.sample(WORDS, 4)
        image_id = f"set-{n % 500}-{'-'.join(words[:2])}-{n}"
        sha = hashlib.sha256(image_id.encode()).hexdigest()
        width, height = randomiser.choice([(640, 480), (1920, 1080), (1080, 1920), (800, 800)])
        entries.append({
            "image_id": image_id, "name": f"{image_id}.jpg", "path": f"set/{image_id}.jpg",
            "title": " ".join(words[:3]).capitalize(), "tags": sorted(set(words[1:])), "sha256": sha,
            "key": content_key(sha, image_id, "jpeg"), "content_type": "image/jpeg", "format": "jpeg",
            "width": width, "height": height, "orientation": orientation_of(width, height),
            "bytes": 1000 + n, "colour": "#336699", "colours": [randomiser.choice(["blue", "red", "grey"])],
            "phash": "", "placeholder": "", "focus": "",
        })  # fmt: skip
    return entries


def server_shape() -> tuple[int, int]:
    """gunicorn's workers and threads as the image_api role runs it on this machine's CPUs (its
    defaults: 2 x CPUs + 1 workers, image_api_threads each)."""
    defaults = yaml.safe_load((PROJECT_ROOT / "roles/image_api/defaults/main.yml").read_text())
    return 2 * (os.cpu_count() or 1) + 1, int(defaults["image_api_threads"])


SERVER_SHAPE = server_shape()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api(catalog_file: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(APP_SOURCE), "IMAGE_API_CONFIG": "/nonexistent",
           "IMAGE_API_CATALOG_FILE": str(catalog_file), "IMAGE_API_LOG_REQUESTS": "false",
           "IMAGE_API_CACHE_DIR": str(catalog_file.parent / "api-cache"),
           "IMAGE_API_MAX_SEARCH_LIMIT": "100"}  # fmt: skip
    gunicorn = Path(sys.executable).parent / "gunicorn"
    workers, threads = SERVER_SHAPE
    command = [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
               "--threads", str(threads), "image_api.wsgi:create_application()"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass  # gunicorn is still starting: poll again until the deadline
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"API not ready: {log.read_text()[-2000:]}")


def load_with_wrk(port: int, paths: list[str], seconds: int, connections: int = 8) -> dict:
    script = Path("/tmp/bench-api-paths.lua")
    quoted = ", ".join(json.dumps(p) for p in paths)
    script.write_text(f"local paths = {{{quoted}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                      "  return wrk.format('GET', paths[i])\nend\n")  # fmt: skip
    output = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50%"),
        "p99_ms": latency("99%"),
        "errors": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        "tool": f"wrk, {connections} connections",
    }


def load_with_python(port: int, paths: list[str], seconds: int, connections: int = 8) -> dict:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = offset
        while time.monotonic() < stop:
            start = time.perf_counter()
            connection.request("GET", paths[n % len(paths)])
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            errors[0] += response.status >= 400
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "requests_per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 2),
        "errors": errors[0],
        "tool": f"python, {connections} keep-alive connections",
    }


def load(port: int, paths: list[str], seconds: int, connections: int = 8) -> dict:
    return (load_with_wrk if shutil.which("wrk") else load_with_python)(port, paths, seconds, connections)


def search_benchmark(sizes: list[int], seconds: int, work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        catalog = work / f"catalog-{size}.json"
        catalog.write_text(json.dumps(synthetic_entries(size)))
        port = free_port()
        process = start_api(catalog, port, work / f"gunicorn-{size}.log")
        try:
            searches = [f"/api/search?q={q.replace(' ', '+')}&limit=20" for q in QUERIES]
            hello = load(port, ["/healthz"], seconds)
            search = load(port, searches, seconds)
            # One connection: no queueing, so the percentiles are the service time of a request.
            hello_alone = load(port, ["/healthz"], seconds, connections=1)
            search_alone = load(port, searches, seconds, connections=1)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rows.append({
            "entries": size, "hello": hello, "search": search,
            "search_vs_hello_throughput": round(search["requests_per_second"] / hello["requests_per_second"], 2),
            "hello_one_connection": hello_alone, "search_one_connection": search_alone,
        })  # fmt: skip
        print(json.dumps(rows[-1]))
    return rows


def naive_resize(data: bytes, width: int) -> bytes:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    height = round(image.height * width / image.width)
    output = io.BytesIO()
    image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(output, "WEBP", quality=80)
    return output.getvalue()


def resize_benchmark(path: Path, repeats: int = 5) -> dict:
    data = path.read_bytes()
    settings = Settings(catalog_file="x", allowed_widths=(400,))
    variant = parse_variant({"w": "400", "fmt": "webp", "q": "80"}, settings)

    def best_of(action) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
        return min(times)

    naive = best_of(lambda: naive_resize(data, 400))
    ours = best_of(lambda: render(data, variant, settings))
    with Image.open(io.BytesIO(data)) as source:
        size, progressive = source.size, bool(source.info.get("progressive"))
    return {
        "source": f"{path.name} {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP)",
        "progressive": progressive,
        "naive_ms": round(naive * 1000, 1),
        "ours_ms": round(ours * 1000, 1),
        "speedup": round(naive / ours, 1),
        "goal": 3,
    }


def formats_benchmark(width: int = 800, repeats: int = 3) -> dict:
    """Encoding time and bytes per format for the demo photos at one width, summed over the photos."""
    settings = Settings(catalog_file="x")
    photos = sorted((PROJECT_ROOT / "files/images/photos").glob("*.jpg"))
    sources = []
    for photo in photos:
        with Image.open(photo) as image:
            image.draft("RGB", (width, width))
            resized = ImageOps.exif_transpose(image).convert("RGB")
            resized.thumbnail((width, width))
            sources.append(resized)
    totals = {}
    for fmt, pillow_format in (("webp", "WEBP"), ("avif", "AVIF"), ("jpeg", "JPEG")):
        options = encoder_options(Variant(width, None, "contain", fmt, settings.default_quality), settings)
        seconds, size = 0.0, 0
        for source in sources:
            times = []
            for _ in range(repeats):
                output = io.BytesIO()
                start = time.perf_counter()
                source.save(output, pillow_format, **options)
                times.append(time.perf_counter() - start)
            seconds, size = seconds + min(times), size + output.tell()
        totals[fmt] = {"ms": round(seconds * 1000, 1), "kb": round(size / 1024)}
    return {
        "photos": len(sources), "width": width, "q": settings.default_quality, "avif_speed": settings.avif_speed,
        **totals,
        "avif_vs_webp_time": round(totals["avif"]["ms"] / totals["webp"]["ms"], 2),
        "avif_vs_webp_bytes": round(totals["avif"]["kb"] / totals["webp"]["kb"], 2),
        "goal_time": 1.5,
    }  # fmt: skip


def memory_benchmark(count: int) -> dict:
    entries = synthetic_entries(count)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    index = SearchIndex.build(entries)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return {"entries": count, "index_mb": round(grown / 1e6, 1), "words": len(index.vocabulary)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--parts", default="resize,formats,memory,search")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    out = PROJECT_ROOT / ".state" / "bench"
    work = out / "api"
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    measures = {
        "resize": lambda: [resize_benchmark(path) for path in LARGE_JPEGS],
        "formats": formats_benchmark,
        "memory": lambda: memory_benchmark(max(sizes)),
        "search": lambda: search_benchmark(sizes, args.seconds, work),
    }
    report = {name: measure() for name, measure in measures.items() if name in parts}
    # A partial run (--parts) replaces its own parts and keeps the others' last figures.
    previous = json.loads((out / "api.json").read_text()) if (out / "api.json").exists() else {}
    (out / "api.json").write_text(json.dumps({**previous, **report}, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: image engines for /img renders, each against naive Pillow in the same run.

For each source kind (the demo's large baseline and progressive JPEGs, and a 36 MP PNG and WebP
made from a demo photo), a 400 px WebP variant is rendered by:
- naive Pillow: full decode, resize, encode (the baseline of every ratio);
- the API's renderer (image_api.resize.render, reading the original from its file as the API reads
  its disk cache: JPEG decoded by Pillow in draft mode; PNG and WebP
  reduced by libvips to twice the target's scale, then Pillow's Lanczos and encoder; a large
  progressive JPEG from its render copy, made once per image and instance and timed apart as
  once_per_image_ms, as the API keeps it in its disk cache);
- plain pyvips (libvips from pyvips-binary): thumbnail_buffer, which shrinks on load where the
  format allows it, then a WebP save at the same quality.
Time is the best of a few runs; peak memory is the maximum resident size of a fresh process that
renders once (ru_maxrss of a child), minus that of a child that only imports the engine (both have
read the original into memory first, so its bytes count in neither figure).
Then a t3.small's workers (5 processes of 2 threads) all render the large sources at once, with
and without the instance's large-render slot (render_slot.py): their summed peak resident memory
against the instance's 2 GiB.
Writes .state/bench/engines.json. Issue 17's goals: >= 3x naive on every JPEG, peak memory per
render <= 1/4 of naive on the 36 MP PNG and WebP.

    .venv/bin/python bench/engines.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_SOURCE = PROJECT_ROOT / "files/app/src"
WIDTH, QUALITY = 400, 80
SOURCES = {
    "jpeg-baseline": PROJECT_ROOT / "files/images/wallpapers/honeywave-5k.jpg",
    "jpeg-progressive": PROJECT_ROOT / "files/images/wallpapers/volna-5k.jpg",
}
LARGE_SIZE = (7360, 4912)  # 36 MP, as a full-frame camera writes

# One render in a child process, by engine name; prints the seconds it took.
RENDER = {
    "naive": """
from PIL import Image, ImageOps
image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
height = round(image.height * {width} / image.width)
output = io.BytesIO()
image.convert("RGB").resize(({width}, height), Image.Resampling.LANCZOS).save(output, "WEBP", quality={quality})
""",
    "api": """
if COPY is None:
    with open(SOURCE_PATH, "rb") as original:  # as the API reads it from its disk cache
        render(original, VARIANT, SETTINGS)
else:
    render(COPY, VARIANT, SETTINGS, displayed=SHOWN)
""",
    "pyvips": """
import pyvips
image = pyvips.Image.thumbnail_buffer(data, {width}, height=100000, size="down")
image.webpsave_buffer(Q={quality}, strip=True)
""",
}
# Once per image and engine, before the timed renders (timed on its own): what the API keeps in
# its disk cache for an image, the render copy of a large progressive JPEG (app.py, resized()).
SETUP = {
    "api": """
from image_api.config import Settings
from image_api.resize import Variant, make_render_copy, render, uses_render_copy
from PIL import Image
SETTINGS = Settings(catalog_file="x", max_source_pixels=100_000_000)
VARIANT = Variant({width}, None, "contain", "webp", {quality})
SHOWN = Image.open(io.BytesIO(data)).size  # the catalog's displayed size: these carry no rotation
ONCE = time.perf_counter()
COPY = make_render_copy(data) if uses_render_copy(data, SHOWN, VARIANT) else None
ONCE_SECONDS = time.perf_counter() - ONCE if COPY else 0.0
""",
}
IMPORTS = {
    "naive": "from PIL import Image, ImageOps",
    "api": "from image_api.resize import render\nfrom PIL import Image",
    "pyvips": "import pyvips",
}


def child(source: Path, code: str, repeats: int, setup: str = "") -> dict:
    """Run code in a fresh interpreter over the source's bytes, after setup: best seconds, what
    the setup says its once-per-image work took (ONCE_SECONDS) and peak RSS (MB)."""
    script = f"""
import io, resource, sys, time, json
sys.path.insert(0, {str(APP_SOURCE)!r})
SOURCE_PATH = {str(source)!r}
data = open(SOURCE_PATH, "rb").read()
exec(compile({setup!r}, "setup", "exec"))
setup_seconds = globals().get("ONCE_SECONDS", 0.0)
best = None
for _ in range({repeats}):
    start = time.perf_counter()
    exec(compile({code!r}, "render", "exec"))
    elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": best, "setup_seconds": setup_seconds, "peak_mb": peak_mb}}))
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.splitlines()[-1])


def large_sources(folder: Path) -> dict[str, Path]:
    """A 36 MP PNG and WebP made from a demo photo (made once, kept under .state)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for fmt, suffix in (("PNG", "png"), ("WEBP", "webp")):
        path = folder / f"large-36mp.{suffix}"
        if not path.exists():
            with Image.open(PROJECT_ROOT / "files/images/photos/forest-path.jpg") as photo:
                large = photo.convert("RGB").resize(LARGE_SIZE, Image.Resampling.BICUBIC)
            output = io.BytesIO()
            large.save(output, fmt, **({"quality": 90} if fmt == "WEBP" else {"compress_level": 1}))
            path.write_bytes(output.getvalue())
        made[f"{suffix}-36mp"] = path
    return made


# A t3.small as the image_api role runs it: 2 vCPUs, so 5 gunicorn workers of 2 threads (10
# renders at once), in 2 GiB.
INSTANCE = {"type": "t3.small", "memory_mb": 2048, "workers": 5, "threads": 2}
# One worker process: each thread renders every source once (starting at its own offset), taking
# the instance's large-render slot as the API does (app.py), or not when the slot is off.
WORKER = """
import sys, threading
from contextlib import nullcontext
from pathlib import Path
sys.path.insert(0, {app!r})
from image_api.config import Settings
from image_api.render_slot import estimated_bytes, large_render_slot
from image_api.resize import Variant, render
from PIL import Image
settings = Settings(catalog_file="x", max_source_pixels=100_000_000)
sources = [Path(p) for p in {sources!r}]
lock, use_slot = Path({lock!r}), {use_slot!r}

def job(offset):
    for step in range(len(sources)):
        path = sources[(offset + step) % len(sources)]
        with Image.open(path) as image:
            kind, size = image.format.lower(), image.size
        large = use_slot and estimated_bytes(kind, *size) > settings.large_render_bytes
        with large_render_slot(lock, 600) if large else nullcontext(), path.open("rb") as original:
            render(original, Variant({width}, None, "contain", "webp", {quality}), settings)

threads = [threading.Thread(target=job, args=(n + {first},)) for n in range({threads})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def resident_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # exited
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def instance_memory(sources: list[Path], folder: Path, use_slot: bool) -> dict:
    """Peak resident memory of an instance's workers all rendering the large sources at once."""
    workers = []
    for worker in range(INSTANCE["workers"]):
        script = WORKER.format(app=str(APP_SOURCE), sources=[str(s) for s in sources], lock=str(folder / "slot.lock"),
                               use_slot=use_slot, width=WIDTH, quality=QUALITY, threads=INSTANCE["threads"],
                               first=worker * INSTANCE["threads"])  # fmt: skip
        workers.append(subprocess.Popen([sys.executable, "-c", script]))
    started, peak = time.monotonic(), 0.0
    while any(worker.poll() is None for worker in workers):
        peak = max(peak, resident_mb([worker.pid for worker in workers]))
        time.sleep(0.05)
    if any(worker.returncode for worker in workers):
        raise RuntimeError("a worker failed")
    return {"peak_mb": round(peak), "seconds": round(time.monotonic() - started, 1)}


def measure(name: str, source: Path, repeats: int) -> dict:
    row: dict = {"source": name, "bytes": source.stat().st_size}
    for engine, code in RENDER.items():
        setup = SETUP.get(engine, "").format(width=WIDTH, quality=QUALITY)
        rendered = child(source, code.format(width=WIDTH, quality=QUALITY), repeats, setup)
        imported = child(source, IMPORTS[engine], 1)
        row[engine] = {
            "ms": round(rendered["seconds"] * 1000, 1),
            "peak_mb": round(rendered["peak_mb"] - imported["peak_mb"], 1),
            "once_per_image_ms": round(rendered["setup_seconds"] * 1000, 1),
        }
    for engine in ("api", "pyvips"):
        row[f"{engine}_speedup"] = round(row["naive"]["ms"] / row[engine]["ms"], 1)
        row[f"{engine}_memory_share"] = round(row[engine]["peak_mb"] / max(row["naive"]["peak_mb"], 0.1), 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = PROJECT_ROOT / ".state" / "bench"
    started = time.time()
    sources = {**SOURCES, **large_sources(out / "engines")}
    rows = [measure(name, path, args.repeats) for name, path in sources.items()]
    large = [path for name, path in sources.items() if name.endswith("36mp")] + list(SOURCES.values())
    instance = {"instance": INSTANCE, "with_slot": instance_memory(large, out / "engines", use_slot=True),
                "without_slot": instance_memory(large, out / "engines", use_slot=False)}  # fmt: skip
    report = {"width": WIDTH, "quality": QUALITY, "rows": rows, "instance_memory": instance,
              "seconds": round(time.time() - started)}  # fmt: skip
    (out / "engines.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'source':<18}{'naive ms':>10}{'api ms':>9}{'vips ms':>9}{'api x':>7}{'vips x':>8}"
          f"{'naive MB':>10}{'api MB':>8}{'vips MB':>9}{'api once ms':>13}")  # fmt: skip
    for row in rows:
        print(
            f"{row['source']:<18}{row['naive']['ms']:>10}{row['api']['ms']:>9}{row['pyvips']['ms']:>9}"
            f"{row['api_speedup']:>7}{row['pyvips_speedup']:>8}{row['naive']['peak_mb']:>10}"
            f"{row['api']['peak_mb']:>8}{row['pyvips']['peak_mb']:>9}{row['api']['once_per_image_ms']:>13}"
        )
    print(
        f"{INSTANCE['type']} ({INSTANCE['workers']} workers x {INSTANCE['threads']} threads, "
        f"{INSTANCE['memory_mb']} MB): "
        f"every large source rendered by every thread at once peaks at {instance['with_slot']['peak_mb']} MB with "
        f"the large-render slot ({instance['with_slot']['seconds']} s), {instance['without_slot']['peak_mb']} MB "
        f"without ({instance['without_slot']['seconds']} s)"
    )


if __name__ == "__main__":
    main()

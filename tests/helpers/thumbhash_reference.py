"""ThumbHash's reference implementation (Evan Wallace's thumbhash.js, the copy the page decodes
with: files/web/thumbhash.js) run under Node.js, as the oracle for the publisher's encoder."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

from PIL import Image

from tests.helpers.playbook import PROJECT_ROOT

REFERENCE = PROJECT_ROOT / "files/web/thumbhash.js"
# The file is an ES module without a package.json saying so: imported from a data: URL.
SCRIPT = """
import { readFileSync } from "node:fs";
const source = readFileSync(process.argv[1], "utf8");
const thumbhash = await import("data:text/javascript;base64," + Buffer.from(source).toString("base64"));
const bytes = (text) => Uint8Array.from(Buffer.from(text, "base64"));
const text = (array) => Buffer.from(array).toString("base64");
const answers = JSON.parse(readFileSync(0, "utf8")).map((ask) => {
  if (ask.encode) return text(thumbhash.rgbaToThumbHash(ask.encode.w, ask.encode.h, bytes(ask.encode.rgba)));
  const { w, h, rgba } = thumbhash.thumbHashToRGBA(bytes(ask.decode));
  return { w, h, rgba: text(rgba) };
});
process.stdout.write(JSON.stringify(answers));
"""


def _run(asks: list[dict]) -> list:
    node = shutil.which("node")
    assert node, "Node.js runs ThumbHash's reference (make test-tools installs nodejs)"
    completed = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, str(REFERENCE)],
        input=json.dumps(asks), capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(completed.stdout)


def reference_hashes(images: list[Image.Image]) -> list[bytes]:
    """The reference encoder's hash of each RGBA image (at most 100x100)."""
    asks = [
        {"encode": {"w": im.width, "h": im.height, "rgba": base64.b64encode(im.tobytes()).decode()}} for im in images
    ]
    return [base64.b64decode(answer) for answer in _run(asks)]


def reference_pictures(hashes: list[bytes]) -> list[Image.Image]:
    """The reference decoder's RGBA picture of each hash."""
    answers = _run([{"decode": base64.b64encode(raw).decode()} for raw in hashes])
    return [Image.frombytes("RGBA", (a["w"], a["h"]), base64.b64decode(a["rgba"])) for a in answers]

"""Runs a CloudFront Function's source under Node.js: the handler on a list of events, as
CloudFront calls it (the file is a script defining `handler`, not a module)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = """
const { readFileSync } = require("node:fs");
const vm = require("node:vm");
const handler = vm.runInNewContext(readFileSync(process.argv[1], "utf8") + "\\n;handler");
const events = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(events.map((event) => handler(event))));
"""


def viewer_request(uri: str, querystring: dict[str, str], headers: dict[str, str]) -> dict:
    """A viewer-request event in CloudFront's shape (names lower-case, values under `value`)."""
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "127.0.0.1"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": {name: {"value": value} for name, value in querystring.items()},
            "headers": {name.lower(): {"value": value} for name, value in headers.items()},
            "cookies": {},
        },
    }


def run_handler(source: Path, events: list[dict]) -> list[dict]:
    node = shutil.which("node")
    assert node, "Node.js runs the CloudFront Functions in tests (make test-tools installs nodejs)"
    completed = subprocess.run(
        [node, "-e", SCRIPT, str(source)], input=json.dumps(events), capture_output=True, text=True, check=True,
        timeout=60,
    )  # fmt: skip
    return json.loads(completed.stdout)

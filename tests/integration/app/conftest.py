"""The image API under gunicorn, over real HTTP, with the local AWS endpoint for DynamoDB and S3.

The catalog is published with the project's own catalog functions (scan, DynamoDB items, content
keys) from a small folder: demo pictures plus generated ones with EXIF orientation.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    catalog_item,
    catalog_version,
    to_item,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import scan

from local_aws.identities import ADMIN
from tests.helpers.images import EXIF_ORIENTATION, animated_gif, detailed_scene, image_bytes, transparent_png, write
from tests.helpers.playbook import PROJECT_ROOT

APP_SOURCE = PROJECT_ROOT / "files/app/src"
DEMO = PROJECT_ROOT / "files/images"
DEMO_PICKS = ["photos/by-the-water.jpg", "photos/by-the-water.yml", "photos/forest-path.jpg", "photos/forest-path.yml",
              "science/chelsea-the-cat.png", "science/chelsea-the-cat.yml", "icons/cat-icon.gif",
              "wallpapers/wood-dark.webp", "photos/summer-1am.jpg", "photos/summer-1am.yml"]  # fmt: skip
TABLE, BUCKET = "api-test-catalog", "api-test-images"


@dataclass
class Published:
    entries: dict[str, dict]
    folder: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def put_catalog(local_aws, entries: list[dict]) -> None:
    ddb = local_aws.client("dynamodb")
    for entry in entries:
        ddb.put_item(TableName=TABLE, Item=to_item(entry))
    ddb.put_item(TableName=TABLE, Item=catalog_item(catalog_version(entries), len(entries)))


@pytest.fixture(scope="session")
def published(local_aws, tmp_path_factory) -> Published:
    folder = tmp_path_factory.mktemp("api-images")
    for relative in DEMO_PICKS:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO / relative, folder / relative)
    write(folder, "generated/tall-rotated.jpg", image_bytes((400, 200), (0, 90, 200), exif={EXIF_ORIENTATION: 6}))
    # The demo's forest path, stored turned a quarter with EXIF saying so: "more like this" finds it.
    shutil.copyfile(DEMO / "exif/forest-path-rotated.jpg", folder / "generated/forest-path-rotated.jpg")
    # Detail on the left, a focal point (the sidecar's) on the flat right: what fit=cover keeps.
    write(folder, "generated/chequer-focus.png", detailed_scene(detail_at=0.12))
    write(folder, "generated/chequer-focus.yml", b"focus: [0.85, 0.5]\n")
    # What fmt=auto must keep: transparency (PNG without WebP) and frames (WebP for an AVIF viewer).
    write(folder, "generated/transparent-disc.png", transparent_png())
    write(folder, "generated/moving-square.gif", animated_gif(frames=4))
    # Large and progressive: its variants come from a render copy the API keeps in its disk cache.
    write(folder, "generated/progressive-wide.jpg", image_bytes((2600, 1300), (30, 90, 160), progressive=True))
    entries = scan(folder).entries
    ddb, s3 = local_aws.client("dynamodb"), local_aws.client("s3")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for entry in entries:
        s3.put_object(Bucket=BUCKET, Key=entry["key"], Body=(folder / entry["path"]).read_bytes())
    put_catalog(local_aws, entries)
    return Published({e["image_id"]: e for e in entries}, folder)


@dataclass
class Server:
    port: int
    log: Path

    def request(self, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def json(self, path: str, **kwargs):
        status, _headers, data = self.request(path, **kwargs)
        return status, json.loads(data) if data else None


def wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if server.request("/readyz")[0] == 200:
                return
        except OSError:
            pass  # gunicorn is still starting: poll again until the deadline
        time.sleep(0.2)
    raise RuntimeError(f"the API did not become ready:\n{server.log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_api(local_aws, work: Path, **settings: str) -> Iterator[Server]:
    """The API under gunicorn on a free port, on the published catalog, with extra IMAGE_API_* settings."""
    server = Server(free_port(), work / "gunicorn.log")
    env = {
        **os.environ,
        "PYTHONPATH": str(APP_SOURCE),
        # The API's own behaviour is under test here, not its permissions (the e2e layer runs it as
        # the instance role): the emulator's administrator.
        "AWS_ACCESS_KEY_ID": ADMIN.access_key,
        "AWS_SECRET_ACCESS_KEY": ADMIN.secret_key,
        "IMAGE_API_CONFIG": str(work / "absent.env"),
        "IMAGE_API_TABLE": TABLE,
        "IMAGE_API_BUCKET": BUCKET,
        "IMAGE_API_REGION": "eu-west-1",
        "IMAGE_API_ENDPOINT_URL": f"http://127.0.0.1:{local_aws.port}",
        "IMAGE_API_CACHE_DIR": str(work / "cache"),
        "IMAGE_API_REFRESH_SECONDS": "0.5",
        "IMAGE_API_STATIC_DIR": str(PROJECT_ROOT / "files/web"),
        **{f"IMAGE_API_{name.upper()}": value for name, value in settings.items()},
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "--bind", f"127.0.0.1:{server.port}", "--workers", "2", "--threads", "2",
               "--graceful-timeout", "5", "--limit-request-line", "8190",
               "image_api.wsgi:create_application()"]  # fmt: skip
    with server.log.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def api(local_aws, published, tmp_path_factory) -> Iterator[Server]:
    with running_api(local_aws, tmp_path_factory.mktemp("api")) as server:
        yield server

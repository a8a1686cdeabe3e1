"""The local edge runs a distribution's CloudFront Functions and keys on the headers a behavior
lists, as CloudFront does, with a real NGINX (njs) and a real origin.

The /img/* behavior runs roles/cdn/files/image_format.js on viewer requests and lists Accept: a
fmt=auto request reaches the origin with Accept reduced to image/avif, image/webp or nothing, and
the edge keeps one cache entry per reduced value, however many ways browsers spell their Accept
(the origin's Vary: Accept does not split it further, as it does not on CloudFront).
Other behaviors list no header, so the origin never sees the viewer's Accept there (CloudFront
removes it), and a function that fails answers 503 (as CloudFront does).
"""

from __future__ import annotations

import http.client
import http.server
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws.dataplane import edge
from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.sockets import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None or not edge.NJS_MODULE.exists(), reason="needs nginx and njs (make install)"
)

IMAGE_FORMAT = "arn:aws:cloudfront::123456789012:function/unit-image-format"
BROKEN = "arn:aws:cloudfront::123456789012:function/unit-broken"
CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,*/*"
SAFARI_14 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
CURL = "*/*"


def serve_echo(port: int) -> http.server.ThreadingHTTPServer:
    """An origin that answers with the Accept header it was sent (absent: null), cacheable."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps({"accept": self.headers.get("Accept")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.send_header("Vary", "Accept")  # as the image API answers fmt=auto: not part of the key
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def behavior(pattern: str, headers: list[str], function_arn: str = "") -> dict:
    return {
        "PathPattern": pattern,
        "TargetOriginId": "load-balancer",
        "ForwardedValues": {
            "QueryString": True,
            "QueryStringCacheKeys": {"Items": ["w", "fmt"]},
            "Headers": {"Items": headers},
        },
        "FunctionAssociations": {
            "Items": [{"EventType": "viewer-request", "FunctionARN": function_arn}] if function_arn else []
        },
        "MinTTL": 0,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
    }


@pytest.fixture(scope="module")
def edge_address() -> Iterator[tuple[str, int]]:
    origin_port, edge_port = free_port(), free_port()
    origin = serve_echo(origin_port)
    # Not under pytest's tmp_path: as root, NGINX's workers run as nobody, who cannot enter it.
    folder = tempfile.TemporaryDirectory(prefix="edge-functions-")
    Path(folder.name).chmod(0o755)
    settings = edge.EdgeSettings("127.0.0.1", edge_port, f"127.0.0.1:{origin_port}", "127.0.0.1:9", Path(folder.name))
    config = {
        "Origins": {
            "Items": [{"Id": "load-balancer", "DomainName": "alb.example", "CustomOriginConfig": {"HTTPPort": 80}}]
        },
        "CacheBehaviors": {
            "Items": [behavior("/img/*", ["Accept"], IMAGE_FORMAT), behavior("/broken/*", ["Accept"], BROKEN)]
        },
        "DefaultCacheBehavior": behavior("", []),
    }
    code = {
        IMAGE_FORMAT: (PROJECT_ROOT / "roles/cdn/files/image_format.js").read_text(),
        BROKEN: "function handler(event) { return event.request.headers.missing.value; }",
    }
    assert edge.apply(config, settings, code) == "started"
    yield "127.0.0.1", edge_port
    edge.stop(settings)
    origin.shutdown()
    folder.cleanup()


def get(address: tuple[str, int], path: str, accept: str | None) -> tuple[int, str, dict]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request("GET", path, headers={"Accept": accept} if accept is not None else {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("X-Cache", ""), json.loads(body) if response.status == 200 else {}


def test_fmt_auto_is_keyed_on_the_reduced_accept_one_entry_per_format(edge_address):
    path = "/img/photo?w=320&fmt=auto"
    first = {name: get(edge_address, path, accept) for name, accept in [("chrome", CHROME), ("safari", SAFARI_14),
                                                                          ("curl", CURL)]}  # fmt: skip
    assert {name: answer[2]["accept"] for name, answer in first.items()} == {
        "chrome": "image/avif",
        "safari": "image/webp",
        "curl": None,
    }
    assert all(answer[:2] == (200, "Miss from cloudfront") for answer in first.values())
    # A repeat hits, and so does another browser whose Accept reduces to the same value.
    for accept, reduced in [(CHROME, "image/avif"), (FIREFOX, "image/avif"), (SAFARI_14, "image/webp"), (None, None)]:
        status, cache, body = get(edge_address, path, accept)
        assert (status, cache, body["accept"]) == (200, "Hit from cloudfront", reduced), accept


def test_other_formats_share_one_entry_whatever_the_accept(edge_address):
    path = "/img/photo?w=320&fmt=webp"
    assert get(edge_address, path, CHROME) == (200, "Miss from cloudfront", {"accept": None})
    assert get(edge_address, path, SAFARI_14) == (200, "Hit from cloudfront", {"accept": None})


def test_a_behavior_that_lists_no_header_forwards_no_accept(edge_address):
    assert get(edge_address, "/api/search?q=cat", CHROME)[2] == {"accept": None}


def test_a_failing_function_answers_503(edge_address):
    assert get(edge_address, "/broken/x?w=1", CHROME)[0] == 503

"""The local edge caches redirects as CloudFront does, with a real NGINX and a real origin.

CloudFront caches 301 and 302 by the behavior's TTLs, but 307 and 308 only when the origin's
response carries Cache-Control ("How CloudFront processes HTTP 3xx status codes from your
origin"). The image API's canonical-variant redirect (a 308 with Cache-Control) relies on that:
cached, a viewer that keeps asking for a non-canonical spelling costs the origin nothing; not
cached without the header, a local edge more lenient than CloudFront would hide a missing header.
"""

from __future__ import annotations

import http.client
import http.server
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws.dataplane import edge
from tests.helpers.sockets import free_port

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (make install)")

# path -> (status, Cache-Control or None)
ANSWERS = {
    "/img/with-header": (308, "public, max-age=86400"),
    "/img/without-header": (308, None),
    "/img/temporary-with-header": (307, "public, max-age=86400"),
    "/img/moved": (301, None),
}


def serve_redirects(port: int) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, cache_control = ANSWERS[self.path.split("?", 1)[0]]
            self.send_response(status)
            self.send_header("Location", "/img/canonical?w=320&fmt=webp")
            if cache_control:
                self.send_header("Cache-Control", cache_control)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def edge_url() -> Iterator[tuple[str, int]]:
    origin_port, edge_port = free_port(), free_port()
    origin = serve_redirects(origin_port)
    # Not under pytest's tmp_path: as root, NGINX's workers run as nobody, who cannot enter it.
    folder = tempfile.TemporaryDirectory(prefix="edge-redirects-")
    Path(folder.name).chmod(0o755)
    settings = edge.EdgeSettings("127.0.0.1", edge_port, f"127.0.0.1:{origin_port}", "127.0.0.1:9", Path(folder.name))
    config = {
        "Origins": {
            "Items": [{"Id": "load-balancer", "DomainName": "alb.example", "CustomOriginConfig": {"HTTPPort": 80}}]
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "load-balancer",
            "ForwardedValues": {"QueryString": True, "QueryStringCacheKeys": {"Items": ["w", "fmt"]}},
            "MinTTL": 0,
            "DefaultTTL": 86400,
            "MaxTTL": 31536000,
        },
    }
    assert edge.apply(config, settings) == "started"
    yield "127.0.0.1", edge_port
    edge.stop(settings)
    origin.shutdown()
    folder.cleanup()


def get(address: tuple[str, int], path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(
    ("path", "cached"),
    [("/img/with-header", True), ("/img/without-header", False), ("/img/temporary-with-header", True),
     ("/img/moved", True)],
)  # fmt: skip
def test_redirects_are_cached_as_cloudfront_caches_them(edge_url, path, cached):
    first, second = get(edge_url, f"{path}?w=300"), get(edge_url, f"{path}?w=300")
    assert first.status == second.status == ANSWERS[path][0]
    assert second.getheader("Location") == "/img/canonical?w=320&fmt=webp"
    assert first.getheader("X-Cache") == "Miss from cloudfront"
    assert second.getheader("X-Cache") == ("Hit from cloudfront" if cached else "Miss from cloudfront")

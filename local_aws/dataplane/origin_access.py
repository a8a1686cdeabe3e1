"""Origin access for the private bucket: the edge's stand-in for CloudFront Origin Access Control.

The bucket refuses anonymous reads (its policy admits CloudFront's service principal only). On AWS,
CloudFront signs its requests with SigV4; locally the edge proxies ``/<bucket>/<key>`` to this
small server, which fetches the object through the S3 API of the local endpoint and streams it
back with its content type, length, ETag and Cache-Control. Only GET and HEAD are served.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

PASSED_HEADERS = {
    "ContentType": "Content-Type",
    "ETag": "ETag",
    "CacheControl": "Cache-Control",
    "ContentLength": "Content-Length",
}
CHUNK = 256 * 1024


class OriginAccessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], s3_client: Any) -> None:
        self.s3 = s3_client
        super().__init__(address, OriginAccessHandler)


class OriginAccessHandler(BaseHTTPRequestHandler):
    server: OriginAccessServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.serve(with_body=True)

    def do_HEAD(self) -> None:
        self.serve(with_body=False)

    def serve(self, with_body: bool) -> None:
        path = unquote(self.path.split("?", 1)[0])
        bucket, _, key = path.lstrip("/").partition("/")
        if not bucket or not key:
            self.reply_error(HTTPStatus.NOT_FOUND)
            return
        try:
            if with_body:
                response = self.server.s3.get_object(Bucket=bucket, Key=key)
            else:
                response = self.server.s3.head_object(Bucket=bucket, Key=key)
        except self.server.s3.exceptions.NoSuchKey:
            self.reply_error(HTTPStatus.NOT_FOUND)
            return
        except Exception as error:  # the edge must get an answer, whatever the origin said
            code = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 502)
            self.reply_error(
                HTTPStatus.NOT_FOUND if code == 404 else HTTPStatus.FORBIDDEN if code == 403 else HTTPStatus.BAD_GATEWAY
            )
            return
        self.send_response(HTTPStatus.OK)
        for field, header in PASSED_HEADERS.items():
            if response.get(field) is not None:
                self.send_header(header, str(response[field]))
        self.end_headers()
        if with_body:
            body = response["Body"]
            while chunk := body.read(CHUNK):
                self.wfile.write(chunk)

    def reply_error(self, status: HTTPStatus) -> None:
        body = f'{{"error": "{status.phrase.lower()}"}}'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve_in_background(host: str, port: int, s3_client: Any) -> OriginAccessServer:
    server = OriginAccessServer((host, port), s3_client)
    threading.Thread(target=server.serve_forever, name="origin-access", daemon=True).start()
    return server

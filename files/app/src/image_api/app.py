"""The Bottle application: routes, JSON errors, request ids and access logs."""

from __future__ import annotations

import bisect
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path

import bottle

from .cards import card, split_card
from .catalog import CatalogHolder
from .catalog_schema import focus_point
from .config import Settings
from .errors import ApiError, bad_request, not_found
from .negotiation import AUTO, preferred_format
from .openapi import openapi_document
from .queries import SEARCH_PARAMETERS, bounded_int, checked_image_id, encode_cursor, parse_search
from .query_string import parse_query_string
from .render_slot import Busy, estimated_bytes, large_render_slot
from .resize import (
    CONTENT_TYPES,
    RENDER_COPY_NAME,
    VARIANT_PARAMETERS,
    canonical_query,
    make_render_copy,
    parse_variant,
    query_text,
    render,
    resolved,
    uses_render_copy,
)
from .signing import SIGNATURE_PARAMETER, signature, signature_matches
from .store import OriginalStore

ACCESS_LOG = logging.getLogger("image_api.access")
ERROR_LOG = logging.getLogger("image_api.error")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
STATUS_ERRORS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
LONG_CACHE = "public, max-age=31536000"
# A redirect to a canonical variant URL: it depends on the settings (widths, quality levels) only.
REDIRECT_CACHE = "public, max-age=86400"
LARGE_RENDER_LOCK = "large-render.lock"  # in the cache folder, which every worker shares


def _json(status: int, body: dict | str, cache: str = "no-store", **headers: str) -> bottle.HTTPResponse:
    """A JSON answer (body: an object, or its JSON text)."""
    return bottle.HTTPResponse(
        body if isinstance(body, str) else json.dumps(body, separators=(",", ":")),
        status=status,
        headers={"Content-Type": "application/json", "Cache-Control": cache, **headers},
    )


def api_errors(callback: Callable) -> Callable:
    """Route plugin: an ApiError becomes its JSON answer."""

    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Busy as error:
            return _json(error.status, error.body(), **{"Retry-After": str(error.retry_after)})
        except ApiError as error:
            return _json(error.status, error.body())

    return wrapper


class ImageApi:
    def __init__(self, settings: Settings, catalog: CatalogHolder, store: OriginalStore | None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self._automatic_queries: dict[int, str] = {}  # width -> canonical query text of its fmt=auto variant
        # an image's width -> its (thumbnail URL, srcset) split where the image id goes (unsigned URLs)
        self._urls_around_id: dict[int, tuple[list[str], list[str]]] = {}

    # helpers

    @staticmethod
    def _query(allowed: tuple[str, ...] = (), ignore_unknown: bool = False) -> dict[str, str]:
        return parse_query_string(bottle.request.environ.get("QUERY_STRING", ""), allowed, ignore_unknown)

    def _loaded(self):
        if self.catalog.current is None:
            raise ApiError(503, "not_ready", "the catalog is not loaded yet")
        return self.catalog.current

    def _entry(self, image_id: str) -> dict:
        entry = self._loaded().index.entries.get(checked_image_id(image_id))
        if entry is None:
            raise not_found(f"no image with id {image_id}")
        return entry

    def original_url(self, entry: dict) -> str:
        return f"{self.settings.cdn_base_url}/{entry['key']}"

    def _automatic_query(self, width: int) -> str:
        """The canonical query text of the variant at about this width in the best format the
        viewer decodes (fmt=auto): the same for every image, so worked out once per width."""
        query = self._automatic_queries.get(width)
        if query is None:
            variant = parse_variant({"w": str(width), "fmt": AUTO}, self.settings)
            query = self._automatic_queries[width] = query_text(canonical_query(variant, self.settings))
        return query

    def variant_url(self, image_id: str, width: int) -> str:
        """The canonical URL of a variant at about this width (fmt=auto), with no redirect on the way."""
        query = self._automatic_query(width)
        key = self.settings.signing_key
        signed = signature(key, image_id, query) if key else None
        return f"{self.settings.cdn_base_url}{self.variant_path(image_id, query, signed)}"

    @staticmethod
    def variant_path(image_id: str, query: str, signed: str | None) -> str:
        """/img/<id>?<canonical query text>, with the signature when there is one. Only the URLs the
        API hands out are signed by it: a redirect keeps the caller's signature or its lack of one,
        so no request can get a signature minted for a variant of its choosing."""
        if signed is not None:
            query += f"&{SIGNATURE_PARAMETER}={signed}"
        return f"/img/{image_id}?{query}"

    def srcset_widths(self, width: int) -> tuple[int, ...]:
        """The thumbnail's widths for an image this wide: every allowed width up to 4x the
        thumbnail's and the image's own (no upscaling), for <img srcset>: the browser picks by its
        layout and pixel ratio."""
        allowed = self.settings.allowed_widths
        return allowed[: bisect.bisect_right(allowed, min(width, 4 * self.settings.thumbnail_width))] or allowed[:1]

    def _image_urls(self, image_id: str, width: int) -> tuple[str, str]:
        """(thumbnail URL, srcset) of an image. Unsigned, both are the same text around the id for
        every image as wide: worked out once per width, then joined."""
        if self.settings.signing_key:  # each URL has its own signature
            srcset = ", ".join(f"{self.variant_url(image_id, w)} {w}w" for w in self.srcset_widths(width))
            return self.variant_url(image_id, self.settings.thumbnail_width), srcset
        around = self._urls_around_id.get(width)
        if around is None:
            mark = "\0"  # never in an id (a slug)
            thumbnail = self.variant_url(mark, self.settings.thumbnail_width)
            srcset = ", ".join(f"{self.variant_url(mark, w)} {w}w" for w in self.srcset_widths(width))
            around = self._urls_around_id[width] = (thumbnail.split(mark), srcset.split(mark))
        return image_id.join(around[0]), image_id.join(around[1])

    def summary_text(self, image_id: str, card_text: bytes | memoryview, width: int) -> str:
        """An image's summary as JSON text: its card (cards.py) with its URLs, which depend on the
        settings. Ids are slugs, keys are made of them and the CDN base URL holds nothing to escape
        (config.py), so the URLs go in as they are."""
        members, key = split_card(card_text)
        around = self._urls_around_id.get(width)
        if around is None:
            thumbnail, srcset = self._image_urls(image_id, width)
        else:  # the common case, inline: this runs for every result of every search
            thumbnail, srcset = image_id.join(around[0]), image_id.join(around[1])
        return (
            f'{{"id":"{image_id}",{members},"url":"{self.settings.cdn_base_url}/{key}",'
            f'"thumbnail_url":"{thumbnail}","srcset":"{srcset}"}}'
        )

    def summary(self, entry: dict) -> dict:
        return json.loads(self.summary_text(entry["image_id"], card(entry), entry["width"]))

    # routes

    def healthz(self):
        return _json(200, {"status": "ok"})

    def readyz(self):
        loaded = self.catalog.current
        problems = []
        if loaded is None:
            problems.append(f"catalog not loaded ({self.catalog.last_error or 'loading'})")
        if self.store is not None and not self.store.reachable():
            problems.append("image store unreachable")
        if problems:
            return _json(503, {"error": "not_ready", "detail": "; ".join(problems)})
        return _json(200, {"status": "ready", "version": loaded.version, "images": len(loaded.index.entries)})

    def search(self):
        query = parse_search(self._query(SEARCH_PARAMETERS), self.settings)
        loaded = self._loaded()
        result = loaded.index.search(query.text, query.filters, query.limit, query.offset, query.facets)
        end = query.offset + len(result.ids)
        body = {
            "query": query.text,
            "total": result.total,
            "count": len(result.ids),
            "fuzzy": result.fuzzy,
            "suggestion": result.suggestion or None,
            "next_cursor": encode_cursor(end) if end < result.total else None,
            "version": loaded.version,
        }
        if query.facets:
            body["facets"] = result.facets
        # The page's summaries are spliced in as the texts of their cards, not decoded and encoded.
        columns = loaded.index.columns
        results = ",".join(
            self.summary_text(image_id, columns.records.cards.of(ordinal), columns.widths[ordinal])
            for image_id, ordinal in zip(result.ids, result.ordinals, strict=True)
        )
        text = f'{json.dumps(body, separators=(",", ":"))[:-1]},"results":[{results}]}}'
        return _json(200, text, cache="public, max-age=30")

    def image_metadata(self, image_id: str):
        self._query()
        entry = self._entry(image_id)
        fields = ("name", "sha256", "bytes", "content_type")
        return _json(200, {**self.summary(entry), **{f: entry[f] for f in fields}}, cache="public, max-age=60")

    def similar_images(self, image_id: str):
        query = self._query(("limit",))
        limit = bounded_int(query, "limit", 1, self.settings.max_search_limit, self.settings.search_limit)
        entry = self._entry(image_id)
        loaded = self._loaded()
        found = loaded.similar.similar(entry["image_id"], limit) if loaded.similar else []
        body = {
            "id": entry["image_id"],
            "count": len(found),
            "version": loaded.version,
            "results": [{**self.summary(loaded.index.entries[i]), "score": score} for i, score in found],
        }
        return _json(200, body, cache="public, max-age=60")

    def image_alias(self, name: str):
        self._query()
        if not name.strip():
            raise not_found("the name is blank")
        if len(name) > self.settings.max_query_length:
            raise bad_request(f"the name is longer than {self.settings.max_query_length} characters")
        loaded = self._loaded()
        result = loaded.index.search(name, limit=1)
        if not result.ids:
            raise not_found("no image matches that name" if loaded.index.entries else "the catalog is empty")
        entry = loaded.index.entries[result.ids[0]]
        return bottle.HTTPResponse(
            status=302, headers={"Location": self.original_url(entry), "Cache-Control": "public, max-age=60"}
        )

    def resized(self, image_id: str):
        entry = self._entry(image_id)
        # Only the edge's cache key parameters are read (see query_string.py for why others pass).
        query = self._query(VARIANT_PARAMETERS, ignore_unknown=True)
        signed = query.pop(SIGNATURE_PARAMETER, None)
        variant = parse_variant(query, self.settings)
        # One URL per variant: any other spelling (w=300, dpr=2, q=72, no fmt) is redirected to
        # the canonical one instead of rendered, so the renders per image stay within
        # variant_space however many URLs a caller invents. Compared by name and decoded value,
        # never by order or encoding: requests an edge may put under one cache key must get one
        # answer, or a redirect cached under the canonical key would send viewers to themselves.
        # The redirect carries Cache-Control: CloudFront caches a 308 only with it.
        canonical = canonical_query(variant, self.settings)
        key = self.settings.signing_key
        if key and signed is None and self.settings.require_signed_urls:
            raise ApiError(403, "signature_required", "this API serves variants at the signed URLs it hands out")
        if key and signed is not None and not signature_matches(key, entry["image_id"], query_text(canonical), signed):
            raise ApiError(403, "bad_signature", "the signature does not match this image and variant")
        # Without a key, s is just another spelling: redirected away like the others.
        if query != canonical or (signed is not None and not key):
            location = self.variant_path(entry["image_id"], query_text(canonical), signed if key else None)
            return bottle.HTTPResponse(status=308, headers={"Location": location, "Cache-Control": REDIRECT_CACHE})
        # fmt=auto answers by the viewer's Accept (normalised by the edge, which keys on it).
        preferred = preferred_format(bottle.request.headers.get("Accept", "")) if variant.fmt == AUTO else ""
        etag = variant.etag(entry["sha256"], preferred)
        headers = {"ETag": etag, "Cache-Control": LONG_CACHE, **({"Vary": "Accept"} if variant.fmt == AUTO else {})}
        if etag in bottle.request.headers.get("If-None-Match", ""):
            return bottle.HTTPResponse(status=304, headers=headers)
        if self.store is None:
            raise ApiError(503, "store_unavailable", "no image store is configured")
        # The original is read from the disk cache as the decoders go, not held whole in memory.
        with self.store.open(entry["key"]) as original:
            variant = resolved(original, variant, preferred, self.settings)
            displayed = (entry["width"], entry["height"])
            source, size = original, None
            if uses_render_copy(original, displayed, variant):
                source, size = self.store.derived(entry["key"], RENDER_COPY_NAME, make_render_copy), displayed
            large = estimated_bytes(entry["format"], entry["width"], entry["height"]) > self.settings.large_render_bytes
            lock_file = Path(self.settings.cache_dir) / LARGE_RENDER_LOCK
            turn = large_render_slot(lock_file, self.settings.large_render_wait_seconds) if large else nullcontext()
            with turn:
                data = render(source, variant, self.settings, focus_point(entry["focus"]), size)
        return bottle.HTTPResponse(data, status=200, headers={**headers, "Content-Type": CONTENT_TYPES[variant.fmt]})

    def page(self, filename: str = "index.html"):
        """The search page, for development without NGINX (IMAGE_API_STATIC_DIR)."""
        return bottle.static_file(filename, root=self.settings.static_dir)

    def openapi(self):
        self._query()
        return _json(200, openapi_document(self.settings), cache="public, max-age=300")


def error_page(error: bottle.HTTPError) -> str:
    """Bottle's own errors (no route, wrong method, crashes) as JSON, never a stack trace."""
    status = error.status_code
    if status >= 500:
        ERROR_LOG.error("unhandled error: %s", error.exception, exc_info=error.exception)
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "no-store")
    detail = {404: "no such path", 405: "method not allowed"}.get(status, "the server could not answer")
    return json.dumps({"error": STATUS_ERRORS.get(status, "internal_error"), "detail": detail})


def create_app(settings: Settings, catalog: CatalogHolder, store: OriginalStore | None) -> Callable:
    api = ImageApi(settings, catalog, store)
    app = bottle.Bottle(catchall=True)
    app.install(api_errors)
    routes = [
        ("/healthz", api.healthz),
        ("/readyz", api.readyz),
        ("/api/search", api.search),
        ("/api/images/<image_id>", api.image_metadata),
        ("/api/images/<image_id>/similar", api.similar_images),
        ("/image/<name>", api.image_alias),
        ("/img/<image_id>", api.resized),
        ("/api/openapi.json", api.openapi),
    ]
    if settings.static_dir:
        routes += [("/", api.page), ("/<filename:re:[a-z0-9-]+[.](?:html|css|js)>", api.page)]
    for path, callback in routes:
        app.route(path, ["GET", "HEAD"], callback)
    for status in (400, 404, 405, 413, 500):
        app.error(status)(error_page)
    return RequestLog(app, settings)


class RequestLog:
    """WSGI middleware: request ids, the size guard (413) and one JSON access log line per request."""

    def __init__(self, app: Callable, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        seen: dict = {}

        def start(status: str, headers: list, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            headers = [h for h in headers if h[0].lower() != "x-request-id"] + [("X-Request-Id", request_id)]
            return start_response(status, headers, exc_info)

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = self.settings.max_request_bytes + 1
        if (
            length > self.settings.max_request_bytes
            or len(environ.get("QUERY_STRING", "")) > self.settings.max_request_bytes
        ):
            body = json.dumps({"error": "request_too_large", "detail": "the request is larger than this API accepts"})
            start("413 Request Entity Too Large", [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
            chunks: Iterable[bytes] = [body.encode()]
        else:
            chunks = self.app(environ, start)
        size = 0
        for chunk in chunks:
            size += len(chunk)
            yield chunk
        if hasattr(chunks, "close"):
            chunks.close()
        if self.settings.log_requests:
            ACCESS_LOG.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": environ.get("REQUEST_METHOD"),
                        "path": environ.get("PATH_INFO"),
                        "query": environ.get("QUERY_STRING", "")[:200],
                        "status": seen.get("status"),
                        "bytes": size,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                    separators=(",", ":"),
                )
            )

"""Entry point for gunicorn: ``gunicorn 'image_api.wsgi:create_application()'``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import boto3

from .app import create_app
from .catalog import CatalogHolder, FileSource, TableSource
from .config import load_settings
from .store import OriginalStore

CATALOG_FOLDER = "catalog"  # in the cache folder (writable by the service, shared by its workers)


def configure_logging() -> None:
    """Access lines are JSON already; everything goes to stderr (journald on instances)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("image_api")
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False


def create_application(environ: Mapping[str, str] | None = None) -> Callable:
    settings = load_settings(os.environ if environ is None else environ)
    configure_logging()
    session = boto3.session.Session(region_name=settings.region)
    endpoint = {"endpoint_url": settings.endpoint_url} if settings.endpoint_url else {}
    s3 = session.client("s3", **endpoint) if settings.bucket else None
    if settings.catalog_file:
        source = FileSource(settings.catalog_file)
    else:
        source = TableSource(session.client("dynamodb", **endpoint), settings.table, s3, settings.bucket)
    store = None
    if s3 is not None:
        store = OriginalStore(s3, settings.bucket, settings.cache_dir, settings.cache_bytes)
    # The workers share each catalog version as one mapped file beside the originals' cache.
    shared_dir = Path(settings.cache_dir) / CATALOG_FOLDER
    shared_dir.mkdir(parents=True, exist_ok=True)
    catalog = CatalogHolder(source, settings.refresh_seconds, shared_dir)
    catalog.start()  # loads in the background: /readyz answers 503 until then
    return create_app(settings, catalog, store)

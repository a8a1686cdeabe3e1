"""The catalog in memory: loaded from the version's snapshot in the bucket (or, for a catalog
published without one, by scanning the DynamoDB table; or from a JSON file) into a search index,
and refreshed in the background when the table announces a new version, without blocking requests."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .catalog_schema import (
    CATALOG_ITEM_ID,
    CatalogSchemaError,
    from_item,
    read_catalog_item,
    read_snapshot,
    validate_entry,
)
from .search import SearchIndex
from .similar import SimilarIndex

LOG = logging.getLogger("image_api.catalog")


# Entry values that repeat across a catalog (a handful of formats, colours, tag words): one string
# object each instead of one per entry. With the search index holding the entries themselves (not
# copies), a 100k-entry catalog takes about 0.7 of the memory it did (bench/scale.py).
SHARED_FIELDS = ("format", "orientation", "content_type", "colour", "phash", "placeholder", "focus")
SHARED_LISTS = ("tags", "colours")


def share_repeated_values(entries: list[dict]) -> list[dict]:
    """The entries, each repeated value replaced (in place) by one shared string object."""
    canonical: dict[str, str] = {}
    for entry in entries:
        for name in SHARED_FIELDS:
            entry[name] = canonical.setdefault(entry[name], entry[name])
        for name in SHARED_LISTS:
            entry[name] = [canonical.setdefault(value, value) for value in entry[name]]
    return entries


@dataclass(frozen=True)
class LoadedCatalog:
    version: str
    index: SearchIndex
    loaded_at: float
    malformed: int = 0
    similar: SimilarIndex | None = None


class TableSource:
    """The published catalog: the table's version item says which version is current and names its
    snapshot in the bucket, loaded with one GET; without a snapshot, the table is scanned."""

    def __init__(self, dynamodb_client, table: str, s3_client=None, bucket: str = "") -> None:
        self.client = dynamodb_client
        self.table = table
        self.s3 = s3_client
        self.bucket = bucket

    def catalog(self) -> dict:
        item = self.client.get_item(TableName=self.table, Key={"image_id": {"S": CATALOG_ITEM_ID}}, ConsistentRead=True)
        return read_catalog_item(item.get("Item"))

    def version(self) -> str:
        return self.catalog()["version"]

    def load(self) -> tuple[str, list[dict], int]:
        catalog = self.catalog()
        if catalog["snapshot"] and self.s3 is not None and self.bucket:
            data = self.s3.get_object(Bucket=self.bucket, Key=catalog["snapshot"])["Body"].read()
            return catalog["version"], read_snapshot(data, catalog["version"]), 0
        return self.scan()

    def scan(self) -> tuple[str, list[dict], int]:
        entries, malformed, version = [], 0, ""
        for page in self.client.get_paginator("scan").paginate(TableName=self.table):
            for item in page.get("Items", []):
                if item.get("image_id", {}).get("S") == CATALOG_ITEM_ID:
                    version = read_catalog_item(item)["version"]
                    continue
                try:
                    entries.append(from_item(item))
                except CatalogSchemaError:
                    malformed += 1
        return version, entries, malformed


class FileSource:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def version(self) -> str:
        stat = self.path.stat()
        return f"file-{stat.st_mtime_ns}-{stat.st_size}"

    def load(self) -> tuple[str, list[dict], int]:
        version = self.version()
        entries = [validate_entry(entry) for entry in json.loads(self.path.read_text(encoding="utf-8"))]
        return version, entries, 0


class CatalogHolder:
    """Holds the current catalog; swapping in a new one is a single reference assignment."""

    def __init__(self, source, refresh_seconds: float) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.current: LoadedCatalog | None = None
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        try:
            version, entries, malformed = self.source.load()
        except Exception as error:  # store errors keep the previous catalog
            self.last_error = f"{type(error).__name__}: {error}"
            LOG.warning("catalog load failed: %s", self.last_error)
            return False
        entries = share_repeated_values(entries)
        index, similar = SearchIndex.build(entries), SimilarIndex.build(entries)
        self.current = LoadedCatalog(version, index, time.time(), malformed, similar)
        self.last_error = ""
        LOG.info("catalog %s loaded: %d entries, %d malformed", version or "(none)", len(entries), malformed)
        return True

    def refresh_if_changed(self) -> bool:
        try:
            version = self.source.version()
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}"
            return False
        if self.current is not None and version == self.current.version:
            return False
        return self.load()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="catalog-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.refresh_if_changed()

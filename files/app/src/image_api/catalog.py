"""The catalog in memory: loaded from the version's snapshot in the bucket (or, for a catalog
published without one, by scanning the DynamoDB table; or from a JSON file) into compact columns
and the search and similar-image indexes over them, and refreshed in the background when the table
announces a new version, without blocking requests. The snapshot's entries are indexed as they
stream in (it holds them in id order), never all held as dicts at once."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import catalog_file
from .catalog_schema import (
    CATALOG_ITEM_ID,
    CatalogSchemaError,
    from_item,
    iter_snapshot,
    read_catalog_item,
    validate_entry,
)
from .columns import CatalogColumns, ColumnsBuilder
from .search import SearchIndex, SearchIndexBuilder
from .similar import SimilarIndex

# What a source gives: the entries in id order.
Entries = Iterable[dict]


def index_catalog(entries: Entries) -> tuple[CatalogColumns, SearchIndex, SimilarIndex]:
    """The columns and indexes of entries given in strictly increasing id order (columns.OutOfOrder
    otherwise), built in one pass as they come."""
    columns_builder, search_builder = ColumnsBuilder(), SearchIndexBuilder()
    for entry in entries:
        search_builder.add(columns_builder.add(entry), entry)
    columns = columns_builder.finish()
    index = search_builder.finish(columns)
    return columns, index, SimilarIndex.of(columns, by_tag=index.by_value["tags"])


def in_id_order(entries: list[dict]) -> Entries:
    return iter(sorted(entries, key=lambda entry: entry["image_id"]))


LOG = logging.getLogger("image_api.catalog")


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

    def load(self) -> tuple[str, Entries, int]:
        catalog = self.catalog()
        if catalog["snapshot"] and self.s3 is not None and self.bucket:
            data = self.s3.get_object(Bucket=self.bucket, Key=catalog["snapshot"])["Body"].read()
            return catalog["version"], iter_snapshot(data, catalog["version"]), 0
        version, entries, malformed = self.scan()
        return version, in_id_order(entries), malformed

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

    def load(self) -> tuple[str, Entries, int]:
        version = self.version()
        entries = [validate_entry(entry) for entry in json.loads(self.path.read_text(encoding="utf-8"))]
        return version, in_id_order(entries), 0


class CatalogHolder:
    """Holds the current catalog; swapping in a new one is a single reference assignment.
    shared_dir: where the instance's workers share each version as one mapped file
    (catalog_file.py); without it, this process builds and holds its own copy."""

    def __init__(self, source, refresh_seconds: float, shared_dir: Path | None = None) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.shared_dir = shared_dir
        self.current: LoadedCatalog | None = None
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        try:
            if self.shared_dir is None:
                version, (columns, index, similar), malformed = self._build()
            else:
                version, (columns, index, similar), malformed = catalog_file.shared(
                    self.shared_dir, self.source.version(), self._build
                )
        except Exception as error:  # store errors and bad snapshots keep the previous catalog
            self.last_error = f"{type(error).__name__}: {error}"
            LOG.warning("catalog load failed: %s", self.last_error)
            return False
        self.current = LoadedCatalog(version, index, time.time(), malformed, similar)
        self.last_error = ""
        LOG.info("catalog %s loaded: %d entries, %d malformed", version or "(none)", len(columns), malformed)
        return True

    def _build(self) -> catalog_file.Built:
        version, entries, malformed = self.source.load()
        return version, index_catalog(entries), malformed  # a snapshot is read as it is indexed

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
        """Loads the catalog (unless loaded already), then refreshes it, in a thread of its own:
        a worker serves (503 not_ready until the first load) at once, however long the load takes
        (gunicorn stops a worker that is silent for its timeout, 30 s, while it starts)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="catalog-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        if self.current is None:
            self.load()
        while not self._stop.wait(self.refresh_seconds):
            self.refresh_if_changed()

"""s3_content_upload's upload list of a whole catalog (catalog_file): the bucket is verified against
it by the integration layer (tests/integration/test_catalog.py), on the local endpoint."""

from __future__ import annotations

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CatalogSchemaError,
    catalog_version,
    snapshot_bytes,
)
from ansible_collections.image_delivery.stack.plugins.modules.s3_content_upload import catalog_file_objects

from .test_catalog_schema import entry


def test_every_entry_of_a_catalog_file_is_in_the_upload_list(tmp_path):
    entries = [entry("photos-cat"), entry("icons-dog", path="icons/dog.png", content_type="image/png")]
    (tmp_path / "next.json.gz").write_bytes(snapshot_bytes(catalog_version(entries), entries))
    assert catalog_file_objects(str(tmp_path / "next.json.gz"), "/srv/images") == [
        {"src": "/srv/images/icons/dog.png", "key": entries[1]["key"], "content_type": "image/png"},
        {"src": "/srv/images/photos/cat.jpg", "key": entries[0]["key"], "content_type": "image/jpeg"},
    ]


def test_a_file_that_is_no_catalog_is_refused(tmp_path):
    (tmp_path / "not.json.gz").write_bytes(b"not a snapshot")
    with pytest.raises(CatalogSchemaError):
        catalog_file_objects(str(tmp_path / "not.json.gz"), "/srv/images")
    with pytest.raises(CatalogSchemaError):
        catalog_file_objects(str(tmp_path / "missing.json.gz"), "/srv/images")

from __future__ import annotations

import gzip
import io
import json

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    _SLUG,
    CATALOG_ITEM_ID,
    CONTENT_CACHE_CONTROL,
    KEY_PREFIX,
    TABLE_KEY,
    CatalogSchemaError,
    _words,
    catalog_diff,
    catalog_item,
    catalog_version,
    content_key,
    from_item,
    image_id_for,
    normalise_tags,
    parse_json_line,
    patch_snapshot,
    read_catalog_item,
    read_snapshot,
    search_tokens,
    slugify,
    snapshot_bytes,
    snapshot_key,
    tags_are_normal,
    text_tokens,
    to_item,
    validate_entry,
)
from hypothesis import given, settings
from hypothesis import strategies as st

SHA = "ab" * 32


def entry(image_id: str = "photos-cat", sha: str = SHA, **changes) -> dict:
    base = {
        "image_id": image_id,
        "name": "cat.jpg",
        "path": "photos/cat.jpg",
        "title": "Cat",
        "tags": ["cat", "photos"],
        "sha256": sha,
        "key": content_key(sha, image_id, "jpeg"),
        "content_type": "image/jpeg",
        "format": "jpeg",
        "width": 640,
        "height": 480,
        "orientation": "landscape",
        "bytes": 1234,
        "colour": "#aabbcc",
        "colours": ["grey", "blue"],
        "phash": "0f0f33cc0f0f33cc",
        "placeholder": "SegBDIINN3CMlEiad55qYJb6tg==",
        "focus": "0.25,0.6",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Animals/Cat Photo.JPG", "animals-cat-photo"),
        ("a/b.c/d.png", "a-b-c-d"),
        ("Crème brûlée.webp", "creme-brulee"),
        ("no_extension", "no-extension"),
        ("--x--.gif", "x"),
    ],
)
def test_image_ids_are_slugs_of_the_path_without_extension(path, expected):
    assert image_id_for(path) == expected
    assert slugify(expected) == expected


def test_content_key_names_the_hash_and_the_id():
    assert content_key(SHA, "photos-cat", "jpeg") == f"images/{SHA[:16]}/photos-cat.jpg"
    with pytest.raises(CatalogSchemaError, match="sha256"):
        content_key("xyz", "a", "jpeg")
    with pytest.raises(CatalogSchemaError, match="unsupported format"):
        content_key(SHA, "a", "tiff")


def test_tokens_split_words_and_camel_case_and_drop_noise():
    assert text_tokens("TheRedCat_on a-Mat 2024 x") == ["red", "cat", "mat"]
    assert normalise_tags([" Blue  Sky ", "blue sky", "Été", ""]) == ["blue sky", "ete"]
    assert search_tokens(entry(title="Black cat", tags=["pets", "night sky"])) == [
        "photos", "cat", "black", "pets", "night", "sky",
    ]  # fmt: skip


def test_a_valid_entry_round_trips_through_a_dynamodb_item():
    item = to_item(entry())
    assert item["width"] == {"N": "640"}
    assert item["tags"] == {"L": [{"S": "cat"}, {"S": "photos"}]}
    assert from_item(item) == entry()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": "640"}, "width must be an integer"),
        ({"width": True}, "width must be an integer"),
        ({"key": "images/elsewhere.jpg"}, "not its content key"),
        ({"orientation": "portrait"}, "orientation does not match"),
        ({"colour": "red"}, "not #rrggbb"),
        ({"colours": ["blue", "blue"]}, "colours must be distinct names"),
        ({"colours": ["navy"]}, "colours must be distinct names"),
        ({"phash": "0F0F33CC0F0F33CC"}, "not 16 hex digits"),
        ({"placeholder": "not base64!"}, "not a base64 ThumbHash"),
        ({"focus": "1.5,0.5"}, "is not x,y between 0 and 1"),
        ({"focus": "0.5"}, "is not x,y between 0 and 1"),
        ({"tags": ["b", "a"]}, "tags must be"),
        ({"image_id": "Not A Slug"}, "not a slug"),
        ({"format": "bmp"}, "unsupported format"),
        ({"bytes": 0}, "must be positive"),
        ({"extra": 1}, "unknown fields"),
    ],
)
def test_invalid_entries_are_refused_with_the_field_named(changes, message):
    with pytest.raises(CatalogSchemaError, match=message):
        validate_entry(entry(**changes))


def test_malformed_items_are_refused():
    item = to_item(entry())
    del item["sha256"]
    with pytest.raises(CatalogSchemaError, match="not a catalog entry"):
        from_item(item)


def test_items_of_an_older_and_a_newer_publisher_read_alike():
    older = to_item(entry())
    for field in ("colours", "phash", "placeholder", "focus"):  # written before entries had them
        del older[field]
    assert from_item(older) == entry(colours=[], phash="", placeholder="", focus="")
    newer = {**to_item(entry()), "faces": {"L": [{"N": "0.5"}, {"N": "0.5"}]}}  # a field this reader does not know
    assert from_item(newer) == entry()


def test_version_changes_exactly_when_an_entry_changes():
    first = [entry("a"), entry("b")]
    assert catalog_version(first) == catalog_version(list(reversed(first)))
    assert catalog_version(first) != catalog_version([entry("a"), entry("b", title="B")])
    assert len(catalog_version(first)) == 16


def test_diff_separates_content_from_metadata_changes():
    before = [entry("a"), entry("b"), entry("c"), entry("d")]
    after = [entry("a"), entry("b", title="New"), entry("c", sha="cd" * 32), entry("e")]
    assert catalog_diff(before, after) == {
        "added": ["e"],
        "removed": ["d"],
        "changed": ["b", "c"],
        "content_changed": ["c"],
        "unchanged": ["a"],
    }


def test_catalog_item_records_version_and_pending_paths():
    item = catalog_item("v1", 3, ["/b", "/a", "/a"])
    assert item["image_id"] == {"S": CATALOG_ITEM_ID}
    expected = {"version": "v1", "image_count": 3, "pending_paths": ["/a", "/b"], "snapshot": "", "writing": ""}
    assert read_catalog_item(item) == expected
    assert "pending_paths" not in catalog_item("v1", 3) and "writing" not in catalog_item("v1", 3)
    empty = {"version": "", "image_count": 0, "pending_paths": [], "snapshot": "", "writing": ""}
    assert read_catalog_item(None) == empty
    named = read_catalog_item(catalog_item("v1", 3, snapshot=snapshot_key("v1"), writing="v2"))
    assert named["snapshot"] == "catalog/v1.json.gz" and named["writing"] == "v2"


def test_the_catalog_schema_lookup_gives_the_schemas_values():
    from ansible.errors import AnsibleLookupError
    from ansible_collections.image_delivery.stack.plugins.lookup.catalog_schema import LookupModule

    lookup = LookupModule()
    assert lookup.run(["key_prefix", "table_key", "content_cache_control"]) == [
        KEY_PREFIX,
        TABLE_KEY,
        CONTENT_CACHE_CONTROL,
    ]
    with pytest.raises(AnsibleLookupError, match=r"unknown value.*'bucket'"):
        lookup.run(["bucket"])


def test_the_roles_take_the_schemas_values_from_the_lookup_not_a_copy():
    """The table key, the originals' prefix and their Cache-Control live in the schema only."""
    from tests.helpers.playbook import PROJECT_ROOT

    literals = [f'"{KEY_PREFIX}', f"/{KEY_PREFIX}*", CONTENT_CACHE_CONTROL, f": {TABLE_KEY}"]
    roles = PROJECT_ROOT / "roles"
    files = [path for path in roles.glob("*/*/*.y*ml") if path.parent.name != "meta"]  # not meta's prose
    for path in sorted(files) + sorted(roles.glob("*/templates/*.j2")):
        code = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
        assert not [(literal, line) for line in code for literal in literals if literal in line], path
    storage_vars = (PROJECT_ROOT / "roles/storage/vars/main.yml").read_text()
    assert "lookup('image_delivery.stack.catalog_schema', 'table_key')" in storage_vars


def test_a_snapshot_is_the_same_bytes_for_the_same_catalog_and_reads_back():
    first, second = entry(), entry("a-second")
    data = snapshot_bytes("v1", [first, second])
    assert data == snapshot_bytes("v1", [second, first])  # sorted, no time stamp: reproducible
    assert read_snapshot(data, "v1") == [validate_entry(second), validate_entry(first)]


def test_a_snapshot_of_another_version_or_shape_is_refused():
    data = snapshot_bytes("v1", [entry()])
    with pytest.raises(CatalogSchemaError, match="version 'v1', not 'v2'"):
        read_snapshot(data, "v2")
    with pytest.raises(CatalogSchemaError, match="not gzipped JSON lines"):
        read_snapshot(b"not gzip", "v1")
    broken = snapshot_bytes("v1", [entry(width="wide")])
    with pytest.raises(CatalogSchemaError):
        read_snapshot(broken, "v1")


def test_a_snapshot_cut_short_is_refused():
    data = snapshot_bytes("v1", [entry(), entry("a-second")])
    lines = gzip.decompress(data).splitlines(keepends=True)
    short = gzip.compress(b"".join(lines[:-1]))  # the header says two entries, one is there
    with pytest.raises(CatalogSchemaError, match="holds 1 entries, its header says 2"):
        read_snapshot(short, "v1")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(_SLUG, fullmatch=True))
def test_a_slug_splits_into_the_words_the_pattern_finds(slug):
    """text_tokens splits slugs (every image id) at "-" instead of searching them: the same words."""
    assert slug.split("-") == _words(slug)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=8), st.sampled_from(["a b", "a  b", " a", "É", "b", "a", "", "Ab"])), max_size=5
    )
)
def test_tags_are_normal_exactly_when_normalising_leaves_them_as_they_are(tags):
    assert tags_are_normal(tags) == (tags == normalise_tags(tags))


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8))  # fmt: skip
def test_a_json_line_parses_as_json_loads_reads_it(value):
    line = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    assert parse_json_line(line) == json.loads(line)


@pytest.mark.parametrize("line", [b"", b"\n", b'{"a":1} {"b":2}\n', b"{", b"nul\n", b'"\xff"\n'])
def test_a_line_that_is_not_one_json_value_is_refused(line):
    with pytest.raises(ValueError):
        parse_json_line(line)


# Catalogs of ids drawn from a small pool, so that changes hit, merge and split chunks; spread 3
# makes chunks of about three entries (a third of the ids end one).
_IDS = [f"img-{number:02d}" for number in range(40)]
_CATALOGS = st.dictionaries(st.sampled_from(_IDS), st.integers(1, 5), max_size=30)


def _catalog(sizes: dict[str, int]) -> list[dict]:
    return [entry(image_id, bytes=size) for image_id, size in sizes.items()]


@settings(max_examples=300, deadline=None)
@given(_CATALOGS, _CATALOGS, st.sampled_from([1, 2, 3, 7, 2048]))
def test_a_patched_snapshot_is_the_snapshot_of_the_changed_catalog(before, after, spread):
    """patch_snapshot gives byte for byte what snapshot_bytes writes for the changed catalog, and
    its version is catalog_version's, whichever chunks the changes add to, empty, merge or split."""
    old, new = _catalog(before), _catalog(after)
    data = snapshot_bytes(catalog_version(old, spread), old, spread)
    diff = catalog_diff(old, new)
    by_id = {e["image_id"]: e for e in new}
    changes = {i: by_id[i] for i in diff["added"] + diff["changed"]} | dict.fromkeys(diff["removed"])
    version, patched = patch_snapshot(data, changes, spread)
    assert version == catalog_version(new, spread)
    assert patched == snapshot_bytes(version, new, spread)
    assert read_snapshot(patched, version) == sorted(map(validate_entry, new), key=lambda e: e["image_id"])


def _header_of(snapshot: bytes) -> dict:
    return json.loads(gzip.GzipFile(fileobj=io.BytesIO(snapshot)).readline())


def test_a_change_compresses_only_its_chunk_again():
    """One changed entry in a catalog of many chunks: every other chunk's gzip member is the
    previous snapshot's, byte for byte."""
    catalog = [entry(f"img-{number:04d}") for number in range(3000)]
    data = snapshot_bytes(catalog_version(catalog, 50), catalog, 50)
    _, patched = patch_snapshot(data, {"img-1500": entry("img-1500", title="Changed")}, 50)
    before, after = _header_of(data)["chunks"], _header_of(patched)["chunks"]
    assert len(before) == len(after) > 30
    differing = [number for number, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(differing) == 1 and before[differing[0]][0] <= "img-1500"
    assert data.endswith(patched[-before[-1][3] :])  # the last chunk's member copied


def test_a_snapshot_in_other_chunks_is_refused_for_patching():
    data = snapshot_bytes("v1", [entry()], 7)
    with pytest.raises(CatalogSchemaError, match="not in chunks of spread 3"):
        patch_snapshot(data, {}, 3)
    with pytest.raises(CatalogSchemaError, match="no header"):
        patch_snapshot(b"not gzip", {}, 3)
    unchunked = gzip.compress(json.dumps({"format": 1, "version": "v1", "entries": 0}).encode() + b"\n")
    with pytest.raises(CatalogSchemaError, match="not in chunks"):
        patch_snapshot(unchunked, {}, 3)

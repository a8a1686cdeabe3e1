from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible_collections.image_delivery.stack.plugins.module_utils import image_scan
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import (
    cache_text,
    find_images,
    journal_text,
    list_files,
    list_files_ahead,
    parse_sidecar,
    read_cache,
    read_cache_text,
    scan,
    write_cache,
)

from tests.helpers.images import EXIF_IMAGE_DESCRIPTION, image_bytes, write


def load_yaml(text: str):
    return yaml.safe_load(text)


def test_patterns_select_files_case_insensitively_and_skip_hidden_ones(tmp_path):
    for name in ("a.JPG", "sub/b.png", ".hidden.jpg", "sub/.c.gif", "notes.txt", "drafts/d.jpg"):
        write(tmp_path, name, b"x")
    assert find_images(tmp_path, ["*.jpg", "*.png", "*.gif"], [".*", "*/.*"]) == ["a.JPG", "drafts/d.jpg", "sub/b.png"]
    assert find_images(tmp_path, ["*.jpg"], [".*", "*/.*", "drafts/*"]) == ["a.JPG"]


def test_entries_take_tags_and_title_from_name_sidecar_and_exif(tmp_path):
    write(tmp_path, "animals/red-fox.jpg", image_bytes(exif={EXIF_IMAGE_DESCRIPTION: "Fox in snow"}))
    write(tmp_path, "animals/red-fox.yml", b"title: Fox\ntags: [Wildlife, winter]\n")
    (entry,) = scan(tmp_path, load_yaml=load_yaml).entries
    assert entry["image_id"] == "animals-red-fox"
    assert entry["title"] == "Fox"
    assert entry["tags"] == ["animals", "fox", "red", "snow", "wildlife", "winter"]
    assert entry["key"].startswith("images/") and entry["key"].endswith("/animals-red-fox.jpg")


def test_without_sidecar_the_title_comes_from_exif_then_the_name(tmp_path):
    write(tmp_path, "a/described.jpg", image_bytes(exif={EXIF_IMAGE_DESCRIPTION: "Seen from above"}))
    write(tmp_path, "a/plain_name.png", image_bytes(fmt="PNG"))
    titles = {e["path"]: e["title"] for e in scan(tmp_path).entries}
    assert titles == {"a/described.jpg": "Seen from above", "a/plain_name.png": "Plain name"}


def test_bad_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path):
    write(tmp_path, "good.jpg", image_bytes())
    write(tmp_path, "broken.jpg", image_bytes((300, 200))[:200])
    write(tmp_path, "text.gif", b"GIF? no")
    write(tmp_path, "bad-sidecar.png", image_bytes(fmt="PNG"))
    write(tmp_path, "bad-sidecar.yml", b"colour: red\n")
    result = scan(tmp_path, load_yaml=load_yaml)
    assert [e["path"] for e in result.entries] == ["good.jpg"]
    reasons = {s["path"]: s["reason"] for s in result.skipped}
    assert "corrupt" in reasons["broken.jpg"]
    assert "not an image" in reasons["text.gif"]
    assert "unknown sidecar keys ['colour']" in reasons["bad-sidecar.png"]


def test_identical_files_are_reported_as_duplicates_and_colliding_ids_skipped(tmp_path):
    data = image_bytes()
    write(tmp_path, "one.jpg", data)
    write(tmp_path, "two.jpg", data)
    write(tmp_path, "one.png", image_bytes(fmt="PNG"))
    result = scan(tmp_path)
    assert result.duplicates == [["one", "two"]]
    assert result.skipped == [{"path": "one.png", "reason": "image_id 'one' is already used by one.jpg"}]
    assert result.collisions == result.cache["collisions"] == 1  # the cache's header keeps the count


def test_a_folder_listed_ahead_in_a_child_process_is_the_same_listing(tmp_path):
    write(tmp_path, "a/b.jpg", image_bytes())
    write(tmp_path, "a/b.yml", b"tags: [x]\n")
    write(tmp_path, "c.png", image_bytes(fmt="PNG"))
    assert list_files_ahead(tmp_path)() == list_files(tmp_path) and len(list_files(tmp_path)) == 3
    with pytest.raises(FileNotFoundError):  # the child's failure raised as list_files raises it
        list_files_ahead(tmp_path / "missing")()
    # As a module runs it in Mitogen's interpreter: beside other threads (its broker and pool).
    script = (
        "import os, sys, threading\n"
        "from pathlib import Path\n"
        "from ansible_collections.image_delivery.stack.plugins.module_utils import image_scan\n"
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait, daemon=True).start()\n"
        "forked = []\n"
        "real_fork = os.fork\n"
        "os.fork = lambda: forked.append(1) or real_fork()\n"
        "root = Path(sys.argv[1])\n"
        "assert image_scan.list_files_ahead(root)() == image_scan.list_files(root) and forked == [1]\n"
        "try:\n"
        "    image_scan.list_files_ahead(root / 'missing')()\n"
        "except FileNotFoundError:\n"
        "    print('listed in a child; a failure raised here')\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONWARNINGS": "error"}
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, env=environment)
    assert run.returncode == 0 and run.stdout == "listed in a child; a failure raised here\n", run.stderr


def test_an_unchanged_tree_is_served_from_the_cache(tmp_path):
    write(tmp_path, "a.jpg", image_bytes())
    write(tmp_path, "b.jpg", image_bytes(colour=(0, 0, 255)))
    first = scan(tmp_path)
    cache = read_cache_text(cache_text(first.cache))  # what the module stores and reads back
    second = scan(tmp_path, cache=cache)
    assert second.stats == {"files": 2, "indexed": 0, "from_cache": 2}
    assert second.entries == first.entries


def test_a_touched_image_or_sidecar_is_indexed_again(tmp_path):
    image = write(tmp_path, "a.jpg", image_bytes())
    write(tmp_path, "b.jpg", image_bytes(colour=(0, 0, 255)))
    cache = scan(tmp_path, load_yaml=load_yaml).cache
    os.utime(image, ns=(1, 1))
    write(tmp_path, "b.yml", b"tags: [blue]\n")
    result = scan(tmp_path, cache=cache, load_yaml=load_yaml)
    assert result.stats["indexed"] == 2
    assert "blue" in next(e for e in result.entries if e["path"] == "b.jpg")["tags"]


def test_sidecars_accept_comma_separated_tags_and_json():
    assert parse_sidecar('{"tags": "a, b"}', ".json", load_yaml)["tags"] == ["a", " b"]
    assert parse_sidecar("", ".yml", load_yaml) == {}


def test_a_sidecar_focus_becomes_the_entrys_focal_point(tmp_path):
    write(tmp_path, "people/portrait.jpg", image_bytes())
    write(tmp_path, "people/portrait.yml", b"focus: [0.3, 0.25]\n")
    write(tmp_path, "people/group.jpg", image_bytes())
    portrait, group = sorted(scan(tmp_path, load_yaml=load_yaml).entries, key=lambda e: e["image_id"], reverse=True)
    assert portrait["focus"] == "0.3,0.25" and group["focus"] == ""


def test_a_malformed_focus_is_refused_with_the_reason(tmp_path):
    for bad in ("focus: [1.2, 0.5]\n", "focus: [0.5]\n", "focus: center\n", "focus: [true, 0.5]\n"):
        write(tmp_path, "a.jpg", image_bytes())
        write(tmp_path, "a.yml", bad.encode())
        result = scan(tmp_path, load_yaml=load_yaml)
        assert not result.entries
        assert "focus must be [x, y] with both between 0 and 1" in json.dumps(result.skipped), bad


def test_the_cache_file_reads_back_what_was_written_whatever_the_names(tmp_path):
    """Paths with tabs, newlines, quotes and non-ASCII, skip reasons with tabs: the cache's text
    reads back to the same records; a damaged or older cache reads as empty (a full scan)."""
    for name in ("tab\there.jpg", "new\nline.jpg", '"quoted".jpg', "café.jpg", "plain.jpg"):
        write(tmp_path, name, image_bytes())
    write(tmp_path, "café.yml", b"tags: [x]\n")
    write(tmp_path, "tab\there.yml", b"tags: [y]\n")  # a sidecar's path in the signature, as the file holds it
    write(tmp_path, "broken\t.jpg", image_bytes()[:100])
    result = scan(tmp_path, load_yaml=load_yaml)
    cache = {**result.cache, "version": "0123456789abcdef", "near_duplicates": [["a", "b", 1]]}
    assert read_cache_text(cache_text(cache)) == cache
    again = scan(tmp_path, cache=read_cache_text(cache_text(cache)), load_yaml=load_yaml)
    assert again.stats["indexed"] == 0 and again.lines == result.lines and again.skipped == result.skipped
    assert read_cache_text("not a cache") == {} and read_cache_text('{"format": 4}\n') == {}
    assert read_cache_text(cache_text(cache).replace("\te\t", "\t")) == {}


def test_a_journal_after_the_cache_reads_as_the_newer_cache(tmp_path):
    """The records a run changed, appended as a journal block to the earlier cache's text, read
    back as the whole newer cache: changed and new records, removed ones gone, the newer header."""
    write(tmp_path, "a.jpg", image_bytes())
    write(tmp_path, "b.jpg", image_bytes(colour=(0, 0, 255)))
    write(tmp_path, "{brace}.jpg", image_bytes(colour=(0, 255, 0)))
    first = {**scan(tmp_path).cache, "version": "1111111111111111"}
    os.remove(tmp_path / "b.jpg")
    write(tmp_path, "a.jpg", image_bytes(colour=(255, 0, 0)))
    write(tmp_path, "c.jpg", image_bytes(colour=(9, 9, 9)))
    result = scan(tmp_path, cache=read_cache_text(cache_text(first)))
    second = {**result.cache, "version": "2222222222222222", "near_duplicates": [["a", "c", 2]]}
    changed = result.indexed | (first["files"].keys() - second["files"].keys())
    assert changed == {"a.jpg", "b.jpg", "c.jpg"}
    assert result.replaced == {path: first["files"][path] for path in ("a.jpg", "b.jpg")}  # changed or gone
    assert read_cache_text(cache_text(first) + journal_text(second, changed)) == second


def test_the_cache_file_takes_a_few_changes_as_a_journal_and_folds_it_in_later(tmp_path, monkeypatch):
    """write_cache appends a run's few changed records to the journal; read_cache reads cache and
    journal as the newer cache; once the journal grows to JOURNAL_SHARE of the cache it is folded in."""
    images, path = tmp_path / "images", str(tmp_path / "cache.tsv")
    for number in range(30):
        write(images, f"img-{number:02d}.jpg", image_bytes(colour=(number * 8, 0, 0)))
    first = scan(images)
    write_cache(path, {**first.cache, "version": "1111111111111111", "near_duplicates": []}, {}, first.indexed)
    assert not os.path.exists(path + ".journal")
    before = read_cache(path)
    write(images, "img-00.jpg", image_bytes(colour=(1, 2, 3)))
    second = scan(images, cache=before)
    newer = {**second.cache, "version": "2222222222222222", "near_duplicates": []}
    write_cache(path, newer, before, second.indexed)
    assert os.path.getsize(path + ".journal") < os.path.getsize(path) / 10
    assert read_cache(path) == newer
    monkeypatch.setattr(image_scan, "JOURNAL_SHARE", 1000)  # the journal is now too large a share
    write_cache(path, newer, read_cache(path), set())
    assert not os.path.exists(path + ".journal") and read_cache(path) == newer


def test_an_earlier_releases_json_cache_beside_it_is_converted_so_nothing_is_indexed_again(tmp_path):
    """After an upgrade the cache file (catalog-cache.tsv) is missing and the earlier release's
    catalog-cache.json is beside it: its records are read, converted, and the scan reuses them."""
    images = tmp_path / "images"
    write(images, "a.jpg", image_bytes())
    write(images, "a.yml", b"tags: [lake]\n")
    write(images, "broken.jpg", image_bytes()[:100])
    fresh = scan(images, load_yaml=load_yaml)
    legacy = {"format": 4, "files": {}}
    for relative, record in fresh.cache["files"].items():
        size, mtime, sidecar, sidecar_size, sidecar_mtime = record["signature"].split("\t")  # the cache file's fields
        signature = [[int(size), int(mtime)], [sidecar, int(sidecar_size), int(sidecar_mtime)] if sidecar else None]
        kept = {"entry": json.loads(record["line"])} if "line" in record else {"skipped": record["skipped"]}
        legacy["files"][relative] = {"signature": signature, **kept}
    (tmp_path / "catalog-cache.json").write_text(json.dumps(legacy, separators=(",", ":")))
    cache = read_cache(str(tmp_path / "catalog-cache.tsv"))
    assert cache["version"] == "" and cache["files"] == fresh.cache["files"]
    again = scan(images, cache=cache, load_yaml=load_yaml)
    assert again.stats["indexed"] == 0 and again.lines == fresh.lines and again.skipped == fresh.skipped
    (tmp_path / "catalog-cache.json").write_text('{"format": 3, "files": {}}')
    assert read_cache(str(tmp_path / "catalog-cache.tsv")) == {}

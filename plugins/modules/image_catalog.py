#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_catalog
short_description: Index a folder of images into catalog entries and compare them with a previous catalog
description:
  - Scans O(path) recursively and returns one catalog entry per image (JPEG, PNG, WebP, GIF), in the
    schema defined once in C(plugins/module_utils/catalog_schema.py) and shared with the image API.
  - "Each entry has: C(image_id) (slug of the relative path without extension), C(name), C(path),
    C(title), C(tags), C(sha256), C(key) (C(images/<16 hex of sha256>/<image_id>.<ext>)), C(content_type),
    C(format), C(width) and C(height) as displayed (after EXIF orientation), C(orientation)
    (landscape, portrait or square), C(bytes), C(colour) (dominant colour, C(#rrggbb)), C(colours)
    (the palette's colour names), C(phash) (perceptual hash), C(placeholder) (a base64 ThumbHash)
    and C(focus) (the sidecar's focal point as C(x,y), or empty)."
  - "Tags come from the words of the relative path, a sidecar file next to the image (C(<stem>.yml),
    C(<stem>.yaml) or C(<stem>.json) with C(title), C(description), C(tags) and C(focus), a
    focal point C([x, y]) between 0 and 1 of the image as displayed), the EXIF
    C(ImageDescription) and C(XPKeywords) and the IPTC keywords; lower-cased and de-duplicated.
    The title is the sidecar's, else EXIF C(XPTitle), else C(ImageDescription), else the file name."
  - Incremental. With O(cache_path), a file whose size and modification time (and its sidecar's) did
    not change since the last scan is neither read nor decoded again, and its entry is kept as its
    snapshot line, never parsed.
  - Compared with the published catalog, O(previous_version), whose snapshot O(previous_file) holds.
    When the cache records that its entries made that very version, the changes are the entries whose
    lines the scan changed, found without reading the snapshot; otherwise every entry is compared
    with the snapshot's (or, without one, everything is new).
  - With O(catalog_file), writes the whole catalog there as the version's snapshot (the format the
    image API loads), the previous snapshot patched with the changes, only the chunks that hold a
    change compressed again; RV(images) is then left out (a million entries are not passed around as
    task results) and RV(changed_images) holds what the publish writes.
  - Files that cannot go into the catalog (corrupt, unreadable, unsupported format, more pixels than
    O(max_pixels), a malformed sidecar, an id already taken) are listed in RV(skipped) with a reason;
    the task fails only with O(fail_on_skipped=true). Identical files are listed in RV(duplicates).
  - The module only reads the image folder. It never reports C(changed); in check mode it does not write
    the cache either (the catalog file, a local working file of the publish, is written).
author: Image Delivery Contributors (@image-delivery)
requirements:
  - Pillow
options:
  path:
    description: Folder holding the images.
    type: path
    required: true
  include:
    description:
      - Patterns (fnmatch, case-insensitive, matched against the C(/)-separated path relative to
        O(path); C(*) also matches C(/)) of the files to index.
    type: list
    elements: str
    default: ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.gif"]
  exclude:
    description: Patterns of files to leave out, applied after O(include). The default skips hidden files.
    type: list
    elements: str
    default: [".*", "*/.*"]
  previous_version:
    description: The version of the published catalog to compare with (the table's); empty for none.
    type: str
    default: ""
  previous_file:
    description:
      - The published version's snapshot, a local copy (see the catalog_table_info module). Missing, or of
        another version, means no previous catalog to compare with unless the cache's version is O(previous_version).
    type: path
  catalog_file:
    description: Where to write the catalog's snapshot (gzipped JSON lines in chunks); omit for RV(images) instead.
    type: path
  cache_path:
    description: File (tab-separated lines) keeping what the last scan learned; created when missing. Omit to scan all.
    type: path
  max_pixels:
    description: Images with more pixels than this are skipped (decompression bomb guard).
    type: int
    default: 64000000
  fail_on_skipped:
    description: Fail the task when any file was skipped.
    type: bool
    default: false
  workers:
    description: Files decoded in parallel; C(0) picks one more than the number of CPUs (at most 8).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Index the image folder against the published catalog
  image_catalog:
    path: "{{ playbook_dir }}/../files/images"
    previous_version: "{{ published.version }}"
    previous_file: "{{ published.snapshot_file }}"
    catalog_file: "{{ stack_state_dir }}/catalog-next.json.gz"
    cache_path: "{{ stack_state_dir }}/catalog-cache.tsv"
  register: catalog

- name: Fail on any unreadable image
  image_catalog:
    path: /srv/images
    include: ["photos/*.jpg"]
    exclude: ["photos/drafts/*"]
    fail_on_skipped: true
"""

RETURN = r"""
images:
  description: The catalog entries, sorted by path.
  returned: without O(catalog_file)
  type: list
  elements: dict
  sample:
    - image_id: photos-by-the-water
      name: by-the-water.jpg
      path: photos/by-the-water.jpg
      title: Wooden jetty by the water
      tags: [by, jetty, lake, photos, summer, the, water, wood]
      sha256: 2d7c0a6c9f0e3b1a...
      key: images/2d7c0a6c9f0e3b1a/photos-by-the-water.jpg
      content_type: image/jpeg
      format: jpeg
      width: 2560
      height: 1600
      orientation: landscape
      bytes: 493422
      colour: "#3a4c5e"
version:
  description: Catalog version, 16 hex characters that change exactly when any entry changes.
  returned: always
  type: str
count:
  description: Entries in the catalog.
  returned: always
  type: int
catalog_file:
  description: The file the catalog's snapshot was written to (O(catalog_file)), or empty.
  returned: always
  type: str
changed_images:
  description: The entries added or changed since O(previous_version), sorted by id.
  returned: always
  type: list
  elements: dict
compared_with:
  description: The version the changes are from (O(previous_version), or empty when there was nothing to compare with).
  returned: always
  type: str
snapshot_patched:
  description: Whether the catalog file is the previous snapshot patched with the changes, not written whole.
  returned: always
  type: bool
compared_by:
  description:
    - C(cache) when the changes came from the cache (its entries made O(previous_version)), C(snapshot)
      when every entry was compared with O(previous_file), C(none) without a previous catalog.
  returned: always
  type: str
changes:
  description:
    - How the folder differs from the previous catalog, as sorted id lists (C(changed) is a reserved
      result key, hence the nesting).
  returned: always
  type: dict
  contains:
    added:
      description: Ids in the folder but not in the previous catalog.
      type: list
      elements: str
    changed:
      description: Ids whose entry differs from the previous catalog's (content or metadata).
      type: list
      elements: str
    content_changed:
      description: The subset of C(changed) whose bytes differ.
      type: list
      elements: str
    removed:
      description: Ids in the previous catalog but no longer in the folder.
      type: list
      elements: str
skipped:
  description: Files left out, each with C(path) and C(reason).
  returned: always
  type: list
  elements: dict
  sample: [{path: broken.jpg, reason: "corrupt jpeg data: image file is truncated"}]
duplicates:
  description: Groups of ids whose files have identical bytes.
  returned: always
  type: list
  elements: list
near_duplicates:
  description:
    - Pairs of images whose perceptual hashes differ by 3 bits or fewer (re-encoded, resized or lightly
      edited copies), each as C([id, id, differing bits]); identical files are among them too.
  returned: always
  type: list
  elements: list
  sample: [[photos-lake, photos-lake-small, 2]]
stats:
  description: C(files) selected, C(indexed) (read and decoded), C(from_cache), C(unchanged) entries.
  returned: always
  type: dict
"""

import gc
import json
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_changes import catalog_changes
from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import (
    near_duplicates,
    near_duplicates_after,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import Image
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    list_files_ahead,
    read_cache,
    scan,
    write_cache,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import read_bytes, write_atomically

try:
    import yaml

    def load_yaml(text: str):
        return yaml.safe_load(text)

except ImportError:  # PyYAML ships with ansible-core
    load_yaml = json.loads


def main() -> None:
    # A scan builds a million small objects and no cycles to collect: the cyclic collector's
    # passes over them were a third of reading the cache. It is paused for the module's run only:
    # under Mitogen (ansible.cfg's strategy) modules run inside one long-lived interpreter.
    collecting = gc.isenabled()
    gc.disable()
    try:
        run_module()
    finally:
        if collecting:
            gc.enable()


def run_module() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            include=dict(type="list", elements="str", default=DEFAULT_INCLUDE),
            exclude=dict(type="list", elements="str", default=DEFAULT_EXCLUDE),
            previous_version=dict(type="str", default=""),
            previous_file=dict(type="path"),
            catalog_file=dict(type="path"),
            cache_path=dict(type="path"),
            max_pixels=dict(type="int", default=64_000_000),
            fail_on_skipped=dict(type="bool", default=False),
            workers=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    if Image is None:
        module.fail_json(msg=missing_required_lib("Pillow"))
    params = module.params
    root = Path(params["path"])
    if not root.is_dir():
        module.fail_json(msg=f"path {params['path']} is not a folder")
    if params["max_pixels"] < 1 or params["workers"] < 0:
        module.fail_json(msg="max_pixels must be positive and workers zero or more")
    if not params["include"]:
        module.fail_json(msg="include must list at least one pattern")
    listing = list_files_ahead(root)  # listed in a child process while the cache is read
    cache = read_cache(params["cache_path"])
    result = scan(
        root,
        include=params["include"],
        exclude=params["exclude"],
        max_pixels=params["max_pixels"],
        cache=cache,
        workers=params["workers"],
        load_yaml=load_yaml,
        files=listing(),
    )
    found = catalog_changes(
        result, cache, params["previous_version"], read_bytes(params["previous_file"]), bool(params["catalog_file"])
    )
    if params["catalog_file"]:
        write_atomically(params["catalog_file"], found.snapshot)
    if found.compared_by == "cache" and "near_duplicates" in cache:
        touched = found.changes["added"] + found.changes["changed"] + found.changes["removed"]
        pairs = near_duplicates_after(result.hashes, cache["near_duplicates"], found.hashes_before, touched)
    else:
        pairs = near_duplicates(result.hashes)
    if params["cache_path"] and not module.check_mode:
        try:
            written = {**result.cache, "version": found.version, "near_duplicates": pairs}
            write_cache(params["cache_path"], written, cache, result.indexed)
        except OSError as error:
            module.warn(f"could not write the catalog cache {params['cache_path']}: {error}")
    output = dict(
        changed=False,
        version=found.version,
        count=len(result.lines),
        catalog_file=params["catalog_file"] or "",
        changed_images=found.changed_images,
        compared_by=found.compared_by,
        compared_with=found.compared_with,
        snapshot_patched=found.snapshot_patched,
        skipped=result.skipped,
        duplicates=result.duplicates,
        near_duplicates=pairs,
        stats={**result.stats, "unchanged": found.unchanged},
        changes=found.changes,
    )
    if not params["catalog_file"]:
        output["images"] = result.entries
    if result.skipped and params["fail_on_skipped"]:
        reasons = "; ".join(f"{item['path']}: {item['reason']}" for item in result.skipped)
        module.fail_json(msg=f"{len(result.skipped)} file(s) skipped: {reasons}", **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()

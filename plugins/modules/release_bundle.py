#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_bundle
short_description: Define a release by what it packs and build its reproducible tar.gz
description:
  - Packs folders and files under chosen archive paths, plus inline texts, into a tar.gz whose
    bytes depend only on the content (sorted entries, root owner, zero mtimes, no gzip name or
    time). Caches (C(__pycache__), C(*.pyc), C(*.egg-info)) are left out.
  - The release id is a hash over every packed entry's name and content, so the id covers all the
    bundle holds, and the same content always gives the same id and the same bytes. The id is
    also written into the bundle (I(release_file)) for the instance that applies it.
  - The archive is written as C(<dest_dir>/<release>.tar.gz), atomically. When that file is
    already there, it is this release's bundle (its name is its content's id) and is not built
    again, so a rerun without changes only reads the sources.
  - In check mode builds the archive in memory (for its sha256) and reports whether the file would
    be written.
author: Image Delivery Contributors (@image-delivery)
options:
  dest_dir:
    description: Folder of the release bundles.
    type: path
    required: true
  sources:
    description: Archive path (a folder or file name inside the bundle) to local folder or file.
    type: dict
    default: {}
  contents:
    description: Archive path to text written as that file.
    type: dict
    default: {}
  release_file:
    description: Archive path of the file that holds the release id (not part of the id).
    type: str
    default: RELEASE
"""

EXAMPLES = r"""
- name: Build the release bundle
  image_delivery.stack.release_bundle:
    dest_dir: .state/image-delivery/releases
    sources:
      roles/nginx: roles/nginx
      web: files/web
    contents:
      release-vars.json: "{{ vars_for_instances | to_json }}"
  register: release

- name: Show the release id
  ansible.builtin.debug:
    msg: "{{ release.release }} in {{ release.path }}"
"""

RETURN = r"""
release:
  description: The release id (16 hex digits of a hash over every packed entry's name and content).
  returned: always
  type: str
  sample: 3f1c0a9e5b7d2c48
path:
  description: The archive, C(<dest_dir>/<release>.tar.gz).
  returned: always
  type: str
sha256:
  description: sha256 of the archive.
  returned: always
  type: str
size:
  description: Bytes of the archive.
  returned: always
  type: int
files:
  description: Number of files in the archive, the release file included.
  returned: always
  type: int
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import write_atomically
from ansible_collections.image_delivery.stack.plugins.module_utils.release_bundle import (
    BundleError,
    build,
    entries,
    release_id,
    sha256,
)


def file_sha256(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), os.path.getsize(path)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            dest_dir=dict(type="path", required=True),
            sources=dict(type="dict", default={}),
            contents=dict(type="dict", default={}, no_log=False),
            release_file=dict(type="str", default="RELEASE"),
        ),
        supports_check_mode=True,
    )
    release_file = module.params["release_file"]
    try:
        files = entries(module.params["sources"], {k: str(v) for k, v in module.params["contents"].items()})
    except (BundleError, OSError) as error:
        module.fail_json(msg=f"cannot build the bundle: {error}")
    if release_file in files:
        module.fail_json(msg=f"the release file {release_file} is also a packed entry: choose another release_file")
    release = release_id(files)
    files[release_file] = f"{release}\n".encode()
    path = os.path.join(module.params["dest_dir"], f"{release}.tar.gz")
    result = dict(release=release, path=path, files=len(files))
    if os.path.isfile(path):
        digest, size = file_sha256(path)
        module.exit_json(changed=False, sha256=digest, size=size, **result)
    data = build(files)
    if not module.check_mode:
        write_atomically(path, data, mode=0o640)
    module.exit_json(changed=True, sha256=sha256(data), size=len(data), **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_bundle
short_description: Build a reproducible tar.gz of a release (folders, files and inline texts)
description:
  - Packs folders and files under chosen archive paths, plus inline texts, into a tar.gz whose
    bytes depend only on the content (sorted entries, root owner, zero mtimes, no gzip name or
    time). Caches (C(__pycache__), C(*.pyc), C(*.egg-info)) are left out.
  - Writes I(dest) only when the archive differs from the file already there, so the release
    bundle's upload and its sha256 stay the same across runs.
  - In check mode reports whether the file would change.
author: image-delivery contributors
options:
  dest:
    description: Where to write the archive.
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
"""

EXAMPLES = r"""
- name: Build the release bundle
  release_bundle:
    dest: .state/image-delivery/releases/0123abcd.tar.gz
    sources:
      roles/nginx: roles/nginx
      web: files/web
    contents:
      release-vars.json: "{{ vars_for_instances | to_json }}"
"""

RETURN = r"""
sha256:
  description: sha256 of the archive.
  returned: always
  type: str
size:
  description: Bytes of the archive.
  returned: always
  type: int
files:
  description: Number of files in the archive.
  returned: always
  type: int
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.image_delivery.stack.plugins.module_utils.release_bundle import (
    BundleError,
    build,
    entries,
    sha256,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            sources=dict(type="dict", default={}),
            contents=dict(type="dict", default={}, no_log=False),
        ),
        supports_check_mode=True,
    )
    try:
        files = entries(module.params["sources"], {k: str(v) for k, v in module.params["contents"].items()})
    except (BundleError, OSError) as error:
        module.fail_json(msg=f"cannot build the bundle: {error}")
    data = build(files)
    dest = module.params["dest"]
    try:
        with open(dest, "rb") as handle:
            changed = handle.read() != data
    except FileNotFoundError:
        changed = True
    if changed and not module.check_mode:
        folder = os.path.dirname(dest) or "."
        os.makedirs(folder, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".bundle-")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o640)
        os.replace(temporary, dest)
    module.exit_json(changed=changed, sha256=sha256(data), size=len(data), files=len(files))


if __name__ == "__main__":
    main()

"""Lookup plugin: absolute paths of files shipped inside this collection."""

from __future__ import annotations

DOCUMENTATION = r"""
name: collection_path
short_description: Absolute paths of files shipped in the image_delivery.stack collection
description:
  - The roles' default sources (the image API's package, the page, the first-boot program, the
    demo images, the local endpoint's programs) live in the collection, beside its roles. This
    lookup turns a path relative to the collection root into an absolute one wherever the
    collection is, so the roles need no project variable to find them, in place (this repository
    through C(collections/)), installed from git, or from a built tarball.
  - Fails when the path does not exist, naming it, instead of handing a role a path that breaks
    later.
options:
  _terms:
    description:
      - Paths relative to the collection root (for example C(files/web)); C(.) is the root itself.
        Absolute paths and paths that leave the collection are refused.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Copy the page shipped with the collection
  ansible.builtin.copy:
    src: "{{ lookup('image_delivery.stack.collection_path', 'files/web') }}/"
    dest: /srv/www
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: The absolute paths, in the order asked.
  type: list
  elements: str
"""

from pathlib import Path, PurePosixPath

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# plugins/lookup/collection_path.py -> the collection root, reached through the path Ansible
# imported this file by, links resolved (in place, this repository; installed, the collection folder).
COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def collection_paths(relative_paths: list[str], root: Path = COLLECTION_ROOT) -> list[str]:
    paths = []
    for relative in relative_paths:
        parts = PurePosixPath(relative).parts
        if not relative or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise AnsibleLookupError(
                f"collection_path: {relative!r} must be a path inside the collection, relative to its root"
            )
        path = root.joinpath(*parts) if parts != (".",) else root
        if not path.exists():
            raise AnsibleLookupError(f"collection_path: {relative!r} is not in the collection at {root}")
        paths.append(str(path))
    return paths


class LookupModule(LookupBase):
    def run(self, terms: list, variables: dict | None = None, **kwargs) -> list[str]:
        return collection_paths([str(term) for term in terms])

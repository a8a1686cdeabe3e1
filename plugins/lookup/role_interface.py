"""Lookup plugin: the merged argument specs and defaults of the project's roles."""

from __future__ import annotations

DOCUMENTATION = r"""
name: role_interface
short_description: The variables every role of a roles folder declares, with their defaults
description:
  - Reads C(meta/argument_specs.yml) and C(defaults/main.yml) of every role under the given folder
    (plus any extra defaults files, such as the stack-wide group_vars) and returns one mapping with
    C(options), every declared variable and its spec, and C(defaults), every default value.
  - Used to generate AWX surveys from the roles' own specs (roles/awx_controller).
options:
  _terms:
    description: The roles folder.
    required: true
    type: path
  defaults_files:
    description: More YAML files of defaults, read after the roles' (later files win).
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Read the roles' interface
  ansible.builtin.set_fact:
    interface: >-
      {{ lookup('role_interface', project_root ~ '/roles',
                defaults_files=[project_root ~ '/inventory/group_vars/all/stack.yml']) }}
"""

RETURN = r"""
_raw:
  description: One mapping with C(options) (variable -> argument spec) and C(defaults) (variable -> value).
  type: dict
"""

from pathlib import Path

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def merge_role_interfaces(argument_specs: list[dict], defaults: list[dict]) -> dict:
    """Every entry point's options and every defaults file, merged by variable name. A variable
    that several roles declare (stack_name) must have one type everywhere."""
    options: dict[str, dict] = {}
    for document in argument_specs:
        for entry_point in (document or {}).get("argument_specs", {}).values():
            for name, spec in (entry_point.get("options") or {}).items():
                known = options.setdefault(name, dict(spec))
                if known.get("type", "str") != spec.get("type", "str"):
                    types = f"{known.get('type', 'str')} and as {spec.get('type', 'str')}"
                    raise AnsibleLookupError(f"role_interface: {name} is declared as {types}")
    merged_defaults: dict = {}
    for document in defaults:
        merged_defaults.update(document or {})
    return {"options": options, "defaults": merged_defaults}


def _read_yaml(path: Path) -> dict:
    """A YAML file's mapping; a role without that file declares nothing."""
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def read_role_interface(roles_dir: Path, defaults_files: list[Path]) -> dict:
    """Options and defaults of every role under roles_dir (the filesystem side of the lookup)."""
    if not roles_dir.is_dir():
        raise AnsibleLookupError(f"role_interface: {roles_dir} is not a folder")
    roles = sorted(path for path in roles_dir.iterdir() if path.is_dir())
    specs = [_read_yaml(role / "meta" / "argument_specs.yml") for role in roles]
    defaults = [_read_yaml(role / "defaults" / "main.yml") for role in roles]
    for path in defaults_files:
        if not path.is_file():
            raise AnsibleLookupError(f"role_interface: no defaults file {path}")
        defaults.append(_read_yaml(path))
    return merge_role_interfaces(specs, defaults)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("role_interface takes exactly one roles folder")
        defaults_files = [Path(path) for path in self.get_option("defaults_files")]
        return [read_role_interface(Path(terms[0]), defaults_files)]

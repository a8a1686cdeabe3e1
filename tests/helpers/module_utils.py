"""The project's plugins/module_utils, importable as Ansible ships them to a module:
``ansible.module_utils.<name>``. Call before such an import."""

from __future__ import annotations

import ansible.module_utils

from tests.helpers.playbook import PROJECT_ROOT

MODULE_UTILS = str(PROJECT_ROOT / "plugins/module_utils")


def use_project_module_utils() -> None:
    if MODULE_UTILS not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(MODULE_UTILS)

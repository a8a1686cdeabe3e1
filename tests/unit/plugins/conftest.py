"""Make plugins/module_utils importable the way Ansible ships it to a module.

Modules import project module_utils as ``ansible.module_utils.<name>``; the tests do the same by
adding the folder to that package's search path (and keep the bare names for older tests).
"""

from __future__ import annotations

import sys

from tests.helpers.module_utils import use_project_module_utils
from tests.helpers.playbook import PROJECT_ROOT

use_project_module_utils()

for folder in ("plugins/module_utils", "plugins/filter"):
    path = str(PROJECT_ROOT / folder)
    if path not in sys.path:
        sys.path.insert(0, path)

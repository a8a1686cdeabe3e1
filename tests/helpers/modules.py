"""Run one of the collection's modules in this process, as Ansible would: arguments in, the JSON
it prints on exit out (ansible-core's own module test support). For modules that touch only local
files (no AWS, no host)."""

from __future__ import annotations

import contextlib
import importlib
import io
import json

from ansible.module_utils.testing import patch_module_args


def run_module(name: str, check_mode: bool = False, **arguments: object) -> dict:
    """The result dict of ``image_delivery.stack.<name>`` called with arguments."""
    module = importlib.import_module(f"ansible_collections.image_delivery.stack.plugins.modules.{name}")
    output = io.StringIO()
    with (
        patch_module_args({**arguments, "_ansible_check_mode": check_mode}),
        contextlib.redirect_stdout(output),
        contextlib.suppress(SystemExit),
    ):
        module.main()
    return json.loads(output.getvalue())

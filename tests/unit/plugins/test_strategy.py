"""The mitogen_linear strategy (plugins/strategy): Mitogen without its CPU pinning, linear without Mitogen.

Each case loads the plugin in a fresh interpreter, because importing ansible_mitogen changes
process-wide state (its affinity policy, Ansible's plugin loaders).
"""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.playbook import PROJECT_ROOT

PLUGIN = PROJECT_ROOT / "plugins" / "strategy" / "mitogen_linear.py"
MODULE_NAME = "ansible_collections.image_delivery.stack.plugins.strategy.mitogen_linear"  # as Ansible loads it


def load_plugin(prelude: str = "") -> str:
    """Import the plugin file as Ansible's loader does and print what it made."""
    script = textwrap.dedent(f"""
        import importlib.util, sys
        {prelude}
        spec = importlib.util.spec_from_file_location({MODULE_NAME!r}, {str(PLUGIN)!r})
        plugin = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(plugin)
        bases = [klass.__module__ + "." + klass.__name__ for klass in plugin.StrategyModule.__mro__]
        print(",".join(bases))
        if "ansible_mitogen.affinity" in sys.modules:
            import ansible_mitogen.affinity as affinity
            print(type(affinity.policy).__name__)
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return completed.stdout + completed.stderr


def test_the_strategy_is_linear_through_mitogen_without_cpu_pinning():
    output = load_plugin()
    lines = output.splitlines()
    assert "ansible_mitogen.strategy.StrategyMixin" in lines[0]
    assert "ansible.plugins.strategy.linear.StrategyModule" in lines[0]
    # Mitogen's LinuxPolicy would confine every worker and its commands to CPU 1 on 2 cores.
    assert lines[1] == "Policy"


def test_without_mitogen_the_strategy_is_plain_linear_and_says_so():
    output = load_plugin(prelude="sys.modules['ansible_mitogen'] = None")
    assert "ansible_mitogen" not in output.splitlines()[0]
    assert "ansible.plugins.strategy.linear.StrategyModule" in output
    assert "mitogen is not installed" in output


def test_ansible_cfg_runs_tasks_through_mitogen_by_the_collections_name(tmp_path):
    """ansible.cfg names the strategy by FQCN (no strategy_plugins path): a task's shell is a child
    of a Mitogen interpreter, not of a fresh AnsiballZ Python."""
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "ansible.cfg")
    assert config["defaults"]["strategy"] == "image_delivery.stack.mitogen_linear"
    assert "strategy_plugins" not in config["defaults"]
    play = tmp_path / "parent.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Name the process that runs the task\n"
        "      ansible.builtin.shell: ps -o cmd= -p $PPID\n      changed_when: false\n"
    )
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", str(play), "-v"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "(mitogen:" in completed.stdout, completed.stdout[-2000:]


def test_the_controller_never_escalates():
    """Tasks delegated to the controller from the instances' plays (become: true) must not sudo."""
    for inventory in ("local.yml", "aws.yml"):
        answer = subprocess.run(
            [
                str(Path(sys.executable).with_name("ansible-inventory")),
                "-i",
                f"inventory/{inventory}",
                "--host",
                "localhost",
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        controller = json.loads(answer.stdout)
        assert controller["ansible_become"] is False, inventory
        assert controller["ansible_connection"] == "local", inventory

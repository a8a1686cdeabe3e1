"""What AWX reads from the project: the execution environment, collections, inventory sources and
the awx.awx calls of roles/awx_controller."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.playbook import PROJECT_ROOT

BIN = Path(sys.executable).parent
# Folders whose YAML and Python use collections (tests and the venv are not the project's content).
CONTENT = ["site.yml", "ansible.cfg", "playbooks", "roles", "inventory", "plugins", "molecule", "files"]
FQCN = re.compile(r"\b([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")


def test_awx_reads_the_same_collection_list_as_galaxy_users():
    link = PROJECT_ROOT / "collections" / "requirements.yml"
    assert link.is_symlink() and link.resolve() == (PROJECT_ROOT / "requirements.yml").resolve()


def test_every_collection_the_project_uses_is_required():
    required = {
        entry["name"] for entry in yaml.safe_load((PROJECT_ROOT / "requirements.yml").read_text())["collections"]
    }
    used: set[str] = set()
    for root in CONTENT:
        path = PROJECT_ROOT / root
        files = [path] if path.is_file() else [*path.rglob("*.yml"), *path.rglob("*.py"), *path.rglob("*.cfg")]
        for file in files:
            used |= {match for match in FQCN.findall(file.read_text(errors="replace")) if "." in match}
    installed = {
        f"{namespace.name}.{name.name}"
        for namespace in COLLECTIONS.iterdir()
        if namespace.is_dir()
        for name in namespace.iterdir()
    }
    collections_used = (used & installed) - {"ansible.builtin", "image_delivery.stack"}  # the project itself
    assert collections_used, "the scan found no collection at all"
    assert collections_used <= required, f"used but not in requirements.yml: {sorted(collections_used - required)}"


# The collections the `ansible` package installs beside ansible-core (ansible_collections is a
# namespace package: the tests' pythonpath adds this project's collections/ to it).
COLLECTIONS = Path(__import__("ansible").__file__).resolve().parents[1] / "ansible_collections"


def test_the_execution_environment_build_context_is_complete(tmp_path):
    context = tmp_path / "context"
    completed = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "--file", "execution-environment.yml", "--context", str(context)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    build = context / "_build"
    assert (build / "requirements.yml").read_text() == (PROJECT_ROOT / "requirements.yml").read_text()
    assert (build / "requirements.txt").read_text() == (PROJECT_ROOT / "requirements-ee.txt").read_text()
    assert (build / "bindep.txt").read_text() == (PROJECT_ROOT / "bindep.txt").read_text()
    containerfile = (context / "Containerfile").read_text()
    core_pin = next(
        line
        for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("ansible-core==")
    )
    assert core_pin in containerfile, "the EE must run the ansible-core the project is tested with"
    assert "session_manager_plugin.py download --format rpm" in containerfile, (
        "the aws_ssm connection needs AWS's session manager plugin, checksum-verified"
    )
    assert (build / "scripts" / "session_manager_plugin.py").read_text() == (
        PROJECT_ROOT / "scripts" / "session_manager_plugin.py"
    ).read_text()
    assert "ansible-galaxy collection install" in containerfile


def test_the_execution_environment_pins_what_the_controller_pins():
    controller = (PROJECT_ROOT / "requirements.txt").read_text()
    assert "-r requirements-ee.txt" in controller, "one list of run-time Python packages"


def test_the_aws_inventory_works_as_an_awx_project_source():
    source = PROJECT_ROOT / "inventory" / "aws.aws_ec2.yml"
    # The aws_ec2 plugin only accepts files named *aws_ec2.yml; AWX passes the file as it is.
    assert source.name.endswith("aws_ec2.yml")
    config = yaml.safe_load(source.read_text())
    assert config["plugin"] == "amazon.aws.aws_ec2"
    # AWX injects the AWS credential as environment variables: the file must not carry keys.
    assert not {"access_key", "secret_key", "aws_access_key", "aws_secret_key", "profile"} & set(config)
    # The stack and region come from environment variables, which AWX sets from source_vars.
    assert "IMAGE_DELIVERY_STACK" in source.read_text() and "IMAGE_DELIVERY_REGION" in source.read_text()


def module_options(*modules: str) -> dict[str, set[str]]:
    completed = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", *modules], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return {name: set(entry["doc"]["options"]) for name, entry in json.loads(completed.stdout).items()}


def test_every_awx_call_uses_options_the_collection_has():
    tasks = yaml.safe_load((PROJECT_ROOT / "roles/awx_controller/tasks/controller.yml").read_text())
    calls = [(name, args) for task in tasks for name, args in task.items() if name.startswith("awx.awx.")]
    assert len(calls) >= 5
    options = module_options(*{name for name, _ in calls})
    for name, args in calls:
        unknown = set(args) - options[name]
        assert not unknown, f"{name} has no option {sorted(unknown)}"
    playbook = yaml.safe_load((PROJECT_ROOT / "playbooks/awx.yml").read_text())
    connection = playbook[1]["module_defaults"]["group/awx.awx.controller"]
    assert set(connection) <= options["awx.awx.job_template"]


@pytest.mark.parametrize(
    "secret", ["awx_controller_password", "awx_controller_oauth_token", "awx_controller_host_config_key"]
)
def test_controller_secrets_are_declared_no_log(secret):
    spec = yaml.safe_load((PROJECT_ROOT / "roles/awx_controller/meta/argument_specs.yml").read_text())
    assert spec["argument_specs"]["main"]["options"][secret]["no_log"] is True

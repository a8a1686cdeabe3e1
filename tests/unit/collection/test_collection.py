"""The repository is the collection image_delivery.stack: it builds, installs where a user's
project would, and its modules and filters run there by FQCN; its AWS modules share one
module_defaults group; the plays call them by FQCN and set that group once."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers.playbook import PROJECT_ROOT

GALAXY = yaml.safe_load((PROJECT_ROOT / "galaxy.yml").read_text())
RUNTIME = yaml.safe_load((PROJECT_ROOT / "meta/runtime.yml").read_text())
MODULES = sorted(path.stem for path in (PROJECT_ROOT / "plugins/modules").glob("*.py") if path.stem != "__init__")
PLAY_FILES = [
    *sorted((PROJECT_ROOT / "playbooks").rglob("*.yml")),
    *sorted((PROJECT_ROOT / "roles").glob("*/tasks/**/*.yml")),
    *sorted((PROJECT_ROOT / "roles").glob("*/handlers/*.yml")),
    *sorted((PROJECT_ROOT / "molecule").rglob("*.yml")),
    PROJECT_ROOT / "site.yml",
]
TOOLS = Path(sys.executable).parent
# The roles' default sources that ship in the collection (files/, docs/iam/), by role.
ROLE_SOURCES = {
    "catalog": ["catalog_source_dir"],
    "compute": ["compute_bootstrap_script", "compute_ssm_agent_signing_key_file"],
    "image_api": ["image_api_source_dir"],
    "nginx": ["nginx_site_source_dir"],
    "local_endpoint": ["local_endpoint_deployer_policy_file"],
}


def tool(name: str, *args: str, cwd: Path, **environment: str) -> str:
    completed = subprocess.run(
        [str(TOOLS / name), *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **environment},
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, (
        f"{name} {' '.join(args)}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return completed.stdout


def test_the_built_collection_installs_and_runs_by_fqcn_outside_the_project(tmp_path):
    tool("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), cwd=PROJECT_ROOT)
    tarball = tmp_path / f"image_delivery-stack-{GALAXY['version']}.tar.gz"
    assert tarball.exists()
    user = tmp_path / "user-project"
    (user / "pictures").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "files/images/science/rocket-launch.jpg", user / "pictures")
    tool("ansible-galaxy", "collection", "install", "--no-deps", "-p", "collections", str(tarball), cwd=user)
    (user / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Call the collection from another project",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Index a folder",
                            "image_delivery.stack.image_catalog": {"path": "{{ playbook_dir }}/pictures"},
                            "register": "indexed",
                        },
                        {
                            "name": "Read the roles' defaults where the collection is installed",
                            "ansible.builtin.include_vars": {
                                "file": "{{ lookup('image_delivery.stack.collection_path', item) }}",
                                "name": "role_defaults_{{ item.split('/')[1] }}",
                            },
                            "loop": [f"roles/{role}/defaults/main.yml" for role in ROLE_SOURCES],
                        },
                        {
                            "name": "Report where the roles find their sources, with no project variable set",
                            "ansible.builtin.debug": {
                                "msg": "{{ {"
                                + ", ".join(
                                    f"'{name}': role_defaults_{role}.{name}"
                                    for role, names in ROLE_SOURCES.items()
                                    for name in names
                                )
                                + "} | to_json }}"
                            },
                        },
                        {
                            "name": "Report",
                            "ansible.builtin.debug": {
                                "msg": "indexed={{ indexed.images | map(attribute='path') | join(',') }} "
                                "regions={{ none | image_delivery.stack.aws_known_regions | length }}"
                            },
                        },
                    ],
                }
            ]
        )
    )
    (user / "ansible.cfg").write_text("[defaults]\n")  # nothing of the project's configuration
    output = tool(
        "ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
        "play.yml", cwd=user, ANSIBLE_COLLECTIONS_PATH=str(user / "collections"),
        ANSIBLE_CONFIG=str(user / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
    )  # fmt: skip
    assert "indexed=rocket-launch.jpg" in output
    installed = user / "collections/ansible_collections/image_delivery/stack"
    sources = json.loads(re.search(r'"msg": "(\{.*\})"', output)[1].replace('\\"', '"'))
    assert set(sources) == {name for names in ROLE_SOURCES.values() for name in names}
    for name, path in sources.items():
        assert Path(path).is_relative_to(installed) and Path(path).exists(), f"{name}: {path}"
    assert int(re.search(r"regions=(\d+)", output)[1]) > 10


def test_the_tarball_leaves_out_state_and_the_in_place_links():
    ignored = set(GALAXY["build_ignore"])
    assert {".venv", ".state", "collections", "playbooks/collections"} <= ignored


def test_galaxy_metadata_agrees_with_the_project():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert f'version = "{GALAXY["version"]}"' in pyproject
    required = {
        entry["name"]: entry["version"]
        for entry in yaml.safe_load((PROJECT_ROOT / "requirements.yml").read_text())["collections"]
    }
    required.pop("awx.awx")  # only playbooks/awx.yml, a project-level play
    assert GALAXY["dependencies"] == required


def uses_aws(module: str) -> bool:
    tree = ast.parse((PROJECT_ROOT / "plugins/modules" / f"{module}.py").read_text())
    return any(isinstance(node, ast.Name) and node.id == "AnsibleAWSModule" for node in ast.walk(tree))


def test_every_aws_module_of_the_collection_is_in_its_aws_group():
    members = [entry for entry in RUNTIME["action_groups"]["aws"] if isinstance(entry, str)]
    extends = next(entry for entry in RUNTIME["action_groups"]["aws"] if isinstance(entry, dict))
    assert extends["metadata"]["extend_group"] == ["amazon.aws.aws", "community.aws.aws"]
    assert sorted(members) == [module for module in MODULES if uses_aws(module)]


AWS_CONNECTION_OPTIONS = {
    "endpoint_url", "aws_endpoint_url", "region", "aws_region", "access_key", "aws_access_key", "secret_key",
    "aws_secret_key", "session_token", "aws_session_token", "profile", "aws_profile", "aws_ca_bundle",
    "validate_certs", "aws_config",
}  # fmt: skip


def test_plays_call_the_modules_by_fqcn_and_set_the_aws_group_once():
    short_call = re.compile(r"^\s*(?:-\s+)?(" + "|".join(MODULES) + r"):\s*$", re.M)
    for path in PLAY_FILES:
        text = path.read_text()
        assert not short_call.findall(text), f"{path.relative_to(PROJECT_ROOT)} calls a module by its short name"
        for play in yaml.safe_load(text) or []:
            defaults = play.get("module_defaults", {}) if isinstance(play, dict) else {}
            groups = [key for key in defaults if key.startswith("group/") and "aws" in key]
            assert groups in ([], ["group/image_delivery.stack.aws"]), f"{path.name}: {sorted(defaults)}"
            # A module's own defaults may share its arguments between tasks (a block), never the
            # connection: that comes from the group alone, so no module is left talking elsewhere.
            for key, arguments in defaults.items():
                connection = [] if key.startswith("group/") else sorted(set(arguments or {}) & AWS_CONNECTION_OPTIONS)
                assert not connection, f"{path.name}: module_defaults for {key} set {connection}"


def filter_names() -> dict[str, str]:
    """Every filter the collection provides, and the file that provides it."""
    names = {}
    for path in sorted((PROJECT_ROOT / "plugins/filter").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "filters":
                returned = next(n.value for n in ast.walk(node) if isinstance(n, ast.Return))
                names |= {key.value: path.stem for key in returned.keys}
    return names


def test_ansible_doc_documents_every_filter_by_its_own_name():
    """One filter per file, each with its own DOCUMENTATION (as community.general does), so that
    `ansible-doc -t filter image_delivery.stack.<name>` shows that filter and no other."""
    names = filter_names()
    assert all(name == stem for name, stem in names.items()), names
    output = tool("ansible-doc", "-t", "filter", "--json", *(f"image_delivery.stack.{n}" for n in names),
                  cwd=PROJECT_ROOT)  # fmt: skip
    documented = {fqcn: entry["doc"]["name"] for fqcn, entry in yaml.safe_load(output).items()}
    assert documented == {f"image_delivery.stack.{name}": name for name in names}

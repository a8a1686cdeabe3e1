"""The instance roles refuse bad settings before any change, naming the variable."""

from __future__ import annotations

import pytest
import yaml

from tests.helpers.playbook import PROJECT_ROOT, run_playbook

# The app's socket, as the image_api role defines it (NGINX gets it from the plays).
API_SOCKET = yaml.safe_load((PROJECT_ROOT / "roles/image_api/defaults/main.yml").read_text())["image_api_socket"]
# The plays that apply both instance roles: the instances play, the first boot (the release
# bundle's playbook, run by the user data on EC2) and the Molecule scenario.
INSTANCE_PLAYS = (
    "playbooks/includes/configure_instances.yml",
    "files/bootstrap/bootstrap.yml",
    "molecule/default/converge.yml",
)

VALID = {
    "image_api_table": "catalog",
    "image_api_bucket": "images",
    "image_api_workers": 3,
    "nginx_api_socket": API_SOCKET,  # the plays wire it from image_api_socket
}
CASES = [
    ({"image_api_workers": 0}, "image_api_workers"),
    ({"image_api_workers": "many"}, "image_api_workers"),
    ({"image_api_threads": 0}, "image_api_threads"),
    ({"image_api_table": ""}, "image_api_table"),
    ({"image_api_endpoint_url": "ftp://example"}, "image_api_endpoint_url"),
    ({"image_api_socket": "/tmp/api.sock"}, "image_api_socket"),
    ({"nginx_listen_address": "999.1.1.1"}, "nginx_listen_address"),
    ({"nginx_listen_address": "localhost:80"}, "nginx_listen_address"),
    ({"nginx_listen_port": 70000}, "nginx_listen_port"),
    ({"nginx_cache_size": "lots"}, "nginx_cache_size"),
]


@pytest.fixture(scope="module")
def validation_playbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("instance-inputs") / "validate.yml"
    path.write_text(
        "- name: Validate the instance roles\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - {name: Image API, ansible.builtin.include_role: {name: image_api, tasks_from: validate}}\n"
        "    - {name: NGINX, ansible.builtin.include_role: {name: nginx, tasks_from: validate}}\n"
    )
    return str(path)


def test_valid_settings_pass(validation_playbook):
    run = run_playbook(validation_playbook, extra_vars={**VALID, "project_root": str(PROJECT_ROOT)}, timeout=120)
    assert run.returncode == 0, run.tail()


@pytest.mark.parametrize(("bad", "named"), CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_bad_settings_fail_naming_the_variable(validation_playbook, bad, named):
    run = run_playbook(validation_playbook, extra_vars={**VALID, **bad}, timeout=120)
    assert run.returncode != 0
    assert named in run.output, run.tail(20)
    assert run.stats.get("changed") == 0


def test_every_instance_play_gives_nginx_the_apis_socket(tmp_path):
    """Each play's own nginx_api_socket, evaluated by Ansible with the image API's socket moved:
    NGINX follows it and passes its role's validation."""
    plays = []
    for path in INSTANCE_PLAYS:
        play = yaml.safe_load((PROJECT_ROOT / path).read_text())[0]
        plays.append({
            "name": path, "hosts": "localhost", "gather_facts": False,
            "vars": {"nginx_api_socket": play["vars"]["nginx_api_socket"]},
            "tasks": [
                {"name": "NGINX", "ansible.builtin.include_role": {"name": "nginx", "tasks_from": "validate"}},
                {"name": "Same socket", "ansible.builtin.assert": {"that": ["nginx_api_socket == image_api_socket"]}},
            ],
        })  # fmt: skip
    playbook = tmp_path / "wiring.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    moved = "/run/image-api-moved/api.sock"
    run = run_playbook(str(playbook), extra_vars={"image_api_socket": moved}, timeout=120)
    assert run.returncode == 0, run.tail()
    assert run.output.count("TASK [Same socket]") == len(INSTANCE_PLAYS)

"""AWX surveys: generated from the roles' argument specs, and every question matches its spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError, AnsibleLookupError
from ansible_collections.image_delivery.stack.plugins.filter.awx_survey_spec import (
    SURVEY_TYPES,
    FilterModule,
    SurveyError,
    awx_survey_spec,
    survey_item,
)
from ansible_collections.image_delivery.stack.plugins.lookup.role_interface import (
    merge_role_interfaces,
    read_role_interface,
)

from tests.helpers.playbook import PROJECT_ROOT

OPTIONS = {
    "size": {"type": "int", "description": ["Size.", "In GiB."]},
    "mode": {"type": "str", "choices": ["a", "b"]},
    "token": {"type": "str", "no_log": True},
    "name": {"type": "str", "required": True, "description": "Name."},
    "flags": {"type": "list", "elements": "str"},
}


def test_types_choices_defaults_and_secrets_come_from_the_spec():
    defaults = {"size": 8, "mode": "a", "token": "s3cret", "name": "{{ other }}"}
    size = survey_item({"variable": "size", "question_name": "Size?", "min": 8, "max": 64}, OPTIONS, defaults)
    assert size == {
        "variable": "size",
        "question_name": "Size?",
        "question_description": "Size. In GiB.",
        "type": "integer",
        "required": False,
        "default": 8,
        "min": 8,
        "max": 64,
    }
    mode = survey_item({"variable": "mode", "question_name": "Mode?"}, OPTIONS, defaults)
    assert (mode["type"], mode["choices"], mode["default"]) == ("multiplechoice", ["a", "b"], "a")
    token = survey_item({"variable": "token", "question_name": "Token?"}, OPTIONS, defaults)
    assert token["type"] == "password" and "default" not in token, "a secret default must not reach the survey"
    name = survey_item({"variable": "name", "question_name": "Name?"}, OPTIONS, defaults)
    assert name["required"] is True and "default" not in name, "a templated default means nothing to AWX"


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"variable": "nope", "question_name": "?"}, "not an argument of any role"),
        ({"variable": "size", "question_name": "?", "type": "text"}, "takes its type from the role"),
        ({"variable": "flags", "question_name": "?"}, "is a list"),
        ({"variable": "mode", "question_name": "?", "choices": ["a", "z"]}, "among the role's"),
        ({"variable": "size", "question_name": "?", "min": 10}, "outside its survey bounds"),
        ({"variable": "size", "question_name": "?", "colour": "red"}, "not understood: colour"),
        ({"question_name": "?"}, "needs variable and question_name"),
    ],
)
def test_a_question_that_contradicts_the_spec_is_refused(question, message):
    with pytest.raises(SurveyError, match=message):
        survey_item(question, OPTIONS, {"size": 8})


def test_the_filter_reports_bad_input_as_a_filter_error():
    interface = {"options": OPTIONS, "defaults": {}}
    with pytest.raises(AnsibleFilterError, match="list of questions"):
        awx_survey_spec("size", "survey", interface)
    with pytest.raises(AnsibleFilterError, match="role_interface"):
        awx_survey_spec([], "survey", {})
    twice = [{"variable": "size", "question_name": "a"}, {"variable": "size", "question_name": "b"}]
    with pytest.raises(AnsibleFilterError, match=r"asked twice.*size"):
        awx_survey_spec(twice, "survey", interface)
    assert FilterModule().filters()["awx_survey_spec"] is awx_survey_spec


def test_roles_that_declare_one_variable_differently_are_refused():
    first = {"argument_specs": {"main": {"options": {"stack_name": {"type": "str"}}}}}
    second = {"argument_specs": {"main": {"options": {"stack_name": {"type": "int"}}}}}
    with pytest.raises(AnsibleLookupError, match="stack_name is declared as str and as int"):
        merge_role_interfaces([first, second], [])


def test_the_lookup_reads_the_real_roles():
    interface = read_role_interface(PROJECT_ROOT / "roles", [PROJECT_ROOT / "inventory/group_vars/all/stack.yml"])
    assert interface["options"]["compute_min_size"]["type"] == "int"
    assert interface["defaults"]["stack_name"] == "image-delivery"
    with pytest.raises(AnsibleLookupError, match="no defaults file"):
        read_role_interface(PROJECT_ROOT / "roles", [PROJECT_ROOT / "missing.yml"])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """The job templates as playbooks/awx.yml renders them (no controller needed)."""
    export = tmp_path_factory.mktemp("awx") / "awx.json"
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "playbooks/awx.yml",
            "-e",
            json.dumps({"awx_controller_apply": False, "awx_controller_export_file": str(export)}),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    return json.loads(export.read_text())


def role_specs() -> dict[str, dict]:
    """Every option of every role entry point, straight from the YAML files (the first role in
    name order that declares a variable describes it)."""
    options: dict[str, dict] = {}
    for path in sorted((PROJECT_ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for entry_point in yaml.safe_load(path.read_text())["argument_specs"].values():
            for name, spec in (entry_point.get("options") or {}).items():
                options.setdefault(name, spec)
    return options


def role_defaults() -> dict:
    defaults = {}
    for path in [
        *sorted((PROJECT_ROOT / "roles").glob("*/defaults/main.yml")),
        PROJECT_ROOT / "inventory/group_vars/all/stack.yml",
    ]:
        defaults.update(yaml.safe_load(path.read_text()) or {})
    return defaults


def test_the_four_jobs_have_templates(rendered):
    playbooks = {template["playbook"] for template in rendered["job_templates"]}
    assert playbooks == {"site.yml", "playbooks/catalog.yml", "playbooks/instances.yml", "playbooks/teardown.yml"}
    for template in rendered["job_templates"]:
        assert (PROJECT_ROOT / template["playbook"]).is_file()
    deploy = next(t for t in rendered["job_templates"] if t["playbook"] == "site.yml")
    asked = {item["variable"] for item in deploy["survey_spec"]["spec"]}
    assert asked == {
        "stack_name",
        "aws_region",
        "compute_instance_type",
        "compute_min_size",
        "compute_max_size",
        "tls_certificate_arn",
    }
    callbacks = [t["name"] for t in rendered["job_templates"] if t["callbacks"]]
    assert callbacks == ["image-delivery: rolling release"]


def test_every_survey_question_matches_the_role_argument_spec(rendered):
    specs, defaults = role_specs(), role_defaults()
    checked = 0
    for template in rendered["job_templates"]:
        for item in template["survey_spec"]["spec"]:
            spec = specs.get(item["variable"])
            if spec is None:
                continue  # a playbook's own question (the teardown confirmation), tested by running it
            where = f"{template['name']}: {item['variable']}"
            expected = "password" if spec.get("no_log") else SURVEY_TYPES[spec.get("type", "str")]
            if item["type"] == "multiplechoice":
                assert set(item["choices"]) <= set(spec.get("choices", item["choices"])), where
                assert expected == "text", f"{where}: only a string can be chosen from a list"
            else:
                assert item["type"] == expected, where
            if "default" in item:
                assert item["default"] == defaults[item["variable"]], f"{where}: default differs from the role's"
            description = spec.get("description", "")
            assert item["question_description"] == (
                " ".join(description) if isinstance(description, list) else description
            )
            checked += 1
    assert checked >= 10


def test_the_region_question_offers_the_regions_botocore_knows(rendered):
    deploy = rendered["job_templates"][0]
    region = next(item for item in deploy["survey_spec"]["spec"] if item["variable"] == "aws_region")
    assert region["type"] == "multiplechoice" and "eu-west-1" in region["choices"] and "us-east-1" in region["choices"]


def test_the_teardown_asks_for_the_stack_name_again(rendered):
    teardown = next(t for t in rendered["job_templates"] if t["playbook"] == "playbooks/teardown.yml")
    confirm = next(
        item for item in teardown["survey_spec"]["spec"] if item["variable"] == "teardown_confirm_stack_name"
    )
    assert confirm["required"] is True and "default" not in confirm

"""Every role argument, table-driven: an invalid value fails the role's validation with a message
that names the variable.

The cases are built from each role's argument spec: a value of the wrong type for every int, float,
bool and dict argument (and list of ints or dicts), a value outside the choices where there are
choices, and, for strings and lists of strings, the value from FORMAT_CASES that breaks the format
the role checks. An argument in none of these must be in UNCHECKED with the reason it accepts any
value, so a new argument cannot slip through untested. All cases run in one ansible-playbook call:
one play per case, each including only the role's validate entry point (nothing else runs), and
the plays record each outcome instead of stopping.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.helpers.playbook import PROJECT_ROOT, run_playbook
from tests.helpers.reliability import record

# Strings and lists of strings whose format a role checks: variable -> (invalid value, more vars).
FORMAT_CASES: dict[str, tuple[object, dict]] = {
    "awx_controller_host": ("awx.example.com", {}),
    "awx_controller_scm_url": ("", {}),
    "awx_controller_job_templates": ([{"name": "x", "playbook": "/etc/passwd", "survey": []}], {}),
    "catalog_source_dir": ("/nonexistent/images", {}),
    "catalog_include": ([], {}),
    "cdn_aliases": (["img.example.com"], {"cdn_acm_certificate_arn": ""}),
    "cdn_acm_certificate_arn": (
        "arn:aws:acm:eu-west-1:123456789012:certificate/x",
        {"cdn_aliases": ["img.example.com"]},
    ),
    "cdn_resize_query_keys": ([], {}),
    "cdn_image_format_function_name": ("image format!", {}),
    "compute_instance_type": ("huge", {}),
    "compute_ami_id": ("ami-xyz", {}),
    "compute_ssm_agent_url": ("http://s3.amazonaws.com/amazon-ssm-agent.deb", {}),
    "compute_ssm_agent_signing_fingerprint": ("DE92C7DA", {"compute_ssm_agent_url": "https://example.com/agent.deb"}),
    "compute_ssm_agent_signing_key_file": (
        "/nonexistent/amazon-ssm-agent.asc",
        {"compute_ssm_agent_url": "https://example.com/agent.deb"},
    ),
    "image_api_table": ("", {}),
    "image_api_bucket": ("", {}),
    "image_api_socket": ("/tmp/image-api.sock", {}),
    "image_api_endpoint_url": ("localhost:5000", {}),
    "image_api_signing_key": ("shorter-than-32-characters", {}),
    "load_balancer_name": ("-bad-", {}),
    "load_balancer_target_group_name": ("bad_name", {}),
    "load_balancer_health_check_path": ("healthz", {}),
    "load_balancer_origin_header_name": ("Host", {}),
    "local_data_plane_instance_memory": ("lots", {}),
    "local_data_plane_instance_cpus": ("two", {}),
    "local_endpoint_host": ("0.0.0.0", {}),
    "local_endpoint_deployer_access_key": ("deployer-key", {}),
    "local_endpoint_deployer_secret_key": ("short", {}),
    "local_endpoint_deployer_name": ("a deployer", {}),
    "local_endpoint_deployer_policy_file": ("/nonexistent/deployer-policy.json", {}),
    "load_test_url": ("http://images.example.com", {}),
    "monitoring_alarm_actions": (["mailto:ops@example.com"], {}),
    "network_vpc_cidr": ("10.0.0.0/8", {}),
    "network_public_subnet_cidrs": (["10.0.0.0/24"], {}),
    "network_private_subnet_cidrs": (["10.0.2.0/24"], {}),
    "network_availability_zones": (["eu-west-1a"], {}),
    "nginx_listen_address": ("localhost", {}),
    "nginx_cache_size": ("lots", {}),
    "nginx_cache_img_ttl": ("forever", {}),
    "nginx_cache_search_ttl": ("1w", {}),
    "nginx_client_max_body_size": ("1g", {}),
    "security_groups_ssh_cidrs": (["0.0.0.0/0"], {}),
    "storage_bucket_name": ("Bad_Bucket", {}),
    "storage_table_name": ("x", {}),
}


def words(text: str) -> list[str]:
    return text.split()


# Arguments no role can refuse a value of, and why.
FREE_TEXT_ARGUMENTS = words("""
    awx_controller_username awx_controller_password awx_controller_oauth_token awx_controller_export_file
    awx_controller_organization awx_controller_project_name awx_controller_scm_branch awx_controller_aws_credential
    awx_controller_execution_environment_name awx_controller_execution_environment_image
    awx_controller_inventory_name awx_controller_host_config_key cdn_comment cdn_web_acl_id
    compute_ami_owner compute_ami_name_pattern compute_root_volume_kms_key_id compute_key_name compute_group_name
    compute_instance_role_name compute_managed_policy_arns compute_launch_hook_name load_balancer_ssl_policy
    load_balancer_origin_secret_parameter storage_bucket_kms_key_id
    security_groups_cloudfront_prefix_list_name nginx_server_name image_api_user image_api_socket_group
    image_api_region local_data_plane_image cdn_caller_reference cdn_origin_header_name
""")
WIRED_ARGUMENTS = words("""
    catalog_bucket catalog_table catalog_distribution_id cdn_origin_domain_name cdn_origin_secret cdn_bucket
    compute_subnet_ids compute_security_group_ids compute_target_group_arns compute_bucket_arn compute_table_arn
    compute_health_check_path
    load_balancer_vpc_id load_balancer_subnet_ids load_balancer_security_group_ids monitoring_load_balancer_dimension
    monitoring_target_group_dimension security_groups_vpc_id
""")
PATH_ARGUMENTS = words("""
    catalog_exclude catalog_cache_file catalog_work_dir compute_bootstrap_script image_api_source_dir
    image_api_wheelhouse_dir
    image_api_home image_api_config_dir nginx_site_source_dir nginx_site_root nginx_api_socket nginx_cache_path
    local_data_plane_state_dir local_endpoint_state_dir load_test_output_dir stack_outputs_file stack_state_dir
""")
UNCHECKED: dict[str, str] = {
    # Stack-wide: checked once by playbooks/validate.yml (tests/integration/test_inputs.py).
    "stack_name": "checked by playbooks/validate.yml (test_inputs.py)",
    "aws_region": "checked by playbooks/validate.yml (test_inputs.py)",
    "tls_certificate_arn": "checked by playbooks/validate.yml (test_inputs.py)",
    "origin_domain_name": "checked by playbooks/validate.yml (test_inputs.py)",
    "dns_hosted_zone_id": "checked by playbooks/validate.yml (test_inputs.py)",
    "project_root": "derived from ansible.cfg's location",
    **dict.fromkeys(FREE_TEXT_ARGUMENTS, "free text or a name that AWS or AWX checks itself"),
    **dict.fromkeys(WIRED_ARGUMENTS, "set by the play from another role's result, not by users"),
    **dict.fromkeys(PATH_ARGUMENTS, "a path or a pattern list: any value is a valid request"),
}

# What the play gives a role besides its defaults (the instance roles get the stack's table and bucket).
ROLE_CONTEXT: dict[str, dict] = {
    "image_api": {"image_api_table": "catalog", "image_api_bucket": "images"},
    "nginx": {
        "nginx_api_socket": yaml.safe_load((PROJECT_ROOT / "roles/image_api/defaults/main.yml").read_text())[
            "image_api_socket"
        ]
    },  # as the plays wire it
}

WRONG_TYPE = {"int": "many", "float": "lots", "bool": "maybe", "dict": "not-a-dict"}
WRONG_ELEMENT = {"int": ["many"], "dict": ["not-a-dict"]}


def role_options() -> dict[str, dict[str, dict]]:
    """role -> the options of its validate entry point."""
    roles = {}
    for path in sorted((PROJECT_ROOT / "roles").glob("*/meta/argument_specs.yml")):
        specs = yaml.safe_load(path.read_text())["argument_specs"]
        roles[path.parts[-3]] = specs["validate"]["options"]
    return roles


def cases() -> list[dict]:
    found = []
    for role, options in role_options().items():
        for variable, spec in options.items():
            kind = spec.get("type", "str")
            if spec.get("choices"):
                found.append({"role": role, "variable": variable, "value": "not-a-choice", "why": "choices"})
            elif kind in WRONG_TYPE:
                found.append({"role": role, "variable": variable, "value": WRONG_TYPE[kind], "why": kind})
            elif kind == "list" and spec.get("elements") in WRONG_ELEMENT:
                found.append(
                    {"role": role, "variable": variable, "value": WRONG_ELEMENT[spec["elements"]], "why": "elements"}
                )
            if variable in FORMAT_CASES:
                value, context = FORMAT_CASES[variable]
                found.append({"role": role, "variable": variable, "value": value, "context": context, "why": "format"})
    return found


def test_every_role_argument_has_an_invalid_case_or_a_reason():
    covered = {case["variable"] for case in cases()}
    declared = {variable for options in role_options().values() for variable in options}
    missing = sorted(declared - covered - set(UNCHECKED))
    assert not missing, f"no invalid value and no reason for: {missing}"
    stale = sorted((set(UNCHECKED) | set(FORMAT_CASES)) - declared)
    assert not stale, f"listed but no role declares: {stale}"
    both = sorted(set(UNCHECKED) & covered)
    assert not both, f"has a case and is listed as unchecked: {both}"


def play(case_id: str, role: str, variables: dict) -> dict:
    record = "{{ validation_outcomes | default({}) | combine({%r: %s}) }}"
    return {
        "name": f"Case {case_id}",
        "hosts": "controller",
        "gather_facts": False,
        "vars": variables,
        "tasks": [
            {
                "block": [
                    {"ansible.builtin.include_role": {"name": role, "tasks_from": "validate"}},
                    {"ansible.builtin.set_fact": {"validation_outcomes": record % (case_id, "{'failed': false}")}},
                ],
                "rescue": [
                    {
                        # A looped check fails with "One or more items failed": its items say why.
                        "vars": {
                            "failure_message": "{{ ([ansible_failed_result.msg | default('')] + (ansible_failed_result"
                            ".results | default([]) | map(attribute='msg', default='') | list)) | join(' ') }}"
                        },
                        "ansible.builtin.set_fact": {
                            "validation_outcomes": record % (case_id, "{'failed': true, 'message': failure_message}")
                        },
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> tuple[list[dict], dict]:
    folder = tmp_path_factory.mktemp("role-arguments")
    results = folder / "outcomes.json"
    all_cases = cases()
    plays = [play(f"baseline-{role}", role, ROLE_CONTEXT.get(role, {})) for role in role_options()]
    plays += [
        play(
            str(n),
            case["role"],
            {**ROLE_CONTEXT.get(case["role"], {}), **case.get("context", {}), case["variable"]: case["value"]},
        )
        for n, case in enumerate(all_cases)
    ]
    plays.append(
        {
            "name": "Write the outcomes",
            "hosts": "controller",
            "gather_facts": False,
            "tasks": [
                {
                    "ansible.builtin.copy": {
                        "content": "{{ validation_outcomes | to_json }}",
                        "dest": str(results),
                        "mode": "0644",
                    }
                }
            ],
        }
    )
    playbook = folder / "cases.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    run = run_playbook(str(playbook), timeout=900)
    assert results.is_file(), run.tail()
    return all_cases, json.loads(results.read_text())


def test_every_role_validates_its_defaults(outcomes):
    _, recorded = outcomes
    refused = {
        key: value["message"] for key, value in recorded.items() if key.startswith("baseline-") and value["failed"]
    }
    assert not refused, f"a role refuses its own defaults: {refused}"


def test_every_invalid_value_fails_naming_the_variable(outcomes):
    all_cases, recorded = outcomes
    accepted, unnamed = [], []
    for n, case in enumerate(all_cases):
        outcome = recorded[str(n)]
        label = f"{case['role']}: {case['variable']}={case['value']!r} ({case['why']})"
        if not outcome["failed"]:
            accepted.append(label)
        elif case["variable"] not in outcome["message"]:
            unnamed.append(f"{label}: {outcome['message'][:200]}")
    record(
        "role-arguments",
        f"{len(all_cases)} invalid values over {len(role_options())} roles: {len(accepted)} accepted, "
        f"{len(unnamed)} failed without naming the variable; {len(UNCHECKED)} free-form arguments listed with a reason",
        "every one fails naming the variable",
        not accepted and not unnamed,
    )
    assert not accepted, "accepted:\n" + "\n".join(accepted)
    assert not unnamed, "failed without naming the variable:\n" + "\n".join(unnamed)
    assert len(all_cases) >= 100

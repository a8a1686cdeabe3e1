"""What amazon.aws.autoscaling_group would change on an existing group, for check mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: autoscaling_group_drift
short_description: The settings in which an Auto Scaling group differs from the wanted ones
description:
  - Compares a group as amazon.aws.autoscaling_group_info describes it with settings written as
    amazon.aws.autoscaling_group's options, and names each one that differs.
  - amazon.aws.autoscaling_group (10.1.2) answers C(changed) in check mode for any existing group
    without comparing anything (the check-mode exit comes before its comparison); with this filter a
    play calls it in check mode only when there is something to change.
  - An empty input (the group does not exist) gives one entry saying so.
positional: wanted
options:
  _input:
    description: One element of C(results) of amazon.aws.autoscaling_group_info, or an empty value.
    type: dict
    required: true
  wanted:
    description:
      - The wanted settings, named as the options of amazon.aws.autoscaling_group; an option left
        out (or C(none), such as an omitted C(desired_capacity)) is not compared.
      - Compared options are C(min_size), C(max_size), C(desired_capacity), C(launch_template),
        C(vpc_zone_identifier), C(target_group_arns), C(health_check_type), C(health_check_period),
        C(default_cooldown), C(termination_policies), C(metrics_collection), C(metrics_granularity)
        and C(tags) (with C(purge_tags=true) semantics).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Create or update the group (in check mode only when it would change)
  amazon.aws.autoscaling_group:
    name: web
    min_size: "{{ wanted.min_size }}"
  when: not ansible_check_mode or (current | autoscaling_group_drift(wanted)) | length > 0
"""

RETURN = r"""
_value:
  description: "One line per differing setting, such as C(min_size: 2 -> 3); empty when nothing differs."
  type: list
  elements: str
"""

SCALARS = {
    # option of autoscaling_group -> key of autoscaling_group_info
    "min_size": "min_size",
    "max_size": "max_size",
    "desired_capacity": "desired_capacity",
    "health_check_type": "health_check_type",
    "health_check_period": "health_check_grace_period",
    "default_cooldown": "default_cooldown",
}


def wanted_tags(tags: list) -> dict[str, tuple[str, bool]]:
    """autoscaling_group's tag list ([{Name: web, propagate_at_launch: true}, ...]) as key -> (value, propagate)."""
    found = {}
    for item in tags:
        if not isinstance(item, Mapping):
            raise AnsibleFilterError(f"autoscaling_group_drift: a tag must be a mapping, not {item!r}")
        propagate = bool(item.get("propagate_at_launch", True))
        for key, value in item.items():
            if key != "propagate_at_launch":
                found[str(key)] = (str(value), propagate)
    return found


def current_tags(tags: list) -> dict[str, tuple[str, bool]]:
    return {item["key"]: (str(item.get("value", "")), bool(item.get("propagate_at_launch"))) for item in tags}


def as_set(value: Any) -> set[str]:
    if isinstance(value, str):
        return {part.strip() for part in value.split(",") if part.strip()}
    return {str(part) for part in value or []}


def autoscaling_group_drift(current: Any, wanted: Any) -> list[str]:
    if not isinstance(wanted, Mapping):
        raise AnsibleFilterError(f"autoscaling_group_drift: wanted must be a mapping, not {type(wanted).__name__}")
    if not current:
        return ["the group does not exist"]
    if not isinstance(current, Mapping):
        raise AnsibleFilterError(f"autoscaling_group_drift: expected a group, not {type(current).__name__}")
    drift = []
    for option, key in SCALARS.items():
        value = wanted.get(option)
        if value is None:
            continue
        have = current.get(key)
        same = str(have) == str(value) if option == "health_check_type" else _int(have) == _int(value, option)
        if not same:
            drift.append(f"{option}: {have} -> {value}")
    template = wanted.get("launch_template")
    if template:
        have = current.get("launch_template") or {}
        for field in ("launch_template_name", "launch_template_id", "version"):
            if template.get(field) is not None and str(have.get(field)) != str(template[field]):
                drift.append(f"launch_template.{field}: {have.get(field)} -> {template[field]}")
    for option in ("vpc_zone_identifier", "target_group_arns"):
        if wanted.get(option) is not None and as_set(current.get(option)) != as_set(wanted[option]):
            drift.append(f"{option}: {sorted(as_set(current.get(option)))} -> {sorted(as_set(wanted[option]))}")
    policies = wanted.get("termination_policies")
    if policies is not None:
        have_policies = list(current.get("termination_policies") or [])
        wanted_policies = [policies] if isinstance(policies, str) else list(policies)
        if have_policies != wanted_policies:  # order matters: AWS applies them in turn
            drift.append(f"termination_policies: {have_policies} -> {wanted_policies}")
    if wanted.get("metrics_collection") is not None:
        enabled = current.get("enabled_metrics") or []
        collect = bool(wanted["metrics_collection"])
        if collect != bool(enabled):
            drift.append(f"metrics_collection: {bool(enabled)} -> {collect}")
        granularity = wanted.get("metrics_granularity")
        if collect and enabled and granularity and {item.get("granularity") for item in enabled} != {granularity}:
            drift.append(f"metrics_granularity: -> {granularity}")
    if wanted.get("tags") is not None:
        have, want = current_tags(current.get("tags") or []), wanted_tags(wanted["tags"])
        for key in sorted(set(have) | set(want)):
            if have.get(key) != want.get(key):
                drift.append(f"tag {key}: {have.get(key)} -> {want.get(key)}")
    return drift


def _int(value: Any, option: str = "") -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError(
            f"autoscaling_group_drift: {option or 'a size'} must be a number, not {value!r}"
        ) from error


class FilterModule:
    def filters(self) -> dict:
        return {"autoscaling_group_drift": autoscaling_group_drift}

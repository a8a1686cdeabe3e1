"""EC2 security group rules that name a prefix list, and rule description updates.

Upstream gaps (moto 5.2.5):
- A rule's prefix list keeps only its id: the `Description` given with it is dropped, so
  amazon.aws.ec2_security_group sees a changed description on every run and updates it.
- UpdateSecurityGroupRuleDescriptionsIngress/Egress answer without `Return`; the collection's
  helpers read `["Return"]` and fail with KeyError 'Return'.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._patching import Fix

RuleKey = tuple[Any, Any, Any, str]


def describe_prefix_lists(entries: list[dict[str, str]], descriptions: dict[str, str | None]) -> list[dict[str, str]]:
    """Add each prefix list entry's description, where the rule was given one."""
    described = []
    for entry in entries:
        description = descriptions.get(entry["PrefixListId"])
        described.append({**entry, "Description": description} if description else dict(entry))
    return described


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.core.responses import ActionResult
    from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupRule
    from moto.ec2.responses.security_groups import SecurityGroups

    original_init = SecurityGroupRule.__init__
    init_signature = inspect.signature(original_init)
    original_flatten = SecurityGroup._flattened_rules
    original_update_ingress = SecurityGroups.update_security_group_rule_descriptions_ingress
    original_update_egress = SecurityGroups.update_security_group_rule_descriptions_egress

    def rule_init(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = init_signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self.prefix_list_description = prefix_list.get("Description") if prefix_list else None

    def flattened_rules(self: SecurityGroup, rules: list[SecurityGroupRule]) -> list[Any]:
        views = original_flatten(self, rules)
        for view in views:
            descriptions = {
                rule.prefix_list_id: getattr(rule, "prefix_list_description", None)
                for rule in rules
                if rule.prefix_list_id
                and (rule.from_port, rule.to_port, rule.ip_protocol) == (view.from_port, view.to_port, view.ip_protocol)
            }
            view.prefix_list_ids = describe_prefix_lists(view.prefix_list_ids, descriptions)
        return views

    def update_ingress(self: SecurityGroups) -> ActionResult:
        original_update_ingress(self)
        return ActionResult({"Return": True})

    def update_egress(self: SecurityGroups) -> ActionResult:
        original_update_egress(self)
        return ActionResult({"Return": True})

    return [
        (SecurityGroupRule, "__init__", rule_init),
        (SecurityGroup, "_flattened_rules", flattened_rules),
        (SecurityGroups, "update_security_group_rule_descriptions_ingress", update_ingress),
        (SecurityGroups, "update_security_group_rule_descriptions_egress", update_egress),
    ]


FIX = Fix(
    name="ec2-security-group-rules",
    upstream_gap="prefix-list rules drop their Description; UpdateSecurityGroupRuleDescriptions* lack Return",
    patches=_patches,
)

"""Compatibility fixes applied to moto before the server starts.

Each module closes one gap between moto and AWS (the module's docstring names the gap and what AWS
does; docs/local-data-plane.md lists what the local endpoint emulates) and has a unit test under
tests/unit/local_aws/ that fails without it.
"""

from __future__ import annotations

from . import (
    autoscaling_lifecycle_hooks,
    autoscaling_metrics,
    autoscaling_standby,
    autoscaling_tag_order,
    cloudfront_functions,
    cloudfront_invalidation_status,
    cloudfront_s3_origins,
    debian_ami,
    dynamodb_table_id,
    ec2_security_group_rules,
    ec2_tag_resource_types,
    ec2_user_data_limit,
    elbv2_attributes,
    elbv2_target_health,
    iam_action_log,
    iam_policy_evaluation,
    instance_metadata,
    instance_profiles,
    launch_templates,
    route53_alias_names,
    s3_bucket_policy_conditions,
)
from ._patching import Fix, applied

ALL_FIXES: list[Fix] = [
    dynamodb_table_id.FIX,
    ec2_tag_resource_types.FIX,
    ec2_security_group_rules.FIX,
    launch_templates.FIX,
    ec2_user_data_limit.FIX,
    autoscaling_metrics.FIX,
    autoscaling_tag_order.FIX,
    autoscaling_lifecycle_hooks.FIX,
    # After the lifecycle hooks, whose describe-time timeouts it wraps and whose hold it reuses.
    autoscaling_standby.FIX,
    cloudfront_s3_origins.FIX,
    cloudfront_functions.FIX,
    cloudfront_invalidation_status.FIX,
    elbv2_attributes.FIX,
    elbv2_target_health.FIX,
    debian_ami.FIX,
    s3_bucket_policy_conditions.FIX,
    instance_profiles.FIX,
    instance_metadata.FIX,
    # Before the action log, which wraps the authorisation step it finds: calls are recorded, then decided.
    iam_policy_evaluation.FIX,
    iam_action_log.FIX,
    route53_alias_names.FIX,
]


def apply_all() -> list[str]:
    """Apply every fix (idempotent) and return their names."""
    for fix in ALL_FIXES:
        fix.apply()
    return [fix.name for fix in ALL_FIXES]


__all__ = ["ALL_FIXES", "Fix", "applied", "apply_all"]

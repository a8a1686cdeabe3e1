"""Instances launched from a launch template carry the template's IAM instance profile.

Upstream gap (moto 5.2.5, InstanceBackend.run_instances): the template's user data, instance type,
key and security groups are applied, its ``IamInstanceProfile`` is not; and RunInstances' own
``IamInstanceProfile`` is associated with the first instance of the reservation only. On EC2 every
instance launched from the template (by an Auto Scaling group too) has the profile, so its
software gets the role's credentials from the instance metadata service. Without this fix the
group's instances have no role at all (DescribeInstances shows no IamInstanceProfile).
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def template_profile(template_data: dict[str, Any]) -> dict[str, str]:
    """{"iam_instance_profile_arn": ...} or {"iam_instance_profile_name": ...} from template data."""
    profile = template_data.get("IamInstanceProfile") or {}
    if profile.get("Arn"):
        return {"iam_instance_profile_arn": profile["Arn"]}
    if profile.get("Name"):
        return {"iam_instance_profile_name": profile["Name"]}
    return {}


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.ec2.models.instances import InstanceBackend

    original_run = InstanceBackend.run_instances

    def run_instances(self: Any, image_id: str, count: int, user_data: Any, security_group_names: Any,
                      **kwargs: Any) -> Any:  # fmt: skip
        reservation = original_run(self, image_id, count, user_data, security_group_names, **kwargs)
        explicit = ("iam_instance_profile_arn", "iam_instance_profile_name")
        profile = {key: kwargs[key] for key in explicit if kwargs.get(key)}
        # RunInstances' own profile: moto's response associates the first instance after this call.
        instances = reservation.instances[1:] if profile else reservation.instances
        if not profile and kwargs.get("launch_template"):
            profile = template_profile(self._get_template_from_args(kwargs["launch_template"]).data)
        for instance in instances if profile else []:
            if instance.id not in self.iam_instance_profile_associations:
                self.associate_iam_instance_profile(instance_id=instance.id, **profile)
        return reservation

    return [(InstanceBackend, "run_instances", run_instances)]


FIX = Fix(
    name="instance-profiles",
    upstream_gap="instances launched from a launch template lack its IAM instance profile",
    patches=_patches,
)

"""EC2 launch templates: tag specifications and version deletion as EC2 does them.

Upstream gaps (moto 5.2.5):
- CreateLaunchTemplate copies the request's `launch-template` tag specification into the
  template data. amazon.aws.ec2_launch_template then finds the data different from the task and
  creates a second version on every run.
- DeleteLaunchTemplateVersions is not implemented (HTTP 500), so removing a template with more
  than one version fails.
- Versions are found by list position, so deleting one would renumber the rest; EC2 keeps numbers.
- CreateLaunchTemplateVersion stores UserData as a plain string (CreateLaunchTemplate wraps it in
  Base64EncodedString), so launching an instance from version 2 or later with user data fails
  an assertion (HTTP 500): an Auto Scaling group cannot scale out after the template changed.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def strip_template_tag_spec(template_data: dict[str, Any]) -> dict[str, Any]:
    """Drop `launch-template` entries from LaunchTemplateData.TagSpecifications.

    EC2 never stores them there: they tag the template itself, not the instances it launches.
    """
    specs = template_data.get("TagSpecifications")
    if not specs:
        return template_data
    kept = [spec for spec in specs if spec.get("ResourceType") != "launch-template"]
    cleaned = {key: value for key, value in template_data.items() if key != "TagSpecifications"}
    if kept:
        cleaned["TagSpecifications"] = kept
    return cleaned


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound
    from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend, LaunchTemplateVersion
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.utils import parse_user_data

    original_create = LaunchTemplateBackend.create_launch_template

    def create_launch_template(
        self: LaunchTemplateBackend, name: str, description: str, template_data: dict[str, Any], tag_spec: Any
    ) -> LaunchTemplate:
        return original_create(self, name, description, strip_template_tag_spec(template_data), tag_spec)

    def create_version(self: LaunchTemplate, data: dict[str, Any], description: str) -> LaunchTemplateVersion:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        number = self.versions[-1].number + 1 if self.versions else 1
        version = LaunchTemplateVersion(self, number, data, description)
        self.versions.append(version)
        return version

    def get_version(self: LaunchTemplate, num: Any) -> LaunchTemplateVersion:
        wanted = str(num).lower()
        if wanted == "$latest":
            return self.versions[-1]
        if wanted == "$default":
            return self.default_version()
        for version in self.versions:
            if str(version.number) == wanted:
                return version
        raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)

    def default_version(self: LaunchTemplate) -> LaunchTemplateVersion:
        return self.get_version(self.default_version_number)

    def delete_launch_template_versions(self: LaunchTemplates) -> ActionResult:
        name = self._get_param("LaunchTemplateName")
        template_id = self._get_param("LaunchTemplateId")
        requested = [str(v) for v in self._get_param("Versions", [])]
        self.error_on_dryrun()
        if name:
            template = self.ec2_backend.get_launch_template_by_name(name)
        else:
            template = self.ec2_backend.get_launch_template(template_id)
        deleted, failed = [], []
        for number in requested:
            ref = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
            match = [v for v in template.versions if str(v.number) == number]
            if not match:
                failed.append(
                    {
                        **ref,
                        "VersionNumber": int(number) if number.isdigit() else 0,
                        "ResponseError": {
                            "Code": "launchTemplateVersionDoesNotExist",
                            "Message": f"Version {number} does not exist",
                        },
                    }
                )
            elif match[0].number == template.default_version_number:
                failed.append(
                    {
                        **ref,
                        "VersionNumber": match[0].number,
                        "ResponseError": {
                            "Code": "launchTemplateVersionIsDefault",
                            "Message": "The default version cannot be deleted",
                        },
                    }
                )
            else:
                template.versions.remove(match[0])
                deleted.append({**ref, "VersionNumber": match[0].number})
        return ActionResult(
            {
                "SuccessfullyDeletedLaunchTemplateVersions": deleted,
                "UnsuccessfullyDeletedLaunchTemplateVersions": failed,
            }
        )

    return [
        (LaunchTemplateBackend, "create_launch_template", create_launch_template),
        (LaunchTemplate, "create_version", create_version),
        (LaunchTemplate, "get_version", get_version),
        (LaunchTemplate, "default_version", default_version),
        (LaunchTemplates, "delete_launch_template_versions", delete_launch_template_versions),
    ]


FIX = Fix(
    name="launch-templates",
    upstream_gap="CreateLaunchTemplate stores the launch-template tag spec in the data; "
    "DeleteLaunchTemplateVersions not implemented",
    patches=_patches,
)

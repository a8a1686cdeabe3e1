"""EC2's 16 KB user data limit, as EC2 enforces it.

Upstream gap (moto 5.2.5): moto stores user data of any size. EC2 refuses user data over 16,384
bytes in raw form, before Base64 (EC2 user guide, "Run commands when you launch an EC2
instance with user data input"): a launch template or version with more is refused with
`InvalidUserData.Malformed` and RunInstances with `InvalidParameterValue`, both saying
"User data is limited to 16384 bytes". Without this, a first-boot program that outgrew the
limit passes every local test and fails the first `make up TARGET=aws`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ._patching import Fix

USER_DATA_LIMIT = 16384
LIMIT_MESSAGE = f"User data is limited to {USER_DATA_LIMIT} bytes"


def raw_user_data_size(encoded: str | None) -> int:
    """Bytes of user data once Base64 is undone (0 for none, or for text that is not Base64:
    moto's own check answers that one)."""
    if not encoded:
        return 0
    try:
        return len(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return 0


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.ec2.exceptions import InvalidParameterValue, InvalidUserDataError
    from moto.ec2.responses.instances import InstanceResponse
    from moto.ec2.responses.launch_templates import LaunchTemplates

    def template_check(original: Any) -> Any:
        def checked(self: LaunchTemplates) -> Any:
            if raw_user_data_size(self._get_param("LaunchTemplateData.UserData")) > USER_DATA_LIMIT:
                raise InvalidUserDataError(f"{LIMIT_MESSAGE}.")
            return original(self)

        return checked

    original_run = InstanceResponse.run_instances

    def run_instances(self: InstanceResponse) -> Any:
        if raw_user_data_size(self._get_param("UserData")) > USER_DATA_LIMIT:
            raise InvalidParameterValue(LIMIT_MESSAGE)
        return original_run(self)

    return [
        (LaunchTemplates, "create_launch_template", template_check(LaunchTemplates.create_launch_template)),
        (
            LaunchTemplates,
            "create_launch_template_version",
            template_check(LaunchTemplates.create_launch_template_version),
        ),
        (InstanceResponse, "run_instances", run_instances),
    ]


FIX = Fix(
    name="ec2_user_data_limit",
    upstream_gap="moto accepts user data over EC2's 16,384-byte limit (raw, before Base64)",
    patches=_patches,
)
